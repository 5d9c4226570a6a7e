//! CDMS verbose-JSON records ⇄ local [`Value`]s, driven by [`CdmsMeta`].
//!
//! Decoding accepts every form the 2011 endpoint (or a faithful emulation) may send: Int64 and
//! Decimal as numbers or quoted strings, `/Date(ms)/` with a negative count or an offset,
//! complex values whose members are all null as null. Encoding writes what the endpoint
//! documents: Int32 as numbers, Int64 and Decimal quoted, `/Date(ms)/` in UTC, Money as
//! `{"Value": "12.34"}`, option sets as `{"Value": n}`, lookups as `{"Id", "LogicalName"}`, and
//! a null complex value as an object of null members. Nothing here depends on the machine's time
//! zone.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::value::{Kind, Value};

use super::meta::{CdmsField, CdmsKind, CdmsMeta, NullPolicy};
use super::{excerpt, wire, CdmsError};

/// The property CDMS stamps on every change, used when the entity does not map it.
const MODIFIED_ON: &str = "ModifiedOn";

/// Server-managed properties that are never written.
const READ_ONLY: [&str; 3] = ["ModifiedOn", "CreatedOn", "VersionNumber"];

/// A CDMS record decoded into local field values.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRecord {
    /// The CDMS primary key.
    pub id: Uuid,
    /// `ModifiedOn`.
    pub modified: DateTime<Utc>,
    /// `(local field index, value)` for every mapped property present in the record, in
    /// [`CdmsMeta::fields`] order. Properties left out by `$select` are absent (not null).
    /// Lookups hold [`Value::Uuid`] of the target's CDMS id (the sync layer maps it to the
    /// local key); `refs` has their details.
    pub values: Vec<(usize, Value)>,
    /// The non-null lookups, with the target's logical name and display name.
    pub refs: Vec<RemoteRef>,
}

impl RemoteRecord {
    /// The decoded value of local field `field`, if the record carried it.
    pub fn value(&self, field: usize) -> Option<&Value> {
        self.values
            .iter()
            .find(|(i, _)| *i == field)
            .map(|(_, v)| v)
    }
}

/// A non-null lookup (`EntityReference`) of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// The local field index.
    pub field: usize,
    /// The target's CDMS id.
    pub id: Uuid,
    /// The target's logical name (`account`), when sent.
    pub logical_name: Option<String>,
    /// The target's display name, when sent.
    pub name: Option<String>,
}

/// Which write a body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST` to the set: the id property is sent when given (a client-generated key).
    Create,
    /// `MERGE`: the id property is never sent.
    Merge,
}

/// The `$select` list for `meta`: the id property, `ModifiedOn`, and the properties of
/// `fields` (local indexes; `None` = every mapped property).
pub fn select(meta: &'static CdmsMeta, fields: Option<&[usize]>) -> Vec<String> {
    let modified = meta.modified().map_or(MODIFIED_ON, |f| f.property);
    let mut out = vec![meta.id_property.to_owned()];
    if modified != meta.id_property {
        out.push(modified.to_owned());
    }
    for f in meta.fields {
        let wanted = fields.is_none_or(|fs| fs.contains(&f.field));
        if wanted && !out.iter().any(|p| p == f.property) {
            out.push(f.property.to_owned());
        }
    }
    out
}

/// Decodes one record (the object inside `d`, or one of `d.results`) fetched with the full
/// `$select` ([`select`] with `None`): every mapped property must be present. A property absent
/// from the answer (not null: missing) is an error for the record, never a default value.
pub fn decode(meta: &'static CdmsMeta, record: &J) -> Result<RemoteRecord, CdmsError> {
    decode_selected(meta, record, None)
}

/// Decodes one record fetched with a narrowed `$select` of the local fields `fields` (`None`:
/// every mapped property): the id and `ModifiedOn` are always required, the properties of
/// `fields` must be present, and other mapped properties are decoded when present.
pub fn decode_selected(
    meta: &'static CdmsMeta,
    record: &J,
    fields: Option<&[usize]>,
) -> Result<RemoteRecord, CdmsError> {
    let entity = meta.service;
    let obj = record.as_object().ok_or_else(|| CdmsError::Decode {
        entity,
        record: None,
        property: String::new(),
        value: shown(record),
        reason: "a record must be a JSON object".into(),
    })?;
    let id_json = obj.get(meta.id_property).unwrap_or(&J::Null);
    let id = match guid(id_json) {
        Some(id) => id,
        None => {
            return Err(decode_err(
                entity,
                None,
                meta.id_property,
                id_json,
                "the record has no id",
            ))
        }
    };
    let modified_property = meta.modified().map_or(MODIFIED_ON, |f| f.property);
    let modified_json = obj.get(modified_property).unwrap_or(&J::Null);
    let modified = modified_json
        .as_str()
        .and_then(wire::parse_date)
        .ok_or_else(|| {
            decode_err(
                entity,
                Some(id),
                modified_property,
                modified_json,
                "expected a /Date(ms)/ timestamp",
            )
        })?;
    let mut values = Vec::with_capacity(meta.fields.len());
    let mut refs = Vec::new();
    for f in meta.fields {
        let Some(json) = obj.get(f.property) else {
            let required = fields.is_none_or(|fs| fs.contains(&f.field));
            if required && f.field != meta.id_field && Some(f.field) != meta.entity.modified {
                return Err(decode_err(
                    entity,
                    Some(id),
                    f.property,
                    &J::Null,
                    "the property is absent from CDMS's answer (not null: missing); the record \
                     cannot be applied without it",
                ));
            }
            continue;
        };
        let value = decode_property(meta, f, json).map_err(|e| with_record(e, id))?;
        let local = meta.entity.fields.get(f.field);
        let nullable = local.is_none_or(|m| m.nullable);
        if value.is_null() && !nullable {
            // `#[cdms(null = default)]`: CRM's null (a blanked text) is the type's default.
            if let Some(default) = local.and_then(|m| f.null.replacement(m.kind)) {
                values.push((f.field, default));
                continue;
            }
            return Err(decode_err(
                entity,
                Some(id),
                f.property,
                json,
                "CDMS holds no value, but the local field is not optional: make it Option<_>, \
                 add #[cdms(null = default)], or map it with a converter that supplies a default",
            ));
        }
        if let (CdmsKind::EntityReference, Value::Uuid(target)) = (f.kind, &value) {
            if f.codec.is_none() {
                let text = |m: &str| json.get(m).and_then(J::as_str).map(str::to_owned);
                refs.push(RemoteRef {
                    field: f.field,
                    id: *target,
                    logical_name: text("LogicalName"),
                    name: text("Name"),
                });
            }
        }
        values.push((f.field, value));
    }
    Ok(RemoteRecord {
        id,
        modified,
        values,
        refs,
    })
}

/// `e` with the record id filled in, when it is a decode error without one.
pub(crate) fn with_record(e: CdmsError, id: Uuid) -> CdmsError {
    match e {
        CdmsError::Decode {
            entity,
            record: None,
            property,
            value,
            reason,
        } => CdmsError::Decode {
            entity,
            record: Some(id),
            property,
            value,
            reason,
        },
        other => other,
    }
}

/// Decodes one property's JSON into the value of its local field.
pub fn decode_property(
    meta: &'static CdmsMeta,
    f: &CdmsField,
    json: &J,
) -> Result<Value, CdmsError> {
    let entity = meta.service;
    if let Some(codec) = f.codec {
        return (codec.decode)(json)
            .map_err(|reason| decode_err(entity, None, f.property, json, reason));
    }
    let local = meta
        .entity
        .fields
        .get(f.field)
        .map_or(Kind::Text, |m| m.kind);
    let err = |reason: &str| decode_err(entity, None, f.property, json, reason);
    let inner = match f.kind {
        CdmsKind::Money | CdmsKind::OptionSetValue => match json {
            J::Null => &J::Null,
            J::Object(o) => o.get("Value").unwrap_or(&J::Null),
            _ => return Err(err("expected an object with a Value member")),
        },
        CdmsKind::EntityReference => {
            return match json {
                J::Null => Ok(Value::Null),
                J::Object(o) => match o.get("Id").unwrap_or(&J::Null) {
                    J::Null => Ok(Value::Null),
                    id => guid(id)
                        .map(Value::Uuid)
                        .ok_or_else(|| err("expected a GUID in Id")),
                },
                _ => Err(err("expected an object with Id, LogicalName and Name")),
            };
        }
        _ => json,
    };
    if inner.is_null() {
        return Ok(Value::Null);
    }
    match f.kind {
        CdmsKind::String => inner
            .as_str()
            .map(|s| Value::Text(s.to_owned()))
            .ok_or_else(|| err("expected a string")),
        CdmsKind::Boolean => inner
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| err("expected true or false")),
        CdmsKind::Int32 | CdmsKind::OptionSetValue | CdmsKind::Int64 => {
            let n = integer(inner).ok_or_else(|| err("expected an integer"))?;
            if (local == Kind::Int32 || f.kind != CdmsKind::Int64) && i32::try_from(n).is_err() {
                return Err(err("out of range for a 32-bit integer"));
            }
            Ok(Value::Int(n))
        }
        CdmsKind::Decimal | CdmsKind::Money => {
            let d = decimal(inner).ok_or_else(|| err("expected a decimal number"))?;
            Ok(if local == Kind::Float {
                Value::Float(
                    rust_decimal::prelude::ToPrimitive::to_f64(&d)
                        .ok_or_else(|| err("not representable as f64"))?,
                )
            } else {
                Value::Decimal(d)
            })
        }
        CdmsKind::Double => {
            let x = match inner {
                J::Number(n) => n.as_f64(),
                J::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
                _ => None,
            };
            x.map(Value::Float).ok_or_else(|| err("expected a number"))
        }
        CdmsKind::DateTime => {
            let t = inner
                .as_str()
                .and_then(wire::parse_date)
                .ok_or_else(|| err("expected a /Date(ms)/ timestamp"))?;
            Ok(if local == Kind::Date {
                Value::Date(t.date_naive())
            } else {
                Value::DateTime(t)
            })
        }
        CdmsKind::Guid => guid(inner)
            .map(Value::Uuid)
            .ok_or_else(|| err("expected a GUID")),
        CdmsKind::EntityReference => Ok(Value::Null), // handled above
    }
}

/// Encodes `(local field index, value)` pairs into a create or MERGE body. Unmapped (local-only)
/// fields are skipped, and so are the server-managed `ModifiedOn`, `CreatedOn` and
/// `VersionNumber` and `#[cdms(read_only)]` properties; the id property only goes into a
/// create. Lookups need [`Value::Uuid`] (the target's CDMS id).
pub fn encode(
    meta: &'static CdmsMeta,
    values: &[(usize, Value)],
    mode: WriteMode,
) -> Result<Map<String, J>, CdmsError> {
    let entity = meta.entity;
    let mut body = Map::new();
    for (field, value) in values {
        let Some(f) = meta.by_field(*field) else {
            continue;
        };
        let server_managed = Some(*field) == entity.modified
            || Some(*field) == entity.created
            || f.read_only
            || READ_ONLY.contains(&f.property);
        if server_managed {
            continue;
        }
        let is_id = *field == meta.id_field || f.property == meta.id_property;
        if is_id && (mode == WriteMode::Merge || value.is_null()) {
            continue;
        }
        refuse_blank(meta, f, value)?;
        body.insert(
            f.property.to_owned(),
            encode_property(meta, f, value.clone())?,
        );
    }
    Ok(body)
}

/// Refuses values that CDMS would accept but store so that the local store cannot read them
/// back (see [`encode`]), before anything is sent.
pub fn check_writable(meta: &'static CdmsMeta, values: &[(usize, Value)]) -> Result<(), CdmsError> {
    for (field, value) in values {
        if let Some(f) = meta.by_field(*field) {
            refuse_blank(meta, f, value)?;
        }
    }
    Ok(())
}

/// CRM stores `""` as null: written to a non-optional `String` field without
/// `#[cdms(null = default)]`, it would leave a record in CDMS that the local store then refuses
/// to read, so it is refused before anything is sent.
pub(crate) fn refuse_blank(
    meta: &'static CdmsMeta,
    f: &CdmsField,
    value: &Value,
) -> Result<(), CdmsError> {
    let required = meta.entity.fields.get(f.field).is_some_and(|m| !m.nullable);
    let blank = matches!(value, Value::Text(s) if s.is_empty());
    if blank
        && required
        && f.kind == CdmsKind::String
        && f.codec.is_none()
        && f.null == NullPolicy::Refuse
    {
        return Err(CdmsError::Encode {
            entity: meta.service,
            property: f.property.to_owned(),
            value: "\"\"".to_owned(),
            reason: "CDMS would store the empty string as null, which this non-optional field \
                     cannot hold: give it a value, make it Option<String>, or add \
                     #[cdms(null = default)]"
                .to_owned(),
        });
    }
    Ok(())
}

/// Encodes one property value.
pub fn encode_property(
    meta: &'static CdmsMeta,
    f: &CdmsField,
    value: Value,
) -> Result<J, CdmsError> {
    let entity = meta.service;
    let shown = value.to_string();
    let err = |reason: &str| CdmsError::Encode {
        entity,
        property: f.property.to_owned(),
        value: excerpt(&shown, 100),
        reason: reason.to_owned(),
    };
    if let Some(codec) = f.codec {
        return (codec.encode)(value).map_err(|reason| err(&reason));
    }
    Ok(match (f.kind, value) {
        (CdmsKind::Money | CdmsKind::OptionSetValue, Value::Null) => json!({ "Value": null }),
        (CdmsKind::EntityReference, Value::Null) => {
            json!({ "Id": null, "LogicalName": null, "Name": null })
        }
        (_, Value::Null) => J::Null,
        (CdmsKind::String, Value::Text(s)) => J::String(s),
        (CdmsKind::Boolean, Value::Bool(b)) => J::Bool(b),
        (CdmsKind::Int32, Value::Int(n)) => {
            J::from(i32::try_from(n).map_err(|_| err("out of range for a 32-bit integer"))?)
        }
        (CdmsKind::Int64, Value::Int(n)) => J::String(n.to_string()),
        (CdmsKind::Decimal, Value::Decimal(d)) => J::String(d.to_string()),
        (CdmsKind::Decimal, Value::Float(x)) => J::String(
            float_decimal(x)
                .ok_or_else(|| err("not a finite number"))?
                .to_string(),
        ),
        (CdmsKind::Double, Value::Float(x)) => serde_json::Number::from_f64(x)
            .map(J::Number)
            .ok_or_else(|| err("not a finite number"))?,
        (CdmsKind::DateTime, Value::DateTime(t)) => J::String(wire::format_date(&t)),
        (CdmsKind::DateTime, Value::Date(d)) => {
            let t = d
                .and_hms_opt(0, 0, 0)
                .ok_or_else(|| err("invalid date"))?
                .and_utc();
            J::String(wire::format_date(&t))
        }
        (CdmsKind::Guid, Value::Uuid(u)) => J::String(u.hyphenated().to_string()),
        (CdmsKind::Money, Value::Decimal(d)) => json!({ "Value": d.to_string() }),
        (CdmsKind::Money, Value::Float(x)) => {
            json!({ "Value": float_decimal(x).ok_or_else(|| err("not a finite number"))?.to_string() })
        }
        (CdmsKind::OptionSetValue, Value::Int(n)) => {
            json!({ "Value": i32::try_from(n).map_err(|_| err("out of range for an option set value"))? })
        }
        (CdmsKind::EntityReference, Value::Uuid(id)) => {
            let target = meta
                .entity
                .fields
                .get(f.field)
                .and_then(|m| m.references)
                .and_then(|t| CdmsMeta::of(t()));
            match target {
                Some(t) => {
                    json!({ "Id": id.hyphenated().to_string(), "LogicalName": t.logical_name })
                }
                None => json!({ "Id": id.hyphenated().to_string() }),
            }
        }
        (CdmsKind::EntityReference, Value::Int(_)) => {
            return Err(err(
                "a reference must be resolved to the target's CDMS id before it is sent",
            ))
        }
        (kind, _) => {
            return Err(err(&format!(
                "not a value of a {} property",
                kind.edm_type()
            )))
        }
    })
}

fn decode_err(
    entity: &'static str,
    record: Option<Uuid>,
    property: &str,
    json: &J,
    reason: impl Into<String>,
) -> CdmsError {
    CdmsError::Decode {
        entity,
        record,
        property: property.to_owned(),
        value: shown(json),
        reason: reason.into(),
    }
}

fn shown(json: &J) -> String {
    excerpt(&json.to_string(), 100)
}

fn guid(json: &J) -> Option<Uuid> {
    json.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok())
}

fn integer(json: &J) -> Option<i64> {
    match json {
        J::Number(n) => n.as_i64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn decimal(json: &J) -> Option<Decimal> {
    let text = match json {
        J::Number(n) => n.to_string(),
        J::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

fn float_decimal(x: f64) -> Option<Decimal> {
    if x.is_finite() {
        Decimal::try_from(x).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
