//! The year-end close: net margin per allocation unit, member and non-member shares, stock
//! dividends, the board's reserve, losses, patronage allocation to the cent, the cash and retained
//! parts, capital accounts and the net-worth identity. Pure: a [`Book`], the year's activity and
//! the state left by the previous close in, a [`Close`] out. See `docs/CLOSE.md`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::state::{contribution_tranche, merge, State, Tranche};
use crate::book::config::{LossPolicy, MinimumCheckRule, Notice};
use crate::book::patronage::{Activity, SCALE};
use crate::book::{Book, ContributionKind, Status};
use crate::money::{allocate, Money, MoneyError, Weight};

/// Why a close cannot be computed. Each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error("fiscal year {0} has no lines in results.csv")]
    NoResults(i32),
    #[error("fiscal year {fy} ends on {end}, which cannot be computed")]
    BadYear { fy: i32, end: String },
    #[error("money arithmetic failed in {what}")]
    Money {
        what: String,
        #[source]
        source: MoneyError,
    },
}

fn m<T>(what: &str, r: Result<T, MoneyError>) -> Result<T, CloseError> {
    r.map_err(|source| CloseError::Money {
        what: what.to_string(),
        source,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    pub unit: String,
    pub name: String,
    pub patronage_margin: Money,
    /// the member share of patronage volume (Σ λ_k × member_k / total_k), as a fraction
    pub member_fraction: Decimal,
    pub member_share: Money,
    pub nonmember_share: Money,
    pub stock_dividends: Money,
    /// §1388(j): amount moved from or to other units (negative = this unit absorbed a loss)
    pub netting: Money,
    /// loss recovered (carried-forward deficit taken before allocation)
    pub loss_recovered: Money,
    pub reserve: Money,
    pub allocable: Money,
    /// loss charged to members (charge_accounts), ≤ 0
    pub loss_to_members: Money,
    pub loss_to_collective: Money,
    /// Σ eligible member patronage weight (for the informational rate)
    pub eligible_members: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allocation {
    pub member_id: String,
    pub unit: String,
    /// the member's share of the unit's weighted patronage (with multipliers), 12 decimals at most
    pub patronage: Decimal,
    /// the member's raw patronage per measure in this unit, sorted by measure (a JSON object)
    #[serde(serialize_with = "measures_map")]
    pub measures: Vec<(String, Decimal)>,
    pub amount: Money,
}

/// A member's id, patronage weight in a unit and raw patronage per measure.
type MemberWeight<'a> = (&'a str, Weight, Vec<(String, Decimal)>);

/// Serializes (measure, amount) pairs as a JSON object, as a map would be.
fn measures_map<S: serde::Serializer>(v: &[(String, Decimal)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, x)| (k, x)))
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberAllocation {
    pub member_id: String,
    pub name: String,
    pub total: Money,
    pub cash: Money,
    pub retained: Money,
    pub notice: Notice,
    pub carried_in: Money,
    pub carried_out: Money,
    /// the rule applied when the cash due was under the minimum check
    pub minimum_check: Option<MinimumCheckRule>,
    /// loss charged to this member (≤ 0)
    pub loss: Money,
    /// the part of `loss` their equity could not cover (≥ 0), absorbed by the unallocated reserve
    pub loss_shortfall: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapitalAccount {
    pub member_id: String,
    pub opening: Money,
    pub contributions: Money,
    pub allocations: Money,
    pub losses: Money,
    pub interest: Money,
    pub redemptions: Money,
    pub closing: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reserves {
    pub opening: Money,
    pub nonmember_share: Money,
    pub board_reserve: Money,
    pub nonpatronage_income: Money,
    pub income_tax: Money,
    pub loss_to_collective: Money,
    pub loss_carried: Money,
    pub loss_recovered: Money,
    /// members' loss shares their equity could not cover (≤ 0)
    pub loss_shortfall_absorbed: Money,
    pub nonmember_refunds_payable: Money,
    pub addition: Money,
    pub closing: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub member_equity: Money,
    pub unallocated: Money,
    pub other_stock: Money,
    pub sum: Money,
    pub net_worth: Option<Money>,
    pub difference: Option<Money>,
    pub balanced: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deficit {
    pub opening: Money,
    pub added: Money,
    pub recovered: Money,
    pub closing: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub patronage_margin: Money,
    pub member_share: Money,
    pub nonmember_share: Money,
    pub stock_dividends: Money,
    pub reserve: Money,
    pub allocated: Money,
    pub cash: Money,
    pub retained: Money,
    pub carried_out: Money,
    pub losses_to_members: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dates {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// §1382(d): the 15th day of the 9th month after the year end
    pub payment_period_end: NaiveDate,
    /// §1388(c)(2)(C): 90 days after the payment period
    pub qualified_check_deadline: NaiveDate,
}

/// The whole result of closing one fiscal year.
#[derive(Debug, Clone, Serialize)]
pub struct Close {
    pub fiscal_year: i32,
    pub coop: String,
    pub currency: String,
    pub dates: Dates,
    pub pools: Vec<Pool>,
    pub allocations: Vec<Allocation>,
    pub members: Vec<MemberAllocation>,
    pub reserves: Reserves,
    pub deficit: Deficit,
    pub capital_accounts: Vec<CapitalAccount>,
    pub identity: Identity,
    pub tranches_created: Vec<Tranche>,
    /// equity cancelled by losses, per tranche (negative amounts), newest tranche first
    pub tranches_cancelled: Vec<Tranche>,
    pub totals: Totals,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub state_after: State,
}

/// Amounts per member id: sorted by id, one entry per id (summed; zero sums kept). The usual
/// input is a few runs that are already sorted, which the stable sort merges in linear time.
fn by_id(mut v: Vec<(&str, Money)>) -> Result<Vec<(&str, Money)>, MoneyError> {
    v.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&str, Money)> = Vec::with_capacity(v.len());
    for (id, x) in v {
        match out.last_mut() {
            Some((last, sum)) if *last == id => *sum = sum.checked_add(&x)?,
            _ => out.push((id, x)),
        }
    }
    Ok(out)
}

/// The sorted union of lists of ids.
fn sorted_ids<'a>(lists: &[Vec<&'a str>]) -> Vec<&'a str> {
    let mut all: Vec<&str> = lists.iter().flatten().copied().collect();
    all.sort();
    all.dedup();
    all
}

/// Lookups by id in a [`by_id`] list for ids asked in ascending order (a merge walk); an id
/// asked out of order falls back to a binary search.
struct Cursor<'s, 'a, T> {
    v: &'s [(&'a str, T)],
    at: usize,
}

impl<'s, 'a, T> Cursor<'s, 'a, T> {
    fn new(v: &'s [(&'a str, T)]) -> Self {
        Cursor { v, at: 0 }
    }

    fn get(&mut self, id: &str) -> Option<&'s T> {
        if self.at > 0 && self.v.get(self.at - 1).is_some_and(|(k, _)| *k >= id) {
            self.at = self.v.partition_point(|(k, _)| *k < id);
        }
        while self.v.get(self.at).is_some_and(|(k, _)| *k < id) {
            self.at += 1;
        }
        match self.v.get(self.at) {
            Some((k, t)) if *k == id => Some(t),
            _ => None,
        }
    }
}

/// [`Book::member`] for ids that mostly come in ascending order: a merge walk over the sorted
/// member list (a few steps forward, else a binary search of the rest), restarting from the
/// beginning when an id goes backwards.
struct MemberWalk<'a> {
    members: &'a [crate::book::Member],
    at: usize,
}

impl<'a> MemberWalk<'a> {
    fn new(book: &'a Book) -> Self {
        MemberWalk {
            members: &book.members,
            at: 0,
        }
    }

    fn get(&mut self, id: &str) -> Option<&'a crate::book::Member> {
        let m = self.members;
        let start = if m.get(self.at).is_some_and(|x| x.id.as_str() <= id) {
            self.at
        } else {
            0
        };
        let lim = (start + 8).min(m.len());
        let mut i = start;
        while i < lim && m[i].id.as_str() < id {
            i += 1;
        }
        if i == lim && i < m.len() {
            i += m[i..].partition_point(|x| x.id.as_str() < id);
        }
        self.at = i;
        m.get(i).filter(|x| x.id == id)
    }
}

/// Key dates of fiscal year `fy`.
pub fn dates(book: &Book, fy: i32) -> Option<Dates> {
    let (start, end) = book.config.fiscal_year_bounds(fy)?;
    // the 15th day of the 9th month after the month in which the year ends
    let months = end.year() * 12 + end.month0() as i32 + 9;
    let payment_period_end = NaiveDate::from_ymd_opt(months / 12, (months % 12) as u32 + 1, 15)?;
    let qualified_check_deadline = payment_period_end.checked_add_days(chrono::Days::new(90))?;
    Some(Dates {
        start,
        end,
        payment_period_end,
        qualified_check_deadline,
    })
}

fn dec_weight(d: Decimal) -> Weight {
    Weight::from_decimal(d.max(Decimal::ZERO)).unwrap_or_else(|_| Weight::zero())
}

/// Splits `total` in two by exact weights `a : b` (largest remainder, ties to `a`).
fn split(total: Money, a: &Weight, b: &Weight) -> Result<(Money, Money), MoneyError> {
    if a.is_zero() && b.is_zero() {
        return Ok((Money::zero(total.currency()), total));
    }
    let v = allocate(total, &[(0u8, a.clone()), (1u8, b.clone())])?;
    Ok((v[0], v[1]))
}

/// Closes fiscal year `fy` from `prior` (the state after the previous close, or [`initial_state`]).
pub fn close(
    book: &Book,
    fy: i32,
    activity: &Activity,
    prior: &State,
) -> Result<Close, CloseError> {
    let cfg = &book.config;
    let cur = cfg.currency;
    let zero = Money::zero(cur);
    let pol = &cfg.policy;
    let dates = dates(book, fy).ok_or_else(|| CloseError::BadYear {
        fy,
        end: format!("{:02}-{:02}", cfg.fiscal_year_end.0, cfg.fiscal_year_end.1),
    })?;
    let results: Vec<_> = book
        .results
        .iter()
        .filter(|r| r.fiscal_year == fy)
        .collect();
    if results.is_empty() {
        return Err(CloseError::NoResults(fy));
    }
    let line = |unit: Option<&str>, name: &str| -> Money {
        results
            .iter()
            .find(|r| r.unit.as_deref() == unit && r.line == name)
            .map(|r| r.amount)
            .unwrap_or(zero)
    };
    let line_opt = |name: &str| -> Option<Money> {
        results
            .iter()
            .find(|r| r.unit.is_none() && r.line == name)
            .map(|r| r.amount)
    };
    let mut notes: Vec<String> = Vec::new();
    // ---- shared-asset register ([assets] in_close): depreciation and disposal gains per unit
    let adj = m("assets", crate::engine::assets::close_adjustments(book, fy))?;
    let unit_pm = cfg
        .units
        .iter()
        .map(|u| {
            let a = m("assets", adj.unit_margin(&u.id, cur))?;
            m(
                "assets",
                line(Some(&u.id), "patronage_margin").checked_add(&a),
            )
        })
        .collect::<Result<Vec<Money>, CloseError>>()?;
    if !adj.is_empty() {
        notes.push(crate::engine::assets::close_note(&adj, cur));
    }
    let dec = |x: i128| Decimal::try_from_i128_with_scale(x, SCALE).unwrap_or(Decimal::MAX);

    // ---- activity of the year: per unit, per measure, members and non-members
    // per unit (in the order of coop.toml): (member, measure index, amount in 10^-SCALE) rows,
    // member "" = non-member, sorted by member
    let mut act: Vec<Vec<(&str, usize, i128)>> = vec![Vec::new(); cfg.units.len()];
    {
        // (unit, measure) of the previous total and its (unit index, measure index)
        type Last<'s> = Option<(&'s str, &'s str, Option<(usize, usize)>)>;
        let mut last: Last = None;
        for t in activity.year(fy) {
            let (unit, measure) = (t.key.unit.as_str(), t.key.measure.as_str());
            let at = match last {
                Some((u, m, at)) if u == unit && m == measure => at,
                _ => {
                    let at = cfg.units.iter().position(|u| u.id == unit).and_then(|ui| {
                        cfg.units[ui]
                            .measures
                            .iter()
                            .position(|(m, _)| m == measure)
                            .map(|mi| (ui, mi))
                    });
                    last = Some((unit, measure, at));
                    at
                }
            };
            if let Some((ui, mi)) = at {
                act[ui].push((t.key.member_id.as_str(), mi, t.amount));
            }
        }
        for rows in act.iter_mut() {
            // activity comes sorted by member: this is a check, linear on sorted input
            rows.sort_by(|a, b| a.0.cmp(b.0));
        }
    }

    // ---- stock dividends: charged to units pro rata by positive patronage margin
    let sd_total = line(None, "stock_dividends");
    let margins: Vec<(usize, Weight)> = cfg
        .units
        .iter()
        .enumerate()
        .map(|(i, _)| (i, dec_weight(unit_pm[i].amount())))
        .collect();
    let sd_by_unit = if sd_total.is_zero() || margins.iter().all(|(_, w)| w.is_zero()) {
        if !sd_total.is_zero() {
            notes.push(format!(
                "stock dividends of {sd_total} were not charged to any unit: no unit had a positive patronage margin"
            ));
        }
        vec![zero; cfg.units.len()]
    } else {
        m("stock dividends", allocate(sd_total, &margins))?
    };

    // ---- per unit: member / non-member shares, stock dividends, provisional pool
    struct Work<'a> {
        pool: Pool,
        /// non-member share net of its stock-dividend charge (to the unallocated reserve)
        nonmember_net: Money,
        weights: Vec<MemberWeight<'a>>,
    }
    let mut work: Vec<Work> = Vec::new();
    let mut nonmember_refunds = zero;
    for (ui, u) in cfg.units.iter().enumerate() {
        let pm = unit_pm[ui];
        let rows = &act[ui];
        // per measure of the unit: (all volume, members' volume)
        let mut volume: Vec<(i128, i128)> = vec![(0, 0); u.measures.len()];
        for (member, mi, x) in rows {
            let v = &mut volume[*mi];
            v.0 += *x;
            if !member.is_empty() {
                v.1 += *x;
            }
        }
        // member fraction of volume and member weights
        let mut frac_num = Weight::zero();
        // (measure, λ, members' total) of the measures with member volume, and the position of
        // each measure of the unit among them
        let mut active: Vec<(&str, Decimal, i128)> = Vec::new();
        let mut slot: Vec<Option<usize>> = vec![None; u.measures.len()];
        let mut any_volume = false;
        for (mi, (measure, lambda)) in u.measures.iter().enumerate() {
            let (total, members_total) = volume[mi];
            if total <= 0 {
                continue;
            }
            any_volume = true;
            let l = dec_weight(*lambda);
            frac_num =
                frac_num.add(&l.mul(
                    &Weight::from_ratio(members_total, total).unwrap_or_else(|_| Weight::zero()),
                ));
            if members_total <= 0 {
                continue;
            }
            slot[mi] = Some(active.len());
            active.push((measure.as_str(), *lambda, members_total));
        }
        // member -> its amount of each active measure (None: no row), sorted by member
        let mut raws: Vec<(&str, Vec<Option<i128>>)> = Vec::new();
        for (member, mi, x) in rows {
            let Some(k) = slot[*mi] else { continue };
            if member.is_empty() {
                continue;
            }
            if raws.last().is_none_or(|(id, _)| id != member) {
                raws.push((member, vec![None; active.len()]));
            }
            if let Some((_, v)) = raws.last_mut() {
                v[k] = Some(*x);
            }
        }
        // class and seniority factor of each member with patronage in this unit
        let mut walk = MemberWalk::new(book);
        let mut factor = |id: &str| -> Decimal {
            let mut f = Decimal::ONE;
            if let Some(mem) = walk.get(id) {
                if let Some(class) = cfg.class(&mem.class) {
                    f *= class.multiplier;
                }
                if !u.seniority_rate.is_zero() {
                    let years = full_years(mem.joined, dates.end);
                    let years = u.seniority_cap_years.map_or(years, |c| years.min(c));
                    f *= Decimal::ONE + u.seniority_rate * Decimal::from(years);
                }
            }
            f
        };
        let factors: Vec<Decimal> = raws.iter().map(|(id, _)| factor(id)).collect();
        let weights = integer_weights(&active, &raws, &factors)
            .unwrap_or_else(|| rational_weights(&active, &raws, &factors));
        // the active measures in name order, for the per-member lists
        let mut by_name: Vec<usize> = (0..active.len()).collect();
        by_name.sort_by_key(|&k| active[k].0);
        let wv: Vec<MemberWeight> = raws
            .iter()
            .zip(weights)
            .map(|((id, raw), w)| {
                let raw = by_name
                    .iter()
                    .filter_map(|&k| raw[k].map(|x| (active[k].0.to_string(), dec(x))))
                    .collect();
                (*id, w, raw)
            })
            .collect();
        let member_frac_w = if any_volume { frac_num } else { Weight::zero() };
        let member_fraction = member_frac_w.to_decimal_lossy();
        let nonmember_frac_w = if any_volume {
            Weight::from_int(1).sub_or_zero(&member_frac_w)
        } else {
            Weight::from_int(1)
        };
        if !any_volume && !pm.is_zero() {
            notes.push(format!(
                "unit `{}` has a patronage margin of {pm} but no patronage in {fy}: it all goes to the unallocated reserve",
                u.id
            ));
        }
        let (member_share, nonmember_share) =
            m("member share", split(pm, &member_frac_w, &nonmember_frac_w))?;
        let sd = sd_by_unit[ui];
        let (sd_member, sd_nonmember) = m(
            "stock dividends",
            split(sd, &member_frac_w, &nonmember_frac_w),
        )?;
        let member_net = m("member share", member_share.checked_sub(&sd_member))?;
        let mut nonmember_net = m(
            "non-member share",
            nonmember_share.checked_sub(&sd_nonmember),
        )?;
        if u.nonmember_refunds && nonmember_net.is_positive() {
            nonmember_refunds = m("refunds", nonmember_refunds.checked_add(&nonmember_net))?;
            nonmember_net = zero;
        }
        work.push(Work {
            nonmember_net,
            pool: Pool {
                unit: u.id.clone(),
                name: u.name.clone(),
                patronage_margin: pm,
                member_fraction,
                member_share,
                nonmember_share,
                stock_dividends: sd,
                netting: zero,
                loss_recovered: zero,
                reserve: zero,
                allocable: member_net, // provisional: member share net of stock dividends
                loss_to_members: zero,
                loss_to_collective: zero,
                eligible_members: wv.iter().filter(|(_, w, _)| !w.is_zero()).count(),
            },
            weights: wv,
        });
    }

    // ---- §1388(j) netting: unit losses absorbed by profitable units, pro rata
    if pol.net_units {
        let neg: i128 = work
            .iter()
            .map(|w| w.pool.allocable.to_minor())
            .filter(|v| *v < 0)
            .sum();
        let pos_w: Vec<(usize, Weight)> = work
            .iter()
            .enumerate()
            .map(|(i, w)| (i, dec_weight(w.pool.allocable.amount())))
            .collect();
        let pos: i128 = work
            .iter()
            .map(|w| w.pool.allocable.to_minor())
            .filter(|v| *v > 0)
            .sum();
        if neg < 0 && pos > 0 {
            let absorbed =
                Money::from_minor((-neg).min(pos), cur).map_err(|e| CloseError::Money {
                    what: "netting".into(),
                    source: e,
                })?;
            let cut = m("netting", allocate(absorbed.neg(), &pos_w))?;
            let neg_w: Vec<(usize, Weight)> = work
                .iter()
                .enumerate()
                .map(|(i, w)| (i, dec_weight(-w.pool.allocable.amount())))
                .collect();
            let lift = m("netting", allocate(absorbed, &neg_w))?;
            for (i, w) in work.iter_mut().enumerate() {
                w.pool.netting = m("netting", cut[i].checked_add(&lift[i]))?;
                w.pool.allocable = m("netting", w.pool.allocable.checked_add(&w.pool.netting))?;
            }
            notes.push(format!(
                "§1388(j): {absorbed} of unit losses were netted against other units' earnings; patrons must be told in writing"
            ));
        }
    }

    // ---- reserve, loss recovery, losses
    let mut deficit = Money::from_decimal(prior.deficit, cur).unwrap_or(zero);
    let deficit_opening = deficit;
    let mut deficit_added = zero;
    let mut deficit_recovered = zero;
    for w in work.iter_mut() {
        let p = &mut w.pool;
        let net = p.allocable;
        if net.is_negative() {
            match pol.loss {
                LossPolicy::CarryForward => {
                    deficit_added = m("loss", deficit_added.checked_add(&net.abs()))?;
                    p.allocable = zero;
                }
                LossPolicy::ChargeAccounts => {
                    let c = dec_weight(pol.loss_collective);
                    let r = dec_weight(Decimal::ONE - pol.loss_collective);
                    let (coll, mem) = m("loss split", split(net, &c, &r))?;
                    p.loss_to_collective = coll;
                    p.loss_to_members = mem;
                    p.allocable = zero;
                }
            }
            continue;
        }
        // recover a carried-forward deficit before allocating
        if deficit.is_positive() && net.is_positive() {
            let take = net.min(deficit);
            p.loss_recovered = take;
            deficit = m("loss recovery", deficit.checked_sub(&take))?;
            deficit_recovered = m("loss recovery", deficit_recovered.checked_add(&take))?;
        }
        let after = m("pool", net.checked_sub(&p.loss_recovered))?;
        let r = dec_weight(pol.reserve);
        let a = dec_weight(Decimal::ONE - pol.reserve);
        let (reserve, allocable) = m("reserve", split(after, &r, &a))?;
        p.reserve = reserve;
        p.allocable = allocable;
        if allocable.is_positive() && w.weights.iter().all(|(_, wt, _)| wt.is_zero()) {
            notes.push(format!(
                "unit `{}`: no member patronage in {fy}, so its pool of {allocable} goes to the unallocated reserve",
                p.unit
            ));
            p.reserve = m("reserve", p.reserve.checked_add(&allocable))?;
            p.allocable = zero;
        }
    }
    deficit = m("deficit", deficit.checked_add(&deficit_added))?;

    // ---- allocate each pool (and charge losses) by patronage
    let mut allocations: Vec<Allocation> = Vec::new();
    let mut shares_pos: Vec<(&str, Money)> = Vec::new();
    let mut shares_neg: Vec<(&str, Money)> = Vec::new();
    for w in work.iter_mut() {
        let p = &w.pool;
        let amount = if p.allocable.is_positive() {
            p.allocable
        } else {
            p.loss_to_members
        };
        if amount.is_zero() {
            continue;
        }
        let items: Vec<(&str, Weight)> = w
            .weights
            .iter()
            .map(|(id, wt, _)| (*id, wt.clone()))
            .collect();
        if items.iter().all(|(_, wt)| wt.is_zero()) {
            notes.push(format!(
                "unit `{}`: a loss of {amount} could not be charged to members (no member patronage); it stays with the collective account",
                p.unit
            ));
            continue;
        }
        let shares = m("allocation", allocate(amount, &items))?;
        let sum_w = items
            .iter()
            .fold(Weight::zero(), |acc, (_, wt)| acc.add(wt));
        for ((id, wt, raw), share) in w.weights.iter_mut().zip(shares) {
            if share.is_zero() && wt.is_zero() {
                continue;
            }
            if amount.is_positive() {
                shares_pos.push((*id, share));
            } else {
                shares_neg.push((*id, share));
            }
            if amount.is_positive() {
                allocations.push(Allocation {
                    member_id: id.to_string(),
                    unit: p.unit.clone(),
                    patronage: wt.ratio_lossy(&sum_w),
                    measures: std::mem::take(raw),
                    amount: share,
                });
            }
        }
    }
    allocations.sort_by(|a, b| (&a.member_id, &a.unit).cmp(&(&b.member_id, &b.unit)));

    // ---- per member: cash (rounded up), retained, minimum check
    let mut members_out: Vec<MemberAllocation> = Vec::new();
    let mut carried_after: BTreeMap<String, String> = BTreeMap::new();
    // per member, sorted by id: the sums of the shares of every unit
    let totals_by_member = m("member total", by_id(shares_pos))?;
    let loss_by_member = m("member total", by_id(shares_neg))?;
    let ids = sorted_ids(&[
        totals_by_member.iter().map(|(id, _)| *id).collect(),
        loss_by_member.iter().map(|(id, _)| *id).collect(),
        prior
            .carried_cash
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(id, _)| id.as_str())
            .collect(),
    ]);
    let (mut totals_at, mut loss_at) =
        (Cursor::new(&totals_by_member), Cursor::new(&loss_by_member));
    let mut tranches_created: Vec<Tranche> = Vec::new();
    let mut walk = MemberWalk::new(book);
    for id in ids {
        let total = totals_at.get(id).copied().unwrap_or(zero);
        let loss = loss_at.get(id).copied().unwrap_or(zero);
        let carried_in = prior
            .carried_cash
            .get(id)
            .and_then(|s| Money::parse(s, cur).ok())
            .unwrap_or(zero);
        let mut cash = if total.is_positive() {
            m(
                "cash",
                total.checked_mul_round(pol.cash, RoundingStrategy::ToPositiveInfinity),
            )?
        } else {
            zero
        };
        let mut notice = pol.notice;
        let mut carried_out = zero;
        let mut rule = None;
        let due = m("cash", cash.checked_add(&carried_in))?;
        if due.is_positive() && due < pol.minimum_check {
            rule = Some(pol.minimum_check_rule);
            match pol.minimum_check_rule {
                MinimumCheckRule::PayCash => cash = total,
                MinimumCheckRule::CarryForward => carried_out = due,
                MinimumCheckRule::Retain => {
                    cash = zero;
                    carried_out = carried_in;
                    notice = Notice::Nonqualified;
                }
            }
        }
        let retained = m("retained", total.checked_sub(&cash))?;
        if retained.is_positive() {
            tranches_created.push(Tranche {
                member_id: id.to_string(),
                allocation_year: fy,
                kind: match notice {
                    Notice::Qualified => "qualified",
                    Notice::Nonqualified => "nonqualified",
                }
                .into(),
                amount: retained.amount(),
            });
        }
        if carried_out.is_positive() {
            carried_after.insert(id.to_string(), carried_out.to_string());
        }
        let name = walk.get(id).map(|m| m.name.clone()).unwrap_or_default();
        members_out.push(MemberAllocation {
            member_id: id.to_string(),
            name,
            total,
            cash: if carried_out.is_positive() {
                zero
            } else {
                m("cash", cash.checked_add(&carried_in))?
            },
            retained,
            notice,
            carried_in,
            carried_out,
            minimum_check: rule,
            loss,
            loss_shortfall: zero,
        });
    }

    // ---- contributions and interest of the year → tranches
    let mut contrib: Vec<(&str, Money)> = Vec::new();
    // membership shares paid back on leaving (≤ 0), shown as redemptions
    let mut refunds: Vec<(&str, Money)> = Vec::new();
    for c in book
        .contributions
        .iter()
        .filter(|c| c.date >= dates.start && c.date <= dates.end)
    {
        tranches_created.push(contribution_tranche(c, fy));
        if c.kind == ContributionKind::Refund {
            refunds.push((c.member_id.as_str(), c.amount.neg()));
            continue;
        }
        contrib.push((c.member_id.as_str(), c.amount));
    }
    let contrib = m("contributions", by_id(contrib))?;
    let refunds = m("refunds", by_id(refunds))?;
    let mut opening: Vec<(&str, Money)> = Vec::with_capacity(prior.tranches.len());
    for t in &prior.tranches {
        let a = Money::from_decimal(t.amount, cur).map_err(|e| CloseError::Money {
            what: "opening equity".into(),
            source: e,
        })?;
        opening.push((t.member_id.as_str(), a));
    }
    let opening = m("opening equity", by_id(opening))?;
    let mut interest: Vec<(&str, Money)> = Vec::new();
    if !pol.capital_interest.is_zero() {
        for (id, open) in &opening {
            if open.is_positive() {
                let i = m(
                    "interest",
                    open.checked_mul_round(
                        pol.capital_interest,
                        RoundingStrategy::MidpointAwayFromZero,
                    ),
                )?;
                if !i.is_zero() {
                    tranches_created.push(Tranche {
                        member_id: id.to_string(),
                        allocation_year: fy,
                        kind: "interest".into(),
                        amount: i.amount(),
                    });
                    interest.push((id, i));
                }
            }
        }
    }
    let tranches_created = m("equity tranches", merge(tranches_created))?;

    // ---- losses cancel the member's equity, newest tranche first; what equity cannot cover is a
    // shortfall absorbed by the unallocated reserve
    let mut after = m(
        "equity tranches",
        merge(
            prior
                .tranches
                .iter()
                .chain(tranches_created.iter())
                .cloned()
                .collect(),
        ),
    )?;
    let mut cancellations: Vec<Tranche> = Vec::new();
    let mut shortfall: BTreeMap<String, Money> = BTreeMap::new();
    for (id, loss) in &loss_by_member {
        let mut left = -loss.amount();
        // `after` is sorted by member id: look at this member's tranches only
        let lo = after.partition_point(|t| t.member_id.as_str() < *id);
        let hi = after.partition_point(|t| t.member_id.as_str() <= *id);
        let mut idx: Vec<usize> = (lo..hi)
            .filter(|&i| after[i].amount > Decimal::ZERO && cancel_rank(&after[i].kind).is_some())
            .collect();
        idx.sort_by_key(|&i| {
            (
                std::cmp::Reverse(after[i].allocation_year),
                cancel_rank(&after[i].kind),
            )
        });
        for i in idx {
            if left <= Decimal::ZERO {
                break;
            }
            let take = left.min(after[i].amount);
            after[i].amount -= take;
            left -= take;
            cancellations.push(Tranche {
                member_id: id.to_string(),
                allocation_year: after[i].allocation_year,
                kind: after[i].kind.clone(),
                amount: -take,
            });
        }
        if left > Decimal::ZERO {
            shortfall.insert(
                id.to_string(),
                m("loss shortfall", Money::from_decimal(left, cur))?,
            );
        }
    }
    let after = m("equity tranches", merge(after))?;
    cancellations.sort();
    for x in members_out.iter_mut() {
        x.loss_shortfall = shortfall.get(&x.member_id).copied().unwrap_or(zero);
    }

    // ---- capital accounts roll-forward
    let all_ids = sorted_ids(&[
        opening.iter().map(|(id, _)| *id).collect(),
        members_out.iter().map(|x| x.member_id.as_str()).collect(),
        contrib.iter().map(|(id, _)| *id).collect(),
        refunds.iter().map(|(id, _)| *id).collect(),
    ]);
    let mut at = (
        Cursor::new(&opening),
        Cursor::new(&contrib),
        Cursor::new(&interest),
        Cursor::new(&refunds),
    );
    let mut ma_at = 0usize;
    let mut accounts = Vec::new();
    for id in all_ids {
        // members_out is sorted by member id, as all_ids
        while members_out
            .get(ma_at)
            .is_some_and(|x| x.member_id.as_str() < id)
        {
            ma_at += 1;
        }
        let ma = members_out.get(ma_at).filter(|x| x.member_id == id);
        let alloc = ma.map(|x| x.retained).unwrap_or(zero);
        // the part of the loss that cancelled equity (the shortfall went to the reserve)
        let loss = match ma {
            Some(x) => m("loss", x.loss.checked_add(&x.loss_shortfall))?,
            None => zero,
        };
        let o = at.0.get(id).copied().unwrap_or(zero);
        let c = at.1.get(id).copied().unwrap_or(zero);
        let i = at.2.get(id).copied().unwrap_or(zero);
        let r = at.3.get(id).copied().unwrap_or(zero);
        let closing = m(
            "capital account",
            Money::sum(cur, &[o, c, alloc, loss, i, r]),
        )?;
        accounts.push(CapitalAccount {
            member_id: id.to_string(),
            opening: o,
            contributions: c,
            allocations: alloc,
            losses: loss,
            interest: i,
            redemptions: r,
            closing,
        });
    }

    // ---- reserves
    let sum_work = |f: &dyn Fn(&Work) -> Money| -> Result<Money, CloseError> {
        let v: Vec<Money> = work.iter().map(f).collect();
        m("totals", Money::sum(cur, &v))
    };
    let sum_pools = |f: &dyn Fn(&Pool) -> Money| -> Result<Money, CloseError> {
        let v: Vec<Money> = work.iter().map(|w| f(&w.pool)).collect();
        m("totals", Money::sum(cur, &v))
    };
    let nonmember_net = sum_work(&|w| w.nonmember_net)?;
    let nonpatronage = m(
        "assets",
        line(None, "nonpatronage_income").checked_add(&adj.nonpatronage(cur)),
    )?;
    let tax = line(None, "income_tax");
    let board_reserve = sum_pools(&|p| p.reserve)?;
    let loss_to_collective = sum_pools(&|p| p.loss_to_collective)?;
    let opening_unalloc = Money::from_decimal(prior.unallocated, cur).unwrap_or(zero);
    let shortfall_absorbed = {
        let v: Vec<Money> = shortfall.values().map(|x| x.neg()).collect();
        m("shortfall", Money::sum(cur, &v))?
    };
    // unallocated += non-member share (net of its stock-dividend charge) + board reserve
    //                + recovered loss + non-patronage income − income tax
    //                + loss charged to the collective (≤ 0) − loss carried forward
    let addition = m(
        "reserves",
        Money::sum(
            cur,
            &[
                nonmember_net,
                board_reserve,
                deficit_recovered,
                nonpatronage,
                tax.neg(),
                loss_to_collective,
                deficit_added.neg(),
                shortfall_absorbed,
            ],
        ),
    )?;
    let closing_unalloc = m("reserves", opening_unalloc.checked_add(&addition))?;
    let reserves = Reserves {
        opening: opening_unalloc,
        nonmember_share: nonmember_net,
        board_reserve,
        nonpatronage_income: nonpatronage,
        income_tax: tax,
        loss_to_collective,
        loss_carried: deficit_added,
        loss_recovered: deficit_recovered,
        loss_shortfall_absorbed: shortfall_absorbed,
        nonmember_refunds_payable: nonmember_refunds,
        addition,
        closing: closing_unalloc,
    };

    // ---- state after and identity
    let member_equity = {
        let v: Vec<Money> = accounts.iter().map(|a| a.closing).collect();
        m("identity", Money::sum(cur, &v))?
    };
    let other_stock = line(None, "other_stock");
    let sum = m(
        "identity",
        Money::sum(cur, &[member_equity, closing_unalloc, other_stock]),
    )?;
    let net_worth = line_opt("net_worth");
    let difference = match net_worth {
        Some(nw) => Some(m("identity", nw.checked_sub(&sum))?),
        None => None,
    };
    if let Some(d) = difference {
        if !d.is_zero() {
            notes.push(format!(
                "net-worth identity: Σ capital accounts + unallocated reserve + other stock = {sum}, but net_worth in results.csv is {}; difference {d}",
                net_worth.map(|x| x.to_string()).unwrap_or_default()
            ));
        }
    }
    let identity = Identity {
        member_equity,
        unallocated: closing_unalloc,
        other_stock,
        sum,
        net_worth,
        difference,
        balanced: difference.map(|d| d.is_zero()),
    };
    let mt = |f: &dyn Fn(&MemberAllocation) -> Money| -> Result<Money, CloseError> {
        let v: Vec<Money> = members_out.iter().map(f).collect();
        m("totals", Money::sum(cur, &v))
    };
    let totals = Totals {
        patronage_margin: sum_pools(&|p| p.patronage_margin)?,
        member_share: sum_pools(&|p| p.member_share)?,
        nonmember_share: sum_pools(&|p| p.nonmember_share)?,
        stock_dividends: sd_total,
        reserve: board_reserve,
        allocated: sum_pools(&|p| p.allocable)?,
        cash: mt(&|x| x.cash)?,
        retained: mt(&|x| x.retained)?,
        carried_out: mt(&|x| x.carried_out)?,
        losses_to_members: mt(&|x| x.loss)?,
    };
    if work.iter().all(|w| w.weights.is_empty()) && activity.year(fy).next().is_none() {
        notes.push(format!("no patronage was recorded in fiscal year {fy}"));
    }
    // departed or deceased members allocated in the year (their patronage was while members)
    let mut walk = MemberWalk::new(book);
    for x in &members_out {
        if let Some(mm) = walk.get(&x.member_id) {
            if mm.status != Status::Active
                && mm.left.is_some_and(|l| l < dates.start)
                && x.total.is_positive()
            {
                notes.push(format!(
                    "member `{}` left before {fy} but has an allocation",
                    x.member_id
                ));
            }
        }
    }
    let state_after = State {
        fiscal_year: fy,
        tranches: after,
        unallocated: closing_unalloc.amount(),
        deficit: deficit.amount(),
        carried_cash: carried_after,
    };
    Ok(Close {
        fiscal_year: fy,
        coop: cfg.name.clone(),
        currency: cur.code().to_string(),
        dates,
        pools: work.into_iter().map(|w| w.pool).collect(),
        allocations,
        members: members_out,
        reserves,
        deficit: Deficit {
            opening: deficit_opening,
            added: deficit_added,
            recovered: deficit_recovered,
            closing: deficit,
        },
        capital_accounts: accounts,
        identity,
        tranches_created,
        tranches_cancelled: cancellations,
        totals,
        notes,
        state_after,
    })
}

/// Members' patronage weights `factor_m × Σ_k λ_k × x_mk / X_k`, all scaled by the same positive
/// integer so that they are whole numbers (allocation only depends on their ratios). `None` when
/// a product does not fit in 128 bits; [`rational_weights`] then does the same in big rationals.
fn integer_weights(
    active: &[(&str, Decimal, i128)],
    raws: &[(&str, Vec<Option<i128>>)],
    factors: &[Decimal],
) -> Option<Vec<Weight>> {
    let pow10 = |n: u32| 10i128.checked_pow(n);
    let s = active.iter().map(|(_, l, _)| l.scale()).max().unwrap_or(0);
    let fs = factors.iter().map(|f| f.scale()).max().unwrap_or(0);
    let mut product: i128 = 1;
    for (_, _, x) in active {
        product = product.checked_mul(*x)?;
    }
    let mut coef: Vec<i128> = Vec::with_capacity(active.len());
    for (_, l, x) in active {
        let lam = l.mantissa().checked_mul(pow10(s - l.scale())?)?;
        coef.push(lam.checked_mul(product / x)?);
    }
    let mut out = Vec::with_capacity(raws.len());
    for ((_, raw), f) in raws.iter().zip(factors) {
        let mut w: i128 = 0;
        for (x, c) in raw.iter().zip(&coef) {
            if let Some(x) = x {
                w = w.checked_add(c.checked_mul(*x)?)?;
            }
        }
        let fi = f.mantissa().checked_mul(pow10(fs - f.scale())?)?;
        out.push(Weight::from_integer(w.checked_mul(fi)?).ok()?);
    }
    Some(out)
}

/// The same weights as exact big rationals (no overflow possible).
fn rational_weights(
    active: &[(&str, Decimal, i128)],
    raws: &[(&str, Vec<Option<i128>>)],
    factors: &[Decimal],
) -> Vec<Weight> {
    raws.iter()
        .zip(factors)
        .map(|((_, raw), f)| {
            let mut w = Weight::zero();
            for ((_, l, total), x) in active.iter().zip(raw) {
                if let Some(x) = x {
                    let share = Weight::from_ratio(*x, *total).unwrap_or_else(|_| Weight::zero());
                    w = w.add(&dec_weight(*l).mul(&share));
                }
            }
            w.mul(&dec_weight(*f))
        })
        .collect()
}

/// Whole years from `from` to `to`.
pub fn full_years(from: NaiveDate, to: NaiveDate) -> u32 {
    if to < from {
        return 0;
    }
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    y.max(0) as u32
}

/// The order in which a loss cancels a member's equity within one allocation year (allocated
/// equity before paid-in capital); `None` for kinds a loss never cancels (membership shares).
fn cancel_rank(kind: &str) -> Option<u8> {
    match kind {
        "nonqualified" => Some(0),
        "qualified" => Some(1),
        "interest" => Some(2),
        "ica" => Some(3),
        "capital" => Some(4),
        "in_kind" => Some(5),
        "ica_fee" => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, crate::money::Currency::from_code("USD").unwrap()).unwrap()
    }

    #[test]
    fn by_id_sums_and_sorts_runs() {
        let v = vec![
            ("b", usd("1.00")),
            ("d", usd("2.00")),
            ("a", usd("3.00")),
            ("b", usd("4.00")),
            ("c", usd("0.00")),
        ];
        let out = by_id(v).unwrap();
        let ids: Vec<&str> = out.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert_eq!(out[1].1, usd("5.00"));
        // a zero sum is kept: the member still has a line
        assert!(out[2].1.is_zero());
    }

    #[test]
    fn cursor_walks_and_recovers_from_out_of_order_ids() {
        let v = vec![("a", 1), ("c", 3), ("e", 5), ("g", 7)];
        let mut c = Cursor::new(&v);
        assert_eq!(c.get("a"), Some(&1));
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("e"), Some(&5));
        assert_eq!(c.get("e"), Some(&5));
        // backwards: falls back to a search
        assert_eq!(c.get("c"), Some(&3));
        assert_eq!(c.get("a"), Some(&1));
        assert_eq!(c.get("g"), Some(&7));
        assert_eq!(c.get("h"), None);
        assert_eq!(c.get("0"), None);
        assert_eq!(
            sorted_ids(&[vec!["b", "a"], vec!["c", "a"], vec![]]),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn member_walk_matches_binary_search() {
        let (b, d) = crate::book::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/valley-commons"),
        );
        let b = b.unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
        let mut ids: Vec<String> = b.members.iter().map(|m| m.id.clone()).collect();
        ids.extend(["", "VC", "VC0000", "zzz", "VC0100x"].map(String::from));
        // ascending, then a shuffled order
        let mut asc = ids.clone();
        asc.sort();
        let mut mixed = ids.clone();
        mixed.reverse();
        mixed.rotate_left(37);
        for order in [asc, mixed] {
            let mut walk = MemberWalk::new(&b);
            for id in &order {
                assert_eq!(
                    walk.get(id).map(|m| &m.id),
                    b.member(id).map(|m| &m.id),
                    "{id}"
                );
            }
        }
    }
}
