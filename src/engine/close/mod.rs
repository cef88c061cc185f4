//! The year-end close: net margin per allocation unit, member and non-member shares, stock
//! dividends, the board's reserve, losses, patronage allocation to the cent, the cash and retained
//! parts, capital accounts and the net-worth identity. Pure: a [`Book`], the year's activity and
//! the state left by the previous close in, a [`Close`] out. See `docs/CLOSE.md`.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

mod members;
mod pools;
mod reserves;

use crate::book::config::{Config, MinimumCheckRule, Notice};
use crate::book::patronage::Activity;
use crate::book::{Book, ResultLine};
use crate::engine::state::{merge, State, Tranche};
use crate::money::{allocate, Currency, Money, MoneyError, Weight};

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

pub(super) fn m<T>(what: &str, r: Result<T, MoneyError>) -> Result<T, CloseError> {
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
pub(super) type MemberWeight<'a> = (&'a str, Weight, Vec<(String, Decimal)>);

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
pub(super) fn by_id(mut v: Vec<(&str, Money)>) -> Result<Vec<(&str, Money)>, MoneyError> {
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
pub(super) fn sorted_ids<'a>(lists: &[Vec<&'a str>]) -> Vec<&'a str> {
    let mut all: Vec<&str> = lists.iter().flatten().copied().collect();
    all.sort();
    all.dedup();
    all
}

/// Lookups by id in a [`by_id`] list for ids asked in ascending order (a merge walk); an id
/// asked out of order falls back to a binary search.
pub(super) struct Cursor<'s, 'a, T> {
    v: &'s [(&'a str, T)],
    at: usize,
}

impl<'s, 'a, T> Cursor<'s, 'a, T> {
    pub(super) fn new(v: &'s [(&'a str, T)]) -> Self {
        Cursor { v, at: 0 }
    }

    pub(super) fn get(&mut self, id: &str) -> Option<&'s T> {
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
pub(super) struct MemberWalk<'a> {
    members: &'a [crate::book::Member],
    at: usize,
}

impl<'a> MemberWalk<'a> {
    pub(super) fn new(book: &'a Book) -> Self {
        MemberWalk {
            members: &book.members,
            at: 0,
        }
    }

    pub(super) fn get(&mut self, id: &str) -> Option<&'a crate::book::Member> {
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

pub(super) fn dec_weight(d: Decimal) -> Weight {
    Weight::from_decimal(d.max(Decimal::ZERO)).unwrap_or_else(|_| Weight::zero())
}

/// Splits `total` in two by exact weights `a : b` (largest remainder, ties to `a`).
pub(super) fn split(total: Money, a: &Weight, b: &Weight) -> Result<(Money, Money), MoneyError> {
    if a.is_zero() && b.is_zero() {
        return Ok((Money::zero(total.currency()), total));
    }
    let v = allocate(total, &[(0u8, a.clone()), (1u8, b.clone())])?;
    Ok((v[0], v[1]))
}

/// What every step of one close reads: the book, the year, its dates and its results lines.
pub(super) struct Year<'a> {
    pub(super) book: &'a Book,
    pub(super) cfg: &'a Config,
    pub(super) fy: i32,
    pub(super) cur: Currency,
    pub(super) zero: Money,
    pub(super) dates: Dates,
    results: Vec<&'a ResultLine>,
}

impl<'a> Year<'a> {
    fn new(book: &'a Book, fy: i32) -> Result<Self, CloseError> {
        let cfg = &book.config;
        let dates = dates(book, fy).ok_or_else(|| CloseError::BadYear {
            fy,
            end: format!("{:02}-{:02}", cfg.fiscal_year_end.0, cfg.fiscal_year_end.1),
        })?;
        let results: Vec<&ResultLine> = book
            .results
            .iter()
            .filter(|r| r.fiscal_year == fy)
            .collect();
        if results.is_empty() {
            return Err(CloseError::NoResults(fy));
        }
        Ok(Year {
            book,
            cfg,
            fy,
            cur: cfg.currency,
            zero: Money::zero(cfg.currency),
            dates,
            results,
        })
    }

    /// The amount of a results.csv line of the year (zero when absent).
    pub(super) fn line(&self, unit: Option<&str>, name: &str) -> Money {
        self.results
            .iter()
            .find(|r| r.unit.as_deref() == unit && r.line == name)
            .map(|r| r.amount)
            .unwrap_or(self.zero)
    }

    /// The amount of a co-op-wide results.csv line of the year, if present.
    pub(super) fn line_opt(&self, name: &str) -> Option<Money> {
        self.results
            .iter()
            .find(|r| r.unit.is_none() && r.line == name)
            .map(|r| r.amount)
    }
}

/// Closes fiscal year `fy` from `prior` (the state after the previous close, or
/// [`crate::engine::state::initial_state`]). The steps, in the order of `docs/CLOSE.md`:
/// the pools per unit ([`pools`]), the members ([`members`]), the collective reserve and the
/// identity ([`reserves`]).
pub fn close(
    book: &Book,
    fy: i32,
    activity: &Activity,
    prior: &State,
) -> Result<Close, CloseError> {
    let y = Year::new(book, fy)?;
    let mut notes: Vec<String> = Vec::new();
    // the pools, one per unit
    let (adj, unit_pm) = pools::unit_margins(&y, &mut notes)?;
    let act = pools::activity_by_unit(&y, activity);
    let (sd_total, sd_by_unit) = pools::stock_dividends(&y, &unit_pm, &mut notes)?;
    let (mut work, nonmember_refunds) =
        pools::unit_pools(&y, &act, &unit_pm, &sd_by_unit, &mut notes)?;
    if y.cfg.policy.net_units {
        pools::net_unit_losses(&y, &mut work, &mut notes)?;
    }
    let deficit = pools::reserve_and_losses(&y, prior, &mut work, &mut notes)?;
    let (allocations, shares_pos, shares_neg) = pools::allocate_pools(&mut work, &mut notes)?;
    // the members
    let members::MemberCash {
        members: mut members_out,
        carried_after,
        mut tranches_created,
        loss_by_member,
    } = members::cash_and_retained(&y, prior, shares_pos, shares_neg)?;
    let flows = members::contributions_and_interest(&y, prior, &mut tranches_created)?;
    let tranches_created = m("equity tranches", merge(tranches_created))?;
    let members::Cancelled {
        after,
        cancellations,
        shortfall,
    } = members::cancel_losses(
        &y,
        prior,
        &tranches_created,
        &loss_by_member,
        &mut members_out,
    )?;
    let accounts = members::roll_forward(&y, &members_out, &flows)?;
    // the collective reserve, the identity, the totals
    let reserves = reserves::unallocated_reserve(
        &y,
        prior,
        &work,
        &adj,
        &deficit,
        &shortfall,
        nonmember_refunds,
    )?;
    let identity = reserves::identity(&y, &accounts, reserves.closing, &mut notes)?;
    let totals = reserves::totals(&y, &work, &members_out, sd_total, reserves.board_reserve)?;
    reserves::year_notes(&y, activity, &work, &members_out, &mut notes);
    let state_after = State {
        fiscal_year: fy,
        tranches: after,
        unallocated: reserves.closing.amount(),
        deficit: deficit.closing.amount(),
        carried_cash: carried_after,
    };
    Ok(Close {
        fiscal_year: fy,
        coop: y.cfg.name.clone(),
        currency: y.cur.code().to_string(),
        dates: y.dates,
        pools: work.into_iter().map(|w| w.pool).collect(),
        allocations,
        members: members_out,
        reserves,
        deficit,
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
pub(super) fn integer_weights(
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
pub(super) fn rational_weights(
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
pub(super) fn cancel_rank(kind: &str) -> Option<u8> {
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
