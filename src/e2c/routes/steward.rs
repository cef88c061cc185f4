//! Steward-ownership with a golden (veto) share (domain §5.1–5.2): stewards' equity becomes
//! voting steward shares without economic rights, everyone else's becomes non-voting investor
//! shares (cap and redeem them with a later `capped_redemption` route on the investor class), and
//! a veto share (no votes, no economics) blocks sale and profit extraction. Value no longer
//! claimed by investors is "retained for purpose".

use rust_decimal::Decimal;
use toml::Table;

use super::{Mechanism, Ref};
use crate::e2c::model::{ClassRights, Cx, Econ, Er, Ledger, State};
use crate::e2c::read::{join, P};

#[derive(Debug, Clone)]
pub struct Steward {
    pub label: String,
    pub key: String,
    pub stewards: Vec<String>,
    pub steward_segments: Vec<String>,
    pub steward_class: String,
    pub investor_class: String,
    pub per_capita: bool,
    pub veto_holder: Option<String>,
    pub veto_class: String,
    pub veto_matters: Vec<String>,
    pub veto_units: Decimal,
}

impl Steward {
    pub fn parse(p: &mut P<'_>, t: &Table, path: &str, label: String) -> Option<Self> {
        p.keys(
            t,
            path,
            &[
                "type",
                "stewards",
                "steward_segments",
                "steward_class",
                "investor_class",
                "per_capita",
                "veto_holder",
                "veto_class",
                "veto_matters",
                "veto_units",
            ],
        );
        let stewards = p.str_list_opt(t, path, "stewards").unwrap_or_default();
        let steward_segments = p
            .str_list_opt(t, path, "steward_segments")
            .unwrap_or_else(|| vec!["founder".to_string(), "employee".to_string()]);
        let steward_class = p
            .str_opt(t, path, "steward_class")
            .unwrap_or_else(|| "steward".to_string());
        let investor_class = p
            .str_opt(t, path, "investor_class")
            .unwrap_or_else(|| "investor".to_string());
        let per_capita = p.bool_opt(t, path, "per_capita").unwrap_or(false);
        let veto_holder = p.str_opt(t, path, "veto_holder");
        let veto_class = p
            .str_opt(t, path, "veto_class")
            .unwrap_or_else(|| "veto".to_string());
        let veto_matters = p
            .str_list_opt(t, path, "veto_matters")
            .unwrap_or_else(|| vec!["sale".to_string(), "profit_extraction".to_string()]);
        let veto_units = p.amount_opt(t, path, "veto_units").unwrap_or(Decimal::ONE);
        Some(Steward {
            label,
            key: path.to_string(),
            stewards,
            steward_segments,
            steward_class,
            investor_class,
            per_capita,
            veto_holder,
            veto_class,
            veto_matters,
            veto_units,
        })
    }

    pub fn refs(&self) -> Vec<Ref> {
        let mut r: Vec<Ref> = self
            .stewards
            .iter()
            .enumerate()
            .map(|(i, h)| Ref::holder(h, format!("{}.stewards[{i}]", self.key)))
            .collect();
        if let Some(v) = &self.veto_holder {
            r.push(Ref::holder(v, join(&self.key, "veto_holder")));
        }
        r
    }

    pub fn creates(&self) -> Vec<String> {
        let mut v = vec![self.steward_class.clone(), self.investor_class.clone()];
        if self.veto_holder.is_some() {
            v.push(self.veto_class.clone());
        }
        v
    }

    fn is_steward(&self, st: &State, h: &str) -> bool {
        if !self.stewards.is_empty() {
            return self.stewards.iter().any(|s| s == h);
        }
        st.holders
            .get(h)
            .is_some_and(|x| self.steward_segments.contains(&x.segment))
    }
}

impl Mechanism for Steward {
    fn open(&mut self, _cx: &Cx, st: &mut State, led: &mut Ledger) -> Er<()> {
        let moving: Vec<(String, String, Decimal, Decimal)> = st
            .pos
            .iter()
            .filter(|(_, p)| p.units > Decimal::ZERO)
            .map(|((c, h), p)| (c.clone(), h.clone(), p.units, p.invested))
            .collect();
        st.classes.insert(
            self.steward_class.clone(),
            ClassRights {
                votes_per_unit: Decimal::ONE,
                per_capita: self.per_capita,
                econ: Econ::Nothing,
                ..ClassRights::default()
            },
        );
        st.classes.insert(
            self.investor_class.clone(),
            ClassRights {
                votes_per_unit: Decimal::ZERO,
                econ: Econ::Residual,
                investor_instrument: true,
                ..ClassRights::default()
            },
        );
        let mut stewards = 0usize;
        for (c, h, units, invested) in moving {
            let to = if self.is_steward(st, &h) {
                stewards += 1;
                self.steward_class.clone()
            } else {
                self.investor_class.clone()
            };
            if to == c {
                continue;
            }
            st.remove_units(&c, &h, units)?;
            st.add_units(&to, &h, units, invested)?;
        }
        if let Some(v) = &self.veto_holder {
            st.classes.insert(
                self.veto_class.clone(),
                ClassRights {
                    votes_per_unit: Decimal::ZERO,
                    econ: Econ::Nothing,
                    vetoes: self.veto_matters.clone(),
                    ..ClassRights::default()
                },
            );
            st.add_units(&self.veto_class, v, self.veto_units, Decimal::ZERO)?;
        }
        led.note(
            0,
            format!(
                "{}: {stewards} positions became steward shares (votes, no economics); the rest non-voting `{}` shares",
                self.label, self.investor_class
            ),
        );
        Ok(())
    }

    fn step(&mut self, _cx: &Cx, _t: u32, _st: &mut State, _led: &mut Ledger) -> Er<()> {
        Ok(())
    }
}
