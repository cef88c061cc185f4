//! Uncashed payments on the last day of a fiscal year: their age and, under the `[redemption]`
//! unclaimed policy, which are due for notice or forfeiture. Pure: the book (with its
//! `uncashed.csv`) in, an [`Unclaimed`] out.

use crate::book::Book;
use crate::engine::close::full_years;
use crate::money::{Money, MoneyError};

/// Why the unclaimed payments cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum UnclaimedError {
    #[error("fiscal year {fy} ends on a day that cannot be computed")]
    BadYear { fy: i32 },
    #[error("{issued} + {years} years is out of range")]
    DateRange {
        issued: chrono::NaiveDate,
        years: u32,
    },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Where an uncashed payment stands on the report date under the `[redemption]` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnclaimedStatus {
    /// past the forfeiture date: forfeit it to the co-op (or remit it to the state)
    ForfeitureDue,
    /// inside the notice period: send the member written notice now
    NoticeDue,
    /// not cashed yet, nothing due
    Outstanding,
}

impl UnclaimedStatus {
    pub fn name(self) -> &'static str {
        match self {
            UnclaimedStatus::ForfeitureDue => "forfeiture_due",
            UnclaimedStatus::NoticeDue => "notice_due",
            UnclaimedStatus::Outstanding => "outstanding",
        }
    }
}

/// One payment that was not cashed, with its age and what is due.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnclaimedLine {
    pub member_id: String,
    pub name: String,
    pub fiscal_year: i32,
    pub source: crate::book::uncashed::Source,
    pub amount: Money,
    pub issued: chrono::NaiveDate,
    /// days from `issued` to the report date
    pub age_days: i64,
    /// whole years from `issued` to the report date
    pub age_years: u32,
    /// the last day to send notice (forfeiture date − notice days), under the policy
    pub notice_by: Option<chrono::NaiveDate>,
    /// `issued` + `unclaimed_forfeit_years`
    pub forfeit_on: Option<chrono::NaiveDate>,
    pub status: UnclaimedStatus,
    /// what to do, in words
    pub action: String,
    pub note: String,
}

/// Uncashed payments as of the last day of a fiscal year (`report BOOK unclaimed --year FY`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unclaimed {
    pub coop: String,
    pub currency: String,
    pub fiscal_year: i32,
    pub as_of: chrono::NaiveDate,
    pub forfeit_years: Option<u32>,
    pub notice_days: u32,
    /// `coop` or `state`
    pub forfeit_to: crate::book::config::UnclaimedTo,
    /// oldest first (issued, member id)
    pub lines: Vec<UnclaimedLine>,
    pub total: Money,
    pub forfeiture_due: Money,
    pub notice_due: Money,
}

/// Lists the uncashed payments issued on or before the last day of `fy`, with their age and, under
/// the `[redemption]` unclaimed policy, which are due for notice or forfeiture.
pub fn unclaimed(book: &Book, fy: i32) -> Result<Unclaimed, UnclaimedError> {
    use crate::book::config::UnclaimedTo;
    let cur = book.config.currency;
    let (_, as_of) = book
        .config
        .fiscal_year_bounds(fy)
        .ok_or(UnclaimedError::BadYear { fy })?;
    let red = book.config.redemption.as_ref();
    let forfeit_years = red.and_then(|r| r.unclaimed_forfeit_years);
    let notice_days = red.map(|r| r.unclaimed_notice_days).unwrap_or(60);
    let forfeit_to = red.map(|r| r.unclaimed_to).unwrap_or(UnclaimedTo::Coop);
    let to = match forfeit_to {
        UnclaimedTo::Coop => "forfeit it to the co-op",
        UnclaimedTo::State => "remit it to the state as unclaimed property",
    };
    let mut lines = Vec::new();
    let z = Money::zero(cur);
    let (mut total, mut forfeiture_due, mut notice_due) = (z, z, z);
    for u in book.uncashed.iter().filter(|u| u.issued <= as_of) {
        let forfeit_on = match forfeit_years {
            Some(n) => Some(
                u.issued
                    .checked_add_months(chrono::Months::new(12 * n))
                    .ok_or(UnclaimedError::DateRange {
                        issued: u.issued,
                        years: n,
                    })?,
            ),
            None => None,
        };
        let notice_by =
            forfeit_on.and_then(|f| f.checked_sub_days(chrono::Days::new(u64::from(notice_days))));
        let (status, action) = match (forfeit_on, notice_by) {
            (Some(f), _) if as_of >= f => (
                UnclaimedStatus::ForfeitureDue,
                format!("unclaimed since {} (forfeiture date {f}): once the {notice_days}-day notice has run, {to}", u.issued),
            ),
            (Some(f), Some(n)) if as_of >= n => (
                UnclaimedStatus::NoticeDue,
                format!("send written notice by {n}; unless claimed, {to} on {f}"),
            ),
            (Some(f), Some(n)) => (
                UnclaimedStatus::Outstanding,
                format!("notice from {n}; {to} on {f} unless claimed"),
            ),
            _ => (
                UnclaimedStatus::Outstanding,
                "no forfeiture policy: set unclaimed_forfeit_years in [redemption] of coop.toml"
                    .to_string(),
            ),
        };
        total = total.checked_add(&u.amount)?;
        match status {
            UnclaimedStatus::ForfeitureDue => {
                forfeiture_due = forfeiture_due.checked_add(&u.amount)?
            }
            UnclaimedStatus::NoticeDue => notice_due = notice_due.checked_add(&u.amount)?,
            UnclaimedStatus::Outstanding => {}
        }
        lines.push(UnclaimedLine {
            member_id: u.member_id.clone(),
            name: book
                .member(&u.member_id)
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            fiscal_year: u.fiscal_year,
            source: u.source,
            amount: u.amount,
            issued: u.issued,
            age_days: (as_of - u.issued).num_days(),
            age_years: full_years(u.issued, as_of),
            notice_by,
            forfeit_on,
            status,
            action,
            note: u.note.clone(),
        });
    }
    lines.sort_by(|a, b| {
        (a.issued, &a.member_id, a.fiscal_year, a.source).cmp(&(
            b.issued,
            &b.member_id,
            b.fiscal_year,
            b.source,
        ))
    });
    Ok(Unclaimed {
        coop: book.config.name.clone(),
        currency: cur.code().to_string(),
        fiscal_year: fy,
        as_of,
        forfeit_years,
        notice_days,
        forfeit_to,
        lines,
        total,
        forfeiture_due,
        notice_due,
    })
}
