//! Rust field types that can live in an entity, and how each maps to a [`Value`].
//!
//! The derive asserts `T: FieldType` for every field, with a message naming the supported types,
//! so an unsupported type fails to compile at the field's type.

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::entity::Entity;
use crate::value::{Kind, Value};

/// Why a [`Value`] could not become a field's Rust type. The caller adds the entity and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct ValueError {
    /// What the field needs.
    pub expected: &'static str,
    /// The value that arrived, rendered.
    pub got: String,
}

impl ValueError {
    /// A mismatch: the field wants `expected`, `got` arrived.
    pub fn new(expected: &'static str, got: &Value) -> Self {
        ValueError {
            expected,
            got: got.to_string(),
        }
    }
}

/// A Rust type that can be stored in an entity field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in an entity field",
    label = "unsupported field type",
    note = "supported: String, bool, i32, i64, f64, rust_decimal::Decimal, chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, Ref<E>, #[derive(OptionSet)] types, and Option<_> of each"
)]
pub trait FieldType: Sized + Send + Sync + 'static {
    /// The storage kind.
    const KIND: Kind;
    /// Whether the column accepts `NULL` (true for `Option<_>`).
    const NULLABLE: bool = false;
    /// What the type means beyond its storage kind (option set, reference).
    const SHAPE: Shape = Shape::Plain;
    /// The non-optional type that lookups compare with (`T` for `Option<T>`).
    type Scalar: FieldType;
    /// This value as a [`Value`].
    fn to_value(&self) -> Value;
    /// A [`Value`] as this type.
    fn from_value(value: Value) -> Result<Self, ValueError>;
}

/// What a field type means beyond its storage kind.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A plain value.
    Plain,
    /// An enumeration of integer codes (`#[derive(OptionSet)]`): a CDMS `OptionSetValue`.
    OptionSet,
    /// A [`Ref`] to another entity: a foreign key locally, a lookup in CDMS.
    Reference(fn() -> &'static crate::entity::EntityMeta),
}

/// Integer-coded enumerations, implemented by `#[derive(OptionSet)]`.
pub trait OptionSet: FieldType {
    /// Every known code with its variant name.
    const CODES: &'static [(i32, &'static str)];
}

/// Field types with a meaningful order: `gt`, `gte`, `lt`, `lte`, `range`.
pub trait Ordered: FieldType {}
/// Text fields: `contains`, `startswith`, `iexact`, `regex`, ...
pub trait Textual: FieldType {}
/// Date and datetime fields: date-part lookups (`year`, `month`, `day`, `week_day`).
pub trait Dated: FieldType {}
/// Datetime fields: time-part lookups (`hour`, `minute`, `second`).
pub trait Timed: Dated {}

macro_rules! scalar {
    ($ty:ty, $kind:ident, $expected:literal, |$v:ident| $to:expr, $pat:pat => $from:expr) => {
        impl FieldType for $ty {
            const KIND: Kind = Kind::$kind;
            type Scalar = $ty;
            fn to_value(&self) -> Value {
                let $v = self;
                $to
            }
            fn from_value(value: Value) -> Result<Self, ValueError> {
                match value {
                    $pat => $from,
                    other => Err(ValueError::new($expected, &other)),
                }
            }
        }
    };
}

scalar!(String, Text, "text", |v| Value::Text(v.clone()), Value::Text(s) => Ok(s));
scalar!(bool, Bool, "bool", |v| Value::Bool(*v), Value::Bool(b) => Ok(b));
scalar!(i64, Int64, "i64", |v| Value::Int(*v), Value::Int(i) => Ok(i));
scalar!(f64, Float, "f64", |v| Value::Float(*v), Value::Float(x) => Ok(x));
scalar!(Decimal, Decimal, "decimal", |v| Value::Decimal(*v), Value::Decimal(d) => Ok(d));
scalar!(DateTime<Utc>, DateTime, "datetime", |v| Value::DateTime(*v), Value::DateTime(t) => Ok(t));
scalar!(NaiveDate, Date, "date", |v| Value::Date(*v), Value::Date(d) => Ok(d));
scalar!(Uuid, Uuid, "uuid", |v| Value::Uuid(*v), Value::Uuid(u) => Ok(u));

impl FieldType for i32 {
    const KIND: Kind = Kind::Int32;
    type Scalar = i32;
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Int(i) => i32::try_from(i).map_err(|_| ValueError::new("i32", &Value::Int(i))),
            other => Err(ValueError::new("i32", &other)),
        }
    }
}

impl<T: FieldType<Scalar = T>> FieldType for Option<T> {
    const KIND: Kind = T::KIND;
    const NULLABLE: bool = true;
    const SHAPE: Shape = T::SHAPE;
    type Scalar = T;
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Ordered for String {}
impl Ordered for i32 {}
impl Ordered for i64 {}
impl Ordered for f64 {}
impl Ordered for Decimal {}
impl Ordered for DateTime<Utc> {}
impl Ordered for NaiveDate {}
impl<T: Ordered<Scalar = T>> Ordered for Option<T> {}
impl Textual for String {}
impl Textual for Option<String> {}
impl Dated for DateTime<Utc> {}
impl Dated for NaiveDate {}
impl Dated for Option<DateTime<Utc>> {}
impl Dated for Option<NaiveDate> {}
impl Timed for DateTime<Utc> {}
impl Timed for Option<DateTime<Utc>> {}

/// A reference to another entity: stored as the referenced row's local primary key (a foreign key).
///
/// On the CDMS side a `Ref` maps to a lookup (`EntityReference`); the sync layer translates
/// between the CDMS GUID and the local key.
pub struct Ref<E> {
    pk: i64,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Ref<E> {
    /// A reference to the row of `E` with local primary key `pk`.
    pub const fn new(pk: i64) -> Self {
        Ref {
            pk,
            _entity: PhantomData,
        }
    }
    /// The referenced row's local primary key.
    pub const fn pk(&self) -> i64 {
        self.pk
    }
}

impl<E: Entity> Ref<E> {
    /// A reference to `target` (which must have been saved: its primary key is used).
    pub fn to(target: &E) -> Self {
        Ref::new(target.pk())
    }
}

impl<E> Clone for Ref<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Ref<E> {}
impl<E> PartialEq for Ref<E> {
    fn eq(&self, other: &Self) -> bool {
        self.pk == other.pk
    }
}
impl<E> Eq for Ref<E> {}
impl<E> std::hash::Hash for Ref<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pk.hash(state);
    }
}
impl<E> std::fmt::Debug for Ref<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ref<{}>({})",
            std::any::type_name::<E>()
                .rsplit("::")
                .next()
                .unwrap_or("?"),
            self.pk
        )
    }
}

impl<E: Entity> FieldType for Ref<E> {
    const KIND: Kind = Kind::Int64;
    const SHAPE: Shape = Shape::Reference(E::meta);
    type Scalar = Ref<E>;
    fn to_value(&self) -> Value {
        Value::Int(self.pk)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Int(i) => Ok(Ref::new(i)),
            other => Err(ValueError::new("a reference (i64 key)", &other)),
        }
    }
}

/// The canonical text form of an instant: RFC 3339, UTC, microseconds, `Z`.
/// Fixed width, so it sorts correctly as text (the SQLite storage form).
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses RFC 3339 (any offset) into UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
