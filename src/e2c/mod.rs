//! Exit to Community (E2C) modeller: from today's cap table to year-by-year ownership under three
//! lenses (votes, economic claims, legal title) as routes such as a capped-return redemption,
//! a seller note, a UK EOT, a co-op conversion, steward-ownership or community shares run.
//!
//! Data flows one way: scenario TOML + `captable.csv` → [`scenario::load`] (every problem as a
//! diagnostic naming the file and key) → [`engine::run`] (routes transform a yearly
//! [`model::State`], [`lens::view`] takes the lenses, [`metrics`] the measures) →
//! [`engine::E2cReport`], the report data. [`crate::report::e2c`] turns it into a document (and
//! its JSON), [`crate::render`] writes it, and the command is `crate::cli::e2c`. See `docs/E2C.md`.

pub mod book;
pub mod captable;
pub mod engine;
pub mod lens;
pub mod metrics;
pub mod model;
pub mod num;
pub mod read;
pub mod routes;
pub mod scenario;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::diag::{Diagnostic, Diagnostics};
pub use engine::E2cReport;
use model::EngineError;

/// Loads a scenario and runs it. `Err` holds the problems (at least one error); `Ok` carries the
/// report and any warnings.
pub fn load_and_run(path: &Path) -> Result<(E2cReport, Diagnostics), Diagnostics> {
    let (sc, mut diags) = scenario::load(path);
    let Some(sc) = sc else {
        return Err(diags);
    };
    match engine::run(&sc) {
        Ok(r) => Ok((r, diags)),
        Err(e) => {
            diags.push(engine_diag(&sc.file, &e));
            Err(diags)
        }
    }
}

/// An engine failure as a diagnostic on the scenario file.
pub fn engine_diag(file: &str, e: &EngineError) -> Diagnostic {
    match e {
        EngineError::Input {
            code,
            key,
            message,
            hint,
        } => Diagnostic::error(code, file, 0, 0)
            .msg(format!("`{key}`: {message}"))
            .hint(hint.clone()),
        EngineError::Arith(a) => Diagnostic::error(read::code::ARITH, file, 0, 0)
            .msg(a.to_string())
            .hint("an amount in the scenario or cap table is far too large, or a price is zero"),
    }
}
