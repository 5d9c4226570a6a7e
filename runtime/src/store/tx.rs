//! Transactions over either backend.

use sqlx::{Postgres, Sqlite};

use super::counts::StatementKind;
use super::{Backend, Db, Pool};
use crate::error::{Error, Result};

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A database transaction (from [`Db::begin`]). Dropping it without [`Tx::commit`] rolls it
/// back.
///
/// It remembers the [`Db`] it was started from, so writes inside it record that handle's actor
/// in history.
pub struct Tx {
    pub(crate) inner: TxInner,
    db: Db,
    /// Whether a statement other than a `SELECT` ran inside it (see [`Tx::restart`]).
    wrote: bool,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Tx {
    pub(crate) async fn begin(db: &Db) -> Result<Tx> {
        db.counters().count(StatementKind::Begin);
        let inner = match db.pool() {
            Pool::Sqlite(p) => TxInner::Sqlite(
                db.sqlite_pool_for(p, StatementKind::Begin)
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(sqlite_begin_error)?,
            ),
            Pool::Postgres(p) => TxInner::Postgres(
                p.begin()
                    .await
                    .map_err(|e| Error::db("store", "begin", e))?,
            ),
        };
        Ok(Tx {
            inner,
            db: db.clone(),
            wrote: false,
        })
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.db.counters().count(StatementKind::Commit);
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await,
            TxInner::Postgres(t) => t.commit().await,
        }
        .map_err(|e| Error::db("store", "commit", e))
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<()> {
        self.db.counters().count(StatementKind::Rollback);
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await,
            TxInner::Postgres(t) => t.rollback().await,
        }
        .map_err(|e| Error::db("store", "rollback", e))
    }

    /// Notes that a statement of `kind` runs inside the transaction.
    pub(crate) fn note(&mut self, kind: StatementKind) {
        if kind != StatementKind::Select {
            self.wrote = true;
        }
    }

    /// Whether anything but `SELECT`s ran inside the transaction so far: if not, rolling it
    /// back loses nothing but its row locks.
    pub(crate) fn has_written(&self) -> bool {
        self.wrote
    }

    /// Rolls the transaction back and begins a new one on the same connection, keeping the
    /// handle. Only for a transaction that has not written yet ([`Tx::has_written`]) and that a
    /// refused statement aborted (PostgreSQL): its row locks are released.
    pub(crate) async fn restart(&mut self) -> Result<()> {
        use sqlx::Executor as _;
        let counters = self.db.counters();
        counters.count(StatementKind::Rollback);
        counters.count(StatementKind::Begin);
        let err = |e| Error::db("store", "restart", e);
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                t.execute("ROLLBACK").await.map_err(err)?;
                t.execute("BEGIN IMMEDIATE").await.map_err(err)?;
            }
            TxInner::Postgres(t) => {
                t.execute("ROLLBACK").await.map_err(err)?;
                t.execute("BEGIN").await.map_err(err)?;
            }
        }
        self.wrote = false;
        Ok(())
    }

    /// The handle the transaction was started from (its actor, remote and skip mode).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}

/// The error of a SQLite `BEGIN`: waiting for the writing connection past the busy timeout says
/// so (the pool's own message only says it timed out).
fn sqlite_begin_error(e: sqlx::Error) -> Error {
    let e = match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "another transaction of this process held the SQLite write lock for {} s",
                super::SQLITE_BUSY_TIMEOUT.as_secs()
            ),
        )),
        e => e,
    };
    Error::db("store", "begin", e)
}
