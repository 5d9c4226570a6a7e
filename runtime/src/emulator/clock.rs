//! The emulator's clock: where `CreatedOn`/`ModifiedOn` and session ages come from.
//!
//! CRM stamps records with whole-second precision (dialect §5); the store truncates whatever the
//! clock says according to [`Precision`]. A [`Clock`] is a cheap, shareable handle: tests keep a
//! clone and [`advance`](Clock::advance) or [`set`](Clock::set) it to make two edits land in the
//! same second, or in different ones, deterministically.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// How precise server-side timestamps are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Whole seconds, as CRM 2011 stores them (the default).
    #[default]
    Seconds,
    /// Milliseconds (the finest `/Date(ms)/` can carry).
    Millis,
}

impl Precision {
    /// Truncates an instant to this precision, in milliseconds since the epoch.
    pub fn truncate_ms(self, t: DateTime<Utc>) -> i64 {
        let ms = t.timestamp_millis();
        match self {
            Precision::Seconds => ms.div_euclid(1000) * 1000,
            Precision::Millis => ms,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// The system clock shifted by an offset (moved by [`Clock::advance`]).
    System { offset: TimeDelta },
    /// A frozen instant, moved only by [`Clock::advance`] and [`Clock::set`].
    Manual(DateTime<Utc>),
}

/// A controllable clock shared by the emulator and the test that drives it.
#[derive(Clone)]
pub struct Clock {
    mode: Arc<Mutex<Mode>>,
}

impl Clock {
    /// The system clock (UTC).
    pub fn system() -> Self {
        Self::with_mode(Mode::System {
            offset: TimeDelta::zero(),
        })
    }

    /// A manual clock standing still at `start` until advanced or set.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::Manual(start))
    }

    fn with_mode(mode: Mode) -> Self {
        Clock {
            mode: Arc::new(Mutex::new(mode)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Mode> {
        self.mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.lock() {
            Mode::System { offset } => Utc::now() + offset,
            Mode::Manual(t) => t,
        }
    }

    /// Moves the clock forward by `by` (a system clock keeps ticking from the shifted time).
    pub fn advance(&self, by: Duration) {
        let delta = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        let mut mode = self.lock();
        *mode = match *mode {
            Mode::System { offset } => Mode::System {
                offset: offset.checked_add(&delta).unwrap_or(offset),
            },
            Mode::Manual(t) => Mode::Manual(t.checked_add_signed(delta).unwrap_or(t)),
        };
    }

    /// Sets the clock to `t` and stops it there (it becomes a manual clock).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.lock() = Mode::Manual(t);
    }

    /// Stops the clock at the current instant (it becomes a manual clock).
    pub fn freeze(&self) {
        let now = self.now();
        self.set(now);
    }

    /// Whether the clock is manual (frozen).
    pub fn is_manual(&self) -> bool {
        matches!(*self.lock(), Mode::Manual(_))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self.lock() {
            Mode::System { offset } => write!(f, "Clock::System(offset {offset})"),
            Mode::Manual(t) => write!(f, "Clock::Manual({t})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2016, 1, 31, 13, 5, 9).unwrap();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(
            clock.now().timestamp_millis(),
            start.timestamp_millis() + 1500
        );
        let shared = clock.clone();
        shared.set(start);
        assert_eq!(clock.now(), start);
        assert!(clock.is_manual());
    }

    #[test]
    fn system_clock_advances_by_offset() {
        let clock = Clock::system();
        let before = Utc::now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() >= before + TimeDelta::seconds(3600));
        assert!(!clock.is_manual());
        clock.freeze();
        assert!(clock.is_manual());
    }

    #[test]
    fn precision_truncates_including_before_1970() {
        let t = Utc.timestamp_millis_opt(1_451_606_400_999).unwrap();
        assert_eq!(Precision::Seconds.truncate_ms(t), 1_451_606_400_000);
        assert_eq!(Precision::Millis.truncate_ms(t), 1_451_606_400_999);
        let early = Utc.timestamp_millis_opt(-1_500).unwrap();
        assert_eq!(Precision::Seconds.truncate_ms(early), -2_000);
    }
}
