//! The emulator over real HTTP: service document, `$metadata`, create, payload shapes and
//! validation, content negotiation, single-entity reads.

mod emulator_common;

use cdms_runtime::cdms::CdmsMeta;
use cdms_runtime::emulator::Emulator;
use cdms_tests::emulator_fixtures::{self as fx, check_xml};
use emulator_common::{date, entity, start, START_MS};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn service_document_lists_every_set() {
    let (server, http) = start(&fx::emulator()).await;
    let atom = http.request("GET", "", None, &[]).await.unwrap();
    assert_eq!(atom.status, 200);
    assert!(atom
        .header("content-type")
        .unwrap()
        .starts_with("application/atomsvc+xml"));
    let names = check_xml(&atom.text).unwrap();
    assert_eq!(names.iter().filter(|n| *n == "collection").count(), 3);
    for set in ["AccountSet", "ContactSet", "optevia_countrySet"] {
        assert!(
            atom.text.contains(&format!("<collection href=\"{set}\">")),
            "{set}"
        );
    }
    assert!(atom
        .text
        .contains(&format!("xml:base=\"{}/\"", server.service_url())));
    let json = http.get("/").await;
    assert_eq!(
        json.json()["d"]["EntitySets"],
        json!(["AccountSet", "ContactSet", "optevia_countrySet"])
    );
}

#[tokio::test]
async fn metadata_is_well_formed_edmx_declaring_every_set() {
    let (_server, http) = start(&fx::emulator()).await;
    let r = http.request("GET", "/$metadata", None, &[]).await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/xml"));
    let x = &r.text;
    let names = check_xml(x).unwrap_or_else(|e| panic!("{e}\n{x}"));
    assert_eq!(names[0], "edmx:Edmx");
    assert!(x.contains("<Schema Namespace=\"Microsoft.Crm.Sdk.Data.Services\""));
    assert!(
        x.contains("<EntityContainer Name=\"UKTIContext\" m:IsDefaultEntityContainer=\"true\">")
    );
    for (set, ty, key) in [
        ("AccountSet", "Account", "AccountId"),
        ("ContactSet", "Contact", "ContactId"),
        ("optevia_countrySet", "optevia_country", "optevia_countryId"),
    ] {
        assert!(
            x.contains(&format!(
                "<EntitySet Name=\"{set}\" EntityType=\"Microsoft.Crm.Sdk.Data.Services.{ty}\" />"
            )),
            "{set}"
        );
        assert!(
            x.contains(&format!(
                "<EntityType Name=\"{ty}\">\n    <Key><PropertyRef Name=\"{key}\" /></Key>"
            )),
            "{ty}"
        );
    }
    for (prop, ty) in [
        ("AccountId", "Edm.Guid\" Nullable=\"false"),
        ("Name", "Edm.String"),
        ("DoNotEMail", "Edm.Boolean"),
        ("NumberOfEmployees", "Edm.Int32"),
        ("ImportSequenceNumber64", "Edm.Int64"),
        ("ExchangeRate", "Edm.Decimal"),
        ("Address1_Latitude", "Edm.Double"),
        ("LastUsedInCampaign", "Edm.DateTime"),
        ("Address1_AddressId", "Edm.Guid"),
        (
            "Revenue",
            "Microsoft.Crm.Sdk.Data.Services.Money\" Nullable=\"false",
        ),
        (
            "IndustryCode",
            "Microsoft.Crm.Sdk.Data.Services.OptionSetValue",
        ),
        (
            "PrimaryContactId",
            "Microsoft.Crm.Sdk.Data.Services.EntityReference",
        ),
        ("CreatedOn", "Edm.DateTime"),
        ("ModifiedOn", "Edm.DateTime"),
        ("VersionNumber", "Edm.Int64"),
    ] {
        assert!(
            x.contains(&format!("<Property Name=\"{prop}\" Type=\"{ty}")),
            "{prop}"
        );
    }
    for complex in ["EntityReference", "OptionSetValue", "Money"] {
        assert!(
            x.contains(&format!("<ComplexType Name=\"{complex}\">")),
            "{complex}"
        );
    }
    // The one declared relationship (Contact.ParentCustomerId → account), on both ends.
    assert_eq!(x.matches("<NavigationProperty ").count(), 2);
    assert_eq!(
        x.matches("<NavigationProperty Name=\"contact_customer_accounts\"")
            .count(),
        2
    );
}

#[tokio::test]
async fn metadata_of_the_derived_entities() {
    let metas: Vec<&'static CdmsMeta> = cdms_entities::all_entities()
        .iter()
        .filter_map(|e| CdmsMeta::of(e))
        .collect();
    assert!(metas.len() >= 3);
    let emulator = Emulator::builder()
        .sets(metas.iter().copied())
        .org("CDMS")
        .build()
        .unwrap();
    let (server, http) = start(&emulator).await;
    assert!(server.base_url().ends_with("/CDMS"));
    let x = http
        .request("GET", "/$metadata", None, &[])
        .await
        .unwrap()
        .text;
    check_xml(&x).unwrap();
    assert!(x.contains("<EntityContainer Name=\"CDMSContext\""));
    for meta in metas {
        assert!(
            x.contains(&format!("<EntitySet Name=\"{}\"", meta.set)),
            "{}",
            meta.set
        );
        for f in meta.fields {
            assert!(
                x.contains(&format!(
                    "<Property Name=\"{}\" Type=\"{}\"",
                    f.property,
                    f.kind.edm_type()
                )),
                "{}",
                f.property
            );
        }
        let r = http.get(&format!("/{}", meta.set)).await;
        assert_eq!(r.json()["d"]["results"], json!([]));
    }
}

#[tokio::test]
async fn create_answers_201_with_the_full_entity_and_location() {
    let emulator = fx::emulator();
    let (server, http) = start(&emulator).await;
    let r = http
        .post(
            "/AccountSet",
            &json!({
                "Name": "  Acme Ltd ",
                "Revenue": {"Value": 1000},
                "ExchangeRate": "1.5",
                "NumberOfEmployees": 250,
                "ImportSequenceNumber64": "9000000000",
                "Address1_Latitude": 51.5074,
                "LastUsedInCampaign": "/Date(1451606400000)/",
                "IndustryCode": {"Value": "7"},
                "DoNotEMail": true,
                "Telephone1": "",
                "ModifiedOn": "/Date(0)/",
                "CreatedOn": "/Date(0)/",
                "VersionNumber": "77",
                "__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.Account"}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let d = r.d();
    let id: Uuid = d["AccountId"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/AccountSet(guid'{id}')", server.service_url())
    );
    assert!(
        r.text.starts_with("{\"d\":{\"__metadata\":{\"uri\":"),
        "entries start with __metadata"
    );
    let uri = d["__metadata"]["uri"].as_str().unwrap();
    assert!(
        uri.ends_with(&format!(
            "/xrmservices/2011/organizationdata.svc/AccountSet(guid'{id}')"
        )),
        "{uri}"
    );
    assert_eq!(
        d["__metadata"]["type"],
        "Microsoft.Crm.Sdk.Data.Services.Account"
    );
    assert_eq!(d["Name"], "  Acme Ltd ", "whitespace kept");
    assert_eq!(d["Telephone1"], Value::Null, "\"\" stores null");
    assert_eq!(
        d["Revenue"],
        json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.Money"}, "Value": "1000.0000"})
    );
    assert_eq!(d["ExchangeRate"], "1.5000000000");
    assert_eq!(d["NumberOfEmployees"], 250);
    assert_eq!(d["ImportSequenceNumber64"], "9000000000");
    assert_eq!(d["Address1_Latitude"], 51.5074);
    assert_eq!(d["LastUsedInCampaign"], date(1_451_606_400_000));
    assert_eq!(
        d["IndustryCode"],
        json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.OptionSetValue"}, "Value": 7})
    );
    assert_eq!(d["DoNotEMail"], true);
    assert_eq!(
        d["CreatedOn"],
        date(START_MS),
        "server-managed values in the body are ignored"
    );
    assert_eq!(d["ModifiedOn"], date(START_MS));
    assert_eq!(d["VersionNumber"], "1");
    // Every property is present, with CRM's null shapes.
    assert_eq!(d["Address1_AddressId"], Value::Null);
    assert_eq!(
        d["PrimaryContactId"],
        json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.EntityReference"}, "Id": null, "LogicalName": null, "Name": null})
    );
    assert_eq!(d["optevia_Country"]["Id"], Value::Null);
    assert!(
        r.text.contains("\"\\/Date(1454245509000)\\/\""),
        "dates are written with escaped slashes"
    );
    let stored = emulator.get("AccountSet", id).unwrap();
    assert_eq!(stored["Name"], "  Acme Ltd ");
    let empty = http.post("/AccountSet", &json!({})).await;
    assert_eq!(empty.status, 201, "no required fields on REST create");
    assert_eq!(emulator.count("AccountSet"), 2);
}

#[tokio::test]
async fn create_with_a_client_id_and_duplicate_keys() {
    let (_server, http) = start(&fx::emulator()).await;
    let id = Uuid::new_v4();
    let r = http
        .post(
            "/AccountSet",
            &json!({"AccountId": id.to_string(), "Name": "A"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.d()["AccountId"], id.to_string());
    let dup = http
        .post(
            "/AccountSet",
            &json!({"AccountId": id.to_string(), "Name": "B"}),
        )
        .await;
    assert_eq!(dup.status, 500);
    let (code, message) = dup.error();
    assert_eq!(code, "-2147220937");
    assert!(message.contains("Cannot insert duplicate key"), "{message}");
    let braced = format!("{{{}}}", Uuid::new_v4().to_string().to_uppercase());
    assert_eq!(
        http.post("/AccountSet", &json!({"AccountId": braced}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn writes_are_validated_per_kind() {
    let emulator = fx::emulator();
    let (_server, http) = start(&emulator).await;
    let cases: &[(Value, &str)] = &[
        (json!({"Nmae": "x"}), "'Nmae'"),
        (json!({"name": "x"}), "'name'"),
        (json!({"NumberOfEmployees": "5"}), "NumberOfEmployees"),
        (json!({"NumberOfEmployees": 5.5}), "NumberOfEmployees"),
        (json!({"Name": 5}), "Name"),
        (json!({"DoNotEMail": "true"}), "DoNotEMail"),
        (json!({"Address1_Latitude": "51.5"}), "Address1_Latitude"),
        (
            json!({"LastUsedInCampaign": "yesterday"}),
            "LastUsedInCampaign",
        ),
        (json!({"Address1_AddressId": "1234"}), "Address1_AddressId"),
        (json!({"Revenue": null}), "Revenue"),
        (json!({"Revenue": 10}), "Revenue"),
        (json!({"Revenue": {"Value": "ten"}}), "Revenue"),
        (json!({"IndustryCode": {"Value": 1.5}}), "IndustryCode"),
        (json!({"IndustryCode": {"Amount": 1}}), "Amount"),
        (
            json!({"PrimaryContactId": {"LogicalName": "contact"}}),
            "PrimaryContactId",
        ),
        (
            json!({"PrimaryContactId": {"Id": "nope"}}),
            "PrimaryContactId",
        ),
        (json!({"AccountId": "not-a-guid"}), "AccountId"),
        (json!([1, 2]), "JSON object"),
    ];
    for (body, needle) in cases {
        let r = http.post("/AccountSet", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        let (code, message) = r.error();
        assert_eq!(code, "", "{body}");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let garbage = http
        .request(
            "POST",
            "/AccountSet",
            None,
            &[
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(garbage.status, 400, "empty body is not JSON");
    assert_eq!(emulator.count("AccountSet"), 0, "nothing was created");
}

#[tokio::test]
async fn json_only_accept_and_content_type_rules() {
    let emulator = fx::emulator();
    let id = emulator.insert("AccountSet", json!({"Name": "A"})).unwrap();
    let (_server, http) = start(&emulator).await;
    for accept in [None, Some("application/atom+xml"), Some("*/*")] {
        let headers: Vec<(&str, &str)> = accept.map(|a| vec![("Accept", a)]).unwrap_or_default();
        let r = http
            .request("GET", "/AccountSet", None, &headers)
            .await
            .unwrap();
        assert_eq!(r.status, 406, "{accept:?}");
        let names = check_xml(&r.text).unwrap();
        assert_eq!(names, ["m:error", "m:code", "m:message"]);
    }
    let verbose = http
        .request(
            "GET",
            &entity("AccountSet", id),
            None,
            &[("Accept", "application/json;odata=verbose")],
        )
        .await
        .unwrap();
    assert_eq!(verbose.status, 200);
    let text_body = http
        .client
        .post(http.url("/AccountSet"))
        .header("Accept", "application/json")
        .header("Content-Type", "application/atom+xml")
        .body("<entry/>")
        .send()
        .await
        .unwrap();
    assert_eq!(text_body.status(), 415);
    let not_found_xml = http.request("GET", "/NopeSet", None, &[]).await.unwrap();
    assert_eq!(not_found_xml.status, 404);
    assert!(not_found_xml.text.contains("<m:error"));
}

#[tokio::test]
async fn bodiless_answers_ignore_accept_and_any_accept_can_get_json() {
    let emulator = fx::emulator();
    let id = emulator.insert("AccountSet", json!({"Name": "A"})).unwrap();
    let (_server, http) = start(&emulator).await;
    let merge = http
        .client
        .post(http.url(&entity("AccountSet", id)))
        .header("Accept", "*/*")
        .header("Content-Type", "application/json")
        .header("X-HTTP-Method", "MERGE")
        .body(r#"{"Name":"B"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(merge.status(), 204);
    let delete = http
        .request(
            "DELETE",
            &entity("AccountSet", id),
            None,
            &[("Accept", "*/*")],
        )
        .await
        .unwrap();
    assert_eq!(delete.status, 204, "{}", delete.text);
    assert_eq!(emulator.count("AccountSet"), 0);

    let lenient = fx::builder().json_for_any_accept(true).build().unwrap();
    let id = lenient.insert("AccountSet", json!({"Name": "A"})).unwrap();
    let (_server, http) = start(&lenient).await;
    for accept in [
        None,
        Some("*/*"),
        Some("application/*"),
        Some("text/html, */*;q=0.8"),
        Some("application/json;odata=verbose"),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| vec![("Accept", a)]).unwrap_or_default();
        let r = http
            .request("GET", &entity("AccountSet", id), None, &headers)
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{accept:?}: {}", r.text);
        assert_eq!(r.json()["d"]["Name"], "A", "{accept:?}");
        let missing = http
            .request(
                "GET",
                "/AccountSet(guid'00000000-0000-0000-0000-000000000001')",
                None,
                &headers,
            )
            .await
            .unwrap();
        assert_eq!(missing.status, 404);
        assert!(
            missing.json()["error"]["message"]["value"].is_string(),
            "{accept:?}"
        );
    }
    let atom = http
        .request(
            "GET",
            "/AccountSet",
            None,
            &[("Accept", "application/atom+xml")],
        )
        .await
        .unwrap();
    assert_eq!(atom.status, 406, "asking for Atom only is still refused");
}

#[tokio::test]
async fn get_single_entities_and_properties() {
    let emulator = fx::emulator();
    let id = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Acme", "Revenue": {"Value": "12.5"}}),
        )
        .unwrap();
    let (_server, http) = start(&emulator).await;
    let r = http.get(&entity("AccountSet", id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.d()["Name"], "Acme");
    assert_eq!(r.header("dataserviceversion"), Some("1.0;"));
    let narrowed = http
        .get(&format!(
            "{}?$select=Name,Revenue",
            entity("AccountSet", id)
        ))
        .await
        .d();
    let keys: Vec<&String> = narrowed.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Name", "Revenue", "__metadata"],
        "sorted by serde_json"
    );
    let prop = http
        .get(&format!("{}/Name", entity("AccountSet", id)))
        .await;
    assert_eq!(prop.json(), json!({"d": {"Name": "Acme"}}));
    let money = http
        .get(&format!("{}/Revenue", entity("AccountSet", id)))
        .await;
    assert_eq!(money.json()["d"]["Revenue"]["Value"], "12.5000");

    let bad = http.get("/AccountSet(guid'1234')").await;
    assert_eq!(bad.status, 400);
    bad.error();
    let missing_id = Uuid::new_v4();
    let missing = http.get(&entity("AccountSet", missing_id)).await;
    assert_eq!(missing.status, 404);
    let (code, message) = missing.error();
    assert_eq!(code, "-2147220969");
    assert_eq!(
        message,
        format!("account With Id = {missing_id} Does Not Exist")
    );
    let unknown = http.get("/NopeSet").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.error().1.contains("NopeSet"));
    assert_eq!(http.get(&entity("NopeSet", id)).await.status, 404);
    assert_eq!(
        http.get(&format!("{}/Nope", entity("AccountSet", id)))
            .await
            .status,
        404
    );
    assert_eq!(
        http.get(&format!("{}?$filter=Name eq 'x'", entity("AccountSet", id)))
            .await
            .status,
        400
    );
    assert_eq!(
        http.get(&format!("{}?$top=1", entity("AccountSet", id)))
            .await
            .status,
        400
    );
    assert_eq!(
        http.get(&format!("/AccountSet(AccountId=guid'{id}')"))
            .await
            .status,
        200
    );
    assert_eq!(
        http.get(&format!("/AccountSet(guid%27{id}%27)"))
            .await
            .status,
        200
    );
}
