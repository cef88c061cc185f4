//! Community shares (domain §4.4): withdrawable, one member one vote, capped interest; an offer
//! at closing, later issues, interest on opening capital, and withdrawals capped at a share of
//! opening capital per year with a first-in-first-out queue of unmet requests.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use toml::Table;

use super::{Mechanism, Ref};
use crate::e2c::model::{ClassRights, Cx, Econ, Er, Ledger, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub year: u32,
    pub amount: Decimal,
    pub members: u32,
}

#[derive(Debug, Clone)]
pub struct CommunityShares {
    pub label: String,
    pub key: String,
    pub holder: String,
    pub class: String,
    pub price: Decimal,
    pub raised: Decimal,
    pub interest: Share,
    pub interest_from: u32,
    pub withdrawals_from: u32,
    pub withdrawal_cap: Share,
    pub requests: Vec<Event>,
    pub issues: Vec<Event>,
    queue: VecDeque<Event>,
}

fn events(p: &mut P<'_>, t: &Table, path: &str, key: &str) -> Vec<Event> {
    let mut out = Vec::new();
    for (ep, et) in p.tables(t, path, key) {
        p.keys(et, &ep, &["year", "amount", "members"]);
        let year = p.int_opt(et, &ep, "year");
        if year.is_none() && !et.contains_key("year") {
            p.missing(&ep, "year", "the year of the event");
        }
        let amount = p.amount_req(et, &ep, "amount");
        let members = p.int_opt(et, &ep, "members").unwrap_or(0);
        if year == Some(0) {
            p.err(
                code::BAD_VALUE,
                &join(&ep, "year"),
                "events start in year 1",
                "the offer at closing is `raised`",
            );
        }
        if let (Some(year), Some(amount)) = (year, amount) {
            out.push(Event {
                year,
                amount,
                members,
            });
        }
    }
    out
}

impl CommunityShares {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "holder",
                "class",
                "price",
                "raised",
                "interest",
                "interest_from",
                "withdrawals_from",
                "withdrawal_cap",
                "requests",
                "issues",
            ],
        );
        let holder = p.str_req(t, path, "holder");
        let class = p
            .str_opt(t, path, "class")
            .unwrap_or_else(|| "community_shares".to_string());
        let price = p.unit_price(t, path, "price", "a share price");
        let raised = p.amount_req(t, path, "raised");
        let interest = p.share_opt(t, path, "interest").unwrap_or(Share::ZERO);
        let interest_from = p.int_opt(t, path, "interest_from").unwrap_or(1);
        let withdrawals_from = p.int_opt(t, path, "withdrawals_from").unwrap_or(1);
        let withdrawal_cap = p.share_opt(t, path, "withdrawal_cap").unwrap_or(Share::ONE);
        let requests = events(p, t, path, "requests");
        let issues = events(p, t, path, "issues");
        Some(CommunityShares {
            label,
            key: path.to_string(),
            holder: holder?,
            class,
            price,
            raised: raised?,
            interest,
            interest_from,
            withdrawals_from,
            withdrawal_cap,
            requests,
            issues,
            queue: VecDeque::new(),
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        vec![Ref::holder(&self.holder, join(&self.key, "holder"))]
    }

    fn capital(&self, st: &State) -> num::Ar<Decimal> {
        num::mul(st.units(&self.class, &self.holder), self.price)
    }
}

impl Mechanism for CommunityShares {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        st.classes.insert(
            self.class.clone(),
            ClassRights {
                votes_per_unit: Decimal::ONE,
                per_capita: true,
                econ: Econ::Par(self.price),
                ..ClassRights::default()
            },
        );
        let units = num::round_units(num::div(self.raised, self.price)?);
        st.add_units(&self.class, &self.holder, units, self.raised)?;
        led.invest_key(&self.holder, &self.label, 0, self.raised)?;
        led.raise(0, self.raised)?;
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let dp = cx.currency.minor_units();
        let opening = self.capital(st)?;
        // interest on opening capital (an operating expense, paid before withdrawals)
        if t >= self.interest_from {
            let i = num::round_money(self.interest.apply(opening)?, dp);
            led.pay(t, &self.label, "share interest", &self.holder, i)?;
        }
        // new issues add capital and members
        for e in self.issues.iter().filter(|e| e.year == t) {
            let units = num::round_units(num::div(e.amount, self.price)?);
            st.add_units(&self.class, &self.holder, units, e.amount)?;
            led.invest(&self.holder, t, e.amount)?;
            led.raise(t, e.amount)?;
            if let Some(h) = st.holders.get_mut(&self.holder) {
                h.members = h.members.saturating_add(e.members);
            }
        }
        for e in self.requests.iter().filter(|e| e.year == t) {
            self.queue.push_back(e.clone());
        }
        if t < self.withdrawals_from {
            return Ok(());
        }
        // withdrawals: first in, first out, at most `withdrawal_cap` of opening capital this year
        let mut room = num::round_money(self.withdrawal_cap.apply(opening)?, dp);
        let mut paid = Decimal::ZERO;
        let capital = self.capital(st)?;
        while let Some(front) = self.queue.front_mut() {
            if room <= Decimal::ZERO {
                break;
            }
            let x = front.amount.min(room).min(num::sub(capital, paid)?);
            if x <= Decimal::ZERO {
                break;
            }
            room = num::sub(room, x)?;
            paid = num::add(paid, x)?;
            front.amount = num::sub(front.amount, x)?;
            if front.amount.is_zero() {
                let members = front.members;
                self.queue.pop_front();
                if let Some(h) = st.holders.get_mut(&self.holder) {
                    h.members = h.members.saturating_sub(members).max(1);
                }
            }
        }
        if paid > Decimal::ZERO {
            let units = num::round_units(num::div(paid, self.price)?);
            st.remove_units(&self.class, &self.holder, units)?;
            led.pay(t, &self.label, "withdrawal", &self.holder, paid)?;
        }
        let waiting = num::sum(self.queue.iter().map(|e| e.amount))?;
        if waiting > Decimal::ZERO {
            led.note(
                t,
                format!(
                    "{}: {} of withdrawal requests wait in the queue",
                    self.label,
                    num::fixed(waiting, 2)
                ),
            );
        }
        Ok(())
    }
}
