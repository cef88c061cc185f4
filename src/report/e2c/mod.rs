//! The Exit-to-Community reports as documents: one scenario run ([`scenario`]) and several runs
//! side by side ([`compare::compare`]), built from the typed report data ([`E2cReport`]) and written
//! by [`crate::render`] like every other report. Charts are [`Block::Chart`]s: ownership by
//! segment, stacked, one per lens for a run; the community share, one line per scenario, for a
//! comparison. JSON is not a rendering of the document but the serialization of the report data
//! ([`json`]), a machine contract.

pub mod compare;
pub mod json;

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::e2c::lens::{HolderRow, SegmentRow, YearView};
use crate::e2c::E2cReport;
use crate::money::{at_scale, dec, fixed, group_thousands, ArithError, Currency, Money};
use crate::report::doc::{
    Block, Cell, Chart, ChartKind, Column, Doc, RowKind, Section, Series, Table,
};

/// Colours of community segments (greens and blues) and of the others (reds and browns).
const COMMUNITY_COLOURS: [&str; 6] = [
    "#1b7837", "#5aae61", "#2166ac", "#4393c3", "#92c5de", "#a6dba0",
];
const OTHER_COLOURS: [&str; 6] = [
    "#b2182b", "#d6604d", "#f4a582", "#8c510a", "#bf812d", "#dfc27d",
];

/// The community's share of a year under one lens (percent).
type Share = fn(&YearView) -> Decimal;

/// A lens: its key, its title, the segment value and the holder value (percent).
struct Lens {
    key: &'static str,
    title: &'static str,
    segment: fn(&SegmentRow) -> Decimal,
    holder: fn(&HolderRow) -> Decimal,
    community: Share,
}

const LENSES: [Lens; 3] = [
    Lens {
        key: "votes",
        title: "Votes (control)",
        segment: |s| s.votes_pct,
        holder: |h| h.votes_pct,
        community: |y| y.community.votes,
    },
    Lens {
        key: "economic",
        title: "Economic claims",
        segment: |s| s.economic_pct,
        holder: |h| h.economic_pct,
        community: |y| y.community.economic,
    },
    Lens {
        key: "legal",
        title: "Legal title",
        segment: |s| s.legal_pct,
        holder: |h| h.legal_pct,
        community: |y| y.community.legal,
    },
];

/// A percentage for people: 3 decimals (the column label says `%`).
fn pct(d: Decimal) -> Cell {
    Cell::Num(at_scale(d, 3))
}

/// A percentage in running text: `19.355%`.
fn pct_text(d: Decimal) -> String {
    format!("{}%", fixed(d, 3))
}

/// Money rounded to the currency's minor units (grouped for people, plain for machines).
fn money(d: Decimal, r: &E2cReport) -> Cell {
    let d = at_scale(d, r.minor_units);
    Currency::new(&r.currency, r.minor_units)
        .and_then(|c| Money::from_decimal(d, c))
        .map_or(Cell::Num(d), Cell::Money)
}

/// Money in running text: `1,234.50`.
fn money_text(d: Decimal, r: &E2cReport) -> String {
    group_thousands(&fixed(d, r.minor_units))
}

fn moic_text(d: Option<Decimal>) -> String {
    d.map_or_else(|| "n/a".to_string(), |x| format!("{}x", fixed(x, 2)))
}

/// An IRR in percent, 2 decimals, or `n/a`.
fn irr_percent(d: Option<Decimal>) -> Option<Decimal> {
    d.and_then(|x| x.checked_mul(Decimal::ONE_HUNDRED))
        .map(|x| at_scale(x, 2))
}

fn irr_text(d: Option<Decimal>) -> String {
    irr_percent(d).map_or_else(|| "n/a".to_string(), |x| format!("{x}%"))
}

fn irr_cell(d: Option<Decimal>) -> Cell {
    irr_percent(d).map_or_else(|| Cell::text("n/a"), Cell::Num)
}

/// `Y3 (2029)` when the scenario has a start year, else `Y3`; `never` for none.
fn year_text(r: &E2cReport, t: Option<u32>) -> String {
    match t {
        None => "never".to_string(),
        Some(t) if r.start_year.is_some() => format!("Y{t} ({})", r.year_label(t)),
        Some(t) => format!("Y{t}"),
    }
}

fn shortfall_text(years: &[u32], sep: &str) -> String {
    if years.is_empty() {
        "none".to_string()
    } else {
        years
            .iter()
            .map(|t| format!("Y{t}"))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// The lenses' 50% line.
fn majority() -> (Decimal, String) {
    (Decimal::from(50), "50%".to_string())
}

/// One scenario run as a document.
pub fn scenario(r: &E2cReport) -> Result<Doc, ArithError> {
    let mut header = vec![
        ("scenario file".to_string(), Cell::text(&r.file)),
        ("currency".to_string(), Cell::text(&r.currency)),
        ("routes".to_string(), Cell::text(r.routes.join(", "))),
        (
            "community segments".to_string(),
            Cell::text(r.community_segments.join(", ")),
        ),
    ];
    if let Some(y) = r.start_year {
        header.push((
            "years".to_string(),
            Cell::text(format!(
                "Y0 is the closing at the start of {y}; Y1 … are the years that follow"
            )),
        ));
    }
    let mut doc = Doc {
        kind: "e2c",
        title: format!("E2C scenario: {}", r.scenario),
        header,
        sections: vec![summary(r), before_after(r), by_year(r)],
        primary: None,
    };
    let segments = segment_list(r);
    for lens in &LENSES {
        doc.sections.push(segments_by_lens(r, lens, &segments));
    }
    for lens in &LENSES {
        doc.sections.push(holders_by_lens(r, lens));
    }
    doc.sections.push(claims(r));
    doc.sections.extend(board(r));
    doc.sections.push(investors(r));
    doc.sections.push(payments(r)?);
    doc.sections.push(control(r));
    doc.sections.push(concentration(r));
    doc.sections.extend(bonuses(r));
    doc.sections.extend(notes(r));
    doc.push_primary(figures(r), 1);
    Ok(doc)
}

fn summary(r: &E2cReport) -> Section {
    let m = &r.metrics;
    let (first, last) = (r.years.first(), r.years.last());
    let mut s = Section::new("summary", "Summary");
    if !r.description.is_empty() {
        s.blocks.push(Block::Para(r.description.clone()));
    }
    let mut t = Table::new(&[
        ("lens", "lens"),
        ("community_at_closing_pct", "community at closing (%)"),
        ("community_final_pct", "community in final year (%)"),
        ("time_to_majority", "time to majority (over 50%)"),
    ]);
    let rows: [(&str, Share, Option<u32>); 4] = [
        ("votes", |y| y.community.votes, m.time_to_majority_votes),
        (
            "economic claims",
            |y| y.community.economic,
            m.time_to_majority_economic,
        ),
        (
            "economic claims, instrument lens",
            |y| y.community_instrument_economic,
            m.time_to_majority_economic_instrument,
        ),
        (
            "legal title",
            |y| y.community.legal,
            m.time_to_majority_legal,
        ),
    ];
    for (lens, f, t_major) in rows {
        t.push(
            RowKind::Body,
            vec![
                Cell::text(lens),
                pct(first.map(f).unwrap_or_default()),
                pct(last.map(f).unwrap_or_default()),
                Cell::text(year_text(r, t_major)),
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    s.blocks.push(Block::Fields(vec![
        (
            "full buyout (community holds every economic claim)".to_string(),
            Cell::text(year_text(r, m.full_buyout)),
        ),
        (
            format!("cash required over the horizon ({})", r.currency),
            money(m.total_cash_required, r),
        ),
        (
            "shortfall years".to_string(),
            Cell::text(shortfall_text(&m.shortfall_years, ", ")),
        ),
    ]));
    s
}

fn by_year(r: &E2cReport) -> Section {
    let mut s = Section::new("by_year", "Community share and cash by year");
    let mut t = Table::new(&[
        ("year", "year"),
        ("votes_pct", "votes (%)"),
        ("economic_pct", "economic (%)"),
        ("legal_pct", "legal (%)"),
        ("cash_required", "cash required"),
        ("capacity", "capacity"),
        ("shortfall", "shortfall"),
    ]);
    for y in &r.years {
        t.push(
            RowKind::Body,
            vec![
                Cell::text(year_text(r, Some(y.t))),
                pct(y.community.votes),
                pct(y.community.economic),
                pct(y.community.legal),
                money(y.cash_required, r),
                money(y.capacity, r),
                if y.shortfall {
                    Cell::text("shortfall")
                } else {
                    Cell::Empty
                },
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    s
}

fn before_after(r: &E2cReport) -> Section {
    let (first, last) = (r.years.first(), r.years.last());
    let mut s = Section::new("before_after", "Before and after closing");
    let mut t = Table::new(&[
        ("holder", "holder"),
        ("votes_before_pct", "votes before (%)"),
        ("votes_closing_pct", "votes at closing (%)"),
        ("votes_final_pct", "votes, final year (%)"),
        ("title_before_pct", "title before (%)"),
        ("title_closing_pct", "title at closing (%)"),
    ]);
    for b in &r.before {
        let at = |y: Option<&YearView>, f: fn(&HolderRow) -> Decimal| {
            pct(y
                .and_then(|y| y.holders.iter().find(|h| h.holder_id == b.holder_id))
                .map_or(Decimal::ZERO, f))
        };
        t.push(
            RowKind::Body,
            vec![
                Cell::text(&b.holder_id),
                pct(b.votes_pct),
                at(first, |h| h.votes_pct),
                at(last, |h| h.votes_pct),
                pct(b.legal_pct),
                at(first, |h| h.legal_pct),
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    s
}

/// Every segment of the run with whether it is a community segment, in name order.
fn segment_list(r: &E2cReport) -> Vec<(String, bool)> {
    let mut v: BTreeMap<String, bool> = BTreeMap::new();
    for y in &r.years {
        for s in &y.segments {
            v.insert(s.segment.clone(), s.community);
        }
    }
    v.into_iter().collect()
}

/// A column per year: `y0`, `Y0`.
fn year_columns(r: &E2cReport, first: &[(&'static str, &'static str)]) -> Table {
    let mut cols: Vec<Column> = first.iter().map(|(k, l)| Column::new(*k, *l)).collect();
    cols.extend(
        r.years
            .iter()
            .map(|y| Column::new(format!("y{}", y.t), format!("Y{}", y.t))),
    );
    Table::with_columns(cols)
}

/// The x axis of a chart over the years: `Y0`, `Y1` … like the tables' columns.
fn year_axis(r: &E2cReport, c: &mut Chart) {
    c.categories = r.years.iter().map(|y| format!("Y{}", y.t)).collect();
    c.x_label = match r.start_year {
        Some(y) => format!("year after closing (Y0 = {y})"),
        None => "year after closing".to_string(),
    };
}

/// One lens by segment: a stacked bar per year (HTML) and the table of the figures.
fn segments_by_lens(r: &E2cReport, lens: &Lens, segments: &[(String, bool)]) -> Section {
    let title = format!("{} by segment (%)", lens.title);
    let mut s = Section::new(format!("segments_{}", lens.key), title.clone());
    let mut chart = Chart::new(title, ChartKind::StackedBars);
    year_axis(r, &mut chart);
    chart.y_label = format!("{} (%)", lens.title);
    chart.y_max = Some(Decimal::ONE_HUNDRED);
    chart.y_suffix = "%";
    chart.reference = Some(majority());
    let (mut c, mut o) = (0usize, 0usize);
    let mut t = year_columns(r, &[("segment", "segment"), ("community", "community")]);
    for (seg, community) in segments {
        let colour = if *community {
            c += 1;
            COMMUNITY_COLOURS[(c - 1) % COMMUNITY_COLOURS.len()]
        } else {
            o += 1;
            OTHER_COLOURS[(o - 1) % OTHER_COLOURS.len()]
        };
        let values: Vec<Decimal> = r
            .years
            .iter()
            .map(|y| {
                y.segments
                    .iter()
                    .find(|x| &x.segment == seg)
                    .map(lens.segment)
                    .unwrap_or_default()
            })
            .collect();
        let name = if *community {
            format!("{seg} (community)")
        } else {
            seg.clone()
        };
        let mut series = Series::new(name, values.iter().map(|v| Some(at_scale(*v, 3))).collect());
        series.colour = Some(colour);
        chart.series.push(series);
        let mut cells = vec![Cell::text(seg), Cell::Bool(*community)];
        cells.extend(values.into_iter().map(pct));
        t.push(RowKind::Body, cells);
    }
    s.blocks.push(Block::Chart(chart));
    s.blocks.push(Block::Table(t));
    s
}

/// One lens by holder, a column per year (holders in the order of the final year).
fn holders_by_lens(r: &E2cReport, lens: &Lens) -> Section {
    let mut s = Section::new(
        format!("holders_{}", lens.key),
        format!("{} by holder (%)", lens.title),
    );
    let mut t = year_columns(r, &[("holder", "holder"), ("segment", "segment")]);
    if let Some(last) = r.years.last() {
        for (i, h) in last.holders.iter().enumerate() {
            let mut cells = vec![
                Cell::text(format!("{} ({})", h.holder_id, h.name)),
                Cell::text(&h.segment),
            ];
            cells.extend(
                r.years
                    .iter()
                    .map(|y| pct(y.holders.get(i).map(lens.holder).unwrap_or_default())),
            );
            t.push(RowKind::Body, cells);
        }
    }
    s.blocks.push(Block::Table(t));
    s
}

fn claims(r: &E2cReport) -> Section {
    let mut s = Section::new("claims", format!("Claims by holder ({})", r.currency));
    let mut t = year_columns(r, &[("holder", "holder")]);
    if let Some(last) = r.years.last() {
        for (i, h) in last.holders.iter().enumerate() {
            let mut cells = vec![Cell::text(&h.holder_id)];
            cells.extend(
                r.years
                    .iter()
                    .map(|y| money(y.holders.get(i).map(|x| x.claim).unwrap_or_default(), r)),
            );
            t.push(RowKind::Body, cells);
        }
    }
    s.blocks.push(Block::Table(t));
    s
}

fn board(r: &E2cReport) -> Option<Section> {
    let last = r.years.last()?;
    if !last.holders.iter().any(|h| h.board_pct > Decimal::ZERO) {
        return None;
    }
    let mut s = Section::new("board", "Board-election weight, final year");
    let mut t = Table::new(&[("holder", "holder"), ("board_pct", "board weight (%)")]);
    for h in last.holders.iter().filter(|h| h.board_pct > Decimal::ZERO) {
        t.push(
            RowKind::Body,
            vec![Cell::text(&h.holder_id), pct(h.board_pct)],
        );
    }
    s.blocks.push(Block::Table(t));
    Some(s)
}

fn investors(r: &E2cReport) -> Section {
    let mut s = Section::new("investors", "Investors and sellers");
    if r.metrics.investors.is_empty() {
        s.blocks.push(Block::Para(
            "No holder put money at risk or received payments.".into(),
        ));
        return s;
    }
    let mut t = Table::new(&[
        ("holder", "holder"),
        ("segment", "segment"),
        ("invested", "invested"),
        ("paid", "paid"),
        ("moic", "MOIC (x)"),
        ("irr_pct", "IRR (%)"),
        ("outstanding", "still claimed at the end"),
        ("irr_with_outstanding_pct", "IRR incl. that claim (%)"),
    ]);
    for i in &r.metrics.investors {
        t.push(
            RowKind::Body,
            vec![
                Cell::text(&i.holder_id),
                Cell::text(&i.segment),
                money(i.invested, r),
                money(i.paid, r),
                i.moic
                    .map_or_else(|| Cell::text("n/a"), |x| Cell::Num(at_scale(x, 2))),
                irr_cell(i.irr),
                money(i.outstanding, r),
                irr_cell(i.irr_with_outstanding),
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    s.blocks.push(Block::Para(
        "MOIC = cash received / money at risk. IRR by bisection on [−99%, 1000%] over the cash actually received; n/a when the flows do not change sign. The last column also counts what the holder still claims at the end of the horizon as received in the final year.".into(),
    ));
    s
}

fn payments(r: &E2cReport) -> Result<Section, ArithError> {
    let mut s = Section::new("payments", "Payments by year");
    let mut t = Table::new(&[
        ("year", "year"),
        ("route", "route"),
        ("kind", "kind"),
        ("total", "total"),
    ]);
    for y in &r.years {
        let mut by: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
        for p in &y.payments {
            let e = by.entry((p.route.as_str(), p.kind)).or_default();
            *e = dec::add(*e, p.amount)?;
        }
        for ((route, kind), v) in by {
            t.push(
                RowKind::Body,
                vec![
                    Cell::text(format!("Y{}", y.t)),
                    Cell::text(route),
                    Cell::text(kind),
                    money(v, r),
                ],
            );
        }
    }
    s.blocks.push(Block::Table(t));
    Ok(s)
}

/// Vetoes in the final year and Banzhaf power at closing and in the final year.
fn control(r: &E2cReport) -> Section {
    let mut s = Section::new("control", "Control");
    let (Some(first), Some(last)) = (r.years.first(), r.years.last()) else {
        return s;
    };
    if last.vetoes.is_empty() {
        s.blocks.push(Block::Para(
            "No holder has a reserved-matter veto in the final year.".into(),
        ));
    } else {
        let mut t = Table::new(&[("holder", "holder"), ("can_block", "can block")]);
        for (h, ms) in &last.vetoes {
            t.push(
                RowKind::Body,
                vec![Cell::text(h), Cell::text(ms.join(", "))],
            );
        }
        s.blocks.push(Block::Table(t));
    }
    let years = if first.t == last.t {
        vec![first]
    } else {
        vec![first, last]
    };
    for y in years {
        let Some(b) = &y.banzhaf else { continue };
        s.blocks.push(Block::Para(format!(
            "Banzhaf power (strict majority), Y{}:",
            y.t
        )));
        let mut t = Table::new(&[
            ("voter", "voter"),
            ("votes_pct", "votes (%)"),
            ("banzhaf_pct", "Banzhaf (%)"),
        ]);
        for (h, p) in b {
            let v = y
                .holders
                .iter()
                .find(|x| &x.holder_id == h)
                .map(|x| x.votes_pct)
                .unwrap_or_default();
            let power = p.checked_mul(Decimal::ONE_HUNDRED).unwrap_or_default();
            t.push(RowKind::Body, vec![Cell::text(h), pct(v), pct(power)]);
        }
        s.blocks.push(Block::Table(t));
    }
    s
}

fn concentration(r: &E2cReport) -> Section {
    let mut s = Section::new("concentration", "Concentration, final year");
    s.blocks.push(Block::Para(
        "Over holders with a positive value under each lens (a pooled member group counts once)."
            .into(),
    ));
    let mut t = Table::new(&[
        ("lens", "lens"),
        ("gini", "Gini"),
        ("hhi", "HHI"),
        ("effective_owners", "effective owners"),
        ("owners", "owners"),
    ]);
    if let Some(y) = r.years.last() {
        for (l, c) in &y.concentration {
            t.push(
                RowKind::Body,
                vec![
                    Cell::text(*l),
                    Cell::Num(at_scale(c.gini, 4)),
                    Cell::Num(at_scale(c.hhi, 0)),
                    Cell::Num(at_scale(c.effective_owners, 2)),
                    Cell::Int(i64::try_from(c.owners).unwrap_or(i64::MAX)),
                ],
            );
        }
    }
    s.blocks.push(Block::Table(t));
    s
}

/// The EOT bonus of the first year that pays one.
fn bonuses(r: &E2cReport) -> Option<Section> {
    let y = r.years.iter().find(|y| !y.bonuses.is_empty())?;
    let mut s = Section::new("bonus", format!("EOT bonus, Y{}", y.t));
    let mut t = Table::new(&[
        ("employee", "employee"),
        ("by_pay", "by pay"),
        ("by_service", "by service"),
        ("by_hours", "by hours"),
        ("total", "total"),
        ("tax_free", "tax-free"),
        ("taxable", "taxable"),
    ]);
    for b in &y.bonuses {
        t.push(
            RowKind::Body,
            vec![
                Cell::text(&b.employee),
                money(b.by_pay, r),
                money(b.by_service, r),
                money(b.by_hours, r),
                money(b.total, r),
                money(b.tax_free, r),
                money(b.taxable, r),
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    Some(s)
}

fn notes(r: &E2cReport) -> Option<Section> {
    let mut t = Table::new(&[("year", "year"), ("note", "note")]);
    for y in &r.years {
        for n in &y.notes {
            t.push(
                RowKind::Body,
                vec![Cell::text(format!("Y{}", y.t)), Cell::text(n)],
            );
        }
    }
    if t.rows.is_empty() {
        return None;
    }
    let mut s = Section::new("notes", "Notes");
    s.blocks.push(Block::Table(t));
    Some(s)
}

const FIGURE_COLUMNS: [(&str, &str); 15] = [
    ("scenario", "scenario"),
    ("year", "year"),
    ("level", "level"),
    ("id", "id"),
    ("name", "name"),
    ("segment", "segment"),
    ("community", "community"),
    ("units", "units"),
    ("votes_pct", "votes (%)"),
    ("economic_pct", "economic (%)"),
    ("legal_pct", "legal (%)"),
    ("claim", "claim"),
    ("cash_required", "cash required"),
    ("capacity", "capacity"),
    ("shortfall", "shortfall"),
];

fn flag(b: bool) -> Cell {
    Cell::text(if b { "true" } else { "false" })
}

/// The figures of every year in long form, one row per holder, segment and the community: the
/// table `-O csv` writes.
fn figures(r: &E2cReport) -> Section {
    let mut s = Section::new("figures", "All figures, year by year");
    s.blocks.push(Block::Para(
        "One row per year for each holder, each segment and the community as a whole; percentages to 4 decimals.".into(),
    ));
    let mut t = Table::new(&FIGURE_COLUMNS);
    let p4 = |d: Decimal| Cell::Num(at_scale(d, 4));
    for y in &r.years {
        let year = Cell::Int(i64::from(y.t));
        for h in &y.holders {
            t.push(
                RowKind::Body,
                vec![
                    Cell::text(&r.scenario),
                    year.clone(),
                    Cell::text("holder"),
                    Cell::text(&h.holder_id),
                    Cell::text(&h.name),
                    Cell::text(&h.segment),
                    flag(h.community),
                    Cell::Num(at_scale(h.units, 2)),
                    p4(h.votes_pct),
                    p4(h.economic_pct),
                    p4(h.legal_pct),
                    money(h.claim, r),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
            );
        }
        for g in &y.segments {
            t.push(
                RowKind::Body,
                vec![
                    Cell::text(&r.scenario),
                    year.clone(),
                    Cell::text("segment"),
                    Cell::text(&g.segment),
                    Cell::Empty,
                    Cell::text(&g.segment),
                    flag(g.community),
                    Cell::Num(at_scale(g.units, 2)),
                    p4(g.votes_pct),
                    p4(g.economic_pct),
                    p4(g.legal_pct),
                    money(g.claim, r),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
            );
        }
        t.push(
            RowKind::Body,
            vec![
                Cell::text(&r.scenario),
                year,
                Cell::text("community"),
                Cell::text("community"),
                Cell::Empty,
                Cell::Empty,
                flag(true),
                Cell::Empty,
                p4(y.community.votes),
                p4(y.community.economic),
                p4(y.community.legal),
                Cell::Empty,
                money(y.cash_required, r),
                money(y.capacity, r),
                flag(y.shortfall),
            ],
        );
    }
    s.blocks.push(Block::Table(t));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Block;

    pub(super) fn tidepool(name: &str) -> E2cReport {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/tidepool/scenarios")
            .join(name);
        match crate::e2c::load_and_run(&p) {
            Ok((r, _)) => r,
            Err(d) => panic!("{name}: {:?}", d.into_sorted()),
        }
    }

    #[test]
    fn the_csv_table_has_a_row_per_year_for_each_holder_segment_and_the_community() {
        let r = tidepool("eot.toml");
        let doc = scenario(&r).unwrap();
        let t = doc.primary_table().unwrap();
        let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_ref()).collect();
        assert_eq!(keys, FIGURE_COLUMNS.map(|(k, _)| k));
        let want: usize = r
            .years
            .iter()
            .map(|y| y.holders.len() + y.segments.len() + 1)
            .sum();
        assert_eq!(t.rows.len(), want);
        // year 0, the trust: 15% of the economic claims, 1,080,000.00 of 7,200,000
        let trust = t
            .rows
            .iter()
            .find(|row| row.cells[3].plain() == "tidepool-eot")
            .unwrap();
        assert_eq!(trust.cells[9].plain(), "15.0000");
        assert_eq!(trust.cells[11].plain(), "1080000.00");
        assert_eq!(trust.cells[11].human(), "1,080,000.00");
    }

    #[test]
    fn one_stacked_chart_per_lens_with_the_majority_line() {
        let r = tidepool("coop-conversion.toml");
        let doc = scenario(&r).unwrap();
        let charts: Vec<&Chart> = doc
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .filter_map(|b| match b {
                Block::Chart(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(charts.len(), 3);
        for c in charts {
            assert_eq!(c.kind, ChartKind::StackedBars);
            assert_eq!(c.categories.len(), r.years.len());
            assert_eq!(c.reference.as_ref().map(|x| x.0), Some(Decimal::from(50)));
            // every year's segments add up to 100% under each lens, to display precision
            for i in 0..r.years.len() {
                let total: Decimal = c.series.iter().filter_map(|s| s.values[i]).sum();
                assert!(
                    (total - Decimal::ONE_HUNDRED).abs() < Decimal::new(1, 2),
                    "{total}"
                );
            }
        }
    }

    #[test]
    fn irr_and_moic_text() {
        assert_eq!(irr_text(None), "n/a");
        assert_eq!(irr_text(Some(Decimal::new(4, 2))), "4.00%");
        assert_eq!(moic_text(Some(Decimal::new(1133, 3))), "1.13x");
        assert_eq!(shortfall_text(&[3, 4], " "), "Y3 Y4");
        assert_eq!(shortfall_text(&[], " "), "none");
    }
}
