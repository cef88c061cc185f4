//! Markdown: summary, community share by year, segments and holders under each lens, investors,
//! cash, control (vetoes, Banzhaf), concentration, bonuses and notes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rust_decimal::Decimal;

use super::{irr_h, moic_h, money_h, pct_h, year_h};
use crate::e2c::engine::E2cReport;
use crate::e2c::lens::{HolderRow, SegmentRow};
use crate::e2c::num;

/// Escapes table-breaking characters in text from the inputs.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn year_cols(r: &E2cReport) -> String {
    r.years.iter().map(|y| format!(" Y{} |", y.t)).collect()
}

fn sep(n: usize) -> String {
    format!("|{}", "---|".repeat(n))
}

/// A lens: its title, the segment value and the holder value (percent).
pub type Lens = (
    &'static str,
    fn(&SegmentRow) -> Decimal,
    fn(&HolderRow) -> Decimal,
);

pub fn lenses() -> [Lens; 3] {
    [
        ("Votes (control)", |s| s.votes_pct, |h| h.votes_pct),
        ("Economic claims", |s| s.economic_pct, |h| h.economic_pct),
        ("Legal title", |s| s.legal_pct, |h| h.legal_pct),
    ]
}

pub fn render(out: &mut dyn Write, r: &E2cReport) -> io::Result<()> {
    let m = &r.metrics;
    writeln!(out, "# E2C scenario: {}\n", cell(&r.scenario))?;
    if !r.description.is_empty() {
        writeln!(out, "{}\n", cell(&r.description))?;
    }
    writeln!(
        out,
        "Scenario `{}` · currency {} · routes: {} · community segments: {}\n",
        cell(&r.file),
        r.currency,
        r.routes.join(", "),
        r.community_segments.join(", ")
    )?;
    if let Some(y) = r.start_year {
        writeln!(
            out,
            "Y0 is the closing at the start of {y}; Y1 … are the years that follow.\n"
        )?;
    }
    let first = r.years.first();
    let last = r.years.last();
    writeln!(out, "## Summary\n")?;
    writeln!(
        out,
        "| lens | community at closing | community in final year | time to majority (> 50%) |"
    )?;
    writeln!(out, "|---|---:|---:|---|")?;
    let rows = [
        (
            "votes",
            first.map(|y| y.community.votes),
            last.map(|y| y.community.votes),
            m.time_to_majority_votes,
        ),
        (
            "economic claims",
            first.map(|y| y.community.economic),
            last.map(|y| y.community.economic),
            m.time_to_majority_economic,
        ),
        (
            "economic claims, instrument lens",
            first.map(|y| y.community_instrument_economic),
            last.map(|y| y.community_instrument_economic),
            m.time_to_majority_economic_instrument,
        ),
        (
            "legal title",
            first.map(|y| y.community.legal),
            last.map(|y| y.community.legal),
            m.time_to_majority_legal,
        ),
    ];
    for (l, a, b, t) in rows {
        writeln!(
            out,
            "| {l} | {} | {} | {} |",
            pct_h(a.unwrap_or_default()),
            pct_h(b.unwrap_or_default()),
            year_h(r, t)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Full buyout (community holds every economic claim): {}. Cash required over the horizon: {} {}. Shortfall years: {}.\n",
        year_h(r, m.full_buyout),
        money_h(m.total_cash_required, r),
        r.currency,
        if m.shortfall_years.is_empty() {
            "none".to_string()
        } else {
            m.shortfall_years.iter().map(|t| format!("Y{t}")).collect::<Vec<_>>().join(", ")
        }
    )?;

    writeln!(out, "## Before and after closing\n")?;
    writeln!(
        out,
        "| holder | votes before | votes at closing | votes, final year | title before | title at closing |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for b in &r.before {
        let at = |y: Option<&crate::e2c::lens::YearView>, f: fn(&HolderRow) -> Decimal| {
            y.and_then(|y| y.holders.iter().find(|h| h.holder_id == b.holder_id))
                .map_or(Decimal::ZERO, f)
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&b.holder_id),
            pct_h(b.votes_pct),
            pct_h(at(first, |h| h.votes_pct)),
            pct_h(at(last, |h| h.votes_pct)),
            pct_h(b.legal_pct),
            pct_h(at(first, |h| h.legal_pct)),
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Community share and cash by year\n")?;
    writeln!(
        out,
        "| year | votes | economic | legal | cash required | capacity | shortfall |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
    for y in &r.years {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            year_h(r, Some(y.t)),
            pct_h(y.community.votes),
            pct_h(y.community.economic),
            pct_h(y.community.legal),
            money_h(y.cash_required, r),
            money_h(y.capacity, r),
            if y.shortfall { "**shortfall**" } else { "" }
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Segments\n")?;
    let segs: Vec<(String, bool)> = {
        let mut v: BTreeMap<String, bool> = BTreeMap::new();
        for y in &r.years {
            for s in &y.segments {
                v.insert(s.segment.clone(), s.community);
            }
        }
        v.into_iter().collect()
    };
    for (title, fs, _) in lenses() {
        writeln!(out, "### {title} by segment (%)\n")?;
        writeln!(out, "| segment | community |{}", year_cols(r))?;
        writeln!(out, "{}", sep(2 + r.years.len()))?;
        for (s, c) in &segs {
            let mut line = format!("| {} | {} |", cell(s), if *c { "yes" } else { "no" });
            for y in &r.years {
                let v = y
                    .segments
                    .iter()
                    .find(|x| &x.segment == s)
                    .map(fs)
                    .unwrap_or_default();
                line.push_str(&format!(" {} |", num::fixed(v, 3)));
            }
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Holders\n")?;
    for (title, _, fh) in lenses() {
        writeln!(out, "### {title} by holder (%)\n")?;
        writeln!(out, "| holder | segment |{}", year_cols(r))?;
        writeln!(out, "{}", sep(2 + r.years.len()))?;
        if let Some(y0) = last {
            for (i, h) in y0.holders.iter().enumerate() {
                let mut line = format!(
                    "| {} ({}) | {} |",
                    cell(&h.holder_id),
                    cell(&h.name),
                    cell(&h.segment)
                );
                for y in &r.years {
                    let v = y.holders.get(i).map(fh).unwrap_or_default();
                    line.push_str(&format!(" {} |", num::fixed(v, 3)));
                }
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "### Claims by holder ({})\n", r.currency)?;
    writeln!(out, "| holder |{}", year_cols(r))?;
    writeln!(out, "{}", sep(1 + r.years.len()))?;
    if let Some(y0) = last {
        for (i, h) in y0.holders.iter().enumerate() {
            let mut line = format!("| {} |", cell(&h.holder_id));
            for y in &r.years {
                let v = y.holders.get(i).map(|x| x.claim).unwrap_or_default();
                line.push_str(&format!(" {} |", money_h(v, r)));
            }
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out)?;
    if let Some(y) = last {
        if y.holders.iter().any(|h| h.board_pct > Decimal::ZERO) {
            writeln!(out, "### Board-election weight, final year\n")?;
            writeln!(out, "| holder | board weight |")?;
            writeln!(out, "|---|---:|")?;
            for h in y.holders.iter().filter(|h| h.board_pct > Decimal::ZERO) {
                writeln!(out, "| {} | {} |", cell(&h.holder_id), pct_h(h.board_pct))?;
            }
            writeln!(out)?;
        }
    }

    writeln!(out, "## Investors and sellers\n")?;
    if m.investors.is_empty() {
        writeln!(out, "No holder put money at risk or received payments.\n")?;
    } else {
        writeln!(
            out,
            "| holder | segment | invested | paid | MOIC | IRR | still claimed at the end | IRR incl. that claim |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|")?;
        for i in &m.investors {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&i.holder_id),
                cell(&i.segment),
                money_h(i.invested, r),
                money_h(i.paid, r),
                moic_h(i.moic),
                irr_h(i.irr),
                money_h(i.outstanding, r),
                irr_h(i.irr_with_outstanding)
            )?;
        }
        writeln!(
            out,
            "\nMOIC = cash received / money at risk. IRR by bisection on [−99%, 1000%] over the cash actually received; n/a when the flows do not change sign. The last column also counts what the holder still claims at the end of the horizon as received in the final year.\n"
        )?;
    }

    writeln!(out, "## Payments by year\n")?;
    writeln!(out, "| year | route | kind | total |")?;
    writeln!(out, "|---|---|---|---:|")?;
    for y in &r.years {
        let mut by: BTreeMap<(String, &str), Decimal> = BTreeMap::new();
        for p in &y.payments {
            let e = by.entry((p.route.clone(), p.kind)).or_default();
            *e = e.checked_add(p.amount).unwrap_or(*e);
        }
        for ((route, kind), v) in by {
            writeln!(
                out,
                "| Y{} | {} | {} | {} |",
                y.t,
                cell(&route),
                kind,
                money_h(v, r)
            )?;
        }
    }
    writeln!(out)?;

    writeln!(out, "## Control\n")?;
    if let Some(y) = last {
        if y.vetoes.is_empty() {
            writeln!(
                out,
                "No holder has a reserved-matter veto in the final year.\n"
            )?;
        } else {
            for (h, ms) in &y.vetoes {
                writeln!(out, "- `{}` can block: {}", cell(h), ms.join(", "))?;
            }
            writeln!(out)?;
        }
        for yy in [first, last].into_iter().flatten() {
            if let Some(b) = &yy.banzhaf {
                writeln!(out, "Banzhaf power (strict majority), Y{}:\n", yy.t)?;
                writeln!(out, "| voter | votes | Banzhaf |")?;
                writeln!(out, "|---|---:|---:|")?;
                for (h, p) in b {
                    let v = yy
                        .holders
                        .iter()
                        .find(|x| &x.holder_id == h)
                        .map(|x| x.votes_pct)
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "| {} | {} | {} |",
                        cell(h),
                        pct_h(v),
                        pct_h(*p * Decimal::ONE_HUNDRED)
                    )?;
                }
                writeln!(out)?;
            }
            if first == last {
                break;
            }
        }
    }

    writeln!(out, "## Concentration, final year\n")?;
    writeln!(
        out,
        "Over holders with a positive value under each lens (a pooled member group counts once).\n"
    )?;
    writeln!(out, "| lens | Gini | HHI | effective owners | owners |")?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    if let Some(y) = last {
        for (l, c) in &y.concentration {
            writeln!(
                out,
                "| {l} | {} | {} | {} | {} |",
                num::fixed(c.gini, 4),
                num::fixed(c.hhi, 0),
                num::fixed(c.effective_owners, 2),
                c.owners
            )?;
        }
    }
    writeln!(out)?;

    if let Some(y) = r.years.iter().find(|y| !y.bonuses.is_empty()) {
        writeln!(out, "## EOT bonus, Y{}\n", y.t)?;
        writeln!(
            out,
            "| employee | by pay | by service | by hours | total | tax-free | taxable |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
        for b in &y.bonuses {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&b.employee),
                money_h(b.by_pay, r),
                money_h(b.by_service, r),
                money_h(b.by_hours, r),
                money_h(b.total, r),
                money_h(b.tax_free, r),
                money_h(b.taxable, r)
            )?;
        }
        writeln!(out)?;
    }

    let notes: Vec<(u32, &String)> = r
        .years
        .iter()
        .flat_map(|y| y.notes.iter().map(move |n| (y.t, n)))
        .collect();
    if !notes.is_empty() {
        writeln!(out, "## Notes\n")?;
        for (t, n) in notes {
            writeln!(out, "- Y{t}: {}", cell(n))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One row per metric, one column per scenario.
pub fn compare_rows(rs: &[E2cReport]) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |k: &str, f: &dyn Fn(&E2cReport) -> String| {
        rows.push((k.to_string(), rs.iter().map(f).collect()))
    };
    add("routes", &|r| r.routes.join(" + "));
    if let Some(first) = rs.first() {
        add("assumptions vs scenario 1", &|r| {
            let mut keys: Vec<&String> = r
                .assumptions
                .keys()
                .chain(first.assumptions.keys())
                .collect();
            keys.sort();
            keys.dedup();
            let differ: Vec<&str> = keys
                .into_iter()
                .filter(|k| r.assumptions.get(*k) != first.assumptions.get(*k))
                .map(String::as_str)
                .collect();
            if differ.is_empty() {
                "same".to_string()
            } else {
                format!("differ: {}", differ.join(", "))
            }
        });
    }
    add("community votes, closing", &|r| {
        pct_h(
            r.years
                .first()
                .map(|y| y.community.votes)
                .unwrap_or_default(),
        )
    });
    add("community votes, final", &|r| {
        pct_h(
            r.years
                .last()
                .map(|y| y.community.votes)
                .unwrap_or_default(),
        )
    });
    add("community economic, closing", &|r| {
        pct_h(
            r.years
                .first()
                .map(|y| y.community.economic)
                .unwrap_or_default(),
        )
    });
    add("community economic, final", &|r| {
        pct_h(
            r.years
                .last()
                .map(|y| y.community.economic)
                .unwrap_or_default(),
        )
    });
    add("community legal, final", &|r| {
        pct_h(
            r.years
                .last()
                .map(|y| y.community.legal)
                .unwrap_or_default(),
        )
    });
    add("time to majority: votes", &|r| {
        year_h(r, r.metrics.time_to_majority_votes)
    });
    add("time to majority: economic", &|r| {
        year_h(r, r.metrics.time_to_majority_economic)
    });
    add("time to majority: economic, instrument lens", &|r| {
        year_h(r, r.metrics.time_to_majority_economic_instrument)
    });
    add("time to majority: legal", &|r| {
        year_h(r, r.metrics.time_to_majority_legal)
    });
    add("full buyout", &|r| year_h(r, r.metrics.full_buyout));
    add("cash required, total", &|r| {
        money_h(r.metrics.total_cash_required, r)
    });
    add("shortfall years", &|r| {
        if r.metrics.shortfall_years.is_empty() {
            "none".to_string()
        } else {
            r.metrics
                .shortfall_years
                .iter()
                .map(|t| format!("Y{t}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    });
    add("Gini (economic, final)", &|r| num::fixed(r.metrics.gini, 4));
    add("HHI (economic, final)", &|r| num::fixed(r.metrics.hhi, 0));
    add("effective owners", &|r| {
        num::fixed(r.metrics.effective_owners, 2)
    });
    let mut ids: Vec<String> = rs
        .iter()
        .flat_map(|r| r.metrics.investors.iter().map(|i| i.holder_id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        rows.push((
            format!("{id}: MOIC / IRR"),
            rs.iter()
                .map(|r| {
                    r.metrics
                        .investors
                        .iter()
                        .find(|i| i.holder_id == id)
                        .map_or_else(
                            || "—".to_string(),
                            |i| format!("{} / {}", moic_h(i.moic), irr_h(i.irr)),
                        )
                })
                .collect(),
        ));
    }
    rows
}

pub fn compare(out: &mut dyn Write, rs: &[E2cReport]) -> io::Result<()> {
    writeln!(out, "# E2C routes compared\n")?;
    for (i, r) in rs.iter().enumerate() {
        writeln!(
            out,
            "{}. **{}** (`{}`)",
            i + 1,
            cell(&r.scenario),
            cell(&r.file)
        )?;
    }
    writeln!(out)?;
    let mut head = "| metric |".to_string();
    for i in 0..rs.len() {
        head.push_str(&format!(" {} |", i + 1));
    }
    writeln!(out, "{head}")?;
    writeln!(out, "{}", sep(1 + rs.len()))?;
    for (k, vs) in compare_rows(rs) {
        writeln!(
            out,
            "| {} | {} |",
            cell(&k),
            vs.iter().map(|v| cell(v)).collect::<Vec<_>>().join(" | ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "## Community share by year\n")?;
    let n = rs.iter().map(|r| r.years.len()).max().unwrap_or(0);
    let mut head = "| year |".to_string();
    for i in 0..rs.len() {
        head.push_str(&format!(" {} votes | {} economic |", i + 1, i + 1));
    }
    writeln!(out, "{head}")?;
    writeln!(out, "{}", sep(1 + 2 * rs.len()))?;
    for t in 0..n {
        let mut line = format!("| Y{t} |");
        for r in rs {
            match r.years.get(t) {
                Some(y) => line.push_str(&format!(
                    " {} | {} |",
                    pct_h(y.community.votes),
                    pct_h(y.community.economic)
                )),
                None => line.push_str(" | |"),
            }
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    Ok(())
}
