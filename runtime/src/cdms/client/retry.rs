//! When and how long to wait before repeating a request.

use std::time::Duration;

/// Retries of idempotent requests after transient failures (5xx, 429, timeouts, dropped
/// connections): jittered exponential backoff, bounded by a number of attempts and a total time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff before the first retry (before jitter); it doubles with each retry.
    pub base_delay: Duration,
    /// The longest single backoff (also caps a server's `Retry-After`).
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms doubling up to 8 s, at most 60 s in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `retry` (0-based): half of
    /// `min(max_delay, base_delay · 2^retry)` plus a uniformly random part of the other half.
    pub fn delay(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(20));
        let cap = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = cap / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rng.u64(0..=nanos))
    }

    /// The wait before the next attempt, or `None` when the budget is spent. `attempts` were
    /// made so far, `elapsed` since the first; `retry_after` is the server's hint.
    pub(crate) fn next_delay(
        &self,
        attempts: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let backoff = self.delay(attempts.saturating_sub(1), rng);
        let delay = retry_after.map_or(backoff, |r| r.min(self.max_delay).max(backoff));
        (elapsed + delay <= self.max_elapsed).then_some(delay)
    }
}
