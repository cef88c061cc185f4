//! `coopledger e2c`: the shipped Tidepool scenarios in every format, `compare`, atomic `-o`,
//! HTML escaping, and bad input (exit 1, every problem as `path: error[E2C0xx]: …` + hint).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coopledger"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const SCENARIOS: [&str; 5] = [
    "data/tidepool/scenarios/coop-conversion.toml",
    "data/tidepool/scenarios/steward-ownership.toml",
    "data/tidepool/scenarios/eot.toml",
    "data/tidepool/scenarios/capped-redemption.toml",
    "data/tidepool/scenarios/staged-buyout.toml",
];

fn json_of(path: &str) -> serde_json::Value {
    let (code, out, err) = run(&["e2c", path, "-O", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn every_scenario_runs_in_every_format_and_is_byte_stable() {
    for s in SCENARIOS {
        for f in ["md", "html", "csv", "json"] {
            let (code, a, err) = run(&["e2c", s, "-O", f]);
            assert_eq!(code, 0, "{s} {f}: {err}");
            assert!(err.is_empty(), "{s} {f}: {err}");
            assert!(!a.is_empty());
            let (_, b, _) = run(&["e2c", s, "-O", f]);
            assert_eq!(a, b, "{s} {f} is not deterministic");
        }
    }
}

#[test]
fn json_follows_the_contract() {
    for s in SCENARIOS {
        let v = json_of(s);
        assert!(v["scenario"].is_string());
        assert_eq!(v["currency"], "GBP");
        let years = v["years"].as_array().unwrap();
        assert_eq!(years.len(), 13, "{s}: closing plus 12 years");
        for (t, y) in years.iter().enumerate() {
            assert_eq!(y["year"], t);
            assert!(y["cash_required"].is_string() && y["capacity"].is_string());
            let mut sums = [0f64; 3];
            for h in y["holders"].as_array().unwrap() {
                for k in [
                    "holder_id",
                    "segment",
                    "votes_pct",
                    "economic_pct",
                    "legal_pct",
                    "claim",
                ] {
                    assert!(h[k].is_string(), "{s}: holder key {k}");
                }
                for (i, k) in ["votes_pct", "economic_pct", "legal_pct"]
                    .iter()
                    .enumerate()
                {
                    sums[i] += h[k].as_str().unwrap().parse::<f64>().unwrap();
                }
            }
            for x in sums {
                assert!((x - 100.0).abs() < 0.01, "{s} year {t}: lens sums to {x}");
            }
            for seg in y["segments"].as_array().unwrap() {
                assert!(seg["segment"].is_string() && seg["community"].is_boolean());
                assert!(
                    seg["votes_pct"].is_string()
                        && seg["economic_pct"].is_string()
                        && seg["legal_pct"].is_string()
                );
            }
        }
        let m = &v["metrics"];
        for k in ["votes", "economic", "legal"] {
            assert!(
                m["time_to_majority"][k].is_null() || m["time_to_majority"][k].is_u64(),
                "{s}"
            );
        }
        for i in m["investors"].as_array().unwrap() {
            for k in ["holder_id", "paid", "moic", "irr"] {
                assert!(i[k].is_string(), "{s}: investor key {k}");
            }
        }
        for k in ["gini", "hhi", "effective_owners"] {
            assert!(m[k].is_string(), "{s}: {k}");
        }
    }
}

#[test]
fn tidepool_figures_by_hand() {
    // co-op conversion: members hold every vote from closing; Class B pays 40% of surplus
    let v = json_of(SCENARIOS[0]);
    let m = &v["metrics"];
    assert_eq!(m["time_to_majority"]["votes"], 0);
    let y1 = &v["years"][1];
    let redeemed: f64 = y1["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "redemption")
        .map(|p| p["amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(
        (redeemed - 180_000.0).abs() < 0.05,
        "40% of 450,000: {redeemed}"
    );
    // the 1x seed preference loses to as-converted at 7,200,000: Harbor gets 2/9 of it
    let harbor = v["years"][0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["holder_id"] == "harbor-seed")
        .unwrap()
        .clone();
    assert_eq!(harbor["claim"], "1600000.00");
    assert_eq!(harbor["votes_pct"], "0.0000");

    // EOT: control and title on day one, net equity = (V − D)/V for the trust
    let v = json_of(SCENARIOS[2]);
    let trust = v["years"][0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["holder_id"] == "tidepool-eot")
        .unwrap()
        .clone();
    assert_eq!(trust["votes_pct"], "100.0000");
    assert_eq!(trust["legal_pct"], "100.0000");
    assert_eq!(trust["economic_pct"], "15.0000"); // 1,080,000 upfront of 7,200,000
    assert_eq!(v["metrics"]["time_to_majority"]["votes"], 0);
    assert_eq!(v["years"][0]["cash_required"], "1080000.00");

    // steward-ownership: the purpose foundation can block a sale
    let v = json_of(SCENARIOS[1]);
    let vetoes = &v["years"][0]["vetoes"][0];
    assert_eq!(vetoes["holder_id"], "purpose-fdn");
    assert_eq!(vetoes["matters"][2], "sale");
}

#[test]
fn output_file_takes_its_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eot.html");
    let o = out.to_str().unwrap();
    let (code, stdout, err) = run(&["e2c", SCENARIOS[2], "-o", o]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "one stacked chart per lens"
    );
    for bad in ["<script", "<link", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(bad), "external or active content: {bad}");
    }
    // no temporary file left behind
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names, vec![out.clone()]);
    // -O wins over the extension
    let (code, _, _) = run(&["e2c", SCENARIOS[2], "-O", "json", "-o", o]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}

#[test]
fn compare_puts_routes_side_by_side() {
    let (code, out, err) = run(&["e2c", "compare", SCENARIOS[0], SCENARIOS[1], SCENARIOS[2]]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# E2C routes compared"));
    assert!(
        out.contains("| time to majority: votes | Y0 (2026) | Y0 (2026) | Y0 (2026) |"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "e2c",
        "compare",
        SCENARIOS[0],
        SCENARIOS[1],
        SCENARIOS[2],
        "-O",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 3);
    let (code, out, _) = run(&["e2c", "compare", SCENARIOS[3], SCENARIOS[4], "-O", "csv"]);
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().starts_with("row,metric,"));
    let (code, out, _) = run(&["e2c", "compare", SCENARIOS[3], SCENARIOS[4], "-O", "html"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.matches("<polyline").count(),
        6,
        "two scenarios × three lenses"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

const CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F,<b>Founder</b> & co,founder,common,800000,0,2018-01-01\n\
I,Investor,investor,pref,200000,1000000,2018-01-01\n";

#[test]
fn text_from_the_inputs_is_escaped_in_html() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "captable.csv", CT);
    let s = write(
        dir.path(),
        "s.toml",
        r#"
name = "<script>alert(1)</script>"
captable = "captable.csv"
years = 2
[assumptions]
profit = [100000, 100000]
valuation = { start = 5000000 }
[[routes]]
type = "capped_redemption"
class = "pref"
cap_multiple = 2
alpha = "50%"
"#,
    );
    let (code, out, err) = run(&["e2c", &s, "-O", "html"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("<script>"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("&lt;b&gt;Founder&lt;/b&gt; &amp; co"));
    let (_, md, _) = run(&["e2c", &s]);
    assert!(
        md.starts_with("# E2C scenario: &lt;script&gt;alert(1)&lt;/script&gt;"),
        "markdown shows the name as text and carries no raw HTML: {md}"
    );
    assert!(!md.contains("<script>") && !md.contains("<b>"));
}

#[test]
fn bad_input_lists_every_problem_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "captable.csv",
        "holder_id,name,segment,class,units,invested,date\nF,Founder,founder,common,800000,0,2018-01-01\nI,Investor,investor,pref,200000,abc,2018-01-01\n",
    );
    let s = write(
        dir.path(),
        "s.toml",
        r#"
name = "broken"
captable = "captable.csv"
years = 3
total_units = 999
colour = "blue"
[assumptions]
profit = [100000, -5, 100000]
[[routes]]
type = "capped_redemption"
class = "series_a"
cap_multiple = "0.5"
alpha = "120%"
[[routes]]
type = "demand_dividend"
holder = "ghost"
invested = 1000
cap_multiple = 2
share = "10%"
base = "fcf"
[[routes]]
type = "esop"
"#,
    );
    let (code, out, err) = run(&["e2c", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    for want in [
        "error[E2C011]: `invested` is not a number: `abc`",
        "error[E2C003]: `colour`: unknown key",
        "error[E2C013]: `total_units`: the cap table's rows add up to 800000 units, not 999",
        "error[E2C022]: `routes[0].cap_multiple`: cap multiple 0.5x is below 1x",
        "error[E2C006]: `routes[0].alpha`: share 120% is over 100%",
        "error[E2C020]: `routes[0].class`: unknown class `series_a`",
        "error[E2C021]: `routes[1].holder`: unknown holder `ghost`",
        "error[E2C004]: `routes[1].base`: no assumption path `fcf`",
        "error[E2C023]: `routes[2].type`: unknown route type `esop`",
        "warning[W2C030]: `assumptions.profit`: negative in year 2",
    ] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    // every line names the file; every problem has a hint
    for line in err
        .lines()
        .filter(|l| l.contains("error[") || l.contains("warning["))
    {
        assert!(
            line.contains("s.toml") || line.contains("captable.csv"),
            "{line}"
        );
    }
    assert_eq!(
        err.matches("error[").count(),
        err.matches("  hint: ").count() - err.matches("warning[").count()
    );
}

/// Issue 12: the cap table is read strictly: an unknown or doubled column and a row with a field
/// too many or too few are located errors (an unquoted `1,000` was read as 1 unit before).
#[test]
fn a_cap_table_with_unknown_columns_or_ragged_rows_is_refused_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let scenario =
        "name = \"s\"\ncaptable = \"captable.csv\"\nyears = 2\n[assumptions]\nprofit = [1, 2]\n";
    let s = write(dir.path(), "s.toml", scenario);
    for (table, want) in [
        (
            "holder_id,name,segment,class,units,invested,date,votes\nF,F,founder,common,8,0,\n",
            "captable.csv:1:8: error[E2C016]: unknown column `votes`",
        ),
        (
            "holder_id,name,segment,class,units,units,invested,date\nF,F,founder,common,8,8,0,\n",
            "captable.csv:1:6: error[E2C017]: column `units` appears twice",
        ),
        (
            "holder_id,name,segment,class,units,invested,date\nF,F,founder,common,1,000,0,\n",
            "captable.csv:2:8: error[E2C018]: the row has 8 fields, the header 7",
        ),
        (
            "holder_id,name,segment,class,units,invested,date\nF,F,founder,common,8\n",
            "captable.csv:2:6: error[E2C018]: the row has 5 fields, the header 7",
        ),
    ] {
        write(dir.path(), "captable.csv", table);
        let (code, out, err) = run(&["e2c", &s]);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty());
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
        assert!(err.contains("  hint: "), "{err}");
    }
}

#[test]
fn missing_scenario_and_irr_without_solution() {
    let (code, _, err) = run(&["e2c", "no/such/scenario.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no/such/scenario.toml: error[E2C001]: cannot read the scenario"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "captable.csv", CT);
    let s = write(
        dir.path(),
        "s.toml",
        r#"
name = "never paid"
captable = "captable.csv"
years = 3
[assumptions]
profit = [0, 0, 0]
valuation = { start = 1000000 }
[[routes]]
type = "capped_redemption"
class = "pref"
cap_multiple = 2
alpha = "50%"
"#,
    );
    let (code, out, err) = run(&["e2c", &s, "-O", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["metrics"]["investors"][0]["irr"], "n/a");
    assert_eq!(v["metrics"]["investors"][0]["moic"], "0.0000");
    let (_, md, _) = run(&["e2c", &s]);
    assert!(
        md.contains("| I | investor | 1,000,000.00 | 0.00 | 0.00 | n/a |"),
        "{md}"
    );
}

/// The seller-note worked example of the domain notes (§2.5), run from its own directory so the
/// output holds no temporary path.
#[test]
fn snapshot_seller_note_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "captable.csv",
        "holder_id,name,segment,class,units,invested,date\nS1,Seller one,founder,common,600000,0,2010-01-01\nS2,Seller two,founder,common,400000,0,2010-01-01\n",
    );
    write(
        dir.path(),
        "note.toml",
        r#"
name = "Seller note, 10% down, 6% over 7 years"
captable = "captable.csv"
years = 7
[[holders]]
id = "coop"
name = "Worker co-op"
segment = "member"
members = 10
[assumptions]
profit = { start = 400000 }
valuation = { start = 2000000 }
opening_cash = 200000
[[routes]]
type = "seller_note"
buyer = "coop"
price = 2000000
down_payment = 200000
rate = "6%"
term = 7
"#,
    );
    for f in ["md", "csv", "json", "html"] {
        let o = Command::new(env!("CARGO_BIN_EXE_coopledger"))
            .current_dir(dir.path())
            .args(["e2c", "note.toml", "-O", f])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8(o.stdout).unwrap();
        if f == "md" {
            // the worked example's figures, rounded for reporting
            assert!(
                out.contains("| economic claims | 10.000 | 100.000 | Y4 |"),
                "{out}"
            );
        }
        insta::assert_snapshot!(format!("e2c_seller_note_{f}"), out);
    }
}

#[test]
fn compare_reports_problems_of_any_scenario_and_unwritable_output_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "captable.csv", CT);
    let bad = write(
        dir.path(),
        "bad.toml",
        "name = \"bad\"\ncaptable = \"captable.csv\"\nyears = 2\n[assumptions]\nprofit = [1, 2]\n[[routes]]\ntype = \"steward\"\nveto_holder = \"nobody\"\n",
    );
    let (code, out, err) = run(&["e2c", "compare", SCENARIOS[0], &bad]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("bad.toml: error[E2C021]: `routes[0].veto_holder`: unknown holder `nobody`"),
        "{err}"
    );
    // a file where a directory should be: cannot write, exit 2, nothing on stdout
    let blocker = write(dir.path(), "blocker", "x");
    let target = format!("{blocker}/report.md");
    let (code, out, err) = run(&["e2c", SCENARIOS[2], "-o", &target]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.starts_with("error: "), "{err}");
}

/// `e2c … | head -1`: a reader that stops early ends the output quietly with exit 0 (the HTML
/// report is larger than a pipe's buffer, so its writer always meets the closed pipe).
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    for f in ["html", "csv"] {
        let mut child = bin()
            .args(["e2c", SCENARIOS[0], "-O", f])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{f}");
        assert!(
            o.stderr.is_empty(),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
