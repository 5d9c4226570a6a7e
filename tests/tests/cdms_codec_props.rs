//! Property tests of what reads CDMS's answers: the `/Date()/` parser and the record decoders
//! never panic on any input, the decoder `#[derive(CdmsSynced)]` generates decodes exactly what
//! the reference decoder (`codec`) decodes, to the same record, the body encoder it generates
//! writes exactly what the reference encoder writes, and what the encoder writes decodes back
//! to the same values.

use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::{
    codec, decode, encode, wire, CdmsField, CdmsKind, CdmsMeta, NullPolicy, Synced, WriteMode,
};
use cdms_runtime::{CdmsSynced, Entity, Value};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value as J};
use uuid::Uuid;

/// An entity as `cdms-sync scaffold` writes it for lookups whose target is not mapped: each
/// keeps the target's raw id through the `lookup::raw_id` converter, which the generated
/// decoder streams into without a JSON tree.
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[entity(table = "incident")]
#[cdms(service = "Incident")]
struct Incident {
    #[entity(primary_key)]
    id: i64,
    #[entity(unique)]
    #[cdms(field = "IncidentId", id)]
    cdms_id: Option<Uuid>,
    #[cdms(field = "Title")]
    title: Option<String>,
    #[cdms(field = "SubjectId", with = ::cdms_runtime::cdms::lookup::raw_id)]
    subject: Option<Uuid>,
    #[cdms(field = "OwnerId", with = ::cdms_runtime::cdms::lookup::raw_id, read_only)]
    owner: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(J::Null, J::Number)),
        ".{0,24}".prop_map(J::String),
        "/Date\\(-?[0-9]{0,16}([+-][0-9]{0,5})?\\)/".prop_map(J::String),
        "[0-9a-fA-F-]{30,40}".prop_map(J::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map("[A-Za-z_]{1,12}", inner, 0..5)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// A record of `meta`'s shape whose property values are arbitrary JSON (and some of them left
/// out), with a valid or invalid id and `ModifiedOn`.
fn record_of(properties: Vec<&'static str>) -> impl Strategy<Value = J> {
    let n = properties.len();
    (
        prop::collection::vec(prop::option::of(json()), n),
        any::<bool>(),
        any::<i64>(),
    )
        .prop_map(move |(values, good_id, ms)| {
            let mut map = Map::new();
            for (p, v) in properties.iter().zip(values) {
                if let Some(v) = v {
                    map.insert((*p).to_owned(), v);
                }
            }
            if good_id {
                map.insert(
                    "AccountId".into(),
                    J::String(Uuid::from_u128(ms as u128).to_string()),
                );
                map.insert("ContactId".into(), J::String(Uuid::new_v4().to_string()));
                map.insert("IncidentId".into(), J::String(Uuid::new_v4().to_string()));
            }
            map.insert("ModifiedOn".into(), J::String(format!("/Date({ms})/")));
            J::Object(map)
        })
}

/// A decimal as CRM or an odd server may write it: quoted, bare, scientific, padded, or not.
fn decimal_json() -> impl Strategy<Value = J> {
    prop_oneof![
        (any::<i64>(), 0u32..6)
            .prop_map(|(n, s)| J::String(rust_decimal::Decimal::new(n, s).to_string())),
        any::<i32>().prop_map(J::from),
        (-1.0e12f64..1.0e12).prop_map(J::from),
        "[ ]?-?[0-9]{1,6}(\\.[0-9]{0,4})?(e[+-]?[0-9]{1,2})?[ ]?".prop_map(J::String),
        Just(J::String("12,5".into())),
    ]
}

fn integer_json() -> impl Strategy<Value = J> {
    prop_oneof![
        any::<i32>().prop_map(J::from),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<i32>().prop_map(|n| J::String(format!(" {n}"))),
        any::<i64>().prop_map(|n| J::String(n.to_string())),
        Just(J::from(1.5)),
    ]
}

fn date_json(clean: bool) -> impl Strategy<Value = J> {
    let offsets = if clean {
        prop_oneof![Just(""), Just("+0100"), Just("-0530")].boxed()
    } else {
        prop_oneof![Just(""), Just("+0100"), Just("-0530"), Just("+01")].boxed()
    };
    (
        -62_135_596_800_000i64..253_402_300_799_999i64,
        offsets,
        any::<bool>(),
    )
        .prop_map(|(ms, offset, escaped)| {
            J::String(if escaped {
                format!("\\/Date({ms}{offset})\\/")
            } else {
                format!("/Date({ms}{offset})/")
            })
        })
}

fn guid_json() -> impl Strategy<Value = J> {
    (any::<u128>(), any::<bool>(), any::<bool>()).prop_map(|(n, upper, padded)| {
        let mut s = Uuid::from_u128(n).to_string();
        if upper {
            s = s.to_uppercase();
        }
        if padded {
            s = format!(" {s} ");
        }
        J::String(s)
    })
}

fn typed(type_name: &str, members: Map<String, J>) -> J {
    let mut o = Map::new();
    o.insert(
        "__metadata".into(),
        serde_json::json!({ "type": type_name }),
    );
    o.extend(members);
    J::Object(o)
}

/// A Money or an OptionSetValue: `{"Value": ...}`, and when `nullable` its null shapes.
fn valued(type_name: &'static str, inner: BoxedStrategy<J>, nullable: bool) -> BoxedStrategy<J> {
    let value = inner.prop_map(move |v| typed(type_name, Map::from_iter([("Value".into(), v)])));
    if !nullable {
        return value.boxed();
    }
    prop_oneof![
        3 => value,
        1 => Just(typed(type_name, Map::from_iter([("Value".into(), J::Null)]))),
        1 => Just(typed(type_name, Map::new())),
        1 => Just(J::Null),
    ]
    .boxed()
}

/// A value of property `f` in a shape CDMS sends (its null shapes when the local field takes
/// them); unless `clean`, also the odd and the wrong shapes, and now and then arbitrary JSON.
fn crm_value(meta: &'static CdmsMeta, f: &'static CdmsField, clean: bool) -> BoxedStrategy<J> {
    let local = &meta.entity.fields[f.field];
    let nullable = !clean || local.nullable || f.null == NullPolicy::Default;
    let or_null = move |s: BoxedStrategy<J>| {
        if nullable {
            prop_oneof![4 => s, 1 => Just(J::Null)].boxed()
        } else {
            s
        }
    };
    let integer = if clean {
        prop_oneof![
            any::<i32>().prop_map(J::from),
            any::<i32>().prop_map(|n| J::String(format!(" {n}"))),
        ]
        .boxed()
    } else {
        integer_json().boxed()
    };
    let decimal = if clean {
        prop_oneof![
            (any::<i64>(), 0u32..6)
                .prop_map(|(n, s)| J::String(rust_decimal::Decimal::new(n, s).to_string())),
            any::<i32>().prop_map(J::from),
            (-1.0e9f64..1.0e9).prop_map(J::from),
        ]
        .boxed()
    } else {
        decimal_json().boxed()
    };
    let shaped = match f.kind {
        _ if f.codec.is_some() && f.kind != CdmsKind::EntityReference => {
            or_null("[A-Z]{1,2}[0-9] ?[0-9][A-Z]{2}".prop_map(J::String).boxed())
        }
        CdmsKind::String => or_null(".{0,12}".prop_map(J::String).boxed()),
        CdmsKind::Boolean => or_null(any::<bool>().prop_map(J::Bool).boxed()),
        CdmsKind::Int32 | CdmsKind::Int64 => or_null(integer),
        CdmsKind::Decimal => or_null(decimal),
        CdmsKind::Double => or_null(
            prop_oneof![
                (-1.0e300f64..1.0e300).prop_map(J::from),
                any::<i64>().prop_map(J::from),
                "[ ]?-?[0-9]{1,4}(\\.[0-9]{1,3})?".prop_map(J::String),
            ]
            .boxed(),
        ),
        CdmsKind::DateTime => or_null(date_json(clean).boxed()),
        CdmsKind::Guid => or_null(guid_json().boxed()),
        CdmsKind::Money => valued("Microsoft.Crm.Sdk.Data.Services.Money", decimal, nullable),
        CdmsKind::OptionSetValue => valued(
            "Microsoft.Crm.Sdk.Data.Services.OptionSetValue",
            integer,
            nullable,
        ),
        CdmsKind::EntityReference => {
            let id = if clean {
                prop_oneof![3 => guid_json(), 1 => Just(J::Null)].boxed()
            } else {
                prop_oneof![guid_json(), Just(J::Null), Just(J::from(7))].boxed()
            };
            or_null(
                (
                    id,
                    prop::option::of("[a-z_]{1,12}"),
                    prop::option::of(prop_oneof![".{0,12}".prop_map(J::String), Just(J::from(3))]),
                )
                    .prop_map(|(id, logical, name)| {
                        let mut m = Map::new();
                        m.insert("Id".into(), id);
                        m.insert("LogicalName".into(), logical.map_or(J::Null, J::String));
                        if let Some(name) = name {
                            m.insert("Name".into(), name);
                        }
                        typed("Microsoft.Crm.Sdk.Data.Services.EntityReference", m)
                    })
                    .boxed(),
            )
        }
    };
    if clean {
        shaped
    } else {
        prop_oneof![30 => shaped, 1 => json()].boxed()
    }
}

/// A record of `meta` as CDMS sends it: every mapped property in a CRM shape (unless `clean`,
/// a few left out or wrong), `__metadata`, a deferred navigation property and an unmapped
/// property.
fn crm_record(meta: &'static CdmsMeta, clean: bool) -> impl Strategy<Value = J> {
    let values: Vec<_> = meta
        .fields
        .iter()
        .map(|f| {
            let value = crm_value(meta, f, clean);
            if clean {
                value.prop_map(Some).boxed()
            } else {
                prop::option::weighted(0.97, value).boxed()
            }
        })
        .collect();
    values.prop_map(move |values| {
        let mut map = Map::new();
        map.insert(
            "__metadata".into(),
            serde_json::json!({ "uri": "http://crm/x", "type": "Microsoft.Crm.Sdk.Data.Services.X" }),
        );
        map.insert(
            "contact_customer_accounts".into(),
            serde_json::json!({ "__deferred": { "uri": "http://crm/y" } }),
        );
        map.insert("StateCode".into(), serde_json::json!({ "Value": 0 }));
        for (f, v) in meta.fields.iter().zip(values) {
            if let Some(v) = v {
                map.insert(f.property.to_owned(), v);
            }
        }
        J::Object(map)
    })
}

/// The generated decoder agrees with the reference decoder on `record`: both decode it to the
/// same record, or the generated one declines what the reference refuses; the decoder the
/// read paths use answers exactly as the reference does, errors included.
fn agrees(
    meta: &'static CdmsMeta,
    record: &J,
    fields: Option<&[usize]>,
) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(record).expect("serialises");
    // The tree the reference reads is parsed from the same text (floats do not always
    // round-trip through text exactly).
    let tree: J = serde_json::from_str(&text).expect("parses");
    let generated = meta.decoder.expect("the derive generates a decoder");
    let reference = codec::decode_selected(meta, &tree, fields);
    match generated(&text, fields) {
        Ok(decoded) => prop_assert_eq!(Some(&decoded), reference.as_ref().ok(), "{}", text),
        Err(declined) => prop_assert!(
            reference.is_err(),
            "the generated decoder declined ({}) what the reference decodes: {}",
            declined,
            text
        ),
    }
    let combined = decode::decode_text(meta, &text, fields);
    prop_assert_eq!(format!("{combined:?}"), format!("{reference:?}"));
    Ok(())
}

/// A local value of `kind` (lookups: the target's CDMS id), sometimes null, sometimes of
/// another kind than the field's, sometimes an edge the encoders refuse.
fn local_value(kind: cdms_runtime::Kind, reference: bool) -> BoxedStrategy<Value> {
    use cdms_runtime::Kind;
    let typed: BoxedStrategy<Value> = match kind {
        _ if reference => prop_oneof![
            any::<u128>().prop_map(|n| Value::Uuid(Uuid::from_u128(n))),
            any::<i64>().prop_map(Value::Int),
        ]
        .boxed(),
        Kind::Text => prop_oneof![Just(String::new()), ".{0,16}"]
            .prop_map(Value::Text)
            .boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Int32 | Kind::Int64 => prop_oneof![
            any::<i32>().prop_map(|n| Value::Int(n.into())),
            any::<i64>().prop_map(Value::Int),
        ]
        .boxed(),
        Kind::Float => prop_oneof![
            (-1.0e9f64..1.0e9).prop_map(Value::Float),
            Just(Value::Float(f64::NAN)),
        ]
        .boxed(),
        Kind::Decimal => (any::<i64>(), 0u32..8)
            .prop_map(|(n, s)| Value::Decimal(rust_decimal::Decimal::new(n, s)))
            .boxed(),
        Kind::DateTime => (-62_135_596_800_000i64..253_402_300_799_999i64)
            .prop_map(|ms| {
                Value::DateTime(DateTime::<Utc>::from_timestamp_millis(ms).expect("in range"))
            })
            .boxed(),
        Kind::Date => (-700_000i32..2_900_000)
            .prop_filter_map("a date", chrono::NaiveDate::from_num_days_from_ce_opt)
            .prop_map(Value::Date)
            .boxed(),
        Kind::Uuid => any::<u128>()
            .prop_map(|n| Value::Uuid(Uuid::from_u128(n)))
            .boxed(),
    };
    prop_oneof![
        6 => typed,
        2 => Just(Value::Null),
        1 => ".{0,8}".prop_map(Value::Text),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
    .boxed()
}

/// Arbitrary `(field, value)` pairs of `meta`'s entity: some fields left out, in field order.
fn local_values(meta: &'static CdmsMeta) -> impl Strategy<Value = Vec<(usize, Value)>> {
    let fields: Vec<BoxedStrategy<Option<(usize, Value)>>> = meta
        .entity
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            prop::option::of(local_value(f.kind, f.references.is_some()).prop_map(move |v| (i, v)))
                .boxed()
        })
        .collect();
    fields.prop_map(|v| v.into_iter().flatten().collect())
}

/// The generated encoder and the reference encoder give the same body, or the same error.
fn encoders_agree(meta: &'static CdmsMeta, values: &[(usize, Value)]) -> Result<(), TestCaseError> {
    prop_assert!(
        meta.encoder.is_some(),
        "{} has a generated encoder",
        meta.service
    );
    for mode in [WriteMode::Create, WriteMode::Merge] {
        let generated = encode::body(meta, values, mode).map_err(|e| e.to_string());
        let reference = codec::encode(meta, values, mode).map_err(|e| e.to_string());
        prop_assert_eq!(
            &generated,
            &reference,
            "{} {:?} of {:?}",
            meta.service,
            mode,
            values
        );
    }
    Ok(())
}

fn properties(meta: &'static cdms_runtime::cdms::CdmsMeta) -> Vec<&'static str> {
    meta.fields.iter().map(|f| f.property).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_date_parser_never_panics(s in ".{0,40}") {
        let _ = wire::parse_date(&s);
    }

    #[test]
    fn dates_round_trip(ms in -62_135_596_800_000i64..253_402_300_799_999i64) {
        let t = DateTime::<Utc>::from_timestamp_millis(ms).expect("in range");
        prop_assert_eq!(wire::parse_date(&wire::format_date(&t)), Some(t));
    }

    #[test]
    fn the_decoders_never_panic(
        account in record_of(properties(Organisation::CDMS)),
        contact in record_of(properties(Contact::CDMS)),
        incident in record_of(properties(Incident::CDMS)),
        noise in json(),
    ) {
        let _ = decode::decode_text(Incident::CDMS, &incident.to_string(), None);
        let _ = codec::decode(Organisation::CDMS, &account);
        let _ = codec::decode(Contact::CDMS, &contact);
        let _ = codec::decode(Organisation::CDMS, &noise);
        let _ = decode::decode_text(Organisation::CDMS, &noise.to_string(), None);
        let _ = decode::decode_text(Contact::CDMS, &contact.to_string(), None);
    }

    #[test]
    fn the_generated_decoder_agrees_with_the_reference_on_crm_shaped_records(
        clean in any::<bool>(),
        account in crm_record(Organisation::CDMS, true),
        odd_account in crm_record(Organisation::CDMS, false),
        contact in crm_record(Contact::CDMS, true),
        odd_contact in crm_record(Contact::CDMS, false),
        incident in crm_record(Incident::CDMS, true),
        odd_incident in crm_record(Incident::CDMS, false),
        narrowed in prop::collection::vec(any::<bool>(), 32),
    ) {
        agrees(Incident::CDMS, if clean { &incident } else { &odd_incident }, None)?;
        let (account, contact) = if clean { (account, contact) } else { (odd_account, odd_contact) };
        agrees(Organisation::CDMS, &account, None)?;
        agrees(Contact::CDMS, &contact, None)?;
        let fields: Vec<usize> = Organisation::CDMS
            .fields
            .iter()
            .zip(&narrowed)
            .filter(|(_, keep)| **keep)
            .map(|(f, _)| f.field)
            .collect();
        agrees(Organisation::CDMS, &account, Some(&fields))?;
    }

    #[test]
    fn the_generated_decoder_agrees_with_the_reference_on_arbitrary_records(
        account in record_of(properties(Organisation::CDMS)),
        contact in record_of(properties(Contact::CDMS)),
        incident in record_of(properties(Incident::CDMS)),
        noise in json(),
    ) {
        agrees(Incident::CDMS, &incident, None)?;
        agrees(Organisation::CDMS, &account, None)?;
        agrees(Contact::CDMS, &contact, None)?;
        agrees(Organisation::CDMS, &noise, None)?;
    }

    #[test]
    fn the_generated_encoder_agrees_with_the_reference(
        account in local_values(Organisation::CDMS),
        contact in local_values(Contact::CDMS),
    ) {
        encoders_agree(Organisation::CDMS, &account)?;
        encoders_agree(Contact::CDMS, &contact)?;
    }

    #[test]
    fn what_the_encoder_writes_decodes_to_the_same_values(
        name in "[^\u{0}]{1,40}",
        employees in prop::option::of(any::<i32>()),
        latitude in prop::option::of(-90.0f64..90.0),
        revenue in prop::option::of(-1_000_000_000i64..1_000_000_000i64),
        do_not_email in any::<bool>(),
    ) {
        let f = Organisation::fields();
        let values = vec![
            (f.name.index(), Value::Text(name)),
            (f.number_of_employees.index(), employees.map_or(Value::Null, |n| Value::Int(n.into()))),
            (f.address_latitude.index(), latitude.map_or(Value::Null, Value::Float)),
            (
                f.revenue.index(),
                revenue.map_or(Value::Null, |r| Value::Decimal(rust_decimal::Decimal::new(r, 4))),
            ),
            (f.do_not_email.index(), Value::Bool(do_not_email)),
        ];
        let mut body = codec::encode(Organisation::CDMS, &values, WriteMode::Merge)
            .expect("encodes");
        body.insert("AccountId".into(), J::String(Uuid::new_v4().to_string()));
        body.insert("ModifiedOn".into(), J::String("/Date(0)/".into()));
        let fields: Vec<usize> = values.iter().map(|(i, _)| *i).collect();
        let decoded = codec::decode_selected(Organisation::CDMS, &J::Object(body), Some(&fields))
            .expect("decodes");
        for (i, v) in values {
            prop_assert_eq!(decoded.value(i), Some(&v), "field {}", i);
        }
    }
}

/// A property sent twice counts once, with its last value, as in a JSON tree (a lookup's
/// target included), and the record lists its values and lookups in field order whatever the
/// order CDMS sent them in.
#[test]
fn a_repeated_property_counts_with_its_last_value() {
    let meta = Organisation::CDMS;
    let field = |property: &str| {
        meta.fields
            .iter()
            .find(|f| f.property == property)
            .map(|f| f.field)
            .expect("mapped")
    };
    let fields = [field("Name"), field("optevia_Country"), field("Telephone1")];
    let (first, last) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let text = format!(
        r#"{{"Telephone1": "0123", "optevia_Country": {{"Id": "{first}", "LogicalName": "optevia_country", "Name": "A"}},
            "Name": "first", "AccountId": "{}", "ModifiedOn": "/Date(1000)/", "Name": "last",
            "optevia_Country": {{"Id": "{last}", "LogicalName": "optevia_country", "Name": "B"}}}}"#,
        Uuid::from_u128(9)
    );
    let tree: J = serde_json::from_str(&text).expect("parses");
    let reference = codec::decode_selected(meta, &tree, Some(&fields)).expect("decodes");
    let generated = meta.decoder.expect("the derive generates a decoder");
    let decoded = generated(&text, Some(&fields)).expect("decodes");
    assert_eq!(decoded, reference);
    assert_eq!(decoded.refs.len(), 1);
    assert_eq!(decoded.refs[0].id, last);
    assert_eq!(decoded.refs[0].name.as_deref(), Some("B"));
    let name = decoded.values.iter().find(|(f, _)| *f == field("Name"));
    assert_eq!(name.map(|(_, v)| v), Some(&Value::Text("last".into())));
}
