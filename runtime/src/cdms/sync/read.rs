//! Reads: `get` of one record (by local key or CDMS id), and the outcome of a record deleted in
//! CDMS. Lists are in [`super::list`].

use uuid::Uuid;

use super::apply::{apply_one, same_second_changes};
use super::error::SyncError;
use super::fields::{cdms_of, id_of, modified_of, pk_of, put_record};
use super::inflight::{Fetched, RefreshKey};
use super::prefetch::References;
use super::quarantine::{record_alone, Rejected};
use super::{list, CdmsRemote};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::CdmsError;
use crate::cdms::{codec, decode};
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup};
use crate::store::history::{self, VersionKind};
use crate::store::{rows, Conn, Db, ReadSpec};
use crate::value::Value;

/// A read that names one record.
#[derive(Debug, PartialEq)]
pub(super) enum Single {
    /// `pk = n`
    Pk(i64),
    /// `cdms_id = guid`
    Id(Uuid),
}

/// The record a filter pins down by a top-level `pk = n` or `cdms_id = guid` condition (other
/// conditions beside it are applied locally).
pub(super) fn single(cdms: &CdmsMeta, expr: &Expr) -> Option<Single> {
    let pick = |c: &Cond| match (&c.lookup, c.field) {
        (Lookup::Exact(Value::Int(pk)), f) if f == cdms.entity.pk => Some(Single::Pk(*pk)),
        (Lookup::Exact(Value::Uuid(id)), f) if f == cdms.id_field => Some(Single::Id(*id)),
        _ => None,
    };
    match expr {
        Expr::Cond(c) => pick(c),
        Expr::And(items) => items.iter().find_map(|e| match e {
            Expr::Cond(c) => pick(c),
            _ => None,
        }),
        _ => None,
    }
}

/// The read-through step before a local read of a synced entity: `Some(rows)` when the read
/// was answered from the local rows read or written on the way (see
/// [`crate::store::Remote::before_read`]): a list, or a read of one record by key or CDMS id
/// with no other condition.
pub(crate) async fn before_read(
    remote: &CdmsRemote,
    db: &Db,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<Option<Vec<Row>>> {
    if CdmsMeta::of(meta).is_none() {
        return Ok(None);
    }
    let cdms = cdms_of(meta)?;
    match single(cdms, &spec.expr) {
        Some(single) => {
            let kept = match single {
                Single::Pk(pk) => by_pk(remote, db, cdms, pk).await?,
                Single::Id(id) => by_id(remote, db, cdms, id).await?,
            };
            // The row is the answer when the key is the whole filter (a row read with any
            // limit but no offset).
            let whole = matches!(spec.expr, Expr::Cond(_)) && spec.offset == 0;
            Ok(kept.filter(|_| whole).map(|row| vec![row]))
        }
        None => list::refresh(remote, db, cdms, spec).await,
    }
}

/// By local key: the local row gives the CDMS id, then one GET (shared with identical GETs in
/// flight). A missing row, or one without a CDMS id (local-only), is left to the local read.
/// `Some(row)`: the local row, read on the way and left as it was (a local-only row, or one in
/// sync) or as the refresh wrote it; readers that joined an identical refresh get the leader's.
async fn by_pk(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    pk: i64,
) -> Result<Option<Row>> {
    remote
        .refreshes()
        .run(RefreshKey::Pk(cdms.set, pk), || async {
            let Some(row) = rows::get(db, cdms.entity, pk).await? else {
                return Ok(None);
            };
            let Some(id) = id_of(cdms, &row)? else {
                return Ok(Some(row));
            };
            if remote.is_fresh(cdms, id) {
                return Ok(Some(row));
            }
            let fetched = remote.gets().get(remote.client(), cdms.set, id).await;
            settle(remote, db, cdms, Some(row), id, fetched).await
        })
        .await
}

/// By CDMS id: the local row and the CDMS record are fetched concurrently. `Some(row)` as for
/// [`by_pk`].
async fn by_id(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    id: Uuid,
) -> Result<Option<Row>> {
    let meta = cdms.entity;
    let spec = ReadSpec::filtered(
        meta,
        Expr::Cond(Cond {
            field: cdms.id_field,
            lookup: Lookup::Exact(Value::Uuid(id)),
        }),
    );
    if remote.is_fresh(cdms, id) {
        if let Some(row) = rows::select(db, meta, &spec).await?.into_iter().next() {
            return Ok(Some(row));
        }
    }
    remote
        .refreshes()
        .run(RefreshKey::Id(cdms.set, id), || async {
            let local = async {
                rows::select(db, meta, &spec)
                    .await
                    .map(|rows| rows.into_iter().next())
            };
            let (local, fetched) =
                tokio::join!(local, remote.gets().get(remote.client(), cdms.set, id));
            settle(remote, db, cdms, local?, id, fetched).await
        })
        .await
}

/// Decodes the answer to a GET of record `id`, checking that it is the record asked for.
pub(super) fn decode_fetched(
    cdms: &'static CdmsMeta,
    id: Uuid,
    json: &serde_json::value::RawValue,
) -> Result<codec::RemoteRecord> {
    let record = decode::decode(cdms, json).map_err(|e| codec::with_record(e, id))?;
    if record.id != id {
        return Err(crate::cdms::CdmsError::Malformed {
            what: format!(
                "{}: asked for record {id}, CDMS answered with record {}; the answer was not used",
                cdms.set, record.id
            ),
            excerpt: String::new(),
        }
        .into());
    }
    Ok(record)
}

/// Compares the local row with the CDMS record and refreshes, creates, reports or removes;
/// `Some(row)`: the local row as it is now: in sync and left as it was, or as the refresh wrote
/// it.
async fn settle(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    local: Option<Row>,
    id: Uuid,
    fetched: Fetched,
) -> Result<Option<Row>> {
    let meta = cdms.entity;
    let Some(json) = fetched? else {
        return match local {
            Some(row) => remote_deleted(remote, db, cdms, row).await.map(|()| None),
            None => Ok(None),
        };
    };
    let quarantine = remote.quarantine_state();
    let record = match decode_fetched(cdms, id, &json) {
        Ok(r) => r,
        Err(e) => {
            if let Some(c) = cdms_error(&e).filter(|c| matches!(c, CdmsError::Decode { .. })) {
                let mut rejected = Rejected::from_cdms(cdms.set, Some(id), c);
                rejected.pk = local.as_ref().map(|r| pk_of(meta, r));
                record_alone(quarantine, db, rejected).await;
            }
            return Err(e);
        }
    };
    // A row synced under an older mapping never takes the in-sync shortcut: it is applied
    // from the record fetched anyway, which clears its stale entry.
    remote.stale_state().ensure(db).await?;
    let stale = remote.stale_state().may_have(db, cdms.set);
    if let Some(row) = &local {
        match modified_of(meta, row) {
            Some(t) if t == crate::store::truncate_micros(record.modified) => {
                // Whole-second stamps: an edit within the second of the last sync carries the
                // same one, so the values decide (no extra request: the record is here).
                let mut fresh = row.clone();
                put_record(cdms, &record, &mut fresh);
                let changed =
                    same_second_changes(Conn::Db(db), cdms, vec![(row.clone(), fresh)]).await?;
                if changed.rows.is_empty() && !stale {
                    remote.confirm(cdms, id);
                    return Ok(local);
                }
            }
            Some(t) if t > record.modified => {
                let error: Error = SyncError::NotInSync {
                    entity: meta.name,
                    pk: pk_of(meta, row),
                    cdms_id: id,
                    local: t,
                    cdms: record.modified,
                }
                .into();
                let rejected =
                    Rejected::other(cdms.set, id, Some(pk_of(meta, row)), error.to_string());
                record_alone(quarantine, db, rejected).await;
                return Err(error);
            }
            _ => {}
        }
    }
    quarantine.ensure(db).await?;
    let references = References::fetch(remote, db, meta, std::slice::from_ref(&record)).await?;
    let _serial = remote.locks().lock(cdms.set, id).await;
    let mut tx = db.begin().await?;
    let absent = local.is_none();
    let applied = apply_one(remote, &mut tx, meta, record, &references, absent).await;
    let (stats, written) = match applied {
        Ok(done) => done,
        Err(e) => {
            drop(tx);
            let pk = local.as_ref().map(|r| pk_of(meta, r));
            record_alone(
                quarantine,
                db,
                Rejected::other(cdms.set, id, pk, e.to_string()),
            )
            .await;
            return Err(e);
        }
    };
    remote.after_apply(&mut tx, cdms.set, &stats, &[]).await?;
    tx.commit().await?;
    remote.confirm(cdms, id);
    Ok(written)
}

fn cdms_error(e: &Error) -> Option<&CdmsError> {
    match e {
        Error::Cdms(boxed) => Some(boxed.as_ref()),
        _ => None,
    }
}

fn is_foreign_key_violation(e: &Error) -> bool {
    match e {
        Error::Database {
            source: sqlx::Error::Database(d),
            ..
        } => d.is_foreign_key_violation(),
        _ => false,
    }
}

/// The documented outcome of a local row whose CDMS record is gone (HTTP 404): the local row is
/// removed, with a `remote delete` version holding its last state (restorable, which re-creates
/// the record in CDMS under the same id); the read then finds nothing. When other local rows
/// still refer to it, nothing changes and [`SyncError::RemoteDeleted`] says so.
pub(crate) async fn remote_deleted(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    row: Row,
) -> Result<()> {
    let meta = cdms.entity;
    let pk = pk_of(meta, &row);
    let Some(id) = id_of(cdms, &row)? else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    remove_deleted(&mut tx, cdms, pk, id).await?;
    tx.commit().await?;
    remote.forget(cdms, id);
    Ok(())
}

/// Removes the local row `pk` (CDMS id `id`) of a record deleted in CDMS, inside `tx`, with a
/// `remote delete` version holding its last state (restorable). Does nothing if the row is gone
/// or now holds another id. When other local rows still refer to it, the removal is refused with
/// [`SyncError::RemoteDeleted`]; on PostgreSQL `tx` is then unusable and must be rolled back.
pub async fn remove_deleted(
    tx: &mut crate::store::Tx,
    cdms: &'static CdmsMeta,
    pk: i64,
    id: Uuid,
) -> Result<()> {
    let meta = cdms.entity;
    let Some(current) = rows::get_for_update(&mut *tx, meta, pk).await? else {
        return Ok(());
    };
    if id_of(cdms, &current)? != Some(id) {
        return Ok(());
    }
    match rows::delete(&mut *tx, meta, pk).await {
        Ok(Some(old)) => {
            history::record(tx, meta, VersionKind::RemoteDelete, &old, Some(&old)).await?;
            tracing::warn!(entity = meta.name, pk, cdms_id = %id, "the CDMS record was deleted in CDMS; removed the local row (history keeps it as 'remote delete')");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => Err(SyncError::RemoteDeleted {
            entity: meta.name,
            pk,
            cdms_id: id,
            message: format!(
                "the local row cannot be removed because other local rows still refer to it ({e}); \
                 refresh or re-point those rows first, or restore the record in CDMS"
            ),
        }
        .into()),
        Err(e) => Err(e),
    }
}
