//! Report data and renderers for the close. Every renderer writes bytes; nothing prints.

pub mod close;
