//! Pure, deterministic computations on a valid book.

pub mod close;
