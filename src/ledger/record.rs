//! The one model of `close.json`: a close as sealed (or computed now and passed through the same
//! JSON form, so a dry run reads exactly like a sealed year). Amounts are typed once here
//! (decimals as written, turned into [`Money`] in the close's currency by [`CloseRecord::money`]).

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

/// A close as sealed in `closes/FY/close.json`: the one model every reader of a sealed close
/// uses (reports, statements, the wealth trend, the uncashed cross-check, history).
#[derive(Debug, Clone, Deserialize)]
pub struct CloseRecord {
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

impl CloseRecord {
    /// The record of a close computed now (a dry run), through the same JSON form as a sealed
    /// `close.json`.
    pub fn from_close(c: &Close) -> anyhow::Result<CloseRecord> {
        let mut v = serde_json::to_value(c)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("state".into(), serde_json::to_value(&c.state_after)?);
        }
        Ok(serde_json::from_value(v)?)
    }

    /// The close's currency.
    pub fn currency(&self) -> anyhow::Result<Currency> {
        Currency::from_code(&self.currency)
            .with_context(|| format!("unknown currency `{}` in the close", self.currency))
    }

    /// An amount of the close as money in `cur` (the close's currency).
    pub fn money(d: Decimal, cur: Currency) -> anyhow::Result<Money> {
        Money::from_decimal(d, cur).with_context(|| format!("amount {d} does not fit {cur}"))
    }
}
