//! Hand-written metadata of two synced entities, as `#[derive(CdmsSynced)]` would generate it,
//! for the unit tests of the codec and the filter translator.

use crate::cdms::meta::{CdmsField, CdmsKind, CdmsMeta, Codec, NullPolicy};
use crate::entity::{EntityMeta, FieldMeta, Role};
use crate::value::{Kind, Value};

const fn field(name: &'static str, kind: Kind, nullable: bool, role: Role) -> FieldMeta {
    FieldMeta {
        name,
        column: name,
        kind,
        nullable,
        role,
        references: None,
        unique: false,
        indexed: false,
        renamed_from: None,
        default: None,
        option_set: false,
    }
}

const fn cdms(field: usize, property: &'static str, kind: CdmsKind) -> CdmsField {
    CdmsField {
        field,
        property,
        kind,
        codec: None,
        null: NullPolicy::Refuse,
        read_only: false,
        relationship: None,
    }
}

fn country_meta() -> &'static EntityMeta {
    &COUNTRY
}

fn country_remote() -> &'static (dyn std::any::Any + Send + Sync) {
    &COUNTRY_CDMS
}

fn org_remote() -> &'static (dyn std::any::Any + Send + Sync) {
    &ORG_CDMS
}

/// `Organisation.tags` is stored locally as a comma-separated list; CDMS keeps it in
/// `Description` separated by semicolons.
fn tags_decode(json: &serde_json::Value) -> Result<Value, String> {
    match json {
        serde_json::Value::Null => Ok(Value::Null),
        serde_json::Value::String(s) => Ok(Value::Text(s.replace(';', ","))),
        other => Err(format!("expected a string, got {other}")),
    }
}

fn tags_decode_text(text: &str) -> Result<Value, String> {
    tags_decode(&serde_json::from_str(text).map_err(|e| e.to_string())?)
}

fn tags_encode(value: Value) -> Result<serde_json::Value, String> {
    match value {
        Value::Null => Ok(serde_json::Value::Null),
        Value::Text(s) => Ok(serde_json::Value::String(s.replace(',', ";"))),
        other => Err(format!("expected text, got {other}")),
    }
}

pub(crate) const ID: usize = 0;
pub(crate) const CDMS_ID: usize = 1;
pub(crate) const NAME: usize = 2;
pub(crate) const EMPLOYEES: usize = 3;
pub(crate) const VERSION: usize = 4;
pub(crate) const EXCHANGE_RATE: usize = 5;
pub(crate) const CREDIT_LIMIT: usize = 6;
pub(crate) const LATITUDE: usize = 7;
pub(crate) const DO_NOT_PHONE: usize = 8;
pub(crate) const INDUSTRY: usize = 9;
pub(crate) const COUNTRY_REF: usize = 10;
pub(crate) const LAST_USED: usize = 11;
pub(crate) const VERIFIED: usize = 12;
pub(crate) const TAGS: usize = 13;
pub(crate) const MODIFIED: usize = 14;
pub(crate) const CREATED: usize = 15;
pub(crate) const NOTES: usize = 16;
pub(crate) const ACCOUNT_NUMBER: usize = 17;

/// An Account-like entity covering every CDMS kind.
pub(crate) static ORG: EntityMeta = EntityMeta {
    name: "Organisation",
    table: "organisation",
    fields: &[
        field("id", Kind::Int64, false, Role::PrimaryKey),
        field("cdms_id", Kind::Uuid, true, Role::Plain),
        field("name", Kind::Text, false, Role::Plain),
        field("employees", Kind::Int32, true, Role::Plain),
        field("version", Kind::Int64, true, Role::Plain),
        field("exchange_rate", Kind::Decimal, true, Role::Plain),
        field("credit_limit", Kind::Decimal, true, Role::Plain),
        field("latitude", Kind::Float, true, Role::Plain),
        field("do_not_phone", Kind::Bool, false, Role::Plain),
        FieldMeta {
            option_set: true,
            ..field("industry", Kind::Int32, true, Role::Plain)
        },
        FieldMeta {
            references: Some(country_meta),
            ..field("country", Kind::Int64, true, Role::Plain)
        },
        field("last_used", Kind::Date, true, Role::Plain),
        field("verified", Kind::DateTime, true, Role::Plain),
        field("tags", Kind::Text, true, Role::Plain),
        field("modified", Kind::DateTime, false, Role::Modified),
        field("created", Kind::DateTime, true, Role::Created),
        field("notes", Kind::Text, true, Role::Plain),
        field("account_number", Kind::Text, true, Role::Plain),
    ],
    pk: ID,
    modified: Some(MODIFIED),
    created: Some(CREATED),
    remote: Some(org_remote),
    sql: None,
};

pub(crate) static ORG_CDMS: CdmsMeta = CdmsMeta {
    service: "Account",
    set: "AccountSet",
    logical_name: "account",
    entity: &ORG,
    id_field: CDMS_ID,
    id_property: "AccountId",
    fields: &[
        cdms(CDMS_ID, "AccountId", CdmsKind::Guid),
        cdms(NAME, "Name", CdmsKind::String),
        cdms(EMPLOYEES, "NumberOfEmployees", CdmsKind::Int32),
        cdms(VERSION, "VersionNumber", CdmsKind::Int64),
        cdms(EXCHANGE_RATE, "ExchangeRate", CdmsKind::Decimal),
        cdms(CREDIT_LIMIT, "CreditLimit", CdmsKind::Money),
        cdms(LATITUDE, "Address1_Latitude", CdmsKind::Double),
        cdms(DO_NOT_PHONE, "DoNotPhone", CdmsKind::Boolean),
        cdms(INDUSTRY, "IndustryCode", CdmsKind::OptionSetValue),
        cdms(COUNTRY_REF, "optevia_Country", CdmsKind::EntityReference),
        cdms(LAST_USED, "LastUsedInCampaign", CdmsKind::DateTime),
        cdms(VERIFIED, "optevia_LastVerified", CdmsKind::DateTime),
        CdmsField {
            field: TAGS,
            property: "Description",
            kind: CdmsKind::String,
            codec: Some(Codec {
                decode: tags_decode,
                decode_text: tags_decode_text,
                encode: tags_encode,
                version: 1,
            }),
            null: NullPolicy::Refuse,
            read_only: false,
            relationship: None,
        },
        cdms(MODIFIED, "ModifiedOn", CdmsKind::DateTime),
        cdms(CREATED, "CreatedOn", CdmsKind::DateTime),
        cdms(ACCOUNT_NUMBER, "AccountNumber", CdmsKind::String),
    ],
    decoder: None,
    encoder: None,
};

/// A lookup set (`optevia_countrySet`).
pub(crate) static COUNTRY: EntityMeta = EntityMeta {
    name: "Country",
    table: "country",
    fields: &[
        field("id", Kind::Int64, false, Role::PrimaryKey),
        field("cdms_id", Kind::Uuid, true, Role::Plain),
        field("name", Kind::Text, false, Role::Plain),
        field("modified", Kind::DateTime, false, Role::Modified),
    ],
    pk: 0,
    modified: Some(3),
    created: None,
    remote: Some(country_remote),
    sql: None,
};

pub(crate) static COUNTRY_CDMS: CdmsMeta = CdmsMeta {
    service: "optevia_country",
    set: "optevia_countrySet",
    logical_name: "optevia_country",
    entity: &COUNTRY,
    id_field: 1,
    id_property: "optevia_countryId",
    fields: &[
        cdms(1, "optevia_countryId", CdmsKind::Guid),
        cdms(2, "optevia_Country", CdmsKind::String),
        cdms(3, "ModifiedOn", CdmsKind::DateTime),
    ],
    decoder: None,
    encoder: None,
};
