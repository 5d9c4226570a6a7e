//! Navigation properties over real HTTP: `$metadata` declares both ends of a relationship,
//! entries carry `__deferred` links, `$expand` inlines the related records (narrowed by
//! `$select`), and `$filter` conditions on one expanded entity select the root records, with
//! CRM 2011's restrictions and error bodies.

mod emulator_common;

use std::collections::BTreeSet;

use cdms_runtime::emulator::Emulator;
use cdms_tests::emulator_fixtures as fx;
use emulator_common::{enc, start, Http};
use serde_json::{json, Value};
use uuid::Uuid;

const NAV: &str = "contact_customer_accounts";

struct Data {
    emulator: Emulator,
    acme: Uuid,
    zeta: Uuid,
    ann: Uuid,
}

/// Two accounts (Acme Ltd with two contacts, Zeta with none), a contact without an account and
/// one whose customer is another contact.
fn data() -> Data {
    let emulator = fx::emulator();
    let acme = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Acme Ltd", "NumberOfEmployees": 10}),
        )
        .unwrap();
    let zeta = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Zeta", "NumberOfEmployees": 20}),
        )
        .unwrap();
    let at_acme = |first: &str, mail: &str| {
        json!({"FirstName": first, "EMailAddress1": mail,
               "ParentCustomerId": {"Id": acme.to_string(), "LogicalName": "account"}})
    };
    let ann = emulator
        .insert("ContactSet", at_acme("Ann", "ann@acme.example"))
        .unwrap();
    emulator
        .insert("ContactSet", at_acme("Bob", "bob@gov.uk"))
        .unwrap();
    emulator
        .insert("ContactSet", json!({"FirstName": "Cy"}))
        .unwrap();
    emulator
        .insert(
            "ContactSet",
            json!({"FirstName": "Dee",
                   "ParentCustomerId": {"Id": ann.to_string(), "LogicalName": "contact"}}),
        )
        .unwrap();
    Data {
        emulator,
        acme,
        zeta,
        ann,
    }
}

fn results(v: &Value) -> Vec<Value> {
    v["d"]["results"].as_array().expect("results").clone()
}

fn first_names(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["FirstName"].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

async fn error(http: &Http, rel: &str) -> String {
    let r = http.get(rel).await;
    assert_eq!(r.status, 400, "{rel}: {}", r.text);
    r.error().1
}

#[tokio::test]
async fn metadata_declares_both_ends_of_the_relationship() {
    let d = data();
    let (_server, http) = start(&d.emulator).await;
    let r = http.request("GET", "/$metadata", None, &[]).await.unwrap();
    assert_eq!(r.status, 200);
    fx::check_xml(&r.text).expect("well-formed");
    let ns = "Microsoft.Crm.Sdk.Data.Services";
    for needle in [
        format!(
            "<NavigationProperty Name=\"{NAV}\" Relationship=\"{ns}.{NAV}\" \
             FromRole=\"{NAV}_Referencing\" ToRole=\"{NAV}_Referenced\" />"
        ),
        format!(
            "<NavigationProperty Name=\"{NAV}\" Relationship=\"{ns}.{NAV}\" \
             FromRole=\"{NAV}_Referenced\" ToRole=\"{NAV}_Referencing\" />"
        ),
        format!("<Association Name=\"{NAV}\">"),
        format!("<End Type=\"{ns}.Account\" Role=\"{NAV}_Referenced\" Multiplicity=\"0..1\" />"),
        format!("<End Type=\"{ns}.Contact\" Role=\"{NAV}_Referencing\" Multiplicity=\"*\" />"),
        format!("<Dependent Role=\"{NAV}_Referencing\"><PropertyRef Name=\"ParentCustomerId\" />"),
        format!("<AssociationSet Name=\"{NAV}\" Association=\"{ns}.{NAV}\">"),
    ] {
        assert!(
            r.text.contains(&needle),
            "{needle} missing from\n{}",
            r.text
        );
    }
    // The account end is on Account, the contact end on Contact.
    let account = &r.text[r.text.find("<EntityType Name=\"Account\">").unwrap()..];
    let account = &account[..account.find("</EntityType>").unwrap()];
    assert!(account.contains(&format!("FromRole=\"{NAV}_Referenced\"")));
    // The document reads back into sets with the same relationship.
    let edmx = cdms_runtime::emulator::edmx::parse(&r.text).expect("parses");
    let again = Emulator::builder()
        .specs(edmx.sets)
        .build()
        .expect("builds");
    let (_s2, http2) = start(&again).await;
    let r2 = http2.request("GET", "/$metadata", None, &[]).await.unwrap();
    assert!(r2.text.contains(&format!("<AssociationSet Name=\"{NAV}\"")));
}

#[tokio::test]
async fn entries_carry_deferred_navigation_links() {
    let d = data();
    let (_server, http) = start(&d.emulator).await;
    let contact = http.get(&format!("/ContactSet(guid'{}')", d.ann)).await.d();
    let uri = contact["__metadata"]["uri"].as_str().unwrap().to_owned();
    assert_eq!(
        contact[NAV],
        json!({"__deferred": {"uri": format!("{uri}/{NAV}")}})
    );
    let account = http
        .get(&format!("/AccountSet(guid'{}')", d.acme))
        .await
        .d();
    assert!(account[NAV]["__deferred"]["uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("AccountSet(guid'{}')/{NAV}", d.acme)));
    // `$select` without the navigation property leaves it out; with it, it is deferred.
    let narrow = http
        .get(&format!("/ContactSet(guid'{}')?$select=FirstName", d.ann))
        .await
        .d();
    assert!(narrow.get(NAV).is_none(), "{narrow}");
    let with_nav = http
        .get(&format!(
            "/ContactSet(guid'{}')?$select=FirstName,{NAV}",
            d.ann
        ))
        .await
        .d();
    assert!(with_nav[NAV]["__deferred"].is_object(), "{with_nav}");
}

#[tokio::test]
async fn expand_inlines_the_related_records() {
    let d = data();
    let (_server, http) = start(&d.emulator).await;
    // Many-to-one: the account with its __metadata, or null (no account, or a contact).
    let r = http
        .get(&format!("/ContactSet?$expand={NAV}&$orderby=FirstName"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = results(&r.json());
    assert_eq!(rows.len(), 4);
    let ann = &rows[0];
    assert_eq!(ann["FirstName"], "Ann");
    assert_eq!(ann[NAV]["Name"], "Acme Ltd");
    assert_eq!(ann[NAV]["NumberOfEmployees"], 10);
    assert_eq!(
        ann[NAV]["__metadata"]["type"],
        "Microsoft.Crm.Sdk.Data.Services.Account"
    );
    assert!(ann[NAV]["__metadata"]["uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("AccountSet(guid'{}')", d.acme)));
    assert_eq!(rows[2]["FirstName"], "Cy");
    assert!(rows[2][NAV].is_null(), "no account: {}", rows[2]);
    assert!(rows[3][NAV].is_null(), "a contact as customer: {}", rows[3]);
    // `$select` of the expanded entity's properties.
    let r = http
        .get(&format!(
            "/ContactSet?$expand={NAV}&$select=FirstName,{NAV}/Name&$filter=FirstName eq 'Ann'"
        ))
        .await;
    let rows = results(&r.json());
    let keys: BTreeSet<&str> = rows[0][NAV]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["__metadata", "Name"]));
    assert!(rows[0].get("EMailAddress1").is_none());
    // One-to-many: the contacts of each account.
    let r = http
        .get(&format!(
            "/AccountSet?$expand={NAV}&$select=Name,{NAV}/FirstName&$orderby=Name"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = results(&r.json());
    let acme = rows.iter().find(|r| r["Name"] == "Acme Ltd").unwrap();
    let contacts = acme[NAV]["results"].as_array().unwrap();
    assert_eq!(
        first_names(contacts),
        BTreeSet::from(["Ann".into(), "Bob".into()])
    );
    let zeta = rows.iter().find(|r| r["Name"] == "Zeta").unwrap();
    assert_eq!(zeta[NAV], json!({"results": []}));
    // A single entry expands too.
    let one = http
        .get(&format!("/AccountSet(guid'{}')?$expand={NAV}", d.zeta))
        .await
        .d();
    assert_eq!(one[NAV], json!({"results": []}));
}

#[tokio::test]
async fn filters_on_the_expanded_entity_select_root_records() {
    let d = data();
    let (_server, http) = start(&d.emulator).await;
    let names = |filter: &str| {
        let http = &http;
        let rel = format!(
            "/ContactSet?$expand={NAV}&$select=FirstName,{NAV}/Name&$filter={}",
            enc(filter)
        );
        async move {
            let r = http.get(&rel).await;
            assert_eq!(r.status, 200, "{rel}: {}", r.text);
            first_names(&results(&r.json()))
        }
    };
    let acme = BTreeSet::from(["Ann".to_owned(), "Bob".to_owned()]);
    assert_eq!(
        names(&format!("substringof('ltd', {NAV}/Name)")).await,
        acme
    );
    assert_eq!(
        names(&format!(
            "{NAV}/NumberOfEmployees ge 10 and {NAV}/Name ne 'x'"
        ))
        .await,
        acme
    );
    assert_eq!(
        names(&format!("{NAV}/Name eq 'Zeta'")).await,
        BTreeSet::new()
    );
    // A contact without an account never matches, not even `eq null`.
    assert_eq!(names(&format!("{NAV}/Name eq null")).await, BTreeSet::new());
    // Paging keeps $expand in __next.
    let r = http
        .get(&format!(
            "/ContactSet?$expand={NAV}&$top=1&$filter={}",
            enc(&format!("{NAV}/Name eq 'Acme Ltd'"))
        ))
        .await;
    let v = r.json();
    assert_eq!(results(&v).len(), 1);
    assert!(v["d"].get("__next").is_none() || v["d"]["__next"].is_null());
}

#[tokio::test]
async fn crm_2011_restrictions_are_refused_with_400() {
    let d = data();
    let (_server, http) = start(&d.emulator).await;
    let f = |filter: &str| format!("/ContactSet?$expand={NAV}&$filter={}", enc(filter));
    let table: Vec<(String, &str)> = vec![
        (format!("/ContactSet?$expand={NAV}/x"), "Multi-level"),
        ("/ContactSet?$expand=a,b,c,d,e,f,g".to_owned(), "At most 6"),
        (
            "/ContactSet?$expand=nope".to_owned(),
            "'nope' is not a navigation property of type 'Microsoft.Crm.Sdk.Data.Services.Contact'",
        ),
        (
            format!("/ContactSet?$select={NAV}/Name"),
            "Only properties specified in $expand",
        ),
        (
            format!("/ContactSet?$expand={NAV}&$select={NAV}/Nope"),
            "No property 'Nope' exists in type 'Microsoft.Crm.Sdk.Data.Services.Account'",
        ),
        (
            f(&format!("FirstName eq 'Ann' and {NAV}/Name eq 'Acme Ltd'")),
            "root entity or on one expanded entity, not both",
        ),
        (
            f(&format!("{NAV}/Name eq 'Acme Ltd' or FirstName eq 'Ann'")),
            "not both",
        ),
        (
            format!(
                "/ContactSet?$filter={}",
                enc(&format!("{NAV}/Name eq 'Acme Ltd'"))
            ),
            "is not expanded",
        ),
        (
            f(&format!("{NAV} eq null")),
            "cannot be used in $filter itself",
        ),
        (
            f(&format!("{NAV}/Nope eq 1")),
            "No property 'Nope' exists in type 'Microsoft.Crm.Sdk.Data.Services.Account'",
        ),
        (
            format!(
                "/AccountSet?$expand={NAV}&$filter={}",
                enc(&format!("{NAV}/FirstName eq 'Ann'"))
            ),
            "collection navigation property",
        ),
    ];
    for (rel, needle) in table {
        let message = error(&http, &rel).await;
        assert!(
            message.contains(needle),
            "{rel}: {message:?} lacks {needle:?}"
        );
    }
}
