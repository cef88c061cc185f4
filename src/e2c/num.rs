//! Exact numeric helpers for the E2C engine: exact shares (`"40%"`, `"2/3"`, `"0.4"`), money
//! rounding, the cent-exact split of a pot, and IRR. The checked decimal arithmetic and the number
//! formatting are [`crate::money`]'s, re-exported here.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::{allocate, Currency, Money, Weight};

pub use crate::money::dec::{add, div, div0, mul, pct, powi, sub, sum, Ar};
pub use crate::money::{fixed, ArithError};

/// Round money half away from zero to `dp` decimals (reporting, and scheduled payments).
pub fn round_money(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Units are kept at 10 decimals at most, like OCF `Numeric`.
pub const UNIT_DP: u32 = 10;
pub fn round_units(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(UNIT_DP, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// An exact non-negative share written as `"40%"`, `"2/3"` or `"0.4"`, kept as a fraction so
/// that `2/3 × 180000` is exactly `120000`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Share {
    num: Decimal,
    den: Decimal,
}

impl Share {
    pub const ZERO: Share = Share {
        num: Decimal::ZERO,
        den: Decimal::ONE,
    };
    pub const ONE: Share = Share {
        num: Decimal::ONE,
        den: Decimal::ONE,
    };

    pub fn from_decimal(d: Decimal) -> Share {
        Share {
            num: d,
            den: Decimal::ONE,
        }
    }

    /// Parses `"40%"`, `"2/3"`, `"0.4"` (a bare number must be a fraction of one).
    pub fn parse(s: &str) -> Result<Share, String> {
        let t = s.trim();
        let bad = || format!("`{s}` is not a share (write `40%`, `0.4` or `2/3`)");
        let parse_dec = |x: &str| Decimal::from_str_exact(x.trim()).map_err(|_| bad());
        let share = if let Some(p) = t.strip_suffix('%') {
            Share {
                num: parse_dec(p)?,
                den: Decimal::ONE_HUNDRED,
            }
        } else if let Some((a, b)) = t.split_once('/') {
            let den = parse_dec(b)?;
            if den.is_zero() {
                return Err(format!("`{s}` divides by zero"));
            }
            Share {
                num: parse_dec(a)?,
                den,
            }
        } else {
            Share {
                num: parse_dec(t)?,
                den: Decimal::ONE,
            }
        };
        if share.num.is_sign_negative() && !share.num.is_zero() || share.den.is_sign_negative() {
            return Err(format!(
                "`{s}` is negative; a share must be between 0% and 100%"
            ));
        }
        Ok(share)
    }

    /// `x × self`, exact up to decimal precision (multiply first, divide last).
    pub fn apply(&self, x: Decimal) -> Ar<Decimal> {
        div(mul(x, self.num)?, self.den)
    }

    pub fn to_decimal(&self) -> Decimal {
        self.num.checked_div(self.den).unwrap_or(Decimal::ZERO)
    }

    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// Is this share more than 100%?
    pub fn over_one(&self) -> bool {
        self.num > self.den
    }

    pub fn add(&self, o: &Share) -> Ar<Share> {
        Ok(Share {
            num: add(mul(self.num, o.den)?, mul(o.num, self.den)?)?,
            den: mul(self.den, o.den)?,
        })
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == Decimal::ONE_HUNDRED {
            write!(f, "{}%", self.num)
        } else if self.den == Decimal::ONE {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Splits `total` (rounded to the currency's minor unit first) over `weights` with the
/// largest-remainder method of [`crate::money::allocate`]; the result sums exactly to the
/// rounded total. Zero weights get zero; all-zero weights give all zeros.
pub fn split_cents(
    total: Decimal,
    weights: &[(String, Decimal)],
    cur: Currency,
) -> Ar<Vec<Decimal>> {
    let t = Money::from_decimal_rounded(total, cur, RoundingStrategy::MidpointAwayFromZero)
        .map_err(|_| ArithError("a pot to split"))?;
    let mut items: Vec<(String, Weight)> = Vec::with_capacity(weights.len());
    let mut any = false;
    for (k, w) in weights {
        let w = if w.is_sign_negative() {
            Decimal::ZERO
        } else {
            *w
        };
        any |= !w.is_zero();
        items.push((
            k.clone(),
            Weight::from_decimal(w).map_err(|_| ArithError("a weight"))?,
        ));
    }
    if !any {
        return Ok(vec![Decimal::ZERO; weights.len()]);
    }
    let out = allocate(t, &items).map_err(|_| ArithError("a largest-remainder split"))?;
    Ok(out.into_iter().map(|m| m.amount()).collect())
}

/// Splits `total` pro rata at full precision — [`FINE_DP`] decimals, largest remainder, so the
/// parts still sum exactly — for the domain's "keep full precision internally, round money to
/// 0.01 only when reporting" rule.
pub fn split_exact(total: Decimal, weights: &[(String, Decimal)]) -> Ar<Vec<Decimal>> {
    let fine = Currency::new("XXX", FINE_DP).map_err(|_| ArithError("a fine split"))?;
    split_cents(total, weights, fine)
}

/// Decimals kept for full-precision money and units (the most [`crate::money`] allows).
pub const FINE_DP: u32 = 8;

/// Rounds money to the route's precision: the currency's minor unit, or [`FINE_DP`].
pub fn round_to(d: Decimal, cents: bool, minor: u32) -> Decimal {
    round_money(d, if cents { minor } else { FINE_DP })
}

/// Internal rate of return of yearly cash flows `cf[t]` (t = 0, 1, …) by bisection on
/// `[-0.99, 10]`; `None` when the net present value does not change sign on that interval.
pub fn irr(cf: &[Decimal]) -> Option<Decimal> {
    // the sign of the future value Σ cf[t]·(1+r)^(T−t) is the sign of the NPV (1+r > 0), and
    // Horner's rule keeps it within range at r = −99% where discount factors underflow
    let f = |r: Decimal| future_value(cf, r);
    let mut lo = Decimal::new(-99, 2);
    let flo = f(lo)?;
    // the upper end shrinks if 1000% overflows over a long horizon
    let (mut hi, fhi) = [Decimal::TEN, Decimal::from(5), Decimal::TWO, Decimal::ONE]
        .into_iter()
        .find_map(|h| f(h).map(|v| (h, v)))?;
    if flo.is_zero() {
        return Some(lo);
    }
    if fhi.is_zero() {
        return Some(hi);
    }
    if flo.is_sign_negative() == fhi.is_sign_negative() {
        return None;
    }
    let eps = Decimal::new(1, 12);
    for _ in 0..200 {
        let mid = (lo + hi) / Decimal::TWO;
        let fm = f(mid)?;
        if fm.is_zero() || (hi - lo) < eps {
            return Some(mid);
        }
        if fm.is_sign_negative() == flo.is_sign_negative() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / Decimal::TWO)
}

/// `Σ cf[t]·(1+r)^(T−t)` by Horner's rule (same sign as the NPV).
pub fn future_value(cf: &[Decimal], r: Decimal) -> Option<Decimal> {
    let base = Decimal::ONE.checked_add(r)?;
    let mut acc = Decimal::ZERO;
    for c in cf {
        acc = acc.checked_mul(base)?.checked_add(*c)?;
    }
    Some(acc)
}

/// `Σ cf[t] / (1+r)^t`.
pub fn npv(cf: &[Decimal], r: Decimal) -> Option<Decimal> {
    let base = Decimal::ONE.checked_add(r)?;
    let mut disc = Decimal::ONE;
    let mut acc = Decimal::ZERO;
    for (t, c) in cf.iter().enumerate() {
        if t > 0 {
            disc = disc.checked_mul(base)?;
        }
        acc = acc.checked_add(c.checked_div(disc)?)?;
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn shares_parse_exactly() {
        assert_eq!(
            Share::parse("40%").unwrap().apply(d("600000")).unwrap(),
            d("240000")
        );
        assert_eq!(
            Share::parse("2/3").unwrap().apply(d("180000")).unwrap(),
            d("120000")
        );
        assert_eq!(Share::parse("0.4").unwrap().to_decimal(), d("0.4"));
        assert!(Share::parse("140%").unwrap().over_one());
        assert!(Share::parse("-1%").is_err());
        assert!(Share::parse("abc").is_err());
        assert!(Share::parse("1/0").is_err());
    }

    #[test]
    fn irr_of_simple_flows() {
        // -100 now, 110 in a year: 10%
        let r = irr(&[d("-100"), d("110")]).unwrap();
        assert!((r - d("0.1")).abs() < d("0.000001"), "{r}");
        // no sign change: n/a
        assert_eq!(irr(&[d("-100"), d("0"), d("0")]), None);
        assert_eq!(irr(&[d("100"), d("10")]), None);
        // long horizons do not underflow at −99%
        let mut long = vec![d("-1000000")];
        long.extend(std::iter::repeat_n(d("120000"), 30));
        let r = irr(&long).unwrap();
        assert!((npv(&long, r).unwrap()).abs() < d("0.01"), "{r}");
    }

    #[test]
    fn split_cents_sums_and_split_exact_keeps_precision() {
        let w = vec![("a".to_string(), d("1")), ("b".to_string(), d("2"))];
        let usd = Currency::from_code("USD").unwrap();
        let s = split_cents(d("100"), &w, usd).unwrap();
        assert_eq!(s, vec![d("33.33"), d("66.67")]);
        let e = split_exact(d("100"), &w).unwrap();
        assert_eq!(e[0], d("33.33333333"));
        assert_eq!(e[1], d("66.66666667"));
    }
}
