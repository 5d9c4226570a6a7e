//! Binding [`Value`]s as SQL parameters, typed by their field's [`Kind`] (so a null still has a
//! precise type on PostgreSQL).

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments};

use crate::error::{Error, Result};
use crate::types::format_datetime;
use crate::value::{Kind, Value};

/// A value to bind, with the kind of the column it is compared with or written to.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The value (may be [`Value::Null`]).
    pub value: Value,
    /// The SQL type to bind it as.
    pub kind: Kind,
}

impl Param {
    /// `value` bound as `kind`.
    pub fn new(value: Value, kind: Kind) -> Self {
        Param { value, kind }
    }
}

impl From<Value> for Param {
    /// A value bound with its natural kind (a null binds as text).
    fn from(value: Value) -> Self {
        let kind = value.kind().unwrap_or(Kind::Text);
        Param { value, kind }
    }
}

fn mismatch(entity: &'static str, p: &Param) -> Error {
    Error::InvalidQuery {
        entity,
        message: format!("cannot bind {} as a {} parameter", p.value, p.kind.name()),
    }
}

/// Text form of a date in the SQLite storage form.
pub(crate) fn format_date(d: &chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;
pub(crate) type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Binds `p` on SQLite in the storage forms described in [`crate::store`].
pub(crate) fn bind_sqlite<'q>(
    q: SqliteQuery<'q>,
    p: &'q Param,
    entity: &'static str,
) -> Result<SqliteQuery<'q>> {
    Ok(match (&p.value, p.kind) {
        (Value::Null, _) => q.bind(None::<i64>),
        (Value::Bool(b), Kind::Bool) => q.bind(*b),
        (Value::Int(i), Kind::Int32 | Kind::Int64) => q.bind(*i),
        // Widening an integer to a double is what the column would do itself.
        #[allow(clippy::cast_precision_loss)]
        (Value::Int(i), Kind::Float) => q.bind(*i as f64),
        (Value::Float(x), Kind::Float) => q.bind(*x),
        (Value::Text(s), Kind::Text) => q.bind(s.as_str()),
        (Value::Decimal(d), Kind::Decimal) => q.bind(d.normalize().to_string()),
        (Value::Int(i), Kind::Decimal) => q.bind(i.to_string()),
        (Value::DateTime(t), Kind::DateTime) => q.bind(format_datetime(t)),
        (Value::Date(d), Kind::Date) => q.bind(format_date(d)),
        (Value::Uuid(u), Kind::Uuid) => q.bind(u.hyphenated().to_string()),
        _ => return Err(mismatch(entity, p)),
    })
}

/// Binds `p` on PostgreSQL with the native type of `p.kind` (typed nulls included).
pub(crate) fn bind_pg<'q>(
    q: PgQuery<'q>,
    p: &'q Param,
    entity: &'static str,
) -> Result<PgQuery<'q>> {
    use chrono::{DateTime, NaiveDate, Utc};
    use rust_decimal::Decimal;
    use uuid::Uuid;
    Ok(match (&p.value, p.kind) {
        (Value::Null, Kind::Bool) => q.bind(None::<bool>),
        (Value::Null, Kind::Int32) => q.bind(None::<i32>),
        (Value::Null, Kind::Int64) => q.bind(None::<i64>),
        (Value::Null, Kind::Float) => q.bind(None::<f64>),
        (Value::Null, Kind::Text) => q.bind(None::<String>),
        (Value::Null, Kind::Decimal) => q.bind(None::<Decimal>),
        (Value::Null, Kind::DateTime) => q.bind(None::<DateTime<Utc>>),
        (Value::Null, Kind::Date) => q.bind(None::<NaiveDate>),
        (Value::Null, Kind::Uuid) => q.bind(None::<Uuid>),
        (Value::Bool(b), Kind::Bool) => q.bind(*b),
        (Value::Int(i), Kind::Int32) => match i32::try_from(*i) {
            Ok(n) => q.bind(n),
            Err(_) => return Err(mismatch(entity, p)),
        },
        (Value::Int(i), Kind::Int64) => q.bind(*i),
        #[allow(clippy::cast_precision_loss)]
        (Value::Int(i), Kind::Float) => q.bind(*i as f64),
        (Value::Float(x), Kind::Float) => q.bind(*x),
        (Value::Text(s), Kind::Text) => q.bind(s.as_str()),
        (Value::Decimal(d), Kind::Decimal) => q.bind(d.normalize()),
        (Value::Int(i), Kind::Decimal) => q.bind(Decimal::from(*i)),
        (Value::DateTime(t), Kind::DateTime) => q.bind(*t),
        (Value::Date(d), Kind::Date) => q.bind(*d),
        (Value::Uuid(u), Kind::Uuid) => q.bind(*u),
        _ => return Err(mismatch(entity, p)),
    })
}
