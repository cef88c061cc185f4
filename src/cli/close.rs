use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use super::output::{self, Output};
use crate::book;
use crate::engine::close::{close, Close};
use crate::ledger;
use crate::render::Format;
use crate::report;

/// The formats `close` writes.
const FORMATS: &[Format] = &[Format::Text, Format::Json];

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year to close (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Compute and show the close without writing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the result
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS), default_value = "text")]
    pub format: Format,
    /// Close a year that is already closed again (the old record is kept in closes/.audit)
    #[arg(long, requires = "reason")]
    pub reopen: bool,
    /// Why the year is reopened (written to closes/audit.log)
    #[arg(long)]
    pub reason: Option<String>,
    /// Also write the close's files (close.json, allocation.csv, tranches.csv, summary.txt) into
    /// this directory, e.g. `reports/valley-commons-2025`; the book itself is not touched
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Loads and validates a book with its patronage activity; on problems prints them (as JSON when
/// the command writes JSON) and returns the exit code to use.
pub fn load_with_activity(
    dir: &std::path::Path,
    format: Format,
) -> anyhow::Result<Result<(book::Book, book::patronage::Activity), ExitCode>> {
    let (b, diags) = ledger::load_book(dir);
    let Some(b) = b else {
        return Ok(Err(super::check::report(diags, format)?));
    };
    // load warnings are printed with the activity's errors, if any
    let (activity, d) = crate::activity(&b);
    if d.has_errors() {
        let mut all = diags;
        all.extend(d);
        return Ok(Err(super::check::report(all, format)?));
    }
    Ok(Ok((b, activity)))
}

/// The schedules sealed beside `close.json` (and written by `--out`), rendered from the close.
fn rendered_files(c: &Close) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    Ok(vec![
        (
            "allocation.csv".to_string(),
            report::close::allocation_csv(c)?,
        ),
        ("tranches.csv".to_string(), report::close::tranches_csv(c)?),
    ])
}

pub fn run(a: &CloseArgs) -> anyhow::Result<ExitCode> {
    if a.reopen && a.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        bail!("--reopen needs --reason \"why the year is closed again\"");
    }
    let (b, activity) = match load_with_activity(&a.book, a.format)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    if !a.dry_run {
        // finish or undo a write interrupted by a crash, before looking at what is sealed
        ledger::recover(&b.dir)?;
    }
    if !a.dry_run && !a.reopen && ledger::is_sealed(&b.dir, a.year) {
        bail!(
            "fiscal year {} is already closed; use --dry-run to look at it again, or --reopen --reason \"...\"",
            a.year
        );
    }
    let pending = ledger::unsealed_before(&b, a.year);
    if !a.dry_run && !pending.is_empty() {
        let list: Vec<String> = pending.iter().map(|y| y.to_string()).collect();
        bail!(
            "fiscal year {} cannot be closed before {} (results.csv has lines for it); close the earlier years first, in order",
            a.year,
            list.join(", ")
        );
    }
    let (prior, in_memory) = ledger::prior_state_in_memory(&b, a.year, &activity)?;
    let mut c = close(&b, a.year, &activity, &prior)?;
    if !in_memory.is_empty() {
        let list: Vec<String> = in_memory.iter().map(|y| y.to_string()).collect();
        c.notes.push(format!(
            "dry run: the unsealed earlier years {} were closed in memory first",
            list.join(", ")
        ));
    }
    let out = Output::stdout(a.format);
    let text = out.format == Format::Text;
    match out.format {
        Format::Json => out.write(&report::close::json(&c)?)?,
        _ => out.doc(&report::close_summary::doc(&c))?,
    }
    if let Some(dir) = &a.out {
        let mut files = vec![(ledger::CLOSE_JSON.to_string(), ledger::close_json(&c)?)];
        files.extend(rendered_files(&c)?);
        let summary = crate::render::to_bytes(&report::close_summary::doc(&c), Format::Text)?;
        files.push(("summary.txt".into(), summary));
        for (name, bytes) in &files {
            crate::fsutil::write_atomic(&dir.join(name), bytes)?;
        }
        if text {
            let line = format!("\nwrote {} files to {}\n", files.len(), dir.display());
            out.write(line.as_bytes())?;
        }
    }
    if !a.dry_run {
        let reason = if a.reopen { a.reason.as_deref() } else { None };
        let bodies = |h: &ledger::SealedHistory| report::statement::sealing_bodies(&b, h);
        let m = ledger::seal(&b, &c, rendered_files(&c)?, reason, &bodies)?;
        if text {
            let line = format!(
                "\nsealed in {}/{}/{}: member_root {}, manifest {}\n",
                b.dir.display(),
                ledger::CLOSES,
                a.year,
                m.member_root,
                m.manifest_hash
            );
            out.write(line.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The book directory
    pub book: PathBuf,
}

pub fn verify(a: &VerifyArgs) -> anyhow::Result<ExitCode> {
    use std::fmt::Write as _;
    let v = ledger::verify(&a.book)?;
    let mut out = String::new();
    if v.years.is_empty() && v.findings.is_empty() {
        writeln!(out, "no sealed year in `{}`", a.book.display())?;
        output::write_stdout(out.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    for f in &v.findings {
        let year = f.fiscal_year.map(|y| format!("{y}: ")).unwrap_or_default();
        writeln!(
            out,
            "{year}{} ({}){}",
            f.file,
            f.problem,
            if f.tampering {
                ""
            } else {
                " — not an error if you added later rows or corrected inputs; reopen the year to re-seal"
            }
        )?;
    }
    if v.tampered() {
        // only the years (and book-wide files) actually altered
        let mut altered: Vec<String> = Vec::new();
        for f in v.findings.iter().filter(|f| f.tampering) {
            let what = f
                .fiscal_year
                .map_or_else(|| f.file.clone(), |y| y.to_string());
            if !altered.contains(&what) {
                altered.push(what);
            }
        }
        writeln!(out, "sealed records were altered: {}", altered.join(", "))?;
    } else {
        let list: Vec<String> = v.years.iter().map(|y| y.to_string()).collect();
        writeln!(
            out,
            "sealed years verified: {} (hash chain intact)",
            list.join(", ")
        )?;
        match &v.head {
            Some(h) => writeln!(
                out,
                "chain head: {h} (record it, e.g. in the minutes: a rewritten chain has another)"
            )?,
            None => writeln!(
                out,
                "no chain head (sealed by an earlier version); the next close or revolve writes `{}/{}`",
                ledger::CLOSES,
                ledger::chain::CHAIN
            )?,
        }
    }
    output::write_stdout(out.as_bytes())?;
    Ok(if v.tampered() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
