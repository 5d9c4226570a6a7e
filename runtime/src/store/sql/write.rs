//! `INSERT` / `UPDATE` / `DELETE` / upsert statements. Values are bound with their field's kind.

use super::{field, Sql, MAX_PARAMS};
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::store::history::{VersionTexts, HISTORY};
use crate::store::Backend;
use crate::value::{Kind, Value};

/// The most rows one multi-row statement writes.
const MAX_ROWS: usize = 500;

/// How many rows of `columns` columns fit in one statement.
pub fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).clamp(1, MAX_ROWS)
}

fn short_row(meta: &EntityMeta, row: &Row) -> Error {
    Error::InvalidQuery {
        entity: meta.name,
        message: format!(
            "a row has {} values, the entity {} fields",
            row.len(),
            meta.fields.len()
        ),
    }
}

/// The fields written by an insert: all but the primary key, plus the key when `with_pk`.
fn insert_fields(meta: &EntityMeta, with_pk: bool) -> Vec<usize> {
    (0..meta.fields.len())
        .filter(|&i| with_pk || i != meta.pk)
        .collect()
}

fn push_values(sql: &mut Sql, meta: &EntityMeta, fields: &[usize], row: &Row) -> Result<()> {
    if row.len() != meta.fields.len() {
        return Err(short_row(meta, row));
    }
    sql.push("(");
    for (n, &i) in fields.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.param(row[i].clone(), meta.fields[i].kind);
    }
    sql.push(")");
    Ok(())
}

fn push_insert_head(sql: &mut Sql, meta: &EntityMeta, fields: &[usize]) {
    sql.push("INSERT INTO ").ident(meta.table).push(" (");
    sql.join(fields.iter(), ", ", |sql, &i| {
        sql.ident(meta.fields[i].column);
    });
    sql.push(") VALUES ");
}

/// `INSERT` of one row returning its primary key. The key column is written only when
/// `with_pk` (restoring a deleted row under its old key); otherwise the database assigns it.
pub fn insert(
    backend: Backend,
    meta: &'static EntityMeta,
    row: &Row,
    with_pk: bool,
) -> Result<Sql> {
    let fields = insert_fields(meta, with_pk);
    if let (Some(fixed), false) = (meta.sql, with_pk) {
        if row.len() != meta.fields.len() {
            return Err(short_row(meta, row));
        }
        let mut sql = Sql::fixed(backend, meta.name, fixed.of(backend).insert);
        for &i in &fields {
            sql.bind(row[i].clone(), meta.fields[i].kind);
        }
        return Ok(sql);
    }
    built_insert(backend, meta, row, with_pk)
}

/// [`insert`] built from the metadata (what the derive's fixed text must equal).
pub fn built_insert(
    backend: Backend,
    meta: &'static EntityMeta,
    row: &Row,
    with_pk: bool,
) -> Result<Sql> {
    let fields = insert_fields(meta, with_pk);
    let mut sql = Sql::new(backend, meta.name);
    if fields.is_empty() {
        sql.push("INSERT INTO ")
            .ident(meta.table)
            .push(" DEFAULT VALUES");
    } else {
        push_insert_head(&mut sql, meta, &fields);
        push_values(&mut sql, meta, &fields, row)?;
    }
    sql.push(" RETURNING ").ident(meta.pk_field().column);
    Ok(sql)
}

/// Multi-row `INSERT` of `rows` (all fields but the primary key), no result. `rows` must fit in
/// one statement (see [`rows_per_statement`]).
pub fn insert_many(backend: Backend, meta: &'static EntityMeta, rows: &[Row]) -> Result<Sql> {
    let fields = insert_fields(meta, false);
    let mut sql = Sql::new(backend, meta.name);
    push_insert_head(&mut sql, meta, &fields);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        push_values(&mut sql, meta, &fields, row)?;
    }
    Ok(sql)
}

/// `UPDATE` of every field but the primary key, for the row with the row's primary key.
pub fn update(backend: Backend, meta: &'static EntityMeta, row: &Row) -> Result<Sql> {
    if row.len() != meta.fields.len() {
        return Err(short_row(meta, row));
    }
    if let Some(fixed) = meta.sql {
        let mut sql = Sql::fixed(backend, meta.name, fixed.of(backend).update);
        for (i, f) in meta.fields.iter().enumerate() {
            if i != meta.pk {
                sql.bind(row[i].clone(), f.kind);
            }
        }
        sql.bind(row[meta.pk].clone(), Kind::Int64);
        return Ok(sql);
    }
    built_update(backend, meta, row)
}

/// [`update`] built from the metadata (what the derive's fixed text must equal).
pub fn built_update(backend: Backend, meta: &'static EntityMeta, row: &Row) -> Result<Sql> {
    if row.len() != meta.fields.len() {
        return Err(short_row(meta, row));
    }
    let assignments: Vec<(usize, Value)> = (0..meta.fields.len())
        .filter(|&i| i != meta.pk)
        .map(|i| (i, row[i].clone()))
        .collect();
    let pk = row[meta.pk].clone();
    let mut sql = Sql::new(backend, meta.name);
    push_update_head(&mut sql, meta, &assignments)?;
    sql.push(" WHERE ")
        .ident(meta.pk_field().column)
        .push(" = ")
        .param(pk, Kind::Int64);
    Ok(sql)
}

fn push_update_head(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    assignments: &[(usize, Value)],
) -> Result<()> {
    sql.push("UPDATE ").ident(meta.table).push(" SET ");
    if assignments.is_empty() {
        // Nothing to change: a no-op assignment keeps the statement valid.
        let pk = meta.pk_field().column;
        sql.ident(pk).push(" = ").ident(pk);
        return Ok(());
    }
    for (n, (i, v)) in assignments.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        let f = field(meta, *i)?;
        sql.ident(f.column).push(" = ").param(v.clone(), f.kind);
    }
    Ok(())
}

fn push_pk_in(sql: &mut Sql, meta: &EntityMeta, pks: &[i64]) {
    sql.push(" WHERE ")
        .ident(meta.pk_field().column)
        .push(" IN (");
    sql.join(pks.iter(), ", ", |sql, &pk| {
        sql.param(Value::Int(pk), Kind::Int64);
    });
    sql.push(")");
}

/// `UPDATE … SET <assignments> WHERE pk IN (pks)`.
pub fn update_many(
    backend: Backend,
    meta: &'static EntityMeta,
    assignments: &[(usize, Value)],
    pks: &[i64],
) -> Result<Sql> {
    let mut sql = Sql::new(backend, meta.name);
    push_update_head(&mut sql, meta, assignments)?;
    push_pk_in(&mut sql, meta, pks);
    Ok(sql)
}

/// `DELETE … WHERE pk IN (pks)`, returning the deleted rows (every field) when `returning`.
pub fn delete(backend: Backend, meta: &'static EntityMeta, pks: &[i64], returning: bool) -> Sql {
    if let (Some(fixed), [pk], true) = (meta.sql, pks, returning) {
        let mut sql = Sql::fixed(backend, meta.name, fixed.of(backend).delete);
        sql.bind(Value::Int(*pk), Kind::Int64);
        return sql;
    }
    built_delete(backend, meta, pks, returning)
}

/// [`delete`] built from the metadata (what the derive's fixed text must equal).
pub fn built_delete(
    backend: Backend,
    meta: &'static EntityMeta,
    pks: &[i64],
    returning: bool,
) -> Sql {
    let mut sql = Sql::new(backend, meta.name);
    sql.push("DELETE FROM ").ident(meta.table);
    push_pk_in(&mut sql, meta, pks);
    if returning {
        sql.push(" RETURNING ");
        sql.join(meta.fields.iter(), ", ", |sql, f| {
            sql.ident(f.column);
        });
    }
    sql
}

/// Multi-row upsert keyed on the unique field `key`: new rows are inserted (the database
/// assigns their primary keys), rows whose key exists get the fields `update` overwritten.
/// Returns `(primary key, key)` per row.
pub fn upsert(
    backend: Backend,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &[Row],
) -> Result<Sql> {
    upsert_planned(backend, meta, key, update, rows, UpsertPlan::default())
}

/// What an upsert does beyond [`upsert`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UpsertPlan<'e> {
    /// Also return, as a third column (`cdms_matches`), whether each written row satisfies this
    /// condition as it is after the write: the condition a read's `WHERE` applies, so that the
    /// read's answer can be brought up to date from the written rows without reading them
    /// again. A condition that evaluates to SQL `NULL` does not match, as in a `WHERE`.
    pub matches: Option<&'e Expr>,
    /// Insert new keys only: a row whose key exists is left as it is and not returned
    /// (`ON CONFLICT … DO NOTHING`), for rows believed new that another writer may have
    /// stored meanwhile.
    pub insert_only: bool,
}

/// [`upsert`] as `plan` says.
pub(crate) fn upsert_planned(
    backend: Backend,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &[Row],
    plan: UpsertPlan<'_>,
) -> Result<Sql> {
    let mut sql = Sql::new(backend, meta.name);
    push_upsert(&mut sql, meta, key, update, rows, plan)?;
    Ok(sql)
}

/// The number of parameters `expr` binds as a condition on `meta` (what a statement carrying
/// it in [`UpsertPlan::matches`] has less room for).
pub(crate) fn condition_params(
    backend: Backend,
    meta: &'static EntityMeta,
    expr: &Expr,
) -> Result<usize> {
    let mut sql = Sql::new(backend, meta.name);
    super::filter::push_expr(&mut sql, meta, None, expr)?;
    Ok(sql.params().len())
}

fn push_upsert(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &[Row],
    plan: UpsertPlan<'_>,
) -> Result<()> {
    let key_field = field(meta, key)?;
    let fields = insert_fields(meta, false);
    push_insert_head(sql, meta, &fields);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        push_values(sql, meta, &fields, row)?;
    }
    sql.push(" ON CONFLICT (").ident(key_field.column).push(")");
    let update: Vec<usize> = update.iter().copied().filter(|&i| i != meta.pk).collect();
    if plan.insert_only {
        sql.push(" DO NOTHING");
    } else if update.is_empty() {
        // A no-op update, so that RETURNING still yields the existing row.
        sql.push(" DO UPDATE SET ")
            .ident(key_field.column)
            .push(" = excluded.")
            .ident(key_field.column);
    } else {
        sql.push(" DO UPDATE SET ");
        for (n, &i) in update.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            let f = field(meta, i)?;
            sql.ident(f.column).push(" = excluded.").ident(f.column);
        }
    }
    sql.push(" RETURNING ")
        .ident(meta.pk_field().column)
        .push(", ")
        .ident(key_field.column);
    if let Some(expr) = plan.matches {
        // Unqualified columns in `RETURNING` are the written row's.
        sql.push(", COALESCE(");
        super::filter::push_expr(sql, meta, None, expr)?;
        sql.push(", 1=0) AS \"cdms_matches\"");
    }
    Ok(())
}

/// Closes the `WITH "cdms_written" AS (…` part and opens the versions' insert, up to its
/// `SELECT` list: `), "cdms_versions" AS (INSERT INTO history (…) SELECT `.
fn push_versions_head(sql: &mut Sql) {
    sql.push("), \"cdms_versions\" AS (INSERT INTO ")
        .ident(HISTORY.table)
        .push(" (");
    sql.join(HISTORY.fields.iter().skip(1), ", ", |sql, f| {
        sql.ident(f.column);
    });
    sql.push(") SELECT ");
}

/// PostgreSQL: `write` (one statement whose `RETURNING` gives the written row's primary key
/// first) and the version `version` of that row in one statement,
/// `WITH written AS (write), versions AS (INSERT INTO history … SELECT … FROM written) SELECT pk
/// FROM written`. `version` is a history row (as `history::history_row` builds it) whose
/// `local_pk` is taken from the written row. No row written, no version.
pub(crate) fn with_version(meta: &'static EntityMeta, write: Sql, version: &Row) -> Result<Sql> {
    if write.backend() != Backend::Postgres || version.len() != HISTORY.fields.len() {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: "a write and its version in one statement: PostgreSQL only".to_owned(),
        });
    }
    let pk = meta.pk_field().column;
    let mut sql = Sql::new(Backend::Postgres, meta.name);
    sql.push("WITH \"cdms_written\" AS (").push(write.text());
    sql.params_mut().extend(write.params().iter().cloned());
    push_versions_head(&mut sql);
    for (i, (f, value)) in HISTORY.fields.iter().zip(version).enumerate().skip(1) {
        if i > 1 {
            sql.push(", ");
        }
        if f.column == "local_pk" {
            // The key the write gave the row.
            sql.push("\"w\".").ident(pk);
        } else {
            sql.param(value.clone(), f.kind);
        }
    }
    sql.push(" FROM \"cdms_written\" AS \"w\") SELECT ")
        .ident(pk)
        .push(" FROM \"cdms_written\"");
    Ok(sql)
}

/// PostgreSQL: [`upsert`] with a version of each written row in the same statement,
/// `WITH written AS (upsert) , versions AS (INSERT INTO history … SELECT … FROM written JOIN
/// (VALUES …) ON key) SELECT pk, key FROM written`. `versions.rows` are in `rows`' order and
/// their keys are distinct. Returns `(primary key, key)` per row, as [`upsert`] does, and
/// what `plan` asks for, as [`upsert_planned`] does.
pub(crate) fn upsert_versioned(
    meta: &'static EntityMeta,
    key: usize,
    update: &[usize],
    rows: &[Row],
    versions: &VersionTexts,
    plan: UpsertPlan<'_>,
) -> Result<Sql> {
    let key_field = field(meta, key)?;
    let pk = meta.pk_field().column;
    let mut sql = Sql::new(Backend::Postgres, meta.name);
    sql.push("WITH \"cdms_written\" AS (");
    push_upsert(&mut sql, meta, key, update, rows, plan)?;
    push_versions_head(&mut sql);
    sql.param(Value::Text(versions.entity.clone()), Kind::Text);
    sql.push(", \"w\".").ident(pk);
    sql.push(", \"v\".\"cdms_remote_key\", ");
    sql.param(Value::Text(versions.kind.as_str().to_owned()), Kind::Text);
    // A first copy (no head) is stored compactly, as an empty snapshot.
    sql.push(", COALESCE(\"v\".\"cdms_head\" || \"w\".")
        .ident(pk)
        .push(" || \"v\".\"cdms_tail\", ''), ");
    let actor = versions.actor.clone().map_or(Value::Null, Value::Text);
    sql.param(actor, Kind::Text);
    sql.push(", ");
    sql.param(Value::DateTime(versions.at), Kind::DateTime);
    sql.push(", \"v\".\"cdms_prior\"");
    sql.push(" FROM \"cdms_written\" AS \"w\" JOIN (VALUES ");
    for (n, (row, text)) in rows.iter().zip(&versions.rows).enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        let key_value = row.get(key).cloned().ok_or_else(|| short_row(meta, row))?;
        sql.push("(");
        sql.param(key_value, key_field.kind);
        sql.push(", ");
        let text_or_null = |t: Option<&String>| t.cloned().map_or(Value::Null, Value::Text);
        sql.param(text_or_null(text.remote_key.as_ref()), Kind::Text);
        let (head, tail) = text.around_pk.as_ref().map(|(h, t)| (h, t)).unzip();
        sql.push(", ");
        sql.param(text_or_null(head), Kind::Text);
        sql.push(", ");
        sql.param(text_or_null(tail), Kind::Text);
        sql.push(", ");
        sql.param(text_or_null(text.prior.as_ref()), Kind::Text);
        sql.push(")");
    }
    sql.push(") AS \"v\" (\"cdms_key\", \"cdms_remote_key\", \"cdms_head\", \"cdms_tail\", \"cdms_prior\") ON \"v\".\"cdms_key\" = \"w\".")
        .ident(key_field.column);
    sql.push(") SELECT \"w\".")
        .ident(pk)
        .push(", \"w\".")
        .ident(key_field.column);
    if plan.matches.is_some() {
        sql.push(", \"w\".\"cdms_matches\"");
    }
    sql.push(" FROM \"cdms_written\" AS \"w\"");
    Ok(sql)
}
