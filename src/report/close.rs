//! Renderers of a [`Close`]: the allocation schedule and tranches as CSV, the JSON result, and a
//! plain-text summary for the terminal.

use crate::engine::close::Close;

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<Vec<u8>> {
    let mut w = crate::render::csv::Writer::from_writer(Vec::new());
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
    Ok(crate::render::json_bytes(c)?)
}
