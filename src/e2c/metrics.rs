//! Metrics (domain §6): Gini, HHI, effective number of owners, Banzhaf power, time to majority,
//! MOIC and IRR. Everything in exact decimals.

use rust_decimal::Decimal;

use super::num::{self, Ar};

/// Concentration of one lens over the holders with a positive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Concentration {
    pub gini: Decimal,
    pub hhi: Decimal,
    pub effective_owners: Decimal,
    pub owners: usize,
}

/// Gini over the holders with a positive value, 4 decimals ([`crate::engine::wealth`]'s, the one
/// Gini of the program); 0 = equal.
pub fn gini(values: &[Decimal]) -> Decimal {
    let x: Vec<Decimal> = values
        .iter()
        .copied()
        .filter(|v| *v > Decimal::ZERO)
        .collect();
    crate::engine::wealth::gini_decimal(&x)
}

/// HHI `Σ (100·s_i)^2` over shares of the positive values, in [10000/n, 10000].
pub fn hhi(values: &[Decimal]) -> Ar<Decimal> {
    let total = num::sum(values.iter().copied().filter(|v| *v > Decimal::ZERO))?;
    if total.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let mut acc = Decimal::ZERO;
    for v in values.iter().filter(|v| **v > Decimal::ZERO) {
        let s = num::pct(*v, total)?;
        acc = num::add(acc, num::mul(s, s)?)?;
    }
    Ok(acc)
}

pub fn concentration(values: &[Decimal]) -> Ar<Concentration> {
    let h = hhi(values)?;
    Ok(Concentration {
        gini: gini(values),
        hhi: h,
        effective_owners: num::div0(Decimal::from(10_000), h)?,
        owners: values.iter().filter(|v| **v > Decimal::ZERO).count(),
    })
}

/// Most voters for which Banzhaf power is enumerated (2^n coalitions).
pub const BANZHAF_MAX_VOTERS: usize = 16;

/// Normalised Banzhaf power at a strict-majority quota (`2·votes > total`): the share of all
/// swings that are voter i's. `None` with more than [`BANZHAF_MAX_VOTERS`] voters.
pub fn banzhaf(votes: &[Decimal]) -> Ar<Option<Vec<Decimal>>> {
    let n = votes.len();
    if n > BANZHAF_MAX_VOTERS {
        return Ok(None);
    }
    if n == 0 {
        return Ok(Some(Vec::new()));
    }
    // exact integers: scale every vote by the largest decimal scale
    let scale = votes.iter().map(Decimal::scale).max().unwrap_or(0);
    let mut w: Vec<i128> = Vec::with_capacity(n);
    for v in votes {
        let mut x = *v;
        x.rescale(scale);
        w.push(x.mantissa());
    }
    let total: i128 = w
        .iter()
        .try_fold(0i128, |a, b| a.checked_add(*b))
        .ok_or(num::ArithError("Banzhaf weights"))?;
    let wins = |s: i128| s.checked_mul(2).is_some_and(|d| d > total);
    let mut swings = vec![0u64; n];
    let size = 1usize << n;
    let mut sums = vec![0i128; size];
    for mask in 1..size {
        let low = mask.trailing_zeros() as usize;
        sums[mask] = sums[mask & (mask - 1)] + w[low];
    }
    for (mask, s) in sums.iter().enumerate() {
        if wins(*s) {
            continue;
        }
        for (i, wi) in w.iter().enumerate() {
            if mask & (1 << i) == 0 && wins(s + wi) {
                swings[i] += 1;
            }
        }
    }
    let all: u64 = swings.iter().sum();
    let out = swings
        .iter()
        .map(|s| num::div0(Decimal::from(*s), Decimal::from(all)))
        .collect::<Ar<Vec<_>>>()?;
    Ok(Some(out))
}

/// First index whose value is strictly above 50.
pub fn time_to_majority(pcts: &[(u32, Decimal)]) -> Option<u32> {
    pcts.iter()
        .find(|(_, p)| *p > Decimal::from(50))
        .map(|(t, _)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn gini_and_hhi_by_hand() {
        // equal owners: gini 0, hhi 10000/n
        let eq = [d("1"), d("1"), d("1"), d("1")];
        assert_eq!(gini(&eq), d("0"));
        assert_eq!(hhi(&eq).unwrap(), d("2500"));
        assert_eq!(concentration(&eq).unwrap().effective_owners, d("4"));
        // one owner of everything among two positive: x = [1, 3] → (−1·1 + 1·3)/(2·4) = 0.25
        assert_eq!(gini(&[d("3"), d("1")]), d("0.25"));
        // 60/40: 3600 + 1600
        assert_eq!(hhi(&[d("60"), d("40"), d("0")]).unwrap(), d("5200"));
    }

    #[test]
    fn banzhaf_by_hand() {
        // weights 50, 49, 1 at > 50: A is pivotal in {A,B},{A,C},{A,B,C}; B in {A,B}; C in {A,C}
        let b = banzhaf(&[d("50"), d("49"), d("1")]).unwrap().unwrap();
        assert_eq!(b[0], d("0.6"));
        assert_eq!(b[1], d("0.2"));
        assert_eq!(b[2], d("0.2"));
        // a dictator
        let b = banzhaf(&[d("51"), d("49")]).unwrap().unwrap();
        assert_eq!(b, vec![d("1"), d("0")]);
        assert!(banzhaf(&vec![d("1"); 17]).unwrap().is_none());
    }

    #[test]
    fn majority_is_strict() {
        assert_eq!(
            time_to_majority(&[(0, d("50")), (1, d("50.0001"))]),
            Some(1)
        );
        assert_eq!(time_to_majority(&[(0, d("10"))]), None);
    }
}
