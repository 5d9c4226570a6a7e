//! Aggregates: `qs.aggregate(f.amount.sum())`, `count`, `min`, `max`, `avg`.
//!
//! Computed by the database, except for decimals on SQLite (stored as text), which are summed,
//! compared and averaged exactly in Rust over the selected values.

use std::marker::PhantomData;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::QuerySet;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::query::expr::Field;
use crate::store::sql::field;
use crate::store::sql::select::Agg;
use crate::store::{rows, Backend, ReadOp};
use crate::types::{FieldType, Ordered, ValueError};
use crate::value::{Kind, Value};

/// Numeric field types that can be summed and averaged, with the type of their sum.
pub trait Summable: FieldType {
    /// The sum's type (`i64` for `i32` fields).
    type Sum: FieldType;
}
impl Summable for i32 {
    type Sum = i64;
}
impl Summable for i64 {
    type Sum = i64;
}
impl Summable for f64 {
    type Sum = f64;
}
impl Summable for Decimal {
    type Sum = Decimal;
}
impl<T: Summable<Scalar = T>> Summable for Option<T> {
    type Sum = T::Sum;
}

/// An aggregate over one field of `E`, producing `O` (from [`Field::count`], [`Field::sum`],
/// [`Field::min`], [`Field::max`], [`Field::avg`]).
pub struct Aggregate<E, O> {
    func: Agg,
    field: usize,
    decode: fn(Value) -> Result<O, ValueError>,
    _entity: PhantomData<fn() -> E>,
}

impl<E, O> std::fmt::Debug for Aggregate<E, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Aggregate({:?} of field {})", self.func, self.field)
    }
}

fn optional<S: FieldType>(v: Value) -> Result<Option<S>, ValueError> {
    match v {
        Value::Null => Ok(None),
        v => S::from_value(v).map(Some),
    }
}

fn count(v: Value) -> Result<u64, ValueError> {
    match v {
        Value::Int(n) => u64::try_from(n).map_err(|_| ValueError::new("a count", &Value::Int(n))),
        other => Err(ValueError::new("a count", &other)),
    }
}

fn aggregate<E, O>(
    func: Agg,
    field: usize,
    decode: fn(Value) -> Result<O, ValueError>,
) -> Aggregate<E, O> {
    Aggregate {
        func,
        field,
        decode,
        _entity: PhantomData,
    }
}

impl<E, T: FieldType> Field<E, T> {
    /// The number of rows where this field is not null.
    pub fn count(self) -> Aggregate<E, u64> {
        aggregate(Agg::Count, self.index(), count)
    }
}

impl<E, T: Ordered> Field<E, T> {
    /// The smallest value (`None` without rows or non-null values).
    pub fn min(self) -> Aggregate<E, Option<T::Scalar>> {
        aggregate(Agg::Min, self.index(), optional::<T::Scalar>)
    }
    /// The largest value.
    pub fn max(self) -> Aggregate<E, Option<T::Scalar>> {
        aggregate(Agg::Max, self.index(), optional::<T::Scalar>)
    }
}

impl<E, T: Summable> Field<E, T> {
    /// The sum (`None` without rows or non-null values).
    pub fn sum(self) -> Aggregate<E, Option<T::Sum>> {
        aggregate(Agg::Sum, self.index(), optional::<T::Sum>)
    }
    /// The mean, as a double.
    pub fn avg(self) -> Aggregate<E, Option<f64>> {
        aggregate(Agg::Avg, self.index(), optional::<f64>)
    }
}

/// `agg` over decimals, exactly.
fn decimal_aggregate(meta_name: &'static str, agg: Agg, values: Vec<Decimal>) -> Result<Value> {
    let overflow = || Error::InvalidQuery {
        entity: meta_name,
        message: "the decimal sum overflows".to_owned(),
    };
    Ok(match agg {
        Agg::Count => Value::Int(i64::try_from(values.len()).unwrap_or(i64::MAX)),
        Agg::Min => values.into_iter().min().map_or(Value::Null, Value::Decimal),
        Agg::Max => values.into_iter().max().map_or(Value::Null, Value::Decimal),
        Agg::Sum | Agg::Avg => {
            if values.is_empty() {
                return Ok(Value::Null);
            }
            let n = values.len();
            let sum = values
                .into_iter()
                .try_fold(Decimal::ZERO, |a, b| a.checked_add(b))
                .ok_or_else(overflow)?;
            if agg == Agg::Sum {
                Value::Decimal(sum)
            } else {
                let mean = sum.checked_div(Decimal::from(n)).ok_or_else(overflow)?;
                mean.to_f64().map_or(Value::Null, Value::Float)
            }
        }
    })
}

impl<E: Entity> QuerySet<E> {
    /// Computes `agg` over the matching rows: `qs.aggregate(f.amount.sum())`.
    pub async fn aggregate<O>(&self, agg: Aggregate<E, O>) -> Result<O> {
        let f = field(E::META, agg.field)?;
        let value = match self.prepare(ReadOp::Aggregate).await? {
            None if agg.func == Agg::Count => Value::Int(0),
            None => Value::Null,
            Some(spec) if self.db.backend() == Backend::Sqlite && f.kind == Kind::Decimal => {
                let values = rows::select_columns(&self.db, E::META, &spec, &[agg.field]).await?;
                let decimals = values
                    .into_iter()
                    .filter_map(|r| match r.into_iter().next() {
                        Some(Value::Decimal(d)) => Some(d),
                        _ => None,
                    })
                    .collect();
                decimal_aggregate(E::META.name, agg.func, decimals)?
            }
            Some(spec) => rows::aggregate(&self.db, E::META, &spec, agg.func, agg.field).await?,
        };
        let shown = value.to_string();
        (agg.decode)(value).map_err(|e| Error::Decode {
            entity: E::META.name,
            field: f.name,
            value: shown,
            reason: e.to_string(),
        })
    }
}
