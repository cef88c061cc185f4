//! Renderers: one per format, each writing report data to `&mut dyn Write`.
//! Percentages and money are formatted here (and only here); the report keeps exact decimals.

use std::io::{self, Write};

use rust_decimal::Decimal;

use super::engine::E2cReport;
use super::num;

pub mod csv;
pub mod html;
pub mod json;
pub mod md;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Html,
    Csv,
    Json,
}

impl Format {
    /// From a file extension (`report.html` → html); `None` if unknown.
    pub fn from_path(p: &std::path::Path) -> Option<Format> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Md),
            "html" | "htm" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

pub fn render(out: &mut dyn Write, r: &E2cReport, f: Format) -> io::Result<()> {
    match f {
        Format::Md => md::render(out, r),
        Format::Html => html::render(out, r),
        Format::Csv => csv::render(out, r),
        Format::Json => json::render(out, r),
    }
}

pub fn render_compare(out: &mut dyn Write, rs: &[E2cReport], f: Format) -> io::Result<()> {
    match f {
        Format::Md => md::compare(out, rs),
        Format::Html => html::compare(out, rs),
        Format::Csv => csv::compare(out, rs),
        Format::Json => json::compare(out, rs),
    }
}

/// Money for machines: fixed minor units, no grouping (`"1234.50"`).
pub fn money(d: Decimal, r: &E2cReport) -> String {
    num::fixed(d, r.minor_units)
}
/// Money for people: grouped (`1,234.50`).
pub fn money_h(d: Decimal, r: &E2cReport) -> String {
    crate::money::group_thousands(&num::fixed(d, r.minor_units))
}
/// Percent for machines: 4 decimals, no sign (`"19.3548"`).
pub fn pct(d: Decimal) -> String {
    num::fixed(d, 4)
}
/// Percent for people: 3 decimals (`19.355%`).
pub fn pct_h(d: Decimal) -> String {
    format!("{}%", num::fixed(d, 3))
}
pub fn moic(d: Option<Decimal>) -> String {
    d.map_or_else(|| "n/a".to_string(), |x| num::fixed(x, 4))
}
pub fn moic_h(d: Option<Decimal>) -> String {
    d.map_or_else(|| "n/a".to_string(), |x| format!("{}x", num::fixed(x, 2)))
}
/// IRR in percent, 4 decimals, or `n/a`.
pub fn irr(d: Option<Decimal>) -> String {
    d.map_or_else(
        || "n/a".to_string(),
        |x| num::fixed(x * Decimal::ONE_HUNDRED, 4),
    )
}
pub fn irr_h(d: Option<Decimal>) -> String {
    d.map_or_else(
        || "n/a".to_string(),
        |x| format!("{}%", num::fixed(x * Decimal::ONE_HUNDRED, 2)),
    )
}
pub fn year_h(r: &E2cReport, t: Option<u32>) -> String {
    match t {
        None => "never".to_string(),
        Some(t) if r.start_year.is_some() => format!("Y{t} ({})", r.year_label(t)),
        Some(t) => format!("Y{t}"),
    }
}
