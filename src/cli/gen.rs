use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::book::gen::{write_book, GenKind, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Consumer,
    Worker,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Directory to write the book into (must not hold a coop.toml yet)
    pub dir: PathBuf,
    /// Number of members
    #[arg(long, default_value_t = 1000)]
    pub members: u64,
    /// Number of patronage rows
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Seed of the generator: the same arguments always give the same files
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What kind of co-op to generate
    #[arg(long, value_enum, default_value = "consumer")]
    pub kind: Kind,
    /// Fiscal years covered (the last one ends in 2025)
    #[arg(long, default_value_t = 1)]
    pub years: u32,
    /// Last day of the fiscal year, MM-DD
    #[arg(long, default_value = "12-31")]
    pub fiscal_year_end: String,
}

pub fn run(a: &GenArgs) -> anyhow::Result<ExitCode> {
    if a.dir.join("coop.toml").exists() {
        bail!(
            "`{}` already holds a book (coop.toml exists); nothing was written",
            a.dir.display()
        );
    }
    let Some(fye) = crate::book::config::parse_month_day(&a.fiscal_year_end) else {
        bail!(
            "`--fiscal-year-end {}` is not a month-day such as 12-31 or 06-30",
            a.fiscal_year_end
        );
    };
    if a.members == 0 || a.years == 0 || a.years > 50 {
        bail!("`--members` must be at least 1 and `--years` between 1 and 50");
    }
    let mut spec = Spec::new(a.members, a.rows, a.seed);
    spec.kind = match a.kind {
        Kind::Consumer => GenKind::Consumer,
        Kind::Worker => GenKind::Worker,
    };
    spec.years = a.years;
    spec.fiscal_year_end = fye;
    let tty = std::io::stderr().is_terminal();
    let total = a.rows;
    let mut progress = |n: u64| {
        if tty {
            eprint!("\rgen: {n} of {total} patronage rows");
        }
    };
    let s = write_book(&a.dir, &spec, &mut progress)
        .with_context(|| format!("cannot write the book in `{}`", a.dir.display()))?;
    if tty {
        eprintln!(
            "\rgen: wrote {} members and {} patronage rows ({} bytes) to `{}`",
            s.members,
            s.rows,
            s.patronage_bytes,
            a.dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
