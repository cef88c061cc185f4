//! Equity redemption ("revolvement") for one fiscal year: the plan in `[redemption]` of
//! `coop.toml` (revolving fund FIFO, percentage of all equities, base capital), special
//! retirements (estates at face or discounted, age, leavers converted to debt), and the constraints
//! (budget, solvency limit, minimum check) that cut it back. Pure: a [`Book`], the year and the
//! equity outstanding in, a [`Revolvement`] out. See `docs/REDEMPTION.md`.
//!
//! Which tranches count: the plans redeem the retained-patronage kinds [`PLAN_KINDS`]
//! (`qualified`, `nonqualified`, `ica`) allocated before the year, net of the member's `loss`
//! tranches (a loss offsets the member's oldest redeemable tranches first). Membership shares,
//! paid-in capital, fees and interest stay until the member's account is closed: a special
//! retirement (estate, age, leaver) retires every tranche of the member.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

mod plans;
mod sealed;
mod setoff;
mod special;

use crate::book::config::{JointEstate, Redemption, RedemptionPlan};
use crate::book::patronage::Activity;
use crate::book::{Book, Status};
use crate::engine::state::{State, Tranche};
use crate::money::{Currency, Money, MoneyError, Weight};

/// Tranche kinds the plans (FIFO, percentage, base capital) redeem.
pub const PLAN_KINDS: &[&str] = &["qualified", "nonqualified", "ica"];
/// Tranche kinds whose redemption goes to 1099-PATR box 5.
pub const BOX5_KINDS: &[&str] = &["nonqualified"];

/// Why a redemption cannot be computed. Each names what is missing and where to add it.
#[derive(Debug, thiserror::Error)]
pub enum RevolveError {
    #[error("{file} has no [redemption] table, so there is no plan to compute; add [redemption] with `plan = \"revolving_fund\"` (or percentage, base_capital, none)")]
    NoPlan { file: String },
    #[error("fiscal year {fy} ends on a day that cannot be computed")]
    BadYear { fy: i32 },
    #[error("the base capital plan averages patronage over {k} years ({from} to {fy}), but {file} has no member patronage in fiscal year(s) {missing}; add those years' rows to {file}, or lower `base_years` in [redemption] of coop.toml")]
    MissingHistory {
        k: u32,
        from: i32,
        fy: i32,
        missing: String,
        file: String,
    },
    #[error("member `{member}` is deceased but has no date of death; fill the `left` column of {file} line {line} with the date of death (YYYY-MM-DD)")]
    NoDateOfDeath {
        member: String,
        file: String,
        line: u64,
    },
    #[error("`retirement_age` is set in [redemption] of coop.toml, but {count} active member(s) with equity have no birth date ({list}); fill the `birth_date` column of {file} (YYYY-MM-DD), or remove `retirement_age`")]
    NoBirthDate {
        count: usize,
        list: String,
        file: String,
    },
    #[error("`estate_discount_pct` discounts estates to the revolving cycle, but [redemption] has no `cycle_years`; add `cycle_years` (the rotation in years) to [redemption] of coop.toml")]
    DiscountNeedsCycle,
    #[error("money arithmetic failed in {what}")]
    Money {
        what: String,
        #[source]
        source: MoneyError,
    },
}

fn mm<T>(what: &str, r: Result<T, MoneyError>) -> Result<T, RevolveError> {
    r.map_err(|source| RevolveError::Money {
        what: what.to_string(),
        source,
    })
}

/// Options beyond `coop.toml`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// leaver debts created by earlier sealed redemptions (their installments due this year are
    /// listed in [`Revolvement::debt_service`])
    pub open_debts: Vec<Debt>,
    /// per member, receivables already set off by redemptions sealed in earlier years
    pub earlier_set_offs: BTreeMap<String, Decimal>,
}

/// One cash redemption of (part of) a tranche. The JSON contract of `revolve --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub member_id: String,
    pub allocation_year: i32,
    pub kind: String,
    pub amount: Money,
    pub reason: String,
    /// a special retirement (estate, age) rather than the plan (not part of the JSON contract)
    #[serde(skip)]
    pub special: bool,
}

/// What the plan would have paid a member but did not, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unpaid {
    pub member_id: String,
    pub amount: Money,
    pub reason: String,
}

/// Face value retired without cash: the discount of an estate paid at present value (goes to
/// unallocated equity), a tranche converted to a leaver's debt, or a loss offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retirement {
    pub member_id: String,
    pub allocation_year: i32,
    pub kind: String,
    pub amount: Money,
    pub reason: String,
}

/// Equity of a deceased joint member passed to the surviving joint member, tranche by tranche
/// (same allocation year and kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// the deceased member
    pub member_id: String,
    /// the surviving joint member
    pub to: String,
    pub allocation_year: i32,
    pub kind: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub reason: String,
}

/// A member who owes the co-op (receivables.csv) at the year end and what was set off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivableLine {
    pub member_id: String,
    /// owed at the year end, net of set-offs sealed in earlier years
    pub outstanding: Money,
    /// deducted from this year's redemptions
    pub set_off: Money,
    /// still owed after this year's set-off
    pub remaining: Money,
}

/// One installment of a leaver's debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    pub fiscal_year: i32,
    #[serde(with = "rust_decimal::serde::str")]
    pub opening: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub interest: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub principal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub payment: Decimal,
}

/// A leaver's capital account converted to debt, with its repayment schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debt {
    pub member_id: String,
    pub converted_in: i32,
    #[serde(with = "rust_decimal::serde::str")]
    pub principal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub installments: Vec<Installment>,
}

/// An installment due this year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebtPayment {
    pub member_id: String,
    pub installment: usize,
    pub of: usize,
    pub interest: Money,
    pub principal: Money,
    pub payment: Money,
}

/// Base capital: a member's required investment and where they stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseCapitalLine {
    pub member_id: String,
    /// Σ weighted patronage over the base years
    pub patronage: Decimal,
    pub required: Money,
    pub balance: Money,
    /// balance − required (> 0 over-invested, < 0 under-invested)
    pub difference: Money,
    /// "over" (redeemed down), "under" (refunds retained until required is reached), "at"
    pub status: String,
}

/// The year's redemptions.
#[derive(Debug, Clone, Serialize)]
pub struct Revolvement {
    pub fiscal_year: i32,
    pub plan: String,
    pub currency: String,
    pub payments: Vec<Payment>,
    /// Σ payments
    pub total: Money,
    pub unpaid: Vec<Unpaid>,
    /// estate discounts (face − present value), credited to unallocated equity
    pub discounts: Vec<Retirement>,
    /// leavers' tranches converted to debt (no cash now)
    pub conversions: Vec<Retirement>,
    /// loss tranches offset against the same member's redeemable tranches
    pub offsets: Vec<Retirement>,
    /// equity retired without cash because it paid what the member owes the co-op
    /// (receivables.csv; same keys as `payments`)
    pub set_offs: Vec<Payment>,
    /// a deceased joint member's equity passed to the survivor (not retired)
    pub transfers: Vec<Transfer>,
    /// debts created this year
    pub debts: Vec<Debt>,
    /// members who owe the co-op at the year end: outstanding, set off, remaining
    pub receivables: Vec<ReceivableLine>,
    /// leaver debt installments due this year (new and earlier debts)
    pub debt_service: Vec<DebtPayment>,
    /// base capital plan: required investment per member
    pub base_capital: Vec<BaseCapitalLine>,
    pub budget: Option<Money>,
    pub solvency_limit: Option<Money>,
    /// cash this year: Σ payments + Σ debt service
    pub cash_needed: Money,
    /// Σ set_offs: equity retired against amounts members owe (no cash)
    pub set_off_total: Money,
    /// 1099-PATR box 5: redemptions of nonqualified equity paid, per member
    pub box5: Vec<Box5>,
    pub notes: Vec<String>,
}

/// One member's 1099-PATR box 5 amount (redemptions of nonqualified equity paid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Box5 {
    pub member_id: String,
    pub amount: Money,
}

// ------------------------------------------------------------------ helpers

fn money(d: Decimal, cur: Currency, what: &str) -> Result<Money, RevolveError> {
    mm(what, Money::from_decimal(d, cur))
}

fn wt(m: Money) -> Weight {
    Weight::from_ratio(m.to_minor().max(0), 1).unwrap_or_else(|_| Weight::zero())
}

/// `num / den` rounded half away from zero to an integer (exact).
fn round_ratio(r: &BigRational) -> Option<i128> {
    let two = BigRational::from_integer(BigInt::from(2));
    let half = BigRational::one() / two;
    let v = if r.is_negative() {
        -((-r.clone()) + half).floor()
    } else {
        (r.clone() + half).floor()
    };
    v.to_integer().to_i128()
}

fn dec_ratio(d: Decimal) -> BigRational {
    BigRational::new(
        BigInt::from(d.mantissa()),
        BigInt::from(10u8).pow(d.scale()),
    )
}

/// Present value of `face` due `years` from now at `rate`, rounded half up to the minor unit.
pub fn present_value(face: Money, rate: Decimal, years: u32) -> Result<Money, MoneyError> {
    let factor = (BigRational::one() + dec_ratio(rate)).pow(years as i32);
    let pv = BigRational::from_integer(BigInt::from(face.to_minor())) / factor;
    let minor = round_ratio(&pv).ok_or(MoneyError::Overflow)?;
    Money::from_minor(minor, face.currency())
}

/// A leaver's debt: `principal` in `n` equal principal installments (each rounded down to the
/// minor unit, the last one absorbing the residue), with interest at `rate` on the balance at
/// each fiscal year end (rounded half up), the first installment due at the end of `first_year`.
pub fn debt_schedule(
    member_id: &str,
    principal: Money,
    rate: Decimal,
    n: u32,
    first_year: i32,
) -> Result<Debt, MoneyError> {
    let n = n.max(1);
    let cur = principal.currency();
    let each = principal.to_minor().div_euclid(i128::from(n));
    let mut left = principal;
    let mut installments = Vec::new();
    for k in 0..n {
        let p = if k + 1 == n {
            left
        } else {
            Money::from_minor(each, cur)?
        };
        let interest = left.checked_mul_round(rate, RoundingStrategy::MidpointAwayFromZero)?;
        installments.push(Installment {
            fiscal_year: first_year + k as i32,
            opening: left.amount(),
            interest: interest.amount(),
            principal: p.amount(),
            payment: interest.checked_add(&p)?.amount(),
        });
        left = left.checked_sub(&p)?;
    }
    Ok(Debt {
        member_id: member_id.to_string(),
        converted_in: first_year,
        principal: principal.amount(),
        rate,
        installments,
    })
}

/// Applies `amount` to `tranches` (one member's, oldest first), returning (tranche index, amount).
fn oldest_first(tranches: &[(i32, String, Money)], amount: Money) -> Vec<(usize, Money)> {
    let mut left = amount;
    let mut out = Vec::new();
    for (i, (_, _, bal)) in tranches.iter().enumerate() {
        if !left.is_positive() {
            break;
        }
        if !bal.is_positive() {
            continue;
        }
        let take = left.min(*bal);
        out.push((i, take));
        left = left.checked_sub(&take).unwrap_or(left);
    }
    out
}

/// (member id, allocation year, kind)
type TrancheKey = (String, i32, String);

/// Per member: redeemable tranches (year, kind, net balance), oldest first, after loss offsets.
type Ledger = BTreeMap<String, Vec<(i32, String, Money)>>;

// ------------------------------------------------------------------ the computation

/// Whether [`revolve`] reads the patronage activity: only a base capital plan does (its
/// requirement follows each member's recent patronage). Callers may pass an empty [`Activity`]
/// otherwise and spare reading `patronage.csv`.
pub fn uses_activity(book: &Book) -> bool {
    book.config
        .redemption
        .as_ref()
        .is_some_and(|r| r.plan == RedemptionPlan::BaseCapital)
}

/// Computes the redemptions of fiscal year `fy` from the equity outstanding in `state` (tranches
/// allocated in `fy` itself are not redeemed in `fy`). `activity` is the book's patronage
/// ([`crate::book::patronage::activity`]); see [`uses_activity`].
pub fn revolve(
    book: &Book,
    fy: i32,
    state: &State,
    activity: &Activity,
    options: &Options,
) -> Result<Revolvement, RevolveError> {
    let ctx = Ctx::new(book, fy)?;
    let (cur, red) = (ctx.cur, &ctx.red);
    let mut out = Out::default();
    // joint memberships: a deceased member's equity passes (in whole or in part) to the living
    // joint member before anything is retired; the rest is an estate like any other
    let (transfers, adjusted) = joint_transfers(book, fy, ctx.fy_end, state, red)?;
    let state = adjusted.as_ref().unwrap_or(state);
    let (all, whole) = special::outstanding(&ctx, state)?;
    let (offsets, ledger) = special::loss_offsets(&ctx, &all)?;
    // special retirements, in order: estates, leavers (converted to debt), age
    let mut caps = Caps {
        budget_left: red.budget,
        solvency_left: red.solvency_limit,
        solvency_exempts_estates: red.solvency_exempts_estates,
    };
    special::retire_estates(&ctx, &whole, &mut caps, &mut out)?;
    special::convert_leavers(&ctx, &whole, &mut out)?;
    special::retire_by_age(&ctx, &ledger, &mut caps, &mut out)?;
    // the plan, on everyone else
    let plan_ledger = plans::plan_ledger(&ctx, &ledger, &out.special);
    let cap = cap_of(caps.budget_left, caps.solvency_left, true);
    let (plan_pay, base_capital) = plans::run_plan(&ctx, activity, &plan_ledger, cap, &mut out)?;
    // set-off of what members owe, then the minimum check on the plan's cash part
    let mut so = setoff::owed_at_year_end(&ctx, options, &mut out.notes)?;
    let mut payments = setoff::set_off_special(&ctx, std::mem::take(&mut out.payments), &mut so)?;
    setoff::plan_payments(&ctx, plan_pay, &mut so, &mut payments, &mut out.unpaid)?;
    let receivables = setoff::receivables(&ctx, options, &out.debts, &so, &mut out.notes)?;
    let Out {
        mut unpaid,
        discounts,
        conversions,
        debts,
        notes,
        ..
    } = out;
    let mut set_offs = so.set_offs;
    let by_tranche = |a: &Payment, b: &Payment| {
        (&a.member_id, a.allocation_year, &a.kind).cmp(&(&b.member_id, b.allocation_year, &b.kind))
    };
    payments.sort_by(by_tranche);
    set_offs.sort_by(by_tranche);
    unpaid.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    let set_off_total = mm(
        "set-off",
        Money::sum(cur, set_offs.iter().map(|p| &p.amount)),
    )?;
    let total = mm("total", Money::sum(cur, payments.iter().map(|p| &p.amount)))?;
    let debt_service = debt_service(&ctx, options, &debts)?;
    let service = mm(
        "debt service",
        Money::sum(cur, debt_service.iter().map(|d| &d.payment)),
    )?;
    let cash_needed = mm("cash", total.checked_add(&service))?;
    let box5 = box5(&ctx, &payments, &set_offs)?;
    Ok(Revolvement {
        fiscal_year: fy,
        plan: plans::plan_name(red.plan).into(),
        currency: cur.code().to_string(),
        payments,
        total,
        unpaid,
        discounts,
        conversions,
        offsets,
        set_offs,
        transfers,
        debts,
        receivables,
        debt_service,
        base_capital,
        budget: red.budget,
        solvency_limit: red.solvency_limit,
        cash_needed,
        set_off_total,
        box5,
        notes,
    })
}

/// What every step of one revolvement reads: the book, the year and the redemption policy.
pub(super) struct Ctx<'a> {
    pub(super) book: &'a Book,
    pub(super) fy: i32,
    pub(super) fy_end: NaiveDate,
    pub(super) cur: Currency,
    pub(super) zero: Money,
    pub(super) red: Redemption,
    pub(super) members_file: String,
}

impl<'a> Ctx<'a> {
    fn new(book: &'a Book, fy: i32) -> Result<Self, RevolveError> {
        let cfg = &book.config;
        let Some(red) = cfg.redemption.clone() else {
            return Err(RevolveError::NoPlan {
                file: book.display(crate::book::config::CONFIG_FILE),
            });
        };
        let (_, fy_end) = cfg
            .fiscal_year_bounds(fy)
            .ok_or(RevolveError::BadYear { fy })?;
        Ok(Ctx {
            book,
            fy,
            fy_end,
            cur: cfg.currency,
            zero: Money::zero(cfg.currency),
            red,
            members_file: book.display(crate::book::MEMBERS),
        })
    }
}

/// What the steps of one revolvement add to, in order.
#[derive(Default)]
pub(super) struct Out {
    pub(super) payments: Vec<Payment>,
    pub(super) unpaid: Vec<Unpaid>,
    pub(super) discounts: Vec<Retirement>,
    pub(super) conversions: Vec<Retirement>,
    pub(super) debts: Vec<Debt>,
    /// members retired specially (estates, leavers, age): the plan skips them
    pub(super) special: BTreeSet<String>,
    pub(super) notes: Vec<String>,
}

/// What is left of the year's budget and solvency limit.
pub(super) struct Caps {
    pub(super) budget_left: Option<Money>,
    pub(super) solvency_left: Option<Money>,
    pub(super) solvency_exempts_estates: bool,
}

/// The leaver debt installments due in the year (debts opened earlier and this year).
fn debt_service(
    ctx: &Ctx,
    options: &Options,
    debts: &[Debt],
) -> Result<Vec<DebtPayment>, RevolveError> {
    let (fy, cur) = (ctx.fy, ctx.cur);
    let mut debt_service = Vec::new();
    for d in options.open_debts.iter().chain(debts.iter()) {
        let n = d.installments.len();
        for (i, ins) in d.installments.iter().enumerate() {
            if ins.fiscal_year == fy {
                debt_service.push(DebtPayment {
                    member_id: d.member_id.clone(),
                    installment: i + 1,
                    of: n,
                    interest: money(ins.interest, cur, "debt service")?,
                    principal: money(ins.principal, cur, "debt service")?,
                    payment: money(ins.payment, cur, "debt service")?,
                });
            }
        }
    }
    Ok(debt_service)
}

/// 1099-PATR box 5 per member: nonqualified equity redeemed, in cash or applied to what the
/// member owes.
fn box5(ctx: &Ctx, payments: &[Payment], set_offs: &[Payment]) -> Result<Vec<Box5>, RevolveError> {
    let zero = ctx.zero;
    let mut box5: BTreeMap<String, Money> = BTreeMap::new();
    for p in payments
        .iter()
        .chain(set_offs.iter())
        .filter(|p| BOX5_KINDS.contains(&p.kind.as_str()))
    {
        let e = box5.entry(p.member_id.clone()).or_insert(zero);
        *e = mm("box 5", e.checked_add(&p.amount))?;
    }
    Ok(box5
        .into_iter()
        .map(|(member_id, amount)| Box5 { member_id, amount })
        .collect())
}

/// The transfers of deceased joint members' equity to the living joint member under
/// `joint_estate`, and the state with them applied (`None` when there are none).
fn joint_transfers(
    book: &Book,
    fy: i32,
    fy_end: NaiveDate,
    state: &State,
    red: &crate::book::config::Redemption,
) -> Result<(Vec<Transfer>, Option<State>), RevolveError> {
    let cur = book.config.currency;
    if red.joint_estate == JointEstate::Estate || book.joint.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut transfers = Vec::new();
    let mut moved_ts = Vec::new();
    for (id, partner) in &book.joint {
        let (Some(m), Some(p)) = (book.member(id), book.member(partner)) else {
            continue;
        };
        if m.status != Status::Deceased {
            continue;
        }
        // the survivor is still a member at the year end
        if p.status == Status::Deceased || p.left.is_some_and(|l| l <= fy_end) {
            continue;
        }
        let ts: Vec<&Tranche> = state
            .tranches
            .iter()
            .filter(|t| t.member_id == m.id && t.allocation_year <= fy && !t.amount.is_zero())
            .collect();
        if ts.is_empty() {
            continue;
        }
        let Some(death) = m.left else {
            return Err(RevolveError::NoDateOfDeath {
                member: m.id.clone(),
                file: book.display(crate::book::MEMBERS),
                line: m.line,
            });
        };
        if death > fy_end {
            continue;
        }
        let reason = match red.joint_estate {
            JointEstate::Split => format!(
                "joint membership: {}% passes to the surviving joint member `{}` (died {death}); the rest is retired as an estate",
                (red.joint_survivor * Decimal::ONE_HUNDRED).normalize(),
                p.id
            ),
            _ => format!(
                "joint membership: passes to the surviving joint member `{}` (died {death}); no early retirement",
                p.id
            ),
        };
        for t in ts {
            let face = money(t.amount, cur, "joint membership")?;
            let moved = match red.joint_estate {
                JointEstate::Split => mm(
                    "joint membership",
                    face.checked_mul_round(
                        red.joint_survivor,
                        RoundingStrategy::MidpointAwayFromZero,
                    ),
                )?,
                _ => face,
            };
            if moved.is_zero() {
                continue;
            }
            transfers.push(Transfer {
                member_id: m.id.clone(),
                to: p.id.clone(),
                allocation_year: t.allocation_year,
                kind: t.kind.clone(),
                amount: moved.amount(),
                reason: reason.clone(),
            });
            moved_ts.push(Tranche {
                member_id: m.id.clone(),
                allocation_year: t.allocation_year,
                kind: t.kind.clone(),
                amount: -moved.amount(),
            });
            moved_ts.push(Tranche {
                member_id: p.id.clone(),
                allocation_year: t.allocation_year,
                kind: t.kind.clone(),
                amount: moved.amount(),
            });
        }
    }
    if transfers.is_empty() {
        return Ok((transfers, None));
    }
    let mut s = state.clone();
    s.tranches = merge_checked(s.tranches.into_iter().chain(moved_ts)).ok_or_else(|| {
        RevolveError::Money {
            what: "joint membership".into(),
            source: MoneyError::Overflow,
        }
    })?;
    Ok((transfers, Some(s)))
}

/// Sums tranches of the same (member, allocation year, kind) and drops zeros; `None` on overflow.
fn merge_checked(ts: impl Iterator<Item = Tranche>) -> Option<Vec<Tranche>> {
    let mut map: BTreeMap<TrancheKey, Decimal> = BTreeMap::new();
    for t in ts {
        let e = map
            .entry((t.member_id, t.allocation_year, t.kind))
            .or_insert(Decimal::ZERO);
        *e = e.checked_add(t.amount)?;
    }
    Some(
        map.into_iter()
            .filter(|(_, a)| !a.is_zero())
            .map(|((member_id, allocation_year, kind), amount)| Tranche {
                member_id,
                allocation_year,
                kind,
                amount,
            })
            .collect(),
    )
}

/// The binding cap: the smaller of the remaining budget and (unless exempt) solvency limit.
fn cap_of(
    budget: Option<Money>,
    solvency: Option<Money>,
    solvency_applies: bool,
) -> Option<(Money, &'static str)> {
    let s = if solvency_applies { solvency } else { None };
    match (budget, s) {
        (Some(b), Some(s)) if s < b => Some((s, "solvency limit")),
        (Some(b), _) => Some((b, "budget")),
        (None, Some(s)) => Some((s, "solvency limit")),
        (None, None) => None,
    }
}

fn spend(
    budget: &mut Option<Money>,
    solvency: &mut Option<Money>,
    a: Money,
    solvency_applies: bool,
) {
    if let Some(b) = budget.as_mut() {
        *b = b
            .checked_sub(&a)
            .unwrap_or(*b)
            .max(Money::zero(a.currency()));
    }
    if solvency_applies {
        if let Some(s) = solvency.as_mut() {
            *s = s
                .checked_sub(&a)
                .unwrap_or(*s)
                .max(Money::zero(a.currency()));
        }
    }
}

fn apply_oldest(
    plan_pay: &mut BTreeMap<(String, i32, String), Money>,
    id: &str,
    ts: &[(i32, String, Money)],
    amount: Money,
) {
    for (i, a) in oldest_first(ts, amount) {
        plan_pay.insert((id.to_string(), ts[i].0, ts[i].1.clone()), a);
    }
}

/// Σ over the `k` fiscal years ending with `fy` of each member's weighted patronage
/// (Σ over units and measures of λ × amount). Every one of those years must have member activity.
pub fn base_patronage(
    book: &Book,
    activity: &Activity,
    fy: i32,
    k: u32,
) -> Result<BTreeMap<String, Decimal>, RevolveError> {
    let from = fy - k as i32 + 1;
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut missing = Vec::new();
    for y in from..=fy {
        let mut any = false;
        for t in activity.year(y).filter(|t| !t.key.member_id.is_empty()) {
            let Some(u) = book.config.unit(&t.key.unit) else {
                continue;
            };
            let Some((_, l)) = u.measures.iter().find(|(m, _)| *m == t.key.measure) else {
                continue;
            };
            any = true;
            let e = out.entry(t.key.member_id.clone()).or_insert(Decimal::ZERO);
            *e = l
                .checked_mul(t.amount_decimal())
                .and_then(|x| e.checked_add(x))
                .ok_or(RevolveError::Money {
                    what: "base-capital patronage".into(),
                    source: MoneyError::Overflow,
                })?;
        }
        if !any {
            missing.push(y.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(RevolveError::MissingHistory {
            k,
            from,
            fy,
            missing: missing.join(", "),
            file: book.display(crate::book::PATRONAGE),
        });
    }
    Ok(out)
}

pub use plans::plan_name;
pub use sealed::{How, JournalLine, MemberLine, Sealed};

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[test]
    fn e9_leaver_debt() {
        let d = debt_schedule("C", usd("5700.00"), Decimal::new(65, 3), 2, 2027).unwrap();
        let got: Vec<(i32, String, String, String)> = d
            .installments
            .iter()
            .map(|i| {
                (
                    i.fiscal_year,
                    i.interest.to_string(),
                    i.principal.to_string(),
                    i.payment.to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2027, "370.50".into(), "2850.00".into(), "3220.50".into()),
                (2028, "185.25".into(), "2850.00".into(), "3035.25".into())
            ]
        );
    }

    #[test]
    fn present_value_rounds_per_tranche() {
        // 1000 / 1.05^2 = 907.0294... -> 907.03
        assert_eq!(
            present_value(usd("1000.00"), Decimal::new(5, 2), 2)
                .unwrap()
                .to_string(),
            "907.03"
        );
        assert_eq!(
            present_value(usd("1000.00"), Decimal::new(5, 2), 0)
                .unwrap()
                .to_string(),
            "1000.00"
        );
    }
}
