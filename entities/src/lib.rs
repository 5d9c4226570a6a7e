//! Example entities modelled on the real CDMS (Dynamics CRM 2011) schema of UKTI: the
//! `optevia_*` lookup sets, `Account` as [`Organisation`] and `Contact`.
//!
//! Each struct is a local table (`#[derive(Entity)]`) kept in sync with its CDMS entity set
//! (`#[derive(CdmsSynced)]`). Property names are the case-sensitive CDMS schema names.
//!
//! ```no_run
//! # async fn demo(db: &cdms_runtime::Db) {
//! use cdms_entities::Organisation;
//!
//! let f = Organisation::fields();
//! let large_uk = Organisation::objects(db);
//! let filter = f.name.icontains("acme") & f.number_of_employees.gte(250);
//! # let _ = (large_uk, filter);
//! # }
//! ```

#![warn(missing_docs)]

pub mod contact;
pub mod convert;
pub mod demo;
pub mod demo_data;
pub mod lookups;
pub mod organisation;

#[cfg(test)]
mod schema_tests;

use cdms_runtime::{Entity, EntityMeta};

pub use contact::{Contact, Gender};
pub use lookups::{BusinessType, Country, Sector, UkRegion};
pub use organisation::{CustomerType, IndustryCode, Organisation};

/// Every entity of this crate, referenced entities before the entities that reference them
/// (lookups, then organisations, then contacts): the order in which to create tables and load.
pub fn all_entities() -> &'static [&'static EntityMeta] {
    const ALL: &[&EntityMeta] = &[
        <Country as Entity>::META,
        <Sector as Entity>::META,
        <UkRegion as Entity>::META,
        <BusinessType as Entity>::META,
        <Organisation as Entity>::META,
        <Contact as Entity>::META,
    ];
    ALL
}
