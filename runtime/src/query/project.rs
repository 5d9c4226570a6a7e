//! Projections: `values`, `values_list`, `dates`, `datetimes`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::QuerySet;
use crate::__private::decode;
use crate::entity::{Entity, EntityMeta};
use crate::error::{Error, Result};
use crate::query::expr::Field;
use crate::store::{rows, ReadOp};
use crate::types::{Dated, FieldType, Timed};
use crate::value::Value;

/// A selection of fields of `E` and the Rust type their values decode to: a single
/// [`Field`] (→ `T`), a tuple of up to four fields (→ a tuple), or `()` (every field; only
/// meaningful for [`QuerySet::values`]).
pub trait Columns<E> {
    /// What one row decodes to.
    type Output;
    /// The selected field indexes.
    fn fields(&self) -> Vec<usize>;
    /// Decodes one row of the selected values.
    fn decode(
        meta: &'static EntityMeta,
        fields: &[usize],
        values: Vec<Value>,
    ) -> Result<Self::Output>;
}

impl<E> Columns<E> for () {
    type Output = ();
    fn fields(&self) -> Vec<usize> {
        Vec::new()
    }
    fn decode(_: &'static EntityMeta, _: &[usize], _: Vec<Value>) -> Result<()> {
        Ok(())
    }
}

impl<E, T: FieldType> Columns<E> for Field<E, T> {
    type Output = T;
    fn fields(&self) -> Vec<usize> {
        vec![self.index()]
    }
    fn decode(meta: &'static EntityMeta, fields: &[usize], values: Vec<Value>) -> Result<T> {
        decode::<T>(meta, fields[0], values.into_iter().next())
    }
}

macro_rules! tuple_columns {
    ($($t:ident $n:tt),+) => {
        impl<E, $($t: FieldType),+> Columns<E> for ($(Field<E, $t>,)+) {
            type Output = ($($t,)+);
            fn fields(&self) -> Vec<usize> {
                vec![$(self.$n.index()),+]
            }
            fn decode(meta: &'static EntityMeta, fields: &[usize], values: Vec<Value>) -> Result<Self::Output> {
                let mut values = values.into_iter();
                Ok(($(decode::<$t>(meta, fields[$n], values.next())?,)+))
            }
        }
    };
}

tuple_columns!(A 0);
tuple_columns!(A 0, B 1);
tuple_columns!(A 0, B 1, C 2);
tuple_columns!(A 0, B 1, C 2, D 3);

/// How [`QuerySet::dates`] truncates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateTrunc {
    /// January 1st of the year.
    Year,
    /// The first of the month.
    Month,
    /// The day.
    Day,
}

/// How [`QuerySet::datetimes`] truncates (in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeTrunc {
    /// Midnight, January 1st.
    Year,
    /// Midnight on the first of the month.
    Month,
    /// Midnight.
    Day,
    /// The start of the hour.
    Hour,
    /// The start of the minute.
    Minute,
    /// The start of the second.
    Second,
}

fn trunc_date(d: NaiveDate, kind: DateTrunc) -> NaiveDate {
    let (m, day) = match kind {
        DateTrunc::Year => (1, 1),
        DateTrunc::Month => (d.month(), 1),
        DateTrunc::Day => return d,
    };
    NaiveDate::from_ymd_opt(d.year(), m, day).unwrap_or(d)
}

fn trunc_time(t: DateTime<Utc>, kind: TimeTrunc) -> DateTime<Utc> {
    let date = t.date_naive();
    let date = match kind {
        TimeTrunc::Year => trunc_date(date, DateTrunc::Year),
        TimeTrunc::Month => trunc_date(date, DateTrunc::Month),
        _ => date,
    };
    let (h, m, s) = match kind {
        TimeTrunc::Year | TimeTrunc::Month | TimeTrunc::Day => (0, 0, 0),
        TimeTrunc::Hour => (t.hour(), 0, 0),
        TimeTrunc::Minute => (t.hour(), t.minute(), 0),
        TimeTrunc::Second => (t.hour(), t.minute(), t.second()),
    };
    date.and_hms_opt(h, m, s).map_or(t, |n| n.and_utc())
}

impl<E: Entity> QuerySet<E> {
    async fn select_values(&self, fields: &[usize]) -> Result<Vec<Vec<Value>>> {
        match self.prepare(ReadOp::Values).await? {
            Some(spec) => rows::select_columns(&self.db, E::META, &spec, fields).await,
            None => Ok(Vec::new()),
        }
    }

    /// The selected fields of every matching row, by field name: `values((f.name, f.uk))`;
    /// `values(())` selects every field.
    pub async fn values<C: Columns<E>>(
        &self,
        columns: C,
    ) -> Result<Vec<BTreeMap<&'static str, Value>>> {
        let mut fields = columns.fields();
        if fields.is_empty() {
            fields = (0..E::META.fields.len()).collect();
        }
        let names: Vec<&'static str> = fields
            .iter()
            .map(|&i| crate::store::sql::field(E::META, i).map(|f| f.name))
            .collect::<Result<_>>()?;
        let rows = self.select_values(&fields).await?;
        Ok(rows
            .into_iter()
            .map(|r| names.iter().copied().zip(r).collect())
            .collect())
    }

    /// The selected fields of every matching row, typed: `values_list(f.name)` →
    /// `Vec<String>`, `values_list((f.name, f.uk))` → `Vec<(String, bool)>`.
    pub async fn values_list<C: Columns<E>>(&self, columns: C) -> Result<Vec<C::Output>> {
        let fields = columns.fields();
        if fields.is_empty() {
            return Err(Error::InvalidQuery {
                entity: E::META.name,
                message: "values_list needs at least one field".to_owned(),
            });
        }
        let rows = self.select_values(&fields).await?;
        rows.into_iter()
            .map(|r| C::decode(E::META, &fields, r))
            .collect()
    }

    /// The distinct values of the date or datetime `field` (UTC) among matching rows, truncated
    /// to `kind`, ascending; nulls are skipped.
    pub async fn dates<T: Dated>(
        &self,
        field: Field<E, T>,
        kind: DateTrunc,
    ) -> Result<Vec<NaiveDate>> {
        let mut out = BTreeSet::new();
        for row in self.select_values(&[field.index()]).await? {
            match row.into_iter().next() {
                Some(Value::Date(d)) => {
                    out.insert(trunc_date(d, kind));
                }
                Some(Value::DateTime(t)) => {
                    out.insert(trunc_date(t.date_naive(), kind));
                }
                _ => {}
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The distinct values of the datetime `field` among matching rows, truncated (in UTC) to
    /// `kind`, ascending; nulls are skipped.
    pub async fn datetimes<T: Timed>(
        &self,
        field: Field<E, T>,
        kind: TimeTrunc,
    ) -> Result<Vec<DateTime<Utc>>> {
        let mut out = BTreeSet::new();
        for row in self.select_values(&[field.index()]).await? {
            if let Some(Value::DateTime(t)) = row.into_iter().next() {
                out.insert(trunc_time(t, kind));
            }
        }
        Ok(out.into_iter().collect())
    }
}
