//! List reads (`filter`, `all`, `count`, `first`, ...): one CDMS list request per page, every
//! returned record created or refreshed locally in one transaction, then the local SQL answers.
//!
//! 1. The filter is translated to `$filter` (a superset of the local condition, see
//!    [`crate::cdms::filter`]). Conditions on the local primary key become conditions on the CDMS
//!    id, and conditions on references use the referenced rows' CDMS ids (so an organisation's
//!    contacts are fetched with `ParentCustomerId/Id eq guid'…'`).
//!    A filter that is one relation condition CRM 2011 can expand is sent as one request of
//!    the root with `$expand` and a `$filter` on the expanded entity, whose inlined records
//!    refresh their rows too ([`super::expand`]). Otherwise a relation condition outside `not`
//!    is first replaced by the keys it selects, after the related entity was refreshed with the
//!    relation's own condition ([`super::paths`]).
//! 2. Pages are fetched, following `__next`, up to the page cap (default 500 records). When the
//!    filter and the order are exact and the read is a slice (`first`, `slice`, ...), only the
//!    window's records are fetched. Concurrently, the local rows the read would consider are
//!    selected: for a plain row read (`all`, whole or a window CDMS picks exactly, ordered by
//!    the entity's own fields) the whole local answer, which answers the read when nothing has
//!    to change (a list already in sync costs one SQL statement).
//! 3. Local rows the read would return but CDMS did not (changed in CDMS so that they no longer
//!    match, or deleted there) are looked up by id when the CDMS answer was complete: found ones
//!    are refreshed, missing ones get the deleted-in-CDMS outcome.
//! 4. Everything is applied in one transaction ([`super::apply_records`]); none is opened when
//!    every record is already in sync. The upsert also says which rows it wrote satisfy the
//!    filter, so a whole local answer read in step 2 is brought up to date from them instead of
//!    being read again, where that is exact: rows join it only when it is ordered by key alone,
//!    and a row that changed its order keys sends the read back to the database. Order keys
//!    through references then refresh the referenced rows they read ([`super::ordering`]).
//! 5. `count`, `aggregate` and a negative `exists` need every matching record: when the cap cut
//!    the list, they fail with [`SyncError::Incomplete`] instead of answering from partial data.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::apply::{apply_page, apply_prefetched, newest_by_id, would_change, would_change_given};
use super::error::SyncError;
use super::expand::{self, Expansion, Inlined};
use super::fields::{cdms_of, id_of, pk_of, reference_target};
use super::ordering;
use super::paths;
use super::prefetch::References;
use super::quarantine::{record_alone, Rejected};
use super::read::remove_deleted;
use super::refs::{cdms_ids, decode_page, fetch_by_ids, IDS_PER_REQUEST};
use super::CdmsRemote;
use crate::cdms::client::{CdmsClient, ListOptions};
use crate::cdms::codec::{self, RemoteRecord};
use crate::cdms::filter::{orderby, translate, Translation};
use crate::cdms::meta::CdmsMeta;
use crate::entity::{EntityMeta, Row};
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::store::sql::write::condition_params;
use crate::store::sql::MAX_PARAMS;
use crate::store::{rows, Db, ReadOp, ReadSpec};
use crate::value::Value;

/// The filter in the form the translator can use remotely, and the CDMS ids of the local keys it
/// mentions.
pub(super) struct Prepared {
    pub expr: Expr,
    pub ids: HashMap<(&'static str, i64), Uuid>,
}

fn int_values(lookup: &Lookup) -> Vec<i64> {
    let values: &[Value] = match lookup {
        Lookup::Exact(v) => std::slice::from_ref(v),
        Lookup::In(vs) => vs,
        _ => &[],
    };
    values
        .iter()
        .filter_map(|v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        })
        .collect()
}

pub(super) fn collect(
    meta: &'static EntityMeta,
    expr: &Expr,
    out: &mut Vec<(&'static EntityMeta, i64)>,
) {
    match expr {
        Expr::Cond(c) => {
            let target = if c.field == meta.pk {
                Some(meta)
            } else {
                reference_target(meta, c.field)
            };
            if let Some(t) = target {
                out.extend(int_values(&c.lookup).into_iter().map(|pk| (t, pk)));
            }
        }
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| collect(meta, e, out)),
        Expr::Not(inner) => collect(meta, inner, out),
        // Keys inside belong to the related entity's conditions, which stay local.
        Expr::All | Expr::Nothing | Expr::Related(_) => {}
    }
}

/// Rewrites conditions on the primary key into conditions on the CDMS id (local-only keys match
/// no CDMS record).
pub(super) fn rewrite(
    cdms: &CdmsMeta,
    expr: &Expr,
    ids: &HashMap<(&'static str, i64), Uuid>,
) -> Expr {
    let meta = cdms.entity;
    match expr {
        Expr::Cond(c)
            if c.field == meta.pk
                && matches!(c.lookup, Lookup::Exact(Value::Int(_)) | Lookup::In(_)) =>
        {
            let uuids: Vec<Value> = int_values(&c.lookup)
                .into_iter()
                .filter_map(|pk| ids.get(&(meta.table, pk)).map(|u| Value::Uuid(*u)))
                .collect();
            match (&c.lookup, uuids.len()) {
                (_, 0) => Expr::Nothing,
                (Lookup::Exact(_), _) => Expr::Cond(Cond {
                    field: cdms.id_field,
                    lookup: Lookup::Exact(uuids[0].clone()),
                }),
                _ => Expr::Cond(Cond {
                    field: cdms.id_field,
                    lookup: Lookup::In(uuids),
                }),
            }
        }
        Expr::And(items) => Expr::And(items.iter().map(|e| rewrite(cdms, e, ids)).collect()),
        Expr::Or(items) => Expr::Or(items.iter().map(|e| rewrite(cdms, e, ids)).collect()),
        Expr::Not(inner) => Expr::Not(Box::new(rewrite(cdms, inner, ids))),
        other => other.clone(),
    }
}

pub(super) async fn prepare(db: &Db, cdms: &'static CdmsMeta, expr: &Expr) -> Result<Prepared> {
    let mut keys = Vec::new();
    collect(cdms.entity, expr, &mut keys);
    let mut groups: Vec<(&'static EntityMeta, Vec<i64>)> = Vec::new();
    for (meta, pk) in keys {
        match groups.iter_mut().find(|(m, _)| std::ptr::eq(*m, meta)) {
            Some((_, pks)) => pks.push(pk),
            None => groups.push((meta, vec![pk])),
        }
    }
    let mut ids = HashMap::new();
    for (meta, pks) in groups {
        if cdms_of(meta).is_err() {
            continue;
        }
        for (pk, id) in cdms_ids(db, meta, &pks).await? {
            if let Some(id) = id {
                ids.insert((meta.table, pk), id);
            }
        }
    }
    Ok(Prepared {
        expr: rewrite(cdms, expr, &ids),
        ids,
    })
}

/// What the listings brought back: the records, the records that could not be decoded, how
/// many records CDMS returned in all, and the related records inlined by an expansion.
#[derive(Default)]
struct Fetched {
    records: Vec<RemoteRecord>,
    rejected: Vec<Rejected>,
    returned: usize,
    related: Inlined,
}

/// Every page of the list, decoded (with the records an expansion inlined in them).
async fn fetch_pages(
    client: &CdmsClient,
    cdms: &'static CdmsMeta,
    opts: &ListOptions,
    expansion: Option<&Expansion>,
    out: &mut Fetched,
) -> Result<()> {
    let mut pager = client.pager(cdms.set, opts)?;
    while let Some(page) = pager.next_raw_page().await? {
        out.returned += page.len();
        let (good, bad) = decode_page(cdms, &page);
        out.records.extend(good);
        out.rejected.extend(bad);
        if let Some(exp) = expansion {
            out.related.extend(expand::inlined(exp, &page));
        }
    }
    Ok(())
}

/// Every listing in turn (the chunks of a split filter), until `want` records came back.
async fn fetch_all(
    client: &CdmsClient,
    cdms: &'static CdmsMeta,
    listings: &[ListOptions],
    expansion: Option<&Expansion>,
    want: usize,
) -> Result<Fetched> {
    let mut out = Fetched::default();
    for opts in listings {
        if out.returned >= want {
            break;
        }
        fetch_pages(client, cdms, opts, expansion, &mut out).await?;
    }
    Ok(out)
}

/// The `$filter`s to list with, each within IIS's query string limit, and whether together
/// they select exactly the matching records. A filter that fits is used as it is. One that
/// does not and is a single `in` condition (a long list of keys) is split into chunks, one
/// listing each. Anything else is relaxed to no filter: a superset remotely, the exact
/// condition applied by the local SQL, as for every condition CDMS cannot express.
fn fitting_filters(
    cdms: &'static CdmsMeta,
    prepared: &Prepared,
    translation: &Translation,
    select: &[String],
    order: &crate::cdms::filter::RemoteOrder,
) -> (Vec<Option<String>>, bool) {
    let fits = |filter: &Option<String>| listing_fits(filter, select, &[], order);
    if fits(&translation.filter) {
        return (vec![translation.filter.clone()], translation.exact);
    }
    let lookup_ids = |t: &EntityMeta, pk: i64| prepared.ids.get(&(t.table, pk)).copied();
    if let Expr::Cond(Cond {
        field,
        lookup: Lookup::In(values),
    }) = &prepared.expr
    {
        let chunk_filter = |chunk: &[Value]| {
            let expr = Expr::Cond(Cond {
                field: *field,
                lookup: Lookup::In(chunk.to_vec()),
            });
            translate(cdms, &expr, &lookup_ids)
        };
        let mut size = values.len();
        while size > 1 {
            size = size.div_ceil(2);
            if fits(&chunk_filter(&values[..size]).filter) {
                let chunks: Vec<crate::cdms::filter::Translation> =
                    values.chunks(size).map(chunk_filter).collect();
                if chunks.iter().all(|t| fits(&t.filter)) {
                    let exact = chunks.iter().all(|t| t.exact);
                    tracing::debug!(
                        entity = cdms.set,
                        values = values.len(),
                        listings = chunks.len(),
                        "an `in` condition too long for one request is listed in chunks"
                    );
                    return (chunks.into_iter().map(|t| t.filter).collect(), exact);
                }
            }
        }
    }
    tracing::debug!(
        entity = cdms.set,
        "a $filter too long for one request is relaxed remotely and applied exactly locally"
    );
    (vec![None], false)
}

/// Whether a listing with `filter`, `select` and `expand` in `order` fits IIS's query string limit.
fn listing_fits(
    filter: &Option<String>,
    select: &[String],
    expand: &[String],
    order: &crate::cdms::filter::RemoteOrder,
) -> bool {
    ListOptions {
        filter: filter.clone(),
        select: select.to_vec(),
        expand: expand.to_vec(),
        orderby: Some(order.orderby.clone()),
        top: Some(u32::MAX),
    }
    .fits()
}

/// The remote form of `spec`'s filter: in one request through an expansion when it qualifies
/// and fits, otherwise translated after the semi-join (never exact when a relation was
/// replaced by keys).
async fn remote_filter(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    spec: &ReadSpec,
    select: &[String],
    order: &crate::cdms::filter::RemoteOrder,
) -> Result<(Prepared, Translation, Option<Expansion>)> {
    if let Some(exp) = expand::plan(db, cdms, &spec.expr).await? {
        let filter = Some(exp.filter.clone());
        let opts = exp.options(filter.clone(), select);
        if listing_fits(&filter, &opts.select, &opts.expand, order) {
            let prepared = Prepared {
                expr: Expr::All,
                ids: HashMap::new(),
            };
            // Never exact: the local rows of the related entity that CDMS did not inline are
            // not refreshed, so no window is cut from the answer.
            let translation = Translation {
                filter,
                exact: false,
            };
            return Ok((prepared, translation, Some(exp)));
        }
    }
    // Relation conditions become key conditions for the remote request (see `paths`).
    let (remote_expr, joined) = paths::semi_join(remote, db, cdms.entity, &spec.expr).await?;
    let prepared = prepare(db, cdms, &remote_expr).await?;
    let mut translation = translate(cdms, &prepared.expr, &|t, pk| {
        prepared.ids.get(&(t.table, pk)).copied()
    });
    translation.exact &= !joined;
    Ok((prepared, translation, None))
}

/// The local rows (key, CDMS id) the read would consider: the window itself for a windowed read,
/// otherwise the synced rows matching the filter (at most `cap + 1`, in the read's order).
async fn local_candidates(
    db: &Db,
    cdms: &'static CdmsMeta,
    spec: &ReadSpec,
    windowed: bool,
    cap: usize,
) -> Result<Vec<(i64, Uuid)>> {
    let meta = cdms.entity;
    let order = if spec.random {
        vec![OrderKey::asc(meta.pk)]
    } else {
        spec.order.clone()
    };
    let local = if windowed {
        ReadSpec {
            expr: spec.expr.clone(),
            order,
            random: false,
            limit: spec.limit,
            offset: spec.offset,
            op: ReadOp::List,
        }
    } else {
        let synced = Expr::Cond(Cond {
            field: cdms.id_field,
            lookup: Lookup::IsNull(false),
        });
        let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        ReadSpec {
            expr: spec.expr.clone().and(synced),
            order,
            random: false,
            limit: Some(limit),
            offset: 0,
            op: ReadOp::List,
        }
    };
    let found = rows::select_columns(db, meta, &local, &[meta.pk, cdms.id_field]).await?;
    Ok(found
        .into_iter()
        .filter_map(|r| match (r.first(), r.get(1)) {
            (Some(Value::Int(pk)), Some(Value::Uuid(id))) => Some((*pk, *id)),
            _ => None,
        })
        .collect())
}

/// [`local_candidates`], and with them the whole local answer to `spec` when `answer` (read in
/// the same statement: the candidates are its synced rows).
async fn local_read(
    db: &Db,
    cdms: &'static CdmsMeta,
    spec: &ReadSpec,
    windowed: bool,
    cap: usize,
    answer: bool,
) -> Result<(Vec<(i64, Uuid)>, Option<Vec<Row>>)> {
    if !answer {
        return Ok((local_candidates(db, cdms, spec, windowed, cap).await?, None));
    }
    let meta = cdms.entity;
    let found = rows::select(db, meta, spec).await?;
    let mut candidates = Vec::new();
    for row in &found {
        if !windowed && candidates.len() > cap {
            break;
        }
        if let Some(id) = id_of(cdms, row)? {
            candidates.push((pk_of(meta, row), id));
        }
    }
    Ok((candidates, Some(found)))
}

/// The CDMS ids of the `records` that `answer` (the local rows read, if any) lacks.
fn lacking(
    cdms: &CdmsMeta,
    answer: Option<&[Row]>,
    records: &[RemoteRecord],
) -> Result<HashSet<Uuid>> {
    let Some(answer) = answer else {
        return Ok(HashSet::new());
    };
    let mut held = HashSet::with_capacity(answer.len());
    for row in answer {
        if let Some(id) = id_of(cdms, row)? {
            held.insert(id);
        }
    }
    Ok(records
        .iter()
        .map(|r| r.id)
        .filter(|id| !held.contains(id))
        .collect())
}

/// Whether the local answer to `spec` can be read with the candidates (see [`local_read`]): a
/// plain row read, whole or a window CDMS picks exactly, whose order needs no referenced rows.
fn answers_locally(spec: &ReadSpec, windowed: bool) -> bool {
    spec.op == ReadOp::List
        && !spec.random
        && spec.order.iter().all(OrderKey::is_root)
        && (windowed || (spec.limit.is_none() && spec.offset == 0))
}

/// Whether the local answer to `spec`, read before the transaction, can be brought up to date
/// from the rows the transaction writes ([`patched`]): a whole answer (no window to cut again)
/// whose condition is on the entity's own row alone (a relation condition also depends on
/// other rows) and binds few values (it rides along in every statement of the upsert), with no
/// related records applied beside it and no rows removed.
fn patchable(
    db: &Db,
    meta: &'static EntityMeta,
    spec: &ReadSpec,
    expanded: bool,
    gone: &[(i64, Uuid)],
) -> bool {
    spec.limit.is_none()
        && spec.offset == 0
        && !expanded
        && gone.is_empty()
        && !spec.expr.has_related()
        && condition_params(db.backend(), meta, &spec.expr).is_ok_and(|n| n <= MAX_PARAMS / 10)
}

/// The local answer `answer` (in `order`) with the rows written since it was read: a written
/// row replaces its old copy where it still satisfies the condition, and drops out where it no
/// longer does; a written row the answer did not hold joins it where it satisfies the
/// condition. `None` (read the answer again):
/// - when a record CDMS returned (`returned`) is neither in the answer nor written: its row
///   was left as it was, and whether it satisfies the condition is not known here (CDMS's
///   condition can be wider than the local one; another writer may have stored the record
///   since the answer was read);
/// - when a row would join, or move, and the order is not by primary key alone: only the
///   database orders values exactly as the `ORDER BY` does.
fn patched(
    cdms: &'static CdmsMeta,
    answer: Vec<Row>,
    written: Vec<(Row, bool)>,
    order: &[OrderKey],
    returned: &[Uuid],
) -> Result<Option<Vec<Row>>> {
    let meta = cdms.entity;
    let mut known: HashSet<Uuid> = HashSet::with_capacity(answer.len() + written.len());
    for row in answer.iter().chain(written.iter().map(|(row, _)| row)) {
        if let Some(id) = id_of(cdms, row)? {
            known.insert(id);
        }
    }
    if returned.iter().any(|id| !known.contains(id)) {
        return Ok(None);
    }
    let by_pk_only = order.iter().all(|k| k.is_root() && k.field == meta.pk);
    let mut fresh: HashMap<i64, (Row, bool)> = HashMap::with_capacity(written.len());
    for (row, matches) in written {
        fresh.insert(pk_of(meta, &row), (row, matches));
    }
    let mut out = Vec::with_capacity(answer.len() + fresh.len());
    for row in answer {
        match fresh.remove(&pk_of(meta, &row)) {
            None => out.push(row),
            Some((_, false)) => {}
            Some((new, true)) => {
                let moved = order.iter().any(|k| row.get(k.field) != new.get(k.field));
                if moved && !by_pk_only {
                    return Ok(None);
                }
                out.push(new);
            }
        }
    }
    let joining: Vec<Row> = fresh
        .into_values()
        .filter_map(|(row, matches)| matches.then_some(row))
        .collect();
    if !joining.is_empty() {
        if !by_pk_only {
            return Ok(None);
        }
        out.extend(joining);
    }
    if by_pk_only {
        let desc = order.first().is_some_and(|k| k.desc);
        out.sort_by_key(|row| pk_of(meta, row));
        if desc {
            out.reverse();
        }
    }
    Ok(Some(out))
}

/// Applies the related records an expansion inlined (bad ones skipped and quarantined under
/// their own set, as for every list).
async fn apply_related(
    remote: &CdmsRemote,
    tx: &mut crate::store::Tx,
    exp: &Expansion,
    records: Vec<RemoteRecord>,
    rejected: &[Rejected],
    references: &References,
) -> Result<()> {
    let stats = apply_prefetched(remote, tx, exp.related.entity, records, references).await?;
    remote
        .after_apply(tx, exp.related.set, &stats, rejected)
        .await
}

/// The list refresh (see the module docs); `Some(rows)`: the local answer to `spec`, read while
/// CDMS answered, when nothing had to change.
pub(crate) async fn refresh(
    remote: &CdmsRemote,
    db: &Db,
    cdms: &'static CdmsMeta,
    spec: &ReadSpec,
) -> Result<Option<Vec<Row>>> {
    let meta = cdms.entity;
    let cap = remote.config().page_cap_records();
    let select = codec::select(cdms, None);
    let keys: Vec<OrderKey> = if spec.random {
        Vec::new()
    } else {
        // The local tie-breaker (primary key) has no remote counterpart; CDMS breaks ties by id.
        let mut keys = spec.order.clone();
        while keys
            .last()
            .is_some_and(|k| k.is_root() && k.field == meta.pk)
        {
            keys.pop();
        }
        keys
    };
    let order = orderby(cdms, &keys);
    let (prepared, translation, expansion) =
        remote_filter(remote, db, cdms, spec, &select, &order).await?;
    let matches_nothing =
        translation.filter.as_deref() == Some(format!("{} eq null", cdms.id_property).as_str());
    let (filters, remote_exact) = match &expansion {
        Some(_) => (vec![translation.filter.clone()], false),
        None => fitting_filters(cdms, &prepared, &translation, &select, &order),
    };
    // A slice whose records CDMS can pick exactly: fetch just the window.
    let window_end = spec
        .limit
        .map(|l| usize::try_from(spec.offset.saturating_add(l)).unwrap_or(usize::MAX));
    let windowed = remote_exact
        && filters.len() == 1
        && order.exact
        && !spec.random
        && window_end.is_some_and(|end| end <= cap);
    let want = match window_end {
        Some(end) if windowed => end,
        _ => cap,
    };
    remote.quarantine_state().ensure(db).await?;
    remote.stale_state().ensure(db).await?;
    let (fetched, candidates, answer) = if matches_nothing || want == 0 {
        (Fetched::default(), Vec::new(), None)
    } else {
        let listings: Vec<ListOptions> = filters
            .into_iter()
            .map(|filter| {
                let base = match &expansion {
                    Some(exp) => exp.options(filter, &select),
                    None => ListOptions {
                        filter,
                        select: select.clone(),
                        ..ListOptions::default()
                    },
                };
                ListOptions {
                    orderby: Some(order.orderby.clone()),
                    top: Some(u32::try_from(want).unwrap_or(u32::MAX)),
                    ..base
                }
            })
            .collect();
        let answers = answers_locally(spec, windowed);
        let (records, local) = tokio::join!(
            fetch_all(remote.client(), cdms, &listings, expansion.as_ref(), want),
            local_read(db, cdms, spec, windowed, cap, answers)
        );
        let (candidates, answer) = local?;
        (records?, candidates, answer)
    };
    let Fetched {
        records,
        mut rejected,
        returned,
        mut related,
    } = fetched;
    let complete = matches_nothing || returned < want;
    let mut faithful = complete || windowed;
    if !windowed && candidates.len() > cap {
        faithful = false;
    }
    // Local rows CDMS did not return although it should have: look them up by id.
    let seen: HashSet<Uuid> = records
        .iter()
        .map(|r| r.id)
        .chain(rejected.iter().filter_map(|r| r.cdms_id))
        .collect();
    let mut vanished: Vec<(i64, Uuid)> = candidates
        .into_iter()
        .filter(|(_, id)| !seen.contains(id))
        .collect();
    let mut again = Vec::new();
    let mut gone = Vec::new();
    if (complete || windowed) && !vanished.is_empty() {
        if vanished.len() > cap {
            vanished.truncate(cap);
            faithful = false;
        }
        let ids: Vec<Uuid> = vanished.iter().map(|(_, id)| *id).collect();
        let (found, bad) = match &expansion {
            // With their related records: the local condition reads those rows.
            Some(exp) => {
                let (found, bad, inline) =
                    expand::fetch_by_ids(remote.client(), cdms, exp, &ids).await?;
                related.extend(inline);
                (found, bad)
            }
            None => fetch_by_ids(remote.client(), cdms, &ids).await?,
        };
        again = found;
        let back: HashSet<Uuid> = again
            .iter()
            .map(|r| r.id)
            .chain(bad.iter().filter_map(|r| r.cdms_id))
            .collect();
        rejected.extend(bad);
        gone = vanished
            .into_iter()
            .filter(|(_, id)| !back.contains(id))
            .collect();
        tracing::debug!(
            entity = meta.name,
            checked = ids.len(),
            requests = ids.len().div_ceil(IDS_PER_REQUEST),
            deleted = gone.len(),
            "rechecked local rows missing from a complete CDMS list"
        );
    }
    let mut all = records;
    all.extend(again);
    // Every record CDMS returned, applied or rejected (see `patched`).
    let returned_ids: Vec<Uuid> = all
        .iter()
        .map(|r| r.id)
        .chain(rejected.iter().filter_map(|r| r.cdms_id))
        .collect();
    // A page already in sync (and nothing to clear in the quarantine) needs no transaction.
    // When CDMS selected exactly what the whole local answer holds (an exact filter, no
    // window: a window's edge may fall between ties CDMS and the local order break
    // differently), a record the answer lacks is new locally or its row no longer matches:
    // work either way, with no statement to find out.
    //
    // The records found missing locally on the way (the answer lacks them, and it holds every
    // row they could be; or they were looked up) are inserted without reading their rows
    // again inside the transaction.
    let mut absent = HashSet::new();
    let work = !gone.is_empty()
        || !rejected.is_empty()
        || (!all.is_empty() && remote.quarantine_state().may_have(db, cdms.set))
        || (!all.is_empty() && remote.stale_state().may_have(db, cdms.set))
        || (remote_exact && !windowed && {
            absent = lacking(cdms, answer.as_deref(), &all)?;
            !absent.is_empty()
        })
        || {
            let known = answer.as_deref().unwrap_or_default();
            let check = would_change_given(db, cdms, &all, known).await?;
            absent = check.absent;
            check.changed
        };
    // The related records an expansion inlined, likewise.
    let related_records = newest_by_id(std::mem::take(&mut related.records));
    let related_work = match &expansion {
        Some(exp) => {
            let set = exp.related.set;
            !related.rejected.is_empty()
                || (!related_records.is_empty()
                    && (remote.quarantine_state().may_have(db, set)
                        || remote.stale_state().may_have(db, set)
                        || would_change(db, exp.related, &related_records).await?))
        }
        None => false,
    };
    let changed = work || related_work;
    // The rows of the entity the transaction wrote, when the answer can be brought up to date
    // from them (see `patched`).
    let mut written: Option<Vec<(Row, bool)>> = None;
    if changed {
        // Referenced records missing locally are fetched before the transaction begins.
        let mut groups: Vec<(&'static CdmsMeta, &[RemoteRecord])> = Vec::new();
        if let (true, Some(exp)) = (related_work, &expansion) {
            groups.push((exp.related, &related_records));
        }
        if work {
            groups.push((cdms, &all));
        }
        let references = References::fetch_for(remote, db, &groups).await?;
        let mut tx = db.begin().await?;
        // The related rows first, in the same transaction: the root records refer to them.
        if let (true, Some(exp)) = (related_work, &expansion) {
            apply_related(
                remote,
                &mut tx,
                exp,
                related_records,
                &related.rejected,
                &references,
            )
            .await?;
        }
        if work {
            let watch = (answer.is_some() && patchable(db, meta, spec, expansion.is_some(), &gone))
                .then_some(&spec.expr);
            let (stats, rows) =
                apply_page(remote, &mut tx, meta, all, &references, watch, &absent).await?;
            written = rows;
            remote
                .after_apply(&mut tx, cdms.set, &stats, &rejected)
                .await?;
        }
        tx.commit().await?;
        // Rows of records deleted in CDMS, each on its own: one still referenced by other rows
        // is kept (and quarantined) without blocking the others.
        for (pk, id) in &gone {
            let mut tx = db.begin().await?;
            match remove_deleted(&mut tx, cdms, *pk, *id).await {
                Ok(()) => tx.commit().await?,
                Err(e) if SyncError::of(&e).is_some() => {
                    drop(tx);
                    let rejected = Rejected::other(cdms.set, *id, Some(*pk), e.to_string());
                    record_alone(remote.quarantine_state(), db, rejected).await;
                }
                Err(e) => return Err(e),
            }
            remote.forget(cdms, *id);
        }
    }
    // Order keys through references: the referenced rows they read (see `ordering`).
    ordering::refresh_targets(remote, db, meta, spec).await?;
    // A list answers whether complete or cut by the cap (see below): when nothing changed, the
    // rows read alongside the request are the answer; otherwise they are, with the rows the
    // transaction wrote in place, when that can be told without reading them again.
    let answer = match (answer, written) {
        (answer, _) if !changed => answer,
        (Some(answer), Some(written)) if work && !related_work => {
            patched(cdms, answer, written, &spec.order, &returned_ids)?
        }
        _ => None,
    };
    if faithful {
        return Ok(answer);
    }
    let op = match spec.op {
        ReadOp::Count => "count",
        ReadOp::Aggregate => "aggregate",
        ReadOp::Exists if !rows::exists(db, meta, spec).await? => "exists",
        _ => return Ok(answer),
    };
    Err(SyncError::Incomplete {
        entity: meta.name,
        op,
        cap,
    }
    .into())
}
