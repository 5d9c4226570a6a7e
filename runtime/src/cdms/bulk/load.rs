//! The initial bulk load: every record of the chosen entity sets into the local store.
//!
//! # How it works
//! - Entity sets are loaded one after the other in the given (reference) order, so the targets
//!   of lookups are local before the records that point at them arrive. A worker moves on to the
//!   next set only when every partition of the current one is done, by any worker.
//! - Each set is split into `CreatedOn` partitions (windows between the oldest and newest
//!   `CreatedOn`, found with two one-record requests), planned once under a lock
//!   on the set's state row; the plan also records the newest `ModifiedOn` as the first poll
//!   watermark, so changes made during the load are picked up by the first poll.
//!   Stamps beyond [`LoadOptions::skew_allowance`] from now (`9999-12-31` placeholders) bound
//!   neither: their records land in the last window, which is open-ended.
//! - Up to [`LoadOptions::concurrency`] partitions per process are fetched at once. A partition
//!   pages through `$filter=<window>&$orderby=CreatedOn asc&$select=<mapped properties>` by
//!   following `__next` (pages of 50; no `$skip`, no counts). Every
//!   [`LoadOptions::pages_per_commit`] pages are applied in one transaction that also stores the
//!   next page's link as the partition's checkpoint, after checking the lease is still ours. An
//!   interrupted load (Ctrl-C, a crash, `kill -9`) therefore resumes at the first page not
//!   committed: no record is lost, and no committed page is applied twice.
//! - On SQLite, whose single writer runs the transactions one after the other, the batches
//!   of several partitions that wait for it are committed together: one transaction checks each
//!   one's lease, applies them as one batch and moves each checkpoint past its own batch
//!   (group commit). On PostgreSQL each batch has a transaction of its own.
//! - Partitions are claimed through leases in the database (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL), renewed while the partition runs. Several processes can share one PostgreSQL
//!   database: each claims different partitions, and a crashed worker's partitions are taken over
//!   once its lease expires, from their checkpoints. On SQLite, run one process at a time.
//! - Memory stays flat: each running partition holds at most one batch of pages.
//! - The entities' CDMS mappings are recorded first ([`super::mapping`]); when rows were synced
//!   under an older mapping, the load ends with a backfill of the properties mapped since
//!   ([`LoadReport::backfill`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cdms::meta::CdmsMeta;
use crate::error::{Error, Result};

use super::backfill::{record_mapping, BackfillReport, Backfiller};
use super::group::Group;
use super::plan;
use super::progress::{EntityProgress, Phase};
use super::skew;
use super::state;
use super::stop::Stop;
use super::worker::{lock, weights, Budget, EntityRun, Target, Tracker};
use super::Bulk;

/// How a load runs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Partitions per entity set (default 16). Only used when a set is first planned.
    pub partitions: usize,
    /// Partitions fetched at once by this process (default 4).
    pub concurrency: usize,
    /// Pages applied per transaction and checkpoint (default 8, i.e. 400 records). More pages
    /// per commit load faster (fewer commits, each B-tree page rewritten less often) and hold
    /// more records in memory: about three batches per partition running (one written, one
    /// fetched, one waiting between them).
    pub pages_per_commit: usize,
    /// How long a claimed partition stays reserved without renewal (default 60 s). A crashed
    /// worker's partitions are taken over after this long.
    pub lease: Duration,
    /// Stop after this many pages were committed by this process (the rest is left for a later
    /// run, which resumes from the checkpoints).
    pub max_pages: Option<u64>,
    /// Rounds of retries of a page after the client's own retries gave up on a transient failure
    /// (default 3).
    pub page_retries: u32,
    /// The pause before the first such round; it doubles with each round (default 2 s).
    pub page_retry_pause: Duration,
    /// How far ahead of this machine's clock a `CreatedOn` or `ModifiedOn` may be and still
    /// bound the plan and the first poll watermark (default 1 day). Later stamps (`9999-12-31`
    /// placeholders) are counted in [`EntityLoad::future_stamps`] and logged; their records are
    /// loaded all the same.
    pub skew_allowance: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            partitions: 16,
            concurrency: 4,
            pages_per_commit: 8,
            lease: Duration::from_secs(60),
            max_pages: None,
            page_retries: 3,
            page_retry_pause: Duration::from_secs(2),
            skew_allowance: skew::DEFAULT_ALLOWANCE,
        }
    }
}

/// What a load did for one entity set.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityLoad {
    /// The local entity (`Organisation`).
    pub entity: &'static str,
    /// The CDMS set (`AccountSet`).
    pub set: &'static str,
    /// Records applied by this process.
    pub records: u64,
    /// Pages fetched and committed by this process.
    pub pages: u64,
    /// Records this process could not apply: skipped, recorded in the quarantine (see
    /// [`crate::cdms::CdmsRemote::quarantine`]), and counted in `records`.
    pub quarantined: u64,
    /// Partitions this process claimed.
    pub claimed: u64,
    /// Partitions of the set.
    pub partitions: u64,
    /// Records in the set's checkpoints (all runs and workers).
    pub records_total: u64,
    /// Whether the set's load is complete (now or from an earlier run).
    pub complete: bool,
    /// Whether it was already complete before this run.
    pub already_done: bool,
    /// Records applied by this process whose `CreatedOn` or `ModifiedOn` lies beyond
    /// [`LoadOptions::skew_allowance`] (applied, but ignored by the plan and the watermark).
    pub future_stamps: u64,
    /// Time spent on the set.
    pub elapsed: Duration,
}

/// What a load did.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    /// Per entity set, in load order (sets not reached are absent).
    pub entities: Vec<EntityLoad>,
    /// Whether the run stopped early (stop signal or page budget); the checkpoints let the next
    /// run resume.
    pub stopped: bool,
    /// The backfill run after the load, when rows were synced under an older mapping (see
    /// [`super::backfill`]).
    pub backfill: Option<BackfillReport>,
    /// Wall time.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Records applied by this process in all sets.
    pub fn records(&self) -> u64 {
        self.entities.iter().map(|e| e.records).sum()
    }

    /// Whether every requested set is completely loaded.
    pub fn complete(&self) -> bool {
        !self.stopped && self.entities.iter().all(|e| e.complete)
    }
}

/// Runs initial loads; see the module docs.
pub struct Loader {
    bulk: Bulk,
    options: LoadOptions,
}

impl Loader {
    /// A loader with `options`.
    pub fn new(bulk: Bulk, options: LoadOptions) -> Self {
        Loader { bulk, options }
    }

    /// Loads `entities` (in the given order: referenced sets first).
    pub async fn run(&self, entities: &[&'static CdmsMeta]) -> Result<LoadReport> {
        let started = Instant::now();
        state::migrate(&self.bulk.db).await?;
        self.bulk
            .remote
            .quarantine_state()
            .ensure(&self.bulk.db)
            .await?;
        let budget = Arc::new(Budget::new(self.options.max_pages));
        let mut report = LoadReport {
            entities: Vec::new(),
            stopped: false,
            backfill: None,
            elapsed: Duration::ZERO,
        };
        // Rows loaded under an older mapping become stale now; the backfill below fills them.
        let mut stale = false;
        for &meta in entities {
            record_mapping(&self.bulk, meta).await?;
            stale |= self
                .bulk
                .remote
                .stale_state()
                .may_have(&self.bulk.db, meta.set);
        }
        for &meta in entities {
            if self.bulk.stop.is_stopped() {
                report.stopped = true;
                break;
            }
            let done = self.entity(meta, &budget).await?;
            let complete = done.complete;
            report.entities.push(done);
            if !complete {
                report.stopped = true;
                break;
            }
        }
        if stale && !report.stopped {
            let backfill = Backfiller::new(self.bulk.clone(), self.options.clone());
            let done = backfill.run(entities).await?;
            report.stopped |= done.stopped;
            report.backfill = Some(done);
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Plans `meta`'s set (under the checkpoint key `key`) unless it is planned; returns its
    /// state.
    async fn ensure_plan(&self, meta: &'static CdmsMeta, key: &str) -> Result<state::EntityState> {
        let db = &self.bulk.db;
        let mut tx = db.begin().await?;
        let mut st = state::lock_entity(&mut tx, key).await?;
        if st.planned_at.is_some() {
            tx.rollback().await?;
            return Ok(st);
        }
        self.bulk.progress.phase(&EntityProgress::new(
            meta.entity.name,
            meta.set,
            Phase::Planning,
        ));
        let trusted = skew::trusted_until(self.options.skew_allowance);
        let mut plan =
            plan::plan(&self.bulk.client, meta, self.options.partitions, trusted).await?;
        for p in &mut plan.partitions {
            key.clone_into(&mut p.entity);
        }
        state::insert_partitions(&mut tx, &plan.partitions).await?;
        st.planned_at = Some(crate::store::now());
        st.partitions = plan.partitions.len() as i64;
        st.load_done_at = None;
        if st.watermark.is_none() {
            st.watermark = plan.watermark;
        }
        state::save_entity(&mut tx, &mut st).await?;
        tx.commit().await?;
        self.bulk.progress.note(
            meta.entity.name,
            &format!(
                "{} planned in {} partitions",
                meta.set,
                plan.partitions.len()
            ),
        );
        Ok(st)
    }

    async fn entity(&self, meta: &'static CdmsMeta, budget: &Arc<Budget>) -> Result<EntityLoad> {
        self.entity_run(meta, budget, None)
            .await
            .map(|(load, _)| load)
    }

    /// Loads (or, with a `target`, backfills) `meta`'s set; also returns the rows changed.
    pub(super) async fn entity_run(
        &self,
        meta: &'static CdmsMeta,
        budget: &Arc<Budget>,
        target: Option<Arc<Target>>,
    ) -> Result<(EntityLoad, u64)> {
        let started = Instant::now();
        let key = target
            .as_ref()
            .map_or_else(|| meta.set.to_owned(), |t| t.key.clone());
        let key = key.as_str();
        let st = self.ensure_plan(meta, key).await?;
        let parts = state::partitions(&self.bulk.db, key).await?;
        let records_before: u64 = parts.iter().map(|p| p.records.max(0) as u64).sum();
        let mut out = EntityLoad {
            entity: meta.entity.name,
            set: meta.set,
            records: 0,
            pages: 0,
            quarantined: 0,
            claimed: 0,
            partitions: parts.len() as u64,
            records_total: records_before,
            complete: false,
            already_done: st.load_done_at.is_some(),
            future_stamps: 0,
            elapsed: Duration::ZERO,
        };
        let working = if target.is_some() {
            Phase::Backfilling
        } else {
            Phase::Loading
        };
        let mut snapshot = EntityProgress::new(meta.entity.name, meta.set, working);
        snapshot.partitions = parts.len() as u64;
        snapshot.partitions_done = parts.iter().filter(|p| p.done).count() as u64;
        snapshot.records_before = records_before;
        if out.already_done {
            snapshot.phase = Phase::Done;
            self.bulk.progress.finish(&snapshot);
            out.complete = true;
            return Ok((out, 0));
        }
        self.bulk.progress.phase(&snapshot);
        let tracker = Arc::new(Mutex::new(Tracker {
            snapshot,
            started,
            coverage: weights(&parts),
        }));
        let run = Arc::new(EntityRun {
            bulk: self.bulk.clone(),
            options: self.options.clone(),
            meta,
            tracker: Arc::clone(&tracker),
            active: tokio::sync::Mutex::new(HashSet::new()),
            budget: Arc::clone(budget),
            claimed: Mutex::new(0),
            future_stamps: Mutex::new(0),
            halt: Stop::new(),
            target,
            updated: Mutex::new(0),
            group: Group::default(),
        });
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.options.concurrency.max(1) {
            let run = Arc::clone(&run);
            tasks.spawn(async move { run.worker().await });
        }
        let mut first_error: Option<Error> = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.unwrap_or_else(|e| {
                Err(Error::Refused {
                    entity: meta.entity.name,
                    message: format!("a load task failed: {e}"),
                })
            });
            if let Err(e) = result {
                if first_error.is_none() {
                    // Let the other tasks finish their batch and release their leases.
                    run.halt.stop();
                    first_error = Some(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let parts = state::partitions(&self.bulk.db, key).await?;
        out.complete = !parts.is_empty() && parts.iter().all(|p| p.done);
        if out.complete {
            let mut tx = self.bulk.db.begin().await?;
            let mut st = state::lock_entity(&mut tx, key).await?;
            if st.load_done_at.is_none() {
                st.load_done_at = Some(crate::store::now());
                state::save_entity(&mut tx, &mut st).await?;
            }
            tx.commit().await?;
        }
        let snap = lock(&tracker).snapshot.clone();
        out.records = snap.records;
        out.quarantined = snap.quarantined;
        out.pages = snap.pages;
        out.claimed = *lock(&run.claimed);
        out.future_stamps = *lock(&run.future_stamps);
        out.records_total = parts.iter().map(|p| p.records.max(0) as u64).sum();
        out.elapsed = started.elapsed();
        let mut last = snap;
        last.partitions_done = parts.iter().filter(|p| p.done).count() as u64;
        last.elapsed = out.elapsed;
        if out.complete {
            last.phase = Phase::Done;
            last.estimated_total = Some(out.records_total);
            self.bulk.progress.finish(&last);
        } else {
            self.bulk.progress.note(
                meta.entity.name,
                "stopped; the next run resumes from the checkpoints",
            );
        }
        let updated = *lock(&run.updated);
        Ok((out, updated))
    }
}
