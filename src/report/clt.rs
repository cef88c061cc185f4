//! The community-land-trust resale cap as a [`Doc`]: the working, one step a line, then the
//! result. (`clt-resale -O json` stays the serialization of [`Resale`].)

use super::doc::{Block, Cell, Doc, Section, Table};
use crate::engine::clt::Resale;

pub fn doc(r: &Resale) -> Doc {
    let mut d = Doc::new("clt-resale", "Community-land-trust resale cap");
    let mut t = Table::new(&[("step", "step"), ("value", "value"), ("formula", "formula")]);
    t.body(&r.working, |st| {
        vec![
            Cell::text(&st.label),
            Cell::Num(st.value),
            Cell::text(&st.formula),
        ]
    });
    let mut result = vec![(
        "maximum resale price".to_string(),
        Cell::Num(r.max_resale_price),
    )];
    if let Some(x) = r.seller_receives {
        result.push(("seller receives".to_string(), Cell::Num(x)));
    }
    d.push_primary(
        Section::with("working", "working", vec![Block::Table(t)]),
        0,
    );
    d.sections.push(Section::with(
        "result",
        "result",
        vec![Block::Fields(result)],
    ));
    d
}
