//! The emulator serving the sets of a `$metadata` document, and generated records for any served
//! schema (`emulate --metadata`, `emulate --seed`).

mod emulator_common;

use cdms_runtime::emulator::edmx::{self, EdmxError};
use cdms_runtime::emulator::Emulator;
use emulator_common::start;
use serde_json::Value;

async fn metadata(emulator: &Emulator) -> String {
    let (server, http) = start(emulator).await;
    let r = http.request("GET", "/$metadata", None, &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    server.shutdown().await.unwrap();
    r.text
}

#[tokio::test]
async fn served_metadata_reads_back_into_the_same_sets() {
    let original = cdms_entities::demo_data::emulator_builder()
        .build()
        .unwrap();
    let text = metadata(&original).await;
    let doc = edmx::parse(&text).unwrap();
    assert!(doc.skipped.is_empty(), "{:?}", doc.skipped);
    let specs = doc.select(&[]).unwrap();
    let copy = Emulator::builder().specs(specs).build().unwrap();
    assert_eq!(copy.set_names(), original.set_names());
    assert_eq!(
        metadata(&copy).await,
        text,
        "$metadata is served back unchanged"
    );
}

/// A document shaped as CRM 2011 publishes it: associations with referential constraints, a
/// polymorphic lookup, property types the emulator does not model, a set not named `<Type>Set`.
const CRM: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">
 <edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" m:DataServiceVersion="1.0">
  <Schema Namespace="Microsoft.Crm.Sdk.Data.Services" xmlns="http://schemas.microsoft.com/ado/2007/05/edm">
   <EntityType Name="Account">
    <Key><PropertyRef Name="AccountId" /></Key>
    <Property Name="AccountId" Type="Edm.Guid" Nullable="false" />
    <Property Name="Name" Type="Edm.String" Nullable="true" />
    <Property Name="Revenue" Type="Microsoft.Crm.Sdk.Data.Services.Money" Nullable="false" />
    <Property Name="EntityImage" Type="Edm.Binary" Nullable="true" />
    <Property Name="ParentAccountId" Type="Microsoft.Crm.Sdk.Data.Services.EntityReference" Nullable="false" />
    <Property Name="CreatedOn" Type="Edm.DateTime" Nullable="true" />
    <Property Name="ModifiedOn" Type="Edm.DateTime" Nullable="true" />
    <NavigationProperty Name="contact_customer_accounts" Relationship="Microsoft.Crm.Sdk.Data.Services.contact_customer_accounts" FromRole="contact_customer_accounts_Referenced" ToRole="contact_customer_accounts_Referencing" />
   </EntityType>
   <EntityType Name="Contact">
    <Key><PropertyRef Name="ContactId" /></Key>
    <Property Name="ContactId" Type="Edm.Guid" Nullable="false" />
    <Property Name="LastName" Type="Edm.String" Nullable="true" />
    <Property Name="GenderCode" Type="Microsoft.Crm.Sdk.Data.Services.OptionSetValue" Nullable="false" />
    <Property Name="IsPrivate" Type="Microsoft.Crm.Sdk.Data.Services.BooleanManagedProperty" Nullable="false" />
    <Property Name="ParentCustomerId" Type="Microsoft.Crm.Sdk.Data.Services.EntityReference" Nullable="false" />
   </EntityType>
   <Association Name="contact_customer_accounts">
    <End Type="Microsoft.Crm.Sdk.Data.Services.Account" Role="contact_customer_accounts_Referenced" Multiplicity="0..1" />
    <End Type="Microsoft.Crm.Sdk.Data.Services.Contact" Role="contact_customer_accounts_Referencing" Multiplicity="*" />
    <ReferentialConstraint>
     <Principal Role="contact_customer_accounts_Referenced"><PropertyRef Name="AccountId" /></Principal>
     <Dependent Role="contact_customer_accounts_Referencing"><PropertyRef Name="ParentCustomerId" /></Dependent>
    </ReferentialConstraint>
   </Association>
   <Association Name="contact_customer_contacts">
    <End Type="Microsoft.Crm.Sdk.Data.Services.Contact" Role="contact_customer_contacts_Referenced" Multiplicity="0..1" />
    <End Type="Microsoft.Crm.Sdk.Data.Services.Contact" Role="contact_customer_contacts_Referencing" Multiplicity="*" />
    <ReferentialConstraint>
     <Principal Role="contact_customer_contacts_Referenced"><PropertyRef Name="ContactId" /></Principal>
     <Dependent Role="contact_customer_contacts_Referencing"><PropertyRef Name="ParentCustomerId" /></Dependent>
    </ReferentialConstraint>
   </Association>
   <Association Name="account_parent_account">
    <End Type="Microsoft.Crm.Sdk.Data.Services.Account" Role="account_parent_account_Referenced" Multiplicity="0..1" />
    <End Type="Microsoft.Crm.Sdk.Data.Services.Account" Role="account_parent_account_Referencing" Multiplicity="*" />
    <ReferentialConstraint>
     <Principal Role="account_parent_account_Referenced"><PropertyRef Name="AccountId" /></Principal>
     <Dependent Role="account_parent_account_Referencing"><PropertyRef Name="ParentAccountId" /></Dependent>
    </ReferentialConstraint>
   </Association>
   <EntityContainer Name="UKTIContext" m:IsDefaultEntityContainer="true">
    <EntitySet Name="AccountSet" EntityType="Microsoft.Crm.Sdk.Data.Services.Account" />
    <EntitySet Name="People" EntityType="Microsoft.Crm.Sdk.Data.Services.Contact" />
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>
"#;

#[tokio::test]
async fn a_crm_document_is_served_with_its_lookups_and_filled_with_generated_records() {
    let doc = edmx::parse(CRM).unwrap();
    let skipped: Vec<(&str, &str, &str)> = doc
        .skipped
        .iter()
        .map(|s| (s.set.as_str(), s.property.as_str(), s.edm_type.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("AccountSet", "EntityImage", "Edm.Binary"),
            (
                "People",
                "IsPrivate",
                "Microsoft.Crm.Sdk.Data.Services.BooleanManagedProperty"
            ),
        ]
    );
    assert!(doc.clone().select(&["ContactSet".to_owned()]).is_err());
    let emulator = Emulator::builder()
        .specs(doc.select(&[]).unwrap())
        .build()
        .unwrap();
    assert_eq!(emulator.set_names(), ["AccountSet", "People"]);
    let served = metadata(&emulator).await;
    assert!(
        served.contains(
            r#"<EntitySet Name="People" EntityType="Microsoft.Crm.Sdk.Data.Services.Contact" />"#
        ) && served
            .contains(r#"<Property Name="Revenue" Type="Microsoft.Crm.Sdk.Data.Services.Money""#)
            && !served.contains("EntityImage"),
        "{served}"
    );

    assert_eq!(emulator.generate(40, 7).unwrap(), 80);
    let accounts = emulator.ids("AccountSet");
    let people = emulator.ids("People");
    assert_eq!((accounts.len(), people.len()), (40, 40));
    let (mut to_accounts, mut to_contacts) = (0, 0);
    for id in &people {
        let record = emulator.get("People", *id).unwrap();
        let lookup = &record["ParentCustomerId"];
        let target: uuid::Uuid = lookup["Id"].as_str().unwrap().parse().unwrap();
        match lookup["LogicalName"].as_str() {
            Some("account") => {
                assert!(accounts.contains(&target));
                to_accounts += 1;
            }
            Some("contact") => {
                assert!(people.contains(&target));
                to_contacts += 1;
            }
            other => panic!("ParentCustomerId targets {other:?}: {record:?}"),
        }
        let gender = record["GenderCode"]["Value"].as_i64().unwrap();
        assert!((1..=2).contains(&gender), "{record:?}");
        assert!(record["LastName"].is_string(), "{record:?}");
    }
    assert!(
        to_accounts > 0 && to_contacts > 0,
        "a Customer lookup points at both kinds: {to_accounts} accounts, {to_contacts} contacts"
    );
    let parents = accounts
        .iter()
        .filter_map(|id| emulator.get("AccountSet", *id))
        .filter(|r| r["ParentAccountId"]["Id"].is_string())
        .count();
    assert_eq!(
        parents, 39,
        "every account but the first has an earlier parent"
    );
    let revenue = emulator.get("AccountSet", accounts[0]).unwrap()["Revenue"]["Value"].clone();
    assert!(
        matches!(&revenue, Value::String(s) if s.parse::<f64>().is_ok()),
        "{revenue}"
    );
}

#[test]
fn generated_records_follow_the_derived_lookups() {
    let sets = cdms_entities::all_entities()
        .iter()
        .filter_map(|m| cdms_runtime::cdms::CdmsMeta::of(m));
    let emulator = Emulator::builder().sets(sets).build().unwrap();
    assert_eq!(emulator.generate(10, 1).unwrap(), 60);
    let accounts = emulator.ids("AccountSet");
    let countries = emulator.ids("optevia_countrySet");
    for id in emulator.ids("ContactSet") {
        let contact = emulator.get("ContactSet", id).unwrap();
        let parent: uuid::Uuid = contact["ParentCustomerId"]["Id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(accounts.contains(&parent), "{contact:?}");
    }
    for id in &accounts {
        let account = emulator.get("AccountSet", *id).unwrap();
        let country: uuid::Uuid = account["optevia_Country"]["Id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(countries.contains(&country), "{account:?}");
    }
    let again = Emulator::builder()
        .sets(
            cdms_entities::all_entities()
                .iter()
                .filter_map(|m| cdms_runtime::cdms::CdmsMeta::of(m)),
        )
        .build()
        .unwrap();
    again.generate(10, 1).unwrap();
    let mut a = emulator.ids("ContactSet");
    let mut b = again.ids("ContactSet");
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same seed generates the same records");
}

#[test]
fn unreadable_documents_are_typed_errors() {
    assert!(matches!(edmx::parse("<edmx"), Err(EdmxError::Xml(_))));
    let no_key = CRM.replace(r#"<Key><PropertyRef Name="ContactId" /></Key>"#, "");
    assert!(
        matches!(edmx::parse(&no_key), Err(EdmxError::Key { ref entity, .. }) if entity == "Contact")
    );
    let unknown = CRM.replace(
        r#"EntityType="Microsoft.Crm.Sdk.Data.Services.Contact" />"#,
        r#"EntityType="Microsoft.Crm.Sdk.Data.Services.Lead" />"#,
    );
    assert!(
        matches!(edmx::parse(&unknown), Err(EdmxError::UnknownType { ref set, .. }) if set == "People")
    );
    let empty = "<Schema><EntityType Name=\"A\"><Key><PropertyRef Name=\"AId\"/></Key>\
                 <Property Name=\"AId\" Type=\"Edm.Guid\"/></EntityType></Schema>";
    assert!(matches!(edmx::parse(empty), Err(EdmxError::Empty)));
}
