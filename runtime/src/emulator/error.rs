//! Errors of the emulator's Rust API, and the refusals it answers HTTP requests with.

use uuid::Uuid;

use crate::cdms::wire;

/// An error of the emulator's Rust API (configuration, data access, serving).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The entity set is not served by this emulator.
    #[error("the emulator serves no entity set named {0:?}")]
    UnknownSet(String),
    /// No record of the set has this id.
    #[error("{set} has no record {id}")]
    NotFound {
        /// The entity set.
        set: String,
        /// The missing id.
        id: Uuid,
    },
    /// The data was refused for the same reason CRM would refuse it over HTTP.
    #[error("{set}: refused with HTTP {status} (code {code:?}): {message}")]
    Rejected {
        /// The entity set.
        set: String,
        /// The HTTP status CRM would answer.
        status: u16,
        /// The CRM error code (`""` for request-level errors).
        code: String,
        /// The error message.
        message: String,
    },
    /// The builder was given an inconsistent configuration.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// The server could not bind or serve.
    #[error("emulator server I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A refusal, as CRM answers it: an HTTP status and the JSON error body's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub(crate) use crate::cdms::wire::CODE_UNEXPECTED;

impl ApiError {
    /// A request-level (WCF Data Services) error: 400 with an empty code.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code: String::new(),
            message: message.into(),
        }
    }

    /// A CRM platform fault with its signed decimal code.
    pub fn platform(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 404 for a missing record, in CRM's words.
    pub fn record_not_found(logical_name: &str, id: Uuid) -> Self {
        Self::platform(
            404,
            wire::CODE_NOT_FOUND,
            format!("{logical_name} With Id = {id} Does Not Exist"),
        )
    }

    /// 404 for a URL segment that names nothing.
    pub fn segment_not_found(segment: &str) -> Self {
        ApiError {
            status: 404,
            code: String::new(),
            message: format!("Resource not found for the segment '{segment}'."),
        }
    }

    /// 405 for a verb the resource does not allow.
    pub fn method_not_allowed(method: &str) -> Self {
        ApiError {
            status: 405,
            code: String::new(),
            message: format!("The method '{method}' is not allowed on this resource."),
        }
    }

    /// The Rust API's error for this refusal.
    pub fn into_emulator_error(self, set: &str) -> EmulatorError {
        EmulatorError::Rejected {
            set: set.to_owned(),
            status: self.status,
            code: self.code,
            message: self.message,
        }
    }
}
