//! The yearly state the routes transform: holders, class rights, positions (units), money claims
//! without units, and the ledger of payments and investor cash flows.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::num::{self, ArithError};
use crate::money::Currency;

/// How a class shares in value (the economic-claims lens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Econ {
    /// Shares the residual value (valuation minus fixed claims) by units.
    Residual,
    /// A fixed claim of `par` per unit (member shares, Class B at $1, community shares).
    Par(Decimal),
    /// No economic rights (steward shares, veto share).
    Nothing,
}

/// Rights of a class (domain §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRights {
    pub votes_per_unit: Decimal,
    /// One member one vote, whatever the units held.
    pub per_capita: bool,
    pub board_seats: u32,
    pub vetoes: Vec<String>,
    pub econ: Econ,
    /// Liquidation preference as a multiple of the money invested (0 = none).
    pub liquidation_preference: Decimal,
    pub participating: bool,
    pub participation_cap: Option<Decimal>,
    /// Higher is paid first.
    pub seniority: i64,
    /// An investor instrument (Class B, non-voting investor shares): its claims never count as
    /// community under the instrument lens, whoever holds them.
    pub investor_instrument: bool,
}

impl Default for ClassRights {
    fn default() -> Self {
        ClassRights {
            votes_per_unit: Decimal::ONE,
            per_capita: false,
            board_seats: 0,
            vetoes: Vec::new(),
            econ: Econ::Residual,
            liquidation_preference: Decimal::ZERO,
            participating: false,
            participation_cap: None,
            seniority: 0,
            investor_instrument: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: String,
    pub name: String,
    pub segment: String,
    /// People behind this holder (a pooled group of 500 user-members is one holder, 500 members).
    pub members: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    pub units: Decimal,
    /// Money originally invested for these units (carried when units change class).
    pub invested: Decimal,
}

/// An engine failure: arithmetic, or an input problem only visible while running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Arith(#[from] ArithError),
    #[error("`{key}`: {message}")]
    Input {
        code: &'static str,
        key: String,
        message: String,
        hint: String,
    },
}

impl EngineError {
    pub fn input(
        code: &'static str,
        key: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        EngineError::Input {
            code,
            key: key.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

pub type Er<T> = Result<T, EngineError>;

/// The state at the end of a year.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub holders: BTreeMap<String, Holder>,
    pub classes: BTreeMap<String, ClassRights>,
    /// (class, holder) → position.
    pub pos: BTreeMap<(String, String), Position>,
    /// (class, holder) → money claim replacing the class rule (remaining cap, principal + arrears).
    pub pos_claim: BTreeMap<(String, String), Decimal>,
    /// (holder, label) → money claim without units (notes, demand dividends, ICAs, reserve).
    pub claims: BTreeMap<(String, String), Decimal>,
}

impl State {
    pub fn units(&self, class: &str, holder: &str) -> Decimal {
        self.pos
            .get(&(class.to_string(), holder.to_string()))
            .map_or(Decimal::ZERO, |p| p.units)
    }

    /// Holders of a class with positive units, in id order.
    pub fn holders_of(&self, class: &str) -> Vec<(String, Position)> {
        self.pos
            .iter()
            .filter(|((c, _), p)| c == class && p.units > Decimal::ZERO)
            .map(|((_, h), p)| (h.clone(), p.clone()))
            .collect()
    }

    pub fn class_units(&self, class: &str) -> num::Ar<Decimal> {
        num::sum(self.holders_of(class).into_iter().map(|(_, p)| p.units))
    }

    pub fn total_units(&self) -> num::Ar<Decimal> {
        num::sum(self.pos.values().map(|p| p.units))
    }

    /// Adds units (and invested money) to a position.
    pub fn add_units(
        &mut self,
        class: &str,
        holder: &str,
        units: Decimal,
        invested: Decimal,
    ) -> num::Ar<()> {
        let p = self
            .pos
            .entry((class.to_string(), holder.to_string()))
            .or_default();
        p.units = num::add(p.units, units)?;
        p.invested = num::add(p.invested, invested)?;
        Ok(())
    }

    /// Removes units (never below zero); returns the invested money that left with them.
    pub fn remove_units(&mut self, class: &str, holder: &str, units: Decimal) -> num::Ar<Decimal> {
        let Some(p) = self.pos.get_mut(&(class.to_string(), holder.to_string())) else {
            return Ok(Decimal::ZERO);
        };
        let take = units.min(p.units);
        let inv = if p.units.is_zero() {
            Decimal::ZERO
        } else {
            num::div(num::mul(p.invested, take)?, p.units)?
        };
        p.units = num::sub(p.units, take)?;
        p.invested = num::sub(p.invested, inv)?;
        if p.units <= Decimal::ZERO {
            p.units = Decimal::ZERO;
        }
        Ok(inv)
    }

    pub fn set_claim(&mut self, holder: &str, label: &str, amount: Decimal) {
        let k = (holder.to_string(), label.to_string());
        if amount.is_zero() {
            self.claims.remove(&k);
        } else {
            self.claims.insert(k, amount);
        }
    }

    pub fn claim(&self, holder: &str, label: &str) -> Decimal {
        self.claims
            .get(&(holder.to_string(), label.to_string()))
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    pub fn add_claim(&mut self, holder: &str, label: &str, amount: Decimal) -> num::Ar<()> {
        let v = num::add(self.claim(holder, label), amount)?;
        self.set_claim(holder, label, v);
        Ok(())
    }
}

/// One cash payment made by the company (or the trust it funds) in a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub route: String,
    pub kind: &'static str,
    pub holder: String,
    pub amount: Decimal,
}

impl Payment {
    pub fn new(route: &str, kind: &'static str, holder: &str, amount: Decimal) -> Payment {
        Payment {
            route: route.to_string(),
            kind,
            holder: holder.to_string(),
            amount,
        }
    }
}

/// An EOT bonus line (equality requirement: pay + service + hours entitlements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BonusLine {
    pub employee: String,
    pub by_pay: Decimal,
    pub by_service: Decimal,
    pub by_hours: Decimal,
    pub total: Decimal,
    pub tax_free: Decimal,
    pub taxable: Decimal,
}

/// Payments, cash raised, investor bases and flows, year by year (t = 0 … years).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub payments: Vec<Vec<Payment>>,
    pub raised: Vec<Decimal>,
    pub bonuses: Vec<Vec<BonusLine>>,
    pub notes: Vec<Vec<String>>,
    /// holder → cash flows per t (negative = paid in, positive = received).
    pub flows: BTreeMap<String, Vec<Decimal>>,
    /// holder → money at risk (the basis of MOIC).
    pub basis: BTreeMap<String, Decimal>,
    /// (holder, instrument) pairs already counted in `basis`.
    pub basis_keys: std::collections::BTreeSet<(String, String)>,
    pub years: u32,
}

impl Ledger {
    pub fn new(years: u32) -> Self {
        let n = years as usize + 1;
        Ledger {
            payments: vec![Vec::new(); n],
            raised: vec![Decimal::ZERO; n],
            bonuses: vec![Vec::new(); n],
            notes: vec![Vec::new(); n],
            flows: BTreeMap::new(),
            basis: BTreeMap::new(),
            basis_keys: std::collections::BTreeSet::new(),
            years,
        }
    }

    fn flow(&mut self, holder: &str, t: u32, amount: Decimal) -> num::Ar<()> {
        let n = self.years as usize + 1;
        let v = self
            .flows
            .entry(holder.to_string())
            .or_insert_with(|| vec![Decimal::ZERO; n]);
        if let Some(x) = v.get_mut(t as usize) {
            *x = num::add(*x, amount)?;
        }
        Ok(())
    }

    /// The company pays `amount` to `holder` in year `t` (counts as cash required).
    pub fn pay(
        &mut self,
        t: u32,
        route: &str,
        kind: &'static str,
        holder: &str,
        amount: Decimal,
    ) -> num::Ar<()> {
        if amount.is_zero() {
            return Ok(());
        }
        self.pay_other(t, Payment::new(route, kind, holder, amount))?;
        self.flow(holder, t, amount)
    }

    /// `holder` puts `amount` at risk at `t` (basis of MOIC and the IRR's outflow).
    pub fn invest(&mut self, holder: &str, t: u32, amount: Decimal) -> num::Ar<()> {
        let b = self.basis.entry(holder.to_string()).or_default();
        *b = num::add(*b, amount)?;
        self.flow(holder, t, -amount)
    }

    /// Like [`Ledger::invest`], once per (holder, instrument): a later route working on the same
    /// instrument does not count the same money twice.
    pub fn invest_key(
        &mut self,
        holder: &str,
        instrument: &str,
        t: u32,
        amount: Decimal,
    ) -> num::Ar<()> {
        if self
            .basis_keys
            .insert((holder.to_string(), instrument.to_string()))
        {
            self.invest(holder, t, amount)?;
        }
        Ok(())
    }

    /// A payment that is cash required but not a return on capital (patronage cash, bonuses).
    pub fn pay_other(&mut self, t: u32, p: Payment) -> num::Ar<()> {
        if p.amount.is_zero() {
            return Ok(());
        }
        if let Some(v) = self.payments.get_mut(t as usize) {
            v.push(p);
        }
        Ok(())
    }

    /// Cash raised by the company at `t` (member buy-ins, share offers): adds to capacity.
    pub fn raise(&mut self, t: u32, amount: Decimal) -> num::Ar<()> {
        if let Some(x) = self.raised.get_mut(t as usize) {
            *x = num::add(*x, amount)?;
        }
        Ok(())
    }

    pub fn note(&mut self, t: u32, text: String) {
        if let Some(v) = self.notes.get_mut(t as usize) {
            v.push(text);
        }
    }
}

/// Operating assumptions: named yearly paths (t = 1 … years) and the valuation (t = 0 … years).
#[derive(Debug, Clone, Default)]
pub struct Paths {
    pub flows: BTreeMap<String, Vec<Decimal>>,
    pub valuation: Option<Vec<Decimal>>,
    pub capacity: Option<String>,
    pub opening_cash: Decimal,
}

impl Paths {
    /// The raw value of path `name` in year `t` (t ≥ 1), zero if absent.
    pub fn raw(&self, name: &str, t: u32) -> Decimal {
        if t == 0 {
            return Decimal::ZERO;
        }
        self.flows
            .get(name)
            .and_then(|v| v.get(t as usize - 1))
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    /// The payment base: the path floored at zero.
    pub fn base(&self, name: &str, t: u32) -> Decimal {
        self.raw(name, t).max(Decimal::ZERO)
    }

    pub fn valuation(&self, t: u32) -> Option<Decimal> {
        self.valuation
            .as_ref()
            .and_then(|v| v.get(t as usize))
            .copied()
    }

    /// Cash the company can spend on the routes in year `t`.
    pub fn capacity(&self, t: u32) -> Decimal {
        if t == 0 {
            return self.opening_cash;
        }
        match &self.capacity {
            Some(n) => self.base(n, t),
            None => Decimal::ZERO,
        }
    }
}

/// What every route sees while running.
#[derive(Debug, Clone)]
pub struct Cx {
    pub currency: Currency,
    pub years: u32,
    pub paths: Paths,
}
