//! # cdms-runtime
//!
//! The runtime behind `#[derive(Entity)]` and `#[derive(CdmsSynced)]`: a local store on SQLite or
//! PostgreSQL with a typed query API, and (feature `cdms`) the sync protocol that keeps it in step
//! with a Microsoft Dynamics CRM 2011 ("CDMS") OData endpoint.
//!
//! The crate is split along the retirement line: everything outside [`cdms`] and [`emulator`]
//! is local and stays when CDMS is switched off; those two modules (and the `cdms`/`emulator`
//! features) are deleted with it.

#![warn(missing_docs)]

pub mod entity;
pub mod error;
pub mod expr;
pub mod query;
pub mod redact;
pub mod store;
pub mod types;
pub mod value;

#[cfg(feature = "cdms")]
pub mod cdms;
#[cfg(all(feature = "cdms", feature = "cli"))]
pub mod cli;
#[cfg(feature = "emulator")]
pub mod emulator;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "cdms")]
pub use cdms_macros::CdmsSynced;
pub use cdms_macros::{Entity, OptionSet};

pub use entity::{ColumnDefault, Entity, EntityMeta, EntitySql, FieldMeta, FixedSql, Role, Row};
pub use error::{Error, Result};
pub use query::expr::{Field, Order, Q};
pub use query::order::FieldPath;
pub use query::QuerySet;
pub use redact::redact_url;
pub use store::{Db, SqlCounts, StatementKind};
pub use types::{FieldType, OptionSet, Ref};
pub use value::{Kind, Value};

/// Re-exports for application code: `use cdms_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::entity::Entity as _;
    pub use crate::query::EntityExt;
    #[cfg(feature = "cdms")]
    pub use crate::CdmsSynced;
    pub use crate::{Db, Entity, Field, OptionSet, QuerySet, Ref, Q};
}
