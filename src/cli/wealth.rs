//! `coopledger wealth BOOK --year FY`: the community-wealth report (`crate::report::wealth`).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::output::{self, Output};
use crate::render::Format;
use crate::report::wealth;

/// The formats `wealth` writes.
pub const FORMATS: &[Format] = &[Format::Md, Format::Html, Format::Csv, Format::Json];

#[derive(Debug, Args)]
pub struct WealthArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS))]
    pub format: Option<Format>,
    /// Write to this file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &WealthArgs) -> anyhow::Result<ExitCode> {
    let (b, diags) = crate::ledger::load_book(&a.book);
    let Some(b) = b else {
        return super::check::report(diags, Format::Text);
    };
    let out = Output::resolve(a.format, a.output.as_deref(), Format::Md, FORMATS);
    let r = wealth::report(&b, a.year)?;
    let mut buf = Vec::new();
    crate::report::wealth::write(&r, out.format, &mut buf)?;
    out.write(&buf)?;
    Ok(ExitCode::SUCCESS)
}
