//! Decoding and encoding every CDMS kind.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{decode, decode_selected, encode, select, WriteMode};
use crate::cdms::test_fixtures::*;
use crate::cdms::CdmsError;
use crate::value::Value;

const ID: &str = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";
const GB: &str = "6f2c1b1e-8a41-e011-8b7e-0050568f0b11";

fn full_record() -> serde_json::Value {
    json!({
        "__metadata": {"uri": "http://x/xrmservices/2011/OrganizationData.svc/AccountSet(guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e')", "type": "Microsoft.Crm.Sdk.Data.Services.Account"},
        "AccountId": ID,
        "Name": "Acme  ",
        "NumberOfEmployees": 500,
        "VersionNumber": "9007199254740993",
        "ExchangeRate": "1.0000000000",
        "CreditLimit": {"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.Money"}, "Value": "1000.5000"},
        "Address1_Latitude": 51.5074,
        "DoNotPhone": true,
        "IndustryCode": {"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.OptionSetValue"}, "Value": 2},
        "optevia_Country": {"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.EntityReference"}, "Id": GB, "LogicalName": "optevia_country", "Name": "United Kingdom"},
        "LastUsedInCampaign": "\\/Date(1458777600000)\\/",
        "optevia_LastVerified": "/Date(-86399999)/",
        "Description": "a;b;c",
        "AccountNumber": "A-1",
        "ModifiedOn": "/Date(1451606400000)/",
        "CreatedOn": "/Date(1451606400000+0100)/",
        "Unmapped": "ignored",
        "account_primary_contact": {"__deferred": {"uri": "x"}}
    })
}

#[test]
fn decodes_every_kind() {
    let r = decode(&ORG_CDMS, &full_record()).unwrap();
    let t0 = Utc.timestamp_millis_opt(1_451_606_400_000).unwrap();
    assert_eq!(r.id, Uuid::parse_str(ID).unwrap());
    assert_eq!(r.modified, t0);
    let expect = [
        (CDMS_ID, Value::Uuid(Uuid::parse_str(ID).unwrap())),
        (NAME, Value::Text("Acme  ".into())),
        (EMPLOYEES, Value::Int(500)),
        (VERSION, Value::Int(9_007_199_254_740_993)),
        (
            EXCHANGE_RATE,
            Value::Decimal("1.0000000000".parse().unwrap()),
        ),
        (CREDIT_LIMIT, Value::Decimal("1000.5".parse().unwrap())),
        (LATITUDE, Value::Float(51.5074)),
        (DO_NOT_PHONE, Value::Bool(true)),
        (INDUSTRY, Value::Int(2)),
        (COUNTRY_REF, Value::Uuid(Uuid::parse_str(GB).unwrap())),
        (
            LAST_USED,
            Value::Date(NaiveDate::from_ymd_opt(2016, 3, 24).unwrap()),
        ),
        (
            VERIFIED,
            Value::DateTime(Utc.timestamp_millis_opt(-86_399_999).unwrap()),
        ),
        (TAGS, Value::Text("a,b,c".into())),
        (ACCOUNT_NUMBER, Value::Text("A-1".into())),
        (MODIFIED, Value::DateTime(t0)),
        (CREATED, Value::DateTime(t0)),
    ];
    assert_eq!(r.values.len(), expect.len());
    for (field, value) in expect {
        assert_eq!(r.value(field), Some(&value), "field {field}");
    }
    assert_eq!(r.refs.len(), 1);
    assert_eq!(r.refs[0].field, COUNTRY_REF);
    assert_eq!(r.refs[0].logical_name.as_deref(), Some("optevia_country"));
    assert_eq!(r.refs[0].name.as_deref(), Some("United Kingdom"));
}

#[test]
fn decodes_alternative_forms() {
    let mut rec = full_record();
    rec["NumberOfEmployees"] = json!("42");
    rec["VersionNumber"] = json!(42);
    rec["ExchangeRate"] = json!(1.25);
    rec["CreditLimit"] = json!({"Value": 12});
    rec["IndustryCode"] = json!({"Value": "3"});
    rec["Address1_Latitude"] = json!("2.5");
    rec["AccountId"] = json!("{DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E}");
    let r = decode(&ORG_CDMS, &rec).unwrap();
    assert_eq!(r.id, Uuid::parse_str(ID).unwrap());
    assert_eq!(r.value(EMPLOYEES), Some(&Value::Int(42)));
    assert_eq!(r.value(VERSION), Some(&Value::Int(42)));
    assert_eq!(
        r.value(EXCHANGE_RATE),
        Some(&Value::Decimal("1.25".parse().unwrap()))
    );
    assert_eq!(
        r.value(CREDIT_LIMIT),
        Some(&Value::Decimal("12".parse().unwrap()))
    );
    assert_eq!(r.value(INDUSTRY), Some(&Value::Int(3)));
    assert_eq!(r.value(LATITUDE), Some(&Value::Float(2.5)));
}

#[test]
fn null_shapes_decode_to_null() {
    let mut rec = full_record();
    // (Name and DoNotPhone are required fields: their nulls are errors, tested below.)
    for p in [
        "NumberOfEmployees",
        "VersionNumber",
        "ExchangeRate",
        "Address1_Latitude",
        "LastUsedInCampaign",
        "optevia_LastVerified",
        "CreatedOn",
    ] {
        rec[p] = json!(null);
    }
    rec["CreditLimit"] =
        json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.Money"}, "Value": null});
    rec["IndustryCode"] = json!({"Value": null});
    rec["optevia_Country"] =
        json!({"__metadata": {}, "Id": null, "LogicalName": null, "Name": null});
    let r = decode(&ORG_CDMS, &rec).unwrap();
    for f in [
        EMPLOYEES,
        VERSION,
        EXCHANGE_RATE,
        LATITUDE,
        LAST_USED,
        VERIFIED,
        CREATED,
        CREDIT_LIMIT,
        INDUSTRY,
        COUNTRY_REF,
    ] {
        assert_eq!(r.value(f), Some(&Value::Null), "field {f}");
    }
    assert!(r.refs.is_empty());
    // A whole-property JSON null is null too.
    rec["optevia_Country"] = json!(null);
    rec["CreditLimit"] = json!(null);
    let r = decode(&ORG_CDMS, &rec).unwrap();
    assert_eq!(r.value(COUNTRY_REF), Some(&Value::Null));
    assert_eq!(r.value(CREDIT_LIMIT), Some(&Value::Null));
}

#[test]
fn narrowed_records_leave_properties_absent() {
    let rec = json!({"AccountId": ID, "ModifiedOn": "/Date(0)/", "Name": "A"});
    let r = decode_selected(&ORG_CDMS, &rec, Some(&[NAME])).unwrap();
    assert_eq!(
        r.values,
        vec![
            (CDMS_ID, Value::Uuid(Uuid::parse_str(ID).unwrap())),
            (NAME, Value::Text("A".into())),
            (
                MODIFIED,
                Value::DateTime(Utc.timestamp_millis_opt(0).unwrap())
            )
        ]
    );
    assert_eq!(r.value(EMPLOYEES), None);
}

#[test]
fn a_property_absent_from_a_full_answer_is_an_error_for_the_record() {
    let rec = json!({"AccountId": ID, "ModifiedOn": "/Date(0)/", "Name": "A"});
    match decode(&ORG_CDMS, &rec) {
        Err(CdmsError::Decode {
            record, property, ..
        }) => {
            assert_eq!(record, Some(Uuid::parse_str(ID).unwrap()));
            assert_ne!(property, "Name");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Asked for only some properties: the others may be absent, the asked ones may not.
    assert!(decode_selected(&ORG_CDMS, &rec, Some(&[NAME])).is_ok());
    let bare = json!({"AccountId": ID, "ModifiedOn": "/Date(0)/"});
    assert!(decode_selected(&ORG_CDMS, &bare, Some(&[NAME])).is_err());
}

#[track_caller]
fn decode_error(rec: serde_json::Value, property: &str, reason_part: &str) {
    match decode(&ORG_CDMS, &rec) {
        Err(CdmsError::Decode {
            entity,
            property: p,
            value,
            reason,
            ..
        }) => {
            assert_eq!(entity, "Account");
            assert_eq!(p, property);
            assert!(reason.contains(reason_part), "{reason}");
            assert!(!value.is_empty());
        }
        other => panic!("expected a decode error for {property}, got {other:?}"),
    }
}

#[test]
fn null_for_a_required_field_is_a_decode_error() {
    let mut r = full_record();
    r["DoNotPhone"] = serde_json::Value::Null;
    decode_error(r, "DoNotPhone", "not optional");
    let mut r = full_record();
    r["Name"] = serde_json::Value::Null;
    decode_error(r, "Name", "not optional");
}

#[test]
fn bad_values_name_entity_property_and_value() {
    let with = |p: &str, v: serde_json::Value| {
        let mut r = full_record();
        r[p] = v;
        r
    };
    decode_error(
        with("NumberOfEmployees", json!("many")),
        "NumberOfEmployees",
        "integer",
    );
    decode_error(
        with("NumberOfEmployees", json!(1.5)),
        "NumberOfEmployees",
        "integer",
    );
    decode_error(
        with("NumberOfEmployees", json!(3_000_000_000_i64)),
        "NumberOfEmployees",
        "32-bit",
    );
    decode_error(with("Name", json!(5)), "Name", "string");
    decode_error(
        with("DoNotPhone", json!("yes")),
        "DoNotPhone",
        "true or false",
    );
    decode_error(
        with("ExchangeRate", json!("1,5")),
        "ExchangeRate",
        "decimal",
    );
    decode_error(
        with("LastUsedInCampaign", json!("2016-03-24")),
        "LastUsedInCampaign",
        "/Date(ms)/",
    );
    decode_error(
        with("CreditLimit", json!("12")),
        "CreditLimit",
        "Value member",
    );
    decode_error(
        with("IndustryCode", json!({"Value": "x"})),
        "IndustryCode",
        "integer",
    );
    decode_error(
        with("optevia_Country", json!({"Id": "nope"})),
        "optevia_Country",
        "GUID",
    );
    decode_error(
        with("optevia_Country", json!("guid")),
        "optevia_Country",
        "Id, LogicalName",
    );
    decode_error(
        with("Description", json!(7)),
        "Description",
        "expected a string",
    );
    decode_error(with("AccountId", json!(null)), "AccountId", "no id");
    decode_error(
        with("ModifiedOn", json!("yesterday")),
        "ModifiedOn",
        "/Date(ms)/",
    );
    let mut no_modified = full_record();
    no_modified.as_object_mut().unwrap().remove("ModifiedOn");
    decode_error(no_modified, "ModifiedOn", "/Date(ms)/");
    match decode(&ORG_CDMS, &json!([1])) {
        Err(CdmsError::Decode {
            entity: "Account", ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn encodes_every_kind() {
    let t = Utc.timestamp_millis_opt(1_451_606_400_123).unwrap();
    let id = Uuid::parse_str(ID).unwrap();
    let gb = Uuid::parse_str(GB).unwrap();
    let values = vec![
        (ID_LOCAL, Value::Int(9)),
        (CDMS_ID, Value::Uuid(id)),
        (NAME, Value::Text("O'Brien & Co".into())),
        (EMPLOYEES, Value::Int(500)),
        (EXCHANGE_RATE, Value::Decimal("1.50".parse().unwrap())),
        (CREDIT_LIMIT, Value::Decimal("12.34".parse().unwrap())),
        (LATITUDE, Value::Float(-0.5)),
        (DO_NOT_PHONE, Value::Bool(false)),
        (INDUSTRY, Value::Int(3)),
        (COUNTRY_REF, Value::Uuid(gb)),
        (
            LAST_USED,
            Value::Date(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()),
        ),
        (VERIFIED, Value::DateTime(t)),
        (TAGS, Value::Text("a,b".into())),
        (MODIFIED, Value::DateTime(t)),
        (CREATED, Value::DateTime(t)),
        (VERSION, Value::Int(5)),
        (NOTES, Value::Text("local only".into())),
    ];
    let body = encode(&ORG_CDMS, &values, WriteMode::Create).unwrap();
    assert_eq!(
        serde_json::Value::Object(body),
        json!({
            "AccountId": ID,
            "Name": "O'Brien & Co",
            "NumberOfEmployees": 500,
            "ExchangeRate": "1.50",
            "CreditLimit": {"Value": "12.34"},
            "Address1_Latitude": -0.5,
            "DoNotPhone": false,
            "IndustryCode": {"Value": 3},
            "optevia_Country": {"Id": GB, "LogicalName": "optevia_country"},
            "LastUsedInCampaign": "/Date(-86400000)/",
            "optevia_LastVerified": "/Date(1451606400123)/",
            "Description": "a;b",
        })
    );
    let body = encode(&ORG_CDMS, &values, WriteMode::Merge).unwrap();
    assert!(!body.contains_key("AccountId"));
    assert!(
        !body.contains_key("ModifiedOn")
            && !body.contains_key("CreatedOn")
            && !body.contains_key("VersionNumber")
    );
    assert_eq!(body.len(), 11);
}

const ID_LOCAL: usize = super::super::test_fixtures::ID;

#[test]
fn encodes_nulls_as_cdms_null_shapes() {
    let values: Vec<(usize, Value)> = [
        CDMS_ID,
        NAME,
        EMPLOYEES,
        EXCHANGE_RATE,
        CREDIT_LIMIT,
        INDUSTRY,
        COUNTRY_REF,
        LAST_USED,
        TAGS,
    ]
    .into_iter()
    .map(|f| (f, Value::Null))
    .collect();
    let body = encode(&ORG_CDMS, &values, WriteMode::Create).unwrap();
    assert_eq!(
        serde_json::Value::Object(body),
        json!({
            "Name": null,
            "NumberOfEmployees": null,
            "ExchangeRate": null,
            "CreditLimit": {"Value": null},
            "IndustryCode": {"Value": null},
            "optevia_Country": {"Id": null, "LogicalName": null, "Name": null},
            "LastUsedInCampaign": null,
            "Description": null,
        })
    );
}

#[test]
fn encode_errors_name_the_property() {
    for (field, value, part) in [
        (COUNTRY_REF, Value::Int(7), "resolved"),
        (EMPLOYEES, Value::Int(1 << 40), "32-bit"),
        (INDUSTRY, Value::Int(1 << 40), "option set"),
        (LATITUDE, Value::Float(f64::NAN), "finite"),
        (NAME, Value::Int(1), "Edm.String"),
        (TAGS, Value::Int(1), "expected text"),
    ] {
        match encode(&ORG_CDMS, &[(field, value)], WriteMode::Merge) {
            Err(CdmsError::Encode {
                entity: "Account",
                property,
                reason,
                ..
            }) => {
                assert_eq!(
                    Some(property.as_str()),
                    ORG_CDMS.by_field(field).map(|f| f.property)
                );
                assert!(reason.contains(part), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn round_trips_through_the_wire_forms() {
    let t = Utc.timestamp_millis_opt(-1_234_567_890_123).unwrap();
    let values = vec![
        (NAME, Value::Text("Zoë \u{1F600} 東京".into())),
        (VERIFIED, Value::DateTime(t)),
        (
            LAST_USED,
            Value::Date(NaiveDate::from_ymd_opt(1900, 2, 28).unwrap()),
        ),
        (CREDIT_LIMIT, Value::Decimal("-0.0001".parse().unwrap())),
    ];
    let mut body = encode(&ORG_CDMS, &values, WriteMode::Merge).unwrap();
    // The server answers Int64 quoted too; add what a record always carries.
    body.insert("AccountId".into(), json!(ID));
    body.insert("ModifiedOn".into(), json!("/Date(0)/"));
    let sent: Vec<usize> = values.iter().map(|(f, _)| *f).collect();
    let r = decode_selected(&ORG_CDMS, &serde_json::Value::Object(body), Some(&sent)).unwrap();
    for (f, v) in values {
        assert_eq!(r.value(f), Some(&v));
    }
}

#[test]
fn select_lists() {
    assert_eq!(
        select(&COUNTRY_CDMS, None),
        ["optevia_countryId", "ModifiedOn", "optevia_Country"]
    );
    assert_eq!(
        select(&ORG_CDMS, Some(&[NAME, CREDIT_LIMIT])),
        ["AccountId", "ModifiedOn", "Name", "CreditLimit"]
    );
    assert_eq!(select(&ORG_CDMS, None).len(), ORG_CDMS.fields.len());
}
