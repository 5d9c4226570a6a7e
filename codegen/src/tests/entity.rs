use syn::parse_quote;

use super::{assert_expansion, errors};
use crate::derive_entity;

#[test]
fn entity_minimal() {
    assert_expansion!(
        "entity_minimal",
        derive_entity,
        parse_quote! {
            pub struct Note {
                #[entity(primary_key)]
                pub id: i64,
                pub text: String,
            }
        }
    );
}

#[test]
fn entity_with_refs_option_sets_money_and_converter() {
    assert_expansion!(
        "entity_full",
        derive_entity,
        parse_quote! {
            /// A company.
            #[entity(table = "organisation")]
            #[cdms(service = "Account")]
            pub(crate) struct Organisation {
                #[entity(primary_key, column = "organisation_id")]
                id: i64,
                #[cdms(field = "AccountId", id)]
                cdms_id: Option<Uuid>,
                #[entity(modified)]
                modified_on: DateTime<Utc>,
                #[entity(created)]
                created_on: Option<DateTime<Utc>>,
                /// The registered name.
                #[entity(unique)]
                #[cdms(field = "Name")]
                name: String,
                #[cdms(field = "Revenue", money)]
                revenue: Option<Decimal>,
                #[cdms(field = "IndustryCode")]
                industry: Option<IndustryCode>,
                #[entity(index, renamed_from = "post_code")]
                #[cdms(field = "Address1_PostalCode", with = crate::convert::postcode, version = 2)]
                postcode: Option<String>,
                #[cdms(field = "optevia_Country")]
                country: Option<Ref<Country>>,
                #[cdms(field = "optevia_Sector")]
                sector: Ref<Sector>,
                #[cdms(skip)]
                r#type: Option<String>,
                #[entity(default = -1)]
                #[cdms(skip)]
                rank: i32,
            }
        }
    );
}

#[test]
fn every_mistake_is_reported() {
    let input = parse_quote! {
        #[entity(table = "my table", tables = "x")]
        struct Broken {
            #[entity(primary_key)]
            id: i32,
            #[entity(modified, modified)]
            changed: Option<DateTime<Utc>>,
            #[entity(primary_key = true)]
            other: i64,
        }
    };
    assert_eq!(
        errors(derive_entity, &input),
        [
            "unknown key `tables` in #[entity(...)] on the struct; expected one of `table`",
            "duplicate `modified` in #[entity(...)]",
            "`primary_key` takes no value; write #[entity(primary_key)]",
            "a table name is letters, digits and `_`, not starting with a digit",
            "the primary key is an `i64` (0 = not yet saved, the database assigns it)",
            "the `modified` field is a `DateTime<Utc>`",
            "a second #[entity(primary_key)] field; `id` already is one, an entity has at most one",
        ]
    );
}

#[test]
fn shapes_that_are_not_entities() {
    let cases: [(syn::DeriveInput, &str); 5] = [
        (
            parse_quote!(
                enum E {
                    A,
                }
            ),
            "applies to structs with named fields, not enums",
        ),
        (
            parse_quote!(
                struct T(i64);
            ),
            "needs named fields",
        ),
        (
            parse_quote!(
                struct U;
            ),
            "needs a struct with named fields",
        ),
        (parse_quote!(union X { a: i64 }), "not unions"),
        (
            parse_quote!(
                struct G<T> {
                    #[entity(primary_key)]
                    id: i64,
                    t: T,
                }
            ),
            "does not support generic parameters",
        ),
    ];
    for (input, message) in cases {
        let errors = errors(derive_entity, &input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains(message),
            "{errors:?} should mention {message:?}"
        );
    }
}

#[test]
fn entity_ignores_cdms_attributes_but_notices_them() {
    let plain: syn::DeriveInput = parse_quote! {
        struct A { #[entity(primary_key)] id: i64 }
    };
    let synced: syn::DeriveInput = parse_quote! {
        #[cdms(this is not parsed by Entity)]
        struct A { #[entity(primary_key)] id: i64 }
    };
    let plain = super::pretty(derive_entity, &plain);
    let synced = super::pretty(derive_entity, &synced);
    assert!(plain.contains("remote: ::core::option::Option::None"));
    assert!(synced.contains("remote: ::core::option::Option::Some("));
    assert!(
        !plain.contains("Synced"),
        "a local entity never names CDMS items"
    );
}

#[test]
fn errors_come_with_an_inert_impl() {
    assert_expansion!(
        "entity_errors_and_fallback",
        derive_entity,
        parse_quote! {
            pub struct Note {
                #[entity(primary)]
                pub id: i64,
                pub text: String,
            }
        }
    );
}
