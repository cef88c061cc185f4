//! Load + validate + aggregate a generated consumer co-op at 1M and 10M patronage rows.
//!
//! `cargo bench --bench aggregate`. The books are generated once per run into a temporary
//! directory (never committed). `scan` is what `coopledger check` runs on a clean ledger (the
//! small files, then the parallel `patronage::scan::scan`); `polars` the same through polars' streaming
//! engine (`patronage::polars::activity`, used for quoted files); `fold` the plain-Rust row-by-row oracle;
//! `close_dry_run` what `coopledger close --dry-run` computes (load, aggregate, close). See `benches/compare.sh` for the
//! side-by-side figures against DuckDB and `docs/PERFORMANCE.md` for the results.
use std::path::PathBuf;
use std::sync::OnceLock;

use coopledger::book;
use coopledger::book::gen::{write_book, Spec};

fn main() {
    divan::main();
}

struct Generated {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn generated(rows: u64) -> &'static Generated {
    static ONE: OnceLock<Generated> = OnceLock::new();
    static TEN: OnceLock<Generated> = OnceLock::new();
    let cell = if rows <= 1_000_000 { &ONE } else { &TEN };
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("book");
        let members = (rows / 100).max(1_000);
        write_book(&path, &Spec::new(members, rows, 42), &mut |_| {}).expect("the generated book");
        Generated { _dir: dir, path }
    })
}

const SIZES: &[u64] = &[1_000_000, 10_000_000];

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn scan(bencher: divan::Bencher, rows: u64) {
    let g = generated(rows);
    bencher.bench(|| {
        let (b, _) = book::load(&g.path);
        let b = b.expect("a clean book");
        let r = coopledger::book::patronage::scan::scan(&b).expect("the parallel scan");
        assert_eq!(r.problem_rows, 0);
        r
    });
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn close_dry_run(bencher: divan::Bencher, rows: u64) {
    let g = generated(rows);
    bencher.bench(|| {
        let (b, _) = book::load(&g.path);
        let b = b.expect("a clean book");
        let (activity, d) = coopledger::activity(&b);
        assert!(!d.has_errors());
        let (prior, _) =
            coopledger::ledger::prior_state_in_memory(&b, 2025, &activity).expect("a prior state");
        coopledger::engine::close::close(&b, 2025, &activity, &prior).expect("the close")
    });
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn polars(bencher: divan::Bencher, rows: u64) {
    let g = generated(rows);
    bencher.bench(|| {
        let (b, _) = book::load(&g.path);
        let b = b.expect("a clean book");
        let r = coopledger::book::patronage::polars::activity(&b).expect("the polars path");
        assert_eq!(r.problem_rows, 0);
        r
    });
}

#[divan::bench(args = SIZES, sample_count = 2, sample_size = 1)]
fn fold(bencher: divan::Bencher, rows: u64) {
    let g = generated(rows);
    bencher.bench(|| {
        let (b, _) = book::load(&g.path);
        book::patronage::fold(&b.expect("a clean book"))
    });
}
