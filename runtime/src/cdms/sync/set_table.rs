//! The sync layer's own tables keyed by entity set (the quarantine, the stale rows): creating
//! them safely from concurrent processes, and what this process knows of them per database —
//! whether the table exists, and which sets may have entries — so that reads of a set with no
//! entries never touch them.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use crate::entity::EntityMeta;
use crate::error::Result;
use crate::store::sql::{ddl, quote_ident};
use crate::store::{rows, Backend, Conn, Db, ReadSpec, Tx};
use crate::value::Value;

/// One such table: its metadata, the field holding the entity set, and the PostgreSQL advisory
/// lock that serialises creating it (two `CREATE TABLE IF NOT EXISTS` of one table at once can
/// fail there).
pub(crate) struct SetTable {
    pub(crate) meta: &'static EntityMeta,
    pub(crate) set_field: usize,
    pub(crate) create_lock: i64,
}

impl SetTable {
    /// Creates the table and its index on the set column if they do not exist, inside `tx`.
    pub(crate) async fn create(&self, tx: &mut Tx) -> Result<()> {
        let meta = self.meta;
        let backend = tx.backend();
        if backend == Backend::Postgres {
            let sql = format!("SELECT pg_advisory_xact_lock({})", self.create_lock);
            Conn::Tx(tx)
                .execute_plain(&sql, meta.name, "migrate")
                .await?;
        }
        let table = ddl::create_table(backend, meta);
        Conn::Tx(tx)
            .execute_plain(&table, meta.name, "migrate")
            .await?;
        let column = meta.fields[self.set_field].column;
        let index = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
            quote_ident(&ddl::index_name(meta.table, &[column])),
            quote_ident(meta.table),
            quote_ident(column),
        );
        Conn::Tx(tx)
            .execute_plain(&index, meta.name, "migrate")
            .await
    }
}

/// What this process knows of one [`SetTable`] in each database it is used with (by pool
/// identity).
#[derive(Default)]
pub(crate) struct KnownSets {
    /// The databases whose table exists.
    ready: Mutex<HashSet<usize>>,
    /// The sets that may have entries, per database.
    sets: Mutex<HashMap<usize, HashSet<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KnownSets {
    /// Creates `table` in `db` the first time, and learns which sets have entries there.
    pub(crate) async fn ensure(&self, db: &Db, table: &SetTable) -> Result<()> {
        let id = db.pool_id();
        if self.is_ready(db) {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        table.create(&mut tx).await?;
        tx.commit().await?;
        let found = rows::select_columns(
            &db.skip_cdms(),
            table.meta,
            &ReadSpec::all(table.meta),
            &[table.set_field],
        )
        .await?;
        let sets = found
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(Value::Text(s)) => Some(s),
                _ => None,
            });
        lock(&self.sets).entry(id).or_default().extend(sets);
        lock(&self.ready).insert(id);
        Ok(())
    }

    /// Whether the table is known to exist in `db` (after [`KnownSets::ensure`]).
    pub(crate) fn is_ready(&self, db: &Db) -> bool {
        lock(&self.ready).contains(&db.pool_id())
    }

    /// Whether `set` may have entries in `db`, as far as this process knows.
    pub(crate) fn contains(&self, db: &Db, set: &str) -> bool {
        lock(&self.sets)
            .get(&db.pool_id())
            .is_some_and(|s| s.contains(set))
    }

    /// Notes that `set` has entries in `db`.
    pub(crate) fn insert(&self, db: &Db, set: &str) {
        lock(&self.sets)
            .entry(db.pool_id())
            .or_default()
            .insert(set.to_owned());
    }

    /// Notes that `set` has no entries left in `db`.
    pub(crate) fn remove(&self, db: &Db, set: &str) {
        if let Some(sets) = lock(&self.sets).get_mut(&db.pool_id()) {
            sets.remove(set);
        }
    }
}
