//! Row checks shared by the fast engines ([`super::scan`] and [`super::polars`]) and the fold:
//! the amount parser, the validation context that turns a row into a packed group key, the header
//! check, and the sort of packed groups back into an [`Activity`].

use std::collections::HashMap;
use std::io::BufRead;

use rust_decimal::Decimal;

use super::{Activity, ActivityKey, ActivityTotal, FastError, COLS, MONEY_MEASURES, SCALE};
use crate::book::config::fiscal_year_of;
use crate::book::csvin;
use crate::book::Book;
use crate::diag::code;
use crate::diag::Diagnostics;

/// Bits of the packed key: | fiscal year (14+) | member index (32) | unit × measure (12) |.
pub(super) const UM_BITS: u32 = 12;
pub(super) const MEMBER_BITS: u32 = 32;

/// (unit, measure, flat index, is a money measure)
pub(super) type UnitMeasure = (Box<[u8]>, Box<[u8]>, u64, bool);

/// The validation context shared with the element-wise functions.
pub(super) struct Ctx {
    fye: (u32, u32),
    money_decimals: u32,
    /// member id -> index into `members`
    index: HashMap<String, u32>,
    /// (unit, measure, flat index, is a money measure) for the scan
    pub(super) um_table: Vec<UnitMeasure>,
    /// (joined, left) per member index, as days from the common era
    spans: Vec<(i32, i32)>,
    /// unit -> (its first flat index, its measures)
    units: Vec<(String, Vec<String>)>,
}

impl Ctx {
    pub(super) fn new(book: &Book) -> Result<Self, FastError> {
        use chrono::Datelike;
        let members = &book.members;
        if members.len() as u64 >= (1u64 << MEMBER_BITS) - 1 {
            return Err(FastError::Unsupported(format!("{} members", members.len())));
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
            return Err(FastError::Unsupported(format!("{flat} unit measures")));
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

    pub(super) fn nonmember(&self) -> u64 {
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
    pub(super) fn key(&self, date: &str, member: &str, unit: &str, measure: &str) -> Option<i64> {
        let (fy, day) = self.day(date)?;
        self.key_at(fy, day, member, unit, measure)
    }

    /// The fiscal year and day number of a date, or `None` when the fold would report it.
    pub(super) fn day(&self, date: &str) -> Option<(i32, i32)> {
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
        match parse_amount(t, max) {
            Ok(a) if a >= 0 => i64::try_from(a).ok(),
            _ => None,
        }
    }

    /// [`Ctx::amount_for`] on raw bytes: plain decimals without a UTF-8 check.
    #[inline]
    pub(super) fn amount_bytes(&self, b: &[u8], money: bool) -> Option<i64> {
        let max = if money { self.money_decimals } else { SCALE };
        if let Some(v) = plain_decimal_bytes(b, max.min(SCALE)) {
            return Some(v);
        }
        std::str::from_utf8(b)
            .ok()
            .and_then(|t| self.amount_for(t, money))
    }

    /// The amount of a row in units of 10^-SCALE, or `None` when the fold would report it.
    pub(super) fn amount(&self, text: &str, measure: &str) -> Option<i64> {
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
        match parse_amount(t, max) {
            Ok(a) if a >= 0 => i64::try_from(a).ok(),
            _ => None,
        }
    }
}

/// The fast path for `digits[.digits]` with at most `max` decimals and at most 18 digits:
/// the value in units of 10^-SCALE. Anything else is `None` and goes to the exact parser.
pub(super) fn plain_decimal(t: &str, max: u32) -> Option<i64> {
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
pub(super) fn header(book: &Book) -> Result<(usize, Vec<Option<usize>>), FastError> {
    let path = book.patronage_path();
    let file = book.display(crate::book::PATRONAGE);
    let f = std::fs::File::open(&path).map_err(|e| FastError::Io(file.clone(), e))?;
    let mut first = Vec::new();
    std::io::BufReader::new(f)
        .read_until(b'\n', &mut first)
        .map_err(|e| FastError::Io(file.clone(), e))?;
    if first.contains(&b'"') {
        return Err(FastError::Header(file, "quoted header".into()));
    }
    let fields = first.iter().filter(|b| **b == b',').count() + 1;
    let mut diags = Diagnostics::new();
    let table = csvin::open(first.as_slice(), &file, COLS, &mut diags);
    match table {
        Some(t) if diags.is_empty() => {
            if t.index.iter().any(Option::is_none) {
                // without member_id the fold accepts no row; leave that to the fold
                return Err(FastError::Header(file, "no member_id column".into()));
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
                return Err(FastError::Header(
                    file,
                    "member_id is the last column".into(),
                ));
            }
            Ok((fields, t.index))
        }
        _ => Err(FastError::Header(file, "problems in the header".into())),
    }
}

pub(super) fn unpack(key: i64) -> (i32, u64, u64) {
    let k = key as u64;
    let fy = (k >> (MEMBER_BITS + UM_BITS)) as i32;
    let m = (k >> UM_BITS) & ((1u64 << MEMBER_BITS) - 1);
    let um = k & ((1u64 << UM_BITS) - 1);
    (fy, m, um)
}

/// The sorted activity from packed group keys with their sums and row counts.
///
/// Sorted with integer keys, not strings: members are sorted by id in the book (the non-member
/// "" comes first), and the unit measures are ranked by (unit, measure) once.
pub(super) fn totals(
    book: &Book,
    ctx: &Ctx,
    groups: impl Iterator<Item = (i64, i128, u64)>,
) -> Result<Activity, FastError> {
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
            .ok_or_else(|| FastError::Unsupported("bad unit index".into()))?;
        rows.push(((fy, member_rank, r), um, sum, n));
    }
    rows.sort_unstable_by_key(|r| r.0);
    let mut totals: Vec<ActivityTotal> = Vec::with_capacity(rows.len());
    let mut last: Option<(i32, u64, u64)> = None;
    for ((fy, member_rank, r), um, sum, n) in rows {
        if last == Some((fy, member_rank, r)) {
            if let Some(t) = totals.last_mut() {
                t.amount = t.amount.checked_add(sum).ok_or(FastError::Overflow)?;
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
                .ok_or_else(|| FastError::Unsupported("bad member index".into()))?
        };
        let (unit, measure) = flat
            .get(um as usize)
            .ok_or_else(|| FastError::Unsupported("bad unit index".into()))?;
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

/// Parses a patronage amount into units of 10^-SCALE. `Err` holds the diagnostic code and hint.
pub fn parse_amount(t: &str, max_decimals: u32) -> Result<i128, (&'static str, String)> {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let well_formed = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|b| *b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return Err((
            code::E0203,
            "write amounts as plain decimals, e.g. 12.50".into(),
        ));
    }
    let d = Decimal::from_str_exact(t).map_err(|_| {
        (
            code::E0205,
            "amounts are limited to about 28 significant digits".to_string(),
        )
    })?;
    let d = if d.scale() > max_decimals {
        d.normalize()
    } else {
        d
    };
    if d.scale() > max_decimals {
        return Err((
            code::E0204,
            format!("round the amount to {max_decimals} decimals"),
        ));
    }
    let mut x = d;
    x.rescale(SCALE);
    if x.scale() != SCALE {
        return Err((
            code::E0205,
            "amounts are limited to about 28 significant digits".into(),
        ));
    }
    Ok(x.mantissa())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12.5", 2), Ok(125_000));
        assert_eq!(parse_amount("7.25", 4), Ok(72_500));
        assert_eq!(parse_amount("1.000", 2), Ok(10_000));
        assert_eq!(parse_amount("1.005", 2).unwrap_err().0, code::E0204);
        assert_eq!(parse_amount("1e3", 2).unwrap_err().0, code::E0203);
        assert_eq!(parse_amount("abc", 2).unwrap_err().0, code::E0203);
        assert_eq!(
            parse_amount("999999999999999999999999999999", 2)
                .unwrap_err()
                .0,
            code::E0205
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
                parse_amount(t, 4).ok(),
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
