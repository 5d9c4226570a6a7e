//! Reviewed migration files and the record of the applied ones.
//!
//! A migration file is `<version>_<description>.sql` in a directory (the layout sqlx's migrator
//! reads, so `sqlx migrate run` can apply the same files). [`write`] writes the current plan as
//! such a file; [`apply`] runs the files not yet recorded, in version order, each in its own
//! transaction together with its record in [`MIGRATIONS_TABLE`] (version, description, SHA-256
//! of the text, time). [`drift`] compares the database with its record, the directory and the
//! entities.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::plan::Step;
use super::Plan;
use crate::error::{Error, Result};
use crate::store::sql::quote_ident;
use crate::store::tx::TxInner;
use crate::store::{Backend, Conn, Db, Pool, StatementKind};

/// The table recording applied migration files.
pub const MIGRATIONS_TABLE: &str = "cdms_schema_migrations";

const DURING: &str = "schema migration";

/// Why a migration did not run, or what differs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The plan has steps that need review; nothing was applied.
    #[error(
        "migration refused, nothing applied: {} step(s) can lose data or fail on existing rows \
         and need a reviewed migration file (`cdms-sync migrate --write DIR`, review it, then \
         `cdms-sync migrate --apply DIR`):\n{}",
        steps.len(),
        steps.iter().map(|s| format!("  - {s}")).collect::<Vec<_>>().join("\n")
    )]
    Refused {
        /// The risky steps.
        steps: Vec<Step>,
    },
    /// The database does not match its recorded migrations (nothing was applied).
    #[error("schema drift, nothing applied:\n{0}")]
    Drift(Drift),
    /// A migration file or directory is unusable.
    #[error("migration file {path}: {message}")]
    File {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl From<MigrationError> for Error {
    fn from(e: MigrationError) -> Self {
        Error::Migration(Box::new(e))
    }
}

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// The version (the number before the first `_`).
    pub version: i64,
    /// The description (the rest of the name, `_` read as spaces as sqlx does).
    pub description: String,
    /// The path.
    pub path: PathBuf,
    /// The SQL text.
    pub sql: String,
    /// SHA-256 of the text, hex.
    pub checksum: String,
}

/// One recorded migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The version.
    pub version: i64,
    /// The description.
    pub description: String,
    /// SHA-256 of the text that was applied, hex.
    pub checksum: String,
    /// When, RFC 3339.
    pub applied_at: String,
}

/// What differs between the database, its recorded migrations, a migration directory and the
/// entities.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    /// Recorded versions whose file changed since it was applied (version, description).
    pub changed: Vec<(i64, String)>,
    /// Recorded versions with no file in the directory.
    pub missing: Vec<(i64, String)>,
    /// Files in the directory not applied yet.
    pub pending: Vec<(i64, String)>,
    /// The steps still between the live schema and the entities.
    pub schema: Vec<Step>,
}

impl Drift {
    /// Whether everything matches.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.pending.is_empty()
            && self.schema.is_empty()
    }

    /// Whether the record disagrees with the directory (a reason to refuse applying).
    pub fn record_broken(&self) -> bool {
        !self.changed.is_empty() || !self.missing.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return writeln!(
                f,
                "  schema matches the entities and the recorded migrations"
            );
        }
        for (v, d) in &self.changed {
            writeln!(
                f,
                "  - migration {v} ({d}) was changed after it was applied (checksum differs)"
            )?;
        }
        for (v, d) in &self.missing {
            writeln!(
                f,
                "  - migration {v} ({d}) is recorded as applied but its file is missing"
            )?;
        }
        for (v, d) in &self.pending {
            writeln!(f, "  - migration {v} ({d}) is not applied yet")?;
        }
        for step in &self.schema {
            writeln!(f, "  - live schema differs from the entities: {step}")?;
        }
        Ok(())
    }
}

/// SHA-256 of `text`, hex.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_error(path: &Path, message: impl fmt::Display) -> Error {
    MigrationError::File {
        path: path.to_owned(),
        message: message.to_string(),
    }
    .into()
}

/// The migration files of `dir` (`*.sql`), in version order. A `.sql` file whose name is not
/// `<version>_<description>.sql`, or two files with one version, is an error.
pub fn read_dir(dir: &Path) -> Result<Vec<MigrationFile>> {
    let entries = std::fs::read_dir(dir).map_err(|e| file_error(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| file_error(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let parsed = stem
            .split_once('_')
            .and_then(|(v, d)| Some((v.parse::<i64>().ok()?, d)));
        let Some((version, description)) = parsed else {
            return Err(file_error(
                &path,
                "the name is not <version>_<description>.sql (e.g. 20260101120000_add_notes.sql)",
            ));
        };
        let sql = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e))?;
        files.push(MigrationFile {
            version,
            description: description.replace('_', " "),
            checksum: checksum(&sql),
            path,
            sql,
        });
    }
    files.sort_by_key(|f| f.version);
    for pair in files.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(file_error(
                &pair[1].path,
                format_args!("version {} is used by two files", pair[1].version),
            ));
        }
    }
    Ok(files)
}

/// Writes `plan` as a new migration file in `dir` (created if needed): version = the current
/// UTC time as `YYYYMMDDhhmmss` (or one more than the highest version there), the given
/// description. Returns `None` (and writes nothing) when the plan is empty.
pub fn write(plan: &Plan, dir: &Path, description: &str) -> Result<Option<MigrationFile>> {
    if plan.is_empty() {
        return Ok(None);
    }
    let slug: String = description
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let existing = read_dir(dir)?;
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .map_err(|e| file_error(dir, e))?;
    let version = existing
        .last()
        .map_or(now, |f| now.max(f.version.saturating_add(1)));
    let risky = plan.risky().count();
    let mut sql = format!(
        "-- {description}: {} step(s), {risky} of them risky, for {}.\n\
         -- Review every statement (risky ones are marked) before applying:\n\
         --   cdms-sync migrate --apply DIR   (or: sqlx migrate run --source DIR)\n\n",
        plan.steps.len(),
        plan.backend.name()
    );
    sql.push_str(&plan.to_sql());
    let path = dir.join(format!("{version}_{slug}.sql"));
    std::fs::write(&path, &sql).map_err(|e| file_error(&path, e))?;
    Ok(Some(MigrationFile {
        version,
        description: slug.replace('_', " "),
        checksum: checksum(&sql),
        path,
        sql,
    }))
}

fn create_table_sql(backend: Backend) -> String {
    let version = match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BIGINT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} ({} {version} PRIMARY KEY, {} TEXT NOT NULL, \
         {} TEXT NOT NULL, {} TEXT NOT NULL)",
        quote_ident(MIGRATIONS_TABLE),
        quote_ident("version"),
        quote_ident("description"),
        quote_ident("checksum"),
        quote_ident("applied_at"),
    )
}

/// Whether [`MIGRATIONS_TABLE`] exists.
async fn table_exists(db: &Db) -> Result<bool> {
    let err = |e| Error::db("store", DURING, e);
    let found: Option<i64> = match db.pool() {
        Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
                .bind(MIGRATIONS_TABLE)
                .fetch_optional(p)
                .await
                .map_err(err)?
        }
        Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT 1::int8 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(MIGRATIONS_TABLE)
        .fetch_optional(p)
        .await
        .map_err(err)?,
    };
    Ok(found.is_some())
}

/// The recorded migrations, in version order (none when nothing was ever applied; reading
/// creates nothing).
pub async fn applied(db: &Db) -> Result<Vec<AppliedMigration>> {
    if !table_exists(db).await? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {}, {}, {}, {} FROM {} ORDER BY {}",
        quote_ident("version"),
        quote_ident("description"),
        quote_ident("checksum"),
        quote_ident("applied_at"),
        quote_ident(MIGRATIONS_TABLE),
        quote_ident("version"),
    );
    let err = |e| Error::db("store", DURING, e);
    let decode = |version: i64, d: String, c: String, a: String| AppliedMigration {
        version,
        description: d,
        checksum: c,
        applied_at: a,
    };
    let mut out = Vec::new();
    match db.pool() {
        Pool::Sqlite(p) => {
            for r in sqlx::query(&sql).fetch_all(p).await.map_err(err)? {
                out.push(decode(
                    r.try_get(0).map_err(err)?,
                    r.try_get(1).map_err(err)?,
                    r.try_get(2).map_err(err)?,
                    r.try_get(3).map_err(err)?,
                ));
            }
        }
        Pool::Postgres(p) => {
            for r in sqlx::query(&sql).fetch_all(p).await.map_err(err)? {
                out.push(decode(
                    r.try_get(0).map_err(err)?,
                    r.try_get(1).map_err(err)?,
                    r.try_get(2).map_err(err)?,
                    r.try_get(3).map_err(err)?,
                ));
            }
        }
    }
    Ok(out)
}

/// The record and the directory compared, plus `plan`'s steps as schema drift.
pub fn compare(applied: &[AppliedMigration], files: &[MigrationFile], plan: &Plan) -> Drift {
    let mut drift = Drift {
        schema: plan.steps.clone(),
        ..Drift::default()
    };
    for a in applied {
        match files.iter().find(|f| f.version == a.version) {
            None => drift.missing.push((a.version, a.description.clone())),
            Some(f) if f.checksum != a.checksum => {
                drift.changed.push((a.version, a.description.clone()))
            }
            Some(_) => {}
        }
    }
    for f in files {
        if !applied.iter().any(|a| a.version == f.version) {
            drift.pending.push((f.version, f.description.clone()));
        }
    }
    drift
}

/// Runs every file of `files` not yet recorded, in version order, each with its record in one
/// transaction; returns the versions applied. Refuses (applying nothing) when the record
/// disagrees with the files (a changed or missing file).
pub async fn apply(db: &Db, files: &[MigrationFile]) -> Result<Vec<i64>> {
    Conn::Db(db)
        .execute_plain(&create_table_sql(db.backend()), "store", DURING)
        .await?;
    let recorded = applied(db).await?;
    let empty = Plan {
        backend: db.backend(),
        steps: Vec::new(),
        unmanaged: Vec::new(),
        rebuilds: Vec::new(),
    };
    let drift = compare(&recorded, files, &empty);
    if drift.record_broken() {
        return Err(MigrationError::Drift(drift).into());
    }
    let insert = format!(
        "INSERT INTO {} ({}, {}, {}, {}) VALUES ({})",
        quote_ident(MIGRATIONS_TABLE),
        quote_ident("version"),
        quote_ident("description"),
        quote_ident("checksum"),
        quote_ident("applied_at"),
        match db.backend() {
            Backend::Sqlite => "?, ?, ?, ?",
            Backend::Postgres => "$1, $2, $3, $4",
        }
    );
    let mut done = Vec::new();
    for file in files {
        if recorded.iter().any(|a| a.version == file.version) {
            continue;
        }
        if let Pool::Sqlite(pool) = db.pool() {
            let pool = db.sqlite_pool_for(pool, StatementKind::Begin);
            apply_sqlite(pool, file, &insert).await?;
            done.push(file.version);
            continue;
        }
        let mut tx = db.begin().await?;
        Conn::Tx(&mut tx)
            .execute_plain(&file.sql, "store", DURING)
            .await?;
        let at = chrono::Utc::now().to_rfc3339();
        let err = |e| Error::db("store", DURING, e);
        match &mut tx.inner {
            TxInner::Sqlite(_) => {}
            TxInner::Postgres(t) => {
                sqlx::query(&insert)
                    .bind(file.version)
                    .bind(&file.description)
                    .bind(&file.checksum)
                    .bind(&at)
                    .execute(&mut **t)
                    .await
                    .map_err(err)?;
            }
        }
        tx.commit().await?;
        done.push(file.version);
    }
    Ok(done)
}

/// Runs `file` and its record on SQLite in one transaction on one connection, with foreign keys
/// off around it as SQLite's table rebuild procedure asks (dropping a referenced table would
/// otherwise fail or delete through the references), and `PRAGMA foreign_key_check` before the
/// commit: a file leaving a dangling reference is rolled back. Foreign keys are turned back on
/// afterwards; a connection where that fails is closed, never returned to the pool.
async fn apply_sqlite(pool: &sqlx::SqlitePool, file: &MigrationFile, insert: &str) -> Result<()> {
    let err = |e| Error::db("store", DURING, e);
    let mut conn = pool.acquire().await.map_err(err)?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    let outcome = run_sqlite(&mut conn, file, insert).await;
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await;
    if let Err(e) = restored {
        // Best effort: the connection is dropped either way, and the first error is reported.
        let _ = conn.close().await;
        outcome?;
        return Err(err(e));
    }
    outcome
}

async fn run_sqlite(
    conn: &mut sqlx::SqliteConnection,
    file: &MigrationFile,
    insert: &str,
) -> Result<()> {
    use sqlx::{Connection, Executor};
    let err = |e| Error::db("store", DURING, e);
    let mut tx = conn.begin().await.map_err(err)?;
    tx.execute(file.sql.as_str()).await.map_err(err)?;
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
    if let Some(row) = dangling.first() {
        let table: String = row.try_get(0).map_err(err)?;
        let rowid: Option<i64> = row.try_get(1).map_err(err)?;
        let parent: String = row.try_get(2).map_err(err)?;
        tx.rollback().await.map_err(err)?;
        return Err(file_error(
            &file.path,
            format_args!(
                "rolled back, nothing applied: {} row(s) would reference missing rows \
                 (first: {table} row {} references a missing {parent})",
                dangling.len(),
                rowid.map_or_else(|| "?".to_owned(), |r| r.to_string()),
            ),
        ));
    }
    sqlx::query(insert)
        .bind(file.version)
        .bind(&file.description)
        .bind(&file.checksum)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)
}
