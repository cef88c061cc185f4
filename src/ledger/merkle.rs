//! The Merkle sum tree over members' closing equity: leaves (one per member with a capital
//! account, salted and ordered by salt), the tree, inclusion proofs and their check. Its root is
//! `member_root` in a sealed year's manifest; see `docs/STATEMENTS.md`.

use std::collections::BTreeMap;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::read::SealedClose;
use super::record::CloseRecord;
use super::sha256_hex;
use super::{CLOSES, CLOSE_JSON};
use crate::engine::close::Close;
use crate::engine::state::Tranche;
use crate::money::{Currency, Money};
use rust_decimal::Decimal;

/// A leaf: one member's closing equity in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    pub member_id: String,
    pub amount_minor: i128,
    /// a per-member salt so that sibling hashes do not reveal other members by guessing
    pub salt: String,
    /// hex SHA-256 of the member's [`LeafDetail`]: binds the tranche breakdown and the year's
    /// capital-account roll-forward and allocation to the leaf (see `docs/STATEMENTS.md`)
    pub detail: String,
}

/// What a leaf commits to besides the closing amount, all in minor units: the year's
/// capital-account roll-forward, the year's allocation and every outstanding tranche.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafDetail {
    pub opening: i128,
    pub contributions: i128,
    pub allocations: i128,
    pub losses: i128,
    pub interest: i128,
    pub redemptions: i128,
    pub closing: i128,
    /// the year's patronage allocation: total, cash, retained
    pub allocated: i128,
    pub cash: i128,
    pub retained: i128,
    /// (allocation year, kind, amount), sorted
    pub tranches: Vec<(i32, String, i128)>,
}

/// The canonical digest of a [`LeafDetail`]: a tagged, length-prefixed encoding hashed once.
pub fn detail_digest(d: &LeafDetail) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"coopledger-leaf-detail/1");
    for v in [
        d.opening,
        d.contributions,
        d.allocations,
        d.losses,
        d.interest,
        d.redemptions,
        d.closing,
        d.allocated,
        d.cash,
        d.retained,
    ] {
        h.update(v.to_be_bytes());
    }
    h.update((d.tranches.len() as u64).to_be_bytes());
    for (year, kind, amount) in &d.tranches {
        h.update(year.to_be_bytes());
        h.update((kind.len() as u64).to_be_bytes());
        h.update(kind.as_bytes());
        h.update(amount.to_be_bytes());
    }
    h.finalize().into()
}

pub fn leaf_hash(l: &Leaf) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update((l.member_id.len() as u64).to_be_bytes());
    h.update(l.member_id.as_bytes());
    h.update(l.amount_minor.to_be_bytes());
    h.update((l.salt.len() as u64).to_be_bytes());
    h.update(l.salt.as_bytes());
    h.update((l.detail.len() as u64).to_be_bytes());
    h.update(l.detail.as_bytes());
    h.finalize().into()
}

pub fn node_hash(lh: &[u8; 32], ls: i128, rh: &[u8; 32], rs: i128) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(lh);
    h.update(ls.to_be_bytes());
    h.update(rh);
    h.update(rs.to_be_bytes());
    h.finalize().into()
}

/// One step of an inclusion proof: the sibling's hash and subtotal, and which side it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    pub hash: String,
    pub sum_minor: String,
    /// "left" or "right": where the sibling sits
    pub side: String,
}

/// Builds the tree over `leaves` in the order given ([`leaves`] sorts them by salt). Returns (root hash, total, levels).
/// An odd node at the end of a level is promoted unchanged.
/// One level of the tree: (hash, subtotal) per node.
pub type Level = Vec<([u8; 32], i128)>;

pub fn build_tree(leaves: &[Leaf]) -> (Vec<Level>, [u8; 32], i128) {
    let mut levels: Vec<Level> = vec![leaves
        .iter()
        .map(|l| (leaf_hash(l), l.amount_minor))
        .collect()];
    if levels[0].is_empty() {
        let empty: [u8; 32] = Sha256::digest(b"coopledger-empty-tree").into();
        return (levels, empty, 0);
    }
    while levels.last().is_some_and(|l| l.len() > 1) {
        let prev = levels.last().cloned().unwrap_or_default();
        let mut next = Vec::with_capacity(prev.len().div_ceil(2));
        for pair in prev.chunks(2) {
            match pair {
                [a, b] => next.push((node_hash(&a.0, a.1, &b.0, b.1), a.1.saturating_add(b.1))),
                [a] => next.push(*a),
                _ => {}
            }
        }
        levels.push(next);
    }
    let (root, total) = levels
        .last()
        .and_then(|l| l.first())
        .copied()
        .unwrap_or(([0; 32], 0));
    (levels, root, total)
}

/// The inclusion proof of leaf `index`.
pub fn proof(levels: &[Level], mut index: usize) -> Vec<ProofStep> {
    let mut steps = Vec::new();
    for level in &levels[..levels.len().saturating_sub(1)] {
        let sib = index ^ 1;
        if let Some((h, s)) = level.get(sib) {
            steps.push(ProofStep {
                hash: hex::encode(h),
                sum_minor: s.to_string(),
                side: if sib < index { "left" } else { "right" }.into(),
            });
        }
        index /= 2;
    }
    steps
}

/// Recomputes the root from a leaf and its proof: (root hex, total).
pub fn root_from_proof(leaf: &Leaf, steps: &[ProofStep]) -> Option<(String, i128)> {
    let mut h = leaf_hash(leaf);
    let mut s = leaf.amount_minor;
    for st in steps {
        let sh: [u8; 32] = hex::decode(&st.hash).ok()?.try_into().ok()?;
        let ss: i128 = st.sum_minor.parse().ok()?;
        let (nh, ns) = match st.side.as_str() {
            "left" => (node_hash(&sh, ss, &h, s), ss.checked_add(s)?),
            "right" => (node_hash(&h, s, &sh, ss), s.checked_add(ss)?),
            _ => return None,
        };
        h = nh;
        s = ns;
    }
    Some((hex::encode(h), s))
}

/// The salt of `member_id`'s leaf: derived from the sealed close file's hash, so it is fixed by
/// the books but unknown to anyone who has not seen `close.json`.
pub fn salt(secret: &str, member_id: &str) -> String {
    sha256_hex(format!("{secret}\u{0}{member_id}").as_bytes())
}

/// Leaves from (member id, detail) pairs, ordered by salt (then id): a keyed pseudo-random order,
/// so a proof's neighbouring subtotals cannot be attributed to the next member id.
pub fn leaves_from(parts: Vec<(String, LeafDetail)>, secret: &str) -> Vec<Leaf> {
    let mut v: Vec<Leaf> = parts
        .into_iter()
        .map(|(member_id, d)| Leaf {
            salt: salt(secret, &member_id),
            amount_minor: d.closing,
            detail: hex::encode(detail_digest(&d)),
            member_id,
        })
        .collect();
    v.sort_by(|a, b| {
        a.salt
            .cmp(&b.salt)
            .then_with(|| a.member_id.cmp(&b.member_id))
    });
    v
}

/// (allocation year, kind, amount in minor units) of each of a member's tranches.
type MemberTranches = Vec<(i32, String, i128)>;

/// Each member's tranches, in state order.
fn tranches_by_member(
    tranches: &[Tranche],
    minor: impl Fn(Decimal) -> anyhow::Result<i128>,
) -> anyhow::Result<BTreeMap<&str, MemberTranches>> {
    let mut out: BTreeMap<&str, MemberTranches> = BTreeMap::new();
    for t in tranches {
        out.entry(t.member_id.as_str()).or_default().push((
            t.allocation_year,
            t.kind.clone(),
            minor(t.amount)?,
        ));
    }
    Ok(out)
}

/// The leaves of a close: every member with a capital account (see [`leaves_from`]).
pub fn leaves(close: &Close, secret: &str) -> Vec<Leaf> {
    let cur = Currency::from_code(&close.currency).ok();
    let minor = |d: Decimal| -> i128 {
        cur.and_then(|c| Money::from_decimal(d, c).ok())
            .map(|m| m.to_minor())
            .unwrap_or(0)
    };
    // infallible: `minor` maps what does not fit to 0, as before sealing checked the close
    let mut tranches =
        tranches_by_member(&close.state_after.tranches, |d| Ok(minor(d))).unwrap_or_default();
    let allocs: BTreeMap<&str, _> = close
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m))
        .collect();
    let parts = close
        .capital_accounts
        .iter()
        .map(|a| {
            let al = allocs.get(a.member_id.as_str());
            let mut tr = tranches.remove(a.member_id.as_str()).unwrap_or_default();
            tr.sort();
            (
                a.member_id.clone(),
                LeafDetail {
                    opening: a.opening.to_minor(),
                    contributions: a.contributions.to_minor(),
                    allocations: a.allocations.to_minor(),
                    losses: a.losses.to_minor(),
                    interest: a.interest.to_minor(),
                    redemptions: a.redemptions.to_minor(),
                    closing: a.closing.to_minor(),
                    allocated: al.map(|m| m.total.to_minor()).unwrap_or(0),
                    cash: al.map(|m| m.cash.to_minor()).unwrap_or(0),
                    retained: al.map(|m| m.retained.to_minor()).unwrap_or(0),
                    tranches: tr,
                },
            )
        })
        .collect();
    leaves_from(parts, secret)
}

/// The leaf detail of every member of a sealed close, from its record (the same values
/// [`leaves`] committed at sealing time).
pub fn leaf_parts(close: &CloseRecord) -> anyhow::Result<Vec<(String, LeafDetail)>> {
    let cur = close.currency()?;
    let mn = |d: Decimal| -> anyhow::Result<i128> {
        Ok(Money::from_decimal(d, cur)
            .with_context(|| format!("`{d}` is not an amount in {}", cur.code()))?
            .to_minor())
    };
    let mut tranches = tranches_by_member(&close.state.tranches, |d| {
        Ok(Money::from_decimal(d, cur)
            .with_context(|| format!("tranche amount `{d}`"))?
            .to_minor())
    })?;
    let members: BTreeMap<&str, &super::record::Member> = close
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m))
        .collect();
    let mut parts = Vec::with_capacity(close.capital_accounts.len());
    for a in &close.capital_accounts {
        let al = members.get(a.member_id.as_str());
        let mut tr = tranches.remove(a.member_id.as_str()).unwrap_or_default();
        tr.sort();
        let (allocated, cash, retained) = match al {
            Some(m) => (mn(m.total)?, mn(m.cash)?, mn(m.retained)?),
            None => (0, 0, 0),
        };
        parts.push((
            a.member_id.clone(),
            LeafDetail {
                opening: mn(a.opening)?,
                contributions: mn(a.contributions)?,
                allocations: mn(a.allocations)?,
                losses: mn(a.losses)?,
                interest: mn(a.interest)?,
                redemptions: mn(a.redemptions)?,
                closing: mn(a.closing)?,
                allocated,
                cash,
                retained,
                tranches: tr,
            },
        ));
    }
    Ok(parts)
}
/// The member tree of a sealed close rebuilt from its record: (leaves, levels, root hex). Refused
/// when the root differs from the `member_root` its manifest publishes.
pub fn sealed_tree(c: &SealedClose) -> anyhow::Result<(Vec<Leaf>, Vec<Level>, String)> {
    let leaves = leaves_from(leaf_parts(&c.record)?, &c.secret);
    let (levels, root, _) = build_tree(&leaves);
    let root = hex::encode(root);
    if root != c.root {
        anyhow::bail!(
            "the member tree rebuilt from {CLOSES}/{}/{CLOSE_JSON} has root {root}, but the manifest publishes {}; the close was sealed by an older version or altered",
            c.fiscal_year,
            c.root
        );
    }
    Ok((leaves, levels, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(id: &str, a: i128) -> Leaf {
        Leaf {
            member_id: id.into(),
            amount_minor: a,
            salt: format!("s{id}"),
            detail: String::new(),
        }
    }

    #[test]
    fn proofs_verify_and_detect_tampering() {
        for n in 1..9 {
            let leaves: Vec<Leaf> = (0..n)
                .map(|i| leaf(&format!("M{i}"), 100 * i as i128 + 7))
                .collect();
            let (levels, root, total) = build_tree(&leaves);
            assert_eq!(total, leaves.iter().map(|l| l.amount_minor).sum::<i128>());
            for (i, l) in leaves.iter().enumerate() {
                let p = proof(&levels, i);
                assert_eq!(root_from_proof(l, &p), Some((hex::encode(root), total)));
                let mut bad = l.clone();
                bad.amount_minor += 1;
                assert_ne!(
                    root_from_proof(&bad, &p).map(|r| r.0),
                    Some(hex::encode(root))
                );
            }
        }
    }
}
