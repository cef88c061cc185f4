use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::output;
use crate::render::Format;

/// The formats `check` (and every command that stops on problems in the book) writes.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json];

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The book directory (holding coop.toml)
    pub book: PathBuf,
    /// Output format for the problems found
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS), default_value = "text")]
    pub format: Format,
}

pub fn run(a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let (_, diags) = crate::ledger::check_book(&a.book);
    report(diags, a.format)
}

/// Prints diagnostics (nothing when there are none) on standard error, like every error of every
/// command, and returns the exit code: 1 on errors. Standard output carries only a command's
/// product, so `coopledger close … -O json > close.json` never mixes problems into the JSON.
pub fn report(diags: crate::diag::Diagnostics, format: Format) -> anyhow::Result<ExitCode> {
    report_to(&mut std::io::stderr().lock(), diags, format)
}

/// Loads and validates the book at `dir` (the one load-or-exit of the commands that read a book):
/// the book, or, when it has problems, the exit code after printing them on standard error (as
/// JSON when the command writes JSON).
pub fn load_or_exit(
    dir: &std::path::Path,
    format: Format,
) -> anyhow::Result<Result<crate::book::Book, ExitCode>> {
    let (b, diags) = crate::ledger::load_book(dir);
    match b {
        Some(b) => Ok(Ok(b)),
        None => Ok(Err(report(diags, format)?)),
    }
}

/// [`report`] to `out`.
pub fn report_to(
    out: &mut dyn Write,
    diags: crate::diag::Diagnostics,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let failed = diags.has_errors();
    let sorted = diags.into_sorted();
    if !sorted.is_empty() || format == Format::Json {
        crate::diag::emit(out, &sorted, format == Format::Json)?;
        out.flush()?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
