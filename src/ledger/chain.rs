//! The chain head, `closes/chain.json`: every sealed year with its `manifest_hash`, and the
//! SHA-256 of `closes/audit.log`, so that deleting the latest sealed year (or its manifest),
//! renaming a year or editing the audit trail is seen by `verify` and refused by every reader.
//! `head` is the SHA-256 of the file with `head` empty: the one figure to record in the minutes
//! (a chain rewritten from scratch can only be told from the one the members approved by it).
//!
//! The chain head is written in the same atomic step as the sealed year it records (a swap of the
//! whole `closes/` directory, docs/SEALING.md), with [`next`]. `pending` is never written by this
//! version (reserved: a write recorded before it happened is accepted as either state).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
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

/// The manifest hash of `closes/FY/manifest.json` as on disk, if it is a manifest.
fn disk_hash(book_dir: &Path, fy: i32) -> Option<String> {
    let text = std::fs::read_to_string(sealed_path(book_dir, fy, super::MANIFEST)).ok()?;
    serde_json::from_str::<Manifest>(&text)
        .ok()
        .map(|m| m.manifest_hash)
}

/// The bytes of `closes/chain.json` once sealed year `fy` has the manifest of hash
/// `manifest_hash` and the audit log is `audit_log` (`None`: as it is), to be written in the same
/// atomic step as the year. Refuses a book whose sealed records were altered (the write would
/// record the alteration as sealed). A book sealed before the chain head existed gets one, from
/// its sealed manifests.
pub fn next(
    book_dir: &Path,
    fy: i32,
    manifest_hash: &str,
    audit_log: Option<&[u8]>,
) -> anyhow::Result<Vec<u8>> {
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
            audit_log: None,
            pending: None,
            head: String::new(),
        },
    };
    c.pending = None;
    c.years.insert(fy, manifest_hash.to_string());
    c.audit_log = match audit_log {
        Some(bytes) => Some(sha256_hex(bytes)),
        None => audit_hash(book_dir)?,
    };
    c.head = c.compute_head()?;
    pretty(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chain_as_written_is_read() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(read(t.path()), Read::Absent));
        let bytes = next(t.path(), 2025, "ab", Some(b"x")).unwrap_or_else(|e| panic!("{e}"));
        let p = chain_path(t.path());
        crate::fsutil::write_atomic(&p, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let Read::Chain(c) = read(t.path()) else {
            panic!("no chain")
        };
        assert!(c.accepts(2025, "ab") && !c.accepts(2025, "cd"));
        assert_eq!(c.audit_log, Some(sha256_hex(b"x")));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&p, text.replace("\"years\"", " \"years\""))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(read(t.path()), Read::Altered));
    }
}
