//! The parallel byte scanner: the fastest way to aggregate a clean `patronage.csv` without quoted
//! fields (see [`scan`]).

use std::collections::HashMap;

use super::rows::{header, totals, Ctx, MEMBER_BITS, UM_BITS};
use super::{FastActivity, FastError};
use crate::book::Book;

/// The Fx hash of rustc (crate `rustc-hash`) for the hot maps of the scan: small integer keys
/// and long member ids. Not exposed to untrusted input in a way that matters: a crafted ledger
/// could only make its own aggregation slower.
type FxBuild = rustc_hash::FxBuildHasher;

/// Aggregates `patronage.csv` with a plain-Rust scan on every core: a reader thread cuts the
/// file into blocks of whole lines and worker threads validate and sum each block with the same
/// row checks as the polars path ([`Ctx`]); memory stays bounded by the blocks in flight and the
/// group state. Files with quoted fields are left to the polars path and the fold (error
/// [`FastError::Unsupported`]). The totals are identical to the fold's (differential tests).
///
/// The hot loop avoids what perf showed to dominate: member ids are found in an open-addressing
/// table that stores ids of up to 16 bytes inline with their membership dates (two word
/// comparisons, one cache line, no pointer chase); totals go to a dense array indexed by member
/// and unit measure instead of a hash map; separators are found with SIMD (`memchr`), and read
/// buffers are recycled.
pub fn scan(book: &Book) -> Result<FastActivity, FastError> {
    use std::sync::mpsc::{channel, sync_channel};
    use std::sync::Mutex;

    if std::env::var_os("COOPLEDGER_NO_SCAN").is_some_and(|v| v == "1") {
        return Err(FastError::Disabled);
    }
    let (fields, index) = header(book)?;
    let pos: Vec<usize> = index.iter().map(|p| p.unwrap_or(usize::MAX)).collect();
    if pos.contains(&usize::MAX) {
        return Err(FastError::Unsupported("a column is missing".into()));
    }
    let ctx = Ctx::new(book)?;
    let table = MemberTable::new(book);
    let file = book.display(crate::book::PATRONAGE);
    let mut f =
        std::fs::File::open(book.patronage_path()).map_err(|e| FastError::Io(file.clone(), e))?;
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
    let (parts, read): (Vec<Groups>, Result<(), FastError>) = std::thread::scope(|s| {
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
        let read = (|| -> Result<(), FastError> {
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
                    .map_err(|e| FastError::Io(file.clone(), e))?;
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
        return Err(FastError::Unsupported("a worker thread failed".into()));
    }
    let mut all = Groups::new(groups_cells, ctx.um_table.len());
    for part in parts {
        all.merge(part)?;
    }
    if all.quoted {
        return Err(FastError::Unsupported("quoted fields".into()));
    }
    let problem_rows = all.problems;
    let activity = totals(book, &ctx, all.into_groups()?.into_iter())?;
    Ok(FastActivity {
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

    fn merge(&mut self, other: Groups) -> Result<(), FastError> {
        self.problems += other.problems;
        self.quoted |= other.quoted;
        for (k, v) in other.spill {
            let e = self.spill.entry(k).or_insert(0);
            *e = e.checked_add(v).ok_or(FastError::Overflow)?;
        }
        for (k, (sum, n)) in other.sparse {
            let e = self.sparse.entry(k).or_insert((0, 0));
            e.0 = e.0.checked_add(sum).ok_or(FastError::Overflow)?;
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
                                    .ok_or(FastError::Overflow)?;
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
    fn into_groups(self) -> Result<Vec<(i64, i128, u64)>, FastError> {
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
                    .ok_or(FastError::Overflow)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
