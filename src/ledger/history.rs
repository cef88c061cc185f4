//! The state of a book at any fiscal year: the state sealed by the latest earlier close with that
//! year's sealed redemptions applied, else the book's opening state; a dry run closes the unsealed
//! years in between in memory.

use anyhow::{bail, Context};

use super::read::{read_close, read_close_state, sealed_redemptions};
use super::record::CloseRecord;
use super::{is_sealed, sealed_before, sealed_years};
use crate::book::patronage::Activity;
use crate::book::Book;
use crate::engine::close::{close, Close};
use crate::engine::state::{initial_state, State};

/// The state before closing `fy`: the state sealed by the latest earlier close, or the book's
/// opening state when none was sealed.
pub fn prior_state(book: &Book, fy: i32) -> anyhow::Result<State> {
    match sealed_before(&book.dir, fy) {
        None => Ok(initial_state(book, fy).with_context(|| {
            format!(
                "cannot sum the opening equity of {fy} (equity.csv and contributions before the year) exactly"
            )
        })?),
        Some(y) => {
            let state = read_close_state(&book.dir, y)?;
            apply_sealed_redemptions(book, y, state)
        }
    }
}

/// The state sealed by the close of `fy` itself (before that year's redemptions), if sealed.
pub fn close_state(book: &Book, fy: i32) -> anyhow::Result<Option<State>> {
    if !is_sealed(&book.dir, fy) {
        return Ok(None);
    }
    Ok(Some(read_close_state(&book.dir, fy)?))
}

/// Hook of [`prior_state`]: a year's sealed redemptions reduce the tranches its close left.
fn apply_sealed_redemptions(book: &Book, fy: i32, state: State) -> anyhow::Result<State> {
    Ok(match sealed_redemptions(&book.dir, fy)? {
        Some(r) => r.apply(&state)?,
        None => state,
    })
}

/// Fiscal years with results before `fy` that are not sealed yet (later than the latest sealed
/// year before `fy`), ascending. A real close of `fy` needs them closed first.
pub fn unsealed_before(book: &Book, fy: i32) -> Vec<i32> {
    let sealed = sealed_years(&book.dir);
    let last = sealed.iter().copied().filter(|y| *y < fy).max();
    book.result_years()
        .into_iter()
        .filter(|y| *y < fy && last.is_none_or(|l| *y > l) && !sealed.contains(y))
        .collect()
}

/// The state before `fy` for a dry run: the sealed state, then every earlier unsealed year closed
/// in memory, in order. Returns the state and the years closed in memory.
pub fn prior_state_in_memory(
    book: &Book,
    fy: i32,
    activity: &Activity,
) -> anyhow::Result<(State, Vec<i32>)> {
    let pending = unsealed_before(book, fy);
    let mut state = match pending.first() {
        Some(first) => prior_state(book, *first)?,
        None => return Ok((prior_state(book, fy)?, pending)),
    };
    for y in &pending {
        state = close(book, *y, activity, &state)?.state_after;
    }
    Ok((state, pending))
}

/// A fiscal year's close: the sealed record, or a close computed now (a dry run).
#[derive(Debug, Clone)]
pub enum YearClose {
    Sealed(Box<CloseRecord>),
    Computed(Box<Close>),
}

impl YearClose {
    /// The state the close leaves for the next year (before the year's sealed redemptions).
    pub fn state(&self) -> &State {
        match self {
            YearClose::Sealed(r) => &r.state,
            YearClose::Computed(c) => &c.state_after,
        }
    }
}

/// The close of every fiscal year of the book up to `fy` (the years with lines in
/// `results.csv`), ascending: the sealed record where the year is sealed, else a close computed
/// in memory from the state the year before left.
pub fn closes_through(book: &Book, fy: i32) -> anyhow::Result<Vec<(i32, YearClose)>> {
    let years: Vec<i32> = book
        .result_years()
        .into_iter()
        .filter(|y| *y <= fy)
        .collect();
    if !years.contains(&fy) {
        bail!("fiscal year {fy} has no lines in results.csv");
    }
    let mut activity = None;
    let mut state: Option<State> = None;
    let mut out = Vec::with_capacity(years.len());
    for y in years {
        let c = if is_sealed(&book.dir, y) {
            YearClose::Sealed(Box::new(read_close(&book.dir, y)?.record))
        } else {
            if activity.is_none() {
                let (a, d) = crate::activity(book);
                if d.has_errors() {
                    bail!("the patronage ledger has problems; run `coopledger check`");
                }
                activity = Some(a);
            }
            let prior = match &state {
                Some(s) => s.clone(),
                None => prior_state(book, y)?,
            };
            let act = activity
                .as_ref()
                .context("the patronage activity was not read")?;
            YearClose::Computed(Box::new(close(book, y, act, &prior)?))
        };
        state = Some(c.state().clone());
        out.push((y, c));
    }
    Ok(out)
}

/// The state after closing `fy`: the sealed close, else closes run in memory up to it.
pub fn state_after(book: &Book, fy: i32) -> anyhow::Result<State> {
    closes_through(book, fy)?
        .pop()
        .map(|(_, c)| c.state().clone())
        .context("the book has no fiscal year to close")
}
