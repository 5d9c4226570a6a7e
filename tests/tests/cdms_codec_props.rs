//! Property tests of what reads CDMS's answers: the `/Date()/` parser and the record decoder
//! never panic on any input, and what the encoder writes decodes back to the same values.

use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::{codec, wire, Synced, WriteMode};
use cdms_runtime::Value;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value as J};
use uuid::Uuid;

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
            }
            map.insert("ModifiedOn".into(), J::String(format!("/Date({ms})/")));
            J::Object(map)
        })
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
        noise in json(),
    ) {
        let _ = codec::decode(Organisation::CDMS, &account);
        let _ = codec::decode(Contact::CDMS, &contact);
        let _ = codec::decode(Organisation::CDMS, &noise);
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
