//! One integration-test binary (see DESIGN.md §5).
mod assets;
mod check;
mod cli;
mod close;
mod common;
mod crash;
mod e2c;
mod fuzz;
mod injection;
mod joint;
mod layers;
mod patronage;
mod report;
mod revolve;
mod setoff;
mod statement;
mod unclaimed;
