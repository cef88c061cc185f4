//! `coopledger report` and `coopledger export`, driven through the binary: every report kind in
//! every format is snapshotted on the example books (dry-run path), HTML escapes what comes from
//! the books, and exported journals pass the real `hledger check` and `bean-check` when installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const KINDS: &[&str] = &[
    "schedule",
    "worksheet",
    "notices",
    "rollforward",
    "1099-patr",
    "board",
];
const FORMATS: &[&str] = &["md", "html", "csv", "json"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_coopledger"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run coopledger");
    assert!(
        out.status.success(),
        "coopledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn snapshot_all(book: &str, year: &str) {
    let name = Path::new(book)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("book name")
        .to_string();
    for kind in KINDS {
        for fmt in FORMATS {
            let out = run(&["report", book, kind, "--year", year, "-O", fmt]);
            insta::assert_snapshot!(format!("report_{name}_{year}_{kind}_{fmt}"), out);
        }
    }
}

#[test]
fn report_valley_commons_2025_every_kind_and_format() {
    snapshot_all("data/valley-commons", "2025");
}

#[test]
fn report_rising_loaf_2023_every_kind_and_format() {
    snapshot_all("data/rising-loaf", "2023");
}

#[test]
fn report_is_byte_stable() {
    let a = run(&[
        "report",
        "data/valley-commons",
        "notices",
        "--year",
        "2025",
        "-O",
        "html",
    ]);
    let b = run(&[
        "report",
        "data/valley-commons",
        "notices",
        "--year",
        "2025",
        "-O",
        "html",
    ]);
    assert_eq!(a, b);
}

fn copy_book(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read book") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn report_html_escapes_names_from_the_books() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = tmp.path().join("book");
    copy_book(&root().join("data/valley-commons"), &book);
    let members = book.join("members.csv");
    let text = std::fs::read_to_string(&members).expect("members.csv");
    assert!(text.contains("Fay Fox"));
    let evil = "<script>alert(\"&'x'\")</script>";
    std::fs::write(
        &members,
        text.replace("Fay Fox", &format!("\"{}\"", evil.replace('"', "\"\""))),
    )
    .expect("write");
    let b = book.to_str().expect("path");
    for kind in ["notices", "schedule", "1099-patr"] {
        let html = run(&["report", b, kind, "--year", "2025", "-O", "html"]);
        assert!(!html.contains("<script"), "{kind}: unescaped script tag");
        assert!(
            html.contains("&lt;script&gt;alert(&quot;&amp;&#39;x&#39;&quot;)&lt;/script&gt;"),
            "{kind}"
        );
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{kind}: external resource"
        );
        let md = run(&["report", b, kind, "--year", "2025", "-O", "md"]);
        assert!(!md.contains("<script"), "{kind}: raw HTML in markdown");
    }
}

#[test]
fn report_writes_file_atomically_with_format_from_extension() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("sub").join("board.json");
    let o = out.to_str().expect("path");
    let stdout = run(&[
        "report",
        "data/valley-commons",
        "board",
        "--year",
        "2025",
        "-o",
        o,
    ]);
    assert!(stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("json");
    assert_eq!(v["report"], "board");
}

fn have(tool: &str) -> bool {
    Command::new("which")
        .arg(tool)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn export_journals_balance_and_pass_hledger_and_bean_check() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (book, year) in [
        ("data/valley-commons", "2025"),
        ("data/rising-loaf", "2023"),
    ] {
        let name = Path::new(book)
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        for to in ["hledger", "beancount", "csv"] {
            let out = run(&["export", book, "--year", year, "--to", to]);
            insta::assert_snapshot!(format!("export_{name}_{year}_{to}"), out);
        }
        let j = tmp.path().join(format!("{name}.journal"));
        let bc = tmp.path().join(format!("{name}.beancount"));
        run(&[
            "export",
            book,
            "--year",
            year,
            "--to",
            "hledger",
            "-o",
            j.to_str().expect("p"),
        ]);
        run(&[
            "export",
            book,
            "--year",
            year,
            "--to",
            "beancount",
            "-o",
            bc.to_str().expect("p"),
        ]);
        if have("hledger") {
            for extra in [&[][..], &["--strict"][..]] {
                let o = Command::new("hledger")
                    .arg("-f")
                    .arg(&j)
                    .arg("check")
                    .args(extra)
                    .output()
                    .expect("run hledger");
                assert!(
                    o.status.success(),
                    "hledger check {name}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        } else {
            eprintln!("hledger not installed: skipping hledger check");
        }
        if have("bean-check") {
            let o = Command::new("bean-check")
                .arg(&bc)
                .output()
                .expect("run bean-check");
            assert!(
                o.status.success() && o.stdout.is_empty(),
                "bean-check {name}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        } else {
            eprintln!("bean-check not installed: skipping beancount check");
        }
    }
}

#[test]
fn report_reads_a_sealed_close_and_matches_the_dry_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = tmp.path().join("book");
    copy_book(&root().join("data/rising-loaf"), &book);
    let b = book.to_str().expect("path");
    let dry: Vec<String> = KINDS
        .iter()
        .map(|k| run(&["report", b, k, "--year", "2023", "-O", "json"]))
        .collect();
    run(&["close", b, "--year", "2023"]);
    assert!(book.join("closes/2023/close.json").exists());
    for (k, before) in KINDS.iter().zip(&dry) {
        let after = run(&["report", b, k, "--year", "2023", "-O", "json"]);
        assert!(
            after.contains("sealed close (closes/2023/close.json)"),
            "{k}"
        );
        assert!(before.contains("DRY RUN"), "{k}");
        let strip = |s: &str| -> String {
            s.lines()
                .filter(|l| !l.contains("\"Source\""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(before),
            strip(&after),
            "{k}: sealed and dry-run reports differ"
        );
    }
    let j = run(&["export", b, "--year", "2023", "--to", "csv"]);
    assert!(j.starts_with("entry,date,description,account,member_id,amount,currency"));
}

/// Rising Loaf closes three years in a row, with a loss in 2024 that cancels equity and leaves a
/// shortfall absorbed by the reserve: every year's journal passes the real tools, the reserve
/// postings equal the close's reserve addition, and the roll-forward reconciles.
#[test]
fn export_and_rollforward_reconcile_over_sealed_years_with_a_loss() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = tmp.path().join("book");
    copy_book(&root().join("data/rising-loaf"), &book);
    let b = book.to_str().expect("path");
    for year in ["2023", "2024", "2025"] {
        run(&["close", b, "--year", year]);
        let close: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(book.join("closes").join(year).join("close.json"))
                .expect("close.json"),
        )
        .expect("json");
        let addition = Decimal::from_str(close["reserves"]["addition"].as_str().expect("addition"))
            .expect("decimal");
        let csv = run(&["export", b, "--year", year, "--to", "csv"]);
        let mut rd = csv::Reader::from_reader(csv.as_bytes());
        let mut reserve = Decimal::ZERO;
        let mut all = Decimal::ZERO;
        for r in rd.records() {
            let r = r.expect("record");
            let amt = Decimal::from_str(&r[5]).expect("amount");
            all += amt;
            if &r[3] == "Equity:Unallocated-Reserve" || &r[3] == "Equity:Loss-Carried-Forward" {
                reserve += amt;
            }
        }
        assert_eq!(all, Decimal::ZERO, "{year}: journal does not balance");
        assert_eq!(
            -reserve, addition,
            "{year}: reserve postings differ from the addition"
        );
        let rf = run(&["report", b, "rollforward", "--year", year, "-O", "md"]);
        assert!(
            rf.contains("- Every member's tranches equal the capital account: yes"),
            "{year}: {rf}"
        );
        assert!(rf.contains("- Difference: 0.00"), "{year}");
        for to in ["hledger", "beancount"] {
            let f = tmp.path().join(format!("{year}.{to}"));
            run(&[
                "export",
                b,
                "--year",
                year,
                "--to",
                to,
                "-o",
                f.to_str().expect("p"),
            ]);
            let (tool, args): (&str, Vec<&std::ffi::OsStr>) = if to == "hledger" {
                (
                    "hledger",
                    vec![
                        "-f".as_ref(),
                        f.as_os_str(),
                        "check".as_ref(),
                        "--strict".as_ref(),
                    ],
                )
            } else {
                ("bean-check", vec![f.as_os_str()])
            };
            if have(tool) {
                let o = Command::new(tool).args(args).output().expect("run tool");
                assert!(
                    o.status.success() && o.stdout.is_empty(),
                    "{tool} {year}: {}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

#[test]
fn report_wealth_dispatches_to_the_wealth_report() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coopledger"))
        .args([
            "report",
            "data/rising-loaf",
            "wealth",
            "--year",
            "2025",
            "-O",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "fiscal_year",
        "currency",
        "member_equity",
        "collective_reserve",
        "shared_assets_nbv",
        "locked_assets_nbv",
        "total",
        "common_share_pct",
        "gini",
        "top10_share_pct",
        "members",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert!(v["member_equity"].is_string());
}

#[test]
fn report_of_a_later_unsealed_year_closes_earlier_years_in_memory() {
    // rising-loaf starts in 2023: a 2025 report must carry 2023 and 2024 into its capital accounts
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_coopledger"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let close = run(&[
        "close",
        "data/rising-loaf",
        "--year",
        "2025",
        "--dry-run",
        "-O",
        "json",
    ]);
    let report = run(&[
        "report",
        "data/rising-loaf",
        "rollforward",
        "--year",
        "2025",
        "-O",
        "json",
    ]);
    let total = close["identity"]["member_equity"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        report.to_string().contains(&format!("\"{total}\"")),
        "roll-forward lacks the member equity {total}"
    );
}

/// Reports and the wealth trend are made from sealed records only as they were sealed: an
/// altered `close.json` (here, amounts far beyond any real close) is refused with the file named,
/// never summed (summing them used to panic in the 1099-PATR data).
#[test]
fn altered_sealed_close_is_refused() {
    use crate::common::{bin, copy_book, root, run};
    let (_t, dir) = copy_book(&root().join("data/rising-loaf"));
    let (code, _, err) = run(bin().arg("close").arg(&dir).args(["--year", "2023"]));
    assert_eq!(code, 0, "{err}");
    let p = dir.join("closes/2023/close.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    for m in v["members"].as_array_mut().unwrap() {
        m["cash"] = "79228162514264337593543950335".into();
    }
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    for kind in ["schedule", "1099-patr", "rollforward", "board"] {
        let (code, _, err) = run(bin()
            .arg("report")
            .arg(&dir)
            .arg(kind)
            .args(["--year", "2023"]));
        assert_eq!(code, 2, "{kind}: {err}");
        assert!(
            err.contains("close.json` changed since fiscal year 2023 was sealed"),
            "{kind}: {err}"
        );
    }
    let (code, _, err) = run(bin().arg("wealth").arg(&dir).args(["--year", "2023"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("changed since fiscal year 2023 was sealed"),
        "{err}"
    );
}

/// Crafted member ids used to merge in the journal (`a/b`, `a-b` and `a\b` all became `A-B`, and
/// `hledger check --strict` still passed). Ids with separators are now refused at ingest; the rest
/// keep accounts of their own, and the exports still pass the real checkers.
#[test]
fn export_keeps_look_alike_member_ids_apart() {
    let book = crate::common::Book::copy("data/rising-loaf");
    let ids = [
        ("RL03", "a-b"),
        ("RL04", "A-B"),
        ("RL05", "a_b"),
        ("RL06", "a.b"),
    ];
    for f in [
        "members.csv",
        "equity.csv",
        "patronage.csv",
        "contributions.csv",
    ] {
        let p = book.path().join(f);
        let mut text = std::fs::read_to_string(&p).unwrap();
        for (from, to) in ids {
            text = text.replace(from, to);
        }
        std::fs::write(&p, text).unwrap();
    }
    let mut out = Vec::new();
    for to in ["hledger", "beancount"] {
        let (code, text, err) = crate::common::run(
            crate::common::bin()
                .arg("export")
                .arg(book.path())
                .args(["--year", "2023", "--to", to]),
        );
        assert_eq!(code, 0, "{err}");
        let accounts: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Equity:Allocated:FY2023:Qualified:"))
            .map(|rest| rest.split_whitespace().next().unwrap())
            .collect();
        let look_alike = accounts.iter().filter(|a| a.starts_with("A-B-")).count();
        assert_eq!(look_alike, 4, "{to}: four ids, four accounts: {accounts:?}");
        out.push(text);
    }
    crate::common::real_checkers(&out[0], &out[1]);
}

/// `-o` with an extension the command does not write is refused (it used to write the default
/// format under that name), unless `-O` says the format.
#[test]
fn an_output_extension_the_command_does_not_write_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let pdf = t.path().join("notices.pdf");
    let (code, _, err) = crate::common::run(
        crate::common::bin()
            .args([
                "report",
                "data/rising-loaf",
                "notices",
                "--year",
                "2024",
                "-o",
            ])
            .arg(&pdf)
            .current_dir(root()),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot tell the output format from `.pdf`"),
        "{err}"
    );
    assert!(!pdf.exists());
    let (code, _, err) = crate::common::run(
        crate::common::bin()
            .args([
                "report",
                "data/rising-loaf",
                "notices",
                "--year",
                "2024",
                "-O",
                "md",
                "-o",
            ])
            .arg(&pdf)
            .current_dir(root()),
    );
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&pdf)
        .unwrap()
        .starts_with("# Written notices"));
}
