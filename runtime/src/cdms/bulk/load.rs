//! The initial bulk load: every record of the chosen entity sets into the local store.
//!
//! # How it works
//! - Entity sets are loaded one after the other in the given (reference) order, so the targets
//!   of lookups are local before the records that point at them arrive. A worker moves on to the
//!   next set only when every partition of the current one is done, by any worker.
//! - Each set is split into `CreatedOn` partitions ([`super::plan`]), planned once under a lock
//!   on the set's state row; the plan also records the newest `ModifiedOn` as the first poll
//!   watermark, so changes made during the load are picked up by the first poll.
//! - Up to [`LoadOptions::concurrency`] partitions per process are fetched at once. A partition
//!   pages through `$filter=<window>&$orderby=CreatedOn asc&$select=<mapped properties>` by
//!   following `__next` (pages of 50; no `$skip`, no counts). Every
//!   [`LoadOptions::pages_per_commit`] pages are applied in one transaction that also stores the
//!   next page's link as the partition's checkpoint, after checking the lease is still ours. An
//!   interrupted load (Ctrl-C, a crash, `kill -9`) therefore resumes at the first page not
//!   committed: no record is lost, and no committed page is applied twice.
//! - Partitions are claimed through leases in the database (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL), renewed while the partition runs. Several processes can share one PostgreSQL
//!   database: each claims different partitions, and a crashed worker's partitions are taken over
//!   once its lease expires, from their checkpoints. On SQLite, run one process at a time.
//! - Memory stays flat: each running partition holds at most one batch of pages.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value as J;

use crate::cdms::client::{CdmsClient, ListOptions, Pager};
use crate::cdms::codec;
use crate::cdms::meta::CdmsMeta;
use crate::error::{Error, Result};
use crate::store::Db;

use super::plan::{self, created_property, record_time};
use super::progress::{EntityProgress, Phase};
use super::state::{self, Partition};
use super::stop::Stop;
use super::Bulk;

/// How a load runs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Partitions per entity set (default 16). Only used when a set is first planned.
    pub partitions: usize,
    /// Partitions fetched at once by this process (default 4).
    pub concurrency: usize,
    /// Pages applied per transaction and checkpoint (default 4, i.e. 200 records).
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
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            partitions: 16,
            concurrency: 4,
            pages_per_commit: 4,
            lease: Duration::from_secs(60),
            max_pages: None,
            page_retries: 3,
            page_retry_pause: Duration::from_secs(2),
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

/// How one partition run ended.
enum PartEnd {
    Done,
    Stopped,
    LeaseLost,
}

/// Progress of one entity set, shared by the partition tasks of this process.
struct Tracker {
    snapshot: EntityProgress,
    started: Instant,
    /// Per partition id: its share of the `CreatedOn` span and how much of it is covered.
    coverage: Vec<(i64, f64, f64)>,
}

impl Tracker {
    fn estimate(&mut self) {
        let covered: f64 = self.coverage.iter().map(|(_, w, c)| w * c).sum();
        let done = self.snapshot.records + self.snapshot.records_before;
        self.snapshot.estimated_total = (covered >= 0.02).then(|| ((done as f64 / covered).round() as u64).max(done));
        self.snapshot.elapsed = self.started.elapsed();
    }

    fn cover(&mut self, id: i64, fraction: f64) {
        if let Some(slot) = self.coverage.iter_mut().find(|(p, _, _)| *p == id) {
            slot.2 = slot.2.max(fraction.clamp(0.0, 1.0));
        }
    }
}

/// The share of the set's `CreatedOn` span each partition covers.
fn weights(parts: &[Partition]) -> Vec<(i64, f64, f64)> {
    let span = |p: &Partition| match (p.lo, p.hi) {
        (Some(lo), Some(hi)) => (hi - lo).num_milliseconds().max(0) as f64,
        _ => 0.0,
    };
    let total: f64 = parts.iter().map(span).sum();
    parts
        .iter()
        .map(|p| {
            let w = if total > 0.0 { span(p) / total } else { 1.0 / parts.len().max(1) as f64 };
            (p.id, w, if p.done { 1.0 } else { 0.0 })
        })
        .collect()
}

fn coverage(p: &Partition, last: Option<DateTime<Utc>>) -> Option<f64> {
    let (lo, hi, last) = (p.lo?, p.hi?, last?);
    let span = (hi - lo).num_milliseconds();
    (span > 0).then(|| (last - lo).num_milliseconds() as f64 / span as f64)
}

/// The part of a page link below the service root (`AccountSet?$filter=…&$skiptoken=…`), kept
/// as the checkpoint so a resumed load may use another base URL of the same organisation.
pub(crate) fn link_tail(link: &str) -> String {
    let (path, query) = link.split_once('?').map_or((link, None), |(p, q)| (p, Some(q)));
    let segment = path.rsplit('/').next().unwrap_or(path);
    match query {
        Some(q) => format!("{segment}?{q}"),
        None => segment.to_owned(),
    }
}

/// The absolute link of a checkpoint tail.
pub(crate) fn tail_link(client: &CdmsClient, tail: &str) -> String {
    format!("{}/{tail}", client.service_url())
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
        let budget = Arc::new(Budget::new(self.options.max_pages));
        let mut report = LoadReport { entities: Vec::new(), stopped: false, elapsed: Duration::ZERO };
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
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Plans `meta`'s set unless it is planned; returns its state.
    async fn ensure_plan(&self, meta: &'static CdmsMeta) -> Result<state::EntityState> {
        let db = &self.bulk.db;
        let mut tx = db.begin().await?;
        let mut st = state::lock_entity(&mut tx, meta.set).await?;
        if st.planned_at.is_some() {
            tx.rollback().await?;
            return Ok(st);
        }
        self.bulk.progress.phase(&EntityProgress::new(meta.entity.name, meta.set, Phase::Planning));
        let plan = plan::plan(&self.bulk.client, meta, self.options.partitions).await?;
        state::insert_partitions(&mut tx, &plan.partitions).await?;
        st.planned_at = Some(crate::store::now());
        st.partitions = plan.partitions.len() as i64;
        st.load_done_at = None;
        if st.watermark.is_none() {
            st.watermark = plan.watermark;
        }
        state::save_entity(&mut tx, &mut st).await?;
        tx.commit().await?;
        self.bulk.progress.note(meta.entity.name, &format!("{} planned in {} partitions", meta.set, plan.partitions.len()));
        Ok(st)
    }

    async fn entity(&self, meta: &'static CdmsMeta, budget: &Arc<Budget>) -> Result<EntityLoad> {
        let started = Instant::now();
        let st = self.ensure_plan(meta).await?;
        let parts = state::partitions(&self.bulk.db, meta.set).await?;
        let records_before: u64 = parts.iter().map(|p| p.records.max(0) as u64).sum();
        let mut out = EntityLoad {
            entity: meta.entity.name,
            set: meta.set,
            records: 0,
            pages: 0,
            claimed: 0,
            partitions: parts.len() as u64,
            records_total: records_before,
            complete: false,
            already_done: st.load_done_at.is_some(),
            elapsed: Duration::ZERO,
        };
        let mut snapshot = EntityProgress::new(meta.entity.name, meta.set, Phase::Loading);
        snapshot.partitions = parts.len() as u64;
        snapshot.partitions_done = parts.iter().filter(|p| p.done).count() as u64;
        snapshot.records_before = records_before;
        if out.already_done {
            snapshot.phase = Phase::Done;
            self.bulk.progress.finish(&snapshot);
            out.complete = true;
            return Ok(out);
        }
        self.bulk.progress.phase(&snapshot);
        let tracker = Arc::new(Mutex::new(Tracker { snapshot, started, coverage: weights(&parts) }));
        let run = Arc::new(EntityRun {
            bulk: self.bulk.clone(),
            options: self.options.clone(),
            meta,
            tracker: Arc::clone(&tracker),
            active: tokio::sync::Mutex::new(HashSet::new()),
            budget: Arc::clone(budget),
            claimed: Mutex::new(0),
            halt: Stop::new(),
        });
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.options.concurrency.max(1) {
            let run = Arc::clone(&run);
            tasks.spawn(async move { run.worker().await });
        }
        let mut first_error: Option<Error> = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.unwrap_or_else(|e| {
                Err(Error::Refused { entity: meta.entity.name, message: format!("a load task failed: {e}") })
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
        let parts = state::partitions(&self.bulk.db, meta.set).await?;
        out.complete = !parts.is_empty() && parts.iter().all(|p| p.done);
        if out.complete {
            let mut tx = self.bulk.db.begin().await?;
            let mut st = state::lock_entity(&mut tx, meta.set).await?;
            if st.load_done_at.is_none() {
                st.load_done_at = Some(crate::store::now());
                state::save_entity(&mut tx, &mut st).await?;
            }
            tx.commit().await?;
        }
        let snap = lock(&tracker).snapshot.clone();
        out.records = snap.records;
        out.pages = snap.pages;
        out.claimed = *lock(&run.claimed);
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
            self.bulk.progress.note(meta.entity.name, "stopped; the next load resumes from the checkpoints");
        }
        Ok(out)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A page budget shared by every set of a run.
struct Budget {
    left: Mutex<Option<u64>>,
}

impl Budget {
    fn new(max: Option<u64>) -> Self {
        Budget { left: Mutex::new(max) }
    }

    /// Whether a page may still be committed.
    fn available(&self) -> bool {
        !matches!(*lock(&self.left), Some(0))
    }

    /// Counts committed pages; returns whether the budget is now spent.
    fn spend(&self, pages: u64) -> bool {
        let mut left = lock(&self.left);
        match left.as_mut() {
            Some(n) => {
                *n = n.saturating_sub(pages);
                *n == 0
            }
            None => false,
        }
    }
}

/// One entity set being loaded by this process's tasks.
struct EntityRun {
    bulk: Bulk,
    options: LoadOptions,
    meta: &'static CdmsMeta,
    tracker: Arc<Mutex<Tracker>>,
    /// Partitions running in this process (they share the worker id, so a claim must skip them).
    active: tokio::sync::Mutex<HashSet<i64>>,
    budget: Arc<Budget>,
    claimed: Mutex<u64>,
    /// Stops this set's tasks when one of them fails.
    halt: Stop,
}

impl std::ops::Deref for EntityRun {
    type Target = Bulk;
    fn deref(&self) -> &Bulk {
        &self.bulk
    }
}

impl EntityRun {
    fn stopping(&self) -> bool {
        self.stop.is_stopped() || self.halt.is_stopped() || !self.budget.available()
    }

    async fn worker(&self) -> Result<()> {
        let db = &self.bulk.db;
        let set = self.meta.set;
        loop {
            if self.stopping() {
                return Ok(());
            }
            let claimed = {
                let mut active = self.active.lock().await;
                let exclude: Vec<i64> = active.iter().copied().collect();
                let part = state::claim(db, set, &self.worker, self.options.lease, &exclude).await?;
                if let Some(p) = &part {
                    active.insert(p.id);
                }
                part
            };
            let Some(part) = claimed else {
                let parts = state::partitions(db, set).await?;
                if parts.iter().all(|p| p.done) {
                    return Ok(());
                }
                let now = crate::store::now();
                let others = parts.iter().filter(|p| !p.done && p.leased_by_other(&self.worker, now)).count();
                if others == 0 {
                    // The unfinished partitions are running in this process's other tasks.
                    return Ok(());
                }
                {
                    let mut tracker = lock(&self.tracker);
                    if tracker.snapshot.phase != Phase::Waiting {
                        tracker.snapshot.phase = Phase::Waiting;
                        self.progress.phase(&tracker.snapshot);
                    }
                }
                let pause = (self.options.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
                if self.stop.sleep(pause).await || self.halt.is_stopped() {
                    return Ok(());
                }
                continue;
            };
            *lock(&self.claimed) += 1;
            let id = part.id;
            let result = self.partition(part).await;
            self.active.lock().await.remove(&id);
            match result {
                Ok(PartEnd::Done) => {}
                Ok(PartEnd::Stopped) => return Ok(()),
                Ok(PartEnd::LeaseLost) => {
                    self.progress.note(self.meta.entity.name, "a partition's lease was taken over by another worker");
                }
                Err(e) => {
                    let _ = state::release(db, id, &self.worker).await;
                    return Err(e);
                }
            }
        }
    }

    fn first_pager(&self, part: &Partition) -> Result<Pager> {
        if let Some(tail) = &part.position {
            return Ok(self.client.resume_pager(self.meta.set, &tail_link(&self.client, tail))?);
        }
        let opts = ListOptions {
            filter: part.filter.clone(),
            select: codec::select(self.meta, None),
            orderby: created_property(self.meta).map(|c| format!("{c} asc")),
            top: None,
        };
        Ok(self.client.pager(self.meta.set, &opts)?)
    }

    /// The next page, retrying transient failures in rounds beyond the client's own retries.
    async fn next_page(&self, pager: &mut Pager) -> Result<Option<Vec<J>>> {
        let link = pager.next_link().map(str::to_owned);
        let mut round = 0;
        loop {
            match pager.next_page().await {
                Ok(page) => return Ok(page),
                Err(e) if e.is_transient() && round < self.options.page_retries => {
                    let Some(link) = &link else { return Err(e.into()) };
                    round += 1;
                    let pause = self.options.page_retry_pause.saturating_mul(1 << (round - 1).min(5));
                    self.progress.note(self.meta.entity.name, &format!("{e}; retrying in {:.1}s", pause.as_secs_f64()));
                    if self.stop.sleep(pause).await {
                        return Err(e.into());
                    }
                    *pager = self.client.resume_pager(self.meta.set, link)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn partition(&self, mut part: Partition) -> Result<PartEnd> {
        let lost = Stop::new();
        let heartbeat = self.heartbeat(part.id, lost.clone());
        let result = self.pages(&mut part, &lost).await;
        heartbeat.abort();
        match &result {
            Ok(PartEnd::Stopped) => state::release(&self.db, part.id, &self.worker).await?,
            Ok(PartEnd::Done | PartEnd::LeaseLost) | Err(_) => {}
        }
        result
    }

    /// Renews the lease every third of its duration until aborted; fires `lost` if it is gone.
    fn heartbeat(&self, id: i64, lost: Stop) -> tokio::task::JoinHandle<()> {
        let db: Db = self.db.clone();
        let worker = self.worker.clone();
        let lease = self.options.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match state::renew(&db, id, &worker, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.stop();
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not renew a partition lease"),
                }
            }
        })
    }

    async fn pages(&self, part: &mut Partition, lost: &Stop) -> Result<PartEnd> {
        let mut pager = self.first_pager(part)?;
        let created = created_property(self.meta);
        loop {
            if lost.is_stopped() {
                return Ok(PartEnd::LeaseLost);
            }
            if self.stopping() {
                return Ok(PartEnd::Stopped);
            }
            let mut batch: Vec<J> = Vec::new();
            let mut pages = 0u64;
            while pages < self.options.pages_per_commit.max(1) as u64 {
                let Some(page) = self.next_page(&mut pager).await? else { break };
                pages += 1;
                batch.extend(page);
                if pager.is_done() || self.stopping() {
                    break;
                }
            }
            let next = if pager.is_done() { None } else { pager.next_link().map(link_tail) };
            let last_created = match (created, batch.last()) {
                (Some(c), Some(r)) => record_time(self.meta, r, c)?,
                _ => None,
            };
            let mut tx = self.db.begin().await?;
            let Some(mut locked) = state::lock_leased(&mut tx, part.id, &self.worker).await? else {
                tx.rollback().await?;
                return Ok(PartEnd::LeaseLost);
            };
            let applied = self.apply_page(&mut tx, self.meta, &batch, false).await?.records;
            let done = next.is_none();
            state::advance(&mut tx, &mut locked, next, applied, self.options.lease).await?;
            tx.commit().await?;
            *part = locked;
            let spent = self.budget.spend(pages);
            self.record(part, applied as u64, pages, if done { Some(1.0) } else { coverage(part, last_created) });
            if done {
                return Ok(PartEnd::Done);
            }
            if spent {
                return Ok(PartEnd::Stopped);
            }
        }
    }

    fn record(&self, part: &Partition, records: u64, pages: u64, covered: Option<f64>) {
        let mut t = lock(&self.tracker);
        t.snapshot.records += records;
        t.snapshot.pages += pages;
        if part.done {
            t.snapshot.partitions_done += 1;
        }
        if let Some(c) = covered {
            t.cover(part.id, c);
        }
        if t.snapshot.phase != Phase::Loading {
            t.snapshot.phase = Phase::Loading;
            self.progress.phase(&t.snapshot);
        }
        t.estimate();
        self.progress.advance(&t.snapshot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_links_keep_the_set_and_query() {
        let link = "http://127.0.0.1:9/UKTI/xrmservices/2011/organizationdata.svc/AccountSet?$filter=a&$skiptoken=1,'x'";
        assert_eq!(link_tail(link), "AccountSet?$filter=a&$skiptoken=1,'x'");
        assert_eq!(link_tail("http://h/o/svc/ContactSet"), "ContactSet");
    }

    #[test]
    fn budget_counts_down() {
        let b = Budget::new(Some(3));
        assert!(b.available());
        assert!(!b.spend(2));
        assert!(b.spend(1));
        assert!(!b.available());
        let unlimited = Budget::new(None);
        assert!(!unlimited.spend(1_000));
        assert!(unlimited.available());
    }
}
