//! `coopledger clt-resale --formula fixed|index|appraisal|froi …`: a community-land-trust resale
//! cap with its working (`crate::engine::clt`).
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use rust_decimal::Decimal;

use super::output::{self, Output};
use crate::render::Format;

use crate::engine::clt::{self, Formula, Inputs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CltFormula {
    /// price0 + price0 × rate × years
    Fixed,
    /// price0 + price0 × (AMI now / AMI then − 1)
    Index,
    /// price0 + share × (appraisal now − appraisal then)
    Appraisal,
    /// Glen Aspen / IHFA fair return on investment
    Froi,
}

/// The formats `clt-resale` writes.
const FORMATS: &[Format] = &[Format::Text, Format::Json];

#[derive(Debug, Args)]
pub struct CltArgs {
    #[arg(long, value_enum)]
    pub formula: CltFormula,
    /// Initial purchase price (fixed, index, appraisal)
    #[arg(long)]
    pub price0: Option<Decimal>,
    /// Percent a year (fixed; froi: on the initial improvement price)
    #[arg(long)]
    pub rate: Option<Decimal>,
    /// Years owned (fixed, froi)
    #[arg(long)]
    pub years: Option<Decimal>,
    /// Area median income at purchase (index)
    #[arg(long)]
    pub ami_then: Option<Decimal>,
    /// Area median income now (index)
    #[arg(long)]
    pub ami_now: Option<Decimal>,
    /// Homeowner's share of the appreciation, percent (appraisal)
    #[arg(long)]
    pub share: Option<Decimal>,
    /// Appraised value at purchase (appraisal)
    #[arg(long)]
    pub appraisal_then: Option<Decimal>,
    /// Appraised value now (appraisal)
    #[arg(long)]
    pub appraisal_now: Option<Decimal>,
    /// Market value at purchase (froi)
    #[arg(long)]
    pub market_value_then: Option<Decimal>,
    /// Market value now (froi, for the seller's net proceeds)
    #[arg(long)]
    pub market_value_now: Option<Decimal>,
    /// Land value at purchase (froi)
    #[arg(long)]
    pub land_value_then: Option<Decimal>,
    /// Land value now (froi, for the seller's net proceeds)
    #[arg(long)]
    pub land_value_now: Option<Decimal>,
    /// HOME subsidy (froi; default 0)
    #[arg(long)]
    pub home_subsidy: Option<Decimal>,
    /// Mortgage principal repaid (froi; default 0)
    #[arg(long)]
    pub principal_paid: Option<Decimal>,
    /// Capital improvements made by the owner (froi; half counts; default 0)
    #[arg(long)]
    pub capital_improvements: Option<Decimal>,
    /// Seller closing costs (froi; default 0)
    #[arg(long)]
    pub closing_costs: Option<Decimal>,
    /// Liens outstanding (froi; default 0)
    #[arg(long)]
    pub liens: Option<Decimal>,
    /// Output format
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS), default_value = "text")]
    pub format: Format,
}

pub fn run(a: &CltArgs) -> anyhow::Result<ExitCode> {
    let formula = match a.formula {
        CltFormula::Fixed => Formula::Fixed,
        CltFormula::Index => Formula::Index,
        CltFormula::Appraisal => Formula::Appraisal,
        CltFormula::Froi => Formula::Froi,
    };
    let i = Inputs {
        price0: a.price0,
        rate_pct: a.rate,
        years: a.years,
        ami_then: a.ami_then,
        ami_now: a.ami_now,
        share_pct: a.share,
        appraisal_then: a.appraisal_then,
        appraisal_now: a.appraisal_now,
        market_value_then: a.market_value_then,
        market_value_now: a.market_value_now,
        land_value_then: a.land_value_then,
        land_value_now: a.land_value_now,
        home_subsidy: a.home_subsidy,
        principal_paid: a.principal_paid,
        capital_improvements: a.capital_improvements,
        closing_costs: a.closing_costs,
        liens: a.liens,
    };
    let r = clt::resale(formula, &i)?;
    let out = Output::stdout(a.format);
    let bytes = match out.format {
        Format::Json => crate::render::json_bytes(&r)?,
        _ => crate::render::to_bytes(&crate::report::clt::doc(&r), Format::Text)?,
    };
    out.write(&bytes)?;
    Ok(ExitCode::SUCCESS)
}
