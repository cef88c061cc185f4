//! Reading a sealed revolvement back (`redemptions.json`) and applying it to the state: what a
//! later close or revolvement starts from.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Debt, Revolvement, Transfer};
use crate::engine::state::{merge, State, Tranche};
use crate::money::MoneyError;

/// One retired amount as read back from a sealed `redemptions.json`.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    member_id: String,
    allocation_year: i32,
    kind: String,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    #[serde(default)]
    reason: String,
}

/// The parts of a sealed `redemptions.json` that change the equity outstanding.
#[derive(Debug, Clone, Deserialize)]
pub struct Sealed {
    pub fiscal_year: i32,
    payments: Vec<Entry>,
    #[serde(default)]
    discounts: Vec<Entry>,
    #[serde(default)]
    conversions: Vec<Entry>,
    #[serde(default)]
    offsets: Vec<Entry>,
    #[serde(default)]
    set_offs: Vec<Entry>,
    #[serde(default)]
    transfers: Vec<Transfer>,
    #[serde(default)]
    pub debts: Vec<Debt>,
    #[serde(default)]
    debt_service: Vec<ServiceEntry>,
}

/// A debt installment paid, as read back from a sealed `redemptions.json`.
#[derive(Debug, Clone, Deserialize)]
struct ServiceEntry {
    member_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    payment: Decimal,
}

/// How a sealed amount reached (or left) a member, for statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// paid in cash
    Cash,
    /// applied to what the member owes the co-op
    SetOff,
    /// an estate's discount to present value (to unallocated equity)
    Discount,
    /// a leaver's equity converted to a debt the co-op owes them
    ConvertedToDebt,
    /// a loss tranche netted against the member's own equity
    LossOffset,
    /// passed to the surviving joint member
    TransferredOut,
    /// received from a deceased joint member
    TransferredIn,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Cash => "cash",
            How::SetOff => "set_off",
            How::Discount => "discount",
            How::ConvertedToDebt => "converted_to_debt",
            How::LossOffset => "loss_offset",
            How::TransferredOut => "transferred_out",
            How::TransferredIn => "transferred_in",
        }
    }
}

/// One sealed line of a member: (allocation year, kind, how, amount, reason).
pub type MemberLine = (i32, String, How, Decimal, String);

/// One line for the journal: (member, allocation year, kind, amount).
pub type JournalLine = (String, i32, String, Decimal);

fn journal_line(e: &Entry) -> JournalLine {
    (
        e.member_id.clone(),
        e.allocation_year,
        e.kind.clone(),
        e.amount,
    )
}

impl Sealed {
    /// Amounts paid, discounted (estates) and converted to debt (leavers), for journal entries.
    pub fn journal_lines(&self) -> [Vec<JournalLine>; 3] {
        let lines = |v: &[Entry]| -> Vec<JournalLine> { v.iter().map(journal_line).collect() };
        [
            lines(&self.payments),
            lines(&self.discounts),
            lines(&self.conversions),
        ]
    }

    /// Amounts set off against what members owe (Dr the tranche, Cr the member receivable).
    pub fn set_off_lines(&self) -> Vec<JournalLine> {
        self.set_offs.iter().map(journal_line).collect()
    }

    /// Equity of deceased joint members passed to the survivors.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// Per member, the receivables set off by these redemptions.
    pub fn set_off_by_member(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in &self.set_offs {
            let v = m.entry(e.member_id.clone()).or_default();
            *v = v.checked_add(e.amount).unwrap_or(Decimal::MAX);
        }
        m
    }

    /// Per member, the cash paid this year: redemptions and debt installments.
    pub fn cash_paid(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> = BTreeMap::new();
        let all = self
            .payments
            .iter()
            .map(|e| (&e.member_id, e.amount))
            .chain(self.debt_service.iter().map(|d| (&d.member_id, d.payment)));
        for (id, a) in all {
            let v = m.entry(id.clone()).or_default();
            *v = v.checked_add(a).unwrap_or(Decimal::MAX);
        }
        m
    }

    /// Every sealed line, by member (each member's sorted by allocation year, kind and how);
    /// a transfer is listed under both members.
    pub fn lines_by_member(&self) -> BTreeMap<String, Vec<MemberLine>> {
        let mut m: BTreeMap<String, Vec<MemberLine>> = BTreeMap::new();
        for (list, how) in [
            (&self.payments, How::Cash),
            (&self.set_offs, How::SetOff),
            (&self.discounts, How::Discount),
            (&self.conversions, How::ConvertedToDebt),
            (&self.offsets, How::LossOffset),
        ] {
            for e in list {
                m.entry(e.member_id.clone()).or_default().push((
                    e.allocation_year,
                    e.kind.clone(),
                    how,
                    e.amount,
                    e.reason.clone(),
                ));
            }
        }
        for t in &self.transfers {
            m.entry(t.member_id.clone()).or_default().push((
                t.allocation_year,
                t.kind.clone(),
                How::TransferredOut,
                t.amount,
                t.reason.clone(),
            ));
            m.entry(t.to.clone()).or_default().push((
                t.allocation_year,
                t.kind.clone(),
                How::TransferredIn,
                t.amount,
                format!("from the deceased joint member `{}`", t.member_id),
            ));
        }
        for v in m.values_mut() {
            v.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        }
        m
    }

    /// Parses a sealed `redemptions.json`.
    pub fn parse(text: &str) -> serde_json::Result<Sealed> {
        serde_json::from_str(text)
    }

    /// The state after these redemptions: every paid, set off, discounted, converted or offset
    /// amount reduces its tranche; a joint member's transfer moves it to the survivor; estate
    /// discounts are credited to unallocated equity.
    pub fn apply(&self, state: &State) -> Result<State, MoneyError> {
        let mut ts = state.tranches.clone();
        let neg = |e: &Entry| Tranche {
            member_id: e.member_id.clone(),
            allocation_year: e.allocation_year,
            kind: e.kind.clone(),
            amount: -e.amount,
        };
        for e in self
            .payments
            .iter()
            .chain(&self.discounts)
            .chain(&self.conversions)
            .chain(&self.offsets)
            .chain(&self.set_offs)
        {
            ts.push(neg(e));
        }
        for t in &self.transfers {
            for (member_id, amount) in [(&t.member_id, -t.amount), (&t.to, t.amount)] {
                ts.push(Tranche {
                    member_id: member_id.clone(),
                    allocation_year: t.allocation_year,
                    kind: t.kind.clone(),
                    amount,
                });
            }
        }
        let gain = self
            .discounts
            .iter()
            .filter(|d| d.kind != "loss")
            .try_fold(Decimal::ZERO, |acc, d| {
                crate::money::add_exact(acc, d.amount)
            })?;
        // a loss absorbed by an estate: the negative discount entries restore nothing
        let mut s = state.clone();
        s.tranches = merge(ts)?;
        s.unallocated = crate::money::add_exact(s.unallocated, gain)?;
        Ok(s)
    }
}

impl Revolvement {
    /// Applies this (not yet sealed) revolvement to `state`, as a sealed one would be.
    pub fn apply(&self, state: &State) -> anyhow::Result<State> {
        let v = serde_json::to_string(self)?;
        Ok(Sealed::parse(&v)?.apply(state)?)
    }
}
