//! Reading answers: the OData JSON envelope and CRM's error body.

use serde_json::{Map, Value as J};
use uuid::Uuid;

use super::transport::Answer;
use crate::cdms::decode::page::RawPage;
use crate::cdms::decode::{self, RawRecord};
use crate::cdms::{excerpt, wire, CdmsError};

/// `(code, message)` of an error answer: CRM's JSON error body, or the start of the text.
pub(crate) fn error_details(body: &[u8]) -> (String, String) {
    if let Ok(json) = serde_json::from_slice::<J>(body) {
        if let Some(details) = wire::parse_error_body(&json) {
            return details;
        }
    }
    (
        String::new(),
        excerpt(String::from_utf8_lossy(body).trim(), 300),
    )
}

/// Whether `body` is an OData JSON error body (`{"error": {"code", "message"}}`).
fn has_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<J>(body)
        .ok()
        .and_then(|json| wire::parse_error_body(&json))
        .is_some()
}

/// Whether the answer is CRM's duplicate-key fault.
pub(crate) fn is_duplicate(a: &Answer) -> bool {
    a.status >= 400 && error_details(&a.body).0 == wire::CODE_DUPLICATE_KEY
}

/// The typed error for an unsuccessful answer to a request on `set` (about record `id`, if
/// keyed).
pub(crate) fn status_error(set: &str, id: Option<Uuid>, a: &Answer) -> CdmsError {
    let (code, message) = error_details(&a.body);
    let set = set.to_owned();
    match a.status {
        404 => match id {
            // A 404 naming another record (a lookup target) is about the body, not the key. A
            // plain 404 without CRM's error body (as other OData servers and front ends send)
            // on a keyed request means the record is not there.
            Some(id)
                if (code == wire::CODE_NOT_FOUND || !has_error_body(&a.body))
                    && !names_other_guid(&message, id) =>
            {
                CdmsError::NotFound { set, id }
            }
            _ => CdmsError::BadRequest {
                set,
                status: 404,
                code,
                message,
            },
        },
        401 => CdmsError::Unauthorized { message },
        403 => CdmsError::Forbidden { set, message },
        409 | 412 => CdmsError::Conflict { set, message },
        _ if code == wire::CODE_DUPLICATE_KEY => CdmsError::Conflict { set, message },
        status => CdmsError::BadRequest {
            set,
            status,
            code,
            message,
        },
    }
}

/// Whether `message` contains a GUID other than `id`.
fn names_other_guid(message: &str, id: Uuid) -> bool {
    let bytes = message.as_bytes();
    (0..bytes.len().saturating_sub(35)).any(|i| {
        let window = &bytes[i..i + 36];
        let shaped = window.iter().enumerate().all(|(j, b)| match j {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        shaped
            && std::str::from_utf8(window)
                .ok()
                .and_then(|s| Uuid::parse_str(s).ok())
                .is_some_and(|g| g != id)
    })
}

fn malformed(set: &str, what: &str, body: &[u8]) -> CdmsError {
    CdmsError::Malformed {
        what: format!("{set}: {what}"),
        excerpt: excerpt(String::from_utf8_lossy(body).trim(), 200),
    }
}

/// The `d` member of a JSON answer.
fn envelope(set: &str, body: &[u8]) -> Result<J, CdmsError> {
    let json: J = serde_json::from_slice(body)
        .map_err(|e| malformed(set, &format!("invalid JSON ({e})"), body))?;
    match json {
        J::Object(mut o) => o
            .remove("d")
            .ok_or_else(|| malformed(set, "no \"d\" member in the answer", body)),
        _ => Err(malformed(set, "the answer is not a JSON object", body)),
    }
}

/// A single entry answer: `{"d": {...}}`.
pub(crate) fn entry(set: &str, a: &Answer) -> Result<Map<String, J>, CdmsError> {
    match envelope(set, &a.body)? {
        J::Object(o) => Ok(o),
        _ => Err(malformed(set, "\"d\" is not an entry", &a.body)),
    }
}

/// A collection page: `{"d": {"results": [...], "__next": "..."}}` (or the V1 form `{"d": [...]}`),
/// split into the text of each record.
pub(crate) fn raw_page(set: &str, a: &Answer) -> Result<RawPage, CdmsError> {
    decode::page::page(&a.body).map_err(|what| malformed(set, &what, &a.body))
}

/// A single entry answer `{"d": {...}}`, as the text of the record.
pub(crate) fn raw_entry(set: &str, a: &Answer) -> Result<RawRecord, CdmsError> {
    decode::page::entry(&a.body).map_err(|what| malformed(set, &what, &a.body))
}
