//! The cash forecast of redemptions: the revolvement of each of the next years, each year's
//! redemptions reducing the equity of the next. Pure: the book, the state before the first year,
//! the book's activity and what earlier sealed years left (set-offs, open debts) in.

use crate::book::config::RedemptionPlan;
use crate::book::patronage::Activity;
use crate::book::Book;
use crate::engine::revolve::{plan_name, revolve, Options, RevolveError};
use crate::engine::state::State;
use crate::money::{Money, MoneyError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ForecastRow {
    pub fiscal_year: i32,
    /// the plan's revolvement
    pub revolvement: Money,
    /// estates and age retirements
    pub special: Money,
    /// leaver debt installments (interest and principal)
    pub debt_service: Money,
    pub total: Money,
    /// equity outstanding after the year's redemptions
    pub outstanding: Money,
    pub unpaid: Money,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Forecast {
    pub coop: String,
    pub currency: String,
    pub plan: String,
    pub from: i32,
    pub years: Vec<ForecastRow>,
    pub notes: Vec<String>,
}

/// Projects `years` fiscal years of redemptions from `from`, starting with `state` and the
/// `debts` already open. No new allocations are assumed; each year's redemptions reduce the
/// equity of the next. `activity` is the book's patronage ([`crate::book::patronage::activity`]),
/// computed once for every projected year. A base capital plan is not projected past the patronage on file.
pub fn forecast(
    book: &Book,
    from: i32,
    years: u32,
    state: &State,
    activity: &Activity,
    earlier: &Options,
) -> Result<Forecast, RevolveError> {
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let mm = |what: &str, r: Result<Money, MoneyError>| {
        r.map_err(|source| RevolveError::Money {
            what: what.into(),
            source,
        })
    };
    let mut state = state.clone();
    let mut opts = earlier.clone();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut no_plan_book: Option<Book> = None;
    let plan = book
        .config
        .redemption
        .as_ref()
        .map(|r| r.plan)
        .unwrap_or(RedemptionPlan::None);
    for fy in from..from + years as i32 {
        let rev = match revolve(
            no_plan_book.as_ref().unwrap_or(book),
            fy,
            &state,
            activity,
            &opts,
        ) {
            Ok(r) => r,
            Err(RevolveError::MissingHistory { .. }) if plan == RedemptionPlan::BaseCapital => {
                notes.push(format!("from {fy} on, the base capital plan is not projected: it needs patronage that is not on file yet; special retirements and debts still are"));
                let mut b = book.clone();
                if let Some(r) = b.config.redemption.as_mut() {
                    r.plan = RedemptionPlan::None;
                }
                let rev = revolve(&b, fy, &state, activity, &opts)?;
                no_plan_book = Some(b);
                rev
            }
            Err(e) => return Err(e),
        };
        let sum = |special: bool| {
            Money::sum(
                cur,
                rev.payments
                    .iter()
                    .filter(|p| p.special == special)
                    .map(|p| &p.amount),
            )
        };
        let revolvement = mm("forecast", sum(false))?;
        let special = mm("forecast", sum(true))?;
        let service = mm(
            "forecast",
            Money::sum(cur, rev.debt_service.iter().map(|d| &d.payment)),
        )?;
        let unpaid = mm(
            "forecast",
            Money::sum(cur, rev.unpaid.iter().map(|u| &u.amount)),
        )?;
        state = rev.apply(&state).map_err(|_| RevolveError::Money {
            what: "forecast state".into(),
            source: MoneyError::Overflow,
        })?;
        // tranches of the year are not redeemed in the year: keep the state's year moving
        state.fiscal_year = fy;
        let outstanding = {
            let mut acc = z;
            for t in &state.tranches {
                acc = mm(
                    "forecast",
                    acc.checked_add(&mm("forecast", Money::from_decimal(t.amount, cur))?),
                )?;
            }
            acc
        };
        opts.open_debts.extend(rev.debts.iter().cloned());
        for p in &rev.set_offs {
            let e = opts
                .earlier_set_offs
                .entry(p.member_id.clone())
                .or_default();
            *e = e
                .checked_add(p.amount.amount())
                .ok_or(RevolveError::Money {
                    what: "forecast set-offs".into(),
                    source: MoneyError::Overflow,
                })?;
        }
        rows.push(ForecastRow {
            fiscal_year: fy,
            revolvement,
            special,
            debt_service: service,
            total: mm(
                "forecast",
                revolvement
                    .checked_add(&special)
                    .and_then(|x| x.checked_add(&service)),
            )?,
            outstanding,
            unpaid,
        });
    }
    notes.push("assumes no new allocations, contributions or departures beyond the members' recorded status and ages".into());
    Ok(Forecast {
        coop: book.config.name.clone(),
        currency: cur.code().to_string(),
        plan: plan_name(plan).to_string(),
        from,
        years: rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_name_is_the_config_name() {
        for p in [
            RedemptionPlan::None,
            RedemptionPlan::RevolvingFund,
            RedemptionPlan::Percentage,
            RedemptionPlan::BaseCapital,
        ] {
            let serde_name = serde_json::to_value(p).unwrap();
            assert_eq!(serde_name.as_str(), Some(plan_name(p)));
        }
    }
}
