//! Every client operation against the emulator over HTTP: create, get, list with paging,
//! update, delete, percent-encoding round trips, and every data kind round-tripping.

mod cdms_client_support;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use cdms_client_support::*;
use cdms_runtime::cdms::codec::{self, WriteMode};
use cdms_runtime::cdms::{filter, Auth, CdmsError, ListOptions, Verb};
use cdms_runtime::expr::{Cond, Expr, Lookup, OrderKey};
use cdms_runtime::Value;

fn obj(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn eq_text(field: usize, s: &str) -> Expr {
    Expr::Cond(Cond {
        field,
        lookup: Lookup::Exact(Value::Text(s.to_owned())),
    })
}

fn filter_of(e: &Expr) -> Option<String> {
    filter::translate(&ORG_CDMS, e, &|_, _| None).filter
}

#[tokio::test]
async fn create_get_update_delete() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);

    let created = c
        .create(
            ACCOUNTS,
            &obj(json!({"Name": "Acme", "NumberOfEmployees": 5})),
        )
        .await
        .unwrap();
    let id = Uuid::parse_str(created["AccountId"].as_str().unwrap()).unwrap();
    assert_eq!(created["Name"], "Acme");
    assert!(
        created["ModifiedOn"].as_str().unwrap().contains("Date("),
        "the 201 body is the stored entry"
    );

    let got = c.get(ACCOUNTS, id).await.unwrap();
    assert_eq!(got["NumberOfEmployees"], 5);

    c.update(ACCOUNTS, id, &obj(json!({"Name": "Acme Ltd"})))
        .await
        .unwrap();
    let got = c.get(ACCOUNTS, id).await.unwrap();
    assert_eq!(got["Name"], "Acme Ltd");
    assert_eq!(
        got["NumberOfEmployees"], 5,
        "MERGE leaves other properties alone"
    );

    // The MERGE was tunnelled through POST and carried only the given property.
    let merges = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "MERGE")
        .collect::<Vec<_>>();
    assert_eq!(merges.len(), 1);
    assert!(merges[0].tunnelled);
    assert_eq!(merges[0].status, Some(204));

    c.delete(ACCOUNTS, id).await.unwrap();
    assert_eq!(emu.count(ACCOUNTS), 0);
    match c.get(ACCOUNTS, id).await {
        Err(CdmsError::NotFound { set, id: missing }) => {
            assert_eq!((set.as_str(), missing), (ACCOUNTS, id))
        }
        other => panic!("{other:?}"),
    }
    match c.delete(ACCOUNTS, id).await {
        Err(CdmsError::NotFound { .. }) => {}
        other => panic!("a first-attempt 404 on delete is an error: {other:?}"),
    }
    match c.update(ACCOUNTS, id, &obj(json!({"Name": "x"}))).await {
        Err(CdmsError::NotFound { .. }) => {}
        other => panic!("{other:?}"),
    }

    let m = c.metrics().snapshot();
    assert_eq!(m.requests(Verb::Post), 1);
    assert_eq!(m.requests(Verb::Merge), 2);
    assert_eq!(m.requests(Verb::Delete), 2);
    assert_eq!(m.status(Verb::Post, 201), 1);
    assert_eq!(m.status(Verb::Get, 404), 1);
    assert!(m.bytes_in > 0 && m.bytes_out > 0);
    assert_eq!(m.retries, 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn create_with_client_generated_id() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    let id = Uuid::new_v4();
    let created = c
        .create_with_id(ACCOUNTS, "AccountId", id, &obj(json!({"Name": "Mine"})))
        .await
        .unwrap();
    assert_eq!(created["AccountId"], id.to_string());
    // The same create again on a first attempt: the key is taken by a record this request did
    // not create (no earlier attempt of it reached the server), so it is a conflict...
    match c
        .create_with_id(ACCOUNTS, "AccountId", id, &obj(json!({"Name": "Other"})))
        .await
    {
        Err(CdmsError::Conflict { message, .. }) => {
            assert!(message.contains(&id.to_string()), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // ...unless the caller takes an existing record as it is (restoring under an old id).
    let again = c
        .create_or_adopt(ACCOUNTS, "AccountId", id, &obj(json!({"Name": "Mine"})))
        .await
        .unwrap();
    assert_eq!(again["AccountId"], id.to_string());
    assert_eq!(again["Name"], "Mine");
    assert_eq!(emu.count(ACCOUNTS), 1);
    assert_eq!(c.metrics().snapshot().replayed_creates, 1);
    // A plain create with a taken key is a conflict.
    let mut body = obj(json!({"Name": "Theirs"}));
    body.insert("AccountId".into(), J::String(id.to_string()));
    match c.create(ACCOUNTS, &body).await {
        Err(CdmsError::Conflict { set, message }) => {
            assert_eq!(set, ACCOUNTS);
            assert!(message.to_lowercase().contains("duplicate"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn lists_follow_next_across_pages() {
    let emu = builder().build().unwrap();
    let rows = (0..137).map(|i| json!({"Name": format!("Org {i:03}"), "NumberOfEmployees": i}));
    emu.insert_many(ACCOUNTS, rows).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);

    let all = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap();
    assert_eq!(all.len(), 137);
    let mut ids: Vec<&str> = all
        .iter()
        .map(|r| r["AccountId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 137, "no record twice across pages");
    assert_eq!(c.metrics().snapshot().pages, 3);
    let gets = emu.requests();
    assert_eq!(gets.len(), 3);
    assert!(
        gets[1].query.contains("skiptoken"),
        "pages 2.. come from __next: {}",
        gets[1].query
    );

    // A pager yields pages of at most 50; $top caps the total.
    let opts = ListOptions {
        filter: Some("NumberOfEmployees ge 10".into()),
        select: vec![
            "AccountId".into(),
            "Name".into(),
            "NumberOfEmployees".into(),
        ],
        expand: Vec::new(),
        orderby: Some(filter::orderby(&ORG_CDMS, &[OrderKey::new(EMPLOYEES, true)]).orderby),
        top: Some(120),
    };
    let mut pager = c.pager(ACCOUNTS, &opts).unwrap();
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        sizes.push(page.len());
        got.extend(page);
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert!(pager.is_done());
    assert_eq!(pager.pages(), 3);
    let employees: Vec<i64> = got
        .iter()
        .map(|r| r["NumberOfEmployees"].as_i64().unwrap())
        .collect();
    assert_eq!(
        employees,
        (17..=136).rev().collect::<Vec<_>>(),
        "ordered, filtered, capped"
    );
    assert!(
        got[0].get("ExchangeRate").is_none(),
        "$select narrows the properties"
    );

    // $top below a page, and an empty result.
    let few = c
        .list(
            ACCOUNTS,
            &ListOptions {
                top: Some(3),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(few.len(), 3);
    let none = c
        .list(
            ACCOUNTS,
            &ListOptions {
                filter: Some("NumberOfEmployees gt 1000".into()),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    // The default remote order: fresh records first, id as the tiebreak.
    let default_order = filter::orderby(&ORG_CDMS, &[]).orderby;
    let ordered = c
        .list(
            ACCOUNTS,
            &ListOptions {
                orderby: Some(default_order),
                top: Some(60),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ordered.len(), 60);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn awkward_text_survives_the_url() {
    let emu = builder().build().unwrap();
    let names = [
        "A&B #1 + 'quoted' 100%",
        "O'Brien",
        "a/b?c=d;e",
        "Zoë Ünal — 東京",
        "plus+plus",
        "tab\there",
        "50% off_sale",
    ];
    for n in names {
        emu.insert(ACCOUNTS, json!({"Name": n})).unwrap();
    }
    emu.insert(ACCOUNTS, json!({"Name": "decoy"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    for n in names {
        let f = filter_of(&eq_text(NAME, n));
        let found = c
            .list(
                ACCOUNTS,
                &ListOptions {
                    filter: f,
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{n:?}");
        assert_eq!(found[0]["Name"], n);
        let contains = Expr::Cond(Cond {
            field: NAME,
            lookup: Lookup::Contains(n.to_owned()),
        });
        let found = c
            .list(
                ACCOUNTS,
                &ListOptions {
                    filter: filter_of(&contains),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "contains {n:?}");
    }
    // The filter went over the wire as one encoded parameter.
    for r in emu.requests() {
        assert!(
            !r.query.contains(' ') && !r.query.contains('#') && !r.query.contains('\''),
            "{}",
            r.query
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_kind_round_trips() {
    let emu = builder().build().unwrap();
    let gb = emu
        .insert(COUNTRIES, json!({"optevia_Country": "United Kingdom"}))
        .unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);

    let verified = Utc.timestamp_millis_opt(-1_234_567_890_123).unwrap();
    let values = vec![
        (NAME, Value::Text("  Spaced & Zoë  ".into())),
        (EMPLOYEES, Value::Int(-2_147_483_648)),
        (
            EXCHANGE_RATE,
            Value::Decimal("1.2500000000".parse().unwrap()),
        ),
        (CREDIT_LIMIT, Value::Decimal("1000.5000".parse().unwrap())),
        (LATITUDE, Value::Float(51.5074)),
        (DO_NOT_PHONE, Value::Bool(true)),
        (INDUSTRY, Value::Int(7)),
        (COUNTRY_REF, Value::Uuid(gb)),
        (
            LAST_USED,
            Value::Date(NaiveDate::from_ymd_opt(1901, 12, 13).unwrap()),
        ),
        (VERIFIED, Value::DateTime(verified)),
        (TAGS, Value::Text("a,b,c".into())),
        (ACCOUNT_NUMBER, Value::Text("AN-1".into())),
    ];
    let id = Uuid::new_v4();
    let mut body = codec::encode(&ORG_CDMS, &values, WriteMode::Create).unwrap();
    body.remove("AccountId");
    c.create_with_id(ACCOUNTS, "AccountId", id, &body)
        .await
        .unwrap();
    let record = codec::decode(&ORG_CDMS, &J::Object(c.get(ACCOUNTS, id).await.unwrap())).unwrap();
    assert_eq!(record.id, id);
    for (f, v) in &values {
        assert_eq!(record.value(*f), Some(v), "field {f}");
    }
    assert_eq!(
        record.refs[0].logical_name.as_deref(),
        Some("optevia_country")
    );
    assert_eq!(record.refs[0].name.as_deref(), Some("United Kingdom"));
    assert!(
        matches!(record.value(VERSION), Some(Value::Int(_))),
        "Int64 arrives quoted and decodes"
    );

    // Clearing everything optional: null scalars and all-null complex shapes.
    let nulls: Vec<(usize, Value)> = values
        .iter()
        .filter(|(f, _)| *f != NAME && *f != DO_NOT_PHONE)
        .map(|(f, _)| (*f, Value::Null))
        .collect();
    let body = codec::encode(&ORG_CDMS, &nulls, WriteMode::Merge).unwrap();
    assert_eq!(body["CreditLimit"], json!({"Value": null}));
    assert_eq!(
        body["optevia_Country"],
        json!({"Id": null, "LogicalName": null, "Name": null})
    );
    c.update(ACCOUNTS, id, &body).await.unwrap();
    let raw = c.get(ACCOUNTS, id).await.unwrap();
    assert_eq!(
        raw["optevia_Country"]["Id"],
        J::Null,
        "CDMS answers the null lookup shape"
    );
    let record = codec::decode(&ORG_CDMS, &J::Object(raw)).unwrap();
    for (f, _) in &nulls {
        assert_eq!(record.value(*f), Some(&Value::Null), "field {f}");
    }
    assert!(record.refs.is_empty());
    assert!(record.modified >= Utc.timestamp_millis_opt(0).unwrap());

    // A narrowed read leaves the other properties absent.
    let opts = ListOptions {
        select: codec::select(&ORG_CDMS, Some(&[NAME])),
        ..ListOptions::default()
    };
    let rows = c.list(ACCOUNTS, &opts).await.unwrap();
    let narrowed = codec::decode_selected(&ORG_CDMS, &rows[0], Some(&[NAME])).unwrap();
    assert_eq!(
        narrowed.value(NAME),
        Some(&Value::Text("  Spaced & Zoë  ".into()))
    );
    assert_eq!(narrowed.value(EMPLOYEES), None);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn filters_on_every_kind_are_accepted_and_match() {
    let emu = builder().build().unwrap();
    let gb = emu
        .insert(COUNTRIES, json!({"optevia_Country": "UK"}))
        .unwrap();
    let t = Utc.with_ymd_and_hms(2016, 2, 29, 12, 0, 0).unwrap();
    let id = emu
        .insert(
            ACCOUNTS,
            json!({
                "Name": "Target", "NumberOfEmployees": 42, "ExchangeRate": "12.5",
                "CreditLimit": {"Value": "1000.25"}, "Address1_Latitude": 1.5, "DoNotPhone": true,
                "IndustryCode": {"Value": 3}, "optevia_Country": {"Id": gb.to_string()},
                "LastUsedInCampaign": "/Date(1456704000000)/", "optevia_LastVerified": format!("/Date({})/", t.timestamp_millis()),
            }),
        )
        .unwrap();
    emu.insert(ACCOUNTS, json!({"Name": "Other"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    let cond = |field, lookup| Expr::Cond(Cond { field, lookup });
    let dec = |s: &str| Value::Decimal(s.parse::<Decimal>().unwrap());
    use cdms_runtime::expr::{Cmp, DatePart};
    let exprs = vec![
        cond(EMPLOYEES, Lookup::Exact(Value::Int(42))),
        cond(EXCHANGE_RATE, Lookup::Compare(Cmp::Gt, dec("12.25"))),
        cond(CREDIT_LIMIT, Lookup::Range(dec("1000"), dec("1000.25"))),
        cond(LATITUDE, Lookup::Compare(Cmp::Lt, Value::Float(2.0))),
        cond(DO_NOT_PHONE, Lookup::Exact(Value::Bool(true))),
        cond(INDUSTRY, Lookup::In(vec![Value::Int(1), Value::Int(3)])),
        cond(COUNTRY_REF, Lookup::Exact(Value::Uuid(gb))),
        cond(
            LAST_USED,
            Lookup::Exact(Value::Date(NaiveDate::from_ymd_opt(2016, 2, 29).unwrap())),
        ),
        cond(VERIFIED, Lookup::Compare(Cmp::Gte, Value::DateTime(t))),
        cond(VERIFIED, Lookup::DatePart(DatePart::Year, Cmp::Eq, 2016)),
        Expr::And(vec![
            cond(MODIFIED, Lookup::IsNull(false)),
            cond(VERIFIED, Lookup::DatePart(DatePart::Year, Cmp::Eq, 2016)),
            cond(VERIFIED, Lookup::DatePart(DatePart::Month, Cmp::Eq, 2)),
            cond(VERIFIED, Lookup::DatePart(DatePart::Day, Cmp::Eq, 29)),
        ]),
        cond(CDMS_ID, Lookup::Exact(Value::Uuid(id))),
        cond(NAME, Lookup::IStartsWith("TAR".into())),
        cond(NAME, Lookup::IEndsWith("GET".into())),
        cond(NAME, Lookup::IContains("arg".into())),
        cond(NAME, Lookup::IExact("target".into())),
        Expr::Not(Box::new(cond(EMPLOYEES, Lookup::IsNull(true)))),
        Expr::Not(Box::new(cond(
            DO_NOT_PHONE,
            Lookup::Exact(Value::Bool(false)),
        ))),
    ];
    for e in exprs {
        let f = filter_of(&e).unwrap_or_else(|| panic!("{e:?} translates"));
        let rows = c
            .list(
                ACCOUNTS,
                &ListOptions {
                    filter: Some(f.clone()),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap_or_else(|err| panic!("{f} is accepted: {err}"));
        let names: Vec<&str> = rows.iter().map(|r| r["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Target"], "{f}");
    }
    // Negations include the record whose properties are null (local two-valued logic).
    let e = Expr::Not(Box::new(cond(EMPLOYEES, Lookup::Exact(Value::Int(42)))));
    let rows = c
        .list(
            ACCOUNTS,
            &ListOptions {
                filter: filter_of(&e),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Name"], "Other");
    server.shutdown().await.unwrap();
}
