//! Redeemable preferred with a fixed dividend, arrears and a sinking fund (domain §2.4).
//! Waterfall each year: arrears → current dividend → scheduled redemption plus backlog.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::Table;

use super::{base_key, Mechanism, Ref};
use crate::e2c::model::{Cx, EngineError, Er, Ledger, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

#[derive(Debug, Clone, Default)]
struct Pref {
    original: Decimal,
    outstanding: Decimal,
    arrears: Decimal,
    backlog: Decimal,
    price: Decimal,
}

#[derive(Debug, Clone)]
pub struct RedeemablePreferred {
    pub label: String,
    pub key: String,
    pub class: String,
    pub rate: Share,
    pub cumulative: bool,
    pub compound_arrears: bool,
    pub sinking_fund: Share,
    pub sinking_from: u32,
    pub share: Share,
    pub base: String,
    st: BTreeMap<String, Pref>,
}

impl RedeemablePreferred {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "class",
                "rate",
                "cumulative",
                "compound_arrears",
                "sinking_fund",
                "sinking_from",
                "share",
                "base",
            ],
        );
        let class = p.str_req(t, path, "class");
        let rate = p.share_req(t, path, "rate");
        let cumulative = p.bool_opt(t, path, "cumulative").unwrap_or(true);
        let compound_arrears = p.bool_opt(t, path, "compound_arrears").unwrap_or(false);
        let sinking_fund = p.share_opt(t, path, "sinking_fund").unwrap_or(Share::ZERO);
        let sinking_from = p.int_opt(t, path, "sinking_from").unwrap_or(1);
        let share = p.share_opt(t, path, "share").unwrap_or(Share::ONE);
        let base = base_key(p, t, path, "profit");
        Some(RedeemablePreferred {
            label,
            key: path.to_string(),
            class: class?,
            rate: rate.unwrap_or(Share::ZERO),
            cumulative,
            compound_arrears,
            sinking_fund,
            sinking_from,
            share,
            base,
            st: BTreeMap::new(),
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        vec![
            Ref::class(&self.class, join(&self.key, "class")),
            Ref::path(&self.base, join(&self.key, "base")),
        ]
    }

    /// Pays up to `pool` of the per-holder `due` amounts (pro rata by due, to the cent).
    fn pay_bucket(
        &self,
        cx: &Cx,
        pool: &mut Decimal,
        due: &[(String, Decimal)],
    ) -> Er<Vec<Decimal>> {
        let total = num::sum(due.iter().map(|x| x.1))?;
        let take = (*pool).min(total);
        let parts = if take == total {
            due.iter().map(|x| x.1).collect()
        } else {
            num::split_cents(take, due, cx.currency)?
        };
        *pool = num::sub(*pool, num::sum(parts.iter().copied())?)?;
        Ok(parts)
    }
}

impl Mechanism for RedeemablePreferred {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        for (h, pos) in st.holders_of(&self.class) {
            if pos.invested <= Decimal::ZERO {
                return Err(EngineError::input(
                    code::ROUTE_RULE,
                    join(&self.key, "class"),
                    format!(
                        "`{h}` holds class `{}` but invested nothing, so it has no principal",
                        self.class
                    ),
                    "give the holder an `invested` amount in the cap table",
                ));
            }
            led.invest_key(&h, &self.class, 0, pos.invested)?;
            st.pos_claim
                .insert((self.class.clone(), h.clone()), pos.invested);
            self.st.insert(
                h,
                Pref {
                    original: pos.invested,
                    outstanding: pos.invested,
                    arrears: Decimal::ZERO,
                    backlog: Decimal::ZERO,
                    price: num::div(pos.invested, pos.units)?,
                },
            );
        }
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let dp = cx.currency.minor_units();
        let mut pool = num::round_money(self.share.apply(cx.paths.base(&self.base, t))?, dp);
        if self.compound_arrears {
            for s in self.st.values_mut() {
                s.arrears = num::round_money(num::add(s.arrears, self.rate.apply(s.arrears)?)?, dp);
            }
        }
        let ids: Vec<(String, Pref)> = self
            .st
            .iter()
            .map(|(h, s)| (h.clone(), s.clone()))
            .collect();
        // (i) arrears
        let due: Vec<(String, Decimal)> = ids.iter().map(|(h, s)| (h.clone(), s.arrears)).collect();
        let paid = self.pay_bucket(cx, &mut pool, &due)?;
        for ((h, _), x) in due.iter().zip(&paid) {
            led.pay(t, &self.label, "dividend arrears", h, *x)?;
            if let Some(s) = self.st.get_mut(h) {
                s.arrears = num::sub(s.arrears, *x)?;
            }
        }
        // (ii) current dividend on outstanding principal
        let mut due = Vec::new();
        for (h, s) in &ids {
            due.push((
                h.clone(),
                num::round_money(self.rate.apply(s.outstanding)?, dp),
            ));
        }
        let paid = self.pay_bucket(cx, &mut pool, &due)?;
        for ((h, d), x) in due.iter().zip(&paid) {
            led.pay(t, &self.label, "dividend", h, *x)?;
            let unpaid = num::sub(*d, *x)?;
            if let Some(s) = self.st.get_mut(h) {
                if self.cumulative {
                    s.arrears = num::add(s.arrears, unpaid)?;
                } else if unpaid > Decimal::ZERO {
                    led.note(
                        t,
                        format!(
                            "{}: {} of `{h}`'s non-cumulative dividend lapsed",
                            self.label,
                            num::fixed(unpaid, 2)
                        ),
                    );
                }
            }
        }
        // (iii) sinking fund plus backlog
        if t >= self.sinking_from && !self.sinking_fund.is_zero() {
            let mut due = Vec::new();
            for (h, s) in &ids {
                let sched = num::add(
                    num::round_money(self.sinking_fund.apply(s.original)?, dp),
                    s.backlog,
                )?
                .min(s.outstanding);
                due.push((h.clone(), sched));
            }
            let paid = self.pay_bucket(cx, &mut pool, &due)?;
            for ((h, d), x) in due.iter().zip(&paid) {
                led.pay(t, &self.label, "redemption", h, *x)?;
                if let Some(s) = self.st.get_mut(h) {
                    s.backlog = num::sub(*d, *x)?;
                    s.outstanding = num::sub(s.outstanding, *x)?;
                    let units = st.units(&self.class, h);
                    let redeemed = if s.outstanding <= Decimal::ZERO {
                        units
                    } else {
                        num::round_units(num::div(*x, s.price)?).min(units)
                    };
                    st.remove_units(&self.class, h, redeemed)?;
                }
            }
        }
        for (h, s) in &self.st {
            st.pos_claim.insert(
                (self.class.clone(), h.clone()),
                num::add(s.outstanding, s.arrears)?,
            );
            if s.outstanding <= Decimal::ZERO && s.arrears > Decimal::ZERO {
                // units are gone but arrears are still owed: keep them as a claim without units
                st.set_claim(h, "preferred arrears", s.arrears);
            } else {
                st.set_claim(h, "preferred arrears", Decimal::ZERO);
            }
        }
        Ok(())
    }
}
