//! The backfill: the properties mapped (or mapped differently) since rows were synced, fetched
//! for those rows only.
//!
//! # How it works
//! - The entity's mapping is recorded first ([`mapping::record`]): a changed mapping starts a
//!   new generation and lists the rows synced before as stale (`cdms_sync_stale`).
//! - The properties to fetch are those added or changed after the oldest generation among the
//!   set's stale rows. The set is paged through like the initial load — `CreatedOn` partitions
//!   planned once, fetched [`LoadOptions::concurrency`] at a time, checkpoints and leases in
//!   `cdms_sync_checkpoint` under the key `<Set>:backfill:<generation>`, so an interrupted
//!   backfill resumes at the first page not committed — but with `$select` of the id,
//!   `ModifiedOn` and those properties only.
//! - Per page, only records whose row is stale are applied. A record whose `ModifiedOn` equals
//!   its row's has its fetched properties put into the row (the rest of the row is already
//!   CDMS's); a record changed in CDMS since the row was synced is fetched whole (by id, 15 per
//!   request) and applied whole, since its other properties are out of date too; a row newer
//!   locally than CDMS is quarantined, like a load does. Each changed row gets a `remote
//!   refresh` history version with the actor `backfill`. A record that cannot be decoded or
//!   applied is quarantined and stays stale; the others go on.
//! - Applying a row clears its stale entry in the same transaction. When every stale row is
//!   settled the set is clean; rows still stale (quarantined, or gone from CDMS) are counted in
//!   [`EntityBackfill::stale_left`], and a later run pages through the set again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::cdms::codec::RemoteRecord;
use crate::cdms::decode::{self, RawRecord};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::{apply_prefetched, stale, References, Rejected};
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup};
use crate::store::{rows, ReadSpec, Tx};
use crate::value::Value;

use super::apply::BatchStats;
use super::load::{LoadOptions, Loader};
use super::mapping::{self, MappingChange};
use super::state;
use super::worker::{Budget, Target};
use super::Bulk;

/// The actor of the history versions a backfill writes.
pub const ACTOR: &str = "backfill";

/// What a backfill did for one entity set.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityBackfill {
    /// The local entity (`Organisation`).
    pub entity: &'static str,
    /// The CDMS set (`AccountSet`).
    pub set: &'static str,
    /// How the mapping compared with its record.
    pub mapping: MappingChange,
    /// The CDMS properties fetched (empty when nothing was stale).
    pub properties: Vec<String>,
    /// Rows stale before this run.
    pub stale_before: u64,
    /// Rows still stale after it (quarantined, gone from CDMS, or the run stopped early).
    pub stale_left: u64,
    /// Records fetched and committed by this process (pages of the whole set).
    pub records: u64,
    /// Rows whose values changed (one history version each).
    pub updated: u64,
    /// Records this process could not apply (quarantined).
    pub quarantined: u64,
    /// Pages fetched and committed by this process.
    pub pages: u64,
    /// Whether every page of the set was applied.
    pub complete: bool,
    /// Time spent on the set.
    pub elapsed: Duration,
}

/// What a backfill did.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillReport {
    /// Per entity set, in the given order (sets not reached are absent).
    pub entities: Vec<EntityBackfill>,
    /// Whether the run stopped early (stop signal or page budget).
    pub stopped: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl BackfillReport {
    /// Rows still stale in all sets.
    pub fn stale_left(&self) -> u64 {
        self.entities.iter().map(|e| e.stale_left).sum()
    }

    /// Rows changed in all sets.
    pub fn updated(&self) -> u64 {
        self.entities.iter().map(|e| e.updated).sum()
    }

    /// Whether every set is complete and clean.
    pub fn complete(&self) -> bool {
        !self.stopped
            && self
                .entities
                .iter()
                .all(|e| e.complete && e.stale_left == 0)
    }
}

/// Runs backfills; see the module docs. Uses [`LoadOptions`] for partitions, concurrency,
/// pages per commit, leases, the page budget and retries.
pub struct Backfiller {
    bulk: Bulk,
    options: LoadOptions,
}

impl Backfiller {
    /// A backfiller with `options`; its history versions carry the actor [`ACTOR`].
    pub fn new(bulk: Bulk, options: LoadOptions) -> Self {
        let mut bulk = bulk;
        bulk.db = bulk.db.as_actor(ACTOR);
        Backfiller { bulk, options }
    }

    /// Backfills `entities` (in the given order: referenced sets first).
    pub async fn run(&self, entities: &[&'static CdmsMeta]) -> Result<BackfillReport> {
        let started = Instant::now();
        state::migrate(&self.bulk.db).await?;
        self.bulk
            .remote
            .quarantine_state()
            .ensure(&self.bulk.db)
            .await?;
        let budget = Arc::new(Budget::new(self.options.max_pages));
        let mut report = BackfillReport {
            entities: Vec::new(),
            stopped: false,
            elapsed: Duration::ZERO,
        };
        for &meta in entities {
            if self.bulk.stop.is_stopped() {
                report.stopped = true;
                break;
            }
            let change = record_mapping(&self.bulk, meta).await?;
            let done = self.entity(meta, change, &budget).await?;
            let complete = done.complete;
            report.entities.push(done);
            if !complete {
                report.stopped = true;
                break;
            }
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    async fn entity(
        &self,
        meta: &'static CdmsMeta,
        change: MappingChange,
        budget: &Arc<Budget>,
    ) -> Result<EntityBackfill> {
        let started = Instant::now();
        let db = &self.bulk.db;
        let (stale_before, oldest) = stale::summary(db, meta.set).await?;
        let mut out = EntityBackfill {
            entity: meta.entity.name,
            set: meta.set,
            mapping: change,
            properties: Vec::new(),
            stale_before,
            stale_left: stale_before,
            records: 0,
            updated: 0,
            quarantined: 0,
            pages: 0,
            complete: true,
            elapsed: Duration::ZERO,
        };
        let Some(oldest) = oldest else {
            self.bulk.remote.stale_state().settled(db, meta.set);
            return Ok(out);
        };
        let properties = mapping::properties_since(db, meta.set, oldest).await?;
        let fields: Vec<usize> = properties
            .iter()
            .filter_map(|p| meta.by_property(p).map(|f| f.field))
            .collect();
        out.properties = properties;
        if fields.is_empty() {
            // Stale for properties no longer mapped: nothing to fetch.
            self.clear_all(meta).await?;
            out.stale_left = 0;
            out.elapsed = started.elapsed();
            return Ok(out);
        }
        let key = format!("{}:backfill:{}", meta.set, out.mapping.generation);
        let target = Arc::new(Target {
            key: key.clone(),
            fields,
        });
        let loader = Loader::new(self.bulk.clone(), self.options.clone());
        let (mut load, mut updated) = loader
            .entity_run(meta, budget, Some(Arc::clone(&target)))
            .await?;
        if load.already_done {
            // An earlier run finished this plan, yet rows are still stale (they were
            // quarantined): page through the set again.
            state::reset(db, &key, true).await?;
            (load, updated) = loader.entity_run(meta, budget, Some(target)).await?;
        }
        out.records = load.records;
        out.pages = load.pages;
        out.quarantined = load.quarantined;
        out.updated = updated;
        out.complete = load.complete;
        out.stale_left = stale::summary(db, meta.set).await?.0;
        if out.stale_left == 0 {
            self.bulk.remote.stale_state().settled(db, meta.set);
        }
        out.elapsed = started.elapsed();
        Ok(out)
    }

    async fn clear_all(&self, meta: &'static CdmsMeta) -> Result<()> {
        let db = &self.bulk.db;
        let mut ids: Vec<Uuid> = Vec::new();
        super::scan::local_keys(db, meta, |k| ids.extend(k.cdms_id)).await?;
        let mut tx = db.begin().await?;
        stale::clear_ids(&mut tx, meta.set, &ids).await?;
        tx.commit().await?;
        self.bulk.remote.stale_state().settled(db, meta.set);
        Ok(())
    }
}

/// Records `meta`'s mapping and tells the remote when rows became stale.
pub(crate) async fn record_mapping(bulk: &Bulk, meta: &'static CdmsMeta) -> Result<MappingChange> {
    let change = mapping::record(&bulk.db, meta).await?;
    bulk.remote.stale_state().ensure(&bulk.db).await?;
    if change.stale_rows > 0 {
        bulk.remote.stale_state().note(&bulk.db, meta.set);
    }
    Ok(change)
}

/// A backfill page, read and sorted before its transaction.
pub(super) struct Prepared {
    /// Records to apply: partial ones (the fetched properties of rows otherwise in sync) and
    /// whole ones (rows changed in CDMS since).
    records: Vec<RemoteRecord>,
    /// Records that could not be decoded or fetched.
    rejected: Vec<Rejected>,
    /// Stale entries whose local row is gone.
    vanished: Vec<Uuid>,
    /// Records in the page.
    total: usize,
    /// The referenced records the page's records need and no local row holds.
    references: References,
}

impl Prepared {
    /// Records in the page.
    pub(super) fn len(&self) -> usize {
        self.total
    }
}

fn id_in(meta: &'static CdmsMeta, ids: &[Uuid]) -> ReadSpec {
    ReadSpec::filtered(
        meta.entity,
        Expr::Cond(Cond {
            field: meta.id_field,
            lookup: Lookup::In(ids.iter().map(|&u| Value::Uuid(u)).collect()),
        }),
    )
}

impl Bulk {
    /// Sorts a backfill page: decodes it with the narrowed `$select`, keeps the records whose
    /// row is stale, and fetches whole the ones changed in CDMS since their row was synced.
    pub(super) async fn prepare_backfill(
        &self,
        meta: &'static CdmsMeta,
        fields: &[usize],
        page: &[RawRecord],
    ) -> Result<Prepared> {
        let mut decoded = Vec::with_capacity(page.len());
        let mut rejected = Vec::new();
        for raw in page {
            match decode::decode_selected(meta, raw, Some(fields)) {
                Ok(r) => decoded.push(r),
                Err(e) => rejected.push(Rejected::from_cdms(
                    meta.set,
                    decode::record_id(meta, raw),
                    &e,
                )),
            }
        }
        let mut ids: Vec<Uuid> = decoded.iter().map(|r| r.id).collect();
        ids.extend(rejected.iter().filter_map(|r| r.cdms_id));
        let stale = stale::of_ids(&self.db, meta.set, &ids).await?;
        // A record whose row is not stale is none of the backfill's business.
        rejected.retain(|r| r.cdms_id.is_some_and(|id| stale.contains_key(&id)));
        decoded.retain(|r| stale.contains_key(&r.id));
        let wanted: Vec<Uuid> = decoded.iter().map(|r| r.id).collect();
        let mut local: HashMap<Uuid, Option<chrono::DateTime<chrono::Utc>>> = HashMap::new();
        if !wanted.is_empty() {
            let mut columns = vec![meta.id_field];
            columns.extend(meta.entity.modified);
            let spec = id_in(meta, &wanted);
            for row in rows::select_columns(&self.db, meta.entity, &spec, &columns).await? {
                if let Some(Value::Uuid(id)) = row.first() {
                    let modified = match row.get(1) {
                        Some(Value::DateTime(t)) => Some(*t),
                        _ => None,
                    };
                    local.insert(*id, modified);
                }
            }
        }
        let mut records = Vec::with_capacity(decoded.len());
        let mut whole = Vec::new();
        let mut vanished = Vec::new();
        for record in decoded {
            match local.get(&record.id) {
                None => vanished.push(record.id),
                Some(Some(t)) if *t >= crate::store::truncate_micros(record.modified) => {
                    records.push(record)
                }
                Some(_) => whole.push(record.id),
            }
        }
        if !whole.is_empty() {
            let (fetched, bad) =
                crate::cdms::sync::fetch_whole(self.remote.client(), meta, &whole).await?;
            records.extend(fetched);
            rejected.extend(bad);
        }
        let references = References::fetch(&self.remote, &self.db, meta.entity, &records).await?;
        Ok(Prepared {
            records,
            rejected,
            vanished,
            total: page.len(),
            references,
        })
    }

    /// Applies a prepared backfill page inside `tx`: one version per changed row, stale
    /// entries of the applied rows cleared, rejected records quarantined.
    pub(super) async fn apply_backfill(
        &self,
        tx: &mut Tx,
        meta: &'static CdmsMeta,
        prepared: Prepared,
    ) -> Result<BatchStats> {
        let applied = apply_prefetched(
            &self.remote,
            tx,
            meta.entity,
            prepared.records,
            &prepared.references,
        )
        .await?;
        self.remote
            .after_apply(tx, meta.set, &applied, &prepared.rejected)
            .await?;
        stale::clear_ids(tx, meta.set, &prepared.vanished).await?;
        Ok(BatchStats {
            records: prepared.total,
            inserted: applied.inserted,
            updated: applied.updated,
            unchanged: applied.unchanged,
            local_newer: applied.local_newer.len(),
            same_second: applied.same_second,
            quarantined: prepared.rejected.len() + applied.rejected.len(),
            newest: None,
        })
    }
}
