//! Running generated statements on a pool or inside a transaction.

use sqlx::Executor as _;

use super::bind::{bind_pg, bind_sqlite};
use super::counts::StatementKind;
use super::decode::{pg_row, sqlite_row, Col};
use super::sql::Sql;
use super::tx::{Tx, TxInner};
use super::{Backend, Db, Pool};
use crate::error::{Error, Result};
use crate::value::Value;

/// Where a statement runs: on the pool (autocommit) or inside a transaction.
pub enum Conn<'a> {
    /// A connection from the pool, one statement at a time.
    Db(&'a Db),
    /// An open transaction.
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for Conn<'a> {
    fn from(db: &'a Db) -> Self {
        Conn::Db(db)
    }
}

impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

fn sqlite_query<'q>(sql: &'q Sql) -> Result<super::bind::SqliteQuery<'q>> {
    let mut q = sqlx::query(sql.text());
    for p in sql.params() {
        q = bind_sqlite(q, p, sql.entity())?;
    }
    Ok(q)
}

fn pg_query<'q>(sql: &'q Sql) -> Result<super::bind::PgQuery<'q>> {
    let mut q = sqlx::query(sql.text());
    for p in sql.params() {
        q = bind_pg(q, p, sql.entity())?;
    }
    Ok(q)
}

impl Conn<'_> {
    /// The handle behind this connection.
    pub fn db(&self) -> &Db {
        match self {
            Conn::Db(db) => db,
            Conn::Tx(tx) => tx.db(),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.db().backend()
    }

    /// A shorter-lived handle on the same connection.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Db(db) => Conn::Db(db),
            Conn::Tx(tx) => Conn::Tx(tx),
        }
    }

    /// Counts the statement `text` about to run (and notes it in the transaction); returns its
    /// kind.
    fn count(&mut self, text: &str) -> StatementKind {
        let kind = StatementKind::of(text);
        self.db().counters().count(kind);
        if let Conn::Tx(tx) = self {
            tx.note(kind);
        }
        kind
    }

    /// Runs `sql` and decodes every row by `cols`.
    pub(crate) async fn fetch(
        &mut self,
        sql: &Sql,
        cols: &[Col],
        during: &'static str,
    ) -> Result<Vec<Vec<Value>>> {
        let err = |e| Error::db(sql.entity(), during, e);
        let kind = self.count(sql.text());
        match self {
            Conn::Db(db) => match db.pool() {
                Pool::Sqlite(p) => {
                    let p = db.sqlite_pool_for(p, kind);
                    let rows = sqlite_query(sql)?.fetch_all(p).await.map_err(err)?;
                    rows.iter().map(|r| sqlite_row(r, cols)).collect()
                }
                Pool::Postgres(p) => {
                    let rows = pg_query(sql)?.fetch_all(p).await.map_err(err)?;
                    rows.iter().map(|r| pg_row(r, cols)).collect()
                }
            },
            Conn::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(t) => {
                    let rows = sqlite_query(sql)?.fetch_all(&mut **t).await.map_err(err)?;
                    rows.iter().map(|r| sqlite_row(r, cols)).collect()
                }
                TxInner::Postgres(t) => {
                    let rows = pg_query(sql)?.fetch_all(&mut **t).await.map_err(err)?;
                    rows.iter().map(|r| pg_row(r, cols)).collect()
                }
            },
        }
    }

    /// Runs `sql`; returns the number of rows affected.
    pub(crate) async fn execute(&mut self, sql: &Sql, during: &'static str) -> Result<u64> {
        let err = |e| Error::db(sql.entity(), during, e);
        let kind = self.count(sql.text());
        Ok(match self {
            Conn::Db(db) => match db.pool() {
                Pool::Sqlite(p) => sqlite_query(sql)?
                    .execute(db.sqlite_pool_for(p, kind))
                    .await
                    .map_err(err)?
                    .rows_affected(),
                Pool::Postgres(p) => pg_query(sql)?
                    .execute(p)
                    .await
                    .map_err(err)?
                    .rows_affected(),
            },
            Conn::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(t) => sqlite_query(sql)?
                    .execute(&mut **t)
                    .await
                    .map_err(err)?
                    .rows_affected(),
                TxInner::Postgres(t) => pg_query(sql)?
                    .execute(&mut **t)
                    .await
                    .map_err(err)?
                    .rows_affected(),
            },
        })
    }

    /// Runs a statement without parameters (DDL).
    pub(crate) async fn execute_plain(
        &mut self,
        text: &str,
        entity: &'static str,
        during: &'static str,
    ) -> Result<()> {
        let err = |e| Error::db(entity, during, e);
        let kind = self.count(text);
        match self {
            Conn::Db(db) => match db.pool() {
                Pool::Sqlite(p) => db
                    .sqlite_pool_for(p, kind)
                    .execute(text)
                    .await
                    .map(|_| ())
                    .map_err(err),
                Pool::Postgres(p) => p.execute(text).await.map(|_| ()).map_err(err),
            },
            Conn::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(t) => t.execute(text).await.map(|_| ()).map_err(err),
                TxInner::Postgres(t) => t.execute(text).await.map(|_| ()).map_err(err),
            },
        }
    }
}
