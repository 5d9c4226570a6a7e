//! Order keys through references in synced reads: the referenced rows whose fields order the
//! answer are refreshed too.
//!
//! CRM 2011 cannot `$orderby` a property of a related record, so such a key ends the remote order
//! there ([`crate::cdms::filter::orderby`]): the root list is fetched as for every order CDMS
//! cannot reproduce (up to the page cap, never just a slice's window), and the local SQL orders
//! exactly, through its joins. What it orders by are fields of the referenced rows. After the
//! root list was applied, those rows are refreshed with one list read of their entity by key
//! (`AccountId eq guid'…' or …`, split to fit the URL like every long key list), whose own order
//! carries the rest of each path, so a chain refreshes each entity along it in turn.
//!
//! The referenced rows are those of every local row the read considers (all rows matching the
//! filter, since the order of the whole decides which rows a slice holds). More of them than the
//! page cap are not refreshed: their local values order the answer. Reads whose answer does not
//! depend on the order (`count`, `exists`, `aggregate`, `get`, `in_bulk`, queryset writes, when
//! not sliced) skip the step.

use futures_util::future::BoxFuture;

use super::fields::reference_target;
use super::CdmsRemote;
use crate::cdms::meta::CdmsMeta;
use crate::entity::EntityMeta;
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::expr::{Hop, Related};
use crate::store::{rows, Db, ReadOp, ReadSpec};
use crate::value::Value;

/// Whether the answer to `spec` depends on its order through references.
fn needs_targets(spec: &ReadSpec) -> bool {
    if spec.random || spec.order.iter().all(OrderKey::is_root) {
        return false;
    }
    let sliced = spec.limit.is_some() || spec.offset > 0;
    sliced
        || matches!(
            spec.op,
            ReadOp::List | ReadOp::First | ReadOp::Last | ReadOp::Values
        )
}

/// Refreshes the rows of `meta`'s referenced entities that `spec`'s order keys through
/// references read (see the module docs). Runs after the rows of `meta` were refreshed.
///
/// Boxed: the referenced entity's read comes back here for the rest of a chain.
pub(super) fn refresh_targets<'a>(
    remote: &'a CdmsRemote,
    db: &'a Db,
    meta: &'static EntityMeta,
    spec: &'a ReadSpec,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(refresh_now(remote, db, meta, spec))
}

async fn refresh_now(
    remote: &CdmsRemote,
    db: &Db,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
) -> Result<()> {
    if !needs_targets(spec) {
        return Ok(());
    }
    let cap = remote.config().page_cap_records();
    // The first reference of each path, in the order of the keys.
    let mut firsts: Vec<usize> = Vec::new();
    for key in &spec.order {
        if let Some(&hop) = key.via.first() {
            if !firsts.contains(&hop) {
                firsts.push(hop);
            }
        }
    }
    for hop in firsts {
        // A key through a plain field is the local SQL's error to report.
        let Some(target) = reference_target(meta, hop) else {
            continue;
        };
        // The referenced rows of the rows the read considers, distinct, at most `cap + 1`.
        let referenced = Expr::Related(Box::new(Related {
            hop: Hop::Reverse {
                source: meta,
                field: hop,
            },
            expr: spec.expr.clone(),
        }));
        let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        let local = ReadSpec {
            limit: Some(limit),
            ..ReadSpec::filtered(target, referenced)
        };
        let found = rows::select_columns(db, target, &local, &[target.pk]).await?;
        let pks: Vec<Value> = found
            .into_iter()
            .filter_map(|row| match row.first() {
                Some(Value::Int(pk)) => Some(Value::Int(*pk)),
                _ => None,
            })
            .collect();
        if pks.is_empty() {
            continue;
        }
        if pks.len() > cap {
            tracing::debug!(
                entity = meta.name,
                target = target.name,
                cap,
                "more referenced rows than the page cap order the answer: not refreshed"
            );
            continue;
        }
        // Their own order: the rest of each path through this reference.
        let mut order: Vec<OrderKey> = spec
            .order
            .iter()
            .filter(|k| k.via.first() == Some(&hop))
            .map(|k| OrderKey {
                field: k.field,
                desc: k.desc,
                via: k.via[1..].to_vec(),
            })
            .collect();
        order.push(OrderKey::asc(target.pk));
        let by_key = Expr::Cond(Cond {
            field: target.pk,
            lookup: Lookup::In(pks),
        });
        let refresh = ReadSpec {
            order,
            ..ReadSpec::filtered(target, by_key)
        };
        if CdmsMeta::of(target).is_some() {
            super::read::before_read(remote, db, target, &refresh).await?;
        } else {
            // A local entity: its rows are as they are, but its own references may be synced.
            refresh_targets(remote, db, target, &refresh).await?;
        }
    }
    Ok(())
}
