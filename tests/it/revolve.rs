//! Equity redemption: worked example E11 (a) and (c) of the domain notes with their exact figures,
//! a budget that binds, base capital, estates at face and discounted, age retirement, a leaver's
//! debt (E9's figures), sealing next to the close, the forecast, and bad input.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;

/// A copy of the E11 book with `[redemption]` replaced by `redemption` (TOML body lines).
pub(crate) fn e11(redemption: &str) -> (tempfile::TempDir, PathBuf) {
    let (t, dir) = copy_book(&fixture("e11"));
    let toml = std::fs::read_to_string(dir.join("coop.toml")).unwrap();
    let head = toml.split("[redemption]").next().unwrap();
    std::fs::write(
        dir.join("coop.toml"),
        format!("{head}[redemption]\n{redemption}\n"),
    )
    .unwrap();
    (t, dir)
}

pub(crate) fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&p, text.replace(from, to)).unwrap();
}

pub(crate) fn revolve_json(dir: &Path, fy: i32) -> Value {
    let (code, out, err) = run(bin().arg("revolve").arg(dir).args([
        "--year",
        &fy.to_string(),
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(&out).unwrap()
}

pub(crate) fn revolve_err(dir: &Path, fy: i32) -> String {
    let (code, _, err) = run(bin().arg("revolve").arg(dir).args([
        "--year",
        &fy.to_string(),
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(code, 2, "expected an error, stderr: {err}");
    err
}

pub(crate) fn cents(s: &str) -> i64 {
    let (a, b) = s.split_once('.').unwrap();
    let neg = a.starts_with('-');
    let v = a.trim_start_matches('-').parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

pub(crate) fn fmt(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// Σ payments per member (members with no payment are absent).
pub(crate) fn per_member(v: &Value, list: &str) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, i64> = BTreeMap::new();
    for p in v[list].as_array().unwrap() {
        *m.entry(p["member_id"].as_str().unwrap().to_string())
            .or_default() += cents(p["amount"].as_str().unwrap());
    }
    m.into_iter().map(|(k, c)| (k, fmt(c))).collect()
}

pub(crate) fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

pub(crate) fn check_total(v: &Value) {
    let sum: i64 = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| cents(p["amount"].as_str().unwrap()))
        .sum();
    assert_eq!(fmt(sum), v["total"].as_str().unwrap());
}

#[test]
fn e11a_seven_year_fifo() {
    let v = revolve_json(&fixture("e11"), 2025);
    assert_eq!(v["fiscal_year"], 2025);
    assert_eq!(v["plan"], "revolving_fund");
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1200.00"), ("bob", "1210.00"), ("cruz", "450.00")])
    );
    // Dee has nothing due
    assert!(!per_member(&v, "payments").contains_key("dee"));
    assert_eq!(v["total"], "2860.00");
    assert_eq!(v["unpaid"].as_array().unwrap().len(), 0);
    check_total(&v);
    // Bob's 2017 residual is paid as its own tranche
    let bob: Vec<(i64, String)> = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["member_id"] == "bob")
        .map(|p| {
            (
                p["allocation_year"].as_i64().unwrap(),
                p["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(bob, vec![(2017, "310.00".into()), (2018, "900.00".into())]);
    // the JSON contract: exactly these keys on payments and unpaid entries
    let keys: Vec<&str> = v["payments"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        ["member_id", "allocation_year", "kind", "amount", "reason"]
    );
}

#[test]
fn e11c_eight_percent_of_all_equities() {
    let (_t, dir) = e11("plan = \"percentage\"\npercent = \"8\"");
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["plan"], "percentage");
    assert_eq!(
        per_member(&v, "payments"),
        map(&[
            ("ann", "693.26"),
            ("bob", "513.26"),
            ("cruz", "126.43"),
            ("dee", "196.45")
        ])
    );
    assert_eq!(v["total"], "1529.40");
    check_total(&v);
    // applied to the oldest tranches first: Ann's 693.26 all from 2018, Bob's from 2017 then 2018
    let lines: Vec<(String, i64, String)> = v["payments"]
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
        .collect();
    assert_eq!(
        lines,
        vec![
            ("ann".into(), 2018, "693.26".into()),
            ("bob".into(), 2017, "310.00".into()),
            ("bob".into(), 2018, "203.26".into()),
            ("cruz".into(), 2018, "126.43".into()),
            ("dee".into(), 2022, "196.45".into()),
        ]
    );
}

#[test]
fn fifo_budget_binds_marginal_year_pro_rata() {
    // need 2,860.00, budget 2,700.00: 2017 (310.00) in full, then 2,390.00 of 2018's 2,550.00
    // by balance: exact 1,124.7058 / 843.5294 / 421.7647 → floors 1,124.70 / 843.52 / 421.76,
    // the two cents left go to the largest remainders (Bob .94, Ann .59)
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7\nbudget = \"2700.00\"");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1124.71"), ("bob", "1153.53"), ("cruz", "421.76")])
    );
    assert_eq!(v["total"], "2700.00");
    check_total(&v);
    assert_eq!(
        per_member(&v, "unpaid"),
        map(&[("ann", "75.29"), ("bob", "56.47"), ("cruz", "28.24")])
    );
    for u in v["unpaid"].as_array().unwrap() {
        let r = u["reason"].as_str().unwrap();
        assert!(r.starts_with("budget") && r.contains("2018"), "{r}");
    }
}

#[test]
fn solvency_limit_binds_before_the_budget() {
    let (_t, dir) = e11(
        "plan = \"revolving_fund\"\ncycle_years = 7\nbudget = \"5000.00\"\nsolvency_limit = \"310.00\"",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(per_member(&v, "payments"), map(&[("bob", "310.00")]));
    assert_eq!(
        per_member(&v, "unpaid"),
        map(&[("ann", "1200.00"), ("bob", "900.00"), ("cruz", "450.00")])
    );
    assert!(v["unpaid"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("solvency limit"));
}

#[test]
fn minimum_check_carries_small_amounts_forward() {
    // 1% of all equities: Cruz 15.80 and Dee 24.56 are under a 25.00 minimum check
    let (_t, dir) = e11("plan = \"percentage\"\npercent = \"1\"\nminimum_check = \"25.00\"");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "86.66"), ("bob", "64.16")])
    );
    assert_eq!(
        per_member(&v, "unpaid"),
        map(&[("cruz", "15.80"), ("dee", "24.56")])
    );
    assert!(v["unpaid"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("minimum check"));
}

fn write_patronage(dir: &Path, years: &[i32]) {
    // purchases per member and year: Ann 10,000, Bob 10,000 each year; Cruz 5,000/7,000/8,000;
    // Dee 6,000/7,000/7,000 (the last three years)
    let mut s = String::from("date,member_id,unit,measure,amount\n");
    let cruz = [5000, 7000, 8000];
    let dee = [6000, 7000, 7000];
    for (i, y) in years.iter().enumerate() {
        let j = i + 3 - years.len().min(3);
        s.push_str(&format!("{y}-06-01,ann,supply,purchases,10000.00\n"));
        s.push_str(&format!("{y}-06-01,bob,supply,purchases,10000.00\n"));
        s.push_str(&format!(
            "{y}-06-02,cruz,supply,purchases,{}.00\n",
            cruz[j.min(2)]
        ));
        s.push_str(&format!(
            "{y}-06-03,dee,supply,purchases,{}.00\n",
            dee[j.min(2)]
        ));
        s.push_str(&format!("{y}-06-04,,supply,purchases,999.00\n"));
    }
    std::fs::write(dir.join("patronage.csv"), s).unwrap();
}

#[test]
fn base_capital_redeems_over_invested_pro_rata_under_a_budget() {
    // 3-year patronage 2023–2025: Ann 30,000, Bob 30,000, Cruz 20,000, Dee 20,000 (of 100,000);
    // base capital 10,000.00 → required 3,000 / 3,000 / 2,000 / 2,000.
    // Balances 8,665.75 / 6,415.75 / 1,580.40 / 2,455.60: over 5,665.75 / 3,415.75 / – / 455.60,
    // Cruz under by 419.60. Budget 5,000.00 pro rata by over-investment:
    // exact 2,970.3736 / 1,790.7697 / 238.8567 → 2,970.37 / 1,790.77 / 238.86
    let (_t, dir) = e11(
        "plan = \"base_capital\"\nbase_capital = \"10000.00\"\nbase_years = 3\nbudget = \"5000.00\"",
    );
    write_patronage(&dir, &[2023, 2024, 2025]);
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["plan"], "base_capital");
    let req: Vec<(String, String, String, String)> = v["base_capital"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["member_id"].as_str().unwrap().into(),
                b["required"].as_str().unwrap().into(),
                b["difference"].as_str().unwrap().into(),
                b["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        req,
        vec![
            (
                "ann".into(),
                "3000.00".into(),
                "5665.75".into(),
                "over".into()
            ),
            (
                "bob".into(),
                "3000.00".into(),
                "3415.75".into(),
                "over".into()
            ),
            (
                "cruz".into(),
                "2000.00".into(),
                "-419.60".into(),
                "under".into()
            ),
            (
                "dee".into(),
                "2000.00".into(),
                "455.60".into(),
                "over".into()
            ),
        ]
    );
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "2970.37"), ("bob", "1790.77"), ("dee", "238.86")])
    );
    assert_eq!(v["total"], "5000.00");
    check_total(&v);
    // oldest first: Ann 1,200.00 (2018) + 1,350.00 (2019) + 420.37 (2021)
    let ann: Vec<(i64, String)> = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["member_id"] == "ann")
        .map(|p| {
            (
                p["allocation_year"].as_i64().unwrap(),
                p["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ann,
        vec![
            (2018, "1200.00".into()),
            (2019, "1350.00".into()),
            (2021, "420.37".into())
        ]
    );
    assert_eq!(
        per_member(&v, "unpaid"),
        map(&[("ann", "2695.38"), ("bob", "1624.98"), ("dee", "216.74")])
    );
}

#[test]
fn base_capital_without_enough_history_names_the_missing_years() {
    let (_t, dir) = e11("plan = \"base_capital\"\nbase_capital = \"10000.00\"\nbase_years = 4");
    write_patronage(&dir, &[2023, 2024, 2025]);
    let err = revolve_err(&dir, 2025);
    assert!(err.contains("4 years (2022 to 2025)"), "{err}");
    assert!(err.contains("fiscal year(s) 2022"), "{err}");
    assert!(err.contains("patronage.csv"), "{err}");
    assert!(err.contains("base_years"), "{err}");
}

#[test]
fn estate_at_face_is_paid_before_the_plan() {
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    edit(
        &dir,
        "members.csv",
        "cruz,Cruz,member,2017-05-10,,active,",
        "cruz,Cruz,member,2017-05-10,2025-03-10,deceased,",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1200.00"), ("bob", "1210.00"), ("cruz", "1580.40")])
    );
    assert_eq!(v["total"], "3990.40");
    let cruz: Vec<&Value> = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["member_id"] == "cruz")
        .collect();
    assert!(cruz[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("estate (died 2025-03-10) at face"));
    assert_eq!(v["discounts"].as_array().unwrap().len(), 0);
}

#[test]
fn estate_discounted_to_present_value_tranche_by_tranche() {
    // 5%, 7-year cycle, in 2025: 2018 is due now (factor 1) → 450.00; 2019 is due in 1 year →
    // 520.00 / 1.05 = 495.238 → 495.24; 2021 in 3 years → 610.40 / 1.157625 = 527.2865 → 527.29.
    // PV 1,472.53; discount 107.87 to unallocated equity.
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7\nestate_discount_pct = \"5\"");
    edit(
        &dir,
        "members.csv",
        "cruz,Cruz,member,2017-05-10,,active,",
        "cruz,Cruz,member,2017-05-10,2025-03-10,deceased,",
    );
    let v = revolve_json(&dir, 2025);
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
            (2018, "450.00".into()),
            (2019, "495.24".into()),
            (2021, "527.29".into())
        ]
    );
    assert_eq!(per_member(&v, "discounts"), map(&[("cruz", "107.87")]));
    assert_eq!(v["total"], "3882.53");
}

#[test]
fn estate_without_a_date_of_death_is_an_error() {
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    edit(
        &dir,
        "members.csv",
        "cruz,Cruz,member,2017-05-10,,active,",
        "cruz,Cruz,member,2017-05-10,,deceased,",
    );
    let err = revolve_err(&dir, 2025);
    assert!(
        err.contains("`cruz` is deceased but has no date of death"),
        "{err}"
    );
    assert!(err.contains("members.csv line 4"), "{err}");
    assert!(err.contains("`left` column"), "{err}");
}

#[test]
fn age_retirement_and_missing_birth_dates() {
    // Bob (born 1966-09-15) is 59 on 2025-12-31: retired in full at 59
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7\nretirement_age = 59");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        per_member(&v, "payments"),
        map(&[("ann", "1200.00"), ("bob", "6415.75"), ("cruz", "450.00")])
    );
    // without birth dates the age plan cannot run
    edit(&dir, "members.csv", ",active,1970-04-02", ",active,");
    edit(&dir, "members.csv", ",active,1990-07-21", ",active,");
    let err = revolve_err(&dir, 2025);
    assert!(
        err.contains(
            "2 active member(s) with equity have no birth date (`ann` on line 2, `dee` on line 5)"
        ),
        "{err}"
    );
    assert!(err.contains("birth_date"), "{err}");
}

#[test]
fn leaver_balance_becomes_a_debt_e9() {
    // E9: C's 5,700.00 at 6.5% in 2 equal principal installments: interest 370.50 then 185.25
    let (_t, dir) = e11(
        "plan = \"revolving_fund\"\ncycle_years = 7\nleaver_installments = 2\nleaver_interest_pct = \"6.5\"",
    );
    edit(
        &dir,
        "members.csv",
        "dee,Dee,member,2021-02-01,,active,",
        "dee,Dee,member,2021-02-01,2025-01-01,left,",
    );
    edit(
        &dir,
        "equity.csv",
        "dee,2022,qualified,700.00\ndee,2023,qualified,845.00\ndee,2024,qualified,910.60\n",
        "dee,2024,ica,5700.00\n",
    );
    let v = revolve_json(&dir, 2025);
    assert_eq!(v["total"], "2860.00");
    let d = &v["debts"][0];
    assert_eq!(d["member_id"], "dee");
    assert_eq!(d["principal"], "5700.00");
    let ins: Vec<(i64, &str, &str, &str)> = d["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["fiscal_year"].as_i64().unwrap(),
                i["interest"].as_str().unwrap(),
                i["principal"].as_str().unwrap(),
                i["payment"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ins,
        vec![
            (2025, "370.50", "2850.00", "3220.50"),
            (2026, "185.25", "2850.00", "3035.25")
        ]
    );
    assert_eq!(per_member(&v, "conversions"), map(&[("dee", "5700.00")]));
    // cash this year: the revolvement and the first installment
    assert_eq!(v["cash_needed"], "6080.50");
}

#[test]
fn sealed_redemptions_reduce_the_next_close_and_verify() {
    let (_t, dir) = copy_book(&root().join("data/rising-loaf"));
    let ok = |args: &[&str]| {
        let (code, out, err) = run(bin().args(args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    let d = dir.to_str().unwrap();
    ok(&["close", d, "--year", "2023"]);
    // RL07 left on 2023-12-31: their account becomes a debt in 2023
    let out = ok(&["revolve", d, "--year", "2023"]);
    assert!(out.contains("RL07 converted to debt"), "{out}");
    assert!(dir.join("closes/2023/redemptions.json").exists());
    assert!(dir.join("closes/2023/redemptions.csv").exists());
    // sealing twice is refused
    let (code, _, err) = run(bin().args(["revolve", d, "--year", "2023"]));
    assert_eq!(code, 2);
    assert!(err.contains("already sealed"), "{err}");
    // the chain and the new outputs verify
    let out = ok(&["verify", d]);
    assert!(out.contains("hash chain intact"), "{out}");
    // the next close starts without RL07's equity
    let c: Value =
        serde_json::from_str(&ok(&["close", d, "--year", "2024", "-O", "json"])).unwrap();
    let rl07 = c["capital_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["member_id"] == "RL07");
    assert!(
        rl07.is_none_or(|a| a["opening"] == "0.00"),
        "RL07 still has equity: {rl07:?}"
    );
    // 2024: the debt's second installment is due, and RL11's estate is paid
    let v = revolve_json(&dir, 2024);
    let svc = &v["debt_service"][0];
    assert_eq!(svc["member_id"], "RL07");
    assert_eq!(svc["installment"], 2);
    assert!(per_member(&v, "payments").contains_key("RL11"));
    // tampering with the sealed redemptions is found
    let p = dir.join("closes/2023/redemptions.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("RL07", "RL08")).unwrap();
    let (code, out, _) = run(bin().args(["verify", d]));
    assert_eq!(code, 1);
    assert!(
        out.contains("closes/2023/redemptions.csv (output changed)"),
        "{out}"
    );
}

#[test]
fn revolve_refuses_to_seal_an_unclosed_year_or_behind_a_later_close() {
    let (_t, dir) = copy_book(&root().join("data/rising-loaf"));
    let d = dir.to_str().unwrap();
    let (code, _, err) = run(bin().args(["revolve", d, "--year", "2023"]));
    assert_eq!(code, 2);
    assert!(err.contains("fiscal year 2023 is not closed"), "{err}");
    for y in ["2023", "2024"] {
        let (code, _, err) = run(bin().args(["close", d, "--year", y]));
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = run(bin().args(["revolve", d, "--year", "2023"]));
    assert_eq!(code, 2);
    assert!(err.contains("2024 is already closed"), "{err}");
}

#[test]
fn every_format_renders_and_html_is_self_contained() {
    let (_t, dir) = e11("plan = \"percentage\"\npercent = \"8\"");
    edit(
        &dir,
        "coop.toml",
        "name = \"E11 Farm Supply Cooperative\"",
        "name = 'E11 <Farm> & \"Supply\"'",
    );
    edit(
        &dir,
        "equity.csv",
        "dee,2024,qualified,910.60",
        "dee,2024,nonqualified,910.60",
    );
    let mut outs = Vec::new();
    for f in ["text", "json", "md", "html", "csv"] {
        let (code, out, err) = run(bin().arg("revolve").arg(&dir).args([
            "--year",
            "2025",
            "--dry-run",
            "--format",
            f,
        ]));
        assert_eq!(code, 0, "{f}: {err}");
        // byte-stable
        let (_, again, _) = run(bin().arg("revolve").arg(&dir).args([
            "--year",
            "2025",
            "--dry-run",
            "--format",
            f,
        ]));
        assert_eq!(out, again, "{f} is not deterministic");
        outs.push(out);
    }
    let html = &outs[3];
    assert!(html.contains("E11 &lt;Farm&gt; &amp; &quot;Supply&quot;"));
    assert!(!html.contains("<Farm>"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
    assert!(outs[2].contains("## Revolvement schedule by allocation year"));
    assert!(outs[2].contains("| 2018 | 2,550.00 | 1,022.95 | 0.00 | 0.00 | 1,527.05 |"));
    assert!(
        outs[4].starts_with("fiscal_year,status,member_id,allocation_year,kind,amount,reason\n")
    );
    // -o picks the format from the extension
    let o = dir.join("r.json");
    let (code, _, err) = run(bin()
        .arg("revolve")
        .arg(&dir)
        .args(["--year", "2025", "--dry-run", "-o"])
        .arg(&o));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&o).unwrap(), outs[1]);
}

#[test]
fn box5_counts_only_nonqualified_redemptions() {
    // Bob's 2017 tranche made nonqualified: the FIFO pays it (310.00) and box 5 shows it
    let (_t, dir) = e11("plan = \"revolving_fund\"\ncycle_years = 7");
    edit(
        &dir,
        "equity.csv",
        "bob,2017,qualified,310.00",
        "bob,2017,nonqualified,310.00",
    );
    let (code, out, err) =
        run(bin()
            .arg("revolve")
            .arg(&dir)
            .args(["--year", "2025", "--dry-run", "--format", "md"]));
    assert_eq!(code, 0, "{err}");
    let sect = out.split("## 1099-PATR box 5").nth(1).unwrap();
    assert!(sect.contains("| bob | Bob | 310.00 |"), "{sect}");
    assert!(!sect.contains("| ann |"), "{sect}");
    let v = revolve_json(&dir, 2025);
    assert_eq!(
        v["box5"],
        serde_json::json!([{"member_id": "bob", "amount": "310.00"}])
    );
}

#[test]
fn forecast_projects_fifo_debts_and_renders_an_svg_chart() {
    let (_t, dir) = e11(
        "plan = \"revolving_fund\"\ncycle_years = 7\nleaver_installments = 2\nleaver_interest_pct = \"6.5\"",
    );
    edit(
        &dir,
        "members.csv",
        "dee,Dee,member,2021-02-01,,active,",
        "dee,Dee,member,2021-02-01,2025-01-01,left,",
    );
    let (code, out, err) = run(bin()
        .arg("forecast")
        .arg(&dir)
        .args(["--years", "10", "--from", "2025", "-O", "json"]));
    assert_eq!(code, 0, "{err}");
    let f: Value = serde_json::from_str(&out).unwrap();
    let rows = f["years"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let row = |y: i64| rows.iter().find(|r| r["fiscal_year"] == y).unwrap();
    // 2025: 2017–2018 (2,860.00) + Dee's debt 2,455.60: 1,227.80 + interest 159.61
    assert_eq!(row(2025)["revolvement"], "2860.00");
    assert_eq!(row(2025)["debt_service"], "1387.41");
    // 2026: 2019 (2,750.00) + 1,227.80 + 79.81
    assert_eq!(row(2026)["revolvement"], "2750.00");
    assert_eq!(row(2026)["debt_service"], "1307.61");
    // 2027: 2020 had no margin
    assert_eq!(row(2027)["total"], "0.00");
    // 2028: 2021 without Dee (no 2021 tranche) = 3,120.40
    assert_eq!(row(2028)["revolvement"], "3120.40");
    let (code, html, err) = run(bin()
        .arg("forecast")
        .arg(&dir)
        .args(["--years", "10", "--from", "2025", "-O", "html"]));
    assert_eq!(code, 0, "{err}");
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!html.contains("src=") && !html.contains("<link") && !html.contains("<script"));
}

#[test]
fn losses_offset_the_oldest_redeemable_tranches_first() {
    use coopledger::engine::revolve::{revolve, Options};
    use coopledger::engine::state::Tranche;
    // Ann is charged a 1,500.00 loss in 2023: it absorbs her 2018 tranche (1,200.00) and 300.00
    // of 2019, so the 7-year FIFO of 2025 pays her nothing
    let (b, d) = coopledger::book::load(&fixture("e11"));
    let b = b.unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
    let mut state = coopledger::ledger::prior_state(&b, 2025).unwrap();
    state.tranches.push(Tranche {
        member_id: "ann".into(),
        allocation_year: 2023,
        kind: "loss".into(),
        amount: "-1500.00".parse().unwrap(),
    });
    state.tranches.sort();
    let (activity, _) = coopledger::activity(&b);
    let r = revolve(&b, 2025, &state, &activity, &Options::default()).unwrap();
    assert_eq!(r.total.to_string(), "1660.00");
    assert!(r.payments.iter().all(|p| p.member_id != "ann"));
    let offsets: Vec<(i32, String, String)> = r
        .offsets
        .iter()
        .map(|o| (o.allocation_year, o.kind.clone(), o.amount.to_string()))
        .collect();
    assert_eq!(
        offsets,
        vec![
            (2018, "qualified".into(), "1200.00".into()),
            (2019, "qualified".into(), "300.00".into()),
            (2023, "loss".into(), "-1500.00".into()),
        ]
    );
    // applied (as when sealed): the loss is gone and Ann's 2019 tranche is 1,050.00
    let after = r.apply(&state).unwrap();
    let ann: Vec<(i32, String, String)> = after
        .tranches
        .iter()
        .filter(|t| t.member_id == "ann")
        .map(|t| (t.allocation_year, t.kind.clone(), t.amount.to_string()))
        .collect();
    assert_eq!(ann[0], (2019, "qualified".into(), "1050.00".into()));
    assert!(ann.iter().all(|t| t.1 != "loss"));
    // Bob's 2017 and 2018 and Cruz's 2018 were paid and are gone
    assert!(!after
        .tranches
        .iter()
        .any(|t| t.allocation_year <= 2018 && t.member_id != "ann"));
}

#[test]
fn export_includes_sealed_redemptions_and_passes_the_real_checkers() {
    let (_t, b) = crate::common::copy_book(&crate::common::root().join("data/rising-loaf"));
    let run = |args: &[&str]| {
        let o = crate::common::bin().args(args).arg(&b).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    run(&["close", "--year", "2023"]);
    run(&["revolve", "--year", "2023"]);
    run(&["close", "--year", "2024"]);
    run(&["revolve", "--year", "2024"]);
    let journal = run(&["export", "--year", "2024", "--to", "hledger"]);
    assert!(
        journal.contains("Equity redemptions paid, fiscal year 2024"),
        "{journal}"
    );
    assert!(
        journal.contains("Liabilities:Redemptions-Payable:RL11"),
        "{journal}"
    );
    // the shipped book's receivable: RL02's wage advance is set off against the 2024 redemption
    assert!(
        journal.contains("Assets:Member-Receivables:RL02"),
        "{journal}"
    );
    assert!(
        journal.contains("Member debt installments due in fiscal year 2024"),
        "{journal}"
    );
    let beancount = run(&["export", "--year", "2024", "--to", "beancount"]);
    let dir = tempfile::tempdir().unwrap();
    let (j, bc) = (dir.path().join("r.journal"), dir.path().join("r.beancount"));
    std::fs::write(&j, &journal).unwrap();
    std::fs::write(&bc, &beancount).unwrap();
    let have = |tool: &str| {
        std::process::Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("hledger") {
        let o = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&j)
            .args(["check", "--strict"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    if have("bean-check") {
        let o = std::process::Command::new("bean-check")
            .arg(&bc)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A redemption plan that reads patronage (base capital) refuses a patronage ledger with
/// problems instead of reading it in part (an unquoted `3,705.62` must never become 3), and prints
/// the problems as JSON when asked for JSON.
#[test]
fn base_capital_refuses_a_broken_patronage_ledger() {
    let b = crate::common::Book::copy("data/rising-loaf");
    b.edit(
        "coop.toml",
        "plan = \"revolving_fund\"",
        "plan = \"base_capital\"\nbase_capital = \"200000.00\"\nbase_years = 2",
    );
    let dir = b.path().to_str().unwrap().to_string();
    for cmd in [
        vec!["revolve", &dir, "--year", "2024", "--dry-run", "-O", "json"],
        vec!["forecast", &dir, "--years", "2", "-O", "json"],
    ] {
        let (code, _, err) = crate::common::run(crate::common::bin().args(&cmd));
        assert_eq!(code, 0, "{cmd:?}: {err}");
    }
    b.edit("patronage.csv", "wages,3705.62", "wages,3,705.62");
    for cmd in [
        vec!["revolve", &dir, "--year", "2024", "--dry-run", "-O", "json"],
        vec!["forecast", &dir, "--years", "2", "-O", "json"],
    ] {
        let (code, out, err) = crate::common::run(crate::common::bin().args(&cmd));
        assert_eq!(code, 1, "{cmd:?}: {out}");
        assert!(out.is_empty(), "{cmd:?}: {out}");
        let v: serde_json::Value = serde_json::from_str(&err).expect("JSON diagnostics");
        assert_eq!(v["diagnostics"][0]["code"], "E0004", "{err}");
    }
}
