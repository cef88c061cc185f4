//! Community-land-trust resale caps (domain notes §9.4): the fixed-rate, index (AMI) and
//! appraisal-share formulas of the VSCLT resale examples, and the Glen Aspen / IHFA
//! fair-return-on-investment (FROI) cap. Exact `Decimal` arithmetic; every money figure is rounded
//! once, half away from zero, to the cent, and the working shows each step. See `docs/ASSETS.md`.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Why a resale cap cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CltError {
    #[error("`--{0}` is needed for this formula")]
    Missing(&'static str),
    #[error("`--{0}` must not be negative")]
    Negative(&'static str),
    #[error("`--{0}` must be more than zero")]
    Zero(&'static str),
    #[error("the figures are beyond the range of exact decimals")]
    Overflow,
}

/// The inputs of all formulas; each formula reads the ones it needs.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// initial purchase price (price₀)
    pub price0: Option<Decimal>,
    /// fixed: % a year; froi: % a year on the initial improvement price
    pub rate_pct: Option<Decimal>,
    pub years: Option<Decimal>,
    pub ami_then: Option<Decimal>,
    pub ami_now: Option<Decimal>,
    /// appraisal: the homeowner's share of the appreciation, %
    pub share_pct: Option<Decimal>,
    pub appraisal_then: Option<Decimal>,
    pub appraisal_now: Option<Decimal>,
    pub market_value_then: Option<Decimal>,
    pub market_value_now: Option<Decimal>,
    pub land_value_then: Option<Decimal>,
    pub land_value_now: Option<Decimal>,
    pub home_subsidy: Option<Decimal>,
    pub principal_paid: Option<Decimal>,
    pub capital_improvements: Option<Decimal>,
    pub closing_costs: Option<Decimal>,
    pub liens: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    Fixed,
    Index,
    Appraisal,
    Froi,
}

/// One line of the working: a label, the formula in words, the value (rounded to the cent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub label: String,
    pub formula: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resale {
    pub formula: Formula,
    #[serde(with = "rust_decimal::serde::str")]
    pub max_resale_price: Decimal,
    /// FROI only: what the seller receives, min(net proceeds, FROI)
    #[serde(with = "rust_decimal::serde::str_option")]
    pub seller_receives: Option<Decimal>,
    pub working: Vec<Step>,
}

fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

fn need(v: Option<Decimal>, name: &'static str) -> Result<Decimal, CltError> {
    let v = v.ok_or(CltError::Missing(name))?;
    if v.is_sign_negative() && !v.is_zero() {
        return Err(CltError::Negative(name));
    }
    Ok(v)
}

fn opt(v: Option<Decimal>, name: &'static str) -> Result<Decimal, CltError> {
    match v {
        None => Ok(Decimal::ZERO),
        Some(_) => need(v, name),
    }
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, CltError> {
    a.checked_mul(b).ok_or(CltError::Overflow)
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, CltError> {
    a.checked_add(b).ok_or(CltError::Overflow)
}

fn sub(a: Decimal, b: Decimal) -> Result<Decimal, CltError> {
    a.checked_sub(b).ok_or(CltError::Overflow)
}

fn step(label: &str, formula: String, value: Decimal) -> Step {
    Step {
        label: label.to_string(),
        formula,
        value: cents(value),
    }
}

/// The working's "increase" and "max resale price" steps: price₀ plus the increase rounded to the
/// cent (the fixed, index and appraisal formulas).
fn increase(w: &mut Vec<Step>, p: Decimal, inc: Decimal, how: String) -> Result<Decimal, CltError> {
    w.push(step("increase", how, inc));
    let max = add(p, cents(inc))?;
    w.push(step("max resale price", format!("{p} + increase"), max));
    Ok(max)
}

/// The maximum resale price under `formula`, with the working.
pub fn resale(formula: Formula, i: &Inputs) -> Result<Resale, CltError> {
    let hundred = Decimal::ONE_HUNDRED;
    let mut w = Vec::new();
    let (max, seller) = match formula {
        Formula::Fixed => {
            let p = need(i.price0, "price0")?;
            let g = need(i.rate_pct, "rate")?;
            let n = need(i.years, "years")?;
            let inc = mul(mul(p, g)?, n)? / hundred;
            let how = format!("price0 × rate × years = {p} × {g}% × {n}");
            (increase(&mut w, p, inc, how)?, None)
        }
        Formula::Index => {
            let p = need(i.price0, "price0")?;
            let a0 = need(i.ami_then, "ami-then")?;
            let a1 = need(i.ami_now, "ami-now")?;
            if a0.is_zero() {
                return Err(CltError::Zero("ami-then"));
            }
            // price0 × (AMI_now / AMI_then − 1) = price0 × (AMI_now − AMI_then) / AMI_then
            let inc = mul(p, sub(a1, a0)?)?
                .checked_div(a0)
                .ok_or(CltError::Overflow)?;
            let how = format!("price0 × (AMI_now / AMI_then − 1) = {p} × ({a1} / {a0} − 1)");
            (increase(&mut w, p, inc, how)?, None)
        }
        Formula::Appraisal => {
            let p = need(i.price0, "price0")?;
            let s = need(i.share_pct, "share")?;
            let x0 = need(i.appraisal_then, "appraisal-then")?;
            let x1 = need(i.appraisal_now, "appraisal-now")?;
            let inc = mul(s, sub(x1, x0)?)? / hundred;
            let how = format!("share × (appraisal_now − appraisal_then) = {s}% × ({x1} − {x0})");
            (increase(&mut w, p, inc, how)?, None)
        }
        Formula::Froi => {
            let mv0 = need(i.market_value_then, "market-value-then")?;
            let land0 = need(i.land_value_then, "land-value-then")?;
            let subsidy = opt(i.home_subsidy, "home-subsidy")?;
            let r = need(i.rate_pct, "rate")?;
            let n = need(i.years, "years")?;
            let principal = opt(i.principal_paid, "principal-paid")?;
            let improvements = opt(i.capital_improvements, "capital-improvements")?;
            let closing = opt(i.closing_costs, "closing-costs")?;
            let liens = opt(i.liens, "liens")?;
            let initial = sub(sub(mv0, subsidy)?, land0)?;
            w.push(step(
                "initial improvement price",
                format!("market value − HOME subsidy − land value = {mv0} − {subsidy} − {land0}"),
                initial,
            ));
            let ret = mul(mul(r, n)?, initial)? / hundred;
            w.push(step(
                "return",
                format!("rate × years × initial improvement price = {r}% × {n} × {initial}"),
                ret,
            ));
            let half = improvements / Decimal::TWO;
            w.push(step(
                "half of capital improvements",
                format!("50% × {improvements}"),
                half,
            ));
            let froi = add(add(add(cents(ret), principal)?, cents(half))?, closing)?;
            w.push(step(
                "FROI",
                format!("return + principal paid {principal} + half of improvements + closing costs {closing}"),
                froi,
            ));
            let max = add(add(liens, closing)?, froi)?;
            w.push(step(
                "max resale price",
                format!("liens {liens} + closing costs {closing} + FROI"),
                max,
            ));
            let seller = match (i.market_value_now, i.land_value_now) {
                (Some(_), Some(_)) => {
                    let mv1 = need(i.market_value_now, "market-value-now")?;
                    let land1 = need(i.land_value_now, "land-value-now")?;
                    let emv = sub(sub(mv1, land1)?, subsidy)?;
                    w.push(step(
                        "EMV of improvement",
                        format!("market value − land value − HOME subsidy = {mv1} − {land1} − {subsidy}"),
                        emv,
                    ));
                    let net = sub(sub(emv, liens)?, closing)?;
                    w.push(step(
                        "net proceeds",
                        "EMV − liens − closing costs".to_string(),
                        net,
                    ));
                    let s = net.min(froi);
                    w.push(step(
                        "seller receives",
                        "min(net proceeds, FROI)".to_string(),
                        s,
                    ));
                    Some(cents(s))
                }
                (None, None) => None,
                (None, Some(_)) => return Err(CltError::Missing("market-value-now")),
                (Some(_), None) => return Err(CltError::Missing("land-value-now")),
            };
            (max, seller)
        }
    };
    Ok(Resale {
        formula,
        max_resale_price: cents(max),
        seller_receives: seller,
        working: w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Option<Decimal> {
        Decimal::from_str(s).ok()
    }

    fn max(f: Formula, i: &Inputs) -> String {
        resale(f, i).unwrap().max_resale_price.to_string()
    }

    #[test]
    fn fixed_index_appraisal() {
        let i = Inputs {
            price0: d("150000"),
            rate_pct: d("2"),
            years: d("7"),
            ..Inputs::default()
        };
        assert_eq!(max(Formula::Fixed, &i), "171000.00");
        let i = Inputs {
            price0: d("150000"),
            ami_then: d("60000"),
            ami_now: d("70000"),
            ..Inputs::default()
        };
        // 150,000 × 10,000 / 60,000 = 25,000
        assert_eq!(max(Formula::Index, &i), "175000.00");
        let i = Inputs {
            price0: d("150000"),
            share_pct: d("25"),
            appraisal_then: d("200000"),
            appraisal_now: d("260000"),
            ..Inputs::default()
        };
        assert_eq!(max(Formula::Appraisal, &i), "165000.00");
        assert_eq!(
            resale(Formula::Appraisal, &Inputs::default()),
            Err(CltError::Missing("price0"))
        );
    }
}
