//! CDMS answers streamed from their bytes into [`RemoteRecord`]s.
//!
//! A page is split into the raw text of its records in one pass ([`page`]); each record is then
//! decoded on its own by the decoder `#[derive(CdmsSynced)]` generates ([`RecordShape`], run by
//! [`decode_record`]), so one bad record never spoils the others. No `serde_json::Value` tree
//! is built on this path.
//!
//! The generated decoder accepts exactly what the reference decoder
//! ([`crate::cdms::codec::decode_selected`]) accepts. When it declines a record, the record is
//! read once more by the reference decoder, which then names the entity, the record id (also
//! when it comes after the bad property), the property and the value. That decoder also serves
//! metadata built by hand (without the derive) and `with = path` converters' raw JSON.

pub(crate) mod page;
pub mod property;
pub mod record;

use serde_json::value::RawValue;
use serde_json::Value as J;
use uuid::Uuid;

use crate::cdms::codec::{self, RemoteRecord};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::{excerpt, CdmsError};

pub use property::Property;
pub use record::{decode_record, Declined, Partial, RecordShape, UNMAPPED};

/// The text of one record as CDMS sent it (a JSON object).
pub type RawRecord = Box<RawValue>;

/// A generated record decoder ([`decode_record`] of the entity's [`RecordShape`]).
pub type RecordDecoder = fn(&str, Option<&[usize]>) -> Result<RemoteRecord, Declined>;

/// Decodes one record fetched with the full `$select` (every mapped property required); see
/// [`codec::decode`].
pub fn decode(meta: &'static CdmsMeta, record: &RawValue) -> Result<RemoteRecord, CdmsError> {
    decode_selected(meta, record, None)
}

/// Decodes one record fetched with a narrowed `$select` of the local fields `fields`; see
/// [`codec::decode_selected`].
pub fn decode_selected(
    meta: &'static CdmsMeta,
    record: &RawValue,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, CdmsError> {
    decode_text(meta, record.get(), fields)
}

/// [`decode_selected`] of a record's JSON text.
pub fn decode_text(
    meta: &'static CdmsMeta,
    text: &str,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, CdmsError> {
    if let Some(decoder) = meta.decoder {
        if let Ok(record) = decoder(text, fields) {
            return Ok(record);
        }
    }
    codec::decode_selected(meta, &parse(meta, text)?, fields)
}

/// The CDMS id of a record, when it carries a readable one (for a record that does not decode).
pub fn record_id(meta: &'static CdmsMeta, record: &RawValue) -> Option<Uuid> {
    property(record, meta.id_property)
        .as_ref()
        .and_then(J::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// The JSON of property `name` of a record (`None` when absent or the record is not an
/// object); the other properties are skipped unread.
pub fn property(record: &RawValue, name: &str) -> Option<J> {
    properties(record, &[name]).pop().flatten()
}

/// The JSON of each property of `names` of a record, in one pass (`None` when absent); the
/// other properties are skipped unread.
pub fn properties(record: &RawValue, names: &[&str]) -> Vec<Option<J>> {
    use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Pluck<'n>(&'n [&'n str]);
    impl<'de> Visitor<'de> for Pluck<'_> {
        type Value = Vec<Option<J>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = vec![None; self.0.len()];
            while let Some(key) = map.next_key_seed(Which(self.0))? {
                match key {
                    Some(i) => found[i] = Some(map.next_value::<J>()?),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(found)
        }
    }
    struct Which<'n>(&'n [&'n str]);
    impl<'de> DeserializeSeed<'de> for Which<'_> {
        type Value = Option<usize>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl<'de> Visitor<'de> for Which<'_> {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a property name")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<usize>, E> {
            Ok(self.0.iter().position(|n| *n == s))
        }
    }
    let mut de = serde_json::Deserializer::from_str(record.get());
    de.deserialize_map(Pluck(names))
        .unwrap_or_else(|_| vec![None; names.len()])
}

/// The record as a JSON tree (for what still reads records generically).
pub fn to_json(record: &RawValue) -> J {
    serde_json::from_str(record.get()).unwrap_or(J::Null)
}

fn parse(meta: &'static CdmsMeta, text: &str) -> Result<J, CdmsError> {
    serde_json::from_str(text).map_err(|e| CdmsError::Decode {
        entity: meta.service,
        record: None,
        property: String::new(),
        value: excerpt(text, 100),
        reason: format!("a record must be a JSON object ({e})"),
    })
}
