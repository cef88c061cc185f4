//! What one close leaves for the next: the members' equity in tranches, the unallocated reserve,
//! the deficit carried forward and sub-minimum cash carried to the next check. The first close
//! starts from [`initial_state`]; every later one from the state the previous close left.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::book::{Book, ContributionKind};
use crate::money::{add_exact, MoneyError};

/// One piece of a member's equity: allocated in `allocation_year`, of `kind`
/// (qualified | nonqualified | membership_share | capital | ica_fee | in_kind | loss | interest).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Tranche {
    pub member_id: String,
    pub allocation_year: i32,
    pub kind: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// What a close leaves for the next one (stored in the sealed `close.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct State {
    pub fiscal_year: i32,
    /// outstanding equity tranches, sorted
    pub tranches: Vec<Tranche>,
    /// unallocated (collective, indivisible) reserve
    #[serde(with = "rust_decimal::serde::str")]
    pub unallocated: Decimal,
    /// patronage loss carried forward, to recover from later earnings (≥ 0)
    #[serde(with = "rust_decimal::serde::str")]
    pub deficit: Decimal,
    /// sub-minimum cash carried forward to the next check, by member
    pub carried_cash: BTreeMap<String, String>,
}

/// The state before the first close: equity.csv, contributions before the year, `opening_reserve`.
pub fn initial_state(book: &Book, fy: i32) -> Result<State, MoneyError> {
    let mut tranches: Vec<Tranche> = book
        .equity
        .iter()
        .map(|e| Tranche {
            member_id: e.member_id.clone(),
            allocation_year: e.allocation_year,
            kind: e.kind.to_string(),
            amount: e.amount.amount(),
        })
        .collect();
    let start = book
        .config
        .fiscal_year_bounds(fy)
        .map(|(s, _)| s)
        .unwrap_or(NaiveDate::MIN);
    for c in book.contributions.iter().filter(|c| c.date < start) {
        tranches.push(contribution_tranche(c, book.config.fiscal_year_of(c.date)));
    }
    let unallocated = book
        .results
        .iter()
        .find(|r| r.fiscal_year == fy && r.unit.is_none() && r.line == "opening_reserve")
        .map(|r| r.amount.amount())
        .unwrap_or(Decimal::ZERO);
    Ok(State {
        fiscal_year: fy - 1,
        tranches: merge(tranches)?,
        unallocated,
        deficit: Decimal::ZERO,
        carried_cash: BTreeMap::new(),
    })
}

pub(crate) fn contribution_tranche(c: &crate::book::Contribution, fy: i32) -> Tranche {
    Tranche {
        member_id: c.member_id.clone(),
        allocation_year: fy,
        kind: match c.kind {
            ContributionKind::MembershipShare => "membership_share",
            ContributionKind::Capital => "capital",
            ContributionKind::Fee => "ica_fee",
            ContributionKind::InKind => "in_kind",
            // a refund pays back membership shares: it cancels that equity
            ContributionKind::Refund => "membership_share",
        }
        .to_string(),
        amount: if c.kind == ContributionKind::Refund {
            -c.amount.amount()
        } else {
            c.amount.amount()
        },
    }
}

/// Sums tranches with the same (member, year, kind) and sorts them; zero tranches are dropped.
/// A sum beyond the range of exact amounts is an error, never a rounded or wrapped total.
pub fn merge(mut tranches: Vec<Tranche>) -> Result<Vec<Tranche>, MoneyError> {
    // a stable sort is linear on the usual input: runs that are already sorted
    tranches.sort_by(|a, b| {
        (a.member_id.as_str(), a.allocation_year, a.kind.as_str()).cmp(&(
            b.member_id.as_str(),
            b.allocation_year,
            b.kind.as_str(),
        ))
    });
    let mut out: Vec<Tranche> = Vec::with_capacity(tranches.len());
    for t in tranches {
        match out.last_mut() {
            Some(l)
                if l.member_id == t.member_id
                    && l.allocation_year == t.allocation_year
                    && l.kind == t.kind =>
            {
                l.amount = add_exact(l.amount, t.amount)?;
            }
            _ => out.push(t),
        }
    }
    out.retain(|t| !t.amount.is_zero());
    Ok(out)
}
