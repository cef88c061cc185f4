//! The machine formats of the community-wealth report, serializations of the typed
//! [`WealthReport`]: the JSON contract and the long ("tidy") CSV.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{TrendYear, WealthReport};
use crate::engine::assets::RegisterLine;
use crate::render::escape::csv_field;

/// `[("a", x.a.to_string()), …]` for the fields named: (measure, value) pairs, values exact as
/// strings, the same names and order in the JSON contract and the tidy CSV.
macro_rules! measures {
    ($x:expr; $($f:ident),+ $(,)?) => { [$((stringify!($f), $x.$f.to_string())),+] };
}

fn asset_measures(a: &RegisterLine) -> [(&'static str, String); 3] {
    [
        ("cost", a.cost.to_string()),
        ("depreciation", a.row.depreciation.to_string()),
        ("nbv", a.row.closing_nbv.to_string()),
    ]
}

/// Appends the `(name, value)` pairs to `o`, values as JSON strings.
fn put<const N: usize>(o: &mut Map<String, Value>, pairs: [(&str, String); N]) {
    for (k, v) in pairs {
        o.insert(k.to_string(), Value::String(v));
    }
}

/// A JSON object of the `lead` fields followed by the `measures` as strings, in order.
fn object<const N: usize>(lead: Vec<(&str, Value)>, measures: [(&str, String); N]) -> Value {
    let mut o: Map<String, Value> = lead.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    put(&mut o, measures);
    Value::Object(o)
}

/// The JSON contract: money and percentages as strings.
pub fn to_json(r: &WealthReport) -> Value {
    let members: Vec<Value> = r
        .members
        .iter()
        .map(|m| {
            let lead = vec![("member_id", json!(m.member_id))];
            object(lead, measures!(m; equity, paid_in, subscribed, outstanding))
        })
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
    let mut o = Map::new();
    o.insert("fiscal_year".into(), json!(r.fiscal_year));
    o.insert("currency".into(), json!(r.currency));
    put(
        &mut o,
        measures!(r; member_equity, collective_reserve, shared_assets_nbv,
        locked_assets_nbv, total, common_share_pct, gini, top10_share_pct),
    );
    o.insert("members".into(), Value::Array(members));
    o.insert("coop".into(), json!(r.coop));
    put(
        &mut o,
        measures!(r; unlocked_assets_nbv, common, median, mean, outstanding_subscriptions),
    );
    o.insert("trend".into(), Value::Array(trend));
    o.insert("assets".into(), Value::Array(assets));
    o.insert("notes".into(), json!(r.notes));
    Value::Object(o)
}

fn trend_measures(y: &TrendYear) -> [(&'static str, String); 9] {
    measures!(y; member_equity, collective_reserve, shared_assets_nbv, total, common_share_pct,
        gini, contributions, allocations, redemptions)
}

/// The long ("tidy") CSV: `section,fiscal_year,id,measure,value`, money exact.
pub fn tidy_csv(r: &WealthReport, out: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let fy = r.fiscal_year.to_string();
    let mut row = |sec: &str, y: &str, id: &str, k: &str, v: String| {
        rows.push([sec.into(), y.into(), id.into(), k.into(), v]);
    };
    let summary = measures!(r; member_equity, collective_reserve, shared_assets_nbv,
        locked_assets_nbv, unlocked_assets_nbv, total, common, common_share_pct, gini,
        top10_share_pct, median, mean, outstanding_subscriptions);
    for (k, v) in summary {
        row("summary", &fy, "", k, v);
    }
    for m in &r.members {
        for (k, v) in measures!(m; equity, paid_in, subscribed, outstanding) {
            row("member", &fy, &m.member_id, k, v);
        }
    }
    for y in &r.trend {
        let fy = y.fiscal_year.to_string();
        for (k, v) in trend_measures(y) {
            row("trend", &fy, "", k, v);
        }
    }
    for a in &r.assets {
        for (k, v) in asset_measures(a) {
            row("asset", &fy, &a.asset_id, k, v);
        }
    }
    writeln!(out, "section,fiscal_year,id,measure,value")?;
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}
