//! The Merkle sum tree over members' closing equity: leaves (one per member with a capital
//! account, salted and ordered by salt), the tree, inclusion proofs and their check. Its root is
//! `member_root` in a sealed year's manifest; see `docs/STATEMENTS.md`. A leaf binds the digest
//! of the member's whole statement body, made by `report::statement` and handed to the ledger
//! (the ledger does not build reports).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sha256_hex;

/// A leaf: one member's closing equity in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    pub member_id: String,
    pub amount_minor: i128,
    /// a per-member salt so that sibling hashes do not reveal other members by guessing
    pub salt: String,
    /// hex SHA-256 of the member's statement body: binds every figure and text the statement
    /// shows (see `docs/STATEMENTS.md`)
    pub body: String,
}

/// What a leaf is made of before it is salted: the member, the closing equity (the leaf's sum)
/// and the digest of the statement body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafBody {
    pub member_id: String,
    pub amount_minor: i128,
    pub body: [u8; 32],
}

pub fn leaf_hash(l: &Leaf) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update((l.member_id.len() as u64).to_be_bytes());
    h.update(l.member_id.as_bytes());
    h.update(l.amount_minor.to_be_bytes());
    h.update((l.salt.len() as u64).to_be_bytes());
    h.update(l.salt.as_bytes());
    h.update((l.body.len() as u64).to_be_bytes());
    h.update(l.body.as_bytes());
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

/// Leaves from their bodies, ordered by salt (then id): a keyed pseudo-random order, so a
/// proof's neighbouring subtotals cannot be attributed to the next member id.
pub fn leaves_from(parts: Vec<LeafBody>, secret: &str) -> Vec<Leaf> {
    let mut v: Vec<Leaf> = parts
        .into_iter()
        .map(|p| Leaf {
            salt: salt(secret, &p.member_id),
            amount_minor: p.amount_minor,
            body: hex::encode(p.body),
            member_id: p.member_id,
        })
        .collect();
    v.sort_by(|a, b| {
        a.salt
            .cmp(&b.salt)
            .then_with(|| a.member_id.cmp(&b.member_id))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(id: &str, a: i128) -> Leaf {
        Leaf {
            member_id: id.into(),
            amount_minor: a,
            salt: format!("s{id}"),
            body: String::new(),
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
