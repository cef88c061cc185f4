//! Seller note / deferred consideration (domain §2.5): the buyer takes title at closing, pays a
//! down payment, and owes the rest to the sellers on a level-payment or fixed-principal schedule,
//! interest first, with optional profit-linked prepayment.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::Table;

use super::capped::{rounding_key, Rounding};
use super::{base_key, transfer_stake, Mechanism, Ref};
use crate::e2c::model::{Cx, Er, Ledger, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

pub const CLAIM: &str = "deferred consideration";

/// Balances owed to several sellers, paid pro rata by balance.
#[derive(Debug, Clone, Default)]
pub struct Debt {
    pub balances: BTreeMap<String, Decimal>,
    /// Cut every payment to the cent (`rounding = "cents"`) instead of full precision.
    pub cents: bool,
}

impl Debt {
    pub fn total(&self) -> num::Ar<Decimal> {
        num::sum(self.balances.values().copied())
    }

    fn weights(&self) -> Vec<(String, Decimal)> {
        self.balances.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn split(&self, cx: &Cx, amount: Decimal, w: &[(String, Decimal)]) -> num::Ar<Vec<Decimal>> {
        if self.cents {
            num::split_cents(amount, w, cx.currency)
        } else {
            num::split_exact(amount, w)
        }
    }

    /// Rounds an amount to this debt's precision.
    pub fn round(&self, cx: &Cx, d: Decimal) -> Decimal {
        num::round_to(d, self.cents, cx.currency.minor_units())
    }

    /// Pays `amount` of `kind` split by balance; principal reduces balances.
    #[allow(clippy::too_many_arguments)]
    pub fn pay(
        &mut self,
        cx: &Cx,
        t: u32,
        label: &str,
        kind: &'static str,
        amount: Decimal,
        principal: bool,
        st: &mut State,
        led: &mut Ledger,
    ) -> Er<()> {
        if amount <= Decimal::ZERO {
            return Ok(());
        }
        let w = self.weights();
        let parts = self.split(cx, amount, &w)?;
        for ((h, _), x) in w.iter().zip(parts) {
            led.pay(t, label, kind, h, x)?;
            if principal {
                if let Some(b) = self.balances.get_mut(h) {
                    *b = num::sub(*b, x)?.max(Decimal::ZERO);
                }
            }
        }
        self.sync(st);
        Ok(())
    }

    /// Adds unpaid interest to the balances (capitalised).
    pub fn capitalise(&mut self, cx: &Cx, amount: Decimal, st: &mut State) -> Er<()> {
        let w = self.weights();
        let parts = self.split(cx, amount, &w)?;
        for ((h, _), x) in w.iter().zip(parts) {
            if let Some(b) = self.balances.get_mut(h) {
                *b = num::add(*b, x)?;
            }
        }
        self.sync(st);
        Ok(())
    }

    pub fn sync(&self, st: &mut State) {
        for (h, b) in &self.balances {
            st.set_claim(h, CLAIM, *b);
        }
    }
}

/// Sells `stake` to `buyer` for `price`: moves title, splits consideration and the upfront part by
/// units sold, registers each seller's basis, and returns the deferred balances.
#[allow(clippy::too_many_arguments)]
pub fn sell(
    cx: &Cx,
    st: &mut State,
    led: &mut Ledger,
    label: &str,
    key: &str,
    buyer: &str,
    sellers: &[String],
    classes: &[String],
    stake: Share,
    price: Decimal,
    upfront: Decimal,
    cents: bool,
) -> Er<Debt> {
    let sellers: Vec<String> = if sellers.is_empty() {
        st.pos
            .iter()
            .filter(|((_, h), p)| h != buyer && p.units > Decimal::ZERO)
            .map(|((_, h), _)| h.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        sellers.to_vec()
    };
    let sold = transfer_stake(st, buyer, &sellers, classes, stake, key)?;
    let w: Vec<(String, Decimal)> = sold.into_iter().collect();
    let mut debt = Debt {
        balances: BTreeMap::new(),
        cents,
    };
    let consideration = debt.split(cx, price, &w)?;
    let up = debt.split(cx, upfront, &w)?;
    for (((h, _), c), u) in w.iter().zip(consideration).zip(up) {
        led.invest_key(h, label, 0, c)?;
        led.pay(0, label, "upfront", h, u)?;
        debt.balances.insert(h.clone(), num::sub(c, u)?);
    }
    debt.sync(st);
    Ok(debt)
}

/// The level annual payment `N·r / (1 − (1+r)^−n)`, rounded to `dp` decimals.
pub fn level_payment(principal: Decimal, rate: Decimal, n: u32, dp: u32) -> num::Ar<Decimal> {
    if n == 0 {
        return Ok(principal);
    }
    if rate.is_zero() {
        return Ok(num::round_money(num::div(principal, Decimal::from(n))?, dp));
    }
    let g = num::powi(num::add(Decimal::ONE, rate)?, n)?;
    // N·r·g / (g − 1) == N·r / (1 − g^−1)
    let pmt = num::div(
        num::mul(num::mul(principal, rate)?, g)?,
        num::sub(g, Decimal::ONE)?,
    )?;
    Ok(num::round_money(pmt, dp))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Level,
    FixedPrincipal,
}

#[derive(Debug, Clone)]
pub struct SellerNote {
    pub label: String,
    pub key: String,
    pub buyer: String,
    pub sellers: Vec<String>,
    pub classes: Vec<String>,
    pub stake: Share,
    pub price: Decimal,
    pub down: Decimal,
    pub rate: Share,
    pub term: u32,
    pub schedule: Schedule,
    pub prepay: Option<Share>,
    pub base: String,
    pub rounding: Rounding,
    debt: Debt,
    pmt: Decimal,
    principal: Decimal,
}

impl SellerNote {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "buyer",
                "sellers",
                "classes",
                "stake",
                "price",
                "down_payment",
                "rate",
                "term",
                "schedule",
                "prepay",
                "base",
                "rounding",
            ],
        );
        let buyer = p.str_req(t, path, "buyer");
        let sellers = p.str_list_opt(t, path, "sellers").unwrap_or_default();
        let classes = p.str_list_opt(t, path, "classes").unwrap_or_default();
        let stake = p.share_opt(t, path, "stake").unwrap_or(Share::ONE);
        let price = p.amount_req(t, path, "price");
        let down = p
            .amount_opt(t, path, "down_payment")
            .unwrap_or(Decimal::ZERO);
        let rate = p.share_req(t, path, "rate");
        let term = p.int_opt(t, path, "term");
        if term.is_none() && !t.contains_key("term") {
            p.missing(path, "term", "the number of yearly payments");
        }
        if term == Some(0) {
            p.err(
                code::BAD_VALUE,
                &join(path, "term"),
                "a term of 0 years",
                "give at least one yearly payment",
            );
        }
        let schedule = match p
            .choice(t, path, "schedule", &["level", "fixed_principal"], "level")
            .as_str()
        {
            "fixed_principal" => Schedule::FixedPrincipal,
            _ => Schedule::Level,
        };
        let prepay = p.share_opt(t, path, "prepay");
        let base = base_key(p, t, path, "profit");
        let rounding = rounding_key(p, t, path);
        if let Some(pr) = price {
            if down > pr {
                p.err(
                    code::ROUTE_RULE,
                    &join(path, "down_payment"),
                    format!("down payment {down} is more than the price {pr}"),
                    "the down payment is part of the price",
                );
            }
        }
        Some(SellerNote {
            label,
            key: path.to_string(),
            buyer: buyer?,
            sellers,
            classes,
            stake,
            price: price?,
            down,
            rate: rate.unwrap_or(Share::ZERO),
            term: term.filter(|x| *x > 0)?,
            schedule,
            prepay,
            base,
            rounding,
            debt: Debt::default(),
            pmt: Decimal::ZERO,
            principal: Decimal::ZERO,
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        let mut r = vec![Ref::holder(&self.buyer, join(&self.key, "buyer"))];
        r.extend(Ref::each(Ref::holder, &self.sellers, &self.key, "sellers"));
        r.extend(Ref::each(Ref::class, &self.classes, &self.key, "classes"));
        if self.prepay.is_some() {
            r.push(Ref::path(&self.base, join(&self.key, "base")));
        }
        r
    }
}

impl Mechanism for SellerNote {
    fn open(&mut self, cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        self.debt = sell(
            cx,
            st,
            led,
            &self.label,
            &self.key,
            &self.buyer,
            &self.sellers,
            &self.classes,
            self.stake,
            self.price,
            self.down,
            self.rounding == Rounding::Cents,
        )?;
        self.principal = self.debt.total()?;
        let dp = if self.debt.cents {
            cx.currency.minor_units()
        } else {
            num::FINE_DP
        };
        self.pmt = match self.schedule {
            Schedule::Level => {
                level_payment(self.principal, self.rate.to_decimal(), self.term, dp)?
            }
            Schedule::FixedPrincipal => {
                num::round_money(num::div(self.principal, Decimal::from(self.term))?, dp)
            }
        };
        led.note(
            0,
            format!(
                "{}: title to {} passes at closing; note {} at {} over {} years, payment {}",
                self.label,
                self.buyer,
                num::fixed(self.principal, 2),
                self.rate,
                self.term,
                num::fixed(self.pmt, 2)
            ),
        );
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let balance = self.debt.total()?;
        if balance <= Decimal::ZERO {
            return Ok(());
        }
        let interest = self.debt.round(cx, self.rate.apply(balance)?);
        let mut principal = match self.schedule {
            Schedule::Level => num::sub(self.pmt, interest)?.max(Decimal::ZERO),
            Schedule::FixedPrincipal => self.pmt,
        }
        .min(balance);
        if t >= self.term {
            principal = balance;
        }
        self.debt
            .pay(cx, t, &self.label, "interest", interest, false, st, led)?;
        self.debt
            .pay(cx, t, &self.label, "principal", principal, true, st, led)?;
        if let Some(pp) = self.prepay {
            let left = self.debt.total()?;
            let extra = self
                .debt
                .round(cx, pp.apply(cx.paths.base(&self.base, t))?)
                .min(left);
            self.debt
                .pay(cx, t, &self.label, "prepayment", extra, true, st, led)?;
        }
        if self.debt.total()?.is_zero() {
            led.note(t, format!("{}: the note is paid off", self.label));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn level_payment_of_the_domain_example() {
        let pmt = level_payment(
            Decimal::from(1_800_000),
            Decimal::from_str("0.06").unwrap(),
            7,
            2,
        )
        .unwrap();
        assert_eq!(pmt, Decimal::from_str("322443.03").unwrap());
        // ESOP example of the domain notes: 1,200,000 at 5% over 10 years
        let pmt = level_payment(
            Decimal::from(1_200_000),
            Decimal::from_str("0.05").unwrap(),
            10,
            2,
        )
        .unwrap();
        assert_eq!(pmt, Decimal::from_str("155405.49").unwrap());
    }
}
