//! Member statements: snapshots of each format, verification against the published root,
//! tampering, departed and deceased members, `--all` with safe file names.
use std::path::{Path, PathBuf};

use crate::common::{bin, copy_book, root, run};

/// A temporary copy of `data/rising-loaf` with 2023, 2024 and 2025 sealed.
fn sealed_rising_loaf() -> (tempfile::TempDir, PathBuf) {
    let (t, dir) = copy_book(&root().join("data/rising-loaf"));
    for y in ["2023", "2024", "2025"] {
        let (code, _, err) = run(bin().arg("close").arg(&dir).args(["--year", y]));
        assert_eq!(code, 0, "close {y}: {err}");
    }
    (t, dir)
}

fn member_root(book: &Path, fy: i32) -> String {
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(book.join(format!("closes/{fy}/manifest.json"))).unwrap(),
    )
    .unwrap();
    m["member_root"].as_str().unwrap().to_string()
}

fn statement(book: &Path, member: &str, format: &str) -> String {
    let (code, out, err) = run(bin()
        .arg("statement")
        .arg(book)
        .args(["--member", member, "-O", format]));
    assert_eq!(code, 0, "{err}");
    out
}

fn json(book: &Path, member: &str) -> serde_json::Value {
    serde_json::from_str(&statement(book, member, "json")).unwrap()
}

/// Runs verify-statement on `v` written to a file: (exit code, stdout, stderr).
fn verify(dir: &Path, v: &serde_json::Value, root: &str) -> (i32, String, String) {
    let p = dir.join("statement.json");
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    run(bin().arg("verify-statement").arg(&p).args(["--root", root]))
}

#[test]
fn statement_formats_snapshot() {
    let (_t, book) = sealed_rising_loaf();
    insta::assert_snapshot!("statement_rl01_json", statement(&book, "RL01", "json"));
    insta::assert_snapshot!("statement_rl01_md", statement(&book, "RL01", "md"));
    insta::assert_snapshot!("statement_rl01_html", statement(&book, "RL01", "html"));
}

#[test]
fn statement_json_contract_and_proof_verifies() {
    let (t, book) = sealed_rising_loaf();
    let v = json(&book, "RL01");
    for k in [
        "member_id",
        "as_of",
        "fiscal_year",
        "equity",
        "allocations",
        "redemptions",
        "root",
        "proof",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["fiscal_year"], 2025);
    assert!(v["equity"]["total"].is_string());
    let tr = v["equity"]["tranches"].as_array().unwrap();
    for t in tr {
        for k in ["allocation_year", "kind", "amount", "expected_payout_year"] {
            assert!(t.get(k).is_some(), "tranche misses {k}");
        }
        assert!(t["amount"].is_string());
    }
    let root = member_root(&book, 2025);
    assert_eq!(v["root"].as_str().unwrap(), root);
    let (code, out, err) = verify(t.path(), &v, &root);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("valid:"), "{out}");
    // privacy: nothing in the statement names another member
    let text = v.to_string();
    for other in ["RL02", "Ben Walsh", "RL07", "Gus Andersen"] {
        assert!(!text.contains(other), "statement mentions {other}");
    }
    // every member's statement verifies against the same root
    for m in ["RL02", "RL07", "RL11", "RL12"] {
        let (code, _, err) = verify(t.path(), &json(&book, m), &root);
        assert_eq!(code, 0, "{m}: {err}");
    }
}

#[test]
fn tampered_statement_fails_verification() {
    let (t, book) = sealed_rising_loaf();
    let v = json(&book, "RL01");
    let root = member_root(&book, 2025);

    // change the total
    let mut a = v.clone();
    a["equity"]["total"] = "17152.68".into();
    let (code, _, err) = verify(t.path(), &a, &root);
    assert_eq!(code, 1);
    assert!(err.contains("altered amount"), "{err}");

    // change a tranche amount
    let mut b = v.clone();
    b["equity"]["tranches"][1]["amount"] = "2563.19".into();
    let (code, _, err) = verify(t.path(), &b, &root);
    assert_eq!(code, 1);
    assert!(err.contains("altered amount"), "{err}");

    // move money between tranches (the sums still agree): the leaf commitment catches it
    let mut c = v.clone();
    c["equity"]["tranches"][1]["amount"] = "1663.19".into();
    c["equity"]["tranches"][2]["amount"] = "1608.83".into();
    let (code, _, err) = verify(t.path(), &c, &root);
    assert_eq!(code, 1);
    assert!(err.contains("altered statement"), "{err}");

    // change the total, the closing balance and the last tranche consistently
    let mut d = v.clone();
    d["equity"]["total"] = "17053.68".into();
    d["capital_account"]["closing"] = "17053.68".into();
    d["capital_account"]["allocations"] = "6042.92".into();
    let last = d["equity"]["tranches"].as_array().unwrap().len() - 1;
    d["equity"]["tranches"][last]["amount"] = "6042.92".into();
    let (code, _, err) = verify(t.path(), &d, &root);
    assert_eq!(code, 1);
    assert!(err.contains("altered statement"), "{err}");

    // change a proof hash
    let mut e = v.clone();
    let h = e["proof"][0]["hash"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if h.starts_with('0') { "1" } else { "0" }, &h[1..]);
    e["proof"][0]["hash"] = flipped.into();
    let (code, _, err) = verify(t.path(), &e, &root);
    assert_eq!(code, 1);
    assert!(err.contains("altered statement"), "{err}");

    // a malformed proof
    let mut f = v.clone();
    f["proof"][0]["hash"] = "not-hex".into();
    let (code, _, err) = verify(t.path(), &f, &root);
    assert_eq!(code, 1);
    assert!(err.contains("malformed proof"), "{err}");

    // the wrong root (another year's)
    let (code, _, err) = verify(t.path(), &v, &member_root(&book, 2024));
    assert_eq!(code, 1);
    assert!(err.contains("root mismatch"), "{err}");

    // not a statement at all
    let (code, _, err) = verify(t.path(), &serde_json::json!({"x": 1}), &root);
    assert_eq!(code, 1);
    assert!(err.contains("malformed statement"), "{err}");
}

#[test]
fn departed_and_deceased_members_show_status_and_payout() {
    let (_t, book) = sealed_rising_loaf();
    let gus = json(&book, "RL07");
    assert_eq!(gus["status"]["state"], "left");
    assert_eq!(gus["status"]["left"], "2023-12-31");
    assert_eq!(gus["votes"], 0);
    assert_eq!(gus["status"]["owed"], gus["equity"]["total"]);
    assert_eq!(gus["status"]["owed"], "12025.82");
    // two equal installments in the two fiscal years after leaving (leaver_installments = 2)
    assert_eq!(
        gus["status"]["payout"],
        serde_json::json!([
            {"fiscal_year": 2024, "amount": "6012.91"},
            {"fiscal_year": 2025, "amount": "6012.91"}
        ])
    );
    let ex = gus["status"]["explanation"].as_str().unwrap();
    assert!(ex.contains("6.5% a year"), "{ex}");
    for t in gus["equity"]["tranches"].as_array().unwrap() {
        assert_eq!(t["expected_payout_year"], 2025);
    }

    let kofi = json(&book, "RL11");
    assert_eq!(kofi["status"]["state"], "deceased");
    assert_eq!(kofi["status"]["left"], "2024-08-17");
    let owed = kofi["status"]["owed"].as_str().unwrap().to_string();
    assert_eq!(owed, kofi["equity"]["total"].as_str().unwrap());
    let pay = kofi["status"]["payout"].as_array().unwrap();
    assert_eq!(pay.len(), 2);
    assert_eq!(pay[0]["fiscal_year"], 2025);
    assert_eq!(pay[1]["fiscal_year"], 2026);
    let cents = |s: &serde_json::Value| -> i64 {
        s.as_str().unwrap().replace('.', "").parse::<i64>().unwrap()
    };
    assert_eq!(
        cents(&pay[0]["amount"]) + cents(&pay[1]["amount"]),
        owed.replace('.', "").parse::<i64>().unwrap()
    );
    assert!(kofi["status"]["explanation"]
        .as_str()
        .unwrap()
        .contains("owed to the estate"));
    let md = statement(&book, "RL11", "md");
    assert!(md.contains("- Status: deceased"), "{md}");

    // an active member: revolving fund, 5-year cycle
    let amara = json(&book, "RL01");
    assert_eq!(amara["status"]["state"], "active");
    let t2025 = amara["equity"]["tranches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["allocation_year"] == 2025)
        .unwrap()
        .clone();
    assert_eq!(t2025["expected_payout_year"], 2030);
}

#[test]
fn as_of_picks_the_latest_year_closed_by_then() {
    let (_t, book) = sealed_rising_loaf();
    let (code, out, err) = run(bin().arg("statement").arg(&book).args([
        "--member",
        "RL01",
        "-O",
        "json",
        "--as-of",
        "2024-06-30",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fiscal_year"], 2023);
    assert_eq!(v["as_of"], "2024-06-30");
    assert_eq!(v["root"].as_str().unwrap(), member_root(&book, 2023));
    let (code, _, err) =
        run(bin()
            .arg("statement")
            .arg(&book)
            .args(["--member", "RL01", "--as-of", "2020-01-01"]));
    assert_eq!(code, 2);
    assert!(err.contains("no sealed fiscal year"), "{err}");
    let (code, _, err) = run(bin().arg("statement").arg(&book).args(["--member", "NOPE"]));
    assert_eq!(code, 2);
    assert!(err.contains("NOPE"), "{err}");
}

#[test]
fn member_ids_that_could_escape_a_directory_are_refused() {
    let book = crate::common::Book::copy("data/rising-loaf");
    for bad in ["../../etc/x", "a/b", "a\\b"] {
        let text = std::fs::read_to_string(root().join("data/rising-loaf/members.csv")).unwrap();
        std::fs::write(book.path().join("members.csv"), text.replace("RL03", bad)).unwrap();
        let (code, _, out) = run(bin().arg("check").arg(book.path()));
        assert_eq!(code, 1, "{bad}: {out}");
        assert!(
            out.contains("members.csv:4:1: error[E0315]"),
            "{bad}: {out}"
        );
    }
}

#[test]
fn all_writes_one_safe_file_per_member() {
    // a book whose member id is valid but no file name on every system (`:`, `*`, `?`, space)
    let odd = "RL 03:*?";
    let (t, book) = copy_book(&root().join("data/rising-loaf"));
    for f in [
        "members.csv",
        "equity.csv",
        "patronage.csv",
        "contributions.csv",
    ] {
        let p = book.join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("RL03", odd)).unwrap();
    }
    let (code, _, err) = run(bin().arg("close").arg(&book).args(["--year", "2023"]));
    assert_eq!(code, 0, "{err}");
    let out = t.path().join("out/statements");
    let (code, _, err) = run(bin()
        .arg("statement")
        .arg(&book)
        .arg("--all")
        .arg("-o")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(book.join("closes/2023/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(names.len() as u64, manifest["members"].as_u64().unwrap());
    for n in &names {
        assert!(n.starts_with("member-") && n.ends_with(".json"), "{n}");
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{n}"
        );
    }
    assert!(names.iter().any(|n| n.starts_with("member-RL_03___-")));
    assert_eq!(
        std::fs::read_dir(t.path().join("out")).unwrap().count(),
        1,
        "only the statements directory"
    );
    // each file verifies and holds exactly its member
    let root = member_root(&book, 2023);
    for n in &names {
        let p = out.join(n);
        let (code, _, err) = run(bin()
            .arg("verify-statement")
            .arg(&p)
            .args(["--root", &root]));
        assert_eq!(code, 0, "{n}: {err}");
    }
    let x: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join(names.iter().find(|n| n.contains("RL_03")).unwrap()))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(x["member_id"], odd);
}

#[test]
fn html_escapes_text_from_the_books() {
    let (_t, book) = copy_book(&root().join("data/rising-loaf"));
    let p = book.join("members.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text.replace("Amara Okafor", "\"<script>alert(1)</script> & Co\""),
    )
    .unwrap();
    let (code, _, err) = run(bin().arg("close").arg(&book).args(["--year", "2023"]));
    assert_eq!(code, 0, "{err}");
    let html = statement(&book, "RL01", "html");
    assert!(!html.contains("<script>"), "unescaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("<svg") && html.contains("<th>Kind</th>"));
    assert!(!html.contains(" src=") && !html.contains("<link"));
    let md = statement(&book, "RL01", "md");
    assert!(!md.contains("<script>"));
}

/// rising-loaf with 2023 and 2024 closed and their redemptions sealed, then 2025 closed.
fn revolved_rising_loaf() -> (tempfile::TempDir, PathBuf) {
    let (t, dir) = copy_book(&root().join("data/rising-loaf"));
    for (cmd, y) in [
        ("close", "2023"),
        ("revolve", "2023"),
        ("close", "2024"),
        ("revolve", "2024"),
        ("close", "2025"),
    ] {
        let (code, _, err) = run(bin().arg(cmd).arg(&dir).args(["--year", y]));
        assert_eq!(code, 0, "{cmd} {y}: {err}");
    }
    (t, dir)
}

#[test]
fn statements_list_sealed_redemptions_and_still_verify() {
    // 2024 (FIFO, budget 15,000.00): RL02 is due 505.22 of the 2019 tranche and owes 250.00
    // (receivables.csv: 300.00 advance − 50.00 repaid): 255.22 cash + 250.00 set off.
    let (t, book) = revolved_rising_loaf();
    let (code, out, err) = run(bin().arg("statement").arg(&book).args([
        "--member",
        "RL02",
        "--as-of",
        "2024-12-31",
        "-O",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fiscal_year"], 2024);
    // sealed after the 2024 close: shown under after_close, which the proof does not bind
    assert_eq!(
        v["not_covered"],
        serde_json::json!(["as_of", "after_close"])
    );
    assert_eq!(v["sealed_redemptions"], serde_json::json!([]));
    let lines: Vec<(i64, i64, &str, &str)> = v["after_close"]["redemptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["fiscal_year"].as_i64().unwrap(),
                r["allocation_year"].as_i64().unwrap(),
                r["how"].as_str().unwrap(),
                r["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (2024, 2019, "cash", "255.22"),
            (2024, 2019, "set_off", "250.00")
        ]
    );
    // 10,319.60 at the 2024 close − 505.22 = 9,814.38
    assert_eq!(v["equity"]["total"], "10319.60");
    assert_eq!(v["after_close"]["equity"], "9814.38");
    let root = member_root(&book, 2024);
    let (code, out, err) = verify(t.path(), &v, &root);
    assert_eq!(code, 0, "{out}{err}");
    // the 2025 statement lists the 2024 lines in its history; the next close opened lower
    let v = json(&book, "RL02");
    assert_eq!(v["fiscal_year"], 2025);
    assert_eq!(v["sealed_redemptions"].as_array().unwrap().len(), 2);
    assert!(v["after_close"].is_null());
    assert_eq!(v["history"][2]["opening"], "9814.38");
    let (code, out, err) = verify(t.path(), &v, &member_root(&book, 2025));
    assert_eq!(code, 0, "{out}{err}");
    // RL11's estate (2024) and RL07's debt (2023) show how each tranche left
    let as_of = |m: &str, d: &str| -> serde_json::Value {
        let (code, out, err) = run(bin()
            .arg("statement")
            .arg(&book)
            .args(["--member", m, "--as-of", d, "-O", "json"]));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let rl11 = as_of("RL11", "2024-12-31");
    let hows: Vec<&str> = rl11["after_close"]["redemptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["how"].as_str().unwrap())
        .collect();
    assert_eq!(hows, vec!["cash"; 6], "{rl11}");
    assert_eq!(rl11["after_close"]["equity"], "0.00");
    let rl07 = as_of("RL07", "2023-12-31");
    assert!(rl07["after_close"]["redemptions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["fiscal_year"] == 2023 && r["how"] == "converted_to_debt"));
    insta::assert_snapshot!("statement_rl02_redeemed_md", statement(&book, "RL02", "md"));
    // a changed redemptions.json is refused
    let p = book.join("closes/2024/redemptions.json");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("255.22", "355.22")).unwrap();
    let (code, _, err) = run(bin()
        .arg("statement")
        .arg(&book)
        .args(["--member", "RL02", "-O", "json"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("redemptions.json` changed since fiscal year 2024 was sealed"),
        "{err}"
    );
}
