//! Set-off of what members owe the co-op (`receivables.csv`, net of set-offs sealed in earlier
//! years) against the year's redemptions, and the minimum check on the plan's cash part
//! (`docs/REDEMPTION.md`, "Set-off of amounts members owe").

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::plans::PlanPay;
use super::{mm, money, Ctx, Debt, Options, Payment, ReceivableLine, RevolveError, Unpaid};
use crate::book::config::RedemptionPlan;
use crate::money::Money;

/// What members owe and what was set off, as the set-off steps go.
pub(super) struct SetOff {
    /// what each member still owes
    owed: BTreeMap<String, Money>,
    /// what each member owed at the year end, before this year's set-offs
    owed_at_start: BTreeMap<String, Money>,
    pub(super) set_offs: Vec<Payment>,
    /// paid to members who owe the co-op while `set_off = false`
    unset: BTreeMap<String, Money>,
}

/// What members owe the co-op at the year end (receivables.csv), net of the set-offs sealed in
/// earlier years; over-repayments are noted.
pub(super) fn owed_at_year_end(
    ctx: &Ctx,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<SetOff, RevolveError> {
    let (book, fy_end, cur, zero) = (ctx.book, ctx.fy_end, ctx.cur, ctx.zero);
    let mut owed: BTreeMap<String, Money> = BTreeMap::new();
    let balances = mm(
        "receivables",
        crate::book::receivables::outstanding(book, fy_end),
    )?;
    let mut ids: BTreeSet<&String> = balances.keys().collect();
    ids.extend(options.earlier_set_offs.keys());
    for id in ids {
        let b = balances.get(id).copied().unwrap_or(zero);
        let earlier = match options.earlier_set_offs.get(id) {
            Some(d) => money(*d, cur, "earlier set-offs")?,
            None => zero,
        };
        let left = mm("receivables", b.checked_sub(&earlier))?;
        if left.is_negative() {
            notes.push(format!(
                "`{id}` has repaid or had set off {} more than they owed by {fy_end} (receivables.csv and earlier sealed set-offs); the co-op owes it back",
                left.abs()
            ));
        } else if left.is_positive() {
            owed.insert(id.clone(), left);
        }
    }
    Ok(SetOff {
        owed_at_start: owed.clone(),
        owed,
        set_offs: Vec::new(),
        unset: BTreeMap::new(),
    })
}

/// Set-off against the special retirements (estates, age), oldest tranche first; returns the
/// cash payments left.
pub(super) fn set_off_special(
    ctx: &Ctx,
    payments: Vec<Payment>,
    so: &mut SetOff,
) -> Result<Vec<Payment>, RevolveError> {
    let (zero, set_off_on) = (ctx.zero, ctx.red.set_off);
    let SetOff {
        owed,
        set_offs,
        unset,
        ..
    } = so;
    let mut cash_payments = Vec::with_capacity(payments.len());
    for p in payments {
        let left = owed.get(&p.member_id).copied().unwrap_or(zero);
        if !left.is_positive() {
            cash_payments.push(p);
            continue;
        }
        if !set_off_on {
            let e = unset.entry(p.member_id.clone()).or_insert(zero);
            *e = mm("set-off", e.checked_add(&p.amount))?;
            cash_payments.push(p);
            continue;
        }
        let take = left.min(p.amount);
        owed.insert(p.member_id.clone(), mm("set-off", left.checked_sub(&take))?);
        let rest = mm("set-off", p.amount.checked_sub(&take))?;
        if take.is_positive() {
            set_offs.push(Payment {
                amount: take,
                reason: format!(
                    "set off against what the member owes the co-op; {}",
                    p.reason
                ),
                ..p.clone()
            });
        }
        if rest.is_positive() {
            cash_payments.push(Payment { amount: rest, ..p });
        }
    }
    Ok(cash_payments)
}

/// The plan's payments: set-off first, then the minimum check on the cash part (a cash part
/// under the minimum is carried forward as outstanding equity).
pub(super) fn plan_payments(
    ctx: &Ctx,
    plan_pay: PlanPay,
    so: &mut SetOff,
    payments: &mut Vec<Payment>,
    unpaid: &mut Vec<Unpaid>,
) -> Result<(), RevolveError> {
    let (fy, cur, zero, red) = (ctx.fy, ctx.cur, ctx.zero, &ctx.red);
    let set_off_on = red.set_off;
    let SetOff {
        owed,
        set_offs,
        unset,
        ..
    } = so;
    let min = red.minimum_check.unwrap_or(zero);
    let plan_reason = match red.plan {
        RedemptionPlan::RevolvingFund => format!(
            "revolving fund: {}-year cycle, allocation years up to {}",
            red.cycle_years.unwrap_or(1),
            fy - red.cycle_years.unwrap_or(1) as i32
        ),
        RedemptionPlan::Percentage => format!(
            "{}% of all equities, oldest tranche first",
            red.percent.unwrap_or(Decimal::ZERO) * Decimal::ONE_HUNDRED
        ),
        RedemptionPlan::BaseCapital => {
            "base capital: over-investment redeemed, oldest tranche first".into()
        }
        RedemptionPlan::None => String::new(),
    };
    let mut per_member: BTreeMap<String, Vec<(i32, String, Money)>> = BTreeMap::new();
    for ((id, y, k), a) in plan_pay {
        per_member.entry(id).or_default().push((y, k, a));
    }
    for (id, lines) in per_member {
        let gross = mm("minimum check", Money::sum(cur, lines.iter().map(|l| &l.2)))?;
        let left = owed.get(&id).copied().unwrap_or(zero);
        let take = if set_off_on { left.min(gross) } else { zero };
        if !set_off_on && left.is_positive() && gross.is_positive() {
            let e = unset.entry(id.clone()).or_insert(zero);
            *e = mm("set-off", e.checked_add(&gross))?;
        }
        let cash = mm("set-off", gross.checked_sub(&take))?;
        let carried = cash.is_positive() && cash < min;
        if carried {
            unpaid.push(Unpaid {
                member_id: id.clone(),
                amount: cash,
                reason: if take.is_positive() {
                    format!("cash part below the minimum check of {min} after a set-off of {take}; carried forward as outstanding equity")
                } else {
                    format!("below the minimum check of {min}; carried forward as outstanding equity")
                },
            });
        }
        if take.is_positive() {
            owed.insert(id.clone(), mm("set-off", left.checked_sub(&take))?);
        }
        // oldest tranche first: the set-off, then (unless carried forward) the cash
        let mut to_set_off = take;
        for (y, k, a) in lines {
            let s = to_set_off.min(a);
            to_set_off = mm("set-off", to_set_off.checked_sub(&s))?;
            if s.is_positive() {
                set_offs.push(Payment {
                    member_id: id.clone(),
                    allocation_year: y,
                    kind: k.clone(),
                    amount: s,
                    reason: format!(
                        "set off against what the member owes the co-op; {plan_reason}"
                    ),
                    special: false,
                });
            }
            let c = mm("set-off", a.checked_sub(&s))?;
            if c.is_positive() && !carried {
                payments.push(Payment {
                    member_id: id.clone(),
                    allocation_year: y,
                    kind: k,
                    amount: c,
                    reason: plan_reason.clone(),
                    special: false,
                });
            }
        }
    }
    Ok(())
}

/// Notes on what members owe that was not set off, and the receivable lines of the year.
pub(super) fn receivables(
    ctx: &Ctx,
    options: &Options,
    debts: &[Debt],
    so: &SetOff,
    notes: &mut Vec<String>,
) -> Result<Vec<ReceivableLine>, RevolveError> {
    let (fy, zero) = (ctx.fy, ctx.zero);
    let SetOff {
        owed,
        owed_at_start,
        unset,
        ..
    } = so;
    for (id, paid) in unset {
        notes.push(format!(
            "`{id}` owes the co-op {} (receivables.csv) and is paid {paid}; set_off = false in [redemption], so nothing is deducted",
            owed_at_start.get(id).copied().unwrap_or(zero)
        ));
    }
    let leaver_debts: BTreeSet<&str> = debts
        .iter()
        .chain(options.open_debts.iter())
        .filter(|d| d.installments.iter().any(|i| i.fiscal_year == fy))
        .map(|d| d.member_id.as_str())
        .collect();
    for id in leaver_debts {
        if let Some(o) = owed.get(id).filter(|o| o.is_positive()) {
            notes.push(format!(
                "`{id}` owes the co-op {o} (receivables.csv); leaver debt installments are not set off automatically: deduct it from the installment and record the repayment in receivables.csv"
            ));
        }
    }
    let mut receivables = Vec::new();
    for (id, outstanding) in owed_at_start.clone() {
        let remaining = owed.get(&id).copied().unwrap_or(zero);
        receivables.push(ReceivableLine {
            set_off: mm("set-off", outstanding.checked_sub(&remaining))?,
            member_id: id,
            outstanding,
            remaining,
        });
    }
    Ok(receivables)
}
