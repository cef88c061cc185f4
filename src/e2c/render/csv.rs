//! CSV: one tidy table, one row per (year, holder | segment | community), money and percentages
//! as plain decimals. `compare` writes one row per metric and one column per scenario.

use std::io::{self, Write};

use super::{money, pct};
use crate::e2c::engine::E2cReport;
use crate::e2c::num;

const HEADER: [&str; 15] = [
    "scenario",
    "year",
    "level",
    "id",
    "name",
    "segment",
    "community",
    "units",
    "votes_pct",
    "economic_pct",
    "legal_pct",
    "claim",
    "cash_required",
    "capacity",
    "shortfall",
];

fn to_io(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

pub fn render(out: &mut dyn Write, r: &E2cReport) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(to_io)?;
    for y in &r.years {
        let t = y.t.to_string();
        for h in &y.holders {
            w.write_record([
                r.scenario.as_str(),
                &t,
                "holder",
                &h.holder_id,
                &h.name,
                &h.segment,
                if h.community { "true" } else { "false" },
                &num::fixed(h.units, 2),
                &pct(h.votes_pct),
                &pct(h.economic_pct),
                &pct(h.legal_pct),
                &money(h.claim, r),
                "",
                "",
                "",
            ])
            .map_err(to_io)?;
        }
        for s in &y.segments {
            w.write_record([
                r.scenario.as_str(),
                &t,
                "segment",
                &s.segment,
                "",
                &s.segment,
                if s.community { "true" } else { "false" },
                &num::fixed(s.units, 2),
                &pct(s.votes_pct),
                &pct(s.economic_pct),
                &pct(s.legal_pct),
                &money(s.claim, r),
                "",
                "",
                "",
            ])
            .map_err(to_io)?;
        }
        w.write_record([
            r.scenario.as_str(),
            &t,
            "community",
            "community",
            "",
            "",
            "true",
            "",
            &pct(y.community.votes),
            &pct(y.community.economic),
            &pct(y.community.legal),
            "",
            &money(y.cash_required, r),
            &money(y.capacity, r),
            if y.shortfall { "true" } else { "false" },
        ])
        .map_err(to_io)?;
    }
    w.flush()
}

pub fn compare(out: &mut dyn Write, rs: &[E2cReport]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut head = vec!["metric".to_string()];
    head.extend(rs.iter().map(|r| r.scenario.clone()));
    w.write_record(&head).map_err(to_io)?;
    for (k, vs) in super::md::compare_rows(rs) {
        let mut row = vec![k];
        row.extend(vs);
        w.write_record(&row).map_err(to_io)?;
    }
    w.flush()
}
