//! polars behind one door: the bulk aggregation of large patronage ledgers.
//!
//! This is the only module that imports polars. [`activity`] computes the same totals as
//! [`crate::book::patronage::fold`] (the oracle) with a lazy CSV scan run on polars' streaming
//! engine, so memory stays bounded by the group-by state whatever the row count.
//!
//! How it stays exact and identical to the fold:
//! - every column is read as a string; the header is read and checked by [`csvin::open`] (any
//!   column order, case, BOM, `x_` columns) and the data rows are scanned by position;
//! - two element-wise functions turn each row into an integer group key and an amount. The key
//!   packs (fiscal year, member, unit × measure) after the fold's own checks (date, unknown
//!   member, membership dates, unit, measure); the amount is parsed into units of 10^-4 by a fast
//!   path for plain decimals that defers to [`super::parse_amount`] for anything else. Both
//!   trim values as the fold does. No float ever holds money;
//! - polars groups by the integer key and sums 64-bit integers; a group whose sum could overflow
//!   makes [`activity`] return an error instead of a wrong total;
//! - a row the fold would reject (an error or E0305) becomes a null key or a null amount and is
//!   counted in [`FastActivity::problem_rows`]. Callers use the totals only when that count is 0
//!   and otherwise run the fold, which locates every problem;
//! - a row with more fields than the header is never cut to fit (an unquoted `3,064.50` would
//!   be read as 3): polars refuses the file, [`activity`] returns an error, and the caller runs
//!   the fold, which reports the row (E0004).

use std::sync::Arc;

use polars::prelude::*;
use polars_core::query_result::QueryResult;

use super::rows::{header, totals, Ctx};
use super::{FastActivity, FastError};
use crate::book::Book;

impl From<PolarsError> for FastError {
    fn from(e: PolarsError) -> Self {
        FastError::Polars(e.to_string())
    }
}

fn str_col(c: &Column) -> PolarsResult<&StringChunked> {
    c.str()
}

/// Aggregates `patronage.csv` per (fiscal year, member, unit, measure) with polars' streaming
/// engine. See the module docs for the guarantees.
///
/// Setting the environment variable `COOPLEDGER_NO_POLARS=1` turns the fast path off (every
/// caller then runs the fold); the benchmarks use it to time the fold through the same commands.
pub fn activity(book: &Book) -> Result<FastActivity, FastError> {
    if std::env::var_os("COOPLEDGER_NO_POLARS").is_some_and(|v| v == "1") {
        return Err(FastError::Disabled);
    }
    let (fields, index) = header(book)?;
    let ctx = Arc::new(Ctx::new(book)?);
    let names = ["date", "member_id", "unit", "measure", "amount"];
    let mut schema = Schema::default();
    for i in 0..fields {
        let name = index
            .iter()
            .position(|p| *p == Some(i))
            .map(|s| names[s].to_string())
            .unwrap_or_else(|| format!("_col{i}"));
        schema.insert(name.into(), DataType::String);
    }
    let path = PlRefPath::try_from_path(&book.patronage_path())?;
    let lf = LazyCsvReader::new(path)
        .with_has_header(false)
        .with_skip_rows(1)
        .with_schema(Some(Arc::new(schema)))
        .with_missing_is_null(false)
        .with_truncate_ragged_lines(false)
        .with_raise_if_empty(false)
        .with_encoding(CsvEncoding::Utf8)
        .finish()?;

    let k = Arc::clone(&ctx);
    let key = col("date").map_many(
        move |c: &mut [Column]| {
            let (d, m, u, me) = (
                str_col(&c[0])?,
                str_col(&c[1])?,
                str_col(&c[2])?,
                str_col(&c[3])?,
            );
            let out: Int64Chunked = d
                .iter()
                .zip(m.iter())
                .zip(u.iter())
                .zip(me.iter())
                .map(|(((d, m), u), me)| match (d, m, u, me) {
                    (Some(d), Some(m), Some(u), Some(me)) => k.key(d, m, u, me),
                    _ => None,
                })
                .collect();
            Ok(out.with_name("key".into()).into_column())
        },
        &[col("member_id"), col("unit"), col("measure")],
        |_, _| Ok(Field::new("key".into(), DataType::Int64)),
    );
    let a = Arc::clone(&ctx);
    let amount = col("amount").map_many(
        move |c: &mut [Column]| {
            let (t, me) = (str_col(&c[0])?, str_col(&c[1])?);
            let out: Int64Chunked = t
                .iter()
                .zip(me.iter())
                .map(|(t, me)| match (t, me) {
                    (Some(t), Some(me)) => a.amount(t, me),
                    _ => None,
                })
                .collect();
            Ok(out.with_name("amt".into()).into_column())
        },
        &[col("measure")],
        |_, _| Ok(Field::new("amt".into(), DataType::Int64)),
    );
    let df = lf
        .select([key.alias("key"), amount.alias("amt")])
        .group_by([col("key")])
        .agg([
            col("amt").sum().alias("sum"),
            col("amt").max().alias("max"),
            col("amt").count().alias("valid"),
            len().alias("rows"),
        ])
        .collect_with_engine(Engine::Streaming)?;
    let df = match df {
        QueryResult::Single(df) => df,
        QueryResult::Multiple(_) => {
            return Err(FastError::Polars("unexpected multiple results".into()))
        }
    };
    let u64s = |name: &str| -> PolarsResult<Vec<u64>> {
        let c = df.column(name)?.cast(&DataType::UInt64)?;
        Ok(c.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let keys: Vec<Option<i64>> = df.column("key")?.i64()?.iter().collect();
    let sums: Vec<Option<i64>> = df.column("sum")?.i64()?.iter().collect();
    let maxs: Vec<Option<i64>> = df.column("max")?.i64()?.iter().collect();
    let valid = u64s("valid")?;
    let rows = u64s("rows")?;

    let mut problem_rows = 0u64;
    let mut groups: Vec<(i64, i128, u64)> = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let Some(key) = keys[i] else {
            problem_rows += rows[i];
            continue;
        };
        problem_rows += rows[i] - valid[i];
        if valid[i] == 0 {
            continue;
        }
        let max = i128::from(maxs[i].unwrap_or(0));
        if max * i128::from(valid[i]) > i128::from(i64::MAX) {
            return Err(FastError::Overflow);
        }
        groups.push((key, i128::from(sums[i].unwrap_or(0)), valid[i]));
    }
    let activity = totals(book, &ctx, groups.into_iter())?;
    Ok(FastActivity {
        activity,
        problem_rows,
    })
}
