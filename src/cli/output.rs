//! Output settings, resolved once (ripgrep's `LowArgs` → `HiArgs`, uv's `Settings::resolve`):
//! the `-O/--format` flag, the extension of `-o FILE` and the command's default become one
//! [`Output`], and [`Output::write`] is the one writer (atomic `-o` file, else standard output).
//!
//! The library's [`Format`] derives no clap trait: each command's flag parses through
//! [`formats`], which lists only the formats that command writes, so `--help` shows them and an
//! unsupported one is refused by clap (exit 2) with the list of those it accepts.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::render::{self, Format};
use crate::report::doc::Doc;

/// The clap value parser of a command's `-O/--format`: the names of `supported`, in that order,
/// mapped onto [`Format`].
#[derive(Clone, Debug)]
pub struct FormatParser(&'static [Format]);

/// The value parser for a command that writes `supported`.
pub fn formats(supported: &'static [Format]) -> FormatParser {
    FormatParser(supported)
}

impl TypedValueParser for FormatParser {
    type Value = Format;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Format, clap::Error> {
        let names = PossibleValuesParser::new(self.0.iter().map(|f| f.name()));
        let name = names.parse_ref(cmd, arg, value)?;
        Format::from_name(&name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|f| PossibleValue::new(f.name())),
        ))
    }
}

/// Where a command's output goes and in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    /// `-o FILE`; `None` is standard output
    pub file: Option<PathBuf>,
}

impl Output {
    /// Resolves the flag (already one of `supported`), else the extension of `file` when the
    /// command writes that format, else the command's `default`.
    pub fn resolve(
        flag: Option<Format>,
        file: Option<&Path>,
        default: Format,
        supported: &[Format],
    ) -> anyhow::Result<Output> {
        let from_file = || -> anyhow::Result<Format> {
            let Some(ext) = file.and_then(Path::extension) else {
                return Ok(default);
            };
            match Format::from_path(file.unwrap_or(Path::new(""))) {
                Some(f) if supported.contains(&f) => Ok(f),
                _ => {
                    let names: Vec<&str> = supported.iter().map(|f| f.name()).collect();
                    anyhow::bail!(
                        "cannot tell the output format from `.{}`: this command writes {}; pass -O FORMAT or name the file with one of those extensions",
                        ext.to_string_lossy(),
                        names.join(", ")
                    )
                }
            }
        };
        let format = match flag {
            Some(f) => f,
            None => from_file()?,
        };
        Ok(Output {
            format,
            file: file.map(Path::to_path_buf),
        })
    }

    /// A journal export: bytes in the format `--to` chose (hledger, beancount, CSV), to `file` or
    /// standard output.
    pub fn journal(file: Option<&Path>) -> Output {
        Output {
            format: Format::Text,
            file: file.map(Path::to_path_buf),
        }
    }

    /// Standard output, in `format`.
    pub fn stdout(format: Format) -> Output {
        Output { format, file: None }
    }

    pub fn is_stdout(&self) -> bool {
        self.file.is_none()
    }

    /// The one writer: `bytes` to the `-o` file atomically, else to standard output. The
    /// io::Error of a closed pipe is returned unwrapped; `main` ends quietly on it.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        match &self.file {
            Some(p) => crate::fsutil::write_atomic(p, bytes),
            None => Ok(write_stdout(bytes)?),
        }
    }

    /// Renders `doc` in the resolved format and writes it.
    pub fn doc(&self, doc: &Doc) -> anyhow::Result<()> {
        self.write(&render::to_bytes(doc, self.format)?)
    }
}

/// Writes `bytes` to standard output and flushes it.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// The one printer of errors that end a command (diagnostics of the input have their own,
/// `crate::diag::emit`): standard error, as `{"error": "...", "causes": [...]}` when the command
/// writes JSON, else `error: ...` with one `caused by:` line per cause. A broken pipe is not an
/// error (exit 0); every other error exits 2.
pub fn print_error(e: &anyhow::Error, json: bool) -> std::process::ExitCode {
    if e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    }) {
        return std::process::ExitCode::SUCCESS;
    }
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    let text = if json {
        let v = serde_json::json!({ "error": e.to_string(), "causes": causes });
        format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
    } else {
        let mut t = format!("error: {e}\n");
        for c in &causes {
            t.push_str(&format!("  caused by: {c}\n"));
        }
        t
    };
    let _ = io::stderr().write_all(text.as_bytes());
    std::process::ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    const TEXT_JSON: &[Format] = &[Format::Text, Format::Json];

    #[test]
    fn flag_then_extension_then_default() {
        let r = |flag, file: Option<&str>| {
            Output::resolve(flag, file.map(Path::new), Format::Text, TEXT_JSON).map(|o| o.format)
        };
        assert_eq!(r(None, None).unwrap(), Format::Text);
        assert_eq!(r(None, Some("out.json")).unwrap(), Format::Json);
        assert_eq!(r(None, Some("out")).unwrap(), Format::Text);
        assert_eq!(
            r(Some(Format::Text), Some("out.json")).unwrap(),
            Format::Text
        );
        // an extension the command does not write is refused, never written in another format
        let e = r(None, Some("out.html")).unwrap_err().to_string();
        assert!(e.contains("`.html`") && e.contains("text, json"), "{e}");
        assert!(r(None, Some("out.pdf")).is_err());
        assert_eq!(
            r(Some(Format::Json), Some("out.pdf")).unwrap(),
            Format::Json
        );
        let o = Output::resolve(None, Some(Path::new("x.json")), Format::Text, TEXT_JSON).unwrap();
        assert!(!o.is_stdout());
    }

    #[test]
    fn the_flag_accepts_only_the_command_formats() {
        let cmd = || {
            Command::new("t").arg(
                Arg::new("format")
                    .short('O')
                    .value_parser(formats(TEXT_JSON)),
            )
        };
        let m = cmd().try_get_matches_from(["t", "-O", "json"]).unwrap();
        assert_eq!(m.get_one::<Format>("format"), Some(&Format::Json));
        let e = cmd().try_get_matches_from(["t", "-O", "md"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            e.to_string().contains("[possible values: text, json]"),
            "{e}"
        );
    }
}
