//! Statement renderers: JSON (the contract), Markdown and self-contained HTML with an inline SVG
//! chart. Everything taken from the books is escaped; output is byte-stable.

use std::io::Write;

use crate::money::{Currency, Money};
use crate::render::escape::{html as esc, markdown as md_esc};
use crate::report::doc::{Chart, ChartKind, Series};

use crate::report::statement::Statement;

pub fn json(s: &Statement, w: &mut dyn Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// `"1234.50"` → `"1,234.50"` in the statement's currency (unchanged when it is not an amount).
fn g(s: &Statement, amount: &str) -> String {
    Currency::from_code(&s.currency)
        .ok()
        .and_then(|c| Money::parse(amount, c).ok())
        .map(|m| m.grouped())
        .unwrap_or_else(|| amount.to_string())
}

fn kind_label(kind: &str) -> String {
    match kind {
        "qualified" => "retained patronage (qualified)".into(),
        "nonqualified" => "retained patronage (nonqualified)".into(),
        "membership_share" => "membership share".into(),
        "capital" => "capital contribution".into(),
        "ica_fee" => "membership fee".into(),
        "in_kind" => "in-kind contribution".into(),
        "loss" => "loss charge".into(),
        "interest" => "interest credited".into(),
        k => k.replace('_', " "),
    }
}

fn how_label(how: &str) -> &str {
    match how {
        "cash" => "paid in cash",
        "set_off" => "set off against what you owe",
        "discount" => "estate discount",
        "converted_to_debt" => "converted to a debt owed to you",
        "loss_offset" => "netted against a loss",
        "transferred_out" => "passed to your joint member",
        "transferred_in" => "received from your joint member",
        h => h,
    }
}

fn after_sentence(s: &Statement) -> Option<String> {
    s.after_redemptions.as_ref().map(|a| {
        format!(
            "After the redemptions of fiscal year {} sealed since the close, your equity is {}.",
            s.fiscal_year,
            g(s, a)
        )
    })
}

fn payout_year(y: Option<i32>) -> String {
    y.map(|y| y.to_string()).unwrap_or_else(|| "–".into())
}

// ---------------------------------------------------------------- markdown

pub fn markdown(s: &Statement, w: &mut dyn Write) -> anyhow::Result<()> {
    let e = md_esc;
    writeln!(
        w,
        "# Member statement: {} ({})\n",
        e(&s.name),
        e(&s.member_id)
    )?;
    writeln!(
        w,
        "{} · fiscal year {} · as of {} · amounts in {}\n",
        e(&s.coop),
        s.fiscal_year,
        s.as_of,
        e(&s.currency)
    )?;
    writeln!(w, "## Membership\n")?;
    writeln!(w, "- Class: {} ({})", e(&s.class_name), e(&s.class))?;
    writeln!(w, "- Voting rights: {}", e(&s.voting))?;
    writeln!(w, "- Status: {}", e(&s.status.state))?;
    writeln!(w, "- Joined: {}", s.status.joined)?;
    if let Some(l) = &s.status.left {
        writeln!(w, "- Left: {l}")?;
    }
    writeln!(w, "\n{}\n", e(&s.status.explanation))?;
    if !s.status.payout.is_empty() {
        writeln!(w, "| Fiscal year | Payout |\n|---|---:|")?;
        for p in &s.status.payout {
            writeln!(w, "| {} | {} |", p.fiscal_year, g(s, &p.amount))?;
        }
        writeln!(w)?;
    }
    writeln!(w, "## Your equity\n")?;
    writeln!(
        w,
        "Your equity at the end of fiscal year {} is **{}**: {} of all member equity ({}) and {} of the co-op's community wealth ({} = member equity plus the collective reserve of {}).\n",
        s.fiscal_year,
        g(s, &s.equity.total),
        s.equity.share_of_member_equity,
        g(s, &s.equity.member_equity),
        s.equity.share_of_community_wealth,
        g(s, &s.equity.community_wealth),
        g(s, &s.equity.collective_reserve)
    )?;
    writeln!(
        w,
        "| Allocation year | Kind | Amount | Expected payout year | How it is paid out |\n|---|---|---:|---|---|"
    )?;
    for t in &s.equity.tranches {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            t.allocation_year,
            e(&kind_label(&t.kind)),
            g(s, &t.amount),
            payout_year(t.expected_payout_year),
            e(&t.payout)
        )?;
    }
    writeln!(w, "| **Total** | | **{}** | | |\n", g(s, &s.equity.total))?;
    if let Some(a) = after_sentence(s) {
        writeln!(w, "{}\n", e(&a))?;
    }
    writeln!(w, "## Capital account by year\n")?;
    writeln!(w, "| Fiscal year | Opening | Contributions | Allocations | Losses | Interest | Redemptions | Closing |\n|---|---:|---:|---:|---:|---:|---:|---:|")?;
    for a in &s.history {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            a.fiscal_year,
            g(s, &a.opening),
            g(s, &a.contributions),
            g(s, &a.allocations),
            g(s, &a.losses),
            g(s, &a.interest),
            g(s, &a.redemptions),
            g(s, &a.closing)
        )?;
    }
    writeln!(w, "\n## Allocation history\n")?;
    if s.allocations.is_empty() {
        writeln!(w, "No allocations in the sealed years.\n")?;
    } else {
        writeln!(
            w,
            "| Fiscal year | Allocated | Cash | Retained | Notice | Loss charged |\n|---|---:|---:|---:|---|---:|"
        )?;
        for y in &s.allocations {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                y.fiscal_year,
                g(s, &y.total),
                g(s, &y.cash),
                g(s, &y.retained),
                e(&y.notice),
                g(s, &y.loss)
            )?;
        }
        writeln!(w)?;
        for y in &s.allocations {
            writeln!(w, "- **{}**: {}", y.fiscal_year, e(&y.explanation))?;
        }
        writeln!(w)?;
    }
    writeln!(w, "## Redemptions and loss charges\n")?;
    if s.redemptions.is_empty() {
        writeln!(
            w,
            "- Paid-in capital refunded: none recorded in the sealed years."
        )?;
    }
    for r in &s.redemptions {
        writeln!(
            w,
            "- Paid-in capital refunded in {}: {}",
            r.fiscal_year,
            g(s, &r.amount)
        )?;
    }
    if s.loss_charges.is_empty() {
        writeln!(w, "- Loss charges: none.")?;
    }
    for r in &s.loss_charges {
        writeln!(
            w,
            "- Loss charged in {}: {}",
            r.fiscal_year,
            g(s, &r.amount)
        )?;
    }
    if s.sealed_redemptions.is_empty() {
        writeln!(
            w,
            "- Equity redemptions sealed by `coopledger revolve`: none."
        )?;
    } else {
        writeln!(
            w,
            "\n### Equity redemptions sealed by `coopledger revolve`\n"
        )?;
        writeln!(
            w,
            "| Fiscal year | Allocation year | Kind | How | Amount |\n|---|---|---|---|---:|"
        )?;
        for r in &s.sealed_redemptions {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} |",
                r.fiscal_year,
                r.allocation_year,
                e(&kind_label(&r.kind)),
                e(how_label(&r.how)),
                g(s, &r.amount)
            )?;
        }
    }
    writeln!(w, "\n## Verification\n")?;
    writeln!(
        w,
        "This statement is a leaf of the Merkle sum tree whose root is published as `member_root` in `closes/{}/manifest.json`:\n",
        s.fiscal_year
    )?;
    writeln!(w, "- Root: `{}`", s.root)?;
    writeln!(
        w,
        "- Total of all members' equity: {}",
        g(s, &s.member_total)
    )?;
    writeln!(w, "- Proof steps: {}", s.proof.len())?;
    writeln!(
        w,
        "\nCheck the JSON form with `coopledger verify-statement FILE --root {}`.",
        s.root
    )?;
    Ok(())
}

// ---------------------------------------------------------------- html

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #999}\
table{border-collapse:collapse;margin:.8rem 0;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.3rem 0}\
.meta{color:#333}.key{font-size:1.15rem}code{word-break:break-all;font-size:.85rem}\
svg text{font-size:11px;fill:#111}@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,figure{break-inside:avoid}}";

/// Closing equity by fiscal year, drawn by the one chart module (`render::chart`).
fn chart(s: &Statement) -> String {
    let cur = Currency::from_code(&s.currency).ok();
    let mut c = Chart::new(
        "Your equity at the end of each sealed fiscal year",
        ChartKind::Bars,
    );
    c.x_label = "fiscal year".into();
    c.y_label = s.currency.clone();
    c.categories = s
        .history
        .iter()
        .map(|a| a.fiscal_year.to_string())
        .collect();
    let closing = s
        .history
        .iter()
        .map(|a| {
            cur.and_then(|c| Money::parse(&a.closing, c).ok())
                .map(|m| m.amount())
        })
        .collect();
    c.series = vec![Series::new("closing equity", closing)];
    crate::render::chart::svg(&c)
}

pub fn html(s: &Statement, w: &mut dyn Write) -> anyhow::Result<()> {
    let e = esc;
    let title = format!("Member statement: {} ({})", s.name, s.member_id);
    writeln!(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(
        w,
        "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>",
        e(&title)
    )?;
    writeln!(w, "<h1>{}</h1>", e(&title))?;
    writeln!(
        w,
        "<p class=\"meta\">{} · fiscal year {} · as of {} · amounts in {}</p>\n</header>\n<main>",
        e(&s.coop),
        s.fiscal_year,
        e(&s.as_of),
        e(&s.currency)
    )?;
    writeln!(
        w,
        "<section aria-labelledby=\"membership\">\n<h2 id=\"membership\">Membership</h2>\n<dl>"
    )?;
    writeln!(
        w,
        "<dt>Class</dt><dd>{} ({})</dd>",
        e(&s.class_name),
        e(&s.class)
    )?;
    writeln!(w, "<dt>Voting rights</dt><dd>{}</dd>", e(&s.voting))?;
    writeln!(w, "<dt>Status</dt><dd>{}</dd>", e(&s.status.state))?;
    writeln!(w, "<dt>Joined</dt><dd>{}</dd>", e(&s.status.joined))?;
    if let Some(l) = &s.status.left {
        writeln!(w, "<dt>Left</dt><dd>{}</dd>", e(l))?;
    }
    writeln!(w, "</dl>\n<p>{}</p>", e(&s.status.explanation))?;
    if !s.status.payout.is_empty() {
        writeln!(w, "<table>\n<caption>What the co-op owes and when</caption>\n<thead><tr><th scope=\"col\">Fiscal year</th><th scope=\"col\" class=\"n\">Payout</th></tr></thead>\n<tbody>")?;
        for p in &s.status.payout {
            writeln!(
                w,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
                p.fiscal_year,
                e(&g(s, &p.amount))
            )?;
        }
        writeln!(w, "</tbody>\n</table>")?;
    }
    writeln!(w, "</section>")?;

    writeln!(
        w,
        "<section aria-labelledby=\"equity\">\n<h2 id=\"equity\">Your equity</h2>"
    )?;
    writeln!(
        w,
        "<p class=\"key\">Your equity at the end of fiscal year {} is <strong>{}</strong>: {} of all member equity ({}) and {} of the co-op's community wealth ({} = member equity plus the collective reserve of {}).</p>",
        s.fiscal_year,
        e(&g(s, &s.equity.total)),
        e(&s.equity.share_of_member_equity),
        e(&g(s, &s.equity.member_equity)),
        e(&s.equity.share_of_community_wealth),
        e(&g(s, &s.equity.community_wealth)),
        e(&g(s, &s.equity.collective_reserve))
    )?;
    writeln!(w, "{}", chart(s))?;
    writeln!(w, "<table>\n<caption>Equity by tranche</caption>\n<thead><tr><th scope=\"col\">Allocation year</th><th scope=\"col\">Kind</th><th scope=\"col\" class=\"n\">Amount</th><th scope=\"col\">Expected payout year</th><th scope=\"col\">How it is paid out</th></tr></thead>\n<tbody>")?;
    for t in &s.equity.tranches {
        writeln!(
            w,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            t.allocation_year,
            e(&kind_label(&t.kind)),
            e(&g(s, &t.amount)),
            payout_year(t.expected_payout_year),
            e(&t.payout)
        )?;
    }
    writeln!(
        w,
        "</tbody>\n<tfoot><tr><th scope=\"row\">Total</th><td></td><td class=\"n\"><strong>{}</strong></td><td></td><td></td></tr></tfoot>\n</table>",
        e(&g(s, &s.equity.total))
    )?;
    if let Some(a) = after_sentence(s) {
        writeln!(w, "<p>{}</p>", e(&a))?;
    }
    writeln!(w, "</section>")?;

    writeln!(
        w,
        "<section aria-labelledby=\"account\">\n<h2 id=\"account\">Capital account by year</h2>"
    )?;
    writeln!(w, "<table>\n<caption>Roll-forward of your capital account</caption>\n<thead><tr><th scope=\"col\">Fiscal year</th><th scope=\"col\" class=\"n\">Opening</th><th scope=\"col\" class=\"n\">Contributions</th><th scope=\"col\" class=\"n\">Allocations</th><th scope=\"col\" class=\"n\">Losses</th><th scope=\"col\" class=\"n\">Interest</th><th scope=\"col\" class=\"n\">Redemptions</th><th scope=\"col\" class=\"n\">Closing</th></tr></thead>\n<tbody>")?;
    for a in &s.history {
        writeln!(
            w,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            a.fiscal_year,
            e(&g(s, &a.opening)),
            e(&g(s, &a.contributions)),
            e(&g(s, &a.allocations)),
            e(&g(s, &a.losses)),
            e(&g(s, &a.interest)),
            e(&g(s, &a.redemptions)),
            e(&g(s, &a.closing))
        )?;
    }
    writeln!(w, "</tbody>\n</table>\n</section>")?;

    writeln!(
        w,
        "<section aria-labelledby=\"allocations\">\n<h2 id=\"allocations\">Allocation history</h2>"
    )?;
    if s.allocations.is_empty() {
        writeln!(w, "<p>No allocations in the sealed years.</p>")?;
    } else {
        writeln!(w, "<table>\n<caption>Patronage allocations</caption>\n<thead><tr><th scope=\"col\">Fiscal year</th><th scope=\"col\" class=\"n\">Allocated</th><th scope=\"col\" class=\"n\">Cash</th><th scope=\"col\" class=\"n\">Retained</th><th scope=\"col\">Notice</th><th scope=\"col\" class=\"n\">Loss charged</th></tr></thead>\n<tbody>")?;
        for y in &s.allocations {
            writeln!(
                w,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                y.fiscal_year,
                e(&g(s, &y.total)),
                e(&g(s, &y.cash)),
                e(&g(s, &y.retained)),
                e(&y.notice),
                e(&g(s, &y.loss))
            )?;
        }
        writeln!(w, "</tbody>\n</table>")?;
        for y in &s.allocations {
            writeln!(
                w,
                "<h3>{}</h3>\n<p>{}</p>",
                y.fiscal_year,
                e(&y.explanation)
            )?;
        }
    }
    writeln!(w, "</section>")?;

    writeln!(w, "<section aria-labelledby=\"redemptions\">\n<h2 id=\"redemptions\">Redemptions and loss charges</h2>\n<ul>")?;
    if s.redemptions.is_empty() {
        writeln!(
            w,
            "<li>Paid-in capital refunded: none recorded in the sealed years.</li>"
        )?;
    }
    for r in &s.redemptions {
        writeln!(
            w,
            "<li>Paid-in capital refunded in {}: {}</li>",
            r.fiscal_year,
            e(&g(s, &r.amount))
        )?;
    }
    if s.loss_charges.is_empty() {
        writeln!(w, "<li>Loss charges: none.</li>")?;
    }
    for r in &s.loss_charges {
        writeln!(
            w,
            "<li>Loss charged in {}: {}</li>",
            r.fiscal_year,
            e(&g(s, &r.amount))
        )?;
    }
    if s.sealed_redemptions.is_empty() {
        writeln!(
            w,
            "<li>Equity redemptions sealed by <code>coopledger revolve</code>: none.</li>"
        )?;
    }
    writeln!(w, "</ul>")?;
    if !s.sealed_redemptions.is_empty() {
        writeln!(w, "<table>\n<caption>Equity redemptions sealed by <code>coopledger revolve</code></caption>\n<thead><tr><th scope=\"col\">Fiscal year</th><th scope=\"col\">Allocation year</th><th scope=\"col\">Kind</th><th scope=\"col\">How</th><th scope=\"col\" class=\"n\">Amount</th></tr></thead>\n<tbody>")?;
        for r in &s.sealed_redemptions {
            writeln!(
                w,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                r.fiscal_year,
                r.allocation_year,
                e(&kind_label(&r.kind)),
                e(how_label(&r.how)),
                e(&g(s, &r.amount))
            )?;
        }
        writeln!(w, "</tbody>\n</table>")?;
    }
    writeln!(w, "</section>")?;

    writeln!(
        w,
        "<section aria-labelledby=\"verification\">\n<h2 id=\"verification\">Verification</h2>"
    )?;
    writeln!(
        w,
        "<p>This statement is a leaf of the Merkle sum tree whose root is published as <code>member_root</code> in <code>closes/{}/manifest.json</code>. Check the JSON form with <code>coopledger verify-statement FILE --root {}</code>.</p>",
        s.fiscal_year,
        e(&s.root)
    )?;
    writeln!(
        w,
        "<dl>\n<dt>Root</dt><dd><code>{}</code></dd>\n<dt>Total of all members' equity</dt><dd>{}</dd>\n<dt>Proof steps</dt><dd>{}</dd>\n</dl>\n</section>\n</main>\n</body>\n</html>",
        e(&s.root),
        e(&g(s, &s.member_total)),
        s.proof.len()
    )?;
    Ok(())
}
