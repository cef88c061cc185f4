//! `members.csv`: who the members are, their classes and membership dates, and joint
//! memberships (`joint_with`, named back by both members).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::csvin::{self, opt, req, Col};
use super::{open_table, Config, Member, Status, MEMBERS};
use crate::diag::code;
use crate::diag::{Diagnostic, Diagnostics};

const MEMBER_COLS: &[Col] = &[
    req("member_id"),
    req("name"),
    req("class"),
    req("joined"),
    opt("left"),
    req("status"),
    opt("birth_date"),
    opt("joint_with"),
];

/// A `joint_with` cell of members.csv: (member id, partner id, line, column).
type JointLink = (String, String, u64, u64);

pub(super) fn load_members(
    dir: &Path,
    config: &Config,
    diags: &mut Diagnostics,
) -> (Vec<Member>, BTreeSet<String>, Vec<JointLink>) {
    let mut out: Vec<Member> = Vec::new();
    let mut broken = BTreeSet::new();
    let mut links = Vec::new();
    let Some((_, t)) = open_table(dir, MEMBERS, MEMBER_COLS, true, diags) else {
        return (out, broken, links);
    };
    let mut t = t.max_rows(csvin::MAX_MEMBERS);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    t.for_each(MEMBER_COLS, diags, |row, d| {
        let before = d.error_count();
        let id = row.required(0, d).map(str::to_string);
        let name = row.required(1, d).map(str::to_string);
        let class = row.required(2, d).map(str::to_string);
        let joined = row.date(3, d);
        let left = row.opt_date(4, d);
        let status = row.choice(5, &["active", "left", "deceased"], d);
        let birth = row.opt_date(6, d);
        let joint_with = row.text(7, d).filter(|p| !p.is_empty()).map(str::to_string);
        let mut repeated = false;
        if let Some(problem) = id.as_deref().and_then(bad_member_id) {
            d.push(row.problem(
                0,
                code::E0315,
                problem,
                "member ids name files and journal accounts: use letters, digits, `-`, `_` or `.`, up to 64 bytes".into(),
            ));
        }
        if let Some(id) = &id {
            if let Some(first) = seen.get(id) {
                d.push(row.problem(
                    0,
                    code::E0301,
                    format!("member id `{id}` is repeated (first on line {first})"),
                    "each member has one row; give the newcomer a new id".into(),
                ));
                repeated = true;
            } else {
                seen.insert(id.clone(), row.line);
            }
        }
        if let Some(c) = &class {
            if config.class(c).is_none() {
                d.push(row.problem(
                    2,
                    code::E0304,
                    format!("unknown member class `{c}`"),
                    format!(
                        "classes in coop.toml: {}",
                        config
                            .classes
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let status = status.map(|s| match s {
            "left" => Status::Left,
            "deceased" => Status::Deceased,
            _ => Status::Active,
        });
        if let (Some(j), Some(Some(l))) = (joined, left) {
            if l < j {
                d.push(row.problem(
                    4,
                    code::E0306,
                    format!("`left` ({l}) is before `joined` ({j})"),
                    "check both dates".into(),
                ));
            }
        }
        if let (Some(st), Some(l)) = (status, left) {
            if st == Status::Active && l.is_some() {
                d.push(row.problem(
                    5,
                    code::E0306,
                    "the member is `active` but has a `left` date".into(),
                    "set status to `left` (or `deceased`), or clear `left`".into(),
                ));
            }
            if st == Status::Left && l.is_none() {
                d.push(row.problem(
                    4,
                    code::E0306,
                    "the member has status `left` but no `left` date".into(),
                    "fill in the day membership ended".into(),
                ));
            }
        }
        if d.error_count() > before {
            if let (Some(id), false) = (&id, repeated) {
                broken.insert(id.clone());
            }
            return;
        }
        if let (
            Some(id),
            Some(name),
            Some(class),
            Some(joined),
            Some(left),
            Some(status),
            Some(birth_date),
        ) = (id, name, class, joined, left, status, birth)
        {
            if let Some(p) = joint_with {
                links.push((id.clone(), p, row.line, row.col(7)));
            }
            out.push(Member {
                id,
                name,
                class,
                joined,
                left,
                status,
                birth_date,
                line: row.line,
            });
        }
    });
    (out, broken, links)
}

/// The longest member id accepted, in bytes.
pub const MAX_MEMBER_ID: usize = 64;

/// What is wrong with a member id that could escape an output directory (statements are written
/// one file per member) or be confused with another in a journal: a path separator, `..`, a
/// control character, or more than [`MAX_MEMBER_ID`] bytes.
pub fn bad_member_id(id: &str) -> Option<String> {
    let shown: String = id.chars().take(40).flat_map(char::escape_default).collect();
    if id.contains(['/', '\\']) {
        Some(format!("member id `{shown}` holds a path separator"))
    } else if id.contains("..") {
        Some(format!("member id `{shown}` holds `..`"))
    } else if id.chars().any(char::is_control) {
        Some(format!("member id `{shown}` holds a control character"))
    } else if id.len() > MAX_MEMBER_ID {
        Some(format!(
            "member id `{shown}…` is {} bytes long, more than {MAX_MEMBER_ID}",
            id.len()
        ))
    } else {
        None
    }
}

/// Validates the `joint_with` links: the partner exists, is not the member, and names the member
/// back. Returns the valid links, both ways.
pub(super) fn joint_memberships(
    file: &str,
    links: &[JointLink],
    ids: &BTreeMap<&str, &Member>,
    broken: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let named: BTreeMap<&str, &str> = links
        .iter()
        .map(|(a, b, _, _)| (a.as_str(), b.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    for (id, partner, line, col) in links {
        let at = |code: &'static str| Diagnostic::error(code, file, *line, *col);
        if broken.contains(partner) {
            continue; // the partner's own row has an error, reported there
        }
        if !ids.contains_key(partner.as_str()) {
            diags.push(
                at(code::E0302)
                    .msg(format!(
                        "`{id}` is joint with `{partner}`, who is not in members.csv"
                    ))
                    .hint(format!(
                        "add `{partner}` to members.csv or correct `joint_with`"
                    )),
            );
        } else if partner == id {
            diags.push(
                at(code::E0313)
                    .msg(format!("`{id}` is joint with itself"))
                    .hint("`joint_with` names the other member of the joint membership; leave it empty otherwise"),
            );
        } else {
            match named.get(partner.as_str()) {
                Some(back) if *back == id => {
                    out.insert(id.clone(), partner.clone());
                }
                Some(back) => diags.push(
                    at(code::E0313)
                        .msg(format!(
                            "`{id}` is joint with `{partner}`, but `{partner}` is joint with `{back}`"
                        ))
                        .hint("a joint membership has two members, each naming the other in `joint_with`"),
                ),
                None => diags.push(
                    at(code::E0313)
                        .msg(format!(
                            "`{id}` is joint with `{partner}`, but `{partner}` does not name `{id}` back"
                        ))
                        .hint(format!(
                            "fill `joint_with` of `{partner}` with `{id}`: both members of a joint membership name each other"
                        )),
                ),
            }
        }
    }
    out
}
