//! The shared-asset register: straight-line depreciation by fiscal year, net book value, gain or
//! loss on disposal (patronage or non-patronage), what flows into the close, and a dissolution
//! preview under an asset lock. Pure and exact (integer minor units). See `docs/ASSETS.md`.
//!
//! **Convention (mid-month, whole months).** An asset depreciates for whole calendar months. The
//! month it is placed in service counts when it is in service on or before the 15th, otherwise
//! depreciation starts the next month. The month it is disposed of counts when the disposal is
//! after the 15th. A fiscal year takes the months that fall in it (a year ending mid-month counts
//! its last month). Accumulated depreciation after `k` of the `n = 12 × life` months is
//! `round_half_up((cost − salvage) × k / n)` to the cent, and a year's depreciation is the
//! difference of two such figures, so the years sum exactly to `cost − salvage` and a partial
//! first year leaves a matching partial final year. `method = none` (land) never depreciates.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::book::config::Config;
use crate::book::{Asset, Book};
use crate::money::{Currency, Money, MoneyError};

/// Month number (year × 12 + month0) of a date.
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// Total months of depreciation (0 for `method = none`).
pub fn life_months(a: &Asset) -> i64 {
    if a.method != "straight_line" {
        return 0;
    }
    i64::from(a.life_years.unwrap_or(0)) * 12
}

/// First month that depreciates.
fn first_month(a: &Asset) -> i64 {
    let m = month_index(a.in_service);
    if a.in_service.day() <= 15 {
        m
    } else {
        m + 1
    }
}

/// Last month that depreciates because of a disposal (None when not disposed).
fn disposal_last_month(a: &Asset) -> Option<i64> {
    a.disposed.map(|d| {
        let m = month_index(d);
        if d.day() > 15 {
            m
        } else {
            m - 1
        }
    })
}

/// Months of depreciation taken from placing in service up to and including the month of `date`
/// (capped by the life and by a disposal).
pub fn months_through(a: &Asset, date: NaiveDate) -> i64 {
    let n = life_months(a);
    if n == 0 {
        return 0;
    }
    let mut last = month_index(date);
    if let Some(l) = disposal_last_month(a) {
        last = last.min(l);
    }
    (last - first_month(a) + 1).clamp(0, n)
}

/// Accumulated depreciation after `months` months, in minor units (half-up to the cent).
fn accumulated_minor(a: &Asset, months: i64) -> i128 {
    let n = i128::from(life_months(a));
    if n == 0 || months <= 0 {
        return 0;
    }
    let dep = a.cost.to_minor() - a.salvage.to_minor();
    if dep <= 0 {
        return 0;
    }
    let k = i128::from(months).min(n);
    // round half up: floor((2·dep·k + n) / 2n), all non-negative
    (2 * dep * k + n) / (2 * n)
}

/// Accumulated depreciation at `date` (from the asset's own dates, ignoring whether it was sold).
pub fn accumulated_at(a: &Asset, date: NaiveDate) -> Result<Money, MoneyError> {
    Money::from_minor(
        accumulated_minor(a, months_through(a, date)),
        a.cost.currency(),
    )
}

/// The sale of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposal {
    pub date: NaiveDate,
    pub proceeds: Money,
    /// cost − accumulated depreciation up to the disposal month
    pub nbv: Money,
    /// proceeds − nbv (negative = loss)
    pub gain: Money,
    /// `true` when the asset was used in the unit's patronage business (column `use`)
    pub patronage: bool,
}

/// An asset's disposal, when it has one.
pub fn disposal(a: &Asset) -> Result<Option<Disposal>, MoneyError> {
    let Some(date) = a.disposed else {
        return Ok(None);
    };
    let cur = a.cost.currency();
    let acc = accumulated_at(a, date)?;
    let nbv = a.cost.checked_sub(&acc)?;
    let proceeds = a.proceeds.unwrap_or(Money::zero(cur));
    let gain = proceeds.checked_sub(&nbv)?;
    Ok(Some(Disposal {
        date,
        proceeds,
        nbv,
        gain,
        patronage: a.patronage,
    }))
}

/// One fiscal year of an asset's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearRow {
    pub fiscal_year: i32,
    pub opening_nbv: Money,
    pub depreciation: Money,
    /// accumulated depreciation at the year end (or at disposal)
    pub accumulated: Money,
    /// net book value at the year end; zero once disposed of
    pub closing_nbv: Money,
    /// a disposal in this year
    pub disposal: Option<Disposal>,
}

fn year_end(cfg: &Config, fy: i32) -> Option<(NaiveDate, NaiveDate)> {
    cfg.fiscal_year_bounds(fy)
}

/// The asset's position in fiscal year `fy`: depreciation of the year, accumulated depreciation
/// and NBV at the year end, and a disposal in the year. `None` before it was acquired.
pub fn year_row(a: &Asset, cfg: &Config, fy: i32) -> Result<Option<YearRow>, MoneyError> {
    let cur = a.cost.currency();
    let Some((start, end)) = year_end(cfg, fy) else {
        return Ok(None);
    };
    if a.acquired > end {
        return Ok(None);
    }
    if a.disposed.is_some_and(|d| d < start) {
        return Ok(None);
    }
    let before = start.pred_opt().unwrap_or(start);
    let acc_open = if a.acquired < start {
        accumulated_at(a, before)?
    } else {
        Money::zero(cur)
    };
    let opening_nbv = if a.acquired < start {
        a.cost.checked_sub(&acc_open)?
    } else {
        Money::zero(cur)
    };
    let acc = accumulated_at(a, end)?;
    let depreciation = acc.checked_sub(&acc_open)?;
    let disp = match a.disposed {
        Some(d) if d <= end => disposal(a)?,
        _ => None,
    };
    let closing_nbv = if disp.is_some() {
        Money::zero(cur)
    } else {
        a.cost.checked_sub(&acc)?
    };
    Ok(Some(YearRow {
        fiscal_year: fy,
        opening_nbv,
        depreciation,
        accumulated: acc,
        closing_nbv,
        disposal: disp,
    }))
}

/// The full schedule: every fiscal year from acquisition until the asset is fully depreciated
/// (or disposed of), or until `through` for assets that are never depreciated (land).
pub fn schedule(a: &Asset, cfg: &Config, through: i32) -> Result<Vec<YearRow>, MoneyError> {
    let first = cfg.fiscal_year_of(a.acquired);
    let n = life_months(a);
    // the last fiscal year with depreciation, or the disposal year
    let mut last = through.max(first);
    if n > 0 {
        let end_month = first_month(a) + n - 1;
        let y = i32::try_from(end_month.div_euclid(12)).unwrap_or(i32::MAX);
        let m = u32::try_from(end_month.rem_euclid(12) + 1).unwrap_or(1);
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, 1) {
            last = last.max(cfg.fiscal_year_of(d));
        }
    }
    if let Some(d) = a.disposed {
        last = cfg.fiscal_year_of(d);
    }
    let mut rows = Vec::new();
    for fy in first..=last {
        if let Some(r) = year_row(a, cfg, fy)? {
            rows.push(r);
        }
    }
    Ok(rows)
}

/// The register at one fiscal year end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterLine {
    pub asset_id: String,
    pub name: String,
    pub unit: String,
    pub funding: String,
    pub locked: bool,
    pub cost: Money,
    pub row: YearRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Register {
    pub fiscal_year: i32,
    pub lines: Vec<RegisterLine>,
    pub depreciation: Money,
    pub nbv: Money,
    pub locked_nbv: Money,
    pub unlocked_nbv: Money,
    /// depreciation and disposal gains of the year that the close takes (see [`close_adjustments`])
    pub adjustments: Adjustments,
}

/// The register at the end of fiscal year `fy` (assets held at some point in the year).
pub fn register(book: &Book, fy: i32) -> Result<Register, MoneyError> {
    let cur = book.config.currency;
    let mut lines = Vec::new();
    let (mut dep, mut nbv, mut locked) = (Money::zero(cur), Money::zero(cur), Money::zero(cur));
    for a in &book.assets {
        if let Some(row) = year_row(a, &book.config, fy)? {
            dep = dep.checked_add(&row.depreciation)?;
            nbv = nbv.checked_add(&row.closing_nbv)?;
            if a.locked {
                locked = locked.checked_add(&row.closing_nbv)?;
            }
            lines.push(RegisterLine {
                asset_id: a.id.clone(),
                name: a.name.clone(),
                unit: a.unit.clone(),
                funding: a.funding.to_string(),
                locked: a.locked,
                cost: a.cost,
                row,
            });
        }
    }
    lines.sort_by(|x, y| x.asset_id.cmp(&y.asset_id));
    Ok(Register {
        fiscal_year: fy,
        lines,
        depreciation: dep,
        nbv,
        locked_nbv: locked,
        unlocked_nbv: nbv.checked_sub(&locked)?,
        adjustments: adjustments(book, fy)?,
    })
}

/// What the register adds to a close: per unit, −depreciation + patronage gains/losses; and
/// non-patronage gains/losses for the whole co-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Adjustments {
    /// unit → depreciation of the year (≥ 0)
    pub depreciation: BTreeMap<String, Money>,
    /// unit → patronage gain (negative = loss) on disposals in the year
    pub patronage_gains: BTreeMap<String, Money>,
    /// non-patronage gain (negative = loss) on disposals in the year
    pub nonpatronage_gains: Option<Money>,
}

impl Adjustments {
    /// The change to a unit's patronage margin: gains − depreciation.
    pub fn unit_margin(&self, unit: &str, cur: Currency) -> Result<Money, MoneyError> {
        let z = Money::zero(cur);
        let d = self.depreciation.get(unit).copied().unwrap_or(z);
        let g = self.patronage_gains.get(unit).copied().unwrap_or(z);
        g.checked_sub(&d)
    }

    pub fn nonpatronage(&self, cur: Currency) -> Money {
        self.nonpatronage_gains.unwrap_or(Money::zero(cur))
    }

    pub fn is_empty(&self) -> bool {
        self.depreciation.values().all(Money::is_zero)
            && self.patronage_gains.values().all(Money::is_zero)
            && self.nonpatronage_gains.is_none_or(|g| g.is_zero())
    }
}

/// The depreciation and disposal gains of fiscal year `fy`, by unit (whatever `in_close` says).
pub fn adjustments(book: &Book, fy: i32) -> Result<Adjustments, MoneyError> {
    let cur = book.config.currency;
    let mut out = Adjustments::default();
    for a in &book.assets {
        let Some(row) = year_row(a, &book.config, fy)? else {
            continue;
        };
        let e = out
            .depreciation
            .entry(a.unit.clone())
            .or_insert(Money::zero(cur));
        *e = e.checked_add(&row.depreciation)?;
        if let Some(d) = &row.disposal {
            if d.patronage {
                let e = out
                    .patronage_gains
                    .entry(a.unit.clone())
                    .or_insert(Money::zero(cur));
                *e = e.checked_add(&d.gain)?;
            } else {
                let e = out.nonpatronage_gains.get_or_insert(Money::zero(cur));
                *e = e.checked_add(&d.gain)?;
            }
        }
    }
    Ok(out)
}

/// What the close of `fy` takes from the register: the adjustments when `[assets] in_close =
/// true`, nothing otherwise (results.csv margins are then already after depreciation).
pub fn close_adjustments(book: &Book, fy: i32) -> Result<Adjustments, MoneyError> {
    if book.config.assets.in_close {
        adjustments(book, fy)
    } else {
        Ok(Adjustments::default())
    }
}

/// A member's place in a dissolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DissolutionMember {
    pub member_id: String,
    /// withdrawable share capital (paid in) at par
    pub share_capital: Money,
    pub share_capital_paid: Money,
    /// the member's part of the unlocked residual (by capital-account balance)
    pub residual: Money,
    pub total: Money,
}

/// The dissolution waterfall (§9.3): creditors, then withdrawable share capital at par, then the
/// locked residual to the asset-locked body; members never receive the locked residual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dissolution {
    pub fiscal_year: i32,
    /// assets at book value (creditors + net worth) or as realised
    pub assets: Money,
    pub creditors: Money,
    pub creditors_paid: Money,
    pub share_capital: Money,
    pub share_capital_paid: Money,
    pub residual: Money,
    /// NBV of asset-locked assets at the year end
    pub locked_assets_nbv: Money,
    /// the residual that is locked: all of it for an asset-locked society, else up to the NBV of
    /// the locked assets
    pub locked_residual: Money,
    pub asset_locked_body: String,
    /// the unlocked residual, shared by members in proportion to their capital accounts
    pub members_residual: Money,
    pub members: Vec<DissolutionMember>,
}

/// Inputs of a dissolution preview that the book does not hold.
#[derive(Debug, Clone)]
pub struct DissolutionInput {
    /// what the co-op owes (all liabilities)
    pub creditors: Money,
    /// what the assets realise; `None` = book value (creditors + net worth)
    pub realised: Option<Money>,
}

/// Tranche kinds that are withdrawable share capital (paid in by the member), repaid at par.
pub const SHARE_CAPITAL_KINDS: &[&str] = &["membership_share", "capital", "in_kind", "ica_fee"];

/// An amount per member id.
pub type Balances = BTreeMap<String, Money>;

/// Each member's equity from the tranches of `state`: the whole balance and the share-capital part
/// ([`SHARE_CAPITAL_KINDS`]), by member id.
pub fn member_balances(
    state: &crate::engine::state::State,
    cur: crate::money::Currency,
) -> Result<(Balances, Balances), MoneyError> {
    let z = Money::zero(cur);
    let mut balance: BTreeMap<String, Money> = BTreeMap::new();
    let mut share: BTreeMap<String, Money> = BTreeMap::new();
    let add = |m: &mut BTreeMap<String, Money>, id: &str, a: &Money| -> Result<(), MoneyError> {
        let e = m.entry(id.to_string()).or_insert(z);
        *e = e.checked_add(a)?;
        Ok(())
    };
    for t in &state.tranches {
        let a = Money::from_decimal(t.amount, cur)?;
        add(&mut balance, &t.member_id, &a)?;
        if SHARE_CAPITAL_KINDS.contains(&t.kind.as_str()) {
            add(&mut share, &t.member_id, &a)?;
        }
    }
    Ok((balance, share))
}

/// A dissolution preview at the end of `fy`, from the per-member tranches after the close, the
/// unallocated reserve and other stock (the close's identity: net worth).
pub fn dissolution(
    book: &Book,
    fy: i32,
    state: &crate::engine::state::State,
    other_stock: Money,
    input: &DissolutionInput,
) -> Result<Dissolution, MoneyError> {
    use crate::money::{allocate, Weight};
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let (balance, share) = member_balances(state, cur)?;
    let reserve = Money::from_decimal(state.unallocated, cur)?;
    let member_equity = Money::sum(cur, balance.values())?;
    let net_worth = Money::sum(cur, &[member_equity, reserve, other_stock])?;
    let assets = match input.realised {
        Some(r) => r,
        None => input.creditors.checked_add(&net_worth)?,
    };
    let creditors_paid = input.creditors.min(assets).max(z);
    let after_creditors = assets.checked_sub(&creditors_paid)?.max(z);
    let share_total = Money::sum(
        cur,
        share.values().map(|m| if m.is_positive() { m } else { &z }),
    )?;
    let share_paid_total = share_total.min(after_creditors);
    // pro rata when the assets do not cover share capital at par
    let items: Vec<(&str, Weight)> = share
        .iter()
        .map(|(id, m)| {
            (
                id.as_str(),
                Weight::from_decimal(m.amount().max(rust_decimal::Decimal::ZERO))
                    .unwrap_or_else(|_| Weight::zero()),
            )
        })
        .collect();
    let share_paid: Vec<Money> = if share_paid_total.is_zero() || items.is_empty() {
        vec![z; items.len()]
    } else {
        allocate(share_paid_total, &items)?
    };
    let residual = after_creditors.checked_sub(&share_paid_total)?;
    let register = register(book, fy)?;
    let locked_residual = if book.config.assets.society_locked {
        residual
    } else {
        residual.min(register.locked_nbv)
    };
    let members_residual = residual.checked_sub(&locked_residual)?;
    // the unlocked residual by capital-account balance beyond share capital (≥ 0)
    let ritems: Vec<(&str, Weight)> = balance
        .iter()
        .map(|(id, b)| {
            let s = share.get(id).copied().unwrap_or(z);
            let extra = b.checked_sub(&s).unwrap_or(z).max(z);
            (
                id.as_str(),
                Weight::from_decimal(extra.amount()).unwrap_or_else(|_| Weight::zero()),
            )
        })
        .collect();
    let (locked_residual, members_residual, rshares) =
        if members_residual.is_zero() || ritems.iter().all(|(_, w)| w.is_zero()) {
            // nobody to share it with: it stays with the asset-locked body
            (residual, z, vec![z; ritems.len()])
        } else {
            (
                locked_residual,
                members_residual,
                allocate(members_residual, &ritems)?,
            )
        };
    let mut members = Vec::new();
    let rmap: BTreeMap<&str, Money> = ritems.iter().map(|(id, _)| *id).zip(rshares).collect();
    let smap: BTreeMap<&str, Money> = items.iter().map(|(id, _)| *id).zip(share_paid).collect();
    for id in balance.keys() {
        let sc = share.get(id).copied().unwrap_or(z).max(z);
        let sp = smap.get(id.as_str()).copied().unwrap_or(z);
        let r = rmap.get(id.as_str()).copied().unwrap_or(z);
        members.push(DissolutionMember {
            member_id: id.clone(),
            share_capital: sc,
            share_capital_paid: sp,
            residual: r,
            total: sp.checked_add(&r)?,
        });
    }
    Ok(Dissolution {
        fiscal_year: fy,
        assets,
        creditors: input.creditors,
        creditors_paid,
        share_capital: share_total,
        share_capital_paid: share_paid_total,
        residual,
        locked_assets_nbv: register.locked_nbv,
        locked_residual,
        asset_locked_body: book
            .config
            .assets
            .asset_locked_body
            .clone()
            .unwrap_or_else(|| "the asset-locked body named in the rules".into()),
        members_residual,
        members,
    })
}

/// The note a close carries when it takes the register's figures.
pub fn close_note(adj: &Adjustments, cur: Currency) -> String {
    let z = Money::zero(cur);
    let dep = Money::sum(cur, adj.depreciation.values()).unwrap_or(z);
    let gains = Money::sum(cur, adj.patronage_gains.values()).unwrap_or(z);
    format!(
        "assets.csv ([assets] in_close): depreciation of {dep} and patronage disposal gains of {gains} are in the unit margins; non-patronage disposal gains of {} are in non-patronage income",
        adj.nonpatronage(cur)
    )
}
