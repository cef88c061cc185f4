//! Crash safety (issue 12, docs/SEALING.md): real `close`, `close --reopen`, `revolve` and
//! `statement --all` runs aborted right after every write, sync, rename and removal they make
//! (the `COOPLEDGER_CRASH_AFTER=N` testing hook: `abort()`, no clean-up, like SIGKILL), and
//! SIGKILLed at random moments. After each kill the book (or the output directory) is exactly as
//! before or exactly as after a complete run, `verify` passes, and the next run completes and
//! leaves no temporary debris.
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::common::{bin, root, run};

/// Every file under `dir` (relative path → bytes), temporary debris left out; `None` when `dir`
/// does not exist.
fn tree(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if is_debris(&name) {
                continue;
            }
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    Some(out)
}

fn is_debris(name: &str) -> bool {
    name.starts_with(".coopledger-") || name.starts_with(".tmp")
}

/// Temporary names anywhere under `dir`.
fn debris(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if is_debris(&e.file_name().to_string_lossy()) {
            found.push(e.path().display().to_string());
        } else if e.file_type().unwrap().is_dir() {
            found.extend(debris(&e.path()));
        }
    }
    found
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn ok(args: &[&str], dir: &Path) {
    let mut c = bin();
    for a in args {
        c.arg(a.replace("{book}", &dir.join("book").to_string_lossy()));
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
}

/// One command to kill, run in a fresh copy of `template` (a directory holding `book/`).
struct Case {
    name: &'static str,
    template: tempfile::TempDir,
    /// `{book}` and `{out}` stand for `ROOT/book` and `ROOT/out`
    args: &'static [&'static str],
    /// what the command changes: `book` or `out`
    watched: &'static str,
    /// take the portable two-rename swap instead of the atomic exchange
    portable: bool,
}

impl Case {
    fn new(name: &'static str, args: &'static [&'static str], prepare: &[&[&str]]) -> Case {
        let template = tempfile::tempdir().unwrap();
        copy_tree(
            &root().join("data/rising-loaf"),
            &template.path().join("book"),
        );
        for p in prepare {
            ok(p, template.path());
        }
        Case {
            name,
            template,
            args,
            watched: if args.contains(&"{out}") {
                "out"
            } else {
                "book"
            },
            portable: false,
        }
    }

    fn command(&self, dir: &Path) -> Command {
        let mut c = bin();
        for a in self.args {
            c.arg(
                a.replace("{book}", &dir.join("book").to_string_lossy())
                    .replace("{out}", &dir.join("out").to_string_lossy()),
            );
        }
        if self.portable {
            c.env("COOPLEDGER_NO_EXCHANGE", "1");
        }
        c
    }

    fn fresh(&self) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        copy_tree(self.template.path(), t.path());
        t
    }
}

#[derive(Debug, PartialEq)]
enum Seen {
    Before,
    After,
}

struct Expect {
    before: Option<BTreeMap<String, Vec<u8>>>,
    after: Option<BTreeMap<String, Vec<u8>>>,
}

/// Checks a copy after a kill: unchanged or complete, `verify` passes, and the next run completes
/// (or, when the first run did complete, is refused or repeats it) and leaves no debris.
fn check_killed(c: &Case, e: &Expect, dir: &Path, label: &str) -> Seen {
    let watched = dir.join(c.watched);
    let mut now = tree(&watched);
    if c.portable && now != e.before && now != e.after {
        // the one window of the portable swap (between its two renames) is closed by the next
        // writer; readers may miss `closes/` until then (docs/SEALING.md)
        let closes = dir.join("book/closes");
        assert!(!closes.exists(), "{label}: half-written state");
        let (code, out, err) = run(&mut c.command(dir));
        assert!(code == 0 || code == 2, "{label}: {out}{err}");
        now = tree(&watched);
        assert!(now == e.after, "{label}: not rolled forward");
    }
    let seen = if now == e.before {
        Seen::Before
    } else if now == e.after {
        Seen::After
    } else {
        let (b, a) = (
            e.before.clone().unwrap_or_default(),
            e.after.clone().unwrap_or_default(),
        );
        let now = now.unwrap_or_default();
        let diff: Vec<&String> = now
            .keys()
            .chain(a.keys())
            .chain(b.keys())
            .filter(|k| now.get(*k) != a.get(*k) && now.get(*k) != b.get(*k))
            .collect();
        panic!("{label}: the kill left a half-written state: {diff:?}");
    };
    let (code, out, err) = run(bin().arg("verify").arg(dir.join("book")));
    assert_eq!(code, 0, "{label}: verify after the kill: {out}{err}");
    let (code, out, err) = run(&mut c.command(dir));
    if seen == Seen::Before {
        // (a portable swap may have committed already: the re-run rolls it forward and finds the
        // work done)
        let done = code == 0 || (c.portable && code == 2);
        assert!(done, "{label}: the re-run failed: {out}{err}");
        assert!(
            tree(&watched) == e.after,
            "{label}: the re-run differs from a clean run"
        );
    } else {
        // done already: a re-run is refused (close, revolve) or repeats the command
        assert!(code == 0 || code == 2, "{label}: {out}{err}");
        assert!(!err.contains("panicked"), "{label}: {err}");
    }
    assert_eq!(
        debris(dir),
        Vec::<String>::new(),
        "{label}: debris after the re-run"
    );
    seen
}

fn killed(s: &ExitStatus) -> bool {
    s.code().is_none()
}

#[derive(Default, Debug)]
struct Counts {
    aborts: usize,
    sigkills: usize,
    before: usize,
    after: usize,
}

/// Kills `c` after every step N = 1, 2, … until a run completes, then `random` times at random
/// moments.
fn kill_everywhere(c: &Case, random: usize, seed: u64) -> Counts {
    let mut counts = Counts::default();
    let clean = c.fresh();
    let before = tree(&clean.path().join(c.watched));
    let t0 = Instant::now();
    let (code, out, err) = run(&mut c.command(clean.path()));
    let took = t0.elapsed();
    assert_eq!(code, 0, "{}: {out}{err}", c.name);
    assert_eq!(debris(clean.path()), Vec::<String>::new(), "{}", c.name);
    let (code, out, err) = run(bin().arg("verify").arg(clean.path().join("book")));
    assert_eq!(code, 0, "{}: verify after a clean run: {out}{err}", c.name);
    let e = Expect {
        before,
        after: tree(&clean.path().join(c.watched)),
    };
    assert!(
        e.before != e.after,
        "{}: the command changed nothing",
        c.name
    );
    let tally = |s: Seen, counts: &mut Counts| match s {
        Seen::Before => counts.before += 1,
        Seen::After => counts.after += 1,
    };
    for n in 1.. {
        let t = c.fresh();
        let status = c
            .command(t.path())
            .env("COOPLEDGER_CRASH_AFTER", n.to_string())
            .output()
            .unwrap()
            .status;
        if status.success() {
            assert!(tree(&t.path().join(c.watched)) == e.after, "{}", c.name);
            assert_eq!(debris(t.path()), Vec::<String>::new(), "{}", c.name);
            break;
        }
        assert!(killed(&status), "{} N={n}: {status:?}", c.name);
        counts.aborts += 1;
        let s = check_killed(c, &e, t.path(), &format!("{} N={n}", c.name));
        tally(s, &mut counts);
        assert!(n < 500, "{}: no end", c.name);
    }
    // real SIGKILLs at random moments within a clean run's duration
    let mut x = seed;
    let window = took.as_micros().max(1) as u64;
    for i in 0..random {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((x >> 33) % window);
        let t = c.fresh();
        let mut child = c
            .command(t.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let label = format!("{} SIGKILL #{i} after {delay:?}", c.name);
        if killed(&status) {
            counts.sigkills += 1;
            let s = check_killed(c, &e, t.path(), &label);
            tally(s, &mut counts);
        } else {
            assert!(status.success(), "{label}: {status:?}");
        }
    }
    counts
}

/// Runs the cases, prints their counts and checks that at least `min` kills were made (every kill
/// left the book unchanged or complete: `check_killed`).
fn kill_all(cases: &[Case], min: usize, seed: u64) {
    let mut total = Counts::default();
    for (i, c) in cases.iter().enumerate() {
        let t0 = Instant::now();
        let n = kill_everywhere(c, 5, seed + i as u64);
        eprintln!("crash: {}: {n:?} in {:?}", c.name, t0.elapsed());
        total.aborts += n.aborts;
        total.sigkills += n.sigkills;
        total.before += n.before;
        total.after += n.after;
    }
    assert!(total.aborts + total.sigkills >= min, "{total:?}");
    assert!(total.before > 0 && total.after > 0, "{total:?}");
}

/// 12 step points (and 5 random SIGKILLs) for a close, 29 for a reopening.
#[test]
fn a_killed_close_or_reopen_leaves_the_book_unchanged_or_complete() {
    let reopen = Case::new(
        "close --reopen",
        &[
            "close",
            "{book}",
            "--year",
            "2023",
            "--reopen",
            "--reason",
            "margin corrected",
        ],
        &[&["close", "{book}", "--year", "2023"]],
    );
    // a corrected input, so that the new record differs from the old
    let p = reopen.template.path().join("book/results.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("84213.57", "84313.57")).unwrap();
    let close = Case::new(
        "close",
        &["close", "{book}", "--year", "2024"],
        &[&["close", "{book}", "--year", "2023"]],
    );
    kill_all(&[close, reopen], 40, 0x5eed);
}

/// 19 step points for sealing redemptions, 22 on the portable swap.
#[test]
fn a_killed_revolve_leaves_the_book_unchanged_or_complete() {
    let revolve = Case::new(
        "revolve",
        &["revolve", "{book}", "--year", "2023"],
        &[&["close", "{book}", "--year", "2023"]],
    );
    let mut portable = Case::new(
        "revolve (portable swap)",
        &["revolve", "{book}", "--year", "2023"],
        &[&["close", "{book}", "--year", "2023"]],
    );
    portable.portable = true;
    kill_all(&[revolve, portable], 40, 0x5eee);
}

/// 16 step points for a new output directory, 29 when an earlier one is replaced.
#[test]
fn a_killed_statement_all_leaves_its_directory_absent_or_complete() {
    let fresh = Case::new(
        "statement --all",
        &["statement", "{book}", "--all", "-o", "{out}"],
        &[&["close", "{book}", "--year", "2023"]],
    );
    let over = Case::new(
        "statement --all over an earlier output",
        &["statement", "{book}", "--all", "-O", "md", "-o", "{out}"],
        &[
            &["close", "{book}", "--year", "2023"],
            &["statement", "{book}", "--all", "-o", "{book}/../out"],
        ],
    );
    kill_all(&[fresh, over], 40, 0x5eef);
}
