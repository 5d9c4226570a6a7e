//! Helpers on rows of synced entities: the CDMS id, `modified`, the mapped data fields.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::error::SyncError;
use crate::cdms::codec::RemoteRecord;
use crate::cdms::meta::CdmsMeta;
use crate::entity::{EntityMeta, FieldMeta, Row};
use crate::error::{Error, Result};
use crate::value::{Kind, Value};

/// The CDMS metadata of `meta`, or [`SyncError::NotSynced`].
pub(crate) fn cdms_of(meta: &'static EntityMeta) -> Result<&'static CdmsMeta> {
    let cdms = CdmsMeta::of(meta).ok_or_else(|| SyncError::NotSynced {
        entity: meta.name,
        message: "the entity has no CDMS metadata: derive CdmsSynced".to_owned(),
    })?;
    let id_unique = meta.fields.get(cdms.id_field).is_some_and(|f| f.unique);
    if !id_unique {
        return Err(SyncError::NotSynced {
            entity: meta.name,
            message: format!(
                "the CDMS id field must be unique locally (refreshes upsert on it): add \
                 #[entity(unique)] to the field mapped to {}",
                cdms.id_property
            ),
        }
        .into());
    }
    Ok(cdms)
}

/// The CDMS id a row holds (`None` while unpublished).
pub(crate) fn id_of(cdms: &CdmsMeta, row: &Row) -> Result<Option<Uuid>> {
    let meta = cdms.entity;
    match row.get(cdms.id_field) {
        Some(Value::Uuid(u)) => Ok(Some(*u)),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(Error::decode(
            meta.name,
            field_name(meta, cdms.id_field),
            other,
            "expected a GUID",
        )),
    }
}

/// The local primary key a row holds (0 when unsaved).
pub(crate) fn pk_of(meta: &EntityMeta, row: &Row) -> i64 {
    match row.get(meta.pk) {
        Some(Value::Int(pk)) => *pk,
        _ => 0,
    }
}

/// The `modified` instant a row holds.
pub(crate) fn modified_of(meta: &EntityMeta, row: &Row) -> Option<DateTime<Utc>> {
    match meta.modified.and_then(|i| row.get(i)) {
        Some(Value::DateTime(t)) => Some(*t),
        _ => None,
    }
}

/// The name of field `index`, for messages.
pub(crate) fn field_name(meta: &EntityMeta, index: usize) -> &'static str {
    meta.fields.get(index).map_or("?", |f| f.name)
}

/// Whether field `index` is one the server manages or that identifies the record: the CDMS id,
/// `modified`, `created`. These are never compared as "data" or sent in writes.
pub(crate) fn is_system(cdms: &CdmsMeta, index: usize) -> bool {
    let meta = cdms.entity;
    index == cdms.id_field || Some(index) == meta.modified || Some(index) == meta.created
}

/// The mapped data fields: every mapped field except the id, `modified` and `created`.
pub(crate) fn data_fields(cdms: &'static CdmsMeta) -> impl Iterator<Item = usize> {
    cdms.fields
        .iter()
        .map(|f| f.field)
        .filter(move |&i| !is_system(cdms, i))
}

/// The mapped data fields whose values differ between `a` and `b`.
pub(crate) fn changed_fields(cdms: &'static CdmsMeta, a: &Row, b: &Row) -> Vec<usize> {
    data_fields(cdms)
        .filter(|&i| a.get(i) != b.get(i))
        .collect()
}

/// The fields a refresh overwrites in an existing row: every mapped field but the id (the upsert
/// key).
pub(crate) fn refresh_fields(cdms: &'static CdmsMeta) -> Vec<usize> {
    cdms.fields
        .iter()
        .map(|f| f.field)
        .filter(|&i| i != cdms.id_field && i != cdms.entity.pk)
        .collect()
}

/// A value for a field no CDMS record fills (a local-only field of a row created by a refresh):
/// null when optional, otherwise the type's zero (`false`, `0`, `""`, the Unix epoch, ...).
pub(crate) fn default_value(f: &FieldMeta) -> Value {
    if f.nullable {
        return Value::Null;
    }
    match f.kind {
        Kind::Bool => Value::Bool(false),
        Kind::Int32 | Kind::Int64 => Value::Int(0),
        Kind::Float => Value::Float(0.0),
        Kind::Text => Value::Text(String::new()),
        Kind::Decimal => Value::Decimal(Decimal::ZERO),
        Kind::DateTime => Value::DateTime(DateTime::<Utc>::UNIX_EPOCH),
        Kind::Date => Value::Date(NaiveDate::default()),
        Kind::Uuid => Value::Uuid(Uuid::nil()),
    }
}

/// A new row for a record first seen in CDMS: primary key 0, local-only fields at their
/// defaults (see [`default_value`]).
pub(crate) fn default_row(meta: &EntityMeta) -> Row {
    let mut row: Row = meta.fields.iter().map(default_value).collect();
    if let Some(pk) = row.get_mut(meta.pk) {
        *pk = Value::Int(0);
    }
    row
}

/// Writes the mapped values of `record` into `row` (`modified` included). Lookup fields receive
/// the target's CDMS id as [`Value::Uuid`]; the caller maps it to the local key.
pub(crate) fn put_record(cdms: &CdmsMeta, record: &RemoteRecord, row: &mut Row) {
    for (i, v) in &record.values {
        if let Some(slot) = row.get_mut(*i) {
            *slot = crate::store::normalize(v.clone());
        }
    }
    if let Some(slot) = row.get_mut(cdms.id_field) {
        *slot = Value::Uuid(record.id);
    }
    if let Some(slot) = cdms.entity.modified.and_then(|i| row.get_mut(i)) {
        *slot = Value::DateTime(crate::store::truncate_micros(record.modified));
    }
}

/// The referenced entity of field `index`, when it is a lookup.
pub(crate) fn reference_target(meta: &EntityMeta, index: usize) -> Option<&'static EntityMeta> {
    meta.fields
        .get(index)
        .and_then(|f| f.references)
        .map(|f| f())
}
