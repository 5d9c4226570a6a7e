//! A faithful Dynamics CRM 2011 ("CDMS") OData V2 endpoint, for tests, benchmarks and the demo.
//!
//! ```no_run
//! # async fn demo(meta: &'static cdms_runtime::cdms::CdmsMeta) -> Result<(), cdms_runtime::emulator::EmulatorError> {
//! use cdms_runtime::emulator::Emulator;
//! let emulator = Emulator::builder().set(meta).build()?;
//! let id = emulator.insert("AccountSet", serde_json::json!({"Name": "Acme"}))?;
//! let server = emulator.serve("127.0.0.1:0").await?;
//! // GET {server.base_url()}/XRMServices/2011/OrganizationData.svc/AccountSet(guid'{id}')
//! //     with Accept: application/json
//! server.shutdown().await?;
//! # let _ = id; Ok(()) }
//! ```
//!
//! # What is served
//! Below the organisation root ([`RunningEmulator::base_url`]: `http://host:port/<Org>`, or the
//! bare origin with [`OrgUrl::Root`]), under `/XRMServices/2011/OrganizationData.svc` (matched
//! case-insensitively, as IIS does; set and property names are case-sensitive):
//! - `GET /`: the service document (AtomPub XML, or `{"d":{"EntitySets":[..]}}` for JSON);
//! - `GET /$metadata`: EDMX in namespace `Microsoft.Crm.Sdk.Data.Services`, one `EntityType`
//!   per set keyed by its id property, the complex types `EntityReference`, `OptionSetValue`,
//!   `Money`, and the container `<Org>Context` (default org `UKTI`); no navigation properties;
//! - `GET /<Set>` with `$filter` `$select` `$orderby` `$top` `$skip` `$skiptoken`: pages of at
//!   most 50 (`{"d":{"results":[..],"__next":".."}}`, no `__count`);
//! - `GET /<Set>(guid'…')` (also `(<Key>=guid'…')`) and `GET /<Set>(guid'…')/<Property>`;
//! - `POST /<Set>` (201, the full entry, `Location`), `MERGE` or `POST` + `X-HTTP-Method: MERGE`
//!   (204, partial), `PUT` (204, absent properties nulled), `DELETE` or `POST` +
//!   `X-HTTP-Method: DELETE` (204);
//! - `GET`/`POST /adfs/login` at the server root in session-auth mode (see [`Auth`]).
//!
//! Entity data is JSON only: reads and creates must send `Accept: application/json` (verbose or
//! not), otherwise they get **406** with an OData XML error body (CRM would answer Atom, which
//! the emulator does not write; [`EmulatorBuilder::json_for_any_accept`] serves JSON to `*/*`,
//! `application/*` and a missing `Accept` instead). MERGE, PUT and DELETE answer 204 without a
//! body whatever the `Accept`. Writes must send `Content-Type: application/json`, otherwise
//! **415**. Errors use
//! CRM's body `{"error":{"code":"..","message":{"lang":"en-US","value":".."}}}`; request-level
//! (WCF Data Services) errors carry `"code":""`, platform faults a signed decimal code.
//!
//! Around the service: [`Latency`], [`FaultRule`]s ([`Emulator::faults`]), [`Auth`] modes, the
//! [`RequestLog`] ([`Emulator::log`]) and a controllable [`Clock`]. The data-access methods
//! ([`Emulator::insert`], [`Emulator::insert_many`], [`Emulator::update`], [`Emulator::delete`],
//! [`Emulator::get`], [`Emulator::ids`], [`Emulator::count`], [`Emulator::set_modified`]) act as
//! people editing in CDMS would, without HTTP.
//!
//! # Choices where the dialect is a guess (dialect §8), configurable where cheap
//! - Unsupported `$filter` constructs answer **400** with a WCF-style message naming the
//!   construct and its position: functions other than `substringof`/`startswith`/`endswith`,
//!   arithmetic and negation, property-vs-property and literal-only comparisons, `Lookup/Name`,
//!   relational operators with `null`, member paths deeper than one level, function results
//!   compared with anything but `true`/`false`, a Double literal against Decimal/Money. `$format`,
//!   `$inlinecount`, `$expand` (no navigation properties are emulated), `$count` and unknown
//!   `$` options answer 400 too; options without `$` are ignored.
//! - A `$filter` nested more than 100 levels deep (parentheses, function arguments, `not`, or
//!   the height of the expression with `and`/`or` chains counted as balanced trees) answers
//!   **400** with `"code":""`: WCF Data Services has a recursion limit, but its threshold and
//!   wording as CRM answers them are not known.
//! - Accepted beyond the documented minimum: a literal on the left (`5 lt X`), a bare Boolean
//!   property, `eq null`/`ne null` on a whole complex property, `datetime'…'` with a trailing `Z`
//!   or fractional seconds, numeric promotion (an integer literal against Decimal/Double).
//! - `$filter` strings compare case- and accent-insensitively and ignore trailing spaces in
//!   `eq`/ordering (SQL Server `Latin1_General_CI_AI`); `substringof`/`startswith`/`endswith`
//!   treat `%`, `_` and `[` literally. Conditions use SQL three-valued logic: `ne` and `not`
//!   never match rows where the property is null. Strings order by their folded code points.
//! - `$skip > 0` with `$skip + ($top or the page size) > 5000` answers **500**, code
//!   `-2147220970`, with a message mentioning "paging" ([`EmulatorBuilder::skip_limit`]).
//! - `__next` repeats `$filter`, `$select`, `$orderby` and `$top` minus the rows already
//!   returned, and adds `$skiptoken` in CRM's observed form `page,'keyname','{LAST}','{FIRST}'`
//!   (plus the last row's sort values when ordered); `$skip` is not repeated.
//! - Default order is the primary key in SQL Server `uniqueidentifier` order
//!   ([`EmulatorBuilder::guid_order`]); `$orderby` accepts root primitive properties and complex
//!   members (`Revenue/Value`, `ParentCustomerId/Id`), not whole complex properties; nulls sort
//!   first ascending, last descending; ties in key order.
//! - MERGE and PUT stamp a new `ModifiedOn` and `VersionNumber`
//!   ([`EmulatorBuilder::bump_modified_on_update`]); `VersionNumber` is a per-set counter and is
//!   reported rather than null ([`EmulatorBuilder::version_numbers`]). Timestamps have whole
//!   seconds ([`EmulatorBuilder::timestamp_precision`]).
//! - `CreatedOn`, `ModifiedOn`, `VersionNumber` in a write body are ignored; a non-null
//!   `OverriddenCreatedOn` on create becomes `CreatedOn`.
//! - Duplicate client-supplied key on create: **500**, code `-2147220937`, "Cannot insert
//!   duplicate key". An update whose body names a different key: 400.
//! - `""` stores null on create as well as on update; JSON `null` for a whole complex property
//!   is refused (400); Int32 and Double take JSON numbers only, Int64/Decimal/Money numbers or
//!   numeric strings; Money is rounded to 4 decimals and Decimal to 10 on write.
//! - Lookups: `LogicalName` may be omitted when the lookup has one known target (from `Ref<T>` or
//!   [`SetSpec::lookup`]) or, with no known targets, when the id exists in a served set;
//!   polymorphic lookups require it and other targets are refused (400). A reference to a
//!   missing record of a served set answers **404** with code `-2147220969`
//!   ([`EmulatorBuilder::check_references`]). `Name` is read from the target's primary name
//!   ([`SetSpec::primary_name`]) when the entry is written.
//! - Output: Money with 4 decimals and Decimal with 10, both quoted; Int64 quoted; DateTimes as
//!   `"\/Date(ms)\/"`; `__metadata.uri` spells the service path in lower case
//!   ([`EmulatorBuilder::lowercase_entry_uris`]), `Location` and `__next` the canonical spelling;
//!   no `__deferred` navigation properties.
//! - Verbs: `X-HTTP-Method` is honoured on `POST` only; other verbs on a resource (`PATCH`,
//!   `POST` to an entry, `MERGE` to a collection) answer 405.
//! - Session auth: a missing or expired session gets 200 + the HTML sign-in page by default
//!   ([`ExpiredAnswer`]); a failed form sign-in answers the form again with an `ErrorTextLabel`,
//!   a failed JSON sign-in 401.
//! - Not emulated: Atom payloads, `$links`, `$batch` and single-property writes (501), `$expand`,
//!   the Account→CustomerAddress side effects (dialect §7.5), privileges (403).

mod auth;
mod builder;
mod clock;
mod collation;
mod conn;
pub mod edmx;
mod error;
mod faults;
mod filter;
mod generate;
mod handlers;
mod index;
mod json_in;
mod json_out;
mod list;
mod log;
mod metadata;
mod query;
mod reply;
mod routes;
mod schema;
mod server;
mod service;
mod store;
#[cfg(test)]
mod tests_hostile;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as J};
use uuid::Uuid;

pub use auth::{Auth, ExpiredAnswer, SessionAuth, LOGIN_PATH, SESSION_COOKIE};
pub use builder::{EmulatorBuilder, OrgUrl};
pub use clock::{Clock, Precision};
pub use error::EmulatorError;
pub use faults::{FaultAction, FaultId, FaultRule, Faults, Latency};
pub use log::{RequestLog, RequestRecord};
pub use schema::SetSpec;
pub use server::RunningEmulator;
pub use store::GuidOrder;

use auth::Sessions;
use builder::Config;
use error::ApiError;
use json_in::Purpose;
use json_out::Render;
use schema::SetSchema;
use store::{Cell, Changes, Store};

/// An emulated CRM organisation: its sets, records and knobs. Cheap to clone (shared state);
/// serve it over HTTP with [`Emulator::serve`], and read or change its data directly (as people
/// editing in CDMS would) with the data-access methods.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub cfg: Config,
    pub schemas: Vec<SetSchema>,
    pub by_set: HashMap<String, usize>,
    pub by_logical: HashMap<String, usize>,
    pub store: RwLock<Store>,
    pub clock: Clock,
    pub faults: Faults,
    pub log: RequestLog,
    pub sessions: Sessions,
    pub auth: RwLock<Auth>,
    pub latency: Mutex<(Latency, fastrand::Rng)>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("org", &self.inner.cfg.org)
            .field("sets", &self.set_names())
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts configuring an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The organisation name.
    pub fn org(&self) -> &str {
        &self.inner.cfg.org
    }

    /// The served entity set names, in configuration order.
    pub fn set_names(&self) -> Vec<String> {
        self.inner.schemas.iter().map(|s| s.set.clone()).collect()
    }

    /// The clock stamping records (advance or set it from tests).
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The fault rules (add, remove, count firings at run time).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.inner.log
    }

    /// Every request so far (see [`RequestLog::requests`]).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.inner.log.requests()
    }

    /// How many requests used `method` on `set` (see [`RequestLog::count`]).
    pub fn request_count(&self, method: &str, set: &str) -> usize {
        self.inner.log.count(method, set)
    }

    /// Clears the request log.
    pub fn reset_log(&self) {
        self.inner.log.reset();
    }

    /// Changes the added latency.
    pub fn set_latency(&self, latency: Latency) {
        self.inner
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0 = latency;
    }

    /// Changes the authentication mode (live sessions are kept).
    pub fn set_auth(&self, auth: impl Into<Auth>) {
        *self.inner.auth.write().unwrap_or_else(|p| p.into_inner()) = auth.into();
    }

    /// Ends every cookie session: the next requests get the expired-session answer.
    pub fn expire_sessions(&self) {
        self.inner.sessions.clear();
    }

    /// How many cookie sessions are live (or not yet found expired).
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    pub(crate) fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.inner.store.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_store(&self) -> RwLockWriteGuard<'_, Store> {
        self.inner.store.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn render<'a>(&'a self, store: &'a Store) -> Render<'a> {
        Render {
            schemas: &self.inner.schemas,
            by_logical: &self.inner.by_logical,
            store,
            version_numbers: self.inner.cfg.version_numbers,
        }
    }

    pub(crate) fn latency_delay(&self) -> Option<Duration> {
        let mut guard = self.inner.latency.lock().unwrap_or_else(|p| p.into_inner());
        let (latency, rng) = &mut *guard;
        match *latency {
            Latency::None => None,
            Latency::Fixed(d) => Some(d),
            Latency::Jitter { min, max } => {
                let (lo, hi) = (min.min(max).as_micros(), min.max(max).as_micros());
                let lo = u64::try_from(lo).unwrap_or(u64::MAX);
                let hi = u64::try_from(hi).unwrap_or(u64::MAX);
                Some(Duration::from_micros(rng.u64(lo..=hi)))
            }
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.cfg.precision.truncate_ms(self.inner.clock.now())
    }

    fn set_index(&self, set: &str) -> Result<usize, EmulatorError> {
        self.inner
            .by_set
            .get(set)
            .copied()
            .ok_or_else(|| EmulatorError::UnknownSet(set.to_owned()))
    }

    /// Fills in and checks the logical names of lookups in `changes`.
    fn resolve_refs(
        &self,
        store: &Store,
        set: usize,
        changes: &mut Changes,
        check: bool,
    ) -> Result<(), ApiError> {
        let schema = &self.inner.schemas[set];
        for (i, cell) in changes.cells.iter_mut() {
            let Cell::Ref(r) = cell else { continue };
            let prop = &schema.props[*i];
            let logical: Option<Arc<str>> = match &r.logical {
                Some(l) if !prop.targets.is_empty() && !prop.targets.iter().any(|t| **t == **l) => {
                    return Err(ApiError::bad_request(format!(
                        "'{l}' is not a valid target of the lookup '{}'; it accepts {}.",
                        prop.name,
                        prop.targets.join(", ")
                    )))
                }
                Some(l) => Some(Arc::clone(l)),
                None => match prop.targets.as_slice() {
                    [one] => Some(Arc::from(one.as_str())),
                    [] => self
                        .inner
                        .schemas
                        .iter()
                        .enumerate()
                        .find(|(s, _)| store.contains(*s, r.id))
                        .map(|(_, s)| Arc::from(s.logical.as_str())),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "The lookup '{}' can point at {}; its value needs a 'LogicalName'.",
                            prop.name,
                            prop.targets.join(", ")
                        )))
                    }
                },
            };
            if check {
                if let Some(target) = logical
                    .as_deref()
                    .and_then(|l| self.inner.by_logical.get(l))
                {
                    if !store.contains(*target, r.id) {
                        let l = logical.as_deref().unwrap_or_default();
                        return Err(ApiError::record_not_found(l, r.id));
                    }
                }
            }
            r.logical = logical;
        }
        Ok(())
    }

    /// Creates a record from a JSON body (HTTP POST and [`Emulator::insert`]).
    pub(crate) fn create_record(
        &self,
        set: usize,
        body: &Map<String, J>,
        check_refs: bool,
    ) -> Result<Uuid, ApiError> {
        let schema = &self.inner.schemas[set];
        let mut changes = json_in::changes(schema, body, Purpose::Create)?;
        let now = self.now_ms();
        let mut store = self.write_store();
        self.resolve_refs(&store, set, &mut changes, check_refs)?;
        store.create(schema, set, changes, now)
    }

    /// Updates a record from a JSON body (MERGE, or PUT when `replace`).
    pub(crate) fn update_record(
        &self,
        set: usize,
        id: Uuid,
        body: &Map<String, J>,
        replace: bool,
        check_refs: bool,
        bump: bool,
    ) -> Result<(), ApiError> {
        let schema = &self.inner.schemas[set];
        let mut changes = json_in::changes(schema, body, Purpose::Update(id))?;
        let now = self.now_ms();
        let mut store = self.write_store();
        if !store.contains(set, id) {
            return Err(ApiError::record_not_found(&schema.logical, id));
        }
        self.resolve_refs(&store, set, &mut changes, check_refs)?;
        store.update(schema, set, id, changes, replace, bump.then_some(now))
    }

    pub(crate) fn delete_record(&self, set: usize, id: Uuid) -> Result<(), ApiError> {
        self.write_store().delete(&self.inner.schemas[set], set, id)
    }

    fn rejected(&self, set: usize, e: ApiError, id: Option<Uuid>) -> EmulatorError {
        let name = &self.inner.schemas[set].set;
        match id {
            Some(id) if e.status == 404 && e.code == crate::cdms::wire::CODE_NOT_FOUND => {
                EmulatorError::NotFound {
                    set: name.clone(),
                    id,
                }
            }
            _ => e.into_emulator_error(name),
        }
    }

    /// Creates a record from its properties in CRM's write JSON (`{"Name": "Acme",
    /// "Revenue": {"Value": 10}}`), exactly as an HTTP create would, except that references are
    /// not checked. The server stamps `CreatedOn`, `ModifiedOn` and `VersionNumber`.
    pub fn insert(&self, set: &str, props: J) -> Result<Uuid, EmulatorError> {
        let s = self.set_index(set)?;
        let body = as_object(props).map_err(|e| self.rejected(s, e, None))?;
        self.create_record(s, &body, false)
            .map_err(|e| self.rejected(s, e, None))
    }

    /// Creates many records under one lock: all or nothing (every body is validated and every
    /// client-supplied key checked before the first insert). Returns the ids in input order.
    pub fn insert_many(
        &self,
        set: &str,
        rows: impl IntoIterator<Item = J>,
    ) -> Result<Vec<Uuid>, EmulatorError> {
        let s = self.set_index(set)?;
        let schema = &self.inner.schemas[s];
        let mut all = Vec::new();
        for row in rows {
            let body = as_object(row).map_err(|e| self.rejected(s, e, None))?;
            let changes = json_in::changes(schema, &body, Purpose::Create)
                .map_err(|e| self.rejected(s, e, None))?;
            all.push(changes);
        }
        let now = self.now_ms();
        let mut store = self.write_store();
        for changes in all.iter_mut() {
            self.resolve_refs(&store, s, changes, false)
                .map_err(|e| self.rejected(s, e, None))?;
        }
        store
            .check_new_ids(schema, s, all.iter().filter_map(|c| c.id))
            .map_err(|e| self.rejected(s, e, None))?;
        let mut ids = Vec::with_capacity(all.len());
        for changes in all {
            ids.push(
                store
                    .create(schema, s, changes, now)
                    .map_err(|e| self.rejected(s, e, None))?,
            );
        }
        Ok(ids)
    }

    /// Changes some properties of a record (like a MERGE); always stamps a new `ModifiedOn`.
    pub fn update(&self, set: &str, id: Uuid, props: J) -> Result<(), EmulatorError> {
        let s = self.set_index(set)?;
        let body = as_object(props).map_err(|e| self.rejected(s, e, Some(id)))?;
        self.update_record(s, id, &body, false, false, true)
            .map_err(|e| self.rejected(s, e, Some(id)))
    }

    /// Deletes a record.
    pub fn delete(&self, set: &str, id: Uuid) -> Result<(), EmulatorError> {
        let s = self.set_index(set)?;
        self.delete_record(s, id)
            .map_err(|e| self.rejected(s, e, Some(id)))
    }

    /// A record's properties exactly as a JSON GET shows them (without `__metadata`); `None` if
    /// the set or the record does not exist.
    pub fn get(&self, set: &str, id: Uuid) -> Option<Map<String, J>> {
        let s = self.set_index(set).ok()?;
        let store = self.read_store();
        let record = store.get(s, id)?;
        let mut out = String::new();
        self.render(&store).entry(&mut out, s, record, None, None);
        match serde_json::from_str(&out) {
            Ok(J::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The ids of a set in the default (primary key) order; empty for an unknown set.
    pub fn ids(&self, set: &str) -> Vec<Uuid> {
        let Ok(s) = self.set_index(set) else {
            return Vec::new();
        };
        let store = self.read_store();
        store.sets[s]
            .records
            .keys()
            .map(|k| store.order.id(*k))
            .collect()
    }

    /// How many records a set holds (0 for an unknown set).
    pub fn count(&self, set: &str) -> usize {
        self.set_index(set)
            .map_or(0, |s| self.read_store().sets[s].records.len())
    }

    /// Sets a record's `ModifiedOn` to exactly `at` (millisecond precision, not truncated),
    /// changing nothing else: for drift and same-second tests.
    pub fn set_modified(
        &self,
        set: &str,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), EmulatorError> {
        let s = self.set_index(set)?;
        self.write_store()
            .set_modified(&self.inner.schemas[s], s, id, at.timestamp_millis())
            .map_err(|e| self.rejected(s, e, Some(id)))
    }
}

fn as_object(v: J) -> Result<Map<String, J>, ApiError> {
    match v {
        J::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(
            "The record must be a JSON object of properties.",
        )),
    }
}
