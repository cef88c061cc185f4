//! The sealed years of a book: `closes/FY/` holds a year's close (`close.json` and the schedules
//! rendered from it), the year's sealed redemptions, and a `manifest.json` with the SHA-256 of
//! every input and output file, chained to the previous sealed year's manifest, and `member_root`,
//! the root of a Merkle sum tree over every member's closing equity; `closes/chain.json` records
//! every sealed year's manifest hash and the audit log's hash ([`chain`]). See `docs/SEALING.md`.
//!
//! This module is the only code that knows the `closes/` layout and the only code that reads or
//! writes it: [`record`] is the one model of `close.json`, [`read`] the one hash-checked reader,
//! [`history`] the state at any year, [`seal`] writes a sealed year, [`verify`] re-checks them,
//! [`merkle`] builds the member tree and [`proof`] checks a statement's inclusion proof.

pub mod chain;
pub mod history;
pub mod merkle;
pub mod proof;
pub mod read;
pub mod record;
pub mod seal;
pub mod uncashed;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use history::{
    close_state, closes_through, prior_state, prior_state_in_memory, state_after, unsealed_before,
    YearClose,
};
pub use read::{
    read_close, read_closes, read_history, read_sealed_file, sealed_redemptions, SealedClose,
    SealedHistory,
};
pub use record::CloseRecord;
pub use seal::{close_json, recover, seal, seal_redemptions, Bodies};
pub use uncashed::{check_book, load_book};
pub use verify::{verify, Finding, Verified};

pub const CLOSES: &str = "closes";
/// `format` of a sealed year's manifest. `/2`: `member_root` binds each member's whole statement
/// body (`/1` bound the closing equity, the year's roll-forward, allocation and tranches only),
/// `receivables.csv` and `subscriptions.csv` are recorded inputs, and the book has the chain head
/// `closes/chain.json` ([`read::FORMATS`] lists the formats read).
pub const MANIFEST_FORMAT: &str = "coopledger-close/2";
pub const MANIFEST: &str = "manifest.json";
pub const CLOSE_JSON: &str = "close.json";
pub const AUDIT_LOG: &str = "audit.log";
/// Where a reopened year's previous record is kept, under `closes/`.
pub const AUDIT_DIR: &str = ".audit";
/// The year's sealed equity redemptions (`coopledger revolve`), applied after the close's state.
pub const REDEMPTIONS_JSON: &str = "redemptions.json";
pub const REDEMPTIONS_CSV: &str = "redemptions.csv";

/// Input files of a book that a close depends on.
pub const INPUTS: &[&str] = &[
    "coop.toml",
    "members.csv",
    "contributions.csv",
    "patronage.csv",
    "results.csv",
    "equity.csv",
    "assets.csv",
    "receivables.csv",
    "subscriptions.csv",
];

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub fiscal_year: i32,
    /// SHA-256 of each input file of the book at the time of sealing
    pub inputs: BTreeMap<String, String>,
    /// SHA-256 of each output file in this directory (all but the manifest)
    pub outputs: BTreeMap<String, String>,
    /// `manifest_hash` of the previous sealed year, if any
    pub previous: Option<String>,
    /// root of the Merkle sum tree over members' closing equity (hex), and its total
    pub member_root: String,
    pub member_total: String,
    pub members: usize,
    /// SHA-256 of this manifest with `manifest_hash` empty
    pub manifest_hash: String,
}

impl Manifest {
    fn compute_hash(&self) -> anyhow::Result<String> {
        let mut copy = self.clone();
        copy.manifest_hash = String::new();
        Ok(sha256_hex(&serde_json::to_vec(&copy)?))
    }
}

/// `closes/` of the book at `book_dir`.
pub fn closes_dir(book_dir: &Path) -> PathBuf {
    book_dir.join(CLOSES)
}

/// `closes/FY/` of the book at `book_dir`.
pub fn year_dir(book_dir: &Path, fy: i32) -> PathBuf {
    closes_dir(book_dir).join(fy.to_string())
}

/// `closes/FY/NAME` of the book at `book_dir`.
pub fn sealed_path(book_dir: &Path, fy: i32, name: &str) -> PathBuf {
    year_dir(book_dir, fy).join(name)
}

/// Whether fiscal year `fy` is sealed (its manifest exists).
pub fn is_sealed(book_dir: &Path, fy: i32) -> bool {
    sealed_path(book_dir, fy, MANIFEST).exists()
}

/// Sealed fiscal years, ascending.
pub fn sealed_years(book_dir: &Path) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir(closes_dir(book_dir))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
                .filter(|y| is_sealed(book_dir, *y))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The latest sealed fiscal year before `fy`, if any.
pub fn sealed_before(book_dir: &Path, fy: i32) -> Option<i32> {
    sealed_years(book_dir).into_iter().filter(|y| *y < fy).max()
}

/// Pretty JSON with a final newline, as every sealed JSON file is written.
fn pretty<T: Serialize>(v: &T) -> anyhow::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap_or_else(|e| panic!("{e}")).path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Files under `src/<dir>` that mention any of `needles`.
    fn mentions(dir: &str, needles: &[&str]) -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        files.sort();
        let mut found = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{e}"));
            for n in needles {
                if text.contains(n) {
                    found.push(format!("{} mentions `{n}`", f.display()));
                }
            }
        }
        found
    }

    #[test]
    fn sealed_records_sit_between_the_engine_and_the_reports() {
        // ingest and the engine do not read sealed output
        assert_eq!(mentions("book", &["crate::ledger"]), Vec::<String>::new());
        assert_eq!(mentions("engine", &["crate::ledger"]), Vec::<String>::new());
        // storage neither renders nor prints (the needles are built so that this file does not
        // mention them itself)
        let up: Vec<String> = ["report", "render", "cli"]
            .iter()
            .map(|m| format!("crate::{m}"))
            .chain(["println", "eprintln"].iter().map(|m| format!("{m}!(")))
            .collect();
        let up: Vec<&str> = up.iter().map(String::as_str).collect();
        assert_eq!(mentions("ledger", &up), Vec::<String>::new());
    }
}
