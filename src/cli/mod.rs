//! Command-line definitions (clap) and dispatch: one file per command, no logic in the flags.

mod assets;
mod check;
mod close;
mod clt;
pub mod e2c;
mod export;
mod gen;
mod init;
pub mod output;
mod report;
mod revolve;
mod statement;
mod wealth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::render::Format;

/// Exact, open books for cooperatives and community-owned enterprises.
///
/// A book is a directory with coop.toml and CSV ledgers (docs/FORMATS.md). Exit codes: 0 ok,
/// 1 problems found in the input, 2 other errors.
#[derive(Debug, Parser)]
#[command(name = "coopledger", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a valid empty book with commented templates
    Init(init::InitArgs),
    /// Validate a book: print nothing and exit 0 when clean, list every problem and exit 1 otherwise
    Check(check::CheckArgs),
    /// Write a deterministic synthetic book of any size (for benchmarks and tests)
    Gen(gen::GenArgs),
    /// Close a fiscal year: net margin, reserves, patronage allocation, capital accounts; seals closes/FY/
    Close(close::CloseArgs),
    /// Re-check every sealed year of a book (files, manifests, chain head, audit log), name any file
    /// changed, added or missing, and print the chain head to record outside the book
    Verify(close::VerifyArgs),
    /// Reports: schedule, worksheet, notices, rollforward, 1099-patr, board (of a close), wealth
    /// and unclaimed (uncashed payments due for notice or forfeiture)
    Report(report::ReportArgs),
    /// Journal entries of a close for hledger, beancount or a spreadsheet
    Export(export::ExportArgs),
    /// Compute a year's equity redemptions (revolving fund, percentage, base capital, estates,
    /// leavers, joint memberships, set-off of what members owe); without --dry-run seals them into
    /// closes/FY/ next to the close
    Revolve(revolve::RevolveArgs),
    /// Project the cash needed for equity redemptions over the coming years
    Forecast(revolve::ForecastArgs),
    /// A member's statement: equity by tranche, allocation history, sealed redemptions, payout, and
    /// an inclusion proof
    Statement(statement::StatementArgs),
    /// Check a JSON member statement against a published member_root; exit 1 naming what was altered
    VerifyStatement(statement::VerifyStatementArgs),
    /// Community wealth: members' accounts, collective reserve and shared assets; Gini, trend
    Wealth(wealth::WealthArgs),
    /// The shared-asset register at a year end; with --creditors, a dissolution preview
    Assets(assets::AssetsArgs),
    /// Community-land-trust resale cap: fixed rate, AMI index, appraisal share or FROI, with the working
    CltResale(Box<clt::CltArgs>),
    /// Exit to Community modeller: ownership by year under votes, economic claims and legal title
    E2c(e2c::E2cArgs),
}

impl Command {
    /// Whether the command was asked for JSON (`-O json`, or `-o FILE.json` without `-O`): its
    /// errors are then printed as JSON too, so a script reading JSON always gets JSON.
    pub fn writes_json(&self) -> bool {
        use std::path::Path;
        let asked = |f: Option<Format>, o: Option<&Path>| match f {
            Some(f) => f == Format::Json,
            None => o.and_then(Path::extension).is_some_and(|e| e == "json"),
        };
        match self {
            Command::Check(a) => a.format == Format::Json,
            Command::Close(a) => a.format == Format::Json,
            Command::Assets(a) => a.format == Format::Json,
            Command::CltResale(a) => a.format == Format::Json,
            Command::Report(a) => asked(a.opts.format, a.opts.output.as_deref()),
            Command::Revolve(a) => asked(a.format, a.output.as_deref()),
            Command::Forecast(a) => asked(a.format, a.output.as_deref()),
            Command::Statement(a) => asked(a.format, a.output.as_deref()),
            Command::Wealth(a) => asked(a.opts.format, a.opts.output.as_deref()),
            Command::E2c(a) => {
                let o = match &a.command {
                    Some(e2c::E2cCommand::Compare(c)) => &c.output,
                    None => &a.output,
                };
                asked(o.format, o.output.as_deref())
            }
            Command::Init(_)
            | Command::Gen(_)
            | Command::Verify(_)
            | Command::Export(_)
            | Command::VerifyStatement(_) => false,
        }
    }
}

/// Runs the command line and prints its error, if any, through the one error printer: a closed
/// pipe (`| head`) ends quietly with exit 0; any other error is printed on standard error, as
/// JSON when the command was asked for JSON, and exits 2.
pub fn main(cli: Cli) -> ExitCode {
    let json = cli.command.writes_json();
    match run(cli) {
        Ok(code) => code,
        Err(e) => output::print_error(&e, json),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::E2c(a) => e2c::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Init(a) => init::run(&a),
        Command::Gen(a) => gen::run(&a),
        Command::Revolve(a) => revolve::run(&a),
        Command::Forecast(a) => revolve::forecast(&a),
        Command::Close(a) => close::run(&a),
        Command::Verify(a) => close::verify(&a),
        Command::Report(a) => report::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Statement(a) => statement::run(&a),
        Command::VerifyStatement(a) => statement::verify(&a),
        Command::Wealth(a) => wealth::run(&a),
        Command::CltResale(a) => clt::run(&a),
        Command::Assets(a) => assets::run(&a),
    }
}
