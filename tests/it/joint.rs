//! Joint memberships (`joint_with` in members.csv, `[redemption] joint_estate`): the survivor
//! keeps the deceased member's equity (YVEA), or half passes to the survivor and half is paid to
//! the estate at a discount (Mid-Rivers), or the estate is paid as any other; validation of the
//! links; sealing, the next close and the journal on rising-loaf.
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::revolve::{cents, check_total, e11, edit, fmt, map, per_member, revolve_json};

/// E11 with `cruz` deceased on 2025-03-10 and joint with `dee` (active).
fn e11_joint(redemption: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = e11(redemption);
    std::fs::write(
        dir.join("members.csv"),
        "member_id,name,class,joined,left,status,birth_date,joint_with\n\
         ann,Ann,member,2015-03-01,,active,1970-04-02,\n\
         bob,Bob,member,2015-03-01,,active,1966-09-15,\n\
         cruz,Cruz,member,2017-05-10,2025-03-10,deceased,1981-01-30,dee\n\
         dee,Dee,member,2021-02-01,,active,1990-07-21,cruz\n",
    )
    .unwrap();
    (t, dir)
}

fn transfers(v: &Value) -> Vec<(String, String, i64, String)> {
    v["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["member_id"].as_str().unwrap().to_string(),
                t["to"].as_str().unwrap().to_string(),
                t["allocation_year"].as_i64().unwrap(),
                t["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sum(v: &Value, list: &str) -> i64 {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| cents(p["amount"].as_str().unwrap()))
        .sum()
}

#[test]
fn survivor_keeps_the_joint_account_by_default() {
    // YVEA: no early estate retirement; Cruz's 450.00 (2018), 520.00 (2019) and 610.40 (2021)
    // pass to Dee with their allocation years. The 7-year FIFO then pays Dee the 2018 tranche.
    let (_t, dir) = e11_joint("plan = \"revolving_fund\"\ncycle_years = 7");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        transfers(&v),
        vec![
            ("cruz".into(), "dee".into(), 2018, "450.00".into()),
            ("cruz".into(), "dee".into(), 2019, "520.00".into()),
            ("cruz".into(), "dee".into(), 2021, "610.40".into()),
        ]
    );
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1200.00"), ("bob", "1210.00"), ("dee", "450.00")])
    );
    assert_eq!(v["total"], "2860.00");
    check_total(&v);
    assert_eq!(v["discounts"].as_array().unwrap().len(), 0);
    let r = v["transfers"][0]["reason"].as_str().unwrap();
    assert!(r.contains("surviving joint member `dee`"), "{r}");
    // the md statements: Dee 2,455.60 + 1,580.40 received − 450.00 paid = 3,586.00; Cruz 0
    let (code, md, err) =
        run(bin()
            .arg("revolve")
            .arg(&dir)
            .args(["--year", "2025", "--dry-run", "-O", "md"]));
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("## Joint memberships"), "{md}");
    assert!(
        md.contains(
            "| dee | Dee | 2,455.60 | 450.00 | 0.00 | 0.00 | 0.00 | 0.00 | 1,580.40 | 3,586.00 |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| cruz | Cruz | 1,580.40 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | -1,580.40 | 0.00 |"
        ),
        "{md}"
    );
}

#[test]
fn split_half_to_the_survivor_half_to_the_estate_discounted() {
    // Mid-Rivers: 50% passes to Dee, 50% is paid to the estate at present value (5%, N = 7):
    // 2018: 225.00 moved, 225.00 due now → 225.00
    // 2019: 260.00 moved, 260.00 / 1.05 = 247.619 → 247.62 (discount 12.38)
    // 2021: 305.20 moved, 305.20 / 1.05³ = 263.6432 → 263.64 (discount 41.56)
    // Estate 736.26 cash, 53.94 discount; FIFO pays Dee the 225.00 of 2018 she received.
    let (_t, dir) = e11_joint(
        "plan = \"revolving_fund\"\ncycle_years = 7\nestate_discount_pct = \"5\"\njoint_estate = \"split\"\njoint_survivor_pct = \"50\"",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        transfers(&v),
        vec![
            ("cruz".into(), "dee".into(), 2018, "225.00".into()),
            ("cruz".into(), "dee".into(), 2019, "260.00".into()),
            ("cruz".into(), "dee".into(), 2021, "305.20".into()),
        ]
    );
    let cruz: Vec<(i64, String)> = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["member_id"] == "cruz")
        .map(|p| {
            (
                p["allocation_year"].as_i64().unwrap(),
                p["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        cruz,
        vec![
            (2018, "225.00".into()),
            (2019, "247.62".into()),
            (2021, "263.64".into())
        ]
    );
    assert_eq!(per_member(&v, "discounts"), map(&[("cruz", "53.94")]));
    assert_eq!(
        per_member(&v, "payments"),
        map(&[
            ("ann", "1200.00"),
            ("bob", "1210.00"),
            ("cruz", "736.26"),
            ("dee", "225.00")
        ])
    );
    assert_eq!(v["total"], "3371.26");
    // never a lost cent: cash + discount = FIFO (2,860.00 − 450.00 + 225.00) + estate 790.20
    assert_eq!(fmt(sum(&v, "payments") + sum(&v, "discounts")), "3425.20");
    assert_eq!(fmt(sum(&v, "transfers")), "790.20");
}

#[test]
fn estate_policy_and_a_survivor_who_left_pay_the_estate() {
    // joint_estate = "estate": the joint link changes nothing (as estate_at_face in revolve.rs)
    let (_t, dir) =
        e11_joint("plan = \"revolving_fund\"\ncycle_years = 7\njoint_estate = \"estate\"");
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["transfers"].as_array().unwrap().len(), 0);
    assert_eq!(per_member(&v, "payments")["cruz"], "1580.40");
    assert_eq!(v["total"], "3990.40");
    // a partner who left before the year end is no survivor: Cruz's estate is paid
    let (_t2, dir) = e11_joint("plan = \"revolving_fund\"\ncycle_years = 7");
    edit(
        &dir,
        "members.csv",
        "dee,Dee,member,2021-02-01,,active,",
        "dee,Dee,member,2021-02-01,2025-06-30,left,",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["transfers"].as_array().unwrap().len(), 0);
    assert_eq!(per_member(&v, "payments")["cruz"], "1580.40");
    assert_eq!(per_member(&v, "conversions")["dee"], "2455.60");
}

#[test]
fn bad_joint_links_are_located() {
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    std::fs::write(
        dir.join("members.csv"),
        "\u{feff}member_id,name,class,joined,left,status,birth_date,Joint_With\r\n\
         ann,Ann,member,2015-03-01,,active,1970-04-02,bob\r\n\
         bob,Bob,member,2015-03-01,,active,1966-09-15,cruz\r\n\
         cruz,Cruz,member,2017-05-10,,active,1981-01-30,cruz\r\n\
         dee,Dee,member,2021-02-01,,active,1990-07-21,zed\r\n",
    )
    .unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("error[")).collect();
    let at = |n: usize| lines[n].split_once("members.csv:").unwrap().1;
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        at(0),
        "2:8: error[E0313]: `ann` is joint with `bob`, but `bob` is joint with `cruz`"
    );
    assert_eq!(
        at(1),
        "3:8: error[E0313]: `bob` is joint with `cruz`, but `cruz` is joint with `cruz`"
    );
    assert_eq!(at(2), "4:8: error[E0313]: `cruz` is joint with itself");
    assert_eq!(
        at(3),
        "5:8: error[E0302]: `dee` is joint with `zed`, who is not in members.csv"
    );
    // one-sided: ann names bob, bob names nobody
    std::fs::write(
        dir.join("members.csv"),
        "member_id,name,class,joined,left,status,birth_date,joint_with\n\
         ann,Ann,member,2015-03-01,,active,1970-04-02,bob\n\
         bob,Bob,member,2015-03-01,,active,1966-09-15,\n\
         cruz,Cruz,member,2017-05-10,,active,1981-01-30,\n\
         dee,Dee,member,2021-02-01,,active,1990-07-21,\n",
    )
    .unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 1);
    assert!(
        out.contains("members.csv:2:8: error[E0313]: `ann` is joint with `bob`, but `bob` does not name `ann` back"),
        "{out}"
    );
    assert!(
        out.contains("fill `joint_with` of `bob` with `ann`"),
        "{out}"
    );
}

/// rising-loaf with RL11 (died 2024-08-17) joint with RL04 and `joint_estate = "split"`.
fn rising_loaf_joint() -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = copy_book(&root().join("data/rising-loaf"));
    let p = dir.join("members.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        out.push_str(l);
        out.push_str(match (i, l.split(',').next()) {
            (0, _) => ",joint_with",
            (_, Some("RL04")) => ",RL11",
            (_, Some("RL11")) => ",RL04",
            _ => ",",
        });
        out.push('\n');
    }
    std::fs::write(&p, out).unwrap();
    edit(
        &dir,
        "coop.toml",
        "leaver_interest_pct = \"6.5\"",
        "leaver_interest_pct = \"6.5\"\njoint_estate = \"split\"",
    );
    (t, dir)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(bin().arg(args[0]).arg(dir).args(&args[1..]));
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

#[test]
fn sealed_transfers_reach_the_survivor_and_the_journal() {
    // RL11's 11,745.26 split 50/50 tranche by tranche, half up: 2016 500.00, 2019 1,104.12,
    // 2020 831.06, 2021 1,010.96 (of 2,021.91), 2022 514.36, 2023 1,912.14 (of 3,824.27)
    // → 5,872.64 to RL04 and 5,872.62 paid to the estate at face.
    let (_t, dir) = rising_loaf_joint();
    assert_eq!(ok(&dir, &["check"]), "");
    ok(&dir, &["close", "--year", "2023"]);
    ok(&dir, &["revolve", "--year", "2023"]);
    ok(&dir, &["close", "--year", "2024"]);
    ok(&dir, &["revolve", "--year", "2024"]);
    let sealed: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("closes/2024/redemptions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        transfers(&sealed),
        vec![
            ("RL11".into(), "RL04".into(), 2016, "500.00".into()),
            ("RL11".into(), "RL04".into(), 2019, "1104.12".into()),
            ("RL11".into(), "RL04".into(), 2020, "831.06".into()),
            ("RL11".into(), "RL04".into(), 2021, "1010.96".into()),
            ("RL11".into(), "RL04".into(), 2022, "514.36".into()),
            ("RL11".into(), "RL04".into(), 2023, "1912.14".into()),
        ]
    );
    assert_eq!(per_member(&sealed, "payments")["RL11"], "5872.62");
    // the next close opens RL04's account with what RL04 received, less what was paid
    let c2024: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("closes/2024/close.json")).unwrap())
            .unwrap();
    let closing = |c: &Value, id: &str, k: &str| {
        cents(
            c["capital_accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["member_id"] == id)
                .unwrap()[k]
                .as_str()
                .unwrap(),
        )
    };
    let paid = |id: &str| {
        per_member(&sealed, "payments")
            .get(id)
            .map(|a| cents(a))
            .unwrap_or(0)
            + per_member(&sealed, "set_offs")
                .get(id)
                .map(|a| cents(a))
                .unwrap_or(0)
    };
    let c2025: Value =
        serde_json::from_str(&ok(&dir, &["close", "--year", "2025", "-O", "json"])).unwrap();
    assert_eq!(
        closing(&c2025, "RL04", "opening"),
        closing(&c2024, "RL04", "closing") + 587_264 - paid("RL04")
    );
    assert!(c2025["capital_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["member_id"] == "RL11")
        .is_none_or(|a| a["opening"] == "0.00"));
    // RL04's 2024 statement lists what RL04 received; after the redemptions the equity is the
    // 2024 closing + 5,872.64 received − what RL04 was paid
    let st: Value = serde_json::from_str(&ok(
        &dir,
        &[
            "statement",
            "--member",
            "RL04",
            "--as-of",
            "2024-12-31",
            "-O",
            "json",
        ],
    ))
    .unwrap();
    let received: i64 = st["after_close"]["redemptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["how"] == "transferred_in")
        .map(|r| cents(r["amount"].as_str().unwrap()))
        .sum();
    assert_eq!(fmt(received), "5872.64");
    assert_eq!(
        cents(st["after_close"]["equity"].as_str().unwrap()),
        closing(&c2024, "RL04", "closing") + 587_264 - paid("RL04")
    );
    let md = ok(
        &dir,
        &[
            "statement",
            "--member",
            "RL11",
            "--as-of",
            "2024-12-31",
            "-O",
            "md",
        ],
    );
    assert!(md.contains("passed to your joint member"), "{md}");
    // statements name no other member, not even the joint one
    assert!(!md.contains("RL04"), "{md}");
    assert!(!st.to_string().contains("RL11"), "{st}");
    assert!(md.contains("your equity is 0.00"), "{md}");
    // journal: the transfer moves equity between the two members' accounts; checkers pass
    let journal = ok(&dir, &["export", "--year", "2024", "--to", "hledger"]);
    assert!(
        journal
            .contains("Joint memberships: equity passed to the surviving member, fiscal year 2024"),
        "{journal}"
    );
    assert!(
        journal.contains("Equity:Allocated:FY2023:Qualified:RL04"),
        "{journal}"
    );
    let beancount = ok(&dir, &["export", "--year", "2024", "--to", "beancount"]);
    real_checkers(&journal, &beancount);
}
