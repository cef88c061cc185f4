//! `coopledger e2c SCENARIO.toml [-O md|html|csv|json] [-o FILE]` and
//! `coopledger e2c compare A.toml B.toml … [-O …] [-o FILE]`.
//! The clap definitions hold no logic; [`run`] resolves them and drives the library: the
//! problems of the inputs are printed like `check`'s, other errors go back to `main`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{self, Output};
use crate::diag::Diagnostics;
use crate::e2c::E2cReport;
use crate::render::Format;
use crate::report::doc::Doc;
use crate::report::e2c::{self as report, json};

#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct E2cArgs {
    #[command(subcommand)]
    pub command: Option<E2cCommand>,
    /// Scenario file (TOML), e.g. data/tidepool/scenarios/coop-conversion.toml
    #[arg(required = true)]
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum E2cCommand {
    /// Put several scenarios side by side
    Compare(CompareArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Scenario files (TOML)
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The formats `e2c` writes.
const FORMATS: &[Format] = &[Format::Md, Format::Html, Format::Csv, Format::Json];

#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS))]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    fn resolve(&self) -> anyhow::Result<Output> {
        Output::resolve(self.format, self.output.as_deref(), Format::Md, FORMATS)
    }
}

/// Loads and runs every scenario and prints every problem (on standard error, like `check`
/// prints them). `Err` holds the exit code when any scenario has errors.
fn load_all(paths: &[PathBuf]) -> anyhow::Result<Result<Vec<E2cReport>, ExitCode>> {
    let mut reports = Vec::new();
    let mut all = Diagnostics::new();
    for p in paths {
        match crate::e2c::load_and_run(p) {
            Ok((r, warnings)) => {
                all.extend(warnings);
                reports.push(r);
            }
            Err(d) => all.extend(d),
        }
    }
    let failed = all.has_errors();
    let code = super::check::report_to(
        &mut std::io::stderr().lock(),
        all,
        crate::render::Format::Text,
    )?;
    Ok(if failed { Err(code) } else { Ok(reports) })
}

/// Writes the report: JSON is the report data itself, every other format renders the document.
fn write(
    out: &OutputArgs,
    json: impl FnOnce() -> serde_json::Value,
    doc: impl FnOnce() -> anyhow::Result<Doc>,
) -> anyhow::Result<()> {
    let out = out.resolve()?;
    match out.format {
        Format::Json => out.write(&json::to_bytes(&json())?),
        _ => out.doc(&doc()?),
    }
}

fn one(path: &Path, out: &OutputArgs) -> anyhow::Result<ExitCode> {
    let report = match load_all(&[path.to_path_buf()])? {
        Ok(mut rs) => match rs.pop() {
            Some(r) => r,
            None => anyhow::bail!("`{}` gave no report", path.display()),
        },
        Err(code) => return Ok(code),
    };
    write(
        out,
        || json::value(&report),
        || Ok(report::scenario(&report)?),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn compare(c: &CompareArgs) -> anyhow::Result<ExitCode> {
    let reports = match load_all(&c.scenarios)? {
        Ok(rs) => rs,
        Err(code) => return Ok(code),
    };
    write(
        &c.output,
        || json::compare_value(&reports),
        || Ok(report::compare::compare(&reports)),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `coopledger e2c …`. Exit 0 ok, 1 input problems (printed), 2 other errors (via `main`).
pub fn run(args: &E2cArgs) -> anyhow::Result<ExitCode> {
    match (&args.command, &args.scenario) {
        (Some(E2cCommand::Compare(c)), _) => compare(c),
        (None, Some(path)) => one(path, &args.output),
        (None, None) => anyhow::bail!("give a scenario file, or `compare A.toml B.toml …`"),
    }
}
