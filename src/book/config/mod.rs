//! `coop.toml`: who the co-op is, its allocation units and the policy the engine follows.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use crate::money::{Currency, Money};

mod parse;
pub use parse::parse;

pub const CONFIG_FILE: &str = "coop.toml";

/// Patronage measures a unit may use.
pub const MEASURES: &[&str] = &[
    "hours",
    "wages",
    "purchases",
    "sales",
    "quantity",
    "value",
    "capital",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Worker,
    Consumer,
    Producer,
    MultiStakeholder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Qualified,
    Nonqualified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinimumCheckRule {
    /// pay the whole allocation in cash when the cash part is below the minimum check
    PayCash,
    /// hold the cash part as a payable and add it to next year's check
    CarryForward,
    /// retain the whole allocation (the notice becomes nonqualified: no 20% cash was paid)
    Retain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossPolicy {
    /// recover the loss from later years' patronage earnings before allocating
    CarryForward,
    /// charge the loss to capital accounts (by loss-year patronage) and the collective account
    ChargeAccounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strictness {
    Error,
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionPlan {
    None,
    RevolvingFund,
    Percentage,
    BaseCapital,
}

/// What happens to the equity of a deceased member whose joint member is still a member
/// (`[redemption] joint_estate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JointEstate {
    /// the joint membership ignores the survivor: the estate is retired like any other
    Estate,
    /// the whole account passes to the survivor, no early retirement (YVEA)
    Survivor,
    /// `joint_survivor_pct` passes to the survivor, the rest is retired as an estate, discounted
    /// when `estate_discount_pct` is set (Mid-Rivers: 50% each)
    Split,
}

/// Who receives a payment that stays unclaimed past `unclaimed_forfeit_years`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnclaimedTo {
    /// forfeited to the co-op after notice (CoLab §7.5)
    Coop,
    /// reported and paid to the state as unclaimed property (e.g. MT §35-19-311)
    State,
}

/// A decimal read exactly from a TOML string or integer; a TOML float is read through its
/// shortest decimal form (`12.5` stays `12.5`) and refused beyond 15 significant digits, which
/// an f64 cannot promise to keep (`1234567890123456.78` would become `…456.8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dec(pub Decimal);

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
        }
        let s = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::F(f) => {
                let text = format!("{f}");
                // a TOML float has held the number as f64: beyond 15 significant digits its
                // digits may not be the ones written, so money must then be quoted
                let digits = text
                    .trim_start_matches('-')
                    .replace('.', "")
                    .trim_start_matches('0')
                    .len();
                if !f.is_finite() || digits > 15 {
                    return Err(serde::de::Error::custom(format!(
                        "`{text}` has more digits than a TOML number holds exactly; write it as a string, e.g. \"1234567890123456.78\""
                    )));
                }
                text
            }
        };
        Decimal::from_str_exact(s.trim())
            .map(Dec)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a decimal number")))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// votes per member of this class (one member, one vote by default)
    #[serde(default = "one")]
    pub votes: u32,
    /// patronage multiplier (skill or class factor)
    #[serde(default)]
    pub multiplier: Option<Dec>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitConfig {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// measure -> weight λ; the weights sum to 1
    pub measures: BTreeMap<String, Dec>,
    /// extra weight per full year of membership (e.g. 0.05 = +5% a year)
    #[serde(default)]
    pub seniority_rate: Option<Dec>,
    #[serde(default)]
    pub seniority_cap_years: Option<u32>,
    /// bylaws obligate refunds to non-member patrons too
    #[serde(default)]
    pub nonmember_refunds: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// % of each unit's member share kept as unallocated reserve (collective account)
    #[serde(default)]
    pub reserve_pct: Option<Dec>,
    /// % of each member's allocation paid in cash (rounded up to the cent)
    #[serde(default)]
    pub cash_pct: Option<Dec>,
    #[serde(default)]
    pub notice: Option<Notice>,
    #[serde(default)]
    pub minimum_check: Option<Dec>,
    #[serde(default)]
    pub minimum_check_rule: Option<MinimumCheckRule>,
    #[serde(default)]
    pub loss: Option<LossPolicy>,
    /// §1388(j): offset unit losses against other units' earnings before allocating
    #[serde(default)]
    pub net_units: Option<bool>,
    /// % of a loss charged to the collective account (the rest to members by patronage)
    #[serde(default)]
    pub loss_collective_pct: Option<Dec>,
    /// annual interest credited on opening capital accounts, %
    #[serde(default)]
    pub capital_interest_pct: Option<Dec>,
    #[serde(default)]
    pub activity_outside_membership: Option<Strictness>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedemptionConfig {
    pub plan: RedemptionPlan,
    #[serde(default)]
    pub cycle_years: Option<u32>,
    #[serde(default)]
    pub percent: Option<Dec>,
    #[serde(default)]
    pub budget: Option<Dec>,
    #[serde(default)]
    pub base_capital: Option<Dec>,
    #[serde(default)]
    pub base_years: Option<u32>,
    #[serde(default)]
    pub estate_discount_pct: Option<Dec>,
    #[serde(default)]
    pub retirement_age: Option<u32>,
    #[serde(default)]
    pub leaver_installments: Option<u32>,
    #[serde(default)]
    pub leaver_interest_pct: Option<Dec>,
    #[serde(default)]
    pub minimum_check: Option<Dec>,
    /// most cash the year's redemptions may use (a solvency test or lender covenant)
    #[serde(default)]
    pub solvency_limit: Option<Dec>,
    /// estates are paid even past the solvency limit (as Ark. Code §23-17-216 allows); default true
    #[serde(default)]
    pub solvency_exempts_estates: Option<bool>,
    /// amounts a member owes (receivables.csv) are deducted from their redemption; default true
    #[serde(default)]
    pub set_off: Option<bool>,
    /// a deceased joint member's equity: estate | survivor | split; default survivor
    #[serde(default)]
    pub joint_estate: Option<JointEstate>,
    /// % of a deceased joint member's equity that passes to the survivor under `split`; default 50
    #[serde(default)]
    pub joint_survivor_pct: Option<Dec>,
    /// years after issue when an uncashed payment is forfeited (or escheated); none = only listed
    #[serde(default)]
    pub unclaimed_forfeit_years: Option<u32>,
    /// days of written notice before the forfeiture; default 60
    #[serde(default)]
    pub unclaimed_notice_days: Option<u32>,
    /// who receives forfeited payments: coop | state; default coop
    #[serde(default)]
    pub unclaimed_to: Option<UnclaimedTo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schema: u32,
    name: String,
    kind: Kind,
    currency: String,
    #[serde(default)]
    minor_units: Option<u32>,
    fiscal_year_end: String,
    #[serde(default)]
    classes: Vec<ClassConfig>,
    units: Vec<UnitConfig>,
    #[serde(default)]
    policy: Option<PolicyConfig>,
    #[serde(default)]
    redemption: Option<RedemptionConfig>,
    #[serde(default)]
    assets: Option<AssetsConfig>,
}

/// `[assets]`: how the shared-asset register meets the close and a dissolution (docs/ASSETS.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetsConfig {
    /// results.csv margins are before depreciation and disposal gains; the close applies them
    #[serde(default)]
    pub in_close: bool,
    /// the whole residual on dissolution is asset-locked (a prescribed community benefit society)
    #[serde(default)]
    pub society_locked: bool,
    /// the asset-locked body that receives the locked residual on dissolution
    #[serde(default)]
    pub asset_locked_body: Option<String>,
}

/// The resolved policy with defaults applied; percentages as fractions (20% = 0.20).
#[derive(Debug, Clone)]
pub struct Policy {
    pub reserve: Decimal,
    pub cash: Decimal,
    pub notice: Notice,
    pub minimum_check: Money,
    pub minimum_check_rule: MinimumCheckRule,
    pub loss: LossPolicy,
    pub net_units: bool,
    pub loss_collective: Decimal,
    pub capital_interest: Decimal,
    pub activity_outside_membership: Strictness,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub name: String,
    /// (measure, λ) sorted by measure
    pub measures: Vec<(String, Decimal)>,
    pub seniority_rate: Decimal,
    pub seniority_cap_years: Option<u32>,
    pub nonmember_refunds: bool,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub id: String,
    pub name: String,
    pub votes: u32,
    pub multiplier: Decimal,
}

#[derive(Debug, Clone)]
pub struct Redemption {
    pub plan: RedemptionPlan,
    pub cycle_years: Option<u32>,
    pub percent: Option<Decimal>,
    pub budget: Option<Money>,
    pub base_capital: Option<Money>,
    pub base_years: Option<u32>,
    pub estate_discount: Option<Decimal>,
    pub retirement_age: Option<u32>,
    pub leaver_installments: Option<u32>,
    pub leaver_interest: Option<Decimal>,
    pub minimum_check: Option<Money>,
    pub solvency_limit: Option<Money>,
    pub solvency_exempts_estates: bool,
    /// deduct receivables from redemption payments (default true)
    pub set_off: bool,
    pub joint_estate: JointEstate,
    /// fraction (0.5 = 50%) passed to the survivor under [`JointEstate::Split`]
    pub joint_survivor: Decimal,
    pub unclaimed_forfeit_years: Option<u32>,
    pub unclaimed_notice_days: u32,
    pub unclaimed_to: UnclaimedTo,
}

/// A valid `coop.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub kind: Kind,
    pub currency: Currency,
    /// (month, day) of the last day of the fiscal year
    pub fiscal_year_end: (u32, u32),
    pub classes: Vec<Class>,
    pub units: Vec<Unit>,
    pub policy: Policy,
    pub redemption: Option<Redemption>,
    /// `[assets]` (all off by default)
    pub assets: AssetsConfig,
}

impl Config {
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    pub fn class(&self, id: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// The fiscal year a date belongs to: the calendar year in which that fiscal year ends.
    pub fn fiscal_year_of(&self, date: chrono::NaiveDate) -> i32 {
        fiscal_year_of(date, self.fiscal_year_end)
    }

    /// First and last day of fiscal year `fy`.
    pub fn fiscal_year_bounds(&self, fy: i32) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        fiscal_year_bounds(fy, self.fiscal_year_end)
    }
}

/// The fiscal year (named by the calendar year in which it ends) that `date` falls in.
pub fn fiscal_year_of(date: chrono::NaiveDate, (month, day): (u32, u32)) -> i32 {
    use chrono::Datelike;
    let y = date.year();
    if (date.month(), date.day()) > (month, day) {
        y + 1
    } else {
        y
    }
}

pub fn fiscal_year_bounds(
    fy: i32,
    (month, day): (u32, u32),
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let end = end_date(fy, month, day)?;
    let prev_end = end_date(fy - 1, month, day)?;
    Some((prev_end.succ_opt()?, end))
}

fn end_date(year: i32, month: u32, day: u32) -> Option<chrono::NaiveDate> {
    // a 02-29 year end falls on 02-28 in common years
    chrono::NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| chrono::NaiveDate::from_ymd_opt(year, month, day - 1))
}

/// Finds the 1-based line and column of `key = ` in the TOML text, after the header of `section`
/// (`""` for the top level). Used to place semantic diagnostics.
pub fn locate(text: &str, section: &str, key: &str, nth_section: usize) -> (u64, u64) {
    let mut in_section = section.is_empty();
    let mut seen = 0usize;
    let mut section_line = 0u64;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']' || c == ' ');
            let name = name.split(']').next().unwrap_or("").trim();
            if name == section {
                if seen == nth_section {
                    in_section = true;
                    section_line = i as u64 + 1;
                } else {
                    in_section = false;
                }
                seen += 1;
            } else {
                in_section = false;
            }
            continue;
        }
        if in_section {
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    let col = (line.len() - t.len()) as u64 + 1;
                    return (i as u64 + 1, col);
                }
            }
        }
    }
    (section_line, 0)
}

/// `MM-DD` → (month, day), accepting 02-29 (a leap-day year end falls on 02-28 in other years).
pub fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let m: u32 = m.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(2024, m, d)?;
    Some((m, d))
}

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0) as u64
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::code;

    const GOOD: &str = r#"
schema = 1
name = "Test Co-op"
kind = "consumer"
currency = "USD"
fiscal_year_end = "06-30"

[[units]]
id = "grocery"
measures = { purchases = "1" }

[policy]
reserve_pct = "10"
cash_pct = 20
"#;

    #[test]
    fn good_config() {
        let c = parse(GOOD, "coop.toml").unwrap();
        assert_eq!(c.fiscal_year_end, (6, 30));
        assert_eq!(c.policy.cash, Decimal::new(20, 2));
        let d = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
        assert_eq!(c.fiscal_year_of(d), 2025);
        let (s, e) = c.fiscal_year_bounds(2025).unwrap();
        assert_eq!(
            (s.to_string(), e.to_string()),
            ("2024-07-01".into(), "2025-06-30".into())
        );
    }

    #[test]
    fn a_toml_float_with_more_digits_than_f64_keeps_is_refused() {
        let t = format!("{GOOD}\n[redemption]\nplan = \"revolving_fund\"\ncycle_years = 5\nbudget = 1234567890123456.78\n");
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        assert!(
            d.iter()
                .any(|d| d.message.contains("write it as a string") && d.code == code::E0401),
            "{d:?}"
        );
        let t = format!(
            "{GOOD}\n[redemption]\nplan = \"revolving_fund\"\ncycle_years = 5\nbudget = 15000.25\n"
        );
        let r = parse(&t, "coop.toml").unwrap().redemption.unwrap();
        assert_eq!(r.budget.map(|b| b.to_string()), Some("15000.25".into()));
    }

    #[test]
    fn unknown_key_is_located() {
        let t = GOOD.replace("cash_pct = 20", "cash_pct = 20\nbogus = 1");
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        assert_eq!(d[0].code, code::E0402);
        assert_eq!(d[0].line, 15);
    }

    #[test]
    fn redemption_policy_defaults_and_bad_values() {
        let t = format!("{GOOD}\n[redemption]\nplan = \"none\"\n");
        let r = parse(&t, "coop.toml").unwrap().redemption.unwrap();
        assert!(r.set_off);
        assert_eq!(r.joint_estate, JointEstate::Survivor);
        assert_eq!(r.joint_survivor, Decimal::new(50, 2));
        assert_eq!(r.unclaimed_forfeit_years, None);
        assert_eq!(r.unclaimed_notice_days, 60);
        assert_eq!(r.unclaimed_to, UnclaimedTo::Coop);
        let t = format!(
            "{GOOD}\n[redemption]\nplan = \"none\"\njoint_survivor_pct = \"150\"\nunclaimed_forfeit_years = 0\n"
        );
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        let got: Vec<_> = d.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(got, vec![(code::E0403, 18), (code::E0403, 19)]);
        let t = format!("{GOOD}\n[redemption]\nplan = \"none\"\njoint_estate = \"spouse\"\n");
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        assert_eq!(d[0].code, code::E0401);
    }

    #[test]
    fn impossible_values_all_reported() {
        let t = GOOD
            .replace("06-30", "02-30")
            .replace("cash_pct = 20", "cash_pct = 10")
            .replace("reserve_pct = \"10\"", "reserve_pct = \"140\"");
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(
            codes,
            vec![(code::E0403, 6), (code::E0403, 13), (code::E0403, 14)]
        );
        assert!(d[2].hint.contains("cash_pct"));
    }

    /// Fuzzing found these two: a weight at the top of the decimal range panicked every command
    /// ("Addition overflowed"), and a huge seniority_rate passed `check` then panicked `close`.
    #[test]
    fn weights_and_rates_at_the_top_of_the_range_are_located_errors() {
        let t = GOOD.replace(
            "measures = { purchases = \"1\" }",
            "measures = { purchases = \"0.5\", sales = \"79228162514264337593543950335\" }",
        );
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        assert_eq!((d[0].code, d[0].line), (code::E0403, 10));
        assert!(
            d[0].message.contains("more than the largest number"),
            "{}",
            d[0].message
        );
        let t = GOOD.replace(
            "measures = { purchases = \"1\" }",
            "measures = { purchases = \"1\" }\nseniority_rate = \"79228162514264337593543950335\"",
        );
        let d = parse(&t, "coop.toml").unwrap_err().into_sorted();
        assert_eq!((d[0].code, d[0].line), (code::E0403, 11));
        assert!(d[0].message.contains("outside 0 to 1"), "{}", d[0].message);
        let t = GOOD.replace(
            "measures = { purchases = \"1\" }",
            "measures = { purchases = \"1\" }\nseniority_rate = \"1\"",
        );
        assert!(parse(&t, "coop.toml").is_ok());
    }
}
