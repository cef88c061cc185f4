//! The layers stay honest: a scan of the source files for paths a layer must not name.
//!
//! Each rule is (path prefix, forbidden path, files exempt). A path counts where it starts a
//! path (`use std::fs`, `crate::seal::x`, `polars::prelude`), not where it is a later segment of
//! a longer one (`self::polars::activity` names our own module, not the crate). Comments count
//! too: a layer's docs should not point at what it must not use. To add a rule, add a row.
use std::path::{Path, PathBuf};

/// (files under this prefix, may not name this path, except these files)
const RULES: &[(&str, &str, &[&str])] = &[
    // engines are pure functions over data: no files, no sealed records, no output
    ("src/engine/", "std::fs", &[]),
    ("src/engine/", "crate::ledger", &[]),
    ("src/engine/", "crate::seal", &[]),
    ("src/engine/", "crate::report", &[]),
    ("src/engine/", "crate::render", &[]),
    ("src/engine/", "crate::cli", &[]),
    // ingest reads no sealed output; the ledger renders nothing; only the command line
    // (src/cli/, src/main.rs) writes to the terminal
    ("src/book/", "crate::ledger", &[]),
    ("src/ledger/", "crate::report", &[]),
    ("src/ledger/", "crate::render", &[]),
    ("src/ledger/", "crate::cli", &[]),
    // report data and renderers touch no files and know no command line
    ("src/report/", "std::fs", &[]),
    ("src/report/", "crate::cli", &[]),
    ("src/render/", "std::fs", &[]),
    ("src/render/", "crate::cli", &[]),
    ("src/book/", "println!", &[]),
    ("src/book/", "eprintln!", &[]),
    ("src/book/", "print!", &[]),
    ("src/book/", "eprint!", &[]),
    ("src/book/", "std::io::stdout", &[]),
    ("src/book/", "std::io::stderr", &[]),
    ("src/book/", "io::stdout", &[]),
    ("src/book/", "io::stderr", &[]),
    ("src/engine/", "println!", &[]),
    ("src/engine/", "eprintln!", &[]),
    ("src/engine/", "print!", &[]),
    ("src/engine/", "eprint!", &[]),
    ("src/engine/", "std::io::stdout", &[]),
    ("src/engine/", "std::io::stderr", &[]),
    ("src/engine/", "io::stdout", &[]),
    ("src/engine/", "io::stderr", &[]),
    ("src/ledger/", "println!", &[]),
    ("src/ledger/", "eprintln!", &[]),
    ("src/ledger/", "print!", &[]),
    ("src/ledger/", "eprint!", &[]),
    ("src/ledger/", "std::io::stdout", &[]),
    ("src/ledger/", "std::io::stderr", &[]),
    ("src/ledger/", "io::stdout", &[]),
    ("src/ledger/", "io::stderr", &[]),
    ("src/report/", "println!", &[]),
    ("src/report/", "eprintln!", &[]),
    ("src/report/", "print!", &[]),
    ("src/report/", "eprint!", &[]),
    ("src/report/", "std::io::stdout", &[]),
    ("src/report/", "std::io::stderr", &[]),
    ("src/report/", "io::stdout", &[]),
    ("src/report/", "io::stderr", &[]),
    ("src/render/", "println!", &[]),
    ("src/render/", "eprintln!", &[]),
    ("src/render/", "print!", &[]),
    ("src/render/", "eprint!", &[]),
    ("src/render/", "std::io::stdout", &[]),
    ("src/render/", "std::io::stderr", &[]),
    ("src/render/", "io::stdout", &[]),
    ("src/render/", "io::stderr", &[]),
    ("src/e2c/", "println!", &[]),
    ("src/e2c/", "eprintln!", &[]),
    ("src/e2c/", "print!", &[]),
    ("src/e2c/", "eprint!", &[]),
    ("src/e2c/", "std::io::stdout", &[]),
    ("src/e2c/", "std::io::stderr", &[]),
    ("src/e2c/", "io::stdout", &[]),
    ("src/e2c/", "io::stderr", &[]),
    // polars behind one door
    ("src/", "polars::", &["src/book/patronage/polars.rs"]),
    ("src/", "polars_core", &["src/book/patronage/polars.rs"]),
];

/// Every `.rs` file under `dir`, as paths relative to the crate root with `/` separators.
fn sources(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(root).expect("under the root");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, p));
        }
    }
}

fn ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `line` names `needle` as the start of a path.
fn names(line: &str, needle: &str) -> bool {
    let b = line.as_bytes();
    line.match_indices(needle).any(|(at, _)| {
        let before = &b[..at];
        match before {
            [.., c] if ident(*c) => false,
            // `x::needle`: a later segment of a longer path; `::needle` alone is a crate root
            [.., c, b':', b':'] if ident(*c) => false,
            _ => true,
        }
    })
}

/// Every (file:line, rule) that breaks a rule, over the given (relative path, text) files.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        for (prefix, needle, except) in RULES {
            if !rel.starts_with(prefix) || except.contains(&rel.as_str()) {
                continue;
            }
            for (n, line) in text.lines().enumerate() {
                if names(line, needle) {
                    out.push(format!(
                        "{rel}:{}: names `{needle}` (not allowed under `{prefix}`): {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn layers_name_only_what_they_may() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(root, &root.join("src"), &mut files);
    assert!(
        files.iter().any(|(r, _)| r == "src/engine/close/mod.rs"),
        "the scan sees the engine"
    );
    let texts: Vec<(String, String)> = files
        .into_iter()
        .map(|(rel, p)| {
            let t = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
            (rel, t)
        })
        .collect();
    let v = violations(&texts);
    assert!(v.is_empty(), "layer rules broken:\n{}", v.join("\n"));
}

/// The only files directly under `src/`: everything else lives in the folder of its stage.
const LOOSE_FILES: &[&str] = &[
    "src/diag.rs",
    "src/fsutil.rs",
    "src/lib.rs",
    "src/main.rs",
    "src/money.rs",
];

#[test]
fn src_has_no_loose_files_beyond_the_shared_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(root, &root.join("src"), &mut files);
    let loose: Vec<&str> = files
        .iter()
        .map(|(r, _)| r.as_str())
        .filter(|r| r.matches('/').count() == 1)
        .filter(|r| !LOOSE_FILES.contains(r))
        .collect();
    assert!(
        loose.is_empty(),
        "files directly under src/ that belong in a stage's folder: {loose:?}"
    );
}

#[test]
fn the_scan_finds_planted_violations() {
    let file = |rel: &str, text: &str| (rel.to_string(), text.to_string());
    let v = violations(&[
        file("src/engine/x.rs", "use std::fs;\nlet a = 1;\n"),
        file("src/engine/y.rs", "    crate::seal::read(p)\n"),
        file("src/cli/z.rs", "use polars::prelude::*;\n"),
        file("src/book/patronage/mod.rs", "self::polars::activity(b)\n"),
        file("src/book/patronage/polars.rs", "use polars::prelude::*;\n"),
        file("src/cli/close.rs", "use std::fs;\nuse crate::seal;\n"),
    ]);
    assert_eq!(
        v.iter()
            .map(|s| s.split(": ").next().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["src/engine/x.rs:1", "src/engine/y.rs:1", "src/cli/z.rs:1"]
    );
}
