//! The HTTP client of the Organization Data Service (OData V2, verbose JSON).
//!
//! ```no_run
//! # async fn demo() -> Result<(), cdms_runtime::cdms::CdmsError> {
//! use cdms_runtime::cdms::{Auth, CdmsClient, ListOptions};
//! let client = CdmsClient::builder("https://crm.example.org/UKTI")
//!     .auth(Auth::Basic { user: "svc".into(), password: "…".into() })
//!     .build()?;
//! let opts = ListOptions { filter: Some("Name eq 'Acme'".into()), ..ListOptions::default() };
//! let accounts = client.list("AccountSet", &opts).await?;
//! # let _ = accounts; Ok(()) }
//! ```
//!
//! Behaviour:
//! - `Accept: application/json` on every request, `Content-Type: application/json` on writes;
//!   every query option percent-encoded ([`ListOptions::query`]).
//! - Lists follow `__next` (pages of at most 50) until the end or `$top` ([`Pager`]); a `__next`
//!   on another origin is refused (user info in a link is dropped, never sent or shown), and so
//!   is a chain that does not end: a link already read in the same listing, more pages than
//!   [`CdmsClientBuilder::max_pages`], or [`MAX_EMPTY_PAGES`] empty pages in a row that still
//!   link onwards ([`CdmsError::Paging`]).
//! - An answer body is read as a stream and refused beyond
//!   [`CdmsClientBuilder::max_answer_bytes`] ([`CdmsError::TooLarge`]).
//! - Updates are `POST` + `X-HTTP-Method: MERGE` with only the given properties (204).
//! - Every request has a timeout. GET, DELETE and MERGE are retried on transient failures
//!   (5xx other than deterministic platform faults, 429, timeouts, dropped connections) with
//!   jittered exponential backoff ([`RetryPolicy`]). A create is retried only when it carries a
//!   client-generated key ([`CdmsClient::create_with_id`]); a duplicate-key answer for that key
//!   then means an earlier attempt succeeded, and the record is fetched and returned.
//! - An expired cookie session (401, a redirect, or 200 with an HTML sign-in page) signs in again
//!   once and repeats the request; a second refusal is [`CdmsError::Unauthorized`].
//! - TLS certificates are always verified (rustls; extra CAs with
//!   [`CdmsClientBuilder::root_certificates_pem`]); a certificate that does not verify is
//!   [`CdmsError::Tls`], never retried. Credentials are [`Secret`]s and are never
//!   logged; the `Authorization` and `Cookie` headers are marked sensitive.
//! - Each attempt runs in a DEBUG `cdms_request` span (verb, set, attempt, status, duration,
//!   bytes) and is counted in [`Metrics`].

mod auth;
mod metrics;
mod response;
mod retry;
mod transport;
mod url;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value as J};
use uuid::Uuid;

use super::decode::{self, RawRecord};
use super::{CdmsError, PagingStop};
use response::{entry, is_duplicate, status_error};
use transport::{Call, Retry};

pub use auth::{Auth, Secret};
pub use metrics::{Metrics, MetricsSnapshot, Verb};
pub use retry::RetryPolicy;
pub use url::{encode_component, ListOptions};

/// Pages one listing may have by default ([`CdmsClientBuilder::max_pages`]): 5 million records.
pub const DEFAULT_MAX_PAGES: u32 = 100_000;

/// The default limit of one answer's size ([`CdmsClientBuilder::max_answer_bytes`]): 64 MiB, far
/// above a page of 50 records (typically well under 1 MiB).
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Empty pages in a row that may still link to a further page before the listing is refused.
/// CRM never sends one (its paging cookie comes from the page's last record); a few are
/// tolerated in case a filter on the server's side drops a whole page.
pub const MAX_EMPTY_PAGES: u32 = 10;

/// A client of one organisation's Organization Data Service. Cheap to clone (clones share the
/// connection pool, the session and the metrics).
#[derive(Clone)]
pub struct CdmsClient {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    endpoint: url::Endpoint,
    auth: Auth,
    session: auth::Session,
    login_lock: tokio::sync::Mutex<()>,
    retry: RetryPolicy,
    timeout: Duration,
    max_pages: u32,
    max_answer_bytes: u64,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CdmsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdmsClient")
            .field("service", &self.inner.endpoint.service)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("max_pages", &self.inner.max_pages)
            .field("max_answer_bytes", &self.inner.max_answer_bytes)
            .finish_non_exhaustive()
    }
}

/// Configures a [`CdmsClient`].
#[derive(Debug)]
pub struct CdmsClientBuilder {
    base_url: String,
    auth: Auth,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    max_pages: u32,
    max_answer_bytes: u64,
    root_certificates: Vec<reqwest::Certificate>,
}

impl CdmsClientBuilder {
    /// How to authenticate (default: no credentials).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Uses this HTTP client (its TLS, proxy and pool settings) instead of the default one.
    /// The default client verifies certificates with rustls and does not follow redirects, so a
    /// redirect to a sign-in page is seen as an expired session.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time limit of one attempt, answer body included (default: 120 s; CDMS took about a
    /// minute to delete an account).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time limit for establishing a connection, for the default HTTP client (default: 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The most pages one listing may have (default: [`DEFAULT_MAX_PAGES`]); a listing that goes
    /// on is refused with [`CdmsError::Paging`]. At least 1.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The largest answer body accepted, in bytes (default: [`DEFAULT_MAX_ANSWER_BYTES`]); a
    /// larger one is refused with [`CdmsError::TooLarge`] without being read to its end.
    pub fn max_answer_bytes(mut self, bytes: u64) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// Also trusts the CA certificates in `pem` (one or more PEM `CERTIFICATE` blocks), besides
    /// the built-in roots, for the default HTTP client: for a CDMS behind a private CA.
    /// Certificates are always verified; there is no way to turn that off.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, CdmsError> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| CdmsError::Config {
            message: format!("CA certificates: {e}"),
        })?;
        if certs.is_empty() {
            return Err(CdmsError::Config {
                message: "CA certificates: no PEM CERTIFICATE block found".to_owned(),
            });
        }
        self.root_certificates.extend(certs);
        Ok(self)
    }

    /// Builds the client.
    pub fn build(self) -> Result<CdmsClient, CdmsError> {
        let endpoint = url::Endpoint::new(&self.base_url)?;
        self.auth.check()?;
        if let Auth::CookieSession { login_path, .. } = &self.auth {
            endpoint.origin_path(login_path)?;
        }
        let http = match self.http {
            Some(_) if !self.root_certificates.is_empty() => {
                return Err(CdmsError::Config {
                    message: "CA certificates apply to the default HTTP client; add them to the \
                              client given with http_client instead"
                        .to_owned(),
                })
            }
            Some(http) => http,
            None => {
                let mut http = reqwest::Client::builder()
                    .use_rustls_tls()
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(self.connect_timeout)
                    .user_agent(concat!("cdms-sync/", env!("CARGO_PKG_VERSION")));
                for cert in self.root_certificates {
                    http = http.add_root_certificate(cert);
                }
                http.build().map_err(|e| CdmsError::Config {
                    message: format!("HTTP client: {e}"),
                })?
            }
        };
        Ok(CdmsClient {
            inner: Arc::new(Inner {
                http,
                endpoint,
                auth: self.auth,
                session: auth::Session::default(),
                login_lock: tokio::sync::Mutex::new(()),
                retry: self.retry,
                timeout: self.timeout,
                max_pages: self.max_pages,
                max_answer_bytes: self.max_answer_bytes,
                metrics: Arc::new(Metrics::default()),
            }),
        })
    }
}

impl CdmsClient {
    /// Starts configuring a client of the organisation at `base_url` (the organisation root,
    /// e.g. `https://crm.example.org/UKTI`; the service path is appended).
    pub fn builder(base_url: impl Into<String>) -> CdmsClientBuilder {
        CdmsClientBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            http: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            max_pages: DEFAULT_MAX_PAGES,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            root_certificates: Vec::new(),
        }
    }

    /// The service root URL (`…/XRMServices/2011/OrganizationData.svc`).
    pub fn service_url(&self) -> &str {
        &self.inner.endpoint.service
    }

    /// The client's counters (shared by its clones).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Signs in now (cookie sessions; a no-op for the other modes), instead of on first use.
    pub async fn sign_in(&self) -> Result<(), CdmsError> {
        let generation = self.inner.session.generation();
        self.inner.login("sign-in", generation).await
    }

    /// Pages through `set` with `opts`; see [`Pager`].
    pub fn pager(&self, set: &str, opts: &ListOptions) -> Result<Pager, CdmsError> {
        let mut url = self.inner.endpoint.set_url(set)?;
        // IIS refuses long query strings before CRM sees them: narrow ($select dropped) or
        // refuse here, never send what cannot be answered.
        let query = opts.narrowed().ok_or_else(|| CdmsError::TooLong {
            set: set.to_owned(),
            length: opts.query().len(),
            limit: crate::cdms::wire::MAX_QUERY_STRING - crate::cdms::wire::NEXT_LINK_ROOM,
        })?;
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        Ok(Pager::new(self, set, url, opts.top.map(u64::from)))
    }

    /// Continues paging `set` at `link`: the URL of a page, as saved from [`Pager::next_link`]
    /// (possibly by an earlier process, to resume a long listing). It must be on this client's
    /// origin.
    pub fn resume_pager(&self, set: &str, link: &str) -> Result<Pager, CdmsError> {
        self.inner.endpoint.set_url(set)?;
        let parsed = reqwest::Url::parse(link).map_err(|e| CdmsError::Config {
            message: format!("{set}: cannot resume at {:?}: {e}", shown_link(link)),
        })?;
        if !self.inner.endpoint.same_origin(&parsed) {
            return Err(CdmsError::Config {
                message: format!(
                    "{set}: cannot resume at a link on another server: {}",
                    shown_link(link)
                ),
            });
        }
        Ok(Pager::new(
            self,
            set,
            without_credentials(parsed, link),
            None,
        ))
    }

    /// Every record of `set` matching `opts`, following `__next` to the end (or `opts.top`).
    pub async fn list(&self, set: &str, opts: &ListOptions) -> Result<Vec<J>, CdmsError> {
        let raw = self.list_raw(set, opts).await?;
        Ok(raw.iter().map(|r| decode::to_json(r)).collect())
    }

    /// [`CdmsClient::list`], each record as the text CDMS sent (for [`crate::cdms::decode`]).
    pub async fn list_raw(
        &self,
        set: &str,
        opts: &ListOptions,
    ) -> Result<Vec<RawRecord>, CdmsError> {
        let mut pager = self.pager(set, opts)?;
        let mut all = Vec::new();
        while let Some(page) = pager.next_raw_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// The record of `set` with key `id` (all properties).
    pub async fn get(&self, set: &str, id: Uuid) -> Result<Map<String, J>, CdmsError> {
        match decode::to_json(&self.get_raw(set, id).await?) {
            J::Object(o) => Ok(o),
            _ => Err(CdmsError::Malformed {
                what: format!("{set}: \"d\" is not an entry"),
                excerpt: String::new(),
            }),
        }
    }

    /// [`CdmsClient::get`], the record as the text CDMS sent (for [`crate::cdms::decode`]).
    pub async fn get_raw(&self, set: &str, id: Uuid) -> Result<RawRecord, CdmsError> {
        let url = self.inner.endpoint.key_url(set, id)?;
        let call = Call {
            verb: Verb::Get,
            set,
            url,
            body: None,
            retry: Retry::Idempotent,
        };
        let a = self.inner.execute(call).await?;
        match a.status {
            200 => response::raw_entry(set, &a),
            _ => Err(status_error(set, Some(id), &a)),
        }
    }

    /// The service's `$metadata` document (CSDL/EDMX), as the text CDMS sent.
    pub async fn metadata(&self) -> Result<String, CdmsError> {
        let url = format!("{}/$metadata", self.service_url());
        let call = Call {
            verb: Verb::Get,
            set: "$metadata",
            url,
            body: None,
            retry: Retry::Idempotent,
        };
        let a = self.inner.execute(call).await?;
        match a.status {
            200 => String::from_utf8(a.body).map_err(|e| CdmsError::Malformed {
                what: "$metadata is not UTF-8".to_owned(),
                excerpt: crate::cdms::excerpt(&String::from_utf8_lossy(e.as_bytes()), 200),
            }),
            _ => Err(status_error("$metadata", None, &a)),
        }
    }

    /// Creates a record; returns it as CDMS stored it (201 body). Not retried after the request
    /// may have reached the server, since a repeat could create a second record: use
    /// [`CdmsClient::create_with_id`] for a create that can be retried safely.
    pub async fn create(
        &self,
        set: &str,
        body: &Map<String, J>,
    ) -> Result<Map<String, J>, CdmsError> {
        let a = self.post(set, body, Retry::Never).await?;
        match a.status {
            200 | 201 => entry(set, &a),
            _ if is_duplicate(&a) => Err(CdmsError::Conflict {
                set: set.to_owned(),
                message: response::error_details(&a.body).1,
            }),
            _ => Err(status_error(set, None, &a)),
        }
    }

    /// Creates a record with the client-generated key `id` (sent as `id_property`), so the
    /// create can be retried: a duplicate-key answer to a retry whose earlier attempt may have
    /// reached the server (its answer was lost) means that attempt created it, and the record
    /// is fetched and returned. A duplicate-key answer to the first attempt is
    /// [`CdmsError::Conflict`]: the key belongs to a record this client did not create.
    pub async fn create_with_id(
        &self,
        set: &str,
        id_property: &str,
        id: Uuid,
        body: &Map<String, J>,
    ) -> Result<Map<String, J>, CdmsError> {
        self.create_keyed(set, id_property, id, body, false).await
    }

    /// [`CdmsClient::create_with_id`] that takes an existing record under `id` as it is (a
    /// deleted object restored under its original key, whose record may still exist).
    pub async fn create_or_adopt(
        &self,
        set: &str,
        id_property: &str,
        id: Uuid,
        body: &Map<String, J>,
    ) -> Result<Map<String, J>, CdmsError> {
        self.create_keyed(set, id_property, id, body, true).await
    }

    async fn create_keyed(
        &self,
        set: &str,
        id_property: &str,
        id: Uuid,
        body: &Map<String, J>,
        adopt: bool,
    ) -> Result<Map<String, J>, CdmsError> {
        let mut body = body.clone();
        body.insert(
            id_property.to_owned(),
            J::String(id.hyphenated().to_string()),
        );
        let a = self.post(set, &body, Retry::SafeCreate).await?;
        match a.status {
            200 | 201 => {
                let created = entry(set, &a)?;
                let echoed = created
                    .get(id_property)
                    .and_then(J::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok());
                match echoed {
                    Some(got) if got != id => Err(CdmsError::Conflict {
                        set: set.to_owned(),
                        message: format!("created with key {got} instead of the requested {id}"),
                    }),
                    _ => Ok(created),
                }
            }
            _ if is_duplicate(&a) && !a.ambiguous && !adopt => Err(CdmsError::Conflict {
                set: set.to_owned(),
                message: format!(
                    "a record with key {id} already exists in CDMS (not one this client created: \
                     no earlier attempt of this create reached the server)"
                ),
            }),
            _ if is_duplicate(&a) => {
                self.inner.metrics.replayed_create();
                tracing::debug!(set, %id, "create found its key already taken; fetching the record");
                self.get(set, id).await.map_err(|e| match e {
                    CdmsError::NotFound { .. } => CdmsError::Conflict {
                        set: set.to_owned(),
                        message: format!("key {id} is reported as a duplicate but cannot be read"),
                    },
                    other => other,
                })
            }
            _ => Err(status_error(set, None, &a)),
        }
    }

    /// Changes the given properties of record `id` (MERGE; other properties are untouched).
    pub async fn update(
        &self,
        set: &str,
        id: Uuid,
        body: &Map<String, J>,
    ) -> Result<(), CdmsError> {
        let url = self.inner.endpoint.key_url(set, id)?;
        let body = serde_json::to_vec(body).map_err(|e| CdmsError::Config {
            message: format!("body: {e}"),
        })?;
        let call = Call {
            verb: Verb::Merge,
            set,
            url,
            body: Some(body),
            retry: Retry::Idempotent,
        };
        let a = self.inner.execute(call).await?;
        match a.status {
            200 | 204 => Ok(()),
            _ => Err(status_error(set, Some(id), &a)),
        }
    }

    /// Deletes record `id`. A 404 after an attempt whose answer was lost counts as done.
    pub async fn delete(&self, set: &str, id: Uuid) -> Result<(), CdmsError> {
        let url = self.inner.endpoint.key_url(set, id)?;
        let call = Call {
            verb: Verb::Delete,
            set,
            url,
            body: None,
            retry: Retry::Idempotent,
        };
        let a = self.inner.execute(call).await?;
        match a.status {
            200 | 204 => Ok(()),
            404 if a.ambiguous => Ok(()),
            _ => Err(status_error(set, Some(id), &a)),
        }
    }

    async fn post(
        &self,
        set: &str,
        body: &Map<String, J>,
        retry: Retry,
    ) -> Result<transport::Answer, CdmsError> {
        let url = self.inner.endpoint.set_url(set)?;
        let body = serde_json::to_vec(body).map_err(|e| CdmsError::Config {
            message: format!("body: {e}"),
        })?;
        self.inner
            .execute(Call {
                verb: Verb::Post,
                set,
                url,
                body: Some(body),
                retry,
            })
            .await
    }
}

/// Pages of a list request, fetched one at a time by following `__next`.
///
/// ```no_run
/// # async fn demo(client: cdms_runtime::cdms::CdmsClient) -> Result<(), cdms_runtime::cdms::CdmsError> {
/// let mut pager = client.pager("AccountSet", &Default::default())?;
/// while let Some(page) = pager.next_page().await? {
///     println!("{} records", page.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Pager {
    client: CdmsClient,
    set: String,
    next: Option<String>,
    remaining: Option<u64>,
    pages: u32,
    /// Hashes of every link read or queued in this listing (a cycle is refused).
    seen: HashSet<u64>,
    /// Empty pages in a row so far.
    empty_run: u32,
}

fn link_hash(link: &str) -> u64 {
    let mut h = DefaultHasher::new();
    link.hash(&mut h);
    h.finish()
}

/// `link` (parsed as `url`) without user info: credentials in a link are neither sent nor
/// echoed in errors. A link without them is kept exactly as given.
fn without_credentials(mut url: reqwest::Url, link: &str) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return link.to_owned();
    }
    // Cannot fail for http(s) URLs, which is all `same_origin` lets through.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.into()
}

/// A link as shown in errors: without credentials, shortened.
fn shown_link(link: &str) -> String {
    crate::cdms::excerpt(&crate::redact_url(link), 200)
}

impl Pager {
    fn new(client: &CdmsClient, set: &str, first: String, remaining: Option<u64>) -> Self {
        Pager {
            client: client.clone(),
            set: set.to_owned(),
            seen: HashSet::from([link_hash(&first)]),
            next: Some(first),
            remaining,
            pages: 0,
            empty_run: 0,
        }
    }

    /// Refuses to follow `next` when the chain of pages does not come to an end.
    fn check_next(&mut self, next: &str, page_was_empty: bool) -> Result<(), CdmsError> {
        let stop = |reason| CdmsError::Paging {
            set: self.set.clone(),
            reason,
            link: shown_link(next),
        };
        self.empty_run = if page_was_empty {
            self.empty_run + 1
        } else {
            0
        };
        if self.empty_run >= MAX_EMPTY_PAGES {
            return Err(stop(PagingStop::EmptyPages(self.empty_run)));
        }
        if !self.seen.insert(link_hash(next)) {
            return Err(stop(PagingStop::Cycle));
        }
        Ok(())
    }

    /// The next page (at most 50 records), or `None` after the last one. The first call always
    /// yields a page, possibly empty.
    pub async fn next_page(&mut self) -> Result<Option<Vec<J>>, CdmsError> {
        let page = self.next_raw_page().await?;
        Ok(page.map(|records| records.iter().map(|r| decode::to_json(r)).collect()))
    }

    /// [`Pager::next_page`], each record as the text CDMS sent (for [`crate::cdms::decode`]):
    /// the answer is split into records without building a JSON tree.
    pub async fn next_raw_page(&mut self) -> Result<Option<Vec<RawRecord>>, CdmsError> {
        if self.remaining == Some(0) {
            self.next = None;
        }
        let max = self.client.inner.max_pages;
        if self.next.is_some() && self.pages >= max {
            return Err(CdmsError::Paging {
                set: self.set.clone(),
                reason: PagingStop::TooManyPages(max),
                link: shown_link(self.next.as_deref().unwrap_or_default()),
            });
        }
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let set = self.set.as_str();
        let call = Call {
            verb: Verb::Get,
            set,
            url,
            body: None,
            retry: Retry::Idempotent,
        };
        let inner = &self.client.inner;
        let a = inner.execute(call).await?;
        if a.status != 200 {
            return Err(status_error(set, None, &a));
        }
        let (mut results, next) = response::raw_page(set, &a)?;
        let page_was_empty = results.is_empty();
        inner.metrics.page();
        self.pages += 1;
        if let Some(remaining) = &mut self.remaining {
            let keep = usize::try_from(*remaining).unwrap_or(usize::MAX);
            results.truncate(keep);
            *remaining -= results.len() as u64;
        }
        if let Some(next) = next {
            let parsed = reqwest::Url::parse(&next).map_err(|e| CdmsError::Malformed {
                what: format!("{set}: \"__next\" is not a URL ({e})"),
                excerpt: shown_link(&next),
            })?;
            if !inner.endpoint.same_origin(&parsed) {
                return Err(CdmsError::Malformed {
                    what: format!(
                        "{set}: \"__next\" leads to another server; refusing to follow it"
                    ),
                    excerpt: shown_link(&next),
                });
            }
            let next = without_credentials(parsed, &next);
            self.check_next(&next, page_was_empty)?;
            self.next = Some(next);
        }
        Ok(Some(results))
    }

    /// The URL the next call to [`Pager::next_page`] fetches (the first page's URL before the
    /// first call, then the last `__next`); `None` after the last page. Saved as a checkpoint,
    /// it lets [`CdmsClient::resume_pager`] continue the listing later.
    pub fn next_link(&self) -> Option<&str> {
        if self.remaining == Some(0) {
            return None;
        }
        self.next.as_deref()
    }

    /// How many pages were read so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Whether the last page was read.
    pub fn is_done(&self) -> bool {
        self.next.is_none() || self.remaining == Some(0)
    }
}
