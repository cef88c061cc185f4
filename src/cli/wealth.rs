//! `coopledger wealth BOOK --year FY`: the community-wealth report (`crate::wealth`).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::render::Format;
use crate::wealth;

#[derive(Debug, Args)]
pub struct WealthArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_enum)]
    pub format: Option<Format>,
    /// Write to this file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &WealthArgs) -> anyhow::Result<ExitCode> {
    let (b, diags) = crate::ledger::load_book(&a.book);
    let Some(b) = b else {
        return super::check::report(diags, super::check::DiagFormat::Text);
    };
    let r = wealth::report(&b, a.year)?;
    let mut buf = Vec::new();
    wealth::render(
        &r,
        a.format
            .or_else(|| a.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Md),
        &mut buf,
    )?;
    super::emit(a.output.as_deref(), &buf)?;
    Ok(ExitCode::SUCCESS)
}
