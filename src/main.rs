//! The `coopledger` command line. All logic lives in the library; this file only dispatches.
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = coopledger::cli::Cli::parse();
    match coopledger::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // a closed pipe (`| head`) is not an error
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
