//! `coopledger verify`: re-checks every sealed year against its manifest and the chain.

use std::path::Path;

use serde::Serialize;

use super::{sealed_years, sha256_file, year_dir, Manifest, CLOSES, MANIFEST};

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
        let dir = year_dir(book_dir, y);
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
