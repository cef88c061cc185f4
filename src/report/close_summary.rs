//! The close's summary for the terminal (and `summary.txt`) as a [`Doc`]: the pools by unit, the
//! allocation, the reserves and the net-worth identity. (`close -O json` stays the serialization
//! of the [`Close`].)

use super::doc::{Block, Cell, Doc, Section, Table};
use crate::engine::close::Close;

fn pools(c: &Close) -> Table {
    let mut t = Table::new(&[
        ("unit", "unit"),
        ("margin", "margin"),
        ("member_share", "member share"),
        ("non_member", "non-member"),
        ("reserve", "reserve"),
        ("allocated", "allocated"),
    ]);
    t.body(&c.pools, |p| {
        vec![
            Cell::text(&p.unit),
            Cell::Money(p.patronage_margin),
            Cell::Money(p.member_share),
            Cell::Money(p.nonmember_share),
            Cell::Money(p.reserve),
            Cell::Money(p.allocable),
        ]
    });
    t
}

fn allocation(c: &Close) -> Vec<(String, Cell)> {
    let t = &c.totals;
    let members = c.members.iter().filter(|m| m.total.is_positive()).count();
    let mut f = vec![
        (
            "members allocated".to_string(),
            Cell::Int(i64::try_from(members).unwrap_or(i64::MAX)),
        ),
        ("allocated".to_string(), Cell::Money(t.allocated)),
        ("cash".to_string(), Cell::Money(t.cash)),
        (
            "cash paid by".to_string(),
            Cell::Date(c.dates.payment_period_end),
        ),
        ("retained".to_string(), Cell::Money(t.retained)),
    ];
    if t.carried_out.is_positive() {
        f.push(("carried forward".to_string(), Cell::Money(t.carried_out)));
    }
    if t.losses_to_members.is_negative() {
        f.push((
            "losses charged to members".to_string(),
            Cell::Money(t.losses_to_members),
        ));
    }
    f
}

fn reserves(c: &Close) -> Vec<(String, Cell)> {
    let r = &c.reserves;
    let mut f = vec![
        (
            "unallocated reserve, opening".to_string(),
            Cell::Money(r.opening),
        ),
        ("addition".to_string(), Cell::Money(r.addition)),
        (
            "unallocated reserve, closing".to_string(),
            Cell::Money(r.closing),
        ),
    ];
    if c.deficit.closing.is_positive() || c.deficit.opening.is_positive() {
        f.push((
            "loss carried forward, opening".to_string(),
            Cell::Money(c.deficit.opening),
        ));
        f.push((
            "loss carried forward, closing".to_string(),
            Cell::Money(c.deficit.closing),
        ));
    }
    f
}

fn identity(c: &Close) -> String {
    let i = &c.identity;
    match (i.net_worth, i.balanced) {
        (Some(nw), Some(true)) => format!(
            "The net-worth identity holds: capital accounts {} + unallocated {} + other stock {} = {}.",
            i.member_equity.grouped(),
            i.unallocated.grouped(),
            i.other_stock.grouped(),
            nw.grouped()
        ),
        (Some(nw), _) => format!(
            "The net-worth identity does NOT hold: {} vs net_worth {}.",
            i.sum.grouped(),
            nw.grouped()
        ),
        _ => format!(
            "Capital accounts {} + unallocated {} = {} (no net_worth in results.csv to check against).",
            i.member_equity.grouped(),
            i.unallocated.grouped(),
            i.sum.grouped()
        ),
    }
}

pub fn doc(c: &Close) -> Doc {
    let mut d = Doc::new(
        "close",
        format!(
            "{} — close of fiscal year {} ({} to {}), {}",
            c.coop, c.fiscal_year, c.dates.start, c.dates.end, c.currency
        ),
    );
    d.push_primary(
        Section::with("pools", "pools by unit", vec![Block::Table(pools(c))]),
        0,
    );
    d.sections.push(Section::with(
        "allocation",
        "allocation",
        vec![Block::Fields(allocation(c))],
    ));
    d.sections.push(Section::with(
        "reserves",
        "reserves",
        vec![Block::Fields(reserves(c))],
    ));
    let mut checks = vec![Block::Para(identity(c))];
    checks.extend(c.notes.iter().map(|n| Block::Note(n.clone())));
    d.sections
        .push(Section::with("identity", "net-worth identity", checks));
    d
}
