//! The net-margin worksheet of the close.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{doc, sub, sum, t, tally};
use crate::ledger::record::{CloseRecord, Pool};
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

/// The measure, member volume and refund rate of unit `p`: stated when the unit is measured by
/// one measure only.
fn measure(c: &CloseRecord, p: &Pool) -> anyhow::Result<[Cell; 3]> {
    let mut vol: BTreeMap<&str, Decimal> = BTreeMap::new();
    for a in c.allocations.iter().filter(|a| a.unit == p.unit) {
        for (k, x) in &a.measures {
            tally(&mut vol, k.as_str(), *x)?;
        }
    }
    if vol.len() != 1 {
        let names = vol.keys().copied().collect::<Vec<_>>().join("+");
        return Ok([t(names), Cell::Empty, Cell::Empty]);
    }
    let (k, x) = vol
        .iter()
        .next()
        .map(|(k, x)| (*k, *x))
        .unwrap_or(("", Decimal::ZERO));
    let rate = match p.allocable.checked_div(x) {
        Some(r) if !x.is_zero() => Cell::Num(r.round_dp(6).normalize()),
        _ => Cell::Empty,
    };
    Ok([t(k), Cell::Num(x), rate])
}

/// The patronage margin by allocation unit, with the total line.
fn units(v: &View) -> anyhow::Result<Section> {
    let c = &v.close;
    let mut tb = Table::new(&[
        ("unit", "Unit"),
        ("name", "Name"),
        ("patronage_margin", "Patronage margin"),
        ("member_fraction", "Member fraction"),
        ("member_share", "Member share"),
        ("nonmember_share", "Non-member share"),
        ("stock_dividends", "Stock dividends"),
        ("netting", "Netting"),
        ("loss_recovered", "Loss recovered"),
        ("reserve", "Board reserve"),
        ("allocable", "Allocable"),
        ("measure", "Measure"),
        ("member_volume", "Member volume"),
        ("rate", "Rate per unit of volume"),
        ("eligible_members", "Eligible members"),
    ]);
    for p in &c.pools {
        let [measure, volume, rate] = measure(c, p)?;
        tb.push(
            RowKind::Body,
            vec![
                t(p.unit.clone()),
                t(p.name.clone()),
                v.mc(p.patronage_margin)?,
                Cell::Num(p.member_fraction),
                v.mc(p.member_share)?,
                v.mc(p.nonmember_share)?,
                v.mc(p.stock_dividends)?,
                v.mc(p.netting)?,
                v.mc(p.loss_recovered)?,
                v.mc(p.reserve)?,
                v.mc(p.allocable)?,
                measure,
                volume,
                rate,
                Cell::Int(i64::try_from(p.eligible_members).unwrap_or(i64::MAX)),
            ],
        );
    }
    let s_ = |f: &dyn Fn(&Pool) -> Decimal| -> anyhow::Result<Cell> {
        v.mc(sum(&c.pools.iter().map(f).collect::<Vec<_>>())?)
    };
    tb.push(
        RowKind::Total,
        vec![
            t("total"),
            Cell::Empty,
            s_(&|p| p.patronage_margin)?,
            Cell::Empty,
            s_(&|p| p.member_share)?,
            s_(&|p| p.nonmember_share)?,
            s_(&|p| p.stock_dividends)?,
            s_(&|p| p.netting)?,
            s_(&|p| p.loss_recovered)?,
            s_(&|p| p.reserve)?,
            s_(&|p| p.allocable)?,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ],
    );
    let mut s = Section::new("units", "Patronage margin by allocation unit");
    s.blocks.push(Block::Para("Member share = patronage margin × member fraction (member volume over all volume). The non-member share goes to the unallocated reserve. Allocable = member share − stock dividends ± netting − loss recovered − board reserve.".into()));
    s.blocks.push(Block::Table(tb));
    Ok(s)
}

/// The non-patronage income and tax, and the unallocated reserve roll-forward.
fn reserve(v: &View) -> anyhow::Result<[Section; 2]> {
    let r = &v.close.reserves;
    let mut s = Section::new("nonpatronage", "Non-patronage income and tax");
    s.blocks.push(Block::Fields(vec![
        ("Non-patronage income".into(), v.mc(r.nonpatronage_income)?),
        ("Income tax".into(), v.mc(r.income_tax)?),
        (
            "Non-patronage income after tax".into(),
            v.mc(sub(r.nonpatronage_income, r.income_tax)?)?,
        ),
    ]));
    let nonpatronage = s;
    let mut s = Section::new("reserve", "Unallocated reserve roll-forward");
    s.blocks.push(Block::Fields(vec![
        ("Opening".into(), v.mc(r.opening)?),
        ("+ non-member share".into(), v.mc(r.nonmember_share)?),
        ("+ board reserve".into(), v.mc(r.board_reserve)?),
        ("+ loss recovered".into(), v.mc(r.loss_recovered)?),
        (
            "+ non-patronage income".into(),
            v.mc(r.nonpatronage_income)?,
        ),
        ("− income tax".into(), v.mc(r.income_tax)?),
        (
            "+ loss charged to the collective".into(),
            v.mc(r.loss_to_collective)?,
        ),
        ("− loss carried forward".into(), v.mc(r.loss_carried)?),
        ("Addition".into(), v.mc(r.addition)?),
        ("Closing".into(), v.mc(r.closing)?),
        (
            "Non-member refunds payable".into(),
            v.mc(r.nonmember_refunds_payable)?,
        ),
    ]));
    Ok([nonpatronage, s])
}

/// The loss carried forward and the allocation, with the close's notes.
fn deficit_and_allocation(v: &View) -> anyhow::Result<[Section; 2]> {
    let c = &v.close;
    let df = &c.deficit;
    let mut s = Section::new("deficit", "Loss carried forward (deficit)");
    s.blocks.push(Block::Fields(vec![
        ("Opening".into(), v.mc(df.opening)?),
        ("Added".into(), v.mc(df.added)?),
        ("Recovered".into(), v.mc(df.recovered)?),
        ("Closing".into(), v.mc(df.closing)?),
    ]));
    let deficit = s;
    let tt = &c.totals;
    let mut s = Section::new("allocation", "Allocation");
    s.blocks.push(Block::Fields(vec![
        ("Allocated to members".into(), v.mc(tt.allocated)?),
        ("Cash".into(), v.mc(tt.cash)?),
        ("Retained".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Losses charged to members".into(),
            v.mc(tt.losses_to_members)?,
        ),
    ]));
    for n in &c.notes {
        s.blocks.push(Block::Para(format!("Note: {n}")));
    }
    Ok([deficit, s])
}

/// The net-margin worksheet.
pub fn worksheet(v: &View) -> anyhow::Result<Doc> {
    let mut d = doc(v, "worksheet", "Net-margin worksheet");
    d.push_primary(units(v)?, 1);
    d.sections.extend(reserve(v)?);
    d.sections.extend(deficit_and_allocation(v)?);
    Ok(d)
}
