//! Plain text for the terminal: the title, header lines, and each section as aligned columns
//! (numbers right-aligned, money grouped by thousands). Charts are left out; their figures are in
//! the tables.

use std::io::{self, Write};

use crate::report::doc::{Block, Cell, Doc, Table};

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// `label  value` lines with the labels padded to one width, each line indented by `indent`.
fn fields(fs: &[(String, Cell)], indent: &str, out: &mut dyn Write) -> io::Result<()> {
    let w = fs.iter().map(|(k, _)| width(k) + 1).max().unwrap_or(0);
    for (k, v) in fs {
        let line = format!("{indent}{}  {}", pad(&format!("{k}:"), w, false), v.human());
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn table(t: &Table, out: &mut dyn Write) -> io::Result<()> {
    let numeric = t.numeric_columns();
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.cells.iter().map(Cell::human).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .filter_map(|r| r.get(i).map(|s| width(s)))
                .chain([width(&c.label)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<&str>| {
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, s)| pad(s, widths[i], numeric[i]))
            .collect();
        format!("  {}", parts.join("  ")).trim_end().to_string()
    };
    writeln!(
        out,
        "{}",
        line(t.columns.iter().map(|c| c.label.as_ref()).collect())
    )?;
    for r in &cells {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", doc.title)?;
    fields(&doc.header, "", out)?;
    for s in &doc.sections {
        writeln!(out)?;
        if !s.title.is_empty() {
            writeln!(out, "{}", s.title)?;
        }
        let mut first = true;
        for b in &s.blocks {
            if matches!(b, Block::Chart(_)) {
                continue;
            }
            if !first && !matches!(b, Block::Note(_)) {
                writeln!(out)?;
            }
            first = false;
            match b {
                Block::Chart(_) => {}
                Block::Para(p) => writeln!(out, "{p}")?,
                Block::Note(p) => writeln!(out, "note: {p}")?,
                Block::Fields(fs) => fields(fs, "  ", out)?,
                Block::Table(t) => table(t, out)?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::report::doc::{RowKind, Section};
    use rust_decimal::Decimal;

    #[test]
    fn columns_align_and_money_is_grouped() {
        let usd = Currency::new("USD", 2).unwrap();
        let mut t = Table::new(&[("member", "member"), ("amount", "amount")]);
        t.push(
            RowKind::Body,
            vec![
                Cell::text("RL01"),
                Cell::Money(Money::from_decimal(Decimal::new(123456789, 2), usd).unwrap()),
            ],
        );
        t.push(
            RowKind::Total,
            vec![
                Cell::text("total"),
                Cell::Money(Money::from_decimal(Decimal::new(5, 1), usd).unwrap()),
            ],
        );
        let mut s = Section::new("pay", "payments");
        s.blocks.push(Block::Table(t));
        s.blocks.push(Block::Note("a caveat".into()));
        let doc = Doc {
            kind: "t",
            title: "Title".into(),
            header: vec![("budget".into(), Cell::Int(7))],
            sections: vec![s],
            primary: None,
        };
        let mut out = Vec::new();
        render(&doc, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Title\nbudget:  7\n\npayments\n  member        amount\n  RL01    1,234,567.89\n  total           0.50\nnote: a caveat\n"
        );
    }
}
