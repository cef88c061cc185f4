//! `e2c compare`: several scenario runs side by side as one document — a row per metric with a
//! column per scenario (the table `-O csv` writes), and the community share by year under each
//! lens, drawn as one line per scenario.

use rust_decimal::Decimal;

use super::{
    at_scale, fixed, irr_text, majority, moic_text, money_text, pct, pct_text, shortfall_text,
    year_text, LENSES,
};
use crate::e2c::E2cReport;
use crate::report::doc::{
    Block, Cell, Chart, ChartKind, Column, Doc, RowKind, Section, Series, Table,
};

type Metric<'a> = Box<dyn Fn(&E2cReport) -> String + 'a>;
/// A metric that needs no other run: its label and its value for one run.
type Row = (&'static str, fn(&E2cReport) -> String);

/// The community share in the first (`closing`) or last year under a lens.
fn share(r: &E2cReport, final_year: bool, f: super::Share) -> String {
    let y = if final_year {
        r.years.last()
    } else {
        r.years.first()
    };
    pct_text(y.map(f).unwrap_or_default())
}

/// Which assumptions of `r` differ from those of `first`.
fn assumptions_vs(first: &E2cReport, r: &E2cReport) -> String {
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
}

/// The metrics compared, in order: a label and the value of one run, for people.
fn metrics<'a>(rs: &'a [E2cReport]) -> Vec<(String, Metric<'a>)> {
    let mut v: Vec<(String, Metric<'a>)> = Vec::new();
    let mut add = |k: &str, f: Metric<'a>| v.push((k.to_string(), f));
    add("routes", Box::new(|r| r.routes.join(" + ")));
    if let Some(first) = rs.first() {
        add(
            "assumptions vs scenario 1",
            Box::new(move |r| assumptions_vs(first, r)),
        );
    }
    let rows: [Row; 15] = [
        ("community votes, closing", |r| {
            share(r, false, |y| y.community.votes)
        }),
        ("community votes, final", |r| {
            share(r, true, |y| y.community.votes)
        }),
        ("community economic, closing", |r| {
            share(r, false, |y| y.community.economic)
        }),
        ("community economic, final", |r| {
            share(r, true, |y| y.community.economic)
        }),
        ("community legal, final", |r| {
            share(r, true, |y| y.community.legal)
        }),
        ("time to majority: votes", |r| {
            year_text(r, r.metrics.time_to_majority_votes)
        }),
        ("time to majority: economic", |r| {
            year_text(r, r.metrics.time_to_majority_economic)
        }),
        ("time to majority: economic, instrument lens", |r| {
            year_text(r, r.metrics.time_to_majority_economic_instrument)
        }),
        ("time to majority: legal", |r| {
            year_text(r, r.metrics.time_to_majority_legal)
        }),
        ("full buyout", |r| year_text(r, r.metrics.full_buyout)),
        ("cash required, total", |r| {
            money_text(r.metrics.total_cash_required, r)
        }),
        ("shortfall years", |r| {
            shortfall_text(&r.metrics.shortfall_years, " ")
        }),
        ("Gini (economic, final)", |r| fixed(r.metrics.gini, 4)),
        ("HHI (economic, final)", |r| fixed(r.metrics.hhi, 0)),
        ("effective owners", |r| fixed(r.metrics.effective_owners, 2)),
    ];
    for (k, f) in rows {
        add(k, Box::new(f));
    }
    let mut ids: Vec<&str> = rs
        .iter()
        .flat_map(|r| r.metrics.investors.iter().map(|i| i.holder_id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        add(
            &format!("{id}: MOIC / IRR"),
            Box::new(move |r| {
                r.metrics
                    .investors
                    .iter()
                    .find(|i| i.holder_id == id)
                    .map_or_else(
                        || "—".to_string(),
                        |i| format!("{} / {}", moic_text(i.moic), irr_text(i.irr)),
                    )
            }),
        );
    }
    v
}

/// Several runs side by side.
pub fn compare(rs: &[E2cReport]) -> Doc {
    let header = rs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                format!("{}", i + 1),
                Cell::text(format!("{} ({})", r.scenario, r.file)),
            )
        })
        .collect();
    let mut doc = Doc {
        kind: "e2c-compare",
        title: "E2C routes compared".to_string(),
        header,
        sections: Vec::new(),
        primary: None,
    };
    let mut cols = vec![Column::new("metric", "metric")];
    cols.extend(
        rs.iter()
            .enumerate()
            .map(|(i, r)| Column::new(r.scenario.clone(), format!("{}", i + 1))),
    );
    let mut t = Table::with_columns(cols);
    for (label, f) in metrics(rs) {
        let mut cells = vec![Cell::Text(label)];
        cells.extend(rs.iter().map(|r| Cell::Text(f(r))));
        t.push(RowKind::Body, cells);
    }
    let mut s = Section::new("metrics", "Metrics");
    s.blocks.push(Block::Table(t));
    doc.push_primary(s, 0);
    doc.sections.push(community_by_year(rs));
    doc
}

/// The community share under each lens by year: a line per scenario (HTML), and the votes and
/// economic figures as a table.
fn community_by_year(rs: &[E2cReport]) -> Section {
    let n = rs.iter().map(|r| r.years.len()).max().unwrap_or(0);
    let mut s = Section::new("community", "Community share by year");
    for lens in &LENSES {
        let mut c = Chart::new(format!("{}: community share", lens.title), ChartKind::Lines);
        c.x_label = "year after closing".into();
        c.y_label = format!("{} (%)", lens.title);
        c.categories = (0..n).map(|t| format!("Y{t}")).collect();
        c.y_max = Some(Decimal::ONE_HUNDRED);
        c.y_suffix = "%";
        c.reference = Some(majority());
        c.series = rs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Series::new(
                    format!("scenario {}", i + 1),
                    (0..n)
                        .map(|t| r.years.get(t).map(|y| at_scale((lens.community)(y), 3)))
                        .collect(),
                )
            })
            .collect();
        s.blocks.push(Block::Chart(c));
    }
    let mut cols = vec![Column::new("year", "year")];
    for i in 1..=rs.len() {
        cols.push(Column::new(
            format!("votes_pct_{i}"),
            format!("{i} votes (%)"),
        ));
        cols.push(Column::new(
            format!("economic_pct_{i}"),
            format!("{i} economic (%)"),
        ));
    }
    let mut t = Table::with_columns(cols);
    for year in 0..n {
        let mut cells = vec![Cell::text(format!("Y{year}"))];
        for r in rs {
            match r.years.get(year) {
                Some(y) => {
                    cells.push(pct(y.community.votes));
                    cells.push(pct(y.community.economic));
                }
                None => cells.extend([Cell::Empty, Cell::Empty]),
            }
        }
        t.push(RowKind::Body, cells);
    }
    s.blocks.push(Block::Table(t));
    s
}

#[cfg(test)]
mod tests {
    use super::super::tests::tidepool;
    use super::*;

    #[test]
    fn a_column_per_scenario_and_a_line_per_scenario_and_lens() {
        let rs = [tidepool("eot.toml"), tidepool("staged-buyout.toml")];
        let doc = compare(&rs);
        let t = doc.primary_table().unwrap();
        assert_eq!(t.columns.len(), 3);
        assert_eq!(t.columns[1].key, rs[0].scenario);
        assert_eq!(t.columns[2].label, "2");
        let row = |k: &str| {
            t.rows
                .iter()
                .find(|r| r.cells[0].plain() == k)
                .unwrap_or_else(|| panic!("{k}"))
        };
        assert_eq!(row("cash required, total").cells[1].plain(), "9,673,394.52");
        assert_eq!(row("time to majority: votes").cells[1].plain(), "Y0 (2026)");
        let lines: usize = doc
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| match b {
                Block::Chart(c) => c.series.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(lines, 6);
    }
}
