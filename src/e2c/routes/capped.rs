//! Capped-return redemption (domain §2.1–2.2): investor units of a class are bought back from a
//! share α of a base (profit, FCF, revenue …) until each holder has received `cap × invested`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::Table;

use super::{base_key, Mechanism, Ref};
use crate::e2c::model::{Cx, EngineError, Er, Ledger, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceRule {
    Par,
    Cap,
    Fmv,
    MinFmvCap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    ProRata,
    Seniority,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Full precision (units at 10 dp), reported to the cent: the domain's rule.
    Units,
    /// Every payment cut to the cent by largest remainder.
    Cents,
}

pub(crate) fn rounding_key(p: &mut P<'_>, t: &Table, path: &str) -> Rounding {
    match p
        .choice(t, path, "rounding", &["units", "cents"], "units")
        .as_str()
    {
        "cents" => Rounding::Cents,
        _ => Rounding::Units,
    }
}

#[derive(Debug, Clone, Default)]
struct Inv {
    invested: Decimal,
    cap: Decimal,
    paid: Decimal,
    cap_price: Decimal,
}

#[derive(Debug, Clone)]
pub struct CappedRedemption {
    pub label: String,
    pub key: String,
    pub class: String,
    pub holders: Vec<String>,
    pub cap: Decimal,
    pub alpha: Share,
    pub base: String,
    pub honeymoon: u32,
    pub price: PriceRule,
    pub par: Option<Decimal>,
    pub order: Order,
    pub seniority: Vec<String>,
    pub legal_limit: Option<String>,
    pub rounding: Rounding,
    inv: BTreeMap<String, Inv>,
}

impl CappedRedemption {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "class",
                "holders",
                "cap_multiple",
                "alpha",
                "base",
                "honeymoon",
                "price",
                "par",
                "order",
                "seniority",
                "legal_limit",
                "rounding",
            ],
        );
        let class = p.str_req(t, path, "class");
        let cap = p.cap_req(t, path, "cap_multiple");
        let alpha = p.share_req(t, path, "alpha");
        let base = base_key(p, t, path, "profit");
        let honeymoon = p.int_opt(t, path, "honeymoon").unwrap_or(0);
        let price = match p
            .choice(
                t,
                path,
                "price",
                &["par", "cap", "fmv", "min_fmv_cap"],
                "cap",
            )
            .as_str()
        {
            "par" => PriceRule::Par,
            "fmv" => PriceRule::Fmv,
            "min_fmv_cap" => PriceRule::MinFmvCap,
            _ => PriceRule::Cap,
        };
        let par = p.amount_opt(t, path, "par");
        if price == PriceRule::Par && par.is_none() && t.get("par").is_none() {
            p.missing(
                path,
                "par",
                "the redemption price per unit for `price = \"par\"`",
            );
        }
        if par.is_some_and(|x| x.is_zero()) {
            p.err(
                code::BAD_VALUE,
                &join(path, "par"),
                "a par price of zero cannot redeem units",
                "give a positive price per unit",
            );
        }
        let order = match p
            .choice(t, path, "order", &["pro_rata", "seniority"], "pro_rata")
            .as_str()
        {
            "seniority" => Order::Seniority,
            _ => Order::ProRata,
        };
        let holders = p.str_list_opt(t, path, "holders").unwrap_or_default();
        let seniority = p.str_list_opt(t, path, "seniority").unwrap_or_default();
        let legal_limit = p.str_opt(t, path, "legal_limit");
        let rounding = rounding_key(p, t, path);
        Some(CappedRedemption {
            label,
            key: path.to_string(),
            class: class?,
            holders,
            cap: cap.unwrap_or(Decimal::ONE),
            alpha: alpha.unwrap_or(Share::ZERO),
            base,
            honeymoon,
            price,
            par,
            order,
            seniority,
            legal_limit,
            rounding,
            inv: BTreeMap::new(),
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        let mut r = vec![
            Ref::class(&self.class, join(&self.key, "class")),
            Ref::path(&self.base, join(&self.key, "base")),
        ];
        r.extend(Ref::each(Ref::holder, &self.holders, &self.key, "holders"));
        r.extend(Ref::each(
            Ref::holder,
            &self.seniority,
            &self.key,
            "seniority",
        ));
        if let Some(l) = &self.legal_limit {
            r.push(Ref::path(l, join(&self.key, "legal_limit")));
        }
        r
    }

    fn price_for(&self, cx: &Cx, t: u32, st: &State, inv: &Inv) -> Er<Decimal> {
        let fmv = || -> Er<Decimal> {
            let v = cx.paths.valuation(t).ok_or_else(|| {
                EngineError::input(
                    code::NEED_VALUATION,
                    join(&self.key, "price"),
                    "an FMV price needs `assumptions.valuation`",
                    "add a valuation path to [assumptions]",
                )
            })?;
            Ok(num::div0(v, st.total_units()?)?)
        };
        Ok(match self.price {
            PriceRule::Par => self.par.unwrap_or(Decimal::ONE),
            PriceRule::Cap => inv.cap_price,
            PriceRule::Fmv => fmv()?,
            PriceRule::MinFmvCap => fmv()?.min(inv.cap_price),
        })
    }
}

impl Mechanism for CappedRedemption {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        for (h, pos) in st.holders_of(&self.class) {
            if !self.holders.is_empty() && !self.holders.contains(&h) {
                continue;
            }
            if pos.invested <= Decimal::ZERO {
                return Err(EngineError::input(
                    code::ROUTE_RULE,
                    join(&self.key, "class"),
                    format!("`{h}` holds class `{}` but invested nothing, so it has no cap", self.class),
                    "give the holder an `invested` amount in the cap table, or list capped holders in `holders`",
                ));
            }
            let cap = num::mul(self.cap, pos.invested)?;
            let inv = Inv {
                invested: pos.invested,
                cap,
                paid: Decimal::ZERO,
                cap_price: num::div(cap, pos.units)?,
            };
            led.invest_key(&h, &self.class, 0, pos.invested)?;
            st.pos_claim.insert((self.class.clone(), h.clone()), cap);
            self.inv.insert(h, inv);
        }
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let mut budget = if t <= self.honeymoon {
            Decimal::ZERO
        } else {
            self.alpha.apply(cx.paths.base(&self.base, t))?
        };
        if let Some(l) = &self.legal_limit {
            budget = budget.min(cx.paths.base(l, t));
        }
        budget = num::round_money(budget, cx.currency.minor_units());
        // how much each holder can still take: min(cap left, units × price)
        let mut room: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for (h, inv) in &self.inv {
            let units = st.units(&self.class, h);
            if units <= Decimal::ZERO || inv.paid >= inv.cap {
                continue;
            }
            let price = self.price_for(cx, t, st, inv)?;
            if price <= Decimal::ZERO {
                continue;
            }
            let left = num::sub(inv.cap, inv.paid)?.min(num::mul(units, price)?);
            room.insert(h.clone(), (left, price));
        }
        let mut pay: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut pool = budget;
        match self.order {
            Order::Seniority => {
                let mut order: Vec<String> = self.seniority.clone();
                for h in room.keys() {
                    if !order.contains(h) {
                        order.push(h.clone());
                    }
                }
                for h in order {
                    if let Some((left, _)) = room.get(&h) {
                        let x = pool.min(*left);
                        pool = num::sub(pool, x)?;
                        pay.insert(h, x);
                    }
                }
            }
            Order::ProRata => {
                // split by each holder's remaining claim (what is left of the cap), so holders
                // with different prices reach their caps together; holders that reach their
                // room drop out and the rest is re-split
                let mut active: Vec<String> = room.keys().cloned().collect();
                while pool > Decimal::ZERO && !active.is_empty() {
                    let w: Vec<(String, Decimal)> = active
                        .iter()
                        .map(|h| {
                            let claim = self.inv.get(h).map_or(Decimal::ZERO, |i| i.cap - i.paid);
                            (h.clone(), claim)
                        })
                        .collect();
                    let parts = match self.rounding {
                        Rounding::Units => num::split_exact(pool, &w)?,
                        Rounding::Cents => num::split_cents(pool, &w, cx.currency)?,
                    };
                    let mut next = Vec::new();
                    let mut used = Decimal::ZERO;
                    for ((h, _), part) in w.iter().zip(parts) {
                        let already = pay.get(h).copied().unwrap_or_default();
                        let left = num::sub(room.get(h).map_or(Decimal::ZERO, |r| r.0), already)?;
                        let x = part.min(left);
                        used = num::add(used, x)?;
                        pay.insert(h.clone(), num::add(already, x)?);
                        if x < left {
                            next.push(h.clone());
                        }
                    }
                    pool = num::sub(pool, used)?;
                    if next.len() == active.len() || used.is_zero() {
                        break;
                    }
                    active = next;
                }
            }
        }
        for (h, x) in pay {
            if x <= Decimal::ZERO {
                continue;
            }
            let Some((_, price)) = room.get(&h) else {
                continue;
            };
            let units = st.units(&self.class, &h);
            let redeemed = num::round_units(num::div(x, *price)?).min(units);
            st.remove_units(&self.class, &h, redeemed)?;
            led.pay(t, &self.label, "redemption", &h, x)?;
            if let Some(inv) = self.inv.get_mut(&h) {
                inv.paid = num::add(inv.paid, x)?;
                let left_units = st.units(&self.class, &h);
                if inv.paid >= inv.cap && left_units > Decimal::ZERO {
                    st.remove_units(&self.class, &h, left_units)?;
                    led.note(
                        t,
                        format!(
                            "{}: `{h}` reached its {}x cap; {} remaining units retired",
                            self.label,
                            self.cap,
                            num::fixed(left_units, 2)
                        ),
                    );
                }
                let claim = if st.units(&self.class, &h) > Decimal::ZERO {
                    num::sub(inv.cap, inv.paid)?
                } else {
                    Decimal::ZERO
                };
                st.pos_claim.insert((self.class.clone(), h.clone()), claim);
                if inv.paid >= inv.cap {
                    led.note(
                        t,
                        format!(
                            "{}: `{h}` is fully redeemed at {}x",
                            self.label,
                            num::fixed(num::div(inv.paid, inv.invested)?, 2)
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}
