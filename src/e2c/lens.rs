//! The three lenses on one year's state — votes (control), economic claims, legal title — per
//! holder and per segment, plus cash required against capacity, vetoes, Banzhaf power and
//! concentration. This is report data (typed values); renderers format it.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::metrics::{self, Concentration};
use super::model::{BonusLine, Cx, Econ, EngineError, Er, Holder, Ledger, Payment, State};
use super::num;
use super::read::code;
use super::routes::coop::{ICA, RESERVE};

/// Holder id used for value no one else claims (steward-ownership: "retained for purpose").
pub const RETAINED: &str = "retained";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderRow {
    pub holder_id: String,
    pub name: String,
    pub segment: String,
    pub community: bool,
    pub members: u32,
    pub units: Decimal,
    pub votes: Decimal,
    pub claim: Decimal,
    pub votes_pct: Decimal,
    pub economic_pct: Decimal,
    pub legal_pct: Decimal,
    pub board_pct: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub segment: String,
    pub community: bool,
    pub holders: usize,
    pub units: Decimal,
    pub votes: Decimal,
    pub claim: Decimal,
    pub votes_pct: Decimal,
    pub economic_pct: Decimal,
    pub legal_pct: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lenses {
    pub votes: Decimal,
    pub economic: Decimal,
    pub legal: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearView {
    pub t: u32,
    pub valuation: Option<Decimal>,
    pub holders: Vec<HolderRow>,
    pub segments: Vec<SegmentRow>,
    /// Community share under each lens, in percent.
    pub community: Lenses,
    /// Community economic share under the instrument lens (§4.2): only community instruments
    /// held by community holders count — never Class B / investor shares, capped or preferred
    /// claims, notes or demand dividends.
    pub community_instrument_economic: Decimal,
    pub cash_required: Decimal,
    pub capacity: Decimal,
    pub shortfall: bool,
    pub payments: Vec<Payment>,
    pub vetoes: Vec<(String, Vec<String>)>,
    /// Normalised Banzhaf power per voter, when some votes are weighted by units.
    pub banzhaf: Option<Vec<(String, Decimal)>>,
    pub concentration: [(&'static str, Concentration); 3],
    pub bonuses: Vec<BonusLine>,
    pub notes: Vec<String>,
}

/// Units, votes and money claims per holder before the residual value is shared out.
#[derive(Default)]
struct Tally {
    units: BTreeMap<String, Decimal>,
    votes: BTreeMap<String, Decimal>,
    claim: BTreeMap<String, Decimal>,
    /// every claim that is not a share of the residual value
    fixed: Decimal,
    residual_units: BTreeMap<String, Decimal>,
    residual_classes: BTreeSet<String>,
    /// the part of each holder's claim held in investor instruments (instrument lens)
    inv_claim: BTreeMap<String, Decimal>,
    residual_inv_units: BTreeMap<String, Decimal>,
}

/// `m[k] += x`, checked.
fn bump(m: &mut BTreeMap<String, Decimal>, k: &str, x: Decimal) -> Er<()> {
    let e = m.entry(k.to_string()).or_default();
    *e = num::add(*e, x)?;
    Ok(())
}

/// Units, votes and fixed claims of every position, then the claims without units.
fn tally(st: &State) -> Er<Tally> {
    let mut t = Tally::default();
    for ((c, h), p) in &st.pos {
        if p.units <= Decimal::ZERO {
            continue;
        }
        let rights = st.classes.get(c).cloned().unwrap_or_default();
        let holder_members = st.holders.get(h).map_or(1, |x| x.members);
        bump(&mut t.units, h, p.units)?;
        let v = if rights.per_capita {
            Decimal::from(holder_members)
        } else {
            num::mul(p.units, rights.votes_per_unit)?
        };
        bump(&mut t.votes, h, v)?;
        let route_claim = st.pos_claim.get(&(c.clone(), h.clone()));
        let investor = rights.investor_instrument || route_claim.is_some();
        let fixed_claim = match route_claim {
            Some(x) => Some(*x),
            None => match rights.econ {
                Econ::Par(par) => Some(num::mul(p.units, par)?),
                Econ::Nothing => Some(Decimal::ZERO),
                Econ::Residual => None,
            },
        };
        match fixed_claim {
            Some(x) => {
                t.fixed = num::add(t.fixed, x)?;
                bump(&mut t.claim, h, x)?;
                if investor {
                    bump(&mut t.inv_claim, h, x)?;
                }
            }
            None => {
                if investor {
                    bump(&mut t.residual_inv_units, h, p.units)?;
                }
                t.residual_classes.insert(c.clone());
                bump(&mut t.residual_units, h, p.units)?;
            }
        }
    }
    for ((h, label), x) in &st.claims {
        t.fixed = num::add(t.fixed, *x)?;
        bump(&mut t.claim, h, *x)?;
        // ICAs and the collective reserve are community instruments; notes, demand dividends
        // and arrears are investor claims
        if label != ICA && label != RESERVE {
            bump(&mut t.inv_claim, h, *x)?;
        }
    }
    Ok(t)
}

/// Shares `valuation − fixed claims` by units over the residual classes; with no residual units
/// a positive remainder is `retained` (added to `holders`).
fn share_residual(
    t: &mut Tally,
    valuation: Option<Decimal>,
    holders: &mut BTreeMap<String, Holder>,
) -> Er<()> {
    let ru_total = num::sum(t.residual_units.values().copied())?;
    if ru_total > Decimal::ZERO {
        let Some(v) = valuation else {
            return Err(EngineError::input(
                code::NEED_VALUATION,
                "assumptions.valuation",
                format!(
                    "class{} `{}` share residual value, so the economic lens needs a valuation path",
                    if t.residual_classes.len() > 1 { "es" } else { "" },
                    t.residual_classes.iter().cloned().collect::<Vec<_>>().join("`, `")
                ),
                "add `valuation = [...]` (t = 0 … years) to [assumptions], or give those classes `economic = \"par\"`",
            ));
        };
        let residual = num::sub(v, t.fixed)?.max(Decimal::ZERO);
        for (h, u) in &t.residual_units {
            let x = num::div(num::mul(residual, *u)?, ru_total)?;
            bump(&mut t.claim, h, x)?;
            if let Some(iu) = t.residual_inv_units.get(h) {
                let xi = num::div(num::mul(residual, *iu)?, ru_total)?;
                bump(&mut t.inv_claim, h, xi)?;
            }
        }
    } else if let Some(v) = valuation {
        let retained = num::sub(v, t.fixed)?;
        if retained > Decimal::ZERO {
            t.claim.insert(RETAINED.to_string(), retained);
            holders
                .entry(RETAINED.to_string())
                .or_insert_with(|| Holder {
                    id: RETAINED.to_string(),
                    name: "retained for purpose (the company)".to_string(),
                    segment: "retained".to_string(),
                    members: 1,
                });
        }
    }
    Ok(())
}

/// Board-election weight in percent: the seats of each class, shared by that class's votes.
fn board_weights(st: &State) -> Er<BTreeMap<String, Decimal>> {
    let total_seats: u32 = st
        .classes
        .iter()
        .filter(|(c, _)| {
            st.pos
                .iter()
                .any(|((cc, _), p)| cc == *c && p.units > Decimal::ZERO)
        })
        .map(|(_, r)| r.board_seats)
        .sum();
    let mut board: BTreeMap<String, Decimal> = BTreeMap::new();
    if total_seats == 0 {
        return Ok(board);
    }
    for (c, r) in &st.classes {
        if r.board_seats == 0 {
            continue;
        }
        let class_votes: Vec<(String, Decimal)> = st
            .pos
            .iter()
            .filter(|((cc, _), p)| cc == c && p.units > Decimal::ZERO)
            .map(|((_, h), p)| {
                let v = if r.per_capita {
                    Decimal::from(st.holders.get(h).map_or(1, |x| x.members))
                } else {
                    p.units
                };
                (h.clone(), v)
            })
            .collect();
        let cv = num::sum(class_votes.iter().map(|x| x.1))?;
        for (h, v) in class_votes {
            let x = num::div0(
                num::mul(Decimal::from(r.board_seats), v)?,
                num::mul(Decimal::from(total_seats), cv)?,
            )?;
            let e = board.entry(h).or_default();
            *e = num::add(*e, num::mul(x, Decimal::ONE_HUNDRED)?)?;
        }
    }
    Ok(board)
}

/// Totals of units, votes and claims (the denominators of the lenses).
struct Totals {
    units: Decimal,
    votes: Decimal,
    claim: Decimal,
}

/// Segments add up their holders; the community share is the sum over community segments.
fn segment_rows(rows: &[HolderRow], tot: &Totals) -> Er<(Vec<SegmentRow>, Lenses)> {
    let mut segs: BTreeMap<String, SegmentRow> = BTreeMap::new();
    for r in rows {
        let s = segs.entry(r.segment.clone()).or_insert_with(|| SegmentRow {
            segment: r.segment.clone(),
            community: r.community,
            holders: 0,
            units: Decimal::ZERO,
            votes: Decimal::ZERO,
            claim: Decimal::ZERO,
            votes_pct: Decimal::ZERO,
            economic_pct: Decimal::ZERO,
            legal_pct: Decimal::ZERO,
        });
        if r.units > Decimal::ZERO || r.claim > Decimal::ZERO || r.votes > Decimal::ZERO {
            s.holders += 1;
        }
        s.units = num::add(s.units, r.units)?;
        s.votes = num::add(s.votes, r.votes)?;
        s.claim = num::add(s.claim, r.claim)?;
    }
    let mut com = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for s in segs.values_mut() {
        s.votes_pct = num::pct(s.votes, tot.votes)?;
        s.economic_pct = num::pct(s.claim, tot.claim)?;
        s.legal_pct = num::pct(s.units, tot.units)?;
        if s.community {
            com = (
                num::add(com.0, s.votes)?,
                num::add(com.1, s.claim)?,
                num::add(com.2, s.units)?,
            );
        }
    }
    let community = Lenses {
        votes: num::pct(com.0, tot.votes)?,
        economic: num::pct(com.1, tot.claim)?,
        legal: num::pct(com.2, tot.units)?,
    };
    Ok((segs.into_values().collect(), community))
}

/// The reserved matters each holder of a class with vetoes can block.
fn vetoes(st: &State) -> Vec<(String, Vec<String>)> {
    let mut vetoes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((c, h), p) in &st.pos {
        if p.units <= Decimal::ZERO {
            continue;
        }
        if let Some(r) = st.classes.get(c) {
            for m in &r.vetoes {
                vetoes.entry(h.clone()).or_default().insert(m.clone());
            }
        }
    }
    vetoes
        .into_iter()
        .map(|(h, m)| (h, m.into_iter().collect()))
        .collect()
}

/// Banzhaf power, when some votes are weighted by units or per-capita blocks differ in size.
fn banzhaf_power(
    st: &State,
    votes: &BTreeMap<String, Decimal>,
) -> Er<Option<Vec<(String, Decimal)>>> {
    let unit_weighted = st.pos.iter().any(|((c, _), p)| {
        p.units > Decimal::ZERO
            && st
                .classes
                .get(c)
                .is_some_and(|r| !r.per_capita && r.votes_per_unit > Decimal::ZERO)
    });
    // per-capita blocks of different sizes (a pooled group of members) are weighted too
    let distinct: BTreeSet<Decimal> = votes
        .values()
        .copied()
        .filter(|v| *v > Decimal::ZERO)
        .collect();
    if !unit_weighted && distinct.len() <= 1 {
        return Ok(None);
    }
    let voters: Vec<(String, Decimal)> = votes
        .iter()
        .filter(|(_, v)| **v > Decimal::ZERO)
        .map(|(h, v)| (h.clone(), *v))
        .collect();
    let w: Vec<Decimal> = voters.iter().map(|x| x.1).collect();
    Ok(metrics::banzhaf(&w)?.map(|p| voters.iter().map(|x| x.0.clone()).zip(p).collect()))
}

/// Computes the lenses for year `t`.
pub fn view(
    t: u32,
    st: &State,
    led: &Ledger,
    cx: &Cx,
    community: &BTreeSet<String>,
) -> Er<YearView> {
    let valuation = cx.paths.valuation(t);
    let mut tally = tally(st)?;
    let mut holders: BTreeMap<String, Holder> = st.holders.clone();
    share_residual(&mut tally, valuation, &mut holders)?;
    let board = board_weights(st)?;
    let tot = Totals {
        units: num::sum(tally.units.values().copied())?,
        votes: num::sum(tally.votes.values().copied())?,
        claim: num::sum(tally.claim.values().copied())?,
    };
    let mut rows = Vec::new();
    for (id, h) in &holders {
        let u = tally.units.get(id).copied().unwrap_or_default();
        let v = tally.votes.get(id).copied().unwrap_or_default();
        let c = tally.claim.get(id).copied().unwrap_or_default();
        rows.push(HolderRow {
            holder_id: id.clone(),
            name: h.name.clone(),
            segment: h.segment.clone(),
            community: community.contains(&h.segment),
            members: h.members,
            units: u,
            votes: v,
            claim: c,
            votes_pct: num::pct(v, tot.votes)?,
            economic_pct: num::pct(c, tot.claim)?,
            legal_pct: num::pct(u, tot.units)?,
            board_pct: board.get(id).copied().unwrap_or_default(),
        });
    }
    let (segments, community_lenses) = segment_rows(&rows, &tot)?;
    let mut com_instr = Decimal::ZERO;
    for r in &rows {
        if r.community {
            let inv = tally
                .inv_claim
                .get(&r.holder_id)
                .copied()
                .unwrap_or_default();
            com_instr = num::add(com_instr, num::sub(r.claim, inv)?.max(Decimal::ZERO))?;
        }
    }
    let community_instrument_economic = num::pct(com_instr, tot.claim)?;
    let banzhaf = banzhaf_power(st, &tally.votes)?;
    let vals = |f: fn(&HolderRow) -> Decimal| -> Vec<Decimal> { rows.iter().map(f).collect() };
    let concentration = [
        ("votes", metrics::concentration(&vals(|r| r.votes))?),
        ("economic", metrics::concentration(&vals(|r| r.claim))?),
        ("legal", metrics::concentration(&vals(|r| r.units))?),
    ];
    let payments = led.payments.get(t as usize).cloned().unwrap_or_default();
    let cash_required = num::sum(payments.iter().map(|p| p.amount))?;
    let capacity = num::add(
        cx.paths.capacity(t),
        led.raised.get(t as usize).copied().unwrap_or_default(),
    )?;
    Ok(YearView {
        t,
        valuation,
        holders: rows,
        segments,
        community: community_lenses,
        community_instrument_economic,
        cash_required,
        capacity,
        shortfall: cash_required > capacity,
        payments,
        vetoes: vetoes(st),
        banzhaf,
        concentration,
        bonuses: led.bonuses.get(t as usize).cloned().unwrap_or_default(),
        notes: led.notes.get(t as usize).cloned().unwrap_or_default(),
    })
}

/// Keeps only holders who hold, vote or claim something in some year (stable rows across years).
pub fn prune(years: &mut [YearView]) {
    let live: BTreeSet<String> = years
        .iter()
        .flat_map(|y| y.holders.iter())
        .filter(|r| r.units > Decimal::ZERO || r.votes > Decimal::ZERO || r.claim > Decimal::ZERO)
        .map(|r| r.holder_id.clone())
        .collect();
    let all_rows: BTreeMap<String, HolderRow> = years
        .iter()
        .flat_map(|y| y.holders.iter())
        .map(|r| (r.holder_id.clone(), r.clone()))
        .collect();
    for y in years.iter_mut() {
        y.holders.retain(|r| live.contains(&r.holder_id));
        // a holder that appears later (e.g. `retained`) gets an explicit zero row earlier
        for id in &live {
            if !y.holders.iter().any(|r| &r.holder_id == id) {
                if let Some(r) = all_rows.get(id) {
                    y.holders.push(HolderRow {
                        units: Decimal::ZERO,
                        votes: Decimal::ZERO,
                        claim: Decimal::ZERO,
                        votes_pct: Decimal::ZERO,
                        economic_pct: Decimal::ZERO,
                        legal_pct: Decimal::ZERO,
                        board_pct: Decimal::ZERO,
                        ..r.clone()
                    });
                }
            }
        }
        y.holders.sort_by(|a, b| a.holder_id.cmp(&b.holder_id));
    }
}

/// Votes and title on the cap table before any route runs ("do I lose my vote?").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeforeRow {
    pub holder_id: String,
    pub segment: String,
    pub votes_pct: Decimal,
    pub legal_pct: Decimal,
}

pub fn before(st: &State) -> Er<Vec<BeforeRow>> {
    let mut units: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut votes: BTreeMap<String, Decimal> = BTreeMap::new();
    for ((c, h), p) in &st.pos {
        if p.units <= Decimal::ZERO {
            continue;
        }
        let r = st.classes.get(c).cloned().unwrap_or_default();
        let v = if r.per_capita {
            Decimal::from(st.holders.get(h).map_or(1, |x| x.members))
        } else {
            num::mul(p.units, r.votes_per_unit)?
        };
        let u = units.entry(h.clone()).or_default();
        *u = num::add(*u, p.units)?;
        let e = votes.entry(h.clone()).or_default();
        *e = num::add(*e, v)?;
    }
    let tu = num::sum(units.values().copied())?;
    let tv = num::sum(votes.values().copied())?;
    units
        .iter()
        .map(|(h, u)| {
            Ok(BeforeRow {
                holder_id: h.clone(),
                segment: st
                    .holders
                    .get(h)
                    .map(|x| x.segment.clone())
                    .unwrap_or_default(),
                votes_pct: num::pct(votes.get(h).copied().unwrap_or_default(), tv)?,
                legal_pct: num::pct(*u, tu)?,
            })
        })
        .collect()
}
