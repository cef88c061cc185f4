use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::fsutil::write_atomic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitKind {
    Worker,
    Consumer,
    Producer,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the book in (must not hold a coop.toml yet)
    pub dir: PathBuf,
    /// What kind of co-op the book is for
    #[arg(long, value_enum, default_value = "worker")]
    pub kind: InitKind,
    /// The co-op's name
    #[arg(long, default_value = "Our Co-op")]
    pub name: String,
    /// Currency code
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

pub fn run(a: &InitArgs) -> anyhow::Result<ExitCode> {
    if a.dir.join("coop.toml").exists() {
        bail!(
            "`{}` already holds a book (coop.toml exists); nothing was written",
            a.dir.display()
        );
    }
    crate::money::Currency::from_code(&a.currency)?;
    for (name, text) in templates(a) {
        write_atomic(&a.dir.join(name), text.as_bytes())?;
    }
    eprintln!(
        "created a {} co-op book in `{}`; next: add members and activity, then `coopledger check {}`",
        match a.kind {
            InitKind::Worker => "worker",
            InitKind::Consumer => "consumer",
            InitKind::Producer => "producer",
        },
        a.dir.display(),
        a.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The files of a new book: coop.toml with every key explained, and CSV files with their headers.
pub fn templates(a: &InitArgs) -> Vec<(&'static str, String)> {
    let name = a.name.replace('\\', "\\\\").replace('"', "\\\"");
    let (kind, units, policy) = match a.kind {
        InitKind::Worker => (
            "worker",
            r#"# An allocation unit (pool). Worker co-ops usually have one: the whole business.
# measures: how patronage is measured, with weights that sum to 1
#   (here half by share of hours worked, half by share of wages).
[[units]]
id = "work"
name = "Work performed"
measures = { hours = "0.5", wages = "0.5" }
# seniority_rate = "0.05"      # +5% weight per full year of membership
# seniority_cap_years = 5
"#,
            r#"[policy]
reserve_pct = "30"            # share of net margin kept in the collective (indivisible) account
cash_pct = "20"               # share of each allocation paid in cash (rounded up to the cent)
notice = "qualified"          # qualified (>= 20% cash) | nonqualified
minimum_check = "0"           # cash parts below this are handled by minimum_check_rule
minimum_check_rule = "pay_cash"   # pay_cash | carry_forward | retain
loss = "charge_accounts"      # carry_forward | charge_accounts
loss_collective_pct = "30"    # share of a loss charged to the collective account
capital_interest_pct = "0"    # interest credited on opening capital accounts
activity_outside_membership = "error"   # error | warning
"#,
        ),
        InitKind::Consumer => (
            "consumer",
            r#"# Allocation units (departments). Patronage is the value of member purchases.
[[units]]
id = "grocery"
name = "Grocery"
measures = { purchases = "1" }

[[units]]
id = "fuel"
name = "Fuel"
measures = { purchases = "1" }
"#,
            r#"[policy]
reserve_pct = "0"             # board's unallocated reserve, % of each unit's member share
cash_pct = "20"               # share of each refund paid in cash (rounded up to the cent)
notice = "qualified"          # qualified (>= 20% cash) | nonqualified
minimum_check = "5.00"        # cash parts below this are handled by minimum_check_rule
minimum_check_rule = "carry_forward"   # pay_cash | carry_forward | retain
loss = "carry_forward"        # carry_forward | charge_accounts
net_units = false             # offset unit losses against other units (§1388(j))
activity_outside_membership = "warning"   # error | warning
"#,
        ),
        InitKind::Producer => (
            "producer",
            r#"# Allocation units (pools). Patronage is the value (or quantity) delivered.
[[units]]
id = "grain"
name = "Grain marketing"
measures = { value = "1" }
"#,
            r#"[policy]
reserve_pct = "10"
cash_pct = "30"
notice = "qualified"
minimum_check = "10.00"
minimum_check_rule = "carry_forward"
loss = "carry_forward"
net_units = true
activity_outside_membership = "error"
"#,
        ),
    };
    let config = format!(
        r#"# coopledger book, schema v1 (see docs/FORMATS.md for every key)
schema = 1
name = "{name}"
kind = "{kind}"               # worker | consumer | producer | multi-stakeholder
currency = "{cur}"
fiscal_year_end = "12-31"     # MM-DD, the last day of the fiscal year

# Member classes: votes per member and a patronage multiplier.
[[classes]]
id = "member"
votes = 1
multiplier = "1"

{units}
{policy}
# Equity redemption plan (consumed by `coopledger revolve`):
# [redemption]
# plan = "revolving_fund"     # none | revolving_fund | percentage | base_capital
# cycle_years = 7
# budget = "50000.00"
# set_off = true                # deduct what members owe (receivables.csv) from their redemptions
# joint_estate = "survivor"     # survivor | split | estate: a deceased joint member's equity
# unclaimed_forfeit_years = 5   # uncashed payments (uncashed.csv) forfeited after 5 years
# unclaimed_notice_days = 60    # ... after this many days' written notice
# unclaimed_to = "coop"         # coop | state
"#,
        cur = a.currency
    );
    vec![
        ("coop.toml", config),
        (
            "members.csv",
            "member_id,name,class,joined,left,status,birth_date\n".into(),
        ),
        (
            "contributions.csv",
            "date,member_id,kind,amount,note\n".into(),
        ),
        (
            "patronage.csv",
            "date,member_id,unit,measure,amount\n".into(),
        ),
        ("results.csv", "fiscal_year,unit,line,amount\n".into()),
        (
            "equity.csv",
            "member_id,allocation_year,kind,amount\n".into(),
        ),
    ]
}
