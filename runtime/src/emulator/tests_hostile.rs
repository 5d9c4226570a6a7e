//! Hostile input: arbitrary and structured garbage for the `$filter` lexer and parser, the JSON
//! body reader and the request path, alone and through the whole service. Nothing may panic or
//! overflow the stack, and nothing may answer 500 except the two platform faults CRM answers
//! with 500 on purpose (the `$skip` paging window and a duplicate key on create).

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde_json::{json, Map, Value as J};

use super::error::{ApiError, CODE_UNEXPECTED};
use super::filter::{self, lexer, parser};
use super::handlers::Req;
use super::json_in::{self, Purpose};
use super::schema::SetSchema;
use super::{routes, service, Emulator, SetSpec};
use crate::cdms::meta::CdmsKind;
use crate::cdms::wire::CODE_DUPLICATE_KEY;

const GUID: &str = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";
const SVC: &str = "/UKTI/XRMServices/2011/OrganizationData.svc";

fn spec() -> SetSpec {
    SetSpec::new("Account", "AccountId")
        .property("Name", CdmsKind::String)
        .property("Count", CdmsKind::Int32)
        .property("Big", CdmsKind::Int64)
        .property("Rate", CdmsKind::Double)
        .property("Amount", CdmsKind::Decimal)
        .property("Revenue", CdmsKind::Money)
        .property("Status", CdmsKind::OptionSetValue)
        .property("Parent", CdmsKind::EntityReference)
        .property("When", CdmsKind::DateTime)
        .property("Flag", CdmsKind::Boolean)
        .property("Ext", CdmsKind::Guid)
}

fn schema() -> SetSchema {
    SetSchema::build(spec()).unwrap()
}

fn emulator() -> Emulator {
    let emu = Emulator::builder().spec(spec()).build().unwrap();
    emu.insert(
        "AccountSet",
        json!({"AccountId": GUID, "Name": "Acme", "Count": 3, "Flag": true}),
    )
    .unwrap();
    emu
}

/// A refusal as CRM would give it for bad input: a 4xx, never a server error.
fn assert_refusal(e: &ApiError, input: &str) {
    assert!(
        (400..500).contains(&e.status),
        "{input:?} answered {} {:?}",
        e.status,
        e.message
    );
}

/// 500 only for the two faults CRM itself answers with 500.
fn assert_no_server_error(status: u16, e: Option<&ApiError>, input: &str) {
    if status < 500 || status == 501 {
        return;
    }
    let documented = e.is_some_and(|e| {
        status == 500
            && ((e.code == CODE_UNEXPECTED && e.message.contains("paging cookie"))
                || e.code == CODE_DUPLICATE_KEY)
    });
    assert!(documented, "{input:?} answered {status}: {e:?}");
}

/// Pieces of `$filter` syntax, glued together at random.
fn filter_piece() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "(",
        ")",
        "((",
        "))",
        " and ",
        " or ",
        "not ",
        " eq ",
        " ne ",
        " gt ",
        " le ",
        " add ",
        " mod ",
        "-",
        "'",
        "''",
        "'x'",
        "guid'",
        GUID,
        "datetime'",
        "2016-01-31T13:05:09",
        "datetime'2016-01-31T13:05'",
        "Name",
        "Count",
        "Big",
        "Rate",
        "Amount",
        "Flag",
        "Parent",
        "Parent/Id",
        "Parent/Name",
        "Revenue/Value",
        "Status/Value",
        "When",
        "Nope",
        "/",
        "substringof(",
        "startswith(",
        "endswith(",
        "tolower(",
        "year(",
        ",",
        "1",
        "-1",
        "1.5",
        "1.5M",
        "2L",
        "1e308",
        "99999999999999999999",
        "1.5D",
        "null",
        "true",
        "false",
        "*",
        "$",
        "X'00'",
        "time'",
        " ",
        "\u{0}",
        "é",
        "\u{202e}",
        "ʼ",
    ]);
    prop_oneof![
        8 => fixed.prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_$'()/,.* -]{0,6}",
        1 => any::<String>(),
    ]
}

fn structured_filter() -> impl Strategy<Value = String> {
    prop::collection::vec(filter_piece(), 0..40).prop_map(|v| v.concat())
}

/// Any JSON value, keys leaning towards the schema's names.
fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "",
            GUID,
            "{DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E}",
            "/Date(1451606400000)/",
            "/Date(-1+0100)/",
            "/Date(99999999999999999999)/",
            "2016-11-14 14:49:49.123456",
            "12/26/2022",
            "1.5",
            "-0",
            "NaN",
            "1e400",
            "account",
        ])
        .prop_map(|s| J::String(s.into())),
        any::<String>().prop_map(J::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| J::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "AccountId", "Name", "Count", "Big", "Rate", "Amount", "Revenue", "Status", "Parent",
            "When", "Flag", "Ext", "CreatedOn", "ModifiedOn", "Value", "Id", "LogicalName",
            "__metadata", "__deferred", "name",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn body_object() -> impl Strategy<Value = J> {
    prop::collection::vec((key(), json_value()), 0..8)
        .prop_map(|kv| J::Object(kv.into_iter().collect::<Map<_, _>>()))
}

/// A request path below the service, from key and segment syntax.
fn path() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(vec![
            "/", "AccountSet", "accountset", "ContactSet", "(", ")", "()", "guid'", GUID, "'",
            "''", "AccountId=", "=", "Name", "Nope", "$links", "$count", "$metadata", "$batch",
            "%27", "%2F", "%", "%zz", "%C3", "%C3%A9", "%00", "1234", " ",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| s.replace(['?', '#'], "")),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| format!("{SVC}/{}", v.concat()))
}

/// A query string of system options with garbage values.
fn query() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "$filter",
        "$select",
        "$orderby",
        "$top",
        "$skip",
        "$skiptoken",
        "$expand",
        "$format",
        "$inlinecount",
        "filter",
        "",
    ]);
    let value = prop_oneof![
        structured_filter(),
        prop::sample::select(vec![
            "Name",
            "Name,Count",
            "Name desc",
            "Count asc,Name",
            "Parent/Id",
            "*",
            "0",
            "1",
            "50",
            "5001",
            "-1",
            "99999999999999999999",
            "1,'accountid','%7B'",
            "%",
            "%2",
            "%zz",
            "a%26b",
            "+",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec((name, value, any::<bool>()), 0..5).prop_map(|opts| {
        opts.into_iter()
            .map(|(n, v, encode)| {
                let v = if encode {
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                        .to_string()
                } else {
                    v.replace(['&', '#'], "")
                };
                format!("{n}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn serve(emu: &Emulator, method: &str, path: &str, query: &str, body: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("application/json"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let route = routes::parse(emu, path);
    let req = Req {
        method,
        headers: &headers,
        query,
        route: &route,
        origin: "http://127.0.0.1:1".into(),
    };
    let input = format!("{method} {path}?{query} {}", String::from_utf8_lossy(body));
    match service::serve(emu, &req, body) {
        Ok(reply) => assert_no_server_error(reply.status, None, &input),
        Err(e) => assert_no_server_error(e.status, Some(&e), &input),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn filter_text_is_parsed_or_refused(text in prop_oneof![any::<String>(), structured_filter()]) {
        let s = schema();
        if let Err(e) = lexer::lex(&text) {
            assert_refusal(&e, &text);
        }
        if let Err(e) = parser::parse(&text) {
            assert_refusal(&e, &text);
        }
        if let Err(e) = filter::compile(&s, &text) {
            assert_refusal(&e, &text);
        }
    }

    #[test]
    fn write_bodies_are_read_or_refused(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| (b, None)),
            body_object().prop_map(|j| (j.to_string().into_bytes(), Some(j))),
            json_value().prop_map(|j| (j.to_string().into_bytes(), Some(j))),
        ],
    ) {
        let s = schema();
        let (bytes, _) = body;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match json_in::parse_body(&bytes) {
            Err(e) => assert_refusal(&e, &text),
            Ok(map) => {
                for purpose in [Purpose::Create, Purpose::Update(GUID.parse().unwrap())] {
                    if let Err(e) = json_in::changes(&s, &map, purpose) {
                        assert_refusal(&e, &text);
                    }
                }
            }
        }
    }

    #[test]
    fn requests_never_fail_with_a_server_error(
        method in prop::sample::select(vec!["GET", "POST", "MERGE", "PUT", "DELETE", "PATCH", "get"]),
        path in path(),
        query in query(),
        body in prop_oneof![
            Just(Vec::new()),
            body_object().prop_map(|j| j.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..32),
        ],
    ) {
        let emu = emulator();
        serve(&emu, method, &path, &query, &body);
        let _ = routes::parse(&emu, &path);
    }
}

#[test]
fn deeply_nested_bodies_are_refused() {
    let s = schema();
    for depth in [100, 1_000, 100_000] {
        let body = format!("{{\"Name\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
        match json_in::parse_body(body.as_bytes()) {
            Err(e) => assert_refusal(&e, &body[..20]),
            Ok(map) => {
                let e = json_in::changes(&s, &map, Purpose::Create).unwrap_err();
                assert_refusal(&e, &body[..20]);
            }
        }
    }
}

#[test]
fn long_filters_through_the_service() {
    let emu = emulator();
    let chain = vec![format!("Parent/Id eq guid'{GUID}'"); 2_000].join(" or ");
    let deep = format!("{}Name eq 'a'{}", "(".repeat(1_000), ")".repeat(1_000));
    for text in [chain, deep] {
        let query = format!(
            "$filter={}",
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
        );
        serve(&emu, "GET", &format!("{SVC}/AccountSet"), &query, b"");
    }
}
