//! Worked examples of the domain notes (exact figures) and hand-checked figures for every route.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::engine::E2cReport;
use super::lens::YearView;
use super::num;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Writes a cap table and a scenario into a temporary directory and runs it.
fn run(captable: &str, scenario: &str) -> E2cReport {
    match try_run(captable, scenario) {
        Ok(r) => r,
        Err(msgs) => panic!("scenario failed:\n{}", msgs.join("\n")),
    }
}

fn try_run(captable: &str, scenario: &str) -> Result<E2cReport, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("captable.csv"), captable).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, scenario).unwrap();
    super::load_and_run(&p)
        .map(|(r, _)| r)
        .map_err(|d| d.into_sorted().iter().map(ToString::to_string).collect())
}

fn errors(captable: &str, scenario: &str) -> Vec<String> {
    match try_run(captable, scenario) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn paid(y: &YearView, holder: &str, kind: &str) -> Decimal {
    y.payments
        .iter()
        .filter(|p| p.holder == holder && p.kind == kind)
        .map(|p| p.amount)
        .sum()
}

fn paid_kind(y: &YearView, kind: &str) -> Decimal {
    y.payments
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.amount)
        .sum()
}

fn row<'a>(y: &'a YearView, h: &str) -> &'a super::lens::HolderRow {
    y.holders.iter().find(|r| r.holder_id == h).unwrap()
}

// ---------------------------------------------------------------- §2.2 capped redemption, 5x

const CAPPED_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F,Stewards,founder,common,800000,0,2018-01-01\n\
I,Investor,investor,investor,200000,1000000,2018-01-01\n";

const CAPPED_SC: &str = r#"
name = "Sharetribe-style 5x cap"
captable = "captable.csv"
years = 6
total_units = 1000000
[assumptions]
profit = [500000, 1000000, 2000000, 3000000, 4000000, 4000000]
valuation = { start = 10000000 }
[[routes]]
type = "capped_redemption"
class = "investor"
cap_multiple = 5
alpha = "40%"
price = "cap"
"#;

#[test]
fn worked_example_capped_redemption_5x() {
    let r = run(CAPPED_CT, CAPPED_SC);
    let expect = [
        // payment, investor units left, investor % (3 dp), cumulative paid
        ("200000", "192000", "19.355", "200000"),
        ("400000", "176000", "18.033", "600000"),
        ("800000", "144000", "15.254", "1400000"),
        ("1200000", "96000", "10.714", "2600000"),
        ("1600000", "32000", "3.846", "4200000"),
        ("800000", "0", "0.000", "5000000"),
    ];
    let mut cum = Decimal::ZERO;
    for (i, (pay, units, pct, c)) in expect.iter().enumerate() {
        let y = &r.years[i + 1];
        let p = paid(y, "I", "redemption");
        cum += p;
        assert_eq!(p, d(pay), "year {}", i + 1);
        assert_eq!(row(y, "I").units, d(units), "year {}", i + 1);
        assert_eq!(num::fixed(row(y, "I").legal_pct, 3), *pct, "year {}", i + 1);
        assert_eq!(num::fixed(row(y, "I").votes_pct, 3), *pct, "year {}", i + 1);
        assert_eq!(cum, d(c));
    }
    let inv = &r.metrics.investors[0];
    assert_eq!(inv.holder_id, "I");
    assert_eq!(inv.moic, Some(d("5")));
    // IRR of −1,000,000 then 0.2, 0.4, 0.8, 1.2, 1.6, 0.8 million: 52.87% (bisection)
    assert_eq!(
        num::fixed(inv.irr.unwrap() * Decimal::ONE_HUNDRED, 2),
        "52.87"
    );
    // the cap binds in year 6: the investor is gone and no longer claims anything
    assert_eq!(row(&r.years[6], "I").claim, Decimal::ZERO);
    assert!(r.years[6]
        .notes
        .iter()
        .any(|n| n.contains("fully redeemed at 5.00x")));
}

#[test]
fn a_lower_cap_binds_earlier_with_cap_implied_price() {
    let sc = CAPPED_SC.replace("cap_multiple = 5", "cap_multiple = 2");
    let r = run(CAPPED_CT, &sc);
    // cap 2,000,000, price 10/unit: 200k, 400k, 800k, then 600k binds in year 4
    assert_eq!(paid(&r.years[3], "I", "redemption"), d("800000"));
    assert_eq!(paid(&r.years[4], "I", "redemption"), d("600000"));
    assert_eq!(row(&r.years[4], "I").units, Decimal::ZERO);
    assert_eq!(r.metrics.investors[0].moic, Some(d("2")));
}

#[test]
fn honeymoon_and_negative_profit_pay_nothing() {
    let sc = CAPPED_SC
        .replace("price = \"cap\"", "price = \"cap\"\nhoneymoon = 1")
        .replace("[500000, 1000000, 2000000", "[500000, -1000000, 2000000");
    let r = run(CAPPED_CT, &sc);
    assert_eq!(paid(&r.years[1], "I", "redemption"), Decimal::ZERO);
    assert_eq!(paid(&r.years[2], "I", "redemption"), Decimal::ZERO);
    assert_eq!(paid(&r.years[3], "I", "redemption"), d("800000"));
}

// ---------------------------------------------------------------- §2.5 seller note

const NOTE_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
S1,Seller one,founder,common,600000,0,2010-01-01\n\
S2,Seller two,founder,common,400000,0,2010-01-01\n";

const NOTE_SC: &str = r#"
name = "seller note"
captable = "captable.csv"
years = 7
[[holders]]
id = "coop"
name = "Worker co-op"
segment = "member"
[assumptions]
profit = { start = 400000 }
valuation = { start = 2000000 }
opening_cash = 200000
[[routes]]
type = "seller_note"
buyer = "coop"
price = 2000000
down_payment = 200000
rate = "6%"
term = 7
schedule = "level"
"#;

#[test]
fn worked_example_seller_note() {
    let r = run(NOTE_CT, NOTE_SC);
    let expect = [
        ("108000.00", "214443.03", "20.72"),
        ("95133.42", "227309.61", "32.09"),
        ("81494.84", "240948.19", "44.14"),
        ("67037.95", "255405.08", "56.91"),
        ("51713.64", "270729.39", "70.44"),
        ("35469.88", "286973.15", "84.79"),
        ("18251.49", "304191.54", "100.00"),
    ];
    for (i, (int, prin, unenc)) in expect.iter().enumerate() {
        let y = &r.years[i + 1];
        // full precision inside, rounded to the cent only for reporting (domain rule)
        assert_eq!(
            num::fixed(paid_kind(y, "interest"), 2),
            *int,
            "year {}",
            i + 1
        );
        assert_eq!(
            num::fixed(paid_kind(y, "principal"), 2),
            *prin,
            "year {}",
            i + 1
        );
        if i < 6 {
            let pmt = paid_kind(y, "interest") + paid_kind(y, "principal");
            assert_eq!(num::fixed(pmt, 2), "322443.03");
        }
        assert_eq!(
            num::fixed(row(y, "coop").economic_pct, 2),
            *unenc,
            "year {}",
            i + 1
        );
    }
    // balances: 1,585,556.97 after year 1; claims of the sellers
    let y1 = &r.years[1];
    assert_eq!(
        num::fixed(row(y1, "S1").claim + row(y1, "S2").claim, 2),
        "1585556.97"
    );
    let y4 = &r.years[4];
    assert_eq!(
        num::fixed(row(y4, "S1").claim + row(y4, "S2").claim, 2),
        "861894.08"
    );
    assert_eq!(
        row(&r.years[7], "S1").claim + row(&r.years[7], "S2").claim,
        Decimal::ZERO
    );
    // control and title pass at closing; unencumbered majority in year 4
    assert_eq!(row(&r.years[0], "coop").votes_pct, d("100"));
    assert_eq!(row(&r.years[0], "coop").legal_pct, d("100"));
    assert_eq!(r.metrics.time_to_majority_votes, Some(0));
    assert_eq!(r.metrics.time_to_majority_legal, Some(0));
    assert_eq!(r.metrics.time_to_majority_economic, Some(4));
    // sellers earn the note rate
    for i in &r.metrics.investors {
        assert_eq!(
            num::fixed(i.irr.unwrap() * Decimal::ONE_HUNDRED, 4),
            "6.0000",
            "{}",
            i.holder_id
        );
    }
    // down payment at t = 0 is cash required and covered by the opening cash
    assert_eq!(r.years[0].cash_required, d("200000"));
    assert!(!r.years[0].shortfall);
    assert!(!r.years[1].shortfall);
}

#[test]
fn seller_note_shortfall_is_flagged() {
    let sc = NOTE_SC.replace(
        "profit = { start = 400000 }",
        "profit = [400000, 100000, 400000, 400000, 400000, 400000, 400000]",
    );
    let r = run(NOTE_CT, &sc);
    assert!(r.years[2].shortfall);
    assert_eq!(r.metrics.shortfall_years, vec![2]);
}

#[test]
fn seller_note_fixed_principal_and_prepayment() {
    let sc = NOTE_SC.replace(
        "schedule = \"level\"",
        "schedule = \"fixed_principal\"\nprepay = \"10%\"\nrounding = \"cents\"",
    );
    let r = run(NOTE_CT, &sc);
    // principal 1,800,000 / 7 = 257,142.86 a year plus 10% of 400,000 prepaid
    let y1 = &r.years[1];
    assert_eq!(paid_kind(y1, "interest"), d("108000.00"));
    assert_eq!(paid_kind(y1, "principal"), d("257142.86"));
    assert_eq!(paid_kind(y1, "prepayment"), d("40000.00"));
    let y2 = &r.years[2];
    // balance 1,502,857.14 × 6% = 90,171.43
    assert_eq!(paid_kind(y2, "interest"), d("90171.43"));
}

// ---------------------------------------------------------------- §4.2 co-op conversion

const COOP_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F1,Founder one,founder,common,3000000,0,2019-01-01\n\
F2,Founder two,founder,common,2000000,0,2019-01-01\n\
S,Seed investor,investor,seed,2000000,1000000,2020-01-01\n\
A,Angel,investor,seed,1000000,500000,2020-01-01\n\
E1,E1,employee,common,125000,0,2021-01-01\n\
E2,E2,employee,common,125000,0,2021-01-01\n\
E3,E3,employee,common,125000,0,2021-01-01\n\
E4,E4,employee,common,125000,0,2021-01-01\n\
E5,E5,employee,common,125000,0,2021-01-01\n\
E6,E6,employee,common,125000,0,2021-01-01\n\
E7,E7,employee,common,125000,0,2021-01-01\n\
E8,E8,employee,common,125000,0,2021-01-01\n";

const COOP_SC: &str = r#"
name = "multi-stakeholder co-op"
captable = "captable.csv"
years = 3
total_units = 9000000
[classes.seed]
liquidation_preference = 1
outstanding = 3000000
[[holders]]
id = "users"
name = "User members"
segment = "user"
members = 500
[[holders]]
id = "collective"
name = "Collective reserve"
segment = "collective"
[assumptions]
profit = { start = 600000, step = 200000 }
[[routes]]
type = "coop_conversion"
value = 6000000
redemption = "40%"
collective = "collective"
[[routes.member_classes]]
class = "A"
price = 1000
board_seats = 4
segment = "worker"
members = ["F1", "F2", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"]
patronage = "20%"
weights = { F1 = 2000, F2 = 2000, E1 = 1800, E2 = 1800, E3 = 1600, E4 = 1600, E5 = 1200, E6 = 1000, E7 = 1000, E8 = 800 }
[[routes.member_classes]]
class = "C"
price = 10
board_seats = 3
members = ["users"]
patronage = "10%"
"#;

#[test]
fn worked_example_coop_conversion_first_year() {
    let r = run(COOP_CT, COOP_SC);
    let y0 = &r.years[0];
    // Class B allocation at conversion (as-converted beats both 1x preferences)
    let b = |h: &str| {
        num::fixed(
            row(y0, h).claim
                - if h.starts_with('F') || h.starts_with('E') {
                    d("1000")
                } else {
                    d("0")
                },
            2,
        )
    };
    assert_eq!(b("F1"), "2000000.00");
    assert_eq!(b("F2"), "1333333.33");
    assert_eq!(b("S"), "1333333.33");
    assert_eq!(b("A"), "666666.67");
    for e in ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"] {
        assert_eq!(b(e), "83333.33", "{e}");
    }
    // member capital 10 × 1,000 + 500 × 10
    assert_eq!(y0.capacity, d("15000"));
    // Y1 patronage: 30% of 600,000 → 2/3 to workers by hours (120,000 / 14,800 h)
    let y1 = &r.years[1];
    let expect = [
        ("F1", "16216.22"),
        ("F2", "16216.22"),
        ("E1", "14594.59"),
        ("E2", "14594.59"),
        ("E3", "12972.97"),
        ("E4", "12972.97"),
        ("E5", "9729.73"),
        ("E6", "8108.11"),
        ("E7", "8108.11"),
        ("E8", "6486.49"),
    ];
    let total: Decimal = expect.iter().map(|(_, v)| d(v)).sum();
    assert_eq!(total, d("120000.00"));
    for (h, _) in expect {
        assert!(paid(y1, h, "patronage (cash)") > Decimal::ZERO, "{h}");
    }
    // exact per-member patronage: cash + ICA
    let pats = coop_y1_patronage();
    for (h, v) in expect {
        assert_eq!(pats[h], d(v), "{h}");
    }
    // Y1 Class B redemption: 40% of 600,000 pro rata at par
    let red = |h: &str| num::fixed(paid(y1, h, "redemption"), 2);
    assert_eq!(red("F1"), "80000.00");
    assert_eq!(red("F2"), "53333.33");
    assert_eq!(red("S"), "53333.33");
    assert_eq!(red("A"), "26666.67");
    for e in ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"] {
        assert_eq!(red(e), "3333.33", "{e}");
    }
    assert_eq!(num::fixed(paid_kind(y1, "redemption"), 2), "240000.00");
    // members hold every vote; the board splits 4/7 to workers and 3/7 to users
    assert_eq!(y0.community.votes, d("100"));
    assert_eq!(num::fixed(row(y0, "users").board_pct, 3), "42.857");
    assert_eq!(num::fixed(row(y0, "F1").board_pct, 3), "5.714");
    // instrument lens: only member shares count at closing (Class B never does); in Y1 the
    // ICAs (80% of 180,000 of patronage, less the cents rounded up into cash), the reserve
    // (180,000) and member shares (15,000) against Class B outstanding (5,760,000)
    assert_eq!(
        num::fixed(y0.community_instrument_economic, 6),
        num::fixed(d("15000") / d("6015000") * d("100"), 6)
    );
    let cash: Decimal = paid_kind(y1, "patronage (cash)");
    let community_y1 = d("180000") - cash + d("180000") + d("15000");
    assert_eq!(
        num::fixed(y1.community_instrument_economic, 6),
        num::fixed(community_y1 / (community_y1 + d("5760000")) * d("100"), 6)
    );
    // holder lens: only S and A are outsiders; 4,000,000 + 15,000 of 6,015,000 at closing
    assert_eq!(
        num::fixed(y0.community.economic, 4),
        num::fixed(d("4015000") / d("6015000") * d("100"), 4)
    );
}

/// Y1 patronage per worker = cash part + ICA credit, read from a fresh run's state.
fn coop_y1_patronage() -> std::collections::BTreeMap<String, Decimal> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("captable.csv"), COOP_CT).unwrap();
    let sc = COOP_SC.replace("years = 3", "years = 1");
    let p = dir.path().join("s.toml");
    std::fs::write(&p, sc).unwrap();
    let (sc, _) = super::scenario::load(&p);
    let sc = sc.unwrap();
    let cx = super::model::Cx {
        currency: sc.currency,
        years: sc.years,
        paths: sc.paths.clone(),
    };
    let mut st = super::engine::opening_state(&sc).unwrap();
    let mut led = super::model::Ledger::new(sc.years);
    let mut routes = sc.routes.clone();
    for r in &mut routes {
        r.mech().open(&cx, &mut st, &mut led).unwrap();
    }
    for r in &mut routes {
        r.mech().step(&cx, 1, &mut st, &mut led).unwrap();
    }
    let mut out = std::collections::BTreeMap::new();
    for p in &led.payments[1] {
        if p.kind == "patronage (cash)" {
            out.insert(
                p.holder.clone(),
                p.amount + st.claim(&p.holder, super::routes::coop::ICA),
            );
        }
    }
    // cash part is at least 20%, rounded up to the cent
    for p in &led.payments[1] {
        if p.kind == "patronage (cash)" {
            assert!(p.amount * d("5") >= out[&p.holder]);
        }
    }
    out
}

#[test]
fn coop_reserve_and_users_pool() {
    let r = run(COOP_CT, COOP_SC);
    let y1 = &r.years[1];
    // users: 10% of 600,000 = 60,000 → 12,000 cash, 48,000 ICA (+ 5,000 of member shares)
    assert_eq!(paid(y1, "users", "patronage (cash)"), d("12000"));
    assert_eq!(row(y1, "users").claim, d("53000"));
    // collective reserve: the remaining 30%
    assert_eq!(row(y1, "collective").claim, d("180000"));
    // cash required: redemptions + cash patronage (20% of 180,000, each member's part rounded up)
    let cash = paid_kind(y1, "patronage (cash)");
    assert!(cash >= d("36000") && cash <= d("36000.10"), "{cash}");
    assert_eq!(paid_kind(y1, "redemption"), d("240000"));
    assert_eq!(y1.cash_required, d("240000") + cash);
}

#[test]
fn edge_value_below_the_preferences() {
    use super::model::ClassRights;
    use super::routes::coop::{waterfall, WPos};
    let pref = ClassRights {
        liquidation_preference: d("1"),
        ..ClassRights::default()
    };
    let common = ClassRights::default();
    let pos = |h: &str, u: &str, inv: &str, r: &ClassRights| WPos {
        holder: h.into(),
        class: "x".into(),
        units: d(u),
        invested: d(inv),
        rights: r.clone(),
    };
    let book = vec![
        pos("F1", "3000000", "0", &common),
        pos("F2", "2000000", "0", &common),
        pos("S", "2000000", "1000000", &pref),
        pos("A", "1000000", "500000", &pref),
        pos("E", "1000000", "0", &common),
    ];
    // below the preferences: they share the value pro rata, common gets nothing
    let v = waterfall(d("1200000"), &book).unwrap();
    assert_eq!(v, vec![d("0"), d("0"), d("800000"), d("400000"), d("0")]);
    // at 4,000,000 both take the preference (as-converted 888,889 < 1,000,000 and 444,444 < 500,000)
    let v = waterfall(d("4000000"), &book).unwrap();
    assert_eq!(v[2], d("1000000"));
    assert_eq!(v[3], d("500000"));
    assert_eq!(v[0], d("1250000"));
    // at 6,000,000 everyone converts
    let v = waterfall(d("6000000"), &book).unwrap();
    assert_eq!(num::fixed(v[2], 2), "1333333.33");
    // participating preferred takes its preference and shares the rest
    let part = ClassRights {
        liquidation_preference: d("1"),
        participating: true,
        ..ClassRights::default()
    };
    let v = waterfall(
        d("2000000"),
        &[
            pos("C", "1000000", "0", &common),
            pos("P", "1000000", "1000000", &part),
        ],
    )
    .unwrap();
    assert_eq!(v, vec![d("500000"), d("1500000")]);
}

#[test]
fn coop_loss_hits_reserve_then_icas() {
    let sc = COOP_SC.replace(
        "profit = { start = 600000, step = 200000 }",
        "profit = [600000, -200000, 600000]",
    );
    let r = run(COOP_CT, &sc);
    // Y1 reserve 180,000; Y2 loss of 200,000 empties it and takes 20,000 from ICAs
    assert_eq!(row(&r.years[2], "collective").claim, Decimal::ZERO);
    let icas_y1: Decimal = r.years[1].holders.iter().map(|h| h.claim).sum();
    let icas_y2: Decimal = r.years[2].holders.iter().map(|h| h.claim).sum();
    assert_eq!(icas_y1 - icas_y2, d("200000"));
    assert_eq!(paid_kind(&r.years[2], "redemption"), Decimal::ZERO);
}

// ---------------------------------------------------------------- demand dividend

#[test]
fn demand_dividend_honeymoon_negative_year_and_cap() {
    let ct = "holder_id,name,segment,class,units,invested,date\nF,Founder,founder,common,1000,0,2020-01-01\n";
    let sc = r#"
name = "demand dividend"
captable = "captable.csv"
years = 5
[[holders]]
id = "DD"
name = "Impact fund"
segment = "investor"
[assumptions]
fcf = [50000, 100000, -20000, 120000, 200000]
valuation = { start = 1000000 }
[[routes]]
type = "demand_dividend"
holder = "DD"
invested = 100000
cap_multiple = 2
share = "50%"
honeymoon = 1
"#;
    let r = run(ct, sc);
    let got: Vec<Decimal> = (1..=5)
        .map(|t| paid(&r.years[t], "DD", "demand dividend"))
        .collect();
    assert_eq!(
        got,
        vec![d("0"), d("50000"), d("0"), d("60000"), d("90000")]
    );
    // a claim without units: no votes, no title, a shrinking economic claim
    assert_eq!(row(&r.years[0], "DD").legal_pct, Decimal::ZERO);
    assert_eq!(row(&r.years[0], "DD").claim, d("200000"));
    assert_eq!(row(&r.years[4], "DD").claim, d("90000"));
    let inv = &r.metrics.investors[0];
    assert_eq!(inv.moic, Some(d("2")));
    assert_eq!(
        num::fixed(inv.irr.unwrap() * Decimal::ONE_HUNDRED, 2),
        "19.94"
    );
}

// ---------------------------------------------------------------- redeemable preferred

const PREF_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F,Founder,founder,common,9000,0,2020-01-01\n\
P,Preferred holder,investor,pref,1000,100000,2020-01-01\n";

fn pref_sc(extra: &str) -> String {
    format!(
        r#"
name = "preferred"
captable = "captable.csv"
years = 6
[assumptions]
profit = [0, 50000, 50000, 50000, 50000, 50000]
valuation = {{ start = 1000000 }}
[[routes]]
type = "redeemable_preferred"
class = "pref"
rate = "8%"
sinking_fund = "20%"
{extra}
"#
    )
}

#[test]
fn redeemable_preferred_arrears_and_backlog() {
    let r = run(PREF_CT, &pref_sc(""));
    let y = |t: usize| &r.years[t];
    assert_eq!(paid(y(1), "P", "dividend"), Decimal::ZERO);
    assert_eq!(row(y(1), "P").claim, d("108000")); // 100,000 principal + 8,000 arrears
                                                   // Y2: arrears 8,000, dividend 8,000, then 34,000 of the 40,000 scheduled (backlog 6,000)
    assert_eq!(paid(y(2), "P", "dividend arrears"), d("8000"));
    assert_eq!(paid(y(2), "P", "dividend"), d("8000"));
    assert_eq!(paid(y(2), "P", "redemption"), d("34000"));
    assert_eq!(row(y(2), "P").units, d("660"));
    // Y3: dividend 5,280 and 26,000 (20,000 + backlog)
    assert_eq!(paid(y(3), "P", "dividend"), d("5280"));
    assert_eq!(paid(y(3), "P", "redemption"), d("26000"));
    assert_eq!(paid(y(5), "P", "redemption"), d("20000"));
    assert_eq!(row(y(5), "P").units, Decimal::ZERO);
    // arrears bear no interest, so the IRR falls below the 8% coupon
    let irr = r.metrics.investors[0].irr.unwrap();
    assert!(irr < d("0.08") && irr > d("0.07"), "{irr}");
}

#[test]
fn redeemable_preferred_compounding_arrears_earn_the_coupon() {
    let r = run(PREF_CT, &pref_sc("compound_arrears = true"));
    let irr = r.metrics.investors[0].irr.unwrap();
    assert!((irr - d("0.08")).abs() < d("0.0001"), "{irr}");
}

#[test]
fn redeemable_preferred_non_cumulative_dividend_lapses() {
    let r = run(PREF_CT, &pref_sc("cumulative = false"));
    assert_eq!(row(&r.years[1], "P").claim, d("100000"));
    assert_eq!(paid(&r.years[2], "P", "dividend arrears"), Decimal::ZERO);
    assert!(r.years[1].notes.iter().any(|n| n.contains("lapsed")));
}

// ---------------------------------------------------------------- UK EOT

const EOT_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F1,Founder one,founder,ordinary,700000,700,2010-01-01\n\
F2,Founder two,founder,ordinary,300000,300,2010-01-01\n";

const EOT_SC: &str = r#"
name = "EOT"
currency = "GBP"
captable = "captable.csv"
years = 14
[[holders]]
id = "eot"
name = "Employee Ownership Trust"
segment = "trust"
[assumptions]
profit = { start = 1000000 }
valuation = { start = 5000000 }
[[routes]]
type = "eot"
trust = "eot"
value = 5000000
upfront = 500000
rate = "5%"
contribution = "50%"
[routes.bonus]
share = "5%"
by_pay = "50%"
by_service = "25%"
by_hours = "25%"
employees = [
  { id = "W1", pay = 60000, service = 5, hours = 1800 },
  { id = "W2", pay = 40000, service = 3, hours = 1800 },
  { id = "W3", pay = 20000, service = 2, hours = 900 },
]
"#;

#[test]
fn eot_control_on_day_one_net_equity_rises() {
    let r = run(EOT_CT, EOT_SC);
    let y0 = &r.years[0];
    assert_eq!(row(y0, "eot").votes_pct, d("100"));
    assert_eq!(row(y0, "eot").legal_pct, d("100"));
    // net equity N = (V − D) / V = 500,000 / 5,000,000
    assert_eq!(row(y0, "eot").economic_pct, d("10"));
    // Y1: interest 5% of 4,500,000 = 225,000; principal 275,000 → D = 4,225,000
    let y1 = &r.years[1];
    assert_eq!(paid_kind(y1, "interest"), d("225000"));
    assert_eq!(paid_kind(y1, "principal"), d("275000"));
    assert_eq!(row(y1, "eot").economic_pct, d("15.5"));
    // sellers split 70/30
    assert_eq!(paid(y1, "F1", "principal"), d("192500"));
    assert_eq!(r.metrics.time_to_majority_votes, Some(0));
    assert!(r.metrics.time_to_majority_economic.unwrap() > 3);
    // upfront paid at completion, and sellers earn 5%
    assert_eq!(paid(y0, "F1", "upfront"), d("350000"));
    assert!(
        y0.notes.iter().any(|n| n.contains(
            "controlling-interest test at completion: trust holds 100.000% of shares and 100.000% of votes (pass)"
        )),
        "{:#?}",
        y0.notes
    );
    let f1 = r
        .metrics
        .investors
        .iter()
        .find(|i| i.holder_id == "F1")
        .unwrap();
    assert_eq!(
        num::fixed(f1.irr.unwrap() * Decimal::ONE_HUNDRED, 2),
        "5.00"
    );
}

#[test]
fn eot_bonus_equality_entitlements() {
    let r = run(EOT_CT, EOT_SC);
    let b = &r.years[1].bonuses;
    let get = |id: &str| b.iter().find(|x| x.employee == id).unwrap().clone();
    // pool 50,000: 25,000 by pay (60/40/20), 12,500 by service (5/3/2), 12,500 by hours (2/2/1)
    let w1 = get("W1");
    assert_eq!(
        (w1.by_pay, w1.by_service, w1.by_hours),
        (d("12500"), d("6250"), d("5000"))
    );
    assert_eq!(w1.total, d("23750"));
    assert_eq!(w1.tax_free, d("3600"));
    assert_eq!(w1.taxable, d("20150"));
    let w2 = get("W2");
    assert_eq!(w2.total, d("17083.33"));
    let w3 = get("W3");
    assert_eq!(w3.total, d("9166.67"));
    assert_eq!(w1.total + w2.total + w3.total, d("50000"));
    // bonuses are cash required but not investor returns
    assert!(r
        .metrics
        .investors
        .iter()
        .all(|i| !i.holder_id.starts_with('W')));
}

#[test]
fn eot_without_control_or_above_market_is_refused() {
    let sc = EOT_SC.replace(
        "upfront = 500000",
        "upfront = 500000\nstake = \"50%\"\nprice = 2600000",
    );
    let e = errors(EOT_CT, &sc);
    assert!(
        e.iter()
            .any(|m| m.contains("E2C024") && m.contains("not a controlling interest")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|m| m.contains("above the market value")),
        "{e:#?}"
    );
    let sc = EOT_SC.replace(
        "{ id = \"W3\", pay = 20000, service = 2, hours = 900 }",
        "{ id = \"W3\" }",
    );
    let e = errors(EOT_CT, &sc);
    assert!(
        e.iter()
            .any(|m| m.contains("employee `W3` would get no bonus")),
        "{e:#?}"
    );
}

// ---------------------------------------------------------------- steward-ownership

const STEWARD_CT: &str = "holder_id,name,segment,class,units,invested,date\n\
F1,Founder,founder,common,600000,0,2015-01-01\n\
E1,Employee,employee,common,100000,0,2016-01-01\n\
V,VC,investor,pref,300000,1500000,2017-01-01\n";

const STEWARD_SC: &str = r#"
name = "steward"
captable = "captable.csv"
years = 3
community = ["employee", "steward", "purpose", "retained"]
[[holders]]
id = "purpose"
name = "Purpose foundation"
segment = "purpose"
[assumptions]
profit = [1000000, 1000000, 1000000]
valuation = { start = 10000000 }
[[routes]]
type = "steward"
veto_holder = "purpose"
[[routes]]
type = "capped_redemption"
class = "investor"
cap_multiple = 3
alpha = "40%"
"#;

#[test]
fn steward_ownership_golden_share() {
    let r = run(STEWARD_CT, STEWARD_SC);
    let y0 = &r.years[0];
    // stewards hold every vote, investors none, the veto share none
    assert_eq!(num::fixed(row(y0, "F1").votes_pct, 4), "85.7143");
    assert_eq!(row(y0, "V").votes_pct, Decimal::ZERO);
    assert_eq!(row(y0, "purpose").votes_pct, Decimal::ZERO);
    assert_eq!(
        y0.vetoes,
        vec![(
            "purpose".to_string(),
            vec!["profit_extraction".to_string(), "sale".to_string()]
        )]
    );
    // economics: investor cap 4,500,000; the rest of the 10,000,000 is retained for purpose
    assert_eq!(row(y0, "V").claim, d("4500000"));
    assert_eq!(row(y0, "retained").claim, d("5500000"));
    assert_eq!(row(y0, "F1").claim, Decimal::ZERO);
    // Y1: 400,000 at the cap-implied price of 15 redeems 26,666.67 units
    let y1 = &r.years[1];
    assert_eq!(paid(y1, "V", "redemption"), d("400000"));
    assert_eq!(num::fixed(row(y1, "V").units, 2), "273333.33");
    assert_eq!(row(y1, "V").claim, d("4100000"));
    // Banzhaf: F1 (600k) is a dictator among stewards (E1 100k)
    let bz = y0.banzhaf.as_ref().unwrap();
    assert_eq!(
        bz,
        &vec![("E1".to_string(), d("0")), ("F1".to_string(), d("1"))]
    );
}

#[test]
fn steward_per_capita_votes_are_equal() {
    let sc = STEWARD_SC.replace(
        "veto_holder = \"purpose\"",
        "veto_holder = \"purpose\"\nper_capita = true",
    );
    let r = run(STEWARD_CT, &sc);
    assert_eq!(row(&r.years[0], "E1").votes_pct, d("50"));
    assert!(r.years[0].banzhaf.is_none());
}

// ---------------------------------------------------------------- community shares

#[test]
fn community_shares_fifo_queue_and_caps() {
    let ct = "holder_id,name,segment,class,units,invested,date\nF,Founder,founder,common,1000,0,2020-01-01\n";
    let sc = r#"
name = "community shares"
captable = "captable.csv"
years = 5
[[holders]]
id = "members"
name = "Community shareholders"
segment = "community"
members = 200
[assumptions]
profit = { start = 100000 }
valuation = { start = 1000000 }
[[routes]]
type = "community_shares"
holder = "members"
raised = 100000
interest = "3%"
interest_from = 2
withdrawals_from = 3
withdrawal_cap = "10%"
requests = [
  { year = 3, amount = 15000, members = 5 },
  { year = 3, amount = 5000, members = 2 },
  { year = 4, amount = 2000 },
]
issues = [{ year = 4, amount = 20000, members = 40 }]
"#;
    let r = run(ct, sc);
    let y = |t: usize| &r.years[t];
    assert_eq!(paid(y(1), "members", "share interest"), Decimal::ZERO);
    assert_eq!(paid(y(2), "members", "share interest"), d("3000"));
    assert_eq!(paid(y(3), "members", "withdrawal"), d("10000"));
    assert_eq!(paid(y(4), "members", "share interest"), d("2700"));
    assert_eq!(paid(y(4), "members", "withdrawal"), d("9000"));
    assert_eq!(paid(y(5), "members", "share interest"), d("3030"));
    assert_eq!(paid(y(5), "members", "withdrawal"), d("3000"));
    assert_eq!(row(y(5), "members").units, d("98000"));
    assert_eq!(row(y(5), "members").members, 233);
    // one member one vote: 233 members against the founder's one vote... per capita only in this class
    assert!(y(3)
        .notes
        .iter()
        .any(|n| n.contains("10000.00 of withdrawal requests wait")));
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_input_is_collected_with_file_and_key() {
    let sc = CAPPED_SC
        .replace("total_units = 1000000", "total_units = 1000001")
        .replace("cap_multiple = 5", "cap_multiple = \"0.8\"")
        .replace("alpha = \"40%\"", "alpha = \"140%\"")
        .replace(
            "class = \"investor\"",
            "class = \"series_z\"\nholders = [\"NOPE\"]",
        );
    let e = errors(CAPPED_CT, &sc);
    let all = e.join("\n");
    assert!(all.contains("error[E2C013]: `total_units`: the cap table's rows add up to 1000000 units, not 1000001"), "{all}");
    assert!(
        all.contains("error[E2C022]: `routes[0].cap_multiple`: cap multiple 0.8x is below 1x"),
        "{all}"
    );
    assert!(
        all.contains("error[E2C006]: `routes[0].alpha`: share 140% is over 100%"),
        "{all}"
    );
    assert!(
        all.contains("error[E2C020]: `routes[0].class`: unknown class `series_z`"),
        "{all}"
    );
    assert!(
        all.contains("error[E2C021]: `routes[0].holders[0]`: unknown holder `NOPE`"),
        "{all}"
    );
    assert!(e.iter().all(|m| m.contains("s.toml")), "{all}");
}

#[test]
fn negative_profit_is_a_warning_and_valuation_is_required_for_residual_classes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("captable.csv"), CAPPED_CT).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(
        &p,
        CAPPED_SC.replace("[500000, 1000000", "[-500000, 1000000"),
    )
    .unwrap();
    let (_, warnings) = super::load_and_run(&p).unwrap();
    let w: Vec<String> = warnings
        .into_sorted()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        w[0].contains("warning[W2C030]: `assumptions.profit`: negative in year 1"),
        "{w:#?}"
    );
    let e = errors(
        CAPPED_CT,
        &CAPPED_SC.replace("valuation = { start = 10000000 }", ""),
    );
    assert!(
        e[0].contains("E2C025") && e[0].contains("`assumptions.valuation`"),
        "{e:#?}"
    );
}

#[test]
fn irr_without_a_solution_is_none() {
    // the investor is never paid: flows never change sign
    let sc = CAPPED_SC.replace("alpha = \"40%\"", "alpha = \"0%\"");
    let r = run(CAPPED_CT, &sc);
    assert_eq!(r.metrics.investors[0].irr, None);
    assert_eq!(r.metrics.investors[0].moic, Some(Decimal::ZERO));
    let v = crate::report::e2c::json::value(&r);
    assert_eq!(v["metrics"]["investors"][0]["irr"], "n/a");
}

// ---------------------------------------------------------------- member weights from a book

#[test]
fn member_weights_come_from_the_workers_book() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tidepool/workers-book");
    let w = super::book::member_weights(&dir, "hours").unwrap();
    assert_eq!(w.len(), 8);
    // 12 months of (170 + 1) hours with the monthly adjustments summing to −40
    assert_eq!(w["maya"], d("2012"));
    assert_eq!(w["ana"], d("1880"));
    let e = super::book::member_weights(&dir, "purchases").unwrap_err();
    assert!(e.contains("no member has any `purchases`"), "{e}");
    let e = super::book::member_weights(&dir.join("nope"), "hours").unwrap_err();
    assert!(e.contains("E0"), "{e}");
}

#[test]
fn a_bad_book_path_is_reported_on_the_scenario_key() {
    let sc = COOP_SC.replace(
        "weights = { F1 = 2000, F2 = 2000, E1 = 1800, E2 = 1800, E3 = 1600, E4 = 1600, E5 = 1200, E6 = 1000, E7 = 1000, E8 = 800 }",
        "book = \"no-such-book\"\nmeasure = \"hours\"",
    );
    let e = errors(COOP_CT, &sc);
    assert!(
        e.iter().any(|m| m.contains(
            "error[E2C026]: `routes[0].member_classes[0].book`: cannot read member weights"
        )),
        "{e:#?}"
    );
}

// ---------------------------------------------------------------- invariants

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Whatever the cap table and profits: every lens sums to 100%, a capped investor never
        /// receives more than the cap or more than α of a positive profit, and units stay ≥ 0.
        #[test]
        fn capped_redemption_invariants(
            founder in 1u64..10_000_000,
            investor in 1u64..1_000_000,
            invested_cents in 100u64..1_000_000_000,
            cap_tenths in 10u32..100,
            alpha_pct in 1u32..=100,
            profits in proptest::collection::vec(-1_000_000i64..5_000_000, 6),
        ) {
            let ct = format!(
                "holder_id,name,segment,class,units,invested,date\nF,F,founder,common,{founder},0,\nI,I,investor,pref,{investor},{},\n",
                Decimal::new(invested_cents as i64, 2)
            );
            let sc = format!(
                "name = \"p\"\ncaptable = \"captable.csv\"\nyears = 6\n[assumptions]\nprofit = {profits:?}\nvaluation = {{ start = 50000000 }}\n[[routes]]\ntype = \"capped_redemption\"\nclass = \"pref\"\ncap_multiple = \"{}\"\nalpha = \"{alpha_pct}%\"\n",
                Decimal::new(i64::from(cap_tenths), 1)
            );
            let r = run(&ct, &sc);
            let cap = Decimal::new(i64::from(cap_tenths), 1) * Decimal::new(invested_cents as i64, 2);
            let mut total = Decimal::ZERO;
            for (t, y) in r.years.iter().enumerate() {
                let lenses: [fn(&super::super::lens::HolderRow) -> Decimal; 3] =
                    [|h| h.votes_pct, |h| h.economic_pct, |h| h.legal_pct];
                for f in lenses {
                    let s: Decimal = y.holders.iter().map(f).sum();
                    prop_assert!((s - d("100")).abs() < d("0.000000001"), "year {t}: {s}");
                }
                for h in &y.holders {
                    prop_assert!(h.units >= Decimal::ZERO);
                }
                let p = paid(y, "I", "redemption");
                if t > 0 {
                    let budget = Decimal::from(alpha_pct) * Decimal::from(profits[t - 1].max(0)) / d("100");
                    prop_assert!(p <= budget + d("0.005"), "year {t}: {p} > {budget}");
                }
                total += p;
            }
            prop_assert!(total <= cap, "{total} > {cap}");
            let m = r.metrics.investors[0].moic.unwrap();
            prop_assert!(m <= Decimal::new(i64::from(cap_tenths), 1));
        }
    }
}
