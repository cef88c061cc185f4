//! The safety net: every command and output format run through the real binary, with its exit
//! code, standard output and standard error snapshotted together (uv's style). Temporary paths
//! are replaced by `[BOOK]` / `[TMP]` and the repository root by `[ROOT]`, so the snapshots are the
//! same on every machine. A refactor that keeps these byte-identical changed nothing a user sees.
use std::path::{Path, PathBuf};

use crate::common::{bin, root, Book};

/// Runs the binary with `args` and renders exit code, stdout and stderr as one snapshot text.
fn transcript(args: &[&str], paths: &[(&Path, &str)]) -> String {
    let (code, out, err) = crate::common::run(bin().args(args));
    let mut text = format!("exit: {code}\n--- stdout\n{out}\n--- stderr\n{err}");
    for (p, name) in paths {
        text = text.replace(&p.display().to_string(), name);
    }
    text.replace(&root().display().to_string(), "[ROOT]")
}

fn snap(name: &str, args: &[&str]) {
    insta::assert_snapshot!(name, transcript(args, &[]));
}

fn snap_in(name: &str, book: &Book, args: &[&str]) {
    insta::assert_snapshot!(
        name,
        transcript(args, &[(book.tmp(), "[TMP]"), (book.path(), "[BOOK]")])
    );
}

fn p(s: &Path) -> &str {
    s.to_str().unwrap()
}

#[test]
fn check_every_format() {
    for fmt in ["text", "json"] {
        snap(
            &format!("check_valley_commons_{fmt}"),
            &["check", "data/valley-commons", "-O", fmt],
        );
        snap(
            &format!("check_planted_{fmt}"),
            &["check", "tests/fixtures/planted", "-O", fmt],
        );
    }
    snap(
        "check_missing_book",
        &["check", "tests/fixtures/no-such-book"],
    );
}

#[test]
fn close_dry_run_every_format() {
    for fmt in ["text", "json"] {
        snap(
            &format!("close_rising_loaf_2025_{fmt}"),
            &[
                "close",
                "data/rising-loaf",
                "--year",
                "2025",
                "--dry-run",
                "-O",
                fmt,
            ],
        );
        snap(
            &format!("close_planted_{fmt}"),
            &[
                "close",
                "tests/fixtures/planted",
                "--year",
                "2025",
                "--dry-run",
                "-O",
                fmt,
            ],
        );
    }
    snap(
        "close_valley_commons_2025_text",
        &[
            "close",
            "data/valley-commons",
            "--year",
            "2025",
            "--dry-run",
        ],
    );
}

#[test]
fn close_seal_verify_and_tamper() {
    let book = Book::copy("data/rising-loaf");
    let dir = p(book.path());
    snap_in(
        "close_seal_rising_loaf_2023",
        &book,
        &["close", dir, "--year", "2023"],
    );
    snap_in(
        "close_seal_again_refused",
        &book,
        &["close", dir, "--year", "2023"],
    );
    snap_in("verify_clean", &book, &["verify", dir]);
    snap_in(
        "close_reopen",
        &book,
        &[
            "close",
            dir,
            "--year",
            "2023",
            "--reopen",
            "--reason",
            "late invoices",
        ],
    );
    snap_in("verify_after_reopen", &book, &["verify", dir]);
    book.edit(
        "closes/2023/close.json",
        "\"patronage_margin\": \"84213.57\"",
        "\"patronage_margin\": \"84213.58\"",
    );
    snap_in("verify_tampered", &book, &["verify", dir]);
}

#[test]
fn revolve_and_forecast_every_format() {
    let book = Book::sealed("data/rising-loaf", &[2023, 2024]);
    let dir = p(book.path());
    for fmt in ["text", "json", "md", "html", "csv"] {
        snap_in(
            &format!("revolve_rising_loaf_2024_{fmt}"),
            &book,
            &["revolve", dir, "--year", "2024", "--dry-run", "-O", fmt],
        );
    }
    snap_in(
        "revolve_rising_loaf_2024_seal",
        &book,
        &["revolve", dir, "--year", "2024"],
    );
    snap_in("verify_after_revolve", &book, &["verify", dir]);
    for fmt in ["text", "json", "html"] {
        snap(
            &format!("forecast_rising_loaf_{fmt}"),
            &["forecast", "data/rising-loaf", "--years", "6", "-O", fmt],
        );
    }
    snap(
        "revolve_unknown_year",
        &["revolve", "data/rising-loaf", "--year", "1999", "--dry-run"],
    );
}

#[test]
fn statements_and_their_verification() {
    let book = Book::sealed("data/rising-loaf", &[2023, 2024, 2025]);
    let dir = p(book.path());
    let out = book.tmp().join("statements");
    snap_in(
        "statement_all",
        &book,
        &["statement", dir, "--all", "-o", p(&out)],
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    insta::assert_snapshot!("statement_all_files", names.join("\n"));
    let json = book.tmp().join("rl03.json");
    let (code, _, err) = crate::common::run(bin().args([
        "statement",
        dir,
        "--member",
        "RL03",
        "-O",
        "json",
        "-o",
        p(&json),
    ]));
    assert_eq!(code, 0, "{err}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(book.path().join("closes/2025/manifest.json")).unwrap(),
    )
    .unwrap();
    let root_hash = manifest["member_root"].as_str().unwrap().to_string();
    snap_in(
        "verify_statement_valid",
        &book,
        &["verify-statement", p(&json), "--root", &root_hash],
    );
    let text = std::fs::read_to_string(&json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let total = v["equity"]["total"].as_str().unwrap().to_string();
    std::fs::write(&json, text.replacen(&total, "999999.99", 1)).unwrap();
    snap_in(
        "verify_statement_altered",
        &book,
        &["verify-statement", p(&json), "--root", &root_hash],
    );
    snap_in(
        "verify_statement_wrong_root",
        &book,
        &["verify-statement", p(&json), "--root", &"0".repeat(64)],
    );
}

#[test]
fn wealth_assets_and_clt_every_format() {
    for fmt in ["md", "html", "csv", "json"] {
        snap(
            &format!("wealth_rising_loaf_2025_{fmt}"),
            &["wealth", "data/rising-loaf", "--year", "2025", "-O", fmt],
        );
    }
    for fmt in ["md", "json"] {
        snap(
            &format!("assets_rising_loaf_2025_{fmt}"),
            &[
                "assets",
                "data/rising-loaf",
                "--year",
                "2025",
                "--creditors",
                "50000",
                "-O",
                fmt,
            ],
        );
    }
    for fmt in ["text", "json"] {
        snap(
            &format!("clt_fixed_{fmt}"),
            &[
                "clt-resale",
                "--formula",
                "fixed",
                "--price0",
                "150000",
                "--rate",
                "2",
                "--years",
                "7",
                "-O",
                fmt,
            ],
        );
    }
}

#[test]
fn e2c_every_scenario_and_format() {
    let dir = root().join("data/tidepool/scenarios");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scenarios.sort();
    for s in &scenarios {
        let name = s.file_stem().unwrap().to_str().unwrap().to_string();
        let rel = format!("data/tidepool/scenarios/{name}.toml");
        for fmt in ["md", "html", "csv", "json"] {
            snap(&format!("e2c_{name}_{fmt}"), &["e2c", &rel, "-O", fmt]);
        }
    }
    for fmt in ["md", "html", "csv", "json"] {
        snap(
            &format!("e2c_compare_{fmt}"),
            &[
                "e2c",
                "compare",
                "data/tidepool/scenarios/coop-conversion.toml",
                "data/tidepool/scenarios/eot.toml",
                "data/tidepool/scenarios/steward-ownership.toml",
                "-O",
                fmt,
            ],
        );
    }
    snap(
        "e2c_missing_scenario",
        &["e2c", "data/tidepool/scenarios/nope.toml"],
    );
}

#[test]
fn report_unclaimed_and_export_errors() {
    snap(
        "report_unsealed_unclaimed",
        &["report", "data/rising-loaf", "unclaimed", "--year", "2025"],
    );
    snap(
        "export_year_without_results",
        &[
            "export",
            "data/rising-loaf",
            "--year",
            "1999",
            "--to",
            "hledger",
        ],
    );
}
