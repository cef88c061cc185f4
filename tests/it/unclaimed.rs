//! Unclaimed payments (uncashed.csv, `report BOOK unclaimed`, the exception list of `revolve`):
//! ages and notice/forfeiture dates hand-checked on the sealed rising-loaf book, rows checked
//! against the sealed redemptions and closes, bad input located.
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::revolve::edit;

/// rising-loaf closed and revolved through 2024, with a 1-year forfeiture after 60 days' notice.
fn sealed_rising_loaf() -> (tempfile::TempDir, PathBuf) {
    let (t, dir) = copy_book(&root().join("data/rising-loaf"));
    for args in [
        ["close", "--year", "2023"],
        ["revolve", "--year", "2023"],
        ["close", "--year", "2024"],
        ["revolve", "--year", "2024"],
    ] {
        let (code, out, err) = run(bin().arg(args[0]).arg(&dir).args(&args[1..]));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    edit(
        &dir,
        "coop.toml",
        "leaver_interest_pct = \"6.5\"",
        "leaver_interest_pct = \"6.5\"\nunclaimed_forfeit_years = 1\nunclaimed_notice_days = 60",
    );
    (t, dir)
}

// RL05's 2023 patronage cash was 912.96 and RL07's first debt installment of 2023 6,794.59
// (closes/2023); RL01 was paid 722.91 and RL04 1,199.49 in the 2024 redemptions.
const UNCASHED: &str = "member_id,fiscal_year,source,amount,issued,note,x_by\n\
RL05,2023,patronage,912.96,2024-03-15,refund check returned: moved away,jo\n\
RL01,2024,redemption,722.91,2025-02-14,,jo\n\
RL04,2024,redemption,1199.49,2025-06-01,,jo\n\
RL07,2023,,6794.59,,first installment of the debt,jo\n";

fn report(dir: &Path, fy: &str, format: &str) -> String {
    let (code, out, err) =
        run(bin()
            .arg("report")
            .arg(dir)
            .args(["unclaimed", "--year", fy, "-O", format]));
    assert_eq!(code, 0, "{err}");
    out
}

fn rows(v: &Value) -> Vec<Value> {
    v["sections"][1]["blocks"][0]["rows"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn ages_notice_and_forfeiture_hand_checked() {
    // as of 2025-12-31, forfeiture 1 year after issue, notice 60 days before:
    // RL07 issued 2023-12-31 (default: the fiscal year end): 366 + 365 = 731 days; forfeit on
    //   2024-12-31 → forfeiture due
    // RL05 issued 2024-03-15: 365 + 291 = 656 days; forfeit on 2025-03-15 → forfeiture due
    // RL01 issued 2025-02-14: 320 days; forfeit on 2026-02-14, notice by 2025-12-16 → notice due
    // RL04 issued 2025-06-01: 213 days; notice from 2026-04-02 → outstanding
    let (_t, dir) = sealed_rising_loaf();
    std::fs::write(dir.join("uncashed.csv"), UNCASHED).unwrap();
    let (code, err, out) = run(bin().arg("check").arg(&dir));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let v: Value = serde_json::from_str(&report(&dir, "2025", "json")).unwrap();
    let got: Vec<(String, String, i64, String, String, String)> = rows(&v)
        .iter()
        .filter(|r| r["row"] == "body")
        .map(|r| {
            (
                r["member_id"].as_str().unwrap().into(),
                r["amount"].as_str().unwrap().into(),
                r["age_days"].as_i64().unwrap(),
                r["notice_by"].as_str().unwrap().into(),
                r["forfeit_on"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let row = |m: &str, a: &str, d: i64, n: &str, f: &str, s: &str| {
        (m.into(), a.into(), d, n.into(), f.into(), s.into())
    };
    assert_eq!(
        got,
        vec![
            row(
                "RL07",
                "6794.59",
                731,
                "2024-11-01",
                "2024-12-31",
                "forfeiture_due"
            ),
            row(
                "RL05",
                "912.96",
                656,
                "2025-01-14",
                "2025-03-15",
                "forfeiture_due"
            ),
            row(
                "RL01",
                "722.91",
                320,
                "2025-12-16",
                "2026-02-14",
                "notice_due"
            ),
            row(
                "RL04",
                "1199.49",
                213,
                "2026-04-02",
                "2026-06-01",
                "outstanding"
            ),
        ]
    );
    let f = &v["sections"][0]["blocks"][0]["fields"];
    assert_eq!(f["Total uncashed"], "9629.95");
    assert_eq!(f["Due for forfeiture"], "7707.55");
    assert_eq!(f["Due for notice"], "722.91");
    // as of 2024-12-31 the 2025 checks are not issued yet; RL07 is due for notice
    let v: Value = serde_json::from_str(&report(&dir, "2024", "json")).unwrap();
    let got: Vec<(String, String)> = rows(&v)
        .iter()
        .filter(|r| r["row"] == "body")
        .map(|r| {
            (
                r["member_id"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("RL07".into(), "forfeiture_due".into()),
            ("RL05".into(), "outstanding".into()),
        ]
    );
    // to the state instead of the co-op
    edit(
        &dir,
        "coop.toml",
        "unclaimed_notice_days = 60",
        "unclaimed_notice_days = 60\nunclaimed_to = \"state\"",
    );
    let md = report(&dir, "2025", "md");
    assert!(
        md.contains("remit it to the state as unclaimed property"),
        "{md}"
    );
    assert!(md.contains("| **Total** |"), "{md}");
    assert!(report(&dir, "2025", "html").contains("6,794.59"));
    assert!(report(&dir, "2025", "csv")
        .starts_with("row,member_id,name,fiscal_year,source,amount,issued,age_days,age_years,notice_by,forfeit_on,status,action,note\n"));
}

#[test]
fn revolve_lists_the_exceptions() {
    let (_t, dir) = sealed_rising_loaf();
    std::fs::write(dir.join("uncashed.csv"), UNCASHED).unwrap();
    let (code, out, err) = run(bin().arg("close").arg(&dir).args(["--year", "2025"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, md, err) =
        run(bin()
            .arg("revolve")
            .arg(&dir)
            .args(["--year", "2025", "--dry-run", "-O", "md"]));
    assert_eq!(code, 0, "{err}");
    let sect = md
        .split("## Unclaimed payments due for notice or forfeiture")
        .nth(1)
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        sect.contains(
            "| RL07 | 2023 | redemption | 6,794.59 | 2023-12-31 | 731 | forfeiture\\_due |"
        ),
        "{sect}"
    );
    assert!(
        sect.contains("| RL01 | 2024 | redemption | 722.91 | 2025-02-14 | 320 | notice\\_due |"),
        "{sect}"
    );
    // outstanding ones are not exceptions
    assert!(!sect.contains("RL04"), "{sect}");
    // and the sealed JSON does not carry them
    let (code, json, _) =
        run(bin()
            .arg("revolve")
            .arg(&dir)
            .args(["--year", "2025", "--dry-run", "-O", "json"]));
    assert_eq!(code, 0);
    assert!(!json.contains("uncashed") && !json.contains("forfeiture"));
}

#[test]
fn without_a_policy_payments_are_only_listed() {
    let (_t, dir) = sealed_rising_loaf();
    edit(
        &dir,
        "coop.toml",
        "\nunclaimed_forfeit_years = 1\nunclaimed_notice_days = 60",
        "",
    );
    std::fs::write(dir.join("uncashed.csv"), UNCASHED).unwrap();
    let v: Value = serde_json::from_str(&report(&dir, "2025", "json")).unwrap();
    for r in rows(&v).iter().filter(|r| r["row"] == "body") {
        assert_eq!(r["status"], "outstanding");
        assert!(r["forfeit_on"].is_null());
        assert!(r["action"]
            .as_str()
            .unwrap()
            .contains("set unclaimed_forfeit_years"));
    }
}

#[test]
fn uncashed_rows_must_match_sealed_payments() {
    let (_t, dir) = sealed_rising_loaf();
    std::fs::write(
        dir.join("uncashed.csv"),
        "member_id,fiscal_year,source,amount,issued\n\
         RL01,2024,redemption,700.00,2025-01-10\n\
         RL01,2024,redemption,22.92,2025-01-10\n\
         RL02,2025,redemption,10.00,\n\
         RL03,2023,patronage,0,\n\
         RL03,2023,patronage,10.00,2022-12-31\n\
         zed,2023,patronage,10.00,\n\
         RL03,2023,cheque,10.00,\n\
         RL03,1066,patronage,10.00,\n\
         RL07,2024,patronage,10.00,\n",
    )
    .unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 1, "{out}");
    let got: Vec<String> = out
        .lines()
        .filter(|l| l.contains("error["))
        .map(|l| l.split_once("uncashed.csv:").unwrap().1.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            // 700.00 + 22.92 = 722.92, one cent more than the 722.91 paid
            "3:4: error[E0314]: `RL01` has 722.92 uncashed from the redemption of fiscal year 2024, more than the 722.91 the sealed redemptions paid them",
            "4:2: error[E0314]: no sealed redemptions of fiscal year 2025 paid this redemption",
            "5:4: error[E0314]: an uncashed payment of zero",
            "6:5: error[E0314]: issued on 2022-12-31, before fiscal year 2023 began (2023-01-01)",
            "7:1: error[E0302]: unknown member `zed`",
            "8:3: error[E0207]: `source` = `cheque` is not allowed",
            "9:2: error[E0203]: fiscal year 1066 is out of range",
            // RL07 left at the end of 2023 and had no 2024 patronage refund
            "10:4: error[E0314]: `RL07` has 10.00 uncashed from the patronage of fiscal year 2024, more than the 0.00 the sealed close paid them",
        ]
    );
}

#[test]
fn unreadable_sealed_records_are_reported_once() {
    let (_t, dir) = sealed_rising_loaf();
    std::fs::write(dir.join("uncashed.csv"), UNCASHED).unwrap();
    std::fs::write(dir.join("closes/2024/redemptions.json"), "{not json").unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].contains(
            "uncashed.csv:3:2: error[E0001]: the sealed records of fiscal year 2024 cannot be read"
        ),
        "{out}"
    );
}

#[test]
fn uncashed_refunds_are_checked_against_the_close_as_sealed() {
    let (_t, dir) = sealed_rising_loaf();
    std::fs::write(dir.join("uncashed.csv"), UNCASHED).unwrap();
    // a hand edit that raises RL05's 2023 cash would hide an overstated uncashed refund
    let p = dir.join("closes/2023/close.json");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("\"912.96\""), "RL05's 2023 cash");
    std::fs::write(&p, text.replacen("\"912.96\"", "\"9912.96\"", 1)).unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&dir));
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].contains(
            "uncashed.csv:2:2: error[E0001]: the sealed records of fiscal year 2023 cannot be read"
        ) && errors[0].contains("close.json` changed since fiscal year 2023 was sealed"),
        "{out}"
    );
}
