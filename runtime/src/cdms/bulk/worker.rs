//! The tasks of one process loading one entity set: claiming partitions, paging through them,
//! committing each batch with its checkpoint, renewing leases, and tracking progress.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cdms::decode::RawRecord;
use chrono::{DateTime, Utc};

use crate::cdms::client::{CdmsClient, ListOptions, Pager};
use crate::cdms::codec;
use crate::cdms::meta::CdmsMeta;
use crate::error::{Error, Result};
use crate::store::Db;

use super::apply::DecodedBatch;
use super::backfill::Prepared;
use super::group::{Group, Waiting};
use super::lease;
use super::load::LoadOptions;
use super::plan::{created_property, raw_record_time};
use super::progress::{EntityProgress, Phase};
use super::skew;
use super::state::{self, Partition};
use super::stop::Stop;
use super::Bulk;

/// Pages fetched for one commit, with the checkpoint after them (`None`: the partition ends).
struct Batch {
    records: Vec<RawRecord>,
    pages: u64,
    next: Option<String>,
}

/// Where a committed batch leaves its partition: the checkpoint after it (`None`: the
/// partition ends with it), and how many pages it held.
pub(super) struct Step {
    pub(super) next: Option<String>,
    pub(super) pages: u64,
}

/// A fetched batch made ready for its transaction.
pub(super) enum Ready {
    Load(DecodedBatch),
    Backfill(Prepared),
}

impl Ready {
    /// Records in the batch.
    pub(super) fn len(&self) -> usize {
        match self {
            Ready::Load(d) => d.len(),
            Ready::Backfill(p) => p.len(),
        }
    }

    /// The batches of one transaction, as one: a batch alone as it is, load batches merged. A
    /// backfill batch never shares a transaction (only loads are committed in groups).
    pub(super) fn merged(entity: &'static str, mut batches: Vec<Ready>) -> Result<Ready> {
        if batches.len() == 1 {
            if let Some(alone) = batches.pop() {
                return Ok(alone);
            }
        }
        let mut loads = Vec::with_capacity(batches.len());
        for batch in batches {
            match batch {
                Ready::Load(d) => loads.push(d),
                Ready::Backfill(_) => {
                    return Err(Error::Refused {
                        entity,
                        message: "a backfill batch cannot share a transaction with others".into(),
                    })
                }
            }
        }
        Ok(Ready::Load(DecodedBatch::merge(loads)))
    }
}

/// How one partition run ended.
pub(super) enum PartEnd {
    Done,
    Stopped,
    LeaseLost,
}

/// Progress of one entity set, shared by the partition tasks of this process.
pub(super) struct Tracker {
    pub(super) snapshot: EntityProgress,
    pub(super) started: Instant,
    /// Per partition id: its share of the `CreatedOn` span and how much of it is covered.
    pub(super) coverage: Vec<(i64, f64, f64)>,
}

impl Tracker {
    fn estimate(&mut self) {
        let covered: f64 = self.coverage.iter().map(|(_, w, c)| w * c).sum();
        let done = self.snapshot.records + self.snapshot.records_before;
        self.snapshot.estimated_total =
            (covered >= 0.02).then(|| ((done as f64 / covered).round() as u64).max(done));
        self.snapshot.elapsed = self.started.elapsed();
    }

    fn cover(&mut self, id: i64, fraction: f64) {
        if let Some(slot) = self.coverage.iter_mut().find(|(p, _, _)| *p == id) {
            slot.2 = slot.2.max(fraction.clamp(0.0, 1.0));
        }
    }
}

/// The share of the set's `CreatedOn` span each partition covers.
pub(super) fn weights(parts: &[Partition]) -> Vec<(i64, f64, f64)> {
    let span = |p: &Partition| match (p.lo, p.hi) {
        (Some(lo), Some(hi)) => (hi - lo).num_milliseconds().max(0) as f64,
        _ => 0.0,
    };
    let total: f64 = parts.iter().map(span).sum();
    parts
        .iter()
        .map(|p| {
            let w = if total > 0.0 {
                span(p) / total
            } else {
                1.0 / parts.len().max(1) as f64
            };
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
    let (path, query) = link
        .split_once('?')
        .map_or((link, None), |(p, q)| (p, Some(q)));
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

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A page budget shared by every set of a run.
pub(super) struct Budget {
    left: Mutex<Option<u64>>,
}

impl Budget {
    pub(super) fn new(max: Option<u64>) -> Self {
        Budget {
            left: Mutex::new(max),
        }
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

/// What a backfill run fetches instead of whole records: the checkpoints live under `key`
/// (not the set's own), and pages carry only the id, `ModifiedOn` and `fields`.
pub(super) struct Target {
    pub(super) key: String,
    pub(super) fields: Vec<usize>,
}

/// One entity set being loaded (or backfilled) by this process's tasks.
pub(super) struct EntityRun {
    pub(super) bulk: Bulk,
    pub(super) options: LoadOptions,
    pub(super) meta: &'static CdmsMeta,
    pub(super) tracker: Arc<Mutex<Tracker>>,
    /// Partitions running in this process (they share the worker id, so a claim must skip them).
    pub(super) active: tokio::sync::Mutex<HashSet<i64>>,
    pub(super) budget: Arc<Budget>,
    pub(super) claimed: Mutex<u64>,
    /// Records applied with a stamp beyond the skew allowance.
    pub(super) future_stamps: Mutex<u64>,
    /// Stops this set's tasks when one of them fails.
    pub(super) halt: Stop,
    /// A backfill's target (`None`: the initial load).
    pub(super) target: Option<Arc<Target>>,
    /// Rows changed (refreshed) by this process.
    pub(super) updated: Mutex<u64>,
    /// The batches waiting for a shared transaction (see [`super::group`]).
    pub(super) group: Group<Waiting, Option<Partition>>,
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

    /// The key of the checkpoints: the set, or the backfill's own.
    pub(super) fn key(&self) -> &str {
        self.target
            .as_ref()
            .map_or(self.meta.set, |t| t.key.as_str())
    }

    fn working(&self) -> Phase {
        if self.target.is_some() {
            Phase::Backfilling
        } else {
            Phase::Loading
        }
    }

    pub(super) async fn worker(&self) -> Result<()> {
        let db = &self.bulk.db;
        let set = self.key();
        loop {
            if self.stopping() {
                return Ok(());
            }
            let claimed = {
                let mut active = self.active.lock().await;
                let exclude: Vec<i64> = active.iter().copied().collect();
                let part =
                    lease::claim(db, set, &self.worker, self.options.lease, &exclude).await?;
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
                let elsewhere = {
                    let active = self.active.lock().await;
                    parts.iter().any(|p| !p.done && !active.contains(&p.id))
                };
                if !elsewhere {
                    // The unfinished partitions are running in this process's other tasks.
                    return Ok(());
                }
                // Held by other workers: wait for them to finish, or for a lease to expire.
                {
                    let mut tracker = lock(&self.tracker);
                    if tracker.snapshot.phase != Phase::Waiting {
                        tracker.snapshot.phase = Phase::Waiting;
                        self.progress.phase(&tracker.snapshot);
                    }
                }
                let pause = (self.options.lease / 4)
                    .clamp(Duration::from_millis(100), Duration::from_secs(2));
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
                    self.progress.note(
                        self.meta.entity.name,
                        "a partition's lease was taken over by another worker",
                    );
                }
                Err(e) => {
                    let _ = lease::release(db, id, &self.worker).await;
                    return Err(e);
                }
            }
        }
    }

    fn first_pager(&self, part: &Partition) -> Result<Pager> {
        if let Some(tail) = &part.position {
            return Ok(self
                .client
                .resume_pager(self.meta.set, &tail_link(&self.client, tail))?);
        }
        let opts = ListOptions {
            filter: part.filter.clone(),
            select: codec::select(self.meta, self.target.as_ref().map(|t| t.fields.as_slice())),
            expand: Vec::new(),
            orderby: created_property(self.meta).map(|c| format!("{c} asc")),
            top: None,
        };
        Ok(self.client.pager(self.meta.set, &opts)?)
    }

    /// The next page, retrying transient failures in rounds beyond the client's own retries.
    async fn next_page(&self, pager: &mut Pager) -> Result<Option<Vec<RawRecord>>> {
        let link = pager.next_link().map(str::to_owned);
        let mut round = 0;
        loop {
            match pager.next_raw_page().await {
                Ok(page) => return Ok(page),
                Err(e) if e.is_transient() && round < self.options.page_retries => {
                    let Some(link) = &link else {
                        return Err(e.into());
                    };
                    round += 1;
                    let pause = self
                        .options
                        .page_retry_pause
                        .saturating_mul(1 << (round - 1).min(5));
                    self.progress.note(
                        self.meta.entity.name,
                        &format!("{e}; retrying in {:.1}s", pause.as_secs_f64()),
                    );
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
            Ok(PartEnd::Stopped) => lease::release(&self.db, part.id, &self.worker).await?,
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
                tokio::time::sleep((lease / 3).max(Duration::from_millis(100))).await;
                match lease::renew(&db, id, &worker, lease).await {
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

    /// Pages through a partition: a fetcher reads the next batch while the previous one is
    /// being applied, one batch ahead at most (a bounded channel between them), so the local
    /// decode-and-write of a batch overlaps the network wait for the next. Only committed
    /// batches move the checkpoint; on a stop or a fetch error the batches fetched before it
    /// are committed first (a lost lease commits nothing more).
    async fn pages(&self, part: &mut Partition, lost: &Stop) -> Result<PartEnd> {
        let pager = self.first_pager(part)?;
        let (send, receive) = tokio::sync::mpsc::channel(1);
        let fetch = self.fetch_batches(pager, lost, send);
        let write = self.write_batches(part, lost, receive);
        tokio::pin!(fetch, write);
        tokio::select! {
            end = &mut write => return end,
            () = &mut fetch => {}
        }
        write.await
    }

    /// Fetches batches of `pages_per_commit` pages until the partition ends, the run stops,
    /// the lease is lost or the writer has gone; a fetch error is handed on as the last item.
    async fn fetch_batches(
        &self,
        mut pager: Pager,
        lost: &Stop,
        send: tokio::sync::mpsc::Sender<Result<Batch>>,
    ) {
        loop {
            if lost.is_stopped() || self.stopping() {
                return;
            }
            let mut records: Vec<RawRecord> = Vec::new();
            let mut pages = 0u64;
            while pages < self.options.pages_per_commit.max(1) as u64 {
                match self.next_page(&mut pager).await {
                    Ok(Some(page)) => {
                        pages += 1;
                        records.extend(page);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Batches sent before are committed first; this one is dropped, and a
                        // rerun resumes at the last committed checkpoint.
                        let _ = send.send(Err(e)).await;
                        return;
                    }
                }
                if pager.is_done() || self.stopping() {
                    break;
                }
            }
            let done = pager.is_done();
            let next = if done {
                None
            } else {
                pager.next_link().map(link_tail)
            };
            if send
                .send(Ok(Batch {
                    records,
                    pages,
                    next,
                }))
                .await
                .is_err()
                || done
            {
                return;
            }
        }
    }

    /// Applies each fetched batch in one transaction with its checkpoint.
    async fn write_batches(
        &self,
        part: &mut Partition,
        lost: &Stop,
        mut receive: tokio::sync::mpsc::Receiver<Result<Batch>>,
    ) -> Result<PartEnd> {
        let created = created_property(self.meta);
        loop {
            let Some(batch) = receive.recv().await else {
                return Ok(if lost.is_stopped() {
                    PartEnd::LeaseLost
                } else {
                    PartEnd::Stopped
                });
            };
            let Batch {
                records: batch,
                pages,
                next,
            } = batch?;
            if lost.is_stopped() {
                return Ok(PartEnd::LeaseLost);
            }
            if !self.budget.available() {
                // Fetched ahead of a budget other batches have spent meanwhile: not applied,
                // the checkpoint stays where it is.
                return Ok(PartEnd::Stopped);
            }
            let last_created = match (created, batch.last()) {
                (Some(c), Some(r)) => raw_record_time(self.meta, r, c)?,
                _ => None,
            };
            let trusted = skew::trusted_until(self.options.skew_allowance);
            let future = skew::inspect(self.meta, &batch, trusted).future as u64;
            // A backfill reads what it needs (stale entries, local stamps, whole records of rows
            // changed in CDMS since) before the transaction: no lock waits for CDMS.
            // A load decodes its batch before the transaction too: on SQLite the transaction
            // holds the one write lock the other partitions queue for.
            let prepared = match &self.target {
                Some(t) => Ready::Backfill(
                    self.bulk
                        .prepare_backfill(self.meta, &t.fields, &batch)
                        .await?,
                ),
                None => Ready::Load(self.bulk.prepare(self.meta, &batch).await?),
            };
            drop(batch);
            let applied = prepared.len();
            let done = next.is_none();
            let work = (part.id, prepared, Step { next, pages });
            let committed = if self.grouped() {
                self.commit_grouped(work).await?
            } else {
                self.commit_together(vec![work]).await?.pop().flatten()
            };
            let Some(locked) = committed else {
                return Ok(PartEnd::LeaseLost);
            };
            *part = locked;
            *lock(&self.future_stamps) += future;
            let spent = self.budget.spend(pages);
            self.record(
                part,
                applied as u64,
                pages,
                if done {
                    Some(1.0)
                } else {
                    coverage(part, last_created)
                },
            );
            if done {
                return Ok(PartEnd::Done);
            }
            if spent {
                return Ok(PartEnd::Stopped);
            }
        }
    }

    /// Counts what a committed transaction quarantined and refreshed.
    pub(super) fn counted(&self, quarantined: usize, updated: usize) {
        lock(&self.tracker).snapshot.quarantined += quarantined as u64;
        *lock(&self.updated) += updated as u64;
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
        if t.snapshot.phase != self.working() {
            t.snapshot.phase = self.working();
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
