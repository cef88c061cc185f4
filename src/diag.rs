//! Validation problems as data: every problem found in one run, each with a stable code, a place
//! (file, line, column), a message and a hint. See `docs/ERRORS.md` for the table of codes.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

/// The stable diagnostic codes, one named constant each (the table with hints is
/// `docs/ERRORS.md`). Write `code::E0004`, never the string.
pub mod code {
    /// A stable diagnostic code, e.g. `"E0004"`.
    pub type Code = &'static str;

    /// a file cannot be read (permissions, a directory, I/O)
    pub const E0001: Code = "E0001";

    /// a CSV file is empty: no header line
    pub const E0002: Code = "E0002";

    /// bytes that are not UTF-8 (in a header, a field, or coop.toml)
    pub const E0003: Code = "E0003";

    /// malformed CSV: a bad quote, or a line with more or fewer fields than the header (located at the first field too many or missing; a row is never cut to fit, so an unquoted `3,064.50` is an error, not 3)
    pub const E0004: Code = "E0004";

    /// a quoted field runs over 10 lines or to the end of the file: almost always a quote that was never closed, which would swallow the rows after it into one text field
    pub const E0005: Code = "E0005";

    /// a CSV file holds more data rows than the tool accepts (100,000,000 in any file, 10,000,000 members)
    pub const E0006: Code = "E0006";

    /// a required column is missing
    pub const E0101: Code = "E0101";

    /// a column appears twice
    pub const E0102: Code = "E0102";

    /// an unknown column (names starting with `x_` are yours and ignored)
    pub const E0103: Code = "E0103";

    /// a required value is empty
    pub const E0104: Code = "E0104";

    /// a date is not written `YYYY-MM-DD`
    pub const E0201: Code = "E0201";

    /// a date that is not on the calendar (`2025-02-30`, month 13)
    pub const E0202: Code = "E0202";

    /// not a number (thousands separators, exponents, words)
    pub const E0203: Code = "E0203";

    /// more decimals than allowed (the currency's minor units for money; 4 for hours/quantity)
    pub const E0204: Code = "E0204";

    /// a number beyond the exact range (about 28 significant digits), or a total that overflows
    pub const E0205: Code = "E0205";

    /// a negative amount where it is not allowed
    pub const E0206: Code = "E0206";

    /// a value outside its fixed set (status, kind, line, method, …)
    pub const E0207: Code = "E0207";

    /// a member id is repeated in members.csv
    pub const E0301: Code = "E0301";

    /// a member id that members.csv does not have (in any file, `joint_with` included)
    pub const E0302: Code = "E0302";

    /// an allocation unit that coop.toml does not define
    pub const E0303: Code = "E0303";

    /// a member class that coop.toml does not define
    pub const E0304: Code = "E0304";

    /// activity dated outside the member's membership (before joining, after leaving); a warning under `activity_outside_membership = "warning"`, and then it counts as non-member business
    pub const E0305: Code = "E0305";

    /// inconsistent membership: left before joined, `active` with a left date, `left` without one
    pub const E0306: Code = "E0306";

    /// a patronage measure the unit does not use
    pub const E0307: Code = "E0307";

    /// a results line repeated for the same fiscal year and unit
    pub const E0308: Code = "E0308";

    /// a `refund` in contributions.csv larger than the membership shares and capital the member paid in by its date
    pub const E0309: Code = "E0309";

    /// a bad subscriptions.csv row: a zero amount, fewer than 1 installment, or a second subscription of the same kind for a member
    pub const E0310: Code = "E0310";

    /// a member paid more than they subscribed (subscriptions.csv against contributions.csv)
    pub const E0311: Code = "E0311";

    /// a bad receivables.csv row: an amount of zero, or a `repaid` row larger than what the member owes by its date
    pub const E0312: Code = "E0312";

    /// an inconsistent joint membership in members.csv: a member joint with itself, or `joint_with` naming a member who does not name it back
    pub const E0313: Code = "E0313";

    /// an uncashed.csv row the sealed records do not back: an amount of zero, issued before its fiscal year began, a fiscal year whose redemptions (`source = redemption`) or close (`source = patronage`) are not sealed, or more uncashed than the sealed records paid the member that year
    pub const E0314: Code = "E0314";

    /// a member id that holds a path separator (`/`, `\`), `..`, a control character, or more than 64 bytes: ids name statement files and journal accounts
    pub const E0315: Code = "E0315";

    /// coop.toml is not valid TOML, or a value has the wrong type
    pub const E0401: Code = "E0401";

    /// an unknown key in coop.toml
    pub const E0402: Code = "E0402";

    /// an impossible value in coop.toml (a percentage over 100, a qualified notice with less than 20% cash, weights that do not sum to 1, an impossible fiscal year end, an unknown currency, a repeated unit id, …)
    pub const E0403: Code = "E0403";

    /// a required key is missing in coop.toml (or a plan misses a key it needs)
    pub const E0404: Code = "E0404";

    /// a required file is missing (members.csv, patronage.csv, results.csv)
    pub const E0405: Code = "E0405";

    /// an asset's salvage value is above its cost
    pub const E0501: Code = "E0501";

    /// a depreciable asset with a life of zero
    pub const E0502: Code = "E0502";

    /// an asset disposed of, or placed in service, before it was acquired
    pub const E0503: Code = "E0503";

    /// Every code, in order.
    pub const ALL: &[Code] = &[
        E0001, E0002, E0003, E0004, E0005, E0101, E0102, E0103, E0104, E0201, E0202, E0203, E0204,
        E0205, E0206, E0207, E0301, E0302, E0303, E0304, E0305, E0306, E0307, E0308, E0309, E0310,
        E0311, E0312, E0313, E0314, E0315, E0401, E0402, E0403, E0404, E0405, E0501, E0502, E0503,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem. `line` and `column` are 1-based; 0 means "the whole file" / "the whole line".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: String,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: &str, line: u64, column: u64) -> Builder {
        Builder(Diagnostic {
            code,
            severity: Severity::Error,
            file: file.to_string(),
            line,
            column,
            message: String::new(),
            hint: String::new(),
        })
    }

    pub fn warning(code: &'static str, file: &str, line: u64, column: u64) -> Builder {
        let mut b = Self::error(code, file, line, column);
        b.0.severity = Severity::Warning;
        b
    }

    fn sort_key(&self) -> (&str, u64, u64, &'static str, &str) {
        (&self.file, self.line, self.column, self.code, &self.message)
    }
}

/// Builds a [`Diagnostic`] in one expression: `Diagnostic::error(..).msg(..).hint(..)`.
pub struct Builder(Diagnostic);

impl Builder {
    pub fn msg(mut self, m: impl Into<String>) -> Self {
        self.0.message = m.into();
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Diagnostic {
        self.0.hint = h.into();
        self.0
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": {}[{}]: {}", self.severity, self.code, self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Values quoted in a message (between backticks) longer than this are shortened, so a 10 MB
/// field is never echoed back whole.
pub const MAX_QUOTED_CHARS: usize = 60;

/// Shortens every backtick-quoted span of `s` longer than [`MAX_QUOTED_CHARS`] characters to its
/// first [`MAX_QUOTED_CHARS`] characters, `…` and its length in bytes.
pub fn clip(s: String) -> String {
    if s.len() <= MAX_QUOTED_CHARS * 2 {
        return s;
    }
    let mut out = String::with_capacity(s.len().min(1024));
    for (i, part) in s.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // odd parts are inside backticks
        if i % 2 == 1 && part.chars().count() > MAX_QUOTED_CHARS {
            out.extend(part.chars().take(MAX_QUOTED_CHARS));
            out.push_str(&format!("… ({} bytes)", part.len()));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A collection of problems, kept sorted and free of exact duplicates when reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

/// At most this many problems are kept per code and file, so a broken 10M-row file does not
/// produce 10M lines; the overflow is summarised in one extra diagnostic.
pub const MAX_PER_CODE_AND_FILE: usize = 100;

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, mut d: Diagnostic) {
        d.message = clip(d.message);
        d.hint = clip(d.hint);
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Sorted by file, line, column, code; exact duplicates removed; capped per code and file.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.items.dedup();
        let mut out: Vec<Diagnostic> = Vec::with_capacity(self.items.len());
        let mut counts: std::collections::BTreeMap<(String, &'static str), usize> =
            std::collections::BTreeMap::new();
        let mut dropped: std::collections::BTreeMap<(String, &'static str), (usize, Severity)> =
            std::collections::BTreeMap::new();
        for d in self.items {
            let key = (d.file.clone(), d.code);
            let c = counts.entry(key.clone()).or_insert(0);
            *c += 1;
            if *c > MAX_PER_CODE_AND_FILE {
                let e = dropped.entry(key).or_insert((0, d.severity));
                e.0 += 1;
            } else {
                out.push(d);
            }
        }
        for ((file, code), (n, severity)) in dropped {
            out.push(Diagnostic {
                code,
                severity,
                file,
                line: 0,
                column: 0,
                message: format!("{n} more problems like [{code}] in this file were not listed"),
                hint: "fix the ones listed and run `coopledger check` again".to_string(),
            });
        }
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<T: IntoIterator<Item = Diagnostic>>(iter: T) -> Self {
        Diagnostics {
            items: iter.into_iter().collect(),
        }
    }
}

/// Writes diagnostics as text (`path:line:col: error[CODE]: message` + hint) or JSON.
pub fn emit(out: &mut dyn Write, diags: &[Diagnostic], json: bool) -> io::Result<()> {
    if json {
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let v = serde_json::json!({
            "errors": errors,
            "warnings": diags.len() - errors,
            "diagnostics": diags,
        });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
    } else {
        for d in diags {
            writeln!(out, "{d}")?;
        }
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if !diags.is_empty() {
            writeln!(
                out,
                "{} error{}, {} warning{}",
                errors,
                if errors == 1 { "" } else { "s" },
                diags.len() - errors,
                if diags.len() - errors == 1 { "" } else { "s" }
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_quoted_values_are_clipped() {
        let long = "X".repeat(5_000_000);
        let mut d = Diagnostics::new();
        d.push(
            Diagnostic::error("E0207", "members.csv", 2, 6)
                .msg(format!("`status` = `{long}` is not a status"))
                .hint("use one of: active, left, deceased"),
        );
        let text = d.iter().next().unwrap().to_string();
        assert!(text.len() < 300, "{}", text.len());
        assert!(text.contains("`status` = `XXXXXXXXXX"));
        assert!(text.contains("… (5000000 bytes)` is not a status"));
        assert_eq!(clip("short `x`".into()), "short `x`");
    }

    use super::*;

    #[test]
    fn every_named_code_is_documented_once() {
        let doc = include_str!("../docs/ERRORS.md");
        assert!(code::ALL.windows(2).all(|w| w[0] < w[1]));
        for c in code::ALL {
            assert_eq!(doc.matches(&format!("| {c} |")).count(), 1, "{c}");
        }
    }

    #[test]
    fn text_form_is_path_line_col() {
        let d = Diagnostic::error(code::E0302, "data/x/members.csv", 14, 3)
            .msg("unknown member `M9`")
            .hint("add `M9` to members.csv");
        assert_eq!(
            d.to_string(),
            "data/x/members.csv:14:3: error[E0302]: unknown member `M9`\n  hint: add `M9` to members.csv"
        );
    }

    #[test]
    fn sorted_deduplicated_and_capped() {
        let mut ds = Diagnostics::new();
        for i in (0..150).rev() {
            ds.push(
                Diagnostic::error(code::E0201, "b.csv", i + 1, 1)
                    .msg("bad")
                    .hint(""),
            );
        }
        ds.push(
            Diagnostic::error(code::E0101, "a.csv", 1, 2)
                .msg("x")
                .hint(""),
        );
        ds.push(
            Diagnostic::error(code::E0101, "a.csv", 1, 2)
                .msg("x")
                .hint(""),
        );
        let v = ds.into_sorted();
        assert_eq!(v[0].file, "a.csv");
        assert_eq!(v[1].line, 1);
        assert_eq!(v.len(), 1 + 100 + 1);
        assert!(v.last().unwrap().message.starts_with("50 more"));
    }
}
