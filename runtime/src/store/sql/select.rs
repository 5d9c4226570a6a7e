//! `SELECT` statements: rows, projections, joins, counts and aggregates.
//!
//! The entity's table is aliased [`MAIN_ALIAS`]; filters and orders refer to it. An order key on
//! a referenced entity's field ([`OrderKey::via`]) adds a `LEFT JOIN` per distinct path of
//! references, aliased `o1`, `o2`, …, after the `FROM` clause and before `WHERE`, whose
//! relation conditions keep their own `EXISTS` subqueries (`r1`, …).

use super::filter::{push_order_expr, push_where};
use super::{field, Sql, JOIN_ALIAS, MAIN_ALIAS};
use crate::entity::EntityMeta;
use crate::error::{Error, Result};
use crate::expr::OrderKey;
use crate::store::remote::ReadSpec;
use crate::store::Backend;
use crate::value::Kind;

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agg {
    /// Number of non-null values.
    Count,
    /// Sum (null for no rows).
    Sum,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean, as a double.
    Avg,
}

fn push_columns(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: &str,
    fields: &[usize],
) -> Result<()> {
    for (n, &i) in fields.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.column(Some(alias), field(meta, i)?.column);
    }
    Ok(())
}

fn push_from(sql: &mut Sql, meta: &'static EntityMeta) {
    sql.push(" FROM ")
        .ident(meta.table)
        .push(" AS ")
        .ident(MAIN_ALIAS);
}

/// Appends a `LEFT JOIN` for each distinct path of references the keys of `order` follow
/// ([`OrderKey::via`]), each with an alias of its own (`o1`, `o2`, …; a prefix shared by several
/// keys is joined once), and returns, per key, the entity and the alias its field is read from.
/// A null reference (or a dangling one) joins no row, so the far field reads as null.
fn push_order_joins(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    order: &[OrderKey],
) -> Result<Vec<(&'static EntityMeta, Option<String>)>> {
    let root = alias.map(str::to_owned);
    let mut joined: Vec<(&[usize], &'static EntityMeta, String)> = Vec::new();
    let mut out = Vec::with_capacity(order.len());
    for key in order {
        let (mut entity, mut at) = (meta, root.clone());
        for depth in 1..=key.via.len() {
            let prefix = &key.via[..depth];
            if let Some((_, target, a)) = joined.iter().find(|(p, _, _)| *p == prefix) {
                (entity, at) = (target, Some(a.clone()));
                continue;
            }
            let f = field(entity, prefix[depth - 1])?;
            let Some(target) = f.references.map(|t| t()) else {
                return Err(Error::InvalidQuery {
                    entity: entity.name,
                    message: format!(
                        "field {}: not a reference (an order key through it needs one)",
                        f.name
                    ),
                });
            };
            let a = format!("o{}", joined.len() + 1);
            sql.push(" LEFT JOIN ")
                .ident(target.table)
                .push(" AS ")
                .ident(&a)
                .push(" ON ");
            sql.column(Some(&a), target.pk_field().column)
                .push(" = ")
                .column(at.as_deref(), f.column);
            joined.push((prefix, target, a.clone()));
            (entity, at) = (target, Some(a));
        }
        out.push((entity, at));
    }
    Ok(out)
}

/// Appends `ORDER BY` for `order` (or `RANDOM()`), nulls sorting first ascending and last
/// descending on both backends. `tables` gives each key's entity and alias
/// ([`push_order_joins`]); without it every key is on `meta`, aliased `alias`.
fn push_order_by(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    order: &[OrderKey],
    tables: &[(&'static EntityMeta, Option<String>)],
) -> Result<()> {
    if order.is_empty() {
        return Ok(());
    }
    sql.push(" ORDER BY ");
    for (n, key) in order.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        let (entity, at) = match tables.get(n) {
            Some((entity, at)) => (*entity, at.as_deref()),
            None => (meta, alias),
        };
        let f = field(entity, key.field)?;
        push_order_expr(sql, f, at);
        sql.push(if key.desc { " DESC" } else { " ASC" });
        // Through a reference the far field is null whenever a reference is.
        if f.nullable || !key.is_root() {
            sql.push(if key.desc {
                " NULLS LAST"
            } else {
                " NULLS FIRST"
            });
        }
    }
    Ok(())
}

/// Appends `ORDER BY` for `order` (or `RANDOM()`), nulls sorting first ascending and last
/// descending on both backends. Keys through references need their joins, which only the
/// statements of this module write: such a key here is an error.
pub fn push_order(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    order: &[OrderKey],
    random: bool,
) -> Result<()> {
    if random {
        sql.push(" ORDER BY random()");
        return Ok(());
    }
    if let Some(key) = order.iter().find(|k| !k.is_root()) {
        return Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "order key on field number {} through references {:?}: not supported here",
                key.field, key.via
            ),
        });
    }
    push_order_by(sql, meta, alias, order, &[])
}

fn clamp(n: u64) -> u64 {
    n.min(i64::MAX as u64)
}

/// Appends `LIMIT`/`OFFSET`.
pub fn push_limit(sql: &mut Sql, limit: Option<u64>, offset: u64) {
    match limit {
        Some(l) => {
            sql.push(" LIMIT ").int(clamp(l));
        }
        None if offset > 0 && sql.backend() == Backend::Sqlite => {
            sql.push(" LIMIT -1");
        }
        None => {}
    }
    if offset > 0 {
        sql.push(" OFFSET ").int(clamp(offset));
    }
}

/// Whether `spec` orders through references, so that its statement joins the tables they lead
/// to.
fn joins_for_order(spec: &ReadSpec) -> bool {
    !spec.random && spec.order.iter().any(|k| !k.is_root())
}

/// Appends what follows the `FROM` clause (and its joins): the joins of order keys through
/// references, `WHERE`, `ORDER BY`, `LIMIT`/`OFFSET`.
fn push_tail(sql: &mut Sql, meta: &'static EntityMeta, spec: &ReadSpec) -> Result<()> {
    let tables = if joins_for_order(spec) {
        push_order_joins(sql, meta, Some(MAIN_ALIAS), &spec.order)?
    } else {
        Vec::new()
    };
    push_where(sql, meta, Some(MAIN_ALIAS), &spec.expr)?;
    if spec.random {
        sql.push(" ORDER BY random()");
    } else {
        push_order_by(sql, meta, Some(MAIN_ALIAS), &spec.order, &tables)?;
    }
    push_limit(sql, spec.limit, spec.offset);
    Ok(())
}

/// Selects `fields` (indexes into `meta.fields`) of the rows `spec` describes; with
/// `for_update`, locks them on PostgreSQL (SQLite transactions already hold the write lock).
pub fn columns(
    backend: Backend,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    fields: &[usize],
    for_update: bool,
) -> Result<Sql> {
    let mut sql = Sql::new(backend, meta.name);
    sql.push("SELECT ");
    push_columns(&mut sql, meta, MAIN_ALIAS, fields)?;
    push_from(&mut sql, meta);
    push_tail(&mut sql, meta, spec)?;
    if for_update && backend == Backend::Postgres {
        // PostgreSQL refuses to lock the nullable side of an outer join: lock the rows only.
        sql.push(" FOR UPDATE");
        if joins_for_order(spec) {
            sql.push(" OF ").ident(MAIN_ALIAS);
        }
    }
    Ok(sql)
}

/// Selects whole rows (every field, in field order).
pub fn rows(
    backend: Backend,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    for_update: bool,
) -> Result<Sql> {
    let all: Vec<usize> = (0..meta.fields.len()).collect();
    columns(backend, meta, spec, &all, for_update)
}

/// Selects whole rows of `meta` followed by whole rows of `target`, joined (left) through the
/// reference field `via`.
pub fn joined(
    backend: Backend,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    via: usize,
    target: &'static EntityMeta,
) -> Result<Sql> {
    let mut sql = Sql::new(backend, meta.name);
    let all: Vec<usize> = (0..meta.fields.len()).collect();
    let all_target: Vec<usize> = (0..target.fields.len()).collect();
    sql.push("SELECT ");
    push_columns(&mut sql, meta, MAIN_ALIAS, &all)?;
    sql.push(", ");
    push_columns(&mut sql, target, JOIN_ALIAS, &all_target)?;
    push_from(&mut sql, meta);
    sql.push(" LEFT JOIN ")
        .ident(target.table)
        .push(" AS ")
        .ident(JOIN_ALIAS)
        .push(" ON ");
    sql.column(Some(JOIN_ALIAS), target.pk_field().column)
        .push(" = ");
    sql.column(Some(MAIN_ALIAS), field(meta, via)?.column);
    push_tail(&mut sql, meta, spec)?;
    Ok(sql)
}

/// `SELECT COUNT(*)` of the rows `spec` describes (limit and offset respected).
pub fn count(backend: Backend, meta: &'static EntityMeta, spec: &ReadSpec) -> Result<Sql> {
    let mut sql = Sql::new(backend, meta.name);
    if spec.limit.is_none() && spec.offset == 0 {
        sql.push("SELECT COUNT(*)");
        push_from(&mut sql, meta);
        push_where(&mut sql, meta, Some(MAIN_ALIAS), &spec.expr)?;
    } else {
        sql.push("SELECT COUNT(*) FROM (SELECT ");
        sql.column(Some(MAIN_ALIAS), meta.pk_field().column);
        push_from(&mut sql, meta);
        push_tail(&mut sql, meta, spec)?;
        sql.push(") AS \"sub\"");
    }
    Ok(sql)
}

/// `agg` over field `index` of the rows `spec` describes. The result column has the kind given
/// by [`agg_kind`].
pub fn aggregate(
    backend: Backend,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    agg: Agg,
    index: usize,
) -> Result<Sql> {
    let f = field(meta, index)?;
    let mut sql = Sql::new(backend, meta.name);
    let inner = |sql: &mut Sql| {
        sql.push("\"sub\".").ident(f.column);
    };
    sql.push("SELECT ");
    match (agg, backend) {
        (Agg::Count, _) => {
            sql.push("COUNT(");
            inner(&mut sql);
            sql.push(")");
        }
        (Agg::Sum, Backend::Postgres) if matches!(f.kind, Kind::Int32 | Kind::Int64) => {
            sql.push("CAST(SUM(");
            inner(&mut sql);
            sql.push(") AS BIGINT)");
        }
        (Agg::Avg, Backend::Postgres) => {
            sql.push("CAST(AVG(");
            inner(&mut sql);
            sql.push(") AS DOUBLE PRECISION)");
        }
        (Agg::Sum | Agg::Min | Agg::Max | Agg::Avg, _) => {
            sql.push(match agg {
                Agg::Sum => "SUM(",
                Agg::Min => "MIN(",
                Agg::Max => "MAX(",
                _ => "AVG(",
            });
            inner(&mut sql);
            sql.push(")");
        }
    }
    sql.push(" FROM (SELECT ");
    sql.column(Some(MAIN_ALIAS), f.column);
    push_from(&mut sql, meta);
    push_tail(&mut sql, meta, spec)?;
    sql.push(") AS \"sub\"");
    Ok(sql)
}

/// The kind of an aggregate's result over a field of kind `kind`.
pub fn agg_kind(agg: Agg, kind: Kind) -> Kind {
    match agg {
        Agg::Count => Kind::Int64,
        Agg::Avg => Kind::Float,
        Agg::Sum if kind == Kind::Int32 => Kind::Int64,
        Agg::Sum | Agg::Min | Agg::Max => kind,
    }
}
