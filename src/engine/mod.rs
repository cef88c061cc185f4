//! Pure, deterministic computations on a valid book.

pub mod assets;
pub mod close;
pub mod clt;
pub mod forecast;
pub mod revolve;
pub mod state;
pub mod unclaimed;
pub mod wealth;
