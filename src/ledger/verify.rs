//! `coopledger verify`: re-checks every sealed year against its manifest, the chain of manifests
//! and the chain head (`closes/chain.json`, with the audit log's hash). [`check_sealed`] is the
//! same check, once per process and book, made by every reader of a sealed year before it uses it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::chain::{self, Chain, CHAIN};
use super::read::{parse_manifest, FORMATS};
use super::{closes_dir, sha256_file, year_dir, AUDIT_LOG, CLOSES, MANIFEST};

/// One finding of [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// the sealed year the file belongs to (none for the chain head and the audit log)
    pub fiscal_year: Option<i32>,
    /// the file or directory, relative to the book
    pub file: String,
    /// "output changed", "output missing", "extra file", "manifest altered", "manifest missing",
    /// "sealed year missing", "chain broken", "chain head altered", "audit log altered", …,
    /// "input changed since sealed"
    pub problem: String,
    /// true for tampering with sealed records; false for inputs edited since (e.g. a later year's rows)
    pub tampering: bool,
}

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Verified {
    /// the year directories holding a manifest, ascending
    pub years: Vec<i32>,
    pub findings: Vec<Finding>,
    /// `head` of `closes/chain.json`, when it is intact
    pub head: Option<String>,
}

impl Verified {
    pub fn tampered(&self) -> bool {
        self.findings.iter().any(|f| f.tampering)
    }
}

/// Re-checks every sealed year: output hashes, extra files, manifest hashes, the year a manifest
/// is for, the chain of manifests, the chain head and the audit log; and the input hashes.
pub fn verify(book_dir: &Path) -> anyhow::Result<Verified> {
    scan(book_dir, true)
}

/// Temporary files a write interrupted by a crash can leave (removed by the next write).
fn is_debris(name: &str) -> bool {
    name.starts_with(".tmp") || name.starts_with(".coopledger-")
}

/// Directories under `closes/` named like a fiscal year, ascending.
fn year_dirs(book_dir: &Path) -> anyhow::Result<Vec<i32>> {
    let rd = match std::fs::read_dir(closes_dir(book_dir)) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut v = Vec::new();
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let Some(n) = name.to_str() else { continue };
        if let Ok(y) = n.parse::<i32>() {
            if y.to_string() == n && e.path().is_dir() {
                v.push(y);
            }
        }
    }
    v.sort();
    Ok(v)
}

/// Names in `dir` other than temporary debris, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !is_debris(n))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

struct Scan<'a> {
    book_dir: &'a Path,
    chain: Option<Chain>,
    findings: Vec<Finding>,
}

impl Scan<'_> {
    fn push(&mut self, fy: Option<i32>, file: String, problem: &str, tampering: bool) {
        self.findings.push(Finding {
            fiscal_year: fy,
            file,
            problem: problem.to_string(),
            tampering,
        });
    }

    /// Checks `closes/y/`; returns its manifest's hash and format when the manifest is intact.
    fn year(
        &mut self,
        y: i32,
        prev: Option<Option<String>>,
        inputs: bool,
    ) -> Option<(String, String)> {
        let dir = year_dir(self.book_dir, y);
        let rel = format!("{CLOSES}/{y}");
        let mrel = format!("{rel}/{MANIFEST}");
        let bytes = match std::fs::read(dir.join(MANIFEST)) {
            Ok(b) => b,
            Err(_) => {
                let listed = self
                    .chain
                    .as_ref()
                    .is_some_and(|c| c.years.contains_key(&y));
                if listed || !entries(&dir).is_empty() || dir.join(MANIFEST).exists() {
                    self.push(Some(y), mrel, "manifest missing", true);
                }
                return None;
            }
        };
        let m = match parse_manifest(&bytes) {
            Ok(m) => m,
            Err(problem) => {
                self.push(Some(y), mrel, problem, true);
                return None;
            }
        };
        if m.fiscal_year != y {
            let p = format!("holds the sealed record of fiscal year {}", m.fiscal_year);
            self.push(Some(y), rel, &p, true);
            return None;
        }
        let mut intact = true;
        if let Some(c) = &self.chain {
            if !c.accepts(y, &m.manifest_hash) {
                let p = if c.years.contains_key(&y) {
                    format!("manifest does not match {CLOSES}/{CHAIN}")
                } else {
                    format!("not recorded in {CLOSES}/{CHAIN}")
                };
                self.push(Some(y), mrel.clone(), &p, true);
                intact = false;
            }
        }
        let expected = match &self.chain {
            Some(c) => Some(c.before(y).cloned()),
            None => prev,
        };
        if expected.is_some_and(|e| e != m.previous) {
            let p = "chain broken: `previous` is not the manifest hash of the year before";
            self.push(Some(y), mrel, p, true);
            intact = false;
        }
        for (name, hash) in &m.outputs {
            let f = format!("{rel}/{name}");
            match sha256_file(&dir.join(name)) {
                Ok(h) if &h == hash => {}
                Ok(_) => self.push(Some(y), f, "output changed", true),
                Err(_) => self.push(Some(y), f, "output missing", true),
            }
        }
        for name in entries(&dir) {
            if name != MANIFEST && !m.outputs.contains_key(&name) {
                self.push(Some(y), format!("{rel}/{name}"), "extra file", true);
            }
        }
        if inputs {
            for (name, hash) in &m.inputs {
                match sha256_file(&self.book_dir.join(name)) {
                    Ok(h) if &h == hash => {}
                    _ => self.push(Some(y), name.clone(), "input changed since sealed", false),
                }
            }
        }
        intact.then_some((m.manifest_hash, m.format))
    }
}

/// What a line of `closes/audit.log` says about a reopened year's previous record.
#[derive(serde::Deserialize)]
struct Reopened {
    fiscal_year: i32,
    previous_manifest_hash: String,
    kept_in: String,
}

impl Scan<'_> {
    /// The records kept by reopenings (`closes/.audit/FY-N/`, named by the intact audit log): each
    /// is the record the log says was replaced, with its files as sealed and nothing added.
    fn kept_records(&mut self) {
        let log = closes_dir(self.book_dir).join(AUDIT_LOG);
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let Ok(r) = serde_json::from_str::<Reopened>(line) else {
                continue;
            };
            let safe = r.kept_in.split('/').all(|c| !c.is_empty() && c != "..");
            if !safe {
                continue;
            }
            let dir = closes_dir(self.book_dir).join(&r.kept_in);
            let rel = format!("{CLOSES}/{}", r.kept_in);
            let y = Some(r.fiscal_year);
            let m = match std::fs::read(dir.join(MANIFEST)) {
                Err(_) if !dir.is_dir() => {
                    self.push(y, rel, "kept record missing", true);
                    continue;
                }
                Err(_) => {
                    self.push(y, format!("{rel}/{MANIFEST}"), "manifest missing", true);
                    continue;
                }
                Ok(b) => match parse_manifest(&b) {
                    Ok(m) if m.manifest_hash == r.previous_manifest_hash => m,
                    Ok(_) => {
                        let p = "not the record the audit log says was replaced";
                        self.push(y, format!("{rel}/{MANIFEST}"), p, true);
                        continue;
                    }
                    Err(p) => {
                        self.push(y, format!("{rel}/{MANIFEST}"), p, true);
                        continue;
                    }
                },
            };
            for (name, hash) in &m.outputs {
                match sha256_file(&dir.join(name)) {
                    Ok(h) if &h == hash => {}
                    Ok(_) => self.push(y, format!("{rel}/{name}"), "output changed", true),
                    Err(_) => self.push(y, format!("{rel}/{name}"), "output missing", true),
                }
            }
            for name in entries(&dir) {
                if name != MANIFEST && !m.outputs.contains_key(&name) {
                    self.push(y, format!("{rel}/{name}"), "extra file", true);
                }
            }
        }
    }
}

fn scan(book_dir: &Path, inputs: bool) -> anyhow::Result<Verified> {
    let dirs = year_dirs(book_dir)?;
    let mut s = Scan {
        book_dir,
        chain: None,
        findings: Vec::new(),
    };
    let chain_rel = format!("{CLOSES}/{CHAIN}");
    let absent = match chain::read(book_dir) {
        chain::Read::Chain(c) => {
            s.chain = Some(c);
            false
        }
        chain::Read::Altered => {
            s.push(None, chain_rel.clone(), "chain head altered", true);
            false
        }
        chain::Read::Absent => true,
    };
    let mut years = Vec::new();
    let mut formats = BTreeSet::new();
    // the manifest hash of the sealed year before, when known (books sealed before the chain head)
    let mut prev: Option<Option<String>> = Some(None);
    for &y in &dirs {
        if year_dir(book_dir, y).join(MANIFEST).exists() {
            years.push(y);
        }
        match s.year(y, prev.clone(), inputs) {
            Some((hash, format)) => {
                prev = Some(Some(hash));
                formats.insert(format);
            }
            None if years.last() == Some(&y) => prev = None,
            None => {}
        }
    }
    if let Some(c) = s.chain.clone() {
        for y in c.years.keys() {
            if !year_dir(book_dir, *y).is_dir() {
                s.push(
                    Some(*y),
                    format!("{CLOSES}/{y}"),
                    "sealed year missing",
                    true,
                );
            }
        }
        if c.pending.is_none() && chain::audit_hash(book_dir).ok().flatten() != c.audit_log {
            let p = match (&c.audit_log, closes_dir(book_dir).join(AUDIT_LOG).exists()) {
                (Some(_), false) => "audit log missing",
                (None, _) => "audit log not recorded in the chain head",
                (Some(_), true) => "audit log altered",
            };
            s.push(None, format!("{CLOSES}/{AUDIT_LOG}"), p, true);
        } else {
            s.kept_records();
        }
    } else if absent && formats.iter().any(|f| f != FORMATS[0]) {
        s.push(None, chain_rel, "chain head missing", true);
    }
    let mut findings = s.findings;
    findings.sort_by(|a, b| (a.fiscal_year, &a.file).cmp(&(b.fiscal_year, &b.file)));
    Ok(Verified {
        years,
        findings,
        head: s.chain.map(|c| c.head),
    })
}

/// Per book directory: the state of `closes/` checked ([`fingerprint`]) and the result of
/// [`check_sealed`] (when altered: the first finding's year and file, and the message).
type Checked = (String, Option<(Option<i32>, String, String)>);
static CHECKED: Mutex<BTreeMap<PathBuf, Checked>> = Mutex::new(BTreeMap::new());

/// Every path under `closes/` with its size and modification time, hashed: a check is reused
/// only while this is unchanged (a stat per file, against hashing every sealed file again).
fn fingerprint(book_dir: &Path) -> String {
    fn walk(dir: &Path, out: &mut Vec<u8>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            out.extend_from_slice(p.to_string_lossy().as_bytes());
            if let Ok(m) = e.metadata() {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .unwrap_or_default();
                out.extend_from_slice(
                    format!("\0{}\0{}\0{}\n", m.len(), t.as_nanos(), m.is_dir()).as_bytes(),
                );
                if m.is_dir() {
                    walk(&p, out);
                }
            }
        }
    }
    let mut bytes = Vec::new();
    walk(&closes_dir(book_dir), &mut bytes);
    super::sha256_hex(&bytes)
}

/// Refuses a book whose sealed records were altered in any way [`verify`] finds (inputs aside),
/// naming what changed: made by every reader of a sealed year, once per process and book while
/// nothing under `closes/` changes.
pub fn check_sealed(book_dir: &Path) -> anyhow::Result<()> {
    let print = fingerprint(book_dir);
    let cached = CHECKED
        .lock()
        .ok()
        .and_then(|m| m.get(book_dir).cloned())
        .filter(|(p, _)| *p == print);
    let result = match cached {
        Some((_, r)) => r,
        None => {
            let v = scan(book_dir, false)?;
            let altered: Vec<&Finding> = v.findings.iter().filter(|f| f.tampering).collect();
            let r = altered.first().map(|f| {
                let path = book_dir.join(&f.file);
                let first = match (f.problem.as_str(), f.fiscal_year) {
                    ("output changed", Some(y)) => format!(
                        "`{}` changed since fiscal year {y} was sealed",
                        path.display()
                    ),
                    _ => format!("`{}`: {}", path.display(), f.problem),
                };
                let more = match altered.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                let msg = format!("{first}{more}; run `coopledger verify` on the book");
                (f.fiscal_year, f.file.clone(), msg)
            });
            if let Ok(mut m) = CHECKED.lock() {
                m.insert(book_dir.to_path_buf(), (print, r.clone()));
            }
            r
        }
    };
    match result {
        Some((fiscal_year, file, message)) => Err(Altered {
            fiscal_year,
            file,
            message,
        }
        .into()),
        None => Ok(()),
    }
}

/// The error of [`check_sealed`]: the first altered file (relative to the book) and the message.
#[derive(Debug, Clone)]
pub struct Altered {
    pub fiscal_year: Option<i32>,
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for Altered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Altered {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ledger::{pretty, sha256_hex, Manifest};

    /// A year sealed by an earlier version: format `/1`, no chain head.
    fn legacy_book() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = year_dir(t.path(), 2025);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("a.csv"), b"x\n").unwrap_or_else(|e| panic!("{e}"));
        let mut m = Manifest {
            format: FORMATS[0].into(),
            fiscal_year: 2025,
            inputs: BTreeMap::new(),
            outputs: BTreeMap::from([("a.csv".to_string(), sha256_hex(b"x\n"))]),
            previous: None,
            member_root: String::new(),
            member_total: "0.00".into(),
            members: 0,
            manifest_hash: String::new(),
        };
        m.manifest_hash = m.compute_hash().unwrap_or_else(|e| panic!("{e}"));
        let bytes = pretty(&m).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join(MANIFEST), bytes).unwrap_or_else(|e| panic!("{e}"));
        t
    }

    fn named(v: &Verified) -> Vec<(Option<i32>, &str, &str)> {
        v.findings
            .iter()
            .map(|f| (f.fiscal_year, f.file.as_str(), f.problem.as_str()))
            .collect()
    }

    #[test]
    fn books_sealed_before_the_chain_head_still_verify() {
        let t = legacy_book();
        let v = verify(t.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (v.years.clone(), named(&v), v.head.clone()),
            (vec![2025], vec![], None)
        );
        assert!(check_sealed(t.path()).is_ok());
        // a check is not reused once a sealed file changed
        let a = year_dir(t.path(), 2025).join("a.csv");
        std::fs::write(&a, b"y\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(check_sealed(t.path()).is_err());
        std::fs::write(&a, b"x\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(check_sealed(t.path()).is_ok());
        // the chain head is made from the sealed manifests by the next write
        let m =
            crate::ledger::read::read_manifest(t.path(), 2025).unwrap_or_else(|e| panic!("{e}"));
        let bytes =
            chain::next(t.path(), 2025, &m.manifest_hash, None).unwrap_or_else(|e| panic!("{e}"));
        crate::fsutil::write_atomic(&chain::chain_path(t.path()), &bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        let v = verify(t.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(named(&v).is_empty() && v.head.is_some(), "{v:?}");
        // a debris file is not an extra file; a debris-free addition is
        let dir = year_dir(t.path(), 2025);
        std::fs::write(dir.join(".tmpAbC123"), b"").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("b.csv"), b"").unwrap_or_else(|e| panic!("{e}"));
        let v = verify(t.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            named(&v),
            vec![(Some(2025), "closes/2025/b.csv", "extra file")]
        );
    }

    #[test]
    fn a_legacy_manifest_that_is_not_utf8_is_named() {
        let t = legacy_book();
        let p = year_dir(t.path(), 2025).join(MANIFEST);
        let mut bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{e}"));
        bytes[3] = 0xff;
        std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{e}"));
        let v = verify(t.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            named(&v),
            vec![(
                Some(2025),
                "closes/2025/manifest.json",
                "manifest altered (not UTF-8)"
            )]
        );
        let err = check_sealed(t.path()).map_err(|e| e.to_string());
        assert!(
            err.as_ref()
                .is_err_and(|e| e.contains("run `coopledger verify`")),
            "{err:?}"
        );
    }
}
