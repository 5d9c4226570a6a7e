//! The incremental poller: changes made in CDMS since the last poll, and deletions.
//!
//! # Changes
//! Each entity set has a watermark: the newest `ModifiedOn` applied (first set when its load was
//! planned). A poll asks for `$filter=ModifiedOn ge <watermark − overlap>&$orderby=ModifiedOn asc`
//! (with `$select` of the mapped properties) and follows `__next`. Ascending order means the
//! watermark can advance with every committed batch: a record changed while the poll runs moves
//! to the end of the order and is met later in the same poll or in the next one. The overlap
//! window (default 30 s) re-reads the recent past, so records committed late by CDMS with an
//! earlier stamp, and records changed in the second the last poll ended, are never missed.
//! Re-read records are idempotent: a record whose `ModifiedOn` equals its row's is left alone,
//! unless its mapped values differ (two edits within one second, which CDMS stamps alike), in
//! which case it is refreshed too. Every change goes through the sync layer's apply path (a
//! `remote refresh` version per changed row), and the watermark is stored in the same
//! transaction as the rows.
//! A `ModifiedOn` beyond [`PollOptions::skew_allowance`] from now (a `9999-12-31` placeholder)
//! is applied but never becomes the watermark, which would otherwise hide every later edit.
//!
//! # Deletions
//! CDMS does not report deletions, so every [`PollOptions::reconcile_every`] the poller pages
//! through the set's ids (`$select=<Id>`) and compares them with the local CDMS ids. A local row
//! whose id is absent is checked with a GET (it may have been created after the id scan began);
//! a 404 applies the sync layer's documented outcome: the row is removed with a `remote delete`
//! version (restorable), or, when other local rows still refer to it, left in place with a
//! warning. CDMS ids with no local row are fetched and applied. Sets are reconciled in reverse
//! reference order, so referring rows are dealt with before the rows they refer to.
//!
//! # Several pollers
//! Each set is polled under a lease on its state row, so several `poll` processes sharing a
//! PostgreSQL database divide the sets between them; a set whose lease is held elsewhere is
//! skipped for that round.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::cdms::decode::RawRecord;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::cdms::client::ListOptions;
use crate::cdms::codec;
use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::{remove_deleted, SyncError};
use crate::error::Result;

use super::lease;
use super::plan::{datetime_literal, floor_second, modified_property};
use super::progress::{EntityProgress, Phase};
use super::scan::{local_keys, remote_keys};
use super::skew;
use super::state::{self, EntityState};
use super::Bulk;

/// How the poller runs.
#[derive(Debug, Clone)]
pub struct PollOptions {
    /// How far before the watermark each poll starts reading (default 30 s).
    pub overlap: Duration,
    /// How often the ids are reconciled to find deletions: `None` never, zero on every poll
    /// (default every 15 minutes).
    pub reconcile_every: Option<Duration>,
    /// Pages applied per transaction (default 4).
    pub pages_per_commit: usize,
    /// How long a set's poll lease lasts without renewal (default 60 s).
    pub lease: Duration,
    /// How far ahead of this machine's clock a `ModifiedOn` may be and still advance the
    /// watermark (default 1 day). Later stamps (`9999-12-31` placeholders) are counted in
    /// [`EntityPoll::future_stamps`] and logged; their records are applied all the same.
    pub skew_allowance: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            overlap: Duration::from_secs(30),
            reconcile_every: Some(Duration::from_secs(15 * 60)),
            pages_per_commit: 4,
            lease: Duration::from_secs(60),
            skew_allowance: skew::DEFAULT_ALLOWANCE,
        }
    }
}

/// What one poll did for one entity set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityPoll {
    /// The local entity (`Organisation`).
    pub entity: &'static str,
    /// The CDMS set (`AccountSet`).
    pub set: &'static str,
    /// Records read from CDMS (changes and overlap).
    pub fetched: u64,
    /// Rows created.
    pub inserted: u64,
    /// Rows refreshed (same-second changes included).
    pub updated: u64,
    /// Rows refreshed because their record changed again within the same second.
    pub same_second: u64,
    /// Records that could not be applied: skipped and recorded in the quarantine (see
    /// [`crate::cdms::CdmsRemote::quarantine`]).
    pub quarantined: u64,
    /// Rows removed because their record was deleted in CDMS.
    pub deleted: u64,
    /// Deleted records whose rows could not be removed (other rows still refer to them).
    pub delete_refused: u64,
    /// Records found by the reconciliation that were missing locally, and applied.
    pub recovered: u64,
    /// Whether the ids were reconciled in this poll.
    pub reconciled: bool,
    /// Records read whose `ModifiedOn` or `CreatedOn` lies beyond
    /// [`PollOptions::skew_allowance`] (applied, but not trusted for the watermark).
    pub future_stamps: u64,
    /// Why the set was not polled (its lease is held by another worker; not loaded yet).
    pub skipped: Option<String>,
    /// The watermark after the poll.
    pub watermark: Option<DateTime<Utc>>,
}

impl EntityPoll {
    /// Rows changed locally by the poll.
    pub fn changes(&self) -> u64 {
        self.inserted + self.updated + self.deleted + self.recovered
    }
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq)]
pub struct PollReport {
    /// Per set, in the requested order.
    pub entities: Vec<EntityPoll>,
    /// Wall time.
    pub elapsed: Duration,
}

impl PollReport {
    /// Rows changed locally in all sets.
    pub fn changes(&self) -> u64 {
        self.entities.iter().map(EntityPoll::changes).sum()
    }
}

/// Polls CDMS for changes; see the module docs.
pub struct Poller {
    bulk: Bulk,
    options: PollOptions,
}

/// A set whose poll lease this worker holds, and the task renewing it.
type Held = (&'static CdmsMeta, EntityState, tokio::task::JoinHandle<()>);

/// Ids fetched per request when recovering missing records (a short `or` chain).
const IDS_PER_REQUEST: usize = 15;

impl Poller {
    /// A poller with `options`.
    pub fn new(bulk: Bulk, options: PollOptions) -> Self {
        Poller { bulk, options }
    }

    /// Polls `entities` (given in reference order) once.
    pub async fn once(&self, entities: &[&'static CdmsMeta]) -> Result<PollReport> {
        let started = Instant::now();
        state::migrate(&self.bulk.db).await?;
        self.bulk
            .remote
            .quarantine_state()
            .ensure(&self.bulk.db)
            .await?;
        for &meta in entities {
            // A changed mapping lists the rows synced before as stale (see `backfill`).
            super::backfill::record_mapping(&self.bulk, meta).await?;
        }
        let mut reports: Vec<EntityPoll> = Vec::with_capacity(entities.len());
        let mut held: Vec<Held> = Vec::new();
        let result = self.poll_all(entities, &mut reports, &mut held).await;
        for (meta, _, heartbeat) in &held {
            heartbeat.abort();
            if let Err(e) = lease::release_entity(&self.bulk.db, meta.set, &self.bulk.worker).await
            {
                tracing::warn!(set = meta.set, error = %e, "could not release a poll lease");
            }
        }
        result?;
        Ok(PollReport {
            entities: reports,
            elapsed: started.elapsed(),
        })
    }

    async fn poll_all(
        &self,
        entities: &[&'static CdmsMeta],
        reports: &mut Vec<EntityPoll>,
        held: &mut Vec<Held>,
    ) -> Result<()> {
        let bulk = &self.bulk;
        for &meta in entities {
            let mut report = EntityPoll {
                entity: meta.entity.name,
                set: meta.set,
                ..EntityPoll::default()
            };
            match lease::claim_entity(&bulk.db, meta.set, &bulk.worker, self.options.lease).await? {
                None => report.skipped = Some("another worker is polling it".to_owned()),
                Some(st) if st.load_done_at.is_none() => {
                    lease::release_entity(&bulk.db, meta.set, &bulk.worker).await?;
                    report.skipped = Some("not loaded yet: run `load` first".to_owned());
                }
                Some(st) => {
                    // Held from now on: released by `once` whatever happens next.
                    held.push((meta, st, self.heartbeat(meta.set)));
                    if let Some((_, st, _)) = held.last_mut() {
                        if !bulk.stop.is_stopped() {
                            self.changes(meta, st, &mut report).await?;
                        }
                        report.watermark = st.watermark;
                    }
                }
            }
            if let Some(why) = &report.skipped {
                bulk.progress
                    .note(meta.entity.name, &format!("{} skipped: {why}", meta.set));
            }
            reports.push(report);
        }
        for (meta, st, _) in held.iter_mut().rev() {
            let due = match (self.options.reconcile_every, st.reconciled_at) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(every), Some(at)) => {
                    crate::store::now() - at
                        >= chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX)
                }
            };
            if due && !bulk.stop.is_stopped() {
                if let Some(report) = reports.iter_mut().find(|r| r.set == meta.set) {
                    self.reconcile(meta, st, report).await?;
                }
            }
        }
        Ok(())
    }

    /// Polls until the stop signal fires, one poll every `interval` (measured from the start of
    /// each poll); `each` sees every report. Returns the number of polls.
    pub async fn run(
        &self,
        entities: &[&'static CdmsMeta],
        interval: Duration,
        mut each: impl FnMut(&PollReport),
    ) -> Result<u64> {
        let mut polls = 0;
        loop {
            let started = Instant::now();
            let report = self.once(entities).await?;
            polls += 1;
            each(&report);
            let wait = interval.saturating_sub(started.elapsed());
            if self.bulk.stop.is_stopped() || self.bulk.stop.sleep(wait).await {
                return Ok(polls);
            }
        }
    }

    /// Renews the poll lease of `set` every third of its duration until aborted.
    fn heartbeat(&self, set: &'static str) -> tokio::task::JoinHandle<()> {
        let db = self.bulk.db.clone();
        let worker = self.bulk.worker.clone();
        let lease = self.options.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep((lease / 3).max(Duration::from_millis(100))).await;
                match lease::renew_entity(&db, set, &worker, lease).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(set, error = %e, "could not renew a poll lease"),
                }
            }
        })
    }

    /// Locks the set's state, checks the lease, stores `watermark`; false if the lease was lost.
    async fn commit_batch(
        &self,
        meta: &'static CdmsMeta,
        batch: &[RawRecord],
        st: &mut EntityState,
        report: &mut EntityPoll,
    ) -> Result<bool> {
        let bulk = &self.bulk;
        let prepared = bulk.prepare(meta, batch).await?;
        let mut tx = bulk.db.begin().await?;
        let mut locked = state::lock_entity(&mut tx, meta.set).await?;
        if locked.lease_owner.as_deref() != Some(bulk.worker.as_str()) {
            tx.rollback().await?;
            return Ok(false);
        }
        let trusted = skew::trusted_until(self.options.skew_allowance);
        let stamps = skew::inspect(meta, batch, trusted);
        let stats = bulk.apply_decoded(&mut tx, meta, prepared).await?;
        let newest = match stats.newest {
            Some(t) if t <= trusted => Some(t),
            _ => stamps.newest_trusted,
        };
        if locked.watermark.is_some_and(|w| w > trusted) {
            // Stored before stamps were checked: replaced, never built on.
            locked.watermark = None;
        }
        if newest > locked.watermark {
            locked.watermark = newest;
        }
        let lease =
            chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::seconds(60));
        locked.lease_until = Some(crate::store::now() + lease);
        state::save_entity(&mut tx, &mut locked).await?;
        tx.commit().await?;
        *st = locked;
        report.fetched += stats.records as u64;
        report.inserted += stats.inserted as u64;
        report.updated += stats.updated as u64;
        report.same_second += stats.same_second as u64;
        report.quarantined += stats.quarantined as u64;
        report.future_stamps += stamps.future as u64;
        Ok(true)
    }

    async fn changes(
        &self,
        meta: &'static CdmsMeta,
        st: &mut EntityState,
        report: &mut EntityPoll,
    ) -> Result<()> {
        let bulk = &self.bulk;
        let started = Instant::now();
        let mut snapshot = EntityProgress::new(meta.entity.name, meta.set, Phase::Polling);
        bulk.progress.phase(&snapshot);
        let modified = modified_property(meta);
        let overlap =
            chrono::Duration::from_std(self.options.overlap).unwrap_or(chrono::Duration::zero());
        let trusted = skew::trusted_until(self.options.skew_allowance);
        let watermark = match st.watermark {
            Some(w) if w > trusted => {
                tracing::warn!(
                    set = meta.set,
                    watermark = %w.to_rfc3339(),
                    trusted_until = %trusted.to_rfc3339(),
                    "the stored watermark lies beyond the clock skew allowance; re-reading the \
                     whole set once"
                );
                None
            }
            w => w,
        };
        let filter = watermark.map(|w| {
            format!(
                "{modified} ge {}",
                datetime_literal(floor_second(w - overlap))
            )
        });
        let opts = ListOptions {
            filter,
            select: codec::select(meta, None),
            expand: Vec::new(),
            orderby: Some(format!("{modified} asc")),
            top: None,
        };
        let mut pager = bulk.client.pager(meta.set, &opts)?;
        loop {
            let mut batch = Vec::new();
            let mut pages = 0;
            while pages < self.options.pages_per_commit.max(1) {
                let Some(page) = pager.next_raw_page().await? else {
                    break;
                };
                pages += 1;
                batch.extend(page);
                if pager.is_done() || bulk.stop.is_stopped() {
                    break;
                }
            }
            if !batch.is_empty() && !self.commit_batch(meta, &batch, st, report).await? {
                report.skipped = Some("the poll lease was taken over by another worker".to_owned());
                return Ok(());
            }
            snapshot.records = report.inserted + report.updated;
            snapshot.pages += pages as u64;
            snapshot.elapsed = started.elapsed();
            bulk.progress.advance(&snapshot);
            if pager.is_done() || bulk.stop.is_stopped() {
                break;
            }
        }
        snapshot.phase = Phase::Done;
        bulk.progress.finish(&snapshot);
        Ok(())
    }

    async fn reconcile(
        &self,
        meta: &'static CdmsMeta,
        st: &mut EntityState,
        report: &mut EntityPoll,
    ) -> Result<()> {
        let bulk = &self.bulk;
        bulk.progress.phase(&EntityProgress::new(
            meta.entity.name,
            meta.set,
            Phase::Reconciling,
        ));
        let scan_started = crate::store::now();
        let mut remote: HashSet<Uuid> = HashSet::new();
        if !remote_keys(&bulk.client, meta, false, &bulk.stop, |k| {
            remote.insert(k.id);
        })
        .await?
        {
            return Ok(());
        }
        let mut gone: Vec<(i64, Uuid)> = Vec::new();
        local_keys(&bulk.db, meta, |k| {
            if let Some(id) = k.cdms_id {
                if !remote.remove(&id) {
                    gone.push((k.pk, id));
                }
            }
        })
        .await?;
        for (pk, id) in gone {
            self.check_deleted(meta, pk, id, report).await?;
        }
        let missing: Vec<Uuid> = remote.into_iter().collect();
        for chunk in missing.chunks(IDS_PER_REQUEST) {
            let filter = chunk
                .iter()
                .map(|id| format!("{} eq guid'{}'", meta.id_property, id.hyphenated()))
                .collect::<Vec<_>>()
                .join(" or ");
            let opts = ListOptions {
                filter: Some(filter),
                select: codec::select(meta, None),
                ..ListOptions::default()
            };
            let records = bulk.client.list_raw(meta.set, &opts).await?;
            if records.is_empty() {
                continue;
            }
            let prepared = bulk.prepare(meta, &records).await?;
            let mut tx = bulk.db.begin().await?;
            let stats = bulk.apply_decoded(&mut tx, meta, prepared).await?;
            tx.commit().await?;
            report.recovered += stats.inserted as u64;
            report.updated += stats.updated as u64;
        }
        let mut tx = bulk.db.begin().await?;
        let mut locked = state::lock_entity(&mut tx, meta.set).await?;
        locked.reconciled_at = Some(scan_started);
        state::save_entity(&mut tx, &mut locked).await?;
        tx.commit().await?;
        *st = locked;
        report.reconciled = true;
        if report.deleted + report.recovered + report.delete_refused > 0 {
            bulk.progress.note(
                meta.entity.name,
                &format!(
                    "{}: {} deleted in CDMS removed locally, {} could not be removed, {} missing records recovered",
                    meta.set, report.deleted, report.delete_refused, report.recovered
                ),
            );
        }
        Ok(())
    }

    /// Confirms with a GET that record `id` is gone from CDMS, then removes its row `pk`.
    async fn check_deleted(
        &self,
        meta: &'static CdmsMeta,
        pk: i64,
        id: Uuid,
        report: &mut EntityPoll,
    ) -> Result<()> {
        let bulk = &self.bulk;
        match bulk.client.get_raw(meta.set, id).await {
            Ok(record) => {
                // Created after the id scan passed its place: apply it like any change.
                let prepared = bulk.prepare(meta, &[record]).await?;
                let mut tx = bulk.db.begin().await?;
                let stats = bulk.apply_decoded(&mut tx, meta, prepared).await?;
                tx.commit().await?;
                report.updated += stats.updated as u64;
                Ok(())
            }
            Err(e) if e.is_not_found() => {
                let mut tx = bulk.db.begin().await?;
                match remove_deleted(&mut tx, meta, pk, id).await {
                    Ok(()) => {
                        tx.commit().await?;
                        report.deleted += 1;
                        Ok(())
                    }
                    Err(e)
                        if matches!(SyncError::of(&e), Some(SyncError::RemoteDeleted { .. })) =>
                    {
                        tx.rollback().await?;
                        tracing::warn!(entity = meta.entity.name, pk, cdms_id = %id, error = %e, "deleted in CDMS, kept locally");
                        report.delete_refused += 1;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
