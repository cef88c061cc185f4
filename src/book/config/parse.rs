//! [`parse`]: `coop.toml` text to a validated [`Config`], in named steps (the TOML itself, the
//! top-level keys, classes, units, `[policy]`, `[redemption]`), each reporting every problem it
//! finds at the line of its key.

use rust_decimal::Decimal;

use super::{
    line_col, locate, parse_month_day, Class, Config, Dec, JointEstate, LossPolicy,
    MinimumCheckRule, Notice, Policy, PolicyConfig, RawConfig, Redemption, RedemptionConfig,
    RedemptionPlan, Strictness, UnclaimedTo, Unit, MEASURES,
};
use crate::diag::code::{self, Code};
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::{Currency, Money};

/// The text being parsed and the path shown in its diagnostics.
#[derive(Clone, Copy)]
struct Src<'a> {
    text: &'a str,
    file: &'a str,
}

impl Src<'_> {
    /// A problem at `key` of the `nth` `section` (`""` for the top level).
    fn at(&self, c: Code, section: &str, key: &str, nth: usize) -> crate::diag::Builder {
        let (l, col) = locate(self.text, section, key, nth);
        Diagnostic::error(c, self.file, l, col)
    }

    /// An impossible value (E0403) at `key` of the first `section`.
    fn impossible(
        &self,
        diags: &mut Diagnostics,
        section: &str,
        key: &str,
        msg: String,
        hint: &str,
    ) {
        diags.push(self.at(code::E0403, section, key, 0).msg(msg).hint(hint));
    }

    /// A percentage from 0 to 100 as a fraction; `default` when absent or out of range.
    fn pct(
        &self,
        diags: &mut Diagnostics,
        section: &str,
        key: &str,
        v: Option<Dec>,
        default: Decimal,
    ) -> Decimal {
        let Some(Dec(p)) = v else { return default };
        if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
            diags.push(
                self.at(code::E0403, section, key, 0)
                    .msg(format!("`{key}` is {p}%, outside 0..100"))
                    .hint(format!(
                        "set `{key}` in [{section}] to a percentage from 0 to 100"
                    )),
            );
            return default;
        }
        p / Decimal::ONE_HUNDRED
    }

    /// A non-negative amount in `cur`; `None` when absent or invalid (reported).
    fn money(
        &self,
        diags: &mut Diagnostics,
        cur: Currency,
        section: &str,
        key: &str,
        v: Option<Dec>,
    ) -> Option<Money> {
        let d = v?.0;
        match Money::from_decimal(d, cur) {
            Ok(m) if !m.is_negative() => Some(m),
            _ => {
                diags.push(
                    self.at(code::E0403, section, key, 0)
                        .msg(format!(
                            "`{key}` = {d} is not a non-negative amount in {}",
                            cur.code()
                        ))
                        .hint(format!(
                            "write an amount with at most {} decimals",
                            cur.minor_units()
                        )),
                );
                None
            }
        }
    }
}

/// Parses and validates `coop.toml`. `file` is the path shown in diagnostics.
pub fn parse(text: &str, file: &str) -> Result<Config, Diagnostics> {
    let src = Src { text, file };
    let raw = toml_of(src)?;
    let mut diags = Diagnostics::new();
    let (currency, fye) = top_level(src, &raw, &mut diags);
    let classes = classes(src, &raw, &mut diags);
    let units = units(src, &raw, &mut diags);
    let cur = currency.unwrap_or(Currency::USD);
    let policy = policy(src, raw.policy.clone(), cur, &mut diags);
    let redemption = raw
        .redemption
        .as_ref()
        .map(|r| redemption(src, r, cur, &mut diags));
    if diags.has_errors() {
        return Err(diags);
    }
    match (currency, fye) {
        (Some(currency), Some(fiscal_year_end)) => Ok(Config {
            name: raw.name,
            kind: raw.kind,
            currency,
            fiscal_year_end,
            classes,
            units,
            policy,
            redemption,
            assets: raw.assets.unwrap_or_default(),
        }),
        _ => Err(diags),
    }
}

/// The TOML itself: syntax, types, unknown and missing keys (E0401, E0402, E0404).
fn toml_of(src: Src<'_>) -> Result<RawConfig, Diagnostics> {
    toml::from_str(src.text).map_err(|e| {
        let (line, col) = match e.span() {
            Some(span) => line_col(src.text, span.start),
            None => (0, 0),
        };
        let msg = e.message().to_string();
        let (c, hint) = if msg.contains("unknown field") {
            (
                code::E0402,
                "remove the key or correct its spelling; docs/FORMATS.md lists every key",
            )
        } else if msg.contains("missing field") {
            (code::E0404, "add the key; docs/FORMATS.md lists every key")
        } else {
            (code::E0401, "see docs/FORMATS.md for the form of coop.toml")
        };
        let mut diags = Diagnostics::new();
        diags.push(
            Diagnostic::error(c, src.file, line, col)
                .msg(format!("coop.toml: {}", msg.trim()))
                .hint(hint),
        );
        diags
    })
}

/// `schema`, `name`, the currency and the fiscal year end.
fn top_level(
    src: Src<'_>,
    raw: &RawConfig,
    diags: &mut Diagnostics,
) -> (Option<Currency>, Option<(u32, u32)>) {
    if raw.schema != 1 {
        src.impossible(
            diags,
            "",
            "schema",
            format!("schema version {} is not supported", raw.schema),
            "this coopledger reads schema = 1",
        );
    }
    if raw.name.trim().is_empty() {
        src.impossible(
            diags,
            "",
            "name",
            "the co-op's `name` is empty".into(),
            "give the co-op's legal name",
        );
    }
    let currency = match raw.minor_units {
        Some(m) => Currency::new(&raw.currency, m),
        None => Currency::from_code(&raw.currency),
    };
    let currency = match currency {
        Ok(c) => Some(c),
        Err(err) => {
            src.impossible(
                diags,
                "",
                "currency",
                err.to_string(),
                "use a three-letter code such as USD, EUR, GBP, CAD or JPY, with `minor_units` for others",
            );
            None
        }
    };
    let fye = parse_month_day(&raw.fiscal_year_end);
    if fye.is_none() {
        src.impossible(
            diags,
            "",
            "fiscal_year_end",
            format!(
                "`fiscal_year_end` = `{}` is not a possible month-day",
                raw.fiscal_year_end
            ),
            "write the last day of the fiscal year as MM-DD, e.g. \"12-31\" or \"06-30\"",
        );
    }
    (currency, fye)
}

/// `[[classes]]`, or the one default class `member`.
fn classes(src: Src<'_>, raw: &RawConfig, diags: &mut Diagnostics) -> Vec<Class> {
    let mut classes = Vec::new();
    for (i, c) in raw.classes.iter().enumerate() {
        if c.id.trim().is_empty() || classes.iter().any(|x: &Class| x.id == c.id) {
            diags.push(
                src.at(code::E0403, "classes", "id", i)
                    .msg(format!("class id `{}` is empty or repeated", c.id))
                    .hint("give every [[classes]] entry a distinct `id`"),
            );
        }
        let multiplier = c.multiplier.map(|d| d.0).unwrap_or(Decimal::ONE);
        if multiplier < Decimal::ZERO {
            diags.push(
                src.at(code::E0403, "classes", "multiplier", i)
                    .msg(format!("class `{}` has a negative multiplier", c.id))
                    .hint("multipliers are zero or more"),
            );
        }
        classes.push(Class {
            id: c.id.clone(),
            name: c.name.clone().unwrap_or_else(|| c.id.clone()),
            votes: c.votes,
            multiplier,
        });
    }
    if classes.is_empty() {
        classes.push(Class {
            id: "member".into(),
            name: "Member".into(),
            votes: 1,
            multiplier: Decimal::ONE,
        });
    }
    classes
}

/// `[[units]]`: distinct ids, known measures, positive weights that sum to 1 (checked, so a
/// weight at the top of the decimal range is an error, not a panic), a seniority rate in 0..1.
fn units(src: Src<'_>, raw: &RawConfig, diags: &mut Diagnostics) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    if raw.units.is_empty() {
        src.impossible(
            diags,
            "",
            "units",
            "no allocation unit is defined".into(),
            "add at least one [[units]] table with an `id` and its `measures`",
        );
    }
    for (i, u) in raw.units.iter().enumerate() {
        let at = |c: Code, key: &str| src.at(c, "units", key, i);
        if u.id.trim().is_empty() || units.iter().any(|x| x.id == u.id) {
            diags.push(
                at(code::E0403, "id")
                    .msg(format!("unit id `{}` is empty or repeated", u.id))
                    .hint("give every [[units]] entry a distinct `id`"),
            );
        }
        // None once the weights overflow (a weight beyond any sensible range; reported below)
        let mut sum = Some(Decimal::ZERO);
        for (m, w) in &u.measures {
            if !MEASURES.contains(&m.as_str()) {
                diags.push(
                    at(code::E0403, "measures")
                        .msg(format!("unit `{}` uses unknown measure `{m}`", u.id))
                        .hint(format!("measures are: {}", MEASURES.join(", "))),
                );
            }
            if w.0 <= Decimal::ZERO {
                diags.push(
                    at(code::E0403, "measures")
                        .msg(format!(
                            "unit `{}` gives measure `{m}` the weight {}",
                            u.id, w.0
                        ))
                        .hint("weights are positive and sum to 1"),
                );
            }
            sum = sum.and_then(|s| s.checked_add(w.0));
        }
        if u.measures.is_empty() || sum != Some(Decimal::ONE) {
            let total =
                sum.map_or_else(|| "more than the largest number".into(), |s| s.to_string());
            diags.push(
                at(code::E0403, "measures")
                    .msg(format!(
                        "the measure weights of unit `{}` sum to {total}, not 1",
                        u.id
                    ))
                    .hint("e.g. measures = { hours = \"0.5\", wages = \"0.5\" }"),
            );
        }
        let seniority_rate = u.seniority_rate.map(|d| d.0).unwrap_or(Decimal::ZERO);
        if seniority_rate < Decimal::ZERO || seniority_rate > Decimal::ONE {
            diags.push(
                at(code::E0403, "seniority_rate")
                    .msg(format!(
                        "unit `{}` has seniority_rate {seniority_rate}, outside 0 to 1",
                        u.id
                    ))
                    .hint("seniority_rate is the extra weight per year of membership, from 0 to 1 (e.g. \"0.05\" = +5% a year)"),
            );
        }
        units.push(Unit {
            id: u.id.clone(),
            name: u.name.clone().unwrap_or_else(|| u.id.clone()),
            measures: u.measures.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
            seniority_rate,
            seniority_cap_years: u.seniority_cap_years,
            nonmember_refunds: u.nonmember_refunds,
        });
    }
    units
}

/// `[policy]` with its defaults; a qualified notice needs at least 20% paid in cash.
fn policy(src: Src<'_>, p: Option<PolicyConfig>, cur: Currency, diags: &mut Diagnostics) -> Policy {
    let p = p.unwrap_or(PolicyConfig {
        reserve_pct: None,
        cash_pct: None,
        notice: None,
        minimum_check: None,
        minimum_check_rule: None,
        loss: None,
        net_units: None,
        loss_collective_pct: None,
        capital_interest_pct: None,
        activity_outside_membership: None,
    });
    let sec = "policy";
    let reserve = src.pct(diags, sec, "reserve_pct", p.reserve_pct, Decimal::ZERO);
    let cash = src.pct(diags, sec, "cash_pct", p.cash_pct, Decimal::new(20, 2));
    let notice = p.notice.unwrap_or(Notice::Qualified);
    if notice == Notice::Qualified && cash < Decimal::new(20, 2) {
        src.impossible(
            diags,
            sec,
            "cash_pct",
            format!(
                "a qualified notice needs at least 20% paid in cash (§1388(c)), but cash_pct is {}%",
                cash * Decimal::ONE_HUNDRED
            ),
            "raise [policy] cash_pct to 20 or more, or set notice = \"nonqualified\"",
        );
    }
    let loss_collective = src.pct(
        diags,
        sec,
        "loss_collective_pct",
        p.loss_collective_pct,
        reserve,
    );
    let capital_interest = src.pct(
        diags,
        sec,
        "capital_interest_pct",
        p.capital_interest_pct,
        Decimal::ZERO,
    );
    let minimum_check = src
        .money(diags, cur, sec, "minimum_check", p.minimum_check)
        .unwrap_or(Money::zero(cur));
    Policy {
        reserve,
        cash,
        notice,
        minimum_check,
        minimum_check_rule: p.minimum_check_rule.unwrap_or(MinimumCheckRule::PayCash),
        loss: p.loss.unwrap_or(LossPolicy::CarryForward),
        net_units: p.net_units.unwrap_or(false),
        loss_collective,
        capital_interest,
        activity_outside_membership: p.activity_outside_membership.unwrap_or(Strictness::Error),
    }
}

/// `[redemption]` with its defaults; each plan's own keys are required (E0404).
fn redemption(
    src: Src<'_>,
    r: &RedemptionConfig,
    cur: Currency,
    diags: &mut Diagnostics,
) -> Redemption {
    let sec = "redemption";
    let pct = |diags: &mut Diagnostics, key: &str, v: Option<Dec>| {
        v.map(|v| src.pct(diags, sec, key, Some(v), Decimal::ZERO))
    };
    let percent = pct(diags, "percent", r.percent);
    let estate_discount = pct(diags, "estate_discount_pct", r.estate_discount_pct);
    let leaver_interest = pct(diags, "leaver_interest_pct", r.leaver_interest_pct);
    let joint_survivor = src.pct(
        diags,
        sec,
        "joint_survivor_pct",
        r.joint_survivor_pct,
        Decimal::new(50, 2),
    );
    if r.unclaimed_forfeit_years == Some(0) {
        diags.push(
            src.at(code::E0403, sec, "unclaimed_forfeit_years", 0)
                .msg("`unclaimed_forfeit_years` is 0")
                .hint("set the years after issue when an uncashed payment is forfeited (e.g. 5), or remove the key"),
        );
    }
    let need = |diags: &mut Diagnostics, ok: bool, key: &str, what: &str| {
        if !ok {
            diags.push(
                src.at(code::E0404, sec, "plan", 0)
                    .msg(format!("the {what} plan needs `{key}`"))
                    .hint(format!("add `{key}` to [redemption]")),
            );
        }
    };
    match r.plan {
        RedemptionPlan::RevolvingFund => need(
            diags,
            r.cycle_years.is_some_and(|n| n > 0),
            "cycle_years",
            "revolving fund",
        ),
        RedemptionPlan::Percentage => need(diags, percent.is_some(), "percent", "percentage"),
        RedemptionPlan::BaseCapital => {
            need(
                diags,
                r.base_capital.is_some(),
                "base_capital",
                "base capital",
            );
            need(
                diags,
                r.base_years.is_some_and(|n| n > 0),
                "base_years",
                "base capital",
            );
        }
        RedemptionPlan::None => {}
    }
    let money =
        |diags: &mut Diagnostics, key: &str, v: Option<Dec>| src.money(diags, cur, sec, key, v);
    Redemption {
        plan: r.plan,
        cycle_years: r.cycle_years,
        percent,
        budget: money(diags, "budget", r.budget),
        base_capital: money(diags, "base_capital", r.base_capital),
        base_years: r.base_years,
        estate_discount,
        retirement_age: r.retirement_age,
        leaver_installments: r.leaver_installments,
        leaver_interest,
        minimum_check: money(diags, "minimum_check", r.minimum_check),
        solvency_limit: money(diags, "solvency_limit", r.solvency_limit),
        solvency_exempts_estates: r.solvency_exempts_estates.unwrap_or(true),
        set_off: r.set_off.unwrap_or(true),
        joint_estate: r.joint_estate.unwrap_or(JointEstate::Survivor),
        joint_survivor,
        unclaimed_forfeit_years: r.unclaimed_forfeit_years,
        unclaimed_notice_days: r.unclaimed_notice_days.unwrap_or(60),
        unclaimed_to: r.unclaimed_to.unwrap_or(UnclaimedTo::Coop),
    }
}
