//! The bulk engines' own tables: per-entity state (load plan, poll watermark, poll lease) and
//! per-partition checkpoints with leases.
//!
//! Both are ordinary tables in the local database, described like entities so the store's SQL
//! builders and decoders serve them. Every change to a partition happens in a transaction that
//! first locks its row (`FOR UPDATE` on PostgreSQL; SQLite transactions hold the write lock) and
//! checks that the caller still holds the lease, so a worker whose lease was taken over can never
//! commit a page (fencing).

use chrono::{DateTime, Utc};

use crate::entity::{EntityMeta, FieldMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::store::sql::{ddl, quote_ident, Sql};
use crate::store::{rows, Backend, Conn, Db, ReadSpec, Tx};
use crate::value::{Kind, Value};

static ENTITY_FIELDS: [FieldMeta; 10] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("entity", Kind::Text).unique(),
    FieldMeta::column("planned_at", Kind::DateTime).nullable(),
    FieldMeta::column("partitions", Kind::Int64),
    FieldMeta::column("load_done_at", Kind::DateTime).nullable(),
    FieldMeta::column("watermark", Kind::DateTime).nullable(),
    FieldMeta::column("reconciled_at", Kind::DateTime).nullable(),
    FieldMeta::column("lease_owner", Kind::Text).nullable(),
    FieldMeta::column("lease_until", Kind::DateTime).nullable(),
    FieldMeta::column("updated_at", Kind::DateTime),
];

/// `cdms_sync_entity`: one row per CDMS entity set.
pub(crate) static ENTITY_STATE: EntityMeta = EntityMeta {
    name: "cdms_sync_entity",
    table: "cdms_sync_entity",
    fields: &ENTITY_FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

static PARTITION_FIELDS: [FieldMeta; 14] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("part", Kind::Int64),
    FieldMeta::column("filter", Kind::Text).nullable(),
    FieldMeta::column("lo", Kind::DateTime).nullable(),
    FieldMeta::column("hi", Kind::DateTime).nullable(),
    FieldMeta::column("position", Kind::Text).nullable(),
    FieldMeta::column("done", Kind::Bool),
    FieldMeta::column("records", Kind::Int64),
    FieldMeta::column("pages", Kind::Int64),
    FieldMeta::column("lease_owner", Kind::Text).nullable(),
    FieldMeta::column("lease_until", Kind::DateTime).nullable(),
    FieldMeta::column("claims", Kind::Int64),
    FieldMeta::column("updated_at", Kind::DateTime),
];

/// `cdms_sync_checkpoint`: one row per partition of an entity's initial load.
pub(crate) static CHECKPOINT: EntityMeta = EntityMeta {
    name: "cdms_sync_checkpoint",
    table: "cdms_sync_checkpoint",
    fields: &PARTITION_FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

const E_ENTITY: usize = 1;
const P_ENTITY: usize = 1;
const P_PART: usize = 2;

/// The PostgreSQL advisory lock that serialises migrations of concurrent workers (two
/// `CREATE TABLE IF NOT EXISTS` of the same table at once can fail on PostgreSQL).
const MIGRATE_LOCK: i64 = 0x6364_6d73_7379_6e63;

async fn lock_migrations(tx: &mut Tx) -> Result<()> {
    if tx.backend() == Backend::Postgres {
        let sql = format!("SELECT pg_advisory_xact_lock({MIGRATE_LOCK})");
        Conn::Tx(tx)
            .execute_plain(&sql, ENTITY_STATE.name, "migrate")
            .await?;
    }
    Ok(())
}

/// Creates the two tables and their indexes if they do not exist.
pub async fn migrate(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    lock_migrations(&mut tx).await?;
    create(&mut tx).await?;
    tx.commit().await
}

/// Creates the tables of `entities` ([`Db::migrate`]) and the two state tables. On PostgreSQL the
/// whole migration holds an advisory lock, so workers starting together do not collide.
pub async fn migrate_all(db: &Db, entities: &[&'static EntityMeta]) -> Result<()> {
    if db.backend() == Backend::Postgres {
        let mut guard = db.begin().await?;
        lock_migrations(&mut guard).await?;
        db.migrate(entities).await?;
        create(&mut guard).await?;
        return guard.commit().await;
    }
    db.migrate(entities).await?;
    migrate(db).await
}

async fn create(tx: &mut Tx) -> Result<()> {
    crate::cdms::sync::create_quarantine(tx).await?;
    let backend = tx.backend();
    for meta in [&ENTITY_STATE, &CHECKPOINT] {
        let create = ddl::create_table(backend, meta);
        Conn::Tx(tx)
            .execute_plain(&create, meta.name, "migrate")
            .await?;
    }
    let unique = format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({}, {})",
        quote_ident(&ddl::index_name(CHECKPOINT.table, &["entity", "part"])),
        quote_ident(CHECKPOINT.table),
        quote_ident("entity"),
        quote_ident("part"),
    );
    Conn::Tx(tx)
        .execute_plain(&unique, CHECKPOINT.name, "migrate")
        .await
}

fn bad(meta: &EntityMeta, field: usize, v: &Value, what: &str) -> Error {
    Error::decode(meta.name, meta.fields[field].name, v, what)
}

fn take_text(meta: &EntityMeta, row: &mut Row, i: usize) -> Result<Option<String>> {
    match std::mem::replace(&mut row[i], Value::Null) {
        Value::Null => Ok(None),
        Value::Text(s) => Ok(Some(s)),
        v => Err(bad(meta, i, &v, "expected text")),
    }
}

fn take_int(meta: &EntityMeta, row: &Row, i: usize) -> Result<i64> {
    match &row[i] {
        Value::Int(n) => Ok(*n),
        v => Err(bad(meta, i, v, "expected an integer")),
    }
}

fn take_time(meta: &EntityMeta, row: &Row, i: usize) -> Result<Option<DateTime<Utc>>> {
    match &row[i] {
        Value::Null => Ok(None),
        Value::DateTime(t) => Ok(Some(*t)),
        v => Err(bad(meta, i, v, "expected a datetime")),
    }
}

fn text(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::Text)
}

fn time(t: &Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, Value::DateTime)
}

/// The state of one entity set.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityState {
    /// Row id.
    pub id: i64,
    /// The CDMS entity set (`AccountSet`).
    pub entity: String,
    /// When the initial load's partitions were planned.
    pub planned_at: Option<DateTime<Utc>>,
    /// How many partitions the initial load has.
    pub partitions: i64,
    /// When the initial load finished (every partition done).
    pub load_done_at: Option<DateTime<Utc>>,
    /// The poll watermark: the newest `ModifiedOn` applied (set when the load is planned).
    pub watermark: Option<DateTime<Utc>>,
    /// When the ids were last reconciled.
    pub reconciled_at: Option<DateTime<Utc>>,
    /// The worker holding the poll lease.
    pub lease_owner: Option<String>,
    /// When the poll lease expires.
    pub lease_until: Option<DateTime<Utc>>,
    /// Last change of this row.
    pub updated_at: DateTime<Utc>,
}

impl EntityState {
    fn from_row(mut row: Row) -> Result<Self> {
        let m = &ENTITY_STATE;
        Ok(EntityState {
            id: take_int(m, &row, 0)?,
            entity: take_text(m, &mut row, 1)?.unwrap_or_default(),
            planned_at: take_time(m, &row, 2)?,
            partitions: take_int(m, &row, 3)?,
            load_done_at: take_time(m, &row, 4)?,
            watermark: take_time(m, &row, 5)?,
            reconciled_at: take_time(m, &row, 6)?,
            lease_owner: take_text(m, &mut row, 7)?,
            lease_until: take_time(m, &row, 8)?,
            updated_at: take_time(m, &row, 9)?.unwrap_or_default(),
        })
    }

    fn to_row(&self) -> Row {
        vec![
            Value::Int(self.id),
            Value::Text(self.entity.clone()),
            time(&self.planned_at),
            Value::Int(self.partitions),
            time(&self.load_done_at),
            time(&self.watermark),
            time(&self.reconciled_at),
            text(&self.lease_owner),
            time(&self.lease_until),
            Value::DateTime(self.updated_at),
        ]
    }
}

/// One partition of an entity's initial load, with its checkpoint and lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Row id.
    pub id: i64,
    /// The CDMS entity set.
    pub entity: String,
    /// The partition's number within the entity (0-based).
    pub part: i64,
    /// The partition's `$filter` (`None`: every record).
    pub filter: Option<String>,
    /// The lower bound of its `CreatedOn` window, when it has one.
    pub lo: Option<DateTime<Utc>>,
    /// The upper bound (exclusive) of its `CreatedOn` window, when it has one.
    pub hi: Option<DateTime<Utc>>,
    /// Where to continue: the next page's link below the service root (`AccountSet?…&$skiptoken=…`);
    /// `None` before the first page.
    pub position: Option<String>,
    /// Whether every page was applied.
    pub done: bool,
    /// Records applied so far.
    pub records: i64,
    /// Pages applied so far.
    pub pages: i64,
    /// The worker holding the lease.
    pub lease_owner: Option<String>,
    /// When the lease expires.
    pub lease_until: Option<DateTime<Utc>>,
    /// How many times a worker claimed the partition (more than once after a takeover or a resume).
    pub claims: i64,
    /// Last change of this row.
    pub updated_at: DateTime<Utc>,
}

impl Partition {
    /// A new, unclaimed partition.
    pub(crate) fn planned(
        entity: &str,
        part: i64,
        filter: Option<String>,
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
    ) -> Self {
        Partition {
            id: 0,
            entity: entity.to_owned(),
            part,
            filter,
            lo,
            hi,
            position: None,
            done: false,
            records: 0,
            pages: 0,
            lease_owner: None,
            lease_until: None,
            claims: 0,
            updated_at: crate::store::now(),
        }
    }

    pub(super) fn from_row(mut row: Row) -> Result<Self> {
        let m = &CHECKPOINT;
        let done = match &row[7] {
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            v => return Err(bad(m, 7, v, "expected a boolean")),
        };
        Ok(Partition {
            id: take_int(m, &row, 0)?,
            entity: take_text(m, &mut row, 1)?.unwrap_or_default(),
            part: take_int(m, &row, 2)?,
            filter: take_text(m, &mut row, 3)?,
            lo: take_time(m, &row, 4)?,
            hi: take_time(m, &row, 5)?,
            position: take_text(m, &mut row, 6)?,
            done,
            records: take_int(m, &row, 8)?,
            pages: take_int(m, &row, 9)?,
            lease_owner: take_text(m, &mut row, 10)?,
            lease_until: take_time(m, &row, 11)?,
            claims: take_int(m, &row, 12)?,
            updated_at: take_time(m, &row, 13)?.unwrap_or_default(),
        })
    }

    pub(super) fn to_row(&self) -> Row {
        vec![
            Value::Int(self.id),
            Value::Text(self.entity.clone()),
            Value::Int(self.part),
            text(&self.filter),
            time(&self.lo),
            time(&self.hi),
            text(&self.position),
            Value::Bool(self.done),
            Value::Int(self.records),
            Value::Int(self.pages),
            text(&self.lease_owner),
            time(&self.lease_until),
            Value::Int(self.claims),
            Value::DateTime(self.updated_at),
        ]
    }

    /// Whether `worker` holds a lease on it that has not expired at `now`.
    pub fn leased_by(&self, worker: &str, now: DateTime<Utc>) -> bool {
        self.lease_owner.as_deref() == Some(worker) && self.lease_until.is_some_and(|t| t > now)
    }

    /// Whether another worker holds a live lease on it at `now`.
    pub fn leased_by_other(&self, worker: &str, now: DateTime<Utc>) -> bool {
        self.lease_owner.as_deref().is_some_and(|o| o != worker)
            && self.lease_until.is_some_and(|t| t > now)
    }
}

fn by_entity(field: usize, set: &str) -> Expr {
    Expr::Cond(Cond {
        field,
        lookup: Lookup::Exact(Value::Text(set.to_owned())),
    })
}

/// The state row of `set`, if any.
pub async fn entity_state<'c>(conn: impl Into<Conn<'c>>, set: &str) -> Result<Option<EntityState>> {
    let spec = ReadSpec::filtered(&ENTITY_STATE, by_entity(E_ENTITY, set));
    rows::select(conn, &ENTITY_STATE, &spec)
        .await?
        .into_iter()
        .next()
        .map(EntityState::from_row)
        .transpose()
}

/// The state row of `set`, created if missing, locked until `tx` ends.
pub(crate) async fn lock_entity(tx: &mut Tx, set: &str) -> Result<EntityState> {
    let mut sql = Sql::new(tx.backend(), ENTITY_STATE.name);
    sql.push("INSERT INTO ")
        .ident(ENTITY_STATE.table)
        .push(" (");
    sql.ident("entity")
        .push(", ")
        .ident("partitions")
        .push(", ")
        .ident("updated_at")
        .push(") VALUES (");
    sql.param(Value::Text(set.to_owned()), Kind::Text)
        .push(", ");
    sql.param(Value::Int(0), Kind::Int64).push(", ");
    sql.param(Value::DateTime(crate::store::now()), Kind::DateTime);
    sql.push(") ON CONFLICT (")
        .ident("entity")
        .push(") DO NOTHING");
    Conn::Tx(tx).execute(&sql, "insert").await?;
    let spec = ReadSpec::filtered(&ENTITY_STATE, by_entity(E_ENTITY, set));
    let row = rows::select_for_update(tx, &ENTITY_STATE, &spec)
        .await?
        .into_iter()
        .next();
    let row = row.ok_or_else(|| Error::NotFound {
        entity: ENTITY_STATE.name,
        query: format!("entity = {set:?}"),
    })?;
    EntityState::from_row(row)
}

/// Writes `state` (locked by [`lock_entity`] in the same transaction).
pub(crate) async fn save_entity(tx: &mut Tx, state: &mut EntityState) -> Result<()> {
    state.updated_at = crate::store::now();
    let mut row = state.to_row();
    rows::update(tx, &ENTITY_STATE, &mut row).await?;
    Ok(())
}

/// Inserts freshly planned partitions.
pub(crate) async fn insert_partitions(tx: &mut Tx, parts: &[Partition]) -> Result<()> {
    for p in parts {
        let mut row = p.to_row();
        rows::insert(tx, &CHECKPOINT, &mut row).await?;
    }
    Ok(())
}

/// Every partition of `set`, in partition order.
pub async fn partitions<'c>(conn: impl Into<Conn<'c>>, set: &str) -> Result<Vec<Partition>> {
    let spec = ReadSpec {
        order: vec![OrderKey::asc(P_PART)],
        ..ReadSpec::filtered(&CHECKPOINT, by_entity(P_ENTITY, set))
    };
    rows::select(conn, &CHECKPOINT, &spec)
        .await?
        .into_iter()
        .map(Partition::from_row)
        .collect()
}

/// Forgets the initial load of `set` (its partitions and plan), so the next load starts over.
/// The poll watermark is kept unless `watermark` is true.
pub async fn reset(db: &Db, set: &str, watermark: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut state = lock_entity(&mut tx, set).await?;
    let mut sql = Sql::new(db.backend(), CHECKPOINT.name);
    sql.push("DELETE FROM ")
        .ident(CHECKPOINT.table)
        .push(" WHERE ")
        .ident("entity")
        .push(" = ");
    sql.param(Value::Text(set.to_owned()), Kind::Text);
    Conn::Tx(&mut tx).execute(&sql, "delete").await?;
    state.planned_at = None;
    state.partitions = 0;
    state.load_done_at = None;
    if watermark {
        state.watermark = None;
        state.reconciled_at = None;
    }
    save_entity(&mut tx, &mut state).await?;
    tx.commit().await
}
