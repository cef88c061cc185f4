//! The sealed serializations of the year's [`Revolvement`]: `redemptions.json` (the JSON
//! contract) and `redemptions.csv` (every amount as one table). `revolve -O json` and `-O csv`
//! write these bytes too.

use std::fmt::Display;

use crate::engine::revolve::Revolvement;
use crate::money::Money;

/// The JSON contract (`fiscal_year`, `plan`, `payments`, `total`, `unpaid`, ...), money as strings.
pub fn json(rev: &Revolvement) -> anyhow::Result<Vec<u8>> {
    Ok(crate::render::json_bytes(rev)?)
}

/// Every amount of the year as one CSV table: `status` = paid | set_off | discount |
/// converted_to_debt | loss_offset | transferred_out | transferred_in | unpaid.
pub fn csv(rev: &Revolvement) -> anyhow::Result<Vec<u8>> {
    let mut w = crate::render::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "fiscal_year",
        "status",
        "member_id",
        "allocation_year",
        "kind",
        "amount",
        "reason",
    ])?;
    let fy = rev.fiscal_year.to_string();
    let mut row = |status: &str,
                   id: &str,
                   year: &dyn Display,
                   kind: &str,
                   amount: &dyn Display,
                   reason: &str| {
        let (year, amount) = (year.to_string(), amount.to_string());
        w.write_record([fy.as_str(), status, id, &year, kind, &amount, reason])
    };
    for (status, list) in [("paid", &rev.payments), ("set_off", &rev.set_offs)] {
        for p in list {
            row(
                status,
                &p.member_id,
                &p.allocation_year,
                &p.kind,
                &p.amount,
                &p.reason,
            )?;
        }
    }
    for (status, list) in [
        ("discount", &rev.discounts),
        ("converted_to_debt", &rev.conversions),
        ("loss_offset", &rev.offsets),
    ] {
        for r in list {
            row(
                status,
                &r.member_id,
                &r.allocation_year,
                &r.kind,
                &r.amount,
                &r.reason,
            )?;
        }
    }
    let amount = |d: rust_decimal::Decimal| {
        Money::from_decimal(d, rev.total.currency())
            .map(|m| m.to_string())
            .unwrap_or_else(|_| d.to_string())
    };
    for t in &rev.transfers {
        let (y, a) = (&t.allocation_year, amount(t.amount));
        row("transferred_out", &t.member_id, y, &t.kind, &a, &t.reason)?;
        let reason = format!("received from the deceased joint member `{}`", t.member_id);
        row("transferred_in", &t.to, y, &t.kind, &a, &reason)?;
    }
    for u in &rev.unpaid {
        row("unpaid", &u.member_id, &"", "", &u.amount, &u.reason)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}
