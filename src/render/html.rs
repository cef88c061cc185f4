//! Self-contained HTML: one page shell and one stylesheet for every report (one file, inline CSS,
//! no scripts, no external resources). Everything taken from the books is escaped.

use std::io::{self, Write};

use super::escape::html as escape;
use crate::report::doc::{Block, Doc, RowKind, Table};

/// The one stylesheet of every HTML page.
pub const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;padding:0 1rem;max-width:60rem;color:#1a1a1a;line-height:1.4}\
h1{font-size:1.5rem;margin-bottom:.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}\
dl.header{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;margin:0 0 1rem}dl.header dt{font-weight:600}dl.header dd{margin:0;overflow-wrap:anywhere}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem;display:block;overflow-x:auto;max-width:100%}th,td{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.subtotal td{font-weight:600;background:#f6f6f6}tr.total td{font-weight:700;border-top:2px solid #333}\
dl.fields{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dl.fields dt{color:#444}dl.fields dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}\
p.note{background:#fff4d6;border-left:3px solid #e0b000;padding:.4rem .6rem}\
figure.chart{margin:1rem 0}figure.chart figcaption{font-size:.85rem;color:#444}\
@media (max-width:600px){body{margin:1rem}dl.header,dl.fields{grid-template-columns:minmax(0,1fr)}dl.header dd,dl.fields dd{margin:0 0 .4rem}}@media print{body{margin:0;max-width:none}section.page{break-after:page}h2{break-after:avoid}table,figure{break-inside:avoid}}";

/// Writes the start of the page shell: doctype, head with the title and the stylesheet, and the
/// opening `<body>`. [`page_end`] closes it.
pub fn page_start(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(out, "<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>{}</title>", escape(title))?;
    writeln!(out, "<style>{CSS}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")
}

/// Writes the end of the page shell.
pub fn page_end(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

fn table(t: &Table, out: &mut dyn Write) -> io::Result<()> {
    let numeric = t.numeric_columns();
    let cls = |i: usize| {
        if numeric.get(i).copied().unwrap_or(false) {
            " class=\"n\""
        } else {
            ""
        }
    };
    writeln!(out, "<table>")?;
    write!(out, "<thead><tr>")?;
    for (i, c) in t.columns.iter().enumerate() {
        write!(out, "<th{}>{}</th>", cls(i), escape(&c.label))?;
    }
    writeln!(out, "</tr></thead>")?;
    writeln!(out, "<tbody>")?;
    for r in &t.rows {
        match r.kind {
            RowKind::Body => write!(out, "<tr>")?,
            k => write!(out, "<tr class=\"{}\">", k.name())?,
        }
        for (i, c) in r.cells.iter().enumerate() {
            write!(out, "<td{}>{}</td>", cls(i), escape(&c.human()))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    page_start(out, &doc.title)?;
    writeln!(out, "<h1>{}</h1>", escape(&doc.title))?;
    writeln!(out, "<dl class=\"header\">")?;
    for (k, v) in &doc.header {
        writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v.human()))?;
    }
    writeln!(out, "</dl>")?;
    for s in &doc.sections {
        let cls = if s.page_break { " class=\"page\"" } else { "" };
        writeln!(out, "<section id=\"{}\"{cls}>", escape(&s.id))?;
        writeln!(out, "<h2>{}</h2>", escape(&s.title))?;
        for b in &s.blocks {
            match b {
                Block::Para(p) => writeln!(out, "<p>{}</p>", escape(p))?,
                Block::Note(p) => writeln!(out, "<p class=\"note\">{}</p>", escape(p))?,
                Block::Fields(fs) => {
                    writeln!(out, "<dl class=\"fields\">")?;
                    for (k, v) in fs {
                        writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v.human()))?;
                    }
                    writeln!(out, "</dl>")?;
                }
                Block::Table(t) => table(t, out)?,
                Block::Chart(c) => writeln!(out, "{}", super::chart::svg(c))?,
            }
        }
        writeln!(out, "</section>")?;
    }
    page_end(out)
}
