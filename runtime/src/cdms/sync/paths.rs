//! Relation conditions in synced reads, as semi-joins (when the filter is not one relation CRM
//! 2011 can answer itself with `$expand`, see [`super::expand`]).
//!
//! A list read whose filter holds a relation condition ([`Expr::Related`]) outside any `not`
//! first refreshes the related entity with the relation's own condition (one list request per
//! page of that entity, with its own `$filter`), then replaces the condition, for the remote
//! request only, by the keys it now selects locally:
//!
//! - forward (`organisation.matching(q)` on contacts): the referenced rows matching `q` become
//!   `organisation in (…)`, sent as `ParentCustomerId/Id eq guid'…' or …`;
//! - backward (`organisation.any(q)` on organisations): the references of the contacts matching
//!   `q` become `pk in (…)`, sent as `AccountId eq guid'…' or …`.
//!
//! The local query still applies the relation condition itself, exactly. The remote filter is a
//! superset of the records it selects: the related rows were refreshed from CDMS just before
//! (a row deleted or changed there no longer matches locally), and keys without a CDMS id relax
//! the condition as usual. It is not called exact, so no window is cut from it. A condition under
//! `not`, one whose related list was cut by the page cap, or one selecting more keys than a page
//! holds is relaxed instead (no remote condition).

use futures_util::future::BoxFuture;

use super::error::SyncError;
use super::CdmsRemote;
use crate::cdms::filter::{positive_relations, substitute};
use crate::cdms::meta::CdmsMeta;
use crate::entity::EntityMeta;
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::expr::{Hop, Related};
use crate::store::{rows, Db, ReadOp, ReadSpec};
use crate::value::Value;

/// `expr` with its relation conditions outside `not` replaced by key conditions (see the module
/// docs), and whether any was replaced.
pub(super) async fn semi_join(
    remote: &CdmsRemote,
    db: &Db,
    meta: &'static EntityMeta,
    expr: &Expr,
) -> Result<(Expr, bool)> {
    let relations = positive_relations(expr);
    if relations.is_empty() {
        return Ok((expr.clone(), false));
    }
    let mut found = Vec::with_capacity(relations.len());
    for r in relations {
        found.push(keys(remote, db, meta, r).await?);
    }
    let joined = found.iter().any(Option::is_some);
    Ok((substitute(expr, &found), joined))
}

/// All of `meta`'s rows matching `expr`, by primary key.
fn spec(meta: &'static EntityMeta, expr: Expr, op: ReadOp) -> ReadSpec {
    ReadSpec {
        expr,
        order: vec![OrderKey::asc(meta.pk)],
        random: false,
        limit: None,
        offset: 0,
        op,
    }
}

/// The key condition equivalent (locally, now) to `r` on `meta`, after refreshing the related
/// entity; `None` when the condition is to be relaxed.
///
/// Boxed: refreshing the related entity may come back here for relations in its condition.
fn keys<'a>(
    remote: &'a CdmsRemote,
    db: &'a Db,
    meta: &'static EntityMeta,
    r: &'a Related,
) -> BoxFuture<'a, Result<Option<Expr>>> {
    Box::pin(keys_now(remote, db, meta, r))
}

async fn keys_now(
    remote: &CdmsRemote,
    db: &Db,
    meta: &'static EntityMeta,
    r: &Related,
) -> Result<Option<Expr>> {
    let related = r.hop.entity();
    if CdmsMeta::of(related).is_some() {
        // `Count`: a list cut by the page cap fails instead of answering from part of it.
        let refresh = spec(related, r.expr.clone(), ReadOp::Count);
        match super::read::before_read(remote, db, related, &refresh).await {
            Ok(_) => {}
            Err(e) if matches!(SyncError::of(&e), Some(SyncError::Incomplete { .. })) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
    }
    // The related rows' column giving the keys, and the field of `meta` they are keys of.
    let (column, field) = match r.hop {
        Hop::Forward { field, .. } => (related.pk, field),
        Hop::Reverse { field, .. } => (field, meta.pk),
    };
    let local = spec(related, r.expr.clone(), ReadOp::List);
    let found = rows::select_columns(db, related, &local, &[column]).await?;
    let mut pks: Vec<i64> = found
        .into_iter()
        .filter_map(|row| match row.first() {
            Some(Value::Int(pk)) => Some(*pk),
            _ => None,
        })
        .collect();
    pks.sort_unstable();
    pks.dedup();
    if pks.len() > remote.config().page_cap_records() {
        return Ok(None);
    }
    if pks.is_empty() {
        return Ok(Some(Expr::Nothing));
    }
    Ok(Some(Expr::Cond(Cond {
        field,
        lookup: Lookup::In(pks.into_iter().map(Value::Int).collect()),
    })))
}
