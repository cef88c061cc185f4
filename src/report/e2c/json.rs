//! The JSON of an E2C run: the serialization of the typed report data, a machine contract
//! (`scenario, currency, years[{year, holders, segments, cash_required, capacity}],
//! metrics{time_to_majority, investors, gini, hhi, effective_owners}` first, then additive keys).
//! Percentages and money are strings. It is not a rendering of the document.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::e2c::lens::YearView;
use crate::e2c::E2cReport;
use crate::money::fixed;

/// Money for machines: fixed minor units, no grouping (`"1234.50"`).
fn money(d: Decimal, r: &E2cReport) -> String {
    fixed(d, r.minor_units)
}
/// Percent for machines: 4 decimals, no sign (`"19.3548"`).
fn pct(d: Decimal) -> String {
    fixed(d, 4)
}
fn moic(d: Option<Decimal>) -> String {
    d.map_or_else(|| "n/a".to_string(), |x| fixed(x, 4))
}
/// IRR in percent, 4 decimals, or `n/a`.
fn irr(d: Option<Decimal>) -> String {
    d.and_then(|x| x.checked_mul(Decimal::ONE_HUNDRED))
        .map_or_else(|| "n/a".to_string(), |x| fixed(x, 4))
}

fn year(r: &E2cReport, y: &YearView) -> Value {
    let holders: Vec<Value> = y
        .holders
        .iter()
        .map(|h| {
            json!({
                "holder_id": h.holder_id,
                "segment": h.segment,
                "votes_pct": pct(h.votes_pct),
                "economic_pct": pct(h.economic_pct),
                "legal_pct": pct(h.legal_pct),
                "claim": money(h.claim, r),
                "name": h.name,
                "community": h.community,
                "members": h.members,
                "units": fixed(h.units, 2),
                "votes": fixed(h.votes, 2),
                "board_pct": pct(h.board_pct),
            })
        })
        .collect();
    let segments: Vec<Value> = y
        .segments
        .iter()
        .map(|s| {
            json!({
                "segment": s.segment,
                "community": s.community,
                "votes_pct": pct(s.votes_pct),
                "economic_pct": pct(s.economic_pct),
                "legal_pct": pct(s.legal_pct),
                "holders": s.holders,
                "claim": money(s.claim, r),
            })
        })
        .collect();
    let payments: Vec<Value> = y
        .payments
        .iter()
        .map(|p| json!({"route": p.route, "kind": p.kind, "holder_id": p.holder, "amount": money(p.amount, r)}))
        .collect();
    let conc: serde_json::Map<String, Value> = y
        .concentration
        .iter()
        .map(|(l, c)| {
            (
                (*l).to_string(),
                json!({
                    "gini": fixed(c.gini, 4),
                    "hhi": fixed(c.hhi, 2),
                    "effective_owners": fixed(c.effective_owners, 2),
                    "owners": c.owners,
                }),
            )
        })
        .collect();
    json!({
        "year": y.t,
        "holders": holders,
        "segments": segments,
        "cash_required": money(y.cash_required, r),
        "capacity": money(y.capacity, r),
        "label": r.year_label(y.t),
        "shortfall": y.shortfall,
        "valuation": y.valuation.map(|v| money(v, r)),
        "community": {
            "votes_pct": pct(y.community.votes),
            "economic_pct": pct(y.community.economic),
            "legal_pct": pct(y.community.legal),
            "economic_instrument_pct": pct(y.community_instrument_economic),
        },
        "payments": payments,
        "vetoes": y.vetoes.iter().map(|(h, m)| json!({"holder_id": h, "matters": m})).collect::<Vec<_>>(),
        "banzhaf": y.banzhaf.as_ref().map(|b| b.iter().map(|(h, p)| json!({"holder_id": h, "power": fixed(*p, 4)})).collect::<Vec<_>>()),
        "concentration": conc,
        "bonuses": y.bonuses.iter().map(|b| json!({
            "employee": b.employee,
            "by_pay": money(b.by_pay, r),
            "by_service": money(b.by_service, r),
            "by_hours": money(b.by_hours, r),
            "total": money(b.total, r),
            "tax_free": money(b.tax_free, r),
            "taxable": money(b.taxable, r),
        })).collect::<Vec<_>>(),
        "notes": y.notes,
    })
}

/// One scenario run as a JSON value.
pub fn value(r: &E2cReport) -> Value {
    let m = &r.metrics;
    json!({
        "scenario": r.scenario,
        "currency": r.currency,
        "years": r.years.iter().map(|y| year(r, y)).collect::<Vec<_>>(),
        "metrics": {
            "time_to_majority": {
                "votes": m.time_to_majority_votes,
                "economic": m.time_to_majority_economic,
                "legal": m.time_to_majority_legal,
                "economic_instrument": m.time_to_majority_economic_instrument,
            },
            "investors": m.investors.iter().map(|i| json!({
                "holder_id": i.holder_id,
                "paid": money(i.paid, r),
                "moic": moic(i.moic),
                "irr": irr(i.irr),
                "segment": i.segment,
                "invested": money(i.invested, r),
                "outstanding": money(i.outstanding, r),
                "irr_with_outstanding": irr(i.irr_with_outstanding),
            })).collect::<Vec<_>>(),
            "gini": fixed(m.gini, 4),
            "hhi": fixed(m.hhi, 2),
            "effective_owners": fixed(m.effective_owners, 2),
            "concentration_basis": "final year, economic lens, holders with a positive claim",
            "full_buyout": m.full_buyout,
            "total_cash_required": money(m.total_cash_required, r),
            "shortfall_years": m.shortfall_years,
        },
        "before": r.before.iter().map(|b| json!({
            "holder_id": b.holder_id,
            "segment": b.segment,
            "votes_pct": pct(b.votes_pct),
            "legal_pct": pct(b.legal_pct),
        })).collect::<Vec<_>>(),
        "file": r.file,
        "description": r.description,
        "start_year": r.start_year,
        "routes": r.routes,
        "community_segments": r.community_segments,
        "assumptions": r.assumptions.iter().map(|(k, v)| (k.clone(), json!(v.iter().map(|x| money(*x, r)).collect::<Vec<_>>()))).collect::<serde_json::Map<String, Value>>(),
    })
}

/// Several runs side by side: `{"scenarios": [..]}`, each as [`value`].
pub fn compare_value(rs: &[E2cReport]) -> Value {
    json!({ "scenarios": rs.iter().map(value).collect::<Vec<_>>() })
}

/// The bytes of `-O json`: pretty-printed, with a final newline.
pub fn to_bytes(v: &Value) -> serde_json::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v)?;
    out.push(b'\n');
    Ok(out)
}
