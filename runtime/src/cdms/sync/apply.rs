//! Applying CDMS records to the local store: the core of every refresh, and of bulk loads.

use std::collections::{HashMap, HashSet};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value as J;
use uuid::Uuid;

use super::error::SyncError;
use super::fields::{
    cdms_of, default_row, field_name, id_of, modified_of, pk_of, put_record, reference_target,
    refresh_fields,
};
use super::prefetch::References;
use super::quarantine::Rejected;
use super::refs::{decode_json_page, fetch_by_ids};
use super::CdmsRemote;
use crate::cdms::codec::RemoteRecord;
use crate::cdms::meta::CdmsMeta;
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::store::history::{self, VersionKind};
use crate::store::sql::write::UpsertPlan;
use crate::store::{rows, Backend, Conn, ReadSpec, Tx};
use crate::value::Value;

/// A record whose local row is newer than CDMS's version: left untouched by a refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalNewer {
    /// The entity type.
    pub entity: &'static str,
    /// The local primary key.
    pub pk: i64,
    /// The CDMS id.
    pub cdms_id: Uuid,
    /// The local `modified`.
    pub local: chrono::DateTime<chrono::Utc>,
    /// CDMS's `ModifiedOn`.
    pub cdms: chrono::DateTime<chrono::Utc>,
}

impl LocalNewer {
    /// The matching [`SyncError::NotInSync`].
    pub fn error(&self) -> SyncError {
        SyncError::NotInSync {
            entity: self.entity,
            pk: self.pk,
            cdms_id: self.cdms_id,
            local: self.local,
            cdms: self.cdms,
        }
    }
}

/// What [`apply_records`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyStats {
    /// Rows created from records first seen (referenced records fetched on the way included).
    pub inserted: usize,
    /// Rows refreshed because CDMS's `ModifiedOn` was newer.
    pub updated: usize,
    /// Records whose `ModifiedOn` equalled the local row's: untouched, no version.
    pub unchanged: usize,
    /// Records whose local row is newer: untouched (a read turns them into
    /// [`SyncError::NotInSync`]).
    pub local_newer: Vec<LocalNewer>,
    /// Referenced records that were missing locally and were fetched from CDMS.
    pub fetched_references: usize,
    /// CDMS list requests made to fetch them.
    pub requests: usize,
    /// The local primary key of every applied record, by CDMS id (the given records and the
    /// fetched references).
    pub keys: HashMap<Uuid, i64>,
    /// Records whose `ModifiedOn` equalled the local row's but whose mapped values differ (an
    /// edit within the same second as the last sync): refreshed, and counted in `updated` too.
    pub same_second: usize,
    /// Records that could not be applied and were skipped (the others were applied): decode
    /// failures, unresolvable references, values the database refused, local rows newer than
    /// CDMS. The caller records them in the quarantine.
    pub rejected: Vec<Rejected>,
}

/// A lookup that points into records being applied in the same call and not yet stored (a
/// cycle): stored as null first, set once every record is stored.
struct Fixup {
    meta: &'static EntityMeta,
    holder: Uuid,
    field: usize,
    target: &'static EntityMeta,
    target_id: Uuid,
}

/// Where an apply finds the referenced records that are missing locally.
#[derive(Clone, Copy)]
pub(crate) enum Fetch<'r> {
    /// Fetched from CDMS inside the transaction (the public [`apply_records`]).
    Inside,
    /// Fetched before the transaction ([`References::fetch`]); nothing is fetched inside it.
    Ahead(&'r References),
}

struct Applier<'r> {
    remote: &'r CdmsRemote,
    fetch: Fetch<'r>,
    /// A record that cannot be applied fails the call (single-record reads and writes) instead
    /// of being skipped and reported (lists, loads, polls).
    strict: bool,
    /// Records being applied and not stored yet, by table.
    pending: HashSet<(&'static str, Uuid)>,
    fixups: Vec<Fixup>,
    /// Rows to record a `remote refresh` version of, once the fixups are done.
    versions: Vec<(&'static EntityMeta, Row)>,
    /// The stored rows being refreshed, as they were, by table and primary key (what their
    /// versions record as prior values).
    befores: Befores,
    /// PostgreSQL, a transaction that has not written yet: batches run without a savepoint, and
    /// a refused one asks for the whole call to be applied again under savepoints
    /// ([`Applier::refused`]).
    bare: bool,
    /// A batch was refused in `bare` mode: the transaction is aborted and must be restarted.
    refused: bool,
    stats: ApplyStats,
    /// The entity and condition whose written rows are collected in `watched`.
    watch: Option<Watch<'r>>,
    /// The rows of the watched entity written so far, as written, with whether each satisfies
    /// the condition; `None` once one of them changed after it was written.
    watched: Option<Vec<(Row, bool)>>,
    /// Records of the call believed missing locally: when every record of the call is, they
    /// are inserted without reading their rows first (see [`apply_page`]). Taken by the first
    /// batch.
    absent: Option<&'r HashSet<Uuid>>,
}

/// An entity whose written rows an apply collects, and the condition evaluated on each.
#[derive(Clone, Copy)]
struct Watch<'e> {
    meta: &'static EntityMeta,
    expr: &'e Expr,
}

/// Applies CDMS `records` of `meta`'s entity to the local store inside `tx`, in a constant number
/// of SQL statements per call (whatever the number of records):
///
/// - each record is decoded already ([`crate::cdms::codec::decode`]; see [`apply_json`] for raw
///   pages); duplicates keep the newest;
/// - the local rows with those CDMS ids are read in one statement; a record whose `ModifiedOn`
///   equals the row's is left alone unless its mapped values differ (an edit within the same
///   second: refreshed, [`ApplyStats::same_second`]); one whose row is newer is left alone and
///   reported in [`ApplyStats::local_newer`]; the others are refreshed or created;
/// - lookups (CDMS GUIDs) become local foreign keys through the target's CDMS id column (one
///   statement per target entity); a target missing locally is fetched from CDMS first (by id,
///   15 per request), recursively up to [`super::SyncConfig::reference_depth`] levels, inside
///   `tx` (see [`apply_prefetched`] to fetch them before the transaction instead); cycles
///   (records referring to each other, also within `records`) are stored with the lookup null
///   first and completed once every record is stored;
/// - one batched upsert keyed on the CDMS id column writes every new or changed row (mapped
///   fields only: local-only fields of existing rows keep their values; new rows get nulls or
///   zero values there);
/// - one `remote refresh` history version per row that changed, with the actor of `tx`'s handle
///   (on PostgreSQL in the upsert's own statement, `WITH written AS (INSERT …) INSERT INTO
///   history …`, unless a cycle still has to set a lookup of the entity).
///
/// **One bad record never blocks the others**: a record that cannot be applied (a reference
/// that cannot be resolved, a value the database refuses, a local row newer than CDMS) is
/// skipped and reported in [`ApplyStats::rejected`]; every other record is applied. A refused
/// batch is retried row by row. On PostgreSQL, where a refused statement aborts the
/// transaction, the retries run under savepoints; when `tx` has only read so far, the batches
/// run without one, and a refused batch rolls `tx` back and begins it again (its row locks are
/// released; nothing it wrote is lost, as it wrote nothing) before the records are applied
/// again under savepoints.
///
/// Nothing is committed: the caller owns `tx`. Used by every read of a [`CdmsRemote`], and meant
/// for bulk loads and pollers (pages of 50, thousands of rows).
pub async fn apply_records(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    records: Vec<RemoteRecord>,
) -> Result<ApplyStats> {
    apply_with(remote, tx, meta, records, false, Fetch::Inside).await
}

/// [`apply_records`] with the missing referenced records fetched before `tx` began
/// ([`References::fetch`] on the same records): no CDMS request is made while `tx` holds its
/// locks. A target that was found locally then and is gone now is not fetched: the records
/// referring to it are rejected, and the next refresh of them fetches it. Every read of a
/// [`CdmsRemote`], the bulk load, the backfill and the poller apply this way.
pub async fn apply_prefetched(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    records: Vec<RemoteRecord>,
    references: &References,
) -> Result<ApplyStats> {
    apply_with(remote, tx, meta, records, false, Fetch::Ahead(references)).await
}

/// [`apply_prefetched`] for a page of a list read:
///
/// - with `watch`, it also returns every row of `meta` it wrote, as written (primary key
///   filled in), with whether it satisfies `watch` after the write: what the read's answer
///   needs to be brought up to date without reading it again. `None` in place of the rows when
///   the apply changed rows of `meta` after writing them (a cycle's lookup set afterwards), so
///   that the written state is not known here;
/// - `absent` are the records believed missing locally (looked up before the transaction, or
///   missing from a local answer that holds every row they could be). When every record is,
///   their rows are not read inside the transaction: they are inserted where their CDMS id is
///   still new, and the few another writer stored meanwhile are then applied as usual (rows
///   read and locked, compared, refreshed).
pub(crate) async fn apply_page(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    records: Vec<RemoteRecord>,
    references: &References,
    watch: Option<&Expr>,
    absent: &HashSet<Uuid>,
) -> Result<(ApplyStats, Option<Vec<(Row, bool)>>)> {
    let cdms = cdms_of(meta)?;
    let mode = Mode {
        strict: false,
        fetch: Fetch::Ahead(references),
        watch: watch.map(|expr| Watch { meta, expr }),
        absent: Some(absent),
    };
    run(remote, tx, cdms, records, mode).await
}

/// [`apply_with`] of one record, strictly, with its missing referenced records fetched ahead
/// (a read of one record): also returns the record's row as written, when that is known here
/// (see [`apply_page`]; `None`: read it again). When `absent` (the record has no local row), the
/// row is inserted without being looked for inside the transaction first, as in
/// [`apply_page`].
pub(crate) async fn apply_one(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    record: RemoteRecord,
    references: &References,
    absent: bool,
) -> Result<(ApplyStats, Option<Row>)> {
    let cdms = cdms_of(meta)?;
    let id = record.id;
    let absent: HashSet<Uuid> = if absent {
        HashSet::from([id])
    } else {
        HashSet::new()
    };
    let every = Expr::All;
    let mode = Mode {
        strict: true,
        fetch: Fetch::Ahead(references),
        watch: Some(Watch { meta, expr: &every }),
        absent: Some(&absent),
    };
    let (stats, written) = run(remote, tx, cdms, vec![record], mode).await?;
    let mut row = None;
    for (candidate, _) in written.into_iter().flatten() {
        if id_of(cdms, &candidate)? == Some(id) {
            row = Some(candidate);
        }
    }
    Ok((stats, row))
}

/// [`apply_records`] and [`apply_prefetched`]: `fetch` says where missing referenced records
/// come from; when `strict`, a record that cannot be applied is the call's error instead of
/// being skipped and reported (a `get`).
pub(crate) async fn apply_with(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    records: Vec<RemoteRecord>,
    strict: bool,
    fetch: Fetch<'_>,
) -> Result<ApplyStats> {
    let cdms = cdms_of(meta)?;
    let mode = Mode {
        strict,
        fetch,
        watch: None,
        absent: None,
    };
    Ok(run(remote, tx, cdms, records, mode).await?.0)
}

/// How an apply runs: whether strictly (see [`apply_with`]), where missing referenced records
/// come from, which entity's written rows it collects and which records are believed missing
/// locally (see [`apply_page`]).
#[derive(Clone, Copy)]
struct Mode<'r> {
    strict: bool,
    fetch: Fetch<'r>,
    watch: Option<Watch<'r>>,
    /// Records believed missing locally (see [`apply_page`]).
    absent: Option<&'r HashSet<Uuid>>,
}

/// [`apply_with`] and [`apply_page`].
async fn run(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    records: Vec<RemoteRecord>,
    mode: Mode<'_>,
) -> Result<(ApplyStats, Option<Vec<(Row, bool)>>)> {
    let meta = cdms.entity;
    let strict = mode.strict;
    // On PostgreSQL a refused statement aborts the transaction, so a batch that may be refused
    // runs under a savepoint. A transaction that has only read so far loses nothing by being
    // restarted, so there the batches run bare (two statements fewer per batch), and in the
    // rare case one is refused the call is applied again from the start under savepoints.
    let bare = !strict && tx.backend() == Backend::Postgres && !tx.has_written();
    let again = bare.then(|| records.clone());
    match apply_once(remote, tx, cdms, records, mode, bare).await? {
        Once::Done(done) => Ok(done),
        Once::Refused(error) => {
            let Some(records) = again else {
                return Err(error);
            };
            tracing::debug!(entity = meta.name, error = %error, "a batch was refused; applying the records again, each batch under a savepoint");
            tx.restart().await?;
            match apply_once(remote, tx, cdms, records, mode, false).await? {
                Once::Done(done) => Ok(done),
                Once::Refused(error) => Err(error),
            }
        }
    }
}

/// The outcome of one attempt at applying a call's records.
enum Once {
    /// The stats, and the watched rows (see [`apply_page`]).
    Done((ApplyStats, Option<Vec<(Row, bool)>>)),
    /// A batch was refused without a savepoint: the transaction is aborted.
    Refused(Error),
}

async fn apply_once(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    records: Vec<RemoteRecord>,
    mode: Mode<'_>,
    bare: bool,
) -> Result<Once> {
    let Mode {
        strict,
        fetch,
        watch,
        absent,
    } = mode;
    let mut stats = ApplyStats::default();
    if let Fetch::Ahead(references) = fetch {
        // Fetched for this call: counted, and the ones that cannot be decoded reported, here.
        stats.requests = references.requests();
        stats.rejected.extend(references.rejected().iter().cloned());
    }
    let mut applier = Applier {
        remote,
        fetch,
        strict,
        pending: HashSet::new(),
        fixups: Vec::new(),
        versions: Vec::new(),
        befores: HashMap::new(),
        bare,
        refused: false,
        stats,
        watch,
        watched: Some(Vec::new()),
        absent,
    };
    let keys = match applier.apply(tx, cdms, records, 0).await {
        Ok(keys) => keys,
        Err(error) if applier.refused => return Ok(Once::Refused(error)),
        Err(error) => return Err(error),
    };
    applier.finish(tx).await?;
    let mut stats = applier.stats;
    stats.keys.extend(keys);
    let watched = applier.watched.filter(|_| watch.is_some());
    Ok(Once::Done((stats, watched)))
}

/// [`apply_records`] for raw CDMS JSON records (a page of a list, or a GET body), decoded with
/// the entity's codec first; records that cannot be decoded are skipped and reported in
/// [`ApplyStats::rejected`] like the others.
pub async fn apply_json(
    remote: &CdmsRemote,
    tx: &mut Tx,
    meta: &'static EntityMeta,
    records: &[J],
) -> Result<ApplyStats> {
    let cdms = cdms_of(meta)?;
    let (decoded, rejected) = decode_json_page(cdms, records);
    let mut stats = apply_records(remote, tx, meta, decoded).await?;
    stats.rejected.extend(rejected);
    Ok(stats)
}

/// Maps the lookup fields of one row (holding CDMS ids, as [`put_record`] leaves them) to local
/// keys, taking missing targets from `fetch` like [`apply_with`] does.
pub(crate) async fn resolve_row(
    remote: &CdmsRemote,
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    row: &mut Row,
    fetch: Fetch<'_>,
) -> Result<()> {
    let mut applier = Applier {
        remote,
        fetch,
        strict: true,
        pending: HashSet::new(),
        fixups: Vec::new(),
        versions: Vec::new(),
        befores: HashMap::new(),
        bare: false,
        refused: false,
        stats: ApplyStats::default(),
        watch: None,
        watched: None,
        absent: None,
    };
    let mut todo = vec![(std::mem::take(row), false)];
    let resolved = applier.resolve(tx, cdms, &mut todo, 0).await;
    if let Some((r, _)) = todo.pop() {
        *row = r;
    }
    resolved?;
    applier.finish(tx).await
}

/// Whether applying `records` would change anything locally: a record with no local row, a
/// different `ModifiedOn`, or the same one with different values. Read-only and without locks,
/// so a page already in sync needs no write transaction at all.
pub(crate) async fn would_change(
    db: &crate::store::Db,
    cdms: &'static CdmsMeta,
    records: &[RemoteRecord],
) -> Result<bool> {
    Ok(would_change_given(db, cdms, records, &[]).await?.changed)
}

/// What [`would_change_given`] found.
pub(crate) struct PageCheck {
    /// Whether applying the records would change anything locally.
    pub changed: bool,
    /// The records with no local row (when any has none, the others are not compared).
    pub absent: HashSet<Uuid>,
}

/// [`would_change`] given local rows read already (any rows of the entity, e.g. the local
/// answer to a read): only the records none of them holds are looked up.
pub(crate) async fn would_change_given(
    db: &crate::store::Db,
    cdms: &'static CdmsMeta,
    records: &[RemoteRecord],
    known: &[Row],
) -> Result<PageCheck> {
    let mut check = PageCheck {
        changed: false,
        absent: HashSet::new(),
    };
    if records.is_empty() {
        return Ok(check);
    }
    let meta = cdms.entity;
    let mut by_id: HashMap<Uuid, &Row> = HashMap::with_capacity(known.len());
    for row in known {
        if let Some(id) = id_of(cdms, row)? {
            by_id.insert(id, row);
        }
    }
    let missing: Vec<Uuid> = records
        .iter()
        .map(|r| r.id)
        .filter(|id| !by_id.contains_key(id))
        .collect();
    let read = if missing.is_empty() {
        Vec::new()
    } else {
        rows::select(db, meta, &id_in(cdms, missing)).await?
    };
    for row in &read {
        if let Some(id) = id_of(cdms, row)? {
            by_id.insert(id, row);
        }
    }
    check.absent = records
        .iter()
        .map(|r| r.id)
        .filter(|id| !by_id.contains_key(id))
        .collect();
    if !check.absent.is_empty() {
        check.changed = true;
        return Ok(check);
    }
    let mut same = Vec::new();
    for record in records {
        let Some(&row) = by_id.get(&record.id) else {
            check.changed = true;
            return Ok(check);
        };
        if modified_of(meta, row) != Some(crate::store::truncate_micros(record.modified)) {
            check.changed = true;
            return Ok(check);
        }
        let mut fresh = row.clone();
        put_record(cdms, record, &mut fresh);
        same.push((row.clone(), fresh));
    }
    let changed = same_second_changes(Conn::Db(db), cdms, same).await?;
    check.changed = !changed.rows.is_empty();
    Ok(check)
}

pub(super) fn newest_by_id(records: Vec<RemoteRecord>) -> Vec<RemoteRecord> {
    let mut index: HashMap<Uuid, usize> = HashMap::with_capacity(records.len());
    let mut out: Vec<RemoteRecord> = Vec::with_capacity(records.len());
    for r in records {
        match index.get(&r.id) {
            Some(&i) if out[i].modified > r.modified => {}
            Some(&i) => out[i] = r,
            None => {
                index.insert(r.id, out.len());
                out.push(r);
            }
        }
    }
    out
}

fn id_in(cdms: &CdmsMeta, ids: impl IntoIterator<Item = Uuid>) -> ReadSpec {
    let ids: Vec<Value> = ids.into_iter().map(Value::Uuid).collect();
    let spec = ReadSpec::filtered(
        cdms.entity,
        Expr::Cond(Cond {
            field: cdms.id_field,
            lookup: Lookup::In(ids),
        }),
    );
    ReadSpec {
        order: vec![OrderKey::asc(cdms.id_field)],
        ..spec
    }
}

fn uuid_of(v: &Value) -> Option<Uuid> {
    match v {
        Value::Uuid(u) => Some(*u),
        _ => None,
    }
}

/// Stored rows as they were before a refresh, by table and primary key.
type Befores = HashMap<(&'static str, i64), Row>;

/// The row `befores` holds for the stored row `row` refreshes (`None`: `row` is new).
fn before_of<'b>(befores: &'b Befores, meta: &'static EntityMeta, row: &Row) -> Option<&'b Row> {
    befores.get(&(meta.table, pk_of(meta, row)))
}

/// The upsert of `batch` (primary keys filled in), with a `remote refresh` version of each row
/// in the same statement when `versioned` (PostgreSQL), as `plan` says. Per row of `batch`:
/// `None` where the row was left alone (`plan.insert_only`, its key stored meanwhile),
/// otherwise whether it satisfies `plan.matches` (`false` without).
async fn write_batch(
    tx: &mut Tx,
    cdms: &'static CdmsMeta,
    fields: &[usize],
    batch: &mut [Row],
    versioned: Option<&Befores>,
    plan: UpsertPlan<'_>,
) -> Result<Vec<Option<bool>>> {
    let meta = cdms.entity;
    let before: Option<Vec<Option<&Row>>> = versioned.map(|befores| {
        batch
            .iter()
            .map(|row| before_of(befores, meta, row))
            .collect()
    });
    let versions = before
        .as_deref()
        .map(|before| (VersionKind::RemoteRefresh, before));
    let done = rows::upsert_planned(tx, meta, cdms.id_field, fields, batch, versions, plan).await?;
    Ok(done
        .0
        .into_iter()
        .map(|written| written.map(|(_, matched)| matched))
        .collect())
}

/// Rows with their newness and what [`write_batch`] said of each.
fn zip_written(
    batch: Vec<Row>,
    new: Vec<bool>,
    written: Vec<Option<bool>>,
) -> Vec<(Row, bool, Option<bool>)> {
    let mut written = written.into_iter();
    batch
        .into_iter()
        .zip(new)
        .map(|(row, is_new)| (row, is_new, written.next().flatten()))
        .collect()
}

/// Runs one plain statement inside `tx` (savepoints).
async fn plain(tx: &mut Tx, entity: &'static str, text: &str) -> Result<()> {
    Conn::Tx(tx).execute_plain(text, entity, "savepoint").await
}

impl<'r> Applier<'r> {
    /// A record that cannot be applied: the call's error when strict, otherwise skipped and
    /// reported.
    fn reject(&mut self, rejected: Rejected, error: Error) -> Result<()> {
        if self.strict {
            return Err(error);
        }
        self.stats.rejected.push(rejected);
        Ok(())
    }

    fn apply<'a>(
        &'a mut self,
        tx: &'a mut Tx,
        cdms: &'static CdmsMeta,
        records: Vec<RemoteRecord>,
        depth: usize,
    ) -> BoxFuture<'a, Result<HashMap<Uuid, i64>>> {
        async move {
            let meta = cdms.entity;
            let records = newest_by_id(records);
            let mut keys = HashMap::with_capacity(records.len());
            if records.is_empty() {
                return Ok(keys);
            }
            // Records all believed missing locally are inserted without a look at their rows;
            // the ones stored meanwhile come back to be applied as usual.
            let insert_only = depth == 0
                && self
                    .absent
                    .take()
                    .is_some_and(|absent| records.iter().all(|r| absent.contains(&r.id)));
            // The local rows of these records, in one statement, locked in id order (PostgreSQL:
            // a concurrent refresh of the same rows waits, then sees this one's result).
            let existing = if insert_only {
                Vec::new()
            } else {
                rows::select_for_update(tx, meta, &id_in(cdms, records.iter().map(|r| r.id)))
                    .await?
            };
            let mut by_id: HashMap<Uuid, Row> = HashMap::with_capacity(existing.len());
            for row in existing {
                if let Some(id) = id_of(cdms, &row)? {
                    by_id.insert(id, row);
                }
            }
            let mut todo: Vec<(Row, bool)> = Vec::new();
            // Records whose `ModifiedOn` equals their row's: compared by value below.
            let mut same: Vec<(Row, Row)> = Vec::new();
            for record in &records {
                let current = by_id.remove(&record.id);
                if let Some(row) = &current {
                    let pk = pk_of(meta, row);
                    keys.insert(record.id, pk);
                    match modified_of(meta, row) {
                        Some(local) if local == crate::store::truncate_micros(record.modified) => {
                            let mut fresh = row.clone();
                            put_record(cdms, record, &mut fresh);
                            same.push((row.clone(), fresh));
                            continue;
                        }
                        Some(local) if local > record.modified => {
                            let newer = LocalNewer {
                                entity: meta.name,
                                pk,
                                cdms_id: record.id,
                                local,
                                cdms: record.modified,
                            };
                            let error: Error = newer.error().into();
                            self.stats.local_newer.push(newer);
                            let rejected =
                                Rejected::other(cdms.set, record.id, Some(pk), error.to_string());
                            self.reject(rejected, error)?;
                            continue;
                        }
                        _ => {}
                    }
                }
                let is_new = current.is_none();
                if let Some(row) = &current {
                    self.befores
                        .insert((meta.table, pk_of(meta, row)), row.clone());
                }
                let mut row = current.unwrap_or_else(|| default_row(meta));
                put_record(cdms, record, &mut row);
                if is_new {
                    self.pending.insert((meta.table, record.id));
                }
                todo.push((row, is_new));
            }
            if !same.is_empty() {
                let changed = same_second_changes(Conn::Tx(tx), cdms, same).await?;
                self.stats.unchanged += changed.unchanged;
                self.stats.same_second += changed.rows.len();
                for (stored, fresh) in changed.rows {
                    self.befores
                        .insert((meta.table, pk_of(meta, &stored)), stored);
                    todo.push((fresh, false));
                }
            }
            if todo.is_empty() {
                return Ok(keys);
            }
            // Rows are written in id order, as they are locked: concurrent refreshes of
            // overlapping records wait for each other instead of deadlocking.
            todo.sort_by_key(|(row, _)| row.get(cdms.id_field).and_then(uuid_of));
            let result = self.resolve(tx, cdms, &mut todo, depth).await;
            // The new records are stored (or rejected) once the upsert has run.
            let new: Vec<Uuid> = todo
                .iter()
                .filter(|(_, is_new)| *is_new)
                .filter_map(|(row, _)| id_of(cdms, row).ok().flatten())
                .collect();
            let result = match result {
                Ok(()) => self.upsert(tx, cdms, todo, insert_only).await,
                Err(e) => Err(e),
            };
            for id in new {
                self.pending.remove(&(meta.table, id));
            }
            let (stored, skipped) = result?;
            for (id, pk, is_new) in stored {
                if is_new {
                    self.stats.inserted += 1;
                } else {
                    self.stats.updated += 1;
                }
                if let Some(id) = id {
                    keys.insert(id, pk);
                }
            }
            if !skipped.is_empty() {
                tracing::debug!(
                    entity = meta.name,
                    records = skipped.len(),
                    "records believed new were stored meanwhile; applying them as usual"
                );
                let again: Vec<RemoteRecord> = records
                    .into_iter()
                    .filter(|r| skipped.contains(&r.id))
                    .collect();
                keys.extend(self.apply(tx, cdms, again, depth).await?);
            }
            Ok(keys)
        }
        .boxed()
    }

    /// Writes `todo` in one batched upsert, with the rows' versions in the same statement on
    /// PostgreSQL (unless a cycle is still to set a lookup of this entity; then, as on SQLite,
    /// the versions are recorded by [`Applier::finish`]). A batch the database refuses is
    /// retried row by row (under savepoints on PostgreSQL, where a failed statement aborts the
    /// transaction; in bare mode the whole call is applied again instead, see
    /// [`apply_records`]), and the refused rows are rejected. Returns the CDMS id, primary key
    /// and newness of each stored row; with `insert_only` (every row new), rows whose CDMS id
    /// another writer stored meanwhile are left alone and their CDMS ids returned beside.
    async fn upsert(
        &mut self,
        tx: &mut Tx,
        cdms: &'static CdmsMeta,
        todo: Vec<(Row, bool)>,
        insert_only: bool,
    ) -> Result<(Vec<(Option<Uuid>, i64, bool)>, Vec<Uuid>)> {
        let meta = cdms.entity;
        let fields = refresh_fields(cdms);
        let pg = tx.backend() == Backend::Postgres;
        let versioned = pg && !self.fixups.iter().any(|f| std::ptr::eq(f.meta, meta));
        let plan = UpsertPlan {
            matches: self.watching(meta),
            insert_only,
        };
        let (mut batch, new): (Vec<Row>, Vec<bool>) = todo.into_iter().unzip();
        let stored: Vec<(Row, bool, Option<bool>)> = if self.strict || self.bare {
            let befores = versioned.then_some(&self.befores);
            let written = match write_batch(tx, cdms, &fields, &mut batch, befores, plan).await {
                Ok(written) => written,
                Err(e) => {
                    self.refused = self.bare && !self.strict;
                    return Err(e);
                }
            };
            zip_written(batch, new, written)
        } else {
            let todo = batch.into_iter().zip(new).collect();
            self.isolated(tx, cdms, &fields, todo, versioned, plan)
                .await?
        };
        let mut out = Vec::with_capacity(stored.len());
        let mut skipped = Vec::new();
        for (row, is_new, written) in stored {
            let Some(matched) = written else {
                skipped.extend(id_of(cdms, &row)?);
                continue;
            };
            out.push((id_of(cdms, &row)?, pk_of(meta, &row), is_new));
            if plan.matches.is_some() {
                if let Some(watched) = &mut self.watched {
                    watched.push((row.clone(), matched));
                }
            }
            if !versioned {
                self.versions.push((meta, row));
            }
        }
        Ok((out, skipped))
    }

    /// The condition to evaluate on written rows of `meta`, when they are watched.
    fn watching(&self, meta: &'static EntityMeta) -> Option<&'r Expr> {
        self.watch
            .filter(|w| std::ptr::eq(w.meta, meta))
            .map(|w| w.expr)
    }

    /// [`Applier::upsert`] of a batch (rows, and whether each is new) under a savepoint on
    /// PostgreSQL, then row by row when the batch is refused.
    async fn isolated(
        &mut self,
        tx: &mut Tx,
        cdms: &'static CdmsMeta,
        fields: &[usize],
        todo: Vec<(Row, bool)>,
        versioned: bool,
        plan: UpsertPlan<'_>,
    ) -> Result<Vec<(Row, bool, Option<bool>)>> {
        let meta = cdms.entity;
        let (mut batch, new): (Vec<Row>, Vec<bool>) = todo.into_iter().unzip();
        let pg = tx.backend() == Backend::Postgres;
        if pg {
            plain(tx, meta.name, "SAVEPOINT cdms_apply_batch").await?;
        }
        match write_batch(
            tx,
            cdms,
            fields,
            &mut batch,
            versioned.then_some(&self.befores),
            plan,
        )
        .await
        {
            Ok(written) => {
                if pg {
                    plain(tx, meta.name, "RELEASE SAVEPOINT cdms_apply_batch").await?;
                }
                return Ok(zip_written(batch, new, written));
            }
            Err(e) => {
                tracing::debug!(entity = meta.name, error = %e, "a batch was refused; applying its rows one by one");
                if pg {
                    plain(tx, meta.name, "ROLLBACK TO SAVEPOINT cdms_apply_batch").await?;
                    plain(tx, meta.name, "RELEASE SAVEPOINT cdms_apply_batch").await?;
                }
            }
        }
        let mut stored = Vec::with_capacity(batch.len());
        for (mut row, is_new) in batch.into_iter().zip(new) {
            if pg {
                plain(tx, meta.name, "SAVEPOINT cdms_apply_row").await?;
            }
            match write_batch(
                tx,
                cdms,
                fields,
                std::slice::from_mut(&mut row),
                versioned.then_some(&self.befores),
                plan,
            )
            .await
            {
                Ok(written) => {
                    if pg {
                        plain(tx, meta.name, "RELEASE SAVEPOINT cdms_apply_row").await?;
                    }
                    stored.push((row, is_new, written.first().copied().flatten()));
                }
                Err(e) => {
                    if pg {
                        plain(tx, meta.name, "ROLLBACK TO SAVEPOINT cdms_apply_row").await?;
                        plain(tx, meta.name, "RELEASE SAVEPOINT cdms_apply_row").await?;
                    }
                    let id = id_of(cdms, &row)?.unwrap_or_else(Uuid::nil);
                    let pk = Some(pk_of(meta, &row)).filter(|&p| p != 0);
                    let reason = format!("the local database refused the row: {e}");
                    self.reject(Rejected::other(cdms.set, id, pk, reason), e)?;
                }
            }
        }
        Ok(stored)
    }

    /// Maps the lookup fields of `todo` (CDMS ids) to local keys, fetching missing targets.
    /// Rows whose references cannot be resolved are rejected and removed from `todo`.
    async fn resolve(
        &mut self,
        tx: &mut Tx,
        cdms: &'static CdmsMeta,
        todo: &mut Vec<(Row, bool)>,
        depth: usize,
    ) -> Result<()> {
        let meta = cdms.entity;
        // Lookup fields, grouped by target entity.
        let mut by_target: Vec<(&'static EntityMeta, Vec<usize>)> = Vec::new();
        for f in cdms.fields {
            let Some(target) = reference_target(meta, f.field) else {
                continue;
            };
            match by_target.iter_mut().find(|(t, _)| std::ptr::eq(*t, target)) {
                Some((_, fields)) => fields.push(f.field),
                None => by_target.push((target, vec![f.field])),
            }
        }
        for (target, fields) in by_target {
            let target_cdms = cdms_of(target)?;
            let mut wanted: Vec<Uuid> = Vec::new();
            let mut seen: HashSet<Uuid> = HashSet::new();
            for (row, _) in todo.iter() {
                for &f in &fields {
                    if let Some(Value::Uuid(u)) = row.get(f) {
                        if seen.insert(*u) {
                            wanted.push(*u);
                        }
                    }
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let values: Vec<Value> = wanted.iter().map(|&u| Value::Uuid(u)).collect();
            let mut found: HashMap<Uuid, i64> = HashMap::with_capacity(wanted.len());
            for (v, pk) in rows::find_pks(&mut *tx, target, target_cdms.id_field, &values).await? {
                if let Value::Uuid(u) = v {
                    found.insert(u, pk);
                }
            }
            let missing: Vec<Uuid> = wanted
                .iter()
                .copied()
                .filter(|u| !found.contains_key(u) && !self.pending.contains(&(target.table, *u)))
                .collect();
            // Why a missing target could not be stored, by its id.
            let mut unresolved: HashMap<Uuid, String> = HashMap::new();
            if !missing.is_empty() {
                let bound = self.remote.config().reference_depth_bound();
                if depth >= bound {
                    let reason = format!(
                        "it is missing locally and fetching it would go deeper than the reference \
                         depth bound ({bound})"
                    );
                    unresolved.extend(missing.iter().map(|&u| (u, reason.clone())));
                } else if let Fetch::Ahead(references) = self.fetch {
                    let fetched: Vec<RemoteRecord> = missing
                        .iter()
                        .filter_map(|&u| references.record(target, u).cloned())
                        .collect();
                    self.stats.fetched_references += fetched.len();
                    for &u in &missing {
                        if fetched.iter().any(|r| r.id == u) {
                            continue;
                        }
                        let reason = references.unresolved(target, u).map_or_else(
                            || {
                                "it is missing locally: it was removed while the records \
                                 referring to it were applied"
                                    .to_owned()
                            },
                            str::to_owned,
                        );
                        unresolved.insert(u, reason);
                    }
                    let keys = self.apply(tx, target_cdms, fetched, depth + 1).await?;
                    found.extend(keys);
                } else {
                    let (fetched, bad) =
                        fetch_by_ids(self.remote.client(), target_cdms, &missing).await?;
                    self.stats.requests += missing.len().div_ceil(super::refs::IDS_PER_REQUEST);
                    self.stats.fetched_references += fetched.len();
                    for b in bad {
                        if let Some(id) = b.cdms_id {
                            unresolved.insert(
                                id,
                                format!("the referenced record cannot be applied: {}", b.reason),
                            );
                        }
                        self.stats.rejected.push(b);
                    }
                    for u in &missing {
                        if !fetched.iter().any(|r| r.id == *u) && !unresolved.contains_key(u) {
                            unresolved
                                .insert(*u, "CDMS has no such record (a dangling lookup)".into());
                        }
                    }
                    let keys = self.apply(tx, target_cdms, fetched, depth + 1).await?;
                    found.extend(keys);
                }
            }
            let mut kept = Vec::with_capacity(todo.len());
            for (mut row, is_new) in std::mem::take(todo) {
                let holder = id_of(cdms, &row)?;
                let mut failure: Option<(usize, Uuid, String)> = None;
                for &f in &fields {
                    let Some(Value::Uuid(target_id)) = row.get(f).cloned() else {
                        continue;
                    };
                    if let Some(&pk) = found.get(&target_id) {
                        row[f] = Value::Int(pk);
                        continue;
                    }
                    let pending = self.pending.contains(&(target.table, target_id));
                    let nullable = meta.fields.get(f).is_some_and(|m| m.nullable);
                    match (pending, holder.filter(|_| nullable)) {
                        // A cycle: the target is being applied and not stored yet.
                        (true, Some(holder)) => {
                            row[f] = Value::Null;
                            self.fixups.push(Fixup {
                                meta,
                                holder,
                                field: f,
                                target,
                                target_id,
                            });
                        }
                        (true, None) => {
                            failure = Some((
                                f,
                                target_id,
                                "the records refer to each other through a non-optional \
                                 reference, so neither can be stored first"
                                    .to_owned(),
                            ));
                            break;
                        }
                        (false, _) => {
                            let reason = unresolved.get(&target_id).cloned().unwrap_or_else(|| {
                                "the referenced record could not be stored".to_owned()
                            });
                            failure = Some((f, target_id, reason));
                            break;
                        }
                    }
                }
                match failure {
                    None => kept.push((row, is_new)),
                    Some((f, target_id, reason)) => {
                        if is_new {
                            if let Some(id) = holder {
                                self.pending.remove(&(meta.table, id));
                            }
                        }
                        let error: Error = SyncError::UnresolvedReference {
                            entity: meta.name,
                            field: field_name(meta, f),
                            target: target.name,
                            id: target_id,
                            reason,
                        }
                        .into();
                        let rejected = Rejected {
                            set: cdms.set,
                            cdms_id: holder,
                            pk: Some(pk_of(meta, &row)).filter(|&p| p != 0),
                            property: cdms.by_field(f).map(|m| m.property.to_owned()),
                            reason: error.to_string(),
                            value: Some(target_id.hyphenated().to_string()),
                        };
                        self.reject(rejected, error)?;
                    }
                }
            }
            *todo = kept;
        }
        Ok(())
    }

    /// Completes the cycles and records the versions.
    async fn finish(&mut self, tx: &mut Tx) -> Result<()> {
        for fix in std::mem::take(&mut self.fixups) {
            let target_cdms = cdms_of(fix.target)?;
            let holder_cdms = cdms_of(fix.meta)?;
            let target_pk = rows::find_pk(
                &mut *tx,
                fix.target,
                target_cdms.id_field,
                &Value::Uuid(fix.target_id),
            )
            .await?;
            let holder_pk = rows::find_pk(
                &mut *tx,
                fix.meta,
                holder_cdms.id_field,
                &Value::Uuid(fix.holder),
            )
            .await?;
            let (Some(target_pk), Some(holder_pk)) = (target_pk, holder_pk) else {
                let error: Error = SyncError::UnresolvedReference {
                    entity: fix.meta.name,
                    field: field_name(fix.meta, fix.field),
                    target: fix.target.name,
                    id: fix.target_id,
                    reason: "the referenced record was not stored".to_owned(),
                }
                .into();
                let rejected = Rejected {
                    set: holder_cdms.set,
                    cdms_id: Some(fix.holder),
                    pk: holder_pk,
                    property: holder_cdms
                        .by_field(fix.field)
                        .map(|m| m.property.to_owned()),
                    reason: format!("{error}; the lookup was left empty"),
                    value: Some(fix.target_id.hyphenated().to_string()),
                };
                self.reject(rejected, error)?;
                continue;
            };
            rows::update_many(
                &mut *tx,
                fix.meta,
                &[(fix.field, Value::Int(target_pk))],
                &[holder_pk],
            )
            .await?;
            if self.watching(fix.meta).is_some() {
                // Changed after it was written: its state after the write no longer tells.
                self.watched = None;
            }
            for (meta, row) in self.versions.iter_mut() {
                if std::ptr::eq(*meta, fix.meta) && pk_of(meta, row) == holder_pk {
                    row[fix.field] = Value::Int(target_pk);
                }
            }
        }
        // One statement per entity (in the order entities were first stored).
        let versions = std::mem::take(&mut self.versions);
        let mut groups: Vec<(&'static EntityMeta, Vec<Row>)> = Vec::new();
        for (meta, row) in versions {
            match groups.iter_mut().find(|(m, _)| std::ptr::eq(*m, meta)) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((meta, vec![row])),
            }
        }
        for (meta, rows) in groups {
            let befores = &self.befores;
            let changes = rows.iter().map(|row| (row, before_of(befores, meta, row)));
            history::record_many(tx, meta, VersionKind::RemoteRefresh, changes).await?;
        }
        Ok(())
    }
}

/// The outcome of comparing records with equal `ModifiedOn` to their rows.
pub(super) struct SameSecond {
    /// The rows whose record differs: `(stored, stored with the record's values put in
    /// (lookups as CDMS ids))`.
    pub(super) rows: Vec<(Row, Row)>,
    /// How many were equal.
    pub(super) unchanged: usize,
}

/// Compares rows with the records of the same `ModifiedOn` (`(stored, stored with the record
/// put in)` pairs). `ModifiedOn` has whole seconds, so an edit within the second of the last
/// sync carries the same stamp: the values decide. Lookups are compared as CDMS ids (one
/// statement per referenced entity that the rows point to).
pub(super) async fn same_second_changes(
    mut conn: Conn<'_>,
    cdms: &'static CdmsMeta,
    pairs: Vec<(Row, Row)>,
) -> Result<SameSecond> {
    let meta = cdms.entity;
    let lookups: Vec<(usize, &'static EntityMeta)> = cdms
        .fields
        .iter()
        .filter_map(|f| reference_target(meta, f.field).map(|t| (f.field, t)))
        .collect();
    // The CDMS ids of the referenced local rows, per target table.
    let mut ids: HashMap<&'static str, HashMap<i64, Option<Uuid>>> = HashMap::new();
    for &(field, target) in &lookups {
        let pks: Vec<i64> = pairs
            .iter()
            .filter_map(|(stored, _)| match stored.get(field) {
                Some(Value::Int(pk)) => Some(*pk),
                _ => None,
            })
            .filter(|pk| !ids.get(target.table).is_some_and(|m| m.contains_key(pk)))
            .collect();
        if pks.is_empty() {
            continue;
        }
        let found = super::refs::cdms_ids(conn.reborrow(), target, &pks).await?;
        ids.entry(target.table).or_default().extend(found);
    }
    let mut out = SameSecond {
        rows: Vec::new(),
        unchanged: 0,
    };
    for (stored, fresh) in pairs {
        let differs = cdms.fields.iter().any(|f| {
            let i = f.field;
            let (Some(old), Some(new)) = (stored.get(i), fresh.get(i)) else {
                return false;
            };
            match lookups.iter().find(|(field, _)| *field == i) {
                Some((_, target)) => {
                    let old_id = match old {
                        Value::Int(pk) => ids
                            .get(target.table)
                            .and_then(|m| m.get(pk))
                            .copied()
                            .flatten(),
                        _ => None,
                    };
                    old_id != uuid_of(new)
                }
                None => old != new,
            }
        });
        if differs {
            out.rows.push((stored, fresh));
        } else {
            out.unchanged += 1;
        }
    }
    Ok(out)
}
