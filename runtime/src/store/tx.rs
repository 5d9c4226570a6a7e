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
                p.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(|e| Error::db("store", "begin", e))?,
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

    /// The handle the transaction was started from (its actor, remote and skip mode).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}
