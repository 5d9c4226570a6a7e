//! Applying a batch of raw CDMS records through the sync layer's apply path, with the poller's
//! same-second check.
//!
//! CDMS stamps `ModifiedOn` in whole seconds, so two edits of a record within one second carry
//! the same `ModifiedOn`. The refresh rule ("equal `ModifiedOn` = in sync") would then keep the
//! first edit if a poll saw it. The poller therefore compares the mapped values of every record
//! whose `ModifiedOn` equals its local row's, and when they differ marks the row stale (its
//! `modified` set back, in the same transaction) so the apply path refreshes it and records a
//! version. The bulk load skips the check: it only meets a row twice when a resumed page repeats,
//! and then the values are the same.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value as J;
use uuid::Uuid;

use crate::cdms::codec::{self, RemoteRecord};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::apply_records;
use crate::cdms::CdmsError;
use crate::entity::{EntityMeta, Row};
use crate::error::Result;
use crate::query::expr::{Cond, Expr, Lookup};
use crate::store::{normalize, rows, ReadSpec, Tx};
use crate::value::Value;

use super::Bulk;

/// What applying one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchStats {
    /// Records in the batch.
    pub records: usize,
    /// Rows created.
    pub inserted: usize,
    /// Rows refreshed.
    pub updated: usize,
    /// Records already in sync.
    pub unchanged: usize,
    /// Records whose local row is newer (left alone).
    pub local_newer: usize,
    /// Rows refreshed because of a same-second change.
    pub same_second: usize,
    /// The newest `ModifiedOn` in the batch.
    pub newest: Option<DateTime<Utc>>,
}

fn by_id(meta: &CdmsMeta, ids: impl IntoIterator<Item = Uuid>) -> ReadSpec {
    let ids: Vec<Value> = ids.into_iter().map(Value::Uuid).collect();
    ReadSpec::filtered(
        meta.entity,
        Expr::Cond(Cond {
            field: meta.id_field,
            lookup: Lookup::In(ids),
        }),
    )
}

fn uuid_of(v: &Value) -> Option<Uuid> {
    match v {
        Value::Uuid(u) => Some(*u),
        _ => None,
    }
}

/// The CDMS ids of rows `pks` of `target` (a synced entity).
async fn cdms_ids(
    tx: &mut Tx,
    target: &'static EntityMeta,
    pks: Vec<i64>,
) -> Result<HashMap<i64, Option<Uuid>>> {
    let Some(cdms) = CdmsMeta::of(target) else {
        return Ok(HashMap::new());
    };
    let spec = ReadSpec::filtered(
        target,
        Expr::Cond(Cond {
            field: target.pk,
            lookup: Lookup::In(pks.into_iter().map(Value::Int).collect()),
        }),
    );
    let found = rows::select_columns(&mut *tx, target, &spec, &[target.pk, cdms.id_field]).await?;
    Ok(found
        .into_iter()
        .filter_map(|r| match r.first() {
            Some(Value::Int(pk)) => Some((*pk, r.get(1).and_then(uuid_of))),
            _ => None,
        })
        .collect())
}

/// Sets `modified` back on the local rows whose record has the same `ModifiedOn` but different
/// mapped values; returns how many.
async fn stale_same_second(
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    records: &[RemoteRecord],
) -> Result<usize> {
    let meta = cdms.entity;
    let Some(modified) = meta.modified else {
        return Ok(0);
    };
    if records.is_empty() {
        return Ok(0);
    }
    let mut local: HashMap<Uuid, Row> = HashMap::new();
    for row in rows::select(&mut *tx, meta, &by_id(cdms, records.iter().map(|r| r.id))).await? {
        if let Some(id) = row.get(cdms.id_field).and_then(uuid_of) {
            local.insert(id, row);
        }
    }
    let same: Vec<(&RemoteRecord, &Row)> = records
        .iter()
        .filter_map(|r| local.get(&r.id).map(|row| (r, row)))
        .filter(|(r, row)| {
            row.get(modified) == Some(&Value::DateTime(crate::store::truncate_micros(r.modified)))
        })
        .collect();
    if same.is_empty() {
        return Ok(0);
    }
    // The CDMS ids of the referenced local rows, one statement per target entity.
    let mut wanted: HashMap<&'static str, (&'static EntityMeta, Vec<i64>)> = HashMap::new();
    for (_, row) in &same {
        for f in cdms.fields {
            let Some(target) = meta.fields.get(f.field).and_then(|m| m.references) else {
                continue;
            };
            if let Some(Value::Int(pk)) = row.get(f.field) {
                let target = target();
                wanted
                    .entry(target.table)
                    .or_insert_with(|| (target, Vec::new()))
                    .1
                    .push(*pk);
            }
        }
    }
    let mut targets: HashMap<&'static str, HashMap<i64, Option<Uuid>>> = HashMap::new();
    for (table, (target, pks)) in wanted {
        targets.insert(table, cdms_ids(tx, target, pks).await?);
    }
    let mut stale = Vec::new();
    for (record, row) in same {
        let differs = record.values.iter().any(|(field, value)| {
            let Some(local) = row.get(*field) else {
                return false;
            };
            let target = meta
                .fields
                .get(*field)
                .and_then(|m| m.references)
                .map(|t| t().table);
            match (target, local) {
                (Some(table), Value::Int(pk)) => {
                    let local_id = targets
                        .get(table)
                        .and_then(|m| m.get(pk))
                        .copied()
                        .flatten();
                    local_id != uuid_of(value)
                }
                (Some(_), Value::Null) => !value.is_null(),
                _ => normalize(value.clone()) != *local,
            }
        });
        if differs {
            if let Some(Value::Int(pk)) = row.get(meta.pk) {
                stale.push(*pk);
            }
        }
    }
    if !stale.is_empty() {
        let epoch = Value::DateTime(DateTime::<Utc>::UNIX_EPOCH);
        rows::update_many(&mut *tx, meta, &[(modified, epoch)], &stale).await?;
    }
    Ok(stale.len())
}

impl Bulk {
    /// Decodes `records` of `cdms`'s set and applies them inside `tx` through the sync layer
    /// (with the same-second check when `same_second`).
    pub(crate) async fn apply_page(
        &self,
        tx: &mut Tx,
        cdms: &'static CdmsMeta,
        records: &[J],
        same_second: bool,
    ) -> Result<BatchStats> {
        let decoded = records
            .iter()
            .map(|r| codec::decode(cdms, r))
            .collect::<Result<Vec<_>, CdmsError>>()?;
        let mut stats = BatchStats {
            records: decoded.len(),
            newest: decoded.iter().map(|r| r.modified).max(),
            ..BatchStats::default()
        };
        if same_second {
            stats.same_second = stale_same_second(tx, cdms, &decoded).await?;
        }
        let applied = apply_records(&self.remote, tx, cdms.entity, decoded).await?;
        stats.inserted = applied.inserted;
        stats.updated = applied.updated;
        stats.unchanged = applied.unchanged;
        stats.local_newer = applied.local_newer.len();
        for newer in &applied.local_newer {
            tracing::warn!(
                entity = newer.entity,
                pk = newer.pk,
                cdms_id = %newer.cdms_id,
                "the local row is newer than its CDMS record; left untouched"
            );
        }
        Ok(stats)
    }
}
