//! Read caching: identical concurrent GETs share one request, and an optional freshness window
//! remembers when a row was last confirmed in sync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use uuid::Uuid;

use crate::cdms::client::CdmsClient;
use crate::cdms::decode::RawRecord;
use crate::cdms::CdmsError;
use crate::entity::Row;

/// A GET's result: the record, or `None` when CDMS answered 404.
pub(crate) type Fetched = Result<Option<Arc<RawRecord>>, CdmsError>;

type Key = (&'static str, Uuid);
type InFlight = Shared<BoxFuture<'static, Fetched>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// GETs by key, shared while in flight.
#[derive(Default)]
pub(crate) struct SharedGets {
    inflight: Mutex<HashMap<Key, InFlight>>,
}

impl SharedGets {
    /// The record `id` of `set`: joins a GET of the same record already in flight, or starts one.
    pub(crate) async fn get(&self, client: &CdmsClient, set: &'static str, id: Uuid) -> Fetched {
        let key = (set, id);
        let fut = {
            let mut map = lock(&self.inflight);
            match map.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let client = client.clone();
                    let f = async move { fetch(&client, set, id).await }
                        .boxed()
                        .shared();
                    map.insert(key, f.clone());
                    f
                }
            }
        };
        let out = fut.clone().await;
        let mut map = lock(&self.inflight);
        if map.get(&key).is_some_and(|f| f.ptr_eq(&fut)) {
            map.remove(&key);
        }
        out
    }
}

/// One unshared GET: the record, or `None` on 404.
pub(crate) async fn fetch(client: &CdmsClient, set: &str, id: Uuid) -> Fetched {
    match client.get_raw(set, id).await {
        Ok(record) => Ok(Some(Arc::new(record))),
        Err(CdmsError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Until when each row confirmed in sync with CDMS counts as fresh. Expired marks are dropped
/// when looked up, and all at once whenever the map has doubled since the last sweep, so a
/// long-running process that confirms many records once holds only the live ones.
#[derive(Default)]
pub(crate) struct Freshness {
    state: Mutex<FreshState>,
}

#[derive(Default)]
struct FreshState {
    until: HashMap<Key, Instant>,
    /// The size at which expired marks are swept next.
    sweep_at: usize,
}

/// The smallest map worth sweeping.
const SWEEP_MIN: usize = 1024;
/// The longest a mark lasts, whatever the window (an `Instant` cannot hold every `Duration`).
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

impl Freshness {
    /// Records that record `id` of `set` is in sync now, for `window`.
    pub(crate) fn confirm(&self, set: &'static str, id: Uuid, window: Duration) {
        let now = Instant::now();
        let mut state = lock(&self.state);
        if state.until.len() >= state.sweep_at.max(SWEEP_MIN) {
            state.until.retain(|_, until| *until > now);
            state.sweep_at = state.until.len().saturating_mul(2);
        }
        let until = now.checked_add(window.min(LONGEST)).unwrap_or(now);
        state.until.insert((set, id), until);
    }

    /// Forgets record `id` of `set` (after a write or a delete).
    pub(crate) fn forget(&self, set: &'static str, id: Uuid) {
        lock(&self.state).until.remove(&(set, id));
    }

    /// Whether record `id` of `set` was confirmed less than its window ago.
    pub(crate) fn is_fresh(&self, set: &'static str, id: Uuid) -> bool {
        let mut state = lock(&self.state);
        match state.until.get(&(set, id)) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                state.until.remove(&(set, id));
                false
            }
            None => false,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.state).until.len()
    }
}

#[cfg(test)]
mod freshness_tests {
    use super::*;

    #[test]
    fn expired_marks_do_not_accumulate() {
        let fresh = Freshness::default();
        for n in 0..10_000u128 {
            fresh.confirm("AccountSet", Uuid::from_u128(n), Duration::ZERO);
        }
        assert!(fresh.len() <= SWEEP_MIN, "{} marks kept", fresh.len());
        assert!(!fresh.is_fresh("AccountSet", Uuid::from_u128(9_999)));
        // Live marks are kept through sweeps, and are fresh.
        for n in 0..3_000u128 {
            fresh.confirm("ContactSet", Uuid::from_u128(n), Duration::from_secs(600));
        }
        assert!(fresh.len() >= 3_000);
        assert!(fresh.is_fresh("ContactSet", Uuid::from_u128(0)));
        fresh.forget("ContactSet", Uuid::from_u128(0));
        assert!(!fresh.is_fresh("ContactSet", Uuid::from_u128(0)));
        // A window longer than an `Instant` can hold is a long one, not a panic.
        fresh.confirm("ContactSet", Uuid::from_u128(0), Duration::MAX);
        assert!(fresh.is_fresh("ContactSet", Uuid::from_u128(0)));
    }
}

/// In-process locks by record, so that concurrent refreshes of one record (e.g. the readers of a
/// shared GET) apply it once: the later ones find it applied.
#[derive(Default)]
pub(crate) struct RecordLocks {
    locks: Mutex<HashMap<Key, Weak<tokio::sync::Mutex<()>>>>,
}

impl RecordLocks {
    /// Waits for and takes the lock of record `id` of `set`.
    pub(crate) async fn lock(
        &self,
        set: &'static str,
        id: Uuid,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = lock(&self.locks);
            match map.get(&(set, id)).and_then(Weak::upgrade) {
                Some(l) => l,
                None => {
                    if map.len() >= 1024 {
                        map.retain(|_, w| w.strong_count() > 0);
                    }
                    let l = Arc::new(tokio::sync::Mutex::new(()));
                    map.insert((set, id), Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }
}

/// Whole single-record refreshes (GET and apply), shared by identical reads that arrive while
/// one is running: the followers wait for the leader and take its result instead of repeating
/// the request and the local work, and with it the local row when the leader left it as it was
/// (a record in sync), so they need not read it either. When the leader fails (or is
/// cancelled), each follower runs its own refresh, so errors stay typed and per caller.
#[derive(Default)]
pub(crate) struct SharedRefreshes {
    running: Mutex<HashMap<RefreshKey, Shared<BoxFuture<'static, Joined>>>>,
}

/// What a follower gets from the leader: `None` when the leader failed, otherwise the local row
/// it left as it was, if any.
type Joined = Option<Option<Row>>;

/// What a single-record refresh is keyed by: the record's CDMS id, or the local key it was read
/// by (joined before the local row is even read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RefreshKey {
    /// `(set, CDMS id)`
    Id(&'static str, Uuid),
    /// `(set, local primary key)`
    Pk(&'static str, i64),
}

/// Removes the leader's entry when the leader finishes or is dropped.
struct Leading<'a> {
    map: &'a SharedRefreshes,
    key: RefreshKey,
    fut: Shared<BoxFuture<'static, Joined>>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let mut map = lock(&self.map.running);
        if map.get(&self.key).is_some_and(|f| f.ptr_eq(&self.fut)) {
            map.remove(&self.key);
        }
    }
}

impl SharedRefreshes {
    /// Runs `refresh` for `key`, or waits for the identical one already running and takes its
    /// result: `Some(row)` is the local row the refresh left as it was.
    pub(crate) async fn run<F, Fut>(
        &self,
        key: RefreshKey,
        refresh: F,
    ) -> crate::error::Result<Option<Row>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = crate::error::Result<Option<Row>>>,
    {
        // Looked up and, when absent, inserted under one lock: two reads that start together
        // cannot both lead (each would then read the row itself).
        let (done, fut) = {
            let mut running = lock(&self.running);
            match running.get(&key) {
                Some(fut) => (None, fut.clone()),
                None => {
                    // Dropped unsent when the leader fails: the followers then run their own.
                    let (done, outcome) = tokio::sync::oneshot::channel::<Option<Row>>();
                    let fut = async move { outcome.await.ok() }.boxed().shared();
                    running.insert(key, fut.clone());
                    (Some(done), fut)
                }
            }
        };
        let Some(done) = done else {
            return match fut.await {
                Some(kept) => Ok(kept),
                None => refresh().await,
            };
        };
        let _leading = Leading {
            map: self,
            key,
            fut,
        };
        let out = refresh().await;
        if let Ok(kept) = &out {
            let _ = done.send(kept.clone());
        }
        out
    }
}
