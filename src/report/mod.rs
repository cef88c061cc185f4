//! Report data and renderers for the close. Every renderer writes bytes; nothing prints.

pub mod assets;
pub mod close;
pub mod close_summary;
pub mod clt;
pub mod doc;
pub mod e2c;
pub mod forecast;
pub mod journal;
pub mod kinds;
pub mod redemption;
pub mod statement;
pub mod unclaimed;
pub mod view;
pub mod wealth;
