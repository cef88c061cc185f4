//! Differential tests: the polars aggregation (`patronage::polars::activity`) against the plain-Rust fold
//! (`patronage::fold`, the oracle) on generated, shipped and fixture books, and planted bad rows.
use std::io::Write;
use std::path::Path;

use coopledger::book::gen::{write_book, GenKind, Spec};
use coopledger::book::{self, patronage};
use coopledger::diag::Severity;

use crate::common::*;

/// Asserts the two paths agree on the book at `dir`; returns the polars path's problem count.
fn agree(dir: &Path) -> u64 {
    let (b, d) = book::load(dir);
    let b = b.unwrap_or_else(|| panic!("{}: {:?}", dir.display(), d.into_sorted()));
    let (fold, diags) = patronage::fold(&b);
    let reported = diags
        .iter()
        .filter(|d| d.severity == Severity::Error || d.code == "E0305")
        .count();
    // the parallel scan agrees with the fold, or declines
    if let Ok(r) = patronage::scan::scan(&b) {
        assert_eq!(
            r.problem_rows == 0,
            reported == 0,
            "scan: {}",
            dir.display()
        );
        if r.problem_rows == 0 {
            assert_eq!(r.activity, fold, "scan: {}", dir.display());
        }
    }
    match patronage::polars::activity(&b) {
        Ok(r) => {
            assert_eq!(r.problem_rows == 0, reported == 0, "{}", dir.display());
            if r.problem_rows == 0 {
                assert_eq!(r.activity, fold, "{}", dir.display());
            }
            r.problem_rows
        }
        Err(e) => {
            assert!(
                reported > 0,
                "{}: polars failed on a clean book: {e}",
                dir.display()
            );
            u64::MAX
        }
    }
}

fn generated(spec: &Spec) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    write_book(t.path(), spec, &mut |_| {}).unwrap();
    t
}

#[test]
fn generated_books_agree() {
    for seed in 1..=4u64 {
        for (fye, years) in [((12, 31), 1), ((6, 30), 2), ((2, 29), 2)] {
            for kind in [GenKind::Consumer, GenKind::Worker] {
                let mut spec = Spec::new(40 + seed * 13, 3_000 + seed * 997, seed);
                spec.fiscal_year_end = fye;
                spec.years = years;
                spec.kind = kind;
                let t = generated(&spec);
                assert_eq!(agree(t.path()), 0, "{spec:?}");
                let (b, _) = book::load(t.path());
                let totals = patronage::polars::activity(&b.unwrap()).unwrap().activity;
                // members joining or leaving mid-period and non-member rows are all there
                assert!(totals.totals.iter().any(|t| t.key.member_id.is_empty()));
                assert_eq!(totals.totals.iter().map(|t| t.rows).sum::<u64>(), spec.rows);
            }
        }
    }
}

#[test]
fn shipped_and_fixture_books_agree() {
    for dir in ["data/rising-loaf", "data/valley-commons"] {
        assert_eq!(agree(&root().join(dir)), 0, "{dir}");
    }
    for name in ["e2", "e9"] {
        agree(&fixture(name));
    }
}

#[test]
fn planted_bad_rows_are_counted() {
    let spec = Spec::new(60, 2_000, 9);
    let bad = [
        "2025-02-30,M000001,grocery,purchases,1.00",
        "2025-03-01,M999999,grocery,purchases,1.00",
        "2025-03-01,,bakery,purchases,1.00",
        "2025-03-01,,grocery,hours,1.00",
        "2025-03-01,,grocery,purchases,1.001",
        "2025-03-01,,grocery,purchases,-4.00",
        "2025-03-01,,grocery,purchases,1e3",
        "1999-01-01,M000001,grocery,purchases,1.00",
    ];
    for (n, row) in bad.iter().enumerate() {
        let t = generated(&spec);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(t.path().join("patronage.csv"))
            .unwrap();
        writeln!(f, "{row}").unwrap();
        drop(f);
        let p = agree(t.path());
        assert!(p > 0, "row {n}: {row}");
        // `check` falls back to the fold and locates the row (the last line)
        let (code, _, out) = run(bin().arg("check").arg(t.path()));
        assert_eq!(code, 1, "{row}");
        assert!(
            out.contains(&format!("patronage.csv:{}:", spec.rows + 2)),
            "{out}"
        );
    }
}

#[test]
fn gen_command_writes_a_clean_book() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("book");
    let (code, out, err) = run(bin()
        .arg("gen")
        .arg(&dir)
        .args([
            "--members",
            "30",
            "--rows",
            "1000",
            "--seed",
            "5",
            "--years",
            "2",
        ])
        .args(["--fiscal-year-end", "06-30"]));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, err, out) = run(bin().arg("check").arg(&dir));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, _, err) = run(bin().arg("gen").arg(&dir));
    assert_eq!(code, 2);
    assert!(err.contains("already holds a book"), "{err}");
}

/// The scan's inline member table and dense totals: ids of every length around the 8- and
/// 16-byte word boundaries and beyond (the long-id map), ids that are prefixes of each other,
/// padded ids, several fiscal years, group sums that overflow 64 bits, and a ledger that spans
/// several read blocks; the scan must answer (no fallback) and agree with the fold.
#[test]
fn scan_edge_ids_overflow_and_blocks() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(
        dir.join("coop.toml"),
        "schema = 1\nname = \"Edge\"\nkind = \"consumer\"\ncurrency = \"USD\"\nfiscal_year_end = \"06-30\"\n\n[[units]]\nid = \"grocery\"\nmeasures = { purchases = \"1\" }\n\n[[units]]\nid = \"deli\"\nmeasures = { purchases = \"0.5\", hours = \"0.5\" }\n",
    )
    .unwrap();
    let ids: Vec<String> = [1usize, 2, 7, 8, 9, 15, 16, 17, 24, 40]
        .iter()
        .flat_map(|&n| {
            let base: String = "Q".repeat(n - 1);
            [format!("{base}a"), format!("{base}b")]
        })
        .chain(["M1".to_string(), "M10".to_string(), "M100".to_string()])
        .collect();
    let mut members = String::from("member_id,name,class,joined,left,status,birth_date\n");
    for id in &ids {
        members.push_str(&format!("{id},N,member,2020-01-01,,active,\n"));
    }
    std::fs::write(dir.join("members.csv"), members).unwrap();
    std::fs::write(dir.join("results.csv"), "fiscal_year,unit,line,amount\n").unwrap();
    let mut p = String::from("date,member_id,unit,measure,amount\n");
    // two rows whose sum overflows a 64-bit total in units of 10^-4
    for _ in 0..3 {
        p.push_str("2024-07-01,M1,grocery,purchases,500000000000000.00\n");
    }
    let mut i = 0usize;
    while p.len() < 5 << 20 {
        let id = &ids[i % ids.len()];
        let pad = if i % 7 == 0 { " " } else { "" };
        let (unit, measure) = match i % 3 {
            0 => ("grocery", "purchases"),
            1 => ("deli", "purchases"),
            _ => ("deli", "hours"),
        };
        let year = 2023 + (i / 40_000);
        p.push_str(&format!(
            "{year}-0{}-1{},{pad}{id}{pad},{unit},{measure},{}.{:02}\n",
            1 + i % 9,
            i % 10,
            i % 1000,
            i % 100
        ));
        if i % 5 == 0 {
            p.push_str(&format!("{year}-03-03,,grocery,purchases,{}\n", i % 50));
        }
        i += 1;
    }
    std::fs::write(dir.join("patronage.csv"), &p).unwrap();
    let (b, d) = book::load(dir);
    let b = b.unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
    let r = patronage::scan::scan(&b).expect("the scan answers");
    assert_eq!(r.problem_rows, 0);
    let (fold, diags) = patronage::fold(&b);
    assert!(!diags.has_errors(), "{:?}", diags.into_sorted());
    assert_eq!(r.activity, fold);
    assert!(fold.totals.iter().any(|t| t.amount > i128::from(i64::MAX)));
    let years: std::collections::BTreeSet<i32> =
        fold.totals.iter().map(|t| t.key.fiscal_year).collect();
    assert!(years.len() >= 3, "{years:?}");
    // every id was seen
    for id in &ids {
        assert!(fold.totals.iter().any(|t| &t.key.member_id == id), "{id}");
    }
    // an unknown id that shares a prefix or a word with known ones is a problem row
    for bad in [
        "M",
        "M1000",
        "QQQQQQQQQQQQQQQc",
        "QQQQQQQQQQQQQQQQa ".trim(),
        "Qa",
    ] {
        let mut q = p.clone();
        q.push_str(&format!("2024-07-02,{bad}X,grocery,purchases,1.00\n"));
        std::fs::write(dir.join("patronage.csv"), &q).unwrap();
        let (b, _) = book::load(dir);
        let r = patronage::scan::scan(&b.unwrap()).expect("the scan answers");
        assert_eq!(r.problem_rows, 1, "{bad}X");
    }
}
