//! The members of a close: cash (rounded up) and retained parts with the minimum check,
//! contributions and interest of the year, losses cancelling equity, and the capital-account
//! roll-forward (steps 9 and 10 of `docs/CLOSE.md`). Every walk over members is a merge of sorted
//! lists (no per-member maps).

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::pools::Shares;
use super::{
    by_id, cancel_rank, m, sorted_ids, CapitalAccount, CloseError, Cursor, MemberAllocation,
    MemberWalk, Year,
};
use crate::book::config::{MinimumCheckRule, Notice};
use crate::book::ContributionKind;
use crate::engine::state::{contribution_tranche, merge, State, Tranche};
use crate::money::Money;

/// Per member: what the year allocated and charged, paid and retained.
pub(super) struct MemberCash<'a> {
    /// sorted by member id
    pub(super) members: Vec<MemberAllocation>,
    /// sub-minimum cash carried to the next check, by member
    pub(super) carried_after: BTreeMap<String, String>,
    /// retained patronage of the year, one per member (not merged yet)
    pub(super) tranches_created: Vec<Tranche>,
    /// loss charged per member (≤ 0), sorted by member id
    pub(super) loss_by_member: Vec<(&'a str, Money)>,
}

/// Per member: cash (rounded up to the cent), retained, and the minimum check (step 9).
pub(super) fn cash_and_retained<'a>(
    y: &Year,
    prior: &'a State,
    shares_pos: Shares<'a>,
    shares_neg: Shares<'a>,
) -> Result<MemberCash<'a>, CloseError> {
    let (book, cur, zero, fy, pol) = (y.book, y.cur, y.zero, y.fy, &y.cfg.policy);
    let mut members_out: Vec<MemberAllocation> = Vec::new();
    let mut carried_after: BTreeMap<String, String> = BTreeMap::new();
    // per member, sorted by id: the sums of the shares of every unit
    let totals_by_member = m("member total", by_id(shares_pos))?;
    let loss_by_member = m("member total", by_id(shares_neg))?;
    let ids = sorted_ids(&[
        totals_by_member.iter().map(|(id, _)| *id).collect(),
        loss_by_member.iter().map(|(id, _)| *id).collect(),
        prior
            .carried_cash
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(id, _)| id.as_str())
            .collect(),
    ]);
    let (mut totals_at, mut loss_at) =
        (Cursor::new(&totals_by_member), Cursor::new(&loss_by_member));
    let mut tranches_created: Vec<Tranche> = Vec::new();
    let mut walk = MemberWalk::new(book);
    for id in ids {
        let total = totals_at.get(id).copied().unwrap_or(zero);
        let loss = loss_at.get(id).copied().unwrap_or(zero);
        let carried_in = prior
            .carried_cash
            .get(id)
            .and_then(|s| Money::parse(s, cur).ok())
            .unwrap_or(zero);
        let mut cash = if total.is_positive() {
            m(
                "cash",
                total.checked_mul_round(pol.cash, RoundingStrategy::ToPositiveInfinity),
            )?
        } else {
            zero
        };
        let mut notice = pol.notice;
        let mut carried_out = zero;
        let mut rule = None;
        let due = m("cash", cash.checked_add(&carried_in))?;
        if due.is_positive() && due < pol.minimum_check {
            rule = Some(pol.minimum_check_rule);
            match pol.minimum_check_rule {
                MinimumCheckRule::PayCash => cash = total,
                MinimumCheckRule::CarryForward => carried_out = due,
                MinimumCheckRule::Retain => {
                    cash = zero;
                    carried_out = carried_in;
                    notice = Notice::Nonqualified;
                }
            }
        }
        let retained = m("retained", total.checked_sub(&cash))?;
        if retained.is_positive() {
            tranches_created.push(Tranche {
                member_id: id.to_string(),
                allocation_year: fy,
                kind: match notice {
                    Notice::Qualified => "qualified",
                    Notice::Nonqualified => "nonqualified",
                }
                .into(),
                amount: retained.amount(),
            });
        }
        if carried_out.is_positive() {
            carried_after.insert(id.to_string(), carried_out.to_string());
        }
        let name = walk.get(id).map(|m| m.name.clone()).unwrap_or_default();
        members_out.push(MemberAllocation {
            member_id: id.to_string(),
            name,
            total,
            cash: if carried_out.is_positive() {
                zero
            } else {
                m("cash", cash.checked_add(&carried_in))?
            },
            retained,
            notice,
            carried_in,
            carried_out,
            minimum_check: rule,
            loss,
            loss_shortfall: zero,
        });
    }
    Ok(MemberCash {
        members: members_out,
        carried_after,
        tranches_created,
        loss_by_member,
    })
}

/// Per member, sorted by id: the year's contributions, refunds of membership shares (≤ 0),
/// opening equity and capital interest.
pub(super) struct Flows<'a> {
    pub(super) contrib: Vec<(&'a str, Money)>,
    pub(super) refunds: Vec<(&'a str, Money)>,
    pub(super) opening: Vec<(&'a str, Money)>,
    pub(super) interest: Vec<(&'a str, Money)>,
}

/// The contributions and interest of the year, each also a tranche in `tranches_created`.
pub(super) fn contributions_and_interest<'a>(
    y: &'a Year,
    prior: &'a State,
    tranches_created: &mut Vec<Tranche>,
) -> Result<Flows<'a>, CloseError> {
    let (book, cur, fy, pol, dates) = (y.book, y.cur, y.fy, &y.cfg.policy, &y.dates);
    let mut contrib: Vec<(&str, Money)> = Vec::new();
    // membership shares paid back on leaving (≤ 0), shown as redemptions
    let mut refunds: Vec<(&str, Money)> = Vec::new();
    for c in book
        .contributions
        .iter()
        .filter(|c| c.date >= dates.start && c.date <= dates.end)
    {
        tranches_created.push(contribution_tranche(c, fy));
        if c.kind == ContributionKind::Refund {
            refunds.push((c.member_id.as_str(), c.amount.neg()));
            continue;
        }
        contrib.push((c.member_id.as_str(), c.amount));
    }
    let contrib = m("contributions", by_id(contrib))?;
    let refunds = m("refunds", by_id(refunds))?;
    let mut opening: Vec<(&str, Money)> = Vec::with_capacity(prior.tranches.len());
    for t in &prior.tranches {
        let a = Money::from_decimal(t.amount, cur).map_err(|e| CloseError::Money {
            what: "opening equity".into(),
            source: e,
        })?;
        opening.push((t.member_id.as_str(), a));
    }
    let opening = m("opening equity", by_id(opening))?;
    let mut interest: Vec<(&str, Money)> = Vec::new();
    if !pol.capital_interest.is_zero() {
        for (id, open) in &opening {
            if open.is_positive() {
                let i = m(
                    "interest",
                    open.checked_mul_round(
                        pol.capital_interest,
                        RoundingStrategy::MidpointAwayFromZero,
                    ),
                )?;
                if !i.is_zero() {
                    tranches_created.push(Tranche {
                        member_id: id.to_string(),
                        allocation_year: fy,
                        kind: "interest".into(),
                        amount: i.amount(),
                    });
                    interest.push((id, i));
                }
            }
        }
    }
    Ok(Flows {
        contrib,
        refunds,
        opening,
        interest,
    })
}

/// What losses did to equity: the tranches after the close, the cancellations, and per member
/// the part their equity could not cover.
pub(super) struct Cancelled {
    pub(super) after: Vec<Tranche>,
    pub(super) cancellations: Vec<Tranche>,
    pub(super) shortfall: BTreeMap<String, Money>,
}

/// Losses cancel the member's equity, newest tranche first; what equity cannot cover is a
/// shortfall absorbed by the unallocated reserve (and noted on the member's line).
pub(super) fn cancel_losses(
    y: &Year,
    prior: &State,
    tranches_created: &[Tranche],
    loss_by_member: &[(&str, Money)],
    members_out: &mut [MemberAllocation],
) -> Result<Cancelled, CloseError> {
    let (cur, zero) = (y.cur, y.zero);
    let mut after = m(
        "equity tranches",
        merge(
            prior
                .tranches
                .iter()
                .chain(tranches_created.iter())
                .cloned()
                .collect(),
        ),
    )?;
    let mut cancellations: Vec<Tranche> = Vec::new();
    let mut shortfall: BTreeMap<String, Money> = BTreeMap::new();
    for (id, loss) in loss_by_member {
        let mut left = -loss.amount();
        // `after` is sorted by member id: look at this member's tranches only
        let lo = after.partition_point(|t| t.member_id.as_str() < *id);
        let hi = after.partition_point(|t| t.member_id.as_str() <= *id);
        let mut idx: Vec<usize> = (lo..hi)
            .filter(|&i| after[i].amount > Decimal::ZERO && cancel_rank(&after[i].kind).is_some())
            .collect();
        idx.sort_by_key(|&i| {
            (
                std::cmp::Reverse(after[i].allocation_year),
                cancel_rank(&after[i].kind),
            )
        });
        for i in idx {
            if left <= Decimal::ZERO {
                break;
            }
            let take = left.min(after[i].amount);
            after[i].amount -= take;
            left -= take;
            cancellations.push(Tranche {
                member_id: id.to_string(),
                allocation_year: after[i].allocation_year,
                kind: after[i].kind.clone(),
                amount: -take,
            });
        }
        if left > Decimal::ZERO {
            shortfall.insert(
                id.to_string(),
                m("loss shortfall", Money::from_decimal(left, cur))?,
            );
        }
    }
    let after = m("equity tranches", merge(after))?;
    cancellations.sort();
    for x in members_out.iter_mut() {
        x.loss_shortfall = shortfall.get(&x.member_id).copied().unwrap_or(zero);
    }
    Ok(Cancelled {
        after,
        cancellations,
        shortfall,
    })
}

/// The capital accounts roll-forward (step 10): opening + contributions + allocations + losses +
/// interest + redemptions = closing, per member.
pub(super) fn roll_forward(
    y: &Year,
    members_out: &[MemberAllocation],
    flows: &Flows,
) -> Result<Vec<CapitalAccount>, CloseError> {
    let (cur, zero) = (y.cur, y.zero);
    let Flows {
        contrib,
        refunds,
        opening,
        interest,
    } = flows;
    let all_ids = sorted_ids(&[
        opening.iter().map(|(id, _)| *id).collect(),
        members_out.iter().map(|x| x.member_id.as_str()).collect(),
        contrib.iter().map(|(id, _)| *id).collect(),
        refunds.iter().map(|(id, _)| *id).collect(),
    ]);
    let mut at = (
        Cursor::new(opening),
        Cursor::new(contrib),
        Cursor::new(interest),
        Cursor::new(refunds),
    );
    let mut ma_at = 0usize;
    let mut accounts = Vec::new();
    for id in all_ids {
        // members_out is sorted by member id, as all_ids
        while members_out
            .get(ma_at)
            .is_some_and(|x| x.member_id.as_str() < id)
        {
            ma_at += 1;
        }
        let ma = members_out.get(ma_at).filter(|x| x.member_id == id);
        let alloc = ma.map(|x| x.retained).unwrap_or(zero);
        // the part of the loss that cancelled equity (the shortfall went to the reserve)
        let loss = match ma {
            Some(x) => m("loss", x.loss.checked_add(&x.loss_shortfall))?,
            None => zero,
        };
        let o = at.0.get(id).copied().unwrap_or(zero);
        let c = at.1.get(id).copied().unwrap_or(zero);
        let i = at.2.get(id).copied().unwrap_or(zero);
        let r = at.3.get(id).copied().unwrap_or(zero);
        let closing = m(
            "capital account",
            Money::sum(cur, &[o, c, alloc, loss, i, r]),
        )?;
        accounts.push(CapitalAccount {
            member_id: id.to_string(),
            opening: o,
            contributions: c,
            allocations: alloc,
            losses: loss,
            interest: i,
            redemptions: r,
            closing,
        });
    }
    Ok(accounts)
}
