//! The runtime's error type.

use crate::value::Value;

/// Everything that can go wrong in the runtime. Each variant names the entity (and the field and
/// value where there is one), so a message is actionable without a backtrace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database row (or user value) could not become a field's Rust type.
    #[error("{entity}.{field}: cannot decode {value}: {reason}")]
    Decode {
        /// The entity type.
        entity: &'static str,
        /// The field.
        field: &'static str,
        /// The offending value, rendered.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// `get` found no row.
    #[error("{entity}: no row matches {query}")]
    NotFound {
        /// The entity type.
        entity: &'static str,
        /// The query, rendered.
        query: String,
    },
    /// `get` found more than one row.
    #[error("{entity}: {count} rows match {query}, expected exactly one")]
    MultipleFound {
        /// The entity type.
        entity: &'static str,
        /// How many matched (at least).
        count: u64,
        /// The query, rendered.
        query: String,
    },
    /// The query cannot run as asked (e.g. a lookup the database cannot evaluate).
    #[error("{entity}: {message}")]
    InvalidQuery {
        /// The entity type.
        entity: &'static str,
        /// What is wrong and what to do instead.
        message: String,
    },
    /// An operation refused to break an invariant (e.g. a local-only write to a synced field).
    #[error("{entity}: {message}")]
    Refused {
        /// The entity type.
        entity: &'static str,
        /// Why, and what to do instead.
        message: String,
    },
    /// A database error, with the entity and statement kind it happened in.
    #[error("{entity}: database error during {during}: {source}")]
    Database {
        /// The entity type (or `"store"`).
        entity: &'static str,
        /// What was being done.
        during: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration refused, a migration file unusable, or drift between the database and its
    /// recorded migrations.
    #[error(transparent)]
    Migration(Box<crate::store::schema::files::MigrationError>),
    /// An error from CDMS or the sync protocol.
    #[cfg(feature = "cdms")]
    #[error(transparent)]
    Cdms(#[from] Box<crate::cdms::CdmsError>),
}

impl Error {
    /// A decode error for `entity.field` holding `value`.
    pub fn decode(
        entity: &'static str,
        field: &'static str,
        value: &Value,
        reason: impl std::fmt::Display,
    ) -> Self {
        Error::Decode {
            entity,
            field,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Wraps a driver error.
    pub fn db(entity: &'static str, during: &'static str, source: sqlx::Error) -> Self {
        Error::Database {
            entity,
            during,
            source,
        }
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

#[cfg(feature = "cdms")]
impl From<crate::cdms::CdmsError> for Error {
    fn from(e: crate::cdms::CdmsError) -> Self {
        Error::Cdms(Box::new(e))
    }
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
