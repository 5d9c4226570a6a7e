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

use uuid::Uuid;

use super::property::Property;

/// The slot of a property the entity does not map (skipped with [`IgnoredAny`]).
pub const UNMAPPED: usize = usize::MAX;

/// The generated side of an entity's record decoder. Not implemented by hand.
pub trait RecordShape {
    /// The entity's CDMS metadata.
    const CDMS: &'static CdmsMeta;

    /// The seed of each mapped property's value, by slot (in [`CdmsMeta::fields`] order).
    const SEEDS: &'static [Property];

    /// The slot (index in [`CdmsMeta::fields`]) of property `name`, or [`UNMAPPED`].
    fn slot(name: &str) -> usize;
}

/// The properties of one record read so far. The values go straight into the record's own
/// list (tagged with their slot until [`finish`] puts the local field in), so a record costs
/// one list of its values and no table of every slot.
pub struct Partial {
    /// `(slot, value)` in the order the properties came.
    values: Vec<(usize, Value)>,
    /// The lookups with an `Id`, each tagged with its slot (in `field`) until [`finish`]
    /// puts the local field in.
    refs: Vec<RemoteRef>,
    /// One bit per slot: whether the property came (the first 256 slots inline, so an entity
    /// of up to 256 properties allocates nothing for them).
    seen: [u64; INLINE_WORDS],
    /// The bits of the slots beyond the first 256.
    more: Vec<u64>,
}

/// The words of [`Partial::seen`].
const INLINE_WORDS: usize = 4;

impl Partial {
    fn new(slots: usize) -> Self {
        Partial {
            values: Vec::with_capacity(slots),
            refs: Vec::new(),
            seen: [0; INLINE_WORDS],
            more: vec![0; slots.div_ceil(64).saturating_sub(INLINE_WORDS)],
        }
    }

    /// The word holding `slot`'s bit.
    #[inline]
    fn word(&self, slot: usize) -> Option<u64> {
        let i = slot / 64;
        match self.seen.get(i) {
            Some(w) => Some(*w),
            None => self.more.get(i - INLINE_WORDS).copied(),
        }
    }

    #[inline]
    fn word_mut(&mut self, slot: usize) -> Option<&mut u64> {
        let i = slot / 64;
        match self.seen.get_mut(i) {
            Some(w) => Some(w),
            None => self.more.get_mut(i - INLINE_WORDS),
        }
    }

    /// How many of the slots before `slot` came: its place among the record's values in
    /// slot order.
    fn rank(&self, slot: usize) -> usize {
        let i = slot / 64;
        let below = |w: u64| w.count_ones() as usize;
        let whole: usize = self
            .seen
            .iter()
            .chain(&self.more)
            .take(i)
            .copied()
            .map(below)
            .sum();
        let part = self
            .word(slot)
            .map_or(0, |w| below(w & ((1u64 << (slot % 64)) - 1)));
        whole + part
    }

    /// Stores the value decoded for `slot` (a repeated property: the last one counts, as in a
    /// JSON object).
    #[inline]
    pub(super) fn put(&mut self, slot: usize, value: Value) {
        let bit = 1u64 << (slot % 64);
        let Some(word) = self.word_mut(slot) else {
            return;
        };
        let repeated = *word & bit != 0;
        *word |= bit;
        if repeated {
            self.values.retain(|(s, _)| *s != slot);
            self.refs.retain(|r| r.field != slot);
        }
        self.values.push((slot, value));
    }

    /// Stores the lookup decoded for `slot`: its target's id as the value, and the reference.
    pub(super) fn put_reference(
        &mut self,
        slot: usize,
        id: Uuid,
        logical_name: Option<String>,
        name: Option<String>,
    ) {
        self.put(slot, Value::Uuid(id));
        self.refs.push(RemoteRef {
            field: slot,
            id,
            logical_name,
            name,
        });
    }

    /// How many slots came.
    fn count(&self) -> usize {
        self.seen
            .iter()
            .chain(&self.more)
            .map(|w| w.count_ones() as usize)
            .sum()
    }

    fn has(&self, slot: usize) -> bool {
        self.word(slot)
            .is_some_and(|w| w & (1u64 << (slot % 64)) != 0)
    }

    /// The values in slot order. Each slot is there at most once, so each value's place is its
    /// [`rank`](Self::rank): one pass of swaps instead of a sort.
    fn into_ordered(mut self) -> (Vec<(usize, Value)>, Vec<RemoteRef>) {
        let mut values = std::mem::take(&mut self.values);
        if !values.is_sorted_by_key(|(slot, _)| *slot) {
            // Each swap puts one value in its place for good, so the inner loop ends after at
            // most `len` rounds (bounded all the same).
            for i in 0..values.len() {
                for _ in 0..values.len() {
                    let place = self.rank(values[i].0);
                    if place == i || place >= values.len() {
                        break;
                    }
                    values.swap(i, place);
                }
            }
        }
        let mut refs = self.refs;
        if !refs.is_sorted_by_key(|r| r.field) {
            refs.sort_unstable_by_key(|r| r.field);
        }
        (values, refs)
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
        let mut partial = Partial::new(S::CDMS.fields.len());
        while let Some(slot) = map.next_key_seed(Key::<S>(PhantomData))? {
            // One copy of the property decoder serves every slot: the seed carries the
            // property's CRM type and local kind, and puts the value into the record itself.
            match S::SEEDS.get(slot) {
                Some(property) => map.next_value_seed(property.put_into(slot, &mut partial))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
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
    partial: Partial,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, Declined> {
    let declined = |what: &str, property: &str| Err(Declined(format!("{property}: {what}")));
    let Some(modified_field) = meta.modified() else {
        return declined("no ModifiedOn mapping", meta.service);
    };
    // A record with every mapped property (the usual full `$select`) lacks none.
    if partial.count() < meta.fields.len() {
        for (slot, f) in meta.fields.iter().enumerate() {
            let required = fields.is_none_or(|fs| fs.contains(&f.field));
            let key = f.field == meta.id_field || Some(f.field) == meta.entity.modified;
            if !partial.has(slot) && required && !key {
                return declined("absent", f.property);
            }
        }
    }
    // In field order, as the reference decoder lists them (CDMS sends them in its own).
    let (mut values, mut refs) = partial.into_ordered();
    let mut id = None;
    let mut modified = None;
    for (slot, value) in &mut values {
        let Some(f) = meta.fields.get(*slot) else {
            return declined("no such property", meta.service);
        };
        if f.field == meta.id_field {
            match (&*value, f.codec, f.kind) {
                (Value::Uuid(u), None, CdmsKind::Guid) => id = Some(*u),
                _ => return declined("no id", f.property),
            }
        }
        if std::ptr::eq(f, modified_field) {
            match (&*value, f.codec, f.kind) {
                (Value::DateTime(t), None, CdmsKind::DateTime) => modified = Some(*t),
                _ => return declined("no /Date(ms)/", f.property),
            }
        }
        let local = meta.entity.fields.get(f.field);
        if value.is_null() && !local.is_none_or(|m| m.nullable) {
            match local.and_then(|m| f.null.replacement(m.kind)) {
                Some(default) => *value = default,
                None => return declined("null for a required field", f.property),
            }
        }
        *slot = f.field;
    }
    // A lookup's reference was kept with its id (a converter's property never has one).
    for r in &mut refs {
        match meta.fields.get(r.field) {
            Some(f) if f.codec.is_none() => r.field = f.field,
            _ => return declined("a reference of no lookup", meta.service),
        }
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
