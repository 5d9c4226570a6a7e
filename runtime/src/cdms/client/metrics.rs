//! Request counters, readable by tests and benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The HTTP verbs the client uses (MERGE rides on POST with `X-HTTP-Method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// `GET`: list, get.
    Get,
    /// `POST`: create (and sign-in).
    Post,
    /// `POST` + `X-HTTP-Method: MERGE`: partial update.
    Merge,
    /// `DELETE`.
    Delete,
}

impl Verb {
    const ALL: [Verb; 4] = [Verb::Get, Verb::Post, Verb::Merge, Verb::Delete];

    fn index(self) -> usize {
        self as usize
    }

    /// The method name (`MERGE` for the tunnelled update).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Merge => "MERGE",
            Verb::Delete => "DELETE",
        }
    }

    /// Whether repeating the request cannot change the outcome (GET, DELETE, MERGE of the same
    /// body).
    pub const fn is_idempotent(self) -> bool {
        !matches!(self, Verb::Post)
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counters of one client (shared by its clones). All counts start at zero.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 4],
    transport_errors: [AtomicU64; 4],
    statuses: Mutex<BTreeMap<(Verb, u16), u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    retries: AtomicU64,
    reauths: AtomicU64,
    logins: AtomicU64,
    pages: AtomicU64,
    replayed_creates: AtomicU64,
}

/// A point-in-time copy of [`Metrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Requests sent (attempts, retries included), by verb. Sign-ins are not included.
    pub requests: BTreeMap<Verb, u64>,
    /// Answers received, by verb and HTTP status.
    pub statuses: BTreeMap<(Verb, u16), u64>,
    /// Attempts that got no answer (timeout, connection failure or reset), by verb.
    pub transport_errors: BTreeMap<Verb, u64>,
    /// Response body bytes received.
    pub bytes_in: u64,
    /// Request body bytes sent.
    pub bytes_out: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// Re-authentications after a 401 or an expired-session answer.
    pub reauths: u64,
    /// Sign-ins performed (cookie sessions), the first one included.
    pub logins: u64,
    /// List pages received.
    pub pages: u64,
    /// Creates with a client-generated id that found the record already there (a lost answer of
    /// an earlier attempt) and returned it.
    pub replayed_creates: u64,
}

impl MetricsSnapshot {
    /// Requests sent with `verb`.
    pub fn requests(&self, verb: Verb) -> u64 {
        self.requests.get(&verb).copied().unwrap_or(0)
    }
    /// All requests sent.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
    /// Answers with `status` to `verb` requests.
    pub fn status(&self, verb: Verb, status: u16) -> u64 {
        self.statuses.get(&(verb, status)).copied().unwrap_or(0)
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub(crate) fn request(&self, verb: Verb, bytes_out: usize) {
        add(&self.requests[verb.index()], 1);
        add(&self.bytes_out, bytes_out as u64);
    }
    pub(crate) fn response(&self, verb: Verb, status: u16, bytes_in: usize) {
        add(&self.bytes_in, bytes_in as u64);
        let mut statuses = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        *statuses.entry((verb, status)).or_default() += 1;
    }
    pub(crate) fn transport_error(&self, verb: Verb) {
        add(&self.transport_errors[verb.index()], 1);
    }
    pub(crate) fn retry(&self) {
        add(&self.retries, 1);
    }
    pub(crate) fn reauth(&self) {
        add(&self.reauths, 1);
    }
    pub(crate) fn login(&self) {
        add(&self.logins, 1);
    }
    pub(crate) fn page(&self) {
        add(&self.pages, 1);
    }
    pub(crate) fn replayed_create(&self) {
        add(&self.replayed_creates, 1);
    }

    /// The current counts.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let by_verb = |cs: &[AtomicU64; 4]| {
            Verb::ALL
                .iter()
                .map(|v| (*v, load(&cs[v.index()])))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        MetricsSnapshot {
            requests: by_verb(&self.requests),
            statuses: self
                .statuses
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            transport_errors: by_verb(&self.transport_errors),
            bytes_in: load(&self.bytes_in),
            bytes_out: load(&self.bytes_out),
            retries: load(&self.retries),
            reauths: load(&self.reauths),
            logins: load(&self.logins),
            pages: load(&self.pages),
            replayed_creates: load(&self.replayed_creates),
        }
    }
}
