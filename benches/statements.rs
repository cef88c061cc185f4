//! `coopledger statement --all` over a synthetic sealed close: every member's statement with its
//! Merkle sum proof, rendered to JSON and written one file per member (the tree is built once).
//!
//! Run: `cargo bench --bench statements`. Figures go to docs/PERFORMANCE.md ("Member statements").

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coopledger::book::{Book, Member, Status};
use coopledger::engine::state::{State, Tranche};
use coopledger::ledger::merkle;
use coopledger::ledger::record::{
    CapitalAccount, CloseRecord, Dates, Deficit, Identity, Member as MemberRecord, Pool, Reserves,
    Totals,
};
use coopledger::ledger::{self, SealedClose, SealedHistory};
use coopledger::report::statement::{self, Generator};
use rust_decimal::Decimal;

fn main() {
    divan::main();
}

const COOP_TOML: &str = r#"schema = 1
name = "Synthetic Grocery Cooperative"
kind = "consumer"
currency = "USD"
fiscal_year_end = "12-31"

[[classes]]
id = "consumer"
name = "Consumer member"
votes = 1

[[units]]
id = "grocery"
name = "Grocery"
measures = { purchases = "1" }

[policy]
reserve_pct = "10"
cash_pct = "20"
notice = "qualified"

[redemption]
plan = "revolving_fund"
cycle_years = 7
leaver_installments = 2
"#;

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// A book and one sealed year with `n` members, each with three tranches and an allocation.
fn synthetic(n: usize) -> (Book, SealedHistory) {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or(NaiveDate::MIN);
    let mut members = Vec::with_capacity(n);
    let mut accounts = Vec::with_capacity(n);
    let mut allocs = Vec::with_capacity(n);
    let mut mdocs = Vec::with_capacity(n);
    let mut tranches = Vec::with_capacity(3 * n);
    let mut total_alloc = 0i64;
    let mut total_equity = 0i64;
    let mut total_purchases = 0i64;
    for i in 0..n {
        let id = format!("M{i:07}");
        let left = (i % 97 == 0).then(|| d(2024, 6, 30));
        members.push(Member {
            id: id.clone(),
            name: format!("Member {i}"),
            class: "consumer".into(),
            joined: d(2015 + (i % 9) as i32, 1 + (i % 12) as u32, 1),
            left,
            status: if left.is_some() {
                Status::Left
            } else {
                Status::Active
            },
            birth_date: None,
            line: i as u64 + 2,
        });
        let share = 10_000i64;
        let older = 5_000 + (i as i64 * 37) % 20_000;
        let purchases = 100_000 + (i as i64 * 7919) % 900_000;
        let alloc = purchases / 50;
        let cash = (alloc + 4) / 5;
        let retained = alloc - cash;
        total_alloc += alloc;
        total_purchases += purchases;
        let opening = share + older;
        let closing = opening + retained;
        total_equity += closing;
        for (y, k, a) in [
            (2015, "membership_share", share),
            (2020, "qualified", older),
            (2025, "qualified", retained),
        ] {
            tranches.push(Tranche {
                member_id: id.clone(),
                allocation_year: y,
                kind: k.into(),
                amount: Decimal::new(a, 2),
            });
        }
        accounts.push(CapitalAccount {
            member_id: id.clone(),
            opening: cents(opening),
            contributions: cents(0),
            allocations: cents(retained),
            losses: cents(0),
            interest: cents(0),
            redemptions: cents(0),
            closing: cents(closing),
        });
        allocs.push(coopledger::ledger::record::Allocation {
            member_id: id.clone(),
            unit: "grocery".into(),
            patronage: Decimal::new(purchases, 2),
            measures: BTreeMap::from([("purchases".to_string(), Decimal::new(purchases, 2))]),
            amount: cents(alloc),
        });
        mdocs.push(MemberRecord {
            member_id: id,
            name: format!("Member {i}"),
            total: cents(alloc),
            cash: cents(cash),
            retained: cents(retained),
            notice: "qualified".into(),
            carried_in: cents(0),
            carried_out: cents(0),
            minimum_check: None,
            loss: cents(0),
            loss_shortfall: cents(0),
        });
    }
    let _ = total_purchases;
    let reserve = 12_345_678i64;
    let z = cents(0);
    let close = CloseRecord {
        fiscal_year: 2025,
        coop: "Synthetic Grocery Cooperative".into(),
        currency: "USD".into(),
        dates: Dates {
            start: d(2025, 1, 1),
            end: d(2025, 12, 31),
            payment_period_end: d(2026, 9, 15),
            qualified_check_deadline: d(2026, 11, 30),
        },
        pools: vec![Pool {
            unit: "grocery".into(),
            name: "Grocery".into(),
            patronage_margin: cents(total_alloc),
            member_fraction: Decimal::ONE,
            member_share: cents(total_alloc),
            nonmember_share: z,
            stock_dividends: z,
            netting: z,
            loss_recovered: z,
            reserve: z,
            allocable: cents(total_alloc),
            loss_to_members: z,
            loss_to_collective: z,
            eligible_members: n,
        }],
        allocations: allocs,
        members: mdocs,
        reserves: Reserves {
            opening: cents(reserve),
            nonmember_share: z,
            board_reserve: z,
            nonpatronage_income: z,
            income_tax: z,
            loss_to_collective: z,
            loss_carried: z,
            loss_recovered: z,
            nonmember_refunds_payable: z,
            loss_shortfall_absorbed: z,
            addition: z,
            closing: cents(reserve),
        },
        deficit: Deficit {
            opening: z,
            added: z,
            recovered: z,
            closing: z,
        },
        capital_accounts: accounts,
        identity: Identity {
            member_equity: cents(total_equity),
            unallocated: cents(reserve),
            other_stock: z,
            sum: cents(total_equity + reserve),
            net_worth: None,
            difference: None,
            balanced: None,
        },
        tranches_created: Vec::new(),
        tranches_cancelled: Vec::new(),
        totals: Totals {
            patronage_margin: cents(total_alloc),
            member_share: cents(total_alloc),
            nonmember_share: z,
            stock_dividends: z,
            reserve: z,
            allocated: cents(total_alloc),
            cash: z,
            retained: z,
            carried_out: z,
            losses_to_members: z,
        },
        notes: Vec::new(),
        state: State {
            fiscal_year: 2025,
            tranches,
            unallocated: cents(reserve),
            deficit: z,
            carried_cash: BTreeMap::new(),
        },
    };
    let secret = ledger::sha256_hex(b"synthetic close.json");
    // the book's members.csv and coop.toml, loaded the way the command loads them
    let dir = std::env::temp_dir().join(format!("coopledger-bench-statements-{n}"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("coop.toml"), COOP_TOML).unwrap_or_else(|e| panic!("{e}"));
    let mut csv = String::from("member_id,name,class,joined,left,status,birth_date\n");
    for m in &members {
        let (left, status) = match m.left {
            Some(l) => (l.to_string(), "left"),
            None => (String::new(), "active"),
        };
        csv.push_str(&format!(
            "{},{},{},{},{left},{status},\n",
            m.id, m.name, m.class, m.joined
        ));
    }
    std::fs::write(dir.join("members.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
    for (f, header) in [
        ("patronage.csv", "date,member_id,unit,measure,amount"),
        ("results.csv", "fiscal_year,unit,line,amount"),
        ("contributions.csv", "date,member_id,kind,amount,note"),
        ("equity.csv", "member_id,allocation_year,kind,amount"),
    ] {
        std::fs::write(dir.join(f), format!("{header}\n")).unwrap_or_else(|e| panic!("{e}"));
    }
    let book = match coopledger::book::load(&dir) {
        (Some(b), _) => b,
        (None, d) => panic!(
            "synthetic book does not load: {:?}",
            d.into_sorted().first()
        ),
    };
    let year = SealedClose {
        fiscal_year: 2025,
        root: String::new(),
        member_total: cents(total_equity).to_string(),
        secret,
        record: close,
    };
    let mut sealed = SealedHistory {
        closes: vec![year],
        redemptions: Vec::new(),
    };
    // the root sealing publishes: the tree over the statement bodies
    let bodies = statement::sealing_bodies(&book, &sealed).unwrap_or_else(|e| panic!("{e}"));
    let (_, root, _) = merkle::build_tree(&merkle::leaves_from(bodies, &sealed.closes[0].secret));
    sealed.closes[0].root = hex::encode(root);
    (book, sealed)
}

/// Everything `statement --all -O json -o DIR` does after reading the close: rebuild the tree,
/// make each statement with its proof, render it and write it under its safe file name.
#[divan::bench(args = [10_000, 100_000], sample_count = 3, sample_size = 1)]
fn all_json_to_files(bencher: divan::Bencher, n: usize) {
    let (book, years) = synthetic(n);
    bencher.bench_local(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let as_of = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or(NaiveDate::MIN);
        let gen = Generator::new(&book, &years, as_of).unwrap_or_else(|e| panic!("{e}"));
        let mut buf = Vec::with_capacity(8192);
        let mut written = 0usize;
        for id in gen.members() {
            let s = gen.statement(id).unwrap_or_else(|e| panic!("{e}"));
            buf.clear();
            buf.extend(coopledger::render::json_bytes(&s).unwrap_or_else(|e| panic!("{e}")));
            std::fs::write(dir.path().join(statement::file_name(id, "json")), &buf)
                .unwrap_or_else(|e| panic!("{e}"));
            written += 1;
        }
        assert_eq!(written, n);
        dir
    });
}

/// The same without the file system: tree, statements, proofs and JSON rendering only.
#[divan::bench(args = [100_000], sample_count = 3, sample_size = 1)]
fn all_json_in_memory(bencher: divan::Bencher, n: usize) {
    let (book, years) = synthetic(n);
    bencher.bench_local(|| {
        let as_of = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or(NaiveDate::MIN);
        let gen = Generator::new(&book, &years, as_of).unwrap_or_else(|e| panic!("{e}"));
        let mut bytes = 0usize;
        let mut buf = Vec::with_capacity(8192);
        for id in gen.members() {
            let s = gen.statement(id).unwrap_or_else(|e| panic!("{e}"));
            buf.clear();
            buf.extend(coopledger::render::json_bytes(&s).unwrap_or_else(|e| panic!("{e}")));
            bytes += buf.len();
        }
        bytes
    });
}
