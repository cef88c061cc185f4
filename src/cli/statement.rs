//! `coopledger statement` and `coopledger verify-statement`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::ledger;
use crate::report::statement::{self, Generator, Statement};
use crate::statement::render;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatementFormat {
    Json,
    Md,
    Html,
}

impl StatementFormat {
    fn ext(self) -> &'static str {
        match self {
            StatementFormat::Json => "json",
            StatementFormat::Md => "md",
            StatementFormat::Html => "html",
        }
    }
}

#[derive(Debug, Args)]
pub struct StatementArgs {
    /// The book directory (with sealed closes in closes/FY/)
    pub book: PathBuf,
    /// The member whose statement to make
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub member: Option<String>,
    /// Every member with a capital account, one file each in the directory given by -o
    #[arg(long, requires = "output")]
    pub all: bool,
    /// Use the latest sealed fiscal year that ended on or before this date (default: the latest)
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output format (default: from the extension of -o, else md; json with --all)
    #[arg(short = 'O', long = "format", value_enum)]
    pub format: Option<StatementFormat>,
    /// Write to this file (with --all: this directory) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyStatementArgs {
    /// A statement in JSON (`coopledger statement ... -O json`)
    pub file: PathBuf,
    /// The published `member_root` (hex) from closes/FY/manifest.json
    #[arg(long)]
    pub root: String,
}

fn format_of(a: &StatementArgs) -> StatementFormat {
    if let Some(f) = a.format {
        return f;
    }
    if a.all {
        return StatementFormat::Json;
    }
    match a
        .output
        .as_deref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("json") => StatementFormat::Json,
        Some("html") | Some("htm") => StatementFormat::Html,
        _ => StatementFormat::Md,
    }
}

pub fn write(s: &Statement, f: StatementFormat, w: &mut dyn Write) -> anyhow::Result<()> {
    match f {
        StatementFormat::Json => render::json(s, w),
        StatementFormat::Md => render::markdown(s, w),
        StatementFormat::Html => render::html(s, w),
    }
}

/// Writes every member's statement into `dir` under a safe name; returns how many were written.
pub fn write_all(gen: &Generator<'_>, f: StatementFormat, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut seen = HashSet::new();
    let mut n = 0;
    let mut buf = Vec::with_capacity(16 * 1024);
    for id in gen.members() {
        let name = statement::file_name(id, f.ext());
        if !seen.insert(name.clone()) {
            bail!("two member ids map to the statement file name `{name}`");
        }
        let s = gen.statement(id)?;
        buf.clear();
        write(&s, f, &mut buf)?;
        let p = dir.join(&name);
        std::fs::write(&p, &buf).with_context(|| format!("cannot write `{}`", p.display()))?;
        n += 1;
    }
    Ok(n)
}

pub fn run(a: &StatementArgs) -> anyhow::Result<ExitCode> {
    let (b, diags) = crate::ledger::load_book(&a.book);
    let Some(b) = b else {
        return super::check::report(diags, super::check::DiagFormat::Text);
    };
    let (fy, as_of) = statement::year_for(&b, &ledger::sealed_years(&b.dir), a.as_of)?;
    let sealed = ledger::read_history(&b.dir, fy)?;
    let gen = Generator::new(&b, &sealed, as_of)?;
    let f = format_of(a);
    if a.all {
        let Some(dir) = &a.output else {
            bail!("--all needs -o DIR");
        };
        let n = write_all(&gen, f, dir)?;
        eprintln!(
            "wrote {n} statements for fiscal year {fy} to `{}`",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(id) = &a.member else {
        bail!("give --member ID or --all");
    };
    let s = gen.statement(id)?;
    match &a.output {
        Some(p) => {
            let mut buf = Vec::new();
            write(&s, f, &mut buf)?;
            crate::fsutil::write_atomic(p, &buf)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write(&s, f, &mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: &VerifyStatementArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read `{}`", a.file.display()))?;
    let fails = statement::verify_json(&text, &a.root);
    if fails.is_empty() {
        let s: Statement = serde_json::from_str(&text)?;
        println!(
            "valid: the statement of member `{}` for fiscal year {} (equity {} {}) is included in root {}",
            s.member_id,
            s.fiscal_year,
            s.equity.total,
            s.currency,
            a.root.trim().to_ascii_lowercase()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for f in &fails {
        eprintln!("{}: invalid: {f}", a.file.display());
    }
    Ok(ExitCode::from(1))
}
