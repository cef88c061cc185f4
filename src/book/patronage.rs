//! The patronage ledger, aggregated per (fiscal year, member, unit, measure).
//!
//! [`fold`] is the plain-Rust reference: it streams `patronage.csv` row by row, validates every
//! row with its line and column, and sums. [`crate::frame`] computes the same totals with polars
//! for large ledgers; the two are compared in tests (the fold is the oracle).
//!
//! Rules shared by both:
//! - a row belongs to the fiscal year its date falls in (see [`super::config::fiscal_year_of`]);
//! - an empty `member_id` is non-member business;
//! - a member's row dated outside their membership (before `joined`, after `left`) is reported
//!   (E0305: an error, or a warning under `activity_outside_membership = "warning"`) and counted
//!   as non-member business, since the patron was not a member then;
//! - amounts are held as integers in units of 10^-[`SCALE`]; money measures may not have more
//!   decimals than the currency, other measures (hours, quantity) at most [`SCALE`].

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::config::fiscal_year_of;
use super::csvin::{self, opt, req, Col};
use super::{Book, Member, PATRONAGE};
use crate::diag::{Diagnostic, Diagnostics, Severity};

/// Decimals kept for patronage amounts.
pub const SCALE: u32 = 4;

/// Measures counted in money (their amounts obey the currency's minor units).
pub const MONEY_MEASURES: &[&str] = &["wages", "purchases", "sales", "value", "capital"];

pub const COLS: &[Col] = &[
    req("date"),
    opt("member_id"),
    req("unit"),
    req("measure"),
    req("amount"),
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActivityKey {
    pub fiscal_year: i32,
    /// empty for non-member business
    pub member_id: String,
    pub unit: String,
    pub measure: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTotal {
    pub key: ActivityKey,
    /// the sum in units of 10^-SCALE
    pub amount: i128,
    pub rows: u64,
}

impl ActivityTotal {
    pub fn amount_decimal(&self) -> Decimal {
        Decimal::try_from_i128_with_scale(self.amount, SCALE).unwrap_or(Decimal::MAX)
    }
}

/// Totals sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub totals: Vec<ActivityTotal>,
}

impl Activity {
    pub fn from_map(map: BTreeMap<ActivityKey, (i128, u64)>) -> Self {
        Activity {
            totals: map
                .into_iter()
                .map(|(key, (amount, rows))| ActivityTotal { key, amount, rows })
                .collect(),
        }
    }

    /// Totals of one fiscal year.
    pub fn year(&self, fy: i32) -> impl Iterator<Item = &ActivityTotal> {
        self.totals.iter().filter(move |t| t.key.fiscal_year == fy)
    }

    pub fn years(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.totals.iter().map(|t| t.key.fiscal_year).collect();
        v.dedup();
        v
    }
}

/// Parses a patronage amount into units of 10^-SCALE. `Err` holds the diagnostic code and hint.
pub fn parse_amount(t: &str, max_decimals: u32) -> Result<i128, (&'static str, String)> {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let well_formed = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|b| *b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return Err((
            "E0203",
            "write amounts as plain decimals, e.g. 12.50".into(),
        ));
    }
    let d = Decimal::from_str_exact(t).map_err(|_| {
        (
            "E0205",
            "amounts are limited to about 28 significant digits".to_string(),
        )
    })?;
    let d = if d.scale() > max_decimals {
        d.normalize()
    } else {
        d
    };
    if d.scale() > max_decimals {
        return Err((
            "E0204",
            format!("round the amount to {max_decimals} decimals"),
        ));
    }
    let mut x = d;
    x.rescale(SCALE);
    if x.scale() != SCALE {
        return Err((
            "E0205",
            "amounts are limited to about 28 significant digits".into(),
        ));
    }
    Ok(x.mantissa())
}

/// Streams `patronage.csv`, validating every row, and sums per key. Rows with errors are left out
/// of the totals (and reported).
pub fn fold(book: &Book) -> (Activity, Diagnostics) {
    let mut diags = Diagnostics::new();
    let path = book.patronage_path();
    let file = book.display(PATRONAGE);
    let f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            diags.push(
                Diagnostic::error("E0001", &file, 0, 0)
                    .msg(format!("cannot read the file: {e}"))
                    .hint("check that patronage.csv exists and is readable"),
            );
            return (Activity::default(), diags);
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, f);
    let Some(mut table) = csvin::open(reader, &file, COLS, &mut diags) else {
        return (Activity::default(), diags);
    };
    let members: HashMap<&str, &Member> = book.members.iter().map(|m| (m.id.as_str(), m)).collect();
    let cfg = &book.config;
    let fye = cfg.fiscal_year_end;
    let money_decimals = cfg.currency.minor_units();
    let warn_outside = cfg.policy.activity_outside_membership == super::config::Strictness::Warning;
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
                    "E0303",
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
                    "E0307",
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
                            "E0206",
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
                            "E0302",
                            format!("unknown member `{id}`"),
                            format!("add `{id}` to members.csv, or leave member_id empty for non-member business"),
                        ));
                        ok = false;
                    }
                    Some(m) if !m.member_on(date) => {
                        let mut diag = row.problem(
                            0,
                            "E0305",
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
            Diagnostic::error("E0205", &file, 0, 0)
                .msg("a total of patronage amounts overflows")
                .hint("amounts this large cannot be real patronage; check the file"),
        );
    }
    let sorted: BTreeMap<ActivityKey, (i128, u64)> = sums.into_iter().collect();
    (Activity::from_map(sorted), diags)
}

/// First and last day of fiscal year `fy` for a year end of (month, day).
pub fn bounds(fy: i32, fye: (u32, u32)) -> Option<(NaiveDate, NaiveDate)> {
    super::config::fiscal_year_bounds(fy, fye)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12.5", 2), Ok(125_000));
        assert_eq!(parse_amount("7.25", 4), Ok(72_500));
        assert_eq!(parse_amount("1.000", 2), Ok(10_000));
        assert_eq!(parse_amount("1.005", 2).unwrap_err().0, "E0204");
        assert_eq!(parse_amount("1e3", 2).unwrap_err().0, "E0203");
        assert_eq!(parse_amount("abc", 2).unwrap_err().0, "E0203");
        assert_eq!(
            parse_amount("999999999999999999999999999999", 2)
                .unwrap_err()
                .0,
            "E0205"
        );
    }
}
