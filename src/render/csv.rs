//! CSV: the report's main table (the one a spreadsheet or a mail merge wants), with a leading
//! `row` column telling body lines from subtotals and control totals. Values are in machine form
//! (money exact, no separators; dates ISO 8601). JSON carries the whole report.

use std::io::{self, Write};

use crate::render::escape::csv_formula;
use crate::report::doc::Doc;

/// The one CSV writer of the program: the csv crate's, with every cell neutralised against
/// spreadsheet formulas ([`csv_formula`]) on its way out. Same calls as `csv::Writer`.
pub struct Writer<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    pub fn from_writer(out: W) -> Writer<W> {
        Writer {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one record, each field through [`csv_formula`] (a field that is not UTF-8 is
    /// written as it is: the program writes none).
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        for field in record {
            let b = field.as_ref();
            match std::str::from_utf8(b) {
                Ok(s) => self.inner.write_field(csv_formula(s).as_bytes())?,
                Err(_) => self.inner.write_field(b)?,
            }
        }
        self.inner.write_record(None::<&[u8]>)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// The csv crate's error as the io::Error it wraps (so that a closed pipe stays a closed pipe and
/// is not reported as a failure).
pub fn io_error(e: csv::Error) -> io::Error {
    if e.is_io_error() {
        if let csv::ErrorKind::Io(io) = e.into_kind() {
            return io;
        }
        return io::Error::other("CSV write failed");
    }
    io::Error::other(e)
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    let Some(t) = doc.primary_table() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the {} report has no table to write as CSV; use -O json",
                doc.kind
            ),
        ));
    };
    let mut w = Writer::from_writer(out);
    let mut header = vec!["row"];
    header.extend(t.columns.iter().map(|c| c.key.as_ref()));
    w.write_record(&header).map_err(io_error)?;
    for r in &t.rows {
        let mut rec = vec![r.kind.name().to_string()];
        rec.extend(r.cells.iter().map(|c| c.plain()));
        w.write_record(&rec).map_err(io_error)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::{Cell, RowKind, Section, Table};

    /// A writer whose reader has gone away (`| head`).
    struct ClosedPipe;
    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    fn doc() -> Doc {
        let mut t = Table::new(&[("id", "Id")]);
        for i in 0..10_000 {
            t.push(RowKind::Body, vec![Cell::Int(i)]);
        }
        let mut s = Section::new("s", "S");
        s.blocks.push(crate::report::doc::Block::Table(t));
        let mut d = Doc {
            kind: "test",
            title: "t".into(),
            header: Vec::new(),
            sections: Vec::new(),
            primary: None,
        };
        d.push_primary(s, 0);
        d
    }

    #[test]
    fn a_closed_pipe_stays_a_broken_pipe() {
        let e = render(&doc(), &mut ClosedPipe).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_doc_without_a_table_is_refused_clearly() {
        let mut d = doc();
        d.primary = None;
        let e = render(&d, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("no table to write as CSV"), "{e}");
    }
}
