//! `coopledger wealth BOOK --year FY`: the community-wealth report (`crate::wealth`).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::wealth::{self, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WealthFormat {
    Md,
    Html,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct WealthArgs {
    /// The book directory
    pub book: PathBuf,
    /// Fiscal year (named by the calendar year in which it ends)
    #[arg(long)]
    pub year: i32,
    /// Output format (default: from the -o extension, else md)
    #[arg(short = 'O', long = "format", value_enum)]
    pub format: Option<WealthFormat>,
    /// Write to this file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The format asked for, else the one the output file's extension names, else markdown.
pub fn resolve_format(format: Option<WealthFormat>, output: Option<&std::path::Path>) -> Format {
    let f = format.or_else(|| {
        match output
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("html" | "htm") => Some(WealthFormat::Html),
            Some("csv") => Some(WealthFormat::Csv),
            Some("json") => Some(WealthFormat::Json),
            _ => None,
        }
    });
    match f.unwrap_or(WealthFormat::Md) {
        WealthFormat::Md => Format::Md,
        WealthFormat::Html => Format::Html,
        WealthFormat::Csv => Format::Csv,
        WealthFormat::Json => Format::Json,
    }
}

/// Writes `bytes` to the file, or to standard output (a closed pipe is not an error).
pub fn emit(output: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    match output {
        Some(p) => crate::fsutil::write_atomic(p, bytes),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}

pub fn run(a: &WealthArgs) -> anyhow::Result<ExitCode> {
    let (b, diags) = crate::book::load(&a.book);
    let Some(b) = b else {
        return super::check::report(diags, super::check::DiagFormat::Text);
    };
    let r = wealth::report(&b, a.year)?;
    let mut buf = Vec::new();
    wealth::render(&r, resolve_format(a.format, a.output.as_deref()), &mut buf)?;
    emit(a.output.as_deref(), &buf)?;
    Ok(ExitCode::SUCCESS)
}
