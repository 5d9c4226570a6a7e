//! The sync protocol's own errors (wrapped in [`crate::cdms::CdmsError::Sync`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Error;
use crate::types::format_datetime;

/// Why the sync protocol refused or could not complete an operation. Every variant names the
/// entity, and the object where there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The local row is newer than its CDMS record. Every local write to a synced row goes
    /// through CDMS and takes CDMS's `ModifiedOn`, so this means the row was changed behind the
    /// sync layer (or CDMS's clock went back). Nothing was changed.
    #[error(
        "{entity} {pk} (CDMS id {cdms_id}) is not in sync: the local row was modified at {}, \
         after CDMS's ModifiedOn {}; nothing was changed",
        format_datetime(local),
        format_datetime(cdms)
    )]
    NotInSync {
        /// The entity type.
        entity: &'static str,
        /// The local primary key.
        pk: i64,
        /// The CDMS id.
        cdms_id: Uuid,
        /// The local `modified`.
        local: DateTime<Utc>,
        /// CDMS's `ModifiedOn`.
        cdms: DateTime<Utc>,
    },
    /// The CDMS record of a local row no longer exists, and the operation cannot go on.
    #[error("{entity} {pk}: its CDMS record {cdms_id} was deleted in CDMS: {message}")]
    RemoteDeleted {
        /// The entity type.
        entity: &'static str,
        /// The local primary key.
        pk: i64,
        /// The CDMS id.
        cdms_id: Uuid,
        /// What happened and what to do.
        message: String,
    },
    /// A read that must see every matching CDMS record (count, aggregate, a negative exists)
    /// matched more records than the page cap allows to fetch.
    #[error(
        "{entity}: {op} cannot be answered faithfully: the matching CDMS records exceed the page \
         cap of {cap}; narrow the filter, raise SyncConfig::page_cap, or load the entity in bulk \
         and use skip_cdms() for this read"
    )]
    Incomplete {
        /// The entity type.
        entity: &'static str,
        /// The read terminal (`count`, `aggregate`, `exists`).
        op: &'static str,
        /// The configured cap, in records.
        cap: usize,
    },
    /// A row that has no CDMS id yet (created locally, e.g. with `skip_cdms`) is needed in CDMS.
    #[error("{entity} {pk} has no CDMS id yet: {message}")]
    Unpublished {
        /// The entity type of the unpublished row.
        entity: &'static str,
        /// Its local primary key.
        pk: i64,
        /// What needed it, and what to do.
        message: String,
    },
    /// A CDMS lookup could not be mapped to a local row.
    #[error("{entity}.{field}: cannot resolve the reference to {target} {id}: {reason}")]
    UnresolvedReference {
        /// The referring entity type.
        entity: &'static str,
        /// The reference field.
        field: &'static str,
        /// The referenced entity type.
        target: &'static str,
        /// The referenced record's CDMS id.
        id: Uuid,
        /// Why.
        reason: String,
    },
    /// The entity is not set up for sync.
    #[error("{entity}: {message}")]
    NotSynced {
        /// The entity type.
        entity: &'static str,
        /// What is missing.
        message: String,
    },
}

impl From<SyncError> for Error {
    fn from(e: SyncError) -> Self {
        Error::from(crate::cdms::CdmsError::Sync(e))
    }
}

impl SyncError {
    /// The sync error inside `e`, if it is one.
    pub fn of(e: &Error) -> Option<&SyncError> {
        match e {
            Error::Cdms(boxed) => match boxed.as_ref() {
                crate::cdms::CdmsError::Sync(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is [`SyncError::NotInSync`].
    pub fn is_not_in_sync(&self) -> bool {
        matches!(self, SyncError::NotInSync { .. })
    }
}
