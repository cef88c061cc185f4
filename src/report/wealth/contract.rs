//! The machine formats of the community-wealth report, serializations of the typed
//! [`WealthReport`]: the JSON contract and the long ("tidy") CSV.

use std::io::{self, Write};

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::WealthReport;
use crate::money::Money;
use crate::render::escape::csv_field;

/// The JSON contract: money and percentages as strings.
pub fn to_json(r: &WealthReport) -> Value {
    let s = |m: &Money| Value::String(m.to_string());
    let d = |x: &Decimal| Value::String(x.to_string());
    json!({
        "fiscal_year": r.fiscal_year,
        "currency": r.currency,
        "member_equity": s(&r.member_equity),
        "collective_reserve": s(&r.collective_reserve),
        "shared_assets_nbv": s(&r.shared_assets_nbv),
        "locked_assets_nbv": s(&r.locked_assets_nbv),
        "total": s(&r.total),
        "common_share_pct": d(&r.common_share_pct),
        "gini": d(&r.gini),
        "top10_share_pct": d(&r.top10_share_pct),
        "members": r.members.iter().map(|m| json!({
            "member_id": m.member_id,
            "equity": s(&m.equity),
            "paid_in": s(&m.paid_in),
            "subscribed": s(&m.subscribed),
            "outstanding": s(&m.outstanding),
        })).collect::<Vec<_>>(),
        "coop": r.coop,
        "unlocked_assets_nbv": s(&r.unlocked_assets_nbv),
        "common": s(&r.common),
        "median": s(&r.median),
        "mean": s(&r.mean),
        "outstanding_subscriptions": s(&r.outstanding_subscriptions),
        "trend": r.trend.iter().map(|t| json!({
            "fiscal_year": t.fiscal_year,
            "source": t.source,
            "member_equity": s(&t.member_equity),
            "collective_reserve": s(&t.collective_reserve),
            "shared_assets_nbv": s(&t.shared_assets_nbv),
            "total": s(&t.total),
            "common_share_pct": d(&t.common_share_pct),
            "gini": d(&t.gini),
            "contributions": s(&t.contributions),
            "allocations": s(&t.allocations),
            "redemptions": s(&t.redemptions),
        })).collect::<Vec<_>>(),
        "assets": r.assets.iter().map(|a| json!({
            "asset_id": a.asset_id,
            "name": a.name,
            "unit": a.unit,
            "funding": a.funding,
            "locked": a.locked,
            "cost": s(&a.cost),
            "depreciation": s(&a.depreciation),
            "nbv": s(&a.nbv),
        })).collect::<Vec<_>>(),
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
        for (k, v) in [
            ("equity", m.equity),
            ("paid_in", m.paid_in),
            ("subscribed", m.subscribed),
            ("outstanding", m.outstanding),
        ] {
            put("member", &fy, &m.member_id, k, v.to_string());
        }
    }
    for y in &r.trend {
        let fy = y.fiscal_year.to_string();
        for (k, v) in [
            ("member_equity", y.member_equity.to_string()),
            ("collective_reserve", y.collective_reserve.to_string()),
            ("shared_assets_nbv", y.shared_assets_nbv.to_string()),
            ("total", y.total.to_string()),
            ("common_share_pct", y.common_share_pct.to_string()),
            ("gini", y.gini.to_string()),
            ("contributions", y.contributions.to_string()),
            ("allocations", y.allocations.to_string()),
            ("redemptions", y.redemptions.to_string()),
        ] {
            put("trend", &fy, "", k, v);
        }
    }
    for a in &r.assets {
        for (k, v) in [
            ("cost", a.cost),
            ("depreciation", a.depreciation),
            ("nbv", a.nbv),
        ] {
            put("asset", &fy, &a.asset_id, k, v.to_string());
        }
    }
    writeln!(out, "section,fiscal_year,id,measure,value")?;
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}
