//! The one reader of sealed files: every read of `closes/FY/*` goes through
//! [`read_sealed_file`], which refuses bytes that differ from the SHA-256 in the year's manifest,
//! a manifest not as written, and a book whose sealed records were altered in any other way.

use std::path::Path;

use anyhow::{bail, Context};

use super::record::CloseRecord;
use super::verify::check_sealed;
use super::{
    pretty, sealed_path, sealed_years, sha256_hex, Manifest, CLOSE_JSON, MANIFEST, REDEMPTIONS_JSON,
};
use crate::engine::revolve::Sealed;

/// Manifest formats this version reads: `/1` (no chain head, receivables and subscriptions not
/// recorded as inputs) and `/2`, which it writes.
pub const FORMATS: [&str; 2] = ["coopledger-close/1", "coopledger-close/2"];

/// A manifest from its bytes, only as written: UTF-8, canonical pretty JSON with a final newline,
/// a known format and its own `manifest_hash`. The error is the problem, for [`super::verify`].
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "manifest altered (not UTF-8)")?;
    let m: Manifest =
        serde_json::from_str(text).map_err(|_| "manifest altered (not a manifest)")?;
    let canonical = pretty(&m).is_ok_and(|p| p == bytes);
    if !canonical || !FORMATS.contains(&m.format.as_str()) {
        return Err("manifest altered");
    }
    match m.compute_hash() {
        Ok(h) if h == m.manifest_hash => Ok(m),
        _ => Err("manifest altered"),
    }
}

/// The bytes of sealed file `p`; when it cannot be read, what [`check_sealed`] finds changed in
/// the book (a deleted file is named as such), else the read error.
fn read_or_check(book_dir: &Path, p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).or_else(|e| {
        check_sealed(book_dir)?;
        Err(e).with_context(|| format!("cannot read `{}`", p.display()))
    })
}

/// The manifest of sealed fiscal year `fy`, refused unless it is exactly as written (see
/// [`parse_manifest`]) and for `fy`; does not check the rest of the book.
fn manifest_as_written(book_dir: &Path, fy: i32) -> anyhow::Result<Manifest> {
    let mp = sealed_path(book_dir, fy, MANIFEST);
    let bytes = read_or_check(book_dir, &mp)?;
    match parse_manifest(&bytes) {
        Ok(m) if m.fiscal_year == fy => Ok(m),
        Ok(m) => bail!(
            "`{}` is the manifest of fiscal year {}, not {fy}; run `coopledger verify` on the book",
            mp.display(),
            m.fiscal_year
        ),
        Err(problem) => bail!(
            "`{}`: {problem}; run `coopledger verify` on the book",
            mp.display()
        ),
    }
}

/// The manifest of sealed fiscal year `fy`, refused when it or any sealed record of the book was
/// altered (its own hash, the chain, the chain head, extra or missing files: see
/// [`super::verify::check_sealed`]).
pub fn read_manifest(book_dir: &Path, fy: i32) -> anyhow::Result<Manifest> {
    let m = manifest_as_written(book_dir, fy)?;
    check_sealed(book_dir)?;
    Ok(m)
}

/// The bytes of a file sealed for fiscal year `fy` (`closes/FY/NAME` of the book at `book_dir`),
/// refused when they differ from the SHA-256 recorded in that year's manifest, or when any sealed
/// record of the book was altered ([`read_manifest`]): reports, statements and the wealth trend
/// are made only from records as they were sealed (`coopledger verify` names what changed).
/// Returns the year's manifest with the bytes.
pub fn read_sealed_file(
    book_dir: &Path,
    fy: i32,
    name: &str,
) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let m = manifest_as_written(book_dir, fy)?;
    let p = sealed_path(book_dir, fy, name);
    let bytes = read_or_check(book_dir, &p)?;
    if m.outputs.get(name) != Some(&sha256_hex(&bytes)) {
        bail!(
            "`{}` changed since fiscal year {fy} was sealed; run `coopledger verify` on the book",
            p.display()
        );
    }
    check_sealed(book_dir)?;
    Ok((m, bytes))
}

/// One sealed year: its close record, the published root, and the secret its salts derive from.
#[derive(Debug, Clone)]
pub struct SealedClose {
    pub fiscal_year: i32,
    /// `member_root` of the year's manifest
    pub root: String,
    pub member_total: String,
    /// SHA-256 of `close.json` as recorded in the manifest
    pub secret: String,
    pub record: CloseRecord,
}

/// The sealed close of fiscal year `fy`, refused when `close.json` changed since sealing.
pub fn read_close(book_dir: &Path, fy: i32) -> anyhow::Result<SealedClose> {
    let (m, bytes) = read_sealed_file(book_dir, fy, CLOSE_JSON)?;
    // the bytes match this hash (checked above)
    let secret = m.outputs.get(CLOSE_JSON).cloned().unwrap_or_default();
    let record: CloseRecord = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "`{}` is not a sealed close",
            sealed_path(book_dir, fy, CLOSE_JSON).display()
        )
    })?;
    Ok(SealedClose {
        fiscal_year: fy,
        root: m.member_root,
        member_total: m.member_total,
        secret,
        record,
    })
}

/// Only the state a sealed close of `fy` left for the next year, through the same hash check as
/// [`read_close`] but without building the whole record (the next close of a 100,000-member book
/// needs the state, not every member's allocation: 1.9 s and 451 MB with the whole record against
/// 1.35 s and 261 MB this way).
pub fn read_close_state(book_dir: &Path, fy: i32) -> anyhow::Result<crate::engine::state::State> {
    #[derive(serde::Deserialize)]
    struct StateOnly {
        state: crate::engine::state::State,
    }
    let (_, bytes) = read_sealed_file(book_dir, fy, CLOSE_JSON)?;
    let s: StateOnly = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "`{}` is not a sealed close",
            sealed_path(book_dir, fy, CLOSE_JSON).display()
        )
    })?;
    Ok(s.state)
}

/// Every sealed close up to `upto` (inclusive), ascending (see [`read_close`]).
pub fn read_closes(book_dir: &Path, upto: i32) -> anyhow::Result<Vec<SealedClose>> {
    sealed_years(book_dir)
        .into_iter()
        .filter(|y| *y <= upto)
        .map(|y| read_close(book_dir, y))
        .collect()
}

/// The redemptions sealed for `fy` (`closes/FY/redemptions.json`), if any; refused when the file
/// differs from the hash in the year's manifest.
pub fn sealed_redemptions(book_dir: &Path, fy: i32) -> anyhow::Result<Option<Sealed>> {
    let p = sealed_path(book_dir, fy, REDEMPTIONS_JSON);
    if !p.exists() {
        return Ok(None);
    }
    let (_, bytes) = read_sealed_file(book_dir, fy, REDEMPTIONS_JSON)?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("`{}` is not UTF-8", p.display()))?;
    let r = Sealed::parse(&text)
        .with_context(|| format!("`{}` is not a sealed redemption record", p.display()))?;
    Ok(Some(r))
}

/// Every sealed year up to `upto` (inclusive), ascending: the closes and the redemptions sealed
/// after them. What member statements are made from.
#[derive(Debug, Clone)]
pub struct SealedHistory {
    pub closes: Vec<SealedClose>,
    /// (fiscal year, its sealed redemptions), ascending
    pub redemptions: Vec<(i32, Sealed)>,
}

/// Reads [`SealedHistory`] up to `upto` (see [`read_close`] and [`sealed_redemptions`]).
pub fn read_history(book_dir: &Path, upto: i32) -> anyhow::Result<SealedHistory> {
    let closes = read_closes(book_dir, upto)?;
    let mut redemptions = Vec::new();
    for c in &closes {
        if let Some(r) = sealed_redemptions(book_dir, c.fiscal_year)? {
            redemptions.push((c.fiscal_year, r));
        }
    }
    Ok(SealedHistory {
        closes,
        redemptions,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ledger::{sealed_years, year_dir};

    fn sealed_book(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = year_dir(t.path(), 2025);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let outputs: BTreeMap<String, String> = files
            .iter()
            .map(|(n, b)| (n.to_string(), sha256_hex(b)))
            .collect();
        let mut m = Manifest {
            format: "coopledger-close/1".into(),
            fiscal_year: 2025,
            inputs: BTreeMap::new(),
            outputs,
            previous: None,
            member_root: String::new(),
            member_total: "0.00".into(),
            members: 0,
            manifest_hash: String::new(),
        };
        for (n, b) in files {
            std::fs::write(dir.join(n), b).unwrap_or_else(|e| panic!("{e}"));
        }
        m.manifest_hash = m.compute_hash().unwrap_or_else(|e| panic!("{e}"));
        let m = pretty(&m).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join(MANIFEST), m).unwrap_or_else(|e| panic!("{e}"));
        t
    }

    #[test]
    fn sealed_files_are_read_only_as_sealed() {
        let t = sealed_book(&[("a.csv", b"x,y\n")]);
        let (m, bytes) =
            read_sealed_file(t.path(), 2025, "a.csv").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (m.fiscal_year, bytes.as_slice()),
            (2025, b"x,y\n".as_slice())
        );
        std::fs::write(sealed_path(t.path(), 2025, "a.csv"), b"x,z\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = read_sealed_file(t.path(), 2025, "a.csv").map(|_| ());
        assert!(
            format!("{err:?}").contains("changed since fiscal year 2025 was sealed"),
            "{err:?}"
        );
        // a file the manifest does not name is not sealed
        std::fs::write(sealed_path(t.path(), 2025, "b.csv"), b"").unwrap_or_else(|e| panic!("{e}"));
        assert!(read_sealed_file(t.path(), 2025, "b.csv").is_err());
    }

    #[test]
    fn only_years_with_a_manifest_are_sealed() {
        let t = sealed_book(&[]);
        std::fs::create_dir_all(year_dir(t.path(), 2026)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(t.path().join("closes/.audit")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sealed_years(t.path()), vec![2025]);
        assert!(read_history(t.path(), 2024)
            .map(|h| h.closes.is_empty())
            .unwrap_or(false));
    }
}
