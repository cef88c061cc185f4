//! `coopledger e2c SCENARIO.toml [-O md|html|csv|json] [-o FILE]` and
//! `coopledger e2c compare A.toml B.toml … [-O …] [-o FILE]`.
//! The clap definitions hold no logic; [`run`] resolves them and drives the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::render::{self, Format};
use super::E2cReport;
use crate::diag::{self, Diagnostics};

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

#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    fn resolve(&self) -> Format {
        self.format
            .or_else(|| self.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Md)
    }
}

fn print_diags(d: Diagnostics) {
    let items = d.into_sorted();
    if items.is_empty() {
        return;
    }
    let stderr = std::io::stderr();
    let mut e = stderr.lock();
    let _ = diag::emit(&mut e, &items, false);
}

/// Loads and runs every scenario; prints all problems. `None` when any has errors.
fn load_all(paths: &[PathBuf]) -> Option<Vec<E2cReport>> {
    let mut reports = Vec::new();
    let mut all = Diagnostics::new();
    let mut failed = false;
    for p in paths {
        match super::load_and_run(p) {
            Ok((r, warnings)) => {
                all.extend(warnings);
                reports.push(r);
            }
            Err(d) => {
                failed = true;
                all.extend(d);
            }
        }
    }
    print_diags(all);
    (!failed).then_some(reports)
}

fn emit(out: &OutputArgs, f: impl Fn(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    match &out.output {
        Some(path) => {
            let mut buf: Vec<u8> = Vec::new();
            f(&mut buf)?;
            crate::fsutil::write_atomic(path, &buf)
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            match f(&mut lock).and_then(|()| lock.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}

/// Runs `coopledger e2c …`. Exit 0 ok, 1 input problems (printed), 2 other errors.
pub fn run(args: &E2cArgs) -> anyhow::Result<ExitCode> {
    let result = match &args.command {
        Some(E2cCommand::Compare(c)) => {
            let Some(reports) = load_all(&c.scenarios) else {
                return Ok(ExitCode::from(1));
            };
            let fmt = c.output.resolve();
            emit(&c.output, |w| render::render_compare(w, &reports, fmt))
        }
        None => {
            let Some(path) = &args.scenario else {
                anyhow::bail!("give a scenario file, or `compare A.toml B.toml …`");
            };
            let Some(mut reports) = load_all(std::slice::from_ref(path)) else {
                return Ok(ExitCode::from(1));
            };
            let Some(report) = reports.pop() else {
                return Ok(ExitCode::from(2));
            };
            let fmt = args.output.resolve();
            emit(&args.output, |w| render::render(w, &report, fmt))
        }
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}
