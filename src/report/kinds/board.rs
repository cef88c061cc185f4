//! The one-page summary of the close for the board.

use chrono::Datelike;
use rust_decimal::Decimal;

use super::{doc, t};
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

/// One-page summary for the board.
pub fn board(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let tt = &c.totals;
    let r = &c.reserves;
    let mut d = doc(v, "board", "Board summary of the year-end close");
    let allocated_members = c.members.iter().filter(|m| m.total > Decimal::ZERO).count();
    let mut s = Section::new("result", "Result");
    s.blocks.push(Block::Fields(vec![
        ("Patronage margin".into(), v.mc(tt.patronage_margin)?),
        ("Member share".into(), v.mc(tt.member_share)?),
        (
            "Non-member share (to reserve)".into(),
            v.mc(tt.nonmember_share)?,
        ),
        ("Stock dividends".into(), v.mc(tt.stock_dividends)?),
        ("Board reserve".into(), v.mc(tt.reserve)?),
        ("Allocated to members".into(), v.mc(tt.allocated)?),
        (
            "Members allocated".into(),
            Cell::Int(i64::try_from(allocated_members).unwrap_or(i64::MAX)),
        ),
        ("Cash to pay".into(), v.mc(tt.cash)?),
        ("Retained as allocated equity".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Losses charged to members".into(),
            v.mc(tt.losses_to_members)?,
        ),
        ("Non-patronage income".into(), v.mc(r.nonpatronage_income)?),
        ("Income tax".into(), v.mc(r.income_tax)?),
    ]));
    d.sections.push(s);
    let mut tb = Table::new(&[
        ("unit", "Unit"),
        ("patronage_margin", "Margin"),
        ("member_share", "Member share"),
        ("reserve", "Board reserve"),
        ("allocable", "Allocated"),
    ]);
    for p in &c.pools {
        tb.push(
            RowKind::Body,
            vec![
                t(p.name.clone()),
                v.mc(p.patronage_margin)?,
                v.mc(p.member_share)?,
                v.mc(p.reserve)?,
                v.mc(p.allocable)?,
            ],
        );
    }
    tb.push(
        RowKind::Total,
        vec![
            t("total"),
            v.mc(tt.patronage_margin)?,
            v.mc(tt.member_share)?,
            v.mc(tt.reserve)?,
            v.mc(tt.allocated)?,
        ],
    );
    let mut s = Section::new("units", "By unit");
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 0);
    let i = &c.identity;
    let mut s = Section::new("equity", "Equity");
    s.blocks.push(Block::Fields(vec![
        ("Unallocated reserve, opening".into(), v.mc(r.opening)?),
        ("Unallocated reserve, closing".into(), v.mc(r.closing)?),
        (
            "Loss carried forward, closing".into(),
            v.mc(c.deficit.closing)?,
        ),
        ("Member equity, closing".into(), v.mc(i.member_equity)?),
        (
            "Net-worth identity".into(),
            t(match (i.net_worth, i.balanced) {
                (Some(_), Some(true)) => "holds".to_string(),
                (Some(nw), _) => format!(
                    "does not hold: {} vs net worth {}",
                    v.m(i.sum)?.grouped(),
                    v.m(nw)?.grouped()
                ),
                _ => "not checked (no net worth in results.csv)".to_string(),
            }),
        ),
    ]));
    d.sections.push(s);
    let mut s = Section::new("deadlines", "Deadlines");
    s.blocks.push(Block::Fields(vec![
        (
            "Notices and checks issued by".into(),
            Cell::Date(c.dates.payment_period_end),
        ),
        (
            "Qualified checks cashed by".into(),
            Cell::Date(c.dates.qualified_check_deadline),
        ),
        (
            "1099-PATR to members by".into(),
            t(format!("{}-01-31", c.dates.payment_period_end.year() + 1)),
        ),
    ]));
    for n in &c.notes {
        s.blocks.push(Block::Para(format!("Note: {n}")));
    }
    d.sections.push(s);
    Ok(d)
}
