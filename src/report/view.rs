//! The close as reports see it: the ledger's record of a sealed close, or of a close computed now
//! (a dry run, passed through the same JSON form), so both paths render identically.

use rust_decimal::Decimal;

use crate::engine::close::Close;
use crate::engine::state::State;
use crate::ledger::record::CloseRecord;
use crate::money::{Currency, Money};

/// A close ready for the report builders.
#[derive(Debug, Clone)]
pub struct View {
    pub close: CloseRecord,
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
        close: CloseRecord,
        sealed: bool,
        opening: State,
        coop_kind: String,
    ) -> anyhow::Result<View> {
        let currency = close.currency()?;
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
        View::new(CloseRecord::from_close(c)?, false, opening, coop_kind)
    }

    /// From the sealed close of a year as the ledger read it.
    pub fn from_sealed(
        close: CloseRecord,
        opening: State,
        coop_kind: String,
    ) -> anyhow::Result<View> {
        View::new(close, true, opening, coop_kind)
    }

    /// An amount of the close as money in its currency.
    pub fn m(&self, d: Decimal) -> anyhow::Result<Money> {
        CloseRecord::money(d, self.currency)
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
                "sealed close ({}/{}/{})",
                crate::ledger::CLOSES,
                self.close.fiscal_year,
                crate::ledger::CLOSE_JSON
            )
        } else {
            format!(
                "DRY RUN: fiscal year {} is not sealed; figures computed from the book now and may change",
                self.close.fiscal_year
            )
        }
    }
}
