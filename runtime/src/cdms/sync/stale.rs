//! Rows synced under an older CDMS mapping: stale for the properties mapped or changed since,
//! whatever their `modified` says.
//!
//! When an entity's mapping changes (a property newly mapped, or mapped with another kind or
//! converter), the rows already loaded hold no value, or an outdated one, for it while their
//! `modified` still equals CDMS's `ModifiedOn`. The bulk engines' mapping record
//! ([`crate::cdms::bulk::mapping`]) then lists every such row here (`cdms_sync_stale`: entity
//! set, CDMS id, the mapping generation the row was synced under, since when). An entry is
//! cleared when the row is next applied from a whole CDMS record (a read, a list, a poll, a
//! load) or by the backfill; until then a synced read of the row never takes the in-sync
//! shortcut.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use uuid::Uuid;

use crate::entity::{EntityMeta, FieldMeta, Role, Row};
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup};
use crate::store::sql::{ddl, quote_ident};
use crate::store::{rows, Backend, Conn, Db, ReadSpec, Tx};
use crate::value::{Kind, Value};

const fn col(name: &'static str, kind: Kind, nullable: bool, unique: bool) -> FieldMeta {
    FieldMeta {
        name,
        column: name,
        kind,
        nullable,
        role: Role::Plain,
        references: None,
        unique,
        indexed: false,
        renamed_from: None,
        default: None,
        option_set: false,
    }
}

static FIELDS: [FieldMeta; 6] = [
    FieldMeta {
        role: Role::PrimaryKey,
        ..col("id", Kind::Int64, false, false)
    },
    col("record_key", Kind::Text, false, true),
    col("entity", Kind::Text, false, false),
    col("cdms_id", Kind::Uuid, false, false),
    col("generation", Kind::Int64, false, false),
    col("since", Kind::DateTime, false, false),
];

/// `cdms_sync_stale`: one row per local row synced under an older mapping.
pub(crate) static STALE: EntityMeta = EntityMeta {
    name: "cdms_sync_stale",
    table: "cdms_sync_stale",
    fields: &FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

const S_KEY: usize = 1;
const S_ENTITY: usize = 2;
const S_ID: usize = 3;
const S_GENERATION: usize = 4;

/// Statements carry at most this many keys.
const CHUNK: usize = 500;

/// The PostgreSQL advisory lock that serialises creating the table.
const CREATE_LOCK: i64 = 0x6364_6d73_7374_616c;

fn key(set: &str, id: Uuid) -> String {
    format!("{set}/{}", id.hyphenated())
}

fn by_set(set: &str) -> Expr {
    Expr::Cond(Cond {
        field: S_ENTITY,
        lookup: Lookup::Exact(Value::Text(set.to_owned())),
    })
}

/// Creates the table and its index if they do not exist, inside `tx`.
pub(crate) async fn create(tx: &mut Tx) -> Result<()> {
    let backend = tx.backend();
    if backend == Backend::Postgres {
        let sql = format!("SELECT pg_advisory_xact_lock({CREATE_LOCK})");
        Conn::Tx(tx)
            .execute_plain(&sql, STALE.name, "migrate")
            .await?;
    }
    let table = ddl::create_table(backend, &STALE);
    Conn::Tx(tx)
        .execute_plain(&table, STALE.name, "migrate")
        .await?;
    let index = format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        quote_ident(&ddl::index_name(STALE.table, &["entity"])),
        quote_ident(STALE.table),
        quote_ident("entity"),
    );
    Conn::Tx(tx)
        .execute_plain(&index, STALE.name, "migrate")
        .await
}

/// Lists the rows `ids` of `set` as synced under mapping `generation`, inside `tx`. A row
/// already listed keeps its (older) generation.
pub(crate) async fn mark(tx: &mut Tx, set: &str, ids: &[Uuid], generation: i64) -> Result<u64> {
    let mut marked = 0;
    let now = crate::store::now();
    for chunk in ids.chunks(CHUNK) {
        let keys: Vec<Value> = chunk.iter().map(|&id| Value::Text(key(set, id))).collect();
        let known: HashSet<String> = rows::find_pks(&mut *tx, &STALE, S_KEY, &keys)
            .await?
            .into_iter()
            .filter_map(|(v, _)| match v {
                Value::Text(s) => Some(s),
                _ => None,
            })
            .collect();
        let mut batch: Vec<Row> = chunk
            .iter()
            .filter(|&&id| !known.contains(&key(set, id)))
            .map(|&id| {
                vec![
                    Value::Int(0),
                    Value::Text(key(set, id)),
                    Value::Text(set.to_owned()),
                    Value::Uuid(id),
                    Value::Int(generation),
                    Value::DateTime(now),
                ]
            })
            .collect();
        if batch.is_empty() {
            continue;
        }
        marked += batch.len() as u64;
        rows::upsert(tx, &STALE, S_KEY, &[S_ENTITY], &mut batch).await?;
    }
    Ok(marked)
}

/// The stale rows of `set` among `ids`, with the generation each was synced under.
pub(crate) async fn of_ids<'c>(
    conn: impl Into<Conn<'c>>,
    set: &str,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>> {
    let mut conn = conn.into();
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let keys: Vec<Value> = chunk.iter().map(|&id| Value::Text(key(set, id))).collect();
        let spec = ReadSpec::filtered(
            &STALE,
            Expr::Cond(Cond {
                field: S_KEY,
                lookup: Lookup::In(keys),
            }),
        );
        let found =
            rows::select_columns(conn.reborrow(), &STALE, &spec, &[S_ID, S_GENERATION]).await?;
        for row in found {
            if let (Some(Value::Uuid(id)), Some(Value::Int(g))) = (row.first(), row.get(1)) {
                out.insert(*id, *g);
            }
        }
    }
    Ok(out)
}

/// How many rows of `set` are stale, and the oldest generation among them.
pub(crate) async fn summary<'c>(
    conn: impl Into<Conn<'c>>,
    set: &str,
) -> Result<(u64, Option<i64>)> {
    let found = rows::select_columns(
        conn,
        &STALE,
        &ReadSpec::filtered(&STALE, by_set(set)),
        &[S_GENERATION],
    )
    .await?;
    let oldest = found
        .iter()
        .filter_map(|r| match r.first() {
            Some(Value::Int(g)) => Some(*g),
            _ => None,
        })
        .min();
    Ok((found.len() as u64, oldest))
}

/// Forgets the entries of `ids` of `set` inside `tx` (rows applied from whole records, or
/// backfilled). Returns how many were removed.
pub(crate) async fn clear_ids(tx: &mut Tx, set: &str, ids: &[Uuid]) -> Result<u64> {
    let mut cleared = 0;
    for chunk in ids.chunks(CHUNK) {
        let keys: Vec<Value> = chunk.iter().map(|&id| Value::Text(key(set, id))).collect();
        let pks: Vec<i64> = rows::find_pks(&mut *tx, &STALE, S_KEY, &keys)
            .await?
            .into_iter()
            .map(|(_, pk)| pk)
            .collect();
        if !pks.is_empty() {
            cleared += rows::delete_many(tx, &STALE, &pks).await?;
        }
    }
    Ok(cleared)
}

/// What a remote knows about the stale tables of the databases it is used with: whether the
/// table exists, and which sets may have entries (learned once per database, and kept up to
/// date by this process's mapping records and backfills).
#[derive(Default)]
pub(crate) struct StaleState {
    ready: Mutex<HashSet<usize>>,
    dirty: Mutex<HashMap<usize, HashSet<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StaleState {
    /// Creates the table in `db` the first time, and learns which sets have entries.
    pub(crate) async fn ensure(&self, db: &Db) -> Result<()> {
        let id = db.pool_id();
        if lock(&self.ready).contains(&id) {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        create(&mut tx).await?;
        tx.commit().await?;
        let found =
            rows::select_columns(&db.skip_cdms(), &STALE, &ReadSpec::all(&STALE), &[S_ENTITY])
                .await?;
        let sets: HashSet<String> = found
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(Value::Text(s)) => Some(s),
                _ => None,
            })
            .collect();
        lock(&self.dirty).entry(id).or_default().extend(sets);
        lock(&self.ready).insert(id);
        Ok(())
    }

    /// Whether rows of `set` may be stale in `db`. Unknown (before [`StaleState::ensure`])
    /// counts as "may".
    pub(crate) fn may_have(&self, db: &Db, set: &str) -> bool {
        let id = db.pool_id();
        if !lock(&self.ready).contains(&id) {
            return true;
        }
        lock(&self.dirty).get(&id).is_some_and(|s| s.contains(set))
    }

    /// Notes that rows of `set` were listed as stale in `db`.
    pub(crate) fn note(&self, db: &Db, set: &str) {
        lock(&self.dirty)
            .entry(db.pool_id())
            .or_default()
            .insert(set.to_owned());
    }

    /// Notes that `set` has no stale rows left in `db`.
    pub(crate) fn settled(&self, db: &Db, set: &str) {
        if let Some(sets) = lock(&self.dirty).get_mut(&db.pool_id()) {
            sets.remove(set);
        }
    }

    /// Clears the entries of `ids` of `set` inside `tx` when the set may have any.
    pub(crate) async fn clear(&self, tx: &mut Tx, set: &str, ids: &[Uuid]) -> Result<u64> {
        let db = tx.db().clone();
        if ids.is_empty() || !lock(&self.ready).contains(&db.pool_id()) {
            return Ok(0);
        }
        if !self.may_have(&db, set) {
            return Ok(0);
        }
        clear_ids(tx, set, ids).await
    }
}
