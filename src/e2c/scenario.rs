//! Scenario files (`data/<company>/scenarios/*.toml`): the cap table, class rights, operating
//! assumptions and the routes. Loading collects every problem with the file and key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use toml::{Table, Value};

use super::captable::{self, CapTable};
use super::model::{ClassRights, Econ, Holder, Paths};
use super::num;
use super::read::{code, join, P};
use super::routes::{RefKind, Route};
use crate::diag::{Diagnostic, Diagnostics};
use crate::money::Currency;

/// Segments counted as community unless a scenario says otherwise.
pub const DEFAULT_COMMUNITY: [&str; 10] = [
    "employee",
    "worker",
    "member",
    "user",
    "community",
    "trust",
    "collective",
    "purpose",
    "steward",
    "retained",
];

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario file as shown to the user.
    pub file: String,
    pub dir: PathBuf,
    pub name: String,
    pub description: String,
    pub currency: Currency,
    pub years: u32,
    pub start_year: Option<u32>,
    pub captable: CapTable,
    pub holders: BTreeMap<String, Holder>,
    pub classes: BTreeMap<String, ClassRights>,
    pub community: BTreeSet<String>,
    pub paths: Paths,
    pub routes: Vec<Route>,
}

/// Reads and checks a scenario. Returns the scenario only when there are no errors; warnings
/// come back in the diagnostics either way.
pub fn load(path: &Path) -> (Option<Scenario>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error(code::IO, &shown, 0, 0)
                    .msg(format!("cannot read the scenario: {e}"))
                    .hint("check the path"),
            );
            return (None, diags);
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let sc = parse_str(&text, &shown, &dir, &mut diags);
    if diags.has_errors() {
        (None, diags)
    } else {
        (sc, diags)
    }
}

fn line_of(text: &str, offset: usize) -> u64 {
    u64::try_from(text[..offset.min(text.len())].matches('\n').count() + 1).unwrap_or(0)
}

/// Parses scenario text; `dir` resolves the relative `captable` and `book` paths.
pub fn parse_str(text: &str, shown: &str, dir: &Path, diags: &mut Diagnostics) -> Option<Scenario> {
    let root: Table = match text.parse::<Table>() {
        Ok(t) => t,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            diags.push(
                Diagnostic::error(code::SYNTAX, shown, line, 0)
                    .msg(format!("not valid TOML: {}", e.message().trim()))
                    .hint("see docs/E2C.md for the scenario format"),
            );
            return None;
        }
    };
    let mut p = P::new(shown, diags);
    p.keys(
        &root,
        "",
        &[
            "name",
            "description",
            "currency",
            "captable",
            "years",
            "start_year",
            "community",
            "total_units",
            "holders",
            "classes",
            "assumptions",
            "routes",
        ],
    );
    let name = p.str_req(&root, "", "name").unwrap_or_default();
    let description = p.str_opt(&root, "", "description").unwrap_or_default();
    let currency = parse_currency(&mut p, &root);
    let years = parse_years(&mut p, &root);
    let start_year = p.int_opt(&root, "", "start_year");
    let community: BTreeSet<String> = p
        .str_list_opt(&root, "", "community")
        .unwrap_or_else(|| DEFAULT_COMMUNITY.iter().map(|s| (*s).to_string()).collect())
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect();

    // cap table
    let cap_rel = p.str_req(&root, "", "captable");
    let captable = cap_rel.and_then(|rel| {
        let full = dir.join(&rel);
        let shown_cap = full.display().to_string();
        captable::load(&full, &shown_cap, p.diags)
    });

    let holders = parse_holders(&mut p, &root, captable.as_ref());

    let classes = parse_classes(&mut p, &root, captable.as_ref());

    // assumptions
    let paths = years
        .map(|y| parse_paths(&mut p, &root, y))
        .unwrap_or_default();

    // routes
    let mut routes = Vec::new();
    let route_tables = p.tables(&root, "", "routes");
    if route_tables.is_empty() {
        p.missing("", "routes", "at least one [[routes]] entry");
    }
    for (rp, rt) in route_tables {
        if let Some(r) = Route::parse(&mut p, rt, &rp, dir) {
            routes.push(r);
        }
    }

    check_refs(&mut p, &routes, &classes, &holders, &paths);

    let mut sc = Scenario {
        file: shown.to_string(),
        dir: dir.to_path_buf(),
        name,
        description,
        currency: currency?,
        years: years?,
        start_year,
        captable: captable?,
        holders,
        classes,
        community,
        paths,
        routes,
    };
    fill_book_weights(&mut sc, &mut p);
    Some(sc)
}

/// `currency` (default USD).
fn parse_currency(p: &mut P<'_>, root: &Table) -> Option<Currency> {
    match p.str_opt(root, "", "currency") {
        None => Currency::from_code("USD").ok(),
        Some(c) => match Currency::from_code(&c) {
            Ok(c) => Some(c),
            Err(e) => {
                p.err(
                    code::BAD_VALUE,
                    "currency",
                    e.to_string(),
                    "use an ISO code such as USD, EUR or GBP",
                );
                None
            }
        },
    }
}

/// `years`, required, 1 to 100.
fn parse_years(p: &mut P<'_>, root: &Table) -> Option<u32> {
    let years = p.int_opt(root, "", "years");
    if years.is_none() && !root.contains_key("years") {
        p.missing("", "years", "how many years to model");
    }
    if years == Some(0) || years.is_some_and(|y| y > 100) {
        p.err(
            code::BAD_VALUE,
            "years",
            "years must be between 1 and 100",
            "model 1 to 100 years",
        );
    }
    years.filter(|y| (1..=100).contains(y))
}

/// The holders: the cap table's, then the extra `[[holders]]` (trusts, collectives, groups).
fn parse_holders(
    p: &mut P<'_>,
    root: &Table,
    captable: Option<&CapTable>,
) -> BTreeMap<String, Holder> {
    let mut holders: BTreeMap<String, Holder> = BTreeMap::new();
    if let Some(ct) = captable {
        for r in &ct.rows {
            holders
                .entry(r.holder_id.clone())
                .or_insert_with(|| Holder {
                    id: r.holder_id.clone(),
                    name: r.name.clone(),
                    segment: r.segment.clone(),
                    members: 1,
                });
        }
    }
    for (hp, ht) in p.tables(root, "", "holders") {
        p.keys(ht, &hp, &["id", "name", "segment", "members"]);
        let id = p.str_req(ht, &hp, "id");
        let name = p.str_opt(ht, &hp, "name");
        let segment = p.str_req(ht, &hp, "segment");
        let members = p.int_opt(ht, &hp, "members").unwrap_or(1);
        if members == 0 {
            p.err(
                code::BAD_VALUE,
                &join(&hp, "members"),
                "a holder stands for at least one member",
                "use 1 or more",
            );
        }
        if let (Some(id), Some(segment)) = (id, segment) {
            if holders.contains_key(&id) {
                p.err(
                    code::DUPLICATE_ID,
                    &join(&hp, "id"),
                    format!("holder `{id}` is already in the cap table or listed above"),
                    "give extra holders (trusts, collectives, member groups) new ids",
                );
                continue;
            }
            holders.insert(
                id.clone(),
                Holder {
                    name: name.unwrap_or_else(|| id.clone()),
                    id,
                    segment: segment.to_lowercase(),
                    members: members.max(1),
                },
            );
        }
    }
    holders
}

/// The class rights (`[classes.X]`, default rights for the cap table's other classes), and a
/// check of declared `outstanding` and `total_units` against the cap table's rows.
fn parse_classes(
    p: &mut P<'_>,
    root: &Table,
    captable: Option<&CapTable>,
) -> BTreeMap<String, ClassRights> {
    let cap_classes: BTreeMap<String, Decimal> =
        captable.map(CapTable::class_units).unwrap_or_default();
    let mut classes: BTreeMap<String, ClassRights> = cap_classes
        .keys()
        .map(|c| (c.clone(), ClassRights::default()))
        .collect();
    let mut declared_outstanding: Vec<(String, Decimal)> = Vec::new();
    if let Some(ct) = p.table_opt(root, "", "classes") {
        for (c, v) in ct {
            let cp = format!("classes.{c}");
            let Value::Table(t) = v else {
                p.err(
                    code::BAD_VALUE,
                    &cp,
                    "expected a table",
                    format!("write `[classes.{c}]`"),
                );
                continue;
            };
            if captable.is_some() && !cap_classes.contains_key(c) {
                p.err(
                    code::UNKNOWN_CLASS,
                    &cp,
                    format!("class `{c}` is not in the cap table"),
                    format!(
                        "classes in the cap table: {}",
                        cap_classes.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
                continue;
            }
            if let Some(r) = parse_class(p, t, &cp) {
                classes.insert(c.clone(), r);
            }
            if let Some(o) = p.amount_opt(t, &cp, "outstanding") {
                declared_outstanding.push((c.clone(), o));
            }
        }
    }

    // units that don't add up
    if let Some(ct) = captable {
        for (c, o) in &declared_outstanding {
            let got = cap_classes.get(c).copied().unwrap_or_default();
            if got != *o {
                p.err(
                    code::UNITS_MISMATCH,
                    &format!("classes.{c}.outstanding"),
                    format!("the cap table's rows of class `{c}` add up to {got} units, not {o}"),
                    format!(
                        "fix the rows of `{c}` in {} or the declared outstanding units",
                        ct.file
                    ),
                );
            }
        }
        if let Some(total) = p.amount_opt(root, "", "total_units") {
            let got = ct.total_units();
            if got != total {
                p.err(
                    code::UNITS_MISMATCH,
                    "total_units",
                    format!("the cap table's rows add up to {got} units, not {total}"),
                    format!("check {} for a missing or mistyped row", ct.file),
                );
            }
        }
    }
    classes
}

/// Every route's references: classes known so far (the cap table's and earlier routes'),
/// holders and assumption paths.
fn check_refs(
    p: &mut P<'_>,
    routes: &[Route],
    classes: &BTreeMap<String, ClassRights>,
    holders: &BTreeMap<String, Holder>,
    paths: &Paths,
) {
    let mut known_classes: BTreeSet<String> = classes.keys().cloned().collect();
    for r in routes {
        for rf in r.refs() {
            match rf.kind {
                RefKind::Class if !known_classes.contains(&rf.id) => p.err(
                    code::UNKNOWN_CLASS,
                    &rf.key,
                    format!("unknown class `{}`", rf.id),
                    format!(
                        "classes known at this route: {}",
                        known_classes.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                RefKind::Holder if !holders.contains_key(&rf.id) => p.err(
                    code::UNKNOWN_HOLDER,
                    &rf.key,
                    format!("unknown holder `{}`", rf.id),
                    "use a holder_id from the cap table, or declare it under [[holders]]",
                ),
                RefKind::Path if !paths.flows.contains_key(&rf.id) => p.err(
                    code::MISSING,
                    &rf.key,
                    format!("no assumption path `{}`", rf.id),
                    format!(
                        "add `{} = [...]` to [assumptions] (paths: {})",
                        rf.id,
                        paths.flows.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                _ => {}
            }
        }
        known_classes.extend(r.creates());
    }
}

/// (key, message, hint) of the class rights that may not be negative.
const VOTES_PER_UNIT: [&str; 3] = [
    "votes_per_unit",
    "votes per unit is negative",
    "use 0 for non-voting",
];
const LIQUIDATION_PREFERENCE: [&str; 3] = [
    "liquidation_preference",
    "a negative preference multiple",
    "use 0 for none, 1 for 1x",
];

fn parse_class(p: &mut P<'_>, t: &Table, cp: &str) -> Option<ClassRights> {
    p.keys(
        t,
        cp,
        &[
            "votes_per_unit",
            "per_capita",
            "board_seats",
            "vetoes",
            "economic",
            "par",
            "liquidation_preference",
            "participating",
            "participation_cap",
            "seniority",
            "outstanding",
            "investor_instrument",
        ],
    );
    let mut r = ClassRights::default();
    if let Some(v) = p.dec_kept_if_negative(t, cp, VOTES_PER_UNIT) {
        r.votes_per_unit = v;
    }
    r.per_capita = p.bool_opt(t, cp, "per_capita").unwrap_or(false);
    r.board_seats = p.int_opt(t, cp, "board_seats").unwrap_or(0);
    r.vetoes = p.str_list_opt(t, cp, "vetoes").unwrap_or_default();
    let par = p.amount_opt(t, cp, "par");
    r.econ = match p
        .choice(t, cp, "economic", &["residual", "par", "none"], "residual")
        .as_str()
    {
        "par" => match par {
            Some(x) => Econ::Par(x),
            None => {
                p.missing(cp, "par", "the claim per unit for `economic = \"par\"`");
                Econ::Par(Decimal::ONE)
            }
        },
        "none" => Econ::Nothing,
        _ => Econ::Residual,
    };
    if let Some(lp) = p.dec_kept_if_negative(t, cp, LIQUIDATION_PREFERENCE) {
        r.liquidation_preference = lp;
    }
    r.participating = p.bool_opt(t, cp, "participating").unwrap_or(false);
    r.participation_cap = p.dec_opt(t, cp, "participation_cap");
    r.seniority = i64::from(p.int_opt(t, cp, "seniority").unwrap_or(0));
    r.investor_instrument = p.bool_opt(t, cp, "investor_instrument").unwrap_or(false);
    Some(r)
}

/// Reads `[assumptions]`: named yearly paths (t = 1 … years), `valuation` (t = 0 … years),
/// `capacity` (which path is the cash capacity) and `opening_cash` (capacity at t = 0).
fn parse_paths(p: &mut P<'_>, root: &Table, years: u32) -> Paths {
    let mut out = Paths::default();
    let Some(a) = p.table_opt(root, "", "assumptions") else {
        p.missing(
            "",
            "assumptions",
            "a table of yearly paths such as `profit = [...]`",
        );
        return out;
    };
    let mut capacity: Option<String> = None;
    for (k, v) in a {
        let key = format!("assumptions.{k}");
        match k.as_str() {
            "capacity" => match v {
                Value::String(s) => capacity = Some(s.clone()),
                _ => p.err(
                    code::BAD_VALUE,
                    &key,
                    "expected the name of a path",
                    "e.g. `capacity = \"fcf\"`",
                ),
            },
            "opening_cash" => {
                if let Some(d) = p.amount_opt(a, "assumptions", "opening_cash") {
                    out.opening_cash = d;
                }
            }
            _ => {
                let valuation = k == "valuation";
                let n = if valuation { years + 1 } else { years };
                if let Some(vals) = parse_path(p, v, &key, n, valuation) {
                    let neg: Vec<String> = vals
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.is_sign_negative() && !x.is_zero())
                        .map(|(i, _)| (i + usize::from(!valuation)).to_string())
                        .collect();
                    if valuation && !neg.is_empty() {
                        p.err(
                            code::NEGATIVE,
                            &key,
                            format!("negative valuation in year {}", neg.join(", ")),
                            "a valuation is zero or more",
                        );
                    } else if !neg.is_empty() {
                        p.warn(
                            code::NEGATIVE_PATH,
                            &key,
                            format!("negative in year {}: routes funded from `{k}` pay nothing those years", neg.join(", ")),
                            "a co-op conversion charges a loss to the collective reserve, then to ICAs",
                        );
                    }
                    if valuation {
                        out.valuation = Some(vals);
                    } else {
                        out.flows.insert(k.clone(), vals);
                    }
                }
            }
        }
    }
    out.capacity = match capacity {
        Some(c) if out.flows.contains_key(&c) => Some(c),
        Some(c) => {
            p.err(
                code::MISSING,
                "assumptions.capacity",
                format!("no assumption path `{c}`"),
                "name one of the paths in [assumptions]",
            );
            None
        }
        None => ["capacity", "fcf", "profit"]
            .iter()
            .find(|k| out.flows.contains_key(**k))
            .map(|k| (*k).to_string()),
    };
    out
}

/// A path: an array of numbers, or `{ start, step }` / `{ start, growth }`.
fn parse_path(
    p: &mut P<'_>,
    v: &Value,
    key: &str,
    n: u32,
    valuation: bool,
) -> Option<Vec<Decimal>> {
    match v {
        Value::Array(a) => {
            let mut vals = Vec::new();
            for (i, x) in a.iter().enumerate() {
                vals.push(p.value_dec(x, &format!("{key}[{i}]"))?);
            }
            if vals.len() < n as usize {
                p.err(
                    code::PATH_SHORT,
                    key,
                    format!("{} values for {} years", vals.len(), n),
                    if valuation {
                        "a valuation path starts at t = 0 (closing) and needs years + 1 values"
                    } else {
                        "give one value per modelled year (t = 1 … years)"
                    },
                );
                return None;
            }
            vals.truncate(n as usize);
            Some(vals)
        }
        Value::Table(t) => {
            p.keys(t, key, &["start", "step", "growth"]);
            let start = p.dec_opt(t, key, "start");
            if start.is_none() && !t.contains_key("start") {
                p.missing(key, "start", "the first value");
            }
            let step = p.dec_opt(t, key, "step").unwrap_or(Decimal::ZERO);
            let growth = t.get("growth").and_then(|g| {
                let s = match g {
                    Value::String(s) => num::Share::parse(s),
                    Value::Integer(i) => num::Share::parse(&i.to_string()),
                    Value::Float(f) => num::Share::parse(&format!("{f}")),
                    _ => Err("expected a growth rate such as \"5%\"".to_string()),
                };
                match s {
                    Ok(s) => Some(s),
                    Err(m) => {
                        p.err(
                            code::BAD_VALUE,
                            &join(key, "growth"),
                            m,
                            "write `growth = \"5%\"`",
                        );
                        None
                    }
                }
            });
            let start = start?;
            let mut vals = Vec::with_capacity(n as usize);
            let mut x = start;
            for _ in 0..n {
                vals.push(num::round_money(x, 2));
                x = match &growth {
                    Some(g) => x.checked_add(g.apply(x).ok()?)?,
                    None => x.checked_add(step)?,
                };
            }
            Some(vals)
        }
        _ => {
            p.err(
                code::BAD_VALUE,
                key,
                "expected an array of amounts or { start, step }",
                "e.g. `profit = { start = 600000, step = 200000 }`",
            );
            None
        }
    }
}

/// Fills co-op member weights from a co-op book (`book = "…"`, `measure = "hours"`).
fn fill_book_weights(sc: &mut Scenario, p: &mut P<'_>) {
    for r in &mut sc.routes {
        for m in r.book_requests() {
            let Some(book) = m.book.clone() else { continue };
            match super::book::member_weights(&book, &m.measure) {
                Ok(w) => {
                    let listed: BTreeSet<&String> = m.members.iter().collect();
                    for id in w.keys() {
                        if !listed.contains(id) {
                            p.err(
                                code::BOOK,
                                &join(&m.key, "book"),
                                format!("book member `{id}` is not in `members`"),
                                "add the member to `members` (and the cap table or [[holders]])",
                            );
                        }
                    }
                    m.weights = w;
                }
                Err(e) => p.err(
                    code::BOOK,
                    &join(&m.key, "book"),
                    format!("cannot read member weights from {}: {e}", book.display()),
                    "check the book path (relative to the scenario) and the measure",
                ),
            }
        }
    }
}
