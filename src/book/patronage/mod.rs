//! The patronage ledger, aggregated per (fiscal year, member, unit, measure).
//!
//! [`activity`] is the door: it asks the fastest engine that can answer and falls back to the fold.
//! The engines, one file each:
//! - [`fold`] (`fold.rs`), the plain-Rust reference: it streams `patronage.csv` row by row,
//!   validates every row with its line and column, and sums; it is the oracle of the tests;
//! - [`scan::scan`] (`scan.rs`), the parallel byte scanner for clean files without quotes;
//! - [`self::polars::activity`] (`polars.rs`), polars' streaming group-by, the only code that
//!   imports polars;
//! - `rows.rs`, the row checks the fast engines share (amount parser, key packing, header check).
//!
//! Rules shared by all:
//! - a row belongs to the fiscal year its date falls in (see [`super::config::fiscal_year_of`]);
//! - an empty `member_id` is non-member business;
//! - a member's row dated outside their membership (before `joined`, after `left`) is reported
//!   (E0305: an error, or a warning under `activity_outside_membership = "warning"`) and counted
//!   as non-member business, since the patron was not a member then;
//! - amounts are held as integers in units of 10^-[`SCALE`]; money measures may not have more
//!   decimals than the currency, other measures (hours, quantity) at most [`SCALE`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::csvin::{opt, req, Col};
use super::Book;
use crate::diag::Diagnostics;

pub mod fold;
pub mod polars;
pub mod rows;
pub mod scan;

pub use fold::fold;
pub use rows::parse_amount;

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

/// Why the fast path could not answer; the caller falls back to [`fold`].
#[derive(Debug, thiserror::Error)]
pub enum FastError {
    #[error("the polars path is turned off (COOPLEDGER_NO_POLARS=1)")]
    Disabled,
    #[error("cannot read `{0}`: {1}")]
    Io(String, std::io::Error),
    #[error("the header of `{0}` needs the row-by-row reader: {1}")]
    Header(String, String),
    #[error("a total of patronage amounts could overflow")]
    Overflow,
    #[error("the book is too large for the packed group key: {0}")]
    Unsupported(String),
    #[error("polars: {0}")]
    Polars(String),
}

/// The totals and how many rows the fold would report (errors or E0305).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastActivity {
    /// identical to the fold's totals when `problem_rows == 0`
    pub activity: Activity,
    pub problem_rows: u64,
}

/// The year's patronage activity of a valid book, with any problems in its rows.
/// Uses the fast engines when the ledger is clean and the located row-by-row fold otherwise.
pub fn activity(b: &Book) -> (Activity, Diagnostics) {
    let (a, mut diags) = match fast_activity(b) {
        Ok(r) if r.problem_rows == 0 => (r.activity, Diagnostics::new()),
        _ => fold(b),
    };
    diags.extend(oversized_totals(b, &a));
    (a, diags)
}

/// A total beyond the exact decimal range (E0205), which no later step could hold: reported by
/// its key instead of being clamped to the largest decimal.
pub fn oversized_totals(b: &Book, a: &Activity) -> Diagnostics {
    let file = b.display(super::PATRONAGE);
    a.totals
        .iter()
        .filter(|t| Decimal::try_from_i128_with_scale(t.amount, SCALE).is_err())
        .map(|t| {
            let k = &t.key;
            let who = if k.member_id.is_empty() {
                "non-member business".to_string()
            } else {
                format!("`{}`", k.member_id)
            };
            crate::diag::Diagnostic::error(crate::diag::code::E0205, &file, 0, 0)
                .msg(format!(
                    "the `{}` of {who} in unit `{}`, fiscal year {}, sums to more than the largest amount",
                    k.measure, k.unit, k.fiscal_year
                ))
                .hint("amounts and their totals are limited to about 28 significant digits (docs/ERRORS.md, Limits)")
        })
        .collect()
}

/// The fastest engine that can answer: [`scan::scan`], else the polars [`self::polars::activity`].
/// A ledger over [`super::csvin::MAX_ROWS`] rows is refused (the fold reports E0006 where the
/// limit is passed).
pub fn fast_activity(book: &Book) -> Result<FastActivity, FastError> {
    let r = match scan::scan(book) {
        Ok(r) if r.problem_rows == 0 => r,
        _ => self::polars::activity(book)?,
    };
    let rows = r
        .activity
        .totals
        .iter()
        .fold(r.problem_rows, |n, t| n.saturating_add(t.rows));
    if rows > super::csvin::MAX_ROWS {
        return Err(FastError::Unsupported(format!(
            "{rows} rows, over the limit of {}",
            super::csvin::MAX_ROWS
        )));
    }
    Ok(r)
}

/// First and last day of fiscal year `fy` for a year end of (month, day).
pub fn bounds(fy: i32, fye: (u32, u32)) -> Option<(NaiveDate, NaiveDate)> {
    super::config::fiscal_year_bounds(fy, fye)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::code;

    const TOML: &str = r#"
schema = 1
name = "T"
kind = "consumer"
currency = "USD"
fiscal_year_end = "06-30"

[[units]]
id = "grocery"
measures = { purchases = "1" }

[[units]]
id = "deli"
measures = { purchases = "0.5", hours = "0.5" }
"#;

    const MEMBERS: &str = "member_id,name,class,joined,left,status,birth_date\n\
        M1,A,member,2020-01-01,,active,\n\
        M2,B,member,2020-01-01,2024-09-30,left,\n\
        M3,C,member,2024-08-15,,active,\n";

    fn book(patronage: &[u8]) -> (tempfile::TempDir, Book) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("coop.toml"), TOML).unwrap();
        std::fs::write(dir.path().join("members.csv"), MEMBERS).unwrap();
        std::fs::write(dir.path().join("patronage.csv"), patronage).unwrap();
        std::fs::write(
            dir.path().join("results.csv"),
            "fiscal_year,unit,line,amount\n",
        )
        .unwrap();
        let (b, d) = crate::book::load(dir.path());
        assert!(!d.has_errors(), "{:?}", d.into_sorted());
        (dir, b.unwrap())
    }

    /// The frame agrees with the fold; returns (problem rows, fold error-or-E0305 count).
    fn compare(patronage: &[u8]) -> (u64, usize) {
        let (_dir, b) = book(patronage);
        let (fold, diags) = fold(&b);
        let fr = self::polars::activity(&b)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(patronage)));
        let reported = diags
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error || d.code == code::E0305)
            .count();
        // the parallel scan agrees with the fold too, or declines (quoted fields)
        if let Ok(sc) = scan::scan(&b) {
            assert_eq!(
                sc.problem_rows == 0,
                reported == 0,
                "{}",
                String::from_utf8_lossy(patronage)
            );
            if sc.problem_rows == 0 {
                assert_eq!(sc.activity, fold, "{}", String::from_utf8_lossy(patronage));
            }
        }
        if fr.problem_rows == 0 {
            assert_eq!(fr.activity, fold, "{}", String::from_utf8_lossy(patronage));
        }
        (fr.problem_rows, reported)
    }

    #[test]
    fn clean_rows_agree() {
        // 3.333 has too many decimals for purchases: one problem row; 3.33 is clean
        for (amount, want) in [("3.333", (1, 1)), ("3.33", (0, 0))] {
            let text = format!(
                "date,member_id,unit,measure,amount\n\
                 2024-07-01,M1,grocery,purchases,12.50\n\
                 2024-06-30,M1,grocery,purchases,1\n\
                 2024-07-02,,grocery,purchases,{amount}\n\
                 2024-08-15,M3,deli,hours,1.2500\n\
                 2025-01-01,M3,deli,purchases,007.10\n\
                 2024-09-30,M2,deli,purchases,1.000\n"
            );
            assert_eq!(compare(text.as_bytes()), want, "{amount}");
        }
    }

    #[test]
    fn quirks_bom_crlf_quotes_order_extra_columns() {
        let (p, r) = compare(
            b"\xEF\xBB\xBFAmount,x_note,unit,Member_ID,measure,date\r\n\
              12.50,\"a, b\",grocery,M1,purchases,2024-07-01\r\n\
              \"3.00\",,\"grocery\",,purchases,2024-07-02\r\n\
              \" 4.00 \",x,grocery, M1 ,purchases,2024-07-03\r\n",
        );
        assert_eq!((p, r), (0, 0));
        let (_d, b) = book(b"date,member_id,unit,measure,amount\r\n2024-07-01,M1,grocery,purchases,12.50\r\n2024-07-02,,grocery,purchases,1\r\n");
        let fr = self::polars::activity(&b).unwrap();
        assert_eq!(fr.problem_rows, 0);
        assert_eq!(fr.activity.totals.len(), 2);
        assert_eq!(fr.activity.totals[0].key.member_id, "");
        assert_eq!(fr.activity.totals[1].amount, 125_000);
    }

    #[test]
    fn planted_problems_are_counted() {
        let rows = [
            "2024-02-30,M1,grocery,purchases,1.00",  // impossible date
            "01/02/2024,M1,grocery,purchases,1.00",  // not a date
            ",M1,grocery,purchases,1.00",            // empty date
            "2024-07-01,M9,grocery,purchases,1.00",  // unknown member
            "2024-07-01,M1,bakery,purchases,1.00",   // unknown unit
            "2024-07-01,M1,grocery,hours,1.00",      // measure not used by the unit
            "2024-07-01,M1,grocery,purchases,1e3",   // bad amount
            "2024-07-01,M1,grocery,purchases,1.005", // too many decimals
            "2024-07-01,M1,deli,hours,1.00005",      // too many decimals (hours)
            "2024-07-01,M1,grocery,purchases,-1.00", // negative
            "2024-07-01,M3,grocery,purchases,1.00",  // before M3 joined
            "2024-10-01,M2,grocery,purchases,1.00",  // after M2 left
            "2024-07-01,M1,grocery",                 // short row
            "2024-07-01,M1,grocery,purchases,",      // empty amount
            "2024-07-01,M1,,purchases,1.00",         // empty unit
        ];
        for row in rows {
            let text = format!(
                "date,member_id,unit,measure,amount\n2024-07-01,M1,grocery,purchases,2.00\n{row}\n"
            );
            let (p, r) = compare(text.as_bytes());
            assert_eq!((p, r), (1, 1), "{row}");
        }
    }

    /// An unquoted thousands separator splits the amount into two fields: no engine may read
    /// `3,064.50` as 3 (or `3064,50` as 3064); the fold reports the row and no fast path vouches
    /// for the file.
    #[test]
    fn a_row_with_a_field_too_many_is_never_cut_to_fit() {
        for row in [
            "2024-07-01,M1,grocery,purchases,3,064.50",
            "2024-07-01,M1,grocery,purchases,3064,50",
            "2024-07-01,M1,grocery,purchases,3.00,",
        ] {
            let text = format!(
                "date,member_id,unit,measure,amount\n2024-07-01,M1,grocery,purchases,2.00\n{row}\n"
            );
            let (_d, b) = book(text.as_bytes());
            let (_, diags) = fold(&b);
            let d = diags.into_sorted();
            assert_eq!(d.len(), 1, "{row}: {d:?}");
            assert_eq!(
                (d[0].code, d[0].line, d[0].column),
                (code::E0004, 3, 6),
                "{row}"
            );
            assert!(
                !matches!(fast_activity(&b), Ok(r) if r.problem_rows == 0),
                "{row}"
            );
            if let Ok(sc) = scan::scan(&b) {
                assert_eq!(sc.problem_rows, 1, "{row}");
            }
            if let Ok(fr) = self::polars::activity(&b) {
                assert!(fr.problem_rows > 0, "{row}");
            }
            let (act, diags) = activity(&b);
            assert!(diags.has_errors(), "{row}");
            assert!(act.totals.iter().all(|t| t.amount != 30_000), "{row}");
        }
    }

    /// Two amounts at the top of the range: each is read, their total is beyond any decimal and
    /// is reported (E0205) instead of clamped to the largest one.
    #[test]
    fn a_total_beyond_the_decimal_range_is_reported_not_clamped() {
        let big = "7922816251426433759354395.0335";
        let text = format!(
            "date,member_id,unit,measure,amount\n2024-07-01,M1,deli,hours,{big}\n2024-07-02,M1,deli,hours,{big}\n"
        );
        let (_d, b) = book(text.as_bytes());
        let (_, diags) = activity(&b);
        let d = diags.into_sorted();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, code::E0205);
        assert!(
            d[0].message
                .contains("`hours` of `M1` in unit `deli`, fiscal year 2025"),
            "{}",
            d[0].message
        );
        let mut diags = Diagnostics::new();
        crate::book::check_patronage_rows(&b, &mut diags);
        assert_eq!(diags.into_sorted(), d);
    }

    #[test]
    fn blank_lines_and_empty_files() {
        // polars refuses blank lines (it reads them as ragged rows): never accepted, the scan
        // and the fold answer
        let text =
            b"date,member_id,unit,measure,amount\n\n2024-07-01,M1,grocery,purchases,2.00\n\n";
        let (_d, b) = book(text);
        let (fold_totals, diags) = fold(&b);
        assert!(diags.is_empty(), "{:?}", diags.into_sorted());
        if let Ok(fr) = self::polars::activity(&b) {
            assert!(fr.problem_rows > 0);
        }
        let sc = scan::scan(&b).unwrap();
        assert_eq!((sc.problem_rows, &sc.activity), (0, &fold_totals));
        let (p, r) = compare(b"date,member_id,unit,measure,amount\n");
        assert_eq!((p, r), (0, 0));
        let (p, r) = compare(b"date,member_id,unit,measure,amount");
        assert_eq!((p, r), (0, 0));
    }

    #[test]
    fn header_problems_fall_back() {
        for text in [
            &b"date,member,unit,measure,amount\n"[..],
            b"date,unit,measure,amount\n",
            b"date,unit,measure,amount,member_id\n2024-07-01,grocery,purchases,1.00\n",
            b"",
        ] {
            let (_d, b) = book(text);
            assert!(self::polars::activity(&b).is_err());
        }
    }

    #[test]
    fn non_utf8_is_not_a_wrong_answer() {
        let (_d, b) =
            book(b"date,member_id,unit,measure,amount\n2024-07-01,M\xff,grocery,purchases,1.00\n");
        if let Ok(fr) = self::polars::activity(&b) {
            assert!(fr.problem_rows > 0);
        }
    }
}
