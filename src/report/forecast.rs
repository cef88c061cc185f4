//! The redemption cash forecast as a [`Doc`]: a stacked bar chart of the cash needed per year and
//! the table of its figures. (`forecast -O json` stays the serialization of the [`Forecast`].)

use super::doc::{Block, Cell, Chart, ChartKind, Doc, Section, Series, Table};
use crate::engine::forecast::{Forecast, ForecastRow};

fn chart(f: &Forecast) -> Chart {
    let mut c = Chart::new("Cash needed per year", ChartKind::StackedBars);
    c.x_label = "fiscal year".into();
    c.y_label = f.currency.clone();
    c.categories = f.years.iter().map(|r| r.fiscal_year.to_string()).collect();
    let series = |name: &str, pick: fn(&ForecastRow) -> crate::money::Money| {
        Series::new(
            name,
            f.years.iter().map(|r| Some(pick(r).amount())).collect(),
        )
    };
    c.series = vec![
        series("revolvement", |r| r.revolvement),
        series("special retirements", |r| r.special),
        series("leaver debt service", |r| r.debt_service),
    ];
    c
}

pub fn doc(f: &Forecast) -> Doc {
    let mut d = Doc::new(
        "forecast",
        format!("{} — cash needed for equity redemption", f.coop),
    );
    d.header = vec![
        ("Plan".to_string(), Cell::text(&f.plan)),
        ("Currency".to_string(), Cell::text(&f.currency)),
        (
            "Years".to_string(),
            Cell::text(format!("{} from {}", f.years.len(), f.from)),
        ),
    ];
    let mut t = Table::new(&[
        ("fiscal_year", "year"),
        ("revolvement", "revolvement"),
        ("special", "special"),
        ("debt_service", "debt service"),
        ("total", "total"),
        ("outstanding", "outstanding after"),
    ]);
    t.body(&f.years, |r| {
        vec![
            Cell::text(r.fiscal_year.to_string()),
            Cell::Money(r.revolvement),
            Cell::Money(r.special),
            Cell::Money(r.debt_service),
            Cell::Money(r.total),
            Cell::Money(r.outstanding),
        ]
    });
    let mut blocks = vec![Block::Chart(chart(f)), Block::Table(t)];
    blocks.extend(f.notes.iter().map(|n| Block::Note(n.clone())));
    d.push_primary(Section::with("years", "cash needed by year", blocks), 1);
    d
}
