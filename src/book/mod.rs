//! A co-op's books: a directory with `coop.toml` and CSV files (schema v1, see `docs/FORMATS.md`).
//!
//! [`load`] reads every file, collects every problem, and returns a [`Book`] that is valid by
//! construction. The patronage ledger can be huge, so it is not held in memory: it is aggregated
//! per (fiscal year, member, unit, measure) by [`patronage::activity`] (the parallel scan or polars) or by
//! the plain-Rust fold [`patronage::fold`], which is also the validator that locates bad rows.

pub mod config;
pub mod csvin;
pub mod gen;
mod members;
pub mod patronage;
pub mod receivables;
pub mod uncashed;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::diag::code;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::money::Money;
pub use config::Config;
use csvin::{opt, req, Col};
pub use members::bad_member_id;
use members::{joint_memberships, load_members};

pub const MEMBERS: &str = "members.csv";
pub const CONTRIBUTIONS: &str = "contributions.csv";
pub const PATRONAGE: &str = "patronage.csv";
pub const RESULTS: &str = "results.csv";
pub const EQUITY: &str = "equity.csv";
pub const ASSETS: &str = "assets.csv";
pub const SUBSCRIPTIONS: &str = "subscriptions.csv";
pub const RECEIVABLES: &str = "receivables.csv";
pub const UNCASHED: &str = "uncashed.csv";

/// Contribution kinds in contributions.csv.
pub const CONTRIBUTION_KINDS: &[&str] =
    &["membership_share", "capital", "fee", "in_kind", "refund"];

/// A member's promise to pay membership shares or capital, e.g. a buy-in paid by payroll
/// deduction (`subscriptions.csv`). Payments are the contributions.csv rows of the same kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub date: NaiveDate,
    pub member_id: String,
    /// `membership_share` or `capital`
    pub kind: ContributionKind,
    pub amount: Money,
    /// number of installments agreed (informational)
    pub installments: Option<u32>,
    pub note: String,
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Left,
    Deceased,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub class: String,
    pub joined: NaiveDate,
    /// the day membership ended (for a deceased member, the date of death)
    pub left: Option<NaiveDate>,
    pub status: Status,
    pub birth_date: Option<NaiveDate>,
    pub line: u64,
}

impl Member {
    /// Was this person a member on `date`?
    pub fn member_on(&self, date: NaiveDate) -> bool {
        date >= self.joined && self.left.is_none_or(|l| date <= l)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributionKind {
    MembershipShare,
    Capital,
    Fee,
    InKind,
    /// membership shares or capital paid back to a member on leaving (written positive; it
    /// reduces the member's capital account)
    Refund,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub date: NaiveDate,
    pub member_id: String,
    pub kind: ContributionKind,
    pub amount: Money,
    pub note: String,
    pub line: u64,
}

/// Lines of `results.csv`.
pub const RESULT_LINES: &[&str] = &[
    "patronage_margin",
    "nonpatronage_income",
    "stock_dividends",
    "income_tax",
    "capital_interest",
    "net_worth",
    "other_stock",
    "opening_reserve",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    pub fiscal_year: i32,
    /// `None` = the whole co-op
    pub unit: Option<String>,
    pub line: &'static str,
    pub amount: Money,
    pub src_line: u64,
}

pub const EQUITY_KINDS: &[&str] = &[
    "qualified",
    "nonqualified",
    "membership_share",
    "ica",
    "ica_fee",
];

/// Equity outstanding from before the co-op adopted coopledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityRow {
    pub member_id: String,
    pub allocation_year: i32,
    pub kind: &'static str,
    pub amount: Money,
    pub line: u64,
}

pub const ASSET_METHODS: &[&str] = &["straight_line", "none"];
pub const ASSET_FUNDING: &[&str] = &["member_equity", "grant", "debt", "in_kind", "reserve"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub acquired: NaiveDate,
    pub in_service: NaiveDate,
    pub cost: Money,
    pub salvage: Money,
    pub life_years: Option<u32>,
    pub method: &'static str,
    pub funding: &'static str,
    pub locked: bool,
    pub disposed: Option<NaiveDate>,
    pub proceeds: Option<Money>,
    /// column `use`: `patronage` (default: used in the unit's business with members) or
    /// `nonpatronage` (held for investment or rented to the public); classifies a disposal gain
    pub patronage: bool,
    pub line: u64,
}

/// A loaded, valid book.
#[derive(Debug, Clone)]
pub struct Book {
    pub dir: PathBuf,
    pub config: Config,
    /// sorted by id
    pub members: Vec<Member>,
    pub contributions: Vec<Contribution>,
    pub results: Vec<ResultLine>,
    pub equity: Vec<EquityRow>,
    pub assets: Vec<Asset>,
    pub subscriptions: Vec<Subscription>,
    /// amounts members owe the co-op and their repayments (`receivables.csv`), by date
    pub receivables: Vec<receivables::Receivable>,
    /// payments that were issued but not cashed (`uncashed.csv`)
    pub uncashed: Vec<uncashed::Uncashed>,
    /// joint memberships (`joint_with` in members.csv): each member id to its partner, both ways
    pub joint: BTreeMap<String, String>,
    /// ids of members.csv rows that had errors (only in a partial book, see [`check`])
    pub broken_member_ids: BTreeSet<String>,
}

impl Book {
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members
            .binary_search_by(|m| m.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.members[i])
    }

    pub fn patronage_path(&self) -> PathBuf {
        self.dir.join(PATRONAGE)
    }

    /// Fiscal years that have results lines, ascending.
    pub fn result_years(&self) -> Vec<i32> {
        let set: BTreeSet<i32> = self.results.iter().map(|r| r.fiscal_year).collect();
        set.into_iter().collect()
    }

    /// The path as shown in diagnostics and reports.
    pub fn display(&self, file: &str) -> String {
        display_path(&self.dir, file)
    }

    /// The joint member of `id` (`joint_with` in members.csv), if any.
    pub fn joint_with(&self, id: &str) -> Option<&Member> {
        self.joint.get(id).and_then(|p| self.member(p))
    }
}

pub fn display_path(dir: &Path, file: &str) -> String {
    dir.join(file).display().to_string()
}

/// Reads every small file; the book is returned whenever coop.toml is usable, with the rows that
/// passed validation (a partial book when there are errors). Callers that add cross-checks of
/// their own (the ledger checks `uncashed.csv` against the sealed records) start from here.
pub fn load_partial(dir: &Path) -> (Option<Book>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let cfg_file = display_path(dir, config::CONFIG_FILE);
    let config = match csvin::read_file(&dir.join(config::CONFIG_FILE), &cfg_file, &mut diags) {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(text) => match config::parse(&text, &cfg_file) {
                Ok(c) => Some(c),
                Err(d) => {
                    diags.extend(d);
                    None
                }
            },
            Err(_) => {
                diags.push(
                    Diagnostic::error(code::E0003, &cfg_file, 0, 0)
                        .msg("coop.toml holds bytes that are not UTF-8")
                        .hint("save the file as UTF-8"),
                );
                None
            }
        },
        None => None,
    };
    let Some(config) = config else {
        return (None, diags);
    };
    let (members, broken_member_ids, links) = load_members(dir, &config, &mut diags);
    let ids: BTreeMap<&str, &Member> = members.iter().map(|m| (m.id.as_str(), m)).collect();
    let joint = joint_memberships(
        &display_path(dir, MEMBERS),
        &links,
        &ids,
        &broken_member_ids,
        &mut diags,
    );
    let receivables = receivables::load(dir, &config, &ids, &mut diags);
    let uncashed = uncashed::load(dir, &config, &ids, &mut diags);
    let contributions = load_contributions(dir, &config, &ids, &mut diags);
    let results = load_results(dir, &config, &mut diags);
    let equity = load_equity(dir, &config, &ids, &mut diags);
    let assets = load_assets(dir, &config, &mut diags);
    let subscriptions = load_subscriptions(dir, &config, &ids, &contributions, &mut diags);
    if !dir.join(PATRONAGE).exists() {
        diags.push(
            Diagnostic::error(code::E0405, &display_path(dir, PATRONAGE), 0, 0)
                .msg("the book has no patronage.csv")
                .hint("add patronage.csv with the header date,member_id,unit,measure,amount"),
        );
    }
    let mut members = members;
    members.sort_by(|a, b| a.id.cmp(&b.id));
    let book = Book {
        dir: dir.to_path_buf(),
        config,
        members,
        contributions,
        results,
        equity,
        assets,
        subscriptions,
        receivables,
        uncashed,
        joint,
        broken_member_ids,
    };
    (Some(book), diags)
}

/// Loads and validates the small files of the book at `dir` (everything but the patronage rows,
/// which [`check`] validates). Returns the book when there is no error, and every problem found.
pub fn load(dir: &Path) -> (Option<Book>, Diagnostics) {
    let (book, diags) = load_partial(dir);
    if diags.has_errors() {
        return (None, diags);
    }
    (book, diags)
}

/// Loads the book and validates every patronage row too (what `coopledger check` runs). The
/// patronage rows are checked even when other files have problems, so one run reports all.
pub fn check(dir: &Path) -> (Option<Book>, Diagnostics) {
    let (book, mut diags) = load_partial(dir);
    if let Some(b) = &book {
        check_patronage_rows(b, &mut diags);
    }
    if diags.has_errors() {
        return (None, diags);
    }
    (book, diags)
}

/// Validates every patronage row of a (possibly partial) book, adding the problems to `diags`.
pub fn check_patronage_rows(b: &Book, diags: &mut Diagnostics) {
    // the fast aggregation vouches for a clean ledger; the fold locates any problem
    match patronage::fast_activity(b) {
        Ok(r) if r.problem_rows == 0 => diags.extend(patronage::oversized_totals(b, &r.activity)),
        _ if b.dir.join(PATRONAGE).exists() => {
            let (a, d) = patronage::fold(b);
            diags.extend(d);
            diags.extend(patronage::oversized_totals(b, &a));
        }
        _ => {}
    }
}

fn open_table(
    dir: &Path,
    name: &str,
    schema: &[Col],
    required: bool,
    diags: &mut Diagnostics,
) -> Option<(String, csvin::Table<std::io::BufReader<std::fs::File>>)> {
    let path = dir.join(name);
    let file = display_path(dir, name);
    if !path.exists() {
        if required {
            diags.push(
                Diagnostic::error(code::E0405, &file, 0, 0)
                    .msg(format!("the book has no {name}"))
                    .hint(format!(
                        "add {name} with the header {}",
                        schema.iter().map(|c| c.name).collect::<Vec<_>>().join(",")
                    )),
            );
        }
        return None;
    }
    let f = csvin::open_file(&path, &file, "check that the file is readable", diags)?;
    let t = csvin::open(std::io::BufReader::new(f), &file, schema, diags)?;
    Some((file, t))
}

const CONTRIBUTION_COLS: &[Col] = &[
    req("date"),
    req("member_id"),
    req("kind"),
    req("amount"),
    opt("note"),
];

fn member_ref(
    row: &csvin::Row<'_>,
    s: usize,
    id: &str,
    ids: &BTreeMap<&str, &Member>,
    d: &mut Diagnostics,
) -> bool {
    if ids.contains_key(id) {
        true
    } else {
        d.push(row.problem(
            s,
            code::E0302,
            format!("unknown member `{id}`"),
            format!("add `{id}` to members.csv or correct the id"),
        ));
        false
    }
}

fn outside_membership(
    row: &csvin::Row<'_>,
    s: usize,
    m: &Member,
    date: NaiveDate,
    config: &Config,
    d: &mut Diagnostics,
) {
    if !m.member_on(date) {
        let msg = format!(
            "{date} is outside the membership of `{}` ({} to {})",
            m.id,
            m.joined,
            m.left
                .map(|l| l.to_string())
                .unwrap_or_else(|| "now".into())
        );
        let hint = "check the date or the member's joined/left dates; set [policy] activity_outside_membership = \"warning\" to accept it (it will not count as patronage)".to_string();
        let mut diag = row.problem(s, code::E0305, msg, hint);
        if config.policy.activity_outside_membership == config::Strictness::Warning {
            diag.severity = Severity::Warning;
        }
        d.push(diag);
    }
}

fn load_contributions(
    dir: &Path,
    config: &Config,
    ids: &BTreeMap<&str, &Member>,
    diags: &mut Diagnostics,
) -> Vec<Contribution> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, CONTRIBUTIONS, CONTRIBUTION_COLS, false, diags) else {
        return out;
    };
    // refunds are checked against the shares paid once every row is read
    let mut refunds: Vec<(NaiveDate, u64, Diagnostic)> = Vec::new();
    t.for_each(CONTRIBUTION_COLS, diags, |row, d| {
        let date = row.date(0, d);
        let id = row.required(1, d);
        let kind = row.choice(2, CONTRIBUTION_KINDS, d);
        let amount = row.money(3, config.currency, false, d);
        let note = row.text(4, d).unwrap_or("").to_string();
        let known = id.is_some_and(|id| member_ref(row, 1, id, ids, d));
        if let (true, Some(id), Some(date)) = (known, id, date) {
            if let Some(m) = ids.get(id) {
                if kind == Some("refund") {
                    // paid on leaving, so it may fall after the membership ended
                    if date < m.joined {
                        d.push(row.problem(
                            0,
                            code::E0305,
                            format!("a refund on {date}, before `{}` joined ({})", m.id, m.joined),
                            "check the date".into(),
                        ));
                    }
                } else {
                    outside_membership(row, 0, m, date, config, d);
                }
            }
        }
        if let (Some("refund"), Some(date), Some(a)) = (kind, date, amount) {
            refunds.push((
                date,
                row.line,
                row.problem(
                    3,
                    code::E0309,
                    format!("a refund of {a} is more than the member has paid in by {date}"),
                    "a refund pays back membership shares or capital the member paid; check the amount or the earlier payments".into(),
                ),
            ));
        }
        if let (true, Some(id), Some(date), Some(kind), Some(amount)) =
            (known, id, date, kind, amount)
        {
            out.push(Contribution {
                date,
                member_id: id.to_string(),
                kind: match kind {
                    "membership_share" => ContributionKind::MembershipShare,
                    "capital" => ContributionKind::Capital,
                    "fee" => ContributionKind::Fee,
                    "refund" => ContributionKind::Refund,
                    _ => ContributionKind::InKind,
                },
                amount,
                note,
                line: row.line,
            });
        }
    });
    // a refund may not exceed the membership shares and capital paid in up to its date
    for (date, line, diag) in refunds {
        let Some(r) = out.iter().find(|c| c.line == line) else {
            continue;
        };
        let mut paid = Money::zero(config.currency);
        for c in out
            .iter()
            .filter(|c| c.member_id == r.member_id && c.date <= date)
        {
            paid = match c.kind {
                ContributionKind::MembershipShare | ContributionKind::Capital => {
                    paid.checked_add(&c.amount).unwrap_or(paid)
                }
                ContributionKind::Refund if c.line != line => {
                    paid.checked_sub(&c.amount).unwrap_or(paid)
                }
                _ => paid,
            };
        }
        if r.amount > paid {
            diags.push(diag);
        }
    }
    out
}

const SUBSCRIPTION_COLS: &[Col] = &[
    req("date"),
    req("member_id"),
    req("kind"),
    req("amount"),
    opt("installments"),
    opt("note"),
];

fn load_subscriptions(
    dir: &Path,
    config: &Config,
    ids: &BTreeMap<&str, &Member>,
    contributions: &[Contribution],
    diags: &mut Diagnostics,
) -> Vec<Subscription> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, SUBSCRIPTIONS, SUBSCRIPTION_COLS, false, diags) else {
        return out;
    };
    let mut seen: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    t.for_each(SUBSCRIPTION_COLS, diags, |row, d| {
        let date = row.date(0, d);
        let id = row.required(1, d);
        let kind = row.choice(2, &["membership_share", "capital"], d);
        let amount = row.money(3, config.currency, false, d);
        let installments = match row.text(4, d) {
            None | Some("") => Some(None),
            Some(_) => row.int(4, d).and_then(|v| match u32::try_from(v) {
                Ok(n) if n >= 1 => Some(Some(n)),
                _ => {
                    d.push(row.problem(
                        4,
                        code::E0310,
                        format!("{v} installments is not allowed"),
                        "installments is a whole number of at least 1".into(),
                    ));
                    None
                }
            }),
        };
        let note = row.text(5, d).unwrap_or("").to_string();
        if let Some(a) = amount {
            if a.is_zero() {
                d.push(row.problem(
                    3,
                    code::E0310,
                    "a subscription of zero".into(),
                    "write the amount the member agreed to pay in".into(),
                ));
                return;
            }
        }
        let known = id.is_some_and(|id| member_ref(row, 1, id, ids, d));
        if let (true, Some(id), Some(date)) = (known, id, date) {
            if let Some(m) = ids.get(id) {
                outside_membership(row, 0, m, date, config, d);
            }
        }
        if let (true, Some(id), Some(kind)) = (known, id, kind) {
            let key = (id.to_string(), kind);
            if let Some(first) = seen.get(&key) {
                d.push(row.problem(
                    2,
                    code::E0310,
                    format!("`{id}` already has a `{kind}` subscription (line {first})"),
                    "one subscription per member and kind; write the total agreed".into(),
                ));
                return;
            }
            seen.insert(key, row.line);
        }
        if let (true, Some(id), Some(date), Some(kind), Some(amount), Some(installments)) =
            (known, id, date, kind, amount, installments)
        {
            let kind = if kind == "capital" {
                ContributionKind::Capital
            } else {
                ContributionKind::MembershipShare
            };
            let paid = Money::sum(
                config.currency,
                contributions
                    .iter()
                    .filter(|c| c.member_id == id && c.kind == kind)
                    .map(|c| &c.amount),
            )
            .unwrap_or(amount);
            if paid > amount {
                let mut w = row.problem(
                    3,
                    code::E0311,
                    format!("`{id}` has paid {paid}, more than the {amount} subscribed"),
                    "raise the subscription or check contributions.csv".into(),
                );
                w.severity = Severity::Warning;
                d.push(w);
            }
            out.push(Subscription {
                date,
                member_id: id.to_string(),
                kind,
                amount,
                installments,
                note,
                line: row.line,
            });
        }
    });
    out
}

const RESULT_COLS: &[Col] = &[req("fiscal_year"), opt("unit"), req("line"), req("amount")];

fn load_results(dir: &Path, config: &Config, diags: &mut Diagnostics) -> Vec<ResultLine> {
    let mut out: Vec<ResultLine> = Vec::new();
    let Some((_, mut t)) = open_table(dir, RESULTS, RESULT_COLS, true, diags) else {
        return out;
    };
    let mut seen: BTreeMap<(i32, Option<String>, &'static str), u64> = BTreeMap::new();
    t.for_each(RESULT_COLS, diags, |row, d| {
        let fy = row.fiscal_year(0, d);
        let unit = row.text(1, d).filter(|u| !u.is_empty()).map(str::to_string);
        let line = row.choice(2, RESULT_LINES, d);
        let allow_negative = matches!(
            line,
            Some("patronage_margin" | "nonpatronage_income" | "net_worth" | "opening_reserve")
        );
        let amount = row.money(3, config.currency, allow_negative, d);
        if let Some(u) = &unit {
            if config.unit(u).is_none() {
                d.push(row.problem(
                    1,
                    code::E0303,
                    format!("unknown unit `{u}`"),
                    format!(
                        "units in coop.toml: {} (leave `unit` empty for the whole co-op)",
                        config.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
                return;
            }
        }
        if let (Some(fy), Some(line), Some(amount)) = (fy, line, amount) {
            let key = (fy, unit.clone(), line);
            if let Some(first) = seen.get(&key) {
                d.push(row.problem(
                    2,
                    code::E0308,
                    format!("`{line}` for {fy} is repeated (first on line {first})"),
                    "put one total per fiscal year, unit and line".into(),
                ));
                return;
            }
            seen.insert(key, row.line);
            out.push(ResultLine {
                fiscal_year: fy,
                unit,
                line,
                amount,
                src_line: row.line,
            });
        }
    });
    out
}

const EQUITY_COLS: &[Col] = &[
    req("member_id"),
    req("allocation_year"),
    req("kind"),
    req("amount"),
];

fn load_equity(
    dir: &Path,
    config: &Config,
    ids: &BTreeMap<&str, &Member>,
    diags: &mut Diagnostics,
) -> Vec<EquityRow> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, EQUITY, EQUITY_COLS, false, diags) else {
        return out;
    };
    t.for_each(EQUITY_COLS, diags, |row, d| {
        let id = row.required(0, d);
        let year = row.int(1, d);
        let kind = row.choice(2, EQUITY_KINDS, d);
        let amount = row.money(3, config.currency, kind == Some("ica"), d);
        let known = id.is_some_and(|id| member_ref(row, 0, id, ids, d));
        if let (true, Some(id), Some(year), Some(kind), Some(amount)) =
            (known, id, year, kind, amount)
        {
            out.push(EquityRow {
                member_id: id.to_string(),
                allocation_year: year as i32,
                kind,
                amount,
                line: row.line,
            });
        }
    });
    out
}

const ASSET_COLS: &[Col] = &[
    req("asset_id"),
    req("name"),
    req("unit"),
    req("acquired"),
    opt("in_service"),
    req("cost"),
    opt("salvage"),
    opt("life_years"),
    req("method"),
    req("funding"),
    opt("locked"),
    opt("disposed"),
    opt("proceeds"),
    opt("use"),
];

fn load_assets(dir: &Path, config: &Config, diags: &mut Diagnostics) -> Vec<Asset> {
    let mut out = Vec::new();
    let Some((_, mut t)) = open_table(dir, ASSETS, ASSET_COLS, false, diags) else {
        return out;
    };
    let cur = config.currency;
    t.for_each(ASSET_COLS, diags, |row, d| {
        let id = row.required(0, d).map(str::to_string);
        let name = row.required(1, d).map(str::to_string);
        let unit = row.required(2, d).map(str::to_string);
        let acquired = row.date(3, d);
        let in_service = row.opt_date(4, d);
        let cost = row.money(5, cur, false, d);
        let salvage = match row.text(6, d) {
            None | Some("") => Some(Money::zero(cur)),
            Some(_) => row.money(6, cur, false, d),
        };
        let method = row.choice(8, ASSET_METHODS, d);
        let life = match row.text(7, d) {
            None | Some("") => Some(None),
            Some(_) => row.int(7, d).map(|v| u32::try_from(v).ok()),
        };
        let funding = row.choice(9, ASSET_FUNDING, d);
        let locked = match row.text(10, d).map(|s| s.to_ascii_lowercase()) {
            None => Some(false),
            Some(s) if s.is_empty() || s == "false" || s == "no" => Some(false),
            Some(s) if s == "true" || s == "yes" => Some(true),
            Some(s) => {
                d.push(row.problem(10, code::E0207, format!("`locked` = `{s}` is not allowed"), "use true or false".into()));
                None
            }
        };
        let disposed = row.opt_date(11, d);
        let patronage = match row.text(13, d) {
            None | Some("") => Some(true),
            Some(_) => row.choice(13, &["patronage", "nonpatronage"], d).map(|u| u == "patronage"),
        };
        let proceeds = match row.text(12, d) {
            None | Some("") => Some(None),
            Some(_) => row.money(12, cur, false, d).map(Some),
        };
        if let Some(u) = &unit {
            if config.unit(u).is_none() {
                d.push(row.problem(2, code::E0303, format!("unknown unit `{u}`"), "use a unit id from coop.toml".into()));
            }
        }
        if let (Some(c), Some(s)) = (cost, salvage) {
            if s > c {
                d.push(row.problem(6, code::E0501, format!("salvage {s} is above cost {c}"), "salvage is what the asset is worth at the end of its life, at most its cost".into()));
            }
        }
        if let (Some("straight_line"), Some(life)) = (method, life) {
            if life.unwrap_or(0) == 0 {
                d.push(row.problem(7, code::E0502, "a depreciable asset needs a life of at least one year".into(), "set life_years, or method = none for land".into()));
            }
        }
        if let (Some(a), Some(Some(x))) = (acquired, disposed) {
            if x < a {
                d.push(row.problem(11, code::E0503, format!("disposed {x} before it was acquired {a}"), "check both dates".into()));
            }
        }
        if let (Some(a), Some(Some(s))) = (acquired, in_service) {
            if s < a {
                d.push(row.problem(4, code::E0503, format!("in service {s} before it was acquired {a}"), "check both dates".into()));
            }
        }
        if let (Some(id), Some(name), Some(unit), Some(acquired), Some(in_service), Some(cost), Some(salvage), Some(life_years), Some(method), Some(funding), Some(locked), Some(disposed), Some(proceeds), Some(patronage)) =
            (id, name, unit, acquired, in_service, cost, salvage, life, method, funding, locked, disposed, proceeds, patronage)
        {
            out.push(Asset {
                id,
                name,
                unit,
                acquired,
                in_service: in_service.unwrap_or(acquired),
                cost,
                salvage,
                life_years,
                method,
                funding,
                locked,
                disposed,
                proceeds,
                patronage,
                line: row.line,
            });
        }
    });
    out
}
