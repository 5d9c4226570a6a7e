//! Versions of objects: every write through the query API records one, in the same transaction,
//! with the actor of the writing handle ([`Db::as_actor`]).
//!
//! The `history` table (created by [`Db::migrate`]) holds one row per version: the entity's
//! table name, the object's local primary key, its remote key when a remote provides one, the
//! [`VersionKind`], a JSON snapshot of the row (`{field name: value}`), the actor and the time.

use chrono::{DateTime, Utc};

use super::sql::write;
use super::{ops, rows, Conn, Db, ReadSpec, Tx};
use crate::entity::{Entity, EntityMeta, FieldMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::value::{Kind, Value};

/// Why a version was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionKind {
    /// A local insert or update (`"local change"`).
    LocalChange,
    /// The row was refreshed from the remote (`"remote refresh"`).
    RemoteRefresh,
    /// A local delete; the snapshot is the row as it was (`"delete"`).
    Delete,
    /// The remote reported the record deleted (`"remote delete"`).
    RemoteDelete,
    /// The object was reverted to an earlier version (`"revert"`).
    Revert,
    /// A deleted object was restored from its last version (`"restore"`).
    Restore,
}

impl VersionKind {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            VersionKind::LocalChange => "local change",
            VersionKind::RemoteRefresh => "remote refresh",
            VersionKind::Delete => "delete",
            VersionKind::RemoteDelete => "remote delete",
            VersionKind::Revert => "revert",
            VersionKind::Restore => "restore",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            VersionKind::LocalChange,
            VersionKind::RemoteRefresh,
            VersionKind::Delete,
            VersionKind::RemoteDelete,
            VersionKind::Revert,
            VersionKind::Restore,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

static HISTORY_FIELDS: [FieldMeta; 8] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("local_pk", Kind::Int64),
    FieldMeta::column("remote_key", Kind::Text).nullable(),
    FieldMeta::column("kind", Kind::Text),
    FieldMeta::column("snapshot", Kind::Text),
    FieldMeta::column("actor", Kind::Text).nullable(),
    FieldMeta::column("at", Kind::DateTime),
];

/// The history table, described like an entity (so the SQL builders serve it too).
pub static HISTORY: EntityMeta = EntityMeta {
    name: "history",
    table: "history",
    fields: &HISTORY_FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

const F_ENTITY: usize = 1;
const F_LOCAL_PK: usize = 2;

/// One recorded version of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// The version's id (increasing).
    pub id: i64,
    /// The entity's table name.
    pub entity: String,
    /// The object's local primary key.
    pub local_pk: i64,
    /// The object's remote key, when a remote provided one.
    pub remote_key: Option<String>,
    /// Why it was recorded.
    pub kind: VersionKind,
    /// The row: `{field name: value as JSON}` ([`Value::to_json`]).
    pub snapshot: serde_json::Map<String, serde_json::Value>,
    /// Who wrote it.
    pub actor: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Version {
    /// The snapshot as a row of `meta` (fields missing from the snapshot are null).
    pub fn row(&self, meta: &'static EntityMeta) -> Result<Row> {
        meta.fields
            .iter()
            .map(|f| {
                let json = self
                    .snapshot
                    .get(f.name)
                    .unwrap_or(&serde_json::Value::Null);
                Value::from_json(f.kind, json).ok_or_else(|| Error::Decode {
                    entity: meta.name,
                    field: f.name,
                    value: json.to_string(),
                    reason: format!(
                        "history version {} holds no {} here",
                        self.id,
                        f.kind.name()
                    ),
                })
            })
            .collect()
    }

    /// The snapshot as an object.
    pub fn object<E: Entity>(&self) -> Result<E> {
        E::from_row(self.row(E::META)?)
    }
}

/// The JSON snapshot of `row`.
pub fn snapshot(meta: &EntityMeta, row: &Row) -> String {
    let map: serde_json::Map<String, serde_json::Value> = meta
        .fields
        .iter()
        .zip(row.iter())
        .map(|(f, v)| (f.name.to_owned(), v.to_json()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn history_row(
    tx: &Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    row: &Row,
    at: DateTime<Utc>,
) -> Row {
    let db = tx.db();
    let remote_key = match (db.remote(), meta.remote) {
        (Some(remote), Some(_)) => remote.remote_key(meta, row),
        _ => None,
    };
    vec![
        Value::Int(0),
        Value::Text(meta.table.to_owned()),
        row.get(meta.pk).cloned().unwrap_or(Value::Null),
        remote_key.map_or(Value::Null, Value::Text),
        Value::Text(kind.as_str().to_owned()),
        Value::Text(snapshot(meta, row)),
        db.actor()
            .map_or(Value::Null, |a| Value::Text(a.to_owned())),
        Value::DateTime(at),
    ]
}

/// The versions of rows about to be written whose primary keys the database is to assign:
/// everything of each [`history_row`] but the key, which the statement writing the rows fills
/// in ([`super::sql::write::upsert_versioned`]).
pub(crate) struct VersionTexts {
    pub(crate) entity: String,
    pub(crate) kind: VersionKind,
    pub(crate) actor: Option<String>,
    pub(crate) at: DateTime<Utc>,
    /// Per row: its remote key, and its snapshot's text before and after the key's value.
    pub(crate) rows: Vec<(Option<String>, String, String)>,
}

/// The [`VersionTexts`] of `rows` (in order).
pub(crate) fn version_texts(
    tx: &Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    rows: &[Row],
) -> VersionTexts {
    let db = tx.db();
    let rows = rows
        .iter()
        .map(|row| {
            let remote_key = match (db.remote(), meta.remote) {
                (Some(remote), Some(_)) => remote.remote_key(meta, row),
                _ => None,
            };
            let (head, tail) = snapshot_around_pk(meta, row);
            (remote_key, head, tail)
        })
        .collect();
    VersionTexts {
        entity: meta.table.to_owned(),
        kind,
        actor: db.actor().map(str::to_owned),
        at: super::now(),
        rows,
    }
}

/// [`snapshot`] of `row` split around its primary key's value: `head + key + tail` is the
/// snapshot of the row with that key.
pub(crate) fn snapshot_around_pk(meta: &EntityMeta, row: &Row) -> (String, String) {
    let pk_name = meta.pk_field().name;
    let map: serde_json::Map<String, serde_json::Value> = meta
        .fields
        .iter()
        .zip(row.iter())
        .map(|(f, v)| (f.name.to_owned(), v.to_json()))
        .collect();
    // The same text serde_json writes for the map (same entry order), the key's value left out.
    let mut head = String::from("{");
    let mut tail = String::new();
    let mut after = false;
    for (n, (name, value)) in map.iter().enumerate() {
        let out = if after { &mut tail } else { &mut head };
        if n > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(name.clone()).to_string());
        out.push(':');
        if name == pk_name {
            after = true;
        } else {
            out.push_str(&value.to_string());
        }
    }
    tail.push('}');
    (head, tail)
}

/// Records one version of `row` (which carries its primary key) inside `tx`, with the actor
/// of the handle `tx` was started from.
pub async fn record(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    row: &Row,
) -> Result<()> {
    record_many(tx, meta, kind, std::slice::from_ref(row)).await
}

/// Records a version of each of `rows` (multi-row statements).
pub async fn record_many(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    rows: &[Row],
) -> Result<()> {
    let at = super::now();
    let history: Vec<Row> = rows
        .iter()
        .map(|r| history_row(tx, meta, kind, r, at))
        .collect();
    for chunk in history.chunks(write::rows_per_statement(HISTORY.fields.len())) {
        let sql = write::insert_many(tx.backend(), &HISTORY, chunk)?;
        Conn::Tx(tx).execute(&sql, "history").await?;
    }
    Ok(())
}

fn decode_version(row: Row) -> Result<Version> {
    let bad =
        |field: &'static str, v: &Value, reason: &str| Error::decode("history", field, v, reason);
    let mut it = row.into_iter();
    let mut next = || it.next().unwrap_or(Value::Null);
    let (id, entity, local_pk, remote_key, kind, snapshot, actor, at) = (
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
    );
    let text = |field: &'static str, v: Value| match v {
        Value::Text(s) => Ok(s),
        other => Err(bad(field, &other, "expected text")),
    };
    let opt_text = |field: &'static str, v: Value| match v {
        Value::Null => Ok(None),
        other => text(field, other).map(Some),
    };
    let int = |field: &'static str, v: Value| match v {
        Value::Int(i) => Ok(i),
        other => Err(bad(field, &other, "expected an integer")),
    };
    let kind_text = text("kind", kind)?;
    let kind = VersionKind::parse(&kind_text).ok_or_else(|| {
        bad(
            "kind",
            &Value::Text(kind_text.clone()),
            "unknown version kind",
        )
    })?;
    let snapshot_text = text("snapshot", snapshot)?;
    let snapshot = match serde_json::from_str(&snapshot_text) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            return Err(bad(
                "snapshot",
                &Value::Text(snapshot_text),
                "expected a JSON object",
            ))
        }
    };
    let at = match at {
        Value::DateTime(t) => t,
        other => return Err(bad("at", &other, "expected a datetime")),
    };
    Ok(Version {
        id: int("id", id)?,
        entity: text("entity", entity)?,
        local_pk: int("local_pk", local_pk)?,
        remote_key: opt_text("remote_key", remote_key)?,
        kind,
        snapshot,
        actor: opt_text("actor", actor)?,
        at,
    })
}

async fn select_versions<'c>(
    conn: impl Into<Conn<'c>>,
    expr: Expr,
    newest_first: bool,
    limit: Option<u64>,
) -> Result<Vec<Version>> {
    let spec = ReadSpec {
        order: vec![OrderKey::new(HISTORY.pk, newest_first)],
        limit,
        ..ReadSpec::filtered(&HISTORY, expr)
    };
    rows::select(conn, &HISTORY, &spec)
        .await?
        .into_iter()
        .map(decode_version)
        .collect()
}

fn object_expr(meta: &EntityMeta, pk: i64) -> Expr {
    let entity = Expr::Cond(Cond {
        field: F_ENTITY,
        lookup: Lookup::Exact(Value::Text(meta.table.to_owned())),
    });
    let local = Expr::Cond(Cond {
        field: F_LOCAL_PK,
        lookup: Lookup::Exact(Value::Int(pk)),
    });
    entity.and(local)
}

/// Every version of the object of `meta` with primary key `pk`, oldest first.
pub async fn versions<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    pk: i64,
) -> Result<Vec<Version>> {
    select_versions(conn, object_expr(meta, pk), false, None).await
}

/// The newest version of the object of `meta` with primary key `pk`.
pub async fn latest<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    pk: i64,
) -> Result<Option<Version>> {
    Ok(select_versions(conn, object_expr(meta, pk), true, Some(1))
        .await?
        .into_iter()
        .next())
}

/// The version with id `id`.
pub async fn version<'c>(conn: impl Into<Conn<'c>>, id: i64) -> Result<Option<Version>> {
    let expr = Expr::Cond(Cond {
        field: HISTORY.pk,
        lookup: Lookup::Exact(Value::Int(id)),
    });
    Ok(select_versions(conn, expr, false, None)
        .await?
        .into_iter()
        .next())
}

fn not_found(meta: &EntityMeta, what: String) -> Error {
    Error::NotFound {
        entity: meta.name,
        query: what,
    }
}

/// Sets the object a version of `meta` belongs to back to that version's snapshot, as a write
/// through `db` (remote hooks, stamping and a `"revert"` version included). The object must
/// exist; use [`restore`] for a deleted one. Returns the row as written.
pub async fn revert(db: &Db, meta: &'static EntityMeta, version_id: i64) -> Result<Row> {
    let v = version(db, version_id)
        .await?
        .ok_or_else(|| not_found(meta, format!("history version {version_id}")))?;
    if v.entity != meta.table {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "history version {version_id} belongs to {:?}, not {:?}",
                v.entity, meta.table
            ),
        });
    }
    let mut row = v.row(meta)?;
    row[meta.pk] = Value::Int(v.local_pk);
    let mut tx = db.begin().await?;
    if rows::get_for_update(&mut tx, meta, v.local_pk)
        .await?
        .is_none()
    {
        return Err(Error::Refused {
            entity: meta.name,
            message: format!(
                "object {} was deleted: restore it instead of reverting",
                v.local_pk
            ),
        });
    }
    ops::update_in(&mut tx, meta, &mut row, VersionKind::Revert).await?;
    tx.commit().await?;
    Ok(row)
}

/// Re-creates the deleted object of `meta` with primary key `pk` from its newest version,
/// under the same primary key, as a write through `db` (remote insert hook, stamping and a
/// `"restore"` version included). Refused while the object exists. Returns the row as written.
pub async fn restore(db: &Db, meta: &'static EntityMeta, pk: i64) -> Result<Row> {
    let v = latest(db, meta, pk)
        .await?
        .ok_or_else(|| not_found(meta, format!("history of object {pk}")))?;
    let mut row = v.row(meta)?;
    row[meta.pk] = Value::Int(pk);
    let mut tx = db.begin().await?;
    if rows::get_for_update(&mut tx, meta, pk).await?.is_some() {
        return Err(Error::Refused {
            entity: meta.name,
            message: format!("object {pk} exists: revert it instead of restoring"),
        });
    }
    ops::insert_in(&mut tx, meta, &mut row, VersionKind::Restore, true).await?;
    tx.commit().await?;
    Ok(row)
}
