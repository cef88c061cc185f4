//! The state of a book at any fiscal year: the state sealed by the latest earlier close with that
//! year's sealed redemptions applied, else the book's opening state; a dry run closes the unsealed
//! years in between in memory.

use anyhow::Context;

use super::read::{read_close, sealed_redemptions};
use super::{is_sealed, sealed_before, sealed_years};
use crate::book::patronage::Activity;
use crate::book::Book;
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
            let state = read_close(&book.dir, y)?.record.state;
            apply_sealed_redemptions(book, y, state)
        }
    }
}

/// The state sealed by the close of `fy` itself (before that year's redemptions), if sealed.
pub fn close_state(book: &Book, fy: i32) -> anyhow::Result<Option<State>> {
    if !is_sealed(&book.dir, fy) {
        return Ok(None);
    }
    Ok(Some(read_close(&book.dir, fy)?.record.state))
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
        state = crate::engine::close::close(book, *y, activity, &state)?.state_after;
    }
    Ok((state, pending))
}
