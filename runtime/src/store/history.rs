//! Versions of objects: every write through the query API records one, in the same transaction,
//! with the actor of the writing handle ([`Db::as_actor`]).
//!
//! The `history` table (created by [`Db::migrate`]) holds one row per version: the entity's
//! table name, the object's local primary key, its remote key when a remote provides one, the
//! [`VersionKind`], a JSON snapshot of the row (`{field name: value}`), the actor, the time, and
//! `prior`: the fields the write changed with the values they held before it.
//!
//! ## First copies are stored compactly
//!
//! The version written when an object is inserted (created locally, refreshed from CDMS for
//! the first time, loaded in bulk, restored) stores no snapshot (an empty `snapshot` text) and
//! no remote key: its state is the live row for as long as no later version exists, and the
//! state the next version found, otherwise, which that version's `prior` gives back (its
//! snapshot with the prior values put in); its remote key is that state's, as the remote of the
//! handle reading it gives it (none without a remote). An initial load therefore writes only a
//! version's fixed columns and index entry per record instead of a second copy of it;
//! [`versions`], [`version`] and [`latest`] return every version whole, and [`revert`] and
//! [`restore`] are as exact as with full snapshots.
//!
//! What a first copy reads as depends on every later change of the row being recorded here, as
//! every write through this crate is. A value a reviewed migration file rewrites in place
//! shows through in the first copies of the rows it touched.

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

static HISTORY_FIELDS: [FieldMeta; 9] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("local_pk", Kind::Int64),
    FieldMeta::column("remote_key", Kind::Text).nullable(),
    FieldMeta::column("kind", Kind::Text),
    FieldMeta::column("snapshot", Kind::Text),
    FieldMeta::column("actor", Kind::Text).nullable(),
    FieldMeta::column("at", Kind::DateTime),
    FieldMeta::column("prior", Kind::Text).nullable(),
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
    /// The row: `{field name: value as JSON}` ([`Value::to_json`]), whole also for a first copy
    /// stored compactly (see the [module documentation](self)).
    pub snapshot: serde_json::Map<String, serde_json::Value>,
    /// The fields the write changed, with the values they held before it (`{}` for a delete).
    /// `None` for the version that inserted the object, which had nothing before it (and for
    /// versions stored before this was recorded).
    pub prior: Option<serde_json::Map<String, serde_json::Value>>,
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

    /// The state the write of this version found: its snapshot with [`Version::prior`] put
    /// in (`None` without a prior).
    fn found(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        let prior = self.prior.as_ref()?;
        let mut state = self.snapshot.clone();
        for (name, value) in prior {
            state.insert(name.clone(), value.clone());
        }
        Some(state)
    }
}

fn json_map(meta: &EntityMeta, row: &Row) -> serde_json::Map<String, serde_json::Value> {
    meta.fields
        .iter()
        .zip(row.iter())
        .map(|(f, v)| (f.name.to_owned(), v.to_json()))
        .collect()
}

/// The JSON snapshot of `row`.
pub fn snapshot(meta: &EntityMeta, row: &Row) -> String {
    serde_json::Value::Object(json_map(meta, row)).to_string()
}

/// The `prior` text of a write from `before` to `row`: `{field name: value in before}` for
/// every field that differs.
fn prior_text(meta: &EntityMeta, before: &Row, row: &Row) -> String {
    let map: serde_json::Map<String, serde_json::Value> = meta
        .fields
        .iter()
        .zip(before.iter().zip(row.iter()))
        .filter(|(_, (b, r))| b != r)
        .map(|(f, (b, _))| (f.name.to_owned(), b.to_json()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn remote_key_of(tx: &Tx, meta: &'static EntityMeta, row: &Row) -> Option<String> {
    match (tx.db().remote(), meta.remote) {
        (Some(remote), Some(_)) => remote.remote_key(meta, row),
        _ => None,
    }
}

fn history_row(
    tx: &Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    (row, before): (&Row, Option<&Row>),
    at: DateTime<Utc>,
) -> Row {
    let (snapshot, prior, remote_key) = match before {
        // A first copy: the live row, or what the next version found, and that state's remote
        // key (see the module docs).
        None => (String::new(), Value::Null, Value::Null),
        Some(before) => (
            snapshot(meta, row),
            Value::Text(prior_text(meta, before, row)),
            remote_key_of(tx, meta, row).map_or(Value::Null, Value::Text),
        ),
    };
    vec![
        Value::Int(0),
        Value::Text(meta.table.to_owned()),
        row.get(meta.pk).cloned().unwrap_or(Value::Null),
        remote_key,
        Value::Text(kind.as_str().to_owned()),
        Value::Text(snapshot),
        tx.db()
            .actor()
            .map_or(Value::Null, |a| Value::Text(a.to_owned())),
        Value::DateTime(at),
        prior,
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
    /// One per row, in order.
    pub(crate) rows: Vec<VersionText>,
}

/// The texts of one row's version in [`VersionTexts`].
pub(crate) struct VersionText {
    /// `None` for a first copy (see the module docs) or a row without one.
    pub(crate) remote_key: Option<String>,
    /// The snapshot's text before and after the key's value; `None` for a first copy.
    pub(crate) around_pk: Option<(String, String)>,
    pub(crate) prior: Option<String>,
}

/// The [`VersionTexts`] of `rows` (in order), each written over the row in `before` at the
/// same index (`None`: inserted).
pub(crate) fn version_texts(
    tx: &Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    rows: &[Row],
    before: &[Option<&Row>],
) -> VersionTexts {
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let before = before.get(i).copied().flatten();
            VersionText {
                remote_key: before.and_then(|_| remote_key_of(tx, meta, row)),
                around_pk: before.map(|_| snapshot_around_pk(meta, row)),
                prior: before.map(|b| prior_text(meta, b, row)),
            }
        })
        .collect();
    VersionTexts {
        entity: meta.table.to_owned(),
        kind,
        actor: tx.db().actor().map(str::to_owned),
        at: super::now(),
        rows,
    }
}

/// [`snapshot`] of `row` split around its primary key's value: `head + key + tail` is the
/// snapshot of the row with that key.
pub(crate) fn snapshot_around_pk(meta: &EntityMeta, row: &Row) -> (String, String) {
    let pk_name = meta.pk_field().name;
    let map = json_map(meta, row);
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

/// The history row [`record`] would insert for `row`, timed now.
pub(crate) fn version_row(
    tx: &Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    row: &Row,
    before: Option<&Row>,
) -> Row {
    history_row(tx, meta, kind, (row, before), super::now())
}

/// Records one version of `row` (which carries its primary key) inside `tx`, with the actor
/// of the handle `tx` was started from. `before` is the stored row the write replaced (the
/// row itself for a delete), `None` when the write inserted the object: that version is
/// stored compactly (see the module documentation).
pub async fn record(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    row: &Row,
    before: Option<&Row>,
) -> Result<()> {
    record_many(tx, meta, kind, [(row, before)]).await
}

/// Records a version of each `(row, before)` of `changes` ([`record`]) in multi-row
/// statements.
pub async fn record_many<'r>(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    kind: VersionKind,
    changes: impl IntoIterator<Item = (&'r Row, Option<&'r Row>)>,
) -> Result<()> {
    let at = super::now();
    let history: Vec<Row> = changes
        .into_iter()
        .map(|change| history_row(tx, meta, kind, change, at))
        .collect();
    for chunk in history.chunks(write::rows_per_statement(HISTORY.fields.len())) {
        let sql = write::insert_many(tx.backend(), &HISTORY, chunk)?;
        Conn::Tx(tx).execute(&sql, "history").await?;
    }
    Ok(())
}

/// A version as stored: its snapshot is empty when `compact`.
struct Stored {
    version: Version,
    compact: bool,
}

fn json_object(
    field: &'static str,
    text: String,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(Error::decode(
            "history",
            field,
            &Value::Text(text),
            "expected a JSON object",
        )),
    }
}

fn decode_version(row: Row) -> Result<Stored> {
    let bad =
        |field: &'static str, v: &Value, reason: &str| Error::decode("history", field, v, reason);
    let mut it = row.into_iter();
    let mut next = || it.next().unwrap_or(Value::Null);
    let (id, entity, local_pk, remote_key, kind, snapshot, actor, at, prior) = (
        next(),
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
    let compact = snapshot_text.is_empty();
    let snapshot = if compact {
        serde_json::Map::new()
    } else {
        json_object("snapshot", snapshot_text)?
    };
    let prior = match opt_text("prior", prior)? {
        Some(text) => Some(json_object("prior", text)?),
        None => None,
    };
    let at = match at {
        Value::DateTime(t) => t,
        other => return Err(bad("at", &other, "expected a datetime")),
    };
    let version = Version {
        id: int("id", id)?,
        entity: text("entity", entity)?,
        local_pk: int("local_pk", local_pk)?,
        remote_key: opt_text("remote_key", remote_key)?,
        kind,
        snapshot,
        prior,
        actor: opt_text("actor", actor)?,
        at,
    };
    Ok(Stored { version, compact })
}

async fn select_versions(
    conn: Conn<'_>,
    expr: Expr,
    newest_first: bool,
    limit: Option<u64>,
) -> Result<Vec<Stored>> {
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

/// The versions of the object of `meta` with primary key `pk` (`stored`: its newest ones,
/// oldest first) with every first copy made whole: from the next version's snapshot and
/// prior, or, for the newest, from the live row.
async fn resolve(
    mut conn: Conn<'_>,
    meta: &'static EntityMeta,
    pk: i64,
    stored: Vec<Stored>,
) -> Result<Vec<Version>> {
    // Newest first: a first copy is made whole from the version after it, already read.
    let mut out: Vec<Version> = Vec::with_capacity(stored.len());
    for Stored {
        mut version,
        compact,
    } in stored.into_iter().rev()
    {
        if compact {
            version.snapshot = match out.last() {
                Some(next) => next.found().ok_or_else(|| {
                    let reason = format!("version {} after it records no prior values", next.id);
                    unresolved(&version, &reason)
                })?,
                None => match rows::get(conn.reborrow(), meta, pk).await? {
                    Some(row) => json_map(meta, &row),
                    None => return Err(unresolved(&version, "the object has no row")),
                },
            };
            // Not stored with a first copy (earlier versions of this crate did store it): the
            // remote key of the state it was written with, as the remote reads it.
            if version.remote_key.is_none() {
                if let (Some(remote), Some(_)) = (conn.db().remote(), meta.remote) {
                    version.remote_key = remote.remote_key(meta, &version.row(meta)?);
                }
            }
        }
        out.push(version);
    }
    out.reverse();
    Ok(out)
}

fn unresolved(version: &Version, why: &str) -> Error {
    Error::decode(
        "history",
        "snapshot",
        &Value::Int(version.id),
        format!(
            "version {} of object {} is a first copy stored compactly, and {why}",
            version.id, version.local_pk
        ),
    )
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
    let mut conn = conn.into();
    let stored = select_versions(conn.reborrow(), object_expr(meta, pk), false, None).await?;
    resolve(conn, meta, pk, stored).await
}

/// The newest version of the object of `meta` with primary key `pk`.
pub async fn latest<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    pk: i64,
) -> Result<Option<Version>> {
    let mut conn = conn.into();
    let stored = select_versions(conn.reborrow(), object_expr(meta, pk), true, Some(1)).await?;
    Ok(resolve(conn, meta, pk, stored).await?.pop())
}

/// The version with id `id`, which must be of an object of `meta`.
pub async fn version<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    id: i64,
) -> Result<Option<Version>> {
    let mut conn = conn.into();
    let expr = Expr::Cond(Cond {
        field: HISTORY.pk,
        lookup: Lookup::Exact(Value::Int(id)),
    });
    let Some(stored) = select_versions(conn.reborrow(), expr, false, None)
        .await?
        .pop()
    else {
        return Ok(None);
    };
    if stored.version.entity != meta.table {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "history version {id} belongs to {:?}, not {:?}",
                stored.version.entity, meta.table
            ),
        });
    }
    if !stored.compact {
        return Ok(Some(stored.version));
    }
    let all = versions(conn, meta, stored.version.local_pk).await?;
    Ok(all.into_iter().find(|v| v.id == id))
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
    let v = version(db, meta, version_id)
        .await?
        .ok_or_else(|| not_found(meta, format!("history version {version_id}")))?;
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
