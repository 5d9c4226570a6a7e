//! Every supported field type (and `Option` of each), references, option sets, money and a
//! converter, on an entity synced with CDMS; `main` checks the generated metadata and rows.

use cdms_runtime::cdms::{CdmsKind, CdmsMeta, NullPolicy, Synced};
use cdms_runtime::{CdmsSynced, Entity, Kind, OptionSet, Ref, Role, Value};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

mod postcode {
    use cdms_runtime::cdms::CdmsKind;
    use serde_json::Value;

    pub const KIND: CdmsKind = CdmsKind::String;

    pub fn from_cdms(json: &Value) -> Result<Option<String>, String> {
        match json {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.to_uppercase())),
            other => Err(format!("not a postcode: {other}")),
        }
    }

    pub fn to_cdms(value: &Option<String>) -> Value {
        value.clone().map_or(Value::Null, Value::String)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, OptionSet)]
#[repr(i32)]
pub enum Industry {
    Accounting = 1,
    Brokers = 4,
    Retired = -1,
    #[option_set(other)]
    Other(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, OptionSet)]
pub enum Gender {
    Male = 1,
    Female = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, OptionSet)]
pub struct CustomerType(pub i32);

#[derive(Debug, Entity, CdmsSynced)]
#[cdms(service = "optevia_country")]
pub struct Country {
    #[entity(primary_key)]
    pub id: i64,
    #[cdms(id)]
    pub cdms_id: Option<Uuid>,
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    #[cdms(field = "optevia_Country")]
    pub name: String,
    #[cdms(field = "CreatedBy", with = ::cdms_runtime::cdms::lookup::raw_id, read_only)]
    pub created_by: Option<Uuid>,
}

#[derive(Debug, PartialEq, Entity, CdmsSynced)]
#[entity(table = "organisation")]
#[cdms(service = "Account")]
pub struct Organisation {
    #[entity(primary_key, column = "organisation_id")]
    pub id: i64,
    #[cdms(field = "AccountId", id)]
    pub cdms_id: Option<Uuid>,
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    #[entity(created)]
    pub created_on: Option<DateTime<Utc>>,
    #[entity(unique)]
    #[cdms(field = "Name", null = default)]
    pub name: String,
    #[cdms(field = "AccountNumber")]
    pub account_number: Option<String>,
    #[cdms(field = "DoNotEMail")]
    pub do_not_email: bool,
    #[cdms(field = "optevia_ukorganisation")]
    pub uk: Option<bool>,
    #[cdms(field = "ImportSequenceNumber")]
    pub sequence: i32,
    #[cdms(field = "NumberOfEmployees")]
    pub employees: Option<i32>,
    #[cdms(field = "VersionNumber")]
    pub version: i64,
    #[cdms(field = "optevia_SourceObsolete")]
    pub source: Option<i64>,
    #[cdms(field = "Address1_Latitude")]
    pub latitude: f64,
    #[cdms(field = "Address1_Longitude")]
    pub longitude: Option<f64>,
    #[cdms(field = "ExchangeRate")]
    pub exchange_rate: Decimal,
    #[cdms(field = "Revenue", money)]
    pub revenue: Option<Decimal>,
    #[cdms(field = "CreditLimit", money)]
    pub credit_limit: Decimal,
    #[cdms(field = "LastUsedInCampaign")]
    pub last_campaign: DateTime<Utc>,
    #[cdms(field = "optevia_LastVerified")]
    pub verified_on: Option<DateTime<Utc>>,
    #[cdms(field = "OverriddenCreatedOn")]
    pub founded: NaiveDate,
    #[cdms(field = "optevia_OG_CREATED")]
    pub registered: Option<NaiveDate>,
    #[cdms(field = "Address1_AddressId")]
    pub address_id: Uuid,
    #[cdms(field = "Address2_AddressId")]
    pub address2_id: Option<Uuid>,
    #[cdms(field = "optevia_Country")]
    pub country: Ref<Country>,
    #[cdms(field = "optevia_UKRegion")]
    pub region: Option<Ref<Country>>,
    #[cdms(field = "IndustryCode")]
    pub industry: Industry,
    #[cdms(field = "AccountCategoryCode")]
    pub category: Option<Industry>,
    #[cdms(field = "PreferredContactMethodCode")]
    pub gender: Option<Gender>,
    #[cdms(field = "CustomerTypeCode")]
    pub customer_type: Option<CustomerType>,
    #[cdms(field = "Address1_PostalCode", with = postcode)]
    pub postcode: Option<String>,
    #[cdms(skip)]
    pub notes: Option<String>,
}

fn sample() -> Organisation {
    let t = Utc.with_ymd_and_hms(2016, 3, 1, 12, 0, 0).single().expect("valid instant");
    let d = NaiveDate::from_ymd_opt(2001, 2, 3).expect("valid date");
    Organisation {
        id: 0,
        cdms_id: Some(Uuid::nil()),
        modified_on: t,
        created_on: None,
        name: "Acme".to_owned(),
        account_number: None,
        do_not_email: true,
        uk: Some(false),
        sequence: 7,
        employees: None,
        version: 1 << 40,
        source: None,
        latitude: 51.5,
        longitude: Some(-0.12),
        exchange_rate: Decimal::new(12345, 4),
        revenue: Some(Decimal::new(100, 0)),
        credit_limit: Decimal::ZERO,
        last_campaign: t,
        verified_on: Some(t),
        founded: d,
        registered: None,
        address_id: Uuid::nil(),
        address2_id: None,
        country: Ref::new(3),
        region: None,
        industry: Industry::Other(77),
        category: Some(Industry::Brokers),
        gender: Some(Gender::Female),
        customer_type: Some(CustomerType(5)),
        postcode: Some("SW1A 1AA".to_owned()),
        notes: Some("local only".to_owned()),
    }
}

fn check_entity_meta() {
    let meta = Organisation::META;
    assert_eq!(meta.name, "Organisation");
    assert_eq!(meta.table, "organisation");
    assert_eq!(meta.fields.len(), 31);
    assert_eq!((meta.pk, meta.modified, meta.created), (0, Some(2), Some(3)));
    assert_eq!(meta.pk_field().column, "organisation_id");
    assert_eq!(meta.pk_field().role, Role::PrimaryKey);
    let (_, name) = meta.field("name").expect("name field");
    assert!(name.unique && !name.nullable && name.kind == Kind::Text);
    let kinds: Vec<(Kind, bool)> = meta.fields.iter().map(|f| (f.kind, f.nullable)).collect();
    assert_eq!(kinds[6..14], [
        (Kind::Bool, false), (Kind::Bool, true), (Kind::Int32, false), (Kind::Int32, true),
        (Kind::Int64, false), (Kind::Int64, true), (Kind::Float, false), (Kind::Float, true),
    ]);
    assert_eq!(kinds[14..23], [
        (Kind::Decimal, false), (Kind::Decimal, true), (Kind::Decimal, false),
        (Kind::DateTime, false), (Kind::DateTime, true), (Kind::Date, false), (Kind::Date, true),
        (Kind::Uuid, false), (Kind::Uuid, true),
    ]);
    let (_, country) = meta.field("country").expect("country field");
    let target = country.references.map(|f| f().table);
    assert_eq!((country.kind, target), (Kind::Int64, Some("country")));
    let (_, industry) = meta.field("industry").expect("industry field");
    assert!(industry.option_set && industry.kind == Kind::Int32 && industry.references.is_none());
    assert_eq!(Country::META.table, "country", "default table: snake_case of the struct name");
    let fields = Organisation::fields();
    assert_eq!((fields.id.index(), fields.notes.index()), (0, 30));
}

fn check_cdms_meta() {
    let cdms = CdmsMeta::of(Organisation::META).expect("synced entity exposes its CDMS meta");
    assert!(std::ptr::eq(cdms, <Organisation as Synced>::CDMS));
    assert_eq!((cdms.service, cdms.set, cdms.logical_name), ("Account", "AccountSet", "account"));
    assert_eq!((cdms.id_field, cdms.id_property), (1, "AccountId"));
    assert_eq!(cdms.fields.len(), 29, "all but the local key and the skipped field");
    assert!(cdms.by_field(0).is_none() && cdms.by_field(30).is_none());
    let kind = |p: &str| cdms.by_property(p).map(|f| f.kind);
    assert_eq!(kind("ModifiedOn"), Some(CdmsKind::DateTime));
    assert_eq!(kind("CreatedOn"), Some(CdmsKind::DateTime));
    assert_eq!(kind("VersionNumber"), Some(CdmsKind::Int64));
    assert_eq!(kind("ExchangeRate"), Some(CdmsKind::Decimal));
    assert_eq!(kind("Revenue"), Some(CdmsKind::Money));
    assert_eq!(kind("CreditLimit"), Some(CdmsKind::Money));
    assert_eq!(kind("OverriddenCreatedOn"), Some(CdmsKind::DateTime));
    assert_eq!(kind("Address1_AddressId"), Some(CdmsKind::Guid));
    assert_eq!(kind("optevia_Country"), Some(CdmsKind::EntityReference));
    assert_eq!(kind("IndustryCode"), Some(CdmsKind::OptionSetValue));
    assert_eq!(kind("CustomerTypeCode"), Some(CdmsKind::OptionSetValue));
    assert_eq!(kind("Address1_Latitude"), Some(CdmsKind::Double));
    let country = CdmsMeta::of(Country::META).expect("country is synced");
    assert_eq!((country.set, country.id_property), ("optevia_countrySet", "optevia_countryId"));
    let created_by = country.by_property("CreatedBy").expect("CreatedBy mapping");
    assert!(created_by.read_only, "#[cdms(read_only)]");
    assert_eq!(created_by.kind, CdmsKind::EntityReference, "the raw_id converter's KIND");
    assert!(!country.by_property("optevia_Country").expect("name").read_only);

    let postcode = cdms.by_property("Address1_PostalCode").expect("postcode mapping");
    let codec = postcode.codec.expect("a converter field has a codec");
    assert_eq!(postcode.kind, CdmsKind::String);
    assert_eq!((codec.decode)(&serde_json::json!("w1a 0ax")), Ok(Value::Text("W1A 0AX".to_owned())));
    assert_eq!((codec.decode)(&serde_json::Value::Null), Ok(Value::Null));
    assert!((codec.decode)(&serde_json::json!(3)).is_err());
    assert_eq!((codec.encode)(Value::Text("E1 6AN".to_owned())), Ok(serde_json::json!("E1 6AN")));
    assert!((codec.encode)(Value::Int(1)).is_err());
    assert!(cdms.by_property("Name").and_then(|f| f.codec).is_none());
    let null = |p: &str| cdms.by_property(p).map(|f| f.null);
    assert_eq!(null("Name"), Some(NullPolicy::Default), "#[cdms(null = default)]");
    assert_eq!(null("DoNotEMail"), Some(NullPolicy::Refuse), "the default policy");
}

fn check_rows() {
    let mut org = sample();
    let row = org.to_row();
    assert_eq!(row.len(), 31);
    assert_eq!(row[25], Value::Int(77), "fallback option set code");
    assert_eq!(row[26], Value::Int(4));
    assert_eq!(row[28], Value::Int(5));
    let back = Organisation::from_row(row.clone()).expect("round trip");
    assert_eq!(back, org);
    org.set_pk(42);
    assert_eq!(org.pk(), 42);

    let mut bad = row.clone();
    bad[4] = Value::Int(1);
    let err = Organisation::from_row(bad).expect_err("text field given an integer");
    assert_eq!(err.to_string(), "Organisation.name: cannot decode 1: expected text, got 1");
    let mut bad = row.clone();
    bad[27] = Value::Int(9);
    let err = Organisation::from_row(bad).expect_err("unknown strict option set code");
    assert!(err.to_string().contains("Organisation.gender: cannot decode 9"), "{err}");
    assert!(err.to_string().contains("expected a code of `Gender` (1 = Male, 2 = Female), got 9"), "{err}");
    let mut negative = row.clone();
    negative[25] = Value::Int(-1);
    let decoded = Organisation::from_row(negative).expect("negative code");
    assert_eq!(decoded.industry, Industry::Retired);
    let mut huge = row.clone();
    huge[25] = Value::Int(1 << 40);
    let err = Organisation::from_row(huge).expect_err("a code beyond i32");
    assert!(err.to_string().contains("expected a code of `Industry` (an i32)"), "{err}");
    let short = row[..5].to_vec();
    assert!(Organisation::from_row(short).is_err());
}

fn check_option_sets() {
    assert_eq!(Industry::CODES, &[(1, "Accounting"), (4, "Brokers"), (-1, "Retired")]);
    assert_eq!(i32::from(Industry::Retired), -1);
    assert_eq!(Gender::CODES, &[(1, "Male"), (2, "Female")]);
    assert!(CustomerType::CODES.is_empty());
    assert_eq!(i32::from(Industry::Other(12)), 12);
    assert_eq!(i32::from(Gender::Female), 2);
    assert_eq!(CustomerType::from(9), CustomerType(9));
    assert_eq!(i32::from(CustomerType(9)), 9);
}

fn main() {
    check_entity_meta();
    check_cdms_meta();
    check_rows();
    check_option_sets();
}
