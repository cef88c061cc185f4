//! The `coopledger` command line. All logic lives in the library; this file only dispatches.
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    coopledger::cli::main(coopledger::cli::Cli::parse())
}
