//! Self-contained HTML: inline CSS, inline SVG charts (ownership by segment over time, stacked,
//! one chart per lens), the same tables as Markdown. No external resources; every text that comes
//! from the inputs is HTML-escaped. Floats are used only for chart geometry.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::{irr_h, moic_h, money_h, pct_h, year_h};
use crate::e2c::engine::E2cReport;
use crate::e2c::num;

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const COMMUNITY_COLOURS: [&str; 6] = [
    "#1b7837", "#5aae61", "#2166ac", "#4393c3", "#92c5de", "#a6dba0",
];
const OTHER_COLOURS: [&str; 6] = [
    "#b2182b", "#d6604d", "#f4a582", "#8c510a", "#bf812d", "#dfc27d",
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}.short{color:#b2182b;font-weight:bold}\
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-weight:bold;margin-bottom:.3em}\
.legend span{display:inline-block;margin-right:1em;font-size:.85em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}";

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Colours per segment: greens/blues for community segments, reds/browns for the others.
fn palette(segs: &[(String, bool)]) -> BTreeMap<String, &'static str> {
    let (mut c, mut o) = (0usize, 0usize);
    let mut m = BTreeMap::new();
    for (s, com) in segs {
        let col = if *com {
            c += 1;
            COMMUNITY_COLOURS[(c - 1) % COMMUNITY_COLOURS.len()]
        } else {
            o += 1;
            OTHER_COLOURS[(o - 1) % OTHER_COLOURS.len()]
        };
        m.insert(s.clone(), col);
    }
    m
}

/// A stacked bar chart: one bar per year, one stacked block per segment (percent of the lens).
fn stacked_svg(
    title: &str,
    r: &E2cReport,
    lens: usize,
    colours: &BTreeMap<String, &'static str>,
) -> String {
    let (w, h, left, bottom, top) = (460.0_f64, 240.0_f64, 40.0_f64, 24.0_f64, 10.0_f64);
    let n = r.years.len().max(1) as f64;
    let plot_h = h - bottom - top;
    let slot = (w - left - 10.0) / n;
    let bar = slot * 0.7;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    for k in 0..=4 {
        let y = top + plot_h * (1.0 - f64::from(k) / 4.0);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{y:.2}\" x2=\"{:.2}\" y2=\"{y:.2}\" stroke=\"#ddd\"/><text x=\"{:.2}\" y=\"{:.2}\" font-size=\"10\" text-anchor=\"end\">{}%</text>",
            w - 10.0,
            left - 4.0,
            y + 3.0,
            k * 25
        );
    }
    for (i, y) in r.years.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut acc = 0.0_f64;
        for seg in &y.segments {
            let v = match lens {
                0 => seg.votes_pct,
                1 => seg.economic_pct,
                _ => seg.legal_pct,
            };
            let p = f(v).clamp(0.0, 100.0);
            if p <= 0.0 {
                continue;
            }
            let y0 = top + plot_h * (1.0 - (acc + p) / 100.0);
            let hh = plot_h * p / 100.0;
            let col = colours.get(&seg.segment).copied().unwrap_or("#999");
            let _ = write!(
                s,
                "<rect x=\"{x:.2}\" y=\"{y0:.2}\" width=\"{bar:.2}\" height=\"{hh:.2}\" fill=\"{col}\"><title>Y{} {}: {}</title></rect>",
                y.t,
                esc(&seg.segment),
                pct_h(v)
            );
            acc += p;
        }
        let _ = write!(
            s,
            "<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"10\" text-anchor=\"middle\">Y{}</text>",
            x + bar / 2.0,
            h - 8.0,
            y.t
        );
    }
    let mid = top + plot_h / 2.0;
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{mid:.2}\" x2=\"{:.2}\" y2=\"{mid:.2}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/></svg>",
        w - 10.0
    );
    s
}

/// A line chart of the community share under one lens, one line per scenario.
fn lines_svg(title: &str, rs: &[E2cReport], lens: usize) -> String {
    let (w, h, left, bottom, top) = (460.0_f64, 240.0_f64, 40.0_f64, 24.0_f64, 10.0_f64);
    let n = rs.iter().map(|r| r.years.len()).max().unwrap_or(1).max(2) as f64;
    let plot_h = h - bottom - top;
    let step = (w - left - 10.0) / (n - 1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    for k in 0..=4 {
        let y = top + plot_h * (1.0 - f64::from(k) / 4.0);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{y:.2}\" x2=\"{:.2}\" y2=\"{y:.2}\" stroke=\"#ddd\"/><text x=\"{:.2}\" y=\"{:.2}\" font-size=\"10\" text-anchor=\"end\">{}%</text>",
            w - 10.0,
            left - 4.0,
            y + 3.0,
            k * 25
        );
    }
    let colours = [
        "#1b7837", "#2166ac", "#b2182b", "#8c510a", "#762a83", "#01665e",
    ];
    for (i, r) in rs.iter().enumerate() {
        let pts: Vec<String> = r
            .years
            .iter()
            .enumerate()
            .map(|(k, y)| {
                let v = match lens {
                    0 => y.community.votes,
                    1 => y.community.economic,
                    _ => y.community.legal,
                };
                format!(
                    "{:.2},{:.2}",
                    left + step * k as f64,
                    top + plot_h * (1.0 - f(v).clamp(0.0, 100.0) / 100.0)
                )
            })
            .collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            colours[i % colours.len()],
            pts.join(" "),
            esc(&r.scenario)
        );
    }
    let mid = top + plot_h / 2.0;
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{mid:.2}\" x2=\"{:.2}\" y2=\"{mid:.2}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/></svg>",
        w - 10.0
    );
    s
}

fn head(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(title)
    )
}

pub fn render(out: &mut dyn Write, r: &E2cReport) -> io::Result<()> {
    let m = &r.metrics;
    head(out, &format!("E2C scenario: {}", r.scenario))?;
    writeln!(out, "<h1>E2C scenario: {}</h1>", esc(&r.scenario))?;
    if !r.description.is_empty() {
        writeln!(out, "<p>{}</p>", esc(&r.description))?;
    }
    writeln!(
        out,
        "<p>Scenario <code>{}</code> · currency {} · routes: {} · community segments: {}</p>",
        esc(&r.file),
        esc(&r.currency),
        esc(&r.routes.join(", ")),
        esc(&r.community_segments.join(", "))
    )?;
    writeln!(out, "<h2>Summary</h2><table><tr><th>lens</th><th>community at closing</th><th>community in final year</th><th>time to majority (&gt; 50%)</th></tr>")?;
    let (a, b) = (r.years.first(), r.years.last());
    for (l, x, y, t) in [
        (
            "votes",
            a.map(|y| y.community.votes),
            b.map(|y| y.community.votes),
            m.time_to_majority_votes,
        ),
        (
            "economic claims",
            a.map(|y| y.community.economic),
            b.map(|y| y.community.economic),
            m.time_to_majority_economic,
        ),
        (
            "economic claims, instrument lens",
            a.map(|y| y.community_instrument_economic),
            b.map(|y| y.community_instrument_economic),
            m.time_to_majority_economic_instrument,
        ),
        (
            "legal title",
            a.map(|y| y.community.legal),
            b.map(|y| y.community.legal),
            m.time_to_majority_legal,
        ),
    ] {
        writeln!(
            out,
            "<tr><td>{l}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            pct_h(x.unwrap_or_default()),
            pct_h(y.unwrap_or_default()),
            esc(&year_h(r, t))
        )?;
    }
    writeln!(out, "</table>")?;
    writeln!(
        out,
        "<p>Full buyout: {}. Cash required over the horizon: {} {}.</p>",
        esc(&year_h(r, m.full_buyout)),
        money_h(m.total_cash_required, r),
        esc(&r.currency)
    )?;

    // charts
    let mut segs: BTreeMap<String, bool> = BTreeMap::new();
    for y in &r.years {
        for s in &y.segments {
            segs.insert(s.segment.clone(), s.community);
        }
    }
    let seg_list: Vec<(String, bool)> = segs.into_iter().collect();
    let colours = palette(&seg_list);
    writeln!(out, "<h2>Ownership over time</h2><div class=\"legend\">")?;
    for (s, c) in &seg_list {
        writeln!(
            out,
            "<span><i style=\"background:{}\"></i>{}{}</span>",
            colours.get(s).copied().unwrap_or("#999"),
            esc(s),
            if *c { " (community)" } else { "" }
        )?;
    }
    writeln!(out, "</div><div class=\"charts\">")?;
    for (i, t) in ["Votes (control)", "Economic claims", "Legal title"]
        .iter()
        .enumerate()
    {
        writeln!(
            out,
            "<figure><figcaption>{t}</figcaption>{}</figure>",
            stacked_svg(t, r, i, &colours)
        )?;
    }
    writeln!(out, "</div><p>Dashed line: 50%.</p>")?;

    writeln!(out, "<h2>Community share and cash by year</h2><table><tr><th>year</th><th>votes</th><th>economic</th><th>legal</th><th>cash required</th><th>capacity</th><th>shortfall</th></tr>")?;
    for y in &r.years {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
            esc(&year_h(r, Some(y.t))),
            pct_h(y.community.votes),
            pct_h(y.community.economic),
            pct_h(y.community.legal),
            money_h(y.cash_required, r),
            money_h(y.capacity, r),
            if y.shortfall { " class=\"short\"" } else { "" },
            if y.shortfall { "shortfall" } else { "" }
        )?;
    }
    writeln!(out, "</table>")?;

    for (title, _, fh) in super::md::lenses() {
        writeln!(
            out,
            "<h2>{title} by holder (%)</h2><table><tr><th>holder</th><th>segment</th>"
        )?;
        for y in &r.years {
            write!(out, "<th>Y{}</th>", y.t)?;
        }
        writeln!(out, "</tr>")?;
        if let Some(last) = b {
            for (i, h) in last.holders.iter().enumerate() {
                write!(
                    out,
                    "<tr><td>{} ({})</td><td>{}</td>",
                    esc(&h.holder_id),
                    esc(&h.name),
                    esc(&h.segment)
                )?;
                for y in &r.years {
                    write!(
                        out,
                        "<td>{}</td>",
                        num::fixed(y.holders.get(i).map(fh).unwrap_or_default(), 3)
                    )?;
                }
                writeln!(out, "</tr>")?;
            }
        }
        writeln!(out, "</table>")?;
    }

    writeln!(out, "<h2>Investors and sellers</h2><table><tr><th>holder</th><th>segment</th><th>invested</th><th>paid</th><th>MOIC</th><th>IRR</th></tr>")?;
    for i in &m.investors {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.holder_id),
            esc(&i.segment),
            money_h(i.invested, r),
            money_h(i.paid, r),
            moic_h(i.moic),
            irr_h(i.irr)
        )?;
    }
    writeln!(out, "</table>")?;

    if let Some(y) = b {
        writeln!(out, "<h2>Control and concentration, final year</h2>")?;
        if !y.vetoes.is_empty() {
            writeln!(out, "<ul>")?;
            for (h, ms) in &y.vetoes {
                writeln!(
                    out,
                    "<li><code>{}</code> can block: {}</li>",
                    esc(h),
                    esc(&ms.join(", "))
                )?;
            }
            writeln!(out, "</ul>")?;
        }
        if let Some(bz) = &y.banzhaf {
            writeln!(out, "<table><tr><th>voter</th><th>Banzhaf power</th></tr>")?;
            for (h, p) in bz {
                writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(h),
                    pct_h(*p * Decimal::ONE_HUNDRED)
                )?;
            }
            writeln!(out, "</table>")?;
        }
        writeln!(
            out,
            "<table><tr><th>lens</th><th>Gini</th><th>HHI</th><th>effective owners</th></tr>"
        )?;
        for (l, c) in &y.concentration {
            writeln!(
                out,
                "<tr><td>{l}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                num::fixed(c.gini, 4),
                num::fixed(c.hhi, 0),
                num::fixed(c.effective_owners, 2)
            )?;
        }
        writeln!(out, "</table>")?;
    }
    let notes: Vec<(u32, &String)> = r
        .years
        .iter()
        .flat_map(|y| y.notes.iter().map(move |n| (y.t, n)))
        .collect();
    if !notes.is_empty() {
        writeln!(out, "<h2>Notes</h2><ul>")?;
        for (t, n) in notes {
            writeln!(out, "<li>Y{t}: {}</li>", esc(n))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</body></html>")
}

pub fn compare(out: &mut dyn Write, rs: &[E2cReport]) -> io::Result<()> {
    head(out, "E2C routes compared")?;
    writeln!(out, "<h1>E2C routes compared</h1><ol>")?;
    for r in rs {
        writeln!(
            out,
            "<li><b>{}</b> (<code>{}</code>)</li>",
            esc(&r.scenario),
            esc(&r.file)
        )?;
    }
    writeln!(out, "</ol><table><tr><th>metric</th>")?;
    for i in 0..rs.len() {
        write!(out, "<th>{}</th>", i + 1)?;
    }
    writeln!(out, "</tr>")?;
    for (k, vs) in super::md::compare_rows(rs) {
        write!(out, "<tr><td>{}</td>", esc(&k))?;
        for v in vs {
            write!(out, "<td>{}</td>", esc(&v))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        "</table><h2>Community share over time</h2><div class=\"charts\">"
    )?;
    for (i, t) in ["Votes (control)", "Economic claims", "Legal title"]
        .iter()
        .enumerate()
    {
        writeln!(
            out,
            "<figure><figcaption>{t}</figcaption>{}</figure>",
            lines_svg(t, rs, i)
        )?;
    }
    writeln!(out, "</div><p>Lines in scenario order: green, blue, red, brown, purple, teal. Dashed line: 50%.</p></body></html>")
}
