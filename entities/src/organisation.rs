//! Organisations: CDMS `Account`.

use cdms_runtime::{CdmsSynced, Entity, OptionSet, Ref};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::lookups::{BusinessType, Country, Sector, UkRegion};

/// A company or other organisation (CDMS `Account`, table `organisation`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[entity(table = "organisation")]
#[cdms(service = "Account")]
pub struct Organisation {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "AccountId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`; `None` before it is published).
    #[entity(created)]
    pub created_on: Option<DateTime<Utc>>,
    /// The organisation's name. CRM requires it only on its forms, and stores a blanked name as
    /// null: that reads as `""`.
    #[cdms(field = "Name", null = default)]
    pub name: String,
    /// The CRM account number.
    #[cdms(field = "AccountNumber")]
    pub account_number: Option<String>,
    /// The Companies House registration number.
    #[cdms(field = "optevia_CompaniesHouseNumber")]
    pub companies_house_number: Option<String>,
    /// The VAT registration number.
    #[cdms(field = "optevia_VATNumber")]
    pub vat_number: Option<String>,
    /// The web site.
    #[cdms(field = "WebSiteURL")]
    pub website: Option<String>,
    /// The main telephone number.
    #[cdms(field = "Telephone1")]
    pub telephone: Option<String>,
    /// The main e-mail address.
    #[cdms(field = "EMailAddress1")]
    pub email: Option<String>,
    /// First line of the address.
    #[cdms(field = "Address1_Line1")]
    pub address_line1: Option<String>,
    /// Town or city.
    #[cdms(field = "Address1_City")]
    pub address_city: Option<String>,
    /// Postcode, normalised (upper case, single spaces).
    #[cdms(field = "Address1_PostalCode", with = crate::convert::postcode)]
    pub address_postcode: Option<String>,
    /// Latitude of the address.
    #[cdms(field = "Address1_Latitude")]
    pub address_latitude: Option<f64>,
    /// Number of employees.
    #[cdms(field = "NumberOfEmployees")]
    pub number_of_employees: Option<i32>,
    /// Annual revenue (CDMS Money).
    #[cdms(field = "Revenue", money)]
    pub revenue: Option<Decimal>,
    /// The industry (CRM's standard `IndustryCode` option set).
    #[cdms(field = "IndustryCode")]
    pub industry: Option<IndustryCode>,
    /// The customer relationship type (`CustomerTypeCode`, customised per organisation).
    #[cdms(field = "CustomerTypeCode")]
    pub customer_type: Option<CustomerType>,
    /// Whether the organisation must not be e-mailed.
    #[cdms(field = "DoNotEMail")]
    pub do_not_email: bool,
    /// Whether the organisation is UK-based (`optevia_ukorganisation`).
    #[cdms(field = "optevia_ukorganisation")]
    pub uk_organisation: Option<bool>,
    /// The country of the registered address.
    #[cdms(field = "optevia_Country")]
    pub country: Option<Ref<Country>>,
    /// The industry sector.
    #[cdms(field = "optevia_Sector")]
    pub sector: Option<Ref<Sector>>,
    /// The UK region.
    #[cdms(field = "optevia_UKRegion")]
    pub uk_region: Option<Ref<UkRegion>>,
    /// The kind of business.
    #[cdms(field = "optevia_BusinessType")]
    pub business_type: Option<Ref<BusinessType>>,
    /// Local notes, never sent to CDMS.
    #[cdms(skip)]
    pub notes: Option<String>,
}

impl Organisation {
    /// A new (unsaved) organisation named `name`, every optional field empty.
    pub fn named(name: &str) -> Self {
        Organisation {
            id: 0,
            cdms_id: None,
            modified_on: DateTime::<Utc>::UNIX_EPOCH,
            created_on: None,
            name: name.to_owned(),
            account_number: None,
            companies_house_number: None,
            vat_number: None,
            website: None,
            telephone: None,
            email: None,
            address_line1: None,
            address_city: None,
            address_postcode: None,
            address_latitude: None,
            number_of_employees: None,
            revenue: None,
            industry: None,
            customer_type: None,
            do_not_email: false,
            uk_organisation: None,
            country: None,
            sector: None,
            uk_region: None,
            business_type: None,
            notes: None,
        }
    }
}

/// CRM's standard `IndustryCode` option set (codes 1–33); codes added by customisation decode to
/// [`IndustryCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum IndustryCode {
    Accounting = 1,
    AgricultureAndNonPetrolNaturalResourceExtraction = 2,
    BroadcastingPrintingAndPublishing = 3,
    Brokers = 4,
    BuildingSupplyRetail = 5,
    BusinessServices = 6,
    Consulting = 7,
    ConsumerServices = 8,
    DesignDirectionAndCreativeManagement = 9,
    DistributorsDispatchersAndProcessors = 10,
    DoctorsOfficesAndClinics = 11,
    DurableManufacturing = 12,
    EatingAndDrinkingPlaces = 13,
    EntertainmentRetail = 14,
    EquipmentRentalAndLeasing = 15,
    Financial = 16,
    FoodAndTobaccoProcessing = 17,
    InboundCapitalIntensiveProcessing = 18,
    InboundRepairAndServices = 19,
    Insurance = 20,
    LegalServices = 21,
    NonDurableMerchandiseRetail = 22,
    OutboundConsumerService = 23,
    PetrochemicalExtractionAndDistribution = 24,
    ServiceRetail = 25,
    SigAffiliations = 26,
    SocialServices = 27,
    SpecialOutboundTradeContractors = 28,
    SpecialtyRealty = 29,
    Transportation = 30,
    UtilityCreationAndDistribution = 31,
    VehicleRetail = 32,
    Wholesale = 33,
    /// A code this enum does not know (a customisation of the option set).
    #[option_set(other)]
    Other(i32),
}

/// The `CustomerTypeCode` option set. Its codes are customised per CRM organisation, so it is
/// kept as the raw code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct CustomerType(pub i32);
