//! The cap table: `captable.csv` with `holder_id,name,segment,class,units,invested,date`.
//! Rows remember their line; every problem is collected.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;

use super::read::code;
use crate::diag::{Diagnostic, Diagnostics};

/// One position on the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapRow {
    pub line: u64,
    pub holder_id: String,
    pub name: String,
    pub segment: String,
    pub class: String,
    pub units: Decimal,
    pub invested: Decimal,
    pub date: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapTable {
    pub file: String,
    pub rows: Vec<CapRow>,
}

pub const COLUMNS: [&str; 7] = [
    "holder_id",
    "name",
    "segment",
    "class",
    "units",
    "invested",
    "date",
];

impl CapTable {
    /// Units per class.
    pub fn class_units(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in &self.rows {
            let e = m.entry(r.class.clone()).or_default();
            *e = e.checked_add(r.units).unwrap_or(Decimal::MAX);
        }
        m
    }

    pub fn total_units(&self) -> Decimal {
        self.rows
            .iter()
            .try_fold(Decimal::ZERO, |a, r| a.checked_add(r.units))
            .unwrap_or(Decimal::MAX)
    }
}

/// Loads and checks a cap table. `shown` is the path as the user should see it.
pub fn load(path: &Path, shown: &str, diags: &mut Diagnostics) -> Option<CapTable> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error(code::IO, shown, 0, 0)
                    .msg(format!("cannot read the cap table: {e}"))
                    .hint(
                        "check the `captable` key of the scenario (relative to the scenario file)",
                    ),
            );
            return None;
        }
    };
    parse(&text, shown, diags)
}

/// Where each of [`COLUMNS`] is in the header; `None` if any is missing, named twice or unknown
/// (each problem reported at its column). Columns whose name starts with `x_` are the user's and
/// ignored, as in the book's files.
fn column_index(
    headers: &csv::StringRecord,
    shown: &str,
    diags: &mut Diagnostics,
) -> Option<[usize; 7]> {
    let mut idx = [0usize; 7];
    let mut ok = true;
    let first_line = || format!("the first line must be `{}`", COLUMNS.join(","));
    for (i, c) in COLUMNS.iter().enumerate() {
        match headers.iter().position(|h| h == *c) {
            Some(j) => idx[i] = j,
            None => {
                ok = false;
                diags.push(
                    Diagnostic::error(code::CSV_HEADER, shown, 1, 0)
                        .msg(format!("missing column `{c}`"))
                        .hint(first_line()),
                );
            }
        }
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, h) in headers.iter().enumerate() {
        let col = u64::try_from(j + 1).unwrap_or(0);
        if let Some(j0) = seen.insert(h, j + 1) {
            ok = false;
            diags.push(
                Diagnostic::error(code::CSV_COLUMN_TWICE, shown, 1, col)
                    .msg(format!("column `{h}` appears twice (also column {j0})"))
                    .hint("remove or rename one of them"),
            );
        } else if !COLUMNS.contains(&h) && !h.starts_with("x_") {
            ok = false;
            diags.push(
                Diagnostic::error(code::CSV_UNKNOWN_COLUMN, shown, 1, col)
                    .msg(format!("unknown column `{h}`"))
                    .hint(format!(
                        "{}; a column of your own must start with `x_`",
                        first_line()
                    )),
            );
        }
    }
    ok.then_some(idx)
}

/// A row with more or fewer fields than the header (an extra comma, an unquoted `1,000`, a quote
/// never closed): the problem at the first field too many or missing, or `None` if it fits.
fn field_count(rec: &csv::StringRecord, want: usize, shown: &str, line: u64) -> Option<Diagnostic> {
    let have = rec.len();
    if have == want {
        return None;
    }
    let col = u64::try_from(have.min(want) + 1).unwrap_or(0);
    let (msg, hint) = if have > want {
        (
            format!("the row has {have} fields, the header {want}: a field too many"),
            "quote a value that holds a comma (`\"1,000\"`), or better write it without (`1000`)",
        )
    } else {
        (
            format!("the row has {have} fields, the header {want}: a field is missing"),
            "give every row the header's columns (an empty value is written as nothing between two commas); check for a quote that is never closed",
        )
    };
    Some(
        Diagnostic::error(code::CSV_FIELD_COUNT, shown, line, col)
            .msg(msg)
            .hint(hint),
    )
}

/// A cell that must be a decimal of zero or more (`empty_ok`: empty is zero); else the message
/// and hint of the problem.
fn non_negative(
    s: &str,
    name: &str,
    holder_id: &str,
    empty_ok: bool,
) -> Result<Decimal, (String, String)> {
    if s.is_empty() && empty_ok {
        return Ok(Decimal::ZERO);
    }
    match Decimal::from_str_exact(s) {
        Ok(d) if d.is_sign_negative() && !d.is_zero() => Err((
            format!("`{name}` is negative ({s}) for `{holder_id}`"),
            format!("`{name}` must be zero or more"),
        )),
        Ok(d) => Ok(d),
        Err(_) => Err((
            format!("`{name}` is not a number: `{s}`"),
            "write a plain decimal such as `125000` or `0.50`".to_string(),
        )),
    }
}

pub fn parse(text: &str, shown: &str, diags: &mut Diagnostics) -> Option<CapTable> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            diags.push(
                Diagnostic::error(code::CSV_HEADER, shown, 1, 0)
                    .msg(format!("cannot read the header: {e}"))
                    .hint(format!("the first line must be `{}`", COLUMNS.join(","))),
            );
            return None;
        }
    };
    let idx = column_index(&headers, shown, diags)?;
    let mut rows: Vec<CapRow> = Vec::new();
    let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut who: BTreeMap<String, (String, String, u64)> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                diags.push(
                    Diagnostic::error(code::CSV_VALUE, shown, line, 0)
                        .msg(format!("unreadable row: {e}"))
                        .hint("each row needs the seven columns of the header"),
                );
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if let Some(d) = field_count(&rec, headers.len(), shown, line) {
            diags.push(d);
            continue;
        }
        let get = |i: usize| rec.get(idx[i]).unwrap_or("").to_string();
        let col = |i: usize| u64::try_from(idx[i] + 1).unwrap_or(0);
        let holder_id = get(0);
        let class = get(3);
        if holder_id.is_empty() {
            diags.push(
                Diagnostic::error(code::CSV_VALUE, shown, line, col(0))
                    .msg("empty `holder_id`")
                    .hint("every row needs a holder id"),
            );
            continue;
        }
        if class.is_empty() {
            diags.push(
                Diagnostic::error(code::CSV_VALUE, shown, line, col(3))
                    .msg(format!("empty `class` for `{holder_id}`"))
                    .hint("name the share class, e.g. `common`"),
            );
            continue;
        }
        let mut num = |i: usize, name: &str, empty_ok: bool| -> Option<Decimal> {
            match non_negative(&get(i), name, &holder_id, empty_ok) {
                Ok(d) => Some(d),
                Err((msg, hint)) => {
                    diags.push(
                        Diagnostic::error(code::CSV_VALUE, shown, line, col(i))
                            .msg(msg)
                            .hint(hint),
                    );
                    None
                }
            }
        };
        let units = num(4, "units", false);
        let invested = num(5, "invested", true);
        let date = get(6);
        if !date.is_empty() && chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
            diags.push(
                Diagnostic::error(code::CSV_VALUE, shown, line, col(6))
                    .msg(format!("`date` is not a date: `{date}`"))
                    .hint("write dates as YYYY-MM-DD"),
            );
        }
        let name = get(1);
        let segment = get(2).to_lowercase();
        if segment.is_empty() {
            diags.push(
                Diagnostic::error(code::CSV_VALUE, shown, line, col(2))
                    .msg(format!("empty `segment` for `{holder_id}`"))
                    .hint("use founder, investor, employee, member, user, community, trust, …"),
            );
        }
        if let Some((n0, s0, l0)) = who.get(&holder_id) {
            if *n0 != name || *s0 != segment {
                diags.push(
                    Diagnostic::error(code::HOLDER_CONFLICT, shown, line, col(1))
                        .msg(format!(
                            "`{holder_id}` has name/segment `{name}`/`{segment}` here but `{n0}`/`{s0}` on line {l0}"
                        ))
                        .hint("a holder keeps one name and one segment across rows"),
                );
            }
        } else {
            who.insert(holder_id.clone(), (name.clone(), segment.clone(), line));
        }
        if let Some(l0) = seen.insert((holder_id.clone(), class.clone()), line) {
            diags.push(
                Diagnostic::error(code::CSV_DUPLICATE, shown, line, col(3))
                    .msg(format!(
                        "`{holder_id}` already holds class `{class}` on line {l0}"
                    ))
                    .hint("put one row per holder and class (add the units together)"),
            );
            continue;
        }
        if let (Some(units), Some(invested)) = (units, invested) {
            rows.push(CapRow {
                line,
                holder_id,
                name,
                segment,
                class,
                units,
                invested,
                date,
            });
        }
    }
    if rows.is_empty() && !diags.has_errors() {
        diags.push(
            Diagnostic::error(code::CSV_EMPTY, shown, 0, 0)
                .msg("the cap table has no positions")
                .hint("add one row per holder and class"),
        );
        return None;
    }
    Some(CapTable {
        file: shown.to_string(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_collects_all_problems() {
        let text = "holder_id,name,segment,class,units,invested,date\n\
                    F1,Ada,founder,common,100,,2021-01-01\n\
                    S,Seed,investor,pref,-5,abc,2022-13-01\n\
                    F1,Ada,founder,common,3,,\n";
        let mut d = Diagnostics::new();
        let t = parse(text, "c.csv", &mut d).unwrap();
        assert_eq!(t.rows.len(), 1);
        let msgs: Vec<String> = d.into_sorted().iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(msgs[0].starts_with("c.csv:3:5: error[E2C011]: `units` is negative"));
        assert!(msgs
            .iter()
            .any(|m| m.contains("`invested` is not a number")));
        assert!(msgs.iter().any(|m| m.contains("`date` is not a date")));
        assert!(msgs.iter().any(|m| m.contains("c.csv:4:4: error[E2C012]")));
    }

    fn problems(text: &str) -> Vec<String> {
        let mut d = Diagnostics::new();
        let _ = parse(text, "c.csv", &mut d);
        d.into_sorted().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn unknown_and_duplicate_columns_are_located_errors() {
        let m = problems("holder_id,name,segment,class,units,invested,date,votes,x_note\n");
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(
            m[0].starts_with("c.csv:1:8: error[E2C016]: unknown column `votes`"),
            "{m:#?}"
        );
        let m = problems(
            "holder_id,name,segment,class,units,units,invested,date\nA,B,founder,c,1,2,,\n",
        );
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(
            m[0].starts_with(
                "c.csv:1:6: error[E2C017]: column `units` appears twice (also column 5)"
            ),
            "{m:#?}"
        );
    }

    #[test]
    fn rows_with_extra_or_missing_fields_are_located_errors() {
        let head = "holder_id,name,segment,class,units,invested,date\n";
        // an unquoted thousands separator: `1,000` must not be read as 1 unit
        let m = problems(&format!(
            "{head}F1,Ada,founder,common,1,000,,2021-01-01\nF2,Bo,founder,common,5\nF3,Cy,founder,common,7,,\n"
        ));
        assert_eq!(m.len(), 2, "{m:#?}");
        assert!(
            m[0].starts_with("c.csv:2:8: error[E2C018]: the row has 8 fields, the header 7"),
            "{m:#?}"
        );
        assert!(
            m[1].starts_with("c.csv:3:6: error[E2C018]: the row has 5 fields, the header 7"),
            "{m:#?}"
        );
        // a quote never closed swallows the rest of the file into one field: an error where it opened
        let m = problems(&format!(
            "{head}F1,\"Ada,founder,common,1,,\nF2,Bo,founder,common,5,,\n"
        ));
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(m[0].starts_with("c.csv:2:3: error[E2C018]"), "{m:#?}");
    }

    #[test]
    fn missing_column() {
        let mut d = Diagnostics::new();
        assert!(parse("holder_id,name\nA,B\n", "c.csv", &mut d).is_none());
        assert_eq!(d.error_count(), 5);
    }
}
