//! The chain head, `closes/chain.json`: every sealed year with its `manifest_hash`, and the
//! SHA-256 of `closes/audit.log`, so that deleting the latest sealed year (or its manifest),
//! renaming a year or editing the audit trail is seen by `verify` and refused by every reader.
//! `head` is the SHA-256 of the file with `head` empty: the one figure to record in the minutes
//! (a chain rewritten from scratch can only be told from the one the members approved by it).
//!
//! A write of a sealed year is journaled: [`begin`] records the manifest about to be written as
//! `pending`, the caller writes the year, then [`commit`] moves it into `years`. A crash between
//! the two leaves a `pending` entry that readers and `verify` accept in place of the recorded one
//! (the year is either as before or as written) and that the next write resolves from the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::{closes_dir, pretty, sealed_path, sha256_file, sha256_hex, Manifest, AUDIT_LOG};

pub const CHAIN: &str = "chain.json";
pub const CHAIN_FORMAT: &str = "coopledger-chain/1";

/// A sealed year being written (see the module documentation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub fiscal_year: i32,
    pub manifest_hash: String,
}

/// `closes/chain.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub format: String,
    /// every sealed fiscal year and the `manifest_hash` of its manifest
    pub years: BTreeMap<i32, String>,
    /// SHA-256 of `closes/audit.log`, when there is one
    pub audit_log: Option<String>,
    pub pending: Option<Pending>,
    /// SHA-256 of this file with `head` empty
    pub head: String,
}

impl Chain {
    fn compute_head(&self) -> anyhow::Result<String> {
        let mut copy = self.clone();
        copy.head = String::new();
        Ok(sha256_hex(&serde_json::to_vec(&copy)?))
    }

    /// Whether `hash` is the manifest hash recorded (or being written) for `fy`.
    pub fn accepts(&self, fy: i32, hash: &str) -> bool {
        self.years.get(&fy).is_some_and(|h| h == hash)
            || self
                .pending
                .as_ref()
                .is_some_and(|p| p.fiscal_year == fy && p.manifest_hash == hash)
    }

    /// The recorded manifest hash of the latest sealed year before `fy`.
    pub fn before(&self, fy: i32) -> Option<&String> {
        self.years.range(..fy).next_back().map(|(_, h)| h)
    }
}

/// `closes/chain.json` of the book at `book_dir`.
pub fn chain_path(book_dir: &Path) -> PathBuf {
    closes_dir(book_dir).join(CHAIN)
}

/// What is on disk at `closes/chain.json`.
pub enum Read {
    Absent,
    /// unreadable, not canonical or its `head` does not match
    Altered,
    Chain(Chain),
}

/// Reads `closes/chain.json`: only bytes exactly as written (canonical JSON, `head` matching) are
/// a chain.
pub fn read(book_dir: &Path) -> Read {
    let Ok(bytes) = std::fs::read(chain_path(book_dir)) else {
        return if chain_path(book_dir).exists() {
            Read::Altered
        } else {
            Read::Absent
        };
    };
    let Ok(c) = serde_json::from_slice::<Chain>(&bytes) else {
        return Read::Altered;
    };
    let canonical = pretty(&c).is_ok_and(|p| p == bytes);
    if !canonical || c.format != CHAIN_FORMAT || c.compute_head().ok().as_ref() != Some(&c.head) {
        return Read::Altered;
    }
    Read::Chain(c)
}

/// SHA-256 of `closes/audit.log`, if it exists.
pub fn audit_hash(book_dir: &Path) -> anyhow::Result<Option<String>> {
    let p = closes_dir(book_dir).join(AUDIT_LOG);
    if p.exists() {
        Ok(Some(sha256_file(&p)?))
    } else {
        Ok(None)
    }
}

fn write(book_dir: &Path, mut c: Chain) -> anyhow::Result<()> {
    c.head = c.compute_head()?;
    crate::fsutil::write_atomic(&chain_path(book_dir), &pretty(&c)?)?;
    super::verify::forget(book_dir);
    Ok(())
}

/// The manifest hash of `closes/FY/manifest.json` as on disk, if it is a manifest.
fn disk_hash(book_dir: &Path, fy: i32) -> Option<String> {
    let text = std::fs::read_to_string(sealed_path(book_dir, fy, super::MANIFEST)).ok()?;
    serde_json::from_str::<Manifest>(&text)
        .ok()
        .map(|m| m.manifest_hash)
}

/// Before writing sealed year `fy` with a manifest of hash `manifest_hash`: refuses a book whose
/// sealed records were altered, resolves a write left pending by a crash, and records this one
/// as pending. A book sealed before the chain head existed gets one, from its sealed manifests.
pub fn begin(book_dir: &Path, fy: i32, manifest_hash: &str) -> anyhow::Result<()> {
    super::verify::check_sealed(book_dir)?;
    let mut c = match read(book_dir) {
        Read::Chain(c) => c,
        Read::Altered => bail!(
            "`{}` was altered; run `coopledger verify` on the book",
            chain_path(book_dir).display()
        ),
        Read::Absent => Chain {
            format: CHAIN_FORMAT.into(),
            years: super::sealed_years(book_dir)
                .into_iter()
                .filter_map(|y| disk_hash(book_dir, y).map(|h| (y, h)))
                .collect(),
            audit_log: audit_hash(book_dir)?,
            pending: None,
            head: String::new(),
        },
    };
    resolve(book_dir, &mut c)?;
    c.pending = Some(Pending {
        fiscal_year: fy,
        manifest_hash: manifest_hash.to_string(),
    });
    write(book_dir, c)
}

/// A pending write found on disk is complete (recorded) or did not happen (dropped).
fn resolve(book_dir: &Path, c: &mut Chain) -> anyhow::Result<()> {
    if let Some(p) = c.pending.take() {
        if disk_hash(book_dir, p.fiscal_year).as_ref() == Some(&p.manifest_hash) {
            c.years.insert(p.fiscal_year, p.manifest_hash);
        }
        c.audit_log = audit_hash(book_dir)?;
    }
    Ok(())
}

/// After the sealed year recorded by [`begin`] (and any audit line) is written: records it.
pub fn commit(book_dir: &Path) -> anyhow::Result<()> {
    let mut c = match read(book_dir) {
        Read::Chain(c) => c,
        _ => bail!(
            "`{}` changed while a sealed year was written",
            chain_path(book_dir).display()
        ),
    };
    let p = c
        .pending
        .take()
        .with_context(|| format!("`{}` records no write", chain_path(book_dir).display()))?;
    c.years.insert(p.fiscal_year, p.manifest_hash);
    c.audit_log = audit_hash(book_dir)?;
    write(book_dir, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chain_as_written_is_read() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(read(t.path()), Read::Absent));
        begin(t.path(), 2025, "ab").unwrap_or_else(|e| panic!("{e}"));
        let Read::Chain(c) = read(t.path()) else {
            panic!("no chain")
        };
        assert!(c.accepts(2025, "ab") && c.years.is_empty());
        // nothing was written: the next write drops the pending one
        begin(t.path(), 2025, "cd").unwrap_or_else(|e| panic!("{e}"));
        commit(t.path()).unwrap_or_else(|e| panic!("{e}"));
        let Read::Chain(c) = read(t.path()) else {
            panic!("no chain")
        };
        assert!(c.pending.is_none());
        assert_eq!(c.years, BTreeMap::from([(2025, "cd".to_string())]));
        let p = chain_path(t.path());
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&p, text.replace("\"years\"", " \"years\""))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(read(t.path()), Read::Altered));
    }
}
