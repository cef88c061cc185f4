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

use super::csvin::{opt, req, Col};
use super::{member_ref, open_table, Config, Member, UNCASHED};
use crate::diag::code;
use crate::diag::Diagnostics;
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
        let fy = row.fiscal_year(1, d);
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
                code::E0314,
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
                    code::E0314,
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
