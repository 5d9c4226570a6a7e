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

use uuid::Uuid;

use super::set_table::{KnownSets, SetTable};
use crate::entity::{EntityMeta, FieldMeta, Row};
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup};
use crate::store::{rows, Conn, Db, ReadSpec, Tx};
use crate::value::{Kind, Value};

static FIELDS: [FieldMeta; 6] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("record_key", Kind::Text).unique(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("cdms_id", Kind::Uuid),
    FieldMeta::column("generation", Kind::Int64),
    FieldMeta::column("since", Kind::DateTime),
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

/// The table, for creating it and for what a remote knows of it.
const TABLE: SetTable = SetTable {
    meta: &STALE,
    set_field: S_ENTITY,
    create_lock: 0x6364_6d73_7374_616c,
};

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
    TABLE.create(tx).await
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
    known: KnownSets,
}

impl StaleState {
    /// Creates the table in `db` the first time, and learns which sets have entries.
    pub(crate) async fn ensure(&self, db: &Db) -> Result<()> {
        self.known.ensure(db, &TABLE).await
    }

    /// Whether rows of `set` may be stale in `db`. Unknown (before [`StaleState::ensure`])
    /// counts as "may".
    pub(crate) fn may_have(&self, db: &Db, set: &str) -> bool {
        !self.known.is_ready(db) || self.known.contains(db, set)
    }

    /// Notes that rows of `set` were listed as stale in `db`.
    pub(crate) fn note(&self, db: &Db, set: &str) {
        self.known.insert(db, set);
    }

    /// Notes that `set` has no stale rows left in `db`.
    pub(crate) fn settled(&self, db: &Db, set: &str) {
        self.known.remove(db, set);
    }

    /// Clears the entries of `ids` of `set` inside `tx` when the set may have any.
    pub(crate) async fn clear(&self, tx: &mut Tx, set: &str, ids: &[Uuid]) -> Result<u64> {
        let db = tx.db().clone();
        if ids.is_empty() || !self.known.is_ready(&db) {
            return Ok(0);
        }
        if !self.may_have(&db, set) {
            return Ok(0);
        }
        clear_ids(tx, set, ids).await
    }
}
