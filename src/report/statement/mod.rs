//! Member statements: what a member owns, how it grew, when it is expected to be paid out, and an
//! inclusion proof against the `member_root` of the sealed close. Built only from the sealed
//! closes the ledger read ([`crate::ledger::read_closes`]) and the book's members and
//! `coop.toml`; no file I/O here. See `docs/STATEMENTS.md`.

mod bind;
pub mod doc;
mod payout;

pub use bind::{body_digest, verify_json};

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::book::{Book, Member, Status};
use crate::engine::revolve::{How, MemberLine};
use crate::engine::state::Tranche;
use crate::ledger::merkle::{self, ProofStep};
use crate::ledger::record::{Allocation, CapitalAccount, Member as MemberRecord, Pool};
use crate::ledger::{SealedClose, SealedHistory};
use crate::money::{Currency, Money};

pub const FORMAT: &str = "coopledger-statement/2";

/// The fields a statement shows that its proof does not bind (listed in every statement, and
/// itself bound): the date asked for, and what was sealed for the statement year after its close.
pub const NOT_COVERED: [&str; 2] = ["as_of", "after_close"];

// ---------------------------------------------------------------- the statement (JSON contract)

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub format: String,
    pub coop: String,
    pub member_id: String,
    pub name: String,
    pub class: String,
    pub class_name: String,
    pub votes: u32,
    pub voting: String,
    pub as_of: String,
    pub fiscal_year: i32,
    pub currency: String,
    pub status: StatusInfo,
    pub equity: Equity,
    /// the roll-forward of the capital account in `fiscal_year`
    pub capital_account: Account,
    /// the roll-forward of every sealed year up to `fiscal_year`
    pub history: Vec<Account>,
    pub allocations: Vec<YearAllocation>,
    pub redemptions: Vec<YearAmount>,
    pub loss_charges: Vec<YearAmount>,
    /// equity redemptions sealed by `coopledger revolve` for the sealed years before
    /// `fiscal_year` (sealed before its close, so bound by the proof)
    pub sealed_redemptions: Vec<RedemptionLine>,
    /// the fields of [`NOT_COVERED`]: what the proof does not bind
    pub not_covered: Vec<String>,
    /// the redemptions of `fiscal_year` sealed after its close, and the equity left after them
    /// (`None` when there are none); not covered by the proof (see [`NOT_COVERED`])
    pub after_close: Option<AfterClose>,
    /// total of the member tree (Σ of every member's closing equity)
    pub member_total: String,
    pub salt: String,
    pub root: String,
    pub proof: Vec<ProofStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusInfo {
    /// active | left | deceased
    pub state: String,
    pub joined: String,
    pub left: Option<String>,
    /// what the co-op owes a member who left (or their estate)
    pub owed: Option<String>,
    pub payout: Vec<YearAmount>,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equity {
    pub total: String,
    pub tranches: Vec<TrancheLine>,
    pub member_equity: String,
    pub share_of_member_equity: String,
    pub collective_reserve: String,
    pub community_wealth: String,
    pub share_of_community_wealth: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheLine {
    pub allocation_year: i32,
    pub kind: String,
    pub amount: String,
    /// the fiscal year in which it is expected to be paid out under the current plan, when one
    /// can be named (see `payout`)
    pub expected_payout_year: Option<i32>,
    pub payout: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub fiscal_year: i32,
    pub opening: String,
    pub contributions: String,
    pub allocations: String,
    pub losses: String,
    pub interest: String,
    pub redemptions: String,
    pub closing: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearAllocation {
    pub fiscal_year: i32,
    pub total: String,
    pub cash: String,
    pub retained: String,
    pub notice: String,
    pub loss: String,
    pub units: Vec<UnitAllocation>,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitAllocation {
    pub unit: String,
    pub name: String,
    pub measures: Vec<MeasureLine>,
    pub patronage_share: String,
    pub pool: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureLine {
    pub measure: String,
    pub amount: String,
    pub members_total: String,
    pub share: String,
}

/// One amount of a member's equity retired, converted or moved by sealed redemptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedemptionLine {
    /// the fiscal year whose redemptions retired it
    pub fiscal_year: i32,
    /// the tranche it came from
    pub allocation_year: i32,
    pub kind: String,
    /// `cash`, `set_off` (applied to what the member owes), `discount`, `converted_to_debt`,
    /// `loss_offset`, `transferred_out` (to the surviving joint member), `transferred_in`
    pub how: String,
    pub amount: String,
    pub reason: String,
}

/// What was sealed for the statement year after its close (`coopledger revolve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterClose {
    pub redemptions: Vec<RedemptionLine>,
    /// the equity left once they are applied
    pub equity: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearAmount {
    pub fiscal_year: i32,
    pub amount: String,
}

// ---------------------------------------------------------------- helpers

/// `num / den` as a percentage with one decimal (`"9.1%"`); exact decimal arithmetic.
pub fn percent(num: Decimal, den: Decimal) -> String {
    if den.is_zero() {
        return "–".into();
    }
    match num
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|x| x.checked_div(den))
    {
        Some(p) => format!("{}%", p.round_dp(1).normalize()),
        None => "–".into(),
    }
}

/// A measure amount for people: at most two decimals, thousands grouped.
pub fn quantity(d: Decimal) -> String {
    crate::money::group_thousands(&d.round_dp(2).normalize().to_string())
}

fn kind_is_contribution(kind: &str) -> bool {
    matches!(kind, "membership_share" | "capital" | "ica_fee" | "in_kind")
}

fn measure_phrase(measure: &str, amount: &str, share: &str) -> String {
    match measure {
        "hours" => format!("you worked {amount} hours, {share} of members' hours"),
        "wages" => format!("you earned {amount} in wages, {share} of members' wages"),
        "purchases" => format!("you bought {amount}, {share} of members' purchases"),
        "sales" => format!("you sold {amount} through the co-op, {share} of members' sales"),
        m => format!("your {m} came to {amount}, {share} of the members' total"),
    }
}

// ---------------------------------------------------------------- the generator

struct YearIndex<'a> {
    y: &'a SealedClose,
    cur: Currency,
    accounts: HashMap<&'a str, &'a CapitalAccount>,
    members: HashMap<&'a str, &'a MemberRecord>,
    allocs: HashMap<&'a str, Vec<&'a Allocation>>,
    /// per unit: Σ patronage weight and Σ of each raw measure
    unit_totals: HashMap<&'a str, (Decimal, BTreeMap<&'a str, Decimal>)>,
    pools: HashMap<&'a str, &'a Pool>,
    tranches: HashMap<&'a str, Vec<&'a Tranche>>,
}

impl<'a> YearIndex<'a> {
    fn new(y: &'a SealedClose) -> anyhow::Result<Self> {
        let cur = Currency::from_code(&y.record.currency)
            .with_context(|| format!("unknown currency `{}`", y.record.currency))?;
        let mut allocs: HashMap<&str, Vec<&Allocation>> = HashMap::new();
        let mut unit_totals: HashMap<&str, (Decimal, BTreeMap<&str, Decimal>)> = HashMap::new();
        for a in &y.record.allocations {
            allocs.entry(a.member_id.as_str()).or_default().push(a);
            let e = unit_totals.entry(a.unit.as_str()).or_default();
            // display totals: saturate rather than panic on absurd sealed figures
            e.0 = e.0.checked_add(a.patronage).unwrap_or(Decimal::MAX);
            for (k, v) in &a.measures {
                let t = e.1.entry(k.as_str()).or_default();
                *t = t.checked_add(*v).unwrap_or(Decimal::MAX);
            }
        }
        let mut tranches: HashMap<&str, Vec<&Tranche>> = HashMap::new();
        for t in &y.record.state.tranches {
            tranches.entry(t.member_id.as_str()).or_default().push(t);
        }
        Ok(YearIndex {
            y,
            cur,
            tranches,
            accounts: y
                .record
                .capital_accounts
                .iter()
                .map(|a| (a.member_id.as_str(), a))
                .collect(),
            members: y
                .record
                .members
                .iter()
                .map(|m| (m.member_id.as_str(), m))
                .collect(),
            allocs,
            unit_totals,
            pools: y
                .record
                .pools
                .iter()
                .map(|p| (p.unit.as_str(), p))
                .collect(),
        })
    }

    fn m(&self, d: Decimal) -> anyhow::Result<Money> {
        Money::from_decimal(d, self.cur)
            .with_context(|| format!("`{d}` is not an amount in {}", self.cur.code()))
    }
}

/// Makes statements for the members of the latest of `years`; the tree is built once, so all
/// statements with proofs cost O(n log n).
pub struct Generator<'a> {
    book: &'a Book,
    as_of: NaiveDate,
    years: Vec<YearIndex<'a>>,
    leaves: Vec<merkle::Leaf>,
    levels: Vec<Vec<([u8; 32], i128)>>,
    root: String,
    leaf_index: HashMap<String, usize>,
    /// sealed redemptions of the years up to the statement year: per member, (fiscal year, line)
    redemptions: HashMap<String, Vec<(i32, MemberLine)>>,
}

/// The sealed fiscal year a statement as of `as_of` uses: the latest sealed year that ended on
/// or before it (the latest sealed year when `as_of` is not given), of the sealed `years`
/// (ascending).
pub fn year_for(
    book: &Book,
    years: &[i32],
    as_of: Option<NaiveDate>,
) -> anyhow::Result<(i32, NaiveDate)> {
    let pick = years.iter().rev().find_map(|y| {
        let (_, end) = book.config.fiscal_year_bounds(*y)?;
        match as_of {
            Some(d) if end > d => None,
            Some(d) => Some((*y, d)),
            None => Some((*y, end)),
        }
    });
    match pick {
        Some(x) => Ok(x),
        None if years.is_empty() => bail!(
            "no sealed close in `{}`; close a fiscal year first (`coopledger close BOOK --year FY`)",
            book.dir.display()
        ),
        None => bail!(
            "no sealed fiscal year ended on or before {}; the first sealed year is {}",
            as_of.map(|d| d.to_string()).unwrap_or_default(),
            years[0]
        ),
    }
}

/// The statement bodies the member tree of the last of `sealed.closes` binds (one per member
/// with a capital account): what `ledger::seal` builds `member_root` from.
pub fn sealing_bodies(
    book: &Book,
    sealed: &SealedHistory,
) -> anyhow::Result<Vec<merkle::LeafBody>> {
    let Some(last) = sealed.closes.last() else {
        bail!("no close to seal");
    };
    let end = book
        .config
        .fiscal_year_bounds(last.fiscal_year)
        .map(|(_, e)| e)
        .unwrap_or(NaiveDate::MAX);
    Generator::index(book, sealed, end)?.bodies()
}

impl<'a> Generator<'a> {
    /// The years indexed, without the member tree.
    fn index(book: &'a Book, sealed: &'a SealedHistory, as_of: NaiveDate) -> anyhow::Result<Self> {
        if sealed.closes.is_empty() {
            bail!("no sealed close to make statements from");
        }
        let years = sealed
            .closes
            .iter()
            .map(YearIndex::new)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut redemptions: HashMap<String, Vec<(i32, MemberLine)>> = HashMap::new();
        for (fy, r) in &sealed.redemptions {
            for (id, lines) in r.lines_by_member() {
                let e = redemptions.entry(id).or_default();
                e.extend(lines.into_iter().map(|l| (*fy, l)));
            }
        }
        Ok(Generator {
            book,
            as_of,
            years,
            leaves: Vec::new(),
            levels: Vec::new(),
            root: String::new(),
            leaf_index: HashMap::new(),
            redemptions,
        })
    }

    /// Every member's statement body digest, in capital-account order; made on up to 8 threads
    /// (each takes a contiguous run of members, so the order and the bytes do not depend on it).
    fn bodies(&self) -> anyhow::Result<Vec<merkle::LeafBody>> {
        let accounts = &self.last().y.record.capital_accounts;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8);
        if threads <= 1 || accounts.len() < 4096 {
            return self.bodies_of(accounts);
        }
        let chunk = accounts.len().div_ceil(threads);
        std::thread::scope(|sc| {
            let handles: Vec<_> = accounts
                .chunks(chunk)
                .map(|c| sc.spawn(move || self.bodies_of(c)))
                .collect();
            let mut out = Vec::with_capacity(accounts.len());
            for h in handles {
                let part = h
                    .join()
                    .map_err(|_| anyhow::anyhow!("a statement thread stopped"))??;
                out.extend(part);
            }
            Ok(out)
        })
    }

    fn bodies_of(&self, accounts: &[CapitalAccount]) -> anyhow::Result<Vec<merkle::LeafBody>> {
        let last = self.last();
        let mut out = Vec::with_capacity(accounts.len());
        for a in accounts {
            let s = self.covered(&a.member_id)?;
            out.push(merkle::LeafBody {
                member_id: a.member_id.clone(),
                amount_minor: last.m(a.closing)?.to_minor(),
                body: body_digest(&s)?,
            });
        }
        Ok(out)
    }

    /// `sealed.closes` ascending; the last one is the statement year. The member tree is rebuilt
    /// from the statements and must give the root its manifest publishes.
    pub fn new(
        book: &'a Book,
        sealed: &'a SealedHistory,
        as_of: NaiveDate,
    ) -> anyhow::Result<Self> {
        let mut g = Generator::index(book, sealed, as_of)?;
        let last = g.last().y;
        let leaves = merkle::leaves_from(g.bodies()?, &last.secret);
        let (levels, root, _) = merkle::build_tree(&leaves);
        let root = hex::encode(root);
        if root != last.root {
            bail!(
                "the statements of fiscal year {} give member root {root}, but closes/{}/manifest.json publishes {}: \
                 a member's name, class or status in members.csv, or the classes or [redemption] in coop.toml, \
                 changed since the year was sealed (statements show the book as sealed), or the year was sealed \
                 by a version before manifest format {} (close it again with --reopen)",
                last.fiscal_year,
                last.fiscal_year,
                last.root,
                crate::ledger::MANIFEST_FORMAT
            );
        }
        g.leaf_index = leaves
            .iter()
            .enumerate()
            .map(|(i, l)| (l.member_id.clone(), i))
            .collect();
        g.leaves = leaves;
        g.levels = levels;
        g.root = root;
        Ok(g)
    }

    /// Members who have a statement (a capital account in the statement year), sorted by id.
    pub fn members(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.leaf_index.keys().map(|k| k.as_str()).collect();
        v.sort_unstable();
        v
    }

    pub fn fiscal_year(&self) -> i32 {
        self.last().y.fiscal_year
    }

    fn last(&self) -> &YearIndex<'a> {
        // `new` refuses an empty list
        &self.years[self.years.len() - 1]
    }

    /// `member_id`'s statement with its proof.
    pub fn statement(&self, member_id: &str) -> anyhow::Result<Statement> {
        let last = self.last();
        let fy = last.y.fiscal_year;
        let Some(&li) = self.leaf_index.get(member_id) else {
            bail!("member `{member_id}` has no capital account in the sealed close of fiscal year {fy}");
        };
        let mut s = self.covered(member_id)?;
        let leaf = &self.leaves[li];
        let total = Money::from_minor(leaf.amount_minor, last.cur)?;
        s.after_close = self.after_close(member_id, fy, total, last.cur)?;
        s.member_total = last.y.member_total.clone();
        s.salt = leaf.salt.clone();
        s.root = self.root.clone();
        s.proof = merkle::proof(&self.levels, li);
        Ok(s)
    }

    /// The part of `member_id`'s statement its leaf binds (with `as_of`; no proof, no
    /// `after_close`): the same when the year is sealed and whenever the statement is made.
    fn covered(&self, member_id: &str) -> anyhow::Result<Statement> {
        let last = self.last();
        let fy = last.y.fiscal_year;
        let Some(acct) = last.accounts.get(member_id) else {
            bail!("member `{member_id}` has no capital account in the sealed close of fiscal year {fy}");
        };
        let cur = last.cur;
        let cfg = &self.book.config;
        // the member as of the statement year: one who left after it was still a member then
        let end = cfg.fiscal_year_bounds(fy).map(|(_, e)| e);
        let member: Option<Cow<'_, Member>> =
            self.book.member(member_id).map(|m| match (m.left, end) {
                (Some(l), Some(e)) if l > e => Cow::Owned(Member {
                    status: Status::Active,
                    left: None,
                    ..m.clone()
                }),
                _ => Cow::Borrowed(m),
            });
        let member = member.as_deref();
        let class = member.map(|m| m.class.clone()).unwrap_or_default();
        let cls = cfg.class(&class);
        let class_name = cls.map(|c| c.name.clone()).unwrap_or_else(|| class.clone());
        let active = member.is_none_or(|m| m.status == Status::Active);
        let votes = if active {
            cls.map(|c| c.votes).unwrap_or(1)
        } else {
            0
        };
        let per_class = cfg.classes.iter().any(|c| c.votes != 1);
        let voting = if !active {
            "no vote: membership has ended".to_string()
        } else if per_class {
            format!(
                "{votes} vote{} as a {class_name} member (votes are set per class)",
                if votes == 1 { "" } else { "s" }
            )
        } else {
            "one member, one vote".to_string()
        };

        // history, allocations, redemptions, losses
        let mut history = Vec::new();
        let mut allocations = Vec::new();
        let mut redemptions = Vec::new();
        let mut loss_charges = Vec::new();
        for y in &self.years {
            let yfy = y.y.fiscal_year;
            if let Some(a) = y.accounts.get(member_id) {
                let acc = Account {
                    fiscal_year: yfy,
                    opening: y.m(a.opening)?.to_string(),
                    contributions: y.m(a.contributions)?.to_string(),
                    allocations: y.m(a.allocations)?.to_string(),
                    losses: y.m(a.losses)?.to_string(),
                    interest: y.m(a.interest)?.to_string(),
                    redemptions: y.m(a.redemptions)?.to_string(),
                    closing: y.m(a.closing)?.to_string(),
                };
                let r = y.m(a.redemptions)?;
                if !r.is_zero() {
                    redemptions.push(YearAmount {
                        fiscal_year: yfy,
                        amount: r.to_string(),
                    });
                }
                let l = y.m(a.losses)?;
                if !l.is_zero() {
                    loss_charges.push(YearAmount {
                        fiscal_year: yfy,
                        amount: l.to_string(),
                    });
                }
                history.push(acc);
            }
            if let Some(ya) = self.year_allocation(y, member_id)? {
                allocations.push(ya);
            }
        }
        let Some(account) = history.last().cloned().filter(|a| a.fiscal_year == fy) else {
            bail!("member `{member_id}` has no capital account in fiscal year {fy}");
        };

        // equity by tranche
        let total = last.m(acct.closing)?;
        let mut tranches: Vec<&Tranche> = last.tranches.get(member_id).cloned().unwrap_or_default();
        tranches.sort_by(|a, b| (a.allocation_year, &a.kind).cmp(&(b.allocation_year, &b.kind)));
        let (status, lines) = payout::payout(&self.book.config, fy, member, &tranches, total, cur)?;
        let sealed_redemptions = self.redemption_lines(member_id, cur, |y| y < fy)?;

        let member_equity = last.m(last.y.record.identity.member_equity)?;
        let reserve = last.m(last.y.record.identity.unallocated)?;
        let community = member_equity.checked_add(&reserve)?;
        let equity = Equity {
            total: total.to_string(),
            tranches: lines,
            member_equity: member_equity.to_string(),
            share_of_member_equity: percent(total.amount(), member_equity.amount()),
            collective_reserve: reserve.to_string(),
            community_wealth: community.to_string(),
            share_of_community_wealth: percent(total.amount(), community.amount()),
        };
        Ok(Statement {
            format: FORMAT.into(),
            coop: last.y.record.coop.clone(),
            member_id: member_id.to_string(),
            name: member.map(|m| m.name.clone()).unwrap_or_default(),
            class,
            class_name,
            votes,
            voting,
            as_of: self.as_of.to_string(),
            fiscal_year: fy,
            currency: cur.code().to_string(),
            status,
            equity,
            capital_account: account,
            history,
            allocations,
            redemptions,
            loss_charges,
            sealed_redemptions,
            not_covered: NOT_COVERED.iter().map(|f| f.to_string()).collect(),
            after_close: None,
            member_total: String::new(),
            salt: String::new(),
            root: String::new(),
            proof: Vec::new(),
        })
    }

    /// The member's sealed redemption lines of the fiscal years `pick` accepts.
    fn redemption_lines(
        &self,
        member_id: &str,
        cur: Currency,
        pick: impl Fn(i32) -> bool,
    ) -> anyhow::Result<Vec<RedemptionLine>> {
        let Some(all) = self.redemptions.get(member_id) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (y, (ay, kind, how, amount, reason)) in all.iter().filter(|(y, _)| pick(*y)) {
            // a statement names no other member: not even the joint member
            let reason = match how {
                How::TransferredOut => {
                    "joint membership: passed to the surviving joint member".to_string()
                }
                How::TransferredIn => {
                    "joint membership: received from the deceased joint member".to_string()
                }
                _ => reason.clone(),
            };
            out.push(RedemptionLine {
                fiscal_year: *y,
                allocation_year: *ay,
                kind: kind.clone(),
                how: how.name().to_string(),
                amount: Money::from_decimal(*amount, cur)?.to_string(),
                reason,
            });
        }
        Ok(out)
    }

    /// The redemptions of the statement year `fy` sealed after its close, and the equity left
    /// once they are applied to the closing `total`.
    fn after_close(
        &self,
        member_id: &str,
        fy: i32,
        total: Money,
        cur: Currency,
    ) -> anyhow::Result<Option<AfterClose>> {
        let lines = self.redemption_lines(member_id, cur, |y| y == fy)?;
        if lines.is_empty() {
            return Ok(None);
        }
        let mut after = total;
        for l in &lines {
            let a = Money::parse(&l.amount, cur)?;
            after = if l.how == How::TransferredIn.name() {
                after.checked_add(&a)?
            } else {
                after.checked_sub(&a)?
            };
        }
        Ok(Some(AfterClose {
            redemptions: lines,
            equity: after.to_string(),
        }))
    }

    fn year_allocation(
        &self,
        y: &YearIndex<'_>,
        member_id: &str,
    ) -> anyhow::Result<Option<YearAllocation>> {
        let Some(md) = y.members.get(member_id) else {
            return Ok(None);
        };
        let fy = y.y.fiscal_year;
        let total = y.m(md.total)?;
        let cash = y.m(md.cash)?;
        let retained = y.m(md.retained)?;
        let loss = y.m(md.loss)?;
        let mut units = Vec::new();
        let mut sentences = Vec::new();
        for a in y.allocs.get(member_id).map(|v| v.as_slice()).unwrap_or(&[]) {
            let (wsum, msums) = y
                .unit_totals
                .get(a.unit.as_str())
                .cloned()
                .unwrap_or_default();
            let pool = match y.pools.get(a.unit.as_str()) {
                Some(p) => y.m(p.allocable)?,
                None => Money::zero(y.cur),
            };
            let uname = y
                .pools
                .get(a.unit.as_str())
                .map(|p| p.name.clone())
                .unwrap_or_else(|| a.unit.clone());
            let mut measures = Vec::new();
            let mut phrases = Vec::new();
            for (k, v) in &a.measures {
                let tot = msums.get(k.as_str()).copied().unwrap_or_default();
                let share = percent(*v, tot);
                let amount = if k == "hours" || k == "days" {
                    quantity(*v)
                } else {
                    Money::from_decimal_rounded(
                        *v,
                        y.cur,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    )
                    .map(|m| m.grouped())
                    .unwrap_or_else(|_| quantity(*v))
                };
                phrases.push(measure_phrase(k, &amount, &share));
                measures.push(MeasureLine {
                    measure: k.clone(),
                    amount: v.normalize().to_string(),
                    members_total: tot.normalize().to_string(),
                    share,
                });
            }
            let pshare = percent(a.patronage, wsum);
            let amount = y.m(a.amount)?;
            let mut s = String::new();
            if !phrases.is_empty() {
                s.push_str(&format!("In {uname} {}", phrases.join("; ")));
                s.push_str(&format!(", so your patronage share was {pshare}. "));
            } else {
                s.push_str(&format!("In {uname} your patronage share was {pshare}. "));
            }
            s.push_str(&format!(
                "The members' pool was {}, so your allocation was {}.",
                pool.grouped(),
                amount.grouped()
            ));
            sentences.push(s);
            units.push(UnitAllocation {
                unit: a.unit.clone(),
                name: uname,
                measures,
                patronage_share: pshare,
                pool: pool.to_string(),
                amount: amount.to_string(),
            });
        }
        if total.is_positive() {
            let notice = if md.notice == "nonqualified" {
                "a nonqualified written notice"
            } else {
                "a qualified written notice"
            };
            sentences.push(format!(
                "Of your allocation of {}, {} was paid in cash and {} was retained in your capital account ({notice}).",
                total.grouped(),
                cash.grouped(),
                retained.grouped()
            ));
        } else if loss.is_zero() {
            sentences.push(format!("You received no allocation in {fy}."));
        }
        if !loss.is_zero() {
            sentences.push(format!(
                "{fy} closed with a loss: {} of it was charged to your capital account, in proportion to your patronage.",
                loss.abs().grouped()
            ));
        }
        Ok(Some(YearAllocation {
            fiscal_year: fy,
            total: total.to_string(),
            cash: cash.to_string(),
            retained: retained.to_string(),
            notice: md.notice.clone(),
            loss: loss.to_string(),
            units,
            explanation: sentences.join(" "),
        }))
    }
}

// ---------------------------------------------------------------- file names for --all

/// A safe file name for `member_id`'s statement: `member-<sanitized>-<8 hex of SHA-256(id)>.<ext>`.
/// Only ASCII letters, digits, `-` and `_` survive (others become `_`, at most 40 kept), so the
/// name can never hold a path separator or `..`; the hash keeps distinct ids distinct.
pub fn file_name(member_id: &str, ext: &str) -> String {
    let mut s: String = member_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        s.push('_');
    }
    let h = crate::ledger::sha256_hex(member_id.as_bytes());
    format!("member-{s}-{}.{ext}", &h[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        let a = file_name("../../etc/x", "json");
        assert!(!a.contains('/') && !a.contains(".."), "{a}");
        assert!(a.starts_with("member-______etc_x-"));
        assert_ne!(file_name("a/b", "json"), file_name("a_b", "json"));
        assert_eq!(file_name("", "md").len(), "member-_-".len() + 8 + 3);
    }

    #[test]
    fn percent_is_exact_and_rounded() {
        assert_eq!(percent(Decimal::from(1), Decimal::from(3)), "33.3%");
        assert_eq!(percent(Decimal::from(1), Decimal::ZERO), "–");
        assert_eq!(quantity(Decimal::new(18890000, 4)), "1,889");
    }
}
