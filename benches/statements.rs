//! `coopledger statement --all` over a synthetic sealed close: every member's statement with its
//! Merkle sum proof, rendered to JSON and written one file per member (the tree is built once).
//!
//! Run: `cargo bench --bench statements`. Figures go to docs/PERFORMANCE.md ("Member statements").

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coopledger::book::{Book, Member, Status};
use coopledger::engine::state::Tranche;
use coopledger::seal;
use coopledger::statement::{
    self, render, AccountDoc, AllocationDoc, CloseDoc, DatesDoc, Generator, IdentityDoc, MemberDoc,
    PoolDoc, ReservesDoc, SealedYear, StateDoc,
};
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

fn cents(c: i64) -> String {
    Decimal::new(c, 2).to_string()
}

/// A book and one sealed year with `n` members, each with three tranches and an allocation.
fn synthetic(n: usize) -> (Book, Vec<SealedYear>) {
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
        accounts.push(AccountDoc {
            member_id: id.clone(),
            opening: cents(opening),
            contributions: "0.00".into(),
            allocations: cents(retained),
            losses: "0.00".into(),
            interest: "0.00".into(),
            redemptions: "0.00".into(),
            closing: cents(closing),
        });
        allocs.push(AllocationDoc {
            member_id: id.clone(),
            unit: "grocery".into(),
            patronage: Decimal::new(purchases, 2),
            measures: BTreeMap::from([("purchases".to_string(), Decimal::new(purchases, 2))]),
            amount: cents(alloc),
        });
        mdocs.push(MemberDoc {
            member_id: id,
            total: cents(alloc),
            cash: cents(cash),
            retained: cents(retained),
            notice: "qualified".into(),
            loss: "0.00".into(),
        });
    }
    let _ = total_purchases;
    let reserve = 12_345_678i64;
    let close = CloseDoc {
        fiscal_year: 2025,
        coop: "Synthetic Grocery Cooperative".into(),
        currency: "USD".into(),
        dates: DatesDoc {
            start: d(2025, 1, 1),
            end: d(2025, 12, 31),
        },
        pools: vec![PoolDoc {
            unit: "grocery".into(),
            name: "Grocery".into(),
            allocable: cents(total_alloc),
            loss_to_members: None,
        }],
        allocations: allocs,
        members: mdocs,
        reserves: ReservesDoc {
            closing: cents(reserve),
        },
        capital_accounts: accounts,
        identity: IdentityDoc {
            member_equity: cents(total_equity),
            unallocated: cents(reserve),
        },
        state: StateDoc { tranches },
    };
    let secret = seal::sha256_hex(b"synthetic close.json");
    let parts = match statement::leaf_parts(&close) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let (_, root, _) = seal::build_tree(&seal::leaves_from(parts, &secret));
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
    let year = SealedYear {
        fiscal_year: 2025,
        root: hex::encode(root),
        member_total: cents(total_equity),
        secret,
        close,
    };
    (book, vec![year])
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
            render::json(&s, &mut buf).unwrap_or_else(|e| panic!("{e}"));
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
            render::json(&s, &mut buf).unwrap_or_else(|e| panic!("{e}"));
            bytes += buf.len();
        }
        bytes
    });
}
