//! polars behind one door: the bulk aggregation of large patronage ledgers.
//!
//! This is the only module that imports polars. [`activity`] computes the same totals as
//! [`crate::book::patronage::fold`] (the oracle) with a lazy CSV scan run on polars' streaming
//! engine, so memory stays bounded by the group-by state whatever the row count.
//!
//! How it stays exact and identical to the fold:
//! - every column is read as a string; the header is read and checked by [`csvin::open`] (any
//!   column order, case, BOM, `x_` columns) and the data rows are scanned by position;
//! - two element-wise functions turn each row into an integer group key and an amount. The key
//!   packs (fiscal year, member, unit × measure) after the fold's own checks (date, unknown
//!   member, membership dates, unit, measure); the amount is parsed into units of 10^-4 by a fast
//!   path for plain decimals that defers to [`patronage::parse_amount`] for anything else. Both
//!   trim values as the fold does. No float ever holds money;
//! - polars groups by the integer key and sums 64-bit integers; a group whose sum could overflow
//!   makes [`activity`] return an error instead of a wrong total;
//! - a row the fold would reject (an error or E0305) becomes a null key or a null amount and is
//!   counted in [`FrameResult::problem_rows`]. Callers use the totals only when that count is 0
//!   and otherwise run the fold, which locates every problem.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::Arc;

use polars::prelude::*;
use polars_core::query_result::QueryResult;

use crate::book::config::fiscal_year_of;
use crate::book::csvin;
use crate::book::patronage::{
    self, Activity, ActivityKey, ActivityTotal, COLS, MONEY_MEASURES, SCALE,
};
use crate::book::Book;
use crate::diag::Diagnostics;

/// Why the fast path could not answer; the caller falls back to [`patronage::fold`].
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the polars path is turned off (COOPLEDGER_NO_POLARS=1)")]
    Disabled,
    #[error("cannot read `{0}`: {1}")]
    Io(String, std::io::Error),
    #[error("the header of `{0}` needs the row-by-row reader: {1}")]
    Header(String, String),
    #[error("a total of patronage amounts could overflow")]
    Overflow,
    #[error("the book is too large for the packed group key: {0}")]
    Unsupported(String),
    #[error("polars: {0}")]
    Polars(#[from] PolarsError),
}

/// The totals and how many rows the fold would report (errors or E0305).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameResult {
    /// identical to the fold's totals when `problem_rows == 0`
    pub activity: Activity,
    pub problem_rows: u64,
}

/// A small, fast, non-cryptographic hasher (the Fx hash of rustc) for the hot lookups of the
/// scan: member ids and packed group keys. Not exposed to untrusted input in a way that matters:
/// a crafted ledger could only make its own aggregation slower.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut v = 0u64;
            for (i, b) in chunk.iter().enumerate() {
                v |= u64::from(*b) << (8 * i);
            }
            self.add(v);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // the multiply leaves the low bits weak; the table indexes by them, so rotate the
        // well-mixed high bits down (as rustc-hash 2 does)
        self.0.rotate_left(26)
    }
}

impl Fx {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxBuild = std::hash::BuildHasherDefault<Fx>;

/// Bits of the packed key: | fiscal year (14+) | member index (32) | unit × measure (12) |.
const UM_BITS: u32 = 12;
const MEMBER_BITS: u32 = 32;

/// (unit, measure, flat index, is a money measure)
type UnitMeasure = (Box<[u8]>, Box<[u8]>, u64, bool);

/// The validation context shared with the element-wise functions.
struct Ctx {
    fye: (u32, u32),
    money_decimals: u32,
    /// member id -> index into `members`
    index: HashMap<String, u32>,
    /// the same, by bytes, for the scan
    index_bytes: HashMap<Box<[u8]>, u32, FxBuild>,
    /// (unit, measure, flat index, is a money measure) for the scan
    um_table: Vec<UnitMeasure>,
    /// (joined, left) per member index, as days from the common era
    spans: Vec<(i32, i32)>,
    /// unit -> (its first flat index, its measures)
    units: Vec<(String, Vec<String>)>,
}

impl Ctx {
    fn new(book: &Book) -> Result<Self, FrameError> {
        use chrono::Datelike;
        let members = &book.members;
        if members.len() as u64 >= (1u64 << MEMBER_BITS) - 1 {
            return Err(FrameError::Unsupported(format!(
                "{} members",
                members.len()
            )));
        }
        let units: Vec<(String, Vec<String>)> = book
            .config
            .units
            .iter()
            .map(|u| {
                (
                    u.id.clone(),
                    u.measures.iter().map(|(m, _)| m.clone()).collect(),
                )
            })
            .collect();
        let flat: usize = units.iter().map(|(_, m)| m.len()).sum();
        if flat >= 1 << UM_BITS {
            return Err(FrameError::Unsupported(format!("{flat} unit measures")));
        }
        let mut um_table = Vec::new();
        let mut flat_i = 0u64;
        for (u, ms) in &units {
            for m in ms {
                um_table.push((
                    u.as_bytes().into(),
                    m.as_bytes().into(),
                    flat_i,
                    MONEY_MEASURES.contains(&m.as_str()),
                ));
                flat_i += 1;
            }
        }
        Ok(Ctx {
            index_bytes: members
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.as_bytes().into(), i as u32))
                .collect(),
            um_table,
            fye: book.config.fiscal_year_end,
            money_decimals: book.config.currency.minor_units(),
            index: members
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.clone(), i as u32))
                .collect(),
            spans: members
                .iter()
                .map(|m| {
                    (
                        m.joined.num_days_from_ce(),
                        m.left.map(|l| l.num_days_from_ce()).unwrap_or(i32::MAX),
                    )
                })
                .collect(),
            units,
        })
    }

    fn nonmember(&self) -> u64 {
        self.spans.len() as u64
    }

    /// The flat index of (unit, measure), or `None` when the unit is unknown or does not use it.
    fn unit_measure(&self, unit: &str, measure: &str) -> Option<u64> {
        let mut base = 0u64;
        for (u, ms) in &self.units {
            if u == unit {
                return ms
                    .iter()
                    .position(|m| m == measure)
                    .map(|p| base + p as u64);
            }
            base += ms.len() as u64;
        }
        None
    }

    fn unflatten(&self, mut um: u64) -> Option<(&str, &str)> {
        for (u, ms) in &self.units {
            if (um as usize) < ms.len() {
                return Some((u.as_str(), ms[um as usize].as_str()));
            }
            um -= ms.len() as u64;
        }
        None
    }

    /// The packed group key of a row, or `None` when the fold would report the row.
    fn key(&self, date: &str, member: &str, unit: &str, measure: &str) -> Option<i64> {
        let (fy, day) = self.day(date)?;
        self.key_at(fy, day, member, unit, measure)
    }

    /// The fiscal year and day number of a date, or `None` when the fold would report it.
    fn day(&self, date: &str) -> Option<(i32, i32)> {
        use chrono::Datelike;
        let date = csvin::parse_date(date.trim()).ok()?;
        let fy = fiscal_year_of(date, self.fye);
        if !(0..(1 << 18)).contains(&fy) {
            return None;
        }
        Some((fy, date.num_days_from_ce()))
    }

    /// The packed group key of a row whose date is already checked.
    fn key_at(&self, fy: i32, day: i32, member: &str, unit: &str, measure: &str) -> Option<i64> {
        let um = self.unit_measure(unit.trim(), measure.trim())?;
        let member = member.trim();
        let m = if member.is_empty() {
            self.nonmember()
        } else {
            let i = *self.index.get(member)?;
            let (joined, left) = self.spans[i as usize];
            if day < joined || day > left {
                return None; // E0305, outside the membership
            }
            u64::from(i)
        };
        Some(((fy as i64) << (MEMBER_BITS + UM_BITS)) | ((m << UM_BITS) | um) as i64)
    }

    /// The amount of a row whose measure is known to be money (`money`) or not.
    fn amount_for(&self, text: &str, money: bool) -> Option<i64> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        let max = if money { self.money_decimals } else { SCALE };
        if let Some(v) = plain_decimal(t, max.min(SCALE)) {
            return Some(v);
        }
        match patronage::parse_amount(t, max) {
            Ok(a) if a >= 0 => i64::try_from(a).ok(),
            _ => None,
        }
    }

    /// The amount of a row in units of 10^-SCALE, or `None` when the fold would report it.
    fn amount(&self, text: &str, measure: &str) -> Option<i64> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        let max = if MONEY_MEASURES.contains(&measure.trim()) {
            self.money_decimals
        } else {
            SCALE
        };
        if let Some(v) = plain_decimal(t, max.min(SCALE)) {
            return Some(v);
        }
        match patronage::parse_amount(t, max) {
            Ok(a) if a >= 0 => i64::try_from(a).ok(),
            _ => None,
        }
    }
}

/// The fast path for `digits[.digits]` with at most `max` decimals and at most 18 digits:
/// the value in units of 10^-SCALE. Anything else is `None` and goes to the exact parser.
fn plain_decimal(t: &str, max: u32) -> Option<i64> {
    let b = t.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    let mut dot: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => v = v * 10 + i64::from(c - b'0'),
            b'.' if dot.is_none() && i > 0 && i + 1 < b.len() => dot = Some(i),
            _ => return None,
        }
    }
    let decimals = dot.map(|d| (b.len() - d - 1) as u32).unwrap_or(0);
    let digits = b.len() - usize::from(dot.is_some());
    if decimals > max || digits > 18 {
        return None;
    }
    v.checked_mul(10i64.pow(SCALE - decimals))
}

/// Reads and checks the header the way the fold does; returns the number of fields and, for
/// each schema column, its position in the file.
fn header(book: &Book) -> Result<(usize, Vec<Option<usize>>), FrameError> {
    let path = book.patronage_path();
    let file = book.display(crate::book::PATRONAGE);
    let f = std::fs::File::open(&path).map_err(|e| FrameError::Io(file.clone(), e))?;
    let mut first = Vec::new();
    std::io::BufReader::new(f)
        .read_until(b'\n', &mut first)
        .map_err(|e| FrameError::Io(file.clone(), e))?;
    if first.contains(&b'"') {
        return Err(FrameError::Header(file, "quoted header".into()));
    }
    let fields = first.iter().filter(|b| **b == b',').count() + 1;
    let mut diags = Diagnostics::new();
    let table = csvin::open(first.as_slice(), &file, COLS, &mut diags);
    match table {
        Some(t) if diags.is_empty() => {
            if t.index.iter().any(Option::is_none) {
                // without member_id the fold accepts no row; leave that to the fold
                return Err(FrameError::Header(file, "no member_id column".into()));
            }
            // polars reads a missing trailing field as "", which for member_id would pass for
            // non-member business where the fold reports a short line; with a required column
            // after member_id such a line fails on that column instead
            if t.index[1]
                > t.index
                    .iter()
                    .enumerate()
                    .filter(|(s, _)| *s != 1)
                    .map(|(_, i)| *i)
                    .max()
                    .flatten()
            {
                return Err(FrameError::Header(
                    file,
                    "member_id is the last column".into(),
                ));
            }
            Ok((fields, t.index))
        }
        _ => Err(FrameError::Header(file, "problems in the header".into())),
    }
}

fn str_col(c: &Column) -> PolarsResult<&StringChunked> {
    c.str()
}

/// Aggregates `patronage.csv` per (fiscal year, member, unit, measure) with polars' streaming
/// engine. See the module docs for the guarantees.
///
/// Setting the environment variable `COOPLEDGER_NO_POLARS=1` turns the fast path off (every
/// caller then runs the fold); the benchmarks use it to time the fold through the same commands.
pub fn activity(book: &Book) -> Result<FrameResult, FrameError> {
    if std::env::var_os("COOPLEDGER_NO_POLARS").is_some_and(|v| v == "1") {
        return Err(FrameError::Disabled);
    }
    let (fields, index) = header(book)?;
    let ctx = Arc::new(Ctx::new(book)?);
    let names = ["date", "member_id", "unit", "measure", "amount"];
    let mut schema = Schema::default();
    for i in 0..fields {
        let name = index
            .iter()
            .position(|p| *p == Some(i))
            .map(|s| names[s].to_string())
            .unwrap_or_else(|| format!("_col{i}"));
        schema.insert(name.into(), DataType::String);
    }
    let path = PlRefPath::try_from_path(&book.patronage_path())?;
    let lf = LazyCsvReader::new(path)
        .with_has_header(false)
        .with_skip_rows(1)
        .with_schema(Some(Arc::new(schema)))
        .with_missing_is_null(false)
        .with_truncate_ragged_lines(true)
        .with_raise_if_empty(false)
        .with_encoding(CsvEncoding::Utf8)
        .finish()?;

    let k = Arc::clone(&ctx);
    let key = col("date").map_many(
        move |c: &mut [Column]| {
            let (d, m, u, me) = (
                str_col(&c[0])?,
                str_col(&c[1])?,
                str_col(&c[2])?,
                str_col(&c[3])?,
            );
            let out: Int64Chunked = d
                .iter()
                .zip(m.iter())
                .zip(u.iter())
                .zip(me.iter())
                .map(|(((d, m), u), me)| match (d, m, u, me) {
                    (Some(d), Some(m), Some(u), Some(me)) => k.key(d, m, u, me),
                    _ => None,
                })
                .collect();
            Ok(out.with_name("key".into()).into_column())
        },
        &[col("member_id"), col("unit"), col("measure")],
        |_, _| Ok(Field::new("key".into(), DataType::Int64)),
    );
    let a = Arc::clone(&ctx);
    let amount = col("amount").map_many(
        move |c: &mut [Column]| {
            let (t, me) = (str_col(&c[0])?, str_col(&c[1])?);
            let out: Int64Chunked = t
                .iter()
                .zip(me.iter())
                .map(|(t, me)| match (t, me) {
                    (Some(t), Some(me)) => a.amount(t, me),
                    _ => None,
                })
                .collect();
            Ok(out.with_name("amt".into()).into_column())
        },
        &[col("measure")],
        |_, _| Ok(Field::new("amt".into(), DataType::Int64)),
    );
    let df = lf
        .select([key.alias("key"), amount.alias("amt")])
        .group_by([col("key")])
        .agg([
            col("amt").sum().alias("sum"),
            col("amt").max().alias("max"),
            col("amt").count().alias("valid"),
            len().alias("rows"),
        ])
        .collect_with_engine(Engine::Streaming)?;
    let df = match df {
        QueryResult::Single(df) => df,
        QueryResult::Multiple(_) => {
            return Err(FrameError::Polars(PolarsError::ComputeError(
                "unexpected multiple results".into(),
            )))
        }
    };
    let u64s = |name: &str| -> PolarsResult<Vec<u64>> {
        let c = df.column(name)?.cast(&DataType::UInt64)?;
        Ok(c.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let keys: Vec<Option<i64>> = df.column("key")?.i64()?.iter().collect();
    let sums: Vec<Option<i64>> = df.column("sum")?.i64()?.iter().collect();
    let maxs: Vec<Option<i64>> = df.column("max")?.i64()?.iter().collect();
    let valid = u64s("valid")?;
    let rows = u64s("rows")?;

    let mut problem_rows = 0u64;
    let mut groups: Vec<(i64, i128, u64)> = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let Some(key) = keys[i] else {
            problem_rows += rows[i];
            continue;
        };
        problem_rows += rows[i] - valid[i];
        if valid[i] == 0 {
            continue;
        }
        let max = i128::from(maxs[i].unwrap_or(0));
        if max * i128::from(valid[i]) > i128::from(i64::MAX) {
            return Err(FrameError::Overflow);
        }
        groups.push((key, i128::from(sums[i].unwrap_or(0)), valid[i]));
    }
    let activity = totals(book, &ctx, groups.into_iter())?;
    Ok(FrameResult {
        activity,
        problem_rows,
    })
}

fn unpack(key: i64) -> (i32, u64, u64) {
    let k = key as u64;
    let fy = (k >> (MEMBER_BITS + UM_BITS)) as i32;
    let m = (k >> UM_BITS) & ((1u64 << MEMBER_BITS) - 1);
    let um = k & ((1u64 << UM_BITS) - 1);
    (fy, m, um)
}

/// The fastest engine that can answer: [`scan`], else the polars [`activity`].
pub fn fast_activity(book: &Book) -> Result<FrameResult, FrameError> {
    match scan(book) {
        Ok(r) if r.problem_rows == 0 => Ok(r),
        _ => activity(book),
    }
}

/// Aggregates `patronage.csv` with a plain-Rust scan on every core: a reader thread cuts the
/// file into blocks of whole lines and worker threads validate and sum each block with the same
/// row checks as the polars path ([`Ctx`]); memory stays bounded by the blocks in flight and the
/// group state. Files with quoted fields are left to the polars path and the fold (error
/// [`FrameError::Unsupported`]). The totals are identical to the fold's (differential tests).
pub fn scan(book: &Book) -> Result<FrameResult, FrameError> {
    use std::io::Read;
    use std::sync::mpsc::sync_channel;
    use std::sync::Mutex;

    if std::env::var_os("COOPLEDGER_NO_SCAN").is_some_and(|v| v == "1") {
        return Err(FrameError::Disabled);
    }
    let (fields, index) = header(book)?;
    let pos: Vec<usize> = index.iter().map(|p| p.unwrap_or(usize::MAX)).collect();
    if pos.contains(&usize::MAX) {
        return Err(FrameError::Unsupported("a column is missing".into()));
    }
    let ctx = Ctx::new(book)?;
    let file = book.display(crate::book::PATRONAGE);
    let mut f =
        std::fs::File::open(book.patronage_path()).map_err(|e| FrameError::Io(file.clone(), e))?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    const BLOCK: usize = 4 << 20;

    type Part = (HashMap<i64, (i128, u64), FxBuild>, u64, bool);
    let (tx, rx) = sync_channel::<Vec<u8>>(workers * 2);
    let rx = Mutex::new(rx);
    let (parts, read): (Vec<Part>, Result<(), FrameError>) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, ctx, pos) = (&rx, &ctx, &pos);
                s.spawn(move || {
                    let mut part: Part = (HashMap::default(), 0, false);
                    loop {
                        let block = match rx.lock() {
                            Ok(r) => match r.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            },
                            Err(_) => break,
                        };
                        scan_block(&block, fields, pos, ctx, &mut part);
                    }
                    part
                })
            })
            .collect();
        // the reader: whole lines only, the header line skipped
        let read = (|| -> Result<(), FrameError> {
            let mut carry: Vec<u8> = Vec::new();
            let mut first = true;
            loop {
                let mut buf = std::mem::take(&mut carry);
                let start = buf.len();
                buf.resize(start + BLOCK, 0);
                let n = f
                    .read(&mut buf[start..])
                    .map_err(|e| FrameError::Io(file.clone(), e))?;
                buf.truncate(start + n);
                if n == 0 {
                    // at the end: the last line (a header without data rows is not one)
                    if !buf.is_empty() && !first {
                        let _ = tx.send(buf);
                    }
                    return Ok(());
                }
                if first {
                    match buf.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            buf.drain(..=i);
                            first = false;
                        }
                        None => {
                            carry = buf;
                            continue;
                        }
                    }
                }
                match buf.iter().rposition(|b| *b == b'\n') {
                    Some(i) => {
                        carry = buf.split_off(i + 1);
                        if tx.send(buf).is_err() {
                            return Ok(());
                        }
                    }
                    None => carry = buf,
                }
            }
        })();
        drop(tx);
        let parts = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (parts, read)
    });
    read?;
    if parts.len() != workers {
        return Err(FrameError::Unsupported("a worker thread failed".into()));
    }
    let mut problem_rows = 0u64;
    let mut groups: HashMap<i64, (i128, u64)> = HashMap::new();
    for (map, problems, quoted) in parts {
        if quoted {
            return Err(FrameError::Unsupported("quoted fields".into()));
        }
        problem_rows += problems;
        for (k, (sum, n)) in map {
            let e = groups.entry(k).or_insert((0, 0));
            e.0 = e.0.checked_add(sum).ok_or(FrameError::Overflow)?;
            e.1 += n;
        }
    }
    let activity = totals(book, &ctx, groups.into_iter().map(|(k, (s, n))| (k, s, n)))?;
    Ok(FrameResult {
        activity,
        problem_rows,
    })
}

/// Validates and sums the rows of one block of whole lines.
fn scan_block(
    block: &[u8],
    fields: usize,
    pos: &[usize],
    ctx: &Ctx,
    part: &mut (HashMap<i64, (i128, u64), FxBuild>, u64, bool),
) {
    let mut cols: Vec<&[u8]> = Vec::with_capacity(fields + 1);
    // the date of the previous line, and its checked form
    let mut last_date: &[u8] = b"";
    let mut last_day: Option<(i32, i32)> = None;
    // the (unit, measure) of the previous line, and its flat index and money flag
    let mut last_um: (&[u8], &[u8], Option<(u64, bool)>) = (b"", b"", None);
    for line in block.split(|b| *b == b'\n') {
        let line = match line.split_last() {
            Some((b'\r', rest)) => rest,
            _ => line,
        };
        if line.is_empty() {
            continue; // a blank line, skipped as the fold skips it
        }
        if line.contains(&b'"') {
            part.2 = true;
            return;
        }
        cols.clear();
        cols.extend(line.split(|b| *b == b','));
        if cols.len() != fields {
            part.1 += 1;
            continue;
        }
        let date = cols[pos[0]];
        if !same(date, last_date) {
            last_date = date;
            last_day = std::str::from_utf8(date).ok().and_then(|d| ctx.day(d));
        }
        let (unit, measure) = (cols[pos[2]].trim_ascii(), cols[pos[3]].trim_ascii());
        if !same(unit, last_um.0) || !same(measure, last_um.1) {
            let found = ctx
                .um_table
                .iter()
                .find(|(u, m, _, _)| same(u, unit) && same(m, measure))
                .map(|(_, _, i, money)| (*i, *money));
            last_um = (unit, measure, found);
        }
        let (Some((fy, day)), Some((um, money))) = (last_day, last_um.2) else {
            part.1 += 1;
            continue;
        };
        let member = cols[pos[1]].trim_ascii();
        let m = if member.is_empty() {
            Some(ctx.nonmember())
        } else {
            ctx.index_bytes.get(member).and_then(|&i| {
                let (joined, left) = ctx.spans[i as usize];
                (day >= joined && day <= left).then_some(u64::from(i))
            })
        };
        let amount = std::str::from_utf8(cols[pos[4]])
            .ok()
            .and_then(|t| ctx.amount_for(t, money));
        match (m, amount) {
            (Some(m), Some(a)) => {
                let k = ((fy as i64) << (MEMBER_BITS + UM_BITS)) | ((m << UM_BITS) | um) as i64;
                let e = part.0.entry(k).or_insert((0, 0));
                e.0 += i128::from(a);
                e.1 += 1;
            }
            _ => part.1 += 1,
        }
    }
}

/// Byte equality for the short fields of a row, inline (a libc `memcmp` call per field costs more
/// than the comparison).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The sorted activity from packed group keys with their sums and row counts.
fn totals(
    book: &Book,
    ctx: &Ctx,
    groups: impl Iterator<Item = (i64, i128, u64)>,
) -> Result<Activity, FrameError> {
    let mut map: BTreeMap<ActivityKey, (i128, u64)> = BTreeMap::new();
    for (key, sum, n) in groups {
        let (fy, m, um) = unpack(key);
        let member_id = if m == ctx.nonmember() {
            String::new()
        } else {
            book.members
                .get(m as usize)
                .map(|m| m.id.clone())
                .ok_or_else(|| FrameError::Unsupported("bad member index".into()))?
        };
        let (unit, measure) = ctx
            .unflatten(um)
            .ok_or_else(|| FrameError::Unsupported("bad unit index".into()))?;
        let k = ActivityKey {
            fiscal_year: fy,
            member_id,
            unit: unit.to_string(),
            measure: measure.to_string(),
        };
        let e = map.entry(k).or_insert((0, 0));
        e.0 = e.0.checked_add(sum).ok_or(FrameError::Overflow)?;
        e.1 += n;
    }
    Ok(Activity {
        totals: map
            .into_iter()
            .map(|(key, (amount, rows))| ActivityTotal { key, amount, rows })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
schema = 1
name = "T"
kind = "consumer"
currency = "USD"
fiscal_year_end = "06-30"

[[units]]
id = "grocery"
measures = { purchases = "1" }

[[units]]
id = "deli"
measures = { purchases = "0.5", hours = "0.5" }
"#;

    const MEMBERS: &str = "member_id,name,class,joined,left,status,birth_date\n\
        M1,A,member,2020-01-01,,active,\n\
        M2,B,member,2020-01-01,2024-09-30,left,\n\
        M3,C,member,2024-08-15,,active,\n";

    fn book(patronage: &[u8]) -> (tempfile::TempDir, Book) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("coop.toml"), TOML).unwrap();
        std::fs::write(dir.path().join("members.csv"), MEMBERS).unwrap();
        std::fs::write(dir.path().join("patronage.csv"), patronage).unwrap();
        std::fs::write(
            dir.path().join("results.csv"),
            "fiscal_year,unit,line,amount\n",
        )
        .unwrap();
        let (b, d) = crate::book::load(dir.path());
        assert!(!d.has_errors(), "{:?}", d.into_sorted());
        (dir, b.unwrap())
    }

    /// The frame agrees with the fold; returns (problem rows, fold error-or-E0305 count).
    fn compare(patronage: &[u8]) -> (u64, usize) {
        let (_dir, b) = book(patronage);
        let (fold, diags) = patronage::fold(&b);
        let fr = activity(&b).unwrap();
        let reported = diags
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error || d.code == "E0305")
            .count();
        // the parallel scan agrees with the fold too, or declines (quoted fields)
        if let Ok(sc) = scan(&b) {
            assert_eq!(
                sc.problem_rows == 0,
                reported == 0,
                "{}",
                String::from_utf8_lossy(patronage)
            );
            if sc.problem_rows == 0 {
                assert_eq!(sc.activity, fold, "{}", String::from_utf8_lossy(patronage));
            }
        }
        if fr.problem_rows == 0 {
            assert_eq!(fr.activity, fold, "{}", String::from_utf8_lossy(patronage));
        }
        (fr.problem_rows, reported)
    }

    #[test]
    fn clean_rows_agree() {
        let (p, r) = compare(
            b"date,member_id,unit,measure,amount\n\
              2024-07-01,M1,grocery,purchases,12.50\n\
              2024-06-30,M1,grocery,purchases,1\n\
              2024-07-02,,grocery,purchases,3.333\n\
              2024-08-15,M3,deli,hours,1.2500\n\
              2025-01-01,M3,deli,purchases,007.10\n\
              2024-09-30,M2,deli,purchases,1.000\n",
        );
        assert_eq!((p, r), (1, 1), "3.333 has too many decimals for purchases");
        let (p, r) = compare(
            b"date,member_id,unit,measure,amount\n\
              2024-07-01,M1,grocery,purchases,12.50\n\
              2024-06-30,M1,grocery,purchases,1\n\
              2024-07-02,,grocery,purchases,3.33\n\
              2024-08-15,M3,deli,hours,1.2500\n\
              2025-01-01,M3,deli,purchases,007.10\n\
              2024-09-30,M2,deli,purchases,1.000\n",
        );
        assert_eq!((p, r), (0, 0));
    }

    #[test]
    fn quirks_bom_crlf_quotes_order_extra_columns() {
        let (p, r) = compare(
            b"\xEF\xBB\xBFAmount,x_note,unit,Member_ID,measure,date\r\n\
              12.50,\"a, b\",grocery,M1,purchases,2024-07-01\r\n\
              \"3.00\",,\"grocery\",,purchases,2024-07-02\r\n\
              \" 4.00 \",x,grocery, M1 ,purchases,2024-07-03\r\n",
        );
        assert_eq!((p, r), (0, 0));
        let (_d, b) = book(b"date,member_id,unit,measure,amount\r\n2024-07-01,M1,grocery,purchases,12.50\r\n2024-07-02,,grocery,purchases,1\r\n");
        let fr = activity(&b).unwrap();
        assert_eq!(fr.problem_rows, 0);
        assert_eq!(fr.activity.totals.len(), 2);
        assert_eq!(fr.activity.totals[0].key.member_id, "");
        assert_eq!(fr.activity.totals[1].amount, 125_000);
    }

    #[test]
    fn planted_problems_are_counted() {
        let rows = [
            "2024-02-30,M1,grocery,purchases,1.00",  // impossible date
            "01/02/2024,M1,grocery,purchases,1.00",  // not a date
            ",M1,grocery,purchases,1.00",            // empty date
            "2024-07-01,M9,grocery,purchases,1.00",  // unknown member
            "2024-07-01,M1,bakery,purchases,1.00",   // unknown unit
            "2024-07-01,M1,grocery,hours,1.00",      // measure not used by the unit
            "2024-07-01,M1,grocery,purchases,1e3",   // bad amount
            "2024-07-01,M1,grocery,purchases,1.005", // too many decimals
            "2024-07-01,M1,deli,hours,1.00005",      // too many decimals (hours)
            "2024-07-01,M1,grocery,purchases,-1.00", // negative
            "2024-07-01,M3,grocery,purchases,1.00",  // before M3 joined
            "2024-10-01,M2,grocery,purchases,1.00",  // after M2 left
            "2024-07-01,M1,grocery",                 // short row
            "2024-07-01,M1,grocery,purchases,",      // empty amount
            "2024-07-01,M1,,purchases,1.00",         // empty unit
        ];
        for row in rows {
            let text = format!(
                "date,member_id,unit,measure,amount\n2024-07-01,M1,grocery,purchases,2.00\n{row}\n"
            );
            let (p, r) = compare(text.as_bytes());
            assert_eq!((p, r), (1, 1), "{row}");
        }
    }

    #[test]
    fn blank_lines_and_empty_files() {
        // polars reads a blank line like `,,,,` (which the fold reports): counted, never accepted
        let (p, r) = compare(
            b"date,member_id,unit,measure,amount\n\n2024-07-01,M1,grocery,purchases,2.00\n\n",
        );
        assert_eq!((p, r), (2, 0));
        let (p, r) = compare(b"date,member_id,unit,measure,amount\n");
        assert_eq!((p, r), (0, 0));
        let (p, r) = compare(b"date,member_id,unit,measure,amount");
        assert_eq!((p, r), (0, 0));
    }

    #[test]
    fn header_problems_fall_back() {
        for text in [
            &b"date,member,unit,measure,amount\n"[..],
            b"date,unit,measure,amount\n",
            b"date,unit,measure,amount,member_id\n2024-07-01,grocery,purchases,1.00\n",
            b"",
        ] {
            let (_d, b) = book(text);
            assert!(activity(&b).is_err());
        }
    }

    #[test]
    fn non_utf8_is_not_a_wrong_answer() {
        let (_d, b) =
            book(b"date,member_id,unit,measure,amount\n2024-07-01,M\xff,grocery,purchases,1.00\n");
        if let Ok(fr) = activity(&b) {
            assert!(fr.problem_rows > 0);
        }
    }

    #[test]
    fn plain_decimal_matches_the_exact_parser() {
        for t in [
            "0",
            "7",
            "12.5",
            "12.50",
            "007.10",
            "1.2345",
            "999999999999.99",
        ] {
            assert_eq!(
                plain_decimal(t, 4).map(i128::from),
                patronage::parse_amount(t, 4).ok(),
                "{t}"
            );
        }
        for t in [
            "",
            ".5",
            "5.",
            "+5",
            "-5",
            "1.2.3",
            "1e3",
            " 1",
            "1.23456",
            "12345678901234567890",
        ] {
            assert_eq!(plain_decimal(t, 4), None, "{t}");
        }
    }
}
