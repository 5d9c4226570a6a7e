//! One logical request: attempts, re-authentication, retries, tracing and metrics.

use std::error::Error as _;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER};
use reqwest::Method;
use tracing::Instrument;

use super::auth::{self, Auth};
use super::metrics::Verb;
use super::response::error_details;
use super::Inner;
use crate::cdms::{excerpt, wire, CdmsError, TransientCause};

/// Which failures may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// GET, DELETE, MERGE: any transient failure.
    Idempotent,
    /// POST carrying a client-generated key: any transient failure (a duplicate answer then
    /// means an earlier attempt succeeded).
    SafeCreate,
    /// POST without a key: only failures where nothing was sent (connection refused).
    Never,
}

/// A request to make.
pub(crate) struct Call<'a> {
    pub verb: Verb,
    pub set: &'a str,
    pub url: String,
    pub body: Option<Vec<u8>>,
    pub retry: Retry,
}

/// The answer that ended a request.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// An earlier attempt reached the server but its answer was lost, so it may have been
    /// carried out.
    pub ambiguous: bool,
}

/// Why an attempt produced no answer.
enum AttemptError {
    /// A failure that may pass; retried per the policy.
    Transient(Failure),
    /// A failure that repeating cannot cure (an answer over the size limit).
    Fatal(CdmsError),
}

/// The certificate error in `e`'s chain, if the TLS handshake refused the server's certificate.
pub(crate) fn certificate_error(e: &reqwest::Error) -> Option<String> {
    let mut source = e.source();
    while let Some(s) = source {
        // rustls' error travels inside io::Errors (possibly nested), whose `source` skips the
        // error they wrap: look inside each.
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(s);
        while let Some(candidate) = inner {
            if let Some(tls) = candidate.downcast_ref::<rustls::Error>() {
                return match tls {
                    rustls::Error::InvalidCertificate(why) => Some(format!("{why:?}")),
                    rustls::Error::NoCertificatesPresented => {
                        Some("the server presented no certificate".to_owned())
                    }
                    rustls::Error::InvalidCertRevocationList(why) => Some(format!("{why:?}")),
                    _ => None,
                };
            }
            inner = candidate
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|e| e as &(dyn std::error::Error + 'static));
        }
        source = s.source();
    }
    None
}

/// The host of `url`, for messages.
pub(crate) fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(443)))
        })
        .unwrap_or_else(|| "?".to_owned())
}

impl From<Failure> for AttemptError {
    fn from(f: Failure) -> Self {
        AttemptError::Transient(f)
    }
}

/// Reading an answer body as a stream, up to `limit` bytes.
enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads `resp`'s body, refusing it as soon as it is known to exceed `limit` bytes (from
/// `Content-Length`, or while streaming), so an endless body costs at most `limit` bytes.
async fn read_capped(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An attempt that got no (usable) answer.
struct Failure {
    cause: TransientCause,
    message: String,
    /// Whether the request may have reached the server.
    sent: bool,
}

impl Failure {
    fn from_reqwest(e: &reqwest::Error) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        let mut io_kind = None;
        while let Some(s) = source {
            message = format!("{message}: {s}");
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                io_kind.get_or_insert(io.kind());
            }
            source = s.source();
        }
        let (cause, sent) = if e.is_timeout() {
            (TransientCause::Timeout, true)
        } else if e.is_connect() {
            (TransientCause::Connect, false)
        } else {
            (
                TransientCause::Io(io_kind.unwrap_or(std::io::ErrorKind::ConnectionAborted)),
                true,
            )
        };
        Failure {
            cause,
            message,
            sent,
        }
    }
}

/// Whether an answer with `status` is a failure worth retrying.
///
/// 429, 502, 503 and 504 always are. A 500 (507, 508) is when it carries no CRM error code (an
/// IIS or ASP.NET error page, or a WCF fault with an empty code), or CRM's generic "unexpected"
/// code (`0x80040216`, which SQL timeouts and deadlocks surface as), unless its message is the
/// `$skip` paging limit. Any other CRM code names a platform fault about the request itself
/// (an attribute the entity lacks, an option value out of range, a duplicate key, a child
/// without its parent) that repeats the same way every time. 4xx answers are never transient
/// (429 aside): the request itself is refused.
pub(crate) fn is_transient_status(status: u16, body: &[u8]) -> bool {
    match status {
        429 | 502 | 503 | 504 => true,
        500 | 507 | 508 => {
            let (code, message) = error_details(body);
            let code = code.trim();
            (code.is_empty() || code == "0" || code == wire::CODE_UNEXPECTED)
                && !message.to_ascii_lowercase().contains("paging")
        }
        _ => false,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// Why an answer says the session is gone, if it does.
fn session_gone(status: u16, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    match status {
        401 => Some("HTTP 401".to_owned()),
        300..=399 => {
            let to = headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            Some(format!("HTTP {status} redirect to {to}"))
        }
        200..=299 if auth::is_html(headers, body) => {
            Some("an HTML page (the sign-in page) instead of JSON".to_owned())
        }
        _ => None,
    }
}

impl Inner {
    /// Runs `call` to its final answer. Transient failures are retried per the policy and the
    /// call's [`Retry`]; an expired session signs in again once.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Answer, CdmsError> {
        let started = Instant::now();
        let mut rng = fastrand::Rng::new();
        let mut attempts = 0u32;
        let mut reauthed = false;
        let mut ambiguous = false;
        loop {
            let generation = self.ensure_session(call.set).await?;
            attempts += 1;
            let (cause, message, hint) = match self.attempt(&call, attempts).await {
                Ok((status, headers, body)) => {
                    if let Some(why) = session_gone(status, &headers, &body) {
                        if !matches!(self.auth, Auth::CookieSession { .. }) {
                            if status == 401 || (300..400).contains(&status) {
                                return Err(CdmsError::Unauthorized { message: why });
                            }
                            let text = String::from_utf8_lossy(&body);
                            return Err(CdmsError::Malformed {
                                what: format!("{} {}: {why}", call.verb, call.set),
                                excerpt: excerpt(&text, 200),
                            });
                        }
                        if reauthed {
                            return Err(CdmsError::Unauthorized {
                                message: format!("{why} again after signing in anew"),
                            });
                        }
                        reauthed = true;
                        attempts -= 1; // the repeat after signing in is not a retry
                        self.metrics.reauth();
                        tracing::debug!(verb = %call.verb, set = call.set, reason = %why, "CDMS session expired; signing in again");
                        self.login(call.set, generation).await?;
                        continue;
                    }
                    if !is_transient_status(status, &body) {
                        return Ok(Answer {
                            status,
                            body,
                            ambiguous,
                        });
                    }
                    if matches!(status, 502 | 504) {
                        ambiguous = true;
                    }
                    (
                        TransientCause::Status(status),
                        error_details(&body).1,
                        retry_after(&headers),
                    )
                }
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Transient(f)) => {
                    ambiguous |= f.sent;
                    (f.cause, f.message, None)
                }
            };
            let retryable = match call.retry {
                Retry::Idempotent | Retry::SafeCreate => true,
                Retry::Never => cause == TransientCause::Connect,
            };
            let delay = retryable
                .then(|| {
                    self.retry
                        .next_delay(attempts, started.elapsed(), hint, &mut rng)
                })
                .flatten();
            let Some(delay) = delay else {
                return Err(CdmsError::Transient {
                    set: call.set.to_owned(),
                    cause,
                    attempts,
                    message,
                });
            };
            self.metrics.retry();
            tracing::debug!(verb = %call.verb, set = call.set, %cause, attempts, delay_ms = delay.as_millis() as u64, "retrying CDMS request");
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP exchange, in a DEBUG span with verb, set, status, duration and sizes.
    async fn attempt(
        &self,
        call: &Call<'_>,
        attempt: u32,
    ) -> Result<(u16, HeaderMap, Vec<u8>), AttemptError> {
        let bytes_out = call.body.as_ref().map_or(0, Vec::len);
        let span = tracing::debug_span!(
            "cdms_request",
            verb = %call.verb,
            set = call.set,
            attempt,
            bytes_out,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            bytes_in = tracing::field::Empty,
        );
        let started = Instant::now();
        self.metrics.request(call.verb, bytes_out);
        let result = self.exchange(call).instrument(span.clone()).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        span.record("duration_ms", duration_ms);
        match &result {
            Ok((status, _, body)) => {
                self.metrics.response(call.verb, *status, body.len());
                span.record("status", *status);
                span.record("bytes_in", body.len());
                tracing::debug!(parent: &span, status, duration_ms, bytes_in = body.len(), "CDMS answered");
            }
            Err(AttemptError::Transient(f)) => {
                self.metrics.transport_error(call.verb);
                tracing::debug!(parent: &span, cause = %f.cause, duration_ms, error = %f.message, "CDMS request failed");
            }
            Err(AttemptError::Fatal(e)) => {
                self.metrics.transport_error(call.verb);
                tracing::debug!(parent: &span, duration_ms, error = %e, "CDMS request failed");
            }
        }
        result
    }

    async fn exchange(&self, call: &Call<'_>) -> Result<(u16, HeaderMap, Vec<u8>), AttemptError> {
        let method = match call.verb {
            Verb::Get => Method::GET,
            Verb::Post | Verb::Merge => Method::POST,
            Verb::Delete => Method::DELETE,
        };
        let mut rb = self
            .http
            .request(method, &call.url)
            .timeout(self.timeout)
            .header(ACCEPT, "application/json");
        if call.verb == Verb::Merge {
            rb = rb.header("X-HTTP-Method", "MERGE");
        }
        if let Some(body) = &call.body {
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        rb = match &self.auth {
            Auth::None => rb,
            Auth::Basic { user, password } => rb.basic_auth(user, Some(password.expose())),
            Auth::Bearer(token) => rb.bearer_auth(token.expose()),
            Auth::CookieSession { .. } => match self
                .session
                .current()
                .0
                .and_then(|c| auth::sensitive(c.expose()))
            {
                Some(cookie) => rb.header(COOKIE, cookie),
                None => rb,
            },
        };
        let resp = rb.send().await.map_err(|e| match certificate_error(&e) {
            Some(reason) => AttemptError::Fatal(CdmsError::Tls {
                set: call.set.to_owned(),
                host: host_of(&call.url),
                reason,
            }),
            None => Failure::from_reqwest(&e).into(),
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = self.read_body(resp, call.set, call.verb).await?;
        Ok((status, headers, body))
    }

    /// An answer's body, within the client's size limit.
    async fn read_body(
        &self,
        resp: reqwest::Response,
        set: &str,
        verb: Verb,
    ) -> Result<Vec<u8>, AttemptError> {
        match read_capped(resp, self.max_answer_bytes).await {
            Ok(body) => Ok(body),
            Err(ReadError::TooLarge) => Err(AttemptError::Fatal(CdmsError::TooLarge {
                set: set.to_owned(),
                verb,
                limit: self.max_answer_bytes,
            })),
            Err(ReadError::Transport(e)) => Err(Failure::from_reqwest(&e).into()),
        }
    }

    /// Signs in when a cookie session has no cookie yet; returns the session generation in use.
    async fn ensure_session(&self, set: &str) -> Result<u64, CdmsError> {
        if !matches!(self.auth, Auth::CookieSession { .. }) {
            return Ok(0);
        }
        let (cookie, generation) = self.session.current();
        if cookie.is_none() {
            self.login(set, generation).await?;
            return Ok(self.session.generation());
        }
        Ok(generation)
    }

    /// Signs in, unless another request already did since session generation `seen`.
    pub(crate) async fn login(&self, set: &str, seen: u64) -> Result<(), CdmsError> {
        let Auth::CookieSession {
            login_path,
            user,
            password,
        } = &self.auth
        else {
            return Ok(());
        };
        let _guard = self.login_lock.lock().await;
        if self.session.generation() != seen {
            return Ok(());
        }
        let url = self.endpoint.origin_path(login_path)?;
        self.metrics.login();
        let span =
            tracing::debug_span!("cdms_login", path = %login_path, status = tracing::field::Empty);
        let sent = self
            .http
            .post(&url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "text/html,application/json")
            .body(auth::login_form(user, password))
            .send()
            .instrument(span.clone())
            .await;
        let resp = sent.map_err(|e| {
            if let Some(reason) = certificate_error(&e) {
                return CdmsError::Tls {
                    set: set.to_owned(),
                    host: host_of(&url),
                    reason,
                };
            }
            let f = Failure::from_reqwest(&e);
            CdmsError::Transient {
                set: set.to_owned(),
                cause: f.cause,
                attempts: 1,
                message: format!("signing in: {}", f.message),
            }
        })?;
        let status = resp.status().as_u16();
        span.record("status", status);
        let cookies = auth::cookies_from(resp.headers());
        let body = match self.read_body(resp, set, Verb::Post).await {
            Ok(body) => body,
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Transient(_)) => Vec::new(),
        };
        match cookies {
            Some(cookie) if status < 400 => {
                self.session.replace(auth::Secret::new(cookie));
                tracing::debug!(parent: &span, "signed in to CDMS");
                Ok(())
            }
            _ if status >= 500 => Err(CdmsError::Transient {
                set: set.to_owned(),
                cause: TransientCause::Status(status),
                attempts: 1,
                message: format!("signing in: {}", error_details(&body).1),
            }),
            _ => {
                let text = String::from_utf8_lossy(&body);
                let reason = auth::login_error(&text)
                    .or_else(|| {
                        let (_, message) = error_details(&body);
                        (!message.is_empty() && !auth::is_html(&HeaderMap::new(), &body))
                            .then_some(message)
                    })
                    .unwrap_or_else(|| "no session cookie was set".to_owned());
                Err(CdmsError::Unauthorized {
                    message: format!("sign-in at {login_path} failed (HTTP {status}): {reason}"),
                })
            }
        }
    }
}
