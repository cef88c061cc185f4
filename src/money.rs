//! Exact money: a [`Currency`] with its minor units, a [`Money`] amount that never leaves them,
//! and [`allocate`], the largest-remainder split that always sums to its pool.
//!
//! ```
//! use coopledger::money::{allocate, Currency, Money, Weight};
//!
//! let usd = Currency::from_code("USD").unwrap();
//! let pool = Money::parse("10000.00", usd).unwrap();
//! let weights: Vec<(u32, Weight)> = ["1.25", "1.25", "1.15", "1.10", "1.00"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, w)| (i as u32 + 1, Weight::from_decimal(w.parse().unwrap()).unwrap()))
//!     .collect();
//! let shares = allocate(pool, &weights).unwrap();
//! let text: Vec<String> = shares.iter().map(|m| m.to_string()).collect();
//! assert_eq!(text, ["2173.91", "2173.91", "2000.00", "1913.05", "1739.13"]);
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// Errors of money arithmetic and parsing. Messages are lower case, without a trailing period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not a currency code (three capital letters, e.g. `USD`)")]
    BadCurrencyCode(String),
    #[error("currency `{0}` has no known minor units; set `minor_units` in coop.toml")]
    UnknownCurrency(String),
    #[error("minor units must be between 0 and 8, got {0}")]
    BadMinorUnits(u32),
    #[error("`{0}` is not an amount (digits with an optional sign and decimal point)")]
    Invalid(String),
    #[error("`{input}` has more decimals than {currency} allows ({allowed})")]
    TooManyDecimals {
        input: String,
        currency: String,
        allowed: u32,
    },
    #[error("`{0}` is beyond the range of exact amounts (about 28 significant digits)")]
    OutOfRange(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(String, String),
    #[error("arithmetic overflow")]
    Overflow,
    #[error("weight {0} is negative; weights must be zero or more")]
    NegativeWeight(String),
    #[error("cannot allocate {0}: every weight is zero")]
    ZeroWeights(String),
}

/// A currency: an ISO-4217-style code and the number of decimals of its minor unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor: u8,
}

const KNOWN: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("SEK", 2),
    ("TND", 3),
    ("USD", 2),
    ("ZAR", 2),
];

impl Currency {
    /// US dollars, two decimals.
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor: 2,
    };

    /// A currency with explicit minor units (0..=8), for codes the table does not know.
    pub fn new(code: &str, minor_units: u32) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(MoneyError::BadCurrencyCode(code.to_string()));
        }
        if minor_units > 8 {
            return Err(MoneyError::BadMinorUnits(minor_units));
        }
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            minor: minor_units as u8,
        })
    }

    /// A currency from the built-in table (USD, EUR, GBP, CAD: 2; JPY: 0; ...).
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        match KNOWN.iter().find(|(c, _)| *c == code) {
            Some((_, minor)) => Currency::new(code, u32::from(*minor)),
            None => {
                Currency::new(code, 2)?;
                Err(MoneyError::UnknownCurrency(code.to_string()))
            }
        }
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Decimals of the minor unit (2 for cents).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code(), self.minor)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An exact amount in one currency, always held at exactly the currency's minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// Parses a decimal string exactly (never through a float). Leading/trailing spaces are
    /// ignored; a sign, digits and one decimal point are accepted; trailing zeros beyond the minor
    /// units are accepted (no value is lost), any other extra decimal is an error.
    pub fn parse(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let s = input.trim();
        let body = s.strip_prefix(['-', '+']).unwrap_or(s);
        let valid = !body.is_empty()
            && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && body.bytes().filter(|b| *b == b'.').count() <= 1
            && body.bytes().any(|b| b.is_ascii_digit());
        if !valid {
            return Err(MoneyError::Invalid(input.to_string()));
        }
        let mut d = Decimal::from_str_exact(s).map_err(|e| {
            if matches!(
                e,
                rust_decimal::Error::ExceedsMaximumPossibleValue
                    | rust_decimal::Error::LessThanMinimumPossibleValue
                    | rust_decimal::Error::Underflow
                    | rust_decimal::Error::ScaleExceedsMaximumPrecision(_)
            ) || s.len() > 28
            {
                MoneyError::OutOfRange(input.to_string())
            } else {
                MoneyError::Invalid(input.to_string())
            }
        })?;
        let minor = currency.minor_units();
        if d.scale() > minor {
            let n = d.normalize();
            if n.scale() > minor {
                return Err(MoneyError::TooManyDecimals {
                    input: input.to_string(),
                    currency: currency.code().to_string(),
                    allowed: minor,
                });
            }
            d = n;
        }
        Self::from_decimal(d, currency).map_err(|_| MoneyError::OutOfRange(input.to_string()))
    }

    /// An amount from a decimal that already fits the minor units (no rounding is done).
    pub fn from_decimal(d: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let minor = currency.minor_units();
        if d.scale() > minor && d.normalize().scale() > minor {
            return Err(MoneyError::TooManyDecimals {
                input: d.to_string(),
                currency: currency.code().to_string(),
                allowed: minor,
            });
        }
        let mut amount = d;
        amount.rescale(minor);
        if amount.scale() != minor || amount != d {
            return Err(MoneyError::OutOfRange(d.to_string()));
        }
        Ok(Money { amount, currency })
    }

    /// An amount rounded from any decimal with `strategy`.
    pub fn from_decimal_rounded(
        d: Decimal,
        currency: Currency,
        strategy: RoundingStrategy,
    ) -> Result<Self, MoneyError> {
        let r = d.round_dp_with_strategy(currency.minor_units(), strategy);
        Self::from_decimal(r, currency)
    }

    /// An amount from integer minor units (cents).
    pub fn from_minor(minor: i128, currency: Currency) -> Result<Self, MoneyError> {
        let amount = Decimal::try_from_i128_with_scale(minor, currency.minor_units())
            .map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount, currency })
    }

    /// The amount in integer minor units (cents).
    pub fn to_minor(&self) -> i128 {
        self.amount.mantissa()
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(
                self.currency.code().to_string(),
                other.currency.code().to_string(),
            ))
        }
    }

    fn with(&self, d: Decimal) -> Result<Money, MoneyError> {
        let mut amount = d;
        amount.rescale(self.currency.minor_units());
        if amount != d {
            return Err(MoneyError::Overflow);
        }
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        // both are held at the currency's minor units: add the integer mantissas
        if self.amount.scale() == other.amount.scale() {
            return Money::from_minor(self.to_minor() + other.to_minor(), self.currency);
        }
        let d = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        self.with(d)
    }

    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        if self.amount.scale() == other.amount.scale() {
            return Money::from_minor(self.to_minor() - other.to_minor(), self.currency);
        }
        let d = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        self.with(d)
    }

    pub fn neg(&self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }

    pub fn abs(&self) -> Money {
        Money {
            amount: self.amount.abs(),
            currency: self.currency,
        }
    }

    /// `self × factor`, rounded to the minor unit with `strategy`.
    /// Use [`RoundingStrategy::ToPositiveInfinity`] for legal minimums (the 20% cash part).
    pub fn checked_mul_round(
        &self,
        factor: Decimal,
        strategy: RoundingStrategy,
    ) -> Result<Money, MoneyError> {
        let d = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Money::from_decimal_rounded(d, self.currency, strategy)
    }

    /// Sum of amounts, all in `currency`.
    pub fn sum<'a, I: IntoIterator<Item = &'a Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    pub fn min(self, other: Money) -> Money {
        if other.amount < self.amount {
            other
        } else {
            self
        }
    }

    pub fn max(self, other: Money) -> Money {
        if other.amount > self.amount {
            other
        } else {
            self
        }
    }

    /// `1,234,567.89` style for people (the plain [`fmt::Display`] form is for machines).
    pub fn grouped(&self) -> String {
        group_thousands(&self.amount.to_string())
    }
}

impl PartialOrd for Money {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.currency == other.currency {
            Some(self.amount.cmp(&other.amount))
        } else {
            None
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.amount, f)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency.code())
    }
}

/// JSON money is always a string, e.g. `"1234.50"`.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.amount)
    }
}

/// An exact, non-negative rational weight for [`allocate`].
///
/// Whole numbers that fit in 128 bits (the common case: patronage in minor units, scaled
/// integer weights) are kept as machine integers and everything else as a big rational, so the
/// usual allocation of a large co-op allocates no heap memory per member. The form is canonical
/// (an integer that fits is always `Int`), so derived equality and hashing are exact.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Weight(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Int(i128),
    Big(BigRational),
}

impl Weight {
    fn from_big(r: BigRational) -> Self {
        if r.is_integer() {
            if let Some(n) = r.numer().to_i128() {
                return Weight(Repr::Int(n));
            }
        }
        Weight(Repr::Big(r))
    }

    fn big(&self) -> BigRational {
        match &self.0 {
            Repr::Int(n) => BigRational::from_integer(BigInt::from(*n)),
            Repr::Big(r) => r.clone(),
        }
    }

    /// (numerator, denominator) in 128 bits, when they fit.
    fn parts_i128(&self) -> Option<(i128, i128)> {
        match &self.0 {
            Repr::Int(n) => Some((*n, 1)),
            Repr::Big(r) => Some((r.numer().to_i128()?, r.denom().to_i128()?)),
        }
    }

    pub fn zero() -> Self {
        Weight(Repr::Int(0))
    }

    pub fn from_decimal(d: Decimal) -> Result<Self, MoneyError> {
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError::NegativeWeight(d.to_string()));
        }
        let p = 10i128.pow(d.scale());
        if d.mantissa() % p == 0 {
            return Ok(Weight(Repr::Int(d.mantissa() / p)));
        }
        let num = BigInt::from(d.mantissa());
        let den = BigInt::from(10u8).pow(d.scale());
        Ok(Weight::from_big(BigRational::new(num, den)))
    }

    pub fn from_ratio(num: i128, den: i128) -> Result<Self, MoneyError> {
        if den == 0 {
            return Err(MoneyError::Overflow);
        }
        if (num < 0) != (den < 0) && num != 0 {
            return Err(MoneyError::NegativeWeight(format!("{num}/{den}")));
        }
        if let Some(0) = num.checked_rem(den) {
            if let Some(q) = num.checked_div(den) {
                return Ok(Weight(Repr::Int(q)));
            }
        }
        Ok(Weight::from_big(BigRational::new(
            BigInt::from(num),
            BigInt::from(den),
        )))
    }

    /// A whole-number weight; negative is an error.
    pub fn from_integer(n: i128) -> Result<Self, MoneyError> {
        if n < 0 {
            return Err(MoneyError::NegativeWeight(n.to_string()));
        }
        Ok(Weight(Repr::Int(n)))
    }

    pub fn from_int(n: u64) -> Self {
        Weight(Repr::Int(i128::from(n)))
    }

    pub fn is_zero(&self) -> bool {
        match &self.0 {
            Repr::Int(n) => *n == 0,
            Repr::Big(r) => r.is_zero(),
        }
    }

    /// `self × other` (exact).
    pub fn mul(&self, other: &Weight) -> Weight {
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            if let Some(v) = a.checked_mul(*b) {
                return Weight(Repr::Int(v));
            }
        }
        Weight::from_big(self.big() * other.big())
    }

    /// `self + other` (exact).
    pub fn add(&self, other: &Weight) -> Weight {
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            if let Some(v) = a.checked_add(*b) {
                return Weight(Repr::Int(v));
            }
        }
        Weight::from_big(self.big() + other.big())
    }

    /// `max(0, self − other)` (exact).
    pub fn sub_or_zero(&self, other: &Weight) -> Weight {
        if other >= self {
            return Weight::zero();
        }
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            return Weight(Repr::Int(a - b));
        }
        Weight::from_big(self.big() - other.big())
    }

    /// `self / other` (exact); zero when `other` is zero.
    pub fn div(&self, other: &Weight) -> Weight {
        if other.is_zero() {
            return Weight::zero();
        }
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            if a % b == 0 {
                return Weight(Repr::Int(a / b));
            }
        }
        Weight::from_big(self.big() / other.big())
    }

    /// A decimal approximation for display (28 significant digits at most).
    pub fn to_decimal_lossy(&self) -> Decimal {
        const SCALE: u32 = 12;
        if let Repr::Int(n) = &self.0 {
            if let Some(m) = n.checked_mul(10i128.pow(SCALE)) {
                return Decimal::try_from_i128_with_scale(m, SCALE)
                    .map(|d| d.normalize())
                    .unwrap_or(Decimal::MAX);
            }
        }
        let scaled = (self.big() * BigRational::from_integer(BigInt::from(10u64.pow(SCALE))))
            .round()
            .to_integer();
        scaled
            .to_i128()
            .and_then(|m| Decimal::try_from_i128_with_scale(m, SCALE).ok())
            .map(|d| d.normalize())
            .unwrap_or(Decimal::MAX)
    }

    /// `(self / other).to_decimal_lossy()`, without big numbers when both are small integers;
    /// zero when `other` is zero.
    pub fn ratio_lossy(&self, other: &Weight) -> Decimal {
        const SCALE: u32 = 12;
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            if *b == 0 {
                return Decimal::ZERO;
            }
            if let Some(n) = a.checked_mul(10i128.pow(SCALE)) {
                // round half away from zero, as BigRational::round (both are non-negative)
                let (q, r) = match (u64::try_from(n), u64::try_from(*b)) {
                    (Ok(n), Ok(b)) => (i128::from(n / b), i128::from(n % b)),
                    _ => (n / b, n % b),
                };
                let q = if r >= b - r { q + 1 } else { q };
                return Decimal::try_from_i128_with_scale(q, SCALE)
                    .map(|d| d.normalize())
                    .unwrap_or(Decimal::MAX);
            }
        }
        self.div(other).to_decimal_lossy()
    }
}

impl PartialOrd for Weight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Weight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (&self.0, &other.0) {
            (Repr::Int(a), Repr::Int(b)) => a.cmp(b),
            _ => self.big().cmp(&other.big()),
        }
    }
}

impl fmt::Debug for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(n) => write!(f, "{n}"),
            Repr::Big(r) => write!(f, "{r}"),
        }
    }
}

impl FromStr for Weight {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let d =
            Decimal::from_str_exact(s.trim()).map_err(|_| MoneyError::Invalid(s.to_string()))?;
        Weight::from_decimal(d)
    }
}

/// Splits `total` into shares proportional to the weights, exactly to the minor unit, by the
/// largest-remainder (Hamilton) method:
///
/// 1. `exact_i = |total| × w_i / Σw` as an exact rational; everyone gets `floor(exact_i)` minor units;
/// 2. the `r` minor units left over go one each to the `r` largest remainders
///    `exact_i − floor(exact_i)`; ties go to the larger weight, then to the smaller key, then to
///    the earlier position (only identical `(key, weight)` pairs get that far);
/// 3. a negative total is allocated as its absolute value and negated.
///
/// The result is aligned with `items`, sums exactly to `total`, gives exactly zero to a zero
/// weight, never flips a sign, and keeps every share within one minor unit of its exact value.
/// Every weight zero is an error unless the total is zero too.
pub fn allocate<K: Ord>(total: Money, items: &[(K, Weight)]) -> Result<Vec<Money>, MoneyError> {
    let currency = total.currency();
    let sum = items
        .iter()
        .fold(Weight::zero(), |acc, (_, w)| acc.add(w))
        .big();
    if sum.is_zero() {
        if total.is_zero() {
            return Ok(items.iter().map(|_| Money::zero(currency)).collect());
        }
        return Err(MoneyError::ZeroWeights(total.to_string()));
    }
    if let Some(fast) = allocate_i128(total, items) {
        return fast;
    }
    let negative = total.is_negative();
    let tc = BigInt::from(total.to_minor().abs());
    let tc_r = BigRational::from_integer(tc.clone());
    let mut base: Vec<BigInt> = Vec::with_capacity(items.len());
    let mut rem: Vec<BigRational> = Vec::with_capacity(items.len());
    for (_, w) in items {
        let exact = &tc_r * w.big() / &sum;
        let floor = exact.floor();
        rem.push(&exact - &floor);
        base.push(floor.to_integer());
    }
    let given: BigInt = base.iter().sum();
    let mut left = (&tc - &given).to_usize().ok_or(MoneyError::Overflow)?;
    if left > 0 {
        let mut order: Vec<usize> = (0..items.len()).filter(|&i| !rem[i].is_zero()).collect();
        order.sort_by(|&a, &b| {
            rem[b]
                .cmp(&rem[a])
                .then_with(|| items[b].1.cmp(&items[a].1))
                .then_with(|| items[a].0.cmp(&items[b].0))
                .then_with(|| a.cmp(&b))
        });
        for &i in &order {
            if left == 0 {
                break;
            }
            base[i] += 1;
            left -= 1;
        }
    }
    base.into_iter()
        .map(|b| {
            let v = b.to_i128().ok_or(MoneyError::Overflow)?;
            Money::from_minor(if negative { -v } else { v }, currency)
        })
        .collect()
}

/// The same largest-remainder split as [`allocate`] in 128-bit integers, used whenever every
/// weight, brought to a common denominator, and every `|total| × weight` fit: the remainders then
/// share one denominator and compare exactly as integers. `None` means "too big: use big integers".
fn allocate_i128<K: Ord>(
    total: Money,
    items: &[(K, Weight)],
) -> Option<Result<Vec<Money>, MoneyError>> {
    let mut den: i128 = 1;
    for (_, w) in items {
        let (_, d) = w.parts_i128()?;
        if d != 1 {
            let g = Integer::gcd(&den, &d);
            den = (den / g).checked_mul(d)?;
        }
    }
    let mut ints: Vec<i128> = Vec::with_capacity(items.len());
    let mut sum: i128 = 0;
    for (_, w) in items {
        let (n, d) = w.parts_i128()?;
        let v = n.checked_mul(den / d)?;
        sum = sum.checked_add(v)?;
        ints.push(v);
    }
    if sum <= 0 {
        return None;
    }
    let currency = total.currency();
    let negative = total.is_negative();
    let tc = total.to_minor().checked_abs()?;
    let mut base: Vec<i128> = Vec::with_capacity(items.len());
    let mut rem: Vec<i128> = Vec::with_capacity(items.len());
    for &v in &ints {
        let p = tc.checked_mul(v)?;
        // a 64-bit division when both fit (a 128-bit one is a slow library call)
        match (u64::try_from(p), u64::try_from(sum)) {
            (Ok(p), Ok(s)) => {
                base.push(i128::from(p / s));
                rem.push(i128::from(p % s));
            }
            _ => {
                base.push(p / sum);
                rem.push(p % sum);
            }
        }
    }
    let given: i128 = base.iter().sum();
    let mut left = tc - given;
    if left > 0 {
        let mut order: Vec<usize> = (0..items.len()).filter(|&i| rem[i] != 0).collect();
        // a total order (the position breaks the last ties), so selecting the `left` first
        // picks exactly the entries a full sort would put first, in linear time
        let by = |a: &usize, b: &usize| {
            rem[*b]
                .cmp(&rem[*a])
                .then_with(|| ints[*b].cmp(&ints[*a]))
                .then_with(|| items[*a].0.cmp(&items[*b].0))
                .then_with(|| a.cmp(b))
        };
        let k = usize::try_from(left).unwrap_or(usize::MAX);
        if k < order.len() {
            order.select_nth_unstable_by(k, by);
            order.truncate(k);
        }
        for &i in &order {
            if left == 0 {
                break;
            }
            base[i] += 1;
            left -= 1;
        }
    }
    Some(
        base.into_iter()
            .map(|b| Money::from_minor(if negative { -b } else { b }, currency))
            .collect(),
    )
}

/// `a + b` of two decimal amounts, exactly: `rust_decimal` would round a sum that needs more
/// than 96 bits at its scale (and panic at scale 0); here that is [`MoneyError::Overflow`].
pub fn add_exact(a: Decimal, b: Decimal) -> Result<Decimal, MoneyError> {
    // align both mantissas on the larger scale and add them as integers: exact by construction
    let scale = a.scale().max(b.scale());
    let up = |d: Decimal| -> Option<i128> {
        d.mantissa()
            .checked_mul(10i128.checked_pow(scale - d.scale())?)
    };
    let sum = up(a)
        .zip(up(b))
        .and_then(|(x, y)| x.checked_add(y))
        .ok_or(MoneyError::Overflow)?;
    Decimal::try_from_i128_with_scale(sum, scale).map_err(|_| MoneyError::Overflow)
}

/// `a − b`, exactly (see [`add_exact`]).
pub fn sub_exact(a: Decimal, b: Decimal) -> Result<Decimal, MoneyError> {
    add_exact(a, -b)
}

/// `1,234,567.89`: thousands separators in a decimal number already formatted for display
/// (`-1234567.89`, `1000`); the sign and the decimals are kept as they are.
pub fn group_thousands(s: &str) -> String {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    out.push_str(sign);
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `d` rounded half away from zero to exactly `dp` decimals, never `-0` (so that it prints as
/// `1.50`, `0.000`).
pub fn at_scale(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        r = Decimal::ZERO;
    }
    r.rescale(dp);
    r
}

/// `d` with exactly `dp` decimals, half away from zero, never `-0` (see [`at_scale`]).
pub fn fixed(d: Decimal, dp: u32) -> String {
    at_scale(d, dp).to_string()
}

/// A checked decimal operation overflowed or divided by zero; names what was being computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow or division by zero while computing {0}")]
pub struct ArithError(pub &'static str);

/// Checked decimal arithmetic for computations on input figures (no bare `+`, `*` on user data):
/// each operation is `rust_decimal`'s `checked_*`, an overflow or a division by zero is an
/// [`ArithError`]. (Sums of amounts that must not round use [`add_exact`].)
pub mod dec {
    use rust_decimal::Decimal;

    use super::ArithError;

    pub type Ar<T> = Result<T, ArithError>;

    pub fn add(a: Decimal, b: Decimal) -> Ar<Decimal> {
        a.checked_add(b).ok_or(ArithError("a sum"))
    }
    pub fn sub(a: Decimal, b: Decimal) -> Ar<Decimal> {
        a.checked_sub(b).ok_or(ArithError("a difference"))
    }
    pub fn mul(a: Decimal, b: Decimal) -> Ar<Decimal> {
        a.checked_mul(b).ok_or(ArithError("a product"))
    }
    pub fn div(a: Decimal, b: Decimal) -> Ar<Decimal> {
        a.checked_div(b).ok_or(ArithError("a quotient"))
    }
    /// `a / b`, or zero when `b` is zero (used for shares of an empty total).
    pub fn div0(a: Decimal, b: Decimal) -> Ar<Decimal> {
        if b.is_zero() {
            Ok(Decimal::ZERO)
        } else {
            div(a, b)
        }
    }
    pub fn sum<I: IntoIterator<Item = Decimal>>(it: I) -> Ar<Decimal> {
        it.into_iter().try_fold(Decimal::ZERO, add)
    }
    /// `x^n` for a small non-negative integer power, checked.
    pub fn powi(x: Decimal, n: u32) -> Ar<Decimal> {
        let mut acc = Decimal::ONE;
        for _ in 0..n {
            acc = mul(acc, x)?;
        }
        Ok(acc)
    }
    /// `part / whole × 100`, zero for an empty whole.
    pub fn pct(part: Decimal, whole: Decimal) -> Ar<Decimal> {
        mul(div0(part, whole)?, Decimal::ONE_HUNDRED)
    }
}

/// `ceil(a / b)` for positive integers, used by installment schedules.
pub fn div_ceil_i128(a: i128, b: i128) -> Option<i128> {
    if b == 0 {
        return None;
    }
    Some(Integer::div_ceil(&a, &b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Signed;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    fn m(s: &str) -> Money {
        Money::parse(s, usd()).unwrap()
    }

    fn w(s: &str) -> Weight {
        s.parse().unwrap()
    }

    fn strs(v: &[Money]) -> Vec<String> {
        v.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn parse_is_exact_and_strict() {
        assert_eq!(m("1234567890123456.78").to_string(), "1234567890123456.78");
        assert_eq!(m("12").to_string(), "12.00");
        assert_eq!(m(" -3.5 ").to_string(), "-3.50");
        assert_eq!(m("1.500").to_string(), "1.50");
        assert!(matches!(
            Money::parse("1.005", usd()),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        for bad in [
            "", "-", ".", "1e5", "1,000.00", "abc", "1.2.3", "--1", "NaN", "0x10",
        ] {
            assert!(Money::parse(bad, usd()).is_err(), "{bad}");
        }
        assert!(matches!(
            Money::parse("99999999999999999999999999999999", usd()),
            Err(MoneyError::OutOfRange(_))
        ));
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(Money::parse("1500", jpy).unwrap().to_string(), "1500");
        assert!(Money::parse("1500.5", jpy).is_err());
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::from_code("JPY").unwrap().minor_units(), 0);
        assert!(matches!(
            Currency::from_code("XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(Currency::from_code("usd").is_err());
        assert_eq!(Currency::new("XYZ", 4).unwrap().minor_units(), 4);
        let eur = Currency::from_code("EUR").unwrap();
        assert!(matches!(
            m("1").checked_add(&Money::parse("1", eur).unwrap()),
            Err(MoneyError::CurrencyMismatch(..))
        ));
    }

    #[test]
    fn json_money_is_a_string() {
        let v = serde_json::to_string(&m("1234567890123456.78")).unwrap();
        assert_eq!(v, "\"1234567890123456.78\"");
    }

    #[test]
    fn cash_rounds_up_to_keep_twenty_percent() {
        // E2: M1's 668.47 -> 133.70 (half-up would give 133.69, below 20%)
        let c = m("668.47")
            .checked_mul_round(Decimal::new(20, 2), RoundingStrategy::ToPositiveInfinity)
            .unwrap();
        assert_eq!(c.to_string(), "133.70");
    }

    #[test]
    fn fixed_and_group_thousands() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(fixed(d("19.35483870"), 3), "19.355");
        assert_eq!(fixed(d("-0.0001"), 2), "0.00");
        assert_eq!(fixed(d("2.5"), 0), "3");
        assert_eq!(fixed(d("-2.5"), 0), "-3");
        assert_eq!(group_thousands("1585556.97"), "1,585,556.97");
        assert_eq!(group_thousands("-1000"), "-1,000");
        assert_eq!(group_thousands("999.5"), "999.5");
    }

    #[test]
    fn checked_decimal_helpers_name_the_failure() {
        assert_eq!(
            dec::div(Decimal::ONE, Decimal::ZERO),
            Err(ArithError("a quotient"))
        );
        assert_eq!(dec::div0(Decimal::ONE, Decimal::ZERO), Ok(Decimal::ZERO));
        assert_eq!(
            dec::add(Decimal::MAX, Decimal::ONE),
            Err(ArithError("a sum"))
        );
        assert_eq!(dec::powi(Decimal::TWO, 10), Ok(Decimal::from(1024)));
        assert_eq!(
            dec::pct(Decimal::ONE, Decimal::from(4)),
            Ok(Decimal::from(25))
        );
    }

    #[test]
    fn grouped() {
        assert_eq!(m("1234567.8").grouped(), "1,234,567.80");
        assert_eq!(m("-999").grouped(), "-999.00");
        assert_eq!(m("100").grouped(), "100.00");
    }

    #[test]
    fn e3a_seniority_weights() {
        let items: Vec<(u32, Weight)> = ["1.25", "1.25", "1.15", "1.10", "1.00"]
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32 + 1, w(s)))
            .collect();
        let out = allocate(m("10000.00"), &items).unwrap();
        assert_eq!(
            strs(&out),
            ["2173.91", "2173.91", "2000.00", "1913.05", "1739.13"]
        );
    }

    #[test]
    fn e2_grocery_and_fuel() {
        let g: Vec<(&str, Weight)> = vec![
            ("M1", w("12500.00")),
            ("M2", w("12500.00")),
            ("M3", w("12500.00")),
            ("M4", w("0")),
            ("M5", w("7500.00")),
        ];
        assert_eq!(
            strs(&allocate(m("2000.00"), &g).unwrap()),
            ["555.56", "555.56", "555.55", "0.00", "333.33"]
        );
        let f: Vec<(&str, Weight)> = vec![
            ("M1", w("2200.00")),
            ("M2", w("0.00")),
            ("M3", w("310.45")),
            ("M4", w("1875.20")),
            ("M5", w("4033.80")),
        ];
        assert_eq!(
            strs(&allocate(m("432.11"), &f).unwrap()),
            ["112.91", "0.00", "15.93", "96.24", "207.03"]
        );
    }

    #[test]
    fn identical_remainders_go_to_larger_weight() {
        // weights 3 and 1.5 of 0.03 with a third weight 4.5 -> exact 0.01, 0.005, 0.015:
        // remainders .0 / .5 / .5 (in cents): the spare cent goes to the larger weight (C)
        let items = vec![("A", w("3")), ("B", w("1.5")), ("C", w("4.5"))];
        let out = allocate(m("0.03"), &items).unwrap();
        assert_eq!(strs(&out), ["0.01", "0.00", "0.02"]);
    }

    #[test]
    fn ties_beyond_forty_digits_are_exact() {
        // 1/3 and 33333333333333333333333333333333333333333/1e41 differ after 40 digits;
        // a rounded-decimal comparison would call them equal.
        let a = Weight::from_ratio(1, 3).unwrap();
        let b = Weight::from_big(BigRational::new(
            "33333333333333333333333333333333333333334".parse().unwrap(),
            BigInt::from(10u8).pow(41),
        ));
        let items = vec![("A", a), ("B", b)];
        // exact shares of 1 cent: B's remainder is (very slightly) larger
        let out = allocate(m("0.01"), &items).unwrap();
        assert_eq!(strs(&out), ["0.00", "0.01"]);
    }

    #[test]
    fn negative_pool_and_zero_weights() {
        let items = vec![(1, w("2")), (2, w("1")), (3, w("0"))];
        let out = allocate(m("-10.00"), &items).unwrap();
        assert_eq!(strs(&out), ["-6.67", "-3.33", "0.00"]);
        assert!(matches!(
            allocate(m("1.00"), &[(1, w("0"))]),
            Err(MoneyError::ZeroWeights(_))
        ));
        assert!(allocate(m("0.00"), &[(1, w("0"))]).unwrap()[0].is_zero());
        assert!(allocate(m("1.00"), &Vec::<(u8, Weight)>::new()).is_err());
        assert!(Weight::from_decimal(Decimal::new(-1, 0)).is_err());
    }

    fn arb_items() -> impl Strategy<Value = (i64, Vec<(u32, u64)>)> {
        (
            -10_000_000i64..10_000_000,
            prop::collection::vec(
                (0u32..50, prop_oneof![Just(0u64), 0u64..1000, 0u64..5]),
                1..12,
            ),
        )
    }

    #[test]
    fn add_exact_is_exact_or_an_error() {
        let d = |s: &str| Decimal::from_str_exact(s).unwrap();
        assert_eq!(
            add_exact(d("1.50"), d("0.0000")).unwrap().to_string(),
            "1.5000"
        );
        assert_eq!(add_exact(d("0"), d("1.25")).unwrap(), d("1.25"));
        assert_eq!(sub_exact(d("1.25"), d("1.25")).unwrap(), Decimal::ZERO);
        // 96 bits at scale 2: the next cent does not fit; rust_decimal would round it away
        let max2 = d("792281625142643375935439503.35");
        assert!(add_exact(max2, d("0.01")).is_err());
        assert!(add_exact(Decimal::MAX, d("1")).is_err());
        assert_eq!(
            add_exact(max2, d("-0.01")).unwrap(),
            d("792281625142643375935439503.34")
        );
    }

    proptest! {
        #[test]
        fn allocation_invariants((total, raw) in arb_items()) {
            let total = Money::from_minor(i128::from(total), usd()).unwrap();
            let items: Vec<(u32, Weight)> = raw.iter().map(|(k, w)| (*k, Weight::from_int(*w))).collect();
            let sum_w: u64 = raw.iter().map(|(_, w)| *w).sum();
            let res = allocate(total, &items);
            if sum_w == 0 {
                prop_assert_eq!(res.is_err(), !total.is_zero());
                return Ok(());
            }
            let out = res.unwrap();
            // exact sum
            prop_assert_eq!(Money::sum(usd(), &out).unwrap(), total);
            for ((_, wt), share) in raw.iter().zip(&out) {
                // zero weight gets exactly zero
                if *wt == 0 { prop_assert!(share.is_zero()); }
                // no sign flips
                if total.is_negative() { prop_assert!(!share.is_positive()); }
                else { prop_assert!(!share.is_negative()); }
                // within one minor unit of exact
                let exact = BigRational::new(BigInt::from(total.to_minor()) * BigInt::from(*wt), BigInt::from(sum_w));
                let diff = (BigRational::from_integer(BigInt::from(share.to_minor())) - exact).abs();
                prop_assert!(diff < BigRational::from_integer(BigInt::from(1)));
            }
        }

        #[test]
        fn permuting_input_permutes_output((total, raw) in arb_items(), seed in any::<u64>()) {
            let total = Money::from_minor(i128::from(total), usd()).unwrap();
            // distinct keys so that a permutation is observable
            let items: Vec<(u32, Weight)> = raw.iter().enumerate().map(|(i, (_, w))| (i as u32, Weight::from_int(*w))).collect();
            let Ok(out) = allocate(total, &items) else { return Ok(()); };
            let mut perm: Vec<usize> = (0..items.len()).collect();
            let mut s = seed;
            for i in (1..perm.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                perm.swap(i, (s >> 33) as usize % (i + 1));
            }
            let permuted: Vec<(u32, Weight)> = perm.iter().map(|&i| items[i].clone()).collect();
            let out2 = allocate(total, &permuted).unwrap();
            for (j, &i) in perm.iter().enumerate() {
                prop_assert_eq!(out2[j], out[i]);
            }
        }

        #[test]
        fn integer_and_big_integer_paths_agree((total, raw) in arb_items(), dens in prop::collection::vec(1i128..50, 12)) {
            let total = Money::from_minor(i128::from(total), usd()).unwrap();
            let items: Vec<(u32, Weight)> = raw.iter().enumerate()
                .map(|(i, (k, w))| (*k, Weight::from_ratio(i128::from(*w), dens[i % dens.len()]).unwrap()))
                .collect();
            let fast = allocate_i128(total, &items);
            // force the big-integer path by scaling every weight by a huge common factor
            let huge = Weight::from_big(BigRational::from_integer(BigInt::from(10u8).pow(60)));
            let big: Vec<(u32, Weight)> = items.iter().map(|(k, w)| (*k, w.mul(&huge))).collect();
            prop_assert!(allocate_i128(total, &big).is_none());
            match fast {
                Some(f) => prop_assert_eq!(f.unwrap(), allocate(total, &big).unwrap()),
                None => prop_assert!(allocate(total, &big).is_err() || items.iter().all(|(_, w)| w.is_zero())),
            }
        }

        /// The machine-integer form of [`Weight`] gives exactly what big rationals give, for
        /// every operation, across the boundary where products leave 128 bits.
        #[test]
        fn weight_forms_agree(
            a in (0i128..1_000_000, 1i128..20, 0u32..3),
            b in (0i128..1_000_000, 1i128..20, 0u32..3),
        ) {
            // scale some numerators far up so that products and sums overflow 128 bits
            let mk = |(n, d, e): (i128, i128, u32)| {
                let n = n * 10i128.pow(11 * e);
                (Weight::from_ratio(n, d).unwrap(), BigRational::new(BigInt::from(n), BigInt::from(d)))
            };
            let ((wa, ra), (wb, rb)) = (mk(a), mk(b));
            let big = |w: &Weight| w.big();
            prop_assert_eq!(big(&wa.mul(&wb)), &ra * &rb);
            prop_assert_eq!(big(&wa.add(&wb)), &ra + &rb);
            let sub = if rb >= ra { BigRational::zero() } else { &ra - &rb };
            prop_assert_eq!(big(&wa.sub_or_zero(&wb)), sub);
            if !rb.is_zero() {
                prop_assert_eq!(big(&wa.div(&wb)), &ra / &rb);
                let slow = Weight::from_big(&ra / &rb).to_decimal_lossy();
                prop_assert_eq!(wa.ratio_lossy(&wb), slow);
            }
            prop_assert_eq!(wa.cmp(&wb), ra.cmp(&rb));
            prop_assert_eq!(wa == wb, ra == rb);
            // canonical: the same value built two ways is equal and hashes the same
            let again = Weight::from_big(ra.clone());
            prop_assert_eq!(&again, &wa);
            let h = |w: &Weight| {
                use std::hash::{Hash, Hasher};
                let mut s = std::collections::hash_map::DefaultHasher::new();
                w.hash(&mut s);
                s.finish()
            };
            prop_assert_eq!(h(&again), h(&wa));
        }

        #[test]
        fn parse_roundtrips(cents in any::<i64>()) {
            let a = Money::from_minor(i128::from(cents), usd()).unwrap();
            prop_assert_eq!(Money::parse(&a.to_string(), usd()).unwrap(), a);
        }
    }
}
