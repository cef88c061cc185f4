//! CSV: the report's main table (the one a spreadsheet or a mail merge wants), with a leading
//! `row` column telling body lines from subtotals and control totals. Values are in machine form
//! (money exact, no separators; dates ISO 8601). JSON carries the whole report.

use std::io::Write;

use crate::report::doc::Doc;

pub fn render(doc: &Doc, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(t) = doc.primary_table() else {
        anyhow::bail!(
            "the {} report has no table to write as CSV; use -O json",
            doc.kind
        );
    };
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["row"];
    header.extend(t.columns.iter().map(|c| c.key.as_ref()));
    w.write_record(&header)?;
    for r in &t.rows {
        let mut rec = vec![r.kind.name().to_string()];
        rec.extend(r.cells.iter().map(|c| c.plain()));
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}
