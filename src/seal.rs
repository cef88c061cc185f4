//! Sealed periods: a real close writes `closes/FY/` inside the book with its schedules, a
//! `manifest.json` holding the SHA-256 of every input and output file, chained to the previous
//! sealed year's manifest, and `member_root`, the root of a Merkle sum tree over every member's
//! closing equity. See `docs/SEALING.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::book::Book;
use crate::engine::close::Close;
use crate::engine::state::{initial_state, State};

pub const CLOSES: &str = "closes";
pub const MANIFEST: &str = "manifest.json";
pub const CLOSE_JSON: &str = "close.json";
pub const AUDIT_LOG: &str = "audit.log";
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

// ---------------------------------------------------------------- Merkle sum tree

/// A leaf: one member's closing equity in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    pub member_id: String,
    pub amount_minor: i128,
    /// a per-member salt so that sibling hashes do not reveal other members by guessing
    pub salt: String,
    /// hex SHA-256 of the member's [`LeafDetail`]: binds the tranche breakdown and the year's
    /// capital-account roll-forward and allocation to the leaf (see `docs/STATEMENTS.md`)
    pub detail: String,
}

/// What a leaf commits to besides the closing amount, all in minor units: the year's
/// capital-account roll-forward, the year's allocation and every outstanding tranche.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafDetail {
    pub opening: i128,
    pub contributions: i128,
    pub allocations: i128,
    pub losses: i128,
    pub interest: i128,
    pub redemptions: i128,
    pub closing: i128,
    /// the year's patronage allocation: total, cash, retained
    pub allocated: i128,
    pub cash: i128,
    pub retained: i128,
    /// (allocation year, kind, amount), sorted
    pub tranches: Vec<(i32, String, i128)>,
}

/// The canonical digest of a [`LeafDetail`]: a tagged, length-prefixed encoding hashed once.
pub fn detail_digest(d: &LeafDetail) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"coopledger-leaf-detail/1");
    for v in [
        d.opening,
        d.contributions,
        d.allocations,
        d.losses,
        d.interest,
        d.redemptions,
        d.closing,
        d.allocated,
        d.cash,
        d.retained,
    ] {
        h.update(v.to_be_bytes());
    }
    h.update((d.tranches.len() as u64).to_be_bytes());
    for (year, kind, amount) in &d.tranches {
        h.update(year.to_be_bytes());
        h.update((kind.len() as u64).to_be_bytes());
        h.update(kind.as_bytes());
        h.update(amount.to_be_bytes());
    }
    h.finalize().into()
}

pub fn leaf_hash(l: &Leaf) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update((l.member_id.len() as u64).to_be_bytes());
    h.update(l.member_id.as_bytes());
    h.update(l.amount_minor.to_be_bytes());
    h.update((l.salt.len() as u64).to_be_bytes());
    h.update(l.salt.as_bytes());
    h.update((l.detail.len() as u64).to_be_bytes());
    h.update(l.detail.as_bytes());
    h.finalize().into()
}

pub fn node_hash(lh: &[u8; 32], ls: i128, rh: &[u8; 32], rs: i128) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(lh);
    h.update(ls.to_be_bytes());
    h.update(rh);
    h.update(rs.to_be_bytes());
    h.finalize().into()
}

/// One step of an inclusion proof: the sibling's hash and subtotal, and which side it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    pub hash: String,
    pub sum_minor: String,
    /// "left" or "right": where the sibling sits
    pub side: String,
}

/// Builds the tree over `leaves` in the order given ([`leaves`] sorts them by salt). Returns (root hash, total, levels).
/// An odd node at the end of a level is promoted unchanged.
/// One level of the tree: (hash, subtotal) per node.
pub type Level = Vec<([u8; 32], i128)>;

pub fn build_tree(leaves: &[Leaf]) -> (Vec<Level>, [u8; 32], i128) {
    let mut levels: Vec<Level> = vec![leaves
        .iter()
        .map(|l| (leaf_hash(l), l.amount_minor))
        .collect()];
    if levels[0].is_empty() {
        let empty: [u8; 32] = Sha256::digest(b"coopledger-empty-tree").into();
        return (levels, empty, 0);
    }
    while levels.last().is_some_and(|l| l.len() > 1) {
        let prev = levels.last().cloned().unwrap_or_default();
        let mut next = Vec::with_capacity(prev.len().div_ceil(2));
        for pair in prev.chunks(2) {
            match pair {
                [a, b] => next.push((node_hash(&a.0, a.1, &b.0, b.1), a.1.saturating_add(b.1))),
                [a] => next.push(*a),
                _ => {}
            }
        }
        levels.push(next);
    }
    let (root, total) = levels
        .last()
        .and_then(|l| l.first())
        .copied()
        .unwrap_or(([0; 32], 0));
    (levels, root, total)
}

/// The inclusion proof of leaf `index`.
pub fn proof(levels: &[Level], mut index: usize) -> Vec<ProofStep> {
    let mut steps = Vec::new();
    for level in &levels[..levels.len().saturating_sub(1)] {
        let sib = index ^ 1;
        if let Some((h, s)) = level.get(sib) {
            steps.push(ProofStep {
                hash: hex::encode(h),
                sum_minor: s.to_string(),
                side: if sib < index { "left" } else { "right" }.into(),
            });
        }
        index /= 2;
    }
    steps
}

/// Recomputes the root from a leaf and its proof: (root hex, total).
pub fn root_from_proof(leaf: &Leaf, steps: &[ProofStep]) -> Option<(String, i128)> {
    let mut h = leaf_hash(leaf);
    let mut s = leaf.amount_minor;
    for st in steps {
        let sh: [u8; 32] = hex::decode(&st.hash).ok()?.try_into().ok()?;
        let ss: i128 = st.sum_minor.parse().ok()?;
        let (nh, ns) = match st.side.as_str() {
            "left" => (node_hash(&sh, ss, &h, s), ss.checked_add(s)?),
            "right" => (node_hash(&h, s, &sh, ss), s.checked_add(ss)?),
            _ => return None,
        };
        h = nh;
        s = ns;
    }
    Some((hex::encode(h), s))
}

/// The salt of `member_id`'s leaf: derived from the sealed close file's hash, so it is fixed by
/// the books but unknown to anyone who has not seen `close.json`.
pub fn salt(secret: &str, member_id: &str) -> String {
    sha256_hex(format!("{secret}\u{0}{member_id}").as_bytes())
}

/// Leaves from (member id, detail) pairs, ordered by salt (then id): a keyed pseudo-random order,
/// so a proof's neighbouring subtotals cannot be attributed to the next member id.
pub fn leaves_from(parts: Vec<(String, LeafDetail)>, secret: &str) -> Vec<Leaf> {
    let mut v: Vec<Leaf> = parts
        .into_iter()
        .map(|(member_id, d)| Leaf {
            salt: salt(secret, &member_id),
            amount_minor: d.closing,
            detail: hex::encode(detail_digest(&d)),
            member_id,
        })
        .collect();
    v.sort_by(|a, b| {
        a.salt
            .cmp(&b.salt)
            .then_with(|| a.member_id.cmp(&b.member_id))
    });
    v
}

/// The leaves of a close: every member with a capital account (see [`leaves_from`]).
pub fn leaves(close: &Close, secret: &str) -> Vec<Leaf> {
    let cur = crate::money::Currency::from_code(&close.currency).ok();
    let minor = |d: rust_decimal::Decimal| -> i128 {
        cur.and_then(|c| crate::money::Money::from_decimal(d, c).ok())
            .map(|m| m.to_minor())
            .unwrap_or(0)
    };
    let mut tranches: BTreeMap<&str, Vec<(i32, String, i128)>> = BTreeMap::new();
    for t in &close.state_after.tranches {
        tranches.entry(t.member_id.as_str()).or_default().push((
            t.allocation_year,
            t.kind.clone(),
            minor(t.amount),
        ));
    }
    let allocs: BTreeMap<&str, _> = close
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m))
        .collect();
    let parts = close
        .capital_accounts
        .iter()
        .map(|a| {
            let al = allocs.get(a.member_id.as_str());
            let mut tr = tranches.remove(a.member_id.as_str()).unwrap_or_default();
            tr.sort();
            (
                a.member_id.clone(),
                LeafDetail {
                    opening: a.opening.to_minor(),
                    contributions: a.contributions.to_minor(),
                    allocations: a.allocations.to_minor(),
                    losses: a.losses.to_minor(),
                    interest: a.interest.to_minor(),
                    redemptions: a.redemptions.to_minor(),
                    closing: a.closing.to_minor(),
                    allocated: al.map(|m| m.total.to_minor()).unwrap_or(0),
                    cash: al.map(|m| m.cash.to_minor()).unwrap_or(0),
                    retained: al.map(|m| m.retained.to_minor()).unwrap_or(0),
                    tranches: tr,
                },
            )
        })
        .collect();
    leaves_from(parts, secret)
}

// ---------------------------------------------------------------- reading and writing closes

pub fn closes_dir(book: &Book) -> PathBuf {
    book.dir.join(CLOSES)
}

/// Sealed fiscal years, ascending.
pub fn sealed_years(book_dir: &Path) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir(book_dir.join(CLOSES))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
                .filter(|y| {
                    book_dir
                        .join(CLOSES)
                        .join(y.to_string())
                        .join(MANIFEST)
                        .exists()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[derive(Debug, Serialize, Deserialize)]
struct SealedClose {
    state: State,
}

/// The state before closing `fy`: the state sealed by the latest earlier close, or the book's
/// opening state when none was sealed.
pub fn prior_state(book: &Book, fy: i32) -> anyhow::Result<State> {
    let prev = sealed_years(&book.dir)
        .into_iter()
        .filter(|y| *y < fy)
        .max();
    match prev {
        None => Ok(initial_state(book, fy).with_context(|| {
            format!(
                "cannot sum the opening equity of {fy} (equity.csv and contributions before the year) exactly"
            )
        })?),
        Some(y) => {
            let p = closes_dir(book).join(y.to_string()).join(CLOSE_JSON);
            let (_, bytes) = read_sealed_file(&book.dir, y, CLOSE_JSON)?;
            let s: SealedClose = serde_json::from_slice(&bytes)
                .with_context(|| format!("`{}` is not a sealed close", p.display()))?;
            apply_sealed_redemptions(book, y, s.state)
        }
    }
}

/// The state sealed by the close of `fy` itself (before that year's redemptions), if sealed.
pub fn close_state(book: &Book, fy: i32) -> anyhow::Result<Option<State>> {
    let p = closes_dir(book).join(fy.to_string()).join(CLOSE_JSON);
    if !closes_dir(book)
        .join(fy.to_string())
        .join(MANIFEST)
        .exists()
    {
        return Ok(None);
    }
    let (_, bytes) = read_sealed_file(&book.dir, fy, CLOSE_JSON)?;
    let s: SealedClose = serde_json::from_slice(&bytes)
        .with_context(|| format!("`{}` is not a sealed close", p.display()))?;
    Ok(Some(s.state))
}

/// The redemptions sealed for `fy` (`closes/FY/redemptions.json`), if any; refused when the file
/// differs from the hash in the year's manifest.
pub fn sealed_redemptions(
    book_dir: &Path,
    fy: i32,
) -> anyhow::Result<Option<crate::engine::revolve::Sealed>> {
    let p = book_dir
        .join(CLOSES)
        .join(fy.to_string())
        .join(REDEMPTIONS_JSON);
    if !p.exists() {
        return Ok(None);
    }
    let (_, bytes) = read_sealed_file(book_dir, fy, REDEMPTIONS_JSON)?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("`{}` is not UTF-8", p.display()))?;
    let r = crate::engine::revolve::Sealed::parse(&text)
        .with_context(|| format!("`{}` is not a sealed redemption record", p.display()))?;
    Ok(Some(r))
}

/// Hook of [`prior_state`]: a year's sealed redemptions reduce the tranches its close left.
fn apply_sealed_redemptions(book: &Book, fy: i32, state: State) -> anyhow::Result<State> {
    Ok(match sealed_redemptions(&book.dir, fy)? {
        Some(r) => r.apply(&state)?,
        None => state,
    })
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
    let dir = closes_dir(book).join(fy.to_string());
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
    for (name, bytes) in files {
        crate::fsutil::write_atomic(&dir.join(name), bytes)?;
    }
    crate::fsutil::write_atomic(&dir.join(MANIFEST), &pretty(&serde_json::to_value(&m)?)?)?;
    Ok(m)
}

/// Fiscal years with results before `fy` that are not sealed yet (later than the latest sealed
/// year before `fy`), ascending. A real close of `fy` needs them closed first.
pub fn unsealed_before(book: &Book, fy: i32) -> Vec<i32> {
    let sealed = sealed_years(&book.dir);
    let last = sealed.iter().copied().filter(|y| *y < fy).max();
    book.result_years()
        .into_iter()
        .filter(|y| *y < fy && last.is_none_or(|l| *y > l) && !sealed.contains(y))
        .collect()
}

/// The state before `fy` for a dry run: the sealed state, then every earlier unsealed year closed
/// in memory, in order. Returns the state and the years closed in memory.
pub fn prior_state_in_memory(
    book: &Book,
    fy: i32,
    activity: &crate::book::patronage::Activity,
) -> anyhow::Result<(State, Vec<i32>)> {
    let pending = unsealed_before(book, fy);
    let mut state = match pending.first() {
        Some(first) => prior_state(book, *first)?,
        None => return Ok((prior_state(book, fy)?, pending)),
    };
    for y in &pending {
        state = crate::engine::close::close(book, *y, activity, &state)?.state_after;
    }
    Ok((state, pending))
}

fn previous_manifest_hash(book: &Book, fy: i32) -> anyhow::Result<Option<String>> {
    let prev = sealed_years(&book.dir)
        .into_iter()
        .filter(|y| *y < fy)
        .max();
    match prev {
        None => Ok(None),
        Some(y) => {
            let p = closes_dir(book).join(y.to_string()).join(MANIFEST);
            let m: Manifest = serde_json::from_str(&std::fs::read_to_string(&p)?)
                .with_context(|| format!("`{}` is not a manifest", p.display()))?;
            Ok(Some(m.manifest_hash))
        }
    }
}

/// The bytes of a file sealed for fiscal year `fy` (`closes/FY/NAME` of the book at `book_dir`),
/// refused when they differ from the SHA-256 recorded in that year's manifest: reports,
/// statements and the wealth trend are made only from records as they were sealed
/// (`coopledger verify` names what changed).
/// Returns the year's manifest with the bytes.
pub fn read_sealed_file(
    book_dir: &Path,
    fy: i32,
    name: &str,
) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let dir = book_dir.join(CLOSES).join(fy.to_string());
    let mp = dir.join(MANIFEST);
    let m: Manifest = serde_json::from_str(
        &std::fs::read_to_string(&mp).with_context(|| format!("cannot read `{}`", mp.display()))?,
    )
    .with_context(|| format!("`{}` is not a manifest", mp.display()))?;
    let p = dir.join(name);
    let bytes = std::fs::read(&p).with_context(|| format!("cannot read `{}`", p.display()))?;
    if m.outputs.get(name) != Some(&sha256_hex(&bytes)) {
        bail!(
            "`{}` changed since fiscal year {fy} was sealed; run `coopledger verify` on the book",
            p.display()
        );
    }
    Ok((m, bytes))
}

/// The files a close writes (besides the manifest), by name.
pub fn close_files(close: &Close) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    // the full close, with the state the next close starts from (serialized straight from the
    // structs: a JSON value tree of a 100,000-member close took over a gigabyte)
    #[derive(serde::Serialize)]
    struct WithState<'a> {
        #[serde(flatten)]
        close: &'a Close,
        state: &'a State,
    }
    let mut bytes = serde_json::to_vec_pretty(&WithState {
        close,
        state: &close.state_after,
    })?;
    bytes.push(b'\n');
    files.push((CLOSE_JSON.to_string(), bytes));
    files.push((
        "allocation.csv".to_string(),
        crate::report::close::allocation_csv(close)?,
    ));
    files.push((
        "tranches.csv".to_string(),
        crate::report::close::tranches_csv(close)?,
    ));
    Ok(files)
}

fn pretty(v: &serde_json::Value) -> anyhow::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v)?;
    out.push(b'\n');
    Ok(out)
}

/// Seals `close` into `closes/FY/`. Refuses when the year is sealed unless `reopen` holds a reason,
/// in which case the previous record is kept under `closes/.audit/` and logged in `closes/audit.log`.
pub fn seal(book: &Book, close: &Close, reopen: Option<&str>) -> anyhow::Result<Manifest> {
    let fy = close.fiscal_year;
    let dir = closes_dir(book).join(fy.to_string());
    let exists = dir.join(MANIFEST).exists();
    if exists && reopen.is_none() {
        bail!("fiscal year {fy} is already closed (`{}`); to close it again, pass --reopen --reason \"...\"", dir.display());
    }
    if let Some(later) = sealed_years(&book.dir).into_iter().find(|y| *y > fy) {
        bail!("fiscal year {later} is already closed; reopen the years after {fy} first, latest first");
    }
    let files = close_files(close)?;
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
    let lv = leaves(close, &secret);
    let (_, root, total) = build_tree(&lv);
    let mut manifest = Manifest {
        format: "coopledger-close/1".into(),
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
    let mut all = files;
    all.push((
        MANIFEST.to_string(),
        pretty(&serde_json::to_value(&manifest)?)?,
    ));
    if exists {
        let audit = closes_dir(book).join(".audit");
        let n = std::fs::read_dir(&audit).map(|r| r.count()).unwrap_or(0) + 1;
        let backup = audit.join(format!("{fy}-{n}"));
        let old: Manifest = serde_json::from_str(&std::fs::read_to_string(dir.join(MANIFEST))?)?;
        crate::fsutil::replace_dir(&dir, &backup, &all)?;
        let log = closes_dir(book).join(AUDIT_LOG);
        let mut text = std::fs::read_to_string(&log).unwrap_or_default();
        let entry = serde_json::json!({
            "fiscal_year": fy,
            "reopened": n,
            "reason": reopen.unwrap_or_default(),
            "previous_manifest_hash": old.manifest_hash,
            "new_manifest_hash": manifest.manifest_hash,
            "kept_in": format!(".audit/{fy}-{n}"),
        });
        text.push_str(&serde_json::to_string(&entry)?);
        text.push('\n');
        crate::fsutil::write_atomic(&log, text.as_bytes())?;
    } else {
        crate::fsutil::write_dir_atomic(&dir, &all)?;
    }
    Ok(manifest)
}

/// One finding of [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub fiscal_year: i32,
    pub file: String,
    /// "output changed", "output missing", "input changed", "chain broken", "manifest altered"
    pub problem: String,
    /// true for tampering with sealed records; false for inputs edited since (e.g. a later year's rows)
    pub tampering: bool,
}

/// Re-checks every sealed year: output hashes, manifest hashes, the chain, and input hashes.
pub fn verify(book_dir: &Path) -> anyhow::Result<(Vec<i32>, Vec<Finding>)> {
    let years = sealed_years(book_dir);
    let mut findings = Vec::new();
    let mut prev: Option<String> = None;
    for &y in &years {
        let dir = book_dir.join(CLOSES).join(y.to_string());
        let text = std::fs::read_to_string(dir.join(MANIFEST))?;
        let f = |file: &str, problem: &str, tampering: bool| Finding {
            fiscal_year: y,
            file: file.to_string(),
            problem: problem.to_string(),
            tampering,
        };
        let m: Manifest = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(_) => {
                findings.push(f(
                    &format!("{CLOSES}/{y}/{MANIFEST}"),
                    "manifest altered",
                    true,
                ));
                prev = None;
                continue;
            }
        };
        if m.compute_hash()? != m.manifest_hash {
            findings.push(f(
                &format!("{CLOSES}/{y}/{MANIFEST}"),
                "manifest altered",
                true,
            ));
        }
        if m.previous != prev {
            findings.push(f(&format!("{CLOSES}/{y}/{MANIFEST}"), "chain broken", true));
        }
        for (name, hash) in &m.outputs {
            let p = dir.join(name);
            match sha256_file(&p) {
                Ok(h) if &h == hash => {}
                Ok(_) => findings.push(f(&format!("{CLOSES}/{y}/{name}"), "output changed", true)),
                Err(_) => findings.push(f(&format!("{CLOSES}/{y}/{name}"), "output missing", true)),
            }
        }
        for (name, hash) in &m.inputs {
            match sha256_file(&book_dir.join(name)) {
                Ok(h) if &h == hash => {}
                _ => findings.push(f(name, "input changed since sealed", false)),
            }
        }
        prev = Some(m.manifest_hash.clone());
    }
    Ok((years, findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(id: &str, a: i128) -> Leaf {
        Leaf {
            member_id: id.into(),
            amount_minor: a,
            salt: format!("s{id}"),
            detail: String::new(),
        }
    }

    #[test]
    fn proofs_verify_and_detect_tampering() {
        for n in 1..9 {
            let leaves: Vec<Leaf> = (0..n)
                .map(|i| leaf(&format!("M{i}"), 100 * i as i128 + 7))
                .collect();
            let (levels, root, total) = build_tree(&leaves);
            assert_eq!(total, leaves.iter().map(|l| l.amount_minor).sum::<i128>());
            for (i, l) in leaves.iter().enumerate() {
                let p = proof(&levels, i);
                assert_eq!(root_from_proof(l, &p), Some((hex::encode(root), total)));
                let mut bad = l.clone();
                bad.amount_minor += 1;
                assert_ne!(
                    root_from_proof(&bad, &p).map(|r| r.0),
                    Some(hex::encode(root))
                );
            }
        }
    }
}
