//! The community-wealth report ([`WealthReport`]) as a [`Doc`]: the summary, the trend (stacked
//! bars), the individual stakes with their Lorenz curve, and the shared assets. `wealth -O json`
//! and `-O csv` stay serializations of the typed report (`super::contract`).

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use super::{TrendYear, WealthReport};
use crate::report::doc::{Block, Cell, Chart, ChartKind, Doc, RowKind, Section, Series, Table};

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn summary(r: &WealthReport) -> Section {
    let mut tab = Table::new(&[("measure", ""), ("amount", "Amount")]);
    for (k, v, kind) in [
        ("Members' capital accounts", r.member_equity, RowKind::Body),
        ("Collective reserve", r.collective_reserve, RowKind::Body),
        (
            "Shared assets, locked (NBV)",
            r.locked_assets_nbv,
            RowKind::Body,
        ),
        (
            "Shared assets, unlocked (NBV)",
            r.unlocked_assets_nbv,
            RowKind::Body,
        ),
        ("Total community wealth", r.total, RowKind::Total),
        ("Held in common", r.common, RowKind::Body),
    ] {
        tab.push(kind, vec![t(k), Cell::Money(v)]);
    }
    let mut shares = vec![(
        "Held in common (%)".to_string(),
        Cell::Num(r.common_share_pct),
    )];
    if let Some(ind) = Decimal::ONE_HUNDRED.checked_sub(r.common_share_pct) {
        shares.push(("Held individually (%)".to_string(), Cell::Num(ind)));
    }
    Section::with(
        "summary",
        "Summary",
        vec![Block::Table(tab), Block::Fields(shares)],
    )
}

fn trend(r: &WealthReport) -> Section {
    let mut c = Chart::new("Community wealth by year", ChartKind::StackedBars);
    c.x_label = "fiscal year".into();
    c.y_label = r.currency.clone();
    c.categories = r.trend.iter().map(|y| y.fiscal_year.to_string()).collect();
    let amounts = |pick: fn(&TrendYear) -> crate::money::Money| {
        r.trend.iter().map(|y| Some(pick(y).amount())).collect()
    };
    c.series = vec![
        Series::new("members' accounts", amounts(|y| y.member_equity)),
        Series::new("collective reserve", amounts(|y| y.collective_reserve)),
        Series::new("shared assets", amounts(|y| y.shared_assets_nbv)),
    ];
    let mut tab = Table::new(&[
        ("fiscal_year", "Year"),
        ("source", "Source"),
        ("member_equity", "Members"),
        ("collective_reserve", "Reserve"),
        ("shared_assets_nbv", "Shared assets"),
        ("total", "Total"),
        ("common_share_pct", "Common %"),
        ("gini", "Gini"),
        ("contributions", "Contributions"),
        ("allocations", "Allocations"),
        ("redemptions", "Redemptions"),
    ]);
    tab.body(&r.trend, |y| {
        vec![
            t(y.fiscal_year.to_string()),
            t(y.source),
            Cell::Money(y.member_equity),
            Cell::Money(y.collective_reserve),
            Cell::Money(y.shared_assets_nbv),
            Cell::Money(y.total),
            Cell::Num(y.common_share_pct),
            Cell::Num(y.gini),
            Cell::Money(y.contributions),
            Cell::Money(y.allocations),
            Cell::Money(y.redemptions),
        ]
    });
    Section::with("trend", "Trend", vec![Block::Chart(c), Block::Table(tab)])
}

/// The Lorenz curve of the stakes (negative balances count as zero) against the line of
/// equality, at most 101 points. Floats here are chart geometry only.
pub fn lorenz(values: &[i128]) -> Chart {
    let mut x: Vec<i128> = values.iter().map(|v| (*v).max(0)).collect();
    x.sort_unstable();
    let n = x.len();
    let steps = n.clamp(1, 100);
    let mut cum = vec![0f64; n + 1];
    for (i, v) in x.iter().enumerate() {
        cum[i + 1] = cum[i] + *v as f64;
    }
    let total = cum[n];
    let pct = |f: f64| Decimal::from_f64(f * 100.0).map(|d| d.round_dp(2));
    let mut c = Chart::new("Lorenz curve of members' stakes", ChartKind::Lines);
    c.x_label = "share of members".into();
    c.y_label = "share of equity".into();
    c.y_max = Some(Decimal::ONE_HUNDRED);
    c.y_suffix = "%";
    let (mut curve, mut equality) = (Vec::new(), Vec::new());
    for k in 0..=steps {
        let members = k as f64 / steps as f64;
        let i = (members * n as f64).round() as usize;
        let share = if total > 0.0 {
            cum[i.min(n)] / total
        } else {
            0.0
        };
        c.categories.push(format!("{:.0}%", members * 100.0));
        curve.push(pct(share));
        equality.push(pct(members));
    }
    let mut eq = Series::new("line of equality", equality);
    eq.dashed = true;
    eq.colour = Some("#999999");
    c.series = vec![Series::new("stakes", curve), eq];
    c
}

fn stakes(r: &WealthReport) -> Section {
    let figures = vec![
        (
            "Members".to_string(),
            Cell::Int(i64::try_from(r.members.len()).unwrap_or(i64::MAX)),
        ),
        ("Gini".to_string(), Cell::Num(r.gini)),
        ("Top 10% hold (%)".to_string(), Cell::Num(r.top10_share_pct)),
        ("Median".to_string(), Cell::Money(r.median)),
        ("Mean".to_string(), Cell::Money(r.mean)),
    ];
    let values: Vec<i128> = r.members.iter().map(|m| m.equity.to_minor()).collect();
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("equity", "Capital account"),
        ("paid_in", "Paid in"),
        ("outstanding", "Subscribed, unpaid"),
    ]);
    tab.body(&r.members, |m| {
        vec![
            t(&m.member_id),
            t(&m.name),
            Cell::Money(m.equity),
            Cell::Money(m.paid_in),
            Cell::Money(m.outstanding),
        ]
    });
    Section::with(
        "stakes",
        "Individual stakes",
        vec![
            Block::Fields(figures),
            Block::Chart(lorenz(&values)),
            Block::Table(tab),
            Block::Fields(vec![(
                "Subscriptions not yet paid".to_string(),
                Cell::Money(r.outstanding_subscriptions),
            )]),
        ],
    )
}

fn assets(r: &WealthReport) -> Section {
    let mut tab = Table::new(&[
        ("asset_id", "Asset"),
        ("name", "Name"),
        ("unit", "Unit"),
        ("funding", "Funding"),
        ("locked", "Locked"),
        ("cost", "Cost"),
        ("depreciation", "Depreciation (year)"),
        ("nbv", "NBV"),
    ]);
    tab.body(&r.assets, |a| {
        vec![
            t(&a.asset_id),
            t(&a.name),
            t(&a.unit),
            t(&a.funding),
            Cell::Bool(a.locked),
            Cell::Money(a.cost),
            Cell::Money(a.row.depreciation),
            Cell::Money(a.row.closing_nbv),
        ]
    });
    Section::with("assets", "Shared assets", vec![Block::Table(tab)])
}

pub fn doc(r: &WealthReport) -> Doc {
    let mut d = Doc::new(
        "wealth",
        format!(
            "Community wealth: {} — fiscal year {}",
            r.coop, r.fiscal_year
        ),
    );
    d.header = vec![
        ("Cooperative".into(), t(&r.coop)),
        ("Fiscal year".into(), t(r.fiscal_year.to_string())),
        ("Currency".into(), t(&r.currency)),
    ];
    d.sections.push(summary(r));
    d.sections.push(trend(r));
    d.push_primary(stakes(r), 2);
    if !r.assets.is_empty() {
        d.sections.push(assets(r));
    }
    if !r.notes.is_empty() {
        d.sections.push(Section::with(
            "notes",
            "Notes",
            r.notes.iter().map(|n| Block::Note(n.clone())).collect(),
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lorenz_of_equal_and_skewed_stakes_near_the_top_of_the_money_range() {
        let big = 79_228_162_514_264_337_593_543_950_i128;
        let equal = lorenz(&vec![big; 100_000]);
        assert_eq!(equal.categories.len(), 101);
        // equal stakes: the curve is the line of equality
        assert_eq!(equal.series[0].values, equal.series[1].values);
        let skewed = lorenz(&[0, 0, 0, 100]);
        assert_eq!(skewed.categories, ["0%", "25%", "50%", "75%", "100%"]);
        let v: Vec<String> = skewed.series[0]
            .values
            .iter()
            .map(|x| x.unwrap().to_string())
            .collect();
        assert_eq!(v, ["0", "0", "0", "0", "100"]);
        assert!(!crate::render::chart::svg(&lorenz(&[])).contains("NaN"));
    }
}
