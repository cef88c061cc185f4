//! Demand dividend / revenue share up to a cap (domain §2.3): a claim without units, paid a share
//! of a base after a honeymoon until the investor has received `cap × invested`.

use rust_decimal::Decimal;
use toml::Table;

use super::{base_key, Mechanism, Ref};
use crate::e2c::model::{Cx, Er, Ledger, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{join, P};

pub const CLAIM: &str = "demand dividend";

#[derive(Debug, Clone)]
pub struct DemandDividend {
    pub label: String,
    pub key: String,
    pub holder: String,
    pub invested: Decimal,
    pub cap: Decimal,
    pub share: Share,
    pub base: String,
    pub honeymoon: u32,
    paid: Decimal,
}

impl DemandDividend {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "holder",
                "invested",
                "cap_multiple",
                "share",
                "base",
                "honeymoon",
            ],
        );
        let holder = p.str_req(t, path, "holder");
        let invested = p.amount_req(t, path, "invested");
        let cap = p.cap_req(t, path, "cap_multiple");
        let share = p.share_req(t, path, "share");
        let base = base_key(p, t, path, "fcf");
        let honeymoon = p.int_opt(t, path, "honeymoon").unwrap_or(0);
        Some(DemandDividend {
            label,
            key: path.to_string(),
            holder: holder?,
            invested: invested.unwrap_or_default(),
            cap: cap.unwrap_or(Decimal::ONE),
            share: share.unwrap_or(Share::ZERO),
            base,
            honeymoon,
            paid: Decimal::ZERO,
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        vec![
            Ref::holder(&self.holder, join(&self.key, "holder")),
            Ref::path(&self.base, join(&self.key, "base")),
        ]
    }

    fn cap_amount(&self) -> num::Ar<Decimal> {
        num::mul(self.cap, self.invested)
    }
}

impl Mechanism for DemandDividend {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        led.invest_key(&self.holder, &self.label, 0, self.invested)?;
        led.raise(0, self.invested)?;
        st.set_claim(&self.holder, CLAIM, self.cap_amount()?);
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let cap = self.cap_amount()?;
        let left = num::sub(cap, self.paid)?;
        if left <= Decimal::ZERO {
            return Ok(());
        }
        let due = if t <= self.honeymoon {
            Decimal::ZERO
        } else {
            num::round_money(
                self.share.apply(cx.paths.base(&self.base, t))?,
                cx.currency.minor_units(),
            )
        };
        let x = due.min(left);
        self.paid = num::add(self.paid, x)?;
        led.pay(t, &self.label, "demand dividend", &self.holder, x)?;
        st.set_claim(&self.holder, CLAIM, num::sub(cap, self.paid)?);
        if self.paid >= cap {
            led.note(
                t,
                format!(
                    "{}: `{}` reached the {}x cap",
                    self.label, self.holder, self.cap
                ),
            );
        }
        Ok(())
    }
}
