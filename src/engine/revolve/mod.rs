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

use crate::book::config::{JointEstate, RedemptionPlan};
use crate::book::patronage::Activity;
use crate::book::{Book, Status};
use crate::engine::close::full_years;
use crate::engine::state::{merge, State, Tranche};
use crate::money::{allocate, Currency, Money, MoneyError, Weight};

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
    let cfg = &book.config;
    let cur = cfg.currency;
    let zero = Money::zero(cur);
    let Some(red) = cfg.redemption.clone() else {
        return Err(RevolveError::NoPlan {
            file: book.display(crate::book::config::CONFIG_FILE),
        });
    };
    let (_, fy_end) = cfg
        .fiscal_year_bounds(fy)
        .ok_or(RevolveError::BadYear { fy })?;
    let members_file = book.display(crate::book::MEMBERS);
    let mut notes = Vec::new();

    // ---- joint memberships: a deceased member's equity passes (in whole or in part) to the
    // living joint member before anything is retired; the rest is an estate like any other
    let (transfers, adjusted) = joint_transfers(book, fy, fy_end, state, &red)?;
    let state = adjusted.as_ref().unwrap_or(state);

    // ---- the equity outstanding before the year, per member
    // `all`: allocated before the year (what the plans redeem); `whole`: every tranche up to and
    // including the year (a special retirement closes the member's whole account)
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

    // ---- loss offsets: each member's loss tranches against their oldest redeemable tranches
    let mut offsets = Vec::new();
    let mut ledger: Ledger = BTreeMap::new();
    for (id, ts) in &all {
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

    // ---- budget and solvency caps
    let mut budget_left = red.budget;
    let mut solvency_left = red.solvency_limit;
    let solvency_exempts_estates = red.solvency_exempts_estates;
    let mut payments: Vec<Payment> = Vec::new();
    let mut unpaid: Vec<Unpaid> = Vec::new();
    let mut discounts = Vec::new();
    let mut conversions = Vec::new();
    let mut debts = Vec::new();
    let mut special: BTreeSet<String> = BTreeSet::new();

    // ---- special retirements, in order: estates, leavers (converted to debt), age
    // estates: deceased members with equity, in order of date of death then id
    let mut estates: Vec<(NaiveDate, &crate::book::Member)> = Vec::new();
    for m in book.members.iter().filter(|m| m.status == Status::Deceased) {
        if !whole
            .get(&m.id)
            .is_some_and(|v| v.iter().any(|t| !t.2.is_zero()))
        {
            continue;
        }
        let Some(death) = m.left else {
            return Err(RevolveError::NoDateOfDeath {
                member: m.id.clone(),
                file: members_file.clone(),
                line: m.line,
            });
        };
        if death <= fy_end {
            estates.push((death, m));
        }
    }
    estates.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    if red.estate_discount.is_some() && red.cycle_years.is_none() && !estates.is_empty() {
        return Err(RevolveError::DiscountNeedsCycle);
    }
    for (death, m) in estates {
        special.insert(m.id.clone());
        let Some(ts) = whole.get(&m.id) else { continue };
        let face_total = mm("estate", Money::sum(cur, ts.iter().map(|t| &t.2)))?;
        if !face_total.is_positive() {
            notes.push(format!(
                "the estate of `{}` has no positive balance ({face_total}); nothing to pay",
                m.id
            ));
            continue;
        }
        // cash per tranche: face, or present value at the policy rate
        let mut lines = Vec::new();
        for (y, k, face) in ts.iter().filter(|t| t.2.is_positive()) {
            let pv = match (red.estate_discount, red.cycle_years) {
                (Some(r), Some(n)) => {
                    let years = (*y + n as i32 - fy).max(0) as u32;
                    mm("estate present value", present_value(*face, r, years))?
                }
                _ => *face,
            };
            lines.push((*y, k.clone(), *face, pv));
        }
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
        let cap = cap_of(budget_left, solvency_left, !solvency_exempts_estates);
        if let Some((avail, why)) = cap {
            if cash_total > avail {
                unpaid.push(Unpaid {
                    member_id: m.id.clone(),
                    amount: cash_total,
                    reason: format!(
                        "estate (died {death}): {cash_total} does not fit in the remaining {why} of {avail}; paid in a later year"
                    ),
                });
                continue;
            }
        }
        let disc_pct = red
            .estate_discount
            .map(|r| format!(" discounted at {}%", r * Decimal::ONE_HUNDRED))
            .unwrap_or_else(|| " at face".into());
        // the loss part first reduces the oldest lines' cash
        let mut neg_left = neg.abs();
        for (y, k, face, pv) in lines {
            let cut = neg_left.min(pv);
            neg_left = mm("estate", neg_left.checked_sub(&cut))?;
            let cash = mm("estate", pv.checked_sub(&cut))?;
            if cash.is_positive() {
                payments.push(Payment {
                    member_id: m.id.clone(),
                    allocation_year: y,
                    kind: k.clone(),
                    amount: cash,
                    reason: format!("estate (died {death}){disc_pct}"),
                    special: true,
                });
            }
            let disc = mm("estate", face.checked_sub(&pv))?;
            if disc.is_positive() {
                discounts.push(Retirement {
                    member_id: m.id.clone(),
                    allocation_year: y,
                    kind: k.clone(),
                    amount: disc,
                    reason: "estate discount to present value, credited to unallocated equity"
                        .into(),
                });
            }
            if cut.is_positive() {
                discounts.push(Retirement {
                    member_id: m.id.clone(),
                    allocation_year: y,
                    kind: k,
                    amount: cut,
                    reason: "offset by the member's losses".into(),
                });
            }
        }
        for (y, k, face) in ts.iter().filter(|t| t.2.is_negative()) {
            discounts.push(Retirement {
                member_id: m.id.clone(),
                allocation_year: *y,
                kind: k.clone(),
                amount: *face,
                reason: "loss absorbed by the estate's equity".into(),
            });
        }
        spend(
            &mut budget_left,
            &mut solvency_left,
            cash_total,
            !solvency_exempts_estates,
        );
    }

    // leavers: status `left`, membership ended by the year end, equity still outstanding
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

    // age: active members at or over the retirement age at the year end
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
            if let Some((avail, why)) = cap_of(budget_left, solvency_left, true) {
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
            spend(&mut budget_left, &mut solvency_left, total, true);
        }
    }

    // ---- the plan, on everyone else
    let plan_ledger: Ledger = ledger
        .iter()
        .filter(|(id, _)| !special.contains(*id))
        .filter(|(id, _)| {
            // members who left or died after the year end are still members in `fy`
            book.member(id).is_some()
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut base_capital = Vec::new();
    let mut plan_pay: BTreeMap<(String, i32, String), Money> = BTreeMap::new();
    let plan_name = match red.plan {
        RedemptionPlan::None => "none",
        RedemptionPlan::RevolvingFund => "revolving_fund",
        RedemptionPlan::Percentage => "percentage",
        RedemptionPlan::BaseCapital => "base_capital",
    };
    let cap = cap_of(budget_left, solvency_left, true);
    match red.plan {
        RedemptionPlan::None => {}
        RedemptionPlan::RevolvingFund => {
            let n = red.cycle_years.unwrap_or(1) as i32;
            let last = fy - n;
            // due tranches by year
            let mut by_year: BTreeMap<i32, Vec<(TrancheKey, Money)>> = BTreeMap::new();
            for (id, ts) in &plan_ledger {
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
        }
        RedemptionPlan::Percentage => {
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
                apply_oldest(&mut plan_pay, id, &plan_ledger[id], pay);
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
        }
        RedemptionPlan::BaseCapital => {
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
                    apply_oldest(&mut plan_pay, id, ts, p);
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
        }
    }

    // ---- what members owe the co-op at the year end (receivables.csv), net of the set-offs
    // sealed in earlier years
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
    let owed_at_start = owed.clone();
    let set_off_on = red.set_off;
    let mut set_offs: Vec<Payment> = Vec::new();
    let mut unset: BTreeMap<String, Money> = BTreeMap::new();

    // set-off against the special retirements (estates, age), oldest tranche first
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
    let mut payments = cash_payments;

    // ---- the plan's payments: set-off first, then the minimum check on the cash part (a cash
    // part under the minimum is carried forward as outstanding equity)
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
    for (id, paid) in &unset {
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
    for (id, outstanding) in owed_at_start {
        let remaining = owed.get(&id).copied().unwrap_or(zero);
        receivables.push(ReceivableLine {
            set_off: mm("set-off", outstanding.checked_sub(&remaining))?,
            member_id: id,
            outstanding,
            remaining,
        });
    }

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

    // ---- debt service due this year
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
    let service = mm(
        "debt service",
        Money::sum(cur, debt_service.iter().map(|d| &d.payment)),
    )?;
    let cash_needed = mm("cash", total.checked_add(&service))?;
    let mut box5: BTreeMap<String, Money> = BTreeMap::new();
    // box 5: nonqualified equity redeemed, in cash or applied to what the member owes
    for p in payments
        .iter()
        .chain(set_offs.iter())
        .filter(|p| BOX5_KINDS.contains(&p.kind.as_str()))
    {
        let e = box5.entry(p.member_id.clone()).or_insert(zero);
        *e = mm("box 5", e.checked_add(&p.amount))?;
    }
    Ok(Revolvement {
        fiscal_year: fy,
        plan: plan_name.into(),
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
        box5: box5
            .into_iter()
            .map(|(member_id, amount)| Box5 { member_id, amount })
            .collect(),
        notes,
    })
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

// ------------------------------------------------------------------ applying a sealed revolvement

/// One retired amount as read back from a sealed `redemptions.json`.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    member_id: String,
    allocation_year: i32,
    kind: String,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    #[serde(default)]
    reason: String,
}

/// The parts of a sealed `redemptions.json` that change the equity outstanding.
#[derive(Debug, Clone, Deserialize)]
pub struct Sealed {
    pub fiscal_year: i32,
    payments: Vec<Entry>,
    #[serde(default)]
    discounts: Vec<Entry>,
    #[serde(default)]
    conversions: Vec<Entry>,
    #[serde(default)]
    offsets: Vec<Entry>,
    #[serde(default)]
    set_offs: Vec<Entry>,
    #[serde(default)]
    transfers: Vec<Transfer>,
    #[serde(default)]
    pub debts: Vec<Debt>,
    #[serde(default)]
    debt_service: Vec<ServiceEntry>,
}

/// A debt installment paid, as read back from a sealed `redemptions.json`.
#[derive(Debug, Clone, Deserialize)]
struct ServiceEntry {
    member_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    payment: Decimal,
}

/// How a sealed amount reached (or left) a member, for statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// paid in cash
    Cash,
    /// applied to what the member owes the co-op
    SetOff,
    /// an estate's discount to present value (to unallocated equity)
    Discount,
    /// a leaver's equity converted to a debt the co-op owes them
    ConvertedToDebt,
    /// a loss tranche netted against the member's own equity
    LossOffset,
    /// passed to the surviving joint member
    TransferredOut,
    /// received from a deceased joint member
    TransferredIn,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Cash => "cash",
            How::SetOff => "set_off",
            How::Discount => "discount",
            How::ConvertedToDebt => "converted_to_debt",
            How::LossOffset => "loss_offset",
            How::TransferredOut => "transferred_out",
            How::TransferredIn => "transferred_in",
        }
    }
}

/// One sealed line of a member: (allocation year, kind, how, amount, reason).
pub type MemberLine = (i32, String, How, Decimal, String);

/// One line for the journal: (member, allocation year, kind, amount).
pub type JournalLine = (String, i32, String, Decimal);

impl Sealed {
    /// Amounts paid, discounted (estates) and converted to debt (leavers), for journal entries.
    pub fn journal_lines(&self) -> [Vec<JournalLine>; 3] {
        let lines = |v: &[Entry]| -> Vec<JournalLine> {
            v.iter()
                .map(|e| {
                    (
                        e.member_id.clone(),
                        e.allocation_year,
                        e.kind.clone(),
                        e.amount,
                    )
                })
                .collect()
        };
        [
            lines(&self.payments),
            lines(&self.discounts),
            lines(&self.conversions),
        ]
    }

    /// Amounts set off against what members owe (Dr the tranche, Cr the member receivable).
    pub fn set_off_lines(&self) -> Vec<JournalLine> {
        self.set_offs
            .iter()
            .map(|e| {
                (
                    e.member_id.clone(),
                    e.allocation_year,
                    e.kind.clone(),
                    e.amount,
                )
            })
            .collect()
    }

    /// Equity of deceased joint members passed to the survivors.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Per member, the receivables set off by these redemptions.
    pub fn set_off_by_member(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in &self.set_offs {
            let v = m.entry(e.member_id.clone()).or_default();
            *v = v.checked_add(e.amount).unwrap_or(Decimal::MAX);
        }
        m
    }

    /// Per member, the cash paid this year: redemptions and debt installments.
    pub fn cash_paid(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> = BTreeMap::new();
        let all = self
            .payments
            .iter()
            .map(|e| (&e.member_id, e.amount))
            .chain(self.debt_service.iter().map(|d| (&d.member_id, d.payment)));
        for (id, a) in all {
            let v = m.entry(id.clone()).or_default();
            *v = v.checked_add(a).unwrap_or(Decimal::MAX);
        }
        m
    }

    /// Every sealed line, by member (each member's sorted by allocation year, kind and how);
    /// a transfer is listed under both members.
    pub fn lines_by_member(&self) -> BTreeMap<String, Vec<MemberLine>> {
        let mut m: BTreeMap<String, Vec<MemberLine>> = BTreeMap::new();
        for (list, how) in [
            (&self.payments, How::Cash),
            (&self.set_offs, How::SetOff),
            (&self.discounts, How::Discount),
            (&self.conversions, How::ConvertedToDebt),
            (&self.offsets, How::LossOffset),
        ] {
            for e in list {
                m.entry(e.member_id.clone()).or_default().push((
                    e.allocation_year,
                    e.kind.clone(),
                    how,
                    e.amount,
                    e.reason.clone(),
                ));
            }
        }
        for t in &self.transfers {
            m.entry(t.member_id.clone()).or_default().push((
                t.allocation_year,
                t.kind.clone(),
                How::TransferredOut,
                t.amount,
                t.reason.clone(),
            ));
            m.entry(t.to.clone()).or_default().push((
                t.allocation_year,
                t.kind.clone(),
                How::TransferredIn,
                t.amount,
                format!("from the deceased joint member `{}`", t.member_id),
            ));
        }
        for v in m.values_mut() {
            v.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        }
        m
    }

    /// Parses a sealed `redemptions.json`.
    pub fn parse(text: &str) -> serde_json::Result<Sealed> {
        serde_json::from_str(text)
    }

    /// The state after these redemptions: every paid, set off, discounted, converted or offset
    /// amount reduces its tranche; a joint member's transfer moves it to the survivor; estate
    /// discounts are credited to unallocated equity.
    pub fn apply(&self, state: &State) -> Result<State, MoneyError> {
        let mut ts = state.tranches.clone();
        let neg = |e: &Entry| Tranche {
            member_id: e.member_id.clone(),
            allocation_year: e.allocation_year,
            kind: e.kind.clone(),
            amount: -e.amount,
        };
        for e in self
            .payments
            .iter()
            .chain(&self.discounts)
            .chain(&self.conversions)
            .chain(&self.offsets)
            .chain(&self.set_offs)
        {
            ts.push(neg(e));
        }
        for t in &self.transfers {
            for (member_id, amount) in [(&t.member_id, -t.amount), (&t.to, t.amount)] {
                ts.push(Tranche {
                    member_id: member_id.clone(),
                    allocation_year: t.allocation_year,
                    kind: t.kind.clone(),
                    amount,
                });
            }
        }
        let gain = self
            .discounts
            .iter()
            .filter(|d| d.kind != "loss")
            .try_fold(Decimal::ZERO, |acc, d| {
                crate::money::add_exact(acc, d.amount)
            })?;
        // a loss absorbed by an estate: the negative discount entries restore nothing
        let mut s = state.clone();
        s.tranches = merge(ts)?;
        s.unallocated = crate::money::add_exact(s.unallocated, gain)?;
        Ok(s)
    }
}

impl Revolvement {
    /// Applies this (not yet sealed) revolvement to `state`, as a sealed one would be.
    pub fn apply(&self, state: &State) -> anyhow::Result<State> {
        let v = serde_json::to_string(self)?;
        Ok(Sealed::parse(&v)?.apply(state)?)
    }
}

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
