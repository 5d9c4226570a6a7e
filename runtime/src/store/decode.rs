//! Decoding database rows into [`Value`]s by the kinds of the selected columns. Every failure is
//! an [`Error::Decode`] naming the entity, the field and the stored value.

use std::str::FromStr;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, TypeInfo as _, ValueRef as _};

use crate::entity::{EntityMeta, FieldMeta};
use crate::error::{Error, Result};
use crate::types::parse_datetime;
use crate::value::{Kind, Value};

/// What a selected column is: its kind, and the names used in error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub kind: Kind,
    pub entity: &'static str,
    pub field: &'static str,
}

impl Col {
    pub fn of(meta: &EntityMeta, field: &FieldMeta) -> Col {
        Col {
            kind: field.kind,
            entity: meta.name,
            field: field.name,
        }
    }

    pub fn all(meta: &EntityMeta) -> Vec<Col> {
        meta.fields.iter().map(|f| Col::of(meta, f)).collect()
    }

    fn error(&self, value: String, reason: impl std::fmt::Display) -> Error {
        Error::Decode {
            entity: self.entity,
            field: self.field,
            value,
            reason: reason.to_string(),
        }
    }
}

/// A value as SQLite stored it (SQLite types values, not columns).
enum Stored {
    Int(i64),
    Real(f64),
    Text(String),
    Blob(usize),
}

impl std::fmt::Display for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stored::Int(i) => write!(f, "{i}"),
            Stored::Real(x) => write!(f, "{x}"),
            Stored::Text(s) => write!(f, "{s:?}"),
            Stored::Blob(n) => write!(f, "<blob of {n} bytes>"),
        }
    }
}

fn sqlite_stored(row: &SqliteRow, i: usize, col: &Col) -> Result<Option<Stored>> {
    use sqlx::Decode;
    let db_err = |e| Error::db(col.entity, "decode", e);
    let raw = row.try_get_raw(i).map_err(db_err)?;
    if raw.is_null() {
        return Ok(None);
    }
    let type_name = raw.type_info().name().to_owned();
    let decode_err = |e: sqlx::error::BoxDynError| col.error(format!("<{type_name} value>"), e);
    Ok(Some(match type_name.as_str() {
        "INTEGER" => Stored::Int(<i64 as Decode<sqlx::Sqlite>>::decode(raw).map_err(decode_err)?),
        "REAL" => Stored::Real(<f64 as Decode<sqlx::Sqlite>>::decode(raw).map_err(decode_err)?),
        "TEXT" => Stored::Text(<String as Decode<sqlx::Sqlite>>::decode(raw).map_err(decode_err)?),
        _ => Stored::Blob(
            <Vec<u8> as Decode<sqlx::Sqlite>>::decode(raw)
                .map_err(decode_err)?
                .len(),
        ),
    }))
}

/// Decodes a SQLite row whose columns are described by `cols`.
pub(crate) fn sqlite_row(row: &SqliteRow, cols: &[Col]) -> Result<Vec<Value>> {
    cols.iter()
        .enumerate()
        .map(|(i, col)| sqlite_value(row, i, col))
        .collect()
}

fn sqlite_value(row: &SqliteRow, i: usize, col: &Col) -> Result<Value> {
    let Some(stored) = sqlite_stored(row, i, col)? else {
        return Ok(Value::Null);
    };
    let value = match (col.kind, &stored) {
        (Kind::Bool, Stored::Int(0)) => Some(Value::Bool(false)),
        (Kind::Bool, Stored::Int(1)) => Some(Value::Bool(true)),
        (Kind::Int32, Stored::Int(n)) if i32::try_from(*n).is_ok() => Some(Value::Int(*n)),
        (Kind::Int64, Stored::Int(n)) => Some(Value::Int(*n)),
        (Kind::Float, Stored::Real(x)) => Some(Value::Float(*x)),
        #[allow(clippy::cast_precision_loss)]
        (Kind::Float, Stored::Int(n)) => Some(Value::Float(*n as f64)),
        (Kind::Text, Stored::Text(s)) => Some(Value::Text(s.clone())),
        (Kind::Decimal, Stored::Text(s)) => {
            rust_decimal::Decimal::from_str(s).ok().map(Value::Decimal)
        }
        (Kind::Decimal, Stored::Int(n)) => Some(Value::Decimal((*n).into())),
        (Kind::DateTime, Stored::Text(s)) => parse_datetime(s).map(Value::DateTime),
        (Kind::Date, Stored::Text(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Value::Date),
        (Kind::Uuid, Stored::Text(s)) => uuid::Uuid::parse_str(s).ok().map(Value::Uuid),
        _ => None,
    };
    value.ok_or_else(|| col.error(stored.to_string(), expected(col.kind)))
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "expected a bool stored as 0 or 1",
        Kind::Int32 => "expected a 32-bit integer",
        Kind::Int64 => "expected an integer",
        Kind::Float => "expected a floating-point number",
        Kind::Text => "expected text",
        Kind::Decimal => "expected a decimal number",
        Kind::DateTime => "expected an RFC 3339 datetime",
        Kind::Date => "expected a date (YYYY-MM-DD)",
        Kind::Uuid => "expected a UUID",
    }
}

/// Decodes a PostgreSQL row whose columns are described by `cols`.
pub(crate) fn pg_row(row: &PgRow, cols: &[Col]) -> Result<Vec<Value>> {
    cols.iter()
        .enumerate()
        .map(|(i, col)| pg_value(row, i, col))
        .collect()
}

fn pg_value(row: &PgRow, i: usize, col: &Col) -> Result<Value> {
    use chrono::{DateTime, NaiveDate, Utc};
    fn get<'r, T>(row: &'r PgRow, i: usize) -> std::result::Result<Option<T>, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        row.try_get::<Option<T>, usize>(i)
    }
    let decoded = match col.kind {
        Kind::Bool => get::<bool>(row, i).map(|v| v.map(Value::Bool)),
        Kind::Int32 => get::<i32>(row, i).map(|v| v.map(|n| Value::Int(n.into()))),
        Kind::Int64 => get::<i64>(row, i).map(|v| v.map(Value::Int)),
        Kind::Float => get::<f64>(row, i).map(|v| v.map(Value::Float)),
        Kind::Text => get::<String>(row, i).map(|v| v.map(Value::Text)),
        Kind::Decimal => get::<rust_decimal::Decimal>(row, i).map(|v| v.map(Value::Decimal)),
        Kind::DateTime => get::<DateTime<Utc>>(row, i).map(|v| v.map(Value::DateTime)),
        Kind::Date => get::<NaiveDate>(row, i).map(|v| v.map(Value::Date)),
        Kind::Uuid => get::<uuid::Uuid>(row, i).map(|v| v.map(Value::Uuid)),
    };
    match decoded {
        Ok(v) => Ok(v.unwrap_or(Value::Null)),
        Err(e) => Err(col.error(pg_render(row, i), e)),
    }
}

/// The stored value of column `i`, rendered for an error message as well as its type allows.
fn pg_render(row: &PgRow, i: usize) -> String {
    use sqlx::Decode;
    let Ok(raw) = row.try_get_raw(i) else {
        return "<unreadable>".to_owned();
    };
    let type_name = raw.type_info().name().to_owned();
    let rendered = match type_name.as_str() {
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => <String as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|s| format!("{s:?}")),
        "INT2" => <i16 as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|n| n.to_string()),
        "INT4" => <i32 as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|n| n.to_string()),
        "INT8" => <i64 as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|n| n.to_string()),
        "FLOAT8" => <f64 as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|n| n.to_string()),
        "BOOL" => <bool as Decode<sqlx::Postgres>>::decode(raw)
            .ok()
            .map(|b| b.to_string()),
        _ => None,
    };
    rendered.unwrap_or_else(|| format!("<{type_name} value>"))
}
