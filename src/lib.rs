//! coopledger: exact, open books for cooperatives and community-owned enterprises.
//!
//! A book is a directory of plain files (`coop.toml` and CSV ledgers). The library reads it into
//! a validated [`book::Book`], runs pure computations on it (the year-end close, redemptions,
//! exit-to-community models) and renders reports. Money is exact ([`money::Money`]).
#![forbid(unsafe_code)]

pub mod book;
pub mod cli;
pub mod diag;
pub mod e2c;
pub mod engine;
pub mod fsutil;
pub mod ledger;
pub mod money;
pub mod render;
pub mod report;

pub use book::patronage::activity;
