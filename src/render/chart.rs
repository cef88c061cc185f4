//! The one SVG chart writer. Every chart of every report ([`Chart`]) is drawn here with the same
//! frame: a title, a y axis with its label and ticks, category labels along the x axis with the
//! axis label, a legend naming each series, and an optional dashed reference line. The values are
//! exact decimals; floating point is used only for the geometry of the picture.

use std::fmt::Write;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::escape::html as escape;
use crate::report::doc::{Chart, ChartKind};

/// Colours for series without a fixed one (colour-blind-safe, distinguishable in print).
pub const PALETTE: [&str; 8] = [
    "#1b7837", "#2166ac", "#b2182b", "#8c510a", "#762a83", "#01665e", "#e08214", "#4d4d4d",
];

const W: f64 = 560.0;
const PLOT_H: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// A tick step of 1, 2 or 5 times a power of ten that gives at most five steps up to `max`.
fn nice_step(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / 5.0;
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// A tick label: whole numbers grouped by thousands, else up to two decimals.
fn tick(v: f64, suffix: &str) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = if r.fract() == 0.0 {
        let n = r as i128;
        let digits = n.unsigned_abs().to_string();
        let mut g = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                g.push(',');
            }
            g.push(ch);
        }
        if n < 0 {
            format!("-{g}")
        } else {
            g
        }
    } else {
        format!("{r:.2}")
    };
    format!("{s}{suffix}")
}

/// The geometry of one chart: the y range with its tick step, and the category slots.
struct Frame<'c> {
    c: &'c Chart,
    n: usize,
    lo: f64,
    top: f64,
    step: f64,
    slot: f64,
}

impl<'c> Frame<'c> {
    /// The y range: from the smallest value (or 0) to the largest (or the fixed top), stacked
    /// where the bars stack, rounded out to whole tick steps.
    fn new(c: &'c Chart) -> Frame<'c> {
        let n = c.categories.len().max(1);
        let (mut lo, mut hi) = (0.0_f64, 0.0_f64);
        for i in 0..n {
            let mut stack = (0.0, 0.0);
            for s in &c.series {
                let v = s.values.get(i).copied().flatten().map(f).unwrap_or(0.0);
                if c.kind == ChartKind::StackedBars {
                    if v >= 0.0 {
                        stack.0 += v;
                    } else {
                        stack.1 += v;
                    }
                } else {
                    hi = hi.max(v);
                    lo = lo.min(v);
                }
            }
            hi = hi.max(stack.0);
            lo = lo.min(stack.1);
        }
        if let Some(m) = c.y_max {
            hi = f(m);
        }
        if let Some((r, _)) = &c.reference {
            hi = hi.max(f(*r));
        }
        let step = nice_step((hi - lo).max(f64::MIN_POSITIVE));
        let top = if c.y_max.is_some() {
            hi
        } else {
            (hi / step).ceil() * step
        };
        Frame {
            c,
            n,
            lo: (lo / step).floor() * step,
            top,
            step,
            slot: (W - LEFT - RIGHT) / n as f64,
        }
    }

    fn y_at(&self, v: f64) -> f64 {
        let span = if self.top - self.lo > 0.0 {
            self.top - self.lo
        } else {
            1.0
        };
        TOP + PLOT_H * (1.0 - (v - self.lo) / span)
    }

    fn x_mid(&self, i: usize) -> f64 {
        LEFT + self.slot * (i as f64 + 0.5)
    }

    fn colour(&self, k: usize) -> &'static str {
        self.c.series[k]
            .colour
            .unwrap_or(PALETTE[k % PALETTE.len()])
    }

    fn category(&self, i: usize) -> String {
        escape(self.c.categories.get(i).map_or("", String::as_str))
    }
}

/// The chart as a self-contained `<figure>` with an inline SVG and a caption.
pub fn svg(c: &Chart) -> String {
    let legend_rows = if c.series.len() > 1 {
        c.series.len().div_ceil(3)
    } else {
        0
    };
    let h = TOP + PLOT_H + 44.0 + 16.0 * legend_rows as f64;
    let fr = Frame::new(c);
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" width=\"100%\" style=\"max-width:{W}px\" role=\"img\" aria-label=\"{}\" font-family=\"system-ui,sans-serif\" font-size=\"11\">",
        escape(&c.title)
    );
    y_axis(&mut o, &fr);
    match c.kind {
        ChartKind::Bars => bars(&mut o, &fr),
        ChartKind::StackedBars => stacked_bars(&mut o, &fr),
        ChartKind::Lines => lines(&mut o, &fr),
    }
    reference(&mut o, &fr);
    x_axis(&mut o, &fr);
    legend(&mut o, &fr);
    let _ = write!(
        o,
        "</svg><figcaption>{}</figcaption></figure>",
        escape(&c.title)
    );
    o
}

/// Grid lines with their tick labels, and the rotated y-axis label.
fn y_axis(o: &mut String, fr: &Frame<'_>) {
    let mut v = fr.lo;
    let mut guard = 0;
    while v <= fr.top + fr.step * 1e-9 && guard < 50 {
        let y = fr.y_at(v);
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape(&tick(v, fr.c.y_suffix))
        );
        v += fr.step;
        guard += 1;
    }
    if !fr.c.y_label.is_empty() {
        let _ = write!(
            o,
            "<text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            TOP + PLOT_H / 2.0,
            escape(&fr.c.y_label)
        );
    }
}

/// One bar per category and series, side by side.
fn bars(o: &mut String, fr: &Frame<'_>) {
    let bar = fr.slot * 0.8 / fr.c.series.len().max(1) as f64;
    for (si, s) in fr.c.series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let x = LEFT + fr.slot * (i as f64 + 0.1) + bar * si as f64;
            let (y0, y1) = (fr.y_at(f(*v).max(0.0)), fr.y_at(f(*v).min(0.0)));
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                (y1 - y0).max(0.0),
                fr.colour(si),
                fr.category(i),
                escape(&s.name)
            );
        }
    }
}

/// One bar per category with the series stacked on it (positive up, negative down).
fn stacked_bars(o: &mut String, fr: &Frame<'_>) {
    let bar = fr.slot * 0.7;
    for i in 0..fr.n {
        let (mut up, mut down) = (0.0_f64, 0.0_f64);
        for (si, s) in fr.c.series.iter().enumerate() {
            let Some(v) = s.values.get(i).copied().flatten() else {
                continue;
            };
            let x = f(v);
            if x == 0.0 {
                // nothing to stack (its figure is in the table)
                continue;
            }
            let (a, b) = if x >= 0.0 {
                up += x;
                (up, up - x)
            } else {
                down += x;
                (down - x, down)
            };
            let (y0, y1) = (fr.y_at(a), fr.y_at(b));
            let _ = write!(
                o,
                "<rect x=\"{:.1}\" y=\"{y0:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
                fr.x_mid(i) - bar / 2.0,
                (y1 - y0).max(0.0),
                fr.colour(si),
                fr.category(i),
                escape(&s.name)
            );
        }
    }
}

/// One line per series across the categories.
fn lines(o: &mut String, fr: &Frame<'_>) {
    for (si, s) in fr.c.series.iter().enumerate() {
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", fr.x_mid(i), fr.y_at(f(v)))))
            .collect();
        let dash = if s.dashed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            o,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"><title>{}</title></polyline>",
            fr.colour(si),
            pts.join(" "),
            escape(&s.name)
        );
    }
}

/// The dashed reference line with its label.
fn reference(o: &mut String, fr: &Frame<'_>) {
    if let Some((r, label)) = &fr.c.reference {
        let y = fr.y_at(f(*r));
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            W - RIGHT,
            y - 4.0,
            escape(label)
        );
    }
}

/// The x axis, category labels (thinned to at most 20) and the axis label.
fn x_axis(o: &mut String, fr: &Frame<'_>) {
    let base = fr.y_at(0.0_f64.clamp(fr.lo, fr.top));
    let _ = write!(
        o,
        "<line x1=\"{LEFT}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\" stroke=\"#333\"/>",
        W - RIGHT
    );
    let every = fr.n.div_ceil(20);
    for (i, label) in fr.c.categories.iter().enumerate() {
        if i % every != 0 && i + 1 != fr.n {
            continue;
        }
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            fr.x_mid(i),
            TOP + PLOT_H + 14.0,
            escape(label)
        );
    }
    if !fr.c.x_label.is_empty() {
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LEFT + (W - LEFT - RIGHT) / 2.0,
            TOP + PLOT_H + 30.0,
            escape(&fr.c.x_label)
        );
    }
}

/// A legend naming each series, three to a row, when there is more than one.
fn legend(o: &mut String, fr: &Frame<'_>) {
    if fr.c.series.len() < 2 {
        return;
    }
    let plot_w = W - LEFT - RIGHT;
    for (si, s) in fr.c.series.iter().enumerate() {
        let (row, col) = (si / 3, si % 3);
        let x = LEFT + col as f64 * (plot_w / 3.0);
        let y = TOP + PLOT_H + 46.0 + row as f64 * 16.0;
        let _ = write!(
            o,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            y - 9.0,
            fr.colour(si),
            x + 14.0,
            escape(&s.name)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Series;

    fn chart(kind: ChartKind) -> Chart {
        let mut c = Chart::new("Cash <needed>", kind);
        c.x_label = "fiscal year".into();
        c.y_label = "USD".into();
        c.categories = vec!["2026".into(), "2027".into(), "2028".into()];
        c.series = vec![
            Series::new(
                "a & b",
                vec![Some(Decimal::new(100, 0)), None, Some(Decimal::new(-50, 0))],
            ),
            Series::new(
                "c",
                vec![Some(Decimal::new(25, 1)), Some(Decimal::new(7, 0)), None],
            ),
        ];
        c.reference = Some((Decimal::new(50, 0), "majority".into()));
        c
    }

    #[test]
    fn every_kind_draws_labels_legend_and_escapes() {
        for kind in [ChartKind::Bars, ChartKind::StackedBars, ChartKind::Lines] {
            let s = svg(&chart(kind));
            assert!(s.starts_with("<figure class=\"chart\"><svg"), "{s}");
            assert!(s.contains("Cash &lt;needed&gt;"));
            assert!(!s.contains("<needed>"));
            assert!(s.contains(">fiscal year</text>"));
            assert!(s.contains(">USD</text>"));
            assert!(s.contains(">2027</text>"));
            assert!(s.contains(">a &amp; b</text>"), "legend: {s}");
            assert!(s.contains(">majority</text>"));
            assert!(!s.contains("NaN") && !s.contains("inf"));
        }
    }

    #[test]
    fn empty_and_flat_charts_have_finite_geometry() {
        let mut c = Chart::new("nothing", ChartKind::Lines);
        assert!(!svg(&c).contains("NaN"));
        c.categories = vec!["2026".into()];
        c.series = vec![Series::new("zero", vec![Some(Decimal::ZERO)])];
        let s = svg(&c);
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
    }

    #[test]
    fn ticks_are_nice_and_grouped() {
        assert_eq!(nice_step(100.0), 20.0);
        assert_eq!(nice_step(7.0), 2.0);
        assert_eq!(tick(15000.0, ""), "15,000");
        assert_eq!(tick(25.0, "%"), "25%");
        assert_eq!(tick(-1234567.0, ""), "-1,234,567");
    }
}
