//! `coopledger revolve` (the year's equity redemptions, sealed next to the close) and
//! `coopledger forecast` (cash needed for redemptions over the coming years).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::output::{self, Output};
use crate::book::patronage::{self, Activity};
use crate::book::Book;
use crate::engine::forecast::forecast as project;
use crate::engine::revolve::{revolve, uses_activity, Options};
use crate::engine::unclaimed::{unclaimed, UnclaimedStatus};
use crate::ledger;
use crate::render::Format;
use crate::report::redemption;

/// The formats `revolve` writes.
const REVOLVE_FORMATS: &[Format] = &[
    Format::Text,
    Format::Json,
    Format::Md,
    Format::Html,
    Format::Csv,
];

/// The formats `forecast` writes.
const FORECAST_FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Html];

#[derive(Debug, Args)]
pub struct RevolveArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year whose redemptions to compute (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Compute and show the redemptions without sealing them
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (default: from the extension of -o, else text)
    #[arg(short = 'O', long = "format", value_parser = output::formats(REVOLVE_FORMATS))]
    pub format: Option<Format>,
    /// Write the output to this file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// The book directory
    pub book: PathBuf,
    /// Number of fiscal years to project
    #[arg(long, default_value_t = 10)]
    pub years: u32,
    /// First fiscal year to project (default: the year after the latest sealed close, or after
    /// the latest year in results.csv)
    #[arg(long)]
    pub from: Option<i32>,
    /// Output format (default: from the extension of -o, else text)
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORECAST_FORMATS))]
    pub format: Option<Format>,
    /// Write the output to this file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What the sealed redemptions of years before `fy` carry into `fy`: the leaver debts they
/// created and, per member, the receivables they set off.
pub fn earlier(book_dir: &Path, fy: i32) -> anyhow::Result<Options> {
    let mut o = Options::default();
    for y in ledger::sealed_years(book_dir)
        .into_iter()
        .filter(|y| *y < fy)
    {
        if let Some(r) = ledger::sealed_redemptions(book_dir, y)? {
            for (id, a) in r.set_off_by_member() {
                let e = o.earlier_set_offs.entry(id).or_default();
                *e = e
                    .checked_add(a)
                    .ok_or_else(|| anyhow::anyhow!("the sealed set-offs overflow"))?;
            }
            o.open_debts.extend(r.debts);
        }
    }
    Ok(o)
}

/// The book's patronage activity when the redemption plan reads it (base capital), else none:
/// other plans do not need `patronage.csv` read.
/// A patronage ledger with problems is refused (its diagnostics printed), never read in part.
fn activity_for(b: &Book, format: Format) -> anyhow::Result<Result<Activity, ExitCode>> {
    if !uses_activity(b) {
        return Ok(Ok(Activity::default()));
    }
    let (activity, diags) = patronage::activity(b);
    if diags.has_errors() {
        return Ok(Err(super::check::report(diags, format)?));
    }
    Ok(Ok(activity))
}

pub fn run(a: &RevolveArgs) -> anyhow::Result<ExitCode> {
    let out = Output::resolve(a.format, a.output.as_deref(), Format::Text, REVOLVE_FORMATS)?;
    let b = match super::check::load_or_exit(&a.book, out.format)? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    if !a.dry_run {
        // finish or undo a write interrupted by a crash, before looking at what is sealed
        ledger::recover(&b.dir)?;
    }
    let closed = ledger::close_state(&b, a.year)?;
    let is_closed = closed.is_some();
    let state = match closed {
        Some(s) => s,
        None => ledger::prior_state(&b, a.year)?,
    };
    let opts = earlier(&b.dir, a.year)?;
    let activity = match activity_for(&b, out.format)? {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let mut rev = revolve(&b, a.year, &state, &activity, &opts)?;
    if !is_closed && (!rev.conversions.is_empty() || rev.payments.iter().any(|p| p.special)) {
        rev.notes.push(format!(
            "fiscal year {} is not closed: estates and leavers do not include its allocation yet; close the year before sealing",
            a.year
        ));
    }
    let mut report = redemption::build(&b, &state, &rev)?;
    // exceptions: uncashed payments due for notice or forfeiture at the year end
    report.unclaimed = unclaimed(&b, a.year)?
        .lines
        .into_iter()
        .filter(|u| u.status != UnclaimedStatus::Outstanding)
        .collect();
    let mut bytes = match out.format {
        Format::Json => redemption::json(&rev)?,
        Format::Csv => redemption::csv(&rev)?,
        f => crate::render::to_bytes(&crate::report::redemption::doc(&report), f)?,
    };
    if !a.dry_run {
        let files = vec![
            (
                ledger::REDEMPTIONS_JSON.to_string(),
                redemption::json(&rev)?,
            ),
            (ledger::REDEMPTIONS_CSV.to_string(), redemption::csv(&rev)?),
        ];
        let m = ledger::seal_redemptions(&b, a.year, &files)
            .with_context(|| format!("cannot seal the redemptions of fiscal year {}", a.year))?;
        if out.format == Format::Text && out.is_stdout() {
            bytes.extend_from_slice(
                format!(
                    "\nsealed in {}/{}/{}/{}: manifest {}\n",
                    b.dir.display(),
                    ledger::CLOSES,
                    a.year,
                    ledger::REDEMPTIONS_JSON,
                    m.manifest_hash
                )
                .as_bytes(),
            );
        }
    }
    out.write(&bytes)?;
    Ok(ExitCode::SUCCESS)
}

pub fn forecast(a: &ForecastArgs) -> anyhow::Result<ExitCode> {
    let out = Output::resolve(
        a.format,
        a.output.as_deref(),
        Format::Text,
        FORECAST_FORMATS,
    )?;
    let b = match super::check::load_or_exit(&a.book, out.format)? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let from = match a.from {
        Some(y) => y,
        None => {
            let sealed = ledger::sealed_years(&b.dir).last().copied();
            let results = b.result_years().last().copied();
            match sealed.or(results) {
                Some(y) => y + 1,
                None => anyhow::bail!(
                    "the book has no sealed close and no year in results.csv; pass --from FY"
                ),
            }
        }
    };
    let state = ledger::prior_state(&b, from)?;
    let activity = match activity_for(&b, out.format)? {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let f = project(
        &b,
        from,
        a.years,
        &state,
        &activity,
        &earlier(&b.dir, from)?,
    )?;
    match out.format {
        Format::Json => out.write(&crate::render::json_bytes(&f)?)?,
        _ => out.doc(&crate::report::forecast::doc(&f))?,
    }
    Ok(ExitCode::SUCCESS)
}
