//! Member weights for a co-op conversion read from a co-op book (`src/book`): the members'
//! totals of one patronage measure (`hours`, `wages`, `purchases` …) in the book's latest fiscal
//! year, or their paid-in `contributions`.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;

use crate::book;

/// `member_id → weight` from the book at `dir`.
pub fn member_weights(dir: &Path, measure: &str) -> Result<BTreeMap<String, Decimal>, String> {
    let (bk, diags) = crate::ledger::load_book(dir);
    let first_error = |d: &crate::diag::Diagnostics| {
        d.iter()
            .find(|x| x.severity == crate::diag::Severity::Error)
            .map_or_else(|| "the book has errors".to_string(), ToString::to_string)
    };
    let Some(bk) = bk else {
        return Err(first_error(&diags));
    };
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    if measure == "contributions" {
        for c in &bk.contributions {
            let e = out.entry(c.member_id.clone()).or_default();
            *e = e
                .checked_add(c.amount.amount())
                .ok_or("contributions overflow")?;
        }
    } else {
        let (activity, d) = book::patronage::fold(&bk);
        if d.has_errors() {
            return Err(first_error(&d));
        }
        let Some(year) = activity.years().into_iter().max() else {
            return Err("the book has no patronage rows".to_string());
        };
        for t in activity.year(year) {
            if t.key.measure != measure || t.key.member_id.is_empty() {
                continue;
            }
            let e = out.entry(t.key.member_id.clone()).or_default();
            *e = e
                .checked_add(t.amount_decimal())
                .ok_or("patronage overflow")?;
        }
    }
    out.retain(|_, v| *v > Decimal::ZERO);
    if out.is_empty() {
        return Err(format!("no member has any `{measure}` in the book"));
    }
    Ok(out)
}
