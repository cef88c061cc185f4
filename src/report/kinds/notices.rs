//! Written notices of allocation, one per member allocated a patronage dividend.

use rust_decimal::Decimal;

use super::{doc, t};
use crate::ledger::record::{Allocation, Member};
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

fn notice_no(fy: i32, id: &str) -> String {
    format!("WNA-{fy}-{id}")
}

fn form(notice: &str) -> &'static str {
    if notice == "qualified" {
        "qualified written notice of allocation"
    } else {
        "nonqualified written notice of allocation"
    }
}

/// The member's allocation by unit, with the total line.
fn units(v: &View, m: &Member) -> anyhow::Result<Table> {
    let c = &v.close;
    let mut units = Table::new(&[
        ("unit", "Unit"),
        ("volume", "Your patronage"),
        ("amount", "Allocated"),
    ]);
    let mut allocs: Vec<&Allocation> = c
        .allocations
        .iter()
        .filter(|a| a.member_id == m.member_id)
        .collect();
    allocs.sort_by(|a, b| a.unit.cmp(&b.unit));
    for a in allocs {
        let vol = a
            .measures
            .iter()
            .map(|(k, x)| format!("{k} {x}"))
            .collect::<Vec<_>>()
            .join(", ");
        units.push(
            RowKind::Body,
            vec![t(a.unit.clone()), t(vol), v.mc(a.amount)?],
        );
    }
    units.push(
        RowKind::Total,
        vec![t("total"), Cell::Empty, v.mc(m.total)?],
    );
    Ok(units)
}

/// The stated amounts and dates of the member's notice.
fn fields(v: &View, m: &Member) -> anyhow::Result<Vec<(String, Cell)>> {
    let c = &v.close;
    let dt = &c.dates;
    let qualified = m.notice == "qualified";
    let mut f = vec![
        ("Stated dollar amount allocated".into(), v.mc(m.total)?),
        (
            "Portion that is a patronage dividend".into(),
            v.mc(m.total)?,
        ),
        ("Paid in cash or by qualified check".into(), v.mc(m.cash)?),
    ];
    if m.carried_in > Decimal::ZERO {
        f.push((
            "of which carried in from earlier years".into(),
            v.mc(m.carried_in)?,
        ));
    }
    if m.carried_out > Decimal::ZERO {
        f.push((
            "Cash carried forward to next year's check (below the minimum check)".into(),
            v.mc(m.carried_out)?,
        ));
    }
    f.push(("Retained".into(), v.mc(m.retained)?));
    f.push(("Retained amount is a".into(), t(form(&m.notice))));
    f.push((
        "Credited as".into(),
        t(format!("allocated equity of fiscal year {}", c.fiscal_year)),
    ));
    f.push((
        "Issued by (end of payment period)".into(),
        Cell::Date(dt.payment_period_end),
    ));
    if qualified {
        f.push((
            "Qualified check must be cashed by".into(),
            Cell::Date(dt.qualified_check_deadline),
        ));
    }
    Ok(f)
}

/// The notice of one member, on a page of its own.
fn notice(v: &View, m: &Member, no: &str) -> anyhow::Result<Section> {
    let c = &v.close;
    let dt = &c.dates;
    let qualified = m.notice == "qualified";
    let mut s = Section::new(no, format!("Notice {no}: {} ({})", m.name, m.member_id));
    s.page_break = true;
    s.blocks.push(Block::Para(format!(
        "{} hereby gives {} written notice of the patronage dividend allocated to you for the fiscal year {} ({} to {}), on the basis of your patronage.",
        c.coop, m.name, c.fiscal_year, dt.start, dt.end
    )));
    s.blocks.push(Block::Table(units(v, m)?));
    s.blocks.push(Block::Fields(fields(v, m)?));
    if qualified {
        s.blocks.push(Block::Para(format!(
            "Consent: this is a qualified written notice of allocation (IRC §1388(c)). By your membership under the bylaws' consent provision, or by endorsing and cashing the accompanying check, you consent to take the stated dollar amount of {} into account as income in the year you receive this notice. At least 20% of the patronage dividend is paid in cash.",
            v.m(m.total)?.grouped()
        )));
        s.blocks.push(Block::Para(format!(
            "Qualified check: the check for {} must be endorsed and cashed on or before {} (90 days after the payment period ending {}); if it is not, this notice becomes nonqualified.",
            v.m(m.cash)?.grouped(),
            dt.qualified_check_deadline,
            dt.payment_period_end
        )));
    } else {
        s.blocks.push(Block::Para("This is a nonqualified written notice of allocation: the retained amount is not income to you when issued. When it is redeemed, the cooperative reports the redemption on Form 1099-PATR (box 5).".into()));
    }
    if v.coop_kind == "consumer" {
        s.blocks.push(Block::Para("Patronage dividends on purchases for personal, living or family use are generally not taxable income.".into()));
    }
    Ok(s)
}

/// The member's line in the register of notices.
fn register_row(v: &View, m: &Member, no: String) -> anyhow::Result<Vec<Cell>> {
    let dt = &v.close.dates;
    let qualified = m.notice == "qualified";
    Ok(vec![
        t(no),
        t(m.member_id.clone()),
        t(m.name.clone()),
        v.mc(m.total)?,
        v.mc(m.total)?,
        v.mc(m.cash)?,
        v.mc(m.carried_out)?,
        v.mc(m.retained)?,
        t(m.notice.clone()),
        Cell::Date(dt.payment_period_end),
        if qualified {
            Cell::Date(dt.qualified_check_deadline)
        } else {
            Cell::Empty
        },
    ])
}

/// Written notices of allocation, one per member allocated a patronage dividend.
pub fn notices(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let dt = &c.dates;
    let mut d = doc(v, "notices", "Written notices of allocation");
    d.header.push((
        "Payment period ends".into(),
        Cell::Date(dt.payment_period_end),
    ));
    d.header.push((
        "Qualified checks must be cashed by".into(),
        Cell::Date(dt.qualified_check_deadline),
    ));
    let mut register = Table::new(&[
        ("notice_no", "Notice"),
        ("member_id", "Member"),
        ("name", "Name"),
        ("stated_amount", "Stated amount"),
        ("patronage_dividend", "Patronage dividend"),
        ("cash", "Cash paid"),
        ("carried_forward", "Cash carried forward"),
        ("retained", "Retained"),
        ("form", "Retained as"),
        ("issued_by", "Issued by"),
        ("cash_check_by", "Cash qualified check by"),
    ]);
    let mut members: Vec<&Member> = c
        .members
        .iter()
        .filter(|m| m.total > Decimal::ZERO || m.cash > Decimal::ZERO)
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let no = notice_no(c.fiscal_year, &m.member_id);
        d.sections.push(notice(v, m, &no)?);
        register.push(RowKind::Body, register_row(v, m, no)?);
    }
    let mut s = Section::new("register", "Register of notices");
    s.blocks.push(Block::Table(register));
    d.push_primary(s, 0);
    Ok(d)
}
