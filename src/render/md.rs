//! Markdown (GitHub-flavoured pipe tables). Text from the books is escaped so that it cannot
//! break a table or smuggle in HTML.

use std::io::{self, Write};

use super::escape::markdown as escape;
use crate::report::doc::{Block, Cell, Doc, RowKind, Table};

fn cell(c: &Cell) -> String {
    escape(&c.human())
}

fn table(t: &Table, out: &mut dyn Write) -> io::Result<()> {
    let labels: Vec<String> = t.columns.iter().map(|c| escape(&c.label)).collect();
    writeln!(out, "| {} |", labels.join(" | "))?;
    let aligns: Vec<&str> = t
        .numeric_columns()
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

pub fn render(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {}", escape(&doc.title))?;
    if !doc.header.is_empty() {
        writeln!(out)?;
    }
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
                Block::Note(p) => writeln!(out, "> {}", escape(p))?,
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
