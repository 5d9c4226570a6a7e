//! Tuning of the sync protocol.

use std::collections::HashMap;
use std::time::Duration;

use crate::entity::{Entity, EntityMeta};

/// How many records one list read refreshes at most, by default (10 CDMS pages of 50).
pub const DEFAULT_PAGE_CAP: usize = 500;
/// How deep missing reference targets are fetched, by default (contact → organisation →
/// country is 2).
pub const DEFAULT_REFERENCE_DEPTH: usize = 4;
/// How many write outcomes [`super::CdmsRemote::recent_outcomes`] keeps, by default.
pub const DEFAULT_OUTCOME_LOG: usize = 1000;

/// Settings of a [`super::CdmsRemote`].
///
/// ```
/// # use cdms_runtime::cdms::SyncConfig;
/// let config = SyncConfig::default().page_cap(1000).reference_depth(3);
/// assert_eq!(config.page_cap_records(), 1000);
/// ```
#[derive(Debug, Clone)]
pub struct SyncConfig {
    page_cap: usize,
    reference_depth: usize,
    outcome_log: usize,
    freshness: HashMap<&'static str, Duration>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            page_cap: DEFAULT_PAGE_CAP,
            reference_depth: DEFAULT_REFERENCE_DEPTH,
            outcome_log: DEFAULT_OUTCOME_LOG,
            freshness: HashMap::new(),
        }
    }
}

impl SyncConfig {
    /// The default settings: a cap of 500 records per list read, references fetched 4 levels
    /// deep, no freshness window (every read asks CDMS).
    pub fn new() -> Self {
        Self::default()
    }

    /// The most records a list read (`filter`, `all`, `count`, ...) fetches from CDMS and
    /// refreshes locally, following `__next` page by page (at least 1). Records beyond the cap
    /// are not refreshed by that read.
    pub fn page_cap(mut self, records: usize) -> Self {
        self.page_cap = records.max(1);
        self
    }

    /// How many levels of missing reference targets a refresh fetches from CDMS before it gives
    /// up with [`super::SyncError::UnresolvedReference`] (0: never fetch; targets must exist
    /// locally).
    pub fn reference_depth(mut self, depth: usize) -> Self {
        self.reference_depth = depth;
        self
    }

    /// How many write outcomes (merges and conflicts) the remote keeps for
    /// [`super::CdmsRemote::recent_outcomes`].
    pub fn outcome_log(mut self, entries: usize) -> Self {
        self.outcome_log = entries;
        self
    }

    /// A freshness window for entity `E`: a `get` of a row that was confirmed in sync with CDMS
    /// less than `window` ago (by a read or a write through this remote) does not ask CDMS
    /// again. Off by default (strict: every `get` asks CDMS). Writes always ask CDMS.
    pub fn freshness<E: Entity>(self, window: Duration) -> Self {
        self.freshness_for(E::META, window)
    }

    /// [`SyncConfig::freshness`] for an entity given by its metadata.
    pub fn freshness_for(mut self, meta: &'static EntityMeta, window: Duration) -> Self {
        self.freshness.insert(meta.table, window);
        self
    }

    /// The page cap, in records.
    pub fn page_cap_records(&self) -> usize {
        self.page_cap
    }

    /// The reference depth bound.
    pub fn reference_depth_bound(&self) -> usize {
        self.reference_depth
    }

    /// The size of the outcome log.
    pub fn outcome_log_entries(&self) -> usize {
        self.outcome_log
    }

    /// The freshness window of `meta`'s entity, if one is set.
    pub fn freshness_window(&self, meta: &EntityMeta) -> Option<Duration> {
        self.freshness
            .get(meta.table)
            .copied()
            .filter(|d| !d.is_zero())
    }
}
