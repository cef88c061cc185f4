//! The year's equity redemptions ([`Report`]) as a [`Doc`]: the revolvement schedule by
//! allocation year, payments, set-offs, joint transfers, what was not paid, the members'
//! redemption statements, 1099-PATR box 5, leaver debts and unclaimed payments. (`revolve -O json`
//! and `-O csv` stay the sealed serializations of the [`crate::engine::revolve::Revolvement`].)

use rust_decimal::Decimal;

use super::Report;
use crate::engine::revolve::Payment;
use crate::money::Money;
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn year(y: i32) -> Cell {
    Cell::text(y.to_string())
}

fn schedule(r: &Report) -> Table {
    let mut tab = Table::new(&[
        ("allocation_year", "Allocation year"),
        ("opening", "Opening"),
        ("retired", "Retired"),
        ("special", "Special"),
        ("offsets", "Offsets"),
        ("closing", "Closing"),
    ]);
    tab.body(&r.schedule, |x| {
        vec![
            year(x.allocation_year),
            Cell::Money(x.opening),
            Cell::Money(x.retired),
            Cell::Money(x.special),
            Cell::Money(x.offsets),
            Cell::Money(x.closing),
        ]
    });
    tab
}

/// Payments (cash or set-off) with their total line.
fn payments(list: &[Payment], total: Money) -> Table {
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("allocation_year", "Allocation year"),
        ("kind", "Kind"),
        ("amount", "Amount"),
        ("reason", "Reason"),
    ]);
    tab.body(list, |p| {
        vec![
            t(&p.member_id),
            year(p.allocation_year),
            t(&p.kind),
            Cell::Money(p.amount),
            t(&p.reason),
        ]
    });
    tab.push(
        RowKind::Total,
        vec![
            t("Total"),
            Cell::Empty,
            Cell::Empty,
            Cell::Money(total),
            Cell::Empty,
        ],
    );
    tab
}

fn set_offs(r: &Report) -> Section {
    let v = &r.revolvement;
    let mut owed = Table::new(&[
        ("member_id", "Member"),
        ("outstanding", "Owed at the year end"),
        ("set_off", "Set off"),
        ("remaining", "Still owed"),
    ]);
    owed.body(&v.receivables, |x| {
        vec![
            t(&x.member_id),
            Cell::Money(x.outstanding),
            Cell::Money(x.set_off),
            Cell::Money(x.remaining),
        ]
    });
    Section::with(
        "set_offs",
        "Set-offs against what members owe",
        vec![
            Block::Para("Equity retired without cash: the amount is applied to what the member owes the co-op (receivables.csv).".into()),
            Block::Table(payments(&v.set_offs, v.set_off_total)),
            Block::Table(owed),
        ],
    )
}

fn transfers(r: &Report) -> Section {
    let mut tab = Table::new(&[
        ("from", "From"),
        ("to", "To"),
        ("allocation_year", "Allocation year"),
        ("kind", "Kind"),
        ("amount", "Amount"),
    ]);
    tab.body(&r.revolvement.transfers, |x| {
        vec![
            t(&x.member_id),
            t(&x.to),
            year(x.allocation_year),
            t(&x.kind),
            Cell::Num(x.amount),
        ]
    });
    Section::with(
        "joint",
        "Joint memberships",
        vec![
            Block::Para("Equity of a deceased joint member passed to the surviving joint member (not retired; it keeps its allocation year).".into()),
            Block::Table(tab),
        ],
    )
}

fn unpaid(r: &Report) -> Section {
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("amount", "Amount"),
        ("reason", "Reason"),
    ]);
    tab.body(&r.revolvement.unpaid, |u| {
        vec![t(&u.member_id), Cell::Money(u.amount), t(&u.reason)]
    });
    Section::with("unpaid", "Not paid", vec![Block::Table(tab)])
}

fn statements(r: &Report) -> Table {
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("opening", "Opening"),
        ("cash", "Cash"),
        ("set_off", "Set-off"),
        ("discount", "Discount"),
        ("converted_to_debt", "To debt"),
        ("offsets", "Offsets"),
        ("transferred", "Joint transfer"),
        ("closing", "Closing"),
        ("unpaid", "Unpaid"),
        ("box5", "1099-PATR box 5"),
    ]);
    for m in &r.statements {
        let mut cells = vec![t(&m.member_id), t(&m.name)];
        cells.extend(
            [
                m.opening,
                m.cash,
                m.set_off,
                m.discount,
                m.converted_to_debt,
                m.offsets,
                m.transferred,
                m.closing,
                m.unpaid,
                m.box5,
            ]
            .map(Cell::Money),
        );
        tab.push(RowKind::Body, cells);
    }
    tab
}

fn box5(r: &Report) -> Section {
    let mut tab = Table::new(&[("member_id", "Member"), ("name", "Name"), ("box5", "Box 5")]);
    tab.body(r.statements.iter().filter(|m| m.box5.is_positive()), |m| {
        vec![t(&m.member_id), t(&m.name), Cell::Money(m.box5)]
    });
    let block = if tab.rows.is_empty() {
        Block::Para("No nonqualified equity was redeemed.".into())
    } else {
        Block::Table(tab)
    };
    Section::with(
        "box5",
        "1099-PATR box 5 (redemptions of nonqualified equity)",
        vec![block],
    )
}

fn debts(r: &Report) -> Section {
    let v = &r.revolvement;
    let mut blocks = Vec::new();
    for d in &v.debts {
        let rate = d
            .rate
            .checked_mul(Decimal::ONE_HUNDRED)
            .map_or_else(|| d.rate.to_string(), |p| format!("{p}%"));
        blocks.push(Block::Para(format!(
            "{} converted to debt: {} at {rate} in {} installment(s).",
            d.member_id,
            d.principal,
            d.installments.len()
        )));
    }
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("year", "Year"),
        ("opening", "Opening"),
        ("interest", "Interest"),
        ("principal", "Principal"),
        ("payment", "Payment"),
    ]);
    for d in &v.debts {
        tab.body(&d.installments, |i| {
            vec![
                t(&d.member_id),
                year(i.fiscal_year),
                Cell::Num(i.opening),
                Cell::Num(i.interest),
                Cell::Num(i.principal),
                Cell::Num(i.payment),
            ]
        });
    }
    for d in &v.debt_service {
        tab.push(
            RowKind::Subtotal,
            vec![
                t(&d.member_id),
                t(format!("due now ({}/{})", d.installment, d.of)),
                Cell::Empty,
                Cell::Money(d.interest),
                Cell::Money(d.principal),
                Cell::Money(d.payment),
            ],
        );
    }
    blocks.push(Block::Table(tab));
    Section::with("debts", "Leaver debts", blocks)
}

fn unclaimed(r: &Report) -> Section {
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("fiscal_year", "Fiscal year"),
        ("source", "Source"),
        ("amount", "Amount"),
        ("issued", "Issued"),
        ("age_days", "Age (days)"),
        ("status", "Status"),
        ("action", "Action"),
    ]);
    tab.body(&r.unclaimed, |u| {
        vec![
            t(&u.member_id),
            year(u.fiscal_year),
            t(u.source.name()),
            Cell::Money(u.amount),
            Cell::Date(u.issued),
            Cell::Int(u.age_days),
            t(u.status.name()),
            t(&u.action),
        ]
    });
    Section::with(
        "unclaimed",
        "Unclaimed payments due for notice or forfeiture",
        vec![Block::Table(tab)],
    )
}

pub fn doc(r: &Report) -> Doc {
    let v = &r.revolvement;
    let mut d = Doc::new(
        "redemptions",
        format!(
            "{} — equity redemptions, fiscal year {}",
            r.coop, v.fiscal_year
        ),
    );
    d.header.push(("Plan".into(), t(&v.plan)));
    if let Some(b) = v.budget {
        d.header.push(("Budget".into(), Cell::Money(b)));
    }
    if let Some(b) = v.solvency_limit {
        d.header.push(("Solvency limit".into(), Cell::Money(b)));
    }
    d.header.push(("Total paid".into(), Cell::Money(v.total)));
    d.header.push((
        "Cash needed (with debt service)".into(),
        Cell::Money(v.cash_needed),
    ));
    d.sections.push(Section::with(
        "schedule",
        "Revolvement schedule by allocation year",
        vec![Block::Table(schedule(r))],
    ));
    d.push_primary(
        Section::with(
            "payments",
            "Payments",
            vec![Block::Table(payments(&v.payments, v.total))],
        ),
        0,
    );
    if !v.set_offs.is_empty() || !v.receivables.is_empty() {
        d.sections.push(set_offs(r));
    }
    if !v.transfers.is_empty() {
        d.sections.push(transfers(r));
    }
    if !v.unpaid.is_empty() {
        d.sections.push(unpaid(r));
    }
    d.sections.push(Section::with(
        "statements",
        "Member redemption statements",
        vec![Block::Table(statements(r))],
    ));
    d.sections.push(box5(r));
    if !v.debts.is_empty() || !v.debt_service.is_empty() {
        d.sections.push(debts(r));
    }
    if !r.unclaimed.is_empty() {
        d.sections.push(unclaimed(r));
    }
    if !v.notes.is_empty() {
        d.sections.push(Section::with(
            "notes",
            "Notes",
            v.notes.iter().map(|n| Block::Note(n.clone())).collect(),
        ));
    }
    d
}
