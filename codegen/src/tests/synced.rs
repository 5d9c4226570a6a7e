use syn::parse_quote;

use super::{assert_expansion, errors};
use crate::derive_cdms_synced;

#[test]
fn cdms_synced() {
    assert_expansion!(
        "cdms_synced",
        derive_cdms_synced,
        parse_quote! {
            #[entity(table = "organisation")]
            #[cdms(service = "Account")]
            pub struct Organisation {
                #[entity(primary_key)]
                id: i64,
                #[cdms(field = "AccountId", id)]
                cdms_id: Option<Uuid>,
                #[entity(modified)]
                modified_on: DateTime<Utc>,
                #[entity(created)]
                created_on: Option<DateTime<Utc>>,
                #[cdms(field = "Name", null = default)]
                name: String,
                #[cdms(field = "Revenue", money)]
                revenue: Option<Decimal>,
                #[cdms(field = "IndustryCode")]
                industry: Option<IndustryCode>,
                #[cdms(field = "Address1_PostalCode", with = crate::convert::postcode)]
                postcode: Option<String>,
                #[cdms(field = "optevia_Country")]
                country: Option<Ref<Country>>,
                #[cdms(skip)]
                notes: Option<String>,
            }
        }
    );
}

#[test]
fn cdms_synced_defaults() {
    assert_expansion!(
        "cdms_synced_defaults",
        derive_cdms_synced,
        parse_quote! {
            #[cdms(service = "optevia_country", logical_name = "optevia_country")]
            struct Country {
                #[entity(primary_key)]
                id: i64,
                #[cdms(id)]
                cdms_id: Option<Uuid>,
                #[entity(modified)]
                modified_on: DateTime<Utc>,
                #[entity(created)]
                #[cdms(field = "OverriddenCreatedOn")]
                created_on: DateTime<Utc>,
            }
        }
    );
}

#[test]
fn entity_attribute_mistakes_are_left_to_entity() {
    let input = parse_quote! {
        #[cdms(service = "Account")]
        #[entity(tabel = "x")]
        struct A {
            #[entity(primary_key, bogus)]
            id: i64,
            #[cdms(id)]
            cdms_id: Option<Uuid>,
            #[entity(modified)]
            modified_on: DateTime<Utc>,
        }
    };
    assert_eq!(errors(derive_cdms_synced, &input), Vec::<String>::new());
}

#[test]
fn synced_mistakes() {
    let input = parse_quote! {
        #[cdms(service = "Account Set", colour = "blue")]
        struct A {
            #[entity(primary_key)]
            id: i64,
            #[cdms(id)]
            cdms_id: Option<Uuid>,
            #[cdms(field = "ContactId", id)]
            other_id: Option<Uuid>,
            #[entity(modified)]
            #[cdms(skip)]
            modified_on: DateTime<Utc>,
            #[cdms(field = "Revenue", money, with = conv)]
            revenue: Option<Decimal>,
            #[cdms(field = "1st")]
            first: String,
            #[cdms()]
            empty: String,
        }
    };
    assert_eq!(
        errors(derive_cdms_synced, &input),
        [
            "unknown key `colour` in #[cdms(...)] on the struct; expected one of `service`, `logical_name`",
            "a CDMS service name is letters, digits and `_`, e.g. \"Account\" or \"optevia_country\"",
            "the `modified` and `created` fields mirror CDMS's ModifiedOn and CreatedOn; they cannot be skipped",
            "`money` conflicts with `with`: the converter's KIND decides the CDMS type",
            "field `empty` is not mapped to CDMS; add #[cdms(field = \"PropertyName\")], or #[cdms(skip)] to keep it local",
            "a second #[cdms(id)] field; an entity has one CDMS id",
            "a CDMS property name is letters, digits and `_` (case-sensitive: `Name`, `optevia_Country`)",
        ]
    );
}

#[test]
fn synced_errors_come_with_an_inert_impl() {
    let input: syn::DeriveInput = parse_quote! {
        struct A {
            #[entity(primary_key)]
            id: i64,
        }
    };
    let output = super::pretty(derive_cdms_synced, &input);
    assert!(
        output.contains("impl ::cdms_runtime::__private::Synced for A"),
        "{output}"
    );
    assert!(
        output.contains("service: \"\","),
        "an inert constant, not a panic: {output}"
    );
    let generic: syn::DeriveInput = parse_quote! {
        struct G<T> { #[entity(primary_key)] id: i64, t: T }
    };
    let output = super::pretty(derive_cdms_synced, &generic);
    assert!(
        !output.contains("impl"),
        "no impl can be written for a generic struct: {output}"
    );
}
