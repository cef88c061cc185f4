//! The plain-Rust fold of `patronage.csv`: the reference (oracle) the fast engines are tested
//! against, and the validator that locates every problem row with its line and column.

use std::collections::{BTreeMap, HashMap};

use super::rows::parse_amount;
use super::{Activity, ActivityKey, COLS, MONEY_MEASURES, SCALE};
use crate::book::config::{fiscal_year_of, Strictness};
use crate::book::csvin;
use crate::book::{Book, Member, PATRONAGE};
use crate::diag::code;
use crate::diag::{Diagnostic, Diagnostics, Severity};

/// Streams `patronage.csv`, validating every row, and sums per key. Rows with errors are left out
/// of the totals (and reported).
pub fn fold(book: &Book) -> (Activity, Diagnostics) {
    let mut diags = Diagnostics::new();
    let path = book.patronage_path();
    let file = book.display(PATRONAGE);
    let hint = "check that patronage.csv exists and is readable";
    let Some(f) = csvin::open_file(&path, &file, hint, &mut diags) else {
        return (Activity::default(), diags);
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, f);
    let Some(mut table) = csvin::open(reader, &file, COLS, &mut diags) else {
        return (Activity::default(), diags);
    };
    let members: HashMap<&str, &Member> = book.members.iter().map(|m| (m.id.as_str(), m)).collect();
    let cfg = &book.config;
    let fye = cfg.fiscal_year_end;
    let money_decimals = cfg.currency.minor_units();
    let warn_outside = cfg.policy.activity_outside_membership == Strictness::Warning;
    let mut sums: HashMap<ActivityKey, (i128, u64)> = HashMap::new();
    let mut overflow = false;
    table.for_each(COLS, &mut diags, |row, d| {
        let date = row.date(0, d);
        let member = row.text(1, d);
        let unit = row.required(2, d);
        let measure = row.required(3, d);
        let amount_text = row.required(4, d);
        let mut ok = date.is_some() && member.is_some();
        let unit_cfg = unit.and_then(|u| {
            let c = cfg.unit(u);
            if c.is_none() {
                d.push(row.problem(
                    2,
                    code::E0303,
                    format!("unknown unit `{u}`"),
                    format!(
                        "units in coop.toml: {}",
                        cfg.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            c
        });
        ok &= unit_cfg.is_some();
        if let (Some(u), Some(m)) = (unit_cfg, measure) {
            if !u.measures.iter().any(|(x, _)| x == m) {
                d.push(row.problem(
                    3,
                    code::E0307,
                    format!("unit `{}` does not use the measure `{m}`", u.id),
                    format!(
                        "unit `{}` measures: {}",
                        u.id,
                        u.measures.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
                ok = false;
            }
        }
        ok &= measure.is_some();
        let amount = match (amount_text, measure) {
            (Some(t), Some(m)) => {
                let max = if MONEY_MEASURES.contains(&m) { money_decimals } else { SCALE };
                match parse_amount(t, max) {
                    Ok(a) if a < 0 => {
                        d.push(row.problem(
                            4,
                            code::E0206,
                            format!("`amount` = {t} is negative"),
                            "patronage amounts are zero or more; net returns into the sale they reverse".into(),
                        ));
                        None
                    }
                    Ok(a) => Some(a),
                    Err((code, hint)) => {
                        d.push(row.problem(4, code, format!("`amount` = `{t}` is not a valid amount"), hint));
                        None
                    }
                }
            }
            _ => None,
        };
        let mut member_id = String::new();
        if let (Some(id), Some(date)) = (member, date) {
            if !id.is_empty() {
                match members.get(id) {
                    None if book.broken_member_ids.contains(id) => ok = false,
                    None => {
                        d.push(row.problem(
                            1,
                            code::E0302,
                            format!("unknown member `{id}`"),
                            format!("add `{id}` to members.csv, or leave member_id empty for non-member business"),
                        ));
                        ok = false;
                    }
                    Some(m) if !m.member_on(date) => {
                        let mut diag = row.problem(
                            0,
                            code::E0305,
                            format!(
                                "{date} is outside the membership of `{id}` ({} to {})",
                                m.joined,
                                m.left.map(|l| l.to_string()).unwrap_or_else(|| "now".into())
                            ),
                            "check the date or the member's joined/left dates; under activity_outside_membership = \"warning\" it counts as non-member business".into(),
                        );
                        if warn_outside {
                            diag.severity = Severity::Warning;
                        }
                        d.push(diag);
                    }
                    Some(_) => member_id = id.to_string(),
                }
            }
        }
        if let (true, Some(date), Some(unit), Some(measure), Some(amount)) = (ok, date, unit, measure, amount) {
            let key = ActivityKey {
                fiscal_year: fiscal_year_of(date, fye),
                member_id,
                unit: unit.to_string(),
                measure: measure.to_string(),
            };
            let e = sums.entry(key).or_insert((0, 0));
            match e.0.checked_add(amount) {
                Some(v) => e.0 = v,
                None => overflow = true,
            }
            e.1 += 1;
        }
    });
    if overflow {
        diags.push(
            Diagnostic::error(code::E0205, &file, 0, 0)
                .msg("a total of patronage amounts overflows")
                .hint("amounts this large cannot be real patronage; check the file"),
        );
    }
    let sorted: BTreeMap<ActivityKey, (i128, u64)> = sums.into_iter().collect();
    (Activity::from_map(sorted), diags)
}
