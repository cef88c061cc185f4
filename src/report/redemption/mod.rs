//! The year's equity redemptions as report data ([`Report`], built from the engine's
//! [`Revolvement`]): the revolvement schedule by allocation year, per-member redemption
//! statements and 1099-PATR box 5 amounts. [`doc()`] turns it into a `Doc` for the renderers;
//! [`json()`] and [`csv()`] are the sealed serializations of the revolvement.

use std::collections::BTreeMap;

use crate::book::Book;
use crate::engine::revolve::{Revolvement, BOX5_KINDS};
use crate::engine::state::State;
use crate::engine::unclaimed::UnclaimedLine;
use crate::money::{Money, MoneyError};

mod doc;
mod sealed;

pub use self::doc::doc;
pub use self::sealed::{csv, json};

/// One allocation year of the revolvement schedule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScheduleRow {
    pub allocation_year: i32,
    pub opening: Money,
    /// retired by the plan (cash and set-off)
    pub retired: Money,
    /// estates and age retirements (cash and discount), leavers converted to debt
    pub special: Money,
    /// loss offsets (equity moved between a member's tranches, no cash)
    pub offsets: Money,
    pub closing: Money,
}

/// One member's redemption statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Statement {
    pub member_id: String,
    pub name: String,
    pub opening: Money,
    pub cash: Money,
    /// equity retired against what the member owes the co-op (receivables.csv)
    pub set_off: Money,
    pub discount: Money,
    pub converted_to_debt: Money,
    pub offsets: Money,
    /// joint memberships: received from a deceased joint member (+) or passed to the survivor (−)
    pub transferred: Money,
    pub closing: Money,
    /// 1099-PATR box 5: redemptions of nonqualified equity paid
    pub box5: Money,
    pub unpaid: Money,
    /// (allocation year, kind, amount, reason)
    pub lines: Vec<(i32, String, Money, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub coop: String,
    pub revolvement: Revolvement,
    pub schedule: Vec<ScheduleRow>,
    pub statements: Vec<Statement>,
    /// exceptions: uncashed payments due for notice or forfeiture at the year end (filled by the
    /// caller from [`crate::engine::unclaimed`]; not part of the sealed JSON)
    pub unclaimed: Vec<UnclaimedLine>,
}

fn add(
    m: &mut BTreeMap<i32, [Money; 4]>,
    y: i32,
    i: usize,
    a: Money,
    z: Money,
) -> Result<(), MoneyError> {
    let e = m.entry(y).or_insert([z; 4]);
    e[i] = e[i].checked_add(&a)?;
    Ok(())
}

/// Builds the report of `rev`, computed from `state`.
pub fn build(book: &Book, state: &State, rev: &Revolvement) -> Result<Report, MoneyError> {
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let fy = rev.fiscal_year;
    // schedule: [opening, retired, special, offsets] per allocation year
    let mut sch: BTreeMap<i32, [Money; 4]> = BTreeMap::new();
    // per member: [opening, cash, discount, to debt, offsets, box 5, set-off, transferred]
    let mut st: BTreeMap<String, [Money; 8]> = BTreeMap::new();
    let mut lines: BTreeMap<String, Vec<(i32, String, Money, String)>> = BTreeMap::new();
    let mut bump = |id: &str, i: usize, a: Money| -> Result<(), MoneyError> {
        let e = st.entry(id.to_string()).or_insert([z; 8]);
        e[i] = e[i].checked_add(&a)?;
        Ok(())
    };
    let mut line = |id: &str, y: i32, kind: &str, a: Money, reason: String| {
        lines
            .entry(id.to_string())
            .or_default()
            .push((y, kind.to_string(), a, reason));
    };
    for t in state.tranches.iter().filter(|t| t.allocation_year < fy) {
        let a = Money::from_decimal(t.amount, cur)?;
        add(&mut sch, t.allocation_year, 0, a, z)?;
        bump(&t.member_id, 0, a)?;
    }
    // cash payments (column 1) and set-offs (column 6) retire equity alike
    for (list, column) in [(&rev.payments, 1), (&rev.set_offs, 6)] {
        for p in list {
            add(
                &mut sch,
                p.allocation_year,
                if p.special { 2 } else { 1 },
                p.amount,
                z,
            )?;
            bump(&p.member_id, column, p.amount)?;
            if BOX5_KINDS.contains(&p.kind.as_str()) {
                bump(&p.member_id, 5, p.amount)?;
            }
            line(
                &p.member_id,
                p.allocation_year,
                &p.kind,
                p.amount,
                p.reason.clone(),
            );
        }
    }
    for t in &rev.transfers {
        // a move between members inside the allocation year: the schedule is unchanged
        let a = Money::from_decimal(t.amount, cur)?;
        bump(&t.member_id, 7, a.neg())?;
        bump(&t.to, 7, a)?;
        line(
            &t.member_id,
            t.allocation_year,
            &t.kind,
            a.neg(),
            t.reason.clone(),
        );
        line(
            &t.to,
            t.allocation_year,
            &t.kind,
            a,
            format!("received from the deceased joint member `{}`", t.member_id),
        );
    }
    // estate discounts (column 2) and balances converted to debt (column 3) are special
    for (list, column) in [(&rev.discounts, 2), (&rev.conversions, 3)] {
        for d in list {
            add(&mut sch, d.allocation_year, 2, d.amount, z)?;
            bump(&d.member_id, column, d.amount)?;
            line(
                &d.member_id,
                d.allocation_year,
                &d.kind,
                d.amount,
                d.reason.clone(),
            );
        }
    }
    for o in &rev.offsets {
        add(&mut sch, o.allocation_year, 3, o.amount, z)?;
        bump(&o.member_id, 4, o.amount)?;
    }
    let mut schedule = Vec::new();
    for (y, [o, r, s, f]) in sch {
        let closing = o.checked_sub(&r)?.checked_sub(&s)?.checked_sub(&f)?;
        schedule.push(ScheduleRow {
            allocation_year: y,
            opening: o,
            retired: r,
            special: s,
            offsets: f,
            closing,
        });
    }
    let mut unpaid: BTreeMap<&str, Money> = BTreeMap::new();
    for u in &rev.unpaid {
        let e = unpaid.entry(u.member_id.as_str()).or_insert(z);
        *e = e.checked_add(&u.amount)?;
    }
    let mut statements = Vec::new();
    for (id, [o, cash, disc, conv, off, box5, set_off, moved]) in st {
        let touched = !cash.is_zero()
            || !set_off.is_zero()
            || !disc.is_zero()
            || !conv.is_zero()
            || !off.is_zero()
            || !moved.is_zero()
            || unpaid.contains_key(id.as_str());
        if !touched {
            continue;
        }
        let closing = o
            .checked_sub(&cash)?
            .checked_sub(&set_off)?
            .checked_sub(&disc)?
            .checked_sub(&conv)?
            .checked_sub(&off)?
            .checked_add(&moved)?;
        let mut ls = lines.remove(&id).unwrap_or_default();
        ls.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        statements.push(Statement {
            name: book.member(&id).map(|m| m.name.clone()).unwrap_or_default(),
            opening: o,
            cash,
            set_off,
            discount: disc,
            converted_to_debt: conv,
            offsets: off,
            transferred: moved,
            closing,
            box5,
            unpaid: unpaid.get(id.as_str()).copied().unwrap_or(z),
            lines: ls,
            member_id: id,
        });
    }
    Ok(Report {
        coop: book.config.name.clone(),
        revolvement: rev.clone(),
        schedule,
        statements,
        unclaimed: Vec::new(),
    })
}
