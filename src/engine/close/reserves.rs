//! The collective side of a close: the unallocated reserve, the net-worth identity, the year's
//! totals and notes (steps 11 and 12 of `docs/CLOSE.md`).

use std::collections::BTreeMap;

use super::pools::Work;
use super::{
    m, CloseError, Deficit, Identity, MemberAllocation, MemberWalk, Pool, Reserves, Totals, Year,
};
use crate::book::patronage::Activity;
use crate::book::Status;
use crate::engine::assets::Adjustments;
use crate::engine::state::State;
use crate::money::Money;

/// Σ over the pools of one figure.
fn sum_pools(y: &Year, work: &[Work], f: &dyn Fn(&Pool) -> Money) -> Result<Money, CloseError> {
    let v: Vec<Money> = work.iter().map(|w| f(&w.pool)).collect();
    m("totals", Money::sum(y.cur, &v))
}

/// The unallocated (collective) reserve (step 11): opening + non-member share (net of its
/// stock-dividend charge) + board reserve + recovered loss + non-patronage income − income tax
/// + loss charged to the collective − loss carried forward − members' loss shortfalls.
pub(super) fn unallocated_reserve(
    y: &Year,
    prior: &State,
    work: &[Work],
    adj: &Adjustments,
    deficit: &Deficit,
    shortfall: &BTreeMap<String, Money>,
    nonmember_refunds: Money,
) -> Result<Reserves, CloseError> {
    let (cur, zero) = (y.cur, y.zero);
    let (deficit_added, deficit_recovered) = (deficit.added, deficit.recovered);
    let nonmember_net = {
        let v: Vec<Money> = work.iter().map(|w| w.nonmember_net).collect();
        m("totals", Money::sum(cur, &v))?
    };
    let nonpatronage = m(
        "assets",
        y.line(None, "nonpatronage_income")
            .checked_add(&adj.nonpatronage(cur)),
    )?;
    let tax = y.line(None, "income_tax");
    let board_reserve = sum_pools(y, work, &|p| p.reserve)?;
    let loss_to_collective = sum_pools(y, work, &|p| p.loss_to_collective)?;
    let opening_unalloc = Money::from_decimal(prior.unallocated, cur).unwrap_or(zero);
    let shortfall_absorbed = {
        let v: Vec<Money> = shortfall.values().map(|x| x.neg()).collect();
        m("shortfall", Money::sum(cur, &v))?
    };
    // unallocated += non-member share (net of its stock-dividend charge) + board reserve
    //                + recovered loss + non-patronage income − income tax
    //                + loss charged to the collective (≤ 0) − loss carried forward
    let addition = m(
        "reserves",
        Money::sum(
            cur,
            &[
                nonmember_net,
                board_reserve,
                deficit_recovered,
                nonpatronage,
                tax.neg(),
                loss_to_collective,
                deficit_added.neg(),
                shortfall_absorbed,
            ],
        ),
    )?;
    let closing_unalloc = m("reserves", opening_unalloc.checked_add(&addition))?;
    Ok(Reserves {
        opening: opening_unalloc,
        nonmember_share: nonmember_net,
        board_reserve,
        nonpatronage_income: nonpatronage,
        income_tax: tax,
        loss_to_collective,
        loss_carried: deficit_added,
        loss_recovered: deficit_recovered,
        loss_shortfall_absorbed: shortfall_absorbed,
        nonmember_refunds_payable: nonmember_refunds,
        addition,
        closing: closing_unalloc,
    })
}

/// The net-worth identity (step 12): Σ capital accounts + unallocated reserve + other stock
/// against `net_worth` in results.csv; a difference is noted.
pub(super) fn identity(
    y: &Year,
    accounts: &[super::CapitalAccount],
    closing_unalloc: Money,
    notes: &mut Vec<String>,
) -> Result<Identity, CloseError> {
    let cur = y.cur;
    let member_equity = {
        let v: Vec<Money> = accounts.iter().map(|a| a.closing).collect();
        m("identity", Money::sum(cur, &v))?
    };
    let other_stock = y.line(None, "other_stock");
    let sum = m(
        "identity",
        Money::sum(cur, &[member_equity, closing_unalloc, other_stock]),
    )?;
    let net_worth = y.line_opt("net_worth");
    let difference = match net_worth {
        Some(nw) => Some(m("identity", nw.checked_sub(&sum))?),
        None => None,
    };
    if let Some(d) = difference {
        if !d.is_zero() {
            notes.push(format!(
                "net-worth identity: Σ capital accounts + unallocated reserve + other stock = {sum}, but net_worth in results.csv is {}; difference {d}",
                net_worth.map(|x| x.to_string()).unwrap_or_default()
            ));
        }
    }
    Ok(Identity {
        member_equity,
        unallocated: closing_unalloc,
        other_stock,
        sum,
        net_worth,
        difference,
        balanced: difference.map(|d| d.is_zero()),
    })
}

/// The year's totals over pools and members.
pub(super) fn totals(
    y: &Year,
    work: &[Work],
    members_out: &[MemberAllocation],
    sd_total: Money,
    board_reserve: Money,
) -> Result<Totals, CloseError> {
    let cur = y.cur;
    let mt = |f: &dyn Fn(&MemberAllocation) -> Money| -> Result<Money, CloseError> {
        let v: Vec<Money> = members_out.iter().map(f).collect();
        m("totals", Money::sum(cur, &v))
    };
    Ok(Totals {
        patronage_margin: sum_pools(y, work, &|p| p.patronage_margin)?,
        member_share: sum_pools(y, work, &|p| p.member_share)?,
        nonmember_share: sum_pools(y, work, &|p| p.nonmember_share)?,
        stock_dividends: sd_total,
        reserve: board_reserve,
        allocated: sum_pools(y, work, &|p| p.allocable)?,
        cash: mt(&|x| x.cash)?,
        retained: mt(&|x| x.retained)?,
        carried_out: mt(&|x| x.carried_out)?,
        losses_to_members: mt(&|x| x.loss)?,
    })
}

/// Notes on the year as a whole: no patronage at all, and members who left before the year but
/// have an allocation (their patronage was while members).
pub(super) fn year_notes(
    y: &Year,
    activity: &Activity,
    work: &[Work],
    members_out: &[MemberAllocation],
    notes: &mut Vec<String>,
) {
    let (book, fy, dates) = (y.book, y.fy, &y.dates);
    if work.iter().all(|w| w.weights.is_empty()) && activity.year(fy).next().is_none() {
        notes.push(format!("no patronage was recorded in fiscal year {fy}"));
    }
    let mut walk = MemberWalk::new(book);
    for x in members_out {
        if let Some(mm) = walk.get(&x.member_id) {
            if mm.status != Status::Active
                && mm.left.is_some_and(|l| l < dates.start)
                && x.total.is_positive()
            {
                notes.push(format!(
                    "member `{}` left before {fy} but has an allocation",
                    x.member_id
                ));
            }
        }
    }
}
