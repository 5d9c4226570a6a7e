//! One record, streamed from its JSON text into a [`RemoteRecord`].
//!
//! `#[derive(CdmsSynced)]` implements [`RecordShape`] for each entity: the property names as a
//! `match` on the key (resolved at compile time) and, per property, the seed of its CRM type.
//! [`decode_record`] drives it over a `serde_json` deserializer; no JSON tree is built.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::cdms::codec::{RemoteRecord, RemoteRef};
use crate::cdms::meta::{CdmsKind, CdmsMeta};
use crate::value::Value;

use super::property::Decoded;

/// The slot of a property the entity does not map (skipped with [`IgnoredAny`]).
pub const UNMAPPED: usize = usize::MAX;

/// The generated side of an entity's record decoder. Not implemented by hand.
pub trait RecordShape {
    /// The entity's CDMS metadata.
    const CDMS: &'static CdmsMeta;

    /// The slot (index in [`CdmsMeta::fields`]) of property `name`, or [`UNMAPPED`].
    fn slot(name: &str) -> usize;

    /// Decodes the value of the property in `slot` from `map` into `record`.
    fn value<'de, A: MapAccess<'de>>(
        slot: usize,
        map: &mut A,
        record: &mut Partial,
    ) -> Result<(), A::Error>;
}

/// The properties of one record read so far, by slot.
pub struct Partial {
    slots: Vec<Option<Decoded>>,
}

impl Partial {
    /// Stores the value decoded for `slot` (a repeated property: the last one counts, as in a
    /// JSON object).
    #[inline]
    pub fn put(&mut self, slot: usize, decoded: Decoded) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(decoded);
        }
    }
}

/// Why the generated decoder gave up on a record; the caller then decodes it with the
/// reference decoder, which names the entity, the record id, the property and the value.
#[derive(Debug)]
pub struct Declined(pub String);

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes the JSON object `text` as a record of `S`'s entity. `fields` are the local fields a
/// narrowed `$select` asked for (`None`: all mapped properties, each required).
pub fn decode_record<S: RecordShape>(
    text: &str,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, Declined> {
    let meta = S::CDMS;
    let mut de = serde_json::Deserializer::from_str(text);
    let partial =
        de::Deserializer::deserialize_map(&mut de, RecordVisitor::<S> { shape: PhantomData })
            .map_err(|e| Declined(e.to_string()))?;
    de.end().map_err(|e| Declined(e.to_string()))?;
    finish(meta, partial, fields)
}

struct RecordVisitor<S> {
    shape: PhantomData<S>,
}

impl<'de, S: RecordShape> Visitor<'de> for RecordVisitor<S> {
    type Value = Partial;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CDMS record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Partial, A::Error> {
        let mut partial = Partial {
            slots: (0..S::CDMS.fields.len()).map(|_| None).collect(),
        };
        while let Some(slot) = map.next_key_seed(Key::<S>(PhantomData))? {
            if slot == UNMAPPED {
                map.next_value::<IgnoredAny>()?;
            } else {
                S::value(slot, &mut map, &mut partial)?;
            }
        }
        Ok(partial)
    }
}

/// A property name, resolved to its slot by the generated `match`.
struct Key<S>(PhantomData<S>);

impl<'de, S: RecordShape> DeserializeSeed<'de> for Key<S> {
    type Value = usize;

    #[inline]
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, S: RecordShape> Visitor<'de> for Key<S> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        Ok(S::slot(name))
    }
}

/// The record out of its properties: the id and `ModifiedOn`, the values in field order, the
/// lookups; absent and null properties checked as [`crate::cdms::codec::decode_selected`] does.
fn finish(
    meta: &'static CdmsMeta,
    mut partial: Partial,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, Declined> {
    let declined = |what: &str, property: &str| Err(Declined(format!("{property}: {what}")));
    let Some(modified_field) = meta.modified() else {
        return declined("no ModifiedOn mapping", meta.service);
    };
    let mut id = None;
    let mut modified = None;
    let mut values = Vec::with_capacity(meta.fields.len());
    let mut refs = Vec::new();
    for (f, slot) in meta.fields.iter().zip(partial.slots.iter_mut()) {
        let Some(decoded) = slot.take() else {
            let required = fields.is_none_or(|fs| fs.contains(&f.field));
            if required && f.field != meta.id_field && Some(f.field) != meta.entity.modified {
                return declined("absent", f.property);
            }
            continue;
        };
        let Decoded {
            mut value,
            reference,
        } = decoded;
        if f.property == meta.id_property {
            match (&value, f.codec, f.kind) {
                (Value::Uuid(u), None, CdmsKind::Guid) => id = Some(*u),
                _ => return declined("no id", f.property),
            }
        }
        if std::ptr::eq(f, modified_field) {
            match (&value, f.codec, f.kind) {
                (Value::DateTime(t), None, CdmsKind::DateTime) => modified = Some(*t),
                _ => return declined("no /Date(ms)/", f.property),
            }
        }
        let local = meta.entity.fields.get(f.field);
        if value.is_null() && !local.is_none_or(|m| m.nullable) {
            match local.and_then(|m| f.null.replacement(m.kind)) {
                Some(default) => value = default,
                None => return declined("null for a required field", f.property),
            }
        }
        if let (Some((logical_name, name)), Value::Uuid(target), None) =
            (reference, &value, f.codec)
        {
            refs.push(RemoteRef {
                field: f.field,
                id: *target,
                logical_name,
                name,
            });
        }
        values.push((f.field, value));
    }
    match (id, modified) {
        (Some(id), Some(modified)) => Ok(RemoteRecord {
            id,
            modified,
            values,
            refs,
        }),
        _ => declined("no id or ModifiedOn", meta.service),
    }
}
