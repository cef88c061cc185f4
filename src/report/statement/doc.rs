//! A member statement as one [`Doc`]: the Markdown and HTML forms are written by the one renderer
//! stack in `crate::render` (one page shell, one escape, one chart module). The JSON form is the
//! statement itself (the contract `verify-statement` reads), not this document.

use crate::money::{Currency, Money};
use crate::report::doc::{Block, Cell, Chart, ChartKind, Doc, RowKind, Section, Series, Table};

use super::Statement;

/// An amount of the statement as a money cell (grouped for people), or as text when it is not one.
fn money(s: &Statement, amount: &str) -> Cell {
    Currency::from_code(&s.currency)
        .ok()
        .and_then(|c| Money::parse(amount, c).ok())
        .map(Cell::Money)
        .unwrap_or_else(|| Cell::text(amount))
}

/// `"1234.50"` → `"1,234.50"` in the statement's currency, for sentences.
fn grouped(s: &Statement, amount: &str) -> String {
    money(s, amount).human()
}

fn year(y: i32) -> Cell {
    Cell::Int(i64::from(y))
}

pub fn kind_label(kind: &str) -> String {
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

pub fn how_label(how: &str) -> &str {
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

/// The statement as a document: membership, equity, capital account, allocations, redemptions and
/// verification, in that order.
pub fn doc(s: &Statement) -> Doc {
    let mut d = Doc::new(
        "statement",
        format!("Member statement: {} ({})", s.name, s.member_id),
    );
    d.header = vec![
        ("Co-op".into(), Cell::text(&s.coop)),
        ("Fiscal year".into(), year(s.fiscal_year)),
        ("As of".into(), Cell::text(&s.as_of)),
        ("Amounts in".into(), Cell::text(&s.currency)),
    ];
    d.sections.push(membership(s));
    d.push_primary(equity(s), 2);
    d.sections.push(account(s));
    d.sections.push(allocations(s));
    d.sections.push(redemptions(s));
    d.sections.extend(after_close(s));
    d.sections.push(verification(s));
    d
}

fn membership(s: &Statement) -> Section {
    let mut fields = vec![
        (
            "Class".to_string(),
            Cell::text(format!("{} ({})", s.class_name, s.class)),
        ),
        ("Voting rights".into(), Cell::text(&s.voting)),
        ("Status".into(), Cell::text(&s.status.state)),
        ("Joined".into(), Cell::text(&s.status.joined)),
    ];
    if let Some(l) = &s.status.left {
        fields.push(("Left".into(), Cell::text(l)));
    }
    if let Some(o) = &s.status.owed {
        fields.push(("Owed to you".into(), money(s, o)));
    }
    let mut blocks = vec![
        Block::Fields(fields),
        Block::Para(s.status.explanation.clone()),
    ];
    if !s.status.payout.is_empty() {
        let mut t = Table::new(&[("fiscal_year", "Fiscal year"), ("payout", "Payout")]);
        t.body(&s.status.payout, |p| {
            vec![year(p.fiscal_year), money(s, &p.amount)]
        });
        blocks.push(Block::Table(t));
    }
    Section::with("membership", "Membership", blocks)
}

/// Closing equity by sealed fiscal year.
fn chart(s: &Statement) -> Chart {
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
        .map(|a| match money(s, &a.closing) {
            Cell::Money(m) => Some(m.amount()),
            _ => None,
        })
        .collect();
    c.series = vec![Series::new("closing equity", closing)];
    c
}

fn equity(s: &Statement) -> Section {
    let e = &s.equity;
    let key = format!(
        "Your equity at the end of fiscal year {} is {}: {} of all member equity ({}) and {} of the co-op's community wealth ({} = member equity plus the collective reserve of {}).",
        s.fiscal_year,
        grouped(s, &e.total),
        e.share_of_member_equity,
        grouped(s, &e.member_equity),
        e.share_of_community_wealth,
        grouped(s, &e.community_wealth),
        grouped(s, &e.collective_reserve)
    );
    let mut t = Table::new(&[
        ("allocation_year", "Allocation year"),
        ("kind", "Kind"),
        ("amount", "Amount"),
        ("expected_payout_year", "Expected payout year"),
        ("payout", "How it is paid out"),
    ]);
    t.body(&e.tranches, |l| {
        vec![
            year(l.allocation_year),
            Cell::text(kind_label(&l.kind)),
            money(s, &l.amount),
            l.expected_payout_year
                .map(year)
                .unwrap_or_else(|| Cell::text("–")),
            Cell::text(&l.payout),
        ]
    });
    t.push(
        RowKind::Total,
        vec![
            Cell::text("Total"),
            Cell::Empty,
            money(s, &e.total),
            Cell::Empty,
            Cell::Empty,
        ],
    );
    let blocks = vec![Block::Para(key), Block::Chart(chart(s)), Block::Table(t)];
    Section::with("equity", "Your equity", blocks)
}

fn account(s: &Statement) -> Section {
    let mut t = Table::new(&[
        ("fiscal_year", "Fiscal year"),
        ("opening", "Opening"),
        ("contributions", "Contributions"),
        ("allocations", "Allocations"),
        ("losses", "Losses"),
        ("interest", "Interest"),
        ("redemptions", "Redemptions"),
        ("closing", "Closing"),
    ]);
    t.body(&s.history, |a| {
        vec![
            year(a.fiscal_year),
            money(s, &a.opening),
            money(s, &a.contributions),
            money(s, &a.allocations),
            money(s, &a.losses),
            money(s, &a.interest),
            money(s, &a.redemptions),
            money(s, &a.closing),
        ]
    });
    Section::with("account", "Capital account by year", vec![Block::Table(t)])
}

fn allocations(s: &Statement) -> Section {
    if s.allocations.is_empty() {
        return Section::with(
            "allocations",
            "Allocation history",
            vec![Block::Para("No allocations in the sealed years.".into())],
        );
    }
    let mut t = Table::new(&[
        ("fiscal_year", "Fiscal year"),
        ("allocated", "Allocated"),
        ("cash", "Cash"),
        ("retained", "Retained"),
        ("notice", "Notice"),
        ("loss", "Loss charged"),
    ]);
    t.body(&s.allocations, |y| {
        vec![
            year(y.fiscal_year),
            money(s, &y.total),
            money(s, &y.cash),
            money(s, &y.retained),
            Cell::text(&y.notice),
            money(s, &y.loss),
        ]
    });
    let mut blocks = vec![Block::Table(t)];
    for y in &s.allocations {
        blocks.push(Block::Para(format!("{}: {}", y.fiscal_year, y.explanation)));
    }
    Section::with("allocations", "Allocation history", blocks)
}

/// A table of redemption lines.
fn redemption_table(s: &Statement, lines: &[super::RedemptionLine]) -> Table {
    let mut t = Table::new(&[
        ("fiscal_year", "Fiscal year"),
        ("allocation_year", "Allocation year"),
        ("kind", "Kind"),
        ("how", "How"),
        ("amount", "Amount"),
    ]);
    t.body(lines, |r| {
        vec![
            year(r.fiscal_year),
            year(r.allocation_year),
            Cell::text(kind_label(&r.kind)),
            Cell::text(how_label(&r.how)),
            money(s, &r.amount),
        ]
    });
    t
}

/// The redemptions of the statement year sealed after its close: shown, marked as not covered.
fn after_close(s: &Statement) -> Option<Section> {
    let a = s.after_close.as_ref()?;
    let blocks = vec![
        Block::Note(format!(
            "Not covered by the proof of this statement: the redemptions of fiscal year {} were sealed by coopledger revolve after the close, in closes/{}/redemptions.json; the co-op's coopledger verify checks that file against the year's manifest.",
            s.fiscal_year, s.fiscal_year
        )),
        Block::Table(redemption_table(s, &a.redemptions)),
        Block::Para(format!(
            "After the redemptions of fiscal year {} sealed since the close, your equity is {}.",
            s.fiscal_year,
            grouped(s, &a.equity)
        )),
    ];
    Some(Section::with(
        "after_close",
        "Since the close (not covered by the proof)",
        blocks,
    ))
}

fn redemptions(s: &Statement) -> Section {
    let mut fields = Vec::new();
    if s.redemptions.is_empty() {
        fields.push((
            "Paid-in capital refunded".to_string(),
            Cell::text("none recorded in the sealed years"),
        ));
    }
    for r in &s.redemptions {
        fields.push((
            format!("Paid-in capital refunded in {}", r.fiscal_year),
            money(s, &r.amount),
        ));
    }
    if s.loss_charges.is_empty() {
        fields.push(("Loss charges".into(), Cell::text("none")));
    }
    for r in &s.loss_charges {
        fields.push((
            format!("Loss charged in {}", r.fiscal_year),
            money(s, &r.amount),
        ));
    }
    let mut blocks = vec![Block::Fields(fields)];
    if s.sealed_redemptions.is_empty() {
        blocks.push(Block::Para(
            "Equity redemptions sealed by coopledger revolve for the years before: none.".into(),
        ));
    } else {
        let t = redemption_table(s, &s.sealed_redemptions);
        blocks.push(Block::Para(
            "Equity redemptions sealed by coopledger revolve for the years before:".into(),
        ));
        blocks.push(Block::Table(t));
    }
    Section::with("redemptions", "Redemptions and loss charges", blocks)
}

fn verification(s: &Statement) -> Section {
    let blocks = vec![
        Block::Para(format!(
            "This statement is a leaf of the Merkle sum tree whose root is published as member_root in closes/{}/manifest.json. The proof binds every figure and text of this statement except: {}. Check the JSON form with: coopledger verify-statement FILE --root {}",
            s.fiscal_year,
            not_covered(s),
            s.root
        )),
        Block::Fields(vec![
            ("Root".into(), Cell::text(&s.root)),
            (
                "Total of all members' equity".into(),
                money(s, &s.member_total),
            ),
            ("Proof steps".into(), Cell::Int(s.proof.len() as i64)),
        ]),
    ];
    Section::with("verification", "Verification", blocks)
}

/// The fields the proof does not bind, for people.
fn not_covered(s: &Statement) -> String {
    let v: Vec<&str> = s
        .not_covered
        .iter()
        .map(|f| match f.as_str() {
            "as_of" => "the as-of date you asked for",
            "after_close" => "what was sealed after the close (shown under \"Since the close\")",
            other => other,
        })
        .collect();
    v.join("; ")
}
