//! Every byte that leaves the program: renderers of report data ([`crate::report::doc::Doc`]),
//! one per [`Format`], each writing to a `&mut dyn Write`; the one escape module, the one HTML
//! page shell and stylesheet ([`html`]) and the one SVG chart writer ([`chart`]). Styling happens
//! here and only here. Renderers return `std::io::Error` unwrapped, so that the binary can tell a
//! closed pipe from a failure.
//!
//! Where a report's JSON is a machine contract (the sealed close, the redemptions, statements that
//! `verify-statement` reads), it is the serialization of the typed report data ([`json_bytes`]),
//! not of the `Doc`.

pub mod chart;
pub mod csv;
pub mod escape;
pub mod html;
pub mod json;
pub mod md;
pub mod text;

use std::io::{self, Write};

use crate::report::doc::Doc;

/// The one output format. Each command states which of these it writes; the CLI maps its
/// `-O/--format` flag and the `-o` file extension onto it (`cli::output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// plain aligned columns for the terminal
    Text,
    /// GitHub-flavoured Markdown
    Md,
    /// one self-contained HTML page
    Html,
    /// the report's main table
    Csv,
    /// the whole report, money as strings
    Json,
}

impl Format {
    /// Every format, in the order the flags list them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Md,
        Format::Html,
        Format::Csv,
        Format::Json,
    ];

    /// The name on the command line (`-O md`) and the usual file extension.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Md => "md",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// The format of a command-line name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format a file name asks for by its extension.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "txt" | "text" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Md),
            "html" | "htm" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Renders `doc` in `format`.
pub fn render(doc: &Doc, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::render(doc, out),
        Format::Md => md::render(doc, out),
        Format::Html => html::render(doc, out),
        Format::Csv => csv::render(doc, out),
        Format::Json => json::render(doc, out),
    }
}

/// Renders `doc` in `format` into a buffer.
pub fn to_bytes(doc: &Doc, format: Format) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(16 * 1024);
    render(doc, format, &mut buf)?;
    Ok(buf)
}

/// The machine contract of typed report data: pretty JSON with a final newline.
pub fn json_bytes<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(value)?;
    v.push(b'\n');
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn names_and_extensions_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            let p = format!("out.{}", f.name().to_ascii_uppercase());
            assert_eq!(Format::from_path(Path::new(&p)), Some(f));
        }
        assert_eq!(Format::from_path(Path::new("x.htm")), Some(Format::Html));
        assert_eq!(Format::from_path(Path::new("x.pdf")), None);
        assert_eq!(Format::from_path(Path::new("noext")), None);
        assert_eq!(Format::from_name("yaml"), None);
    }
}
