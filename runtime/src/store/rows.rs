//! Row-level reads and writes on untyped [`Row`]s: no remote hooks, no stamping, and no history
//! except where a function says so ([`upsert_versioned`]).
//!
//! This is what the query API is built on, and what a [`crate::store::Remote`] uses inside its
//! hooks (refreshing rows from the remote, resolving references by a unique column). Writes
//! take a [`Tx`]; reads take anything convertible into a [`Conn`] (`&Db` or `&mut Tx`).
//! Values are normalized ([`crate::store::normalize`]) before they are written.

use std::collections::HashMap;

use super::decode::Col;
use super::remote::ReadSpec;
use super::sql::select::{self, Agg};
use super::sql::write::UpsertPlan;
use super::sql::{field, write, Sql};
use super::{history, normalize_row, Backend, Conn, Tx};
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup};
use crate::value::{Kind, Value};

fn pk_spec(meta: &EntityMeta, pk: i64) -> ReadSpec {
    ReadSpec::filtered(meta, pk_expr(meta, vec![Value::Int(pk)]))
}

pub(crate) fn pk_expr(meta: &EntityMeta, pks: Vec<Value>) -> Expr {
    if pks.is_empty() {
        return Expr::Nothing;
    }
    let lookup = match <[Value; 1]>::try_from(pks) {
        Ok([one]) => Lookup::Exact(one),
        Err(many) => Lookup::In(many),
    };
    Expr::Cond(Cond {
        field: meta.pk,
        lookup,
    })
}

fn int(meta: &EntityMeta, field: &'static str, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(Error::decode(
            meta.name,
            field,
            other,
            "expected an integer",
        )),
    }
}

/// The rows `spec` describes (every field, in field order).
pub async fn select<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<Vec<Row>> {
    let mut conn = conn.into();
    let sql = select::rows(conn.backend(), meta, spec, false)?;
    conn.fetch(&sql, &Col::all(meta), "select").await
}

/// Runs a hand-written `SELECT` whose columns are every field of `meta`, in field order.
pub async fn select_sql<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    sql: &Sql,
) -> Result<Vec<Row>> {
    conn.into().fetch(sql, &Col::all(meta), "select").await
}

/// The rows `spec` describes, locked until the transaction ends (PostgreSQL `FOR UPDATE`;
/// a SQLite transaction already holds the database's write lock).
pub async fn select_for_update(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<Vec<Row>> {
    let sql = select::rows(tx.backend(), meta, spec, true)?;
    Conn::Tx(tx).fetch(&sql, &Col::all(meta), "select").await
}

/// The row with primary key `pk`.
pub async fn get<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    pk: i64,
) -> Result<Option<Row>> {
    let mut conn = conn.into();
    let sql = by_pk(conn.backend(), meta, pk, false)?;
    Ok(conn
        .fetch(&sql, &Col::all(meta), "select")
        .await?
        .into_iter()
        .next())
}

/// `SELECT` of the row with primary key `pk` (the derive's fixed text when there is one).
pub(crate) fn by_pk(
    backend: super::Backend,
    meta: &'static EntityMeta,
    pk: i64,
    for_update: bool,
) -> Result<Sql> {
    match meta.sql {
        Some(fixed) => {
            let fixed = fixed.of(backend);
            let text = if for_update {
                fixed.select_for_update
            } else {
                fixed.select
            };
            let mut sql = Sql::fixed(backend, meta.name, text);
            sql.bind(Value::Int(pk), Kind::Int64);
            Ok(sql)
        }
        None => select::rows(backend, meta, &pk_spec(meta, pk), for_update),
    }
}

/// The row with primary key `pk`, locked until the transaction ends.
pub async fn get_for_update(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    pk: i64,
) -> Result<Option<Row>> {
    let sql = by_pk(tx.backend(), meta, pk, true)?;
    Ok(Conn::Tx(tx)
        .fetch(&sql, &Col::all(meta), "select")
        .await?
        .into_iter()
        .next())
}

/// The values of `fields` (indexes into `meta.fields`) of the rows `spec` describes.
pub async fn select_columns<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    fields: &[usize],
) -> Result<Vec<Vec<Value>>> {
    let mut conn = conn.into();
    let sql = select::columns(conn.backend(), meta, spec, fields, false)?;
    let cols = fields
        .iter()
        .map(|&i| Ok(Col::of(meta, field(meta, i)?)))
        .collect::<Result<Vec<_>>>()?;
    conn.fetch(&sql, &cols, "select").await
}

/// The rows `spec` describes, each with the row of `target` its reference field `via` points
/// to (`None` when the reference is null).
pub async fn select_joined<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    via: usize,
    target: &'static EntityMeta,
) -> Result<Vec<(Row, Option<Row>)>> {
    let mut conn = conn.into();
    let sql = select::joined(conn.backend(), meta, spec, via, target)?;
    let mut cols = Col::all(meta);
    // The joined side may be absent: decode it as nullable, then check.
    cols.extend(Col::all(target));
    let n = meta.fields.len();
    let rows = conn.fetch(&sql, &cols, "select").await?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
            let other = row.split_off(n);
            let present = other.get(target.pk).is_some_and(|v| !v.is_null());
            (row, present.then_some(other))
        })
        .collect())
}

/// How many rows `spec` describes (limit and offset respected).
pub async fn count<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<u64> {
    let mut conn = conn.into();
    let sql = select::count(conn.backend(), meta, spec)?;
    let col = Col {
        kind: Kind::Int64,
        entity: meta.name,
        field: "count(*)",
    };
    let rows = conn.fetch(&sql, &[col], "count").await?;
    let n = rows
        .first()
        .and_then(|r| r.first())
        .map_or(Ok(0), |v| int(meta, "count(*)", v))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether `spec` describes at least one row.
pub async fn exists<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<bool> {
    let limited = ReadSpec {
        limit: Some(spec.limit.unwrap_or(1).min(1)),
        ..spec.clone()
    };
    if limited.limit == Some(0) {
        return Ok(false);
    }
    Ok(!select_columns(conn, meta, &limited, &[meta.pk])
        .await?
        .is_empty())
}

/// `agg` over field `index` of the rows `spec` describes, computed by the database.
pub async fn aggregate<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    agg: Agg,
    index: usize,
) -> Result<Value> {
    let mut conn = conn.into();
    let f = field(meta, index)?;
    let sql = select::aggregate(conn.backend(), meta, spec, agg, index)?;
    let col = Col {
        kind: select::agg_kind(agg, f.kind),
        entity: meta.name,
        field: f.name,
    };
    let rows = conn.fetch(&sql, &[col], "aggregate").await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or(Value::Null))
}

/// Inserts `row` (normalized in place); the database assigns the primary key, which is
/// written into the row and returned.
pub async fn insert(tx: &mut Tx, meta: &'static EntityMeta, row: &mut Row) -> Result<i64> {
    insert_impl(tx, meta, row, false).await
}

/// Inserts `row` under the primary key it carries (restoring a deleted row).
pub async fn insert_with_pk(tx: &mut Tx, meta: &'static EntityMeta, row: &mut Row) -> Result<i64> {
    insert_impl(tx, meta, row, true).await
}

/// [`insert`] (under the row's own key when `with_pk`, as [`insert_with_pk`]) and a `kind`
/// version of the new object ([`history::record`] with no prior state). On PostgreSQL the row
/// and its version are one statement.
pub(crate) async fn insert_versioned(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    with_pk: bool,
    kind: history::VersionKind,
) -> Result<i64> {
    if tx.backend() != Backend::Postgres {
        let pk = insert_impl(tx, meta, row, with_pk).await?;
        history::record(tx, meta, kind, row, None).await?;
        return Ok(pk);
    }
    normalize_row(row);
    let sql = write::insert(Backend::Postgres, meta, row, with_pk)?;
    let version = history::version_row(tx, meta, kind, row, None);
    let sql = write::with_version(meta, sql, &version)?;
    returned_pk(tx, meta, row, &sql).await
}

/// [`update`] and a `kind` version of the written row over `before`, the stored row it replaces
/// ([`history::record`]). On PostgreSQL the two are one statement. False when no such row
/// exists; no version is recorded then.
pub(crate) async fn update_versioned(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    kind: history::VersionKind,
    before: &Row,
) -> Result<bool> {
    if tx.backend() != Backend::Postgres {
        if !update(tx, meta, row).await? {
            return Ok(false);
        }
        history::record(tx, meta, kind, row, Some(before)).await?;
        return Ok(true);
    }
    normalize_row(row);
    let mut sql = write::update(Backend::Postgres, meta, row)?;
    sql.push(" RETURNING ").ident(meta.pk_field().column);
    let version = history::version_row(tx, meta, kind, row, Some(before));
    let sql = write::with_version(meta, sql, &version)?;
    let col = pk_col(meta);
    Ok(!Conn::Tx(tx).fetch(&sql, &[col], "update").await?.is_empty())
}

fn pk_col(meta: &'static EntityMeta) -> Col {
    Col {
        kind: Kind::Int64,
        entity: meta.name,
        field: meta.pk_field().name,
    }
}

async fn insert_impl(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    with_pk: bool,
) -> Result<i64> {
    normalize_row(row);
    let sql = write::insert(tx.backend(), meta, row, with_pk)?;
    returned_pk(tx, meta, row, &sql).await
}

/// Runs `sql`, an insert of `row` returning its primary key, and writes the key into `row`.
async fn returned_pk(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    row: &mut Row,
    sql: &Sql,
) -> Result<i64> {
    let col = pk_col(meta);
    let rows = Conn::Tx(tx).fetch(sql, &[col], "insert").await?;
    let pk = rows.first().and_then(|r| r.first()).map_or_else(
        || {
            Err(Error::decode(
                meta.name,
                meta.pk_field().name,
                &Value::Null,
                "no key returned",
            ))
        },
        |v| int(meta, meta.pk_field().name, v),
    )?;
    if let Some(slot) = row.get_mut(meta.pk) {
        *slot = Value::Int(pk);
    }
    Ok(pk)
}

/// Writes every field of `row` (normalized in place) to the row with its primary key; false
/// when no such row exists.
pub async fn update(tx: &mut Tx, meta: &'static EntityMeta, row: &mut Row) -> Result<bool> {
    normalize_row(row);
    let sql = write::update(tx.backend(), meta, row)?;
    Ok(Conn::Tx(tx).execute(&sql, "update").await? > 0)
}

/// Sets `assignments` (field index, value) on the rows with primary keys `pks`; returns the
/// number of rows changed.
pub async fn update_many(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    assignments: &[(usize, Value)],
    pks: &[i64],
) -> Result<u64> {
    let mut assignments = assignments.to_vec();
    for (_, v) in &mut assignments {
        *v = super::normalize(std::mem::replace(v, Value::Null));
    }
    let per = write::rows_per_statement(assignments.len() + 1);
    let mut n = 0;
    for chunk in pks.chunks(per) {
        let sql = write::update_many(tx.backend(), meta, &assignments, chunk)?;
        n += Conn::Tx(tx).execute(&sql, "update").await?;
    }
    Ok(n)
}

/// Deletes the row with primary key `pk`; returns it as it was.
pub async fn delete(tx: &mut Tx, meta: &'static EntityMeta, pk: i64) -> Result<Option<Row>> {
    let sql = write::delete(tx.backend(), meta, &[pk], true);
    Ok(Conn::Tx(tx)
        .fetch(&sql, &Col::all(meta), "delete")
        .await?
        .into_iter()
        .next())
}

/// Deletes the rows with primary keys `pks`; returns how many were deleted.
pub async fn delete_many(tx: &mut Tx, meta: &'static EntityMeta, pks: &[i64]) -> Result<u64> {
    let mut n = 0;
    for chunk in pks.chunks(write::rows_per_statement(1)) {
        let sql = write::delete(tx.backend(), meta, chunk, false);
        n += Conn::Tx(tx).execute(&sql, "delete").await?;
    }
    Ok(n)
}

/// A hashable identity for a key value.
fn key_of(v: &Value) -> String {
    v.to_json().to_string()
}

/// Inserts or updates `rows` keyed on the unique field `key`: a row whose key is new is inserted
/// (primary key assigned by the database), an existing row gets the fields `update`
/// overwritten (other fields, e.g. local-only ones, keep their values). Each row's primary key
/// is ignored on input and written back into the row; the keys are also returned in input
/// order. Rows are sent in multi-row statements (one statement per 500 rows or ~30 000 values).
/// When several rows share a key, the last one wins. A row with a null key is refused.
pub async fn upsert(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &mut [Row],
) -> Result<Vec<i64>> {
    upsert_planned(tx, meta, key, update, rows, None, UpsertPlan::default())
        .await?
        .all_written(meta)
}

/// [`upsert`] that also records a `kind` version of every written row (its state after the
/// write, as [`history::record_many`] would), with the actor of `tx`'s handle. `before[i]` is
/// the stored row `rows[i]` replaces, `None` where it inserts one (a first copy, stored
/// compactly; a missing entry counts as `None`). On PostgreSQL
/// the rows and their versions go in one statement per chunk
/// (`WITH written AS (INSERT … RETURNING …) INSERT INTO history SELECT …`); on SQLite, which
/// has no data-modifying `WITH`, the versions follow in their own multi-row statements.
pub async fn upsert_versioned(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &mut [Row],
    kind: history::VersionKind,
    before: &[Option<&Row>],
) -> Result<Vec<i64>> {
    let versions = Some((kind, before));
    upsert_planned(tx, meta, key, update, rows, versions, UpsertPlan::default())
        .await?
        .all_written(meta)
}

/// What [`upsert_planned`] did with each input row: `None` where it left the row alone (its
/// key existed, and the plan said [`UpsertPlan::insert_only`]), otherwise the row's primary key
/// and whether the row as written satisfies [`UpsertPlan::matches`] (`false` without one).
pub(crate) struct Upserted(pub Vec<Option<(i64, bool)>>);

impl Upserted {
    /// The primary keys, every row having been written.
    fn all_written(self, meta: &EntityMeta) -> Result<Vec<i64>> {
        self.0
            .into_iter()
            .map(|written| {
                written
                    .map(|(pk, _)| pk)
                    .ok_or_else(|| Error::InvalidQuery {
                        entity: meta.name,
                        message: "the upsert left a row unwritten".to_owned(),
                    })
            })
            .collect()
    }
}

/// [`upsert`] (with versions when `versions` is given, as [`upsert_versioned`]) as `plan`
/// says: whether each row as written satisfies a condition (evaluated by the database in the
/// same statement), and whether rows whose key exists are left alone. Only written rows get
/// their primary key filled in and a version.
pub(crate) async fn upsert_planned(
    tx: &mut Tx,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &mut [Row],
    versions: Option<(history::VersionKind, &[Option<&Row>])>,
    plan: UpsertPlan<'_>,
) -> Result<Upserted> {
    let matches = plan.matches;
    let key_field = field(meta, key)?;
    if !key_field.unique {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "upsert needs a unique key field; {} is not unique",
                key_field.name
            ),
        });
    }
    // The last row per key, in order of last occurrence.
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter_mut().enumerate() {
        normalize_row(row);
        let k = row.get(key).ok_or_else(|| Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "a row has {} values, the entity {} fields",
                row.len(),
                meta.fields.len()
            ),
        })?;
        if k.is_null() {
            return Err(Error::InvalidQuery {
                entity: meta.name,
                message: format!("upsert keyed on {}: a row has a null key", key_field.name),
            });
        }
        last.insert(key_of(k), i);
    }
    let mut unique: Vec<usize> = last.values().copied().collect();
    unique.sort_unstable();
    let cols = [
        Col {
            kind: Kind::Int64,
            entity: meta.name,
            field: meta.pk_field().name,
        },
        Col::of(meta, key_field),
        Col {
            kind: Kind::Bool,
            entity: meta.name,
            field: "cdms_matches",
        },
    ];
    let cols = if matches.is_some() {
        &cols[..]
    } else {
        &cols[..2]
    };
    let mut pks: HashMap<String, (i64, bool)> = HashMap::with_capacity(unique.len());
    // SQLite has no data-modifying `WITH`: its versions are recorded after the rows.
    let (with_rows, after) = match (versions, tx.backend()) {
        (Some(kind), Backend::Postgres) => (Some(kind), None),
        (kind, _) => (None, kind),
    };
    // A version carries 5 values besides the row's (see `write::upsert_versioned`), and the
    // condition binds its own once per statement.
    let columns = meta.fields.len() + if with_rows.is_some() { 5 } else { 0 };
    let per_statement = match matches {
        Some(expr) => {
            let taken = write::condition_params(tx.backend(), meta, expr)?;
            let room = super::sql::MAX_PARAMS.saturating_sub(taken);
            (room / columns.max(1)).min(write::rows_per_statement(columns))
        }
        None => write::rows_per_statement(columns),
    };
    if per_statement == 0 {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: "the condition to evaluate on written rows binds too many values".to_owned(),
        });
    }
    for chunk in unique.chunks(per_statement) {
        // The rows themselves when the chunk is a run of them (no key repeated), copies
        // otherwise.
        let copies: Vec<Row>;
        let batch: &[Row] = match chunk.first() {
            Some(&first) if chunk.windows(2).all(|w| w[1] == w[0] + 1) => {
                &rows[first..first + chunk.len()]
            }
            _ => {
                copies = chunk.iter().map(|&i| rows[i].clone()).collect();
                &copies
            }
        };
        let sql: Sql = match with_rows {
            None => write::upsert_planned(tx.backend(), meta, key, update, batch, plan)?,
            Some((kind, before)) => {
                let before: Vec<Option<&Row>> = chunk
                    .iter()
                    .map(|&i| before.get(i).copied().flatten())
                    .collect();
                let versions = history::version_texts(tx, meta, kind, batch, &before);
                write::upsert_versioned(meta, key, update, batch, &versions, plan)?
            }
        };
        for r in Conn::Tx(tx).fetch(&sql, cols, "upsert").await? {
            let pk = int(meta, meta.pk_field().name, &r[0])?;
            let matched = matches!(r.get(2), Some(Value::Bool(true)));
            pks.insert(key_of(&r[1]), (pk, matched));
        }
    }
    let mut out = Upserted(Vec::with_capacity(rows.len()));
    for row in rows.iter_mut() {
        let k = key_of(&row[key]);
        let Some(&(pk, m)) = pks.get(&k) else {
            if plan.insert_only {
                // The key existed: the row was left alone.
                out.0.push(None);
                continue;
            }
            return Err(Error::decode(
                meta.name,
                key_field.name,
                &row[key],
                "the upsert returned no row for this key",
            ));
        };
        row[meta.pk] = Value::Int(pk);
        out.0.push(Some((pk, m)));
    }
    if let Some((kind, before)) = after {
        let changes = unique
            .iter()
            .filter(|&&i| out.0.get(i).is_some_and(Option::is_some))
            .map(|&i| (&rows[i], before.get(i).copied().flatten()));
        history::record_many(tx, meta, kind, changes).await?;
    }
    Ok(out)
}

/// The primary key of the row whose field `index` equals `value`.
pub async fn find_pk<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    index: usize,
    value: &Value,
) -> Result<Option<i64>> {
    let found = find_pks(conn, meta, index, std::slice::from_ref(value)).await?;
    Ok(found.into_iter().next().map(|(_, pk)| pk))
}

/// The primary keys of the rows whose field `index` is one of `values`, as `(value, pk)` pairs.
pub async fn find_pks<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    index: usize,
    values: &[Value],
) -> Result<Vec<(Value, i64)>> {
    let values: Vec<Value> = values
        .iter()
        .filter(|v| !v.is_null())
        .cloned()
        .map(super::normalize)
        .collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let expr = Expr::Cond(Cond {
        field: index,
        lookup: Lookup::In(values),
    });
    let rows = select_columns(
        conn,
        meta,
        &ReadSpec::filtered(meta, expr),
        &[index, meta.pk],
    )
    .await?;
    rows.into_iter()
        .map(|mut r| {
            let pk = int(meta, meta.pk_field().name, &r[1])?;
            Ok((r.swap_remove(0), pk))
        })
        .collect()
}
