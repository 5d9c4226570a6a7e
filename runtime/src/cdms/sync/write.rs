//! Writes: the hooks the store calls inside its transaction. Any CDMS error returns before the
//! local statement runs, so the caller's transaction rolls back and the local store is unchanged.

use serde_json::Value as J;
use uuid::Uuid;

use super::apply::resolve_row;
use super::error::SyncError;
use super::fields::{
    cdms_of, changed_fields, data_fields, field_name, id_of, modified_of, pk_of, put_record,
};
use super::inflight::fetch;
use super::outcome::WriteOutcome;
use super::refs::to_remote;
use super::CdmsRemote;
use crate::cdms::codec::{self, RemoteRecord, WriteMode};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::CdmsError;
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::store::history::{self, VersionKind};
use crate::store::{Conn, Tx};
use crate::value::Value;

fn refused(meta: &EntityMeta, message: String) -> Error {
    Error::Refused {
        entity: meta.name,
        message,
    }
}

/// The CDMS record `id`, freshly read (never a shared GET: writes need CDMS's current state).
async fn current(
    remote: &CdmsRemote,
    cdms: &'static CdmsMeta,
    pk: i64,
    id: Uuid,
    during: &str,
) -> Result<RemoteRecord> {
    match fetch(remote.client(), cdms.set, id).await? {
        Some(json) => Ok(codec::decode(cdms, &J::Object((*json).clone()))?),
        None => Err(SyncError::RemoteDeleted {
            entity: cdms.entity.name,
            pk,
            cdms_id: id,
            message: format!("{during} was not applied; the next read of it removes the local row"),
        }
        .into()),
    }
}

/// Puts `record` into `row` with its lookups mapped to local keys.
async fn take_record(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    record: &RemoteRecord,
    row: &mut Row,
) -> Result<()> {
    put_record(cdms, record, row);
    resolve_row(remote, tx, cdms, row).await
}

/// `fields` of `row` as CDMS property values (lookups as the targets' CDMS ids).
async fn body(
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    row: &Row,
    fields: &[usize],
    mode: WriteMode,
) -> Result<serde_json::Map<String, J>> {
    let mut values: Vec<(usize, Value)> = fields
        .iter()
        .map(|&i| (i, row.get(i).cloned().unwrap_or(Value::Null)))
        .collect();
    to_remote(Conn::Tx(tx), cdms, &mut values).await?;
    Ok(codec::encode(cdms, &values, mode)?)
}

/// Creates `row` in CDMS (one POST with a client-generated id, or the id the row carries, e.g. a
/// restored object's) and fills it from the created record: id, `ModifiedOn`, `CreatedOn`, and
/// the values as CDMS stored them.
pub(crate) async fn insert(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
) -> Result<()> {
    let cdms = cdms_of(meta)?;
    let id = id_of(cdms, row)?.unwrap_or_else(Uuid::new_v4);
    let fields: Vec<usize> = data_fields(cdms).collect();
    let body = body(tx, cdms, row, &fields, WriteMode::Create).await?;
    let created = remote
        .client()
        .create_with_id(cdms.set, cdms.id_property, id, &body)
        .await?;
    let record = codec::decode(cdms, &J::Object(created))?;
    take_record(remote, tx, cdms, &record, row).await?;
    // Confirmed in sync only by a read after the commit: this transaction may still roll back.
    remote.forget(cdms, record.id);
    Ok(())
}

/// Updates the CDMS record of `old` with the mapped fields `new` changes (see the module docs of
/// [`super`] for the conflict rules); fills `new` from CDMS's record after the write.
pub(crate) async fn update(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    old: &Row,
    new: &mut Row,
) -> Result<()> {
    let cdms = cdms_of(meta)?;
    let pk = pk_of(meta, old);
    let (old_id, new_id) = (id_of(cdms, old)?, id_of(cdms, new)?);
    let Some(id) = old_id else {
        if new_id.is_some() {
            return Err(refused(meta, format!("object {pk} is local-only: publish it (CdmsRemote::publish) instead of setting its CDMS id")));
        }
        // A local-only row stays local until published; `modified` is the local clock.
        if let Some(slot) = meta.modified.and_then(|i| new.get_mut(i)) {
            *slot = Value::DateTime(crate::store::now());
        }
        return Ok(());
    };
    if new_id != Some(id) {
        return Err(refused(
            meta,
            format!("the CDMS id of object {pk} ({id}) cannot be changed or cleared"),
        ));
    }
    // `modified` and `created` are CDMS's; a caller's values are ignored.
    for i in [meta.modified, meta.created].into_iter().flatten() {
        if let (Some(slot), Some(v)) = (new.get_mut(i), old.get(i)) {
            *slot = v.clone();
        }
    }
    let ours = changed_fields(cdms, old, new);
    if ours.is_empty() {
        // Only local-only fields changed: nothing to tell CDMS.
        return Ok(());
    }
    let record = current(remote, cdms, pk, id, "the update").await?;
    let synced_at = modified_of(meta, old);
    if let Some(local) = synced_at.filter(|t| *t > record.modified) {
        return Err(SyncError::NotInSync {
            entity: meta.name,
            pk,
            cdms_id: id,
            local,
            cdms: record.modified,
        }
        .into());
    }
    let mut theirs = old.clone();
    take_record(remote, tx, cdms, &record, &mut theirs).await?;
    let changed_remotely = changed_fields(cdms, old, &theirs);
    let cdms_moved = !changed_remotely.is_empty() || modified_of(meta, &theirs) != synced_at;
    if cdms_moved {
        // History keeps CDMS's version before ours.
        history::record(tx, meta, VersionKind::RemoteRefresh, &theirs).await?;
    }
    let mut merged = Vec::new();
    let mut overwritten = Vec::new();
    let mut result = new.clone();
    for &f in &changed_remotely {
        if ours.contains(&f) {
            if new.get(f) != theirs.get(f) {
                overwritten.push(field_name(meta, f));
            }
        } else {
            result[f] = theirs[f].clone();
            merged.push(field_name(meta, f));
        }
    }
    let to_send: Vec<usize> = ours
        .iter()
        .copied()
        .filter(|&f| new.get(f) != theirs.get(f))
        .collect();
    if to_send.is_empty() {
        // CDMS already holds every value we are writing.
        for f in cdms.fields.iter().map(|f| f.field) {
            result[f] = theirs[f].clone();
        }
    } else {
        let body = body(tx, cdms, new, &to_send, WriteMode::Merge).await?;
        remote.client().update(cdms.set, id, &body).await?;
        let after = current(
            remote,
            cdms,
            pk,
            id,
            "reading the record back after the update",
        )
        .await?;
        take_record(remote, tx, cdms, &after, &mut result).await?;
    }
    if cdms_moved && !(merged.is_empty() && overwritten.is_empty()) {
        remote.report(WriteOutcome {
            entity: meta.name,
            pk,
            cdms_id: id,
            merged,
            overwritten,
            cdms_modified: record.modified,
            actor: tx.db().actor().map(str::to_owned),
        });
    }
    *new = result;
    remote.forget(cdms, id);
    Ok(())
}

/// Deletes the CDMS record of `row` (one DELETE). A record already gone from CDMS (404) is not an
/// error: the local row is deleted all the same. A local-only row needs no request.
pub(crate) async fn delete(
    remote: &CdmsRemote,
    _tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &Row,
) -> Result<()> {
    let cdms = cdms_of(meta)?;
    let Some(id) = id_of(cdms, row)? else {
        return Ok(());
    };
    match remote.client().delete(cdms.set, id).await {
        Ok(()) => {}
        Err(CdmsError::NotFound { .. }) => {
            tracing::info!(entity = meta.name, pk = pk_of(meta, row), cdms_id = %id, "the CDMS record was already deleted; deleting the local row");
        }
        Err(e) => return Err(e.into()),
    }
    remote.forget(cdms, id);
    Ok(())
}
