//! Conditions on related rows ([`Related`]) as correlated `EXISTS` subqueries.
//!
//! - Forward (`shop.matching(q)`): `EXISTS (SELECT 1 FROM "shop" AS "r1" WHERE "r1"."id" =
//!   "t0"."shop" AND q)`. A null reference equals no key, so it never matches, and `NOT`
//!   keeps it (two-valued logic, as for plain conditions).
//! - Reverse (`shop.any(q)` on products): `EXISTS (SELECT 1 FROM "product" AS "r1" WHERE
//!   "r1"."shop" = "t0"."id" AND q)`.
//!
//! Chains nest subqueries; each gets an alias of its own, so `EXISTS` is never ambiguous and
//! the same form runs on SQLite and PostgreSQL.

use super::filter::push_expr;
use super::{field, Sql};
use crate::entity::EntityMeta;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::expr::{Hop, Related};

/// Appends `r` as an `EXISTS` condition on the rows of `meta` (aliased `alias`, or named by
/// their table without one).
pub(super) fn push_related(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    r: &Related,
) -> Result<()> {
    let outer = alias.unwrap_or(meta.table);
    let inner = sql.fresh_alias();
    let (table, inner_column, outer_column) = match r.hop {
        Hop::Forward {
            field: index,
            target,
        } => {
            let f = field(meta, index)?;
            check_target(meta, f.name, f.references.map(|t| t()), target)?;
            (target.table, target.pk_field().column, f.column)
        }
        Hop::Reverse {
            source,
            field: index,
        } => {
            let f = field(source, index)?;
            check_target(source, f.name, f.references.map(|t| t()), meta)?;
            (source.table, f.column, meta.pk_field().column)
        }
    };
    sql.push("EXISTS (SELECT 1 FROM ")
        .ident(table)
        .push(" AS ")
        .ident(&inner)
        .push(" WHERE ");
    sql.column(Some(&inner), inner_column)
        .push(" = ")
        .column(Some(outer), outer_column);
    if !matches!(r.expr, Expr::All) {
        sql.push(" AND ");
        push_expr(sql, r.hop.entity(), Some(&inner), &r.expr)?;
    }
    sql.push(")");
    Ok(())
}

/// The reference field `name` of `meta` must point to `expected`.
fn check_target(
    meta: &EntityMeta,
    name: &str,
    actual: Option<&'static EntityMeta>,
    expected: &'static EntityMeta,
) -> Result<()> {
    match actual {
        Some(t) if t.table == expected.table => Ok(()),
        _ => Err(Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "field {name}: not a reference to {} (a relation condition needs one)",
                expected.name
            ),
        }),
    }
}
