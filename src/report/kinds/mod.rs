//! Report builders of `coopledger report`: pure functions from a [`View`] of a close to a
//! [`Doc`], one file per kind.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::doc::{Cell, Doc};
use super::view::View;

mod board;
mod notices;
mod patr1099;
mod rollforward;
mod schedule;
mod worksheet;

pub use self::board::board;
pub use self::notices::notices;
pub use self::patr1099::patr1099;
pub use self::rollforward::rollforward;
pub use self::schedule::schedule;
pub use self::worksheet::worksheet;

/// Report kinds of `coopledger report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Schedule,
    Worksheet,
    Notices,
    Rollforward,
    Patr1099,
    Board,
    /// community wealth (built by `crate::report::wealth`, not from the close alone)
    Wealth,
    /// uncashed payments with their age and what is due (built by `crate::engine::unclaimed`)
    Unclaimed,
}

impl Kind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Schedule,
        Kind::Worksheet,
        Kind::Notices,
        Kind::Rollforward,
        Kind::Patr1099,
        Kind::Board,
        Kind::Wealth,
        Kind::Unclaimed,
    ];

    /// The kind of a command-line name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the kind is, for `--help` (the close's own reports need no gloss).
    pub fn about(self) -> Option<&'static str> {
        match self {
            Kind::Wealth => {
                Some("community wealth (built by `crate::report::wealth`, not from the close alone)")
            }
            Kind::Unclaimed => Some(
                "uncashed payments with their age and what is due (built by `crate::engine::unclaimed`)",
            ),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Schedule => "schedule",
            Kind::Worksheet => "worksheet",
            Kind::Notices => "notices",
            Kind::Rollforward => "rollforward",
            Kind::Patr1099 => "1099-patr",
            Kind::Board => "board",
            Kind::Wealth => "wealth",
            Kind::Unclaimed => "unclaimed",
        }
    }
}

pub fn build(kind: Kind, v: &View) -> anyhow::Result<Doc> {
    match kind {
        Kind::Schedule => schedule(v),
        Kind::Worksheet => worksheet(v),
        Kind::Notices => notices(v),
        Kind::Rollforward => rollforward(v),
        Kind::Patr1099 => patr1099(v),
        Kind::Board => board(v),
        Kind::Wealth => anyhow::bail!(
            "the wealth report is built from the whole book: use `coopledger report BOOK wealth`"
        ),
        Kind::Unclaimed => anyhow::bail!(
            "the unclaimed report is built from the whole book: use `coopledger report BOOK unclaimed`"
        ),
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn doc(v: &View, kind: &'static str, title: &str) -> Doc {
    let c = &v.close;
    Doc {
        kind,
        title: format!("{} — {}, fiscal year {}", title, c.coop, c.fiscal_year),
        header: vec![
            ("Cooperative".into(), t(c.coop.clone())),
            (
                "Fiscal year".into(),
                t(format!(
                    "{} ({} to {})",
                    c.fiscal_year, c.dates.start, c.dates.end
                )),
            ),
            ("Currency".into(), t(c.currency.clone())),
            ("Source".into(), t(v.source_line())),
        ],
        sections: Vec::new(),
        primary: None,
    }
}

/// Exact sums and differences of amounts read from a close: an overflow is an error, never a
/// rounded total or a panic.
fn sum(v: &[Decimal]) -> anyhow::Result<Decimal> {
    use crate::money::add_exact;
    Ok(v.iter()
        .try_fold(Decimal::ZERO, |acc, x| add_exact(acc, *x))?)
}

fn add(a: Decimal, b: Decimal) -> anyhow::Result<Decimal> {
    Ok(crate::money::add_exact(a, b)?)
}

fn sub(a: Decimal, b: Decimal) -> anyhow::Result<Decimal> {
    Ok(crate::money::sub_exact(a, b)?)
}

/// Adds `x` to the entry of `key`.
fn tally<K: Ord>(map: &mut BTreeMap<K, Decimal>, key: K, x: Decimal) -> anyhow::Result<()> {
    let e = map.entry(key).or_default();
    *e = add(*e, x)?;
    Ok(())
}
