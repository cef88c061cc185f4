//! 1099-PATR data for the calendar year in which the close's payment period ends.

use chrono::Datelike;
use rust_decimal::Decimal;

use super::{add, doc, sum, t};
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

/// 1099-PATR data for the calendar year in which the close's payment period ends.
pub fn patr1099(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let pay = c.dates.payment_period_end;
    let cy = pay.year();
    let mut d = doc(v, "1099-patr", "1099-PATR data");
    d.title = format!(
        "1099-PATR data — {}, calendar year {} (payments of fiscal year {})",
        c.coop, cy, c.fiscal_year
    );
    d.header
        .push(("Calendar year".into(), Cell::Int(i64::from(cy))));
    d.header
        .push(("Assumed payment date".into(), Cell::Date(pay)));
    let threshold = Decimal::new(1000, 2);
    let mut tb = Table::new(&[
        ("member_id", "Recipient"),
        ("name", "Name"),
        ("box1", "Box 1 patronage dividends"),
        ("box2", "Box 2 non-patronage distributions"),
        ("box3", "Box 3 per-unit retain allocations"),
        ("box4", "Box 4 federal income tax withheld"),
        ("box5", "Box 5 redemption of nonqualified notices"),
        ("form", "Form required"),
    ]);
    let z = Decimal::ZERO;
    let mut tot = [z; 5];
    let mut forms = 0i64;
    let mut members: Vec<&crate::ledger::record::Member> = c
        .members
        .iter()
        .filter(|m| m.cash > z || m.total > z)
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let qualified_face = if m.notice == "qualified" {
            m.retained
        } else {
            z
        };
        let b = [add(m.cash, qualified_face)?, z, z, z, z];
        let file = sum(&[b[0], b[1], b[2], b[4]])? >= threshold || b[3] > z;
        if file {
            forms += 1;
        }
        for i in 0..5 {
            tot[i] = add(tot[i], b[i])?;
        }
        let mut cells = vec![t(m.member_id.clone()), t(m.name.clone())];
        for x in b {
            cells.push(v.mc(x)?);
        }
        cells.push(Cell::Bool(file));
        tb.push(RowKind::Body, cells);
    }
    let mut cells = vec![t("total"), Cell::Empty];
    for x in tot {
        cells.push(v.mc(x)?);
    }
    cells.push(Cell::Int(forms));
    tb.push(RowKind::Total, cells);
    let mut s = Section::new("recipients", "Recipients");
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 0);
    let mut s = Section::new("assumptions", "Assumptions");
    for p in [
        format!("Cash and written notices of the fiscal year {} close are taken to be paid and issued on the last day of its payment period, {}, so they belong to calendar year {}. If you pay earlier in a different calendar year, report them in that year instead.", c.fiscal_year, pay, cy),
        "Box 1 = cash paid (including cash carried in from earlier years and paid now) + the stated amount of qualified written notices. Nonqualified notices are not reported when issued; cash carried forward to a later check is reported when paid.".into(),
        "Box 2 and box 3 are 0: the close allocates no non-patronage distributions and no per-unit retains. Box 4 is 0: no backup withholding is recorded in the book. Box 5 is 0: the close redeems no equity (report redemptions of nonqualified notices from the redemption run).".into(),
        "A form is required when boxes 1, 2, 3 and 5 total at least $10.00 or anything was withheld (§6044(b)); corporations and exempt recipients may be excepted.".into(),
    ] {
        s.blocks.push(Block::Para(p));
    }
    if v.coop_kind == "consumer" {
        s.blocks.push(Block::Para("Consumer co-op: patronage dividends on purchases for personal, living or family use are not income to the patron; a co-op with a Form 3491 exemption does not file these forms.".into()));
    }
    d.sections.push(s);
    Ok(d)
}
