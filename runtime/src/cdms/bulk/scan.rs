//! Paging through the keys of both sides: CDMS ids (with `$select`, so pages stay small) and the
//! local rows' CDMS ids, in chunks.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::cdms::client::{CdmsClient, ListOptions};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::CdmsError;
use crate::error::{Error, Result};
use crate::expr::{Cmp, Cond, Expr, Lookup, OrderKey};
use crate::store::{rows, Db, ReadSpec};
use crate::value::Value;

use super::plan::{modified_property, record_time};
use super::stop::Stop;

/// Local rows read per statement.
const LOCAL_CHUNK: u64 = 5_000;

/// One CDMS record's key and `ModifiedOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemoteKey {
    pub id: Uuid,
    pub modified: Option<DateTime<Utc>>,
}

/// Calls `f` for every record of `meta`'s set (default key order), fetching only the id (and
/// `ModifiedOn` when `modified`). Returns false if `stop` fired before the end.
pub(crate) async fn remote_keys(
    client: &CdmsClient,
    meta: &'static CdmsMeta,
    modified: bool,
    stop: &Stop,
    mut f: impl FnMut(RemoteKey),
) -> Result<bool> {
    let modified_prop = modified_property(meta);
    let mut select = vec![meta.id_property.to_owned()];
    if modified {
        select.push(modified_prop.to_owned());
    }
    let opts = ListOptions {
        select,
        ..ListOptions::default()
    };
    let mut pager = client.pager(meta.set, &opts)?;
    while let Some(page) = pager.next_page().await? {
        for record in &page {
            let id = record
                .get(meta.id_property)
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| CdmsError::Decode {
                    entity: meta.service,
                    record: None,
                    property: meta.id_property.to_owned(),
                    value: crate::cdms::excerpt(&record.to_string(), 100),
                    reason: "the record has no id".to_owned(),
                })?;
            let modified = if modified {
                record_time(meta, record, modified_prop)?
            } else {
                None
            };
            f(RemoteKey { id, modified });
        }
        if stop.is_stopped() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One local row's primary key, CDMS id and `modified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalKey {
    pub pk: i64,
    pub cdms_id: Option<Uuid>,
    pub modified: Option<DateTime<Utc>>,
}

fn decode_local(meta: &'static CdmsMeta, row: Vec<Value>) -> Result<LocalKey> {
    let entity = meta.entity;
    let mut it = row.into_iter();
    let pk = match it.next() {
        Some(Value::Int(pk)) => pk,
        other => {
            return Err(Error::decode(
                entity.name,
                entity.pk_field().name,
                &other.unwrap_or(Value::Null),
                "expected an integer",
            ))
        }
    };
    let id_name = entity
        .fields
        .get(meta.id_field)
        .map_or("cdms_id", |f| f.name);
    let cdms_id = match it.next() {
        Some(Value::Uuid(u)) => Some(u),
        Some(Value::Null) | None => None,
        Some(other) => {
            return Err(Error::decode(
                entity.name,
                id_name,
                &other,
                "expected a UUID",
            ))
        }
    };
    let modified = match it.next() {
        Some(Value::DateTime(t)) => Some(t),
        _ => None,
    };
    Ok(LocalKey {
        pk,
        cdms_id,
        modified,
    })
}

/// Calls `f` for every local row of `meta`'s entity, in primary-key order, reading
/// [`LOCAL_CHUNK`] rows per statement.
pub(crate) async fn local_keys(
    db: &Db,
    meta: &'static CdmsMeta,
    mut f: impl FnMut(LocalKey),
) -> Result<()> {
    let entity = meta.entity;
    let mut fields = vec![entity.pk, meta.id_field];
    if let Some(m) = entity.modified {
        fields.push(m);
    }
    let mut after = i64::MIN;
    loop {
        let expr = Expr::Cond(Cond {
            field: entity.pk,
            lookup: Lookup::Compare(Cmp::Gt, Value::Int(after)),
        });
        let spec = ReadSpec {
            order: vec![OrderKey::asc(entity.pk)],
            limit: Some(LOCAL_CHUNK),
            ..ReadSpec::filtered(entity, expr)
        };
        let chunk = rows::select_columns(db, entity, &spec, &fields).await?;
        let n = chunk.len() as u64;
        for row in chunk {
            let key = decode_local(meta, row)?;
            after = key.pk;
            f(key);
        }
        if n < LOCAL_CHUNK {
            return Ok(());
        }
    }
}
