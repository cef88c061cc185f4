//! Journal entries of a close (domain notes §8 step 8), for the accountant: the patronage
//! allocation (Dr patronage distribution / Cr refunds payable per member / Cr allocated equity of
//! the year per member), the transfer to the unallocated reserve, income tax, and losses. Every
//! entry is dated at the fiscal year end and balances to the cent. Account names are valid for
//! both hledger and beancount (capitalised components of letters, digits and dashes).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use rust_decimal::Decimal;

use super::view::View;
use crate::money::Money;

pub const DISTRIBUTION: &str = "Equity:Patronage-Distribution";
pub const PAYABLE: &str = "Liabilities:Patronage-Refunds-Payable";
pub const UNALLOCATED: &str = "Equity:Unallocated-Reserve";
pub const TAX_PAYABLE: &str = "Liabilities:Income-Tax-Payable";
pub const NET_MARGIN: &str = "Equity:Net-Margin";
pub const DEFICIT: &str = "Equity:Loss-Carried-Forward";
pub const STOCK_DIV_PAYABLE: &str = "Liabilities:Stock-Dividends-Payable";
pub const REDEMPTIONS_PAYABLE: &str = "Liabilities:Redemptions-Payable";
pub const MEMBER_DEBT: &str = "Liabilities:Member-Debt";
pub const DEBT_INTEREST: &str = "Expenses:Interest-On-Member-Debt";
/// what members owe the co-op (receivables.csv); a set-off credits it instead of cash
pub const MEMBER_RECEIVABLE: &str = "Assets:Member-Receivables";

#[derive(Debug, Clone)]
pub struct Posting {
    pub account: String,
    pub member_id: Option<String>,
    /// positive = debit, negative = credit
    pub amount: Money,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub date: chrono::NaiveDate,
    pub description: String,
    pub postings: Vec<Posting>,
}

/// An account-name component from a member id, the same for hledger and beancount. An id of
/// upper-case ASCII letters and digits is used as it is (`RL01`). Any other id is spelled with
/// upper-case letters, digits and dashes and gets a dash and 12 hex digits of the SHA-256 of the
/// id itself (`a/b` → `A-B-…`), so `a/b`, `a-b`, `a\b` and `A-B` stay four accounts: the two forms
/// cannot meet (only the second has a dash), and [`entries`] refuses a book in which two ids still
/// share a component.
pub fn component(id: &str) -> String {
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if plain {
        return id.to_string();
    }
    let mut s: String = id
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        s.insert(0, 'M');
    }
    let h = crate::ledger::sha256_hex(id.as_bytes()).to_ascii_uppercase();
    format!("{s}-{}", &h[..12])
}

/// The entries, once each balances and no two member ids share an account component.
fn checked(out: Vec<Entry>) -> anyhow::Result<Vec<Entry>> {
    for e in &out {
        let s = e
            .postings
            .iter()
            .try_fold(Decimal::ZERO, |a, p| a.checked_add(p.amount.amount()));
        if s != Some(Decimal::ZERO) {
            let off = s.map_or_else(|| "an overflowing sum".to_string(), |s| s.to_string());
            anyhow::bail!(
                "journal entry `{}` does not balance (off by {off})",
                e.description
            );
        }
    }
    check_components(&out)?;
    Ok(out)
}

/// Fails when two different member ids of `es` would post to the same account component.
fn check_components(es: &[Entry]) -> anyhow::Result<()> {
    let mut seen: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for id in es
        .iter()
        .flat_map(|e| &e.postings)
        .filter_map(|p| p.member_id.as_deref())
    {
        let c = component(id);
        match seen.get(&c) {
            Some(other) if *other != id => anyhow::bail!(
                "member ids `{other}` and `{id}` would share the journal account component `{c}`; rename one of them in members.csv"
            ),
            Some(_) => {}
            None => {
                seen.insert(c, id);
            }
        }
    }
    Ok(())
}

/// `Qualified`, `Ica-Fee`: a tranche kind as an account-name component.
fn kind_component(kind: &str) -> String {
    kind.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The member equity account of a tranche: `Equity:Allocated:FY2025:Qualified:VC0001` for
/// patronage allocations, `Equity:Member-Capital:FY2016:Membership-Share:RL01` for the rest.
pub fn equity_account(year: i32, kind: &str, member_id: &str) -> String {
    let group = match kind {
        "qualified" | "nonqualified" | "loss" => "Allocated",
        _ => "Member-Capital",
    };
    let k = kind_component(kind);
    let k = if k.is_empty() { "Other".to_string() } else { k };
    format!("Equity:{group}:FY{year}:{k}:{}", component(member_id))
}

/// A posting of `d` (positive = debit) to `account`, for `member` when it is a member's.
fn posting(v: &View, account: String, member: Option<&str>, d: Decimal) -> anyhow::Result<Posting> {
    Ok(Posting {
        account,
        member_id: member.map(str::to_string),
        amount: v.m(d)?,
    })
}

/// An entry of one amount `d`: Dr `debit`, Cr `credit`.
fn transfer(
    v: &View,
    date: chrono::NaiveDate,
    description: String,
    debit: String,
    credit: String,
    d: Decimal,
) -> anyhow::Result<Entry> {
    Ok(Entry {
        date,
        description,
        postings: vec![posting(v, debit, None, d)?, posting(v, credit, None, -d)?],
    })
}

/// (a) The patronage allocation: Dr distribution, Cr each member's refund payable and retained
/// equity of the year.
fn allocation(v: &View) -> anyhow::Result<Vec<Entry>> {
    let c = &v.close;
    let (date, fy, z) = (c.dates.end, c.fiscal_year, Decimal::ZERO);
    let p = |account: String, member: Option<&str>, d: Decimal| posting(v, account, member, d);
    let mut out = Vec::new();
    let mut members: Vec<&crate::ledger::record::Member> =
        c.members.iter().filter(|m| m.total > z).collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    if !members.is_empty() {
        let total = members
            .iter()
            .try_fold(z, |acc, m| crate::money::add_exact(acc, m.total))?;
        let mut ps = vec![p(DISTRIBUTION.into(), None, total)?];
        for m in &members {
            let payable = crate::money::sub_exact(m.total, m.retained)?;
            let comp = component(&m.member_id);
            if payable > z {
                ps.push(p(
                    format!("{PAYABLE}:{comp}"),
                    Some(&m.member_id),
                    -payable,
                )?);
            }
            if m.retained > z {
                let kind = if m.notice == "qualified" {
                    "qualified"
                } else {
                    "nonqualified"
                };
                ps.push(p(
                    equity_account(fy, kind, &m.member_id),
                    Some(&m.member_id),
                    -m.retained,
                )?);
            }
        }
        out.push(Entry {
            date,
            description: format!(
                "Patronage allocation of fiscal year {fy}: cash payable and retained equity"
            ),
            postings: ps,
        });
    }
    Ok(out)
}

/// (b) Transfers to the unallocated reserve, income tax on the unallocated part and stock
/// dividends charged to the pools.
fn reserve(v: &View) -> anyhow::Result<Vec<Entry>> {
    let c = &v.close;
    let (date, fy) = (c.dates.end, c.fiscal_year);
    let p = |account: String, member: Option<&str>, d: Decimal| posting(v, account, member, d);
    let mut out = Vec::new();
    let r = &c.reserves;
    let mut ps = Vec::new();
    for (name, d) in [
        ("Nonmember-Share", r.nonmember_share),
        ("Board-Reserve", r.board_reserve),
        ("Loss-Recovered", r.loss_recovered),
        ("Non-Patronage-Income", r.nonpatronage_income),
    ] {
        if !d.is_zero() {
            ps.push(p(format!("{NET_MARGIN}:{name}"), None, d)?);
        }
    }
    let to_reserve = [r.board_reserve, r.loss_recovered, r.nonpatronage_income]
        .into_iter()
        .try_fold(r.nonmember_share, crate::money::add_exact)?;
    if !to_reserve.is_zero() {
        ps.push(p(UNALLOCATED.into(), None, -to_reserve)?);
        out.push(Entry {
            date,
            description: format!("Non-member share, board reserve and non-patronage income of fiscal year {fy} to the unallocated reserve"),
            postings: ps,
        });
    }
    // income tax on the unallocated part
    if !r.income_tax.is_zero() {
        out.push(transfer(
            v,
            date,
            format!("Income tax of fiscal year {fy} (non-patronage and unallocated earnings)"),
            UNALLOCATED.into(),
            TAX_PAYABLE.into(),
            r.income_tax,
        )?);
    }
    // stock dividends charged to the pools
    let sd = c.totals.stock_dividends;
    if !sd.is_zero() {
        out.push(transfer(
            v,
            date,
            format!("Stock dividends of fiscal year {fy}"),
            format!("{NET_MARGIN}:Stock-Dividends"),
            STOCK_DIV_PAYABLE.into(),
            sd,
        )?);
    }
    Ok(out)
}

/// (c) Losses: cancelled from members' equity (newest first), the shortfall beyond a member's
/// equity and the collective's share charged to the reserve, or carried forward; and the loss
/// carried forward recovered from the year's earnings.
fn losses(v: &View) -> anyhow::Result<Vec<Entry>> {
    let c = &v.close;
    let (date, fy, z) = (c.dates.end, c.fiscal_year, Decimal::ZERO);
    let p = |account: String, member: Option<&str>, d: Decimal| posting(v, account, member, d);
    let mut out = Vec::new();
    let mut ps = Vec::new();
    let mut loss_total = z;
    let mut cancelled = c.tranches_cancelled.clone();
    cancelled.sort();
    // books sealed before losses cancelled tranches carry a `loss` tranche instead
    let mut loss_tranches: Vec<&crate::engine::state::Tranche> = c
        .tranches_created
        .iter()
        .filter(|x| x.kind == "loss" && x.amount < z)
        .collect();
    loss_tranches.sort();
    for x in cancelled
        .iter()
        .filter(|x| !x.amount.is_zero())
        .chain(loss_tranches)
    {
        let a = -x.amount;
        loss_total = crate::money::add_exact(loss_total, a)?;
        ps.push(p(
            equity_account(x.allocation_year, &x.kind, &x.member_id),
            Some(&x.member_id),
            a,
        )?);
    }
    let r = &c.reserves;
    let coll =
        crate::money::add_exact(r.loss_to_collective.abs(), r.loss_shortfall_absorbed.abs())?;
    if !coll.is_zero() {
        loss_total = crate::money::add_exact(loss_total, coll)?;
        ps.push(p(UNALLOCATED.into(), None, coll)?);
    }
    let carried = c.deficit.added.abs();
    if !carried.is_zero() {
        loss_total = crate::money::add_exact(loss_total, carried)?;
        ps.push(p(DEFICIT.into(), None, carried)?);
    }
    if !loss_total.is_zero() {
        ps.push(p(
            format!("{NET_MARGIN}:Patronage-Loss"),
            None,
            -loss_total,
        )?);
        out.push(Entry {
            date,
            description: format!("Patronage loss of fiscal year {fy}"),
            postings: ps,
        });
    }
    let recovered = c.deficit.recovered.abs();
    if !recovered.is_zero() {
        out.push(transfer(
            v,
            date,
            format!("Loss carried forward recovered from fiscal year {fy} earnings"),
            format!("{NET_MARGIN}:Deficit-Recovery"),
            DEFICIT.into(),
            recovered,
        )?);
    }
    Ok(out)
}

/// The journal entries of the close, each balanced.
pub fn entries(v: &View) -> anyhow::Result<Vec<Entry>> {
    let mut out = allocation(v)?;
    out.extend(reserve(v)?);
    out.extend(losses(v)?);
    checked(out)
}

/// The journal entries of a year's sealed equity redemptions (`closes/FY/redemptions.json`):
/// redemptions paid (Dr the tranche's equity account, Cr redemptions payable), estate discounts
/// (Dr the tranche, Cr the unallocated reserve), leavers' balances converted to debt (Dr the
/// tranche, Cr member debt) and the debt installments due in the year (Dr member debt and
/// interest expense, Cr redemptions payable). Redemptions set off against what the member owes
/// credit the member's receivable instead (Dr the tranche, Cr `Assets:Member-Receivables`), and
/// a deceased joint member's equity passed to the survivor moves between their equity accounts.
/// Offsets of loss tranches are reclassifications inside equity and have no entry.
///
/// `debts` are the member debts of every sealed year up to `fy`: their installments due in `fy`
/// are booked even when the debt was created in an earlier year.
pub fn redemption_entries(
    v: &View,
    fy: i32,
    sealed: Option<&crate::engine::revolve::Sealed>,
    debts: &[crate::engine::revolve::Debt],
) -> anyhow::Result<Vec<Entry>> {
    let date = v.close.dates.end;
    let [paid, discounts, conversions] = sealed.map(|s| s.journal_lines()).unwrap_or_default();
    let set_offs = sealed.map(|s| s.set_off_lines()).unwrap_or_default();
    let mut out = Vec::new();
    let groups: [(&[crate::engine::revolve::JournalLine], &str, &str); 4] = [
        (&paid, REDEMPTIONS_PAYABLE, "Equity redemptions paid"),
        (
            &set_offs,
            MEMBER_RECEIVABLE,
            "Equity redemptions set off against what members owe",
        ),
        (
            &discounts,
            UNALLOCATED,
            "Estate discounts to the unallocated reserve",
        ),
        (
            &conversions,
            MEMBER_DEBT,
            "Leavers' equity converted to debt",
        ),
    ];
    for (lines, credit, what) in groups {
        if lines.is_empty() {
            continue;
        }
        let mut ps = Vec::new();
        let mut by_member: BTreeMap<&str, Decimal> = BTreeMap::new();
        for (member, year, kind, amount) in lines {
            ps.push(Posting {
                account: equity_account(*year, kind, member),
                member_id: Some(member.clone()),
                amount: v.m(*amount)?,
            });
            let e = by_member.entry(member.as_str()).or_insert(Decimal::ZERO);
            *e = e
                .checked_add(*amount)
                .ok_or_else(|| anyhow::anyhow!("redemption total overflows"))?;
        }
        for (member, amount) in by_member {
            let account = if credit == UNALLOCATED {
                credit.to_string()
            } else {
                format!("{credit}:{}", component(member))
            };
            ps.push(Posting {
                account,
                member_id: Some(member.to_string()),
                amount: v.m(-amount)?,
            });
        }
        out.push(Entry {
            date,
            description: format!("{what}, fiscal year {fy}"),
            postings: ps,
        });
    }
    let mut ps = Vec::new();
    for t in sealed.map(|s| s.transfers()).unwrap_or_default() {
        let a = v.m(t.amount)?;
        ps.push(Posting {
            account: equity_account(t.allocation_year, &t.kind, &t.member_id),
            member_id: Some(t.member_id.clone()),
            amount: a,
        });
        ps.push(Posting {
            account: equity_account(t.allocation_year, &t.kind, &t.to),
            member_id: Some(t.to.clone()),
            amount: a.neg(),
        });
    }
    if !ps.is_empty() {
        out.push(Entry {
            date,
            description: format!(
                "Joint memberships: equity passed to the surviving member, fiscal year {fy}"
            ),
            postings: ps,
        });
    }
    let mut ps = Vec::new();
    for d in debts {
        for i in d.installments.iter().filter(|i| i.fiscal_year == fy) {
            let comp = component(&d.member_id);
            let m = Some(d.member_id.clone());
            ps.push(Posting {
                account: format!("{MEMBER_DEBT}:{comp}"),
                member_id: m.clone(),
                amount: v.m(i.principal)?,
            });
            if !i.interest.is_zero() {
                ps.push(Posting {
                    account: DEBT_INTEREST.to_string(),
                    member_id: m.clone(),
                    amount: v.m(i.interest)?,
                });
            }
            ps.push(Posting {
                account: format!("{REDEMPTIONS_PAYABLE}:{comp}"),
                member_id: m,
                amount: v.m(-i.payment)?,
            });
        }
    }
    if !ps.is_empty() {
        out.push(Entry {
            date,
            description: format!("Member debt installments due in fiscal year {fy}"),
            postings: ps,
        });
    }
    checked(out)
}

fn accounts(es: &[Entry]) -> BTreeSet<&str> {
    es.iter()
        .flat_map(|e| e.postings.iter().map(|p| p.account.as_str()))
        .collect()
}

fn quote(s: &str) -> String {
    s.replace(['"', '\\', '\n', '\r'], " ")
}

fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn width(es: &[Entry]) -> usize {
    accounts(es).iter().map(|a| a.len()).max().unwrap_or(0) + 4
}

/// The comment lines both ledgers open with, and a blank line.
fn preamble(v: &View, out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &v.close;
    writeln!(
        out,
        "; {} — journal entries of the close of fiscal year {}",
        comment(&c.coop),
        c.fiscal_year
    )?;
    writeln!(out, "; {}", comment(&v.source_line()))?;
    writeln!(
        out,
        "; generated by coopledger export; amounts exact to the cent"
    )?;
    writeln!(out)?;
    Ok(())
}

/// An hledger journal (passes `hledger check`, also with `--strict`).
pub fn hledger(v: &View, es: &[Entry], out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &v.close;
    let cur = &c.currency;
    preamble(v, out)?;
    writeln!(out, "commodity 1000.00 {cur}")?;
    writeln!(out)?;
    for a in accounts(es) {
        writeln!(out, "account {a}")?;
    }
    let w = width(es);
    for e in es {
        writeln!(out)?;
        writeln!(out, "{} * {}", e.date, comment(&e.description))?;
        for p in &e.postings {
            let amt = format!("{} {cur}", p.amount);
            match &p.member_id {
                Some(id) => writeln!(
                    out,
                    "    {:<w$}{:>16}  ; member: {}",
                    p.account,
                    amt,
                    comment(id)
                )?,
                None => writeln!(out, "    {:<w$}{:>16}", p.account, amt)?,
            }
        }
    }
    Ok(())
}

/// A beancount ledger (passes `bean-check`).
pub fn beancount(v: &View, es: &[Entry], out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &v.close;
    let cur = &c.currency;
    preamble(v, out)?;
    writeln!(out, "option \"title\" \"{}\"", quote(&c.coop))?;
    writeln!(out, "option \"operating_currency\" \"{cur}\"")?;
    writeln!(out)?;
    for a in accounts(es) {
        writeln!(out, "{} open {a} {cur}", c.dates.start)?;
    }
    let w = width(es);
    for e in es {
        writeln!(out)?;
        writeln!(out, "{} * \"{}\"", e.date, quote(&e.description))?;
        for p in &e.postings {
            writeln!(out, "  {:<w$}{:>16} {cur}", p.account, p.amount.to_string())?;
            if let Some(id) = &p.member_id {
                writeln!(out, "    member: \"{}\"", quote(id))?;
            }
        }
    }
    Ok(())
}

/// One line per posting.
pub fn csv(v: &View, es: &[Entry], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut w = crate::render::csv::Writer::from_writer(out);
    w.write_record([
        "entry",
        "date",
        "description",
        "account",
        "member_id",
        "amount",
        "currency",
    ])?;
    for (i, e) in es.iter().enumerate() {
        for p in &e.postings {
            w.write_record([
                (i + 1).to_string(),
                e.date.to_string(),
                e.description.clone(),
                p.account.clone(),
                p.member_id.clone().unwrap_or_default(),
                p.amount.to_string(),
                v.close.currency.clone(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_keep_distinct_ids_apart() {
        assert_eq!(component("RL01"), "RL01");
        assert_eq!(component("VC0001"), "VC0001");
        let ids = [
            "a/b", "a-b", "a\\b", "A-B", "a_b", "a.b", "ab", "AB", "-x", "Ω",
        ];
        let cs: BTreeSet<String> = ids.iter().map(|i| component(i)).collect();
        assert_eq!(cs.len(), ids.len(), "{cs:?}");
        for c in &cs {
            assert!(c.starts_with(|ch: char| ch.is_ascii_uppercase() || ch.is_ascii_digit()));
            assert!(c
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'));
        }
        // a plain id cannot take the form of a spelled one: only the spelled form has a dash
        assert!(!component("AB").contains('-') && component("ab").contains('-'));
    }
}
