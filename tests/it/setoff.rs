//! Set-off of amounts members owe (receivables.csv) against their redemptions: hand-checked
//! figures on E11, the minimum check after a set-off, estates, box 5, `set_off = false`, bad
//! input, and the multi-year case on the sealed rising-loaf book (earlier set-offs are not
//! deducted twice; journal entries pass hledger and bean-check).
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::revolve::{cents, check_total, e11, edit, fmt, map, per_member, revolve_json};

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn sum(v: &Value, list: &str) -> i64 {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| cents(p["amount"].as_str().unwrap()))
        .sum()
}

/// (member, allocation year, amount) of a list.
fn lines(v: &Value, list: &str) -> Vec<(String, i64, String)> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["member_id"].as_str().unwrap().to_string(),
                p["allocation_year"].as_i64().unwrap(),
                p["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn receivables(v: &Value) -> Vec<(String, String, String, String)> {
    v["receivables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["member_id"].as_str().unwrap().to_string(),
                r["outstanding"].as_str().unwrap().to_string(),
                r["set_off"].as_str().unwrap().to_string(),
                r["remaining"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const E11_RECEIVABLES: &str = "\u{feff}date,member_id,kind,amount,note,x_ref\r\n\
2024-03-15,bob,owed,500.00,\"feed account, spring\",A1\r\n\
2025-06-30,bob,repaid,120.00,paid at the counter,A2\r\n\
2025-11-02,cruz,,600.00,fertilizer on credit,A3\r\n\
2026-01-15,ann,owed,99.00,after the year end,A4\r\n";

#[test]
fn e11_fifo_with_set_off_hand_checked() {
    // E11(a) retires 2,860.00: Ann 1,200.00, Bob 310.00 (2017) + 900.00 (2018), Cruz 450.00.
    // Bob owes 500.00 − 120.00 = 380.00 on 2025-12-31: 310.00 of 2017 and 70.00 of 2018 are
    // set off, 830.00 is paid. Cruz owes 600.00: all 450.00 is set off, 150.00 still owed.
    // Ann's 99.00 is dated after the year end: she is paid 1,200.00 in cash.
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    write(&dir, "receivables.csv", E11_RECEIVABLES);
    let (code, err, out) = run(bin().arg("check").arg(&dir));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1200.00"), ("bob", "830.00")])
    );
    assert_eq!(v["total"], "2030.00");
    check_total(&v);
    assert_eq!(
        lines(&v, "set_offs"),
        vec![
            ("bob".into(), 2017, "310.00".into()),
            ("bob".into(), 2018, "70.00".into()),
            ("cruz".into(), 2018, "450.00".into()),
        ]
    );
    assert_eq!(v["set_off_total"], "830.00");
    assert_eq!(
        receivables(&v),
        vec![
            (
                "bob".into(),
                "380.00".into(),
                "380.00".into(),
                "0.00".into()
            ),
            (
                "cruz".into(),
                "600.00".into(),
                "450.00".into(),
                "150.00".into()
            ),
        ]
    );
    // never a lost cent: cash + set-off = the 2,860.00 E11(a) retires
    assert_eq!(fmt(sum(&v, "payments") + sum(&v, "set_offs")), "2860.00");
    assert_eq!(v["cash_needed"], "2030.00");
    // the contract keeps its keys; set-offs have the payments' five keys
    for k in ["fiscal_year", "plan", "payments", "total", "unpaid"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let keys: Vec<&str> = v["set_offs"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        ["member_id", "allocation_year", "kind", "amount", "reason"]
    );
    // every format shows it
    let show = |f: &str| {
        let (code, out, err) =
            run(bin()
                .arg("revolve")
                .arg(&dir)
                .args(["--year", "2025", "--dry-run", "-O", f]));
        assert_eq!(code, 0, "{err}");
        out
    };
    let md = show("md");
    assert!(md.contains("## Set-offs against what members owe"), "{md}");
    assert!(md.contains("| cruz | 600.00 | 450.00 | 150.00 |"), "{md}");
    // member statement: Bob opening 6,415.75 − cash 830.00 − set-off 380.00 = 5,205.75
    assert!(
        md.contains(
            "| bob | Bob | 6,415.75 | 830.00 | 380.00 | 0.00 | 0.00 | 0.00 | 0.00 | 5,205.75 |"
        ),
        "{md}"
    );
    assert!(show("html").contains("<h2>Set-offs against what members owe</h2>"));
    let text = show("text");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("cruz 600.00 450.00 150.00"), "{text}");
    let csv = show("csv");
    assert!(
        csv.contains("2025,set_off,cruz,2018,qualified,450.00,"),
        "{csv}"
    );
}

#[test]
fn set_off_and_the_minimum_check() {
    // 1% of all equities with a 25.00 minimum check (see revolve.rs): Cruz 15.80, Dee 24.56.
    // Cruz owes 20.00: the whole 15.80 is set off (no check needed), 4.20 still owed.
    // Dee owes 10.00: 10.00 is set off, and the cash part 14.56 is under the minimum: carried
    // forward as outstanding equity. Ann 86.66 and Bob 64.16 are paid as before.
    let (_t, dir) = e11("plan = \"percentage\"\npercent = \"1\"\nminimum_check = \"25.00\"");
    write(
        &dir,
        "receivables.csv",
        "date,member_id,amount\n2025-02-01,cruz,20.00\n2025-02-01,dee,10.00\n",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "86.66"), ("bob", "64.16")])
    );
    assert_eq!(
        lines(&v, "set_offs"),
        vec![
            ("cruz".into(), 2018, "15.80".into()),
            ("dee".into(), 2022, "10.00".into()),
        ]
    );
    assert_eq!(per_member(&v, "unpaid"), map(&[("dee", "14.56")]));
    let reason = v["unpaid"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("below the minimum check of 25.00 after a set-off of 10.00"),
        "{reason}"
    );
    // cash + set-off + carried forward = 1% of 19,117.50 = 191.18 (the plan before the minimum)
    assert_eq!(
        fmt(sum(&v, "payments") + sum(&v, "set_offs") + sum(&v, "unpaid")),
        "191.18"
    );
    assert_eq!(
        receivables(&v),
        vec![
            ("cruz".into(), "20.00".into(), "15.80".into(), "4.20".into()),
            ("dee".into(), "10.00".into(), "10.00".into(), "0.00".into()),
        ]
    );
}

#[test]
fn estate_set_off_and_box5() {
    // Cruz dies in 2025; her estate (1,580.40 at face) owes 600.00: set off oldest first,
    // 450.00 of 2018 and 150.00 of 2019; cash 370.00 (2019) + 610.40 (2021) = 980.40.
    // Bob's 2017 tranche is nonqualified and wholly set off (he owes 310.00): box 5 still
    // reports it, a redemption applied to a debt is a redemption paid.
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    edit(
        &dir,
        "members.csv",
        "cruz,Cruz,member,2017-05-10,,active,",
        "cruz,Cruz,member,2017-05-10,2025-03-10,deceased,",
    );
    edit(
        &dir,
        "equity.csv",
        "bob,2017,qualified,310.00",
        "bob,2017,nonqualified,310.00",
    );
    write(
        &dir,
        "receivables.csv",
        "date,member_id,kind,amount\n2025-01-10,cruz,owed,600.00\n2025-01-10,bob,owed,310.00\n",
    );
    let v = revolve_json(&dir, 2025);
    let cruz: Vec<(String, i64, String)> = lines(&v, "payments")
        .into_iter()
        .filter(|l| l.0 == "cruz")
        .collect();
    assert_eq!(
        cruz,
        vec![
            ("cruz".into(), 2019, "370.00".into()),
            ("cruz".into(), 2021, "610.40".into()),
        ]
    );
    assert_eq!(
        lines(&v, "set_offs"),
        vec![
            ("bob".into(), 2017, "310.00".into()),
            ("cruz".into(), 2018, "450.00".into()),
            ("cruz".into(), 2019, "150.00".into()),
        ]
    );
    assert!(v["set_offs"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("estate (died 2025-03-10)"));
    // FIFO 2,860.00 without Cruz's 450.00 + her estate 1,580.40 = 3,990.40 retired
    assert_eq!(fmt(sum(&v, "payments") + sum(&v, "set_offs")), "3990.40");
    assert_eq!(v["total"], "3080.40");
    assert_eq!(
        v["box5"],
        serde_json::json!([{"member_id": "bob", "amount": "310.00"}])
    );
}

#[test]
fn set_off_false_pays_in_full_and_says_so() {
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7\nset_off = false");
    write(&dir, "receivables.csv", E11_RECEIVABLES);
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["total"], "2860.00");
    assert_eq!(v["set_offs"].as_array().unwrap().len(), 0);
    assert_eq!(v["set_off_total"], "0.00");
    assert_eq!(
        receivables(&v),
        vec![
            (
                "bob".into(),
                "380.00".into(),
                "0.00".into(),
                "380.00".into()
            ),
            (
                "cruz".into(),
                "600.00".into(),
                "0.00".into(),
                "600.00".into()
            ),
        ]
    );
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.contains(&"`bob` owes the co-op 380.00 (receivables.csv) and is paid 1210.00; set_off = false in [redemption], so nothing is deducted"),
        "{notes:?}"
    );
}

#[test]
fn bad_receivables_are_located() {
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    write(
        &dir,
        "receivables.csv",
        "date,member_id,kind,amount,colour\n\
         2024-03-15,bob,owed,500.00,red\n\
         2024-03-16,zed,owed,10.00,\n\
         2024-03-17,bob,owed,0,\n\
         2024-03-18,bob,repaid,600.00,\n\
         2024-03-19,bob,loan,5.00,\n\
         2024-02-30,bob,owed,5.00,\n",
    );
    let (code, _, out) = run(bin().arg("check").arg(&dir).args(["-O", "json"]));
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, u64, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("E0103".into(), 1, 5),
            ("E0302".into(), 3, 2),
            ("E0312".into(), 4, 4),
            ("E0312".into(), 5, 4),
            ("E0207".into(), 6, 3),
            ("E0202".into(), 7, 1),
        ]
    );
    let msg = v["diagnostics"][3]["message"].as_str().unwrap();
    assert_eq!(
        msg,
        "`bob` repaid 600.00 on 2024-03-18, more than they owed by then"
    );
}

/// rising-loaf with a receivable of RL03 on top of the shipped one of RL02, closed and
/// revolved through 2024.
fn rising_loaf_with_receivables() -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = copy_book(&root().join("data/rising-loaf"));
    let p = dir.join("receivables.csv");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("2024-09-02,RL03,owed,1000.00,loan for a van repair\n");
    std::fs::write(&p, text).unwrap();
    for args in [
        ["close", "--year", "2023"],
        ["revolve", "--year", "2023"],
        ["close", "--year", "2024"],
        ["revolve", "--year", "2024"],
    ] {
        let (code, out, err) = run(bin().arg(args[0]).arg(&dir).args(&args[1..]));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    (t, dir)
}

#[test]
fn sealed_set_offs_are_not_deducted_twice_and_journal_checks() {
    // 2024 (budget 15,000.00; RL11's estate first, then 2019 pro rata): RL02 is due 505.22 and
    // owes 300.00 − 50.00 = 250.00 → 250.00 set off, 255.22 paid. RL03 is due 827.12 and owes
    // 1,000.00 → all set off, 172.88 still owed.
    let (_t, dir) = rising_loaf_with_receivables();
    let sealed: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("closes/2024/redemptions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        lines(&sealed, "set_offs"),
        vec![
            ("RL02".into(), 2019, "250.00".into()),
            ("RL03".into(), 2019, "827.12".into()),
        ]
    );
    assert_eq!(per_member(&sealed, "payments")["RL02"], "255.22");
    assert!(!per_member(&sealed, "payments").contains_key("RL03"));
    // cash + set-off is still the 15,000.00 budget
    assert_eq!(sealed["total"], "13922.88");
    assert_eq!(sealed["set_off_total"], "1077.12");
    // 2025: only the 172.88 RL03 still owes is set off (827.12 was sealed in 2024)
    let (code, _, err) = run(bin().arg("close").arg(&dir).args(["--year", "2025"]));
    assert_eq!(code, 0, "{err}");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        receivables(&v),
        vec![(
            "RL03".into(),
            "172.88".into(),
            "172.88".into(),
            "0.00".into()
        )]
    );
    let rl03: i64 = lines(&v, "set_offs")
        .iter()
        .filter(|l| l.0 == "RL03")
        .map(|l| cents(&l.2))
        .sum();
    assert_eq!(fmt(rl03), "172.88");
    // the journal of 2024 credits the members' receivables and passes the real checkers
    let d = dir.to_str().unwrap();
    let (code, journal, err) = run(bin().args(["export", d, "--year", "2024", "--to", "hledger"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        journal.contains("Equity redemptions set off against what members owe, fiscal year 2024"),
        "{journal}"
    );
    assert!(
        journal.contains("Assets:Member-Receivables:RL03"),
        "{journal}"
    );
    let (code, beancount, err) =
        run(bin().args(["export", d, "--year", "2024", "--to", "beancount"]));
    assert_eq!(code, 0, "{err}");
    real_checkers(&journal, &beancount);
}

#[test]
fn applied_set_offs_reduce_equity_by_exactly_cash_plus_set_off() {
    use coopledger::engine::revolve::{revolve, Options};
    use rust_decimal::Decimal;
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    write(&dir, "receivables.csv", E11_RECEIVABLES);
    let (b, d) = coopledger::book::load(&dir);
    let b = b.unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
    let state = coopledger::ledger::prior_state(&b, 2025).unwrap();
    // as if 2025's sealed set-offs had already taken 100.00 of Cruz's debt in an earlier year
    let mut opts = Options::default();
    opts.earlier_set_offs
        .insert("cruz".into(), Decimal::new(10000, 2));
    let (activity, _) = coopledger::activity(&b);
    let r = revolve(&b, 2025, &state, &activity, &opts).unwrap();
    assert_eq!(r.set_off_total.to_string(), "830.00");
    assert_eq!(
        r.receivables
            .iter()
            .map(|x| (x.member_id.as_str(), x.remaining.to_string()))
            .collect::<Vec<_>>(),
        vec![("bob", "0.00".to_string()), ("cruz", "50.00".to_string())]
    );
    let after = r.apply(&state).unwrap();
    let total = |s: &coopledger::engine::state::State| -> Decimal {
        s.tranches.iter().map(|t| t.amount).sum()
    };
    assert_eq!(
        total(&state) - total(&after),
        r.total.amount() + r.set_off_total.amount()
    );
    assert_eq!(total(&state).to_string(), "19117.50");
    assert_eq!(total(&after).to_string(), "16257.50");
}
