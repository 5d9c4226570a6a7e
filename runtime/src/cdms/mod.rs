//! Everything that talks to CDMS (Dynamics CRM 2011). Retiring CDMS deletes this module.
//!
//! - [`client`]: the OData V2 HTTP client (paging, retries, re-authentication, metrics).
//! - [`codec`]: CDMS JSON records ⇄ local [`crate::Value`]s, driven by [`CdmsMeta`].
//! - [`decode`]: answers streamed from their bytes into records by the generated decoders.
//! - [`filter`]: the typed query tree → the 2011 `$filter` / `$orderby` dialect.
//! - [`lookup`]: converters for lookups kept as the raw target id.
//! - `scaffold` (feature `scaffold`): annotated entity source code from CDMS's `$metadata`.
//! - [`meta`], [`wire`]: the generated metadata and the wire forms shared with the emulator.

pub mod bulk;
pub mod client;
pub mod codec;
pub mod decode;
pub mod encode;
pub mod filter;
pub mod lookup;
pub mod meta;
#[cfg(feature = "scaffold")]
pub mod scaffold;
pub mod sync;
pub mod wire;

#[cfg(test)]
mod test_fixtures;

pub use client::{
    Auth, CdmsClient, CdmsClientBuilder, ListOptions, Metrics, MetricsSnapshot, Pager, RetryPolicy,
    Secret, Verb,
};
pub use codec::{RemoteRecord, RemoteRef, WriteMode};
pub use decode::RawRecord;
pub use filter::{RemoteOrder, Translation};
pub use meta::{CdmsField, CdmsKind, CdmsMeta, Codec, NullPolicy, Synced};
pub use sync::{
    apply_prefetched, apply_records, ApplyStats, CdmsRemote, References, SyncConfig, SyncError,
    WriteOutcome,
};

use uuid::Uuid;

/// Why a request failed without an HTTP status worth reporting (or with one that may pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransientCause {
    /// The server answered with this status (5xx, 429).
    Status(u16),
    /// The request did not complete within the client's timeout.
    Timeout,
    /// No connection could be established (nothing was sent).
    Connect,
    /// The connection failed while sending or receiving (reset, closed mid-body, ...).
    Io(std::io::ErrorKind),
}

impl std::fmt::Display for TransientCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransientCause::Status(s) => write!(f, "HTTP {s}"),
            TransientCause::Timeout => f.write_str("timeout"),
            TransientCause::Connect => f.write_str("connection failed"),
            TransientCause::Io(kind) => write!(f, "I/O error ({kind})"),
        }
    }
}

/// Why a listing stopped following `__next` links ([`CdmsError::Paging`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingStop {
    /// The link was already read in this listing: the pages form a cycle.
    Cycle,
    /// The listing reached the client's cap of this many pages
    /// ([`CdmsClientBuilder::max_pages`]).
    TooManyPages(u32),
    /// This many pages in a row were empty, yet each linked to a further page.
    EmptyPages(u32),
}

impl std::fmt::Display for PagingStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PagingStop::Cycle => f.write_str("the link leads back to a page already read"),
            PagingStop::TooManyPages(n) => write!(f, "more than {n} pages in one listing"),
            PagingStop::EmptyPages(n) => write!(f, "{n} empty pages in a row, each with a link"),
        }
    }
}

/// An error from CDMS or the sync protocol.
///
/// Every variant names what was being accessed. Credentials never appear in messages.
/// New variants may be added (the sync protocol adds its own), so match with a wildcard arm.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CdmsError {
    /// The record does not exist (HTTP 404 on a keyed request).
    #[error("{set}: no record with id {id}")]
    NotFound {
        /// The entity set (`AccountSet`).
        set: String,
        /// The requested key.
        id: Uuid,
    },
    /// CDMS refused the request as invalid (400, 404 on a set, 405, 406, 413, or a platform
    /// fault that retrying cannot cure). `code` is CRM's error code (often empty).
    #[error("{set}: CDMS rejected the request (HTTP {status}, code {code:?}): {message}")]
    BadRequest {
        /// The entity set the request was for.
        set: String,
        /// The HTTP status.
        status: u16,
        /// CRM's error code (a signed decimal string, or empty).
        code: String,
        /// The server's message.
        message: String,
    },
    /// The credentials were refused, or the session could not be re-established.
    #[error("CDMS refused the credentials: {message}")]
    Unauthorized {
        /// What happened (never the credentials themselves).
        message: String,
    },
    /// The user lacks the privilege (HTTP 403).
    #[error("{set}: access denied: {message}")]
    Forbidden {
        /// The entity set.
        set: String,
        /// The server's message.
        message: String,
    },
    /// The write conflicts with existing data (a duplicate key that is not ours, HTTP 409/412).
    #[error("{set}: conflict: {message}")]
    Conflict {
        /// The entity set.
        set: String,
        /// What conflicts.
        message: String,
    },
    /// A failure that may pass (5xx, 429, timeouts, dropped connections), after `attempts`
    /// attempts.
    #[error("{set}: CDMS unavailable after {attempts} attempt(s): {cause}: {message}")]
    Transient {
        /// The entity set.
        set: String,
        /// The last failure.
        cause: TransientCause,
        /// How many attempts were made.
        attempts: u32,
        /// The last error message (server text or transport error).
        message: String,
    },
    /// A listing's `__next` links do not come to an end. Not retried: the same links would be
    /// served again.
    #[error("{set}: stopped following \"__next\": {reason}; link {link}")]
    Paging {
        /// The entity set being listed.
        set: String,
        /// What was wrong with the chain of pages.
        reason: PagingStop,
        /// The link that was not followed (credentials removed, shortened).
        link: String,
    },
    /// A listing's query string is longer than IIS in front of CRM accepts, even without
    /// `$select` (a long `$filter`); nothing was sent. The sync layer splits or relaxes such
    /// filters before listing.
    #[error("{set}: the query string would be {length} bytes, over the {limit} bytes IIS accepts; nothing was sent")]
    TooLong {
        /// The entity set.
        set: String,
        /// The query string's length, in bytes.
        length: usize,
        /// The limit it must stay within.
        limit: usize,
    },
    /// An answer was larger than the client's limit ([`CdmsClientBuilder::max_answer_bytes`]).
    /// Not retried: the same answer would come again.
    #[error("{set}: the answer to {verb} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The entity set the request was for.
        set: String,
        /// The request's verb.
        verb: Verb,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The server's TLS certificate did not verify (unknown issuer, expired, wrong name, ...).
    /// Never retried, and verification cannot be turned off; trust a private CA with
    /// [`CdmsClientBuilder::root_certificates_pem`].
    #[error("{set}: TLS certificate verification failed for {host}: {reason}")]
    Tls {
        /// The entity set the request was for.
        set: String,
        /// The host whose certificate was refused.
        host: String,
        /// Why it was refused.
        reason: String,
    },
    /// The response is not the OData JSON it should be (bad JSON, no `d`, an unexpected page).
    #[error("malformed CDMS response: {what}; body starts with {excerpt:?}")]
    Malformed {
        /// What was wrong, and for which request.
        what: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// A property of a CDMS record could not become the local field's value.
    #[error("{entity}{}.{property}: cannot decode {value}: {reason}", record.map(|id| format!(" {id}")).unwrap_or_default())]
    Decode {
        /// The CDMS entity (`Account`).
        entity: &'static str,
        /// The record's CDMS id, when the record carried a readable one.
        record: Option<Uuid>,
        /// The CDMS property (`Name`).
        property: String,
        /// The offending JSON, rendered (truncated).
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A local value could not become a CDMS property value.
    #[error("{entity}.{property}: cannot encode {value}: {reason}")]
    Encode {
        /// The CDMS entity (`Account`).
        entity: &'static str,
        /// The CDMS property.
        property: String,
        /// The offending value, rendered.
        value: String,
        /// Why.
        reason: String,
    },
    /// The client is misconfigured (bad base URL, invalid set name, TLS setup failure).
    #[error("CDMS client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The sync protocol refused or could not complete an operation ([`sync::SyncError`]).
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
}

impl CdmsError {
    /// Whether retrying later may succeed ([`CdmsError::Transient`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, CdmsError::Transient { .. })
    }

    /// Whether this is [`CdmsError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, CdmsError::NotFound { .. })
    }

    /// The HTTP status the error came with, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CdmsError::NotFound { .. } => Some(404),
            CdmsError::BadRequest { status, .. } => Some(*status),
            CdmsError::Unauthorized { .. } => Some(401),
            CdmsError::Forbidden { .. } => Some(403),
            CdmsError::Transient {
                cause: TransientCause::Status(s),
                ..
            } => Some(*s),
            _ => None,
        }
    }
}

/// Shortens `text` to at most `max` characters (on a character boundary) for error messages.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
