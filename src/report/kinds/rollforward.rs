//! The equity roll-forward by member × tranche, and its reconciliation with the close.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{add, doc, sub, t, tally};
use crate::engine::state::Tranche;
use crate::ledger::record::CapitalAccount;
use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::report::view::View;

/// (member id, allocation year, tranche kind)
type Key = (String, i32, String);

/// The year's tranche movements by [`Key`]: before the close, created and cancelled by it, after it.
struct Movements {
    open: BTreeMap<Key, Decimal>,
    created: BTreeMap<Key, Decimal>,
    cancelled: BTreeMap<Key, Decimal>,
    close: BTreeMap<Key, Decimal>,
}

/// The amounts of `tranches` summed by [`Key`].
fn by_key(tranches: &[Tranche]) -> anyhow::Result<BTreeMap<Key, Decimal>> {
    let mut m = BTreeMap::new();
    for x in tranches {
        tally(
            &mut m,
            (x.member_id.clone(), x.allocation_year, x.kind.clone()),
            x.amount,
        )?;
    }
    Ok(m)
}

impl Movements {
    fn of(v: &View) -> anyhow::Result<Movements> {
        let c = &v.close;
        Ok(Movements {
            open: by_key(&v.opening.tranches)?,
            created: by_key(&c.tranches_created)?,
            cancelled: by_key(&c.tranches_cancelled)?,
            close: by_key(&c.state.tranches)?,
        })
    }

    /// Every key with a movement, sorted.
    fn keys(&self) -> Vec<&Key> {
        let mut keys: Vec<&Key> = self
            .open
            .keys()
            .chain(self.created.keys())
            .chain(self.cancelled.keys())
            .chain(self.close.keys())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// [opening, contributions, allocations, losses, interest, redemptions, closing] of `k`:
    /// whatever the close's new and cancelled tranches do not explain is a redemption.
    fn row(&self, k: &Key) -> anyhow::Result<[Decimal; 7]> {
        let z = Decimal::ZERO;
        let get = |m: &BTreeMap<Key, Decimal>| m.get(k).copied().unwrap_or(z);
        let (o, a, x, cl) = (
            get(&self.open),
            get(&self.created),
            get(&self.cancelled),
            get(&self.close),
        );
        let (mut contrib, mut alloc, mut loss, mut int) = (z, z, x, z);
        match k.2.as_str() {
            "qualified" | "nonqualified" => alloc = a,
            "loss" => loss = add(loss, a)?,
            "interest" => int = a,
            _ => contrib = a,
        }
        let red = sub(sub(sub(cl, o)?, a)?, x)?;
        Ok([o, contrib, alloc, loss, int, red, cl])
    }
}

/// Adds `row` to `acc`, column by column, exactly.
fn add_row(acc: &mut [Decimal; 7], row: &[Decimal; 7]) -> anyhow::Result<()> {
    for (a, x) in acc.iter_mut().zip(row) {
        *a = add(*a, *x)?;
    }
    Ok(())
}

/// `lead` cells followed by the seven amounts of `row`.
fn cells(v: &View, lead: Vec<Cell>, row: &[Decimal; 7]) -> anyhow::Result<Vec<Cell>> {
    let mut cells = lead;
    for x in row {
        cells.push(v.mc(*x)?);
    }
    Ok(cells)
}

/// The tranche table with a subtotal per member and a total; also the closing total and the
/// members whose tranches differ from their capital account.
fn tranches(v: &View) -> anyhow::Result<(Section, Decimal, Vec<String>)> {
    let mv = Movements::of(v)?;
    let keys = mv.keys();
    let mut tb = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("allocation_year", "Year"),
        ("kind", "Tranche"),
        ("opening", "Opening"),
        ("contributions", "Contributions"),
        ("allocations", "Allocations"),
        ("losses", "Losses"),
        ("interest", "Interest"),
        ("redemptions", "Redemptions"),
        ("closing", "Closing"),
    ]);
    let z = Decimal::ZERO;
    let mut unreconciled = Vec::new();
    let accounts: BTreeMap<&str, &CapitalAccount> = v
        .close
        .capital_accounts
        .iter()
        .map(|a| (a.member_id.as_str(), a))
        .collect();
    let mut members: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    members.extend(accounts.keys().copied());
    members.sort();
    members.dedup();
    let mut tot = [z; 7];
    for id in members {
        let name = v.name(id).to_string();
        let mut subtotal = [z; 7];
        for k in keys.iter().filter(|k| k.0 == id) {
            let row = mv.row(k)?;
            add_row(&mut subtotal, &row)?;
            let lead = vec![
                t(id),
                t(name.clone()),
                Cell::Int(i64::from(k.1)),
                t(k.2.clone()),
            ];
            tb.push(RowKind::Body, cells(v, lead, &row)?);
        }
        if let Some(acc) = accounts.get(id) {
            let want = [
                acc.opening,
                acc.contributions,
                acc.allocations,
                acc.losses,
                acc.interest,
                acc.redemptions,
                acc.closing,
            ];
            if want != subtotal {
                unreconciled.push(id.to_string());
            }
        }
        add_row(&mut tot, &subtotal)?;
        let lead = vec![t(id), t(name), Cell::Empty, t("all tranches")];
        tb.push(RowKind::Subtotal, cells(v, lead, &subtotal)?);
    }
    let lead = vec![t("total"), Cell::Empty, Cell::Empty, Cell::Empty];
    tb.push(RowKind::Total, cells(v, lead, &tot)?);
    let mut s = Section::new("tranches", "Member equity by tranche");
    s.blocks.push(Block::Para("Opening is the equity before the close, closing the equity after it. Losses are the equity the close cancelled (a member's newest tranches first); redemptions are changes that the close's new and cancelled tranches do not explain (the close itself redeems nothing).".into()));
    s.blocks.push(Block::Table(tb));
    Ok((s, tot[6], unreconciled))
}

/// The reconciliation of the tranches with the close's member equity and net-worth identity.
fn reconciliation(v: &View, closing: Decimal, unreconciled: &[String]) -> anyhow::Result<Section> {
    let i = &v.close.identity;
    let mut s = Section::new("reconciliation", "Reconciliation");
    let mut f = vec![
        ("Σ closing member equity (tranches)".into(), v.mc(closing)?),
        ("Member equity in the close".into(), v.mc(i.member_equity)?),
        ("Difference".into(), v.mc(sub(closing, i.member_equity)?)?),
        (
            "Every member's tranches equal the capital account".into(),
            Cell::Bool(unreconciled.is_empty()),
        ),
        ("Unallocated reserve".into(), v.mc(i.unallocated)?),
        ("Other stock".into(), v.mc(i.other_stock)?),
        (
            "Member equity + unallocated + other stock".into(),
            v.mc(i.sum)?,
        ),
    ];
    match i.net_worth {
        Some(nw) => {
            f.push(("Net worth (results.csv)".into(), v.mc(nw)?));
            f.push(("Identity difference".into(), v.mc(sub(i.sum, nw)?)?));
            f.push((
                "Identity holds".into(),
                Cell::Bool(i.balanced == Some(true)),
            ));
        }
        None => f.push((
            "Net worth (results.csv)".into(),
            t("not given; identity not checked"),
        )),
    }
    s.blocks.push(Block::Fields(f));
    s.blocks.push(Block::Para(format!(
        "Net-worth identity: member equity {} + unallocated {} + other stock {} = {}{}",
        v.m(i.member_equity)?.grouped(),
        v.m(i.unallocated)?.grouped(),
        v.m(i.other_stock)?.grouped(),
        v.m(i.sum)?.grouped(),
        match (i.net_worth, i.balanced) {
            (Some(nw), Some(true)) => format!(" = net worth {} (holds)", v.m(nw)?.grouped()),
            (Some(nw), _) => format!(
                " ≠ net worth {} (difference {})",
                v.m(nw)?.grouped(),
                v.m(sub(i.sum, nw)?)?.grouped()
            ),
            _ => String::new(),
        }
    )));
    if !unreconciled.is_empty() {
        s.blocks.push(Block::Para(format!(
            "Tranches differ from the capital accounts for: {}",
            unreconciled.join(", ")
        )));
    }
    Ok(s)
}

/// Equity roll-forward by member × tranche.
pub fn rollforward(v: &View) -> anyhow::Result<Doc> {
    let mut d = doc(v, "rollforward", "Equity roll-forward");
    let (s, closing, unreconciled) = tranches(v)?;
    d.push_primary(s, 1);
    d.sections.push(reconciliation(v, closing, &unreconciled)?);
    Ok(d)
}
