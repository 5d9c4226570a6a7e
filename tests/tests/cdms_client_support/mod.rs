//! Shared pieces of the `cdms_client_*` tests: hand-written CDMS metadata of an Account-like
//! entity covering every kind (as `#[derive(CdmsSynced)]` generates it), a served emulator, and
//! clients with test-sized retry delays.

#![allow(dead_code)]

use std::time::Duration;

use cdms_runtime::cdms::meta::{CdmsField, CdmsKind, CdmsMeta, Codec, NullPolicy};
use cdms_runtime::cdms::{Auth, CdmsClient, RetryPolicy};
use cdms_runtime::emulator::{Emulator, EmulatorBuilder, RunningEmulator};
use cdms_runtime::{EntityMeta, FieldMeta, Kind, Role, Value};

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

/// Local `tags` "a,b" ⇄ CDMS `Description` "a;b".
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

pub const ID: usize = 0;
pub const CDMS_ID: usize = 1;
pub const NAME: usize = 2;
pub const EMPLOYEES: usize = 3;
pub const VERSION: usize = 4;
pub const EXCHANGE_RATE: usize = 5;
pub const CREDIT_LIMIT: usize = 6;
pub const LATITUDE: usize = 7;
pub const DO_NOT_PHONE: usize = 8;
pub const INDUSTRY: usize = 9;
pub const COUNTRY_REF: usize = 10;
pub const LAST_USED: usize = 11;
pub const VERIFIED: usize = 12;
pub const TAGS: usize = 13;
pub const MODIFIED: usize = 14;
pub const CREATED: usize = 15;
pub const NOTES: usize = 16;
pub const ACCOUNT_NUMBER: usize = 17;

pub static ORG: EntityMeta = EntityMeta {
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

pub static ORG_CDMS: CdmsMeta = CdmsMeta {
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

pub static COUNTRY: EntityMeta = EntityMeta {
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

pub static COUNTRY_CDMS: CdmsMeta = CdmsMeta {
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

pub const ACCOUNTS: &str = "AccountSet";
pub const COUNTRIES: &str = "optevia_countrySet";

/// An emulator builder serving both sets.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder().set(&COUNTRY_CDMS).set(&ORG_CDMS)
}

/// Serves `emulator` on a free loopback port.
pub async fn serve(emulator: &Emulator) -> RunningEmulator {
    emulator
        .serve("127.0.0.1:0")
        .await
        .expect("the emulator serves")
}

/// Retries with test-sized delays.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    }
}

/// A client of `server` with `auth`, fast retries and a 2 s timeout.
pub fn client(server: &RunningEmulator, auth: Auth) -> CdmsClient {
    CdmsClient::builder(server.base_url())
        .auth(auth)
        .retry(fast_retry())
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a valid client configuration")
}
