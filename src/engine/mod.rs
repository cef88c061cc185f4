//! Pure, deterministic computations on a valid book.

pub mod assets;
pub mod close;
pub mod clt;
pub mod revolve;
pub mod state;
