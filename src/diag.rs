//! Validation problems as data: every problem found in one run, each with a stable code, a place
//! (file, line, column), a message and a hint. See `docs/ERRORS.md` for the table of codes.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

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
    fn text_form_is_path_line_col() {
        let d = Diagnostic::error("E0302", "data/x/members.csv", 14, 3)
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
                Diagnostic::error("E0201", "b.csv", i + 1, 1)
                    .msg("bad")
                    .hint(""),
            );
        }
        ds.push(Diagnostic::error("E0101", "a.csv", 1, 2).msg("x").hint(""));
        ds.push(Diagnostic::error("E0101", "a.csv", 1, 2).msg("x").hint(""));
        let v = ds.into_sorted();
        assert_eq!(v[0].file, "a.csv");
        assert_eq!(v[1].line, 1);
        assert_eq!(v.len(), 1 + 100 + 1);
        assert!(v.last().unwrap().message.starts_with("50 more"));
    }
}
