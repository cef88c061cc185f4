//! The retirements before the plan: the equity outstanding before the year, loss offsets, and
//! the special retirements in their order (estates, leavers converted to debt, age), each within
//! what is left of the budget and solvency limit (`docs/REDEMPTION.md`, "Constraints").

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    cap_of, debt_schedule, mm, money, oldest_first, present_value, spend, Caps, Ctx, Ledger, Out,
    Payment, Retirement, RevolveError, Unpaid, PLAN_KINDS,
};
use crate::book::Status;
use crate::engine::close::full_years;
use crate::engine::state::State;
use crate::money::Money;

/// The equity outstanding before the year, per member: `all`, allocated before the year (what
/// the plans redeem), and `whole`, every tranche up to and including the year (a special
/// retirement closes the member's whole account); each oldest first.
pub(super) fn outstanding(ctx: &Ctx, state: &State) -> Result<(Ledger, Ledger), RevolveError> {
    let (fy, cur) = (ctx.fy, ctx.cur);
    let mut all: BTreeMap<String, Vec<(i32, String, Money)>> = BTreeMap::new();
    let mut whole: BTreeMap<String, Vec<(i32, String, Money)>> = BTreeMap::new();
    for t in state.tranches.iter().filter(|t| t.allocation_year <= fy) {
        let a = money(t.amount, cur, "outstanding equity")?;
        let e = (t.allocation_year, t.kind.clone(), a);
        if t.allocation_year < fy {
            all.entry(t.member_id.clone()).or_default().push(e.clone());
        }
        whole.entry(t.member_id.clone()).or_default().push(e);
    }
    for v in all.values_mut().chain(whole.values_mut()) {
        v.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    }
    Ok((all, whole))
}

/// Loss offsets: each member's loss tranches against their oldest redeemable tranches. Returns
/// the offsets and the redeemable tranches left per member.
pub(super) fn loss_offsets(
    ctx: &Ctx,
    all: &Ledger,
) -> Result<(Vec<Retirement>, Ledger), RevolveError> {
    let cur = ctx.cur;
    let mut offsets = Vec::new();
    let mut ledger: Ledger = BTreeMap::new();
    for (id, ts) in all {
        let loss: Vec<&(i32, String, Money)> = ts.iter().filter(|t| t.1 == "loss").collect();
        let mut red_ts: Vec<(i32, String, Money)> = ts
            .iter()
            .filter(|t| PLAN_KINDS.contains(&t.1.as_str()) && t.2.is_positive())
            .cloned()
            .collect();
        let loss_total = mm("loss offsets", Money::sum(cur, loss.iter().map(|t| &t.2)))?.abs();
        if loss_total.is_positive() {
            let takes = oldest_first(&red_ts, loss_total);
            let used = mm(
                "loss offsets",
                Money::sum(cur, takes.iter().map(|(_, a)| a)),
            )?;
            for (i, a) in &takes {
                let (y, k, b) = &red_ts[*i];
                offsets.push(Retirement {
                    member_id: id.clone(),
                    allocation_year: *y,
                    kind: k.clone(),
                    amount: *a,
                    reason: "loss offset against this tranche".into(),
                });
                red_ts[*i].2 = mm("loss offsets", b.checked_sub(a))?;
            }
            // the loss tranches themselves are retired (oldest first) by the amount used
            let loss_pos: Vec<(i32, String, Money)> =
                loss.iter().map(|t| (t.0, t.1.clone(), t.2.abs())).collect();
            for (i, a) in oldest_first(&loss_pos, used) {
                offsets.push(Retirement {
                    member_id: id.clone(),
                    allocation_year: loss_pos[i].0,
                    kind: "loss".into(),
                    amount: a.neg(),
                    reason: "loss absorbed by the member's redeemable equity".into(),
                });
            }
        }
        red_ts.retain(|t| t.2.is_positive());
        if !red_ts.is_empty() {
            ledger.insert(id.clone(), red_ts);
        }
    }
    Ok((offsets, ledger))
}

/// Estates: deceased members with equity, in order of date of death then id, paid whole (at
/// face or present value) or not at all.
pub(super) fn retire_estates(
    ctx: &Ctx,
    whole: &Ledger,
    caps: &mut Caps,
    out: &mut Out,
) -> Result<(), RevolveError> {
    let (cur, zero, red) = (ctx.cur, ctx.zero, &ctx.red);
    let estates = estates_due(ctx, whole)?;
    if red.estate_discount.is_some() && red.cycle_years.is_none() && !estates.is_empty() {
        return Err(RevolveError::DiscountNeedsCycle);
    }
    for (death, m) in estates {
        out.special.insert(m.id.clone());
        let Some(ts) = whole.get(&m.id) else { continue };
        let face_total = mm("estate", Money::sum(cur, ts.iter().map(|t| &t.2)))?;
        if !face_total.is_positive() {
            out.notes.push(format!(
                "the estate of `{}` has no positive balance ({face_total}); nothing to pay",
                m.id
            ));
            continue;
        }
        let lines = estate_lines(ctx, ts)?;
        // negative tranches (losses) reduce the estate's oldest tranches' cash at face
        let neg = mm(
            "estate",
            Money::sum(cur, ts.iter().filter(|t| t.2.is_negative()).map(|t| &t.2)),
        )?;
        let cash_total = mm(
            "estate",
            Money::sum(cur, lines.iter().map(|l| &l.3)).and_then(|s| s.checked_add(&neg)),
        )?
        .max(zero);
        let cap = cap_of(
            caps.budget_left,
            caps.solvency_left,
            !caps.solvency_exempts_estates,
        );
        if let Some((avail, why)) = cap {
            if cash_total > avail {
                out.unpaid.push(Unpaid {
                    member_id: m.id.clone(),
                    amount: cash_total,
                    reason: format!(
                        "estate (died {death}): {cash_total} does not fit in the remaining {why} of {avail}; paid in a later year"
                    ),
                });
                continue;
            }
        }
        pay_estate(ctx, &m.id, death, lines, neg, out)?;
        for (y, k, face) in ts.iter().filter(|t| t.2.is_negative()) {
            out.discounts.push(Retirement {
                member_id: m.id.clone(),
                allocation_year: *y,
                kind: k.clone(),
                amount: *face,
                reason: "loss absorbed by the estate's equity".into(),
            });
        }
        spend(
            &mut caps.budget_left,
            &mut caps.solvency_left,
            cash_total,
            !caps.solvency_exempts_estates,
        );
    }
    Ok(())
}

/// The deceased members with equity who died by the end of the year, by date of death then id.
fn estates_due<'b>(
    ctx: &Ctx<'b>,
    whole: &Ledger,
) -> Result<Vec<(NaiveDate, &'b crate::book::Member)>, RevolveError> {
    let mut estates: Vec<(NaiveDate, &crate::book::Member)> = Vec::new();
    for m in ctx
        .book
        .members
        .iter()
        .filter(|m| m.status == Status::Deceased)
    {
        if !whole
            .get(&m.id)
            .is_some_and(|v| v.iter().any(|t| !t.2.is_zero()))
        {
            continue;
        }
        let Some(death) = m.left else {
            return Err(RevolveError::NoDateOfDeath {
                member: m.id.clone(),
                file: ctx.members_file.clone(),
                line: m.line,
            });
        };
        if death <= ctx.fy_end {
            estates.push((death, m));
        }
    }
    estates.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    Ok(estates)
}

/// An estate's positive tranches as (year, kind, face, cash): cash is the face, or its present
/// value at the policy rate when estates are discounted.
fn estate_lines(
    ctx: &Ctx,
    ts: &[(i32, String, Money)],
) -> Result<Vec<(i32, String, Money, Money)>, RevolveError> {
    let red = &ctx.red;
    let mut lines = Vec::new();
    for (y, k, face) in ts.iter().filter(|t| t.2.is_positive()) {
        let pv = match (red.estate_discount, red.cycle_years) {
            (Some(r), Some(n)) => {
                let years = (*y + n as i32 - ctx.fy).max(0) as u32;
                mm("estate present value", present_value(*face, r, years))?
            }
            _ => *face,
        };
        lines.push((*y, k.clone(), *face, pv));
    }
    Ok(lines)
}

/// Pays an estate's lines: the loss part (`neg`) first reduces the oldest lines' cash; the
/// discount to present value and the loss offset are retirements without cash.
fn pay_estate(
    ctx: &Ctx,
    id: &str,
    death: NaiveDate,
    lines: Vec<(i32, String, Money, Money)>,
    neg: Money,
    out: &mut Out,
) -> Result<(), RevolveError> {
    let disc_pct = ctx
        .red
        .estate_discount
        .map(|r| format!(" discounted at {}%", r * Decimal::ONE_HUNDRED))
        .unwrap_or_else(|| " at face".into());
    let mut neg_left = neg.abs();
    for (y, k, face, pv) in lines {
        let cut = neg_left.min(pv);
        neg_left = mm("estate", neg_left.checked_sub(&cut))?;
        let cash = mm("estate", pv.checked_sub(&cut))?;
        if cash.is_positive() {
            out.payments.push(Payment {
                member_id: id.to_string(),
                allocation_year: y,
                kind: k.clone(),
                amount: cash,
                reason: format!("estate (died {death}){disc_pct}"),
                special: true,
            });
        }
        let disc = mm("estate", face.checked_sub(&pv))?;
        for (amount, reason) in [
            (
                disc,
                "estate discount to present value, credited to unallocated equity",
            ),
            (cut, "offset by the member's losses"),
        ] {
            if amount.is_positive() {
                out.discounts.push(Retirement {
                    member_id: id.to_string(),
                    allocation_year: y,
                    kind: k.clone(),
                    amount,
                    reason: reason.into(),
                });
            }
        }
    }
    Ok(())
}

/// Leavers: status `left`, membership ended by the year end, equity still outstanding: the
/// equity is converted to debt, paid in installments.
pub(super) fn convert_leavers(
    ctx: &Ctx,
    whole: &Ledger,
    out: &mut Out,
) -> Result<(), RevolveError> {
    let (book, fy, fy_end, cur, red) = (ctx.book, ctx.fy, ctx.fy_end, ctx.cur, &ctx.red);
    let Out {
        conversions,
        debts,
        special,
        notes,
        ..
    } = out;
    for m in book.members.iter().filter(|m| m.status == Status::Left) {
        let Some(left) = m.left else { continue };
        if left > fy_end {
            continue;
        }
        let Some(ts) = whole.get(&m.id) else { continue };
        let bal = mm("leaver", Money::sum(cur, ts.iter().map(|t| &t.2)))?;
        if ts.is_empty() || bal.is_zero() && ts.iter().all(|t| t.2.is_zero()) {
            continue;
        }
        special.insert(m.id.clone());
        for (y, k, a) in ts {
            conversions.push(Retirement {
                member_id: m.id.clone(),
                allocation_year: *y,
                kind: k.clone(),
                amount: *a,
                reason: format!("converted to debt (left {left})"),
            });
        }
        if bal.is_positive() {
            let n = red.leaver_installments.unwrap_or(1);
            let rate = red.leaver_interest.unwrap_or(Decimal::ZERO);
            debts.push(mm("leaver debt", debt_schedule(&m.id, bal, rate, n, fy))?);
        } else {
            notes.push(format!(
                "`{}` left with a balance of {bal}; nothing is owed to them",
                m.id
            ));
        }
    }
    Ok(())
}

/// Age: active members at or over the retirement age at the year end, oldest first, paid whole
/// or not at all.
pub(super) fn retire_by_age(
    ctx: &Ctx,
    ledger: &Ledger,
    caps: &mut Caps,
    out: &mut Out,
) -> Result<(), RevolveError> {
    let (book, fy_end, cur, red) = (ctx.book, ctx.fy_end, ctx.cur, &ctx.red);
    let members_file = &ctx.members_file;
    let Caps {
        budget_left,
        solvency_left,
        ..
    } = caps;
    let Out {
        payments,
        unpaid,
        special,
        ..
    } = out;
    if let Some(age) = red.retirement_age {
        let missing: Vec<&crate::book::Member> = book
            .members
            .iter()
            .filter(|m| {
                m.status == Status::Active && m.birth_date.is_none() && ledger.contains_key(&m.id)
            })
            .collect();
        if !missing.is_empty() {
            return Err(RevolveError::NoBirthDate {
                count: missing.len(),
                list: missing
                    .iter()
                    .map(|m| format!("`{}` on line {}", m.id, m.line))
                    .collect::<Vec<_>>()
                    .join(", "),
                file: members_file.clone(),
            });
        }
        let mut due: Vec<(NaiveDate, &crate::book::Member)> = book
            .members
            .iter()
            .filter(|m| m.status == Status::Active && ledger.contains_key(&m.id))
            .filter_map(|m| {
                let b = m.birth_date?;
                (full_years(b, fy_end) >= age).then_some((b, m))
            })
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        for (b, m) in due {
            special.insert(m.id.clone());
            let ts = &ledger[&m.id];
            let total = mm("age", Money::sum(cur, ts.iter().map(|t| &t.2)))?;
            if let Some((avail, why)) = cap_of(*budget_left, *solvency_left, true) {
                if total > avail {
                    unpaid.push(Unpaid {
                        member_id: m.id.clone(),
                        amount: total,
                        reason: format!(
                            "age retirement (born {b}, {age}+): {total} does not fit in the remaining {why} of {avail}; paid in a later year"
                        ),
                    });
                    continue;
                }
            }
            for (y, k, a) in ts {
                payments.push(Payment {
                    member_id: m.id.clone(),
                    allocation_year: *y,
                    kind: k.clone(),
                    amount: *a,
                    reason: format!("age retirement (born {b}, age {age} or more)"),
                    special: true,
                });
            }
            spend(budget_left, solvency_left, total, true);
        }
    }
    Ok(())
}
