//! The dynamic value model shared by the local store, the query tree and the CDMS mappers.
//!
//! Generated code converts each struct field to and from a [`Value`]; the store binds values in
//! SQL, and the CDMS side turns them into OData literals and JSON. Every value carries enough to be
//! bound with its precise SQL type, even when it is null, through the field's [`Kind`].

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// The storage kind of a field: decides the SQL column type and how a value is bound and decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `bool`
    Bool,
    /// `i32`
    Int32,
    /// `i64` (also local primary keys and references)
    Int64,
    /// `f64`
    Float,
    /// `String`
    Text,
    /// `rust_decimal::Decimal`
    Decimal,
    /// `chrono::DateTime<Utc>`
    DateTime,
    /// `chrono::NaiveDate`
    Date,
    /// `uuid::Uuid`
    Uuid,
}

impl Kind {
    /// A short, user-facing name of the kind, used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int32 => "i32",
            Kind::Int64 => "i64",
            Kind::Float => "f64",
            Kind::Text => "text",
            Kind::Decimal => "decimal",
            Kind::DateTime => "datetime",
            Kind::Date => "date",
            Kind::Uuid => "uuid",
        }
    }

    /// Whether values of this kind have a meaningful order (`gt`, `lt`, `range`, `order_by`).
    pub const fn is_ordered(self) -> bool {
        !matches!(self, Kind::Bool | Kind::Uuid)
    }
}

/// One field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL` / CDMS `null` (or a complex value whose members are all null).
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer (`i32` fields widen to it).
    Int(i64),
    /// A double.
    Float(f64),
    /// A string.
    Text(String),
    /// A decimal (CDMS `Decimal` and `Money`).
    Decimal(Decimal),
    /// An instant, always UTC.
    DateTime(DateTime<Utc>),
    /// A calendar date.
    Date(NaiveDate),
    /// A GUID.
    Uuid(Uuid),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub const fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The kind this value naturally has, `None` for null.
    pub const fn kind(&self) -> Option<Kind> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int64,
            Value::Float(_) => Kind::Float,
            Value::Text(_) => Kind::Text,
            Value::Decimal(_) => Kind::Decimal,
            Value::DateTime(_) => Kind::DateTime,
            Value::Date(_) => Kind::Date,
            Value::Uuid(_) => Kind::Uuid,
        })
    }

    /// A JSON rendering for history snapshots and `values()` projections.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Text(s) => J::String(s.clone()),
            Value::Decimal(d) => J::String(d.to_string()),
            Value::DateTime(t) => J::String(crate::types::format_datetime(t)),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::Uuid(u) => J::String(u.to_string()),
        }
    }

    /// The inverse of [`Value::to_json`] for a field of kind `kind`; `None` when the JSON does
    /// not hold a value of that kind.
    pub fn from_json(kind: Kind, json: &serde_json::Value) -> Option<Value> {
        use serde_json::Value as J;
        if json.is_null() {
            return Some(Value::Null);
        }
        Some(match (kind, json) {
            (Kind::Bool, J::Bool(b)) => Value::Bool(*b),
            (Kind::Int32 | Kind::Int64, J::Number(n)) => Value::Int(n.as_i64()?),
            (Kind::Float, J::Number(n)) => Value::Float(n.as_f64()?),
            (Kind::Text, J::String(s)) => Value::Text(s.clone()),
            (Kind::Decimal, J::String(s)) => Value::Decimal(s.parse().ok()?),
            (Kind::DateTime, J::String(s)) => Value::DateTime(crate::types::parse_datetime(s)?),
            (Kind::Date, J::String(s)) => {
                Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?)
            }
            (Kind::Uuid, J::String(s)) => Value::Uuid(s.parse().ok()?),
            _ => return None,
        })
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::DateTime(t) => f.write_str(&crate::types::format_datetime(t)),
            Value::Date(d) => write!(f, "{d}"),
            Value::Uuid(u) => write!(f, "{u}"),
        }
    }
}
