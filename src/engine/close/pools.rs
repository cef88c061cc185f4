//! The pools of a close, one per allocation unit: margins after the asset register, the year's
//! activity per unit, stock dividends, member and non-member shares, §1388(j) netting, the
//! board's reserve and losses, and the allocation of each pool by patronage (steps 1 to 8 of
//! `docs/CLOSE.md`).

use rust_decimal::Decimal;

use super::{
    dec_weight, full_years, integer_weights, m, rational_weights, split, Allocation, CloseError,
    Deficit, MemberWalk, MemberWeight, Pool, Year,
};
use crate::book::config::{LossPolicy, Unit};
use crate::book::patronage::{Activity, SCALE};
use crate::engine::assets::{self, Adjustments};
use crate::engine::state::State;
use crate::money::{allocate, Money, MoneyError, Weight};

/// A unit's pool while the close works on it.
pub(super) struct Work<'a> {
    pub(super) pool: Pool,
    /// non-member share net of its stock-dividend charge (to the unallocated reserve)
    pub(super) nonmember_net: Money,
    pub(super) weights: Vec<MemberWeight<'a>>,
}

/// Per unit (in the order of coop.toml): (member, measure index, amount in 10^-SCALE) rows,
/// member "" = non-member, sorted by member.
pub(super) type UnitActivity<'a> = Vec<Vec<(&'a str, usize, i128)>>;

fn dec(x: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(x, SCALE).unwrap_or(Decimal::MAX)
}

/// Each unit's patronage margin with the shared-asset register's depreciation and disposal gains
/// of the year (`[assets] in_close`), and the register's adjustments.
pub(super) fn unit_margins(
    y: &Year,
    notes: &mut Vec<String>,
) -> Result<(Adjustments, Vec<Money>), CloseError> {
    let (book, cfg, cur, fy) = (y.book, y.cfg, y.cur, y.fy);
    let adj = m("assets", assets::close_adjustments(book, fy))?;
    let unit_pm = cfg
        .units
        .iter()
        .map(|u| {
            let a = m("assets", adj.unit_margin(&u.id, cur))?;
            m(
                "assets",
                y.line(Some(&u.id), "patronage_margin").checked_add(&a),
            )
        })
        .collect::<Result<Vec<Money>, CloseError>>()?;
    if !adj.is_empty() {
        notes.push(assets::close_note(&adj, cur));
    }
    Ok((adj, unit_pm))
}

/// The activity of the year: per unit, per measure, members and non-members (step 1).
pub(super) fn activity_by_unit<'a>(y: &Year, activity: &'a Activity) -> UnitActivity<'a> {
    let (cfg, fy) = (y.cfg, y.fy);
    let mut act: UnitActivity = vec![Vec::new(); cfg.units.len()];
    {
        // (unit, measure) of the previous total and its (unit index, measure index)
        type Last<'s> = Option<(&'s str, &'s str, Option<(usize, usize)>)>;
        let mut last: Last = None;
        for t in activity.year(fy) {
            let (unit, measure) = (t.key.unit.as_str(), t.key.measure.as_str());
            let at = match last {
                Some((u, m, at)) if u == unit && m == measure => at,
                _ => {
                    let at = cfg.units.iter().position(|u| u.id == unit).and_then(|ui| {
                        cfg.units[ui]
                            .measures
                            .iter()
                            .position(|(m, _)| m == measure)
                            .map(|mi| (ui, mi))
                    });
                    last = Some((unit, measure, at));
                    at
                }
            };
            if let Some((ui, mi)) = at {
                act[ui].push((t.key.member_id.as_str(), mi, t.amount));
            }
        }
        for rows in act.iter_mut() {
            // activity comes sorted by member: this is a check, linear on sorted input
            rows.sort_by(|a, b| a.0.cmp(b.0));
        }
    }
    act
}

/// Stock dividends, charged to units pro rata by positive patronage margin (step 3): the total
/// and each unit's charge.
pub(super) fn stock_dividends(
    y: &Year,
    unit_pm: &[Money],
    notes: &mut Vec<String>,
) -> Result<(Money, Vec<Money>), CloseError> {
    let (cfg, zero) = (y.cfg, y.zero);
    let sd_total = y.line(None, "stock_dividends");
    let margins: Vec<(usize, Weight)> = cfg
        .units
        .iter()
        .enumerate()
        .map(|(i, _)| (i, dec_weight(unit_pm[i].amount())))
        .collect();
    let sd_by_unit = if sd_total.is_zero() || margins.iter().all(|(_, w)| w.is_zero()) {
        if !sd_total.is_zero() {
            notes.push(format!(
                "stock dividends of {sd_total} were not charged to any unit: no unit had a positive patronage margin"
            ));
        }
        vec![zero; cfg.units.len()]
    } else {
        m("stock dividends", allocate(sd_total, &margins))?
    };
    Ok((sd_total, sd_by_unit))
}

/// A unit's member weights (step 7) and the member fraction of its volume (step 2).
struct UnitWeights<'a> {
    any_volume: bool,
    /// Σ λ_k × member_k / total_k
    member_frac_w: Weight,
    weights: Vec<MemberWeight<'a>>,
}

/// The patronage weights of the members of unit `u` from its rows of the year: per measure the
/// member share of volume, and per member `factor × Σ_k λ_k × x_mk / X_k`, with the class
/// multiplier and seniority factor.
/// A volume beyond 128 bits is an error, never a wrapped sum.
fn unit_weights<'a>(
    y: &Year,
    u: &Unit,
    rows: &[(&'a str, usize, i128)],
) -> Result<UnitWeights<'a>, CloseError> {
    let (book, cfg, dates) = (y.book, y.cfg, &y.dates);
    // per measure of the unit: (all volume, members' volume)
    let mut volume: Vec<(i128, i128)> = vec![(0, 0); u.measures.len()];
    for (member, mi, x) in rows {
        let v = &mut volume[*mi];
        let overflow = || CloseError::Money {
            what: format!("the patronage volume of unit `{}`", u.id),
            source: MoneyError::Overflow,
        };
        v.0 = v.0.checked_add(*x).ok_or_else(overflow)?;
        if !member.is_empty() {
            v.1 = v.1.checked_add(*x).ok_or_else(overflow)?;
        }
    }
    // member fraction of volume and member weights
    let mut frac_num = Weight::zero();
    // (measure, λ, members' total) of the measures with member volume, and the position of
    // each measure of the unit among them
    let mut active: Vec<(&str, Decimal, i128)> = Vec::new();
    let mut slot: Vec<Option<usize>> = vec![None; u.measures.len()];
    let mut any_volume = false;
    for (mi, (measure, lambda)) in u.measures.iter().enumerate() {
        let (total, members_total) = volume[mi];
        if total <= 0 {
            continue;
        }
        any_volume = true;
        let l = dec_weight(*lambda);
        frac_num = frac_num.add(
            &l.mul(&Weight::from_ratio(members_total, total).unwrap_or_else(|_| Weight::zero())),
        );
        if members_total <= 0 {
            continue;
        }
        slot[mi] = Some(active.len());
        active.push((measure.as_str(), *lambda, members_total));
    }
    // member -> its amount of each active measure (None: no row), sorted by member
    let mut raws: Vec<(&str, Vec<Option<i128>>)> = Vec::new();
    for (member, mi, x) in rows {
        let Some(k) = slot[*mi] else { continue };
        if member.is_empty() {
            continue;
        }
        if raws.last().is_none_or(|(id, _)| id != member) {
            raws.push((member, vec![None; active.len()]));
        }
        if let Some((_, v)) = raws.last_mut() {
            v[k] = Some(*x);
        }
    }
    // class and seniority factor of each member with patronage in this unit
    let mut walk = MemberWalk::new(book);
    let mut factor = |id: &str| -> Decimal {
        let mut f = Decimal::ONE;
        if let Some(mem) = walk.get(id) {
            if let Some(class) = cfg.class(&mem.class) {
                f *= class.multiplier;
            }
            if !u.seniority_rate.is_zero() {
                let years = full_years(mem.joined, dates.end);
                let years = u.seniority_cap_years.map_or(years, |c| years.min(c));
                f *= Decimal::ONE + u.seniority_rate * Decimal::from(years);
            }
        }
        f
    };
    let factors: Vec<Decimal> = raws.iter().map(|(id, _)| factor(id)).collect();
    let weights = integer_weights(&active, &raws, &factors)
        .unwrap_or_else(|| rational_weights(&active, &raws, &factors));
    // the active measures in name order, for the per-member lists
    let mut by_name: Vec<usize> = (0..active.len()).collect();
    by_name.sort_by_key(|&k| active[k].0);
    let weights: Vec<MemberWeight> = raws
        .iter()
        .zip(weights)
        .map(|((id, raw), w)| {
            let raw = by_name
                .iter()
                .filter_map(|&k| raw[k].map(|x| (active[k].0.to_string(), dec(x))))
                .collect();
            (*id, w, raw)
        })
        .collect();
    Ok(UnitWeights {
        any_volume,
        member_frac_w: if any_volume { frac_num } else { Weight::zero() },
        weights,
    })
}

/// Per unit: member and non-member shares, their stock-dividend charges, and the provisional
/// pool (step 2); non-member refunds (units with `nonmember_refunds`) are summed and returned.
pub(super) fn unit_pools<'a>(
    y: &Year,
    act: &UnitActivity<'a>,
    unit_pm: &[Money],
    sd_by_unit: &[Money],
    notes: &mut Vec<String>,
) -> Result<(Vec<Work<'a>>, Money), CloseError> {
    let (cfg, zero, fy) = (y.cfg, y.zero, y.fy);
    let mut work: Vec<Work> = Vec::new();
    let mut nonmember_refunds = zero;
    for (ui, u) in cfg.units.iter().enumerate() {
        let pm = unit_pm[ui];
        let UnitWeights {
            any_volume,
            member_frac_w,
            weights: wv,
        } = unit_weights(y, u, &act[ui])?;
        let member_fraction = member_frac_w.to_decimal_lossy();
        let nonmember_frac_w = if any_volume {
            Weight::from_int(1).sub_or_zero(&member_frac_w)
        } else {
            Weight::from_int(1)
        };
        if !any_volume && !pm.is_zero() {
            notes.push(format!(
                "unit `{}` has a patronage margin of {pm} but no patronage in {fy}: it all goes to the unallocated reserve",
                u.id
            ));
        }
        let (member_share, nonmember_share) =
            m("member share", split(pm, &member_frac_w, &nonmember_frac_w))?;
        let sd = sd_by_unit[ui];
        let (sd_member, sd_nonmember) = m(
            "stock dividends",
            split(sd, &member_frac_w, &nonmember_frac_w),
        )?;
        let member_net = m("member share", member_share.checked_sub(&sd_member))?;
        let mut nonmember_net = m(
            "non-member share",
            nonmember_share.checked_sub(&sd_nonmember),
        )?;
        if u.nonmember_refunds && nonmember_net.is_positive() {
            nonmember_refunds = m("refunds", nonmember_refunds.checked_add(&nonmember_net))?;
            nonmember_net = zero;
        }
        work.push(Work {
            nonmember_net,
            pool: Pool {
                unit: u.id.clone(),
                name: u.name.clone(),
                patronage_margin: pm,
                member_fraction,
                member_share,
                nonmember_share,
                stock_dividends: sd,
                netting: zero,
                loss_recovered: zero,
                reserve: zero,
                allocable: member_net, // provisional: member share net of stock dividends
                loss_to_members: zero,
                loss_to_collective: zero,
                eligible_members: wv.iter().filter(|(_, w, _)| !w.is_zero()).count(),
            },
            weights: wv,
        });
    }
    Ok((work, nonmember_refunds))
}

/// §1388(j) netting (`net_units`, step 4): unit losses absorbed by profitable units, pro rata.
pub(super) fn net_unit_losses(
    y: &Year,
    work: &mut [Work],
    notes: &mut Vec<String>,
) -> Result<(), CloseError> {
    let cur = y.cur;
    let neg: i128 = work
        .iter()
        .map(|w| w.pool.allocable.to_minor())
        .filter(|v| *v < 0)
        .sum();
    let pos_w: Vec<(usize, Weight)> = work
        .iter()
        .enumerate()
        .map(|(i, w)| (i, dec_weight(w.pool.allocable.amount())))
        .collect();
    let pos: i128 = work
        .iter()
        .map(|w| w.pool.allocable.to_minor())
        .filter(|v| *v > 0)
        .sum();
    if neg < 0 && pos > 0 {
        let absorbed = Money::from_minor((-neg).min(pos), cur).map_err(|e| CloseError::Money {
            what: "netting".into(),
            source: e,
        })?;
        let cut = m("netting", allocate(absorbed.neg(), &pos_w))?;
        let neg_w: Vec<(usize, Weight)> = work
            .iter()
            .enumerate()
            .map(|(i, w)| (i, dec_weight(-w.pool.allocable.amount())))
            .collect();
        let lift = m("netting", allocate(absorbed, &neg_w))?;
        for (i, w) in work.iter_mut().enumerate() {
            w.pool.netting = m("netting", cut[i].checked_add(&lift[i]))?;
            w.pool.allocable = m("netting", w.pool.allocable.checked_add(&w.pool.netting))?;
        }
        notes.push(format!(
            "§1388(j): {absorbed} of unit losses were netted against other units' earnings; patrons must be told in writing"
        ));
    }
    Ok(())
}

/// Losses (carried forward or charged to accounts), recovery of a carried deficit, and the
/// board's reserve of each positive pool (steps 5 and 6). Returns the deficit's movement.
pub(super) fn reserve_and_losses(
    y: &Year,
    prior: &State,
    work: &mut [Work],
    notes: &mut Vec<String>,
) -> Result<Deficit, CloseError> {
    let (cur, zero, fy, pol) = (y.cur, y.zero, y.fy, &y.cfg.policy);
    let mut deficit = Money::from_decimal(prior.deficit, cur).unwrap_or(zero);
    let deficit_opening = deficit;
    let mut deficit_added = zero;
    let mut deficit_recovered = zero;
    for w in work.iter_mut() {
        let p = &mut w.pool;
        let net = p.allocable;
        if net.is_negative() {
            match pol.loss {
                LossPolicy::CarryForward => {
                    deficit_added = m("loss", deficit_added.checked_add(&net.abs()))?;
                    p.allocable = zero;
                }
                LossPolicy::ChargeAccounts => {
                    let c = dec_weight(pol.loss_collective);
                    let r = dec_weight(Decimal::ONE - pol.loss_collective);
                    let (coll, mem) = m("loss split", split(net, &c, &r))?;
                    p.loss_to_collective = coll;
                    p.loss_to_members = mem;
                    p.allocable = zero;
                }
            }
            continue;
        }
        // recover a carried-forward deficit before allocating
        if deficit.is_positive() && net.is_positive() {
            let take = net.min(deficit);
            p.loss_recovered = take;
            deficit = m("loss recovery", deficit.checked_sub(&take))?;
            deficit_recovered = m("loss recovery", deficit_recovered.checked_add(&take))?;
        }
        let after = m("pool", net.checked_sub(&p.loss_recovered))?;
        let r = dec_weight(pol.reserve);
        let a = dec_weight(Decimal::ONE - pol.reserve);
        let (reserve, allocable) = m("reserve", split(after, &r, &a))?;
        p.reserve = reserve;
        p.allocable = allocable;
        if allocable.is_positive() && w.weights.iter().all(|(_, wt, _)| wt.is_zero()) {
            notes.push(format!(
                "unit `{}`: no member patronage in {fy}, so its pool of {allocable} goes to the unallocated reserve",
                p.unit
            ));
            p.reserve = m("reserve", p.reserve.checked_add(&allocable))?;
            p.allocable = zero;
        }
    }
    deficit = m("deficit", deficit.checked_add(&deficit_added))?;
    Ok(Deficit {
        opening: deficit_opening,
        added: deficit_added,
        recovered: deficit_recovered,
        closing: deficit,
    })
}

/// The allocations of each pool by patronage (step 8), and the members' shares of positive
/// pools and of losses charged to them, in unit order.
pub(super) type Shares<'a> = Vec<(&'a str, Money)>;

/// Allocates each pool (and charges losses) by patronage, largest remainder (step 8).
pub(super) fn allocate_pools<'a>(
    work: &mut [Work<'a>],
    notes: &mut Vec<String>,
) -> Result<(Vec<Allocation>, Shares<'a>, Shares<'a>), CloseError> {
    let mut allocations: Vec<Allocation> = Vec::new();
    let mut shares_pos: Vec<(&str, Money)> = Vec::new();
    let mut shares_neg: Vec<(&str, Money)> = Vec::new();
    for w in work.iter_mut() {
        let p = &w.pool;
        let amount = if p.allocable.is_positive() {
            p.allocable
        } else {
            p.loss_to_members
        };
        if amount.is_zero() {
            continue;
        }
        let items: Vec<(&str, Weight)> = w
            .weights
            .iter()
            .map(|(id, wt, _)| (*id, wt.clone()))
            .collect();
        if items.iter().all(|(_, wt)| wt.is_zero()) {
            notes.push(format!(
                "unit `{}`: a loss of {amount} could not be charged to members (no member patronage); it stays with the collective account",
                p.unit
            ));
            continue;
        }
        let shares = m("allocation", allocate(amount, &items))?;
        let sum_w = items
            .iter()
            .fold(Weight::zero(), |acc, (_, wt)| acc.add(wt));
        for ((id, wt, raw), share) in w.weights.iter_mut().zip(shares) {
            if share.is_zero() && wt.is_zero() {
                continue;
            }
            if amount.is_positive() {
                shares_pos.push((*id, share));
            } else {
                shares_neg.push((*id, share));
            }
            if amount.is_positive() {
                allocations.push(Allocation {
                    member_id: id.to_string(),
                    unit: p.unit.clone(),
                    patronage: wt.ratio_lossy(&sum_w),
                    measures: std::mem::take(raw),
                    amount: share,
                });
            }
        }
    }
    allocations.sort_by(|a, b| (&a.member_id, &a.unit).cmp(&(&b.member_id, &b.unit)));
    Ok((allocations, shares_pos, shares_neg))
}
