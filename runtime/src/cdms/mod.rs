//! Everything that talks to CDMS (Dynamics CRM 2011). Retiring CDMS deletes this module.

pub mod meta;
pub mod wire;

pub use meta::{CdmsField, CdmsKind, CdmsMeta, Codec, Synced};

/// An error from CDMS or the sync protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdmsError {
    /// Placeholder-free minimal variant until the client lands: a message.
    #[error("{0}")]
    Other(String),
}
