//! Markdown (GitHub-flavoured pipe tables). Text from the books is escaped so that it cannot
//! break a table or smuggle in HTML.

use std::io::Write;

use crate::report::doc::{Block, Cell, Doc, RowKind, Table};

/// Escapes Markdown syntax and raw HTML in `s`, and folds line breaks.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn cell(c: &Cell) -> String {
    escape(&c.human())
}

fn table(t: &Table, out: &mut dyn Write) -> anyhow::Result<()> {
    let labels: Vec<String> = t.columns.iter().map(|c| escape(&c.label)).collect();
    writeln!(out, "| {} |", labels.join(" | "))?;
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| {
            t.rows
                .iter()
                .any(|r| r.cells.get(i).is_some_and(Cell::is_numeric))
        })
        .collect();
    let aligns: Vec<&str> = numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", aligns.join("|"))?;
    for r in &t.rows {
        let cells: Vec<String> = r
            .cells
            .iter()
            .map(|c| {
                let s = cell(c);
                if r.kind != RowKind::Body && !s.is_empty() {
                    format!("**{s}**")
                } else {
                    s
                }
            })
            .collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "# {}", escape(&doc.title))?;
    writeln!(out)?;
    for (k, v) in &doc.header {
        writeln!(out, "- **{}:** {}", escape(k), cell(v))?;
    }
    for s in &doc.sections {
        writeln!(out)?;
        writeln!(out, "## {}", escape(&s.title))?;
        for b in &s.blocks {
            if matches!(b, Block::Chart(_)) {
                // a picture only: its figures are in the tables
                continue;
            }
            writeln!(out)?;
            match b {
                Block::Chart(_) => {}
                Block::Para(p) => writeln!(out, "{}", escape(p))?,
                Block::Fields(fs) => {
                    for (k, v) in fs {
                        writeln!(out, "- {}: {}", escape(k), cell(v))?;
                    }
                }
                Block::Table(t) => table(t, out)?,
            }
        }
    }
    Ok(())
}
