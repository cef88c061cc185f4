//! The shared-asset register at a year end and the dissolution preview as a [`Doc`].
//! (`assets -O json` stays the serialization of the [`Register`] and [`Dissolution`].)

use super::doc::{Block, Cell, Doc, RowKind, Section, Table};
use crate::engine::assets::{Dissolution, Register};

fn register(reg: &Register) -> Table {
    let mut t = Table::new(&[
        ("asset_id", "Asset"),
        ("unit", "Unit"),
        ("funding", "Funding"),
        ("locked", "Locked"),
        ("cost", "Cost"),
        ("depreciation", "Depreciation"),
        ("accumulated", "Accumulated"),
        ("nbv", "NBV"),
        ("disposal_gain", "Disposal gain"),
        ("disposal_kind", "Disposal"),
    ]);
    for l in &reg.lines {
        let (gain, kind) = match &l.row.disposal {
            Some(d) => (
                Cell::Money(d.gain),
                Cell::text(if d.patronage {
                    "patronage"
                } else {
                    "non-patronage"
                }),
            ),
            None => (Cell::Empty, Cell::Empty),
        };
        t.push(
            RowKind::Body,
            vec![
                Cell::text(&l.asset_id),
                Cell::text(&l.unit),
                Cell::text(&l.funding),
                Cell::Bool(l.locked),
                Cell::Money(l.cost),
                Cell::Money(l.row.depreciation),
                Cell::Money(l.row.accumulated),
                Cell::Money(l.row.closing_nbv),
                gain,
                kind,
            ],
        );
    }
    t
}

fn dissolution(d: &Dissolution) -> Section {
    let mut t = Table::new(&[("step", "Step"), ("amount", "Amount")]);
    for (k, v) in [
        ("Assets", d.assets),
        ("Creditors paid", d.creditors_paid),
        ("Share capital repaid at par", d.share_capital_paid),
        ("Residual", d.residual),
        ("To the asset-locked body", d.locked_residual),
        ("To members (unlocked residual)", d.members_residual),
    ] {
        t.push(RowKind::Body, vec![Cell::text(k), Cell::Money(v)]);
    }
    Section::with(
        "dissolution",
        "Dissolution preview",
        vec![
            Block::Table(t),
            Block::Para(format!(
                "The locked residual goes to {}.",
                d.asset_locked_body
            )),
        ],
    )
}

pub fn doc(reg: &Register, dis: Option<&Dissolution>) -> Doc {
    let mut d = Doc::new(
        "assets",
        format!(
            "Shared assets at the end of fiscal year {}",
            reg.fiscal_year
        ),
    );
    let totals = vec![
        ("Depreciation".to_string(), Cell::Money(reg.depreciation)),
        ("NBV".to_string(), Cell::Money(reg.nbv)),
        ("NBV locked".to_string(), Cell::Money(reg.locked_nbv)),
        ("NBV unlocked".to_string(), Cell::Money(reg.unlocked_nbv)),
    ];
    d.push_primary(
        Section::with(
            "register",
            "Register",
            vec![Block::Table(register(reg)), Block::Fields(totals)],
        ),
        0,
    );
    if let Some(x) = dis {
        d.sections.push(dissolution(x));
    }
    d
}
