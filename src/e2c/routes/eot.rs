//! UK Employee Ownership Trust (domain §3.3): the trust buys a controlling stake at completion
//! (title and votes on day one), the price is paid from company contributions over time (interest
//! first, then principal), and an optional bonus pool is split under the equality requirement
//! (separate entitlements by pay, length of service and hours; nobody eligible gets zero).

use rust_decimal::{Decimal, RoundingStrategy};
use toml::Table;

use super::capped::{rounding_key, Rounding};
use super::note::{sell, Debt};
use super::{base_key, Mechanism, Ref};
use crate::e2c::model::{BonusLine, Cx, Er, Ledger, Payment, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

#[derive(Debug, Clone)]
pub struct Employee {
    pub id: String,
    pub pay: Decimal,
    pub service: Decimal,
    pub hours: Decimal,
}

#[derive(Debug, Clone)]
pub struct Bonus {
    pub share: Option<Share>,
    pub amount: Option<Decimal>,
    pub base: String,
    pub by_pay: Share,
    pub by_service: Share,
    pub by_hours: Share,
    pub tax_free_cap: Decimal,
    pub employees: Vec<Employee>,
}

impl Bonus {
    fn parse(p: &mut P<'_>, t: &Table, path: &str) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "share",
                "amount",
                "base",
                "by_pay",
                "by_service",
                "by_hours",
                "tax_free_cap",
                "employees",
            ],
        );
        let share = p.share_opt(t, path, "share");
        let amount = p.amount_opt(t, path, "amount");
        if share.is_none()
            && amount.is_none()
            && !t.contains_key("share")
            && !t.contains_key("amount")
        {
            p.missing(
                path,
                "share",
                "the bonus pool as a share of the base, or `amount`",
            );
        }
        let base = base_key(p, t, path, "profit");
        let by_pay = p.share_opt(t, path, "by_pay").unwrap_or(Share::ZERO);
        let by_service = p.share_opt(t, path, "by_service").unwrap_or(Share::ZERO);
        let by_hours = p.share_opt(t, path, "by_hours").unwrap_or(Share::ZERO);
        let total = by_pay
            .add(&by_service)
            .and_then(|s| s.add(&by_hours))
            .ok()?;
        if total != Share::ONE && total.to_decimal() != Decimal::ONE {
            p.err(
                code::ROUTE_RULE,
                path,
                format!(
                    "`by_pay` + `by_service` + `by_hours` is {}, not 100%",
                    total
                        .to_decimal()
                        .checked_mul(Decimal::ONE_HUNDRED)
                        .map_or_else(|| "over 100".to_string(), |x| num::fixed(x, 4))
                ),
                "the pool is split into separate entitlements that add up to the whole pool",
            );
        }
        let tax_free_cap = p
            .amount_opt(t, path, "tax_free_cap")
            .unwrap_or(Decimal::from(3600));
        let mut employees = Vec::new();
        for (ep, et) in p.tables(t, path, "employees") {
            p.keys(et, &ep, &["id", "pay", "service", "hours"]);
            let id = p.str_req(et, &ep, "id");
            let pay = p.amount_opt(et, &ep, "pay").unwrap_or_default();
            let service = p.amount_opt(et, &ep, "service").unwrap_or_default();
            let hours = p.amount_opt(et, &ep, "hours").unwrap_or_default();
            let zero = (by_pay.is_zero() || pay.is_zero())
                && (by_service.is_zero() || service.is_zero())
                && (by_hours.is_zero() || hours.is_zero());
            if let Some(id) = id {
                if zero {
                    p.err(
                        code::ROUTE_RULE,
                        &ep,
                        format!("employee `{id}` would get no bonus"),
                        "under the EOT equality requirement nobody eligible may get zero; give pay, service or hours",
                    );
                }
                employees.push(Employee {
                    id,
                    pay,
                    service,
                    hours,
                });
            }
        }
        if employees.is_empty() {
            p.missing(
                path,
                "employees",
                "the eligible employees ([[…employees]] with id, pay, service, hours)",
            );
        }
        Some(Bonus {
            share,
            amount,
            base,
            by_pay,
            by_service,
            by_hours,
            tax_free_cap,
            employees,
        })
    }

    /// Splits one year's pool into the three entitlements and each person's total.
    pub fn allocate(&self, cx: &Cx, pool: Decimal) -> Er<Vec<BonusLine>> {
        let part = |s: Share, f: fn(&Employee) -> Decimal| -> Er<Vec<Decimal>> {
            let w: Vec<(String, Decimal)> = self
                .employees
                .iter()
                .map(|e| (e.id.clone(), f(e)))
                .collect();
            Ok(num::split_cents(s.apply(pool)?, &w, cx.currency)?)
        };
        let a = part(self.by_pay, |e| e.pay)?;
        let b = part(self.by_service, |e| e.service)?;
        let c = part(self.by_hours, |e| e.hours)?;
        let mut out = Vec::new();
        for (i, e) in self.employees.iter().enumerate() {
            let (x, y, z) = (a[i], b[i], c[i]);
            let total = num::add(num::add(x, y)?, z)?;
            let tax_free = total.min(self.tax_free_cap);
            out.push(BonusLine {
                employee: e.id.clone(),
                by_pay: x,
                by_service: y,
                by_hours: z,
                total,
                tax_free,
                taxable: num::sub(total, tax_free)?,
            });
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
pub struct Eot {
    pub label: String,
    pub key: String,
    pub trust: String,
    pub sellers: Vec<String>,
    pub stake: Share,
    pub value: Decimal,
    pub price: Option<Decimal>,
    pub upfront: Decimal,
    pub rate: Share,
    pub contribution: Share,
    pub base: String,
    pub bonus: Option<Bonus>,
    pub rounding: Rounding,
    debt: Debt,
}

impl Eot {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "trust",
                "sellers",
                "stake",
                "value",
                "price",
                "upfront",
                "rate",
                "contribution",
                "base",
                "bonus",
                "rounding",
            ],
        );
        let trust = p.str_req(t, path, "trust");
        let sellers = p.str_list_opt(t, path, "sellers").unwrap_or_default();
        let stake = p.share_opt(t, path, "stake").unwrap_or(Share::ONE);
        if stake.to_decimal() <= Decimal::new(5, 1) {
            p.err(
                code::ROUTE_RULE,
                &join(path, "stake"),
                format!("an EOT stake of {stake} is not a controlling interest"),
                "the trust must hold more than 50% of shares, votes, profits and winding-up assets",
            );
        }
        let value = p.amount_req(t, path, "value");
        let price = p.amount_opt(t, path, "price");
        if let (Some(v), Some(pr)) = (value, price) {
            if let Ok(mv) = stake.apply(v) {
                if pr > mv {
                    p.err(
                        code::ROUTE_RULE,
                        &join(path, "price"),
                        format!(
                            "price {pr} is above the market value of the stake ({})",
                            num::fixed(mv, 2)
                        ),
                        "an EOT purchase price must not exceed market value",
                    );
                }
            }
        }
        let upfront = p.amount_opt(t, path, "upfront").unwrap_or(Decimal::ZERO);
        let rate = p.share_opt(t, path, "rate").unwrap_or(Share::ZERO);
        let contribution = p.share_req(t, path, "contribution");
        let base = base_key(p, t, path, "profit");
        let bonus = p
            .table_opt(t, path, "bonus")
            .and_then(|b| Bonus::parse(p, b, &join(path, "bonus")));
        let rounding = rounding_key(p, t, path);
        Some(Eot {
            label,
            key: path.to_string(),
            trust: trust?,
            sellers,
            stake,
            value: value.unwrap_or_default(),
            price,
            upfront,
            rate,
            contribution: contribution.unwrap_or(Share::ZERO),
            base,
            bonus,
            rounding,
            debt: Debt::default(),
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        let mut r = vec![
            Ref::holder(&self.trust, join(&self.key, "trust")),
            Ref::path(&self.base, join(&self.key, "base")),
        ];
        r.extend(Ref::each(Ref::holder, &self.sellers, &self.key, "sellers"));
        if let Some(b) = &self.bonus {
            r.push(Ref::path(&b.base, format!("{}.bonus.base", self.key)));
        }
        r
    }
}

impl Mechanism for Eot {
    fn open(&mut self, cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        let price = match self.price {
            Some(p) => p,
            None => num::round_money(self.stake.apply(self.value)?, cx.currency.minor_units()),
        };
        self.debt = sell(
            cx,
            st,
            led,
            &self.label,
            &self.key,
            &self.trust,
            &self.sellers,
            &[],
            self.stake,
            price,
            self.upfront,
            self.rounding == Rounding::Cents,
        )?;
        led.note(
            0,
            format!(
                "{}: trust `{}` holds {} at completion for {}; {} deferred at {}",
                self.label,
                self.trust,
                self.stake,
                num::fixed(price, 2),
                num::fixed(self.debt.total()?, 2),
                self.rate
            ),
        );
        // controlling-interest test (HMRC CG67850) on shares and votes at completion
        let units: Decimal = num::sum(
            st.pos
                .iter()
                .filter(|((_, h), _)| h == &self.trust)
                .map(|(_, p)| p.units),
        )?;
        let mut votes = Decimal::ZERO;
        let mut all_votes = Decimal::ZERO;
        for ((c, h), p) in &st.pos {
            let r = st.classes.get(c).cloned().unwrap_or_default();
            let v = if r.per_capita {
                if p.units > Decimal::ZERO {
                    Decimal::ONE
                } else {
                    Decimal::ZERO
                }
            } else {
                num::mul(p.units, r.votes_per_unit)?
            };
            all_votes = num::add(all_votes, v)?;
            if h == &self.trust {
                votes = num::add(votes, v)?;
            }
        }
        let shares_pct = num::pct(units, st.total_units()?)?;
        let votes_pct = num::pct(votes, all_votes)?;
        let half = Decimal::from(50);
        led.note(
            0,
            format!(
                "{}: controlling-interest test at completion: trust holds {}% of shares and {}% of votes ({})",
                self.label,
                num::fixed(shares_pct, 3),
                num::fixed(votes_pct, 3),
                if shares_pct > half && votes_pct > half { "pass" } else { "FAIL" }
            ),
        );
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let dp = cx.currency.minor_units();
        let balance = self.debt.total()?;
        if balance > Decimal::ZERO {
            let budget = self
                .debt
                .round(cx, self.contribution.apply(cx.paths.base(&self.base, t))?);
            let interest = self.debt.round(cx, self.rate.apply(balance)?);
            let paid_interest = budget.min(interest);
            self.debt.pay(
                cx,
                t,
                &self.label,
                "interest",
                paid_interest,
                false,
                st,
                led,
            )?;
            let unpaid = num::sub(interest, paid_interest)?;
            if unpaid > Decimal::ZERO {
                self.debt.capitalise(cx, unpaid, st)?;
                led.note(
                    t,
                    format!(
                        "{}: {} of interest unpaid and added to the balance",
                        self.label,
                        num::fixed(unpaid, 2)
                    ),
                );
            }
            let principal = num::sub(budget, paid_interest)?.min(self.debt.total()?);
            self.debt
                .pay(cx, t, &self.label, "principal", principal, true, st, led)?;
            if self.debt.total()?.is_zero() {
                led.note(
                    t,
                    format!("{}: deferred consideration paid off", self.label),
                );
            }
        }
        if let Some(b) = &self.bonus {
            let pool = match (b.share, b.amount) {
                (Some(s), _) => s.apply(cx.paths.base(&b.base, t))?,
                (None, Some(a)) => a,
                (None, None) => Decimal::ZERO,
            };
            let pool = pool.round_dp_with_strategy(dp, RoundingStrategy::ToZero);
            if pool > Decimal::ZERO {
                let lines = b.allocate(cx, pool)?;
                for l in &lines {
                    led.pay_other(t, Payment::new(&self.label, "bonus", &l.employee, l.total))?;
                }
                if let Some(v) = led.bonuses.get_mut(t as usize) {
                    v.extend(lines);
                }
            }
        }
        Ok(())
    }
}
