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

// ---------------------------------------------------------------- forgery suite

/// Every statement of the sealed year `as_of` falls in, as (member id, JSON).
fn all_statements(book: &Path, out: &Path, as_of: &str) -> Vec<(String, serde_json::Value)> {
    let (code, _, err) = run(bin()
        .arg("statement")
        .arg(book)
        .args(["--all", "--as-of", as_of, "-O", "json", "-o"])
        .arg(out));
    assert_eq!(code, 0, "{err}");
    let mut v: Vec<(String, serde_json::Value)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
            (v["member_id"].as_str().unwrap().to_string(), v)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A different value of the same shape: amounts move by one cent, hex digits flip, sides swap,
/// numbers grow, texts change, nulls get a plausible value.
fn altered(path: &str, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) if path.ends_with(".side") => {
            Value::from(if s == "left" { "right" } else { "left" })
        }
        Value::String(s) if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) => {
            let flip = if s.ends_with('0') { '1' } else { '0' };
            Value::from(format!("{}{flip}", &s[..63]))
        }
        Value::String(s) => match s.parse::<rust_decimal::Decimal>() {
            Ok(d) if s.contains('.') => Value::from(
                (d + rust_decimal::Decimal::new(
                    1,
                    s.len() as u32 - 1 - s.find('.').unwrap() as u32,
                ))
                .to_string(),
            ),
            Ok(d) => Value::from((d + rust_decimal::Decimal::ONE).to_string()),
            Err(_) if s.is_empty() => Value::from("x"),
            Err(_) => Value::from(format!("{s}x")),
        },
        Value::Number(n) => Value::from(n.as_i64().unwrap() + 1),
        Value::Bool(b) => Value::from(!b),
        Value::Null if path.ends_with("owed") => Value::from("25000.00"),
        Value::Null if path.ends_with("left") => Value::from("2025-06-30"),
        Value::Null => Value::from(2030),
        other => other.clone(),
    }
}

/// Every forgery of `v`: each scalar changed, each array element dropped, duplicated and (when
/// there are two) swapped with its neighbour, an extra field. Fields listed as not covered are
/// left alone. Returns (what was changed, the forged statement).
fn forgeries(v: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    use serde_json::Value;
    fn replaced(root: &Value, path: &[Value], new: Value) -> Value {
        let mut r = root.clone();
        let mut cur = &mut r;
        for p in path {
            cur = match p {
                Value::String(k) => cur.get_mut(k.as_str()).unwrap(),
                Value::Number(i) => cur.get_mut(i.as_u64().unwrap() as usize).unwrap(),
                _ => unreachable!(),
            };
        }
        *cur = new;
        r
    }
    fn walk(
        root: &Value,
        at: &Value,
        path: &mut Vec<serde_json::Value>,
        out: &mut Vec<(String, Value)>,
    ) {
        let name = path
            .iter()
            .map(|p| p.to_string().trim_matches('"').to_string())
            .collect::<Vec<_>>()
            .join(".");
        match at {
            Value::Object(m) => {
                for (k, x) in m {
                    if path.is_empty() && (k == "as_of" || k == "after_close") {
                        continue;
                    }
                    path.push(Value::from(k.as_str()));
                    walk(root, x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for i in 0..a.len() {
                    let mut fewer = a.clone();
                    let x = fewer.remove(i);
                    out.push((
                        format!("{name}[{i}] dropped"),
                        replaced(root, path, Value::Array(fewer)),
                    ));
                    let mut more = a.clone();
                    more.insert(i, x);
                    out.push((
                        format!("{name}[{i}] doubled"),
                        replaced(root, path, Value::Array(more)),
                    ));
                    if i + 1 < a.len() && a[i] != a[i + 1] {
                        let mut sw = a.clone();
                        sw.swap(i, i + 1);
                        out.push((
                            format!("{name}[{i}] swapped"),
                            replaced(root, path, Value::Array(sw)),
                        ));
                    }
                    path.push(Value::from(i));
                    walk(root, &a[i], path, out);
                    path.pop();
                }
            }
            scalar => {
                let new = altered(&name, scalar);
                out.push((name.clone(), replaced(root, path, new)));
            }
        }
    }
    let mut out = Vec::new();
    walk(v, v, &mut Vec::new(), &mut out);
    let mut extra = v.clone();
    extra["note"] = Value::from("forged");
    out.push(("an extra field".into(), extra));
    out
}

#[test]
fn forged_statements_are_all_rejected() {
    let (t, book) = revolved_rising_loaf();
    let mut total = 0usize;
    let mut statements = 0usize;
    let mut accepted = Vec::new();
    for (fy, as_of) in [(2024, "2024-12-31"), (2025, "2025-12-31")] {
        let root = member_root(&book, fy);
        let all = all_statements(&book, &t.path().join(format!("s{fy}")), as_of);
        assert!(all.len() >= 10, "{}", all.len());
        for (id, v) in &all {
            statements += 1;
            let text = serde_json::to_string_pretty(v).unwrap();
            assert_eq!(
                coopledger::report::statement::verify_json(&text, &root),
                Vec::new(),
                "{id} {fy}"
            );
            for (what, f) in forgeries(v) {
                total += 1;
                let text = serde_json::to_string_pretty(&f).unwrap();
                if coopledger::report::statement::verify_json(&text, &root).is_empty() {
                    accepted.push(format!("{id} {fy}: {what}"));
                }
            }
            // a different published root (the statement's own root changed with it)
            let mut f = v.clone();
            let other = altered("root", &v["root"]);
            f["root"] = other.clone();
            total += 1;
            let text = serde_json::to_string_pretty(&f).unwrap();
            if coopledger::report::statement::verify_json(&text, other.as_str().unwrap()).is_empty()
            {
                accepted.push(format!("{id} {fy}: root"));
            }
        }
    }
    // the leavers' and estates' `owed`, as the attack in issue 12 set it
    let (_, v) = all_statements(&book, &t.path().join("owed"), "2024-12-31")
        .into_iter()
        .find(|(_, v)| v["status"]["owed"].is_string())
        .expect("a leaver");
    let fy = v["fiscal_year"].as_i64().unwrap() as i32;
    let mut f = v.clone();
    f["status"]["owed"] = serde_json::Value::from("25000.00");
    total += 1;
    let (code, _, err) = verify(t.path(), &f, &member_root(&book, fy));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("altered statement"), "{err}");
    eprintln!(
        "forgery suite: {total} forgeries of {statements} statements, {} accepted",
        accepted.len()
    );
    assert!(total > 3000, "{total}");
    assert!(
        accepted.is_empty(),
        "{} accepted: {accepted:#?}",
        accepted.len()
    );
}

#[test]
fn a_statement_reveals_no_other_member() {
    let (t, book) = revolved_rising_loaf();
    let all = all_statements(&book, &t.path().join("s"), "2025-12-31");
    let members = std::fs::read_to_string(book.join("members.csv")).unwrap();
    let names: Vec<(String, String)> = members
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut checks = 0;
    for (id, v) in &all {
        let text = v.to_string();
        let mut own = Vec::new();
        strings(v, &mut own);
        for (oid, name) in names.iter().filter(|(o, _)| o != id) {
            assert!(
                !own.iter().any(|s| s.contains(oid.as_str())),
                "{id} names {oid}"
            );
            assert!(!text.contains(name.as_str()), "{id} names {name}");
            checks += 2;
        }
        for (oid, o) in all.iter().filter(|(o, _)| o != id) {
            let amount = o["equity"]["total"].as_str().unwrap();
            if amount != "0.00" && amount != v["equity"]["total"].as_str().unwrap() {
                assert!(
                    !own.iter().any(|s| s == amount),
                    "{id} shows {oid}'s equity {amount}"
                );
                checks += 1;
            }
        }
    }
    eprintln!("privacy: {checks} checks over {} statements", all.len());
}
