//! `receivables.csv` (optional): amounts members owe the co-op (an unpaid invoice, a wage
//! advance, a loan) and what they repaid. `coopledger revolve` sets what is outstanding off
//! against the member's redemption (`[redemption] set_off`, docs/REDEMPTION.md).
//!
//! Columns: `date`, `member_id`, `kind` (`owed`, the default, or `repaid`), `amount` (> 0),
//! `note`. A repayment may not exceed what the member owes by its date (E0312).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::csvin::{opt, req, Col};
use super::{member_ref, open_table, Config, Member, RECEIVABLES};
use crate::diag::code;
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::{Currency, Money, MoneyError};

/// One row of `receivables.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receivable {
    pub date: NaiveDate,
    pub member_id: String,
    /// true for a repayment by the member (reduces what they owe)
    pub repaid: bool,
    /// > 0
    pub amount: Money,
    pub note: String,
    pub line: u64,
}

pub const KINDS: &[&str] = &["owed", "repaid"];

const COLS: &[Col] = &[
    req("date"),
    req("member_id"),
    opt("kind"),
    req("amount"),
    opt("note"),
];

pub(super) fn load(
    dir: &Path,
    config: &Config,
    ids: &BTreeMap<&str, &Member>,
    diags: &mut Diagnostics,
) -> Vec<Receivable> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, RECEIVABLES, COLS, false, diags) else {
        return out;
    };
    // repayments are checked against what is owed once every row is read
    let mut repayments: Vec<(u64, Diagnostic)> = Vec::new();
    t.for_each(COLS, diags, |row, d| {
        let date = row.date(0, d);
        let id = row.required(1, d);
        let kind = match row.text(2, d) {
            None | Some("") => Some("owed"),
            Some(_) => row.choice(2, KINDS, d),
        };
        let amount = row.money(3, config.currency, false, d);
        let note = row.text(4, d).unwrap_or("").to_string();
        if amount.is_some_and(|a| a.is_zero()) {
            d.push(row.problem(
                3,
                code::E0312,
                "a receivable of zero".into(),
                "write the amount the member owes (or repaid), more than zero; remove the row otherwise".into(),
            ));
            return;
        }
        let known = id.is_some_and(|id| member_ref(row, 1, id, ids, d));
        if let (true, Some(id), Some(date), Some(kind), Some(amount)) =
            (known, id, date, kind, amount)
        {
            if kind == "repaid" {
                repayments.push((
                    row.line,
                    row.problem(
                        3,
                        code::E0312,
                        format!("`{id}` repaid {amount} on {date}, more than they owed by then"),
                        "a repayment reduces an amount owed (an earlier `owed` row); check the amount and the dates".into(),
                    ),
                ));
            }
            out.push(Receivable {
                date,
                member_id: id.to_string(),
                repaid: kind == "repaid",
                amount,
                note,
                line: row.line,
            });
        }
    });
    for (line, diag) in repayments {
        let Some(r) = out.iter().find(|r| r.line == line) else {
            continue;
        };
        // owed − repaid up to the repayment's date (rows of the same day count, in file order)
        let before = out.iter().filter(|x| {
            x.member_id == r.member_id && (x.date < r.date || x.date == r.date && x.line <= line)
        });
        match balance(config.currency, before) {
            Ok(b) if !b.is_negative() => {}
            _ => diags.push(diag),
        }
    }
    out.sort_by(|a, b| (&a.member_id, a.date, a.line).cmp(&(&b.member_id, b.date, b.line)));
    out
}

/// Σ owed − Σ repaid over `rows`.
pub fn balance<'a>(
    cur: Currency,
    rows: impl Iterator<Item = &'a Receivable>,
) -> Result<Money, MoneyError> {
    let mut b = Money::zero(cur);
    for r in rows {
        b = if r.repaid {
            b.checked_sub(&r.amount)?
        } else {
            b.checked_add(&r.amount)?
        };
    }
    Ok(b)
}

/// What each member owes on `as_of` (rows dated on or before it), before any set-off; members
/// who owe nothing are left out.
pub fn outstanding(
    book: &super::Book,
    as_of: NaiveDate,
) -> Result<BTreeMap<String, Money>, MoneyError> {
    let cur = book.config.currency;
    let mut by: BTreeMap<&str, Vec<&Receivable>> = BTreeMap::new();
    for r in book.receivables.iter().filter(|r| r.date <= as_of) {
        by.entry(r.member_id.as_str()).or_default().push(r);
    }
    let mut out = BTreeMap::new();
    for (id, rows) in by {
        let b = balance(cur, rows.into_iter())?;
        if b.is_positive() {
            out.insert(id.to_string(), b);
        }
    }
    Ok(out)
}
