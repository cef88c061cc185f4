//! `coopledger check`: shipped books are clean; planted errors are all found and located.
use crate::common::*;

#[test]
fn shipped_books_are_clean_and_silent() {
    for book in ["data/rising-loaf", "data/valley-commons"] {
        let (code, err, out) = run(bin().arg("check").arg(root().join(book)));
        assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "{book}");
    }
}

#[test]
fn every_planted_error_is_reported_with_place_and_code() {
    let (code, _, out) = run(bin()
        .arg("check")
        .arg(fixture("planted"))
        .args(["-O", "json"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, u64, u64, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap();
            let file = file.rsplit('/').next().unwrap().to_string();
            (
                file,
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(&str, u64, u64, &str)> = vec![
        ("members.csv", 1, 8, "E0103"),
        ("members.csv", 3, 1, "E0301"),
        ("members.csv", 4, 3, "E0304"),
        ("members.csv", 5, 4, "E0202"),
        ("members.csv", 6, 5, "E0306"),
        ("patronage.csv", 2, 2, "E0302"),
        ("patronage.csv", 3, 5, "E0204"),
        ("patronage.csv", 4, 5, "E0206"),
        ("patronage.csv", 5, 3, "E0303"),
        ("patronage.csv", 6, 6, "E0004"),
        ("patronage.csv", 7, 5, "E0203"),
        ("patronage.csv", 8, 1, "E0305"),
        ("patronage.csv", 9, 2, "E0003"),
        ("patronage.csv", 10, 1, "E0202"),
        ("patronage.csv", 11, 4, "E0307"),
        ("results.csv", 3, 2, "E0303"),
        ("results.csv", 4, 4, "E0206"),
        ("results.csv", 5, 3, "E0308"),
        ("results.csv", 6, 1, "E0203"),
    ];
    let want: Vec<(String, u64, u64, String)> = want
        .into_iter()
        .map(|(f, l, c, k)| (f.to_string(), l, c, k.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(v["errors"], 19);
}

#[test]
fn text_output_is_path_line_col_code_and_hint() {
    let (code, _, out) = run(bin().arg("check").arg(fixture("planted")));
    assert_eq!(code, 1);
    let first = out.lines().next().unwrap();
    assert!(
        first.ends_with("members.csv:1:8: error[E0103]: unknown column `colour`"),
        "{first}"
    );
    assert!(out.lines().nth(1).unwrap().starts_with("  hint: "));
    assert!(out.trim_end().ends_with("19 errors, 0 warnings"));
}

#[test]
fn bad_config_is_located() {
    let (_t, b) = copy_book(&fixture("e2"));
    let cfg = std::fs::read_to_string(b.join("coop.toml")).unwrap();
    std::fs::write(
        b.join("coop.toml"),
        cfg.replace("cash_pct = \"20\"", "cash_pct = \"10\"\ncolor = 1"),
    )
    .unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&b));
    assert_eq!(code, 1);
    assert!(out.contains("coop.toml:19:1: error[E0402]"), "{out}");
    std::fs::write(
        b.join("coop.toml"),
        cfg.replace("cash_pct = \"20\"", "cash_pct = \"10\""),
    )
    .unwrap();
    let (code, _, out) = run(bin().arg("check").arg(&b));
    assert_eq!(code, 1);
    assert!(
        out.contains("coop.toml:18:1: error[E0403]: a qualified notice needs at least 20%"),
        "{out}"
    );
    assert!(out.contains("raise [policy] cash_pct"), "{out}");
}

#[test]
fn garbage_and_truncated_files_never_panic() {
    let (_t, b) = copy_book(&root().join("data/rising-loaf"));
    let files = [
        "coop.toml",
        "members.csv",
        "contributions.csv",
        "patronage.csv",
        "results.csv",
        "equity.csv",
    ];
    let originals: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(b.join(f)).unwrap())
        .collect();
    let mut seed = 0x2545F4914F6CDD1Du64;
    for (i, f) in files.iter().enumerate() {
        let orig = &originals[i];
        let cuts = [
            0,
            1,
            7,
            orig.len() / 3,
            orig.len() / 2,
            orig.len().saturating_sub(1),
        ];
        for cut in cuts {
            let mut bytes = orig[..cut.min(orig.len())].to_vec();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if !bytes.is_empty() {
                    let at = (seed as usize) % bytes.len();
                    bytes[at] = (seed >> 32) as u8;
                }
            }
            std::fs::write(b.join(f), &bytes).unwrap();
            let (code, err, _) = run(bin().arg("check").arg(&b));
            assert!(code == 0 || code == 1, "{f} cut {cut}: exit {code}: {err}");
            assert!(!err.contains("panicked"), "{f}: {err}");
        }
        std::fs::write(b.join(f), orig).unwrap();
    }
}

#[test]
fn init_scaffolds_valid_books() {
    let t = tempfile::tempdir().unwrap();
    for kind in ["worker", "consumer", "producer"] {
        let d = t.path().join(kind);
        let (code, _, _) = run(bin().args(["init", "--kind", kind]).arg(&d));
        assert_eq!(code, 0);
        let (code, _, out) = run(bin().arg("check").arg(&d));
        assert_eq!((code, out.as_str()), (0, ""), "{kind}");
        let (code, _, err) = run(bin().args(["init"]).arg(&d));
        assert_eq!(code, 2);
        assert!(err.contains("already holds a book"));
    }
}

#[test]
fn big_amounts_survive_csv_to_json() {
    let (_t, b) = copy_book(&fixture("e2"));
    let mut r = std::fs::read_to_string(b.join("results.csv")).unwrap();
    r.push_str("2025,,nonpatronage_income,1234567890123456.78\n");
    std::fs::write(b.join("results.csv"), r).unwrap();
    let (code, out, err) = run(bin()
        .args(["close", "--dry-run", "--year", "2025", "-O", "json"])
        .arg(&b));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reserves"]["nonpatronage_income"], "1234567890123456.78");
}

#[test]
fn every_diagnostic_code_is_documented() {
    // each `"E0nnn"` literal in the sources has a row in docs/ERRORS.md
    let docs = std::fs::read_to_string(crate::common::root().join("docs/ERRORS.md")).unwrap();
    let mut stack = vec![crate::common::root().join("src")];
    let mut codes = std::collections::BTreeSet::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("\"E0") {
                    let code = &text[i + 1..(i + 6).min(text.len())];
                    if code.len() == 5 && code[1..].bytes().all(|b| b.is_ascii_digit()) {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
    }
    assert!(
        codes.contains("E0312") && codes.contains("E0314"),
        "{codes:?}"
    );
    for c in &codes {
        assert!(
            docs.contains(&format!("| {c} |")),
            "{c} is not in docs/ERRORS.md"
        );
    }
}

/// An unclosed quote in a free-text note used to swallow every later row of the consumer example
/// (199 contributions, 19,900.00 of capital) while `check` exited 0. Now it is E0005 where it opened.
#[test]
fn an_unclosed_quote_in_a_note_cannot_swallow_capital() {
    let book = Book::copy("data/valley-commons");
    book.edit(
        "contributions.csv",
        "VC0001,membership_share,100.00,member-owner share",
        "VC0001,membership_share,100.00,\"member-owner share",
    );
    let (code, _, out) = run(bin().arg("check").arg(book.path()));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("contributions.csv:2:5: error[E0005]"), "{out}");
    // and every command that loads the book refuses it
    let (code, _, _) =
        run(bin()
            .arg("close")
            .arg(book.path())
            .args(["--year", "2025", "--dry-run"]));
    assert_eq!(code, 1);
}

/// The first diagnostic of `check -O json` on `book`: (file name, line, column, code, hint), with
/// the exit code.
fn first_diagnostic(book: &Book) -> (i32, (String, u64, u64, String, String)) {
    let (code, _, out) = run(bin().arg("check").arg(book.path()).args(["-O", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let ds = v["diagnostics"].as_array().unwrap();
    assert!(!ds.is_empty(), "{out}");
    let d = &ds[0];
    let file = d["file"].as_str().unwrap();
    (
        code,
        (
            file.rsplit('/').next().unwrap().to_string(),
            d["line"].as_u64().unwrap(),
            d["column"].as_u64().unwrap(),
            d["code"].as_str().unwrap().to_string(),
            d["hint"].as_str().unwrap().to_string(),
        ),
    )
}

/// Money never changes in silence: an unquoted thousands separator splits an amount into two
/// fields. `check` used to read `3,705.62` as 3 (and `3705,62` as 3705) in patronage.csv and exit
/// 0; now the row is E0004 at its first field too many, in every CSV file of the book.
#[test]
fn a_thousands_separator_is_a_field_too_many_not_a_smaller_amount() {
    let cases = [
        (
            "patronage.csv",
            "2023-01-28,RL01,bakery,wages,3705.62",
            "2023-01-28,RL01,bakery,wages,3,705.62",
            3,
        ),
        (
            "patronage.csv",
            "2023-01-28,RL01,bakery,wages,3705.62",
            "2023-01-28,RL01,bakery,wages,3705,62",
            3,
        ),
        (
            "contributions.csv",
            "RL10,membership_share,500.00,buy-in first installment",
            "RL10,membership_share,1,500.00,buy-in first installment",
            2,
        ),
        (
            "receivables.csv",
            "RL02,owed,300.00,wage advance",
            "RL02,owed,1,300.00,wage advance",
            2,
        ),
        (
            "subscriptions.csv",
            "RL10,membership_share,1000.00,2,",
            "RL10,membership_share,1,000.00,2,",
            2,
        ),
        (
            "results.csv",
            "2023,bakery,patronage_margin,84213.57",
            "2023,bakery,patronage_margin,84,213.57",
            2,
        ),
    ];
    for (file, from, to, line) in cases {
        let book = Book::copy("data/rising-loaf");
        book.edit(file, from, to);
        let (code, (f, l, c, k, hint)) = first_diagnostic(&book);
        let header_fields = std::fs::read_to_string(book.path().join(file))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .split(',')
            .count() as u64;
        assert_eq!(
            (code, f.as_str(), l, c, k.as_str()),
            (1, file, line, header_fields + 1, "E0004"),
            "{to}"
        );
        assert!(hint.contains("3064.50"), "{hint}");
        // no command computes with the row cut short
        let (code, _, _) =
            run(bin()
                .arg("close")
                .arg(book.path())
                .args(["--year", "2024", "--dry-run"]));
        assert_eq!(code, 1, "{to}");
    }
}
