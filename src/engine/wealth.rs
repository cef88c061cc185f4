//! Inequality metrics of members' stakes for the community-wealth report: the Gini coefficient,
//! the top-10% share, median and mean, and percentages. Exact: big-integer sums, one rounding.

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, ToPrimitive};
use rust_decimal::Decimal;

use crate::book::Book;
use crate::money::{Currency, Money, MoneyError};

/// `num / den` rounded half away from zero to `dp` decimals (den > 0), exactly. Big integers:
/// sums and products over many stakes near the top of the money range do not fit 128 bits.
pub fn ratio(num: BigInt, den: BigInt, dp: u32) -> Decimal {
    if den.sign() != Sign::Plus {
        return Decimal::new(0, dp);
    }
    let scale = BigInt::from(10u8).pow(dp);
    let n = num.abs() * scale * 2 + &den;
    let q: BigInt = n / (den * 2);
    let q = if num.sign() == Sign::Minus { -q } else { q };
    q.to_i128()
        .and_then(|q| Decimal::try_from_i128_with_scale(q, dp).ok())
        .unwrap_or(Decimal::ZERO)
}

/// The Gini coefficient of non-negative amounts in minor units (negatives count as zero), exact
/// and rounded half-up to 4 decimals: G = (2 Σ i·x₍ᵢ₎ − (n + 1) Σ x) / (n Σ x), x ascending,
/// i from 1. `0` when everyone holds the same (or nothing).
pub fn gini(values: &[i128]) -> Decimal {
    gini_of(values.iter().map(|v| BigInt::from((*v).max(0))).collect())
}

/// [`gini`] of exact decimals (negatives count as zero): each value is brought to the largest
/// scale among them as a big integer, so the result is exact whatever the scales and magnitudes.
pub fn gini_decimal(values: &[Decimal]) -> Decimal {
    let scale = values.iter().map(Decimal::scale).max().unwrap_or(0);
    gini_of(
        values
            .iter()
            .map(|v| {
                let m = BigInt::from(v.mantissa().max(0));
                m * BigInt::from(10u8).pow(scale - v.scale())
            })
            .collect(),
    )
}

/// The one Gini computation, over non-negative big integers.
fn gini_of(mut x: Vec<BigInt>) -> Decimal {
    x.sort_unstable();
    let n = BigInt::from(x.len());
    let s: BigInt = x.iter().sum();
    if x.is_empty() || s.sign() == Sign::NoSign {
        return Decimal::new(0, 4);
    }
    let weighted: BigInt = x
        .iter()
        .enumerate()
        .map(|(i, v)| BigInt::from(i + 1) * v)
        .sum();
    ratio(weighted * 2 - (&n + 1) * &s, n * s, 4)
}

/// The share (%) of the total held by the top 10% of holders (⌈n/10⌉ of them), 2 decimals.
pub fn top10_share_pct(values: &[i128]) -> Decimal {
    let mut x: Vec<i128> = values.iter().map(|v| (*v).max(0)).collect();
    x.sort_unstable_by(|a, b| b.cmp(a));
    let s: BigInt = x.iter().map(|v| BigInt::from(*v)).sum();
    let k = x.len().div_ceil(10);
    let top: BigInt = x.iter().take(k).map(|v| BigInt::from(*v)).sum();
    ratio(top * 100, s, 2)
}

/// `part` as a percentage of `whole`, 2 decimals, half away from zero (0 when `whole` ≤ 0).
pub fn pct(part: Money, whole: Money) -> Decimal {
    ratio(
        BigInt::from(part.to_minor()) * 100,
        whole.to_minor().into(),
        2,
    )
}

/// Median and mean of amounts in minor units (half-up to the minor unit).
pub fn median_mean(values: &[i128], cur: Currency) -> Result<(Money, Money), MoneyError> {
    if values.is_empty() {
        return Ok((Money::zero(cur), Money::zero(cur)));
    }
    let mut x = values.to_vec();
    x.sort_unstable();
    let n = x.len();
    let median = if n % 2 == 1 {
        Decimal::from_i128_with_scale(x[n / 2], 0)
    } else {
        ratio(BigInt::from(x[n / 2 - 1]) + x[n / 2], 2.into(), 0)
    };
    let mean = ratio(x.iter().map(|v| BigInt::from(*v)).sum(), n.into(), 0);
    let minor = |d: Decimal| Money::from_minor(d.mantissa(), cur);
    Ok((minor(median)?, minor(mean)?))
}

/// A subscription's state on a date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubscriptionStatus {
    pub member_id: String,
    pub kind: crate::book::ContributionKind,
    pub subscribed: Money,
    /// contributions of the same kind on or before the date
    pub paid: Money,
    pub outstanding: Money,
}

/// Every subscription made on or before `date`, with what was paid against it by then.
pub fn subscriptions_at(
    book: &Book,
    date: chrono::NaiveDate,
) -> Result<Vec<SubscriptionStatus>, MoneyError> {
    let cur = book.config.currency;
    let mut out = Vec::new();
    for s in book.subscriptions.iter().filter(|s| s.date <= date) {
        let paid = Money::sum(
            cur,
            book.contributions
                .iter()
                .filter(|c| c.member_id == s.member_id && c.kind == s.kind && c.date <= date)
                .map(|c| &c.amount),
        )?;
        out.push(SubscriptionStatus {
            member_id: s.member_id.clone(),
            kind: s.kind,
            subscribed: s.amount,
            paid,
            outstanding: s.amount.checked_sub(&paid)?.max(Money::zero(cur)),
        });
    }
    out.sort_by(|a, b| (&a.member_id, a.kind).cmp(&(&b.member_id, b.kind)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_known_distributions() {
        assert_eq!(gini(&[0, 0, 0, 100]).to_string(), "0.7500");
        assert_eq!(gini(&[5, 5, 5, 5]).to_string(), "0.0000");
        assert_eq!(gini(&[]).to_string(), "0.0000");
        assert_eq!(gini(&[1, 2, 3, 4]).to_string(), "0.2500");
        assert_eq!(gini(&[-50, 0, 0, 100]).to_string(), "0.7500");
        assert_eq!(top10_share_pct(&[0, 0, 0, 100]).to_string(), "100.00");
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(gini_decimal(&[d("3"), d("1")]).to_string(), "0.2500");
        assert_eq!(gini_decimal(&[d("0.5"), d("1.50")]).to_string(), "0.2500");
        assert_eq!(
            gini_decimal(&[d("-1"), d("0"), d("0"), d("1")]).to_string(),
            "0.7500"
        );
        assert_eq!(top10_share_pct(&[1; 20]).to_string(), "10.00");
    }

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        let r = |n: i64, d: i64, dp| ratio(n.into(), d.into(), dp).to_string();
        assert_eq!(r(1, 8, 2), "0.13");
        assert_eq!(r(-1, 8, 2), "-0.13");
        assert_eq!(r(1, 3, 4), "0.3333");
    }

    #[test]
    fn inequality_of_stakes_near_the_top_of_the_money_range() {
        // 100,000 stakes of 7.9e26 (the largest amounts at 2 decimals): the sums behind the Gini
        // coefficient and the top-10% share overflow 128 bits; the results stay exact
        let big = 79_228_162_514_264_337_593_543_950_i128;
        let equal = vec![big; 100_000];
        assert_eq!(gini(&equal).to_string(), "0.0000");
        assert_eq!(top10_share_pct(&equal).to_string(), "10.00");
        let mut skewed = vec![0i128; 99_999];
        skewed.push(big);
        // (n − 1) / n = 0.99999, half-up to 4 decimals
        assert_eq!(gini(&skewed).to_string(), "1.0000");
        assert_eq!(top10_share_pct(&skewed).to_string(), "100.00");
        // half hold nothing, half hold the most: G = 1/2 exactly; the old 128-bit sums overflowed
        let half: Vec<i128> = (0..100_000)
            .map(|i| if i < 50_000 { 0 } else { big })
            .collect();
        assert_eq!(gini(&half).to_string(), "0.5000");
        assert_eq!(top10_share_pct(&half).to_string(), "20.00");
    }
}
