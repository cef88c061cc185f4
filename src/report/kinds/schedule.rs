//! The allocation schedule: member × unit × cash/retained, control totals equal to the pools.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{doc, sub, sum, t};
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

/// A row over all units: `lead` (member and name), the allocated, cash, retained and carried
/// forward `amounts`, and the `last` cell (the notice).
fn all_units(
    v: &View,
    lead: [Cell; 2],
    amounts: [Decimal; 4],
    last: Cell,
) -> anyhow::Result<Vec<Cell>> {
    let mut cells = lead.to_vec();
    cells.extend([t("all units"), Cell::Empty]);
    for x in amounts {
        cells.push(v.mc(x)?);
    }
    cells.push(last);
    Ok(cells)
}

/// Allocation schedule: member × unit × cash/retained, control totals equal to the pools.
pub fn schedule(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let mut d = doc(v, "schedule", "Allocation schedule");
    let mut tb = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("unit", "Unit"),
        ("patronage", "Patronage share"),
        ("amount", "Allocated"),
        ("cash", "Cash"),
        ("retained", "Retained"),
        ("carried_forward", "Cash carried forward"),
        ("notice", "Notice"),
    ]);
    let mut by_member: BTreeMap<&str, Vec<&crate::ledger::record::Allocation>> = BTreeMap::new();
    for a in &c.allocations {
        by_member.entry(a.member_id.as_str()).or_default().push(a);
    }
    let mut members: Vec<&crate::ledger::record::Member> = c.members.iter().collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let mut allocs = by_member.remove(m.member_id.as_str()).unwrap_or_default();
        allocs.sort_by(|a, b| a.unit.cmp(&b.unit));
        for a in allocs {
            tb.push(
                RowKind::Body,
                vec![
                    t(m.member_id.clone()),
                    t(m.name.clone()),
                    t(a.unit.clone()),
                    Cell::Num(a.patronage),
                    v.mc(a.amount)?,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
            );
        }
        let lead = [t(m.member_id.clone()), t(m.name.clone())];
        let amounts = [m.total, m.cash, m.retained, m.carried_out];
        tb.push(
            RowKind::Subtotal,
            all_units(v, lead, amounts, t(m.notice.clone()))?,
        );
    }
    let tt = &c.totals;
    let amounts = [tt.allocated, tt.cash, tt.retained, tt.carried_out];
    let lead = [t("total"), Cell::Empty];
    tb.push(RowKind::Total, all_units(v, lead, amounts, Cell::Empty)?);
    let mut s = Section::new("allocation", "Allocation by member and unit");
    s.blocks.push(Block::Para(
        "One line per member and allocation unit, then the member's total with its cash and retained parts. Cash is the policy's cash share rounded up to the cent; the retained part is credited as allocated equity of this fiscal year.".into(),
    ));
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 1);

    // control totals
    let mut ct = Table::new(&[
        ("unit", "Unit"),
        ("pool", "Allocable pool"),
        ("allocated", "Σ allocated"),
        ("difference", "Difference"),
    ]);
    let mut all_ok = true;
    for p in &c.pools {
        let allocated = sum(&c
            .allocations
            .iter()
            .filter(|a| a.unit == p.unit)
            .map(|a| a.amount)
            .collect::<Vec<_>>())?;
        let diff = sub(allocated, p.allocable)?;
        all_ok &= diff.is_zero();
        ct.push(
            RowKind::Body,
            vec![
                t(p.unit.clone()),
                v.mc(p.allocable)?,
                v.mc(allocated)?,
                v.mc(diff)?,
            ],
        );
    }
    let pools_total = sum(&c.pools.iter().map(|p| p.allocable).collect::<Vec<_>>())?;
    let members_total = sum(&c.members.iter().map(|m| m.total).collect::<Vec<_>>())?;
    ct.push(
        RowKind::Total,
        vec![
            t("all units"),
            v.mc(pools_total)?,
            v.mc(members_total)?,
            v.mc(sub(members_total, pools_total)?)?,
        ],
    );
    let cash_plus = sum(&[tt.cash, tt.retained, tt.carried_out])?;
    let mut s = Section::new("control", "Control totals");
    s.blocks.push(Block::Table(ct));
    s.blocks.push(Block::Fields(vec![
        ("Allocated".into(), v.mc(tt.allocated)?),
        ("Cash paid".into(), v.mc(tt.cash)?),
        ("Retained".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Pools equal allocations".into(),
            Cell::Bool(all_ok && members_total == pools_total),
        ),
    ]));
    if cash_plus != tt.allocated {
        s.blocks.push(Block::Para(format!(
            "Cash + retained + carried forward = {} differs from the allocated total: cash includes amounts carried in from earlier years, or losses were netted.",
            v.m(cash_plus)?.grouped()
        )));
    }
    d.sections.push(s);
    Ok(d)
}
