//! `coopledger report BOOK KIND --year FY`: the close's reports in Markdown, HTML, CSV or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::engine::close::close;
use crate::ledger;
use crate::render::Format;
use crate::report::kinds::{self, Kind};
use crate::report::view::View;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The book directory
    pub book: PathBuf,
    /// Which report
    #[arg(value_parser = kinds())]
    pub kind: Kind,
    #[command(flatten)]
    pub opts: super::wealth::YearOutput,
}

/// The clap value parser of the report kind: the names of [`Kind::ALL`].
fn kinds() -> impl clap::builder::TypedValueParser<Value = Kind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(Kind::ALL.map(|k| {
        let v = PossibleValue::new(k.name());
        match k.about() {
            Some(about) => v.help(about),
            None => v,
        }
    }))
    .try_map(|name| Kind::from_name(&name).ok_or("an unknown report kind"))
}

/// The close of `fy` as reports see it: the sealed record when the year is sealed, otherwise a
/// dry run computed now.
pub fn load_view(dir: &Path, fy: i32, format: Format) -> anyhow::Result<Result<View, ExitCode>> {
    let (b, activity) = match super::close::load_with_activity(dir, format)? {
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
    let out = a.opts.resolve()?;
    if a.kind == Kind::Wealth {
        return super::wealth::write(&a.book, a.opts.year, &out);
    }
    if a.kind == Kind::Unclaimed {
        let b = match super::check::load_or_exit(&a.book, out.format)? {
            Ok(b) => b,
            Err(code) => return Ok(code),
        };
        let u = crate::engine::unclaimed::unclaimed(&b, a.opts.year)?;
        out.doc(&crate::report::unclaimed::doc(&u))?;
        return Ok(ExitCode::SUCCESS);
    }
    let v = match load_view(&a.book, a.opts.year, out.format)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    out.doc(&kinds::build(a.kind, &v)?)?;
    Ok(ExitCode::SUCCESS)
}
