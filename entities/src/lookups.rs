//! The CDMS lookup sets an organisation refers to (`optevia_countrySet`, `optevia_sectorSet`,
//! `optevia_ukregionSet`, `optevia_businesstypeSet`).
//!
//! Their display names are the sets' primary names: CRM requires them on its forms only, and
//! stores a blanked one as null, so they are mapped with `null = default` (a null reads as `""`).

use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A country (`optevia_country`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[entity(table = "country")]
#[cdms(service = "optevia_country")]
pub struct Country {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "optevia_countryId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`).
    #[entity(created)]
    pub created_on: DateTime<Utc>,
    /// The display name (`United Kingdom`).
    #[cdms(field = "optevia_Country", null = default)]
    pub name: String,
    /// ISO 3166-1 alpha-2 code (`GB`).
    #[cdms(field = "optevia_ISOCountry2")]
    pub iso_code2: Option<String>,
    /// ISO 3166-1 alpha-3 code (`GBR`).
    #[cdms(field = "optevia_ISOCountry3")]
    pub iso_code3: Option<String>,
    /// The international dialling code (`44`).
    #[cdms(field = "optevia_TelephoneCode")]
    pub telephone_code: Option<i32>,
    /// Whether the country is in the EU (`detica_eu`).
    #[cdms(field = "detica_eu")]
    pub eu: Option<bool>,
}

/// An industry sector (`optevia_sector`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[cdms(service = "optevia_sector")]
pub struct Sector {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "optevia_sectorId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`).
    #[entity(created)]
    pub created_on: DateTime<Utc>,
    /// The display name.
    #[cdms(field = "optevia_name", null = default)]
    pub name: String,
    /// Position in pick lists.
    #[cdms(field = "optevia_SortIndex")]
    pub sort_index: Option<i32>,
}

/// A UK region (`optevia_ukregion`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[cdms(service = "optevia_ukregion")]
pub struct UkRegion {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "optevia_ukregionId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`).
    #[entity(created)]
    pub created_on: DateTime<Utc>,
    /// The display name (`London`).
    #[cdms(field = "optevia_name", null = default)]
    pub name: String,
    /// The region code.
    #[cdms(field = "optevia_UKRegionCode")]
    pub code: Option<String>,
}

/// A kind of business (`optevia_businesstype`): company, partnership, charity, ...
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[cdms(service = "optevia_businesstype")]
pub struct BusinessType {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "optevia_businesstypeId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`).
    #[entity(created)]
    pub created_on: DateTime<Utc>,
    /// The display name.
    #[cdms(field = "optevia_name", null = default)]
    pub name: String,
    /// Position in pick lists.
    #[cdms(field = "optevia_SortIndex")]
    pub sort_index: Option<i32>,
}
