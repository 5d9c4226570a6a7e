//! Writes: the hooks the store calls inside its transaction. Any CDMS error returns before the
//! local statement runs, so the caller's transaction rolls back and the local store is unchanged.

use serde_json::Value as J;
use uuid::Uuid;

use super::apply::{resolve_row, Fetch};
use super::error::SyncError;
use super::fields::{
    cdms_of, changed_fields, data_fields, field_name, id_of, modified_of, pk_of, put_record,
};
use super::inflight::fetch;
use super::outcome::WriteOutcome;
use super::prefetch::References;
use super::refs::to_remote;
use super::CdmsRemote;
use crate::cdms::codec::{self, RemoteRecord, WriteMode};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::CdmsError;
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::store::history::{self, VersionKind};
use crate::store::{rows, Conn, Tx};
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
        Some(json) => super::read::decode_fetched(cdms, id, &json),
        None => Err(SyncError::RemoteDeleted {
            entity: cdms.entity.name,
            pk,
            cdms_id: id,
            message: format!("{during} was not applied; the next read of it removes the local row"),
        }
        .into()),
    }
}

/// Puts `record` into `row` with its lookups mapped to local keys (targets missing locally
/// taken from `fetch`).
async fn take_record(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    record: &RemoteRecord,
    row: &mut Row,
    fetch: Fetch<'_>,
) -> Result<()> {
    put_record(cdms, record, row);
    resolve_row(remote, tx, cdms, row, fetch).await
}

/// `fields` of `row` as CDMS property values (lookups as the targets' CDMS ids).
async fn body(
    conn: Conn<'_>,
    cdms: &'static CdmsMeta,
    row: &Row,
    fields: &[usize],
    mode: WriteMode,
) -> Result<serde_json::Map<String, J>> {
    let mut values = check_values(conn.backend(), cdms, row, fields)?;
    to_remote(conn, cdms, &mut values).await?;
    Ok(crate::cdms::encode::body(cdms, &values, mode)?)
}

/// `fields` of `row`, checked before anything is sent: never leave a record in CDMS that the
/// local store then refuses (CRM's `""` as null in a required field, U+0000 in text on
/// PostgreSQL).
fn check_values(
    backend: crate::store::Backend,
    cdms: &'static CdmsMeta,
    row: &Row,
    fields: &[usize],
) -> Result<Vec<(usize, Value)>> {
    let values: Vec<(usize, Value)> = fields
        .iter()
        .map(|&i| (i, row.get(i).cloned().unwrap_or(Value::Null)))
        .collect();
    codec::check_writable(cdms, &values)?;
    if backend == crate::store::Backend::Postgres {
        if let Some((i, _)) = values
            .iter()
            .find(|(_, v)| matches!(v, Value::Text(t) if t.contains('\0')))
        {
            return Err(refused(
                cdms.entity,
                format!(
                    "{} contains U+0000, which the local PostgreSQL database cannot store; \
                     nothing was sent to CDMS",
                    field_name(cdms.entity, *i)
                ),
            ));
        }
    }
    Ok(values)
}

/// The referenced records CDMS's answers in `staged` need and no local row holds, fetched
/// before the local transaction (see [`References`]).
pub(crate) async fn references(
    remote: &CdmsRemote,
    db: &crate::store::Db,
    meta: &'static EntityMeta,
    staged: &Staged,
) -> Result<References> {
    let records: Vec<RemoteRecord> = match staged {
        Staged::Created(record) => vec![record.clone()],
        Staged::Updated(up) => std::iter::once(&up.before)
            .chain(up.after.as_ref())
            .cloned()
            .collect(),
        Staged::Local | Staged::Deleted => return Ok(References::none()),
    };
    References::fetch(remote, db, meta, &records).await
}

/// The CDMS side of a write, done before (or at the start of) the local transaction; applied
/// locally by [`finish`].
pub(crate) enum Staged {
    /// A record was created: the record as CDMS stored it.
    Created(RemoteRecord),
    /// A record was updated.
    Updated(Box<StagedUpdate>),
    /// Nothing to tell CDMS (only local-only fields changed, or a local-only row).
    Local,
    /// The record was deleted in CDMS (or was already gone).
    Deleted,
}

/// The CDMS side of an update.
pub(crate) struct StagedUpdate {
    /// CDMS's record before our write.
    before: RemoteRecord,
    /// CDMS's record after it (`None`: CDMS already held every value we write).
    after: Option<RemoteRecord>,
    /// The mapped fields the writer changed.
    ours: Vec<usize>,
    /// Writers to one record serialize on this lock until the local commit.
    _serial: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// Creates `row` in CDMS (one POST with a client-generated id, or the id the row carries, e.g. a
/// restored object's). `restore` takes a record that still exists under that id as it is.
pub(crate) async fn stage_insert(
    remote: &CdmsRemote,
    conn: Conn<'_>,
    meta: &'static EntityMeta,
    row: &Row,
    restore: bool,
) -> Result<Staged> {
    let cdms = cdms_of(meta)?;
    let id = id_of(cdms, row)?.unwrap_or_else(Uuid::new_v4);
    let fields: Vec<usize> = data_fields(cdms).collect();
    let body = body(conn, cdms, row, &fields, WriteMode::Create).await?;
    let client = remote.client();
    let created = if restore {
        client
            .create_or_adopt(cdms.set, cdms.id_property, id, &body)
            .await?
    } else {
        client
            .create_with_id(cdms.set, cdms.id_property, id, &body)
            .await?
    };
    let record = codec::decode(cdms, &J::Object(created))?;
    if record.id != id {
        return Err(CdmsError::Malformed {
            what: format!(
                "{}: created record {id}, CDMS answered with record {}",
                cdms.set, record.id
            ),
            excerpt: String::new(),
        }
        .into());
    }
    Ok(Staged::Created(record))
}

/// Creates `row` in CDMS and fills it from the created record: id, `ModifiedOn`, `CreatedOn`, and
/// the values as CDMS stored them (inside the caller's transaction).
pub(crate) async fn insert(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    restore: bool,
) -> Result<()> {
    let staged = stage_insert(remote, Conn::Tx(tx), meta, row, restore).await?;
    finish(remote, tx, meta, None, row, staged, Fetch::Inside).await
}

/// The checks of an update that need no request: `Ok(None)` when the write is local only
/// (nothing to tell CDMS), otherwise the record's CDMS id.
fn update_target(meta: &'static EntityMeta, old: &Row, new: &mut Row) -> Result<Option<Uuid>> {
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
        return Ok(None);
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
    if changed_fields(cdms, old, new).is_empty() {
        // Only local-only fields changed: nothing to tell CDMS.
        return Ok(None);
    }
    Ok(Some(id))
}

/// The CDMS side of an update of `old` (the stored row) to `new`: GET the record (conflict
/// check), one MERGE of the changed mapped properties that CDMS does not already hold, one GET
/// for the new `ModifiedOn`. Holds the record's in-process lock from the first GET until the
/// returned [`Staged`] is dropped (after the local commit), so writers to one record serialize
/// without holding a database lock while CDMS answers.
pub(crate) async fn stage_update(
    remote: &CdmsRemote,
    mut conn: Conn<'_>,
    meta: &'static EntityMeta,
    old: &Row,
    new: &Row,
    serialize: bool,
) -> Result<Staged> {
    let cdms = cdms_of(meta)?;
    let mut new = new.clone();
    let Some(id) = update_target(meta, old, &mut new)? else {
        return Ok(Staged::Local);
    };
    let pk = pk_of(meta, old);
    let serial = if serialize {
        Some(remote.locks().lock(cdms.set, id).await)
    } else {
        None
    };
    let ours = changed_fields(cdms, old, &new);
    // Refused before the first request.
    check_values(conn.backend(), cdms, &new, &ours)?;
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
    // What CDMS holds now, in local terms (lookups mapped read-only; a target not stored
    // locally compares as different, so its field is written).
    let mut theirs = old.clone();
    put_record(cdms, &record, &mut theirs);
    map_lookups_read_only(conn.reborrow(), cdms, &mut theirs).await?;
    let to_send: Vec<usize> = ours
        .iter()
        .copied()
        .filter(|&f| new.get(f) != theirs.get(f))
        .collect();
    let after = if to_send.is_empty() {
        None
    } else {
        let body = body(conn, cdms, &new, &to_send, WriteMode::Merge).await?;
        remote.client().update(cdms.set, id, &body).await?;
        Some(
            current(
                remote,
                cdms,
                pk,
                id,
                "reading the record back after the update",
            )
            .await?,
        )
    };
    Ok(Staged::Updated(Box::new(StagedUpdate {
        before: record,
        after,
        ours,
        _serial: serial,
    })))
}

/// Maps the lookup fields of `row` holding CDMS ids to the local keys of rows that exist,
/// without writing anything.
async fn map_lookups_read_only(
    mut conn: Conn<'_>,
    cdms: &'static CdmsMeta,
    row: &mut Row,
) -> Result<()> {
    let meta = cdms.entity;
    for f in cdms.fields {
        let Some(target) = super::fields::reference_target(meta, f.field) else {
            continue;
        };
        let Some(Value::Uuid(u)) = row.get(f.field).cloned() else {
            continue;
        };
        let target_cdms = cdms_of(target)?;
        if let Some(pk) = rows::find_pk(
            conn.reborrow(),
            target,
            target_cdms.id_field,
            &Value::Uuid(u),
        )
        .await?
        {
            row[f.field] = Value::Int(pk);
        }
    }
    Ok(())
}

/// Updates the CDMS record of `old` with the mapped fields `new` changes (see the module docs of
/// [`super`] for the conflict rules); fills `new` from CDMS's record after the write (inside the
/// caller's transaction).
pub(crate) async fn update(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    old: &Row,
    new: &mut Row,
) -> Result<()> {
    let staged = stage_update(remote, Conn::Tx(tx), meta, old, new, false).await?;
    finish(remote, tx, meta, Some(old), new, staged, Fetch::Inside).await
}

/// Applies a staged write inside the local transaction: fills `row` (the row about to be
/// written; for an update, the writer's changes on top of `old`, the stored row, locked) from
/// CDMS's answer, records CDMS's version before ours when it moved, and reports merges and
/// overwrites.
pub(crate) async fn finish(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    old: Option<&Row>,
    row: &mut Row,
    staged: Staged,
    fetch: Fetch<'_>,
) -> Result<()> {
    let cdms = cdms_of(meta)?;
    match staged {
        Staged::Local | Staged::Deleted => {
            if let (Some(old), Staged::Local) = (old, &staged) {
                update_target(meta, old, row)?;
            }
            Ok(())
        }
        Staged::Created(record) => {
            take_record(remote, tx, cdms, &record, row, fetch).await?;
            // Confirmed in sync only by a read after the commit: this transaction may still
            // roll back.
            remote.forget(cdms, record.id);
            Ok(())
        }
        Staged::Updated(up) => {
            let old = old.ok_or_else(|| refused(meta, "an update needs the stored row".into()))?;
            finish_update(remote, tx, cdms, old, row, *up, fetch).await
        }
    }
}

async fn finish_update(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    old: &Row,
    new: &mut Row,
    up: StagedUpdate,
    fetch: Fetch<'_>,
) -> Result<()> {
    let meta = cdms.entity;
    let pk = pk_of(meta, old);
    let id = up.before.id;
    let synced_at = modified_of(meta, old);
    let newest = up.after.as_ref().unwrap_or(&up.before);
    if synced_at.is_some_and(|t| t > newest.modified) {
        // A refresh stored a newer CDMS version meanwhile (it holds our write too): keep its
        // mapped fields, and only the writer's local-only changes.
        let mut result = old.clone();
        for (i, slot) in result.iter_mut().enumerate() {
            if cdms.by_field(i).is_none() {
                if let Some(v) = new.get(i) {
                    *slot = v.clone();
                }
            }
        }
        *new = result;
        remote.forget(cdms, id);
        return Ok(());
    }
    for i in [meta.modified, meta.created].into_iter().flatten() {
        if let (Some(slot), Some(v)) = (new.get_mut(i), old.get(i)) {
            *slot = v.clone();
        }
    }
    let mut theirs = old.clone();
    take_record(remote, tx, cdms, &up.before, &mut theirs, fetch).await?;
    let changed_remotely = changed_fields(cdms, old, &theirs);
    let cdms_moved = !changed_remotely.is_empty() || modified_of(meta, &theirs) != synced_at;
    if cdms_moved {
        // History keeps CDMS's version before ours.
        history::record(tx, meta, VersionKind::RemoteRefresh, &theirs, Some(old)).await?;
    }
    let mut merged = Vec::new();
    let mut overwritten = Vec::new();
    let mut result = new.clone();
    for &f in &changed_remotely {
        if up.ours.contains(&f) {
            if new.get(f) != theirs.get(f) {
                overwritten.push(field_name(meta, f));
            }
        } else {
            result[f] = theirs[f].clone();
            merged.push(field_name(meta, f));
        }
    }
    match &up.after {
        None => {
            // CDMS already holds every value we are writing.
            for f in cdms.fields.iter().map(|f| f.field) {
                result[f] = theirs[f].clone();
            }
        }
        Some(after) => take_record(remote, tx, cdms, after, &mut result, fetch).await?,
    }
    if cdms_moved && !(merged.is_empty() && overwritten.is_empty()) {
        remote.report(WriteOutcome {
            entity: meta.name,
            pk,
            cdms_id: id,
            merged,
            overwritten,
            cdms_modified: up.before.modified,
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
