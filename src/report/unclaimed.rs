//! The unclaimed-payments report as a [`Doc`]: uncashed payments with their age and what is due
//! under the `[redemption]` policy (the data comes from `crate::engine::unclaimed`).

use super::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::book::config::UnclaimedTo;
use crate::engine::unclaimed::Unclaimed;

/// The unclaimed-payments report as a document (md, html, csv, json through [`crate::render`]).
pub fn doc(u: &Unclaimed) -> Doc {
    let t = |s: &str| Cell::Text(s.to_string());
    let policy = match u.forfeit_years {
        Some(n) => format!(
            "forfeited {n} year(s) after issue, after {} days' written notice, to {}",
            u.notice_days,
            match u.forfeit_to {
                UnclaimedTo::Coop => "the co-op",
                UnclaimedTo::State => "the state (unclaimed property)",
            }
        ),
        None => "none set (unclaimed_forfeit_years in [redemption])".to_string(),
    };
    let mut doc = Doc {
        kind: "unclaimed",
        title: format!(
            "Unclaimed payments — {}, fiscal year {}",
            u.coop, u.fiscal_year
        ),
        header: vec![
            ("Cooperative".into(), t(&u.coop)),
            ("As of".into(), Cell::Date(u.as_of)),
            ("Currency".into(), t(&u.currency)),
            ("Policy".into(), Cell::Text(policy)),
            (
                "Source".into(),
                t("uncashed.csv, checked against the sealed redemptions and closes"),
            ),
        ],
        sections: Vec::new(),
        primary: None,
    };
    let mut s = Section::new("summary", "Summary");
    s.blocks.push(Block::Fields(vec![
        (
            "Uncashed payments".into(),
            Cell::Int(i64::try_from(u.lines.len()).unwrap_or(i64::MAX)),
        ),
        ("Total uncashed".into(), Cell::Money(u.total)),
        ("Due for forfeiture".into(), Cell::Money(u.forfeiture_due)),
        ("Due for notice".into(), Cell::Money(u.notice_due)),
    ]));
    doc.sections.push(s);
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("fiscal_year", "Fiscal year"),
        ("source", "Source"),
        ("amount", "Amount"),
        ("issued", "Issued"),
        ("age_days", "Age (days)"),
        ("age_years", "Age (years)"),
        ("notice_by", "Notice by"),
        ("forfeit_on", "Forfeit on"),
        ("status", "Status"),
        ("action", "Action"),
        ("note", "Note"),
    ]);
    let date = |d: Option<chrono::NaiveDate>| d.map(Cell::Date).unwrap_or(Cell::Empty);
    tab.body(&u.lines, |l| {
        vec![
            t(&l.member_id),
            t(&l.name),
            Cell::Int(i64::from(l.fiscal_year)),
            t(l.source.name()),
            Cell::Money(l.amount),
            Cell::Date(l.issued),
            Cell::Int(l.age_days),
            Cell::Int(i64::from(l.age_years)),
            date(l.notice_by),
            date(l.forfeit_on),
            t(l.status.name()),
            t(&l.action),
            t(&l.note),
        ]
    });
    let empty = vec![Cell::Empty; 4];
    let mut total = vec![t("Total")];
    total.extend(empty);
    total[4] = Cell::Money(u.total);
    total.extend(vec![Cell::Empty; 8]);
    tab.push(RowKind::Total, total);
    let mut s = Section::new("payments", "Uncashed payments, oldest first");
    if u.lines.is_empty() {
        s.blocks.push(Block::Para(
            "No uncashed payment issued by this date.".into(),
        ));
    }
    s.blocks.push(Block::Table(tab));
    let at = s.blocks.len() - 1;
    doc.push_primary(s, at);
    doc
}
