//! Report data and renderers for the close. Every renderer writes bytes; nothing prints.

pub mod close;
pub mod doc;
pub mod e2c;
pub mod journal;
pub mod kinds;
pub mod statement;
pub mod view;
