//! Tamper suite (issue 12): every single-byte change (a sample of positions in every file),
//! deletion, addition, rename and swap in the sealed years, their manifests, the records kept by a
//! reopening, the chain head and the audit log is detected by `verify`, which names exactly the
//! files and years changed, and refused by every reader of the sealed years.
use std::path::{Path, PathBuf};

use crate::common::{bin, run, Book};

/// rising-loaf with 2023 and 2024 sealed, 2024 reopened once (so `closes/audit.log` and
/// `closes/.audit/2024-1/` exist) and its redemptions sealed.
fn base() -> Book {
    let b = Book::sealed("data/rising-loaf", &[2023, 2024]);
    let d = b.path().to_str().unwrap_or_default().to_string();
    for args in [
        vec![
            "close", &d, "--year", "2024", "--reopen", "--reason", "late",
        ],
        vec!["revolve", &d, "--year", "2024"],
    ] {
        let (code, _, err) = run(bin().args(&args));
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    b
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

/// A fresh copy of the book at `src` (inputs and `closes/`).
fn scratch(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("book");
    copy_dir(src, &dst);
    (t, dst)
}

/// Every file under `closes/`, relative to the book, sorted.
fn sealed_files(book: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let r = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &r, out);
            } else {
                out.push(r);
            }
        }
    }
    let mut v = Vec::new();
    walk(&book.join("closes"), "closes", &mut v);
    v.sort();
    v
}

fn within(file: &str, prefix: &str) -> bool {
    file == prefix || file.starts_with(&format!("{prefix}/"))
}

/// `verify` (the library call) finds tampering, and names only the files under `expected`, and
/// each of them.
fn assert_named(book: &Path, expected: &[&str], case: &str) {
    let v = coopledger::ledger::verify(book).unwrap_or_else(|e| panic!("{case}: {e:#}"));
    let named: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| f.tampering)
        .map(|f| f.file.as_str())
        .collect();
    assert!(!named.is_empty(), "{case}: not detected");
    for n in &named {
        assert!(
            expected.iter().any(|e| within(n, e)),
            "{case}: names `{n}`, not changed ({named:?})"
        );
    }
    for e in expected {
        assert!(
            named.iter().any(|n| within(n, e)),
            "{case}: does not name `{e}` ({named:?})"
        );
    }
}

/// The readers of sealed years, each given the book directory.
const READERS: [&[&str]; 6] = [
    &["statement", "--member", "RL01", "-O", "json"],
    &["report", "schedule", "--year", "2024"],
    &["wealth", "--year", "2024"],
    &["revolve", "--year", "2025", "--dry-run"],
    &["forecast", "--years", "2"],
    &["close", "--year", "2025", "--dry-run"],
];

fn reader_refuses(book: &Path, reader: &[&str], case: &str) {
    let (code, _, err) = run(bin().arg(reader[0]).arg(book).args(&reader[1..]));
    assert_eq!(code, 2, "{case}: `{}` did not refuse: {err}", reader[0]);
    assert!(
        err.contains("coopledger verify"),
        "{case}: `{}`: {err}",
        reader[0]
    );
}

/// `coopledger verify` exits 1 naming every expected file or year.
fn verify_cli_fails(book: &Path, expected: &[&str], case: &str) {
    let (code, out, err) = run(bin().arg("verify").arg(book));
    assert_eq!(code, 1, "{case}: {out}{err}");
    for e in expected {
        assert!(out.contains(e), "{case}: `{e}` not named: {out}");
    }
}

#[test]
fn the_untouched_book_verifies_and_every_reader_reads_it() {
    let b = base();
    let (code, out, err) = run(bin().arg("verify").arg(b.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sealed years verified: 2023, 2024"), "{out}");
    assert!(out.contains("chain head: "), "{out}");
    for r in READERS {
        let (code, _, err) = run(bin().arg(r[0]).arg(b.path()).args(&r[1..]));
        assert_eq!(code, 0, "{r:?}: {err}");
    }
    // receivables and subscriptions are inputs of a sealed year: a change is reported
    let m = std::fs::read_to_string(b.path().join("closes/2024/manifest.json")).unwrap();
    assert!(
        m.contains("\"receivables.csv\"") && m.contains("\"subscriptions.csv\""),
        "{m}"
    );
    let p = b.path().join("receivables.csv");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push('\n');
    std::fs::write(&p, text).unwrap();
    let (code, out, _) = run(bin().arg("verify").arg(b.path()));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2024: receivables.csv (input changed since sealed)"),
        "{out}"
    );
}

#[test]
fn every_sampled_byte_change_is_detected_and_refused() {
    let b = base();
    let (_t, book) = scratch(b.path());
    let files = sealed_files(&book);
    assert_eq!(files.len(), 16, "{files:?}");
    let (mut cases, mut reader_runs) = (0, 0);
    for (i, rel) in files.iter().enumerate() {
        let p = book.join(rel);
        let orig = std::fs::read(&p).unwrap();
        let step = (orig.len() / 60).max(1);
        let mut positions: Vec<usize> = (0..orig.len()).step_by(step).collect();
        positions.push(orig.len() - 1);
        for (k, &pos) in positions.iter().enumerate() {
            let mut bytes = orig.clone();
            bytes[pos] ^= 0x01;
            std::fs::write(&p, &bytes).unwrap();
            let case = format!("{rel} byte {pos}");
            assert_named(&book, &[rel], &case);
            cases += 1;
            // every reader, in turn, on a sample of the changes of every file
            if k % (positions.len() / 2).max(1) == 1 {
                reader_refuses(&book, READERS[(i + k) % READERS.len()], &case);
                reader_runs += 1;
            }
        }
        std::fs::write(&p, &orig).unwrap();
    }
    // a manifest that is not UTF-8 is named, not an I/O error
    let p = book.join("closes/2023/manifest.json");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[10] = 0xff;
    std::fs::write(&p, &bytes).unwrap();
    verify_cli_fails(
        &book,
        &["2023: closes/2023/manifest.json (manifest altered (not UTF-8))"],
        "not UTF-8",
    );
    eprintln!(
        "tamper: {cases} byte changes in {} files, {reader_runs} reader runs",
        files.len()
    );
    assert!(cases > 800, "{cases}");
}

/// A change made to a fresh copy of the book.
type Change = (&'static str, fn(&Path), &'static [&'static str]);

fn mv(book: &Path, a: &str, b: &str) {
    std::fs::rename(book.join(a), book.join(b)).unwrap();
}

fn swap(book: &Path, a: &str, b: &str) {
    mv(book, a, "closes/swap.tmp");
    mv(book, b, a);
    mv(book, "closes/swap.tmp", b);
}

const CHANGES: &[Change] = &[
    (
        "delete 2023",
        |b| std::fs::remove_dir_all(b.join("closes/2023")).unwrap(),
        &["closes/2023"],
    ),
    (
        "delete 2024",
        |b| std::fs::remove_dir_all(b.join("closes/2024")).unwrap(),
        &["closes/2024"],
    ),
    (
        "delete the kept record",
        |b| std::fs::remove_dir_all(b.join("closes/.audit/2024-1")).unwrap(),
        &["closes/.audit/2024-1"],
    ),
    (
        "add a file to 2023",
        |b| std::fs::write(b.join("closes/2023/notes.txt"), "x").unwrap(),
        &["closes/2023/notes.txt"],
    ),
    (
        "add a file to 2024",
        |b| std::fs::write(b.join("closes/2024/close.json.bak"), "{}").unwrap(),
        &["closes/2024/close.json.bak"],
    ),
    (
        "add a directory to 2024",
        |b| std::fs::create_dir(b.join("closes/2024/extra")).unwrap(),
        &["closes/2024/extra"],
    ),
    (
        "add a file to the kept record",
        |b| std::fs::write(b.join("closes/.audit/2024-1/x.csv"), "").unwrap(),
        &["closes/.audit/2024-1/x.csv"],
    ),
    (
        "rename 2024 to 2030",
        |b| mv(b, "closes/2024", "closes/2030"),
        &["closes/2024", "closes/2030"],
    ),
    (
        "rename 2024 to 2025",
        |b| mv(b, "closes/2024", "closes/2025"),
        &["closes/2024", "closes/2025"],
    ),
    (
        "rename 2023 to 2022",
        |b| mv(b, "closes/2023", "closes/2022"),
        &["closes/2022", "closes/2023"],
    ),
    (
        "rename 2023 aside",
        |b| mv(b, "closes/2023", "closes/2023.bak"),
        &["closes/2023"],
    ),
    (
        "swap the years",
        |b| swap(b, "closes/2023", "closes/2024"),
        &["closes/2023", "closes/2024"],
    ),
    (
        "swap 2024 and its kept record",
        |b| swap(b, "closes/2024", "closes/.audit/2024-1"),
        &["closes/2024", "closes/.audit/2024-1"],
    ),
    (
        "swap the manifests",
        |b| swap(b, "closes/2023/manifest.json", "closes/2024/manifest.json"),
        &["closes/2023", "closes/2024"],
    ),
    (
        "swap the closes",
        |b| swap(b, "closes/2023/close.json", "closes/2024/close.json"),
        &["closes/2023/close.json", "closes/2024/close.json"],
    ),
    (
        "swap two schedules",
        |b| swap(b, "closes/2023/allocation.csv", "closes/2023/tranches.csv"),
        &["closes/2023/allocation.csv", "closes/2023/tranches.csv"],
    ),
    // close.json changed too, but an altered manifest says nothing trustworthy about its outputs
    (
        "edit close.json and its hash in the manifest",
        forge_output,
        &["closes/2024/manifest.json"],
    ),
    (
        "edit close.json and re-seal the manifest",
        forge_manifest,
        &["closes/2024/manifest.json"],
    ),
    (
        "drop the latest line of the audit log",
        |b| std::fs::write(b.join("closes/audit.log"), "").unwrap(),
        &["closes/audit.log"],
    ),
];

/// close.json of 2024 edited and its new SHA-256 written into the manifest (`manifest_hash` left).
fn forge_output(b: &Path) {
    let (close, manifest) = edit_close(b);
    let m = manifest.replace(&close.0, &close.1);
    std::fs::write(b.join("closes/2024/manifest.json"), m).unwrap();
}

/// The same, with `manifest_hash` computed again (a valid manifest that the chain head refutes).
fn forge_manifest(b: &Path) {
    let (close, manifest) = edit_close(b);
    let mut m: coopledger::ledger::Manifest =
        serde_json::from_str(&manifest.replace(&close.0, &close.1)).unwrap();
    m.manifest_hash = String::new();
    m.manifest_hash = coopledger::ledger::sha256_hex(&serde_json::to_vec(&m).unwrap());
    let mut out = serde_json::to_vec_pretty(&m).unwrap();
    out.push(b'\n');
    std::fs::write(b.join("closes/2024/manifest.json"), out).unwrap();
    // the forged manifest is as `verify` reads them: only the chain head refutes it
    let v = coopledger::ledger::verify(b).unwrap();
    assert!(v
        .findings
        .iter()
        .all(|f| !f.tampering || f.problem.contains("chain.json")));
}

/// Raises a cash amount in closes/2024/close.json; returns (old hash, new hash) and the manifest.
fn edit_close(b: &Path) -> ((String, String), String) {
    let p = b.join("closes/2024/close.json");
    let text = std::fs::read_to_string(&p).unwrap();
    let old = coopledger::ledger::sha256_hex(text.as_bytes());
    let i = text.find("\"cash\": \"").unwrap() + 9;
    let text = format!("{}9{}", &text[..i], &text[i..]);
    std::fs::write(&p, &text).unwrap();
    let new = coopledger::ledger::sha256_hex(text.as_bytes());
    let manifest = std::fs::read_to_string(b.join("closes/2024/manifest.json")).unwrap();
    assert!(manifest.contains(&old));
    ((old, new), manifest)
}

#[test]
fn every_deletion_is_detected_and_refused() {
    let b = base();
    let files = sealed_files(b.path());
    for (i, rel) in files.iter().enumerate() {
        let (_t, book) = scratch(b.path());
        std::fs::remove_file(book.join(rel)).unwrap();
        let case = format!("delete {rel}");
        assert_named(&book, &[rel], &case);
        reader_refuses(&book, READERS[i % READERS.len()], &case);
    }
    eprintln!("tamper: {} file deletions", files.len());
}

#[test]
fn every_addition_rename_and_swap_is_detected_and_refused_by_every_reader() {
    let b = base();
    for (case, change, expected) in CHANGES {
        let (_t, book) = scratch(b.path());
        change(&book);
        assert_named(&book, expected, case);
        verify_cli_fails(&book, expected, case);
        for r in READERS {
            reader_refuses(&book, r, case);
        }
    }
    eprintln!(
        "tamper: {} structural changes, {} reader runs",
        CHANGES.len(),
        CHANGES.len() * READERS.len()
    );
}

#[test]
fn one_changed_file_names_one_year() {
    let b = base();
    let (_t, book) = scratch(b.path());
    let p = book.join("closes/2023/tranches.csv");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push('\n');
    std::fs::write(&p, text).unwrap();
    let (code, out, _) = run(bin().arg("verify").arg(&book));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "2023: closes/2023/tranches.csv (output changed)\nsealed records were altered: 2023\n"
    );
}
