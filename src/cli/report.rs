//! `coopledger report BOOK KIND --year FY`: the close's reports in Markdown, HTML, CSV or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::engine::close::close;
use crate::ledger;
use crate::render::{self, Format};
use crate::report::kinds::{self, Kind};
use crate::report::view::View;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The book directory
    pub book: PathBuf,
    /// Which report
    #[arg(value_enum)]
    pub kind: Kind,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The close of `fy` as reports see it: the sealed record when the year is sealed, otherwise a
/// dry run computed now.
pub fn load_view(dir: &Path, fy: i32) -> anyhow::Result<Result<View, ExitCode>> {
    let (b, activity) = match super::close::load_with_activity(dir)? {
        Ok(x) => x,
        Err(code) => return Ok(Err(code)),
    };
    let kind = match serde_json::to_value(b.config.kind)? {
        serde_json::Value::String(s) => s,
        _ => String::new(),
    };
    if ledger::is_sealed(&b.dir, fy) {
        let prior = ledger::prior_state(&b, fy)?;
        let sealed = ledger::read_close(&b.dir, fy)?;
        return Ok(Ok(View::from_sealed(sealed.record, prior, kind)?));
    }
    // a dry run: earlier unsealed years are closed in memory first
    let (prior, _) = ledger::prior_state_in_memory(&b, fy, &activity)?;
    let c = close(&b, fy, &activity, &prior)?;
    Ok(Ok(View::from_close(&c, prior, kind)?))
}

pub fn run(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let format = a
        .format
        .or_else(|| a.output.as_deref().and_then(Format::from_path))
        .unwrap_or(Format::Md);
    if a.kind == Kind::Wealth {
        let (b, diags) = crate::ledger::load_book(&a.book);
        let Some(b) = b else {
            return super::check::report(diags, super::check::DiagFormat::Text);
        };
        let r = crate::wealth::report(&b, a.year)?;
        let mut buf = Vec::new();
        crate::wealth::render(&r, format, &mut buf)?;
        super::emit(a.output.as_deref(), &buf)?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.kind == Kind::Unclaimed {
        let (b, diags) = crate::ledger::load_book(&a.book);
        let Some(b) = b else {
            return super::check::report(diags, super::check::DiagFormat::Text);
        };
        let u = crate::engine::unclaimed::unclaimed(&b, a.year)?;
        let mut buf = Vec::new();
        render::render(&crate::redemption::unclaimed_doc(&u), format, &mut buf)?;
        super::emit(a.output.as_deref(), &buf)?;
        return Ok(ExitCode::SUCCESS);
    }
    let v = match load_view(&a.book, a.year)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let doc = kinds::build(a.kind, &v)?;
    let mut buf = Vec::new();
    render::render(&doc, format, &mut buf)?;
    super::emit(a.output.as_deref(), &buf)?;
    Ok(ExitCode::SUCCESS)
}
