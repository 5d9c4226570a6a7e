//! One property's JSON, streamed into the local field's [`Value`] without building a JSON tree.
//!
//! Accepts exactly what [`crate::cdms::codec::decode_property`] accepts and decodes it to the
//! same value; anything else is an error, and the caller then lets the reference decoder name
//! the entity, the record, the property and the value.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use uuid::Uuid;

use crate::cdms::meta::{CdmsField, CdmsKind, CdmsMeta};
use crate::cdms::wire;
use crate::value::{Kind, Value};

use super::record::Partial;

/// The seed of one mapped property: its CRM type and the local field's kind.
#[derive(Clone, Copy)]
pub struct Property {
    field: &'static CdmsField,
    local: Kind,
}

impl Property {
    /// The seed of the property in `slot` of `meta` (evaluated at compile time in generated
    /// code, where a slot out of range fails the build).
    pub const fn of(meta: &'static CdmsMeta, slot: usize) -> Self {
        let field = &meta.fields[slot];
        Property {
            field,
            local: meta.entity.fields[field.field].kind,
        }
    }

    /// The seed that decodes this property, in `slot`, into `record`.
    pub(super) fn put_into(self, slot: usize, record: &mut Partial) -> PutInto<'_> {
        PutInto {
            property: self,
            slot,
            record,
        }
    }
}

/// A [`Property`] decoded straight into the record's list. The value is put there, not
/// returned, so no value (a lookup's is four words and two strings) travels through a `Result`.
pub(super) struct PutInto<'p> {
    property: Property,
    slot: usize,
    record: &'p mut Partial,
}

impl<'de> DeserializeSeed<'de> for PutInto<'_> {
    type Value = ();

    #[inline]
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let PutInto {
            property,
            slot,
            record,
        } = self;
        let value = if let Some(codec) = property.field.codec {
            // The converter reads the property's own text (borrowed from the record's).
            let raw = <&serde_json::value::RawValue as serde::Deserialize>::deserialize(d)?;
            (codec.decode_text)(raw.get()).map_err(de::Error::custom)?
        } else {
            let scalar = Scalar {
                kind: property.field.kind,
                local: property.local,
            };
            match property.field.kind {
                CdmsKind::Money | CdmsKind::OptionSetValue => d.deserialize_any(Valued(scalar))?,
                CdmsKind::EntityReference => match d.deserialize_any(Reference)? {
                    Some((id, logical_name, name)) => {
                        record.put_reference(slot, id, logical_name, name);
                        return Ok(());
                    }
                    None => Value::Null,
                },
                _ => d.deserialize_any(scalar)?,
            }
        };
        record.put(slot, value);
        Ok(())
    }
}

fn refuse<T, E: de::Error>(what: &str) -> Result<T, E> {
    Err(E::custom(what))
}

/// A plain (non-complex) value, or the `Value` member of a Money or OptionSetValue.
#[derive(Clone, Copy)]
struct Scalar {
    kind: CdmsKind,
    local: Kind,
}

impl Scalar {
    fn integer<E: de::Error>(self, n: i64) -> Result<Value, E> {
        match self.kind {
            CdmsKind::Int32 | CdmsKind::OptionSetValue | CdmsKind::Int64 => {
                let narrow = self.local == Kind::Int32 || self.kind != CdmsKind::Int64;
                if narrow && i32::try_from(n).is_err() {
                    return refuse("out of range for a 32-bit integer");
                }
                Ok(Value::Int(n))
            }
            CdmsKind::Decimal | CdmsKind::Money => self.decimal(&n.to_string()),
            CdmsKind::Double => Ok(Value::Float(n as f64)),
            _ => refuse("unexpected number"),
        }
    }

    fn decimal<E: de::Error>(self, text: &str) -> Result<Value, E> {
        let d = text
            .parse::<Decimal>()
            .ok()
            .or_else(|| Decimal::from_scientific(text).ok());
        let Some(d) = d else {
            return refuse("expected a decimal number");
        };
        if self.local == Kind::Float {
            rust_decimal::prelude::ToPrimitive::to_f64(&d)
                .map(Value::Float)
                .ok_or_else(|| E::custom("not representable as f64"))
        } else {
            Ok(Value::Decimal(d))
        }
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a CDMS {}", self.kind.edm_type())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.kind {
            CdmsKind::Boolean => Ok(Value::Bool(b)),
            _ => refuse("unexpected boolean"),
        }
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.integer(n)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        match i64::try_from(n) {
            Ok(n) => self.integer(n),
            // Beyond i64: not an integer CDMS sends; as a decimal or a double it still reads.
            Err(_) => match self.kind {
                CdmsKind::Decimal | CdmsKind::Money => self.decimal(&n.to_string()),
                CdmsKind::Double => Ok(Value::Float(n as f64)),
                _ => refuse("expected an integer"),
            },
        }
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        match self.kind {
            CdmsKind::Double => Ok(Value::Float(x)),
            CdmsKind::Decimal | CdmsKind::Money => match serde_json::Number::from_f64(x) {
                Some(n) => self.decimal(&n.to_string()),
                None => refuse("expected a decimal number"),
            },
            _ => refuse("unexpected number"),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        match self.kind {
            CdmsKind::String => Ok(Value::Text(s.to_owned())),
            CdmsKind::Int32 | CdmsKind::OptionSetValue | CdmsKind::Int64 => {
                match s.trim().parse::<i64>() {
                    Ok(n) => self.integer(n),
                    Err(_) => refuse("expected an integer"),
                }
            }
            CdmsKind::Decimal | CdmsKind::Money => self.decimal(s.trim()),
            CdmsKind::Double => match s.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Value::Float(x)),
                _ => refuse("expected a number"),
            },
            CdmsKind::DateTime => match wire::parse_date(s) {
                Some(t) if self.local == Kind::Date => Ok(Value::Date(t.date_naive())),
                Some(t) => Ok(Value::DateTime(t)),
                None => refuse("expected a /Date(ms)/ timestamp"),
            },
            CdmsKind::Guid => guid(s).map(Value::Uuid),
            _ => refuse("unexpected string"),
        }
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        match self.kind {
            CdmsKind::String => Ok(Value::Text(s)),
            _ => self.visit_str(&s),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        refuse("unexpected object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        refuse("unexpected array")
    }
}

fn guid<E: de::Error>(s: &str) -> Result<Uuid, E> {
    Uuid::parse_str(s.trim()).map_err(|_| E::custom("expected a GUID"))
}

/// `Money` / `OptionSetValue`: `{"Value": ...}` or null; other members (`__metadata`) skipped.
struct Valued(Scalar);

impl<'de> Visitor<'de> for Valued {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a Value member")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut value = Value::Null;
        while let Some(key) = map.next_key_seed(Member(&["Value"]))? {
            match key {
                Some(_) => value = map.next_value_seed(ScalarSeed(self.0))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(value)
    }
}

struct ScalarSeed(Scalar);

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self.0)
    }
}

/// `EntityReference`: `{"Id", "LogicalName", "Name"}` or null; an `Id` of null is a null lookup.
struct Reference;

/// `(Id, LogicalName, Name)` of a lookup whose `Id` is set.
type Target = (Uuid, Option<String>, Option<String>);

impl<'de> Visitor<'de> for Reference {
    type Value = Option<Target>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with Id, LogicalName and Name")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Target>, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Target>, A::Error> {
        let mut id = None;
        let (mut logical, mut name) = (None, None);
        while let Some(key) = map.next_key_seed(Member(&["Id", "LogicalName", "Name"]))? {
            match key {
                Some(0) => id = map.next_value_seed(OptionalGuid)?,
                Some(1) => logical = map.next_value_seed(OptionalText)?,
                Some(_) => name = map.next_value_seed(OptionalText)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(id.map(|id| (id, logical, name)))
    }
}

/// A member name of a complex value: its index in the list, `None` for any other member.
struct Member(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Member {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Member {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|m| *m == s))
    }
}

/// A GUID string or null (`Id`).
struct OptionalGuid;

impl<'de> DeserializeSeed<'de> for OptionalGuid {
    type Value = Option<Uuid>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Uuid>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OptionalGuid {
    type Value = Option<Uuid>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GUID in Id")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Uuid>, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Uuid>, E> {
        guid(s).map(Some)
    }
}

/// A string member, or `None` for anything else (as the reference reads `LogicalName`/`Name`).
struct OptionalText;

impl<'de> DeserializeSeed<'de> for OptionalText {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OptionalText {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<String>, E> {
        Ok(Some(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Option<String>, E> {
        Ok(Some(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}
