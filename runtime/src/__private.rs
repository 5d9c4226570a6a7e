//! Items used by generated code. Not a public API: paths and signatures may change in any release.

pub use chrono;
pub use rust_decimal;
pub use serde;
pub use serde_json;
pub use uuid;

pub use crate::entity::{
    ColumnDefault, Entity, EntityMeta, EntitySql, FieldMeta, FixedSql, Role, Row,
};
pub use crate::error::Error;
pub use crate::query::expr::Field;
pub use crate::query::QuerySet;
pub use crate::store::Db;
pub use crate::types::{FieldType, OptionSet, Shape, ValueError};
pub use crate::value::{Kind, Value};

#[cfg(feature = "cdms")]
pub use crate::cdms::meta::{CdmsField, CdmsKind, CdmsMeta, Codec, NullPolicy, Synced};

/// The pieces of the generated record decoders.
#[cfg(feature = "cdms")]
pub mod de {
    pub use crate::cdms::decode::{decode_record, Property, RecordShape, UNMAPPED};
    pub use serde::de::{IgnoredAny, MapAccess};
}

/// The pieces of the generated fixed SQL.
pub mod sql {
    pub use crate::store::sql::ddl::column_type;
    pub use crate::store::sql::fixed::{bytes, len, nullability, text, Piece};
    pub use crate::store::Backend;
}

/// The pieces of the generated body encoders.
#[cfg(feature = "cdms")]
pub mod enc {
    pub use crate::cdms::codec::WriteMode;
    pub use crate::cdms::encode::{id, lookup, property};
    pub use crate::cdms::CdmsError;
    pub use serde_json::Map;
}

/// The literal type `#[entity(default = ...)]` takes on a field of type `Self`: generated code
/// checks the literal with `let _: <T as DefaultLiteral>::Literal = <literal>;`.
#[diagnostic::on_unimplemented(
    message = "field type `{Self}` cannot have a declared column default",
    label = "`#[entity(default = ...)]` is not supported on this field type",
    note = "a default is a literal of the field's type: a string (`String`), an integer (`i32`, `i64`), a float (`f64`) or `true`/`false` (`bool`), or of an `Option` of one"
)]
pub trait DefaultLiteral {
    /// The type of the literal.
    type Literal;
}

impl DefaultLiteral for String {
    type Literal = &'static str;
}
impl DefaultLiteral for i32 {
    type Literal = i32;
}
impl DefaultLiteral for i64 {
    type Literal = i64;
}
impl DefaultLiteral for f64 {
    type Literal = f64;
}
impl DefaultLiteral for bool {
    type Literal = bool;
}
impl<T: DefaultLiteral> DefaultLiteral for Option<T> {
    type Literal = T::Literal;
}

/// The entity a [`crate::Ref`] field type points to, for [`FieldMeta::references`].
pub const fn references<T: FieldType>() -> Option<fn() -> &'static EntityMeta> {
    match T::SHAPE {
        Shape::Reference(f) => Some(f),
        _ => None,
    }
}

/// Whether `T` is an option set, for [`FieldMeta::option_set`].
pub const fn is_option_set<T: FieldType>() -> bool {
    matches!(T::SHAPE, Shape::OptionSet)
}

/// Decodes the next value of a row into field `index` of `meta`, naming entity, field and value
/// on failure.
pub fn decode<T: FieldType>(
    meta: &'static EntityMeta,
    index: usize,
    value: Option<Value>,
) -> Result<T, Error> {
    decode_with(meta, index, value, T::from_value)
}

/// [`decode`] with the conversion passed in as `<T as FieldType>::from_value`: generated code
/// names the `FieldType` bound at the field's type, so an unsupported type is reported once,
/// there.
pub fn decode_with<T>(
    meta: &'static EntityMeta,
    index: usize,
    value: Option<Value>,
    from_value: fn(Value) -> Result<T, ValueError>,
) -> Result<T, Error> {
    let field = meta.fields.get(index).map_or("?", |f| f.name);
    let value = value.ok_or_else(|| Error::Decode {
        entity: meta.name,
        field,
        value: "<missing>".to_owned(),
        reason: "the row is shorter than the entity".to_owned(),
    })?;
    let shown = value.to_string();
    from_value(value).map_err(|e| Error::Decode {
        entity: meta.name,
        field,
        value: shown,
        reason: e.to_string(),
    })
}

/// Asserts at compile time that `T` is an entity (used for `Ref<T>` targets).
pub const fn assert_entity<T: Entity>() {}

/// Asserts at compile time that `T` is synced with CDMS (used for `Ref<T>` targets of synced
/// entities).
#[cfg(feature = "cdms")]
pub const fn assert_synced<T: Synced>() {}

/// Reads a property's JSON from `json` into the input `J` of a `with = path` converter's
/// `from_cdms` and converts it: `J` is `serde_json::Value` for the JSON tree or any type that
/// deserializes from the property's JSON. The derive wraps this once per converted field, so
/// that [`Codec::decode`] and [`Codec::decode_text`] share it.
#[cfg(feature = "cdms")]
pub fn codec_convert<'de, T, J, E, D>(
    from_cdms: fn(&J) -> Result<T, E>,
    json: D,
) -> Result<Value, String>
where
    T: FieldType,
    J: serde::Deserialize<'de>,
    E: std::fmt::Display,
    D: serde::Deserializer<'de>,
{
    let json = J::deserialize(json).map_err(|e| e.to_string())?;
    from_cdms(&json)
        .map(|v| v.to_value())
        .map_err(|e| e.to_string())
}

/// Runs `convert` (the derive's wrapper of [`codec_convert`]) over the JSON text of one
/// property, for [`Codec::decode_text`].
#[cfg(feature = "cdms")]
pub fn codec_decode_text<'a>(
    text: &'a str,
    convert: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    ) -> Result<Value, String>,
) -> Result<Value, String> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = convert(&mut json)?;
    json.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Wraps a `with = path` converter's `to_cdms` for [`Codec::encode`].
#[cfg(feature = "cdms")]
pub fn codec_encode<T: FieldType>(
    to_cdms: fn(&T) -> serde_json::Value,
    value: Value,
) -> Result<serde_json::Value, String> {
    T::from_value(value)
        .map(|v| to_cdms(&v))
        .map_err(|e| e.to_string())
}
