//! When a member's equity is expected to be paid out, under `[redemption]` of `coop.toml`: per
//! tranche while the member stays, and the departure payout (installments or the estate's
//! discounted payment) once they left or died.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{kind_is_contribution, StatusInfo, TrancheLine, YearAmount};
use crate::book::config::{Config, RedemptionPlan};
use crate::book::{Member, Status};
use crate::engine::state::Tranche;
use crate::money::{Currency, Money};

/// A fraction from `coop.toml` (e.g. 0.05) as the percentage people read (`5`).
fn percent_of(f: Decimal) -> Decimal {
    f.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(f).normalize()
}

/// `active`, `left` or `deceased`.
fn state_of(member: Option<&Member>) -> &'static str {
    match member.map(|m| m.status) {
        Some(Status::Left) => "left",
        Some(Status::Deceased) => "deceased",
        _ => "active",
    }
}

/// Expected payout of each tranche and the member's status as of fiscal year `fy`, from
/// `[redemption]` of `cfg`.
pub(super) fn payout(
    cfg: &Config,
    fy: i32,
    member: Option<&Member>,
    tranches: &[&Tranche],
    total: Money,
    cur: Currency,
) -> anyhow::Result<(StatusInfo, Vec<TrancheLine>)> {
    match member.and_then(|m| m.left) {
        Some(left) if state_of(member) != "active" => {
            departed(cfg, fy, member, left, tranches, total, cur)
        }
        _ => staying(cfg, fy, member, tranches, cur),
    }
}

/// A member who stays: each tranche is paid out as the plan says.
fn staying(
    cfg: &Config,
    fy: i32,
    member: Option<&Member>,
    tranches: &[&Tranche],
    cur: Currency,
) -> anyhow::Result<(StatusInfo, Vec<TrancheLine>)> {
    let red = cfg.redemption.as_ref();
    let state = state_of(member);
    let joined = member.map(|m| m.joined.to_string()).unwrap_or_default();
    let mut lines = Vec::new();
    for t in tranches {
        let (year, note) = match (red.map(|r| r.plan), t.kind.as_str()) {
            (_, k) if kind_is_contribution(k) => {
                (None, "paid back when membership ends".to_string())
            }
            (_, "loss") => (
                None,
                "a loss charge: reduces what is paid out".to_string(),
            ),
            (Some(RedemptionPlan::RevolvingFund), _) => {
                match red.and_then(|r| r.cycle_years) {
                    Some(c) => {
                        let due = t
                            .allocation_year
                            .saturating_add(i32::try_from(c).unwrap_or(i32::MAX));
                        if due <= fy {
                            (
                                Some(fy.saturating_add(1)),
                                format!("revolving fund, {c}-year cycle: due in {due}, not yet paid"),
                            )
                        } else {
                            (Some(due), format!("revolving fund, {c}-year cycle"))
                        }
                    }
                    None => (None, "revolving fund; the cycle is not set".into()),
                }
            }
            (Some(RedemptionPlan::Percentage), _) => (
                None,
                match red.and_then(|r| r.percent) {
                    Some(p) => format!(
                        "partial each year: about {}% of allocated equity is redeemed each year, as the board decides",
                        percent_of(p)
                    ),
                    None => "partial each year (percentage plan)".into(),
                },
            ),
            (Some(RedemptionPlan::BaseCapital), _) => (
                None,
                "redeemed when your equity exceeds your base capital requirement".into(),
            ),
            _ => (
                None,
                "no redemption plan: paid when membership ends".into(),
            ),
        };
        lines.push(TrancheLine {
            allocation_year: t.allocation_year,
            kind: t.kind.clone(),
            amount: Money::from_decimal(t.amount, cur)?.to_string(),
            expected_payout_year: year,
            payout: note,
        });
    }
    let explanation = match member {
        Some(m) => format!(
            "Member since {}. Your capital account stays with the co-op while you are a member and is paid out as shown for each tranche.",
            m.joined
        ),
        None => "This member is not in members.csv.".into(),
    };
    Ok((
        StatusInfo {
            state: state.into(),
            joined,
            left: None,
            owed: None,
            payout: Vec::new(),
            explanation,
        },
        lines,
    ))
}

/// A member who left or died on `left`: the account is owed to the member or the estate.
fn departed(
    cfg: &Config,
    fy: i32,
    member: Option<&Member>,
    left: NaiveDate,
    tranches: &[&Tranche],
    total: Money,
    cur: Currency,
) -> anyhow::Result<(StatusInfo, Vec<TrancheLine>)> {
    let red = cfg.redemption.as_ref();
    let state = state_of(member);
    let joined = member.map(|m| m.joined.to_string()).unwrap_or_default();
    let mut lines = Vec::new();
    // left or deceased: the account is owed to the member or the estate
    let left_fy = cfg.fiscal_year_of(left);
    let n = red.and_then(|r| r.leaver_installments).unwrap_or(1).max(1);
    let estate_discount = if state == "deceased" {
        red.and_then(|r| r.estate_discount)
    } else {
        None
    };
    let owed = total.max(Money::zero(cur));
    let mut payout = Vec::new();
    let last_year;
    if let Some(d) = estate_discount {
        let pay = owed.checked_mul_round(
            Decimal::ONE - d,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        )?;
        last_year = left_fy + 1;
        payout.push(YearAmount {
            fiscal_year: last_year,
            amount: pay.to_string(),
        });
    } else {
        let minor = owed.to_minor();
        let n128 = i128::from(n);
        let base = minor / n128;
        let rem = minor % n128;
        for i in 0..n {
            let extra = if i128::from(i) < rem { 1 } else { 0 };
            payout.push(YearAmount {
                fiscal_year: left_fy + 1 + i as i32,
                amount: Money::from_minor(base + extra, cur)?.to_string(),
            });
        }
        last_year = left_fy + n as i32;
    }
    for t in tranches {
        lines.push(TrancheLine {
            allocation_year: t.allocation_year,
            kind: t.kind.clone(),
            amount: Money::from_decimal(t.amount, cur)?.to_string(),
            expected_payout_year: Some(last_year),
            payout: if n > 1 && estate_discount.is_none() {
                format!("part of the departure payout, in installments through {last_year}")
            } else {
                format!("part of the departure payout in {last_year}")
            },
        });
    }
    let name = member.map(|m| m.name.as_str()).unwrap_or("The member");
    let who = if state == "deceased" {
        format!("{name} died on {left}. The capital account is owed to the estate")
    } else {
        format!("Membership ended on {left}. Your capital account became a debt the co-op owes you")
    };
    let schedule = payout
        .iter()
        .map(|p| {
            let a = Money::parse(&p.amount, cur)
                .map(|m| m.grouped())
                .unwrap_or_else(|_| p.amount.clone());
            format!("{a} in {}", p.fiscal_year)
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let interest = red
        .and_then(|r| r.leaver_interest)
        .filter(|i| !i.is_zero())
        .map(|i| {
            format!(
                ", with interest at {}% a year on the unpaid balance",
                percent_of(i)
            )
        })
        .unwrap_or_default();
    let terms = match estate_discount {
        Some(d) => format!(
            "; under [redemption] in coop.toml the estate is paid {schedule} (face value less the {}% estate discount)",
            percent_of(d)
        ),
        None if n > 1 => format!(
            ", repayable in {n} equal installments: {schedule}{interest}"
        ),
        None => format!(", repayable {schedule}{interest}"),
    };
    let recorded = if fy > left_fy {
        format!(
            " The sealed books through fiscal year {fy} record the balance of {} as still outstanding.",
            owed.grouped()
        )
    } else {
        String::new()
    };
    let explanation = format!("{who} ({}){terms}.{recorded}", owed.grouped());
    Ok((
        StatusInfo {
            state: state.into(),
            joined,
            left: Some(left.to_string()),
            owed: Some(owed.to_string()),
            payout,
            explanation,
        },
        lines,
    ))
}
