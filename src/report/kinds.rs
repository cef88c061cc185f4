//! Report builders: pure functions from a [`View`] of a close to a [`Doc`].

use std::collections::BTreeMap;

use chrono::Datelike;
use rust_decimal::Decimal;

use super::doc::{Block, Cell, Doc, RowKind, Section, Table};
use super::view::View;

/// Report kinds of `coopledger report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Schedule,
    Worksheet,
    Notices,
    Rollforward,
    Patr1099,
    Board,
    /// community wealth (built by `crate::wealth`, not from the close alone)
    Wealth,
    /// uncashed payments with their age and what is due (built by `crate::redemption`)
    Unclaimed,
}

impl Kind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Schedule,
        Kind::Worksheet,
        Kind::Notices,
        Kind::Rollforward,
        Kind::Patr1099,
        Kind::Board,
        Kind::Wealth,
        Kind::Unclaimed,
    ];

    /// The kind of a command-line name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the kind is, for `--help` (the close's own reports need no gloss).
    pub fn about(self) -> Option<&'static str> {
        match self {
            Kind::Wealth => {
                Some("community wealth (built by `crate::wealth`, not from the close alone)")
            }
            Kind::Unclaimed => Some(
                "uncashed payments with their age and what is due (built by `crate::redemption`)",
            ),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Schedule => "schedule",
            Kind::Worksheet => "worksheet",
            Kind::Notices => "notices",
            Kind::Rollforward => "rollforward",
            Kind::Patr1099 => "1099-patr",
            Kind::Board => "board",
            Kind::Wealth => "wealth",
            Kind::Unclaimed => "unclaimed",
        }
    }
}

pub fn build(kind: Kind, v: &View) -> anyhow::Result<Doc> {
    match kind {
        Kind::Schedule => schedule(v),
        Kind::Worksheet => worksheet(v),
        Kind::Notices => notices(v),
        Kind::Rollforward => rollforward(v),
        Kind::Patr1099 => patr1099(v),
        Kind::Board => board(v),
        Kind::Wealth => anyhow::bail!(
            "the wealth report is built from the whole book: use `coopledger report BOOK wealth`"
        ),
        Kind::Unclaimed => anyhow::bail!(
            "the unclaimed report is built from the whole book: use `coopledger report BOOK unclaimed`"
        ),
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn doc(v: &View, kind: &'static str, title: &str) -> Doc {
    let c = &v.close;
    Doc {
        kind,
        title: format!("{} — {}, fiscal year {}", title, c.coop, c.fiscal_year),
        header: vec![
            ("Cooperative".into(), t(c.coop.clone())),
            (
                "Fiscal year".into(),
                t(format!(
                    "{} ({} to {})",
                    c.fiscal_year, c.dates.start, c.dates.end
                )),
            ),
            ("Currency".into(), t(c.currency.clone())),
            ("Source".into(), t(v.source_line())),
        ],
        sections: Vec::new(),
        primary: None,
    }
}

/// Exact sums and differences of amounts read from a close: an overflow is an error, never a
/// rounded total or a panic.
fn sum(v: &[Decimal]) -> anyhow::Result<Decimal> {
    use crate::money::add_exact;
    Ok(v.iter()
        .try_fold(Decimal::ZERO, |acc, x| add_exact(acc, *x))?)
}

fn add(a: Decimal, b: Decimal) -> anyhow::Result<Decimal> {
    Ok(crate::money::add_exact(a, b)?)
}

fn sub(a: Decimal, b: Decimal) -> anyhow::Result<Decimal> {
    Ok(crate::money::sub_exact(a, b)?)
}

/// Adds `x` to the entry of `key`.
fn tally<K: Ord>(map: &mut BTreeMap<K, Decimal>, key: K, x: Decimal) -> anyhow::Result<()> {
    let e = map.entry(key).or_default();
    *e = add(*e, x)?;
    Ok(())
}

/// Allocation schedule: member × unit × cash/retained, control totals equal to the pools.
pub fn schedule(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let mut d = doc(v, "schedule", "Allocation schedule");
    let mut tb = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("unit", "Unit"),
        ("patronage", "Patronage share"),
        ("amount", "Allocated"),
        ("cash", "Cash"),
        ("retained", "Retained"),
        ("carried_forward", "Cash carried forward"),
        ("notice", "Notice"),
    ]);
    let mut by_member: BTreeMap<&str, Vec<&crate::ledger::record::Allocation>> = BTreeMap::new();
    for a in &c.allocations {
        by_member.entry(a.member_id.as_str()).or_default().push(a);
    }
    let mut members: Vec<&crate::ledger::record::Member> = c.members.iter().collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let mut allocs = by_member.remove(m.member_id.as_str()).unwrap_or_default();
        allocs.sort_by(|a, b| a.unit.cmp(&b.unit));
        for a in allocs {
            tb.push(
                RowKind::Body,
                vec![
                    t(m.member_id.clone()),
                    t(m.name.clone()),
                    t(a.unit.clone()),
                    Cell::Num(a.patronage),
                    v.mc(a.amount)?,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
            );
        }
        tb.push(
            RowKind::Subtotal,
            vec![
                t(m.member_id.clone()),
                t(m.name.clone()),
                t("all units"),
                Cell::Empty,
                v.mc(m.total)?,
                v.mc(m.cash)?,
                v.mc(m.retained)?,
                v.mc(m.carried_out)?,
                t(m.notice.clone()),
            ],
        );
    }
    let tt = &c.totals;
    tb.push(
        RowKind::Total,
        vec![
            t("total"),
            Cell::Empty,
            t("all units"),
            Cell::Empty,
            v.mc(tt.allocated)?,
            v.mc(tt.cash)?,
            v.mc(tt.retained)?,
            v.mc(tt.carried_out)?,
            Cell::Empty,
        ],
    );
    let mut s = Section::new("allocation", "Allocation by member and unit");
    s.blocks.push(Block::Para(
        "One line per member and allocation unit, then the member's total with its cash and retained parts. Cash is the policy's cash share rounded up to the cent; the retained part is credited as allocated equity of this fiscal year.".into(),
    ));
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 1);

    // control totals
    let mut ct = Table::new(&[
        ("unit", "Unit"),
        ("pool", "Allocable pool"),
        ("allocated", "Σ allocated"),
        ("difference", "Difference"),
    ]);
    let mut all_ok = true;
    for p in &c.pools {
        let allocated = sum(&c
            .allocations
            .iter()
            .filter(|a| a.unit == p.unit)
            .map(|a| a.amount)
            .collect::<Vec<_>>())?;
        let diff = sub(allocated, p.allocable)?;
        all_ok &= diff.is_zero();
        ct.push(
            RowKind::Body,
            vec![
                t(p.unit.clone()),
                v.mc(p.allocable)?,
                v.mc(allocated)?,
                v.mc(diff)?,
            ],
        );
    }
    let pools_total = sum(&c.pools.iter().map(|p| p.allocable).collect::<Vec<_>>())?;
    let members_total = sum(&c.members.iter().map(|m| m.total).collect::<Vec<_>>())?;
    ct.push(
        RowKind::Total,
        vec![
            t("all units"),
            v.mc(pools_total)?,
            v.mc(members_total)?,
            v.mc(sub(members_total, pools_total)?)?,
        ],
    );
    let cash_plus = sum(&[tt.cash, tt.retained, tt.carried_out])?;
    let mut s = Section::new("control", "Control totals");
    s.blocks.push(Block::Table(ct));
    s.blocks.push(Block::Fields(vec![
        ("Allocated".into(), v.mc(tt.allocated)?),
        ("Cash paid".into(), v.mc(tt.cash)?),
        ("Retained".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Pools equal allocations".into(),
            Cell::Bool(all_ok && members_total == pools_total),
        ),
    ]));
    if cash_plus != tt.allocated {
        s.blocks.push(Block::Para(format!(
            "Cash + retained + carried forward = {} differs from the allocated total: cash includes amounts carried in from earlier years, or losses were netted.",
            v.m(cash_plus)?.grouped()
        )));
    }
    d.sections.push(s);
    Ok(d)
}

/// The net-margin worksheet.
pub fn worksheet(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let mut d = doc(v, "worksheet", "Net-margin worksheet");
    let mut tb = Table::new(&[
        ("unit", "Unit"),
        ("name", "Name"),
        ("patronage_margin", "Patronage margin"),
        ("member_fraction", "Member fraction"),
        ("member_share", "Member share"),
        ("nonmember_share", "Non-member share"),
        ("stock_dividends", "Stock dividends"),
        ("netting", "Netting"),
        ("loss_recovered", "Loss recovered"),
        ("reserve", "Board reserve"),
        ("allocable", "Allocable"),
        ("measure", "Measure"),
        ("member_volume", "Member volume"),
        ("rate", "Rate per unit of volume"),
        ("eligible_members", "Eligible members"),
    ]);
    for p in &c.pools {
        // the refund rate is stated when the unit is measured by one measure only
        let mut vol: BTreeMap<&str, Decimal> = BTreeMap::new();
        for a in c.allocations.iter().filter(|a| a.unit == p.unit) {
            for (k, x) in &a.measures {
                tally(&mut vol, k.as_str(), *x)?;
            }
        }
        let (measure, volume, rate) = if vol.len() == 1 {
            let (k, x) = vol
                .iter()
                .next()
                .map(|(k, x)| (*k, *x))
                .unwrap_or(("", Decimal::ZERO));
            let rate = if x.is_zero() {
                Cell::Empty
            } else {
                Cell::Num((p.allocable / x).round_dp(6).normalize())
            };
            (t(k), Cell::Num(x), rate)
        } else {
            (
                t(vol.keys().copied().collect::<Vec<_>>().join("+")),
                Cell::Empty,
                Cell::Empty,
            )
        };
        tb.push(
            RowKind::Body,
            vec![
                t(p.unit.clone()),
                t(p.name.clone()),
                v.mc(p.patronage_margin)?,
                Cell::Num(p.member_fraction),
                v.mc(p.member_share)?,
                v.mc(p.nonmember_share)?,
                v.mc(p.stock_dividends)?,
                v.mc(p.netting)?,
                v.mc(p.loss_recovered)?,
                v.mc(p.reserve)?,
                v.mc(p.allocable)?,
                measure,
                volume,
                rate,
                Cell::Int(i64::try_from(p.eligible_members).unwrap_or(i64::MAX)),
            ],
        );
    }
    let s_ = |f: &dyn Fn(&crate::ledger::record::Pool) -> Decimal| -> anyhow::Result<Cell> {
        v.mc(sum(&c.pools.iter().map(f).collect::<Vec<_>>())?)
    };
    tb.push(
        RowKind::Total,
        vec![
            t("total"),
            Cell::Empty,
            s_(&|p| p.patronage_margin)?,
            Cell::Empty,
            s_(&|p| p.member_share)?,
            s_(&|p| p.nonmember_share)?,
            s_(&|p| p.stock_dividends)?,
            s_(&|p| p.netting)?,
            s_(&|p| p.loss_recovered)?,
            s_(&|p| p.reserve)?,
            s_(&|p| p.allocable)?,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ],
    );
    let mut s = Section::new("units", "Patronage margin by allocation unit");
    s.blocks.push(Block::Para("Member share = patronage margin × member fraction (member volume over all volume). The non-member share goes to the unallocated reserve. Allocable = member share − stock dividends ± netting − loss recovered − board reserve.".into()));
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 1);

    let r = &c.reserves;
    let mut s = Section::new("nonpatronage", "Non-patronage income and tax");
    s.blocks.push(Block::Fields(vec![
        ("Non-patronage income".into(), v.mc(r.nonpatronage_income)?),
        ("Income tax".into(), v.mc(r.income_tax)?),
        (
            "Non-patronage income after tax".into(),
            v.mc(sub(r.nonpatronage_income, r.income_tax)?)?,
        ),
    ]));
    d.sections.push(s);

    let mut s = Section::new("reserve", "Unallocated reserve roll-forward");
    s.blocks.push(Block::Fields(vec![
        ("Opening".into(), v.mc(r.opening)?),
        ("+ non-member share".into(), v.mc(r.nonmember_share)?),
        ("+ board reserve".into(), v.mc(r.board_reserve)?),
        ("+ loss recovered".into(), v.mc(r.loss_recovered)?),
        (
            "+ non-patronage income".into(),
            v.mc(r.nonpatronage_income)?,
        ),
        ("− income tax".into(), v.mc(r.income_tax)?),
        (
            "+ loss charged to the collective".into(),
            v.mc(r.loss_to_collective)?,
        ),
        ("− loss carried forward".into(), v.mc(r.loss_carried)?),
        ("Addition".into(), v.mc(r.addition)?),
        ("Closing".into(), v.mc(r.closing)?),
        (
            "Non-member refunds payable".into(),
            v.mc(r.nonmember_refunds_payable)?,
        ),
    ]));
    d.sections.push(s);

    let df = &c.deficit;
    let mut s = Section::new("deficit", "Loss carried forward (deficit)");
    s.blocks.push(Block::Fields(vec![
        ("Opening".into(), v.mc(df.opening)?),
        ("Added".into(), v.mc(df.added)?),
        ("Recovered".into(), v.mc(df.recovered)?),
        ("Closing".into(), v.mc(df.closing)?),
    ]));
    d.sections.push(s);

    let tt = &c.totals;
    let mut s = Section::new("allocation", "Allocation");
    s.blocks.push(Block::Fields(vec![
        ("Allocated to members".into(), v.mc(tt.allocated)?),
        ("Cash".into(), v.mc(tt.cash)?),
        ("Retained".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Losses charged to members".into(),
            v.mc(tt.losses_to_members)?,
        ),
    ]));
    for n in &c.notes {
        s.blocks.push(Block::Para(format!("Note: {n}")));
    }
    d.sections.push(s);
    Ok(d)
}

fn notice_no(fy: i32, id: &str) -> String {
    format!("WNA-{fy}-{id}")
}

fn form(notice: &str) -> &'static str {
    if notice == "qualified" {
        "qualified written notice of allocation"
    } else {
        "nonqualified written notice of allocation"
    }
}

/// Written notices of allocation, one per member allocated a patronage dividend.
pub fn notices(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let dt = &c.dates;
    let mut d = doc(v, "notices", "Written notices of allocation");
    d.header.push((
        "Payment period ends".into(),
        Cell::Date(dt.payment_period_end),
    ));
    d.header.push((
        "Qualified checks must be cashed by".into(),
        Cell::Date(dt.qualified_check_deadline),
    ));
    let mut register = Table::new(&[
        ("notice_no", "Notice"),
        ("member_id", "Member"),
        ("name", "Name"),
        ("stated_amount", "Stated amount"),
        ("patronage_dividend", "Patronage dividend"),
        ("cash", "Cash paid"),
        ("carried_forward", "Cash carried forward"),
        ("retained", "Retained"),
        ("form", "Retained as"),
        ("issued_by", "Issued by"),
        ("cash_check_by", "Cash qualified check by"),
    ]);
    let mut members: Vec<&crate::ledger::record::Member> = c
        .members
        .iter()
        .filter(|m| m.total > Decimal::ZERO || m.cash > Decimal::ZERO)
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let no = notice_no(c.fiscal_year, &m.member_id);
        let qualified = m.notice == "qualified";
        let mut s = Section::new(
            no.clone(),
            format!("Notice {no}: {} ({})", m.name, m.member_id),
        );
        s.page_break = true;
        s.blocks.push(Block::Para(format!(
            "{} hereby gives {} written notice of the patronage dividend allocated to you for the fiscal year {} ({} to {}), on the basis of your patronage.",
            c.coop, m.name, c.fiscal_year, dt.start, dt.end
        )));
        let mut units = Table::new(&[
            ("unit", "Unit"),
            ("volume", "Your patronage"),
            ("amount", "Allocated"),
        ]);
        let mut allocs: Vec<&crate::ledger::record::Allocation> = c
            .allocations
            .iter()
            .filter(|a| a.member_id == m.member_id)
            .collect();
        allocs.sort_by(|a, b| a.unit.cmp(&b.unit));
        for a in allocs {
            let vol = a
                .measures
                .iter()
                .map(|(k, x)| format!("{k} {x}"))
                .collect::<Vec<_>>()
                .join(", ");
            units.push(
                RowKind::Body,
                vec![t(a.unit.clone()), t(vol), v.mc(a.amount)?],
            );
        }
        units.push(
            RowKind::Total,
            vec![t("total"), Cell::Empty, v.mc(m.total)?],
        );
        s.blocks.push(Block::Table(units));
        let mut f = vec![
            ("Stated dollar amount allocated".into(), v.mc(m.total)?),
            (
                "Portion that is a patronage dividend".into(),
                v.mc(m.total)?,
            ),
            ("Paid in cash or by qualified check".into(), v.mc(m.cash)?),
        ];
        if m.carried_in > Decimal::ZERO {
            f.push((
                "of which carried in from earlier years".into(),
                v.mc(m.carried_in)?,
            ));
        }
        if m.carried_out > Decimal::ZERO {
            f.push((
                "Cash carried forward to next year's check (below the minimum check)".into(),
                v.mc(m.carried_out)?,
            ));
        }
        f.push(("Retained".into(), v.mc(m.retained)?));
        f.push(("Retained amount is a".into(), t(form(&m.notice))));
        f.push((
            "Credited as".into(),
            t(format!("allocated equity of fiscal year {}", c.fiscal_year)),
        ));
        f.push((
            "Issued by (end of payment period)".into(),
            Cell::Date(dt.payment_period_end),
        ));
        if qualified {
            f.push((
                "Qualified check must be cashed by".into(),
                Cell::Date(dt.qualified_check_deadline),
            ));
        }
        s.blocks.push(Block::Fields(f));
        if qualified {
            s.blocks.push(Block::Para(format!(
                "Consent: this is a qualified written notice of allocation (IRC §1388(c)). By your membership under the bylaws' consent provision, or by endorsing and cashing the accompanying check, you consent to take the stated dollar amount of {} into account as income in the year you receive this notice. At least 20% of the patronage dividend is paid in cash.",
                v.m(m.total)?.grouped()
            )));
            s.blocks.push(Block::Para(format!(
                "Qualified check: the check for {} must be endorsed and cashed on or before {} (90 days after the payment period ending {}); if it is not, this notice becomes nonqualified.",
                v.m(m.cash)?.grouped(),
                dt.qualified_check_deadline,
                dt.payment_period_end
            )));
        } else {
            s.blocks.push(Block::Para("This is a nonqualified written notice of allocation: the retained amount is not income to you when issued. When it is redeemed, the cooperative reports the redemption on Form 1099-PATR (box 5).".into()));
        }
        if v.coop_kind == "consumer" {
            s.blocks.push(Block::Para("Patronage dividends on purchases for personal, living or family use are generally not taxable income.".into()));
        }
        register.push(
            RowKind::Body,
            vec![
                t(no),
                t(m.member_id.clone()),
                t(m.name.clone()),
                v.mc(m.total)?,
                v.mc(m.total)?,
                v.mc(m.cash)?,
                v.mc(m.carried_out)?,
                v.mc(m.retained)?,
                t(m.notice.clone()),
                Cell::Date(dt.payment_period_end),
                if qualified {
                    Cell::Date(dt.qualified_check_deadline)
                } else {
                    Cell::Empty
                },
            ],
        );
        d.sections.push(s);
    }
    let mut s = Section::new("register", "Register of notices");
    s.blocks.push(Block::Table(register));
    d.push_primary(s, 0);
    Ok(d)
}

/// Equity roll-forward by member × tranche.
pub fn rollforward(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let mut d = doc(v, "rollforward", "Equity roll-forward");
    type Key = (String, i32, String);
    let mut open: BTreeMap<Key, Decimal> = BTreeMap::new();
    for x in &v.opening.tranches {
        tally(
            &mut open,
            (x.member_id.clone(), x.allocation_year, x.kind.clone()),
            x.amount,
        )?;
    }
    let mut created: BTreeMap<Key, Decimal> = BTreeMap::new();
    for x in &c.tranches_created {
        tally(
            &mut created,
            (x.member_id.clone(), x.allocation_year, x.kind.clone()),
            x.amount,
        )?;
    }
    let mut cancelled: BTreeMap<Key, Decimal> = BTreeMap::new();
    for x in &c.tranches_cancelled {
        tally(
            &mut cancelled,
            (x.member_id.clone(), x.allocation_year, x.kind.clone()),
            x.amount,
        )?;
    }
    let mut close: BTreeMap<Key, Decimal> = BTreeMap::new();
    for x in &c.state.tranches {
        tally(
            &mut close,
            (x.member_id.clone(), x.allocation_year, x.kind.clone()),
            x.amount,
        )?;
    }
    let mut keys: Vec<&Key> = open
        .keys()
        .chain(created.keys())
        .chain(cancelled.keys())
        .chain(close.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let mut tb = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("allocation_year", "Year"),
        ("kind", "Tranche"),
        ("opening", "Opening"),
        ("contributions", "Contributions"),
        ("allocations", "Allocations"),
        ("losses", "Losses"),
        ("interest", "Interest"),
        ("redemptions", "Redemptions"),
        ("closing", "Closing"),
    ]);
    let z = Decimal::ZERO;
    let mut unreconciled = Vec::new();
    let accounts: BTreeMap<&str, &crate::ledger::record::CapitalAccount> = c
        .capital_accounts
        .iter()
        .map(|a| (a.member_id.as_str(), a))
        .collect();
    let mut members: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    members.extend(accounts.keys().copied());
    members.sort();
    members.dedup();
    let mut tot = [z; 7];
    for id in members {
        let name = v.name(id).to_string();
        let mut subtotal = [z; 7];
        for k in keys.iter().filter(|k| k.0 == id) {
            let o = open.get(*k).copied().unwrap_or(z);
            let a = created.get(*k).copied().unwrap_or(z);
            let x = cancelled.get(*k).copied().unwrap_or(z);
            let cl = close.get(*k).copied().unwrap_or(z);
            let (mut contrib, mut alloc, mut loss, mut int) = (z, z, x, z);
            match k.2.as_str() {
                "qualified" | "nonqualified" => alloc = a,
                "loss" => loss = add(loss, a)?,
                "interest" => int = a,
                _ => contrib = a,
            }
            // whatever the close's new and cancelled tranches do not explain is a redemption
            let red = sub(sub(sub(cl, o)?, a)?, x)?;
            let row = [o, contrib, alloc, loss, int, red, cl];
            for i in 0..7 {
                subtotal[i] = add(subtotal[i], row[i])?;
            }
            let mut cells = vec![
                t(id),
                t(name.clone()),
                Cell::Int(i64::from(k.1)),
                t(k.2.clone()),
            ];
            for x in row {
                cells.push(v.mc(x)?);
            }
            tb.push(RowKind::Body, cells);
        }
        if let Some(acc) = accounts.get(id) {
            let want = [
                acc.opening,
                acc.contributions,
                acc.allocations,
                acc.losses,
                acc.interest,
                acc.redemptions,
                acc.closing,
            ];
            if want != subtotal {
                unreconciled.push(id.to_string());
            }
        }
        for i in 0..7 {
            tot[i] = add(tot[i], subtotal[i])?;
        }
        let mut cells = vec![t(id), t(name), Cell::Empty, t("all tranches")];
        for x in subtotal {
            cells.push(v.mc(x)?);
        }
        tb.push(RowKind::Subtotal, cells);
    }
    let mut cells = vec![t("total"), Cell::Empty, Cell::Empty, Cell::Empty];
    for x in tot {
        cells.push(v.mc(x)?);
    }
    tb.push(RowKind::Total, cells);
    let mut s = Section::new("tranches", "Member equity by tranche");
    s.blocks.push(Block::Para("Opening is the equity before the close, closing the equity after it. Losses are the equity the close cancelled (a member's newest tranches first); redemptions are changes that the close's new and cancelled tranches do not explain (the close itself redeems nothing).".into()));
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 1);

    let i = &c.identity;
    let mut s = Section::new("reconciliation", "Reconciliation");
    let mut f = vec![
        ("Σ closing member equity (tranches)".into(), v.mc(tot[6])?),
        ("Member equity in the close".into(), v.mc(i.member_equity)?),
        ("Difference".into(), v.mc(tot[6] - i.member_equity)?),
        (
            "Every member's tranches equal the capital account".into(),
            Cell::Bool(unreconciled.is_empty()),
        ),
        ("Unallocated reserve".into(), v.mc(i.unallocated)?),
        ("Other stock".into(), v.mc(i.other_stock)?),
        (
            "Member equity + unallocated + other stock".into(),
            v.mc(i.sum)?,
        ),
    ];
    match i.net_worth {
        Some(nw) => {
            f.push(("Net worth (results.csv)".into(), v.mc(nw)?));
            f.push(("Identity difference".into(), v.mc(i.sum - nw)?));
            f.push((
                "Identity holds".into(),
                Cell::Bool(i.balanced == Some(true)),
            ));
        }
        None => f.push((
            "Net worth (results.csv)".into(),
            t("not given; identity not checked"),
        )),
    }
    s.blocks.push(Block::Fields(f));
    s.blocks.push(Block::Para(format!(
        "Net-worth identity: member equity {} + unallocated {} + other stock {} = {}{}",
        v.m(i.member_equity)?.grouped(),
        v.m(i.unallocated)?.grouped(),
        v.m(i.other_stock)?.grouped(),
        v.m(i.sum)?.grouped(),
        match (i.net_worth, i.balanced) {
            (Some(nw), Some(true)) => format!(" = net worth {} (holds)", v.m(nw)?.grouped()),
            (Some(nw), _) => format!(
                " ≠ net worth {} (difference {})",
                v.m(nw)?.grouped(),
                v.m(sub(i.sum, nw)?)?.grouped()
            ),
            _ => String::new(),
        }
    )));
    if !unreconciled.is_empty() {
        s.blocks.push(Block::Para(format!(
            "Tranches differ from the capital accounts for: {}",
            unreconciled.join(", ")
        )));
    }
    d.sections.push(s);
    Ok(d)
}

/// 1099-PATR data for the calendar year in which the close's payment period ends.
pub fn patr1099(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let pay = c.dates.payment_period_end;
    let cy = pay.year();
    let mut d = doc(v, "1099-patr", "1099-PATR data");
    d.title = format!(
        "1099-PATR data — {}, calendar year {} (payments of fiscal year {})",
        c.coop, cy, c.fiscal_year
    );
    d.header
        .push(("Calendar year".into(), Cell::Int(i64::from(cy))));
    d.header
        .push(("Assumed payment date".into(), Cell::Date(pay)));
    let threshold = Decimal::new(1000, 2);
    let mut tb = Table::new(&[
        ("member_id", "Recipient"),
        ("name", "Name"),
        ("box1", "Box 1 patronage dividends"),
        ("box2", "Box 2 non-patronage distributions"),
        ("box3", "Box 3 per-unit retain allocations"),
        ("box4", "Box 4 federal income tax withheld"),
        ("box5", "Box 5 redemption of nonqualified notices"),
        ("form", "Form required"),
    ]);
    let z = Decimal::ZERO;
    let mut tot = [z; 5];
    let mut forms = 0i64;
    let mut members: Vec<&crate::ledger::record::Member> = c
        .members
        .iter()
        .filter(|m| m.cash > z || m.total > z)
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for m in members {
        let qualified_face = if m.notice == "qualified" {
            m.retained
        } else {
            z
        };
        let b = [add(m.cash, qualified_face)?, z, z, z, z];
        let file = sum(&[b[0], b[1], b[2], b[4]])? >= threshold || b[3] > z;
        if file {
            forms += 1;
        }
        for i in 0..5 {
            tot[i] = add(tot[i], b[i])?;
        }
        let mut cells = vec![t(m.member_id.clone()), t(m.name.clone())];
        for x in b {
            cells.push(v.mc(x)?);
        }
        cells.push(Cell::Bool(file));
        tb.push(RowKind::Body, cells);
    }
    let mut cells = vec![t("total"), Cell::Empty];
    for x in tot {
        cells.push(v.mc(x)?);
    }
    cells.push(Cell::Int(forms));
    tb.push(RowKind::Total, cells);
    let mut s = Section::new("recipients", "Recipients");
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 0);
    let mut s = Section::new("assumptions", "Assumptions");
    for p in [
        format!("Cash and written notices of the fiscal year {} close are taken to be paid and issued on the last day of its payment period, {}, so they belong to calendar year {}. If you pay earlier in a different calendar year, report them in that year instead.", c.fiscal_year, pay, cy),
        "Box 1 = cash paid (including cash carried in from earlier years and paid now) + the stated amount of qualified written notices. Nonqualified notices are not reported when issued; cash carried forward to a later check is reported when paid.".into(),
        "Box 2 and box 3 are 0: the close allocates no non-patronage distributions and no per-unit retains. Box 4 is 0: no backup withholding is recorded in the book. Box 5 is 0: the close redeems no equity (report redemptions of nonqualified notices from the redemption run).".into(),
        "A form is required when boxes 1, 2, 3 and 5 total at least $10.00 or anything was withheld (§6044(b)); corporations and exempt recipients may be excepted.".into(),
    ] {
        s.blocks.push(Block::Para(p));
    }
    if v.coop_kind == "consumer" {
        s.blocks.push(Block::Para("Consumer co-op: patronage dividends on purchases for personal, living or family use are not income to the patron; a co-op with a Form 3491 exemption does not file these forms.".into()));
    }
    d.sections.push(s);
    Ok(d)
}

/// One-page summary for the board.
pub fn board(v: &View) -> anyhow::Result<Doc> {
    let c = &v.close;
    let tt = &c.totals;
    let r = &c.reserves;
    let mut d = doc(v, "board", "Board summary of the year-end close");
    let allocated_members = c.members.iter().filter(|m| m.total > Decimal::ZERO).count();
    let mut s = Section::new("result", "Result");
    s.blocks.push(Block::Fields(vec![
        ("Patronage margin".into(), v.mc(tt.patronage_margin)?),
        ("Member share".into(), v.mc(tt.member_share)?),
        (
            "Non-member share (to reserve)".into(),
            v.mc(tt.nonmember_share)?,
        ),
        ("Stock dividends".into(), v.mc(tt.stock_dividends)?),
        ("Board reserve".into(), v.mc(tt.reserve)?),
        ("Allocated to members".into(), v.mc(tt.allocated)?),
        (
            "Members allocated".into(),
            Cell::Int(i64::try_from(allocated_members).unwrap_or(i64::MAX)),
        ),
        ("Cash to pay".into(), v.mc(tt.cash)?),
        ("Retained as allocated equity".into(), v.mc(tt.retained)?),
        ("Cash carried forward".into(), v.mc(tt.carried_out)?),
        (
            "Losses charged to members".into(),
            v.mc(tt.losses_to_members)?,
        ),
        ("Non-patronage income".into(), v.mc(r.nonpatronage_income)?),
        ("Income tax".into(), v.mc(r.income_tax)?),
    ]));
    d.sections.push(s);
    let mut tb = Table::new(&[
        ("unit", "Unit"),
        ("patronage_margin", "Margin"),
        ("member_share", "Member share"),
        ("reserve", "Board reserve"),
        ("allocable", "Allocated"),
    ]);
    for p in &c.pools {
        tb.push(
            RowKind::Body,
            vec![
                t(p.name.clone()),
                v.mc(p.patronage_margin)?,
                v.mc(p.member_share)?,
                v.mc(p.reserve)?,
                v.mc(p.allocable)?,
            ],
        );
    }
    tb.push(
        RowKind::Total,
        vec![
            t("total"),
            v.mc(tt.patronage_margin)?,
            v.mc(tt.member_share)?,
            v.mc(tt.reserve)?,
            v.mc(tt.allocated)?,
        ],
    );
    let mut s = Section::new("units", "By unit");
    s.blocks.push(Block::Table(tb));
    d.push_primary(s, 0);
    let i = &c.identity;
    let mut s = Section::new("equity", "Equity");
    s.blocks.push(Block::Fields(vec![
        ("Unallocated reserve, opening".into(), v.mc(r.opening)?),
        ("Unallocated reserve, closing".into(), v.mc(r.closing)?),
        (
            "Loss carried forward, closing".into(),
            v.mc(c.deficit.closing)?,
        ),
        ("Member equity, closing".into(), v.mc(i.member_equity)?),
        (
            "Net-worth identity".into(),
            t(match (i.net_worth, i.balanced) {
                (Some(_), Some(true)) => "holds".to_string(),
                (Some(nw), _) => format!(
                    "does not hold: {} vs net worth {}",
                    v.m(i.sum)?.grouped(),
                    v.m(nw)?.grouped()
                ),
                _ => "not checked (no net worth in results.csv)".to_string(),
            }),
        ),
    ]));
    d.sections.push(s);
    let mut s = Section::new("deadlines", "Deadlines");
    s.blocks.push(Block::Fields(vec![
        (
            "Notices and checks issued by".into(),
            Cell::Date(c.dates.payment_period_end),
        ),
        (
            "Qualified checks cashed by".into(),
            Cell::Date(c.dates.qualified_check_deadline),
        ),
        (
            "1099-PATR to members by".into(),
            t(format!("{}-01-31", c.dates.payment_period_end.year() + 1)),
        ),
    ]));
    for n in &c.notes {
        s.blocks.push(Block::Para(format!("Note: {n}")));
    }
    d.sections.push(s);
    Ok(d)
}
