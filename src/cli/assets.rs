//! `coopledger assets BOOK --year FY [--creditors X [--realised Y]]`: the shared-asset register at
//! a year end and, with `--creditors`, a dissolution preview (`crate::engine::assets`).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rust_decimal::Decimal;

use super::output::{self, Output};
use crate::engine::assets::{self, DissolutionInput};
use crate::money::Money;
use crate::render::Format;

/// The formats `assets` writes.
const FORMATS: &[Format] = &[Format::Md, Format::Json];

#[derive(Debug, Args)]
pub struct AssetsArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Preview a dissolution at the year end: what the co-op owes its creditors
    #[arg(long)]
    pub creditors: Option<Decimal>,
    /// What the assets would realise (default: book value, creditors + net worth)
    #[arg(long, requires = "creditors")]
    pub realised: Option<Decimal>,
    /// Output format
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS), default_value = "md")]
    pub format: Format,
}

pub fn run(a: &AssetsArgs) -> anyhow::Result<ExitCode> {
    let b = match super::check::load_or_exit(&a.book, a.format)? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let cur = b.config.currency;
    let reg = assets::register(&b, a.year)?;
    let dissolution = match a.creditors {
        None => None,
        Some(c) => {
            let state = crate::ledger::state_after(&b, a.year)?;
            let other_stock = b
                .results
                .iter()
                .find(|r| r.fiscal_year == a.year && r.unit.is_none() && r.line == "other_stock")
                .map_or(Money::zero(cur), |r| r.amount);
            let input = DissolutionInput {
                creditors: Money::from_decimal(c, cur)?,
                realised: a
                    .realised
                    .map(|r| Money::from_decimal(r, cur))
                    .transpose()?,
            };
            Some(assets::dissolution(
                &b,
                a.year,
                &state,
                other_stock,
                &input,
            )?)
        }
    };
    let out = Output::stdout(a.format);
    match out.format {
        Format::Json => {
            let v = serde_json::json!({ "register": reg, "dissolution": dissolution });
            out.write(&crate::render::json_bytes(&v)?)?;
        }
        _ => out.doc(&crate::report::assets::doc(&reg, dissolution.as_ref()))?,
    }
    Ok(ExitCode::SUCCESS)
}
