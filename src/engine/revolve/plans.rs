//! The redemption plan on everyone the special retirements left (`[redemption] plan`): the
//! revolving fund (FIFO by allocation year), a percentage of all equities, or base capital.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    apply_oldest, base_patronage, mm, wt, BaseCapitalLine, Ctx, Ledger, Out, RevolveError,
    TrancheKey, Unpaid,
};
use crate::book::config::RedemptionPlan;
use crate::book::patronage::Activity;
use crate::book::Status;
use crate::money::{allocate, Money, MoneyError, Weight};

/// What the plan pays per tranche (member, allocation year, kind), before set-off and the
/// minimum check.
pub(super) type PlanPay = BTreeMap<TrancheKey, Money>;

/// The redeemable equity of the members the plan applies to: not specially retired, and still
/// members in the year (members who left or died after the year end are).
pub(super) fn plan_ledger(ctx: &Ctx, ledger: &Ledger, special: &BTreeSet<String>) -> Ledger {
    let book = ctx.book;
    ledger
        .iter()
        .filter(|(id, _)| !special.contains(*id))
        .filter(|(id, _)| {
            // members who left or died after the year end are still members in `fy`
            book.member(id).is_some()
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The plan's name in the JSON contract: as `coop.toml` spells it.
pub fn plan_name(plan: RedemptionPlan) -> &'static str {
    match plan {
        RedemptionPlan::None => "none",
        RedemptionPlan::RevolvingFund => "revolving_fund",
        RedemptionPlan::Percentage => "percentage",
        RedemptionPlan::BaseCapital => "base_capital",
    }
}

/// Runs the plan within `cap` (the remaining budget or solvency limit): what it pays per
/// tranche, and the base capital lines (base capital plans only).
pub(super) fn run_plan(
    ctx: &Ctx,
    activity: &Activity,
    plan_ledger: &Ledger,
    cap: Option<(Money, &'static str)>,
    out: &mut Out,
) -> Result<(PlanPay, Vec<BaseCapitalLine>), RevolveError> {
    let mut plan_pay = PlanPay::new();
    let mut base_capital = Vec::new();
    match ctx.red.plan {
        RedemptionPlan::None => {}
        RedemptionPlan::RevolvingFund => {
            revolving_fund(ctx, plan_ledger, cap, &mut out.unpaid, &mut plan_pay)?
        }
        RedemptionPlan::Percentage => {
            out.unpaid
                .extend(percentage(ctx, plan_ledger, cap, &mut plan_pay)?)
        }
        RedemptionPlan::BaseCapital => {
            base_capital = base_capital_plan(ctx, activity, plan_ledger, cap, out, &mut plan_pay)?
        }
    }
    Ok((plan_pay, base_capital))
}

/// Revolving fund: the tranches of allocation years at least `cycle_years` old, oldest year
/// first; a year that does not fit is retired pro rata by balance.
fn revolving_fund(
    ctx: &Ctx,
    plan_ledger: &Ledger,
    cap: Option<(Money, &'static str)>,
    unpaid: &mut Vec<Unpaid>,
    plan_pay: &mut PlanPay,
) -> Result<(), RevolveError> {
    let (fy, cur, red) = (ctx.fy, ctx.cur, &ctx.red);
    let n = red.cycle_years.unwrap_or(1) as i32;
    let last = fy - n;
    // due tranches by year
    let mut by_year: BTreeMap<i32, Vec<(TrancheKey, Money)>> = BTreeMap::new();
    for (id, ts) in plan_ledger {
        for (y, k, a) in ts.iter().filter(|t| t.0 <= last) {
            by_year
                .entry(*y)
                .or_default()
                .push(((id.clone(), *y, k.clone()), *a));
        }
    }
    let mut avail = cap.map(|c| c.0);
    let why = cap.map(|c| c.1).unwrap_or("budget");
    for (y, items) in by_year {
        let need = mm("fifo", Money::sum(cur, items.iter().map(|i| &i.1)))?;
        let pay: Vec<Money> = match avail {
            Some(a) if a < need => {
                let w: Vec<(&(String, i32, String), Weight)> =
                    items.iter().map(|(k, a)| (k, wt(*a))).collect();
                mm("fifo", allocate(a, &w))?
            }
            _ => items.iter().map(|i| i.1).collect(),
        };
        for ((key, a), p) in items.iter().zip(pay) {
            if p.is_positive() {
                plan_pay.insert(key.clone(), p);
            }
            let short = mm("fifo", a.checked_sub(&p))?;
            if short.is_positive() {
                let reason = if p.is_positive() {
                    format!("{why}: allocation year {y} retired pro rata by balance; the rest waits for a later year")
                } else {
                    format!("{why}: exhausted before allocation year {y}; waits for a later year")
                };
                unpaid.push(Unpaid {
                    member_id: key.0.clone(),
                    amount: short,
                    reason,
                });
            }
        }
        if let Some(a) = avail.as_mut() {
            let paid = need.min(*a);
            *a = mm("fifo", a.checked_sub(&paid))?;
        }
    }
    Ok(())
}

/// Percentage: `percent` of all equities, cut back pro rata by balance to the cap, oldest
/// tranche first within each member; returns what it could not pay.
fn percentage(
    ctx: &Ctx,
    plan_ledger: &Ledger,
    cap: Option<(Money, &'static str)>,
    plan_pay: &mut PlanPay,
) -> Result<Vec<Unpaid>, RevolveError> {
    let mut unpaid = Vec::new();
    let (cur, red) = (ctx.cur, &ctx.red);
    let p = red.percent.unwrap_or(Decimal::ZERO);
    let bal: Vec<(String, Money)> = plan_ledger
        .iter()
        .map(|(id, ts)| Ok((id.clone(), Money::sum(cur, ts.iter().map(|t| &t.2))?)))
        .collect::<Result<_, MoneyError>>()
        .map_err(|source| RevolveError::Money {
            what: "percentage".into(),
            source,
        })?;
    let sum = mm("percentage", Money::sum(cur, bal.iter().map(|b| &b.1)))?;
    let want_total = mm(
        "percentage",
        sum.checked_mul_round(p, RoundingStrategy::MidpointAwayFromZero),
    )?;
    let w: Vec<(&String, Weight)> = bal.iter().map(|(k, a)| (k, wt(*a))).collect();
    let want = mm("percentage", allocate(want_total, &w))?;
    let (pay, why) = match cap {
        Some((a, why)) if a < want_total => (mm("percentage", allocate(a, &w))?, why),
        _ => (want.clone(), "budget"),
    };
    for (((id, _), wnt), pay) in bal.iter().zip(want).zip(pay) {
        apply_oldest(plan_pay, id, &plan_ledger[id], pay);
        let short = mm("percentage", wnt.checked_sub(&pay))?;
        if short.is_positive() {
            unpaid.push(Unpaid {
                member_id: id.clone(),
                amount: short,
                reason: format!(
                    "{why}: {}% of all equities cut back pro rata by balance",
                    p * Decimal::ONE_HUNDRED
                ),
            });
        }
    }
    Ok(unpaid)
}

/// Base capital: each member's requirement follows their patronage of the last `base_years`;
/// what they hold over it is redeemed (pro rata to the cap), oldest tranche first.
fn base_capital_plan(
    ctx: &Ctx,
    activity: &Activity,
    plan_ledger: &Ledger,
    cap: Option<(Money, &'static str)>,
    out: &mut Out,
    plan_pay: &mut PlanPay,
) -> Result<Vec<BaseCapitalLine>, RevolveError> {
    let (book, fy, fy_end, cur, zero, red) =
        (ctx.book, ctx.fy, ctx.fy_end, ctx.cur, ctx.zero, &ctx.red);
    let Out {
        unpaid,
        special,
        notes,
        ..
    } = out;
    let mut base_capital = Vec::new();
    let k = red.base_years.unwrap_or(1);
    let base = red.base_capital.unwrap_or(zero);
    let pats = base_patronage(book, activity, fy, k)?;
    let active: Vec<&crate::book::Member> = book
        .members
        .iter()
        .filter(|m| !special.contains(&m.id))
        .filter(|m| m.status == Status::Active || m.left.is_some_and(|l| l > fy_end))
        .filter(|m| pats.contains_key(&m.id) || plan_ledger.contains_key(&m.id))
        .collect();
    let w: Vec<(&str, Weight)> = active
        .iter()
        .map(|m| {
            let p = pats.get(&m.id).copied().unwrap_or(Decimal::ZERO);
            (
                m.id.as_str(),
                Weight::from_decimal(p).unwrap_or_else(|_| Weight::zero()),
            )
        })
        .collect();
    let required = if w.iter().all(|x| x.1.is_zero()) {
        vec![zero; w.len()]
    } else {
        mm("base capital", allocate(base, &w))?
    };
    let mut over: Vec<(String, Money)> = Vec::new();
    for (m, req) in active.iter().zip(required) {
        let bal = match plan_ledger.get(&m.id) {
            Some(ts) => mm("base capital", Money::sum(cur, ts.iter().map(|t| &t.2)))?,
            None => zero,
        };
        let diff = mm("base capital", bal.checked_sub(&req))?;
        let status = if diff.is_positive() {
            over.push((m.id.clone(), diff));
            "over"
        } else if diff.is_negative() {
            "under"
        } else {
            "at"
        };
        base_capital.push(BaseCapitalLine {
            member_id: m.id.clone(),
            patronage: pats.get(&m.id).copied().unwrap_or(Decimal::ZERO),
            required: req,
            balance: bal,
            difference: diff,
            status: status.into(),
        });
    }
    let need = mm("base capital", Money::sum(cur, over.iter().map(|o| &o.1)))?;
    let w: Vec<(&String, Weight)> = over.iter().map(|(k, a)| (k, wt(*a))).collect();
    let (pay, why) = match cap {
        Some((a, why)) if a < need => (mm("base capital", allocate(a, &w))?, why),
        _ => (over.iter().map(|o| o.1).collect(), "budget"),
    };
    for ((id, o), p) in over.iter().zip(pay) {
        if let Some(ts) = plan_ledger.get(id) {
            apply_oldest(plan_pay, id, ts, p);
        }
        let short = mm("base capital", o.checked_sub(&p))?;
        if short.is_positive() {
            unpaid.push(Unpaid {
                member_id: id.clone(),
                amount: short,
                reason: format!("{why}: over-investment redeemed pro rata"),
            });
        }
    }
    let under = base_capital.iter().filter(|b| b.status == "under").count();
    if under > 0 {
        notes.push(format!("{under} member(s) are under their base capital requirement; their refunds are retained (minimum cash only) until they reach it"));
    }
    Ok(base_capital)
}
