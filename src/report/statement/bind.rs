//! What a statement's proof binds: the digest of the canonical serialization of every field the
//! statement shows, except the few listed in [`NOT_COVERED`] (themselves listed in the bound body).
//! The same digest is computed when a year is sealed (from the statements the close makes) and by
//! `verify-statement` (from the statement alone). See `docs/STATEMENTS.md`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    Account, Equity, RedemptionLine, Statement, StatusInfo, YearAllocation, YearAmount, FORMAT,
    NOT_COVERED,
};
use crate::ledger::proof::{self, Claim, Failure};

/// The bound part of a statement, in the statement's own field order. Every field of
/// [`Statement`] is either here, in [`NOT_COVERED`], or part of the proof itself (`member_total`,
/// `salt`, `root`, `proof`).
#[derive(Serialize)]
struct Body<'a> {
    format: &'a str,
    coop: &'a str,
    member_id: &'a str,
    name: &'a str,
    class: &'a str,
    class_name: &'a str,
    votes: u32,
    voting: &'a str,
    fiscal_year: i32,
    currency: &'a str,
    status: &'a StatusInfo,
    equity: &'a Equity,
    capital_account: &'a Account,
    history: &'a [Account],
    allocations: &'a [YearAllocation],
    redemptions: &'a [YearAmount],
    loss_charges: &'a [YearAmount],
    sealed_redemptions: &'a [RedemptionLine],
    not_covered: &'a [String],
}

/// SHA-256 of `"coopledger-statement-body/2" ‖ 0x00 ‖ canonical JSON of the bound body` (compact
/// JSON of the fields in the order of [`Body`]; serde_json escapes strings one way only).
pub fn body_digest(s: &Statement) -> anyhow::Result<[u8; 32]> {
    let body = Body {
        format: &s.format,
        coop: &s.coop,
        member_id: &s.member_id,
        name: &s.name,
        class: &s.class,
        class_name: &s.class_name,
        votes: s.votes,
        voting: &s.voting,
        fiscal_year: s.fiscal_year,
        currency: &s.currency,
        status: &s.status,
        equity: &s.equity,
        capital_account: &s.capital_account,
        history: &s.history,
        allocations: &s.allocations,
        redemptions: &s.redemptions,
        loss_charges: &s.loss_charges,
        sealed_redemptions: &s.sealed_redemptions,
        not_covered: &s.not_covered,
    };
    let mut h = Sha256::new();
    h.update(b"coopledger-statement-body/2\0");
    h.update(serde_json::to_vec(&body)?);
    Ok(h.finalize().into())
}

/// What the statement claims about its member's leaf in the member tree.
fn claim(s: &Statement, body: [u8; 32]) -> Claim<'_> {
    let a = &s.capital_account;
    Claim {
        member_id: &s.member_id,
        currency: &s.currency,
        salt: &s.salt,
        root: &s.root,
        member_total: &s.member_total,
        total: &s.equity.total,
        account: proof::Account {
            opening: &a.opening,
            contributions: &a.contributions,
            allocations: &a.allocations,
            losses: &a.losses,
            interest: &a.interest,
            redemptions: &a.redemptions,
            closing: &a.closing,
        },
        tranches: s
            .equity
            .tranches
            .iter()
            .map(|t| (t.allocation_year, t.kind.as_str(), t.amount.as_str()))
            .collect(),
        body,
        proof: &s.proof,
    }
}

/// Verifies the JSON text of a statement against `root` (hex), using nothing but the statement.
/// Returns every failure found (empty when the statement is valid).
pub fn verify_json(text: &str, root: &str) -> Vec<Failure> {
    #[derive(serde::Deserialize)]
    struct Format {
        format: String,
    }
    // the format first, so that an older statement is named as such
    if let Ok(f) = serde_json::from_str::<Format>(text) {
        if f.format != FORMAT {
            return vec![Failure::Malformed(format!(
                "format `{}` is not `{FORMAT}` (a statement made by an older version: make it again)",
                f.format
            ))];
        }
    }
    let s = match serde_json::from_str::<Statement>(text) {
        Ok(s) => s,
        Err(e) => return vec![Failure::Malformed(e.to_string())],
    };
    if s.not_covered != NOT_COVERED {
        // the list is bound too; checked here for a clearer message
        return vec![Failure::Malformed(format!(
            "not_covered must list exactly {NOT_COVERED:?}"
        ))];
    }
    if s.fiscal_year != s.capital_account.fiscal_year {
        return vec![Failure::AlteredAmount(format!(
            "the capital account is of fiscal year {}, the statement of {}",
            s.capital_account.fiscal_year, s.fiscal_year
        ))];
    }
    match body_digest(&s) {
        Ok(body) => proof::verify(&claim(&s, body), root),
        Err(e) => vec![Failure::Malformed(e.to_string())],
    }
}
