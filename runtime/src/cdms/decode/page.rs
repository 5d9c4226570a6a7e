//! The OData envelope of an answer (`{"d": {"results": [...], "__next": "..."}}`, the V1 form
//! `{"d": [...]}`, or an entry `{"d": {...}}`), split into the raw text of each record in one
//! pass, without building a JSON tree.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::RawRecord;

/// A collection page: the records and the `__next` link.
pub(crate) type RawPage = (Vec<RawRecord>, Option<String>);

/// Splits a collection answer. The error is what is wrong with it, for
/// [`crate::cdms::CdmsError::Malformed`].
pub(crate) fn page(body: &[u8]) -> Result<RawPage, String> {
    match envelope(body, Want::Collection)? {
        D::Collection(records, next) => Ok((records, next)),
        D::Entry(_) => Err("\"d\" is not a collection".to_owned()),
    }
}

/// The record of an entry answer.
pub(crate) fn entry(body: &[u8]) -> Result<RawRecord, String> {
    match envelope(body, Want::Entry)? {
        D::Entry(record) => Ok(record),
        D::Collection(..) => Err("\"d\" is not an entry".to_owned()),
    }
}

#[derive(Clone, Copy)]
enum Want {
    Collection,
    Entry,
}

enum D {
    Collection(Vec<RawRecord>, Option<String>),
    Entry(RawRecord),
}

/// The outcome of a well-formed JSON document: its envelope, or what is wrong with its shape.
type Shaped<T> = Result<T, &'static str>;

fn envelope(body: &[u8], want: Want) -> Result<D, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let shaped = de::Deserializer::deserialize_any(&mut de, Top(want))
        .and_then(|shaped| de.end().map(|()| shaped))
        .map_err(|e| format!("invalid JSON ({e})"))?;
    shaped.map_err(str::to_owned)
}

/// Drains whatever value `deserialize_any` offers, returning `shape` for it.
macro_rules! other_values {
    ($shape:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Err($shape))
        }
    };
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A member name among `names` (its index), or `None`.
struct Name(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Option<usize>;
    fn deserialize<Dz: de::Deserializer<'de>>(self, d: Dz) -> Result<Option<usize>, Dz::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == s))
    }
}

struct Top(Want);

impl<'de> Visitor<'de> for Top {
    type Value = Shaped<D>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OData answer")
    }

    other_values!("the answer is not a JSON object");

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Err("the answer is not a JSON object"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut d = None;
        while let Some(key) = map.next_key_seed(Name(&["d"]))? {
            match key {
                Some(_) => d = Some(map.next_value_seed(Inner(self.0))?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(d.unwrap_or(Err("no \"d\" member in the answer")))
    }
}

/// The `d` member.
struct Inner(Want);

impl<'de> DeserializeSeed<'de> for Inner {
    type Value = Shaped<D>;
    fn deserialize<Dz: de::Deserializer<'de>>(self, d: Dz) -> Result<Self::Value, Dz::Error> {
        match self.0 {
            Want::Collection => d.deserialize_any(self),
            Want::Entry => {
                let raw = <Box<RawValue> as serde::Deserialize>::deserialize(d)?;
                Ok(if raw.get().starts_with('{') {
                    Ok(D::Entry(raw))
                } else {
                    Err("\"d\" is not an entry")
                })
            }
        }
    }
}

impl<'de> Visitor<'de> for Inner {
    type Value = Shaped<D>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a collection")
    }

    other_values!("\"d\" is not a collection");

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(r) = seq.next_element::<RawRecord>()? {
            records.push(r);
        }
        Ok(Ok(D::Collection(records, None)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut results = None;
        let mut next = Ok(None);
        while let Some(key) = map.next_key_seed(Name(&["results", "__next"]))? {
            match key {
                Some(0) => results = Some(map.next_value_seed(Results)?),
                Some(_) => next = map.next_value_seed(Next)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(Ok(records)) = results else {
            return Ok(Err("the page has no \"results\" array"));
        };
        Ok(next.map(|next| D::Collection(records, next)))
    }
}

/// The `results` array, one raw record per element.
struct Results;

impl<'de> DeserializeSeed<'de> for Results {
    type Value = Shaped<Vec<RawRecord>>;
    fn deserialize<Dz: de::Deserializer<'de>>(self, d: Dz) -> Result<Self::Value, Dz::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Results {
    type Value = Shaped<Vec<RawRecord>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    other_values!("the page has no \"results\" array");

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Err("the page has no \"results\" array"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(r) = seq.next_element::<RawRecord>()? {
            records.push(r);
        }
        Ok(Ok(records))
    }
}

/// `__next`: a link, or null.
struct Next;

impl<'de> DeserializeSeed<'de> for Next {
    type Value = Shaped<Option<String>>;
    fn deserialize<Dz: de::Deserializer<'de>>(self, d: Dz) -> Result<Self::Value, Dz::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Next {
    type Value = Shaped<Option<String>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a URL")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Ok(Some(s.to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("\"__next\" is not a URL"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("\"__next\" is not a URL"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("\"__next\" is not a URL"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("\"__next\" is not a URL"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Err("\"__next\" is not a URL"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Err("\"__next\" is not a URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_entries_and_their_faults() {
        let (records, next) =
            page(br#"{"d": {"results": [{"a": 1}, {"b": [2]}], "__next": "http://x/y"}}"#).unwrap();
        let texts: Vec<&str> = records.iter().map(|r| r.get()).collect();
        assert_eq!(texts, [r#"{"a": 1}"#, r#"{"b": [2]}"#]);
        assert_eq!(next.as_deref(), Some("http://x/y"));
        let (records, next) = page(br#"{"d": [{"a": 1}]}"#).unwrap();
        assert_eq!((records.len(), next), (1, None));
        let (_, next) = page(br#"{"d": {"results": [], "__next": null}}"#).unwrap();
        assert_eq!(next, None);
        for (body, fault) in [
            (&b"{"[..], "invalid JSON"),
            (b"[1]", "the answer is not a JSON object"),
            (br#"{"e": 1}"#, "no \"d\" member in the answer"),
            (br#"{"d": {"x": 1}}"#, "the page has no \"results\" array"),
            (
                br#"{"d": {"results": {}}}"#,
                "the page has no \"results\" array",
            ),
            (
                br#"{"d": {"results": [], "__next": 3}}"#,
                "\"__next\" is not a URL",
            ),
            (br#"{"d": "x"}"#, "\"d\" is not a collection"),
        ] {
            let err = page(body).unwrap_err();
            assert!(err.starts_with(fault), "{err}");
        }
        assert_eq!(entry(br#"{"d": {"a": 1}}"#).unwrap().get(), r#"{"a": 1}"#);
        assert_eq!(
            entry(br#"{"d": [1]}"#).unwrap_err(),
            "\"d\" is not an entry"
        );
    }
}
