//! Self-contained HTML: one file, inline CSS, no scripts, no external resources. Everything taken
//! from the books is escaped.

use std::io::Write;

use crate::report::doc::{Block, Cell, Doc, RowKind, Table};

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;color:#1a1a1a;line-height:1.4}\
h1{font-size:1.5rem;margin-bottom:.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}\
dl.header{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;margin:0 0 1rem}dl.header dt{font-weight:600}dl.header dd{margin:0}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.subtotal td{font-weight:600;background:#f6f6f6}tr.total td{font-weight:700;border-top:2px solid #333}\
dl.fields{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dl.fields dt{color:#444}dl.fields dd{margin:0;font-variant-numeric:tabular-nums}\
p.dry{background:#fff4d6;border:1px solid #e0b000;padding:.4rem .6rem}\
@media print{body{margin:0;max-width:none}section.page{break-after:page}}";

/// Escapes `&`, `<`, `>`, `"` and `'`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn table(t: &Table, out: &mut dyn Write) -> anyhow::Result<()> {
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| {
            t.rows
                .iter()
                .any(|r| r.cells.get(i).is_some_and(Cell::is_numeric))
        })
        .collect();
    writeln!(out, "<table>")?;
    write!(out, "<thead><tr>")?;
    for (i, c) in t.columns.iter().enumerate() {
        let cls = if numeric[i] { " class=\"n\"" } else { "" };
        write!(out, "<th{cls}>{}</th>", escape(&c.label))?;
    }
    writeln!(out, "</tr></thead>")?;
    writeln!(out, "<tbody>")?;
    for r in &t.rows {
        match r.kind {
            RowKind::Body => write!(out, "<tr>")?,
            k => write!(out, "<tr class=\"{}\">", k.name())?,
        }
        for (i, c) in r.cells.iter().enumerate() {
            let cls = if numeric.get(i).copied().unwrap_or(false) {
                " class=\"n\""
            } else {
                ""
            };
            write!(out, "<td{cls}>{}</td>", escape(&c.human()))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    Ok(())
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(out, "<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>{}</title>", escape(&doc.title))?;
    writeln!(out, "<style>{CSS}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")?;
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
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")?;
    Ok(())
}
