//! Renderers of a [`Close`]: the allocation schedule and tranches as CSV, the JSON result, and a
//! plain-text summary for the terminal.

use std::fmt::Write as _;

use crate::engine::close::Close;

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// The allocation schedule: one row per member × unit, then per-member totals with cash and
/// retained parts, and control totals equal to the pools.
pub fn allocation_csv(c: &Close) -> anyhow::Result<Vec<u8>> {
    let mut rows = Vec::new();
    for a in &c.allocations {
        rows.push(vec![
            a.member_id.clone(),
            a.unit.clone(),
            a.patronage.to_string(),
            a.amount.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for m in &c.members {
        rows.push(vec![
            m.member_id.clone(),
            "*".into(),
            String::new(),
            m.total.to_string(),
            m.cash.to_string(),
            m.retained.to_string(),
            format!("{:?}", m.notice).to_lowercase(),
        ]);
    }
    for p in &c.pools {
        rows.push(vec![
            "*".into(),
            p.unit.clone(),
            String::new(),
            p.allocable.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    rows.push(vec![
        "*".into(),
        "*".into(),
        String::new(),
        c.totals.allocated.to_string(),
        c.totals.cash.to_string(),
        c.totals.retained.to_string(),
        String::new(),
    ]);
    csv_bytes(
        &[
            "member_id",
            "unit",
            "patronage",
            "amount",
            "cash",
            "retained",
            "notice",
        ],
        rows,
    )
}

/// The equity tranches the close created.
pub fn tranches_csv(c: &Close) -> anyhow::Result<Vec<u8>> {
    let rows = c
        .tranches_created
        .iter()
        .map(|t| {
            vec![
                t.member_id.clone(),
                t.allocation_year.to_string(),
                t.kind.clone(),
                t.amount.to_string(),
            ]
        })
        .collect();
    csv_bytes(&["member_id", "allocation_year", "kind", "amount"], rows)
}

/// The machine-readable result (`close --dry-run --format json`); money as strings.
pub fn json(c: &Close) -> anyhow::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(c)?;
    out.push(b'\n');
    Ok(out)
}

/// A short summary for the terminal.
pub fn text(c: &Close) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — close of fiscal year {} ({} to {}), {}",
        c.coop, c.fiscal_year, c.dates.start, c.dates.end, c.currency
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<12} {:>14} {:>14} {:>14} {:>12} {:>14}",
        "unit", "margin", "member share", "non-member", "reserve", "allocated"
    );
    for p in &c.pools {
        let _ = writeln!(
            s,
            "{:<12} {:>14} {:>14} {:>14} {:>12} {:>14}",
            p.unit,
            p.patronage_margin.grouped(),
            p.member_share.grouped(),
            p.nonmember_share.grouped(),
            p.reserve.grouped(),
            p.allocable.grouped()
        );
    }
    let t = &c.totals;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} members allocated {}: cash {} (paid by {}), retained {}{}",
        c.members.iter().filter(|m| m.total.is_positive()).count(),
        t.allocated.grouped(),
        t.cash.grouped(),
        c.dates.payment_period_end,
        t.retained.grouped(),
        if t.carried_out.is_positive() {
            format!(", carried forward {}", t.carried_out.grouped())
        } else {
            String::new()
        }
    );
    if t.losses_to_members.is_negative() {
        let _ = writeln!(
            s,
            "losses charged to members: {}",
            t.losses_to_members.grouped()
        );
    }
    let r = &c.reserves;
    let _ = writeln!(
        s,
        "unallocated reserve: {} → {} (addition {})",
        r.opening.grouped(),
        r.closing.grouped(),
        r.addition.grouped()
    );
    if c.deficit.closing.is_positive() || c.deficit.opening.is_positive() {
        let _ = writeln!(
            s,
            "loss carried forward: {} → {}",
            c.deficit.opening.grouped(),
            c.deficit.closing.grouped()
        );
    }
    let i = &c.identity;
    match (i.net_worth, i.balanced) {
        (Some(nw), Some(true)) => {
            let _ = writeln!(s, "net-worth identity holds: capital accounts {} + unallocated {} + other stock {} = {}", i.member_equity.grouped(), i.unallocated.grouped(), i.other_stock.grouped(), nw.grouped());
        }
        (Some(nw), _) => {
            let _ = writeln!(
                s,
                "net-worth identity does NOT hold: {} vs net_worth {}",
                i.sum.grouped(),
                nw.grouped()
            );
        }
        _ => {
            let _ = writeln!(s, "capital accounts {} + unallocated {} = {} (no net_worth in results.csv to check against)", i.member_equity.grouped(), i.unallocated.grouped(), i.sum.grouped());
        }
    }
    for n in &c.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
