//! The community-wealth report: how much a co-op's members hold individually (capital accounts)
//! and in common (the collective reserve and the shared assets), how evenly the individual part is
//! spread (Gini, top-10% share, median vs mean), its trend over the book's fiscal years, and the
//! year's contributions, allocations and redemptions. [`report()`] builds it; [`doc()`] turns it into a
//! `Doc` (markdown, HTML with the Lorenz curve, text) and [`write()`] writes any format, JSON and
//! CSV from the typed report ([`to_json`], [`tidy_csv`]). See `docs/ASSETS.md`.
//!
//! Figures come from the sealed close of each year when there is one, otherwise from closes run
//! in memory (a dry run), chained from the book's opening state.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use anyhow::Context;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::book::Book;
use crate::engine::assets::{self, RegisterLine};
use crate::engine::close::Close;
use crate::engine::state::State;
use crate::engine::wealth::{gini, median_mean, pct, subscriptions_at, top10_share_pct};
use crate::ledger::{self, CloseRecord, YearClose};
use crate::money::Money;
use crate::render::Format;

mod contract;
mod doc;

pub use self::contract::{tidy_csv, to_json};
pub use self::doc::{doc, lorenz};

/// One member's individual stake at the year end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stake {
    pub member_id: String,
    pub name: String,
    /// the capital account: every outstanding tranche
    pub equity: Money,
    /// paid in by the member: membership shares, capital, fees and in-kind contributions, net of refunds
    pub paid_in: Money,
    /// membership shares and capital subscribed (subscriptions.csv) by the year end
    pub subscribed: Money,
    /// subscribed but not yet paid (never below zero)
    pub outstanding: Money,
}

/// One fiscal year of the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendYear {
    pub fiscal_year: i32,
    /// `sealed` or `dry-run`
    pub source: &'static str,
    pub member_equity: Money,
    pub collective_reserve: Money,
    pub shared_assets_nbv: Money,
    pub total: Money,
    pub common_share_pct: Decimal,
    pub gini: Decimal,
    /// paid in during the year (contributions less refunds)
    pub contributions: Money,
    /// patronage allocated to members (cash and retained)
    pub allocations: Money,
    /// equity paid out (refunds and redemptions recorded in the close)
    pub redemptions: Money,
}

/// The community-wealth report of one fiscal year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WealthReport {
    pub fiscal_year: i32,
    pub coop: String,
    pub currency: String,
    pub member_equity: Money,
    pub collective_reserve: Money,
    pub shared_assets_nbv: Money,
    pub locked_assets_nbv: Money,
    pub unlocked_assets_nbv: Money,
    pub total: Money,
    /// collective reserve + shared assets
    pub common: Money,
    pub common_share_pct: Decimal,
    /// Gini coefficient of the members' stakes (negative balances count as zero), 4 decimals
    pub gini: Decimal,
    pub top10_share_pct: Decimal,
    pub median: Money,
    pub mean: Money,
    /// membership shares and capital subscribed but not yet paid at the year end
    pub outstanding_subscriptions: Money,
    /// sorted by member id
    pub members: Vec<Stake>,
    pub trend: Vec<TrendYear>,
    /// the shared assets of the register at the year end
    pub assets: Vec<RegisterLine>,
    pub notes: Vec<String>,
}

/// What one closed year gives the report.
struct YearFigures {
    fiscal_year: i32,
    sealed: bool,
    reserve: Money,
    contributions: Money,
    allocations: Money,
    redemptions: Money,
    state: State,
}

fn from_close(c: &Close) -> anyhow::Result<YearFigures> {
    let cur = c.reserves.closing.currency();
    let contributions = Money::sum(cur, c.capital_accounts.iter().map(|a| &a.contributions))?;
    let redemptions = Money::sum(cur, c.capital_accounts.iter().map(|a| &a.redemptions))?;
    Ok(YearFigures {
        fiscal_year: c.fiscal_year,
        sealed: false,
        reserve: c.reserves.closing,
        contributions,
        allocations: c.totals.allocated.max(Money::zero(cur)),
        redemptions: redemptions.abs(),
        state: c.state_after.clone(),
    })
}

fn from_record(book: &Book, fy: i32, c: CloseRecord) -> anyhow::Result<YearFigures> {
    let cur = book.config.currency;
    let m = |d: Decimal| CloseRecord::money(d, cur);
    let mut contributions = Money::zero(cur);
    let mut redemptions = Money::zero(cur);
    for a in &c.capital_accounts {
        contributions = contributions.checked_add(&m(a.contributions)?)?;
        redemptions = redemptions.checked_add(&m(a.redemptions)?)?;
    }
    Ok(YearFigures {
        fiscal_year: fy,
        sealed: true,
        reserve: m(c.reserves.closing)?,
        contributions,
        allocations: m(c.totals.allocated)?.max(Money::zero(cur)),
        redemptions: redemptions.abs(),
        state: c.state,
    })
}

/// The figures of every fiscal year of the book up to `fy`, from the sealed close where sealed.
fn years(book: &Book, fy: i32) -> anyhow::Result<Vec<YearFigures>> {
    ledger::closes_through(book, fy)?
        .into_iter()
        .map(|(y, c)| match c {
            YearClose::Sealed(r) => from_record(book, y, *r),
            YearClose::Computed(c) => from_close(&c),
        })
        .collect()
}

fn stakes(book: &Book, fy: i32, state: &State) -> anyhow::Result<Vec<Stake>> {
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let (equity, paid) = assets::member_balances(state, cur)?;
    let end = book
        .config
        .fiscal_year_bounds(fy)
        .map(|(_, e)| e)
        .context("the fiscal year cannot be computed")?;
    let mut subscribed: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for s in subscriptions_at(book, end)? {
        let e = subscribed.entry(s.member_id.clone()).or_insert((z, z));
        e.0 = e.0.checked_add(&s.subscribed)?;
        e.1 = e.1.checked_add(&s.outstanding)?;
    }
    let mut ids: BTreeSet<String> = equity.keys().cloned().collect();
    ids.extend(subscribed.keys().cloned());
    ids.extend(
        book.members
            .iter()
            .filter(|m| m.member_on(end))
            .map(|m| m.id.clone()),
    );
    Ok(ids
        .into_iter()
        .map(|id| Stake {
            name: book.member(&id).map(|m| m.name.clone()).unwrap_or_default(),
            equity: equity.get(&id).copied().unwrap_or(z),
            paid_in: paid.get(&id).copied().unwrap_or(z),
            subscribed: subscribed.get(&id).map_or(z, |s| s.0),
            outstanding: subscribed.get(&id).map_or(z, |s| s.1),
            member_id: id,
        })
        .collect())
}

/// Builds the community-wealth report of fiscal year `fy`.
pub fn report(book: &Book, fy: i32) -> anyhow::Result<WealthReport> {
    let cur = book.config.currency;
    let figs = years(book, fy)?;
    let mut trend = Vec::new();
    let mut notes = Vec::new();
    let mut last = None;
    for f in &figs {
        let members = stakes(book, f.fiscal_year, &f.state)?;
        let member_equity = Money::sum(cur, members.iter().map(|m| &m.equity))?;
        let reg = assets::register(book, f.fiscal_year)?;
        let total = Money::sum(cur, &[member_equity, f.reserve, reg.nbv])?;
        let common = f.reserve.checked_add(&reg.nbv)?;
        let values: Vec<i128> = members.iter().map(|m| m.equity.to_minor()).collect();
        trend.push(TrendYear {
            fiscal_year: f.fiscal_year,
            source: if f.sealed { "sealed" } else { "dry-run" },
            member_equity,
            collective_reserve: f.reserve,
            shared_assets_nbv: reg.nbv,
            total,
            common_share_pct: pct(common, total),
            gini: gini(&values),
            contributions: f.contributions,
            allocations: f.allocations,
            redemptions: f.redemptions,
        });
        last = Some((members, reg, member_equity, total, common));
    }
    let (members, reg, member_equity, total, common) =
        last.context("the book has no fiscal year to report")?;
    let values: Vec<i128> = members.iter().map(|m| m.equity.to_minor()).collect();
    if values.iter().any(|v| *v < 0) {
        notes.push(
            "members with a negative capital account count as holding nothing in the Gini and top-10% share"
                .into(),
        );
    }
    if figs.iter().any(|f| !f.sealed) {
        notes.push("years that are not sealed are computed as dry-run closes".into());
    }
    let (median, mean) = median_mean(&values, cur)?;
    let outstanding_subscriptions = Money::sum(cur, members.iter().map(|m| &m.outstanding))?;
    let fig = figs.last().context("no year")?;
    let assets = reg.lines.clone();
    Ok(WealthReport {
        fiscal_year: fy,
        coop: book.config.name.clone(),
        currency: cur.code().to_string(),
        member_equity,
        collective_reserve: fig.reserve,
        shared_assets_nbv: reg.nbv,
        locked_assets_nbv: reg.locked_nbv,
        unlocked_assets_nbv: reg.unlocked_nbv,
        total,
        common,
        common_share_pct: pct(common, total),
        gini: gini(&values),
        top10_share_pct: top10_share_pct(&values),
        median,
        mean,
        outstanding_subscriptions,
        members,
        trend,
        assets,
        notes,
    })
}

/// Writes the report in `format`: JSON and CSV from the typed report, the rest from its [`doc()`].
pub fn write(r: &WealthReport, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => {
            let bytes = crate::render::json_bytes(&to_json(r))?;
            out.write_all(&bytes)
        }
        Format::Csv => tidy_csv(r, out),
        f => crate::render::render(&doc(r), f, out),
    }
}
