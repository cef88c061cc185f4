//! Checks a member statement's claim against a published `member_root`, using nothing but the
//! statement: the leaf is rebuilt from the member id, the equity, the salt and the digest of the
//! statement's bound body (every field it shows but those it lists as not covered), and hashed up
//! the proof to the root. The amounts are also checked against each other for a clearer message.

use super::merkle::{root_from_proof, Leaf, ProofStep};
use crate::money::{Currency, Money};

/// What a statement claims about its member's leaf: its amounts as the strings it carries.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub member_id: &'a str,
    pub currency: &'a str,
    pub salt: &'a str,
    /// the root the statement was made against
    pub root: &'a str,
    /// the statement's total of the member tree
    pub member_total: &'a str,
    /// the member's equity (the leaf amount)
    pub total: &'a str,
    /// the capital account of the statement year, by field name (`opening`, `contributions`,
    /// `allocations`, `losses`, `interest`, `redemptions`, `closing`)
    pub account: Account<'a>,
    /// (allocation year, kind, amount) of each tranche
    pub tranches: Vec<(i32, &'a str, &'a str)>,
    /// SHA-256 of the statement's bound body (`report::statement::body_digest`)
    pub body: [u8; 32],
    pub proof: &'a [ProofStep],
}

/// The capital-account roll-forward a statement claims.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    pub opening: &'a str,
    pub contributions: &'a str,
    pub allocations: &'a str,
    pub losses: &'a str,
    pub interest: &'a str,
    pub redemptions: &'a str,
    pub closing: &'a str,
}

/// Why a statement does not verify; each names what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// the file is not a statement (not JSON, or fields missing)
    Malformed(String),
    /// the root in the statement is not the root given
    RootMismatch {
        statement: String,
        published: String,
    },
    /// the amounts in the statement contradict each other
    AlteredAmount(String),
    /// a proof step is not a 32-byte hex hash, an integer subtotal and a side
    MalformedProof(String),
    /// the proof from the statement's leaf does not lead to the published root
    NotIncluded {
        recomputed: String,
        published: String,
    },
    /// the proof leads to the root but the tree total differs from the statement's `member_total`
    AlteredTotal {
        recomputed: String,
        statement: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Malformed(m) => write!(f, "malformed statement: {m}"),
            Failure::RootMismatch { statement, published } => write!(
                f,
                "root mismatch: the statement was made against root {statement}, not the published root {published}"
            ),
            Failure::AlteredAmount(m) => write!(f, "altered amount: {m}"),
            Failure::MalformedProof(m) => write!(f, "malformed proof: {m}"),
            Failure::NotIncluded { recomputed, published } => write!(
                f,
                "altered statement: a figure or text of the statement, its member id, salt or proof hashes were changed; they lead to root {recomputed}, not the published root {published}"
            ),
            Failure::AlteredTotal { recomputed, statement } => write!(
                f,
                "altered total: the proof sums to a member total of {recomputed}, but the statement says {statement}"
            ),
        }
    }
}

fn minor(s: &str, cur: Currency, what: &str) -> Result<i128, Failure> {
    Money::parse(s, cur)
        .map(|m| m.to_minor())
        .map_err(|_| Failure::Malformed(format!("{what} `{s}` is not an amount in {}", cur.code())))
}

/// The leaf a statement claims, rebuilt from its own content.
pub fn leaf_of(s: &Claim<'_>) -> Result<Leaf, Vec<Failure>> {
    let cur = Currency::from_code(s.currency).map_err(|_| {
        vec![Failure::Malformed(format!(
            "unknown currency `{}`",
            s.currency
        ))]
    })?;
    let mut fails = Vec::new();
    let mut get = |v: &str, what: &str| match minor(v, cur, what) {
        Ok(x) => x,
        Err(f) => {
            fails.push(f);
            0
        }
    };
    let total = get(s.total, "equity.total");
    let a = &s.account;
    let (opening, contributions, allocations, losses, interest, redemptions, closing) = (
        get(a.opening, "capital_account.opening"),
        get(a.contributions, "capital_account.contributions"),
        get(a.allocations, "capital_account.allocations"),
        get(a.losses, "capital_account.losses"),
        get(a.interest, "capital_account.interest"),
        get(a.redemptions, "capital_account.redemptions"),
        get(a.closing, "capital_account.closing"),
    );
    let mut tranches = Vec::new();
    for (year, kind, amount) in &s.tranches {
        let amount = get(amount, "equity.tranches.amount");
        tranches.push((*year, kind.to_string(), amount));
    }
    if !fails.is_empty() {
        return Err(fails);
    }
    let sum: i128 = tranches.iter().map(|t| t.2).sum();
    let show = |m: i128| {
        Money::from_minor(m, cur)
            .map(|x| x.to_string())
            .unwrap_or_else(|_| m.to_string())
    };
    if sum != total {
        fails.push(Failure::AlteredAmount(format!(
            "the tranches add up to {}, but the equity total is {}",
            show(sum),
            show(total)
        )));
    }
    if closing != total {
        fails.push(Failure::AlteredAmount(format!(
            "the capital account closes at {}, but the equity total is {}",
            show(closing),
            show(total)
        )));
    }
    let roll = [
        opening,
        contributions,
        allocations,
        losses,
        interest,
        -redemptions.abs(),
    ]
    .iter()
    .sum::<i128>();
    if roll != closing {
        fails.push(Failure::AlteredAmount(format!(
            "the capital account rolls forward to {}, but closes at {}",
            show(roll),
            show(closing)
        )));
    }
    if !fails.is_empty() {
        return Err(fails);
    }
    Ok(Leaf {
        member_id: s.member_id.to_string(),
        amount_minor: total,
        salt: s.salt.to_string(),
        body: hex::encode(s.body),
    })
}

/// Checks `s` against `root` (hex). Returns every failure found (empty when the claim holds).
pub fn verify(s: &Claim<'_>, root: &str) -> Vec<Failure> {
    let root = root.trim().to_ascii_lowercase();
    let mut fails = Vec::new();
    if s.root.to_ascii_lowercase() != root {
        fails.push(Failure::RootMismatch {
            statement: s.root.to_string(),
            published: root.clone(),
        });
    }
    for (i, st) in s.proof.iter().enumerate() {
        let ok_hash = hex::decode(&st.hash).is_ok_and(|h| h.len() == 32);
        let ok_sum = st.sum_minor.parse::<i128>().is_ok();
        let ok_side = st.side == "left" || st.side == "right";
        if !(ok_hash && ok_sum && ok_side) {
            fails.push(Failure::MalformedProof(format!(
                "step {} needs a 64-digit hex hash, an integer sum_minor and side left|right",
                i + 1
            )));
        }
    }
    if fails
        .iter()
        .any(|f| matches!(f, Failure::MalformedProof(_)))
    {
        return fails;
    }
    let leaf = match leaf_of(s) {
        Ok(l) => l,
        Err(mut f) => {
            fails.append(&mut f);
            return fails;
        }
    };
    match root_from_proof(&leaf, s.proof) {
        None => fails.push(Failure::MalformedProof(
            "the subtotals overflow".to_string(),
        )),
        Some((r, total)) => {
            if r != root {
                fails.push(Failure::NotIncluded {
                    recomputed: r,
                    published: root,
                });
            } else {
                let cur = Currency::from_code(s.currency).ok();
                let stated = cur.and_then(|c| Money::parse(s.member_total, c).ok());
                if stated.map(|m| m.to_minor()) != Some(total) {
                    let shown = cur
                        .and_then(|c| Money::from_minor(total, c).ok())
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| total.to_string());
                    fails.push(Failure::AlteredTotal {
                        recomputed: shown,
                        statement: s.member_total.to_string(),
                    });
                }
            }
        }
    }
    fails
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{build_tree, leaves_from, proof, LeafBody};

    /// A tree of two members; returns M1's proof, the root and the tree total.
    fn tree() -> (Vec<ProofStep>, String, i128) {
        let m1 = LeafBody {
            member_id: "M1".into(),
            amount_minor: 1500,
            body: [1; 32],
        };
        let m2 = LeafBody {
            member_id: "M2".into(),
            amount_minor: 700,
            body: [2; 32],
        };
        let leaves = leaves_from(vec![m1, m2], "secret");
        let (levels, root, total) = build_tree(&leaves);
        let i = leaves.iter().position(|l| l.member_id == "M1").unwrap_or(0);
        (proof(&levels, i), hex::encode(root), total)
    }

    fn claim<'a>(steps: &'a [ProofStep], root: &'a str, salt: &'a str) -> Claim<'a> {
        Claim {
            member_id: "M1",
            currency: "USD",
            salt,
            root,
            member_total: "22.00",
            total: "15.00",
            account: Account {
                opening: "10.00",
                contributions: "0.00",
                allocations: "5.00",
                losses: "0.00",
                interest: "0.00",
                redemptions: "0.00",
                closing: "15.00",
            },
            tranches: vec![(2024, "qualified", "15.00")],
            body: [1; 32],
            proof: steps,
        }
    }

    #[test]
    fn a_true_claim_verifies_and_an_altered_one_does_not() {
        let (steps, root, total) = tree();
        assert_eq!(total, 2200);
        let salt = super::super::merkle::salt("secret", "M1");
        let c = claim(&steps, &root, &salt);
        assert_eq!(verify(&c, &root), Vec::new());
        let mut altered = c.clone();
        altered.body[31] ^= 1;
        assert!(matches!(
            verify(&altered, &root).as_slice(),
            [Failure::NotIncluded { .. }]
        ));
        let mut altered = c.clone();
        altered.total = "15.01";
        assert!(verify(&altered, &root)
            .iter()
            .all(|f| matches!(f, Failure::AlteredAmount(_))));
        let mut altered = c;
        altered.member_total = "22.01";
        assert!(matches!(
            verify(&altered, &root).as_slice(),
            [Failure::AlteredTotal { .. }]
        ));
    }
}
