//! CSV formula injection (OWASP; issue 12): member and holder names that a spreadsheet would run
//! as formulas (`=HYPERLINK(…)`, `+cmd`, `@SUM(A1)`, `-2+3`, a leading tab) go through every CSV
//! output of the command line (reports, export, revolve, wealth, e2c, e2c compare, and the sealed
//! `allocation.csv`, `tranches.csv`, `redemptions.csv`): no cell may start with `=`, `+`, `-`,
//! `@`, a tab or a carriage return unless it is a plain number (`-12.50`).

use std::path::Path;

use crate::common::{bin, run, Book};

/// What the crafted names are written as in members.csv / captable.csv (CSV-quoted where needed).
const NAMES: [(&str, &str); 4] = [
    ("Amara Okafor", "\"=HYPERLINK(\"\"http://x\"\")\""),
    ("Ben Walsh", "+cmd"),
    ("Chen Li", "@SUM(A1)"),
    ("Dolores Ruiz", "-2+3"),
];

/// `-?digits(.digits)?`
fn plain_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s);
    let (i, f) = b.split_once('.').unwrap_or((b, "0"));
    let d = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    d(i) && d(f)
}

/// Every formula-looking cell of a CSV text (none expected), and how many neutralised cells
/// (`'=…`, `'+…`, …) it holds.
fn scan(what: &str, text: &str) -> (Vec<String>, usize) {
    let mut bad = Vec::new();
    let mut neutralised = 0;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{what}: not CSV: {e}"));
        for cell in rec.iter() {
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(cell) {
                bad.push(format!("{what}: {cell:?}"));
            }
            if cell.starts_with('\'') && cell[1..].starts_with(['=', '+', '-', '@', '\t', '\r']) {
                neutralised += 1;
            }
        }
    }
    (bad, neutralised)
}

fn stdout_of(args: &[&str]) -> String {
    let (code, out, err) = run(bin().args(args));
    assert_eq!(code, 0, "coopledger {args:?}: {err}");
    out
}

fn sealed_csvs(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sealed_csvs(&p, out);
        } else if p.extension().is_some_and(|x| x == "csv") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

#[test]
fn no_csv_output_carries_a_formula_from_a_crafted_name() {
    let book = Book::copy("data/rising-loaf");
    for (from, to) in NAMES.iter() {
        book.edit("members.csv", from, to);
    }
    // a leading tab in a name (quoted, so that no reader trims it): RL05's name
    let path = book.path().join("members.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: String = text
        .lines()
        .map(|l| match l.strip_prefix("RL05,") {
            Some(rest) => format!("RL05,\"\tTab\",{}\n", rest.split_once(',').unwrap().1),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    let dir = book.path().to_str().unwrap();
    let (code, _, err) = run(bin().args(["check", dir]));
    assert_eq!(code, 0, "the crafted names are valid names: {err}");
    for y in ["2023", "2024"] {
        let (code, _, err) = run(bin().args(["close", dir, "--year", y]));
        assert_eq!(code, 0, "close {y}: {err}");
    }
    let (code, _, err) = run(bin().args(["revolve", dir, "--year", "2024"]));
    assert_eq!(code, 0, "revolve: {err}");

    let mut outputs: Vec<(String, String)> = Vec::new();
    for kind in [
        "schedule",
        "worksheet",
        "notices",
        "rollforward",
        "1099-patr",
        "board",
    ] {
        let args = ["report", dir, kind, "--year", "2023", "-O", "csv"];
        outputs.push((format!("{args:?}"), stdout_of(&args)));
    }
    for args in [
        vec!["export", dir, "--year", "2023", "--to", "csv"],
        vec!["revolve", dir, "--year", "2024", "--dry-run", "-O", "csv"],
        vec!["wealth", dir, "--year", "2024", "-O", "csv"],
        vec!["report", dir, "wealth", "--year", "2024", "-O", "csv"],
    ] {
        outputs.push((format!("{args:?}"), stdout_of(&args)));
    }
    sealed_csvs(&book.path().join("closes"), &mut outputs);

    // e2c: the same names as holders of a cap table
    let ct = book.tmp().join("captable.csv");
    let mut table = String::from("holder_id,name,segment,class,units,invested,date\n");
    for (i, (_, name)) in NAMES.iter().enumerate() {
        table.push_str(&format!("h{i},{name},founder,common,100,0,2018-01-01\n"));
    }
    table.push_str("h9,\"\tTab\",investor,pref,50,1000,2018-01-01\n");
    std::fs::write(&ct, table).unwrap();
    let s = book.tmp().join("s.toml");
    std::fs::write(
        &s,
        "name = \"=1+1\"\ncaptable = \"captable.csv\"\nyears = 2\n[assumptions]\nprofit = [1000, 1000]\nvaluation = { start = 50000 }\n[[routes]]\ntype = \"capped_redemption\"\nclass = \"pref\"\ncap_multiple = 2\nalpha = \"50%\"\n",
    )
    .unwrap();
    let s = s.to_str().unwrap();
    outputs.push(("e2c".into(), stdout_of(&["e2c", s, "-O", "csv"])));
    outputs.push((
        "e2c compare".into(),
        stdout_of(&["e2c", "compare", s, s, "-O", "csv"]),
    ));

    let mut bad = Vec::new();
    let mut neutralised = 0;
    for (what, text) in &outputs {
        let (b, n) = scan(what, text);
        bad.extend(b);
        neutralised += n;
    }
    assert!(
        bad.is_empty(),
        "{} formula cells:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // the names did reach the outputs (else the test proves nothing)
    let all: String = outputs.iter().map(|(_, t)| t.as_str()).collect();
    for cell in ["'+cmd", "'@SUM(A1)", "'-2+3", "'=HYPERLINK("] {
        assert!(all.contains(cell), "no `{cell}` in any CSV output");
    }
    assert!(neutralised >= 20, "{neutralised} neutralised cells");
    eprintln!(
        "{} CSV outputs, {neutralised} neutralised cells, 0 formula cells",
        outputs.len()
    );
}
