//! `coopledger export BOOK --year FY --to hledger|beancount|csv`: journal entries of the close.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::report::journal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Hledger,
    Beancount,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Journal format
    #[arg(long = "to", value_enum)]
    pub to: Target,
    /// Write to FILE (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &ExportArgs) -> anyhow::Result<ExitCode> {
    let v = match super::report::load_view(&a.book, a.year, crate::render::Format::Text)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let mut es = journal::entries(&v)?;
    // sealed revolvements add the year's redemptions and the member-debt installments due
    let mut debts = Vec::new();
    for y in crate::ledger::sealed_years(&a.book)
        .into_iter()
        .filter(|y| *y <= a.year)
    {
        if let Some(s) = crate::ledger::sealed_redemptions(&a.book, y)? {
            debts.extend(s.debts.iter().cloned());
        }
    }
    let sealed = crate::ledger::sealed_redemptions(&a.book, a.year)?;
    es.extend(journal::redemption_entries(
        &v,
        a.year,
        sealed.as_ref(),
        &debts,
    )?);
    let mut buf = Vec::new();
    match a.to {
        Target::Hledger => journal::hledger(&v, &es, &mut buf)?,
        Target::Beancount => journal::beancount(&v, &es, &mut buf)?,
        Target::Csv => journal::csv(&v, &es, &mut buf)?,
    }
    super::output::Output::journal(a.output.as_deref()).write(&buf)?;
    Ok(ExitCode::SUCCESS)
}
