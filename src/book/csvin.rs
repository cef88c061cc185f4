//! Reading CSV tables that remember file, line and column, and report every problem.
//!
//! A table is matched by header name (any order, case-insensitive, surrounding spaces ignored);
//! a UTF-8 byte-order mark and CRLF line ends are accepted; a column not in the schema is an error
//! unless its name starts with `x_`.

use std::io::Read;

use chrono::NaiveDate;

use crate::diag::code;
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::{Currency, Money, MoneyError};

/// One column of a table schema.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub required: bool,
}

pub const fn req(name: &'static str) -> Col {
    Col {
        name,
        required: true,
    }
}

pub const fn opt(name: &'static str) -> Col {
    Col {
        name,
        required: false,
    }
}

/// A table opened for reading: where each schema column sits in the file.
pub struct Table<R: Read> {
    pub file: String,
    /// for each schema column, its 0-based index in the file (None when an optional column is absent)
    pub index: Vec<Option<usize>>,
    reader: csv::Reader<R>,
    /// the csv crate does not count the header's CRLF ending; this puts lines right
    line_offset: u64,
    header_len: usize,
    /// at most this many data rows are read (see [`MAX_ROWS`])
    max_rows: u64,
}

/// The most data rows one CSV file of a book may hold (`patronage.csv` included): far above any
/// co-op's ledger (the benchmarks run 1,000,000 rows), low enough that a runaway or hostile file
/// is refused with a located error (E0006) instead of exhausting memory.
pub const MAX_ROWS: u64 = 100_000_000;

/// The most members a book may have (rows of `members.csv`), E0006 beyond.
pub const MAX_MEMBERS: u64 = 10_000_000;

/// Opens `reader` as a CSV table with `schema`, reporting header problems.
/// Returns `None` when the table cannot be read at all (empty, no usable header, missing columns).
pub fn open<R: Read>(
    reader: R,
    file: &str,
    schema: &[Col],
    diags: &mut Diagnostics,
) -> Option<Table<R>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers = match rdr.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            diags.push(csv_error(file, &e));
            return None;
        }
    };
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        diags.push(
            Diagnostic::error(code::E0002, file, 1, 0)
                .msg("the file is empty: it has no header line")
                .hint(format!(
                    "the first line names the columns: {}",
                    schema.iter().map(|c| c.name).collect::<Vec<_>>().join(",")
                )),
        );
        return None;
    }
    let mut index = vec![None; schema.len()];
    let mut ok = true;
    for (i, raw) in headers.iter().enumerate() {
        let col = i as u64 + 1;
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let Ok(name) = std::str::from_utf8(raw) else {
            diags.push(
                Diagnostic::error(code::E0003, file, 1, col)
                    .msg("the header holds bytes that are not UTF-8")
                    .hint("save the file as UTF-8"),
            );
            ok = false;
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        match schema.iter().position(|c| c.name == name) {
            Some(s) => {
                if index[s].is_some() {
                    diags.push(
                        Diagnostic::error(code::E0102, file, 1, col)
                            .msg(format!("column `{name}` appears twice"))
                            .hint("remove or rename one of the two columns"),
                    );
                    ok = false;
                } else {
                    index[s] = Some(i);
                }
            }
            None if name.starts_with("x_") => {}
            None => {
                let near = schema
                    .iter()
                    .map(|c| c.name)
                    .find(|c| similar(c, &name))
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(code::E0103, file, 1, col)
                        .msg(format!("unknown column `{name}`"))
                        .hint(format!(
                            "{near}columns are: {}; prefix your own columns with `x_`",
                            schema.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                        )),
                );
            }
        }
    }
    for (s, c) in schema.iter().enumerate() {
        if c.required && index[s].is_none() {
            diags.push(
                Diagnostic::error(code::E0101, file, 1, 0)
                    .msg(format!("required column `{}` is missing", c.name))
                    .hint(format!("add a `{}` column to the header line", c.name)),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let line_offset = 2u64.saturating_sub(rdr.position().line());
    Some(Table {
        file: file.to_string(),
        index,
        reader: rdr,
        line_offset,
        header_len: headers.len(),
        max_rows: MAX_ROWS,
    })
}

fn similar(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace(['_', '-', ' '], "");
    norm(a) == norm(b) || (a.len() > 3 && (b.starts_with(a) || a.starts_with(b)))
}

fn csv_error(file: &str, e: &csv::Error) -> Diagnostic {
    let (line, hint) = match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, .. } => (
            pos.as_ref().map(|p| p.line()).unwrap_or(0),
            "every line needs as many fields as the header",
        ),
        _ => (
            e.position().map(|p| p.line()).unwrap_or(0),
            "check the quoting of this line",
        ),
    };
    Diagnostic::error(code::E0004, file, line, 0)
        .msg(format!("malformed CSV: {e}"))
        .hint(hint)
}

/// A line whose field count differs from the header's (E0004), located at the first field too
/// many or the first one missing. A row is never cut to fit: an unquoted `3,064.50` is two
/// fields, and reading the first would change the amount in silence.
fn field_count(file: &str, line: u64, got: usize, want: usize) -> Diagnostic {
    let hint = if got > want {
        "every line needs as many fields as the header; a comma inside a value splits it \
         (`3,064.50` is two fields): write `3064.50`, or quote the value"
    } else {
        "every line needs as many fields as the header"
    };
    Diagnostic::error(code::E0004, file, line, got.min(want) as u64 + 1)
        .msg(format!("this line has {got} fields, the header has {want}"))
        .hint(hint)
}

/// A file with more data rows than the tool accepts (E0006), at the first row beyond the limit.
fn too_many_rows(file: &str, line: u64, max: u64) -> Diagnostic {
    Diagnostic::error(code::E0006, file, line, 0)
        .msg(format!(
            "this file has more than {} data rows, the most coopledger accepts",
            crate::money::group_thousands(&max.to_string())
        ))
        .hint("the limits are listed in docs/ERRORS.md (Limits); check that the file is the one meant")
}

/// The most lines one quoted field may span. A note may hold a few line breaks; a field that
/// spans more is almost always a quote that was opened and never closed, which would swallow the
/// rows after it into one text field.
pub const MAX_FIELD_LINES: usize = 10;

/// A quoted field that runs on: over [`MAX_FIELD_LINES`] lines (`(diagnostic, false)`), or,
/// when it is the record's last field and ends with a line break, possibly to the end of the file
/// (`(diagnostic, true)`: the csv reader ends an unclosed field at the end of the file with the
/// file's last line break inside it; the caller reports it if no record follows). Reported at the
/// line where the field opened (E0005), so no row after it is silently taken as text.
fn runaway_quote(file: &str, line: u64, rec: &csv::ByteRecord) -> Option<(Diagnostic, bool)> {
    for (i, f) in rec.iter().enumerate() {
        let breaks = memchr::memchr_iter(b'\n', f).count();
        if breaks == 0 {
            continue;
        }
        let maybe_eof = i + 1 == rec.len() && matches!(f.last(), Some(b'\n' | b'\r'));
        if breaks < MAX_FIELD_LINES && !maybe_eof {
            continue;
        }
        let how = if breaks >= MAX_FIELD_LINES {
            format!("over {} lines", breaks + 1)
        } else {
            "to the end of the file".to_string()
        };
        let d = Diagnostic::error(code::E0005, file, line, i as u64 + 1)
            .msg(format!(
                "a quoted field opened here runs {how}: the rows it swallows would be read as text"
            ))
            .hint("close the quote (`\"`) at the end of the field, or double a quote inside it (`\"\"`)");
        return Some((d, breaks < MAX_FIELD_LINES));
    }
    None
}

/// One data row: its fields, its line, and how to reach columns by schema position.
pub struct Row<'t> {
    pub file: &'t str,
    pub line: u64,
    index: &'t [Option<usize>],
    schema: &'t [Col],
    rec: &'t csv::ByteRecord,
}

impl<R: Read> Table<R> {
    /// Reads at most `n` data rows; the next one is E0006 and ends the reading.
    pub fn max_rows(mut self, n: u64) -> Self {
        self.max_rows = n;
        self
    }

    /// Calls `f` for every data row; malformed lines are reported and skipped.
    pub fn for_each(
        &mut self,
        schema: &[Col],
        diags: &mut Diagnostics,
        mut f: impl FnMut(&Row<'_>, &mut Diagnostics),
    ) {
        let mut rec = csv::ByteRecord::new();
        let mut at_eof: Option<Diagnostic> = None;
        let mut rows = 0u64;
        loop {
            match self.reader.read_byte_record(&mut rec) {
                Ok(false) => {
                    if let Some(d) = at_eof.take() {
                        diags.push(d);
                    }
                    break;
                }
                Ok(true) => {
                    let line = rec.position().map(|p| p.line()).unwrap_or(0) + self.line_offset;
                    if rec.len() == 1 && rec[0].is_empty() {
                        continue; // blank line
                    }
                    rows += 1;
                    if rows > self.max_rows {
                        diags.push(too_many_rows(&self.file, line, self.max_rows));
                        break;
                    }
                    match runaway_quote(&self.file, line, &rec) {
                        Some((d, false)) => {
                            diags.push(d);
                            continue;
                        }
                        // reported only if this was the last record
                        Some((d, true)) => at_eof = Some(d),
                        None => at_eof = None,
                    }
                    if rec.len() != self.header_len {
                        diags.push(field_count(&self.file, line, rec.len(), self.header_len));
                        continue;
                    }
                    let row = Row {
                        file: &self.file,
                        line,
                        index: &self.index,
                        schema,
                        rec: &rec,
                    };
                    f(&row, diags);
                }
                Err(e) => {
                    let fatal = !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. });
                    let mut diag = csv_error(&self.file, &e);
                    if diag.line > 0 {
                        diag.line += self.line_offset;
                    }
                    diags.push(diag);
                    if fatal || matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
    }
}

impl Row<'_> {
    /// 1-based column of schema column `s` in the file (0 when absent).
    pub fn col(&self, s: usize) -> u64 {
        self.index[s].map(|i| i as u64 + 1).unwrap_or(0)
    }

    /// The text of schema column `s`, trimmed; `None` when the column is absent or not UTF-8
    /// (the latter is reported).
    pub fn text(&self, s: usize, diags: &mut Diagnostics) -> Option<&str> {
        let i = self.index[s]?;
        let raw = self.rec.get(i).unwrap_or(b"");
        match std::str::from_utf8(raw) {
            Ok(t) => Some(t.trim()),
            Err(_) => {
                diags.push(
                    Diagnostic::error(code::E0003, self.file, self.line, i as u64 + 1)
                        .msg(format!(
                            "`{}` holds bytes that are not UTF-8",
                            self.schema[s].name
                        ))
                        .hint("save the file as UTF-8"),
                );
                None
            }
        }
    }

    /// A value that must be present.
    pub fn required(&self, s: usize, diags: &mut Diagnostics) -> Option<&str> {
        let t = self.text(s, diags)?;
        if t.is_empty() {
            diags.push(
                Diagnostic::error(code::E0104, self.file, self.line, self.col(s))
                    .msg(format!("`{}` is empty", self.schema[s].name))
                    .hint(format!("every row needs a `{}`", self.schema[s].name)),
            );
            return None;
        }
        Some(t)
    }

    /// A present, valid date (YYYY-MM-DD).
    pub fn date(&self, s: usize, diags: &mut Diagnostics) -> Option<NaiveDate> {
        let t = self.required(s, diags)?;
        self.parse_date(s, t, diags)
    }

    /// An optional date: empty is `Some(None)`, invalid is `None` (reported).
    pub fn opt_date(&self, s: usize, diags: &mut Diagnostics) -> Option<Option<NaiveDate>> {
        match self.text(s, diags) {
            None => Some(None),
            Some("") => Some(None),
            Some(t) => self.parse_date(s, t, diags).map(Some),
        }
    }

    fn parse_date(&self, s: usize, t: &str, diags: &mut Diagnostics) -> Option<NaiveDate> {
        match parse_date(t) {
            Ok(d) => Some(d),
            Err(impossible) => {
                let name = self.schema[s].name;
                let d = if impossible {
                    Diagnostic::error(code::E0202, self.file, self.line, self.col(s))
                        .msg(format!("`{name}` = `{t}` is not a day of the calendar"))
                        .hint("check the day and month (e.g. February has 28 or 29 days)")
                } else {
                    Diagnostic::error(code::E0201, self.file, self.line, self.col(s))
                        .msg(format!("`{name}` = `{t}` is not a date"))
                        .hint("write dates as YYYY-MM-DD, e.g. 2025-03-31")
                };
                diags.push(d);
                None
            }
        }
    }

    /// A present amount of money; `allow_negative` says whether a negative value is allowed.
    pub fn money(
        &self,
        s: usize,
        currency: Currency,
        allow_negative: bool,
        diags: &mut Diagnostics,
    ) -> Option<Money> {
        let t = self.required(s, diags)?;
        let name = self.schema[s].name;
        match Money::parse(t, currency) {
            Ok(m) if m.is_negative() && !allow_negative => {
                diags.push(
                    Diagnostic::error(code::E0206, self.file, self.line, self.col(s))
                        .msg(format!("`{name}` = {t} is negative"))
                        .hint(format!("`{name}` must be zero or more in this file")),
                );
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                diags.push(money_diag(self.file, self.line, self.col(s), name, t, &e));
                None
            }
        }
    }

    /// A whole number (a year, a count).
    pub fn int(&self, s: usize, diags: &mut Diagnostics) -> Option<i64> {
        let t = self.required(s, diags)?;
        match t.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                diags.push(
                    Diagnostic::error(code::E0203, self.file, self.line, self.col(s))
                        .msg(format!(
                            "`{}` = `{t}` is not a whole number",
                            self.schema[s].name
                        ))
                        .hint("write digits only, e.g. 2024"),
                );
                None
            }
        }
    }

    /// A fiscal year: a whole number from 1900 to 2200 (E0203 otherwise).
    pub fn fiscal_year(&self, s: usize, diags: &mut Diagnostics) -> Option<i32> {
        let y = self.int(s, diags)?;
        if (1900..=2200).contains(&y) {
            return Some(y as i32);
        }
        diags.push(self.problem(
            s,
            code::E0203,
            format!("fiscal year {y} is out of range"),
            "a fiscal year is named by the calendar year it ends in, e.g. 2025".into(),
        ));
        None
    }

    /// One of a fixed set of words.
    pub fn choice<'a>(
        &self,
        s: usize,
        allowed: &[&'a str],
        diags: &mut Diagnostics,
    ) -> Option<&'a str> {
        let t = self.required(s, diags)?;
        let lower = t.to_ascii_lowercase();
        match allowed.iter().find(|a| **a == lower) {
            Some(a) => Some(a),
            None => {
                diags.push(
                    Diagnostic::error(code::E0207, self.file, self.line, self.col(s))
                        .msg(format!("`{}` = `{t}` is not allowed", self.schema[s].name))
                        .hint(format!("use one of: {}", allowed.join(", "))),
                );
                None
            }
        }
    }

    /// Reports a problem at schema column `s` of this row.
    pub fn problem(&self, s: usize, code: &'static str, msg: String, hint: String) -> Diagnostic {
        Diagnostic::error(code, self.file, self.line, self.col(s))
            .msg(msg)
            .hint(hint)
    }
}

/// The diagnostic for an amount that does not parse.
pub fn money_diag(
    file: &str,
    line: u64,
    col: u64,
    name: &str,
    t: &str,
    e: &MoneyError,
) -> Diagnostic {
    let (code, hint) = match e {
        MoneyError::TooManyDecimals { allowed, .. } => (
            code::E0204,
            format!("round `{name}` to {allowed} decimals, as the currency allows"),
        ),
        MoneyError::OutOfRange(_) => (
            code::E0205,
            "amounts are limited to about 28 significant digits".to_string(),
        ),
        _ => (
            code::E0203,
            "write amounts as plain decimals, e.g. 1234.50 (no thousands separators or symbols)"
                .to_string(),
        ),
    };
    Diagnostic::error(code, file, line, col)
        .msg(format!("`{name}` = `{t}`: {e}"))
        .hint(hint)
}

/// Parses `YYYY-MM-DD`. `Err(true)` means well-formed but impossible (2025-02-30).
pub fn parse_date(t: &str) -> Result<NaiveDate, bool> {
    let b = t.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(false);
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        b[r].iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0'))
    };
    NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10)).ok_or(true)
}

/// Reads a small file fully, reporting I/O problems.
pub fn read_file(path: &std::path::Path, file: &str, diags: &mut Diagnostics) -> Option<Vec<u8>> {
    let hint = "check that the file exists and is readable";
    let mut buf = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut buf));
    io_problem(read, file, hint, diags).map(|_| buf)
}

/// Opens a file for reading, reporting a failure (E0001) with `hint`.
pub fn open_file(
    path: &std::path::Path,
    file: &str,
    hint: &str,
    diags: &mut Diagnostics,
) -> Option<std::fs::File> {
    io_problem(std::fs::File::open(path), file, hint, diags)
}

fn io_problem<T>(
    r: std::io::Result<T>,
    file: &str,
    hint: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    r.map_err(|e| {
        diags.push(
            Diagnostic::error(code::E0001, file, 0, 0)
                .msg(format!("cannot read the file: {e}"))
                .hint(hint),
        )
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &[Col] = &[req("member_id"), req("date"), opt("note")];

    fn run(text: &[u8]) -> (Vec<(u64, String)>, Vec<Diagnostic>) {
        let mut diags = Diagnostics::new();
        let mut out = Vec::new();
        if let Some(mut t) = open(text, "t.csv", S, &mut diags) {
            t.for_each(S, &mut diags, |row, d| {
                if let (Some(id), Some(date)) = (row.required(0, d), row.date(1, d)) {
                    out.push((row.line, format!("{id}@{date}")));
                }
            });
        }
        (out, diags.into_sorted())
    }

    #[test]
    fn bom_crlf_quotes_any_order() {
        let (rows, d) =
            run(b"\xEF\xBB\xBFdate,Member_ID\r\n2025-01-02,\"M,1\"\r\n2025-01-03,M2\r\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            rows,
            vec![(2, "M,1@2025-01-02".into()), (3, "M2@2025-01-03".into())]
        );
    }

    #[test]
    fn header_problems() {
        let (_, d) = run(b"member_id,member_id,colour,x_mine\n");
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.column)).collect();
        assert_eq!(
            codes,
            vec![(code::E0101, 0), (code::E0102, 2), (code::E0103, 3)]
        );
        let (_, d) = run(b"");
        assert_eq!(d[0].code, code::E0002);
    }

    #[test]
    fn row_problems_all_reported() {
        let (rows, d) = run(
            b"member_id,date\nM1,2025-02-30\n,2025-01-01\nM3,01/02/2025\nM\xFF,2025-01-01\nM5\n",
        );
        assert!(rows.is_empty());
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(
            codes,
            vec![
                (code::E0202, 2, 2),
                (code::E0104, 3, 1),
                (code::E0201, 4, 2),
                (code::E0003, 5, 1),
                (code::E0004, 6, 2)
            ]
        );
    }

    /// A row's field count must match the header's, own `x_` columns included: never cut to
    /// fit (an unquoted `3,064.50` is two fields) nor padded.
    #[test]
    fn a_field_too_many_or_too_few_is_located() {
        const X: &[Col] = &[req("member_id"), req("date")];
        let mut diags = Diagnostics::new();
        let mut n = 0;
        if let Some(mut t) = open(
            &b"member_id,date,x_mine\nM1,2025-01-01,a,b\nM2,2025-01-02\nM3,2025-01-03,ok\n"[..],
            "t.csv",
            X,
            &mut diags,
        ) {
            t.for_each(X, &mut diags, |_, _| n += 1);
        }
        let d = diags.into_sorted();
        let got: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(got, vec![(code::E0004, 2, 4), (code::E0004, 3, 3)]);
        assert!(d[0].hint.contains("3064.50"), "{}", d[0].hint);
        assert_eq!(n, 1);
    }

    /// The row limit (E0006, tested with a small cap: [`MAX_ROWS`] and [`MAX_MEMBERS`] work the
    /// same way): rows up to the cap are read, the first beyond it is reported and ends the read.
    #[test]
    fn rows_beyond_the_limit_are_a_located_error() {
        let mut diags = Diagnostics::new();
        let mut n = 0;
        let text =
            &b"member_id,date\nM1,2025-01-01\n\nM2,2025-01-02\nM3,2025-01-03\nM4,2025-01-04\n"[..];
        if let Some(t) = open(text, "t.csv", S, &mut diags) {
            t.max_rows(2).for_each(S, &mut diags, |_, _| n += 1);
        }
        let d = diags.into_sorted();
        let got: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(got, vec![(code::E0006, 5, 0)]);
        assert!(
            d[0].message.contains("more than 2 data rows"),
            "{}",
            d[0].message
        );
        assert_eq!(n, 2, "a blank line is not a row");
        const { assert!(MAX_MEMBERS < MAX_ROWS && MAX_ROWS >= 100 * 1_000_000) };
    }

    /// The largest amount: what `rust_decimal` holds (96-bit mantissa) at the currency's
    /// decimals; one minor unit more is E0205 at its cell, never a wrong figure or a panic.
    #[test]
    fn the_largest_amount_is_read_and_one_cent_more_is_a_located_error() {
        const A: &[Col] = &[req("amount")];
        let mut diags = Diagnostics::new();
        let mut got = Vec::new();
        let text = &b"amount\n792281625142643375935439503.35\n792281625142643375935439503.36\n-792281625142643375935439503.35\n79228162514264337593543950336\n"[..];
        if let Some(mut t) = open(text, "t.csv", A, &mut diags) {
            t.for_each(A, &mut diags, |row, d| {
                if let Some(m) = row.money(0, Currency::USD, true, d) {
                    got.push((row.line, m.to_string()));
                }
            });
        }
        assert_eq!(
            got,
            vec![
                (2, "792281625142643375935439503.35".to_string()),
                (4, "-792281625142643375935439503.35".to_string())
            ]
        );
        let d = diags.into_sorted();
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(codes, vec![(code::E0205, 3, 1), (code::E0205, 5, 1)]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error_where_it_opened() {
        // to the end of the file: the rows after it would have become part of the note
        let (rows, d) = run(
            b"member_id,date,note\nM1,2025-01-01,\"oops\nM2,2025-01-02,fine\nM3,2025-01-03,ok\n",
        );
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(codes, vec![(code::E0005, 2, 3)], "{d:?}");
        assert!(d[0].message.contains("end of the file"), "{}", d[0].message);
        assert_eq!(
            rows.len(),
            1,
            "the row itself is still read; the load fails on the error"
        );
        // over the line limit, with rows after it
        let mut text = b"member_id,date,note\nM1,2025-01-01,\"".to_vec();
        for i in 0..MAX_FIELD_LINES {
            text.extend_from_slice(format!("M{i},2025-01-01,x\n").as_bytes());
        }
        text.extend_from_slice(b"end\"\nM9,2025-01-09,after\n");
        let (rows, d) = run(&text);
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(codes, vec![(code::E0005, 2)], "{d:?}");
        assert_eq!(rows, vec![(13, "M9@2025-01-09".into())]);
    }

    #[test]
    fn a_short_multi_line_note_is_fine() {
        let (rows, d) = run(
            b"member_id,date,note\nM1,2025-01-01,\"two\nlines\"\nM2,2025-01-02,\"last\nrow\"\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(rows.len(), 2);
        // a closed field that itself ends with a line break, not at the end of the file
        let (rows, d) = run(b"member_id,date,note\nM1,2025-01-01,\"ends\n\"\nM2,2025-01-02,x\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn garbage_never_panics() {
        let samples: Vec<Vec<u8>> = vec![
            vec![0xff, 0xfe, 0x00, 0x01],
            b"\"unterminated\nmember_id".to_vec(),
            b"member_id,date\n\"a\"b\",c\n".to_vec(),
            b"\n\n\n".to_vec(),
            b"member_id,date\n".to_vec(),
            (0..=255u8).collect(),
        ];
        for s in samples {
            let _ = run(&s);
        }
    }
}
