//! The scenario runner: builds the opening state from the cap table, runs every route's `open`
//! at closing and `step` each year, takes the three lenses each year, then the metrics.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::lens::{self, YearView};
use super::metrics;
use super::model::{Cx, Er, Ledger, State};
use super::num;
use super::scenario::Scenario;

/// One investor's or seller's returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestorRow {
    pub holder_id: String,
    pub segment: String,
    pub invested: Decimal,
    pub paid: Decimal,
    /// `None` when nothing was invested (no multiple).
    pub moic: Option<Decimal>,
    /// `None` ("n/a") when the cash flows do not change sign on [−99%, 1000%].
    pub irr: Option<Decimal>,
    /// What the holder still claims at the end of the horizon (final-year economic claim).
    pub outstanding: Decimal,
    /// IRR counting `outstanding` as received in the final year (a terminal value).
    pub irr_with_outstanding: Option<Decimal>,
    pub flows: Vec<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub time_to_majority_votes: Option<u32>,
    pub time_to_majority_economic: Option<u32>,
    pub time_to_majority_legal: Option<u32>,
    /// Economic majority under the instrument lens.
    pub time_to_majority_economic_instrument: Option<u32>,
    /// First year in which the community holds every economic claim.
    pub full_buyout: Option<u32>,
    pub investors: Vec<InvestorRow>,
    /// Final year, economic lens, over holders with a positive claim.
    pub gini: Decimal,
    pub hhi: Decimal,
    pub effective_owners: Decimal,
    pub total_cash_required: Decimal,
    pub shortfall_years: Vec<u32>,
}

/// Everything a renderer needs about one scenario run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E2cReport {
    pub scenario: String,
    pub description: String,
    pub file: String,
    pub currency: String,
    pub minor_units: u32,
    pub start_year: Option<u32>,
    pub routes: Vec<String>,
    pub community_segments: Vec<String>,
    /// The operating assumptions used (paths by name, `valuation` from t = 0).
    pub assumptions: std::collections::BTreeMap<String, Vec<Decimal>>,
    /// Votes and title on the cap table before the routes run.
    pub before: Vec<lens::BeforeRow>,
    pub years: Vec<YearView>,
    pub metrics: Metrics,
}

impl E2cReport {
    /// The label of year `t`: the calendar year when `start_year` is set, else `t`.
    pub fn year_label(&self, t: u32) -> String {
        match self.start_year {
            Some(y) => format!("{}", y + t),
            None => format!("{t}"),
        }
    }
}

/// The opening state from the cap table and the declared holders and classes.
pub fn opening_state(sc: &Scenario) -> Er<State> {
    let mut st = State {
        holders: sc.holders.clone(),
        classes: sc.classes.clone(),
        ..State::default()
    };
    for r in &sc.captable.rows {
        let p = st
            .pos
            .entry((r.class.clone(), r.holder_id.clone()))
            .or_default();
        p.units = num::add(p.units, r.units)?;
        p.invested = num::add(p.invested, r.invested)?;
    }
    Ok(st)
}

/// Runs the scenario.
pub fn run(sc: &Scenario) -> Er<E2cReport> {
    let cx = Cx {
        currency: sc.currency,
        years: sc.years,
        paths: sc.paths.clone(),
    };
    let mut st = opening_state(sc)?;
    let before = lens::before(&st)?;
    let mut led = Ledger::new(sc.years);
    let mut routes = sc.routes.clone();
    for r in &mut routes {
        r.mech().open(&cx, &mut st, &mut led)?;
    }
    let mut years = vec![lens::view(0, &st, &led, &cx, &sc.community)?];
    for t in 1..=sc.years {
        for r in &mut routes {
            r.mech().step(&cx, t, &mut st, &mut led)?;
        }
        years.push(lens::view(t, &st, &led, &cx, &sc.community)?);
    }
    lens::prune(&mut years);
    let metrics = compute_metrics(&years, &led, &st)?;
    Ok(E2cReport {
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        file: sc.file.clone(),
        currency: sc.currency.code().to_string(),
        minor_units: sc.currency.minor_units(),
        start_year: sc.start_year,
        routes: routes.iter().map(|r| r.kind().to_string()).collect(),
        community_segments: sc.community.iter().cloned().collect(),
        assumptions: {
            let mut a = sc.paths.flows.clone();
            if let Some(v) = &sc.paths.valuation {
                a.insert("valuation".to_string(), v.clone());
            }
            a
        },
        before,
        years,
        metrics,
    })
}

fn compute_metrics(years: &[YearView], led: &Ledger, st: &State) -> Er<Metrics> {
    let series = |f: fn(&YearView) -> Decimal| -> Vec<(u32, Decimal)> {
        years.iter().map(|y| (y.t, f(y))).collect()
    };
    let mut ids: BTreeSet<String> = led.basis.keys().cloned().collect();
    ids.extend(
        led.flows
            .iter()
            .filter(|(_, f)| f.iter().any(|x| *x > Decimal::ZERO))
            .map(|(h, _)| h.clone()),
    );
    let mut investors = Vec::new();
    for h in ids {
        let flows = led.flows.get(&h).cloned().unwrap_or_default();
        let invested = led.basis.get(&h).copied().unwrap_or_default();
        let paid = num::sum(flows.iter().copied().filter(|x| *x > Decimal::ZERO))?;
        // upfront money received at closing nets against the outflow in the same year
        let moic = if invested > Decimal::ZERO {
            Some(num::div(paid, invested)?)
        } else {
            None
        };
        let outstanding = years
            .last()
            .and_then(|y| y.holders.iter().find(|r| r.holder_id == h))
            .map_or(Decimal::ZERO, |r| r.claim);
        let mut terminal = flows.clone();
        if let Some(last) = terminal.last_mut() {
            *last = num::add(*last, outstanding)?;
        }
        investors.push(InvestorRow {
            outstanding,
            irr_with_outstanding: num::irr(&terminal),
            segment: st
                .holders
                .get(&h)
                .map(|x| x.segment.clone())
                .unwrap_or_default(),
            holder_id: h,
            invested,
            paid,
            moic,
            irr: num::irr(&flows),
            flows,
        });
    }
    let last = years.last();
    let econ = last.map(|y| y.concentration[1].1).unwrap_or_default();
    let total_cash_required = num::sum(years.iter().map(|y| y.cash_required))?;
    Ok(Metrics {
        time_to_majority_votes: metrics::time_to_majority(&series(|y| y.community.votes)),
        time_to_majority_economic: metrics::time_to_majority(&series(|y| y.community.economic)),
        time_to_majority_legal: metrics::time_to_majority(&series(|y| y.community.legal)),
        time_to_majority_economic_instrument: metrics::time_to_majority(&series(|y| {
            y.community_instrument_economic
        })),
        full_buyout: years
            .iter()
            .find(|y| y.community.economic == Decimal::ONE_HUNDRED)
            .map(|y| y.t),
        investors,
        gini: econ.gini,
        hhi: econ.hhi,
        effective_owners: econ.effective_owners,
        total_cash_required,
        shortfall_years: years.iter().filter(|y| y.shortfall).map(|y| y.t).collect(),
    })
}
