//! The local store: a SQLite or PostgreSQL pool, SQL generation and execution.
//!
//! [`Db`] is the handle everything goes through. It is cheap to clone; a clone can carry an
//! actor for history ([`Db::as_actor`]), a [`Remote`] ([`Db::with_remote`]) and the skip flag
//! ([`Db::skip_cdms`]) without affecting other clones.
//!
//! Storage forms (identical behaviour on both backends is a goal, tested):
//!
//! | kind     | SQLite                                  | PostgreSQL         |
//! |----------|-----------------------------------------|--------------------|
//! | bool     | `INTEGER` 0/1                           | `BOOLEAN`          |
//! | i32      | `INTEGER`                               | `INTEGER`          |
//! | i64      | `INTEGER`                               | `BIGINT`           |
//! | f64      | `REAL`                                  | `DOUBLE PRECISION` |
//! | text     | `TEXT` (binary collation)               | `TEXT COLLATE "C"` |
//! | decimal  | `TEXT`, normalized (`1.50` → `1.5`)     | `NUMERIC`          |
//! | datetime | `TEXT` `2016-01-02T03:04:05.000000Z`    | `TIMESTAMPTZ`      |
//! | date     | `TEXT` `YYYY-MM-DD`                     | `DATE`             |
//! | uuid     | `TEXT` lower-case, hyphenated           | `UUID`             |
//!
//! Datetimes are truncated to microseconds and decimals normalized before every write, so an
//! object returned by a write equals the stored row on both backends.
//!
//! Limits worth knowing:
//! - On SQLite, decimals are compared and ordered through `CAST(... AS REAL)`: values that differ
//!   only beyond ~15 significant digits compare equal in `gt`/`lt`/`range`/`order_by` (`exact` and
//!   `in` compare the exact normalized text).
//! - SQLite turns a `NaN` float into `NULL`.
//! - One statement binds at most [`sql::MAX_PARAMS`] values; `in` lists are split so this only
//!   matters for filters with tens of thousands of values.

pub mod history;
pub mod migrate;
pub mod remote;
pub mod rows;
pub mod schema;
pub mod sql;

mod bind;
mod counts;
mod decode;
mod exec;
pub(crate) mod ops;
pub(crate) mod snapshots;
mod tx;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection as _;

use crate::entity::EntityMeta;
use crate::error::{Error, Result};
use crate::value::Value;

pub use bind::Param;
pub use counts::{SqlCounts, StatementKind};
pub use exec::Conn;
pub use history::{Version, VersionKind};
pub use remote::{ReadOp, ReadSpec, Remote};
pub use tx::Tx;

/// How long a SQLite connection waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections in a file-backed SQLite pool (WAL: many readers, one writer at a time).
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// The page cache of the connection that writes a SQLite file (SQLite's default is 2 MiB).
/// Writes insert into the CDMS id index and the other secondary indexes at random places: with
/// the default, most such inserts read their index page back from the operating system.
const WRITER_CACHE_KIB: u32 = 32 * 1024;
/// The WAL size (pages of 4 KiB) at which the writing connection copies it into the database
/// file (SQLite's default is 1,000). A page written by several transactions in between is
/// copied once.
const WAL_CHECKPOINT_PAGES: u32 = 8 * 1024;
/// Connections in a PostgreSQL pool.
const PG_MAX_CONNECTIONS: u32 = 10;

/// How long [`Db::connect`] waits for PostgreSQL to answer a first connection before giving up.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The database behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (a file, or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

struct Inner {
    pool: Pool,
    backend: Backend,
    snapshots: snapshots::Snapshots,
    counts: counts::Counters,
    /// A SQLite file's one connection for transactions (`None`: PostgreSQL, or SQLite in
    /// memory, whose single connection serves everything); see [`Db::begin`].
    writer: Option<SqlitePool>,
}

/// A handle on the local database (cheap to clone).
///
/// Besides the shared pool, each clone carries its own settings: the actor recorded in history,
/// the installed [`Remote`], and whether the remote is skipped.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    actor: Option<Arc<str>>,
    skip: bool,
    remote: Option<Arc<dyn Remote>>,
    /// A SQLite file's queries outside transactions run on its writing connection too (see
    /// [`Db::reading_on_writer`]).
    reads_on_writer: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold credentials.
        f.debug_struct("Db")
            .field("backend", &self.inner.backend)
            .field("actor", &self.actor)
            .field("skip_remote", &self.skip)
            .field("remote", &self.remote.is_some())
            .finish()
    }
}

fn config_error(message: String) -> Error {
    Error::db(
        "store",
        "connect",
        sqlx::Error::Configuration(message.into()),
    )
}

/// Opens and closes one connection, so an unreachable server fails within
/// [`PG_CONNECT_TIMEOUT`] with its host, port and the reason. (The pool itself retries a refused
/// connection until its acquire timeout, 30 s, then reports only "pool timed out".)
async fn probe_postgres(options: &PgConnectOptions) -> Result<()> {
    let at = format!("{}:{}", options.get_host(), options.get_port());
    let failed = |kind: std::io::ErrorKind, why: String| {
        Error::db(
            "store",
            "connect",
            sqlx::Error::Io(std::io::Error::new(
                kind,
                format!("cannot connect to PostgreSQL at {at}: {why}"),
            )),
        )
    };
    match tokio::time::timeout(PG_CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => {
            // Only the probe's own connection; the pool opens its own.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(sqlx::Error::Io(e))) => Err(failed(e.kind(), e.to_string())),
        Ok(Err(e)) => Err(failed(std::io::ErrorKind::Other, e.to_string())),
        Err(_) => Err(failed(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", PG_CONNECT_TIMEOUT.as_secs()),
        )),
    }
}

impl Db {
    /// Connects to `url`: `sqlite://path/to/file.db?mode=rwc`, `sqlite::memory:`, or
    /// `postgres://user@host:port/database` (also `postgresql://`).
    ///
    /// SQLite connections use WAL journaling, enforce foreign keys, wait up to 30 s for locks
    /// and provide `REGEXP`. A SQLite file's transactions run on one connection of their own,
    /// in turn (see [`Db::begin`]), with a page cache of up to 32 MiB and a WAL of up to 32 MiB
    /// between checkpoints; the other connections serve reads. An in-memory SQLite
    /// database uses a single connection (each connection would otherwise see its own
    /// database). An unreachable PostgreSQL server fails within 5 s with its host, port (never
    /// the password) and the reason.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::db("store", "connect", e))?;
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            Self::open_sqlite(options, memory).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).map_err(|e| Error::db("store", "connect", e))?;
            probe_postgres(&options).await?;
            // No ping before every checkout (a round trip per statement and per BEGIN);
            // connections idle for a minute are closed instead, so one broken by a server
            // restart is rarely handed out.
            let pool = PgPoolOptions::new()
                .max_connections(PG_MAX_CONNECTIONS)
                .test_before_acquire(false)
                .idle_timeout(Some(std::time::Duration::from_secs(60)))
                .connect_with(options)
                .await
                .map_err(|e| Error::db("store", "connect", e))?;
            Ok(Self::from_pool(
                Pool::Postgres(pool),
                Backend::Postgres,
                None,
            ))
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(config_error(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite:// or postgres://"
            )))
        }
    }

    /// Opens (creating it if missing) the SQLite database file at `path`.
    pub async fn sqlite(path: impl AsRef<Path>) -> Result<Db> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_sqlite(options, false).await
    }

    /// A fresh, private in-memory SQLite database. It has a single connection: while a [`Tx`]
    /// is open, read through the transaction, not through the handle.
    pub async fn memory() -> Result<Db> {
        Self::connect("sqlite::memory:").await
    }

    async fn open_sqlite(options: SqliteConnectOptions, memory: bool) -> Result<Db> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .with_regexp();
        let pool_options = if memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new()
                .max_connections(SQLITE_MAX_CONNECTIONS)
                .test_before_acquire(false)
        };
        let pool = pool_options
            .connect_with(options.clone())
            .await
            .map_err(|e| Error::db("store", "connect", e))?;
        let writer = if memory {
            None
        } else {
            // Opened on the first transaction, then kept: its page cache stays valid, as no
            // other connection of the process writes. A larger cache and less frequent
            // checkpoints than SQLite's defaults, on this connection only (each connection
            // has a cache of its own).
            Some(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(SQLITE_BUSY_TIMEOUT)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .test_before_acquire(false)
                    .connect_lazy_with(
                        options
                            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string()),
                    ),
            )
        };
        Ok(Self::from_pool(Pool::Sqlite(pool), Backend::Sqlite, writer))
    }

    fn from_pool(pool: Pool, backend: Backend, writer: Option<SqlitePool>) -> Db {
        Db {
            inner: Arc::new(Inner {
                pool,
                backend,
                snapshots: snapshots::Snapshots::default(),
                counts: counts::Counters::default(),
                writer,
            }),
            actor: None,
            skip: false,
            remote: None,
            reads_on_writer: false,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// An identity of the shared pool (equal for every clone of one handle).
    #[cfg(feature = "cdms")]
    pub(crate) fn pool_id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// What the objects handed out were read as (see [`snapshots`]).
    pub(crate) fn snapshots(&self) -> &snapshots::Snapshots {
        &self.inner.snapshots
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The SQL statements executed through this handle's pool so far (every clone counts), by
    /// kind. Take a snapshot before and after an operation and use [`SqlCounts::since`].
    pub fn sql_counts(&self) -> SqlCounts {
        self.inner.counts.snapshot()
    }

    pub(crate) fn counters(&self) -> &counts::Counters {
        &self.inner.counts
    }

    /// The SQLite pool a statement of `kind` runs on, `reads` being this handle's pool: for
    /// anything but a query (transactions included), a file's writing connection (see
    /// [`Db::begin`]), so every write and schema change of the process goes through the one
    /// connection whose copy of the schema is then never out of date (SQLite checks some
    /// statements, such as adding a column, against that copy before it notices that another
    /// connection changed the schema); queries keep `reads`.
    pub(crate) fn sqlite_pool_for<'a>(
        &'a self,
        reads: &'a SqlitePool,
        kind: StatementKind,
    ) -> &'a SqlitePool {
        match &self.inner.writer {
            Some(writer) if kind != StatementKind::Select || self.reads_on_writer => writer,
            _ => reads,
        }
    }

    /// A clone whose queries outside transactions run on a SQLite file's writing connection,
    /// taking their turn with its transactions; other databases are unaffected. For the
    /// look-ups a bulk load makes between its transactions: they then use no connection of the
    /// read pool, each of which would keep a page cache and a thread's allocations of its own
    /// (a 1M-record load peaked at 128 MiB through the read pool, 62 MiB without it), and the
    /// load is bound by the writer anyway.
    pub(crate) fn reading_on_writer(&self) -> Db {
        Db {
            reads_on_writer: true,
            ..self.clone()
        }
    }

    /// A clone that records `actor` as the author of every history version it writes.
    pub fn as_actor(&self, actor: impl Into<String>) -> Db {
        let actor: String = actor.into();
        Db {
            actor: Some(Arc::from(actor)),
            ..self.clone()
        }
    }

    /// The actor recorded in history by this handle, if any.
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// A clone with `remote` installed: consulted for entities that have remote metadata
    /// ([`EntityMeta::remote`]) unless the handle is in skip mode.
    pub fn with_remote(&self, remote: Arc<dyn Remote>) -> Db {
        Db {
            remote: Some(remote),
            ..self.clone()
        }
    }

    /// A clone in skip mode: reads and writes are local only. Writes to entities with remote
    /// metadata still pass the remote's [`Remote::local_write_guard`].
    pub fn skip_cdms(&self) -> Db {
        Db {
            skip: true,
            ..self.clone()
        }
    }

    /// Whether this handle is in skip mode.
    pub fn is_skipping_remote(&self) -> bool {
        self.skip
    }

    /// The installed remote, whatever the mode.
    pub fn remote(&self) -> Option<&Arc<dyn Remote>> {
        self.remote.as_ref()
    }

    /// The remote to consult for `meta`: installed, not skipped, and the entity has remote
    /// metadata.
    pub fn active_remote(&self, meta: &EntityMeta) -> Option<&Arc<dyn Remote>> {
        match &self.remote {
            Some(remote) if !self.skip && meta.remote.is_some() => Some(remote),
            _ => None,
        }
    }

    /// Begins a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// a transaction that reads and then writes cannot fail on a lock upgrade.
    ///
    /// A SQLite file lets one connection write at a time, so the transactions of a file
    /// database all run on one connection of their own, taken in turn in the order they began
    /// (reads outside transactions keep the pool's other connections). Without it, writers
    /// that find the lock taken sleep in SQLite's busy handler (1 to 100 ms a try) while the
    /// lock may already be free, each on a connection of the pool, and every connection's page
    /// cache is thrown away whenever another one has written: with one writing connection the
    /// cache stays valid from one transaction to the next. A transaction still waiting after
    /// 30 s (the same limit as SQLite's own busy timeout) fails; so does beginning one while
    /// the same task holds another, after that wait.
    pub async fn begin(&self) -> Result<Tx> {
        Tx::begin(self).await
    }

    /// Brings the schema to `entities` (in the given order: referenced entities first) and the
    /// history table when every step is safe (new tables, nullable columns, indexes); otherwise
    /// applies nothing and returns [`schema::files::MigrationError::Refused`] listing the risky
    /// steps. See [`migrate`].
    pub async fn migrate(&self, entities: &[&'static EntityMeta]) -> Result<()> {
        migrate::migrate(self, entities).await
    }

    /// The plan from the live schema to `entities` and the history table. See
    /// [`schema::plan`].
    pub async fn plan(&self, entities: &[&'static EntityMeta]) -> Result<schema::Plan> {
        migrate::plan(self, entities).await
    }

    /// The live schema ([`schema::introspect`]).
    pub async fn introspect(&self) -> Result<schema::Schema> {
        schema::introspect::introspect(self).await
    }

    /// Applies the migration files of `dir` not yet recorded (see [`schema::files::apply`]);
    /// returns the versions applied.
    pub async fn apply_migrations(&self, dir: &std::path::Path) -> Result<Vec<i64>> {
        let files = schema::files::read_dir(dir)?;
        schema::files::apply(self, &files).await
    }

    /// What differs between the database, its recorded migrations, the files of `dir` and
    /// `entities` ([`schema::files::Drift`]).
    pub async fn drift(
        &self,
        dir: Option<&std::path::Path>,
        entities: &[&'static EntityMeta],
    ) -> Result<schema::Drift> {
        let files = match dir {
            Some(dir) => schema::files::read_dir(dir)?,
            None => Vec::new(),
        };
        let applied = schema::files::applied(self).await?;
        let plan = self.plan(entities).await?;
        let mut drift = schema::files::compare(&applied, &files, &plan);
        if dir.is_none() {
            // Without a directory there is nothing to compare the record with.
            drift.missing.clear();
        }
        Ok(drift)
    }

    /// Runs one statement of raw SQL with `params` bound in order (placeholders `?` on SQLite,
    /// `$1`, `$2`, … on PostgreSQL); returns the number of rows affected.
    pub async fn execute_raw(&self, statement: &str, params: &[Param]) -> Result<u64> {
        let mut sql = sql::Sql::new(self.backend(), "store");
        sql.push(statement);
        sql.params_mut().extend(params.iter().cloned());
        Conn::Db(self).execute(&sql, "raw statement").await
    }

    /// Closes every connection of the pool (shared by all clones).
    pub async fn close(&self) {
        match &self.inner.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        if let Some(w) = &self.inner.writer {
            w.close().await;
        }
    }
}

/// The current time, truncated to microseconds (the precision both backends store).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    truncate_micros(chrono::Utc::now())
}

/// `t` truncated to whole microseconds.
pub fn truncate_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// `value` in the form the store keeps: datetimes truncated to microseconds, decimals
/// normalized. Applied to every row before it is written.
pub fn normalize(value: Value) -> Value {
    match value {
        Value::DateTime(t) => Value::DateTime(truncate_micros(t)),
        Value::Decimal(d) => Value::Decimal(d.normalize()),
        v => v,
    }
}

pub(crate) fn normalize_row(row: &mut [Value]) {
    for v in row.iter_mut() {
        let taken = std::mem::replace(v, Value::Null);
        *v = normalize(taken);
    }
}
