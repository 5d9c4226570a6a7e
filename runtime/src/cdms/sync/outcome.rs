//! Outcomes of writes that met a concurrent change in CDMS: observable, never silent.
//!
//! When an update finds that CDMS changed the record since the last sync, the write still
//! happens (the seed's rule: last writer wins, history keeps both versions), and a
//! [`WriteOutcome`] says what was merged and what was overwritten. Outcomes are
//! - logged (`tracing::warn!` for overwrites, `info!` for clean merges),
//! - kept in the remote's recent log ([`super::CdmsRemote::recent_outcomes`]),
//! - and returned to a caller that wraps its writes in [`observe`].

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What an update did when CDMS had changed the record since the last sync.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    /// The entity type.
    pub entity: &'static str,
    /// The local primary key.
    pub pk: i64,
    /// The CDMS id.
    pub cdms_id: Uuid,
    /// Fields changed in CDMS only: their CDMS values were kept (merged into the write).
    pub merged: Vec<&'static str>,
    /// Fields changed on both sides to different values: the local value won and overwrote
    /// CDMS's; history holds CDMS's version (`remote refresh`) just before the local one.
    pub overwritten: Vec<&'static str>,
    /// CDMS's `ModifiedOn` when the change was detected.
    pub cdms_modified: DateTime<Utc>,
    /// The actor of the write, if the handle had one.
    pub actor: Option<String>,
}

impl WriteOutcome {
    /// Whether the same field was changed on both sides (a last-writer-wins overwrite).
    pub fn is_conflict(&self) -> bool {
        !self.overwritten.is_empty()
    }
}

tokio::task_local! {
    static OBSERVED: Arc<Mutex<Vec<WriteOutcome>>>;
}

/// Runs `fut` and returns its output with the [`WriteOutcome`]s of the writes it made through
/// any [`super::CdmsRemote`] (in the same task).
///
/// ```no_run
/// # async fn demo<E: cdms_runtime::Entity>(db: &cdms_runtime::Db, mut org: E) -> cdms_runtime::Result<()> {
/// use cdms_runtime::cdms::sync::observe;
/// use cdms_runtime::query::EntityExt;
/// let (saved, outcomes) = observe(org.save(db)).await;
/// saved?;
/// for o in outcomes.iter().filter(|o| o.is_conflict()) {
///     eprintln!("{} {}: overwrote CDMS's {:?}", o.entity, o.pk, o.overwritten);
/// }
/// # Ok(()) }
/// ```
pub async fn observe<F: Future>(fut: F) -> (F::Output, Vec<WriteOutcome>) {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let out = OBSERVED.scope(Arc::clone(&sink), fut).await;
    let outcomes = std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner()));
    (out, outcomes)
}

/// The recent outcomes of one remote (bounded).
#[derive(Debug, Default)]
pub(crate) struct OutcomeLog {
    entries: Mutex<VecDeque<WriteOutcome>>,
}

impl OutcomeLog {
    /// Logs, keeps and reports `outcome`.
    pub(crate) fn push(&self, outcome: WriteOutcome, capacity: usize) {
        if outcome.is_conflict() {
            tracing::warn!(
                entity = outcome.entity,
                pk = outcome.pk,
                cdms_id = %outcome.cdms_id,
                overwritten = ?outcome.overwritten,
                merged = ?outcome.merged,
                "CDMS changed the record since the last sync; the local write overwrote the same \
                 fields (history keeps CDMS's version)"
            );
        } else {
            tracing::info!(
                entity = outcome.entity,
                pk = outcome.pk,
                cdms_id = %outcome.cdms_id,
                merged = ?outcome.merged,
                "CDMS changed the record since the last sync; its changes were merged"
            );
        }
        let _ = OBSERVED.try_with(|sink| {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(outcome.clone())
        });
        if capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        while entries.len() >= capacity {
            entries.pop_front();
        }
        entries.push_back(outcome);
    }

    /// A copy of the kept outcomes, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<WriteOutcome> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
