//! The machine formats of the community-wealth report, serializations of the typed
//! [`WealthReport`]: the JSON contract and the long ("tidy") CSV.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{Stake, TrendYear, WealthReport};
use crate::engine::assets::RegisterLine;
use crate::money::Money;
use crate::render::escape::csv_field;

/// A list of (measure, value) pairs, values exact as strings: the same names and order in the
/// JSON contract and the tidy CSV.
type Measures<const N: usize> = [(&'static str, String); N];

fn member_measures(m: &Stake) -> Measures<4> {
    [
        ("equity", m.equity.to_string()),
        ("paid_in", m.paid_in.to_string()),
        ("subscribed", m.subscribed.to_string()),
        ("outstanding", m.outstanding.to_string()),
    ]
}

fn trend_measures(y: &TrendYear) -> Measures<9> {
    [
        ("member_equity", y.member_equity.to_string()),
        ("collective_reserve", y.collective_reserve.to_string()),
        ("shared_assets_nbv", y.shared_assets_nbv.to_string()),
        ("total", y.total.to_string()),
        ("common_share_pct", y.common_share_pct.to_string()),
        ("gini", y.gini.to_string()),
        ("contributions", y.contributions.to_string()),
        ("allocations", y.allocations.to_string()),
        ("redemptions", y.redemptions.to_string()),
    ]
}

fn asset_measures(a: &RegisterLine) -> Measures<3> {
    [
        ("cost", a.cost.to_string()),
        ("depreciation", a.row.depreciation.to_string()),
        ("nbv", a.row.closing_nbv.to_string()),
    ]
}

/// A JSON object of the `lead` fields followed by the `measures` as strings, in order.
fn object<const N: usize>(lead: Vec<(&str, Value)>, measures: Measures<N>) -> Value {
    let mut o = serde_json::Map::new();
    for (k, v) in lead {
        o.insert(k.to_string(), v);
    }
    for (k, v) in measures {
        o.insert(k.to_string(), Value::String(v));
    }
    Value::Object(o)
}

/// The JSON contract: money and percentages as strings.
pub fn to_json(r: &WealthReport) -> Value {
    let s = |m: &Money| Value::String(m.to_string());
    let members: Vec<Value> = r
        .members
        .iter()
        .map(|m| object(vec![("member_id", json!(m.member_id))], member_measures(m)))
        .collect();
    let trend: Vec<Value> = r
        .trend
        .iter()
        .map(|t| {
            let lead = vec![
                ("fiscal_year", json!(t.fiscal_year)),
                ("source", json!(t.source)),
            ];
            object(lead, trend_measures(t))
        })
        .collect();
    let assets: Vec<Value> = r
        .assets
        .iter()
        .map(|a| {
            let lead = vec![
                ("asset_id", json!(a.asset_id)),
                ("name", json!(a.name)),
                ("unit", json!(a.unit)),
                ("funding", json!(a.funding)),
                ("locked", json!(a.locked)),
            ];
            object(lead, asset_measures(a))
        })
        .collect();
    json!({
        "fiscal_year": r.fiscal_year,
        "currency": r.currency,
        "member_equity": s(&r.member_equity),
        "collective_reserve": s(&r.collective_reserve),
        "shared_assets_nbv": s(&r.shared_assets_nbv),
        "locked_assets_nbv": s(&r.locked_assets_nbv),
        "total": s(&r.total),
        "common_share_pct": r.common_share_pct.to_string(),
        "gini": r.gini.to_string(),
        "top10_share_pct": r.top10_share_pct.to_string(),
        "members": members,
        "coop": r.coop,
        "unlocked_assets_nbv": s(&r.unlocked_assets_nbv),
        "common": s(&r.common),
        "median": s(&r.median),
        "mean": s(&r.mean),
        "outstanding_subscriptions": s(&r.outstanding_subscriptions),
        "trend": trend,
        "assets": assets,
        "notes": r.notes,
    })
}

/// The long ("tidy") CSV: `section,fiscal_year,id,measure,value`, money exact.
pub fn tidy_csv(r: &WealthReport, out: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let fy = r.fiscal_year.to_string();
    let mut put = |sec: &str, y: &str, id: &str, k: &str, v: String| {
        rows.push([sec.into(), y.into(), id.into(), k.into(), v]);
    };
    for (k, v) in [
        ("member_equity", r.member_equity.to_string()),
        ("collective_reserve", r.collective_reserve.to_string()),
        ("shared_assets_nbv", r.shared_assets_nbv.to_string()),
        ("locked_assets_nbv", r.locked_assets_nbv.to_string()),
        ("unlocked_assets_nbv", r.unlocked_assets_nbv.to_string()),
        ("total", r.total.to_string()),
        ("common", r.common.to_string()),
        ("common_share_pct", r.common_share_pct.to_string()),
        ("gini", r.gini.to_string()),
        ("top10_share_pct", r.top10_share_pct.to_string()),
        ("median", r.median.to_string()),
        ("mean", r.mean.to_string()),
        (
            "outstanding_subscriptions",
            r.outstanding_subscriptions.to_string(),
        ),
    ] {
        put("summary", &fy, "", k, v);
    }
    for m in &r.members {
        for (k, v) in member_measures(m) {
            put("member", &fy, &m.member_id, k, v);
        }
    }
    for y in &r.trend {
        let fy = y.fiscal_year.to_string();
        for (k, v) in trend_measures(y) {
            put("trend", &fy, "", k, v);
        }
    }
    for a in &r.assets {
        for (k, v) in asset_measures(a) {
            put("asset", &fy, &a.asset_id, k, v);
        }
    }
    writeln!(out, "section,fiscal_year,id,measure,value")?;
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}
