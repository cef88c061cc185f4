//! The cross-check of a book's `uncashed.csv` against the sealed records (E0314): every uncashed
//! payment belongs to a sealed redemption or close that paid at least that much to the member.
//! The sealed files are read through the one hash-checked reader. [`load_book`] and
//! [`check_book`] are `book::load` and `book::check` with this check added.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use rust_decimal::Decimal;

use super::is_sealed;
use super::read::{read_close, sealed_redemptions};

use crate::book::uncashed::{Source, Uncashed};
use crate::book::{display_path, Book, UNCASHED};
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::Money;

/// Loads and validates the book at `dir` like [`crate::book::load`], and checks its uncashed
/// payments against the sealed records: the book is returned only when there is no error.
pub fn load_book(dir: &Path) -> (Option<Book>, Diagnostics) {
    let (book, mut diags) = crate::book::load_partial(dir);
    if let Some(b) = &book {
        add_uncashed(b, &mut diags);
    }
    if diags.has_errors() {
        return (None, diags);
    }
    (book, diags)
}

/// [`crate::book::check`] (every file and patronage row) with the uncashed payments checked
/// against the sealed records.
pub fn check_book(dir: &Path) -> (Option<Book>, Diagnostics) {
    let (book, mut diags) = crate::book::load_partial(dir);
    if let Some(b) = &book {
        add_uncashed(b, &mut diags);
        crate::book::check_patronage_rows(b, &mut diags);
    }
    if diags.has_errors() {
        return (None, diags);
    }
    (book, diags)
}

/// Uncashed payments must match payments recorded in the sealed closes and redemptions.
fn add_uncashed(b: &Book, diags: &mut Diagnostics) {
    if !b.uncashed.is_empty() {
        diags.extend(check_uncashed(b));
    }
}

/// What the sealed records say each member was paid in a year, from one source.
type Paid = BTreeMap<String, Decimal>;

fn sealed_paid(book: &Book, fy: i32, source: Source) -> anyhow::Result<Option<Paid>> {
    if !is_sealed(&book.dir, fy) {
        return Ok(None);
    }
    match source {
        Source::Redemption => Ok(sealed_redemptions(&book.dir, fy)?.map(|s| s.cash_paid())),
        Source::Patronage => {
            let c = read_close(&book.dir, fy)?;
            let mut out = Paid::new();
            for m in c.record.members {
                let e = out.entry(m.member_id).or_default();
                *e = e.checked_add(m.cash).with_context(|| {
                    format!("the cash amounts of the sealed close of fiscal year {fy} overflow")
                })?;
            }
            Ok(Some(out))
        }
    }
}

/// Checks every uncashed payment against the sealed records (E0314): the year's redemptions (or
/// close) are sealed, and a member's uncashed amounts of one year and source do not exceed what
/// was paid to them.
pub fn check_uncashed(book: &Book) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let file = display_path(&book.dir, UNCASHED);
    let mut rows: Vec<&Uncashed> = book.uncashed.iter().collect();
    rows.sort_by_key(|u| (u.fiscal_year, u.source, u.line));
    if let Err(e) = super::verify::check_sealed(&book.dir) {
        // reported once, on the first row that reads the altered file, else of its year
        let altered = e.downcast_ref::<super::verify::Altered>();
        let reads = |u: &&&Uncashed| {
            altered.is_some_and(|a| {
                a.fiscal_year == Some(u.fiscal_year)
                    && a.file.ends_with(match u.source {
                        Source::Redemption => super::REDEMPTIONS_JSON,
                        Source::Patronage => super::CLOSE_JSON,
                    })
            })
        };
        let of_year =
            |u: &&&Uncashed| altered.is_some_and(|a| a.fiscal_year == Some(u.fiscal_year));
        if let Some(u) = rows
            .iter()
            .find(reads)
            .or_else(|| rows.iter().find(of_year))
            .or_else(|| rows.first())
        {
            diags.push(unreadable_year(
                &file,
                u.line,
                u.columns.0,
                u.fiscal_year,
                &e,
            ));
        }
        return diags;
    }
    let mut cache: BTreeMap<(i32, Source), Option<Paid>> = BTreeMap::new();
    let mut used: BTreeMap<(i32, Source, &str), Decimal> = BTreeMap::new();
    let mut unreadable = std::collections::BTreeSet::new();
    for u in rows {
        let key = (u.fiscal_year, u.source);
        if let std::collections::btree_map::Entry::Vacant(slot) = cache.entry(key) {
            match sealed_paid(book, u.fiscal_year, u.source) {
                Ok(p) => {
                    slot.insert(p);
                }
                Err(e) => {
                    diags.push(unreadable_year(
                        &file,
                        u.line,
                        u.columns.0,
                        u.fiscal_year,
                        &e,
                    ));
                    slot.insert(None);
                    unreadable.insert(key);
                    continue;
                }
            }
        }
        if unreadable.contains(&key) {
            continue; // reported once, on the first row of that year and source
        }
        let what = match u.source {
            Source::Redemption => "redemptions",
            Source::Patronage => "close",
        };
        let Some(paid) = cache.get(&key).and_then(|p| p.as_ref()) else {
            diags.push(
                Diagnostic::error(crate::diag::code::E0314, &file, u.line, u.columns.0)
                    .msg(format!(
                        "no sealed {what} of fiscal year {} paid this {}",
                        u.fiscal_year,
                        u.source.name()
                    ))
                    .hint(match u.source {
                        Source::Redemption => "an uncashed redemption belongs to a year whose redemptions `coopledger revolve` sealed; check `fiscal_year` and `source`",
                        Source::Patronage => "an uncashed patronage refund belongs to a sealed close; check `fiscal_year` and `source`",
                    }),
            );
            continue;
        };
        let got = paid.get(&u.member_id).copied().unwrap_or_default();
        let e = used
            .entry((u.fiscal_year, u.source, &u.member_id))
            .or_default();
        *e = e.checked_add(u.amount.amount()).unwrap_or(Decimal::MAX);
        if *e > got {
            let got = Money::from_decimal(got, book.config.currency)
                .map(|m| m.to_string())
                .unwrap_or_else(|_| got.to_string());
            diags.push(
                Diagnostic::error(crate::diag::code::E0314, &file, u.line, u.columns.1)
                    .msg(format!(
                        "`{}` has {} uncashed from the {} of fiscal year {}, more than the {got} the sealed {what} paid them",
                        u.member_id, e, u.source.name(), u.fiscal_year
                    ))
                    .hint("check the amount, `fiscal_year` and `source` against the sealed records"),
            );
        }
    }
    diags
}
/// E0001 at a row of `uncashed.csv` whose sealed year cannot be read.
fn unreadable_year(file: &str, line: u64, column: u64, fy: i32, e: &anyhow::Error) -> Diagnostic {
    Diagnostic::error(crate::diag::code::E0001, file, line, column)
        .msg(format!(
            "the sealed records of fiscal year {fy} cannot be read: {e:#}"
        ))
        .hint("run `coopledger verify` on the book")
}
