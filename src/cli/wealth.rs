//! `coopledger wealth BOOK --year FY`: the community-wealth report (`crate::report::wealth`).
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::output::{self, Output};
use crate::render::Format;
use crate::report::wealth;

/// The formats `wealth` (and `report`) write.
pub const FORMATS: &[Format] = &[Format::Md, Format::Html, Format::Csv, Format::Json];

#[derive(Debug, Args)]
pub struct WealthArgs {
    /// The book directory
    pub book: PathBuf,
    #[command(flatten)]
    pub opts: YearOutput,
}

/// The fiscal year and the output of `wealth` and `report`.
#[derive(Debug, Args)]
pub struct YearOutput {
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS))]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl YearOutput {
    /// The output setting: `-O`, else the extension of `-o`, else md.
    pub fn resolve(&self) -> anyhow::Result<Output> {
        Output::resolve(self.format, self.output.as_deref(), Format::Md, FORMATS)
    }
}

/// Writes the community-wealth report of the book at `dir` for `year` to `out`.
pub fn write(dir: &Path, year: i32, out: &Output) -> anyhow::Result<ExitCode> {
    let b = match super::check::load_or_exit(dir, out.format)? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let r = wealth::report(&b, year)?;
    let mut buf = Vec::new();
    wealth::write(&r, out.format, &mut buf)?;
    out.write(&buf)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: &WealthArgs) -> anyhow::Result<ExitCode> {
    write(&a.book, a.opts.year, &a.opts.resolve()?)
}
