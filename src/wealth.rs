//! The community-wealth report: how much a co-op's members hold individually (capital accounts)
//! and in common (the collective reserve and the shared assets), how evenly the individual part is
//! spread (Gini, top-10% share, median vs mean), its trend over the book's fiscal years, and the
//! year's contributions, allocations and redemptions. [`report`] builds it; [`render`] writes it
//! as markdown, HTML (with an inline SVG Lorenz curve), CSV or JSON. See `docs/ASSETS.md`.
//!
//! Figures come from the sealed close of each year when there is one, otherwise from closes run
//! in memory (a dry run), chained from the book's opening state.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{bail, Context};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use crate::book::Book;
use crate::engine::assets::{self, SHARE_CAPITAL_KINDS};
use crate::engine::close::{close, Close};
use crate::engine::state::State;
use crate::engine::wealth::{gini, median_mean, pct, top10_share_pct};
use crate::money::{Currency, Money};
use crate::seal;

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

/// A subscription's state on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionStatus {
    pub member_id: String,
    pub kind: crate::book::ContributionKind,
    pub subscribed: Money,
    /// contributions of the same kind on or before the date
    pub paid: Money,
    pub outstanding: Money,
}

/// Every subscription made on or before `date`, with what was paid against it by then.
pub fn subscriptions_at(
    book: &Book,
    date: chrono::NaiveDate,
) -> anyhow::Result<Vec<SubscriptionStatus>> {
    let cur = book.config.currency;
    let mut out = Vec::new();
    for s in book.subscriptions.iter().filter(|s| s.date <= date) {
        let paid = Money::sum(
            cur,
            book.contributions
                .iter()
                .filter(|c| c.member_id == s.member_id && c.kind == s.kind && c.date <= date)
                .map(|c| &c.amount),
        )?;
        out.push(SubscriptionStatus {
            member_id: s.member_id.clone(),
            kind: s.kind,
            subscribed: s.amount,
            paid,
            outstanding: s.amount.checked_sub(&paid)?.max(Money::zero(cur)),
        });
    }
    out.sort_by(|a, b| (&a.member_id, a.kind).cmp(&(&b.member_id, b.kind)));
    Ok(out)
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

/// One shared asset at the year end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetLine {
    pub asset_id: String,
    pub name: String,
    pub unit: String,
    pub funding: String,
    pub locked: bool,
    pub cost: Money,
    pub depreciation: Money,
    pub nbv: Money,
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
    pub assets: Vec<AssetLine>,
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

fn money_at(v: &Value, path: &[&str], cur: Currency) -> anyhow::Result<Money> {
    let mut x = v;
    for p in path {
        x = x
            .get(p)
            .with_context(|| format!("close.json has no `{}`", path.join(".")))?;
    }
    let s = x
        .as_str()
        .with_context(|| format!("`{}` in close.json is not a string", path.join(".")))?;
    Ok(Money::parse(s, cur)?)
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

fn from_sealed(book: &Book, fy: i32) -> anyhow::Result<YearFigures> {
    let cur = book.config.currency;
    let p = seal::closes_dir(book)
        .join(fy.to_string())
        .join(seal::CLOSE_JSON);
    let (_, bytes) = seal::read_sealed_file(&book.dir, fy, seal::CLOSE_JSON)?;
    let v: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("`{}` is not a sealed close", p.display()))?;
    let state: State = serde_json::from_value(v.get("state").cloned().unwrap_or(Value::Null))
        .with_context(|| format!("`{}` has no state", p.display()))?;
    let mut contributions = Money::zero(cur);
    let mut redemptions = Money::zero(cur);
    for a in v
        .get("capital_accounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        contributions = contributions.checked_add(&money_at(a, &["contributions"], cur)?)?;
        redemptions = redemptions.checked_add(&money_at(a, &["redemptions"], cur)?)?;
    }
    Ok(YearFigures {
        fiscal_year: fy,
        sealed: true,
        reserve: money_at(&v, &["reserves", "closing"], cur)?,
        contributions,
        allocations: money_at(&v, &["totals", "allocated"], cur)?.max(Money::zero(cur)),
        redemptions: redemptions.abs(),
        state,
    })
}

/// The closes of every fiscal year of the book up to `fy`, sealed where sealed.
fn years(book: &Book, fy: i32) -> anyhow::Result<Vec<YearFigures>> {
    let years: Vec<i32> = book
        .result_years()
        .into_iter()
        .filter(|y| *y <= fy)
        .collect();
    if !years.contains(&fy) {
        bail!("fiscal year {fy} has no lines in results.csv");
    }
    let sealed = seal::sealed_years(&book.dir);
    let mut activity = None;
    let mut state: Option<State> = None;
    let mut out = Vec::new();
    for y in years {
        let f = if sealed.contains(&y) {
            from_sealed(book, y)?
        } else {
            if activity.is_none() {
                let (a, d) = crate::activity(book);
                if d.has_errors() {
                    bail!("the patronage ledger has problems; run `coopledger check`");
                }
                activity = Some(a);
            }
            let prior = match &state {
                Some(s) => s.clone(),
                None => seal::prior_state(book, y)?,
            };
            let act = activity
                .as_ref()
                .context("the patronage activity was not read")?;
            from_close(&close(book, y, act, &prior)?)?
        };
        state = Some(f.state.clone());
        out.push(f);
    }
    Ok(out)
}

/// The state after closing `fy` (the sealed close, else closes run in memory up to it).
pub fn state_after(book: &Book, fy: i32) -> anyhow::Result<State> {
    years(book, fy)?
        .pop()
        .map(|f| f.state)
        .context("the book has no fiscal year to close")
}

fn stakes(book: &Book, fy: i32, state: &State) -> anyhow::Result<Vec<Stake>> {
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let mut equity: BTreeMap<String, Money> = BTreeMap::new();
    let mut paid: BTreeMap<String, Money> = BTreeMap::new();
    for t in &state.tranches {
        let a = Money::from_decimal(t.amount, cur)?;
        let e = equity.entry(t.member_id.clone()).or_insert(z);
        *e = e.checked_add(&a)?;
        if SHARE_CAPITAL_KINDS.contains(&t.kind.as_str()) {
            let p = paid.entry(t.member_id.clone()).or_insert(z);
            *p = p.checked_add(&a)?;
        }
    }
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
    let assets = reg
        .lines
        .iter()
        .map(|l| AssetLine {
            asset_id: l.asset_id.clone(),
            name: l.name.clone(),
            unit: l.unit.clone(),
            funding: l.funding.clone(),
            locked: l.locked,
            cost: l.cost,
            depreciation: l.row.depreciation,
            nbv: l.row.closing_nbv,
        })
        .collect();
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

/// Output formats: the same as every other report.
pub use crate::render::Format;

/// Writes the report in `format`.
pub fn render(r: &WealthReport, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(r))?;
            s.push('\n');
            out.write_all(s.as_bytes())?;
        }
        Format::Csv => write_csv(r, out)?,
        Format::Md | Format::Text => write_md(r, out)?,
        Format::Html => write_html(r, out)?,
    }
    Ok(())
}

/// The JSON contract: money and percentages as strings.
pub fn to_json(r: &WealthReport) -> Value {
    let s = |m: &Money| Value::String(m.to_string());
    let d = |x: &Decimal| Value::String(x.to_string());
    json!({
        "fiscal_year": r.fiscal_year,
        "currency": r.currency,
        "member_equity": s(&r.member_equity),
        "collective_reserve": s(&r.collective_reserve),
        "shared_assets_nbv": s(&r.shared_assets_nbv),
        "locked_assets_nbv": s(&r.locked_assets_nbv),
        "total": s(&r.total),
        "common_share_pct": d(&r.common_share_pct),
        "gini": d(&r.gini),
        "top10_share_pct": d(&r.top10_share_pct),
        "members": r.members.iter().map(|m| json!({
            "member_id": m.member_id,
            "equity": s(&m.equity),
            "paid_in": s(&m.paid_in),
            "subscribed": s(&m.subscribed),
            "outstanding": s(&m.outstanding),
        })).collect::<Vec<_>>(),
        "coop": r.coop,
        "unlocked_assets_nbv": s(&r.unlocked_assets_nbv),
        "common": s(&r.common),
        "median": s(&r.median),
        "mean": s(&r.mean),
        "outstanding_subscriptions": s(&r.outstanding_subscriptions),
        "trend": r.trend.iter().map(|t| json!({
            "fiscal_year": t.fiscal_year,
            "source": t.source,
            "member_equity": s(&t.member_equity),
            "collective_reserve": s(&t.collective_reserve),
            "shared_assets_nbv": s(&t.shared_assets_nbv),
            "total": s(&t.total),
            "common_share_pct": d(&t.common_share_pct),
            "gini": d(&t.gini),
            "contributions": s(&t.contributions),
            "allocations": s(&t.allocations),
            "redemptions": s(&t.redemptions),
        })).collect::<Vec<_>>(),
        "assets": r.assets.iter().map(|a| json!({
            "asset_id": a.asset_id,
            "name": a.name,
            "unit": a.unit,
            "funding": a.funding,
            "locked": a.locked,
            "cost": s(&a.cost),
            "depreciation": s(&a.depreciation),
            "nbv": s(&a.nbv),
        })).collect::<Vec<_>>(),
        "notes": r.notes,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Long ("tidy") CSV: `section,fiscal_year,id,measure,value`.
fn write_csv(r: &WealthReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let fy = r.fiscal_year.to_string();
    let mut put = |sec: &str, y: &str, id: &str, k: &str, v: String| {
        rows.push([sec.into(), y.into(), id.into(), k.into(), v]);
    };
    for (k, v) in [
        ("member_equity", r.member_equity.to_string()),
        ("collective_reserve", r.collective_reserve.to_string()),
        ("shared_assets_nbv", r.shared_assets_nbv.to_string()),
        ("locked_assets_nbv", r.locked_assets_nbv.to_string()),
        ("unlocked_assets_nbv", r.unlocked_assets_nbv.to_string()),
        ("total", r.total.to_string()),
        ("common", r.common.to_string()),
        ("common_share_pct", r.common_share_pct.to_string()),
        ("gini", r.gini.to_string()),
        ("top10_share_pct", r.top10_share_pct.to_string()),
        ("median", r.median.to_string()),
        ("mean", r.mean.to_string()),
        (
            "outstanding_subscriptions",
            r.outstanding_subscriptions.to_string(),
        ),
    ] {
        put("summary", &fy, "", k, v);
    }
    for m in &r.members {
        put("member", &fy, &m.member_id, "equity", m.equity.to_string());
        put(
            "member",
            &fy,
            &m.member_id,
            "paid_in",
            m.paid_in.to_string(),
        );
        put(
            "member",
            &fy,
            &m.member_id,
            "subscribed",
            m.subscribed.to_string(),
        );
        put(
            "member",
            &fy,
            &m.member_id,
            "outstanding",
            m.outstanding.to_string(),
        );
    }
    for t in &r.trend {
        let y = t.fiscal_year.to_string();
        for (k, v) in [
            ("member_equity", t.member_equity.to_string()),
            ("collective_reserve", t.collective_reserve.to_string()),
            ("shared_assets_nbv", t.shared_assets_nbv.to_string()),
            ("total", t.total.to_string()),
            ("common_share_pct", t.common_share_pct.to_string()),
            ("gini", t.gini.to_string()),
            ("contributions", t.contributions.to_string()),
            ("allocations", t.allocations.to_string()),
            ("redemptions", t.redemptions.to_string()),
        ] {
            put("trend", &y, "", k, v);
        }
    }
    for a in &r.assets {
        put("asset", &fy, &a.asset_id, "cost", a.cost.to_string());
        put(
            "asset",
            &fy,
            &a.asset_id,
            "depreciation",
            a.depreciation.to_string(),
        );
        put("asset", &fy, &a.asset_id, "nbv", a.nbv.to_string());
    }
    writeln!(out, "section,fiscal_year,id,measure,value")?;
    for r in rows {
        let line: Vec<String> = r.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '|' | '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn write_md(r: &WealthReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &r.currency;
    writeln!(
        out,
        "# Community wealth: {} — fiscal year {}\n",
        md_escape(&r.coop),
        r.fiscal_year
    )?;
    writeln!(out, "| | {c} |\n|---|---:|")?;
    for (k, v) in [
        ("Members' capital accounts", r.member_equity.grouped()),
        ("Collective reserve", r.collective_reserve.grouped()),
        ("Shared assets, locked (NBV)", r.locked_assets_nbv.grouped()),
        (
            "Shared assets, unlocked (NBV)",
            r.unlocked_assets_nbv.grouped(),
        ),
        (
            "**Total community wealth**",
            format!("**{}**", r.total.grouped()),
        ),
        ("Held in common", r.common.grouped()),
    ] {
        writeln!(out, "| {k} | {v} |")?;
    }
    writeln!(
        out,
        "\nHeld in common: **{}%**; held individually: {}%.\n",
        r.common_share_pct,
        Decimal::ONE_HUNDRED - r.common_share_pct
    )?;
    writeln!(out, "## Individual stakes\n")?;
    writeln!(
        out,
        "{} members; Gini {}; top 10% hold {}%; median {} vs mean {}.\n",
        r.members.len(),
        r.gini,
        r.top10_share_pct,
        r.median.grouped(),
        r.mean.grouped()
    )?;
    writeln!(
        out,
        "| Member | Name | Capital account | Paid in | Subscribed, unpaid |\n|---|---|---:|---:|---:|"
    )?;
    for m in &r.members {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md_escape(&m.member_id),
            md_escape(&m.name),
            m.equity.grouped(),
            m.paid_in.grouped(),
            m.outstanding.grouped()
        )?;
    }
    writeln!(
        out,
        "\nSubscriptions not yet paid: {}.",
        r.outstanding_subscriptions.grouped()
    )?;
    writeln!(out, "\n## Trend\n")?;
    writeln!(out, "| Year | Source | Members | Reserve | Shared assets | Total | Common % | Gini | Contributions | Allocations | Redemptions |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for t in &r.trend {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.fiscal_year,
            t.source,
            t.member_equity.grouped(),
            t.collective_reserve.grouped(),
            t.shared_assets_nbv.grouped(),
            t.total.grouped(),
            t.common_share_pct,
            t.gini,
            t.contributions.grouped(),
            t.allocations.grouped(),
            t.redemptions.grouped()
        )?;
    }
    if !r.assets.is_empty() {
        writeln!(out, "\n## Shared assets\n")?;
        writeln!(out, "| Asset | Name | Unit | Funding | Locked | Cost | Depreciation {} | NBV |\n|---|---|---|---|---|---:|---:|---:|", r.fiscal_year)?;
        for a in &r.assets {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md_escape(&a.asset_id),
                md_escape(&a.name),
                md_escape(&a.unit),
                a.funding,
                if a.locked { "yes" } else { "no" },
                a.cost.grouped(),
                a.depreciation.grouped(),
                a.nbv.grouped()
            )?;
        }
    }
    for n in &r.notes {
        writeln!(out, "\n_Note: {}_", md_escape(n))?;
    }
    Ok(())
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Chart geometry only (never money): a fraction as f64.
fn frac(part: i128, whole: i128) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The Lorenz curve of the stakes as an inline SVG (with the line of equality).
pub fn lorenz_svg(values: &[i128]) -> String {
    let mut x: Vec<i128> = values.iter().map(|v| (*v).max(0)).collect();
    x.sort_unstable();
    // chart geometry only: the stakes as floats (their exact sums never leave this function)
    let s: f64 = x.iter().map(|v| *v as f64).sum();
    let n = x.len();
    let (w, h, pad) = (320.0_f64, 320.0_f64, 30.0_f64);
    let px = |fx: f64| pad + fx * (w - 2.0 * pad);
    let py = |fy: f64| h - pad - fy * (h - 2.0 * pad);
    let mut pts = vec![format!("{:.1},{:.1}", px(0.0), py(0.0))];
    let mut cum = 0f64;
    for (i, v) in x.iter().enumerate() {
        cum += *v as f64;
        pts.push(format!(
            "{:.1},{:.1}",
            px(frac(i as i128 + 1, n as i128)),
            py(if s > 0.0 { cum / s } else { 0.0 })
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"Lorenz curve of members' stakes\">\
<rect x=\"{pad:.0}\" y=\"{pad:.0}\" width=\"{iw:.0}\" height=\"{iw:.0}\" fill=\"none\" stroke=\"#999\"/>\
<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\
<polyline points=\"{p}\" fill=\"none\" stroke=\"#2a6f4e\" stroke-width=\"2\"/>\
<text x=\"{tx:.0}\" y=\"{ty:.0}\" font-size=\"11\" text-anchor=\"middle\">share of members →</text>\
<text x=\"12\" y=\"{my:.0}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 {my:.0})\">share of equity →</text></svg>",
        iw = w - 2.0 * pad,
        x0 = px(0.0),
        y0 = py(0.0),
        x1 = px(1.0),
        y1 = py(1.0),
        p = pts.join(" "),
        tx = w / 2.0,
        ty = h - 8.0,
        my = h / 2.0,
    )
}

/// Stacked bars per year: members' accounts, reserve and shared assets.
fn trend_svg(r: &WealthReport) -> String {
    let max = r
        .trend
        .iter()
        .map(|t| {
            t.member_equity.to_minor().max(0)
                + t.collective_reserve.to_minor().max(0)
                + t.shared_assets_nbv.to_minor().max(0)
        })
        .max()
        .unwrap_or(0);
    let (bw, gap, h, top) = (48.0_f64, 24.0_f64, 200.0_f64, 10.0_f64);
    let w = 40.0 + (bw + gap) * r.trend.len() as f64;
    let mut o = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{:.0}\" role=\"img\" aria-label=\"Community wealth by year\">", h + 30.0);
    for (i, t) in r.trend.iter().enumerate() {
        let x = 30.0 + (bw + gap) * i as f64;
        let mut y = h;
        for (v, color) in [
            (t.member_equity.to_minor(), "#4c78a8"),
            (t.collective_reserve.to_minor(), "#f58518"),
            (t.shared_assets_nbv.to_minor(), "#54a24b"),
        ] {
            let bh = frac(v.max(0), max) * (h - top);
            y -= bh;
            o.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.0}\" height=\"{bh:.1}\" fill=\"{color}\"/>"
            ));
        }
        o.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x + bw / 2.0,
            h + 16.0,
            t.fiscal_year
        ));
    }
    o.push_str("</svg>");
    o
}

fn write_html(r: &WealthReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let title = format!(
        "Community wealth: {} — fiscal year {}",
        esc(&r.coop),
        r.fiscal_year
    );
    let values: Vec<i128> = r.members.iter().map(|m| m.equity.to_minor()).collect();
    let mut h = String::new();
    h.push_str(&format!("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}table{{border-collapse:collapse;margin:1rem 0}}td,th{{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}}td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}.key span{{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"));
    h.push_str(&format!(
        "<table>\n<tr><th></th><th class=\"n\">{}</th></tr>\n",
        esc(&r.currency)
    ));
    for (k, v) in [
        ("Members' capital accounts", &r.member_equity),
        ("Collective reserve", &r.collective_reserve),
        ("Shared assets, locked (NBV)", &r.locked_assets_nbv),
        ("Shared assets, unlocked (NBV)", &r.unlocked_assets_nbv),
        ("Total community wealth", &r.total),
        ("Held in common", &r.common),
    ] {
        h.push_str(&format!(
            "<tr><td>{k}</td><td class=\"n\">{}</td></tr>\n",
            esc(&v.grouped())
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<p>Held in common: <strong>{}%</strong>; held individually: {}%.</p>\n",
        r.common_share_pct,
        Decimal::ONE_HUNDRED - r.common_share_pct
    ));
    h.push_str("<h2>Trend</h2>\n<p class=\"key\"><span style=\"background:#4c78a8\"></span>members' accounts<span style=\"background:#f58518\"></span>collective reserve<span style=\"background:#54a24b\"></span>shared assets</p>\n");
    h.push_str(&trend_svg(r));
    h.push_str("\n<table>\n<tr><th>Year</th><th>Source</th><th class=\"n\">Members</th><th class=\"n\">Reserve</th><th class=\"n\">Shared assets</th><th class=\"n\">Total</th><th class=\"n\">Common %</th><th class=\"n\">Gini</th><th class=\"n\">Contributions</th><th class=\"n\">Allocations</th><th class=\"n\">Redemptions</th></tr>\n");
    for t in &r.trend {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            t.fiscal_year,
            t.source,
            t.member_equity.grouped(),
            t.collective_reserve.grouped(),
            t.shared_assets_nbv.grouped(),
            t.total.grouped(),
            t.common_share_pct,
            t.gini,
            t.contributions.grouped(),
            t.allocations.grouped(),
            t.redemptions.grouped()
        ));
    }
    h.push_str("</table>\n<h2>Individual stakes</h2>\n");
    h.push_str(&format!(
        "<p>{} members; Gini <strong>{}</strong>; the top 10% hold {}%; median {} vs mean {}.</p>\n",
        r.members.len(),
        r.gini,
        r.top10_share_pct,
        esc(&r.median.grouped()),
        esc(&r.mean.grouped())
    ));
    h.push_str(&lorenz_svg(&values));
    h.push_str("\n<table>\n<tr><th>Member</th><th>Name</th><th class=\"n\">Capital account</th><th class=\"n\">Paid in</th><th class=\"n\">Subscribed, unpaid</th></tr>\n");
    for m in &r.members {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&m.member_id),
            esc(&m.name),
            m.equity.grouped(),
            m.paid_in.grouped(),
            m.outstanding.grouped()
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<p>Subscriptions not yet paid: {}.</p>\n",
        esc(&r.outstanding_subscriptions.grouped())
    ));
    if !r.assets.is_empty() {
        h.push_str(&format!("<h2>Shared assets</h2>\n<table>\n<tr><th>Asset</th><th>Name</th><th>Unit</th><th>Funding</th><th>Locked</th><th class=\"n\">Cost</th><th class=\"n\">Depreciation {}</th><th class=\"n\">NBV</th></tr>\n", r.fiscal_year));
        for a in &r.assets {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                esc(&a.asset_id),
                esc(&a.name),
                esc(&a.unit),
                esc(&a.funding),
                if a.locked { "yes" } else { "no" },
                a.cost.grouped(),
                a.depreciation.grouped(),
                a.nbv.grouped()
            ));
        }
        h.push_str("</table>\n");
    }
    for n in &r.notes {
        h.push_str(&format!("<p><em>Note: {}</em></p>\n", esc(n)));
    }
    h.push_str("</body>\n</html>\n");
    out.write_all(h.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lorenz_curve_of_stakes_near_the_top_of_the_money_range() {
        let big = 79_228_162_514_264_337_593_543_950_i128;
        assert!(lorenz_svg(&vec![big; 100_000]).contains("<svg"));
    }
}
