//! coopledger: exact, open books for cooperatives and community-owned enterprises.
//!
//! A book is a directory of plain files (`coop.toml` and CSV ledgers). The library reads it into
//! a validated [`book::Book`], runs pure computations on it (the year-end close, redemptions,
//! exit-to-community models) and renders reports. Money is exact ([`money::Money`]).
#![forbid(unsafe_code)]

pub mod book;
pub mod cli;
pub mod clt;
pub mod diag;
pub mod e2c;
pub mod engine;
pub mod frame;
pub mod fsutil;
pub mod gen;
pub mod money;
pub mod redemption;
pub mod render;
pub mod report;
pub mod seal;
pub mod statement;
pub mod wealth;

/// The year's patronage activity of a valid book, with any problems in its rows.
/// Uses the polars aggregation when the ledger is clean and the located row-by-row fold otherwise.
pub fn activity(b: &book::Book) -> (book::patronage::Activity, diag::Diagnostics) {
    match frame::fast_activity(b) {
        Ok(r) if r.problem_rows == 0 => (r.activity, diag::Diagnostics::new()),
        _ => book::patronage::fold(b),
    }
}
