//! Routes: composable mechanisms that transform the yearly [`State`]. Each route is a struct
//! with a parser, the ids it refers to (checked before running), the classes it creates, and an
//! implementation of [`Mechanism`] (`open` at closing, `step` each year). A new route (a
//! leveraged ESOP, an OCF import) is one more variant of [`Route`] and one more file.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use toml::Table;

use super::model::{Cx, EngineError, Er, Ledger, State};
use super::num::{self, Share};
use super::read::{code, P};

pub mod capped;
pub mod community;
pub mod coop;
pub mod demand;
pub mod eot;
pub mod note;
pub mod preferred;
pub mod steward;

/// What an id in a route refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    Class,
    Holder,
    Path,
}

/// A reference from a route key to a class, a holder or an assumption path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub kind: RefKind,
    pub id: String,
    pub key: String,
}

impl Ref {
    pub fn class(id: &str, key: String) -> Ref {
        Ref {
            kind: RefKind::Class,
            id: id.to_string(),
            key,
        }
    }
    pub fn holder(id: &str, key: String) -> Ref {
        Ref {
            kind: RefKind::Holder,
            id: id.to_string(),
            key,
        }
    }
    pub fn path(id: &str, key: String) -> Ref {
        Ref {
            kind: RefKind::Path,
            id: id.to_string(),
            key,
        }
    }
    /// `make` for each id of a list, keyed `key.field[i]`.
    pub fn each(make: fn(&str, String) -> Ref, ids: &[String], key: &str, field: &str) -> Vec<Ref> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| make(id, format!("{key}.{field}[{i}]")))
            .collect()
    }
}

/// One mechanism's behaviour over time.
pub trait Mechanism {
    /// Events at closing (t = 0): conversions, transfers, issues.
    fn open(&mut self, cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()>;
    /// Year `t` (1 …): payments, redemptions, allocations.
    fn step(&mut self, cx: &Cx, t: u32, st: &mut State, led: &mut Ledger) -> Er<()>;
}

/// The routes a scenario can compose, in the order they run each year.
#[derive(Debug, Clone)]
pub enum Route {
    CappedRedemption(capped::CappedRedemption),
    DemandDividend(demand::DemandDividend),
    RedeemablePreferred(preferred::RedeemablePreferred),
    SellerNote(note::SellerNote),
    Eot(eot::Eot),
    CoopConversion(coop::CoopConversion),
    Steward(steward::Steward),
    CommunityShares(community::CommunityShares),
}

pub const ROUTE_TYPES: [&str; 8] = [
    "capped_redemption",
    "demand_dividend",
    "redeemable_preferred",
    "seller_note",
    "eot",
    "coop_conversion",
    "steward",
    "community_shares",
];

impl Route {
    /// Parses `[[routes]]` entry `path` (`routes[i]`); every problem goes to `p`.
    pub fn parse(
        p: &mut P<'_>,
        t: &Table,
        path: &str,
        base_dir: &std::path::Path,
    ) -> Option<Route> {
        let kind = p.str_req(t, path, "type")?;
        let label = format!("{path} {kind}");
        match kind.as_str() {
            "capped_redemption" => {
                capped::CappedRedemption::parse(p, t, path, label).map(Route::CappedRedemption)
            }
            "demand_dividend" => {
                demand::DemandDividend::parse(p, t, path, label).map(Route::DemandDividend)
            }
            "redeemable_preferred" => preferred::RedeemablePreferred::parse(p, t, path, label)
                .map(Route::RedeemablePreferred),
            "seller_note" => note::SellerNote::parse(p, t, path, label).map(Route::SellerNote),
            "eot" => eot::Eot::parse(p, t, path, label).map(Route::Eot),
            "coop_conversion" => {
                coop::CoopConversion::parse(p, t, path, label, base_dir).map(Route::CoopConversion)
            }
            "steward" => steward::Steward::parse(p, t, path, label).map(Route::Steward),
            "community_shares" => {
                community::CommunityShares::parse(p, t, path, label).map(Route::CommunityShares)
            }
            other => {
                p.err(
                    code::UNKNOWN_ROUTE,
                    &format!("{path}.type"),
                    format!("unknown route type `{other}`"),
                    format!("use one of: {}", ROUTE_TYPES.join(", ")),
                );
                None
            }
        }
    }

    pub fn refs(&self) -> Vec<Ref> {
        match self {
            Route::CappedRedemption(r) => r.refs(),
            Route::DemandDividend(r) => r.refs(),
            Route::RedeemablePreferred(r) => r.refs(),
            Route::SellerNote(r) => r.refs(),
            Route::Eot(r) => r.refs(),
            Route::CoopConversion(r) => r.refs(),
            Route::Steward(r) => r.refs(),
            Route::CommunityShares(r) => r.refs(),
        }
    }

    /// Classes this route creates (usable by later routes).
    pub fn creates(&self) -> Vec<String> {
        match self {
            Route::CoopConversion(r) => r.creates(),
            Route::Steward(r) => r.creates(),
            Route::CommunityShares(r) => vec![r.class.clone()],
            _ => Vec::new(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Route::CappedRedemption(_) => "capped_redemption",
            Route::DemandDividend(_) => "demand_dividend",
            Route::RedeemablePreferred(_) => "redeemable_preferred",
            Route::SellerNote(_) => "seller_note",
            Route::Eot(_) => "eot",
            Route::CoopConversion(_) => "coop_conversion",
            Route::Steward(_) => "steward",
            Route::CommunityShares(_) => "community_shares",
        }
    }

    pub fn mech(&mut self) -> &mut dyn Mechanism {
        match self {
            Route::CappedRedemption(r) => r,
            Route::DemandDividend(r) => r,
            Route::RedeemablePreferred(r) => r,
            Route::SellerNote(r) => r,
            Route::Eot(r) => r,
            Route::CoopConversion(r) => r,
            Route::Steward(r) => r,
            Route::CommunityShares(r) => r,
        }
    }

    /// Co-op conversion member weights that come from a book (filled before running).
    pub fn book_requests(&mut self) -> Vec<&mut coop::MemberClass> {
        match self {
            Route::CoopConversion(r) => r.members.iter_mut().filter(|m| m.book.is_some()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Transfers `stake` of all units (in `classes`, or every class when empty) from `sellers`
/// pro rata to `buyer`; returns units sold per seller. Title passes at closing.
pub fn transfer_stake(
    st: &mut State,
    buyer: &str,
    sellers: &[String],
    classes: &[String],
    stake: Share,
    key: &str,
) -> Er<BTreeMap<String, Decimal>> {
    let in_scope = |c: &str| classes.is_empty() || classes.iter().any(|x| x == c);
    let total = num::sum(
        st.pos
            .iter()
            .filter(|((c, _), _)| in_scope(c))
            .map(|(_, p)| p.units),
    )?;
    let target = stake.apply(total)?;
    let positions: Vec<(String, String, Decimal)> = st
        .pos
        .iter()
        .filter(|((c, h), p)| in_scope(c) && sellers.contains(h) && p.units > Decimal::ZERO)
        .map(|((c, h), p)| (c.clone(), h.clone(), p.units))
        .collect();
    let seller_total = num::sum(positions.iter().map(|x| x.2))?;
    if target > seller_total || seller_total.is_zero() {
        return Err(EngineError::input(
            code::ROUTE_RULE,
            key,
            format!(
                "the sellers hold {} units but the stake needs {}",
                num::fixed(seller_total, 2),
                num::fixed(target, 2)
            ),
            "lower the stake or add sellers",
        ));
    }
    let f = num::div(target, seller_total)?;
    let mut sold: BTreeMap<String, Decimal> = BTreeMap::new();
    for (c, h, u) in positions {
        let take = num::round_units(num::mul(u, f)?);
        st.remove_units(&c, &h, take)?;
        st.add_units(&c, buyer, take, Decimal::ZERO)?;
        let e = sold.entry(h).or_default();
        *e = num::add(*e, take)?;
    }
    Ok(sold)
}

/// Reads the common `base` key (name of an assumption path).
pub(crate) fn base_key(p: &mut P<'_>, t: &Table, path: &str, default: &str) -> String {
    p.str_opt(t, path, "base")
        .unwrap_or_else(|| default.to_string())
}
