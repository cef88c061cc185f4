//! Reports of equity redemption: the revolvement schedule by allocation year, per-member
//! redemption statements, 1099-PATR box 5 amounts, the cash forecast, and their renderers
//! (text, markdown, self-contained HTML with an SVG chart, CSV, JSON). Report data is built from
//! the engine's [`Revolvement`]; every renderer returns bytes and prints nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::book::Book;
use crate::engine::revolve::{Revolvement, BOX5_KINDS};
use crate::engine::state::State;
use crate::engine::unclaimed::{Unclaimed, UnclaimedLine};
use crate::money::{Money, MoneyError};

/// One allocation year of the revolvement schedule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScheduleRow {
    pub allocation_year: i32,
    pub opening: Money,
    /// retired by the plan (cash and set-off)
    pub retired: Money,
    /// estates and age retirements (cash and discount), leavers converted to debt
    pub special: Money,
    /// loss offsets (equity moved between a member's tranches, no cash)
    pub offsets: Money,
    pub closing: Money,
}

/// One member's redemption statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Statement {
    pub member_id: String,
    pub name: String,
    pub opening: Money,
    pub cash: Money,
    /// equity retired against what the member owes the co-op (receivables.csv)
    pub set_off: Money,
    pub discount: Money,
    pub converted_to_debt: Money,
    pub offsets: Money,
    /// joint memberships: received from a deceased joint member (+) or passed to the survivor (−)
    pub transferred: Money,
    pub closing: Money,
    /// 1099-PATR box 5: redemptions of nonqualified equity paid
    pub box5: Money,
    pub unpaid: Money,
    /// (allocation year, kind, amount, reason)
    pub lines: Vec<(i32, String, Money, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub coop: String,
    pub revolvement: Revolvement,
    pub schedule: Vec<ScheduleRow>,
    pub statements: Vec<Statement>,
    /// exceptions: uncashed payments due for notice or forfeiture at the year end (filled by the
    /// caller from [`unclaimed`]; not part of the sealed JSON)
    pub unclaimed: Vec<UnclaimedLine>,
}

fn add(
    m: &mut BTreeMap<i32, [Money; 4]>,
    y: i32,
    i: usize,
    a: Money,
    z: Money,
) -> Result<(), MoneyError> {
    let e = m.entry(y).or_insert([z; 4]);
    e[i] = e[i].checked_add(&a)?;
    Ok(())
}

/// Builds the report of `rev`, computed from `state`.
pub fn build(book: &Book, state: &State, rev: &Revolvement) -> Result<Report, MoneyError> {
    let cur = book.config.currency;
    let z = Money::zero(cur);
    let fy = rev.fiscal_year;
    // schedule: [opening, retired, special, offsets] per allocation year
    let mut sch: BTreeMap<i32, [Money; 4]> = BTreeMap::new();
    // per member: [opening, cash, discount, to debt, offsets, box 5, set-off, transferred]
    let mut st: BTreeMap<String, [Money; 8]> = BTreeMap::new();
    let mut lines: BTreeMap<String, Vec<(i32, String, Money, String)>> = BTreeMap::new();
    let mut bump = |id: &str, i: usize, a: Money| -> Result<(), MoneyError> {
        let e = st.entry(id.to_string()).or_insert([z; 8]);
        e[i] = e[i].checked_add(&a)?;
        Ok(())
    };
    for t in state.tranches.iter().filter(|t| t.allocation_year < fy) {
        let a = Money::from_decimal(t.amount, cur)?;
        add(&mut sch, t.allocation_year, 0, a, z)?;
        bump(&t.member_id, 0, a)?;
    }
    // cash payments (column 1) and set-offs (column 6) retire equity alike
    for (list, column) in [(&rev.payments, 1), (&rev.set_offs, 6)] {
        for p in list {
            add(
                &mut sch,
                p.allocation_year,
                if p.special { 2 } else { 1 },
                p.amount,
                z,
            )?;
            bump(&p.member_id, column, p.amount)?;
            if BOX5_KINDS.contains(&p.kind.as_str()) {
                bump(&p.member_id, 5, p.amount)?;
            }
            lines.entry(p.member_id.clone()).or_default().push((
                p.allocation_year,
                p.kind.clone(),
                p.amount,
                p.reason.clone(),
            ));
        }
    }
    for t in &rev.transfers {
        // a move between members inside the allocation year: the schedule is unchanged
        let a = Money::from_decimal(t.amount, cur)?;
        bump(&t.member_id, 7, a.neg())?;
        bump(&t.to, 7, a)?;
        lines.entry(t.member_id.clone()).or_default().push((
            t.allocation_year,
            t.kind.clone(),
            a.neg(),
            t.reason.clone(),
        ));
        lines.entry(t.to.clone()).or_default().push((
            t.allocation_year,
            t.kind.clone(),
            a,
            format!("received from the deceased joint member `{}`", t.member_id),
        ));
    }
    for d in &rev.discounts {
        add(&mut sch, d.allocation_year, 2, d.amount, z)?;
        bump(&d.member_id, 2, d.amount)?;
        lines.entry(d.member_id.clone()).or_default().push((
            d.allocation_year,
            d.kind.clone(),
            d.amount,
            d.reason.clone(),
        ));
    }
    for c in &rev.conversions {
        add(&mut sch, c.allocation_year, 2, c.amount, z)?;
        bump(&c.member_id, 3, c.amount)?;
        lines.entry(c.member_id.clone()).or_default().push((
            c.allocation_year,
            c.kind.clone(),
            c.amount,
            c.reason.clone(),
        ));
    }
    for o in &rev.offsets {
        add(&mut sch, o.allocation_year, 3, o.amount, z)?;
        bump(&o.member_id, 4, o.amount)?;
    }
    let mut schedule = Vec::new();
    for (y, [o, r, s, f]) in sch {
        let closing = o.checked_sub(&r)?.checked_sub(&s)?.checked_sub(&f)?;
        schedule.push(ScheduleRow {
            allocation_year: y,
            opening: o,
            retired: r,
            special: s,
            offsets: f,
            closing,
        });
    }
    let mut unpaid: BTreeMap<&str, Money> = BTreeMap::new();
    for u in &rev.unpaid {
        let e = unpaid.entry(u.member_id.as_str()).or_insert(z);
        *e = e.checked_add(&u.amount)?;
    }
    let mut statements = Vec::new();
    for (id, [o, cash, disc, conv, off, box5, set_off, moved]) in st {
        let touched = !cash.is_zero()
            || !set_off.is_zero()
            || !disc.is_zero()
            || !conv.is_zero()
            || !off.is_zero()
            || !moved.is_zero()
            || unpaid.contains_key(id.as_str());
        if !touched {
            continue;
        }
        let closing = o
            .checked_sub(&cash)?
            .checked_sub(&set_off)?
            .checked_sub(&disc)?
            .checked_sub(&conv)?
            .checked_sub(&off)?
            .checked_add(&moved)?;
        let mut ls = lines.remove(&id).unwrap_or_default();
        ls.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        statements.push(Statement {
            name: book.member(&id).map(|m| m.name.clone()).unwrap_or_default(),
            opening: o,
            cash,
            set_off,
            discount: disc,
            converted_to_debt: conv,
            offsets: off,
            transferred: moved,
            closing,
            box5,
            unpaid: unpaid.get(id.as_str()).copied().unwrap_or(z),
            lines: ls,
            member_id: id,
        });
    }
    Ok(Report {
        coop: book.config.name.clone(),
        revolvement: rev.clone(),
        schedule,
        statements,
        unclaimed: Vec::new(),
    })
}

// ------------------------------------------------------------------ renderers

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
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

/// Escapes a markdown table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The JSON contract (`fiscal_year`, `plan`, `payments`, `total`, `unpaid`, ...), money as strings.
pub fn json(rev: &Revolvement) -> anyhow::Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(rev)?;
    v.push(b'\n');
    Ok(v)
}

/// Every amount of the year as one CSV table: `status` = paid | set_off | discount |
/// converted_to_debt | loss_offset | transferred_out | transferred_in | unpaid.
pub fn csv(rev: &Revolvement) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "fiscal_year",
        "status",
        "member_id",
        "allocation_year",
        "kind",
        "amount",
        "reason",
    ])?;
    let fy = rev.fiscal_year.to_string();
    for (status, list) in [("paid", &rev.payments), ("set_off", &rev.set_offs)] {
        for p in list {
            w.write_record([
                fy.as_str(),
                status,
                &p.member_id,
                &p.allocation_year.to_string(),
                &p.kind,
                &p.amount.to_string(),
                &p.reason,
            ])?;
        }
    }
    for (status, list) in [
        ("discount", &rev.discounts),
        ("converted_to_debt", &rev.conversions),
        ("loss_offset", &rev.offsets),
    ] {
        for r in list {
            w.write_record([
                fy.as_str(),
                status,
                &r.member_id,
                &r.allocation_year.to_string(),
                &r.kind,
                &r.amount.to_string(),
                &r.reason,
            ])?;
        }
    }
    let amount = |d: rust_decimal::Decimal| {
        Money::from_decimal(d, rev.total.currency())
            .map(|m| m.to_string())
            .unwrap_or_else(|_| d.to_string())
    };
    for t in &rev.transfers {
        w.write_record([
            fy.as_str(),
            "transferred_out",
            &t.member_id,
            &t.allocation_year.to_string(),
            &t.kind,
            &amount(t.amount),
            &t.reason,
        ])?;
        w.write_record([
            fy.as_str(),
            "transferred_in",
            &t.to,
            &t.allocation_year.to_string(),
            &t.kind,
            &amount(t.amount),
            &format!("received from the deceased joint member `{}`", t.member_id),
        ])?;
    }
    for u in &rev.unpaid {
        w.write_record([
            fy.as_str(),
            "unpaid",
            &u.member_id,
            "",
            "",
            &u.amount.to_string(),
            &u.reason,
        ])?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// A plain-text summary for the terminal.
pub fn text(r: &Report) -> String {
    let v = &r.revolvement;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: equity redemptions of fiscal year {} (plan: {})",
        r.coop, v.fiscal_year, v.plan
    );
    if let Some(b) = v.budget {
        let _ = writeln!(s, "budget {}", b.grouped());
    }
    if let Some(b) = v.solvency_limit {
        let _ = writeln!(s, "solvency limit {}", b.grouped());
    }
    let _ = writeln!(s, "\npayments");
    for p in &v.payments {
        let _ = writeln!(
            s,
            "  {:<10} {} {:<16} {:>14}  {}",
            p.member_id,
            p.allocation_year,
            p.kind,
            p.amount.grouped(),
            p.reason
        );
    }
    let _ = writeln!(s, "  total {:>46}", v.total.grouped());
    if !v.set_offs.is_empty() {
        let _ = writeln!(s, "\nset off against what members owe the co-op (no cash)");
        for p in &v.set_offs {
            let _ = writeln!(
                s,
                "  {:<10} {} {:<16} {:>14}",
                p.member_id,
                p.allocation_year,
                p.kind,
                p.amount.grouped(),
            );
        }
        let _ = writeln!(s, "  total {:>46}", v.set_off_total.grouped());
    }
    if !v.receivables.is_empty() {
        let _ = writeln!(
            s,
            "\nreceivables at the year end    outstanding        set off      remaining"
        );
        for r in &v.receivables {
            let _ = writeln!(
                s,
                "  {:<24} {:>14} {:>14} {:>14}",
                r.member_id,
                r.outstanding.grouped(),
                r.set_off.grouped(),
                r.remaining.grouped()
            );
        }
    }
    if !v.transfers.is_empty() {
        let _ = writeln!(s, "\njoint memberships: equity passed to the survivor");
        for t in &v.transfers {
            let _ = writeln!(
                s,
                "  {:<10} -> {:<10} {} {:<16} {:>14}",
                t.member_id, t.to, t.allocation_year, t.kind, t.amount
            );
        }
    }
    if !v.unpaid.is_empty() {
        let _ = writeln!(s, "\nnot paid");
        for u in &v.unpaid {
            let _ = writeln!(
                s,
                "  {:<10} {:>14}  {}",
                u.member_id,
                u.amount.grouped(),
                u.reason
            );
        }
    }
    for d in &v.debts {
        let _ = writeln!(
            s,
            "\n{} converted to debt: {} at {}% in {} installment(s)",
            d.member_id,
            d.principal,
            d.rate * rust_decimal::Decimal::ONE_HUNDRED,
            d.installments.len()
        );
        for i in &d.installments {
            let _ = writeln!(
                s,
                "  {}  interest {:>12}  principal {:>12}  payment {:>12}",
                i.fiscal_year, i.interest, i.principal, i.payment
            );
        }
    }
    if !v.debt_service.is_empty() {
        let _ = writeln!(s, "\ndebt service due this year");
        for d in &v.debt_service {
            let _ = writeln!(
                s,
                "  {:<10} {}/{}  interest {}  principal {}  payment {}",
                d.member_id, d.installment, d.of, d.interest, d.principal, d.payment
            );
        }
    }
    let _ = writeln!(s, "\ncash needed {}", v.cash_needed.grouped());
    if !r.unclaimed.is_empty() {
        let _ = writeln!(
            s,
            "\nunclaimed payments due for notice or forfeiture (uncashed.csv)"
        );
        for u in &r.unclaimed {
            let _ = writeln!(
                s,
                "  {:<10} {} {:<10} {:>14}  issued {}  {:>5} days  {}: {}",
                u.member_id,
                u.fiscal_year,
                u.source.name(),
                u.amount.grouped(),
                u.issued,
                u.age_days,
                u.status.name(),
                u.action
            );
        }
    }
    for n in &v.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// Markdown: schedule, statements, box 5, unpaid, debts.
pub fn markdown(r: &Report) -> String {
    let v = &r.revolvement;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} — equity redemptions, fiscal year {}\n\nPlan: `{}`. Total paid: **{}**. Cash needed (with debt service): **{}**.\n",
        md(&r.coop),
        v.fiscal_year,
        v.plan,
        v.total.grouped(),
        v.cash_needed.grouped()
    );
    let _ = writeln!(s, "## Revolvement schedule by allocation year\n\n| Allocation year | Opening | Retired | Special | Offsets | Closing |\n|---|---:|---:|---:|---:|---:|");
    for x in &r.schedule {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            x.allocation_year,
            x.opening.grouped(),
            x.retired.grouped(),
            x.special.grouped(),
            x.offsets.grouped(),
            x.closing.grouped()
        );
    }
    let _ = writeln!(s, "\n## Payments\n\n| Member | Allocation year | Kind | Amount | Reason |\n|---|---|---|---:|---|");
    md_payment_rows(&mut s, &v.payments, v.total);
    if !v.set_offs.is_empty() || !v.receivables.is_empty() {
        let _ = writeln!(s, "\n## Set-offs against what members owe\n\nEquity retired without cash: the amount is applied to what the member owes the co-op (receivables.csv).\n\n| Member | Allocation year | Kind | Amount | Reason |\n|---|---|---|---:|---|");
        md_payment_rows(&mut s, &v.set_offs, v.set_off_total);
        let _ = writeln!(
            s,
            "\n| Member | Owed at the year end | Set off | Still owed |\n|---|---:|---:|---:|"
        );
        for r in &v.receivables {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md(&r.member_id),
                r.outstanding.grouped(),
                r.set_off.grouped(),
                r.remaining.grouped()
            );
        }
    }
    if !v.transfers.is_empty() {
        let _ = writeln!(s, "\n## Joint memberships\n\nEquity of a deceased joint member passed to the surviving joint member (not retired; it keeps its allocation year).\n\n| From | To | Allocation year | Kind | Amount |\n|---|---|---|---|---:|");
        for t in &v.transfers {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                md(&t.member_id),
                md(&t.to),
                t.allocation_year,
                t.kind,
                t.amount
            );
        }
    }
    if !v.unpaid.is_empty() {
        let _ = writeln!(
            s,
            "\n## Not paid\n\n| Member | Amount | Reason |\n|---|---:|---|"
        );
        for u in &v.unpaid {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                md(&u.member_id),
                u.amount.grouped(),
                md(&u.reason)
            );
        }
    }
    let _ = writeln!(s, "\n## Member redemption statements\n\n| Member | Name | Opening | Cash | Set-off | Discount | To debt | Offsets | Joint transfer | Closing | Unpaid | 1099-PATR box 5 |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for m in &r.statements {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&m.member_id),
            md(&m.name),
            m.opening.grouped(),
            m.cash.grouped(),
            m.set_off.grouped(),
            m.discount.grouped(),
            m.converted_to_debt.grouped(),
            m.offsets.grouped(),
            m.transferred.grouped(),
            m.closing.grouped(),
            m.unpaid.grouped(),
            m.box5.grouped()
        );
    }
    let _ = writeln!(
        s,
        "\n## 1099-PATR box 5 (redemptions of nonqualified equity)\n"
    );
    let b5: Vec<&Statement> = r
        .statements
        .iter()
        .filter(|m| m.box5.is_positive())
        .collect();
    if b5.is_empty() {
        let _ = writeln!(s, "No nonqualified equity was redeemed.");
    } else {
        let _ = writeln!(s, "| Member | Name | Box 5 |\n|---|---|---:|");
        for m in b5 {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                md(&m.member_id),
                md(&m.name),
                m.box5.grouped()
            );
        }
    }
    if !v.debts.is_empty() || !v.debt_service.is_empty() {
        let _ = writeln!(s, "\n## Leaver debts\n\n| Member | Year | Opening | Interest | Principal | Payment |\n|---|---|---:|---:|---:|---:|");
        for d in &v.debts {
            for i in &d.installments {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} |",
                    md(&d.member_id),
                    i.fiscal_year,
                    i.opening,
                    i.interest,
                    i.principal,
                    i.payment
                );
            }
        }
        for d in &v.debt_service {
            let _ = writeln!(
                s,
                "| {} | due now ({}/{}) | | {} | {} | {} |",
                md(&d.member_id),
                d.installment,
                d.of,
                d.interest,
                d.principal,
                d.payment
            );
        }
    }
    if !r.unclaimed.is_empty() {
        let _ = writeln!(s, "\n## Unclaimed payments due for notice or forfeiture\n\n| Member | Fiscal year | Source | Amount | Issued | Age (days) | Status | Action |\n|---|---|---|---:|---|---:|---|---|");
        for u in &r.unclaimed {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&u.member_id),
                u.fiscal_year,
                u.source.name(),
                u.amount.grouped(),
                u.issued,
                u.age_days,
                u.status.name(),
                md(&u.action)
            );
        }
    }
    for n in &v.notes {
        let _ = writeln!(s, "\n> {}", md(n));
    }
    s
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0}}\nth,td{{border:1px solid #ccc;padding:.25em .6em}}\ntd.n{{text-align:right;font-variant-numeric:tabular-nums}}\n</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        esc(title),
        body
    )
}

fn table(head: &[&str], rows: &[Vec<(String, bool)>]) -> String {
    let mut s = String::from("<table>\n<tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for (c, num) in r {
            if *num {
                let _ = write!(s, "<td class=\"n\">{}</td>", esc(c));
            } else {
                let _ = write!(s, "<td>{}</td>", esc(c));
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// Markdown rows of payments (cash or set-off) and their total line.
fn md_payment_rows(s: &mut String, list: &[crate::engine::revolve::Payment], total: Money) {
    for p in list {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            md(&p.member_id),
            p.allocation_year,
            p.kind,
            p.amount.grouped(),
            md(&p.reason)
        );
    }
    let _ = writeln!(s, "| **Total** | | | **{}** | |", total.grouped());
}

/// The HTML table of payments (cash or set-off) with their total.
fn html_payment_table(list: &[crate::engine::revolve::Payment], total: Money) -> String {
    let mut rows: Vec<Vec<(String, bool)>> = list
        .iter()
        .map(|p| {
            vec![
                t(p.member_id.clone()),
                t(p.allocation_year.to_string()),
                t(p.kind.clone()),
                n(p.amount),
                t(p.reason.clone()),
            ]
        })
        .collect();
    rows.push(vec![t("Total"), t(""), t(""), n(total), t("")]);
    table(
        &["Member", "Allocation year", "Kind", "Amount", "Reason"],
        &rows,
    )
}

fn t(s: impl Into<String>) -> (String, bool) {
    (s.into(), false)
}
fn n(m: Money) -> (String, bool) {
    (m.grouped(), true)
}

/// A self-contained HTML page (no external resources; book text escaped).
pub fn html(r: &Report) -> String {
    let v = &r.revolvement;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>{} — equity redemptions, fiscal year {}</h1>\n<p>Plan: <code>{}</code>. Total paid: <b>{}</b>. Cash needed (with debt service): <b>{}</b>.</p>",
        esc(&r.coop),
        v.fiscal_year,
        esc(&v.plan),
        esc(&v.total.grouped()),
        esc(&v.cash_needed.grouped())
    );
    b.push_str("<h2>Revolvement schedule by allocation year</h2>\n");
    let rows: Vec<Vec<(String, bool)>> = r
        .schedule
        .iter()
        .map(|x| {
            vec![
                t(x.allocation_year.to_string()),
                n(x.opening),
                n(x.retired),
                n(x.special),
                n(x.offsets),
                n(x.closing),
            ]
        })
        .collect();
    b.push_str(&table(
        &[
            "Allocation year",
            "Opening",
            "Retired",
            "Special",
            "Offsets",
            "Closing",
        ],
        &rows,
    ));
    b.push_str("<h2>Payments</h2>\n");
    b.push_str(&html_payment_table(&v.payments, v.total));
    if !v.set_offs.is_empty() || !v.receivables.is_empty() {
        b.push_str("<h2>Set-offs against what members owe</h2>\n<p>Equity retired without cash: the amount is applied to what the member owes the co-op (receivables.csv).</p>\n");
        b.push_str(&html_payment_table(&v.set_offs, v.set_off_total));
        let rows: Vec<Vec<(String, bool)>> = v
            .receivables
            .iter()
            .map(|r| {
                vec![
                    t(r.member_id.clone()),
                    n(r.outstanding),
                    n(r.set_off),
                    n(r.remaining),
                ]
            })
            .collect();
        b.push_str(&table(
            &["Member", "Owed at the year end", "Set off", "Still owed"],
            &rows,
        ));
    }
    if !v.transfers.is_empty() {
        b.push_str("<h2>Joint memberships</h2>\n<p>Equity of a deceased joint member passed to the surviving joint member (not retired; it keeps its allocation year).</p>\n");
        let rows: Vec<Vec<(String, bool)>> = v
            .transfers
            .iter()
            .map(|x| {
                vec![
                    t(x.member_id.clone()),
                    t(x.to.clone()),
                    t(x.allocation_year.to_string()),
                    t(x.kind.clone()),
                    (x.amount.to_string(), true),
                ]
            })
            .collect();
        b.push_str(&table(
            &["From", "To", "Allocation year", "Kind", "Amount"],
            &rows,
        ));
    }
    if !v.unpaid.is_empty() {
        b.push_str("<h2>Not paid</h2>\n");
        let rows: Vec<Vec<(String, bool)>> = v
            .unpaid
            .iter()
            .map(|u| vec![t(u.member_id.clone()), n(u.amount), t(u.reason.clone())])
            .collect();
        b.push_str(&table(&["Member", "Amount", "Reason"], &rows));
    }
    b.push_str("<h2>Member redemption statements</h2>\n");
    let rows: Vec<Vec<(String, bool)>> = r
        .statements
        .iter()
        .map(|m| {
            vec![
                t(m.member_id.clone()),
                t(m.name.clone()),
                n(m.opening),
                n(m.cash),
                n(m.set_off),
                n(m.discount),
                n(m.converted_to_debt),
                n(m.offsets),
                n(m.transferred),
                n(m.closing),
                n(m.unpaid),
                n(m.box5),
            ]
        })
        .collect();
    b.push_str(&table(
        &[
            "Member",
            "Name",
            "Opening",
            "Cash",
            "Set-off",
            "Discount",
            "To debt",
            "Offsets",
            "Joint transfer",
            "Closing",
            "Unpaid",
            "1099-PATR box 5",
        ],
        &rows,
    ));
    for d in &v.debts {
        let _ = writeln!(b, "<h2>Debt to {}</h2>", esc(&d.member_id));
        let rows: Vec<Vec<(String, bool)>> = d
            .installments
            .iter()
            .map(|i| {
                vec![
                    t(i.fiscal_year.to_string()),
                    (i.opening.to_string(), true),
                    (i.interest.to_string(), true),
                    (i.principal.to_string(), true),
                    (i.payment.to_string(), true),
                ]
            })
            .collect();
        b.push_str(&table(
            &["Year", "Opening", "Interest", "Principal", "Payment"],
            &rows,
        ));
    }
    if !r.unclaimed.is_empty() {
        b.push_str("<h2>Unclaimed payments due for notice or forfeiture</h2>\n");
        let rows: Vec<Vec<(String, bool)>> = r
            .unclaimed
            .iter()
            .map(|u| {
                vec![
                    t(u.member_id.clone()),
                    t(u.fiscal_year.to_string()),
                    t(u.source.name()),
                    n(u.amount),
                    t(u.issued.to_string()),
                    (u.age_days.to_string(), true),
                    t(u.status.name()),
                    t(u.action.clone()),
                ]
            })
            .collect();
        b.push_str(&table(
            &[
                "Member",
                "Fiscal year",
                "Source",
                "Amount",
                "Issued",
                "Age (days)",
                "Status",
                "Action",
            ],
            &rows,
        ));
    }
    for x in &v.notes {
        let _ = writeln!(b, "<p>{}</p>", esc(x));
    }
    html_page(&format!("{} — redemptions {}", r.coop, v.fiscal_year), &b)
}

// ------------------------------------------------------------------ unclaimed payments

/// The unclaimed-payments report as a document (md, html, csv, json through [`crate::render`]).
pub fn unclaimed_doc(u: &Unclaimed) -> crate::report::doc::Doc {
    use crate::book::config::UnclaimedTo;
    use crate::report::doc::{Block, Cell, Doc, RowKind, Section, Table};
    let t = |s: &str| Cell::Text(s.to_string());
    let policy = match u.forfeit_years {
        Some(n) => format!(
            "forfeited {n} year(s) after issue, after {} days' written notice, to {}",
            u.notice_days,
            match u.forfeit_to {
                UnclaimedTo::Coop => "the co-op",
                UnclaimedTo::State => "the state (unclaimed property)",
            }
        ),
        None => "none set (unclaimed_forfeit_years in [redemption])".to_string(),
    };
    let mut doc = Doc {
        kind: "unclaimed",
        title: format!(
            "Unclaimed payments — {}, fiscal year {}",
            u.coop, u.fiscal_year
        ),
        header: vec![
            ("Cooperative".into(), t(&u.coop)),
            ("As of".into(), Cell::Date(u.as_of)),
            ("Currency".into(), t(&u.currency)),
            ("Policy".into(), Cell::Text(policy)),
            (
                "Source".into(),
                t("uncashed.csv, checked against the sealed redemptions and closes"),
            ),
        ],
        sections: Vec::new(),
        primary: None,
    };
    let mut s = Section::new("summary", "Summary");
    s.blocks.push(Block::Fields(vec![
        ("Uncashed payments".into(), Cell::Int(u.lines.len() as i64)),
        ("Total uncashed".into(), Cell::Money(u.total)),
        ("Due for forfeiture".into(), Cell::Money(u.forfeiture_due)),
        ("Due for notice".into(), Cell::Money(u.notice_due)),
    ]));
    doc.sections.push(s);
    let mut tab = Table::new(&[
        ("member_id", "Member"),
        ("name", "Name"),
        ("fiscal_year", "Fiscal year"),
        ("source", "Source"),
        ("amount", "Amount"),
        ("issued", "Issued"),
        ("age_days", "Age (days)"),
        ("age_years", "Age (years)"),
        ("notice_by", "Notice by"),
        ("forfeit_on", "Forfeit on"),
        ("status", "Status"),
        ("action", "Action"),
        ("note", "Note"),
    ]);
    let date = |d: Option<chrono::NaiveDate>| d.map(Cell::Date).unwrap_or(Cell::Empty);
    for l in &u.lines {
        tab.push(
            RowKind::Body,
            vec![
                t(&l.member_id),
                t(&l.name),
                Cell::Int(i64::from(l.fiscal_year)),
                t(l.source.name()),
                Cell::Money(l.amount),
                Cell::Date(l.issued),
                Cell::Int(l.age_days),
                Cell::Int(i64::from(l.age_years)),
                date(l.notice_by),
                date(l.forfeit_on),
                t(l.status.name()),
                t(&l.action),
                t(&l.note),
            ],
        );
    }
    let empty = vec![Cell::Empty; 4];
    let mut total = vec![t("Total")];
    total.extend(empty);
    total[4] = Cell::Money(u.total);
    total.extend(vec![Cell::Empty; 8]);
    tab.push(RowKind::Total, total);
    let mut s = Section::new("payments", "Uncashed payments, oldest first");
    if u.lines.is_empty() {
        s.blocks.push(Block::Para(
            "No uncashed payment issued by this date.".into(),
        ));
    }
    s.blocks.push(Block::Table(tab));
    let at = s.blocks.len() - 1;
    doc.push_primary(s, at);
    doc
}
