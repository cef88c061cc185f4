//! `coopledger statement` and `coopledger verify-statement`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::Args;

use super::output::{self, Output};
use crate::fsutil::{self, Durability};
use crate::ledger;
use crate::render::Format;
use crate::report::statement::{self, Generator, Statement};

/// The formats `statement` writes.
pub const FORMATS: &[Format] = &[Format::Json, Format::Md, Format::Html];

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
    #[arg(short = 'O', long = "format", value_parser = output::formats(FORMATS))]
    pub format: Option<Format>,
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

/// The output of one statement: the flag, else the `-o` extension, else md. With `--all`, `-o`
/// names a directory and the default is json.
fn output_of(a: &StatementArgs) -> anyhow::Result<Output> {
    if a.all {
        return Ok(Output {
            format: a.format.unwrap_or(Format::Json),
            file: a.output.clone(),
        });
    }
    Output::resolve(a.format, a.output.as_deref(), Format::Md, FORMATS)
}

/// Writes `s` in `f`: JSON is the statement itself (the contract `verify-statement` reads);
/// Markdown and HTML are its [`statement::doc::doc`] through the one renderer stack.
pub fn write(s: &Statement, f: Format, w: &mut dyn Write) -> anyhow::Result<()> {
    match f {
        Format::Json => w.write_all(&crate::render::json_bytes(s)?)?,
        Format::Html => crate::render::render(&statement::doc::doc(s), Format::Html, w)?,
        _ => crate::render::render(&statement::doc::doc(s), Format::Md, w)?,
    }
    Ok(())
}

/// Writes every member's statement into `dir` under a safe name; returns how many were written.
/// The directory appears complete or not at all: the statements are written into a staged copy
/// of it, which is swapped in with one rename (`fsutil::rewrite_dir`; docs/SEALING.md).
pub fn write_all(gen: &Generator<'_>, f: Format, dir: &Path) -> anyhow::Result<usize> {
    fsutil::rewrite_dir(dir, Durability::Batch, |stage| {
        let mut seen = HashSet::new();
        let mut n = 0;
        let mut buf = Vec::with_capacity(16 * 1024);
        for id in gen.members() {
            let name = statement::file_name(id, f.name());
            if !seen.insert(name.clone()) {
                bail!("two member ids map to the statement file name `{name}`");
            }
            let s = gen.statement(id)?;
            buf.clear();
            write(&s, f, &mut buf)?;
            stage
                .write(&name, &buf)
                .with_context(|| format!("cannot write `{}`", dir.join(&name).display()))?;
            n += 1;
        }
        Ok(n)
    })
}

pub fn run(a: &StatementArgs) -> anyhow::Result<ExitCode> {
    let b = match super::check::load_or_exit(&a.book, output_of(a)?.format)? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let (fy, as_of) = statement::year_for(&b, &ledger::sealed_years(&b.dir), a.as_of)?;
    let sealed = ledger::read_history(&b.dir, fy)?;
    let gen = Generator::new(&b, &sealed, as_of)?;
    let out = output_of(a)?;
    if a.all {
        let Some(dir) = &out.file else {
            bail!("--all needs -o DIR");
        };
        let n = write_all(&gen, out.format, dir)?;
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
    let mut buf = Vec::new();
    write(&s, out.format, &mut buf)?;
    out.write(&buf)?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: &VerifyStatementArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read `{}`", a.file.display()))?;
    let fails = statement::verify_json(&text, &a.root);
    if fails.is_empty() {
        let s: Statement = serde_json::from_str(&text)?;
        let line = format!(
            "valid: the statement of member `{}` for fiscal year {} (equity {} {}) is included in root {}\n",
            s.member_id,
            s.fiscal_year,
            s.equity.total,
            s.currency,
            a.root.trim().to_ascii_lowercase()
        );
        output::write_stdout(line.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    for f in &fails {
        eprintln!("{}: invalid: {f}", a.file.display());
    }
    Ok(ExitCode::from(1))
}
