//! A small reader over a parsed TOML table that collects every problem as a [`Diagnostic`]
//! naming the file and the dotted key (`routes[1].cap_multiple`), instead of stopping at the first.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use toml::{Table, Value};

use super::num::Share;
use crate::diag::{Diagnostic, Diagnostics};

/// Stable codes of the E2C module (published in `docs/E2C.md`).
pub mod code {
    pub const IO: &str = "E2C001";
    pub const SYNTAX: &str = "E2C002";
    pub const UNKNOWN_KEY: &str = "E2C003";
    pub const MISSING: &str = "E2C004";
    pub const BAD_VALUE: &str = "E2C005";
    pub const OVER_100: &str = "E2C006";
    pub const NEGATIVE: &str = "E2C007";
    pub const PATH_SHORT: &str = "E2C008";
    pub const DUPLICATE_ID: &str = "E2C009";
    pub const CSV_HEADER: &str = "E2C010";
    pub const CSV_VALUE: &str = "E2C011";
    pub const CSV_DUPLICATE: &str = "E2C012";
    pub const UNITS_MISMATCH: &str = "E2C013";
    pub const CSV_EMPTY: &str = "E2C014";
    pub const HOLDER_CONFLICT: &str = "E2C015";
    pub const CSV_UNKNOWN_COLUMN: &str = "E2C016";
    pub const CSV_COLUMN_TWICE: &str = "E2C017";
    pub const CSV_FIELD_COUNT: &str = "E2C018";
    pub const UNKNOWN_CLASS: &str = "E2C020";
    pub const UNKNOWN_HOLDER: &str = "E2C021";
    pub const CAP_BELOW_ONE: &str = "E2C022";
    pub const UNKNOWN_ROUTE: &str = "E2C023";
    pub const ROUTE_RULE: &str = "E2C024";
    pub const NEED_VALUATION: &str = "E2C025";
    pub const BOOK: &str = "E2C026";
    pub const NEGATIVE_PATH: &str = "W2C030";
    pub const LOW_CASH_PART: &str = "W2C031";
    pub const ARITH: &str = "E2C090";
}

/// Collects diagnostics for one file.
pub struct P<'a> {
    pub file: String,
    pub diags: &'a mut Diagnostics,
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

impl<'a> P<'a> {
    pub fn new(file: impl Into<String>, diags: &'a mut Diagnostics) -> Self {
        P {
            file: file.into(),
            diags,
        }
    }

    pub fn err(
        &mut self,
        code: &'static str,
        key: &str,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let d = Diagnostic::error(code, &self.file, 0, 0);
        self.push(d, key, msg.into(), hint.into());
    }

    pub fn warn(&mut self, code: &'static str, key: &str, msg: String, hint: &str) {
        let d = Diagnostic::warning(code, &self.file, 0, 0);
        self.push(d, key, msg, hint.into());
    }

    /// `d` with its message prefixed by the dotted key (when there is one).
    fn push(&mut self, d: crate::diag::Builder, key: &str, msg: String, hint: String) {
        let message = if key.is_empty() {
            msg
        } else {
            format!("`{key}`: {msg}")
        };
        self.diags.push(d.msg(message).hint(hint));
    }

    /// Reports every key of `t` that is not in `allowed`.
    pub fn keys(&mut self, t: &Table, path: &str, allowed: &[&str]) {
        for k in t.keys() {
            if !allowed.contains(&k.as_str()) {
                let mut known: Vec<&str> = allowed.to_vec();
                known.sort_unstable();
                self.err(
                    code::UNKNOWN_KEY,
                    &join(path, k),
                    "unknown key",
                    format!("known keys here: {}", known.join(", ")),
                );
            }
        }
    }

    fn wrong(&mut self, path: &str, key: &str, want: &str, v: &Value) {
        self.err(
            code::BAD_VALUE,
            &join(path, key),
            format!("expected {want}, found {}", type_name(v)),
            "see docs/E2C.md for the scenario format",
        );
    }

    pub fn str_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        match t.get(key)? {
            Value::String(s) => Some(s.clone()),
            v => {
                self.wrong(path, key, "a string", v);
                None
            }
        }
    }

    pub fn str_req(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        if !t.contains_key(key) {
            self.missing(path, key, "a string");
            return None;
        }
        self.str_opt(t, path, key)
    }

    pub fn missing(&mut self, path: &str, key: &str, what: &str) {
        self.err(
            code::MISSING,
            &join(path, key),
            format!("missing required key ({what})"),
            format!("add `{key} = …` here; see docs/E2C.md"),
        );
    }

    /// A decimal from a string (exact), an integer, or a float (read through its shortest
    /// round-trip text, so `0.4` is exactly 0.4; strings are recommended).
    pub fn value_dec(&mut self, v: &Value, key: &str) -> Option<Decimal> {
        let parsed = match v {
            Value::String(s) => Decimal::from_str_exact(s.trim().replace('_', "").as_str()).ok(),
            Value::Integer(i) => Some(Decimal::from(*i)),
            Value::Float(f) if f.is_finite() => Decimal::from_str_exact(&format!("{f}")).ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.err(
                code::BAD_VALUE,
                key,
                format!("`{}` is not a number", v.to_string().trim()),
                "write a decimal such as `\"1250000.00\"`",
            );
        }
        parsed
    }

    pub fn dec_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<Decimal> {
        let v = t.get(key)?;
        self.value_dec(v, &join(path, key))
    }

    /// A decimal that must be zero or more: a negative one is reported (`[key, msg, hint]`) and
    /// still returned, so that later checks see it.
    pub fn dec_kept_if_negative(
        &mut self,
        t: &Table,
        path: &str,
        [key, msg, hint]: [&str; 3],
    ) -> Option<Decimal> {
        let d = self.dec_opt(t, path, key)?;
        if d.is_sign_negative() && !d.is_zero() {
            self.err(code::NEGATIVE, &join(path, key), msg, hint);
        }
        Some(d)
    }

    /// A non-negative amount.
    pub fn amount_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<Decimal> {
        let d = self.dec_opt(t, path, key)?;
        let ok = !d.is_sign_negative() || d.is_zero();
        let msg = || format!("{d} is negative");
        let hint = "amounts here must be zero or more";
        self.keep_if(d, ok, code::NEGATIVE, &join(path, key), msg, hint)
    }

    /// `d` when `ok`; else the problem (`msg()`, `hint`) is reported at `key` and `None`.
    fn keep_if(
        &mut self,
        d: Decimal,
        ok: bool,
        code: &'static str,
        key: &str,
        msg: impl FnOnce() -> String,
        hint: &str,
    ) -> Option<Decimal> {
        if !ok {
            self.err(code, key, msg(), hint);
            return None;
        }
        Some(d)
    }

    /// A price or par per unit: an amount, 1 when absent; zero is reported (`what` names it).
    pub fn unit_price(&mut self, t: &Table, path: &str, key: &str, what: &str) -> Decimal {
        let d = self.amount_opt(t, path, key).unwrap_or(Decimal::ONE);
        if d.is_zero() {
            self.err(
                code::BAD_VALUE,
                &join(path, key),
                format!("{what} of zero"),
                format!("use a positive {key}, e.g. 1"),
            );
        }
        d
    }

    pub fn amount_req(&mut self, t: &Table, path: &str, key: &str) -> Option<Decimal> {
        if !t.contains_key(key) {
            self.missing(path, key, "an amount");
            return None;
        }
        self.amount_opt(t, path, key)
    }

    pub fn value_share(&mut self, v: &Value, key: &str) -> Option<Share> {
        let s = match v {
            Value::String(s) => Share::parse(s),
            Value::Integer(i) => Share::parse(&i.to_string()),
            Value::Float(f) => Share::parse(&format!("{f}")),
            other => Err(format!("expected a share, found {}", type_name(other))),
        };
        match s {
            Ok(s) if s.over_one() => {
                self.err(
                    code::OVER_100,
                    key,
                    format!("share {s} is over 100%"),
                    "write a percentage between 0% and 100%, e.g. `\"40%\"` or `0.4`",
                );
                None
            }
            Ok(s) => Some(s),
            Err(m) => {
                self.err(
                    code::BAD_VALUE,
                    key,
                    m,
                    "write `\"40%\"`, `0.4` or `\"2/3\"`",
                );
                None
            }
        }
    }

    /// A share between 0% and 100%.
    pub fn share_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<Share> {
        let v = t.get(key)?;
        self.value_share(v, &join(path, key))
    }

    pub fn share_req(&mut self, t: &Table, path: &str, key: &str) -> Option<Share> {
        if !t.contains_key(key) {
            self.missing(path, key, "a share such as \"40%\"");
            return None;
        }
        self.share_opt(t, path, key)
    }

    pub fn int_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<u32> {
        match t.get(key)? {
            Value::Integer(i) if (0..=10_000).contains(i) => u32::try_from(*i).ok(),
            Value::Integer(i) => {
                self.err(
                    code::BAD_VALUE,
                    &join(path, key),
                    format!("{i} is out of range"),
                    "use a whole number between 0 and 10000",
                );
                None
            }
            v => {
                self.wrong(path, key, "an integer", v);
                None
            }
        }
    }

    pub fn bool_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<bool> {
        match t.get(key)? {
            Value::Boolean(b) => Some(*b),
            v => {
                self.wrong(path, key, "true or false", v);
                None
            }
        }
    }

    pub fn str_list_opt(&mut self, t: &Table, path: &str, key: &str) -> Option<Vec<String>> {
        match t.get(key)? {
            Value::Array(a) => {
                let mut out = Vec::new();
                for (i, v) in a.iter().enumerate() {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        v => self.wrong(path, &format!("{key}[{i}]"), "a string", v),
                    }
                }
                Some(out)
            }
            Value::String(s) => Some(vec![s.clone()]),
            v => {
                self.wrong(path, key, "an array of strings", v);
                None
            }
        }
    }

    pub fn table_opt<'t>(&mut self, t: &'t Table, path: &str, key: &str) -> Option<&'t Table> {
        match t.get(key)? {
            Value::Table(t) => Some(t),
            v => {
                self.wrong(path, key, "a table", v);
                None
            }
        }
    }

    /// An array of tables (`[[routes]]`), each with its own path `key[i]`.
    pub fn tables<'t>(&mut self, t: &'t Table, path: &str, key: &str) -> Vec<(String, &'t Table)> {
        match t.get(key) {
            None => Vec::new(),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for (i, v) in a.iter().enumerate() {
                    let p = format!("{}[{i}]", join(path, key));
                    match v {
                        Value::Table(tt) => out.push((p, tt)),
                        v => {
                            self.err(
                                code::BAD_VALUE,
                                &p,
                                format!("expected a table, found {}", type_name(v)),
                                format!("write `[[{key}]]` sections"),
                            );
                        }
                    }
                }
                out
            }
            Some(v) => {
                self.wrong(path, key, "an array of tables", v);
                Vec::new()
            }
        }
    }

    /// A one-of-these string.
    pub fn choice(
        &mut self,
        t: &Table,
        path: &str,
        key: &str,
        options: &[&str],
        default: &str,
    ) -> String {
        match self.str_opt(t, path, key) {
            None => default.to_string(),
            Some(s) if options.contains(&s.as_str()) => s,
            Some(s) => {
                self.err(
                    code::BAD_VALUE,
                    &join(path, key),
                    format!("`{s}` is not one of {}", options.join(" | ")),
                    format!("use one of: {}", options.join(", ")),
                );
                default.to_string()
            }
        }
    }

    /// A cap multiple: at least 1x.
    pub fn cap_req(&mut self, t: &Table, path: &str, key: &str) -> Option<Decimal> {
        if !t.contains_key(key) {
            self.missing(path, key, "a multiple such as 5");
            return None;
        }
        let d = self.dec_opt(t, path, key)?;
        let msg = || format!("cap multiple {d}x is below 1x");
        let hint = "a return cap must give back at least the money invested (1x or more)";
        self.keep_if(
            d,
            d >= Decimal::ONE,
            code::CAP_BELOW_ONE,
            &join(path, key),
            msg,
            hint,
        )
    }
}

/// Checks that ids in a list are unique; reports duplicates.
pub fn unique(p: &mut P<'_>, key: &str, ids: &[String]) {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            p.err(
                code::DUPLICATE_ID,
                key,
                format!("`{id}` appears more than once"),
                "list each id once",
            );
        }
    }
}
