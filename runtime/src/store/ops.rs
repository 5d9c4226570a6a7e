//! The local write path: remote hooks (or the skip-mode guard), `modified`/`created` stamping,
//! the statement, and the history version — all inside one transaction.

use std::sync::Arc;

use super::history::{self, VersionKind};
use super::remote::{ReadSpec, Remote, Stage};
use super::{normalize, normalize_row, rows, Db, Tx};
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::value::Value;

/// How a write to an entity proceeds on a given handle.
pub(crate) enum Mode {
    /// No remote involved: the store stamps `modified`/`created`.
    Local,
    /// Through the remote's hooks.
    Remote(Arc<dyn Remote>),
    /// Skip mode on a remote-governed entity: the remote's guard decides.
    Guarded(Arc<dyn Remote>),
}

pub(crate) fn mode(db: &Db, meta: &EntityMeta) -> Mode {
    match (db.remote(), meta.remote) {
        (Some(r), Some(_)) if db.is_skipping_remote() => Mode::Guarded(Arc::clone(r)),
        (Some(r), Some(_)) => Mode::Remote(Arc::clone(r)),
        _ => Mode::Local,
    }
}

fn check_len(meta: &EntityMeta, row: &Row) -> Result<()> {
    if row.len() == meta.fields.len() {
        Ok(())
    } else {
        Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "a row has {} values, the entity {} fields",
                row.len(),
                meta.fields.len()
            ),
        })
    }
}

fn pk_of(meta: &EntityMeta, row: &Row) -> i64 {
    match row.get(meta.pk) {
        Some(Value::Int(pk)) => *pk,
        _ => 0,
    }
}

fn not_found(meta: &EntityMeta, pk: i64) -> Error {
    Error::NotFound {
        entity: meta.name,
        query: format!("{} = {pk}", meta.pk_field().name),
    }
}

fn is_unset_instant(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::DateTime(t) => t.timestamp_micros() == 0,
        _ => false,
    }
}

/// Local stamping: `modified` = now on every write, `created` = now on insert when unset
/// (null or the Unix epoch).
fn stamp(meta: &EntityMeta, row: &mut Row, insert: bool, now: Value) {
    if insert {
        if let Some(slot) = meta.created.and_then(|i| row.get_mut(i)) {
            if is_unset_instant(slot) {
                *slot = now.clone();
            }
        }
    }
    if let Some(slot) = meta.modified.and_then(|i| row.get_mut(i)) {
        *slot = now;
    }
}

/// Whether a local update of a synced entity's row leaves its `modified` as it is: the row
/// exists in the remote system and only local-only fields changed (`modified` mirrors the
/// remote's stamp, which such a change does not move).
#[cfg(feature = "cdms")]
fn keeps_sync_stamp(meta: &'static EntityMeta, old: &Row, new: &Row) -> bool {
    crate::cdms::sync::only_local_fields_changed(meta, old, new)
}

#[cfg(not(feature = "cdms"))]
fn keeps_sync_stamp(_meta: &'static EntityMeta, _old: &Row, _new: &Row) -> bool {
    false
}

fn now_value() -> Value {
    Value::DateTime(super::now())
}

/// Inserts `row` with hooks, stamping and a version of `kind`. Without `with_pk` the database
/// assigns the primary key (written into the row).
pub(crate) async fn insert_in(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    kind: VersionKind,
    with_pk: bool,
) -> Result<()> {
    check_len(meta, row)?;
    if !with_pk {
        row[meta.pk] = Value::Int(0);
    }
    normalize_row(row);
    match mode(tx.db(), meta) {
        Mode::Local => stamp(meta, row, true, now_value()),
        Mode::Remote(r) => {
            r.insert(tx, meta, row, kind == VersionKind::Restore)
                .await?;
            normalize_row(row);
        }
        Mode::Guarded(r) => r.local_write_guard(meta, None, Some(row))?,
    }
    rows::insert_versioned(tx, meta, row, with_pk, kind).await?;
    Ok(())
}

/// Updates the stored row with `row`'s primary key to `row`, with hooks, stamping and a version
/// of `kind`.
pub(crate) async fn update_in(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    kind: VersionKind,
) -> Result<()> {
    check_len(meta, row)?;
    let pk = pk_of(meta, row);
    if pk == 0 {
        return Err(Error::Refused {
            entity: meta.name,
            message: "the object has not been saved yet (primary key 0): insert it instead"
                .to_owned(),
        });
    }
    normalize_row(row);
    let old = rows::get_for_update(&mut *tx, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    if kind == VersionKind::LocalChange {
        // Only the fields the holder changed since reading the object (see `snapshots`).
        if let Some(base) = tx.db().snapshots().base_of(meta, row) {
            *row = super::snapshots::rebase(&base, row, &old);
        }
    }
    if *row == old && kind == VersionKind::LocalChange {
        // A save that changes nothing: no statement, no version (and no remote request).
        return Ok(());
    }
    match mode(tx.db(), meta) {
        Mode::Local if keeps_sync_stamp(meta, &old, row) => {}
        Mode::Local => stamp(meta, row, false, now_value()),
        Mode::Remote(r) => {
            r.update(tx, meta, &old, row).await?;
            row[meta.pk] = Value::Int(pk);
            normalize_row(row);
            if *row == old {
                // Nothing changed once CDMS's answer is in: no version.
                return Ok(());
            }
        }
        Mode::Guarded(r) => r.local_write_guard(meta, Some(&old), Some(row))?,
    }
    if !rows::update_versioned(tx, meta, row, kind, &old).await? {
        return Err(not_found(meta, pk));
    }
    Ok(())
}

/// Deletes the row with primary key `pk`, with hooks and a `"delete"` version; returns the row
/// as it was.
pub(crate) async fn delete_in(tx: &mut Tx, meta: &'static EntityMeta, pk: i64) -> Result<Row> {
    match mode(tx.db(), meta) {
        Mode::Local => {}
        Mode::Remote(r) => {
            let old = rows::get_for_update(tx, meta, pk)
                .await?
                .ok_or_else(|| not_found(meta, pk))?;
            r.delete(tx, meta, &old).await?;
        }
        Mode::Guarded(r) => {
            let old = rows::get_for_update(tx, meta, pk)
                .await?
                .ok_or_else(|| not_found(meta, pk))?;
            r.local_write_guard(meta, Some(&old), None)?;
        }
    }
    let old = rows::delete(tx, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    history::record(tx, meta, VersionKind::Delete, &old, Some(&old)).await?;
    Ok(old)
}

/// Saves `row` through `db` in a transaction of its own: an insert when its primary key is 0,
/// otherwise an update of the fields the holder changed (see [`super::snapshots`]). Through a
/// remote, the remote's part runs first, with no transaction open ([`Remote::stage`]): no
/// database lock is held while the remote answers, and a remote failure leaves the local store
/// untouched.
pub(crate) async fn save(db: &Db, meta: &'static EntityMeta, row: &mut Row) -> Result<()> {
    let Mode::Remote(r) = mode(db, meta) else {
        let mut tx = db.begin().await?;
        if pk_of(meta, row) == 0 {
            insert_in(&mut tx, meta, row, VersionKind::LocalChange, false).await?;
        } else {
            update_in(&mut tx, meta, row, VersionKind::LocalChange).await?;
        }
        return tx.commit().await;
    };
    check_len(meta, row)?;
    normalize_row(row);
    let pk = pk_of(meta, row);
    if pk == 0 {
        let staged = r
            .stage(
                db,
                meta,
                Stage::Insert {
                    row,
                    restore: false,
                },
            )
            .await?;
        let mut tx = db.begin().await?;
        match staged {
            Some(s) => r.finish(&mut tx, meta, None, row, s).await?,
            None => r.insert(&mut tx, meta, row, false).await?,
        }
        normalize_row(row);
        rows::insert_versioned(&mut tx, meta, row, false, VersionKind::LocalChange).await?;
        return tx.commit().await;
    }
    let current = rows::get(db, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    let wanted = match db.snapshots().base_of(meta, row) {
        Some(base) => super::snapshots::rebase(&base, row, &current),
        None => row.clone(),
    };
    if wanted == current {
        // A save that changes nothing: no request, no statement, no version.
        *row = current;
        return Ok(());
    }
    let staged = r
        .stage(
            db,
            meta,
            Stage::Update {
                old: &current,
                new: &wanted,
            },
        )
        .await?;
    let mut tx = db.begin().await?;
    let old = rows::get_for_update(&mut tx, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    // The holder's changes on top of what is stored now.
    let mut new = super::snapshots::rebase(&current, &wanted, &old);
    match staged {
        Some(s) => r.finish(&mut tx, meta, Some(&old), &mut new, s).await?,
        None => r.update(&mut tx, meta, &old, &mut new).await?,
    }
    new[meta.pk] = Value::Int(pk);
    normalize_row(&mut new);
    if new != old
        && !rows::update_versioned(&mut tx, meta, &mut new, VersionKind::LocalChange, &old).await?
    {
        return Err(not_found(meta, pk));
    }
    tx.commit().await?;
    *row = new;
    Ok(())
}

/// Deletes the row with primary key `pk` through `db` in a transaction of its own; through a
/// remote, the remote's part runs first, with no transaction open. Returns the row as it was.
pub(crate) async fn delete(db: &Db, meta: &'static EntityMeta, pk: i64) -> Result<Row> {
    let Mode::Remote(r) = mode(db, meta) else {
        let mut tx = db.begin().await?;
        let old = delete_in(&mut tx, meta, pk).await?;
        tx.commit().await?;
        return Ok(old);
    };
    let current = rows::get(db, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    let staged = r.stage(db, meta, Stage::Delete { row: &current }).await?;
    let mut tx = db.begin().await?;
    if staged.is_none() {
        let locked = rows::get_for_update(&mut tx, meta, pk)
            .await?
            .ok_or_else(|| not_found(meta, pk))?;
        r.delete(&mut tx, meta, &locked).await?;
    }
    // `DELETE … RETURNING` gives the row as it was: no lock is taken before it.
    let mut old = rows::delete(&mut tx, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, pk))?;
    if let Some(s) = staged {
        let stored = old.clone();
        r.finish(&mut tx, meta, Some(&stored), &mut old, s).await?;
        old = stored;
    }
    history::record(&mut tx, meta, VersionKind::Delete, &old, Some(&old)).await?;
    tx.commit().await?;
    Ok(old)
}

/// Inserts `rows` in one transaction (all or nothing); primary keys are written into them.
pub(crate) async fn insert_many(
    db: &Db,
    meta: &'static EntityMeta,
    rows: &mut [Row],
) -> Result<()> {
    let mut tx = db.begin().await?;
    match mode(db, meta) {
        Mode::Remote(_) => {
            for row in rows.iter_mut() {
                insert_in(&mut tx, meta, row, VersionKind::LocalChange, false).await?;
            }
        }
        mode => {
            let now = now_value();
            for row in rows.iter_mut() {
                check_len(meta, row)?;
                row[meta.pk] = Value::Int(0);
                normalize_row(row);
                match &mode {
                    Mode::Guarded(r) => r.local_write_guard(meta, None, Some(row))?,
                    _ => stamp(meta, row, true, now.clone()),
                }
                rows::insert(&mut tx, meta, row).await?;
            }
            let changes = rows.iter().map(|r| (r, None));
            history::record_many(&mut tx, meta, VersionKind::LocalChange, changes).await?;
        }
    }
    tx.commit().await
}

pub(crate) fn check_assignments(meta: &EntityMeta, assignments: &[(usize, Value)]) -> Result<()> {
    for (i, v) in assignments {
        let f = meta.fields.get(*i).ok_or_else(|| Error::InvalidQuery {
            entity: meta.name,
            message: format!("no field number {i}"),
        })?;
        if *i == meta.pk {
            return Err(Error::Refused {
                entity: meta.name,
                message: format!("the primary key {} cannot be updated", f.name),
            });
        }
        if v.is_null() && !f.nullable {
            return Err(Error::InvalidQuery {
                entity: meta.name,
                message: format!("field {} is not optional: it cannot be set to null", f.name),
            });
        }
    }
    Ok(())
}

fn apply(row: &mut Row, assignments: &[(usize, Value)]) {
    for (i, v) in assignments {
        if let Some(slot) = row.get_mut(*i) {
            *slot = normalize(v.clone());
        }
    }
}

/// Sets `assignments` on every row `spec` describes, in one transaction; returns the number of
/// rows changed. Through the remote, row by row; otherwise one statement per chunk of rows.
pub(crate) async fn update_matching(
    db: &Db,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    assignments: &[(usize, Value)],
) -> Result<u64> {
    check_assignments(meta, assignments)?;
    let mut tx = db.begin().await?;
    let old_rows = rows::select_for_update(&mut tx, meta, spec).await?;
    let n = old_rows.len() as u64;
    match mode(db, meta) {
        Mode::Remote(_) => {
            for old in old_rows {
                let mut row = old;
                apply(&mut row, assignments);
                update_in(&mut tx, meta, &mut row, VersionKind::LocalChange).await?;
            }
        }
        mode => {
            // Locally, `modified` = now, except on synced rows whose change is local-only.
            let mut stamped = assignments.to_vec();
            if let (Mode::Local, Some(m)) = (&mode, meta.modified) {
                stamped.retain(|(i, _)| *i != m);
                stamped.push((m, now_value()));
            }
            let mut new_rows: Vec<Row> = Vec::with_capacity(old_rows.len());
            let (mut plain_pks, mut stamped_pks) = (Vec::new(), Vec::new());
            for old in &old_rows {
                let mut row = old.clone();
                apply(&mut row, assignments);
                if let Mode::Guarded(r) = &mode {
                    r.local_write_guard(meta, Some(old), Some(&row))?;
                }
                let keep = matches!(mode, Mode::Local) && keeps_sync_stamp(meta, old, &row);
                if keep || !matches!(mode, Mode::Local) {
                    plain_pks.push(pk_of(meta, &row));
                } else {
                    apply(&mut row, &stamped);
                    stamped_pks.push(pk_of(meta, &row));
                }
                new_rows.push(row);
            }
            if !plain_pks.is_empty() {
                rows::update_many(&mut tx, meta, assignments, &plain_pks).await?;
            }
            if !stamped_pks.is_empty() {
                rows::update_many(&mut tx, meta, &stamped, &stamped_pks).await?;
            }
            let changes = new_rows
                .iter()
                .zip(&old_rows)
                .map(|(new, old)| (new, Some(old)));
            history::record_many(&mut tx, meta, VersionKind::LocalChange, changes).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// Deletes every row `spec` describes, in one transaction; returns how many were deleted.
pub(crate) async fn delete_matching(
    db: &Db,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<u64> {
    let mut tx = db.begin().await?;
    let old_rows = rows::select_for_update(&mut tx, meta, spec).await?;
    let n = old_rows.len() as u64;
    match mode(db, meta) {
        Mode::Remote(_) => {
            for old in &old_rows {
                delete_in(&mut tx, meta, pk_of(meta, old)).await?;
            }
        }
        mode => {
            if let Mode::Guarded(r) = &mode {
                for old in &old_rows {
                    r.local_write_guard(meta, Some(old), None)?;
                }
            }
            let pks: Vec<i64> = old_rows.iter().map(|r| pk_of(meta, r)).collect();
            rows::delete_many(&mut tx, meta, &pks).await?;
            let changes = old_rows.iter().map(|old| (old, Some(old)));
            history::record_many(&mut tx, meta, VersionKind::Delete, changes).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}
