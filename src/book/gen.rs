//! Deterministic synthetic books of any size, for benchmarks and differential tests.
//!
//! [`write_book`] streams every file through a `BufWriter`, so a 10M-row `patronage.csv` is
//! written in constant memory. The same [`Spec`] always gives byte-identical files (a seeded
//! `SmallRng`, no clock, no hash-map order). The book passes `coopledger check`: every member row
//! falls inside the member's membership, amounts have the currency's decimals, and
//! `results.csv` holds a plausible `patronage_margin` per unit and fiscal year.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{Days, NaiveDate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::book::config::fiscal_year_bounds;

/// What kind of co-op to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenKind {
    /// grocery and fuel units, purchases, ~10% non-member sales
    Consumer,
    /// one bakery unit with hours and wages
    Worker,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub members: u64,
    pub rows: u64,
    pub seed: u64,
    pub kind: GenKind,
    /// fiscal years covered, the last one being `last_year`
    pub years: u32,
    pub last_year: i32,
    /// (month, day) of the fiscal year end
    pub fiscal_year_end: (u32, u32),
}

impl Spec {
    pub fn new(members: u64, rows: u64, seed: u64) -> Self {
        Spec {
            members,
            rows,
            seed,
            kind: GenKind::Consumer,
            years: 1,
            last_year: 2025,
            fiscal_year_end: (12, 31),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub members: u64,
    pub rows: u64,
    pub nonmember_rows: u64,
    pub patronage_bytes: u64,
}

struct GenMember {
    id: String,
    joined: NaiveDate,
    left: Option<NaiveDate>,
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn money_text(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn create(dir: &Path, name: &str) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(dir.join(name))?,
    ))
}

/// Writes a book into `dir` (created if missing). `progress` is called now and then with the
/// number of patronage rows written.
pub fn write_book(dir: &Path, spec: &Spec, progress: &mut dyn FnMut(u64)) -> io::Result<Summary> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    if spec.members == 0 || spec.years == 0 {
        return Err(bad(
            "a generated book needs at least one member and one year",
        ));
    }
    let first_year = spec.last_year - spec.years as i32 + 1;
    let (start, _) = fiscal_year_bounds(first_year, spec.fiscal_year_end)
        .ok_or_else(|| bad("impossible fiscal year"))?;
    let (_, end) = fiscal_year_bounds(spec.last_year, spec.fiscal_year_end)
        .ok_or_else(|| bad("impossible fiscal year"))?;
    std::fs::create_dir_all(dir)?;
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    // the random draws in this order: members, patronage rows, results
    let members = gen_members(spec, &mut rng, start, end);
    write_members(dir, spec, &members)?;
    let (totals, nonmember_rows) =
        write_patronage(dir, spec, &mut rng, &members, (start, end), progress)?;
    let patronage_bytes = std::fs::metadata(dir.join("patronage.csv"))?.len();
    progress(spec.rows);
    write_results(dir, spec, &mut rng, first_year, &totals)?;
    std::fs::write(dir.join("coop.toml"), coop_toml(spec))?;
    Ok(Summary {
        members: spec.members,
        rows: spec.rows,
        nonmember_rows,
        patronage_bytes,
    })
}

/// The members: most joined before the period; a few join or leave during it.
fn gen_members(
    spec: &Spec,
    rng: &mut SmallRng,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<GenMember> {
    let span = (end - start).num_days() as u64 + 1;
    let width = spec.members.to_string().len().max(6);
    let mut members = Vec::with_capacity(spec.members as usize);
    for i in 0..spec.members {
        let id = format!("M{:0width$}", i + 1);
        let r = rng.random_range(0..100u32);
        let joined = if r < 6 {
            start + Days::new(rng.random_range(0..span))
        } else {
            start - Days::new(rng.random_range(1..3650u64))
        };
        let left = if (6..10).contains(&r) {
            let from = if joined > start { joined } else { start };
            let room = (end - from).num_days().max(1) as u64;
            Some(from + Days::new(rng.random_range(0..room)))
        } else {
            None
        };
        members.push(GenMember { id, joined, left });
    }
    members
}

/// `members.csv` and the membership share each member paid on joining (`contributions.csv`).
fn write_members(dir: &Path, spec: &Spec, members: &[GenMember]) -> io::Result<()> {
    let (class, share) = match spec.kind {
        GenKind::Consumer => ("household", 10_000u64),
        GenKind::Worker => ("worker", 100_000u64),
    };
    let mut w = create(dir, "members.csv")?;
    writeln!(w, "member_id,name,class,joined,left,status,birth_date")?;
    for (i, m) in members.iter().enumerate() {
        let (left, status) = match m.left {
            Some(l) => (date_text(l), "left"),
            None => (String::new(), "active"),
        };
        writeln!(
            w,
            "{},Member {},{class},{},{left},{status},",
            m.id,
            i + 1,
            date_text(m.joined)
        )?;
    }
    w.flush()?;

    let mut w = create(dir, "contributions.csv")?;
    writeln!(w, "date,member_id,kind,amount,note")?;
    for m in members {
        writeln!(
            w,
            "{},{},membership_share,{},generated",
            date_text(m.joined),
            m.id,
            money_text(share)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// `patronage.csv`, in date order; returns the totals per (fiscal year, unit) in cents (or
/// hundredths of hours) and the count of non-member rows.
fn write_patronage(
    dir: &Path,
    spec: &Spec,
    rng: &mut SmallRng,
    members: &[GenMember],
    (start, end): (NaiveDate, NaiveDate),
    progress: &mut dyn FnMut(u64),
) -> io::Result<(Vec<[u128; 2]>, u64)> {
    let first_year = spec.last_year - spec.years as i32 + 1;
    let span = (end - start).num_days() as u64 + 1;
    let units: &[(&str, &str)] = match spec.kind {
        GenKind::Consumer => &[("grocery", "purchases"), ("fuel", "purchases")],
        GenKind::Worker => &[("bakery", "hours"), ("bakery", "wages")],
    };
    let days: Vec<String> = (0..span).map(|d| date_text(start + Days::new(d))).collect();
    // cents (or hundredths of hours) per (fiscal year, unit) for results.csv
    let mut totals = vec![[0u128; 2]; spec.years as usize];
    let mut w = create(dir, "patronage.csv")?;
    writeln!(w, "date,member_id,unit,measure,amount")?;
    let mut nonmember_rows = 0u64;
    for i in 0..spec.rows {
        let d = if spec.rows > 1 {
            i * (span - 1) / (spec.rows - 1)
        } else {
            0
        };
        let date = start + Days::new(d);
        let mut member = "";
        if rng.random_range(0..100u32) >= 10 {
            for _ in 0..4 {
                let m = &members[rng.random_range(0..members.len())];
                if date >= m.joined && m.left.is_none_or(|l| date <= l) {
                    member = &m.id;
                    break;
                }
            }
        }
        if member.is_empty() {
            nonmember_rows += 1;
        }
        let u = match spec.kind {
            GenKind::Consumer => usize::from(rng.random_range(0..100u32) >= 85),
            GenKind::Worker => usize::from(rng.random_range(0..2u32) == 1),
        };
        let cents: u64 = match (spec.kind, u) {
            (GenKind::Consumer, 0) => rng.random_range(100..15_000),
            (GenKind::Consumer, _) => rng.random_range(1_000..9_000),
            (GenKind::Worker, 0) => 25 * rng.random_range(4..40u64),
            (GenKind::Worker, _) => rng.random_range(8_000..40_000),
        };
        let fy = crate::book::config::fiscal_year_of(date, spec.fiscal_year_end);
        if let Some(t) = totals.get_mut((fy - first_year) as usize) {
            t[u] += u128::from(cents);
        }
        let (unit, measure) = units[u];
        writeln!(
            w,
            "{},{member},{unit},{measure},{}",
            days[d as usize],
            money_text(cents)
        )?;
        if i % (1 << 20) == 0 {
            progress(i);
        }
    }
    w.flush()?;
    Ok((totals, nonmember_rows))
}

/// `results.csv`: a margin of a few percent of each unit's sales.
fn write_results(
    dir: &Path,
    spec: &Spec,
    rng: &mut SmallRng,
    first_year: i32,
    totals: &[[u128; 2]],
) -> io::Result<()> {
    let mut w = create(dir, "results.csv")?;
    writeln!(w, "fiscal_year,unit,line,amount")?;
    for (y, t) in totals.iter().enumerate() {
        let fy = first_year + y as i32;
        match spec.kind {
            GenKind::Consumer => {
                let pct = 3 + u128::from(rng.random_range(0..3u32));
                writeln!(
                    w,
                    "{fy},grocery,patronage_margin,{}",
                    money128(t[0] * pct / 100)
                )?;
                writeln!(w, "{fy},fuel,patronage_margin,{}", money128(t[1] / 100))?;
            }
            GenKind::Worker => {
                writeln!(w, "{fy},bakery,patronage_margin,{}", money128(t[1] / 12))?;
            }
        }
        writeln!(
            w,
            "{fy},,nonpatronage_income,{}",
            money128((t[0] + t[1]) / 400)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// `coop.toml` of the generated co-op.
fn coop_toml(spec: &Spec) -> String {
    let (kind, name, class, units, reserve) = match spec.kind {
        GenKind::Consumer => (
            "consumer",
            "Consumer",
            "household",
            "[[units]]\nid = \"grocery\"\nmeasures = { purchases = \"1\" }\n\n\
             [[units]]\nid = \"fuel\"\nmeasures = { purchases = \"1\" }\n\n",
            "10",
        ),
        GenKind::Worker => (
            "worker",
            "Worker",
            "worker",
            "[[units]]\nid = \"bakery\"\nmeasures = { hours = \"0.5\", wages = \"0.5\" }\n\n",
            "30",
        ),
    };
    format!(
        "# A generated {kind} co-op (coopledger gen, seed {seed}).\n\
         schema = 1\n\
         name = \"Generated {name} Co-op\"\n\
         kind = \"{kind}\"\n\
         currency = \"USD\"\n\
         fiscal_year_end = \"{m:02}-{d:02}\"\n\n\
         [[classes]]\nid = \"{class}\"\nvotes = 1\n\n\
         {units}\
         [policy]\nreserve_pct = \"{reserve}\"\ncash_pct = \"20\"\nnotice = \"qualified\"\n",
        seed = spec.seed,
        m = spec.fiscal_year_end.0,
        d = spec.fiscal_year_end.1
    )
}

fn money128(cents: u128) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let mut spec = Spec::new(50, 2_000, 7);
        spec.years = 2;
        spec.fiscal_year_end = (6, 30);
        write_book(a.path(), &spec, &mut |_| {}).unwrap();
        write_book(b.path(), &spec, &mut |_| {}).unwrap();
        for f in [
            "coop.toml",
            "members.csv",
            "patronage.csv",
            "results.csv",
            "contributions.csv",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap(),
                "{f}"
            );
        }
        let (book, diags) = crate::book::check(a.path());
        assert!(!diags.has_errors(), "{:?}", diags.into_sorted());
        assert_eq!(book.unwrap().result_years(), vec![2024, 2025]);
    }

    #[test]
    fn worker_book_is_valid() {
        let a = tempfile::tempdir().unwrap();
        let mut spec = Spec::new(12, 500, 3);
        spec.kind = GenKind::Worker;
        write_book(a.path(), &spec, &mut |_| {}).unwrap();
        let (_, diags) = crate::book::check(a.path());
        assert!(diags.is_empty(), "{:?}", diags.into_sorted());
    }
}
