//! Unit and snapshot tests of the generator, on EDMX documents built here.

use std::fmt::Write as _;

use super::*;

const NS: &str = "Microsoft.Crm.Sdk.Data.Services";

/// `(name, type, nullable)`
type Prop<'a> = (&'a str, &'a str, bool);

/// An EDMX document in CRM's form: entity types (name, key, properties), associations
/// `(name, referencing type, lookup, target type)` with a referential constraint, one container.
fn edmx(types: &[(&str, &str, &[Prop])], constraints: &[(&str, &str, &str, &str)]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\">\n\
         <edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"1.0\">\n",
    );
    let _ = writeln!(
        x,
        "<Schema Namespace=\"{NS}\" xmlns=\"http://schemas.microsoft.com/ado/2007/05/edm\">"
    );
    for (name, key, props) in types {
        let _ = writeln!(
            x,
            "<EntityType Name=\"{name}\"><Key><PropertyRef Name=\"{key}\" /></Key>"
        );
        for (p, ty, nullable) in *props {
            let ty = if ty.starts_with("Edm.") {
                (*ty).to_owned()
            } else {
                format!("{NS}.{ty}")
            };
            let _ = writeln!(
                x,
                "<Property Name=\"{p}\" Type=\"{ty}\" Nullable=\"{nullable}\" />"
            );
        }
        x.push_str("</EntityType>\n");
    }
    for (name, from, lookup, to) in constraints {
        let _ = writeln!(
            x,
            "<Association Name=\"{name}\">\
             <End Type=\"{NS}.{to}\" Role=\"{name}_Referenced\" Multiplicity=\"0..1\" />\
             <End Type=\"{NS}.{from}\" Role=\"{name}_Referencing\" Multiplicity=\"*\" />\
             <ReferentialConstraint>\
             <Principal Role=\"{name}_Referenced\"><PropertyRef Name=\"{to}Id\" /></Principal>\
             <Dependent Role=\"{name}_Referencing\"><PropertyRef Name=\"{lookup}\" /></Dependent>\
             </ReferentialConstraint></Association>"
        );
    }
    x.push_str("<EntityContainer Name=\"UKTIContext\" m:IsDefaultEntityContainer=\"true\">\n");
    for (name, _, _) in types {
        let _ = writeln!(
            x,
            "<EntitySet Name=\"{name}Set\" EntityType=\"{NS}.{name}\" />"
        );
    }
    x.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>\n");
    x
}

fn system(key: &'static str) -> Vec<Prop<'static>> {
    vec![
        (key, "Edm.Guid", false),
        ("CreatedOn", "Edm.DateTime", true),
        ("ModifiedOn", "Edm.DateTime", true),
        ("VersionNumber", "Edm.Int64", true),
        ("CreatedBy", "EntityReference", false),
        ("OwnerId", "EntityReference", false),
    ]
}

fn small() -> String {
    let mut account = system("AccountId");
    account.extend([
        ("Name", "Edm.String", false),
        ("Description", "Edm.String", true),
        ("DoNotEMail", "Edm.Boolean", true),
        ("NumberOfEmployees", "Edm.Int32", true),
        ("Revenue", "Money", false),
        ("Revenue_Base", "Money", false),
        ("ExchangeRate", "Edm.Decimal", true),
        ("Address1_Latitude", "Edm.Double", true),
        ("IndustryCode", "OptionSetValue", false),
        ("AccountCategoryCode", "OptionSetValue", false),
        ("PrimaryContactId", "EntityReference", false),
        ("optevia_Country", "EntityReference", false),
        ("IsCustomizable", "BooleanManagedProperty", false),
        ("type", "Edm.String", true),
    ]);
    let mut contact = system("ContactId");
    contact.extend([
        ("LastName", "Edm.String", true),
        ("BirthDate", "Edm.DateTime", true),
        ("ParentCustomerId", "EntityReference", false),
    ]);
    edmx(
        &[
            ("Account", "AccountId", &account),
            ("Contact", "ContactId", &contact),
        ],
        &[(
            "account_primary_contact",
            "Account",
            "PrimaryContactId",
            "Contact",
        )],
    )
}

/// Doc comments joined into one line, so phrases can be found across line breaks.
fn flat(text: &str) -> String {
    text.replace("\n    /// ", " ")
        .replace("\n/// ", " ")
        .replace("\n//! ", " ")
}

fn file<'a>(files: &'a [GeneratedFile], name: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == std::path::Path::new(name))
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| panic!("no {name} among {files:?}"))
}

#[test]
fn scaffold_account_and_contact_snapshot() {
    let files = generate(&small(), &Options::sets(["AccountSet", "ContactSet"])).unwrap();
    let paths: Vec<_> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        ["contact.rs", "account.rs", "mod.rs"],
        "referenced first"
    );
    insta::assert_snapshot!("account", file(&files, "account.rs"));
    insta::assert_snapshot!("contact", file(&files, "contact.rs"));
    insta::assert_snapshot!("mod", file(&files, "mod.rs"));
}

#[test]
fn scaffold_lookups_follow_the_chosen_sets() {
    let files = generate(&small(), &Options::sets(["AccountSet"])).unwrap();
    let account = file(&files, "account.rs");
    assert!(
        account.contains("with = ::cdms_runtime::cdms::lookup::raw_id)]\n    pub primary_contact_id: Option<Uuid>"),
        "a lookup to a set not scaffolded keeps the raw id:\n{account}"
    );
    assert!(flat(account).contains("A lookup to `contact`, which is not scaffolded"));
    let given = Options::sets(["AccountSet", "ContactSet"]).lookup(
        "ContactSet",
        "ParentCustomerId",
        &["AccountSet"],
    );
    let files = generate(&small(), &given).unwrap();
    let contact = file(&files, "contact.rs");
    assert!(
        contact.contains("pub parent_customer_id: Option<Ref<super::account::Account>>"),
        "{contact}"
    );
    let paths: Vec<_> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        ["contact.rs", "account.rs", "mod.rs"],
        "a cycle keeps set order"
    );
    let two = Options::sets(["AccountSet", "ContactSet"]).lookup(
        "AccountSet",
        "PrimaryContactId",
        &["ContactSet", "AccountSet"],
    );
    let account = file(&generate(&small(), &two).unwrap(), "account.rs").to_owned();
    assert!(
        flat(&account).contains("A polymorphic lookup (contact or account)"),
        "{account}"
    );
}

#[test]
fn scaffold_only_and_exclude() {
    let options = Options::sets(["AccountSet", "ContactSet"])
        .only(["Name", "ContactSet.LastName", "Revenue", "IndustryCode"])
        .exclude(["AccountSet.Revenue"]);
    let files = generate(&small(), &options).unwrap();
    let account = file(&files, "account.rs");
    for kept in [
        "cdms_id",
        "modified_on",
        "created_on",
        "pub name: String",
        "industry_code",
    ] {
        assert!(account.contains(kept), "{kept} missing:\n{account}");
    }
    for gone in [
        "revenue",
        "description",
        "AccountCategoryCode",
        "version_number",
    ] {
        assert!(!account.contains(gone), "{gone} kept:\n{account}");
    }
    let contact = file(&files, "contact.rs");
    assert!(contact.contains("last_name") && !contact.contains("birth_date"));
}

#[test]
fn scaffold_full_width_synthetic_is_valid_rust() {
    // ~200 properties of every kind CRM publishes, with names that need care.
    let kinds = [
        "Edm.String",
        "Edm.Boolean",
        "Edm.Int32",
        "Edm.Int64",
        "Edm.Decimal",
        "Edm.Double",
        "Edm.DateTime",
        "Edm.Guid",
        "Money",
        "OptionSetValue",
        "EntityReference",
        "BooleanManagedProperty",
        "Edm.Binary",
    ];
    let names: Vec<String> = (0..200)
        .map(|i| match i % 7 {
            0 => format!("new_Field{i}"),
            1 => format!("Address{i}_Line1"),
            2 => format!("new_{i}UKThing"),
            3 => format!("NEW_Upper{i}"),
            4 => format!("new_field{i}_Base"),
            5 => format!("IsX{i}"),
            _ => format!("new_x{i}"),
        })
        .collect();
    let mut props = system("new_widgetId");
    for (i, name) in names.iter().enumerate() {
        props.push((name.as_str(), kinds[i % kinds.len()], !i.is_multiple_of(5)));
    }
    props.extend([("Id", "Edm.String", true), ("self", "Edm.String", true)]);
    let doc = edmx(&[("new_widget", "new_widgetId", &props)], &[]);
    let files = generate(&doc, &Options::sets(["new_widgetSet"])).unwrap();
    let widget = file(&files, "new_widget.rs");
    let parsed: syn::File = syn::parse_str(widget).expect("the module parses");
    let fields = parsed
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == "NewWidget" => Some(s.fields.len()),
            _ => None,
        })
        .expect("struct NewWidget");
    let unmapped = (0..200).filter(|i| i % kinds.len() >= 11).count();
    assert_eq!(
        fields,
        1 + 6 + 200 - unmapped + 2,
        "every mappable property is a field"
    );
    assert!(
        widget.contains("pub id_2: Option<String>") && widget.contains("pub self_: Option<String>")
    );
    assert!(flat(widget).contains("`BooleanManagedProperty` (a solution-managed flag"));
    assert!(flat(widget).contains("`Edm.Binary`: no field type holds it"));
    assert!(widget
        .contains("#[cdms(field = \"new_Field0\", null = default)]\n    pub new_field0: String,"));
}

#[test]
fn scaffold_reads_lookup_targets_from_referential_constraints() {
    let meta = edmx::parse(&small()).unwrap();
    assert_eq!(
        meta.targets
            .get(&("Account".to_owned(), "PrimaryContactId".to_owned())),
        Some(&vec!["Contact".to_owned()])
    );
    assert_eq!(entity_sets(&small()).unwrap(), ["AccountSet", "ContactSet"]);
}

#[test]
fn scaffold_errors_name_what_is_wrong() {
    let err = generate("<edmx:Edmx>\n<oops", &Options::sets(["AccountSet"])).unwrap_err();
    assert!(matches!(err, ScaffoldError::Xml { line: 1, .. }), "{err:?}");
    let err = generate("<a>\n<b></c></a>", &Options::sets(["AccountSet"])).unwrap_err();
    match &err {
        ScaffoldError::Xml { line, .. } => assert_eq!(*line, 2, "{err}"),
        other => panic!("{other:?}"),
    }
    let err = generate("<root/>", &Options::sets(["AccountSet"])).unwrap_err();
    assert!(
        matches!(&err, ScaffoldError::Edmx { element, .. } if element == "root"),
        "{err:?}"
    );

    let no_key = small().replace("<Key><PropertyRef Name=\"ContactId\" /></Key>", "");
    let err = generate(&no_key, &Options::sets(["AccountSet"])).unwrap_err();
    match &err {
        ScaffoldError::Edmx {
            element,
            line,
            reason,
        } => {
            assert_eq!(element, "EntityType");
            assert!(
                *line > 1 && reason.contains("Contact has no <Key>"),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    let bad_set = small().replace(
        "EntityType=\"Microsoft.Crm.Sdk.Data.Services.Contact\"",
        "EntityType=\"X.Nope\"",
    );
    let err = generate(&bad_set, &Options::sets(["AccountSet"])).unwrap_err();
    assert!(err.to_string().contains("names type X.Nope"), "{err}");

    let err = generate(&small(), &Options::sets(["Accountset"])).unwrap_err();
    assert_eq!(
        err,
        ScaffoldError::UnknownSet {
            set: "Accountset".into(),
            available: vec!["AccountSet".into(), "ContactSet".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "entity set \"Accountset\" is not in $metadata (it has AccountSet, ContactSet)"
    );
    let err = generate(&small(), &Options::sets(["AccountSet"]).only(["LastName"])).unwrap_err();
    assert!(
        matches!(&err, ScaffoldError::UnknownProperty { option: "only", property, .. } if property == "LastName"),
        "{err:?}"
    );
    let err = generate(
        &small(),
        &Options::sets(["AccountSet"]).exclude(["ContactSet.LastName"]),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            ScaffoldError::UnknownProperty {
                option: "exclude",
                ..
            }
        ),
        "{err:?}"
    );
    let err = generate(
        &small(),
        &Options::sets(["AccountSet"]).lookup("AccountSet", "Nope", &["ContactSet"]),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            ScaffoldError::UnknownProperty {
                option: "lookup",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        generate(&small(), &Options::default()),
        Err(ScaffoldError::NoSets)
    );

    let string_key = edmx(
        &[("Thing", "ThingId", &[("ThingId", "Edm.String", false)])],
        &[],
    );
    let err = generate(&string_key, &Options::sets(["ThingSet"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ThingSet: key property ThingId is Edm.String, not Edm.Guid"
    );
    let dtd = "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>";
    assert!(matches!(
        generate(dtd, &Options::sets(["XSet"])),
        Err(ScaffoldError::Xml { .. })
    ));
}

#[test]
fn scaffold_writes_files_and_keeps_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cdms");
    let files = generate(&small(), &Options::sets(["ContactSet"])).unwrap();
    write_files(&out, &files, false).unwrap();
    let written = std::fs::read_to_string(out.join("contact.rs")).unwrap();
    assert_eq!(written, file(&files, "contact.rs"));
    let err = write_files(&out, &files, false).unwrap_err();
    assert_eq!(
        err,
        ScaffoldError::Exists {
            path: out.join("contact.rs")
        }
    );
    write_files(&out, &files, true).unwrap();
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "").unwrap();
    let err = write_files(&blocked, &files, true).unwrap_err();
    assert!(matches!(err, ScaffoldError::Io { .. }), "{err:?}");
}
