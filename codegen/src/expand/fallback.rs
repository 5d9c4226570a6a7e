//! What a derive emits next to its errors, so that code using the type does not drown them in
//! consequential ones ("`Organisation` is not synced with CDMS", "no function `fields`").
//!
//! These impls only ever exist beside a `compile_error!`, which stops the build before code
//! generation, so their functions never run; their bodies are `unreachable!()` for that reason.
//! Their constants are inert but valid values (no fields, empty names) rather than panics,
//! because the compiler evaluates a constant that user code names even when the build fails,
//! and a panic there would be one more error. They are emitted only when the item's shape allows
//! an impl at all (a non-generic struct or enum).

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Entity, Synced};
use crate::paths;

/// The field-handle struct, the inherent functions and an inert `impl Entity`.
pub fn entity(entity: &Entity) -> TokenStream {
    if !entity.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = entity.ident;
    let entity_trait = paths::entity_trait();
    let entity_meta = paths::entity_meta();
    let row = paths::row();
    let error = paths::error();
    let fields_struct = paths::fields_struct(ident);
    let name = ident.to_string();
    let handles = super::entity::fields_struct(entity);
    let inherent = super::entity::inherent_impl(entity);
    let body = quote! {
        #[automatically_derived]
        impl #entity_trait for #ident {
            const META: &'static #entity_meta = &#entity_meta {
                name: #name,
                table: "",
                fields: &[],
                pk: 0,
                modified: ::core::option::Option::None,
                created: ::core::option::Option::None,
                remote: ::core::option::Option::None,
                sql: ::core::option::Option::None,
            };
            const TABLE: &'static str = "";
            const PK_COLUMN: &'static str = "";
            type Fields = #fields_struct;
            fn fields() -> #fields_struct {
                #ident::fields()
            }
            fn to_row(&self) -> #row {
                ::core::unreachable!()
            }
            fn from_row(_: #row) -> ::core::result::Result<Self, #error> {
                ::core::unreachable!()
            }
            fn pk(&self) -> i64 {
                ::core::unreachable!()
            }
            fn set_pk(&mut self, _: i64) {
                ::core::unreachable!()
            }
        }
        #inherent
    };
    let wrapped = super::in_const(body);
    quote! {
        #handles
        #wrapped
    }
}

/// An inert `impl Synced`.
pub fn synced(synced: &Synced) -> TokenStream {
    if !synced.entity.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = synced.entity.ident;
    let synced_trait = paths::synced_trait();
    let entity_trait = paths::entity_trait();
    let cdms_meta = paths::cdms_meta();
    super::in_const(quote! {
        #[automatically_derived]
        impl #synced_trait for #ident {
            const CDMS: &'static #cdms_meta = &#cdms_meta {
                service: "",
                set: "",
                logical_name: "",
                entity: <#ident as #entity_trait>::META,
                id_field: 0,
                id_property: "",
                fields: &[],
                decoder: ::core::option::Option::None,
                encoder: ::core::option::Option::None,
            };
        }
    })
}

/// An inert `impl FieldType` and `impl OptionSet`.
pub fn option_set(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let field_type = paths::field_type();
    let option_set = paths::option_set_trait();
    let kind = paths::kind();
    let shape = paths::shape();
    let value = paths::value();
    let value_error = paths::value_error();
    super::in_const(quote! {
        #[automatically_derived]
        impl #field_type for #ident {
            const KIND: #kind = #kind::Int32;
            const SHAPE: #shape = #shape::OptionSet;
            type Scalar = #ident;
            fn to_value(&self) -> #value {
                ::core::unreachable!()
            }
            fn from_value(_: #value) -> ::core::result::Result<Self, #value_error> {
                ::core::unreachable!()
            }
        }
        #[automatically_derived]
        impl #option_set for #ident {
            const CODES: &'static [(i32, &'static str)] = &[];
        }
    })
}
