//! Renderers of report data ([`crate::report::doc::Doc`]): one per format, each writing bytes to a
//! `&mut dyn Write`. Styling happens here and only here.

pub mod chart;
pub mod csv;
pub mod html;
pub mod json;
pub mod md;

use std::io::Write;

use crate::report::doc::Doc;

/// Output formats of `coopledger report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Html,
    Csv,
    Json,
}

impl Format {
    /// The format a file name asks for by its extension.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Md),
            "html" | "htm" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Renders `doc` in `format`.
pub fn render(doc: &Doc, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        Format::Md => md::render(doc, out),
        Format::Html => html::render(doc, out),
        Format::Csv => csv::render(doc, out),
        Format::Json => json::render(doc, out),
    }
}
