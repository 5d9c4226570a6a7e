//! Leases on load partitions and on entities' polls: claiming (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), fencing a commit by checking the lease under the row lock, renewing, releasing.
//!
//! Lease expiry compares timestamps written by the workers' clocks (stored with the rows), so the
//! workers' clocks should agree to well within the lease duration.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::entity::EntityMeta;
use crate::error::Result;
use crate::store::sql::Sql;
use crate::store::{rows, Backend, Db, Tx};
use crate::value::{Kind, Value};

use super::state::{lock_entity, save_entity, EntityState, Partition, CHECKPOINT};

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60))
}

fn select_all(sql: &mut Sql, meta: &EntityMeta) {
    sql.push("SELECT ");
    sql.join(meta.fields.iter(), ", ", |sql, f| {
        sql.ident(f.column);
    });
    sql.push(" FROM ").ident(meta.table);
}

/// Claims the first unfinished partition of `set` that nobody holds (or whose lease expired, or
/// that `worker` itself holds, e.g. from before a crash), other than those in `exclude` (running
/// in this process): sets the lease to `now + lease` and counts the claim. Locked rows are
/// skipped on PostgreSQL (`FOR UPDATE SKIP LOCKED`), so concurrent workers never wait for or
/// claim the same partition.
pub(crate) async fn claim(
    db: &Db,
    set: &str,
    worker: &str,
    lease: Duration,
    exclude: &[i64],
) -> Result<Option<Partition>> {
    let mut tx = db.begin().await?;
    let now = crate::store::now();
    let mut sql = Sql::new(db.backend(), CHECKPOINT.name);
    select_all(&mut sql, &CHECKPOINT);
    sql.push(" WHERE ")
        .ident("entity")
        .push(" = ")
        .param(Value::Text(set.to_owned()), Kind::Text);
    sql.push(" AND ")
        .ident("done")
        .push(" = ")
        .param(Value::Bool(false), Kind::Bool);
    sql.push(" AND (")
        .ident("lease_owner")
        .push(" IS NULL OR ")
        .ident("lease_owner")
        .push(" = ");
    sql.param(Value::Text(worker.to_owned()), Kind::Text);
    sql.push(" OR ")
        .ident("lease_until")
        .push(" IS NULL OR ")
        .ident("lease_until")
        .push(" < ");
    sql.param(Value::DateTime(now), Kind::DateTime);
    sql.push(")");
    for id in exclude {
        sql.push(" AND ")
            .ident("id")
            .push(" <> ")
            .param(Value::Int(*id), Kind::Int64);
    }
    sql.push(" ORDER BY ").ident("part").push(" LIMIT 1");
    if db.backend() == Backend::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    let Some(row) = rows::select_sql(&mut tx, &CHECKPOINT, &sql)
        .await?
        .into_iter()
        .next()
    else {
        tx.rollback().await?;
        return Ok(None);
    };
    let mut part = Partition::from_row(row)?;
    if let Some(previous) = part.lease_owner.as_deref().filter(|o| *o != worker) {
        tracing::info!(
            set,
            part = part.part,
            previous,
            worker,
            "taking over a partition whose lease expired"
        );
    }
    part.lease_owner = Some(worker.to_owned());
    part.lease_until = Some(lease_end(now, lease));
    part.claims += 1;
    part.updated_at = now;
    rows::update(&mut tx, &CHECKPOINT, &mut part.to_row()).await?;
    tx.commit().await?;
    Ok(Some(part))
}

/// Locks partition `id` inside `tx` and checks that `worker` still holds its lease; returns the
/// locked row, or `None` when the lease was lost (taken over by another worker, or released).
/// A lease that expired without being taken over is still the worker's: nobody else can have
/// committed a page of the partition since.
pub(crate) async fn lock_leased(tx: &mut Tx, id: i64, worker: &str) -> Result<Option<Partition>> {
    let Some(row) = rows::get_for_update(tx, &CHECKPOINT, id).await? else {
        return Ok(None);
    };
    let part = Partition::from_row(row)?;
    Ok((part.lease_owner.as_deref() == Some(worker) && !part.done).then_some(part))
}

/// Records a committed batch of `pages` pages and `records` records inside `tx` (after
/// [`lock_leased`]): the next position (or done), the counts, and a renewed lease.
pub(crate) async fn advance(
    tx: &mut Tx,
    part: &mut Partition,
    next: Option<String>,
    records: usize,
    pages: u64,
    lease: Duration,
) -> Result<()> {
    let now = crate::store::now();
    part.done = next.is_none();
    part.position = next;
    part.records += records as i64;
    part.pages += pages as i64;
    part.lease_until = if part.done {
        None
    } else {
        Some(lease_end(now, lease))
    };
    if part.done {
        part.lease_owner = None;
    }
    part.updated_at = now;
    rows::update(tx, &CHECKPOINT, &mut part.to_row()).await?;
    Ok(())
}

/// Extends `worker`'s lease on partition `id`; false when it no longer holds it.
pub(crate) async fn renew(db: &Db, id: i64, worker: &str, lease: Duration) -> Result<bool> {
    let mut tx = db.begin().await?;
    let Some(mut part) = lock_leased(&mut tx, id, worker).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let now = crate::store::now();
    part.lease_until = Some(lease_end(now, lease));
    part.updated_at = now;
    rows::update(&mut tx, &CHECKPOINT, &mut part.to_row()).await?;
    tx.commit().await?;
    Ok(true)
}

/// Gives up `worker`'s lease on partition `id` (its checkpoint stays).
pub(crate) async fn release(db: &Db, id: i64, worker: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    if let Some(mut part) = lock_leased(&mut tx, id, worker).await? {
        part.lease_owner = None;
        part.lease_until = None;
        part.updated_at = crate::store::now();
        rows::update(&mut tx, &CHECKPOINT, &mut part.to_row()).await?;
    }
    tx.commit().await
}

/// Claims the poll lease of `set` for `worker` (free, expired, or already `worker`'s) and
/// returns the state; `None` when another worker holds a live lease.
pub(crate) async fn claim_entity(
    db: &Db,
    set: &str,
    worker: &str,
    lease: Duration,
) -> Result<Option<EntityState>> {
    let mut tx = db.begin().await?;
    let mut state = lock_entity(&mut tx, set).await?;
    let now = crate::store::now();
    let held_by_other = state.lease_owner.as_deref().is_some_and(|o| o != worker)
        && state.lease_until.is_some_and(|t| t > now);
    if held_by_other {
        tx.rollback().await?;
        return Ok(None);
    }
    state.lease_owner = Some(worker.to_owned());
    state.lease_until = Some(lease_end(now, lease));
    save_entity(&mut tx, &mut state).await?;
    tx.commit().await?;
    Ok(Some(state))
}

/// Releases `worker`'s poll lease of `set`.
pub(crate) async fn release_entity(db: &Db, set: &str, worker: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut state = lock_entity(&mut tx, set).await?;
    if state.lease_owner.as_deref() == Some(worker) {
        state.lease_owner = None;
        state.lease_until = None;
        save_entity(&mut tx, &mut state).await?;
    }
    tx.commit().await
}

/// Extends `worker`'s poll lease of `set`; false when another worker took it over.
pub(crate) async fn renew_entity(
    db: &Db,
    set: &str,
    worker: &str,
    lease: Duration,
) -> Result<bool> {
    let mut tx = db.begin().await?;
    let mut state = lock_entity(&mut tx, set).await?;
    if state.lease_owner.as_deref() != Some(worker) {
        tx.rollback().await?;
        return Ok(false);
    }
    state.lease_until = Some(lease_end(crate::store::now(), lease));
    save_entity(&mut tx, &mut state).await?;
    tx.commit().await?;
    Ok(true)
}
