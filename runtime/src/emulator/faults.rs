//! Knobs that make the emulator misbehave the way CDMS did: added latency, and fault rules.
//!
//! A [`FaultRule`] matches requests by method, entity set and path substring, fires on the n-th
//! match, the first N matches, after M matches, or with a probability drawn from a seeded RNG,
//! and then performs a [`FaultAction`]. Every rule whose filters match a request counts it (so
//! "the n-th matching request" does not depend on other rules); rules are checked in the order they
//! were added and the first one that fires decides. Faults are checked after latency and before
//! authentication, like a network or a front-end failure.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Added latency before each request is handled.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Latency {
    /// No added latency.
    #[default]
    None,
    /// The same delay on every request.
    Fixed(Duration),
    /// A delay drawn uniformly from `min..=max` (seeded, see the builder's `seed`).
    Jitter {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
}

/// What a fired rule does to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this status and CRM's JSON error body (`{"error":{"code","message"}}`),
    /// without handling the request.
    Status {
        /// HTTP status.
        status: u16,
        /// CRM error code (signed decimal, or `""`).
        code: String,
        /// Error message.
        message: String,
    },
    /// Hold the request for this long (longer than the client's timeout), then close the
    /// connection without answering. The request is not handled.
    Hang(Duration),
    /// Close the connection without answering. The request is not handled.
    Drop,
    /// Handle the request, then send the headers (with the full `Content-Length`) and only half
    /// of the body before closing the connection.
    TruncatedBody,
    /// Handle the request, then answer its status (200 instead of 204) with JSON cut off in the
    /// middle, complete at the HTTP level.
    MalformedJson,
    /// Answer 401 without handling the request.
    Unauthorized,
    /// Answer 200 with the HTML sign-in page (how an expired CDMS session looked), without
    /// handling the request.
    LoginPage,
    /// Handle the request (commit the write), then close the connection without answering: the
    /// client cannot know the write happened (tests idempotent creates).
    ApplyThenDrop,
    /// Handle the request, then leave this property out of every record of the JSON answer (a
    /// record served without a property, as a narrowed or damaged answer would be).
    OmitProperty(String),
    /// Answer with exactly this status, content type and body, without handling the request
    /// (another server's answers: a plain 404 page, a record other than the one asked for).
    Respond {
        /// HTTP status.
        status: u16,
        /// The `Content-Type` header.
        content_type: String,
        /// The body.
        body: String,
    },
}

impl FaultAction {
    /// A status answer with CRM's generic "unexpected error" code.
    pub fn status(status: u16, message: &str) -> Self {
        FaultAction::Status {
            status,
            code: super::error::CODE_UNEXPECTED.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Whether the request is handled before the fault takes effect.
    pub(crate) fn handles_request(&self) -> bool {
        matches!(
            self,
            FaultAction::TruncatedBody
                | FaultAction::MalformedJson
                | FaultAction::ApplyThenDrop
                | FaultAction::OmitProperty(_)
        )
    }
}

/// A fault rule: which requests, when, and what happens.
#[derive(Debug, Clone)]
pub struct FaultRule {
    action: FaultAction,
    method: Option<String>,
    set: Option<String>,
    path_contains: Option<String>,
    nth: Option<u64>,
    after: u64,
    times: Option<u64>,
    probability: Option<(f64, u64)>,
}

impl FaultRule {
    /// A rule that performs `action` on every request (narrow it with the other methods).
    pub fn new(action: FaultAction) -> Self {
        FaultRule {
            action,
            method: None,
            set: None,
            path_contains: None,
            nth: None,
            after: 0,
            times: None,
            probability: None,
        }
    }

    /// Only requests with this effective method (`GET`, `POST`, `MERGE`, ...; tunnelled methods
    /// count as themselves).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests addressing this entity set.
    pub fn set(mut self, set: &str) -> Self {
        self.set = Some(set.to_owned());
        self
    }

    /// Only requests whose `path?query` (as sent, percent-encoded) contains `needle`.
    pub fn path_contains(mut self, needle: &str) -> Self {
        self.path_contains = Some(needle.to_owned());
        self
    }

    /// Fire only on the n-th matching request (1-based).
    pub fn nth(mut self, n: u64) -> Self {
        self.nth = Some(n);
        self
    }

    /// Let the first `n` matching requests through.
    pub fn after(mut self, n: u64) -> Self {
        self.after = n;
        self
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire on a matching request with probability `p` (0..=1), drawn from an RNG seeded with
    /// `seed` (deterministic for a given request order).
    pub fn probability(mut self, p: f64, seed: u64) -> Self {
        self.probability = Some((p.clamp(0.0, 1.0), seed));
        self
    }

    fn matches(&self, req: &FaultRequest<'_>) -> bool {
        self.method.as_deref().is_none_or(|m| m == req.method)
            && self.set.as_deref().is_none_or(|s| Some(s) == req.set)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|n| req.target.contains(n))
    }
}

/// The identity of an added rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub u64);

#[derive(Debug)]
struct Armed {
    id: FaultId,
    rule: FaultRule,
    matched: u64,
    fired: u64,
    rng: Option<fastrand::Rng>,
}

/// What the rules see of a request.
pub(crate) struct FaultRequest<'a> {
    pub method: &'a str,
    pub set: Option<&'a str>,
    /// `path?query`
    pub target: &'a str,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    rules: Vec<Armed>,
    fired_total: Vec<(FaultId, u64)>,
}

/// The fault rules of an emulator (shared by its clones).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule (checked after the ones added before it).
    pub fn add(&self, rule: FaultRule) -> FaultId {
        let mut st = self.lock();
        st.next_id += 1;
        let id = FaultId(st.next_id);
        let rng = rule
            .probability
            .map(|(_, seed)| fastrand::Rng::with_seed(seed));
        st.rules.push(Armed {
            id,
            rule,
            matched: 0,
            fired: 0,
            rng,
        });
        st.fired_total.push((id, 0));
        id
    }

    /// Removes a rule; `false` if it was not there.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut st = self.lock();
        let before = st.rules.len();
        st.rules.retain(|a| a.id != id);
        before != st.rules.len()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many times rule `id` fired (also after it was removed).
    pub fn fired(&self, id: FaultId) -> u64 {
        self.lock()
            .fired_total
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(0, |(_, n)| *n)
    }

    /// The action to perform on this request, if a rule fires.
    pub(crate) fn check(&self, req: &FaultRequest<'_>) -> Option<(FaultId, FaultAction)> {
        let mut st = self.lock();
        let mut fired = None;
        for armed in st.rules.iter_mut() {
            if !armed.rule.matches(req) {
                continue;
            }
            armed.matched += 1;
            if fired.is_some() {
                continue;
            }
            let m = armed.matched;
            let r = &armed.rule;
            let mut fire = m > r.after
                && r.nth.is_none_or(|n| m == n)
                && r.times.is_none_or(|t| armed.fired < t);
            if fire {
                if let (Some((p, _)), Some(rng)) = (r.probability, armed.rng.as_mut()) {
                    fire = rng.f64() < p;
                }
            }
            if fire {
                armed.fired += 1;
                fired = Some((armed.id, armed.rule.action.clone()));
            }
        }
        if let Some((id, _)) = &fired {
            if let Some(total) = st.fired_total.iter_mut().find(|(i, _)| i == id) {
                total.1 += 1;
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(method: &'a str, set: Option<&'a str>) -> FaultRequest<'a> {
        FaultRequest {
            method,
            set,
            target: "/o/XRMServices/2011/OrganizationData.svc/AccountSet?$top=5",
        }
    }

    #[test]
    fn triggers() {
        let faults = Faults::default();
        let nth = faults.add(
            FaultRule::new(FaultAction::Drop)
                .method("get")
                .set("AccountSet")
                .nth(2),
        );
        let get = req("GET", Some("AccountSet"));
        assert!(faults.check(&get).is_none());
        assert_eq!(faults.check(&get).map(|f| f.0), Some(nth));
        assert!(faults.check(&get).is_none());
        assert!(faults.check(&req("POST", Some("AccountSet"))).is_none());
        faults.clear();
        let limited = faults.add(
            FaultRule::new(FaultAction::Unauthorized)
                .after(1)
                .times(2)
                .path_contains("$top=5"),
        );
        let fired: Vec<bool> = (0..5).map(|_| faults.check(&get).is_some()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert_eq!(faults.fired(limited), 2);
        assert!(faults.remove(limited));
        assert!(!faults.remove(limited));
        assert_eq!(faults.fired(limited), 2);
    }

    #[test]
    fn probability_is_seeded() {
        let run = || {
            let faults = Faults::default();
            faults.add(FaultRule::new(FaultAction::Drop).probability(0.3, 42));
            (0..200)
                .map(|_| faults.check(&req("GET", None)).is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|f| **f).count();
        assert!((30..=90).contains(&hits), "{hits}");
    }
}
