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

use std::collections::HashMap;
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

/// The Fx hash of rustc (crate `rustc-hash`) for the hot maps of the scan: small integer keys
/// and long member ids. Not exposed to untrusted input in a way that matters: a crafted ledger
/// could only make its own aggregation slower.
type FxBuild = rustc_hash::FxBuildHasher;

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

    /// [`Ctx::amount_for`] on raw bytes: plain decimals without a UTF-8 check.
    #[inline]
    fn amount_bytes(&self, b: &[u8], money: bool) -> Option<i64> {
        let max = if money { self.money_decimals } else { SCALE };
        if let Some(v) = plain_decimal_bytes(b, max.min(SCALE)) {
            return Some(v);
        }
        std::str::from_utf8(b)
            .ok()
            .and_then(|t| self.amount_for(t, money))
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
    plain_decimal_bytes(t.as_bytes(), max)
}

/// [`plain_decimal`] on bytes.
#[inline]
fn plain_decimal_bytes(b: &[u8], max: u32) -> Option<i64> {
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
///
/// The hot loop avoids what perf showed to dominate: member ids are found in an open-addressing
/// table that stores ids of up to 16 bytes inline with their membership dates (two word
/// comparisons, one cache line, no pointer chase); totals go to a dense array indexed by member
/// and unit measure instead of a hash map; separators are found with SIMD (`memchr`), and read
/// buffers are recycled.
pub fn scan(book: &Book) -> Result<FrameResult, FrameError> {
    use std::sync::mpsc::{channel, sync_channel};
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
    let table = MemberTable::new(book);
    let file = book.display(crate::book::PATRONAGE);
    let mut f =
        std::fs::File::open(book.patronage_path()).map_err(|e| FrameError::Io(file.clone(), e))?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    const BLOCK: usize = 2 << 20;

    let (tx, rx) = sync_channel::<Vec<u8>>(workers * 2);
    let rx = Mutex::new(rx);
    // used buffers come back to the reader
    let (back_tx, back_rx) = channel::<Vec<u8>>();
    let groups_cells = (book.members.len() + 1) * ctx.um_table.len();
    let (parts, read): (Vec<Groups>, Result<(), FrameError>) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, ctx, pos, table, back) = (&rx, &ctx, &pos, &table, back_tx.clone());
                s.spawn(move || {
                    let mut part = Groups::new(groups_cells, ctx.um_table.len());
                    let mut bounds = vec![0usize; fields + 1];
                    loop {
                        let block = match rx.lock() {
                            Ok(r) => match r.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            },
                            Err(_) => break,
                        };
                        scan_block(&block, &mut bounds, pos, ctx, table, &mut part);
                        let _ = back.send(block);
                    }
                    part
                })
            })
            .collect();
        drop(back_tx);
        // the reader: whole lines only, the header line skipped
        let read = (|| -> Result<(), FrameError> {
            let mut carry: Vec<u8> = Vec::new();
            let mut first = true;
            loop {
                let mut buf = back_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BLOCK + carry.len()));
                buf.clear();
                buf.extend_from_slice(&carry);
                carry.clear();
                let start = buf.len();
                buf.resize(start + BLOCK, 0);
                let n = read_full(&mut f, &mut buf[start..])
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
                    match memchr::memchr(b'\n', &buf) {
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
                match memchr::memrchr(b'\n', &buf) {
                    Some(i) => {
                        carry.extend_from_slice(&buf[i + 1..]);
                        buf.truncate(i + 1);
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
    let mut all = Groups::new(groups_cells, ctx.um_table.len());
    for part in parts {
        all.merge(part)?;
    }
    if all.quoted {
        return Err(FrameError::Unsupported("quoted fields".into()));
    }
    let problem_rows = all.problems;
    let activity = totals(book, &ctx, all.into_groups()?.into_iter())?;
    Ok(FrameResult {
        activity,
        problem_rows,
    })
}

/// Reads until `buf` is full or the file ends (a short `read` is not the end).
fn read_full(f: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Member ids of up to 16 bytes, stored inline (zero-padded words) with their index and
/// membership dates in an open-addressing table with linear probing; longer ids go to a map.
struct MemberTable {
    slots: Vec<Slot>,
    shift: u32,
    long: HashMap<Box<[u8]>, u32, FxBuild>,
    spans: Vec<(i32, i32)>,
}

/// One member of [`MemberTable`]; `len == 0` marks an empty slot (ids are never empty).
#[derive(Clone, Copy, Default)]
struct Slot {
    k0: u64,
    k1: u64,
    len: u32,
    idx: u32,
    joined: i32,
    left: i32,
}

/// The two zero-padded little-endian words of an id of at most 16 bytes.
#[inline]
fn words(b: &[u8]) -> (u64, u64) {
    let mut buf = [0u8; 16];
    buf[..b.len()].copy_from_slice(b);
    let (a, c) = buf.split_at(8);
    (
        u64::from_le_bytes(a.try_into().unwrap_or([0; 8])),
        u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
    )
}

/// The words of the field `block[s..s + len]` (len ≤ 16), read straight from the block when 16
/// bytes are available there.
#[inline]
fn field_words(block: &[u8], s: usize, len: usize) -> (u64, u64) {
    match block.get(s..s + 16) {
        Some(w) => {
            let a = u64::from_le_bytes(w[..8].try_into().unwrap_or([0; 8]));
            let c = u64::from_le_bytes(w[8..].try_into().unwrap_or([0; 8]));
            let mask = |bits: usize| -> u64 {
                if bits >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                }
            };
            (
                a & mask(8 * len.min(8)),
                c & mask(8 * len.saturating_sub(8)),
            )
        }
        None => words(&block[s..s + len]),
    }
}

#[inline]
fn word_hash(k0: u64, k1: u64) -> u64 {
    let h = (k0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 29)
}

impl MemberTable {
    fn new(book: &Book) -> Self {
        use chrono::Datelike;
        let n = book.members.len();
        let cap = (2 * n).next_power_of_two().max(16);
        let shift = 64 - cap.trailing_zeros();
        let mut t = MemberTable {
            slots: vec![Slot::default(); cap],
            shift,
            long: HashMap::default(),
            spans: Vec::with_capacity(n),
        };
        for (i, m) in book.members.iter().enumerate() {
            let joined = m.joined.num_days_from_ce();
            let left = m.left.map(|l| l.num_days_from_ce()).unwrap_or(i32::MAX);
            t.spans.push((joined, left));
            let id = m.id.as_bytes();
            if id.is_empty() {
                continue;
            }
            if id.len() > 16 {
                t.long.insert(id.into(), i as u32);
                continue;
            }
            let (k0, k1) = words(id);
            let mut at = (word_hash(k0, k1) >> t.shift) as usize;
            while t.slots[at].len != 0 {
                at = (at + 1) & (cap - 1);
            }
            t.slots[at] = Slot {
                k0,
                k1,
                len: id.len() as u32,
                idx: i as u32,
                joined,
                left,
            };
        }
        t
    }

    /// The member index of an id longer than 16 bytes if the member exists and `day` falls
    /// within the membership.
    fn find_long(&self, id: &[u8], day: i32) -> Option<u32> {
        let i = *self.long.get(id)?;
        let (joined, left) = self.spans[i as usize];
        (day >= joined && day <= left).then_some(i)
    }

    /// The member index of the id with words `k0, k1` and length `len` (1 to 16) if the member
    /// exists and `day` falls within the membership.
    #[inline]
    fn find_words(&self, k0: u64, k1: u64, len: u32, day: i32) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut at = (word_hash(k0, k1) >> self.shift) as usize;
        loop {
            let slot = &self.slots[at];
            if slot.len == 0 {
                return None;
            }
            if slot.k0 == k0 && slot.k1 == k1 && slot.len == len {
                return (day >= slot.joined && day <= slot.left).then_some(slot.idx);
            }
            at = (at + 1) & mask;
        }
    }
}

/// One group's running total: a 64-bit sum (the rare overflow spills to [`Groups::spill`]) and
/// its row count.
#[derive(Clone, Copy, Default)]
struct Cell {
    sum: i64,
    rows: u64,
}

/// The group state of a scan: per fiscal year, a dense array over (member, unit measure) when
/// that is small enough, else a hash map by packed key.
struct Groups {
    cells: usize,
    um: usize,
    dense: Vec<(i32, Vec<Cell>)>,
    /// the index in `dense` of the last year added to
    last: Option<usize>,
    spill: HashMap<i64, i128, FxBuild>,
    sparse: HashMap<i64, (i128, u64), FxBuild>,
    problems: u64,
    quoted: bool,
}

/// At most this many dense cells per fiscal year (16 bytes each); bigger books use the map.
const DENSE_CELLS: usize = 1 << 22;

fn pack(fy: i32, m: u64, um: u64) -> i64 {
    ((fy as i64) << (MEMBER_BITS + UM_BITS)) | ((m << UM_BITS) | um) as i64
}

impl Groups {
    fn new(cells: usize, um: usize) -> Self {
        Groups {
            cells,
            um,
            dense: Vec::new(),
            last: None,
            spill: HashMap::default(),
            sparse: HashMap::default(),
            problems: 0,
            quoted: false,
        }
    }

    #[inline]
    fn add(&mut self, fy: i32, m: u64, um: u64, a: i64) {
        if self.cells > DENSE_CELLS {
            let e = self.sparse.entry(pack(fy, m, um)).or_insert((0, 0));
            e.0 += i128::from(a);
            e.1 += 1;
            return;
        }
        let y = match self.last.filter(|&y| self.dense[y].0 == fy) {
            Some(y) => y,
            None => match self.dense.iter().position(|(y, _)| *y == fy) {
                Some(y) => y,
                None => {
                    self.dense.push((fy, vec![Cell::default(); self.cells]));
                    self.dense.len() - 1
                }
            },
        };
        self.last = Some(y);
        let i = m as usize * self.um + um as usize;
        let Some(c) = self.dense[y].1.get_mut(i) else {
            self.problems += 1;
            return;
        };
        c.rows += 1;
        match c.sum.checked_add(a) {
            Some(v) => c.sum = v,
            None => {
                *self.spill.entry(pack(fy, m, um)).or_insert(0) += i128::from(c.sum);
                c.sum = a;
            }
        }
    }

    fn merge(&mut self, other: Groups) -> Result<(), FrameError> {
        self.problems += other.problems;
        self.quoted |= other.quoted;
        for (k, v) in other.spill {
            let e = self.spill.entry(k).or_insert(0);
            *e = e.checked_add(v).ok_or(FrameError::Overflow)?;
        }
        for (k, (sum, n)) in other.sparse {
            let e = self.sparse.entry(k).or_insert((0, 0));
            e.0 = e.0.checked_add(sum).ok_or(FrameError::Overflow)?;
            e.1 += n;
        }
        for (fy, cells) in other.dense {
            match self.dense.iter_mut().find(|(y, _)| *y == fy) {
                None => self.dense.push((fy, cells)),
                Some((_, mine)) => {
                    for (i, c) in cells.into_iter().enumerate() {
                        if c.rows == 0 {
                            continue;
                        }
                        let Some(t) = mine.get_mut(i) else { continue };
                        t.rows += c.rows;
                        match t.sum.checked_add(c.sum) {
                            Some(v) => t.sum = v,
                            None => {
                                let k = pack(fy, (i / self.um) as u64, (i % self.um) as u64);
                                let e = self.spill.entry(k).or_insert(0);
                                *e = e
                                    .checked_add(i128::from(t.sum))
                                    .ok_or(FrameError::Overflow)?;
                                t.sum = c.sum;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// (packed key, exact sum, rows) of every group with rows.
    fn into_groups(self) -> Result<Vec<(i64, i128, u64)>, FrameError> {
        let mut out: Vec<(i64, i128, u64)> = self
            .sparse
            .into_iter()
            .map(|(k, (s, n))| (k, s, n))
            .collect();
        for (fy, cells) in self.dense {
            for (i, c) in cells.into_iter().enumerate() {
                if c.rows == 0 {
                    continue;
                }
                let k = pack(fy, (i / self.um) as u64, (i % self.um) as u64);
                let extra = self.spill.get(&k).copied().unwrap_or(0);
                let sum = extra
                    .checked_add(i128::from(c.sum))
                    .ok_or(FrameError::Overflow)?;
                out.push((k, sum, c.rows));
            }
        }
        Ok(out)
    }
}

/// A parsed row waiting for its member lookup and its addition (see [`scan_block`]).
#[derive(Clone, Copy, Default)]
struct Pending {
    k0: u64,
    k1: u64,
    /// the id's length; 0 when `member` is already resolved (non-member or long id)
    len: u32,
    member: u32,
    um: u32,
    fy: i32,
    day: i32,
    amount: i64,
}

/// Rows parsed before their member lookups are done: the lookups of a batch are independent
/// loads, so the processor overlaps their cache misses instead of waiting for each in turn.
const BATCH: usize = 64;

/// Validates and sums the rows of one block of whole lines. `bounds` has room for the end
/// offsets of `fields` fields plus one (a line with more fields is a problem row).
fn scan_block(
    block: &[u8],
    bounds: &mut [usize],
    pos: &[usize],
    ctx: &Ctx,
    table: &MemberTable,
    part: &mut Groups,
) {
    if memchr::memchr(b'"', block).is_some() {
        part.quoted = true;
        return;
    }
    let fields = bounds.len() - 1;
    let nonmember = ctx.nonmember() as u32;
    let mut batch = [Pending::default(); BATCH];
    let mut nb = 0usize;
    // the date of the previous line, and its checked form
    let mut last_date: &[u8] = b"";
    let mut last_day: Option<(i32, i32)> = None;
    // the (unit, measure) of the previous line, and its flat index and money flag
    let mut last_um: (&[u8], &[u8], Option<(u64, bool)>) = (b"", b"", None);
    // field k of the current line is block[start_k..bounds[k]], start_0 = line start and
    // start_k = bounds[k - 1] + 1
    let mut line_start = 0usize;
    let mut nf = 0usize;
    let field = |bounds: &[usize], line_start: usize, k: usize| -> (usize, usize) {
        let s = if k == 0 {
            line_start
        } else {
            bounds[k - 1] + 1
        };
        (s, bounds[k])
    };
    let seps = memchr::memchr2_iter(b',', b'\n', block).chain(std::iter::once(block.len()));
    for at in seps {
        let end_of_line = at == block.len() || block[at] == b'\n';
        if !end_of_line {
            if nf < fields {
                bounds[nf] = at;
            }
            nf += 1;
            continue;
        }
        // the line block[line_start..at], without a trailing CR
        let mut le = at;
        if le > line_start && block[le - 1] == b'\r' {
            le -= 1;
        }
        let n = nf + 1;
        let start = line_start;
        line_start = at + 1;
        nf = 0;
        if le == start {
            continue; // a blank line, skipped as the fold skips it
        }
        if n != fields {
            part.problems += 1;
            continue;
        }
        bounds[fields - 1] = le;
        let (ds, de) = field(bounds, start, pos[0]);
        let date = &block[ds..de];
        if !same(date, last_date) {
            last_date = date;
            last_day = std::str::from_utf8(date).ok().and_then(|d| ctx.day(d));
        }
        let (us, ue) = field(bounds, start, pos[2]);
        let (ms, me) = field(bounds, start, pos[3]);
        let (unit, measure) = (block[us..ue].trim_ascii(), block[ms..me].trim_ascii());
        if !same(unit, last_um.0) || !same(measure, last_um.1) {
            let found = ctx
                .um_table
                .iter()
                .find(|(u, m, _, _)| same(u, unit) && same(m, measure))
                .map(|(_, _, i, money)| (*i, *money));
            last_um = (unit, measure, found);
        }
        let (Some((fy, day)), Some((um, money))) = (last_day, last_um.2) else {
            part.problems += 1;
            continue;
        };
        let (as_, ae) = field(bounds, start, pos[4]);
        let Some(amount) = ctx.amount_bytes(&block[as_..ae], money) else {
            part.problems += 1;
            continue;
        };
        let (mut s, mut e) = field(bounds, start, pos[1]);
        while s < e && block[s].is_ascii_whitespace() {
            s += 1;
        }
        while e > s && block[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        let mut p = Pending {
            um: um as u32,
            fy,
            day,
            amount,
            ..Pending::default()
        };
        if s == e {
            p.member = nonmember;
        } else if e - s > 16 {
            match table.find_long(&block[s..e], day) {
                Some(i) => p.member = i,
                None => {
                    part.problems += 1;
                    continue;
                }
            }
        } else {
            (p.k0, p.k1) = field_words(block, s, e - s);
            p.len = (e - s) as u32;
        }
        batch[nb] = p;
        nb += 1;
        if nb == BATCH {
            flush(&mut batch[..nb], table, part);
            nb = 0;
        }
    }
    flush(&mut batch[..nb], table, part);
}

/// Resolves the member lookups of a batch, then adds its rows to the groups.
fn flush(batch: &mut [Pending], table: &MemberTable, part: &mut Groups) {
    for p in batch.iter_mut() {
        if p.len != 0 {
            match table.find_words(p.k0, p.k1, p.len, p.day) {
                Some(i) => p.member = i,
                None => p.member = u32::MAX,
            }
        }
    }
    for p in batch.iter() {
        if p.member == u32::MAX {
            part.problems += 1;
        } else {
            part.add(p.fy, u64::from(p.member), u64::from(p.um), p.amount);
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
///
/// Sorted with integer keys, not strings: members are sorted by id in the book (the non-member
/// "" comes first), and the unit measures are ranked by (unit, measure) once.
fn totals(
    book: &Book,
    ctx: &Ctx,
    groups: impl Iterator<Item = (i64, i128, u64)>,
) -> Result<Activity, FrameError> {
    let flat: Vec<(&str, &str)> = ctx
        .units
        .iter()
        .flat_map(|(u, ms)| ms.iter().map(move |m| (u.as_str(), m.as_str())))
        .collect();
    let mut order: Vec<usize> = (0..flat.len()).collect();
    order.sort_by_key(|&i| flat[i]);
    let mut um_rank = vec![0u64; flat.len()];
    for (rank, &i) in order.iter().enumerate() {
        um_rank[i] = rank as u64;
    }
    let nonmember = ctx.nonmember();
    // ((fiscal year, member rank, unit-measure rank), unit-measure index, sum, rows)
    type Row = ((i32, u64, u64), u64, i128, u64);
    let mut rows: Vec<Row> = Vec::new();
    for (key, sum, n) in groups {
        let (fy, m, um) = unpack(key);
        let member_rank = if m == nonmember { 0 } else { m + 1 };
        let r = *um_rank
            .get(um as usize)
            .ok_or_else(|| FrameError::Unsupported("bad unit index".into()))?;
        rows.push(((fy, member_rank, r), um, sum, n));
    }
    rows.sort_unstable_by_key(|r| r.0);
    let mut totals: Vec<ActivityTotal> = Vec::with_capacity(rows.len());
    let mut last: Option<(i32, u64, u64)> = None;
    for ((fy, member_rank, r), um, sum, n) in rows {
        if last == Some((fy, member_rank, r)) {
            if let Some(t) = totals.last_mut() {
                t.amount = t.amount.checked_add(sum).ok_or(FrameError::Overflow)?;
                t.rows += n;
            }
            continue;
        }
        last = Some((fy, member_rank, r));
        let member_id = if member_rank == 0 {
            String::new()
        } else {
            book.members
                .get(member_rank as usize - 1)
                .map(|m| m.id.clone())
                .ok_or_else(|| FrameError::Unsupported("bad member index".into()))?
        };
        let (unit, measure) = flat
            .get(um as usize)
            .ok_or_else(|| FrameError::Unsupported("bad unit index".into()))?;
        totals.push(ActivityTotal {
            key: ActivityKey {
                fiscal_year: fy,
                member_id,
                unit: unit.to_string(),
                measure: measure.to_string(),
            },
            amount: sum,
            rows: n,
        });
    }
    Ok(Activity { totals })
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

    /// The dense totals and the map used for books too big for them give the same groups,
    /// including sums that overflow 64 bits and merges of several workers' parts.
    #[test]
    fn dense_and_sparse_groups_agree() {
        let (members, um) = (5u64, 3u64);
        let cells = ((members + 1) * um) as usize;
        let rows: Vec<(i32, u64, u64, i64)> = (0..400u64)
            .map(|i| {
                let big = if i % 50 == 0 {
                    i64::MAX / 3
                } else {
                    (i * 7919 % 1000) as i64
                };
                (2024 + (i % 3) as i32, i % (members + 1), i % um, big)
            })
            .collect();
        let run = |cells_arg: usize| {
            let mut parts: Vec<Groups> = (0..3)
                .map(|_| Groups::new(cells_arg, um as usize))
                .collect();
            for (n, (fy, m, u, a)) in rows.iter().enumerate() {
                parts[n % 3].add(*fy, *m, *u, *a);
            }
            let mut all = Groups::new(cells_arg, um as usize);
            for p in parts {
                all.merge(p).unwrap();
            }
            let mut g = all.into_groups().unwrap();
            g.sort();
            g
        };
        let dense = run(cells);
        let sparse = run(DENSE_CELLS + 1);
        assert_eq!(dense, sparse);
        assert!(dense.iter().any(|(_, s, _)| *s > i128::from(i64::MAX)));
        assert_eq!(
            dense.iter().map(|(_, _, n)| n).sum::<u64>(),
            rows.len() as u64
        );
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
