//! The year-end close: worked examples E2, E3-a and E9 of the domain notes with their exact
//! figures, sealing, reopening and verification.
use std::path::Path;

use crate::common::*;
use coopledger::book;
use coopledger::engine::close::{close, Close};
use coopledger::ledger;
use coopledger::report;

fn dry(dir: &Path, fy: i32) -> Close {
    let (b, d) = book::check(dir);
    let b = b.unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
    let (act, _) = book::patronage::fold(&b);
    let prior = ledger::prior_state(&b, fy).unwrap();
    close(&b, fy, &act, &prior).unwrap()
}

fn seal_year(dir: &Path, fy: i32) -> Close {
    let (b, _) = book::check(dir);
    let b = b.unwrap();
    let c = dry(dir, fy);
    let rendered = vec![
        (
            "allocation.csv".to_string(),
            report::close::allocation_csv(&c).unwrap(),
        ),
        (
            "tranches.csv".to_string(),
            report::close::tranches_csv(&c).unwrap(),
        ),
    ];
    let bodies = |h: &ledger::SealedHistory| report::statement::sealing_bodies(&b, h);
    ledger::seal(&b, &c, rendered, None, &bodies).unwrap();
    c
}

fn s(m: coopledger::money::Money) -> String {
    m.to_string()
}

#[test]
fn e2_consumer_two_units_twenty_percent_cash_rounded_up() {
    let c = dry(&fixture("e2"), 2025);
    let pools: Vec<(String, String, String, String)> = c
        .pools
        .iter()
        .map(|p| {
            (
                p.unit.clone(),
                s(p.patronage_margin),
                s(p.member_share),
                s(p.nonmember_share),
            )
        })
        .collect();
    assert_eq!(
        pools,
        vec![
            (
                "grocery".into(),
                "2666.67".into(),
                "2000.00".into(),
                "666.67".into()
            ),
            (
                "fuel".into(),
                "513.23".into(),
                "432.11".into(),
                "81.12".into()
            ),
        ]
    );
    let alloc: Vec<(String, String, String)> = c
        .allocations
        .iter()
        .map(|a| (a.member_id.clone(), a.unit.clone(), s(a.amount)))
        .collect();
    let want = [
        ("M1", "fuel", "112.91"),
        ("M1", "grocery", "555.56"),
        ("M2", "grocery", "555.56"),
        ("M3", "fuel", "15.93"),
        ("M3", "grocery", "555.55"),
        ("M4", "fuel", "96.24"),
        ("M5", "fuel", "207.03"),
        ("M5", "grocery", "333.33"),
    ];
    assert_eq!(
        alloc,
        want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .to_vec()
    );
    let members: Vec<(String, String, String, String)> = c
        .members
        .iter()
        .map(|m| (m.member_id.clone(), s(m.total), s(m.cash), s(m.retained)))
        .collect();
    let want = [
        ("M1", "668.47", "133.70", "534.77"),
        ("M2", "555.56", "111.12", "444.44"),
        ("M3", "571.48", "114.30", "457.18"),
        ("M4", "96.24", "19.25", "76.99"),
        ("M5", "540.36", "108.08", "432.28"),
    ];
    assert_eq!(
        members,
        want.map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
            .to_vec()
    );
    assert_eq!(
        (
            s(c.totals.allocated),
            s(c.totals.cash),
            s(c.totals.retained)
        ),
        ("2432.11".into(), "486.45".into(), "1945.66".into())
    );
    // the non-member share goes to the unallocated reserve
    assert_eq!(s(c.reserves.nonmember_share), "747.79");
}

#[test]
fn e2_json_contract() {
    let (code, out, err) = run(bin()
        .args(["close", "--dry-run", "--year", "2025", "--format", "json"])
        .arg(fixture("e2")));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fiscal_year"], 2025);
    assert_eq!(v["currency"], "USD");
    for key in [
        "unit",
        "patronage_margin",
        "member_share",
        "nonmember_share",
        "reserve",
        "allocable",
    ] {
        assert!(v["pools"][0].get(key).is_some(), "pools.{key}");
    }
    assert_eq!(v["pools"][0]["allocable"], "2000.00");
    for key in ["member_id", "unit", "patronage", "amount"] {
        assert!(v["allocations"][0].get(key).is_some(), "allocations.{key}");
    }
    assert_eq!(v["members"][0]["cash"], "133.70");
    assert_eq!(v["members"][0]["notice"], "qualified");
    assert!(v["reserves"].is_object() && v["totals"].is_object());
    assert_eq!(v["totals"]["allocated"], "2432.11");
    // nothing written by a dry run
    assert!(!fixture("e2").join("closes").exists());
}

#[test]
fn e3a_seniority_weights_through_the_engine() {
    let (_t, b) = copy_book(&fixture("e2"));
    let cfg = r#"schema = 1
name = "E3-a"
kind = "worker"
currency = "USD"
fiscal_year_end = "12-31"
[[classes]]
id = "s125"
multiplier = "1.25"
[[classes]]
id = "s115"
multiplier = "1.15"
[[classes]]
id = "s110"
multiplier = "1.10"
[[classes]]
id = "s100"
multiplier = "1.00"
[[units]]
id = "work"
measures = { hours = "1" }
[policy]
reserve_pct = "0"
"#;
    std::fs::write(b.join("coop.toml"), cfg).unwrap();
    std::fs::write(
        b.join("members.csv"),
        "member_id,name,class,joined,left,status,birth_date\n1,a,s125,2020-01-01,,active,\n2,b,s125,2020-01-01,,active,\n3,c,s115,2020-01-01,,active,\n4,d,s110,2020-01-01,,active,\n5,e,s100,2020-01-01,,active,\n",
    )
    .unwrap();
    let mut p = String::from("date,member_id,unit,measure,amount\n");
    for id in 1..=5 {
        p.push_str(&format!("2025-06-30,{id},work,hours,1000\n"));
    }
    std::fs::write(b.join("patronage.csv"), p).unwrap();
    std::fs::write(
        b.join("results.csv"),
        "fiscal_year,unit,line,amount\n2025,work,patronage_margin,10000.00\n",
    )
    .unwrap();
    let c = dry(&b, 2025);
    let got: Vec<String> = c.members.iter().map(|m| s(m.total)).collect();
    assert_eq!(got, ["2173.91", "2173.91", "2000.00", "1913.05", "1739.13"]);
}

#[test]
fn e9_worker_capital_accounts_over_three_years() {
    let (_t, b) = copy_book(&fixture("e9"));
    let y1 = seal_year(&b, 2021);
    let acct = |c: &Close, id: &str| {
        s(c.capital_accounts
            .iter()
            .find(|a| a.member_id == id)
            .unwrap()
            .closing)
    };
    let alloc =
        |c: &Close, id: &str| s(c.members.iter().find(|m| m.member_id == id).unwrap().total);
    let cash = |c: &Close, id: &str| s(c.members.iter().find(|m| m.member_id == id).unwrap().cash);
    assert_eq!(
        [alloc(&y1, "A"), alloc(&y1, "B"), alloc(&y1, "C")],
        ["28000.00", "21000.00", "14000.00"]
    );
    assert_eq!(
        [cash(&y1, "A"), cash(&y1, "B"), cash(&y1, "C")],
        ["5600.00", "4200.00", "2800.00"]
    );
    assert_eq!(
        [acct(&y1, "A"), acct(&y1, "B"), acct(&y1, "C")],
        ["23900.00", "18300.00", "12700.00"]
    );
    assert_eq!(s(y1.reserves.closing), "27000.00");
    assert_eq!(
        y1.identity.balanced,
        Some(true),
        "81,900.00 = 4,500 + 90,000 − 12,600"
    );

    let y2 = seal_year(&b, 2022);
    let loss = |c: &Close, id: &str| s(c.members.iter().find(|m| m.member_id == id).unwrap().loss);
    assert_eq!(
        [loss(&y2, "A"), loss(&y2, "B"), loss(&y2, "C")],
        ["-9333.33", "-4666.67", "-7000.00"]
    );
    assert_eq!(s(y2.pools[0].loss_to_collective), "-9000.00");
    // the loss cancels each member's newest allocated equity first
    let cancelled: Vec<(String, i32, String, String)> = y2
        .tranches_cancelled
        .iter()
        .map(|t| {
            (
                t.member_id.clone(),
                t.allocation_year,
                t.kind.clone(),
                t.amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        cancelled,
        vec![
            ("A".into(), 2021, "qualified".into(), "-9333.33".into()),
            ("B".into(), 2021, "qualified".into(), "-4666.67".into()),
            ("C".into(), 2021, "qualified".into(), "-7000.00".into()),
        ]
    );
    assert_eq!(
        [acct(&y2, "A"), acct(&y2, "B"), acct(&y2, "C")],
        ["14566.67", "13633.33", "5700.00"]
    );
    assert_eq!(s(y2.reserves.closing), "18000.00");
    assert_eq!(y2.identity.balanced, Some(true));
    assert!(
        y2.members.iter().all(|m| !m.total.is_negative()),
        "a patronage dividend is never negative"
    );

    let y3 = seal_year(&b, 2023);
    assert_eq!([alloc(&y3, "A"), alloc(&y3, "B")], ["21000.00", "21000.00"]);
    assert!(
        y3.members.iter().all(|m| m.member_id != "C"),
        "C left on Jan 1 and earns nothing"
    );
    assert_eq!([acct(&y3, "A"), acct(&y3, "B")], ["31366.67", "30433.33"]);
    assert_eq!(s(y3.reserves.closing), "36000.00");

    // the chain verifies; tampering is named
    let (code, out, _) = run(bin().arg("verify").arg(&b));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("sealed years verified: 2021, 2022, 2023"),
        "{out}"
    );
    let f = b.join("closes/2022/close.json");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text = text.replacen("-9333.33", "-9333.34", 1);
    std::fs::write(&f, text).unwrap();
    let (code, out, _) = run(bin().arg("verify").arg(&b));
    assert_eq!(code, 1);
    assert!(
        out.contains("2022: closes/2022/close.json (output changed)"),
        "{out}"
    );
}

#[test]
fn sealing_refuses_twice_and_reopens_with_an_audit_trail() {
    let (_t, b) = copy_book(&fixture("e2"));
    let (code, out, err) = run(bin().args(["close", "--year", "2025"]).arg(&b));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sealed in"));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(b.join("closes/2025/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["members"], 5);
    assert_eq!(manifest["member_total"], "1945.66");
    assert_eq!(manifest["member_root"].as_str().unwrap().len(), 64);
    assert!(manifest["inputs"]["patronage.csv"].is_string());
    let before = std::fs::read(b.join("closes/2025/close.json")).unwrap();
    let (code, _, err) = run(bin().args(["close", "--year", "2025"]).arg(&b));
    assert_eq!(code, 2);
    assert!(err.contains("already closed"), "{err}");
    assert_eq!(
        std::fs::read(b.join("closes/2025/close.json")).unwrap(),
        before
    );
    let (code, _, err) = run(bin()
        .args([
            "close",
            "--year",
            "2025",
            "--reopen",
            "--reason",
            "late purchase data",
        ])
        .arg(&b));
    assert_eq!(code, 0, "{err}");
    let log = std::fs::read_to_string(b.join("closes/audit.log")).unwrap();
    assert!(log.contains("late purchase data"));
    assert!(b.join("closes/.audit/2025-1/close.json").exists());
    // byte-stable: the same inputs give the same sealed files
    assert_eq!(
        std::fs::read(b.join("closes/2025/close.json")).unwrap(),
        before
    );
}

#[test]
fn no_results_is_a_clear_error() {
    let (code, _, err) = run(bin()
        .args(["close", "--dry-run", "--year", "2019"])
        .arg(fixture("e2")));
    assert_eq!(code, 2);
    assert!(
        err.contains("fiscal year 2019 has no lines in results.csv"),
        "{err}"
    );
}

#[test]
fn shipped_books_close_cleanly() {
    for (book, years) in [
        ("data/valley-commons", vec![2025]),
        ("data/rising-loaf", vec![2023, 2024, 2025]),
    ] {
        let (_t, b) = copy_book(&root().join(book));
        for y in years {
            let (code, _, err) = run(bin().args(["close", "--year", &y.to_string()]).arg(&b));
            assert_eq!(code, 0, "{book} {y}: {err}");
        }
        let (code, out, _) = run(bin().arg("verify").arg(&b));
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn awkward_years_never_lose_a_cent() {
    // a unit with a margin but no patronage, and a year with no patronage at all
    let (_t, b) = copy_book(&fixture("e2"));
    let mut r = std::fs::read_to_string(b.join("results.csv")).unwrap();
    r.push_str("2026,grocery,patronage_margin,100.00\n2026,fuel,patronage_margin,-40.00\n");
    std::fs::write(b.join("results.csv"), r).unwrap();
    let mut p = std::fs::read_to_string(b.join("patronage.csv")).unwrap();
    p.push_str("2026-02-01,,fuel,purchases,10.00\n");
    std::fs::write(b.join("patronage.csv"), p).unwrap();
    let c = dry(&b, 2026);
    assert!(c.allocations.is_empty());
    assert!(
        c.notes.iter().any(|n| n.contains("no patronage")),
        "{:?}",
        c.notes
    );
    // every cent of the two margins (100.00 and -40.00) lands in the unallocated reserve: grocery
    // had no patronage at all, fuel only non-member patronage
    assert_eq!(s(c.reserves.nonmember_share), "60.00");
    assert_eq!(s(c.reserves.addition), "60.00");
    assert_eq!(s(c.deficit.added), "0.00");
    assert_eq!(c.totals.allocated.to_minor(), 0);
}

#[test]
fn minimum_check_rules() {
    let (_t, b) = copy_book(&fixture("e2"));
    let cfg = std::fs::read_to_string(b.join("coop.toml")).unwrap();
    for (rule, m4_cash, m4_carried, m4_retained, notice) in [
        ("pay_cash", "96.24", "0.00", "0.00", "qualified"),
        ("carry_forward", "0.00", "19.25", "76.99", "qualified"),
        ("retain", "0.00", "0.00", "96.24", "nonqualified"),
    ] {
        std::fs::write(
            b.join("coop.toml"),
            cfg.replace("notice = \"qualified\"", &format!("notice = \"qualified\"\nminimum_check = \"25.00\"\nminimum_check_rule = \"{rule}\"")),
        )
        .unwrap();
        let c = dry(&b, 2025);
        let m4 = c.members.iter().find(|m| m.member_id == "M4").unwrap();
        assert_eq!(
            (
                s(m4.cash),
                s(m4.carried_out),
                s(m4.retained),
                format!("{:?}", m4.notice).to_lowercase()
            ),
            (
                m4_cash.to_string(),
                m4_carried.to_string(),
                m4_retained.to_string(),
                notice.to_string()
            ),
            "{rule}"
        );
        // members above the minimum are untouched
        let m1 = c.members.iter().find(|m| m.member_id == "M1").unwrap();
        assert_eq!(s(m1.cash), "133.70");
    }
}

#[test]
fn a_loss_beyond_a_members_equity_is_a_shortfall_absorbed_by_the_reserve() {
    let (_t, b) = copy_book(&fixture("e9"));
    let p = std::fs::read_to_string(b.join("patronage.csv")).unwrap();
    std::fs::write(
        b.join("patronage.csv"),
        p.replace(
            "2022-12-31,C,work,hours,1500",
            "2022-12-31,C,work,hours,30000",
        ),
    )
    .unwrap();
    seal_year(&b, 2021);
    let y2 = dry(&b, 2022);
    let c = y2.members.iter().find(|m| m.member_id == "C").unwrap();
    // 21,000.00 × 30,000 / 33,000 = 19,090.909… → 19,090.91; C's equity is 12,700.00
    assert_eq!(
        (s(c.loss), s(c.loss_shortfall)),
        ("-19090.91".into(), "6390.91".into())
    );
    let acct = y2
        .capital_accounts
        .iter()
        .find(|a| a.member_id == "C")
        .unwrap();
    assert_eq!(
        (s(acct.losses), s(acct.closing)),
        ("-12700.00".into(), "0.00".into())
    );
    assert_eq!(s(y2.reserves.loss_shortfall_absorbed), "-6390.91");
    assert_eq!(s(y2.reserves.closing), "11609.09");
}

/// Amounts near the top of the exact range: equity that sums beyond it is an error naming the
/// arithmetic, never a panic or a silently rounded total (rust_decimal would drop the cents first
/// and panic once even whole units no longer fit).
#[test]
fn equity_beyond_the_exact_range_is_an_error() {
    let (_t, dir) = copy_book(&root().join("data/rising-loaf"));
    let mut extra = String::new();
    for day in 1..=28 {
        for month in 6..=11 {
            extra.push_str(&format!(
                "2022-{month:02}-{day:02},RL10,capital,700000000000000000000000000.00,huge\n"
            ));
        }
    }
    let path = dir.join("contributions.csv");
    let text = std::fs::read_to_string(&path).unwrap() + &extra;
    std::fs::write(&path, text).unwrap();
    // each amount is valid on its own
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 0, "{out}");
    for args in [
        vec!["close", "--year", "2025", "--dry-run"],
        vec!["revolve", "--year", "2025", "--dry-run"],
        vec!["report", "rollforward", "--year", "2025"],
    ] {
        let (code, _, err) = run(bin().arg(args[0]).arg(&dir).args(&args[1..]));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("overflow") || err.contains("beyond"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// An error that ends a command asked for JSON is printed as JSON on standard error (exit 2),
/// and as text otherwise.
#[test]
fn errors_are_json_when_json_was_asked() {
    let (code, out, err) = run(bin()
        .args([
            "close",
            "data/rising-loaf",
            "--year",
            "2030",
            "--dry-run",
            "-O",
            "json",
        ])
        .current_dir(root()));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let v: serde_json::Value = serde_json::from_str(&err).expect("stderr is JSON");
    assert_eq!(v["error"], "fiscal year 2030 has no lines in results.csv");
    assert!(v["causes"].as_array().is_some());
    let (code, _, err) = run(bin()
        .args([
            "forecast",
            "data/rising-loaf",
            "--from",
            "2030",
            "--years",
            "1",
            "-o",
            "Cargo.toml/f.json",
        ])
        .current_dir(root()));
    assert_eq!(code, 2);
    assert!(
        serde_json::from_str::<serde_json::Value>(&err).is_ok(),
        "{err}"
    );
    let (code, _, err) = run(bin()
        .args(["close", "data/rising-loaf", "--year", "2030", "--dry-run"])
        .current_dir(root()));
    assert_eq!(code, 2);
    assert_eq!(err, "error: fiscal year 2030 has no lines in results.csv\n");
}
