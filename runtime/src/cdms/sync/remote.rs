//! [`CdmsRemote`]: the sync protocol plugged into the local store as its [`Remote`].

use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::apply::Fetch;
use super::config::SyncConfig;
use super::fields::{cdms_of, id_of};
use super::inflight::{Freshness, RecordLocks, SharedGets, SharedRefreshes};
use super::outcome::{OutcomeLog, WriteOutcome};
use super::prefetch::References;
use super::quarantine::{QuarantineState, Quarantined, Rejected};
use super::stale::StaleState;
use super::{guard, read, write};
use crate::cdms::client::CdmsClient;
use crate::cdms::meta::CdmsMeta;
use crate::entity::{EntityMeta, Row};
use crate::error::Result;
use crate::store::remote::{Stage, Staged};
use crate::store::{Conn, Db, ReadSpec, Remote, Tx};

/// Keeps the local store in sync with CDMS: install it on a [`Db`] handle
/// ([`CdmsRemote::attach`]) and the query API reads through and writes through CDMS for every
/// entity that derives `CdmsSynced` (see the [module docs](super)). Cheap to clone (clones share
/// the client, the in-flight GETs, the freshness marks and the outcome log).
#[derive(Clone)]
pub struct CdmsRemote {
    inner: Arc<Inner>,
}

struct Inner {
    client: CdmsClient,
    config: SyncConfig,
    gets: SharedGets,
    refreshes: SharedRefreshes,
    locks: RecordLocks,
    fresh: Freshness,
    outcomes: OutcomeLog,
    quarantine: QuarantineState,
    stale: StaleState,
}

impl std::fmt::Debug for CdmsRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdmsRemote")
            .field("client", &self.inner.client)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl CdmsRemote {
    /// A remote talking to CDMS through `client`, tuned by `config`.
    pub fn new(client: CdmsClient, config: SyncConfig) -> Self {
        CdmsRemote {
            inner: Arc::new(Inner {
                client,
                config,
                gets: SharedGets::default(),
                refreshes: SharedRefreshes::default(),
                locks: RecordLocks::default(),
                fresh: Freshness::default(),
                outcomes: OutcomeLog::default(),
                quarantine: QuarantineState::default(),
                stale: StaleState::default(),
            }),
        }
    }

    /// A clone of `db` with this remote installed: its queries and writes on synced entities go
    /// through CDMS (unless in `skip_cdms` mode).
    pub fn attach(&self, db: &Db) -> Db {
        db.with_remote(Arc::new(self.clone()))
    }

    /// The CDMS client.
    pub fn client(&self) -> &CdmsClient {
        &self.inner.client
    }

    /// The settings.
    pub fn config(&self) -> &SyncConfig {
        &self.inner.config
    }

    /// The most recent write outcomes (merges with, and overwrites of, concurrent CDMS changes),
    /// oldest first; at most [`SyncConfig::outcome_log`] entries.
    pub fn recent_outcomes(&self) -> Vec<WriteOutcome> {
        self.inner.outcomes.snapshot()
    }

    /// The records that could not be applied locally (see the quarantine in the
    /// [module docs](super)), by entity set and CDMS id. A later read, poll or load that applies
    /// a record clears its entry.
    pub async fn quarantine(&self, db: &Db) -> Result<Vec<Quarantined>> {
        self.inner.quarantine.list(db, None).await
    }

    /// The quarantined records of one entity set (`AccountSet`).
    pub async fn quarantine_of(&self, db: &Db, set: &str) -> Result<Vec<Quarantined>> {
        self.inner.quarantine.list(db, Some(set)).await
    }

    pub(crate) fn quarantine_state(&self) -> &QuarantineState {
        &self.inner.quarantine
    }

    pub(crate) fn stale_state(&self) -> &StaleState {
        &self.inner.stale
    }

    /// After an apply of whole records of `set` inside `tx`: the rows applied or found in sync
    /// are no longer stale (see [`super::stale`]), and the quarantine records what was rejected
    /// and clears what was applied.
    pub(crate) async fn after_apply(
        &self,
        tx: &mut Tx,
        set: &str,
        stats: &super::ApplyStats,
        extra: &[Rejected],
    ) -> Result<()> {
        let bad: std::collections::HashSet<uuid::Uuid> = extra
            .iter()
            .chain(stats.rejected.iter())
            .filter_map(|r| r.cdms_id)
            .collect();
        let good: Vec<uuid::Uuid> = stats
            .keys
            .keys()
            .filter(|id| !bad.contains(id))
            .copied()
            .collect();
        self.inner.stale.clear(tx, set, &good).await?;
        self.inner
            .quarantine
            .after_apply(tx, set, stats, extra)
            .await
    }

    pub(crate) fn gets(&self) -> &SharedGets {
        &self.inner.gets
    }

    pub(crate) fn refreshes(&self) -> &SharedRefreshes {
        &self.inner.refreshes
    }

    pub(crate) fn locks(&self) -> &RecordLocks {
        &self.inner.locks
    }

    pub(crate) fn report(&self, outcome: WriteOutcome) {
        self.inner
            .outcomes
            .push(outcome, self.inner.config.outcome_log_entries());
    }

    /// Marks a record as confirmed in sync now (only kept for entities with a freshness window).
    pub(crate) fn confirm(&self, cdms: &'static CdmsMeta, id: uuid::Uuid) {
        if let Some(window) = self.inner.config.freshness_window(cdms.entity) {
            self.inner.fresh.confirm(cdms.set, id, window);
        }
    }

    /// Forgets a record's freshness mark.
    pub(crate) fn forget(&self, cdms: &'static CdmsMeta, id: uuid::Uuid) {
        self.inner.fresh.forget(cdms.set, id);
    }

    /// Whether a `get` of the record may skip CDMS.
    pub(crate) fn is_fresh(&self, cdms: &'static CdmsMeta, id: uuid::Uuid) -> bool {
        self.inner.config.freshness_window(cdms.entity).is_some()
            && self.inner.fresh.is_fresh(cdms.set, id)
    }
}

impl Remote for CdmsRemote {
    fn stage<'a>(
        &'a self,
        db: &'a Db,
        meta: &'static EntityMeta,
        write: Stage<'a>,
    ) -> BoxFuture<'a, Result<Option<Staged>>> {
        async move {
            let conn = Conn::Db(db);
            let staged = match write {
                Stage::Insert { row, restore } => {
                    write::stage_insert(self, conn, meta, row, restore).await?
                }
                Stage::Update { old, new } => {
                    write::stage_update(self, conn, meta, old, new, true).await?
                }
                Stage::Delete { row } => {
                    write::delete(self, meta, row).await?;
                    write::Staged::Deleted
                }
            };
            // What CDMS answered may name referenced records missing locally: fetched now,
            // before the local transaction.
            let references = write::references(self, db, meta, &staged).await?;
            Ok(Some(Staged(Box::new((staged, references)))))
        }
        .boxed()
    }

    fn finish<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        old: Option<&'a Row>,
        row: &'a mut Row,
        staged: Staged,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let Ok(staged) = staged.0.downcast::<(write::Staged, References)>() else {
                return Err(crate::Error::Refused {
                    entity: meta.name,
                    message: "a staged write of another remote".to_owned(),
                });
            };
            let (staged, references) = *staged;
            let fetch = Fetch::Ahead(&references);
            write::finish(self, tx, meta, old, row, staged, fetch).await
        }
        .boxed()
    }

    fn before_read<'a>(
        &'a self,
        db: &'a Db,
        meta: &'static EntityMeta,
        spec: &'a ReadSpec,
    ) -> BoxFuture<'a, Result<Option<Vec<Row>>>> {
        read::before_read(self, db, meta, spec).boxed()
    }

    fn insert<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        row: &'a mut Row,
        restore: bool,
    ) -> BoxFuture<'a, Result<()>> {
        write::insert(self, tx, meta, row, restore).boxed()
    }

    fn update<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        old: &'a Row,
        new: &'a mut Row,
    ) -> BoxFuture<'a, Result<()>> {
        write::update(self, tx, meta, old, new).boxed()
    }

    fn delete<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'static EntityMeta,
        row: &'a Row,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = tx;
        write::delete(self, meta, row).boxed()
    }

    fn local_write_guard(
        &self,
        meta: &'static EntityMeta,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> Result<()> {
        guard::check(meta, old, new)
    }

    fn remote_key(&self, meta: &'static EntityMeta, row: &Row) -> Option<String> {
        let cdms = cdms_of(meta).ok()?;
        id_of(cdms, row)
            .ok()
            .flatten()
            .map(|id| id.hyphenated().to_string())
    }
}
