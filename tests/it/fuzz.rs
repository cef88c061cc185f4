//! Mutation fuzzing on stable Rust: every loader of the tool (coop.toml, each CSV file of a book,
//! e2c scenarios and cap tables, sealed records, member statements) and the whole
//! check → close --dry-run → revolve --dry-run → forecast path, fed inputs made by mutating the
//! shipped example books (bit flips, random and "interesting" bytes, quotes, separators, huge
//! numbers, deleted, duplicated and swapped lines, truncation). The property: no input makes the
//! library panic; every bad input is a diagnostic or an error.
//!
//! The generator is a seeded xorshift, so every run is the same and a failure names the seed and
//! keeps its input under `target/fuzz-crashes/` for a regression test. The number of executions
//! per target is `COOPLEDGER_FUZZ_EXECS` (default: a CI-sized run of a few hundred each); the
//! documented long run (docs/ERRORS.md, "Fuzzing") sets it to 1,000,000 with a release build.
//! `COOPLEDGER_FUZZ_SEED` changes the seed.
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

use coopledger::{book, engine, ledger, render, report};

use crate::common::{bin, root, run, Book};

/// A small, fast, seeded random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Byte strings that break parsers more often than random bytes do.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b"\0",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"-",
    b".",
    b"e",
    b"=",
    b"[",
    b"]",
    b"..",
    b"/",
    b"0",
    b"-0",
    b"1e400",
    b"NaN",
    b"inf",
    b"9999999999999999999999999999",
    b"79228162514264337593543950335",
    b"-79228162514264337593543950335",
    b"0.0000000000000000000000000001",
    b"2147483648",
    b"-2147483649",
    b"18446744073709551616",
    b"9999-12-31",
    b"0000-00-00",
    b"2025-02-30",
    b"3,064.50",
    b"\"a\"\"b\"",
    b"=HYPERLINK(\"x\")",
    b"\xc3\x28",
    b"\xe2\x80\xae",
];

/// Applies one to four random mutations to `input`.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = rng.next() as u8;
            }
            2 | 3 => {
                let i = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                b.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(16.min(len - i));
                b.drain(i..i + n);
            }
            5 => b.truncate(rng.below(len + 1)),
            6..=8 => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                let (i, j) = (rng.below(n), rng.below(n));
                match rng.below(3) {
                    0 => {
                        let l = lines[i].clone();
                        lines.insert(j, l);
                    }
                    1 if n > 1 => {
                        lines.remove(i);
                    }
                    _ => lines.swap(i, j),
                }
                b = lines.join(&b'\n');
            }
            _ => {
                // a field replaced by a token: find a separator and overwrite up to the next one
                if let Some(start) = (0..len)
                    .map(|k| (k + rng.below(len)) % len)
                    .find(|&k| b[k] == b',')
                {
                    let end = b[start + 1..]
                        .iter()
                        .position(|c| *c == b',' || *c == b'\n')
                        .map_or(len, |p| start + 1 + p);
                    let t = TOKENS[rng.below(TOKENS.len())];
                    b.splice(start + 1..end, t.iter().copied());
                }
            }
        }
    }
    b
}

fn execs() -> usize {
    std::env::var("COOPLEDGER_FUZZ_EXECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

fn seed() -> u64 {
    std::env::var("COOPLEDGER_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00C0_0FED)
}

thread_local! {
    static FUZZING: Cell<bool> = const { Cell::new(false) };
}

/// A panic hook that stays quiet for panics inside a fuzz execution (they are counted and kept)
/// and lets every other panic of the test binary through as before.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f` on `count` mutations of `corpus` (picked in turn), and fails the test with the number
/// of panics when any execution panicked; each panicking input is kept in `target/fuzz-crashes/`.
fn fuzz(target: &str, corpus: &[Vec<u8>], count: usize, mut f: impl FnMut(&[u8])) {
    quiet_hook();
    let mut rng = Rng::new(
        seed()
            ^ target
                .bytes()
                .fold(0u64, |h, c| h.wrapping_mul(31) ^ c as u64),
    );
    let mut crashes = Vec::new();
    for n in 0..count {
        let input = mutate(&mut rng, &corpus[n % corpus.len()]);
        FUZZING.with(|c| c.set(true));
        let r = panic::catch_unwind(AssertUnwindSafe(|| f(&input)));
        FUZZING.with(|c| c.set(false));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let dir = root().join("target/fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{target}-{n}.bin"));
            let _ = std::fs::write(&file, &input);
            crashes.push(format!(
                "exec {n}: {msg} (input kept in {})",
                file.display()
            ));
        }
    }
    if std::env::var_os("COOPLEDGER_FUZZ_REPORT").is_some() {
        eprintln!(
            "fuzz {target}: {count} executions, {} panics",
            crashes.len()
        );
    }
    assert!(
        crashes.is_empty(),
        "fuzz target `{target}`: {} of {count} executions panicked:\n{}",
        crashes.len(),
        crashes.join("\n")
    );
}

/// The whole path a treasurer runs, in memory: load and check the book, read its patronage, close
/// every year of `results.csv` as a dry run (rendered in every format), then revolve and forecast.
/// Errors are fine; only a panic fails.
fn pipeline(dir: &Path) {
    let (b, diags) = ledger::load_book(dir);
    let Some(b) = b else {
        let sorted = diags.into_sorted();
        let mut sink = Vec::new();
        let _ = coopledger::diag::emit(&mut sink, &sorted, true);
        let _ = coopledger::diag::emit(&mut sink, &sorted, false);
        return;
    };
    let (activity, d) = coopledger::activity(&b);
    if d.has_errors() {
        return;
    }
    for fy in b.result_years() {
        let Ok((prior, _)) = ledger::prior_state_in_memory(&b, fy, &activity) else {
            continue;
        };
        let Ok(c) = engine::close::close(&b, fy, &activity, &prior) else {
            continue;
        };
        let _ = report::close::json(&c);
        let _ = report::close::allocation_csv(&c);
        let _ = report::close::tranches_csv(&c);
        for f in [
            render::Format::Text,
            render::Format::Md,
            render::Format::Html,
        ] {
            let _ = render::to_bytes(&report::close_summary::doc(&c), f);
        }
        let options = engine::revolve::Options::default();
        if let Ok(r) = engine::revolve::revolve(&b, fy, &c.state_after, &activity, &options) {
            let _ = render::json_bytes(&r);
        }
        if let Ok(f) =
            engine::forecast::forecast(&b, fy + 1, 3, &c.state_after, &activity, &options)
        {
            let _ = render::json_bytes(&f);
        }
    }
}

/// A private copy of `rel` whose `file` is overwritten by each input before `f` runs.
fn fuzz_book_file(target: &str, rel: &str, file: &str, count: usize, f: impl Fn(&Path)) {
    let book = Book::copy(rel);
    let path = book.path().join(file);
    let corpus = vec![std::fs::read(&path).unwrap()];
    fuzz(target, &corpus, count, |input| {
        std::fs::write(&path, input).unwrap();
        f(book.path());
    });
}

#[test]
fn coop_toml() {
    let text = std::fs::read(root().join("data/rising-loaf/coop.toml")).unwrap();
    let other = std::fs::read(root().join("data/valley-commons/coop.toml")).unwrap();
    fuzz("coop_toml", &[text, other], execs() * 10, |input| {
        let _ = book::config::parse(&String::from_utf8_lossy(input), "coop.toml");
    });
    fuzz_book_file(
        "coop_toml_pipeline",
        "data/rising-loaf",
        "coop.toml",
        execs(),
        pipeline,
    );
}

#[test]
fn book_csv_files() {
    for file in [
        "members.csv",
        "patronage.csv",
        "results.csv",
        "equity.csv",
        "contributions.csv",
        "assets.csv",
        "receivables.csv",
        "subscriptions.csv",
    ] {
        fuzz_book_file(
            &format!("rising_loaf_{file}"),
            "data/rising-loaf",
            file,
            execs(),
            pipeline,
        );
    }
}

#[test]
fn generated_books() {
    // books of random shape from the generator, each then mutated in one of its files
    let t = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed());
    let runs = (execs() / 20).max(3);
    for n in 0..runs {
        let dir = t.path().join(format!("g{n}"));
        let mut spec = book::gen::Spec::new(
            1 + rng.below(40) as u64,
            1 + rng.below(400) as u64,
            rng.next(),
        );
        spec.years = 1 + rng.below(3) as u32;
        if rng.below(2) == 1 {
            spec.kind = book::gen::GenKind::Worker;
        }
        book::gen::write_book(&dir, &spec, &mut |_| {}).unwrap();
        pipeline(&dir);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let file = files[rng.below(files.len())].clone();
        let corpus = vec![std::fs::read(dir.join(&file)).unwrap()];
        fuzz(&format!("generated_{file}"), &corpus, 10, |input| {
            std::fs::write(dir.join(&file), input).unwrap();
            pipeline(&dir);
        });
    }
}

fn scenario_run(path: &Path) {
    if let Ok((r, _)) = coopledger::e2c::load_and_run(path) {
        let _ = report::e2c::json::to_bytes(&report::e2c::json::value(&r));
        if let Ok(doc) = report::e2c::scenario(&r) {
            for f in [
                render::Format::Text,
                render::Format::Md,
                render::Format::Html,
                render::Format::Csv,
            ] {
                let _ = render::to_bytes(&doc, f);
            }
        }
    }
}

#[test]
fn e2c_scenarios_and_cap_table() {
    let src = root().join("data/tidepool");
    let t = tempfile::tempdir().unwrap();
    copy_tree(&src, t.path());
    let scenarios: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(t.path().join("scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    for s in &scenarios {
        let corpus = vec![std::fs::read(s).unwrap()];
        let name = s.file_name().unwrap().to_string_lossy().into_owned();
        fuzz(&format!("scenario_{name}"), &corpus, execs(), |input| {
            std::fs::write(s, input).unwrap();
            scenario_run(s);
        });
        std::fs::write(s, &corpus[0]).unwrap();
    }
    let cap = t.path().join("captable.csv");
    let corpus = vec![std::fs::read(&cap).unwrap()];
    fuzz("captable", &corpus, execs(), |input| {
        std::fs::write(&cap, input).unwrap();
        scenario_run(&scenarios[0]);
    });
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// Sealed records (close.json, the manifest, the schedules) altered at random: every reader either
/// refuses or reads; the next year's close and verify never panic.
#[test]
fn sealed_records() {
    let book = Book::sealed("data/rising-loaf", &[2023, 2024]);
    let year = book.path().join("closes/2024");
    let mut names: Vec<String> = std::fs::read_dir(&year)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let path = year.join(&name);
        let corpus = vec![std::fs::read(&path).unwrap()];
        fuzz(&format!("sealed_{name}"), &corpus, execs() / 2, |input| {
            std::fs::write(&path, input).unwrap();
            let _ = ledger::verify(book.path());
            let _ = ledger::read_close(book.path(), 2024);
            pipeline(book.path());
        });
        std::fs::write(&path, &corpus[0]).unwrap();
    }
}

/// Member statements handed to `verify-statement`, altered at random: never a panic.
#[test]
fn statements() {
    let book = Book::sealed("data/rising-loaf", &[2023]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(book.path().join("closes/2023/manifest.json")).unwrap(),
    )
    .unwrap();
    let root_hash = manifest["member_root"].as_str().unwrap().to_string();
    let mut corpus = Vec::new();
    for member in ["RL01", "RL04", "RL09"] {
        let (code, out, err) = run(bin()
            .arg("statement")
            .arg(book.path())
            .args(["--member", member, "-O", "json"]));
        assert_eq!(code, 0, "{err}");
        corpus.push(out.into_bytes());
    }
    fuzz("statement_json", &corpus, execs() * 10, |input| {
        let _ = report::statement::verify_json(&String::from_utf8_lossy(input), &root_hash);
    });
}

/// The command line itself on mutated books: no command ends in a panic (exit 101).
#[test]
fn commands_on_mutated_books() {
    let book = Book::copy("data/rising-loaf");
    let files = [
        "patronage.csv",
        "members.csv",
        "coop.toml",
        "equity.csv",
        "results.csv",
    ];
    let originals: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(book.path().join(f)).unwrap())
        .collect();
    let mut rng = Rng::new(seed());
    let dir = book.path().to_str().unwrap().to_string();
    let commands: [&[&str]; 7] = [
        &["check", &dir, "-O", "json"],
        &["close", &dir, "--year", "2024", "--dry-run"],
        &["revolve", &dir, "--year", "2024", "--dry-run"],
        &["forecast", &dir, "--years", "2"],
        &["wealth", &dir, "--year", "2024"],
        &["assets", &dir, "--year", "2024"],
        &["report", &dir, "notices", "--year", "2024"],
    ];
    let mut runs = 0;
    for _ in 0..(execs() / 10).max(5) {
        let i = rng.below(files.len());
        let input = mutate(&mut rng, &originals[i]);
        std::fs::write(book.path().join(files[i]), &input).unwrap();
        for args in commands {
            let (code, _, err) = run(bin().args(args));
            runs += 1;
            assert!(
                code != 101 && !err.contains("panicked"),
                "`coopledger {}` panicked on a mutated {}:\n{err}",
                args.join(" "),
                files[i]
            );
        }
        std::fs::write(book.path().join(files[i]), &originals[i]).unwrap();
    }
    assert!(runs > 0);
}

/// The harness itself fails when a target panics (so a green run means something).
#[test]
#[should_panic(expected = "executions panicked")]
fn a_panic_fails_the_run() {
    fuzz("self_test", &[b"a,b\n1,2\n".to_vec()], 50, |input| {
        assert!(!input.contains(&b'"'), "a quote");
    });
}
