//! The seam through which a remote system (the CDMS sync layer) takes part in local reads and
//! writes.
//!
//! A [`Remote`] is installed on a handle with [`Db::with_remote`]. The store consults it only
//! for entities whose [`EntityMeta::remote`] is `Some`, and only when the handle is not in skip
//! mode ([`Db::skip_cdms`], [`crate::QuerySet::skip_cdms`]):
//!
//! - before every read terminal, [`Remote::before_read`] gets the untyped query (it may refresh
//!   local rows first, and may answer a plain row read with the rows it read on the way);
//! - every write calls [`Remote::insert`], [`Remote::update`] or [`Remote::delete`] inside the
//!   local transaction, before the local statement runs. The hook may fill or overwrite fields
//!   of the row (the remote id, `modified`, `created`); an error rolls the local transaction
//!   back and is returned to the caller. Queryset-wide writes (`update`, `delete`,
//!   `bulk_create`) go through the hooks row by row.
//!
//! In skip mode, writes to such entities call [`Remote::local_write_guard`] instead, so the
//! remote can refuse local-only writes that would break its invariants.
//!
//! Who sets `modified`/`created`: for an entity governed by an installed remote (in either mode)
//! the store never stamps them; the remote's hooks do. Otherwise the store stamps `modified`
//! with the current time on every write and `created` on insert when it is unset (null or the
//! Unix epoch).
//!
//! The hooks receive the [`Tx`] and can use the row-level functions of [`crate::store::rows`]
//! and [`crate::store::history`], which never call back into the remote. `before_read`
//! receives a skip-mode clone of the handle for the same reason.

use futures_util::future::BoxFuture;

use crate::entity::{EntityMeta, Row};
use crate::error::Result;
use crate::expr::{Expr, OrderKey};
use crate::store::{Db, Tx};

/// Which read terminal is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadOp {
    /// `get`, `get_or_create`, `update_or_create`, `refresh`.
    Get,
    /// `all` / `fetch`, `select_related`, `prefetch_related`.
    List,
    /// `count`.
    Count,
    /// `exists`.
    Exists,
    /// `first` / `earliest`.
    First,
    /// `last` / `latest`.
    Last,
    /// `in_bulk`.
    InBulk,
    /// `values`, `values_list`, `dates`, `datetimes`.
    Values,
    /// `aggregate`.
    Aggregate,
    /// The rows a queryset `update` is about to change.
    Update,
    /// The rows a queryset `delete` is about to remove.
    Delete,
}

/// An untyped read: what a terminal is about to select.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSpec {
    /// The filter.
    pub expr: Expr,
    /// The effective order (reversal applied), ending with the primary key as a tie-breaker.
    pub order: Vec<OrderKey>,
    /// Random order (`order_random`); `order` is then ignored.
    pub random: bool,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Skip this many rows first.
    pub offset: u64,
    /// The terminal.
    pub op: ReadOp,
}

impl ReadSpec {
    /// Every row of an entity, in primary-key order.
    pub fn all(meta: &EntityMeta) -> Self {
        ReadSpec::filtered(meta, Expr::All)
    }

    /// The rows matching `expr`, in primary-key order.
    pub fn filtered(meta: &EntityMeta, expr: Expr) -> Self {
        ReadSpec {
            expr,
            order: vec![OrderKey::asc(meta.pk)],
            random: false,
            limit: None,
            offset: 0,
            op: ReadOp::List,
        }
    }
}

/// A single-object write whose remote part runs before the local transaction starts
/// ([`Remote::stage`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Stage<'a> {
    /// `row` is about to be inserted (`restore`: a deleted object restored under its old key).
    Insert {
        /// The row.
        row: &'a Row,
        /// Whether a deleted object is being restored.
        restore: bool,
    },
    /// The stored row `old` is about to become `new`.
    Update {
        /// The row as stored (read without a lock).
        old: &'a Row,
        /// The row to write.
        new: &'a Row,
    },
    /// The stored row is about to be deleted.
    Delete {
        /// The row as stored.
        row: &'a Row,
    },
}

/// What [`Remote::stage`] did, for [`Remote::finish`] to apply inside the transaction.
pub struct Staged(pub Box<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Staged(..)")
    }
}

/// A remote system taking part in local reads and writes (see the module docs).
///
/// Single-object writes (`save`, `create`, `delete` on a handle) first call [`Remote::stage`]
/// with no transaction open, so no database lock is held while the remote answers; when it
/// returns `Some`, the store then opens its transaction, locks the row and calls
/// [`Remote::finish`] instead of the in-transaction hook. Writes inside a caller's transaction
/// (`save_in`, bulk and queryset writes, revert and restore) call the hooks.
pub trait Remote: Send + Sync + 'static {
    /// The remote part of a single-object write, before the local transaction (see the trait
    /// docs). An error leaves the local store untouched. The default does nothing and returns
    /// `None` (the in-transaction hook does the work).
    fn stage<'a>(
        &'a self,
        db: &'a Db,
        meta: &'static EntityMeta,
        write: Stage<'a>,
    ) -> BoxFuture<'a, Result<Option<Staged>>> {
        let _ = (db, meta, write);
        Box::pin(async { Ok(None) })
    }

    /// Applies a staged write inside the local transaction: `old` is the stored row, locked
    /// (none for an insert), `row` the row about to be written (may be changed, like the hooks
    /// do). Dropping `staged` releases what the stage held.
    fn finish<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        old: Option<&'a Row>,
        row: &'a mut Row,
        staged: Staged,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = (tx, meta, old, row, staged);
        Box::pin(async { Ok(()) })
    }

    /// Called before a read terminal on `meta` runs locally; may refresh local rows.
    /// `db` is a skip-mode clone of the reading handle.
    ///
    /// `Some(rows)` answers the read: the rows [`crate::store::rows::select`] of `spec` returns,
    /// read by the remote on its way and not changed by it since (a read already in sync), so
    /// the store does not read them again. `None` leaves the read to the store.
    fn before_read<'a>(
        &'a self,
        db: &'a Db,
        meta: &'static EntityMeta,
        spec: &'a ReadSpec,
    ) -> BoxFuture<'a, Result<Option<Vec<Row>>>>;

    /// Called inside the local transaction before `row` is inserted (its primary key is 0, or
    /// the old key when a deleted object is restored: then `restore` is true, and a remote
    /// record that still exists under the row's remote key may be taken as it is). May fill
    /// fields; an error aborts the insert.
    fn insert<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        row: &'a mut Row,
        restore: bool,
    ) -> BoxFuture<'a, Result<()>>;

    /// Called inside the local transaction before the row `old` (as stored, locked) is replaced
    /// by `new`. May change `new`; an error aborts the update.
    fn update<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        old: &'a Row,
        new: &'a mut Row,
    ) -> BoxFuture<'a, Result<()>>;

    /// Called inside the local transaction before `row` (as stored) is deleted; an error aborts
    /// the delete.
    fn delete<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        row: &'a Row,
    ) -> BoxFuture<'a, Result<()>>;

    /// Called for every write in skip mode: `old` is the stored row (none for an insert), `new`
    /// the row to be written (none for a delete). An error refuses the write.
    fn local_write_guard(
        &self,
        meta: &'static EntityMeta,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> Result<()>;

    /// The remote key of `row` to record in history (e.g. the CDMS id), if it has one.
    fn remote_key(&self, meta: &'static EntityMeta, row: &Row) -> Option<String> {
        let _ = (meta, row);
        None
    }
}
