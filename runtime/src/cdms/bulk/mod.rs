//! Bulk engines on top of the sync protocol: the initial load ([`load`]), the incremental poller
//! ([`poll`]), the backfill of newly mapped properties ([`backfill`]) and the drift report
//! ([`mod@status`]).
//!
//! Per-request sync keeps the rows an application touches fresh; these engines keep whole entity
//! sets in step with CDMS: [`Loader`] copies every record once (partitioned, concurrent,
//! resumable, shareable between processes), [`Poller`] then follows the changes made in CDMS
//! (`ModifiedOn` watermark with an overlap window, deletions by key reconciliation), and
//! [`status()`] reports how far the two sides are apart.
//!
//! Every record goes through the sync layer's apply path ([`crate::cdms::apply_records`]): the
//! same decoding, lookup resolution, batched upsert and `remote refresh` history versions as a
//! read through the query API.
//!
//! The engines keep their state in two tables of the local database, created on first use:
//! `cdms_sync_entity` (per set: the load plan, the poll watermark, when ids were last
//! reconciled, the poll lease) and `cdms_sync_checkpoint` (per load partition: its `$filter`,
//! the link of the next page to fetch, counts, the lease). See [`state`]. The mapping record
//! (`cdms_sync_mapping`) and the rows synced under an older mapping (`cdms_sync_stale`) drive
//! the [`backfill`]; see [`mapping`].
//!
//! # Running several workers
//! On PostgreSQL any number of `load` and `poll` processes may share a database: load
//! partitions and poll entities are claimed through leases (`FOR UPDATE SKIP LOCKED`, an expiry
//! time renewed while the work runs), every page is committed together with its checkpoint after
//! checking the lease, and the partitions of a crashed worker are taken over from their
//! checkpoints once its lease expires. Lease expiry compares the workers' clocks, which should be
//! synchronised (NTP) to well within the lease duration. On SQLite, run one process at a time
//! (the tasks of one process cooperate; the database has a single writer).

mod apply;
pub mod backfill;
mod group;
mod lease;
pub mod load;
pub mod mapping;
mod plan;
pub mod poll;
pub mod progress;
mod scan;
mod skew;
pub mod state;
pub mod status;
mod stop;
mod worker;

use std::sync::Arc;

use crate::cdms::client::CdmsClient;
use crate::cdms::sync::CdmsRemote;
use crate::store::Db;

pub use backfill::{BackfillReport, Backfiller, EntityBackfill};
pub use load::{EntityLoad, LoadOptions, LoadReport, Loader};
pub use mapping::MappingChange;
pub use poll::{EntityPoll, PollOptions, PollReport, Poller};
pub use progress::{EntityProgress, LogProgress, NoProgress, Phase, Progress};
pub use state::{EntityState, Partition};
pub use status::{status, EntityStatus, ModifiedDiff, StatusReport};
pub use stop::Stop;

/// What the engines work with: the local database, the sync remote (and its client), who this
/// worker is, where progress goes, and the stop signal. Cheap to clone.
#[derive(Clone)]
pub struct Bulk {
    pub(crate) db: Db,
    pub(crate) remote: Arc<CdmsRemote>,
    pub(crate) client: CdmsClient,
    pub(crate) worker: String,
    pub(crate) progress: Arc<dyn Progress>,
    pub(crate) stop: Stop,
}

impl std::fmt::Debug for Bulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulk")
            .field("db", &self.db)
            .field("client", &self.client)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

/// A worker id unique to this process: `host:pid:random`.
pub fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}:{}:{:04x}", std::process::id(), fastrand::u16(..))
}

impl Bulk {
    /// Engines writing to `db` and reading CDMS through `remote` (installed on the handle, so
    /// history versions carry the CDMS id). The handle's actor, if any, is recorded in history.
    pub fn new(db: &Db, remote: Arc<CdmsRemote>) -> Self {
        let client = remote.client().clone();
        let db = db.with_remote(remote.clone());
        Bulk {
            db,
            remote,
            client,
            worker: default_worker_id(),
            progress: Arc::new(NoProgress),
            stop: Stop::new(),
        }
    }

    /// Names this worker in leases (default [`default_worker_id`]). A process restarted with the
    /// same id takes its unexpired leases back at once instead of waiting for them to expire; two
    /// live processes must never share an id.
    pub fn worker(mut self, id: impl Into<String>) -> Self {
        self.worker = id.into();
        self
    }

    /// Where progress goes (default: nowhere).
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// The stop signal the engines watch (default: a fresh one; see [`Bulk::stop_signal`]).
    pub fn stop(mut self, stop: Stop) -> Self {
        self.stop = stop;
        self
    }

    /// The stop signal: fire it to stop at the next safe point.
    pub fn stop_signal(&self) -> &Stop {
        &self.stop
    }

    /// The worker id.
    pub fn worker_id(&self) -> &str {
        &self.worker
    }

    /// The database handle (with the remote installed).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The CDMS client.
    pub fn client(&self) -> &CdmsClient {
        &self.client
    }

    /// Creates the engines' state tables if they do not exist (the engines also do it on first
    /// use).
    pub async fn migrate(&self) -> crate::Result<()> {
        state::migrate(&self.db).await
    }
}
