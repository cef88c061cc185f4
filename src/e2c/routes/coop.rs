//! Co-op conversion (domain §4.1–4.3): an agreed value is pushed through the liquidation /
//! as-converted waterfall into non-voting Class B investor shares at par; members buy one member
//! share each (one member one vote, board seats per class); each year a share of surplus redeems
//! Class B pro rata at par, patronage pools go to members by weight (hours, spend …) as cash plus
//! internal capital accounts (ICAs), and the rest goes to the collective reserve.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::{Decimal, RoundingStrategy};
use toml::Table;

use super::capped::{rounding_key, Rounding};
use super::{base_key, Mechanism, Ref};
use crate::e2c::model::{ClassRights, Cx, Econ, EngineError, Er, Ledger, Payment, State};
use crate::e2c::num::{self, Share};
use crate::e2c::read::{code, join, P};

pub const ICA: &str = "ICA";
pub const RESERVE: &str = "collective reserve";

/// One member class: one share per member at `price`, per-capita votes, board seats, and a
/// patronage pool split by member weights.
#[derive(Debug, Clone)]
pub struct MemberClass {
    pub key: String,
    pub class: String,
    pub price: Decimal,
    pub board_seats: u32,
    pub members: Vec<String>,
    pub segment: Option<String>,
    pub patronage: Share,
    /// member id → weight (hours, pay, spend …); empty = by number of members.
    pub weights: BTreeMap<String, Decimal>,
    /// A co-op book to read the weights from, and the measure (`hours`, `pay`, `spend` …).
    pub book: Option<PathBuf>,
    pub measure: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Invested,
    Conversion,
}

#[derive(Debug, Clone)]
pub struct CoopConversion {
    pub label: String,
    pub key: String,
    pub value: Decimal,
    pub investor_class: String,
    pub par: Decimal,
    pub convert: Vec<String>,
    pub redemption: Share,
    pub base: String,
    pub cash_part: Share,
    pub collective: String,
    pub rounding: Rounding,
    pub basis: Basis,
    pub members: Vec<MemberClass>,
    /// Class B allocation at conversion, per holder (for reports and tests).
    pub allocation: BTreeMap<String, Decimal>,
}

/// One position entering the waterfall.
#[derive(Debug, Clone)]
pub struct WPos {
    pub holder: String,
    pub class: String,
    pub units: Decimal,
    pub invested: Decimal,
    pub rights: ClassRights,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Convert,
    Pref,
    Participate,
}

/// Splits `value` over positions: non-participating preferred take
/// `max(liquidation preference, as-converted)`, each choice checked against the others';
/// participating preferred take their preference and share pro rata; preferences are paid by
/// seniority (higher first), pro rata within a rank. Values are kept at full precision.
pub fn waterfall(value: Decimal, pos: &[WPos]) -> num::Ar<Vec<Decimal>> {
    let pref: Vec<Decimal> = pos
        .iter()
        .map(|p| num::mul(p.rights.liquidation_preference, p.invested))
        .collect::<num::Ar<_>>()?;
    let mut mode: Vec<Mode> = pos
        .iter()
        .map(|p| {
            if p.rights.participating {
                Mode::Participate
            } else {
                Mode::Convert
            }
        })
        .collect();
    let compute = |mode: &[Mode]| -> num::Ar<(Vec<Decimal>, Decimal, Decimal)> {
        // preferences paid by seniority, pro rata within a rank
        let mut paid = vec![Decimal::ZERO; pos.len()];
        let mut left = value;
        let mut ranks: Vec<i64> = pos.iter().map(|p| p.rights.seniority).collect();
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        ranks.dedup();
        for r in ranks {
            let idx: Vec<usize> = (0..pos.len())
                .filter(|&i| {
                    pos[i].rights.seniority == r
                        && mode[i] != Mode::Convert
                        && pref[i] > Decimal::ZERO
                })
                .collect();
            let due = num::sum(idx.iter().map(|&i| pref[i]))?;
            if due.is_zero() {
                continue;
            }
            let pay = left.min(due);
            for &i in &idx {
                paid[i] = num::div(num::mul(pay, pref[i])?, due)?;
            }
            left = num::sub(left, pay)?;
        }
        let pool_units = num::sum(
            (0..pos.len())
                .filter(|&i| mode[i] != Mode::Pref)
                .map(|i| pos[i].units),
        )?;
        Ok((paid, left.max(Decimal::ZERO), pool_units))
    };
    for _ in 0..(4 * pos.len() + 4) {
        let (_, left, pool_units) = compute(&mode)?;
        let c = num::div0(left, pool_units)?;
        let mut changed = false;
        for i in 0..pos.len() {
            if pos[i].rights.participating || pref[i].is_zero() {
                continue;
            }
            let want = match mode[i] {
                Mode::Convert if pref[i] > num::mul(c, pos[i].units)? => Mode::Pref,
                Mode::Pref => {
                    let as_conv = num::div0(
                        num::mul(num::add(left, pref[i])?, pos[i].units)?,
                        num::add(pool_units, pos[i].units)?,
                    )?;
                    if as_conv > pref[i] {
                        Mode::Convert
                    } else {
                        Mode::Pref
                    }
                }
                m => m,
            };
            if want != mode[i] {
                mode[i] = want;
                changed = true;
                break; // one change at a time keeps the search monotone
            }
        }
        if !changed {
            break;
        }
    }
    let (paid, left, pool_units) = compute(&mode)?;
    let c = num::div0(left, pool_units)?;
    let mut out = Vec::with_capacity(pos.len());
    for i in 0..pos.len() {
        let mut v = paid[i];
        if mode[i] != Mode::Pref {
            v = num::add(v, num::mul(c, pos[i].units)?)?;
        }
        if mode[i] == Mode::Participate {
            if let Some(cap) = pos[i].rights.participation_cap {
                v = v.min(num::mul(cap, pos[i].invested)?);
            }
        }
        out.push(num::round_units(v));
    }
    Ok(out)
}

/// One `[[routes.member_classes]]` entry; `None` when its class or price is missing.
fn parse_member_class(p: &mut P<'_>, mt: &Table, mp: &str, base_dir: &Path) -> Option<MemberClass> {
    p.keys(
        mt,
        mp,
        &[
            "class",
            "price",
            "board_seats",
            "members",
            "segment",
            "patronage",
            "weights",
            "book",
            "measure",
        ],
    );
    let class = p.str_req(mt, mp, "class");
    let price = p.amount_req(mt, mp, "price");
    let board_seats = p.int_opt(mt, mp, "board_seats").unwrap_or(0);
    let list = p.str_list_opt(mt, mp, "members").unwrap_or_default();
    if list.is_empty() {
        p.missing(mp, "members", "the holders who become members");
    }
    super::super::read::unique(p, &join(mp, "members"), &list);
    let segment = p.str_opt(mt, mp, "segment");
    let patronage = p.share_opt(mt, mp, "patronage").unwrap_or(Share::ZERO);
    let mut weights = BTreeMap::new();
    if let Some(w) = p.table_opt(mt, mp, "weights") {
        for (k, v) in w {
            if let Some(d) = p.value_dec(v, &format!("{mp}.weights.{k}")) {
                if d.is_sign_negative() && !d.is_zero() {
                    p.err(
                        code::NEGATIVE,
                        &format!("{mp}.weights.{k}"),
                        format!("weight {d} is negative"),
                        "weights are hours, pay or spend: zero or more",
                    );
                } else {
                    weights.insert(k.clone(), d);
                }
            }
        }
    }
    let book = p.str_opt(mt, mp, "book").map(|b| base_dir.join(b));
    let measure = p
        .str_opt(mt, mp, "measure")
        .unwrap_or_else(|| "hours".to_string());
    if book.is_some() && mt.contains_key("weights") {
        p.err(
            code::ROUTE_RULE,
            mp,
            "both `weights` and `book` are given",
            "use inline `weights` or a `book` with a `measure`, not both",
        );
    }
    Some(MemberClass {
        key: mp.to_string(),
        class: class?,
        price: price?,
        board_seats,
        members: list,
        segment,
        patronage,
        weights,
        book,
        measure,
    })
}

impl CoopConversion {
    pub fn parse(
        p: &mut P<'_>,
        t: &Table,
        path: &str,
        label: String,
        base_dir: &Path,
    ) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "value",
                "investor_class",
                "par",
                "convert",
                "redemption",
                "base",
                "cash_part",
                "collective",
                "rounding",
                "returns_basis",
                "member_classes",
            ],
        );
        let value = p.amount_req(t, path, "value");
        let investor_class = p
            .str_opt(t, path, "investor_class")
            .unwrap_or_else(|| "B".to_string());
        let par = p.unit_price(t, path, "par", "Class B par");
        let convert = p.str_list_opt(t, path, "convert").unwrap_or_default();
        let redemption = p.share_req(t, path, "redemption");
        let base = base_key(p, t, path, "profit");
        let cash_part = p
            .share_opt(t, path, "cash_part")
            .unwrap_or(Share::parse("20%").ok()?);
        if cash_part.to_decimal() < Decimal::new(2, 1) {
            p.warn(
                code::LOW_CASH_PART,
                &join(path, "cash_part"),
                format!("cash part {cash_part} is below 20%"),
                "a qualified written notice of allocation needs at least 20% paid in cash (Subchapter T)",
            );
        }
        let collective = p.str_req(t, path, "collective");
        let rounding = rounding_key(p, t, path);
        let basis = match p
            .choice(
                t,
                path,
                "returns_basis",
                &["invested", "conversion"],
                "invested",
            )
            .as_str()
        {
            "conversion" => Basis::Conversion,
            _ => Basis::Invested,
        };
        let mut members = Vec::new();
        for (mp, mt) in p.tables(t, path, "member_classes") {
            members.extend(parse_member_class(p, mt, &mp, base_dir));
        }
        // surplus shares may not exceed the whole surplus
        if let Some(r) = redemption {
            let mut total = r;
            for m in &members {
                total = total.add(&m.patronage).unwrap_or(total);
            }
            if total.over_one() {
                p.err(
                    code::OVER_100,
                    path,
                    format!(
                        "redemption plus patronage shares add up to {}% of surplus",
                        total
                            .to_decimal()
                            .checked_mul(Decimal::ONE_HUNDRED)
                            .map_or_else(|| "over 100".to_string(), |x| num::fixed(x, 2))
                    ),
                    "the shares of surplus may total at most 100%; the rest goes to the collective reserve",
                );
            }
        }
        Some(CoopConversion {
            label,
            key: path.to_string(),
            value: value.unwrap_or_default(),
            investor_class,
            par,
            convert,
            redemption: redemption.unwrap_or(Share::ZERO),
            base,
            cash_part,
            collective: collective?,
            rounding,
            basis,
            members,
            allocation: BTreeMap::new(),
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        let mut r = vec![
            Ref::holder(&self.collective, join(&self.key, "collective")),
            Ref::path(&self.base, join(&self.key, "base")),
        ];
        r.extend(Ref::each(Ref::class, &self.convert, &self.key, "convert"));
        for m in &self.members {
            r.extend(Ref::each(Ref::holder, &m.members, &m.key, "members"));
            for h in m.weights.keys() {
                r.push(Ref::holder(h, format!("{}.weights.{h}", m.key)));
            }
        }
        r
    }

    pub fn creates(&self) -> Vec<String> {
        let mut v = vec![self.investor_class.clone()];
        v.extend(self.members.iter().map(|m| m.class.clone()));
        v
    }
}

impl Mechanism for CoopConversion {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        // 1. the waterfall over the converting positions
        let converting: Vec<WPos> = st
            .pos
            .iter()
            .filter(|((c, _), p)| {
                p.units > Decimal::ZERO
                    && (if self.convert.is_empty() {
                        !self.members.iter().any(|m| &m.class == c) && c != &self.investor_class
                    } else {
                        self.convert.contains(c)
                    })
            })
            .map(|((c, h), p)| WPos {
                holder: h.clone(),
                class: c.clone(),
                units: p.units,
                invested: p.invested,
                rights: st.classes.get(c).cloned().unwrap_or_default(),
            })
            .collect();
        let values = waterfall(self.value, &converting)?;
        st.classes.insert(
            self.investor_class.clone(),
            ClassRights {
                votes_per_unit: Decimal::ZERO,
                econ: Econ::Par(self.par),
                investor_instrument: true,
                ..ClassRights::default()
            },
        );
        for (w, v) in converting.iter().zip(values) {
            st.remove_units(&w.class, &w.holder, w.units)?;
            let units = num::round_units(num::div(v, self.par)?);
            st.add_units(&self.investor_class, &w.holder, units, w.invested)?;
            let e = self.allocation.entry(w.holder.clone()).or_default();
            *e = num::add(*e, v)?;
        }
        for (h, v) in &self.allocation {
            let basis = match self.basis {
                Basis::Invested => st
                    .pos
                    .get(&(self.investor_class.clone(), h.clone()))
                    .map_or(Decimal::ZERO, |p| p.invested),
                Basis::Conversion => *v,
            };
            if basis > Decimal::ZERO {
                led.invest_key(h, &self.investor_class, 0, basis)?;
            }
        }
        // 2. member classes: one share per member, per-capita votes
        for m in &self.members {
            st.classes.insert(
                m.class.clone(),
                ClassRights {
                    votes_per_unit: Decimal::ONE,
                    per_capita: true,
                    board_seats: m.board_seats,
                    econ: Econ::Par(m.price),
                    ..ClassRights::default()
                },
            );
            for h in &m.members {
                let Some(holder) = st.holders.get_mut(h) else {
                    continue;
                };
                if let Some(s) = &m.segment {
                    holder.segment = s.clone();
                }
                let n = Decimal::from(holder.members);
                let paid = num::mul(n, m.price)?;
                st.add_units(&m.class, h, n, paid)?;
                led.raise(0, paid)?;
            }
        }
        st.set_claim(&self.collective, RESERVE, Decimal::ZERO);
        led.note(
            0,
            format!(
                "{}: agreed value {} converted into Class `{}` at par {}; {} member classes",
                self.label,
                num::fixed(self.value, 2),
                self.investor_class,
                self.par,
                self.members.len()
            ),
        );
        Ok(())
    }

    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()> {
        let dp = cx.currency.minor_units();
        let surplus = cx.paths.raw(&self.base, t);
        if surplus < Decimal::ZERO {
            return self.absorb_loss(cx, t, -surplus, st, led);
        }
        // (1) Class B redemption, pro rata at par
        let holders = st.holders_of(&self.investor_class);
        let outstanding = num::mul(num::sum(holders.iter().map(|(_, p)| p.units))?, self.par)?;
        let budget = num::round_money(self.redemption.apply(surplus)?, dp);
        let used = budget.min(outstanding);
        if used > Decimal::ZERO {
            let w: Vec<(String, Decimal)> =
                holders.iter().map(|(h, p)| (h.clone(), p.units)).collect();
            let parts = if used == outstanding {
                w.iter()
                    .map(|(_, u)| num::mul(*u, self.par))
                    .collect::<num::Ar<Vec<_>>>()?
            } else {
                match self.rounding {
                    Rounding::Units => num::split_exact(used, &w)?,
                    Rounding::Cents => num::split_cents(used, &w, cx.currency)?,
                }
            };
            for ((h, u), x) in w.iter().zip(parts) {
                let units = num::round_units(num::div(x, self.par)?).min(*u);
                st.remove_units(&self.investor_class, h, units)?;
                led.pay(t, &self.label, "redemption", h, x)?;
            }
            if used == outstanding {
                led.note(
                    t,
                    format!(
                        "{}: Class `{}` fully redeemed",
                        self.label, self.investor_class
                    ),
                );
            }
        }
        let mut reserve_in = num::sub(surplus, used)?;
        // (2) patronage pools: cash part (rounded up to the cent) and ICA
        for m in &self.members {
            let pool = num::round_money(m.patronage.apply(surplus)?, dp);
            if pool.is_zero() {
                continue;
            }
            let w: Vec<(String, Decimal)> = m
                .members
                .iter()
                .map(|h| {
                    let d = match m.weights.get(h) {
                        Some(w) => *w,
                        None if m.weights.is_empty() => {
                            Decimal::from(st.holders.get(h).map_or(1, |x| x.members))
                        }
                        None => Decimal::ZERO,
                    };
                    (h.clone(), d)
                })
                .collect();
            if w.iter().all(|x| x.1.is_zero()) {
                return Err(EngineError::input(
                    code::ROUTE_RULE,
                    join(&m.key, "weights"),
                    "every member weight is zero",
                    "give members hours, pay or spend, or drop `weights` to split by member",
                ));
            }
            let parts = num::split_cents(pool, &w, cx.currency)?;
            for ((h, _), x) in w.iter().zip(parts) {
                let cash = self
                    .cash_part
                    .apply(x)?
                    .round_dp_with_strategy(dp, RoundingStrategy::ToPositiveInfinity);
                led.pay_other(t, Payment::new(&self.label, "patronage (cash)", h, cash))?;
                st.add_claim(h, ICA, num::sub(x, cash)?)?;
            }
            reserve_in = num::sub(reserve_in, pool)?;
        }
        st.add_claim(&self.collective, RESERVE, reserve_in)?;
        Ok(())
    }
}

impl CoopConversion {
    /// A loss is charged to the collective reserve first, then to ICAs pro rata by balance.
    fn absorb_loss(
        &self,
        cx: &Cx,
        t: u32,
        loss: Decimal,
        st: &mut State,
        led: &mut Ledger,
    ) -> Er<()> {
        let reserve = st.claim(&self.collective, RESERVE);
        let from_reserve = reserve.min(loss);
        st.set_claim(&self.collective, RESERVE, num::sub(reserve, from_reserve)?);
        let rest = num::sub(loss, from_reserve)?;
        if rest > Decimal::ZERO {
            let icas: Vec<(String, Decimal)> = st
                .claims
                .iter()
                .filter(|((_, l), v)| l == ICA && **v > Decimal::ZERO)
                .map(|((h, _), v)| (h.clone(), *v))
                .collect();
            let total = num::sum(icas.iter().map(|x| x.1))?;
            let charge = rest.min(total);
            let parts = num::split_cents(charge, &icas, cx.currency)?;
            for ((h, v), x) in icas.iter().zip(parts) {
                st.set_claim(h, ICA, num::sub(*v, x)?);
            }
            if rest > total {
                led.note(
                    t,
                    format!(
                        "{}: loss of {} exceeds reserve and ICAs by {}",
                        self.label,
                        num::fixed(loss, 2),
                        num::fixed(num::sub(rest, total)?, 2)
                    ),
                );
            }
        }
        led.note(
            t,
            format!(
                "{}: loss of {} charged to the collective reserve first, then ICAs",
                self.label,
                num::fixed(loss, 2)
            ),
        );
        Ok(())
    }
}
