//! Progress reporting for the bulk engines, independent of any terminal library.
//!
//! The engines call a [`Progress`] as they go; the command line renders it as progress bars on a
//! terminal and as log lines otherwise. [`LogProgress`] (tracing lines, throttled) and
//! [`NoProgress`] are provided here.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What an engine is doing with an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Finding the partitions of the initial load (a few small CDMS requests).
    Planning,
    /// Loading records.
    Loading,
    /// Fetching newly mapped or changed properties of rows synced under an older mapping.
    Backfilling,
    /// Waiting for other workers to finish the entity's partitions they hold.
    Waiting,
    /// Fetching records changed since the watermark.
    Polling,
    /// Comparing the record ids on both sides.
    Reconciling,
    /// Finished.
    Done,
}

impl Phase {
    /// A short lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Planning => "planning",
            Phase::Loading => "loading",
            Phase::Backfilling => "backfilling",
            Phase::Waiting => "waiting for other workers",
            Phase::Polling => "polling",
            Phase::Reconciling => "reconciling",
            Phase::Done => "done",
        }
    }
}

/// A snapshot of the work on one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityProgress {
    /// The local entity name (`Organisation`).
    pub entity: &'static str,
    /// The CDMS entity set (`AccountSet`).
    pub set: &'static str,
    /// What is happening.
    pub phase: Phase,
    /// Records applied by this process so far.
    pub records: u64,
    /// Records applied before this process started (a resumed load), or by other workers.
    pub records_before: u64,
    /// Pages fetched by this process.
    pub pages: u64,
    /// Records this process could not apply and quarantined (they are counted in `records`).
    pub quarantined: u64,
    /// Partitions finished (by any worker), and how many there are.
    pub partitions_done: u64,
    /// Partitions in all (0 when the entity is not partitioned, e.g. while polling).
    pub partitions: u64,
    /// The estimated number of records in all (this process's and earlier ones), when it can be
    /// estimated: CDMS has no counts, so this is extrapolated from how much of the `CreatedOn`
    /// range the finished and running partitions have covered.
    pub estimated_total: Option<u64>,
    /// Time since the engine started on the entity.
    pub elapsed: Duration,
}

impl EntityProgress {
    /// A fresh snapshot for `entity` in `phase`.
    pub fn new(entity: &'static str, set: &'static str, phase: Phase) -> Self {
        EntityProgress {
            entity,
            set,
            phase,
            records: 0,
            records_before: 0,
            pages: 0,
            quarantined: 0,
            partitions_done: 0,
            partitions: 0,
            estimated_total: None,
            elapsed: Duration::ZERO,
        }
    }

    /// Records applied per second by this process.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.records as f64 / secs
        } else {
            0.0
        }
    }

    /// The estimated time left, when the total can be estimated and records are flowing.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.estimated_total?;
        let rate = self.rate();
        let done = self.records + self.records_before;
        if rate <= 0.0 || total <= done {
            return (total <= done).then_some(Duration::ZERO);
        }
        Some(Duration::from_secs_f64((total - done) as f64 / rate))
    }
}

/// Receives progress from the engines. Every method has an empty default, and implementations
/// must be cheap: they are called once per page.
pub trait Progress: Send + Sync {
    /// Work on an entity starts (or enters a new phase).
    fn phase(&self, p: &EntityProgress) {
        let _ = p;
    }
    /// Records were applied.
    fn advance(&self, p: &EntityProgress) {
        let _ = p;
    }
    /// Work on an entity ended (`p.phase` is [`Phase::Done`]).
    fn finish(&self, p: &EntityProgress) {
        let _ = p;
    }
    /// Something worth telling the operator (a retry, a lease taken over, a deleted record).
    fn note(&self, entity: &'static str, message: &str) {
        let _ = (entity, message);
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Reports through `tracing` at INFO: phase changes, finishes and notes at once, record counts at
/// most every `interval` per entity.
#[derive(Debug)]
pub struct LogProgress {
    interval: Duration,
    last: Mutex<Vec<(&'static str, Instant)>>,
}

impl LogProgress {
    /// Count lines at most every `interval` per entity.
    pub fn every(interval: Duration) -> Self {
        LogProgress {
            interval,
            last: Mutex::new(Vec::new()),
        }
    }

    fn due(&self, entity: &'static str) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match last.iter_mut().find(|(e, _)| *e == entity) {
            Some((_, at)) if now.duration_since(*at) < self.interval => false,
            Some((_, at)) => {
                *at = now;
                true
            }
            None => {
                last.push((entity, now));
                true
            }
        }
    }
}

impl Default for LogProgress {
    /// A line every 5 seconds per entity.
    fn default() -> Self {
        LogProgress::every(Duration::from_secs(5))
    }
}

fn estimate(p: &EntityProgress) -> String {
    match (p.estimated_total, p.eta()) {
        (Some(total), Some(eta)) => format!(", ~{total} in all, ETA {}s", eta.as_secs()),
        (Some(total), None) => format!(", ~{total} in all"),
        _ => String::new(),
    }
}

impl Progress for LogProgress {
    fn phase(&self, p: &EntityProgress) {
        tracing::info!(
            entity = p.entity,
            set = p.set,
            partitions = p.partitions,
            "{}",
            p.phase.as_str()
        );
    }

    fn advance(&self, p: &EntityProgress) {
        if self.due(p.entity) {
            tracing::info!(
                entity = p.entity,
                "{} records ({:.0}/s), {}/{} partitions{}",
                p.records + p.records_before,
                p.rate(),
                p.partitions_done,
                p.partitions,
                estimate(p)
            );
        }
    }

    fn finish(&self, p: &EntityProgress) {
        tracing::info!(
            entity = p.entity,
            set = p.set,
            "done: {} records in {:.1}s ({:.0}/s), {} pages",
            p.records,
            p.elapsed.as_secs_f64(),
            p.rate(),
            p.pages
        );
    }

    fn note(&self, entity: &'static str, message: &str) {
        tracing::info!(entity, "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_eta() {
        let mut p = EntityProgress::new("Organisation", "AccountSet", Phase::Loading);
        assert_eq!(p.rate(), 0.0);
        assert_eq!(p.eta(), None);
        p.records = 500;
        p.records_before = 500;
        p.elapsed = Duration::from_secs(5);
        p.estimated_total = Some(2_000);
        assert_eq!(p.rate(), 100.0);
        assert_eq!(p.eta(), Some(Duration::from_secs(10)));
        p.estimated_total = Some(900);
        assert_eq!(p.eta(), Some(Duration::ZERO));
    }

    #[test]
    fn log_lines_are_throttled_per_entity() {
        let log = LogProgress::every(Duration::from_secs(3600));
        assert!(log.due("A"));
        assert!(!log.due("A"));
        assert!(log.due("B"));
    }
}
