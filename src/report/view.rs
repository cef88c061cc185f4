//! The close as reports see it: read back from a sealed `closes/FY/close.json`, or computed now
//! (a dry run) and passed through the same JSON form, so both paths render identically.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::engine::close::Close;
use crate::engine::state::{State, Tranche};
use crate::money::{Currency, Money};

#[derive(Debug, Clone, Deserialize)]
pub struct Dates {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub payment_period_end: NaiveDate,
    pub qualified_check_deadline: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pool {
    pub unit: String,
    pub name: String,
    pub patronage_margin: Decimal,
    pub member_fraction: Decimal,
    pub member_share: Decimal,
    pub nonmember_share: Decimal,
    pub stock_dividends: Decimal,
    pub netting: Decimal,
    pub loss_recovered: Decimal,
    pub reserve: Decimal,
    pub allocable: Decimal,
    pub loss_to_members: Decimal,
    pub loss_to_collective: Decimal,
    pub eligible_members: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Allocation {
    pub member_id: String,
    pub unit: String,
    pub patronage: Decimal,
    #[serde(default)]
    pub measures: std::collections::BTreeMap<String, Decimal>,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub member_id: String,
    pub name: String,
    pub total: Decimal,
    pub cash: Decimal,
    pub retained: Decimal,
    pub notice: String,
    pub carried_in: Decimal,
    pub carried_out: Decimal,
    pub minimum_check: Option<String>,
    /// the member's share of a patronage loss (≤ 0)
    pub loss: Decimal,
    /// the part of the loss beyond the member's equity, absorbed by the reserve (≥ 0)
    #[serde(default)]
    pub loss_shortfall: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reserves {
    pub opening: Decimal,
    pub nonmember_share: Decimal,
    pub board_reserve: Decimal,
    pub nonpatronage_income: Decimal,
    pub income_tax: Decimal,
    pub loss_to_collective: Decimal,
    pub loss_carried: Decimal,
    pub loss_recovered: Decimal,
    pub nonmember_refunds_payable: Decimal,
    /// members' loss shortfalls absorbed by the reserve (≤ 0)
    #[serde(default)]
    pub loss_shortfall_absorbed: Decimal,
    pub addition: Decimal,
    pub closing: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Deficit {
    pub opening: Decimal,
    pub added: Decimal,
    pub recovered: Decimal,
    pub closing: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CapitalAccount {
    pub member_id: String,
    pub opening: Decimal,
    pub contributions: Decimal,
    pub allocations: Decimal,
    pub losses: Decimal,
    pub interest: Decimal,
    pub redemptions: Decimal,
    pub closing: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Identity {
    pub member_equity: Decimal,
    pub unallocated: Decimal,
    pub other_stock: Decimal,
    pub sum: Decimal,
    pub net_worth: Option<Decimal>,
    pub difference: Option<Decimal>,
    pub balanced: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Totals {
    pub patronage_margin: Decimal,
    pub member_share: Decimal,
    pub nonmember_share: Decimal,
    pub stock_dividends: Decimal,
    pub reserve: Decimal,
    pub allocated: Decimal,
    pub cash: Decimal,
    pub retained: Decimal,
    pub carried_out: Decimal,
    pub losses_to_members: Decimal,
}

/// The fields of a close that reports use.
#[derive(Debug, Clone, Deserialize)]
pub struct CloseData {
    pub fiscal_year: i32,
    pub coop: String,
    pub currency: String,
    pub dates: Dates,
    pub pools: Vec<Pool>,
    pub allocations: Vec<Allocation>,
    pub members: Vec<Member>,
    pub reserves: Reserves,
    pub deficit: Deficit,
    pub capital_accounts: Vec<CapitalAccount>,
    pub identity: Identity,
    pub tranches_created: Vec<Tranche>,
    /// equity cancelled by losses (negative amounts), newest first per member
    #[serde(default)]
    pub tranches_cancelled: Vec<Tranche>,
    pub totals: Totals,
    pub notes: Vec<String>,
    /// the state after the close (the equity tranches at the fiscal year end)
    pub state: State,
}

/// A close ready for the report builders.
#[derive(Debug, Clone)]
pub struct View {
    pub close: CloseData,
    /// true when read from a sealed `closes/FY/close.json`, false for a dry run
    pub sealed: bool,
    /// the state before the close (opening tranches)
    pub opening: State,
    pub currency: Currency,
    /// the co-op kind from coop.toml (`worker`, `consumer`, ...)
    pub coop_kind: String,
}

impl View {
    fn new(
        close: CloseData,
        sealed: bool,
        opening: State,
        coop_kind: String,
    ) -> anyhow::Result<View> {
        let currency = Currency::from_code(&close.currency)
            .with_context(|| format!("unknown currency `{}` in the close", close.currency))?;
        Ok(View {
            close,
            sealed,
            opening,
            currency,
            coop_kind,
        })
    }

    /// From a close computed now (dry run).
    pub fn from_close(c: &Close, opening: State, coop_kind: String) -> anyhow::Result<View> {
        let mut v = serde_json::to_value(c)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("state".into(), serde_json::to_value(&c.state_after)?);
        }
        let data: CloseData = serde_json::from_value(v)?;
        View::new(data, false, opening, coop_kind)
    }

    /// From the sealed `close.json` of fiscal year `fy`, refused if it changed since sealing.
    pub fn from_sealed(
        book_dir: &Path,
        fy: i32,
        opening: State,
        coop_kind: String,
    ) -> anyhow::Result<View> {
        let (_, bytes) = crate::seal::read_sealed_file(book_dir, fy, crate::seal::CLOSE_JSON)?;
        let data: CloseData = serde_json::from_slice(&bytes).with_context(|| {
            format!("the sealed close.json of fiscal year {fy} is not a sealed close")
        })?;
        View::new(data, true, opening, coop_kind)
    }

    /// An amount of the close as money in its currency.
    pub fn m(&self, d: Decimal) -> anyhow::Result<Money> {
        Money::from_decimal(d, self.currency)
            .with_context(|| format!("amount {d} does not fit {}", self.currency))
    }

    /// Money cell.
    pub fn mc(&self, d: Decimal) -> anyhow::Result<super::doc::Cell> {
        Ok(super::doc::Cell::Money(self.m(d)?))
    }

    /// The member's name as the close recorded it.
    pub fn name(&self, id: &str) -> &str {
        self.close
            .members
            .iter()
            .find(|m| m.member_id == id)
            .map(|m| m.name.as_str())
            .unwrap_or("")
    }

    /// Where the figures come from, for report headers.
    pub fn source_line(&self) -> String {
        if self.sealed {
            format!(
                "sealed close (closes/{}/close.json)",
                self.close.fiscal_year
            )
        } else {
            format!(
                "DRY RUN: fiscal year {} is not sealed; figures computed from the book now and may change",
                self.close.fiscal_year
            )
        }
    }
}
