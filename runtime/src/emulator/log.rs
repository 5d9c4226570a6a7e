//! The request log: every HTTP request the emulator answered (or refused to answer), for tests
//! that assert how many calls a client made and which.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::faults::FaultId;

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The effective method: a tunnelled `X-HTTP-Method` (`MERGE`, `PUT`, `DELETE`) replaces the
    /// `POST` it rode on.
    pub method: String,
    /// Whether the method came through `X-HTTP-Method`.
    pub tunnelled: bool,
    /// The request path, as sent (percent-encoded).
    pub path: String,
    /// The raw query string, as sent (empty when there is none).
    pub query: String,
    /// The answered status; `None` when no answer was sent (dropped or hung connection).
    pub status: Option<u16>,
    /// The entity set the request addressed, if any.
    pub set: Option<String>,
    /// Time from receiving the request to handing over the answer (latency included).
    pub duration: Duration,
    /// When the request arrived (wall clock).
    pub at: SystemTime,
    /// The fault rule that fired on this request, if any.
    pub fault: Option<FaultId>,
}

/// The shared request log of an emulator.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: Arc<Mutex<Vec<RequestRecord>>>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, record: RequestRecord) {
        self.lock().push(record);
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// How many requests used `method` (case-insensitive, tunnelled methods count as themselves)
    /// on entity set `set`.
    pub fn count(&self, method: &str, set: &str) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.set.as_deref() == Some(set))
            .count()
    }

    /// How many requests satisfy `pred`.
    pub fn count_where(&self, pred: impl Fn(&RequestRecord) -> bool) -> usize {
        self.lock().iter().filter(|r| pred(r)).count()
    }

    /// How many requests were logged.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was logged.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every logged request.
    pub fn reset(&self) {
        self.lock().clear();
    }
}
