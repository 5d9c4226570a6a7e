//! The emulator over real HTTP: MERGE, PUT, DELETE (plain and tunnelled), refused verbs, lookups,
//! the clock, the data-access API, URL options and server lifetime.

mod emulator_common;

use std::time::Duration;

use cdms_runtime::emulator::{EmulatorError, OrgUrl, Precision};
use cdms_tests::emulator_fixtures as fx;
use emulator_common::{date, entity, start, START_MS};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn merge_as_a_verb_and_tunnelled() {
    let emulator = fx::emulator();
    let clock = emulator.clock().clone();
    let id = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Acme", "NumberOfEmployees": 10, "Telephone1": "123"}),
        )
        .unwrap();
    let (_server, http) = start(&emulator).await;
    clock.advance(Duration::from_secs(5));
    let r = http
        .call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"Name": "Acme 2"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let after = emulator.get("AccountSet", id).unwrap();
    assert_eq!(after["Name"], "Acme 2");
    assert_eq!(after["NumberOfEmployees"], 10, "MERGE is partial");
    assert_eq!(after["ModifiedOn"], date(START_MS + 5000));
    assert_eq!(after["CreatedOn"], date(START_MS));
    assert_eq!(after["VersionNumber"], "2");

    clock.advance(Duration::from_secs(1));
    let tunnelled = http
        .request(
            "POST",
            &entity("AccountSet", id),
            Some(&json!({"Telephone1": "", "AccountId": id.to_string()})),
            &[("Accept", "application/json"), ("X-HTTP-Method", "MERGE")],
        )
        .await
        .unwrap();
    assert_eq!(tunnelled.status, 204, "{}", tunnelled.text);
    let after = emulator.get("AccountSet", id).unwrap();
    assert_eq!(after["Telephone1"], Value::Null, "\"\" clears");
    assert_eq!(after["ModifiedOn"], date(START_MS + 6000));
    assert_eq!(after["VersionNumber"], "3");
    let log = emulator.requests();
    assert_eq!((log[1].method.as_str(), log[1].tunnelled), ("MERGE", true));
    assert_eq!(emulator.request_count("MERGE", "AccountSet"), 2);

    let other_key = http
        .call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"AccountId": Uuid::new_v4().to_string()})),
        )
        .await;
    assert_eq!(other_key.status, 400);
    let missing = http
        .call(
            "MERGE",
            &entity("AccountSet", Uuid::new_v4()),
            Some(&json!({"Name": "x"})),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error().0, "-2147220969");
    let bad = http
        .call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"Bogus": 1})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn put_replaces_the_record() {
    let emulator = fx::emulator();
    let id = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Acme", "NumberOfEmployees": 10, "Revenue": {"Value": 5}}),
        )
        .unwrap();
    let (_server, http) = start(&emulator).await;
    emulator.clock().advance(Duration::from_secs(2));
    let r = http
        .call(
            "PUT",
            &entity("AccountSet", id),
            Some(&json!({"Name": "Replaced"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let after = emulator.get("AccountSet", id).unwrap();
    assert_eq!(after["Name"], "Replaced");
    assert_eq!(after["NumberOfEmployees"], Value::Null);
    assert_eq!(after["Revenue"]["Value"], Value::Null);
    assert_eq!(after["AccountId"], id.to_string());
    assert_eq!(after["CreatedOn"], date(START_MS));
    assert_eq!(after["ModifiedOn"], date(START_MS + 2000));
}

#[tokio::test]
async fn delete_as_a_verb_and_tunnelled() {
    let emulator = fx::emulator();
    let a = emulator.insert("AccountSet", json!({"Name": "A"})).unwrap();
    let b = emulator.insert("AccountSet", json!({"Name": "B"})).unwrap();
    let (_server, http) = start(&emulator).await;
    let r = http.call("DELETE", &entity("AccountSet", a), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(http.get(&entity("AccountSet", a)).await.status, 404);
    let again = http.call("DELETE", &entity("AccountSet", a), None).await;
    assert_eq!(again.status, 404);
    assert_eq!(again.error().0, "-2147220969");
    let tunnelled = http
        .request(
            "POST",
            &entity("AccountSet", b),
            None,
            &[("Accept", "application/json"), ("X-HTTP-Method", "DELETE")],
        )
        .await
        .unwrap();
    assert_eq!(tunnelled.status, 204);
    assert_eq!(emulator.count("AccountSet"), 0);
    assert_eq!(emulator.request_count("DELETE", "AccountSet"), 3);
}

#[tokio::test]
async fn verbs_not_allowed() {
    let emulator = fx::emulator();
    let id = emulator.insert("AccountSet", json!({})).unwrap();
    let (_server, http) = start(&emulator).await;
    for (method, rel) in [
        ("DELETE", "/AccountSet".to_owned()),
        ("MERGE", "/AccountSet".to_owned()),
        ("PUT", "/AccountSet".to_owned()),
        ("POST", entity("AccountSet", id)),
        ("PATCH", entity("AccountSet", id)),
        ("POST", "/$metadata".to_owned()),
    ] {
        let r = http.call(method, &rel, Some(&json!({}))).await;
        assert_eq!(r.status, 405, "{method} {rel}");
    }
    assert_eq!(
        http.call(
            "PUT",
            &format!("{}/Name", entity("AccountSet", id)),
            Some(&json!({}))
        )
        .await
        .status,
        501
    );
    assert_eq!(
        http.get(&format!("{}/$links/x", entity("AccountSet", id)))
            .await
            .status,
        501
    );
    assert_eq!(http.get("/AccountSet/$count").await.status, 400);
}

#[tokio::test]
async fn lookups_fill_names_and_check_targets() {
    let emulator = fx::emulator();
    let uk = emulator
        .insert(
            "optevia_countrySet",
            json!({"optevia_Country": "United Kingdom"}),
        )
        .unwrap();
    let (_server, http) = start(&emulator).await;
    let acme = http
        .create(
            "AccountSet",
            &json!({"Name": "Acme", "optevia_Country": {"Id": uk.to_string()}}),
        )
        .await;
    let d = http.get(&entity("AccountSet", acme)).await.d();
    assert_eq!(
        d["optevia_Country"],
        json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.EntityReference"}, "Id": uk.to_string(), "LogicalName": "optevia_country", "Name": "United Kingdom"})
    );
    emulator
        .update("optevia_countrySet", uk, json!({"optevia_Country": "UK"}))
        .unwrap();
    assert_eq!(
        http.get(&entity("AccountSet", acme)).await.d()["optevia_Country"]["Name"],
        "UK",
        "names are read at GET time"
    );

    let polymorphic = http
        .post(
            "/ContactSet",
            &json!({"LastName": "Smith", "ParentCustomerId": {"Id": acme.to_string()}}),
        )
        .await;
    assert_eq!(
        polymorphic.status, 400,
        "polymorphic lookups need LogicalName"
    );
    assert!(polymorphic.error().1.contains("LogicalName"));
    let wrong_target = http
        .post(
            "/ContactSet",
            &json!({"ParentCustomerId": {"Id": uk.to_string(), "LogicalName": "optevia_country"}}),
        )
        .await;
    assert_eq!(wrong_target.status, 400);
    let missing = Uuid::new_v4();
    let dangling = http
        .post(
            "/ContactSet",
            &json!({"ParentCustomerId": {"Id": missing.to_string(), "LogicalName": "account"}}),
        )
        .await;
    assert_eq!(dangling.status, 404);
    assert_eq!(
        dangling.error(),
        (
            "-2147220969".to_owned(),
            format!("account With Id = {missing} Does Not Exist")
        )
    );
    let smith = http
        .create("ContactSet", &json!({"LastName": "Smith", "FullName": "Sam Smith", "ParentCustomerId": {"Id": acme.to_string(), "LogicalName": "account"}}))
        .await;
    let parent = &http.get(&entity("ContactSet", smith)).await.d()["ParentCustomerId"];
    assert_eq!(
        (parent["LogicalName"].as_str(), parent["Name"].as_str()),
        (Some("account"), Some("Acme"))
    );
    let r = http
        .call(
            "MERGE",
            &entity("AccountSet", acme),
            Some(&json!({"PrimaryContactId": {"Id": smith.to_string()}})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        http.get(&entity("AccountSet", acme)).await.d()["PrimaryContactId"]["Name"],
        "Sam Smith"
    );
    let cleared = http
        .call(
            "MERGE",
            &entity("AccountSet", acme),
            Some(&json!({"PrimaryContactId": {"Id": null, "LogicalName": null, "Name": null}})),
        )
        .await;
    assert_eq!(cleared.status, 204);
    let d = http.get(&entity("AccountSet", acme)).await.d();
    assert_eq!(
        (
            d["PrimaryContactId"]["Id"].clone(),
            d["PrimaryContactId"]["Name"].clone()
        ),
        (Value::Null, Value::Null)
    );
    // The data-access API does not check references (seeding in any order).
    let early = emulator
        .insert(
            "AccountSet",
            json!({"optevia_Country": {"Id": missing.to_string()}}),
        )
        .unwrap();
    assert_eq!(
        emulator.get("AccountSet", early).unwrap()["optevia_Country"]["Name"],
        Value::Null
    );
}

#[tokio::test]
async fn same_second_edits_and_set_modified() {
    let emulator = fx::emulator();
    let clock = emulator.clock().clone();
    let (_server, http) = start(&emulator).await;
    clock.advance(Duration::from_millis(400));
    let id = http.create("AccountSet", &json!({"Name": "A"})).await;
    clock.advance(Duration::from_millis(500));
    assert_eq!(
        http.call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"Name": "B"}))
        )
        .await
        .status,
        204
    );
    let d = http.get(&entity("AccountSet", id)).await.d();
    assert_eq!(
        d["ModifiedOn"], d["CreatedOn"],
        "two edits in the same second share ModifiedOn"
    );
    assert_eq!(d["ModifiedOn"], date(START_MS));
    assert_eq!(d["VersionNumber"], "2", "but the version moves");
    clock.advance(Duration::from_millis(100));
    http.call(
        "MERGE",
        &entity("AccountSet", id),
        Some(&json!({"Name": "C"})),
    )
    .await;
    assert_eq!(
        http.get(&entity("AccountSet", id)).await.d()["ModifiedOn"],
        date(START_MS + 1000)
    );
    let drift = fx::start_instant() + chrono::TimeDelta::milliseconds(123_456);
    emulator.set_modified("AccountSet", id, drift).unwrap();
    assert_eq!(
        http.get(&entity("AccountSet", id)).await.d()["ModifiedOn"],
        date(drift.timestamp_millis())
    );
    assert!(matches!(
        emulator.set_modified("AccountSet", Uuid::new_v4(), drift),
        Err(EmulatorError::NotFound { .. })
    ));

    let precise = fx::builder()
        .timestamp_precision(Precision::Millis)
        .bump_modified_on_update(false)
        .build()
        .unwrap();
    precise.clock().advance(Duration::from_millis(250));
    let id = precise.insert("AccountSet", json!({})).unwrap();
    assert_eq!(
        precise.get("AccountSet", id).unwrap()["CreatedOn"],
        date(START_MS + 250)
    );
    let (_s2, http2) = start(&precise).await;
    precise.clock().advance(Duration::from_secs(3));
    http2
        .call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"Name": "x"})),
        )
        .await;
    assert_eq!(
        precise.get("AccountSet", id).unwrap()["ModifiedOn"],
        date(START_MS + 250),
        "bumping switched off"
    );
}

#[tokio::test]
async fn overridden_created_on_backdates_creation() {
    let (_server, http) = start(&fx::emulator()).await;
    let id = http
        .create(
            "AccountSet",
            &json!({"OverriddenCreatedOn": "2010-05-01T00:00:00Z"}),
        )
        .await;
    let d = http.get(&entity("AccountSet", id)).await.d();
    assert_eq!(d["CreatedOn"], date(1_272_672_000_000));
    assert_eq!(d["ModifiedOn"], date(START_MS));
}

#[tokio::test]
async fn data_access_api() {
    let emulator = fx::emulator();
    let ids = emulator
        .insert_many(
            "AccountSet",
            (0..10).map(|i| json!({"Name": format!("n{i}"), "NumberOfEmployees": i})),
        )
        .unwrap();
    assert_eq!(ids.len(), 10);
    assert_eq!(emulator.count("AccountSet"), 10);
    let mut listed = emulator.ids("AccountSet");
    assert_eq!(listed.len(), 10);
    listed.sort();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let dup = ids[0].to_string();
    let err = emulator
        .insert_many(
            "AccountSet",
            [json!({"Name": "ok"}), json!({"AccountId": dup})],
        )
        .unwrap_err();
    assert!(
        matches!(err, EmulatorError::Rejected { status: 500, .. }),
        "{err}"
    );
    assert_eq!(emulator.count("AccountSet"), 10, "all or nothing");
    let err = emulator
        .insert("AccountSet", json!({"Bogus": 1}))
        .unwrap_err();
    assert!(
        matches!(&err, EmulatorError::Rejected { status: 400, set, .. } if set == "AccountSet"),
        "{err}"
    );
    assert!(matches!(
        emulator.insert("NopeSet", json!({})),
        Err(EmulatorError::UnknownSet(_))
    ));
    emulator
        .update("AccountSet", ids[0], json!({"Name": "renamed"}))
        .unwrap();
    assert_eq!(
        emulator.get("AccountSet", ids[0]).unwrap()["Name"],
        "renamed"
    );
    assert!(matches!(
        emulator.update("AccountSet", Uuid::new_v4(), json!({})),
        Err(EmulatorError::NotFound { .. })
    ));
    emulator.delete("AccountSet", ids[0]).unwrap();
    assert!(emulator.get("AccountSet", ids[0]).is_none());
    assert!(matches!(
        emulator.delete("AccountSet", ids[0]),
        Err(EmulatorError::NotFound { .. })
    ));
    assert_eq!(emulator.count("NopeSet"), 0);
    assert!(emulator.ids("NopeSet").is_empty());
}

#[tokio::test]
async fn options_version_numbers_uri_case_and_root_urls() {
    let emulator = fx::builder()
        .version_numbers(false)
        .lowercase_entry_uris(false)
        .org_url(OrgUrl::Root)
        .build()
        .unwrap();
    let id = emulator.insert("AccountSet", json!({})).unwrap();
    let (server, http) = start(&emulator).await;
    assert_eq!(server.base_url(), server.origin());
    let d = http.get(&entity("AccountSet", id)).await.d();
    assert_eq!(d["VersionNumber"], Value::Null);
    assert_eq!(
        d["__metadata"]["uri"],
        format!("{}/AccountSet(guid'{id}')", server.service_url())
    );
    let (org_server, _) = start(&fx::emulator()).await;
    let r = reqwest::get(format!(
        "{}/XRMServices/2011/OrganizationData.svc/AccountSet",
        org_server.origin()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 404, "the org segment is required in path style");
    let lower = reqwest::Client::new()
        .get(format!(
            "{}/xrmservices/2011/organizationdata.svc/AccountSet",
            org_server.base_url().to_lowercase()
        ))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200, "the service path is case-insensitive");
}

#[tokio::test]
async fn builder_refuses_inconsistent_configuration() {
    assert!(matches!(
        fx::builder().spec(fx::account_spec()).build(),
        Err(EmulatorError::Config(_))
    ));
    assert!(fx::builder().org("has space").build().is_err());
    assert!(fx::builder().page_size(0).build().is_err());
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let emulator = fx::emulator();
    let (server, http) = start(&emulator).await;
    assert_eq!(http.get("/AccountSet").await.status, 200);
    let url = server.set_url("AccountSet");
    server.shutdown().await.unwrap();
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(&url).send().await.is_err(),
        "nothing listens after shutdown"
    );
    let (dropped, _) = start(&emulator).await;
    let url = dropped.set_url("AccountSet");
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        fresh.get(&url).send().await.is_err(),
        "nothing listens after drop"
    );
}
