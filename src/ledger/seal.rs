//! Writing sealed records: a year's close (`closes/FY/`, with its manifest chained to the previous
//! sealed year), reopening a sealed year (the old record kept under `closes/.audit/`), and a year's
//! sealed redemptions. The schedules sealed beside `close.json` are rendered by the caller and
//! handed over as bytes: storage does not render. Every write is atomic and survives a kill at any
//! point (docs/SEALING.md): a new year appears with one rename, and a change to sealed years
//! (reopening, sealed redemptions) swaps the whole `closes/` directory in one step.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

use super::merkle::{build_tree, leaves_from, LeafBody};
use super::read::read_manifest;
use super::read::{read_history, SealedClose, SealedHistory};
use super::{
    closes_dir, is_sealed, pretty, sealed_before, sealed_years, sha256_file, sha256_hex, year_dir,
    Manifest, AUDIT_DIR, AUDIT_LOG, CLOSE_JSON, INPUTS, MANIFEST, MANIFEST_FORMAT,
    REDEMPTIONS_JSON,
};
use crate::book::Book;
use crate::engine::close::Close;
use crate::engine::state::State;
use crate::fsutil::{self, Durability};

/// The bytes of `close.json`: the full close, with the state the next close starts from
/// (serialized straight from the structs: a JSON value tree of a 100,000-member close took over a
/// gigabyte).
pub fn close_json(close: &Close) -> anyhow::Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct WithState<'a> {
        #[serde(flatten)]
        close: &'a Close,
        state: &'a State,
    }
    pretty(&WithState {
        close,
        state: &close.state_after,
    })
}

fn previous_manifest_hash(book: &Book, fy: i32) -> anyhow::Result<Option<String>> {
    match sealed_before(&book.dir, fy) {
        None => Ok(None),
        Some(y) => Ok(Some(read_manifest(&book.dir, y)?.manifest_hash)),
    }
}

/// What the statements of the close of `fy` are made from when it is sealed: the sealed years
/// before it (with their sealed redemptions) and the close itself, read back from the bytes of its
/// `close.json` (no root yet).
fn history_for_sealing(book: &Book, fy: i32, close_json: &[u8]) -> anyhow::Result<SealedHistory> {
    let mut h = read_history(&book.dir, fy.saturating_sub(1))?;
    let record = serde_json::from_slice(close_json)
        .context("the close does not read back as a sealed record")?;
    h.closes.push(SealedClose {
        fiscal_year: fy,
        root: String::new(),
        member_total: String::new(),
        secret: String::new(),
        record,
    });
    Ok(h)
}

/// Makes the statement bodies the member tree binds from the sealed history (the last close is
/// the one being sealed): one per member with a capital account (`report::statement` hands this
/// in; the ledger builds no report).
pub type Bodies<'a> = &'a dyn Fn(&SealedHistory) -> anyhow::Result<Vec<LeafBody>>;

/// Seals `close` into `closes/FY/`: `close.json`, then `rendered` (the schedules made from the
/// close, by name) and the manifest, whose `member_root` is the tree over the statement bodies
/// `bodies` makes from the sealed years before and this close. Refuses when the year is sealed unless `reopen` holds a
/// reason, in which case the previous record is kept under `closes/.audit/` and logged in
/// `closes/audit.log`.
pub fn seal(
    book: &Book,
    close: &Close,
    rendered: Vec<(String, Vec<u8>)>,
    reopen: Option<&str>,
    bodies: Bodies<'_>,
) -> anyhow::Result<Manifest> {
    recover(&book.dir)?;
    let fy = close.fiscal_year;
    let dir = year_dir(&book.dir, fy);
    let exists = is_sealed(&book.dir, fy);
    if exists && reopen.is_none() {
        bail!("fiscal year {fy} is already closed (`{}`); to close it again, pass --reopen --reason \"...\"", dir.display());
    }
    if let Some(later) = sealed_years(&book.dir).into_iter().find(|y| *y > fy) {
        bail!("fiscal year {later} is already closed; reopen the years after {fy} first, latest first");
    }
    if let Some((name, _)) = rendered
        .iter()
        .find(|(n, _)| n == CLOSE_JSON || n == MANIFEST)
    {
        bail!("`{name}` is written by the ledger itself, not handed to it");
    }
    let mut files = vec![(CLOSE_JSON.to_string(), close_json(close)?)];
    files.extend(rendered);
    let mut inputs = BTreeMap::new();
    for name in INPUTS {
        let p = book.dir.join(name);
        if p.exists() {
            inputs.insert(name.to_string(), sha256_file(&p)?);
        }
    }
    let mut outputs = BTreeMap::new();
    for (name, bytes) in &files {
        outputs.insert(name.clone(), sha256_hex(bytes));
    }
    let secret = outputs.get(CLOSE_JSON).cloned().unwrap_or_default();
    let history = history_for_sealing(book, fy, &files[0].1)?;
    let lv = leaves_from(bodies(&history)?, &secret);
    drop(history);
    let (_, root, total) = build_tree(&lv);
    let mut manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        fiscal_year: fy,
        inputs,
        outputs,
        previous: previous_manifest_hash(book, fy)?,
        member_root: hex::encode(root),
        member_total: crate::money::Money::from_minor(total, book.config.currency)
            .map(|m| m.to_string())
            .unwrap_or_default(),
        members: lv.len(),
        manifest_hash: String::new(),
    };
    manifest.manifest_hash = manifest.compute_hash()?;
    files.push((MANIFEST.to_string(), pretty(&manifest)?));
    if exists {
        reopen_year(book, fy, &files, reopen.unwrap_or_default(), &manifest)?;
    } else {
        // the year and the chain head that records it appear together (docs/SEALING.md)
        let chain = super::chain::next(&book.dir, fy, &manifest.manifest_hash, None)?;
        fsutil::rewrite_dir(&closes_dir(&book.dir), Durability::EachFile, |stage| {
            for (name, bytes) in &files {
                stage.write(&format!("{fy}/{name}"), bytes)?;
            }
            stage.write(super::chain::CHAIN, &chain)
        })?;
    }
    Ok(manifest)
}

/// Replaces the sealed record of `fy` with `files`, keeping the old one under
/// `closes/.audit/FY-N` and logging why in `closes/audit.log`: all three change together, in one
/// swap of the whole `closes/` directory (docs/SEALING.md).
fn reopen_year(
    book: &Book,
    fy: i32,
    files: &[(String, Vec<u8>)],
    reason: &str,
    manifest: &Manifest,
) -> anyhow::Result<()> {
    let closes = closes_dir(&book.dir);
    fsutil::rewrite_dir(&closes, Durability::EachFile, |stage| {
        let audit = stage.path().join(AUDIT_DIR);
        let n = std::fs::read_dir(&audit).map(|r| r.count()).unwrap_or(0) + 1;
        let year = fy.to_string();
        let old: Manifest = serde_json::from_str(&std::fs::read_to_string(
            stage.path().join(&year).join(MANIFEST),
        )?)?;
        stage.rename(&year, &format!("{AUDIT_DIR}/{fy}-{n}"))?;
        for (name, bytes) in files {
            stage.write(&format!("{year}/{name}"), bytes)?;
        }
        let mut text = std::fs::read_to_string(stage.path().join(AUDIT_LOG)).unwrap_or_default();
        let entry = serde_json::json!({
            "fiscal_year": fy,
            "reopened": n,
            "reason": reason,
            "previous_manifest_hash": old.manifest_hash,
            "new_manifest_hash": manifest.manifest_hash,
            "kept_in": format!("{AUDIT_DIR}/{fy}-{n}"),
        });
        text.push_str(&serde_json::to_string(&entry)?);
        text.push('\n');
        let chain = super::chain::next(
            &book.dir,
            fy,
            &manifest.manifest_hash,
            Some(text.as_bytes()),
        )?;
        stage.write(AUDIT_LOG, text.as_bytes())?;
        stage.write(super::chain::CHAIN, &chain)
    })
}

/// Finishes or undoes a write of `closes/` interrupted by a crash and removes the temporary
/// debris it left (in the book directory, `closes/`, `closes/.audit/` and each year). Every
/// command that writes sealed records calls it first; readers never see the debris.
pub fn recover(book_dir: &Path) -> anyhow::Result<()> {
    let closes = closes_dir(book_dir);
    fsutil::recover_dir(&closes)?;
    fsutil::remove_debris(&closes)?;
    fsutil::remove_debris(&closes.join(AUDIT_DIR))?;
    for y in sealed_years(book_dir) {
        fsutil::remove_debris(&year_dir(book_dir, y))?;
    }
    Ok(())
}

/// Adds the year's redemption files to the sealed close of `fy` and re-seals its manifest (new
/// output hashes and `manifest_hash`; `previous` is unchanged). Refuses when the year is not
/// closed, when its redemptions are already sealed, or when a later year is sealed (its manifest
/// chains to this one).
pub fn seal_redemptions(
    book: &Book,
    fy: i32,
    files: &[(String, Vec<u8>)],
) -> anyhow::Result<Manifest> {
    recover(&book.dir)?;
    let dir = year_dir(&book.dir, fy);
    if !dir.join(MANIFEST).exists() {
        bail!("fiscal year {fy} is not closed; run `coopledger close {} --year {fy}` first, or use --dry-run", book.dir.display());
    }
    if dir.join(REDEMPTIONS_JSON).exists() {
        bail!("the redemptions of fiscal year {fy} are already sealed (`{}`); use --dry-run to look at them again", dir.join(REDEMPTIONS_JSON).display());
    }
    if let Some(later) = sealed_years(&book.dir).into_iter().find(|y| *y > fy) {
        bail!("fiscal year {later} is already closed and chains to {fy}; redemptions of {fy} can no longer be sealed");
    }
    let text = std::fs::read_to_string(dir.join(MANIFEST))?;
    let mut m: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a manifest", dir.join(MANIFEST).display()))?;
    if m.compute_hash()? != m.manifest_hash {
        bail!("the manifest of fiscal year {fy} was altered; run `coopledger verify` first");
    }
    for (name, bytes) in files {
        m.outputs.insert(name.clone(), sha256_hex(bytes));
    }
    m.manifest_hash = m.compute_hash()?;
    // the redemption files and the new manifest appear together: `closes/` is swapped as a whole
    let manifest = pretty(&m)?;
    let chain = super::chain::next(&book.dir, fy, &m.manifest_hash, None)?;
    fsutil::rewrite_dir(&closes_dir(&book.dir), Durability::EachFile, |stage| {
        for (name, bytes) in files {
            stage.write(&format!("{fy}/{name}"), bytes)?;
        }
        stage.write(&format!("{fy}/{MANIFEST}"), &manifest)?;
        stage.write(super::chain::CHAIN, &chain)
    })?;
    Ok(m)
}
