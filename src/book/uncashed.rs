//! `uncashed.csv` (optional): payments the co-op issued that were never cashed: a redemption
//! sealed by `coopledger revolve` or the cash part of a patronage refund of a sealed close.
//! `coopledger report BOOK unclaimed --year FY` lists them with their age and, under the
//! `[redemption]` unclaimed policy, which are due for notice or forfeiture (docs/REDEMPTION.md).
//!
//! Columns: `member_id`, `fiscal_year` (of the sealed redemption or close that paid it), `source`
//! (`redemption`, the default, or `patronage`), `amount` (> 0), `issued` (the day the check was
//! issued; default the last day of `fiscal_year`), `note`. Every row must be backed by the sealed
//! records: the year is sealed and the member's uncashed amounts of a year and source do not
//! exceed what was paid to them (E0314).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::csvin::{opt, req, Col};
use super::{display_path, member_ref, open_table, Book, Config, Member, UNCASHED};
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::Money;

/// What an uncashed payment paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// a redemption (or leaver debt installment) sealed by `coopledger revolve`
    Redemption,
    /// the cash part of a patronage refund of a sealed close
    Patronage,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Redemption => "redemption",
            Source::Patronage => "patronage",
        }
    }
}

/// One row of `uncashed.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncashed {
    pub member_id: String,
    pub fiscal_year: i32,
    pub source: Source,
    /// > 0
    pub amount: Money,
    /// the day the payment was issued (default: the last day of `fiscal_year`)
    pub issued: NaiveDate,
    pub note: String,
    pub line: u64,
    /// 1-based columns of `fiscal_year` and `amount`, for diagnostics
    pub columns: (u64, u64),
}

const COLS: &[Col] = &[
    req("member_id"),
    req("fiscal_year"),
    opt("source"),
    req("amount"),
    opt("issued"),
    opt("note"),
];

pub(super) fn load(
    dir: &Path,
    config: &Config,
    ids: &BTreeMap<&str, &Member>,
    diags: &mut Diagnostics,
) -> Vec<Uncashed> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, UNCASHED, COLS, false, diags) else {
        return out;
    };
    t.for_each(COLS, diags, |row, d| {
        let id = row.required(0, d);
        let fy = row.int(1, d).and_then(|y| {
            if (1900..=2200).contains(&y) {
                Some(y as i32)
            } else {
                d.push(row.problem(
                    1,
                    "E0203",
                    format!("fiscal year {y} is out of range"),
                    "a fiscal year is named by the calendar year it ends in, e.g. 2025".into(),
                ));
                None
            }
        });
        let source = match row.text(2, d) {
            None | Some("") => Some(Source::Redemption),
            Some(_) => row
                .choice(2, &["redemption", "patronage"], d)
                .map(|s| match s {
                    "patronage" => Source::Patronage,
                    _ => Source::Redemption,
                }),
        };
        let amount = row.money(3, config.currency, false, d);
        let issued = row.opt_date(4, d);
        let note = row.text(5, d).unwrap_or("").to_string();
        if amount.is_some_and(|a| a.is_zero()) {
            d.push(row.problem(
                3,
                "E0314",
                "an uncashed payment of zero".into(),
                "write the amount of the check that was not cashed; remove the row otherwise"
                    .into(),
            ));
            return;
        }
        let bounds = fy.and_then(|y| config.fiscal_year_bounds(y));
        let issued = match (issued, bounds) {
            (Some(Some(i)), Some((start, _))) if i < start => {
                d.push(row.problem(
                    4,
                    "E0314",
                    format!(
                        "issued on {i}, before fiscal year {} began ({start})",
                        fy.unwrap_or_default()
                    ),
                    "a payment of a fiscal year is issued during or after that year; check `issued` and `fiscal_year`".into(),
                ));
                None
            }
            (Some(Some(i)), Some(_)) => Some(i),
            (Some(None), Some((_, end))) => Some(end),
            _ => None,
        };
        let known = id.is_some_and(|id| member_ref(row, 0, id, ids, d));
        if let (true, Some(id), Some(fy), Some(source), Some(amount), Some(issued)) =
            (known, id, fy, source, amount, issued)
        {
            out.push(Uncashed {
                member_id: id.to_string(),
                fiscal_year: fy,
                source,
                amount,
                issued,
                note,
                line: row.line,
                columns: (row.col(1), row.col(3)),
            });
        }
    });
    out
}

/// The member's cash part of the patronage refund in a sealed `close.json`.
#[derive(serde::Deserialize)]
struct CloseCash {
    members: Vec<MemberCash>,
}

#[derive(serde::Deserialize)]
struct MemberCash {
    member_id: String,
    cash: String,
}

/// What the sealed records say each member was paid in a year, from one source.
type Paid = BTreeMap<String, Decimal>;

fn sealed_paid(book: &Book, fy: i32, source: Source) -> Result<Option<Paid>, String> {
    let dir = book.dir.join(crate::seal::CLOSES).join(fy.to_string());
    if !dir.join(crate::seal::MANIFEST).exists() {
        return Ok(None);
    }
    match source {
        Source::Redemption => {
            let Some(s) =
                crate::seal::sealed_redemptions(&book.dir, fy).map_err(|e| format!("{e:#}"))?
            else {
                return Ok(None);
            };
            Ok(Some(s.cash_paid()))
        }
        Source::Patronage => {
            let p = dir.join(crate::seal::CLOSE_JSON);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
            let c: CloseCash = serde_json::from_str(&text)
                .map_err(|e| format!("`{}` is not a sealed close: {e}", p.display()))?;
            let mut out = Paid::new();
            for m in c.members {
                let cash: Decimal = m.cash.parse().map_err(|_| {
                    format!(
                        "`{}` has a cash amount `{}` that is not a number",
                        p.display(),
                        m.cash
                    )
                })?;
                let e = out.entry(m.member_id).or_default();
                *e = e
                    .checked_add(cash)
                    .ok_or_else(|| format!("the cash amounts of `{}` overflow", p.display()))?;
            }
            Ok(Some(out))
        }
    }
}

/// Checks every uncashed payment against the sealed records (E0314): the year's redemptions (or
/// close) are sealed, and a member's uncashed amounts of one year and source do not exceed what
/// was paid to them.
pub fn check_sealed(book: &Book) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let file = display_path(&book.dir, UNCASHED);
    let mut rows: Vec<&Uncashed> = book.uncashed.iter().collect();
    rows.sort_by_key(|u| (u.fiscal_year, u.source, u.line));
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
                    diags.push(
                        Diagnostic::error("E0001", &file, u.line, u.columns.0)
                            .msg(format!(
                                "the sealed records of fiscal year {} cannot be read: {e}",
                                u.fiscal_year
                            ))
                            .hint("run `coopledger verify` on the book"),
                    );
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
                Diagnostic::error("E0314", &file, u.line, u.columns.0)
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
                Diagnostic::error("E0314", &file, u.line, u.columns.1)
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
