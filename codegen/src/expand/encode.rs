//! The body encoder of `#[derive(CdmsSynced)]`: a `match` on the local field index with one arm
//! per property CDMS takes, each calling the runtime helper of its CRM shape
//! (`::cdms_runtime::cdms::encode`). Fields CDMS never takes have no arm.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Property, Role, Synced};
use crate::paths;

/// The properties CDMS stamps itself, never written (as in the runtime's reference encoder).
const SERVER_MANAGED: [&str; 3] = ["ModifiedOn", "CreatedOn", "VersionNumber"];

/// The name of the generated encoder function (inside the derive's anonymous constant).
pub fn encoder_fn() -> Ident {
    format_ident!("__cdms_encode_body")
}

/// The `encoder` member of the entity's `CdmsMeta`.
pub fn encoder() -> TokenStream {
    let f = encoder_fn();
    quote!(::core::option::Option::Some(#f))
}

/// Whether CDMS never takes `property` in a write body.
fn never_written(synced: &Synced, property: &Property) -> bool {
    let role = synced.entity.fields.get(property.field).map(|f| f.role);
    property.read_only
        || matches!(role, Some(Role::Modified | Role::Created))
        || SERVER_MANAGED.contains(&property.name.as_str())
}

/// `fn __cdms_encode_body(values, mode) -> Result<Map, CdmsError>`.
pub fn body_encoder(synced: &Synced) -> TokenStream {
    let ident = synced.entity.ident;
    let synced_trait = paths::synced_trait();
    let cdms_meta = paths::cdms_meta();
    let cdms_field = paths::cdms_field();
    let value = paths::value();
    let json = paths::json_value();
    let write_mode = paths::enc("WriteMode");
    let map = paths::enc("Map");
    let error = paths::enc("CdmsError");
    let property_fn = paths::enc("property");
    let id_fn = paths::enc("id");
    let lookup_fn = paths::enc("lookup");
    let values = paths::local("values");
    let mode = paths::local("mode");
    let body = paths::local("body");
    let field = paths::local("field");
    let v = paths::local("value");

    let id = synced.properties.iter().find(|p| p.id);
    let id_field = id.map_or(0, |p| p.field);
    let id_property = id.map_or("", |p| p.name.as_str());
    let mut seen = Vec::new();
    let arms = synced.properties.iter().enumerate().filter_map(|(i, p)| {
        // The first mapping of a field is the one the reference encoder uses.
        if seen.contains(&p.field) {
            return None;
        }
        seen.push(p.field);
        if never_written(synced, p) {
            return None;
        }
        let index = Literal::usize_unsuffixed(i);
        let field_index = Literal::usize_unsuffixed(p.field);
        let comment = format!("{} → {}", p.ident, p.name);
        let call = if p.field == id_field || p.name == id_property {
            quote!(#id_fn(&mut #body, CDMS, F, #v, #mode)?)
        } else {
            match (p.reference, &p.with) {
                (Some(target), None) => {
                    quote!(#lookup_fn(&mut #body, CDMS, F, <#target as #synced_trait>::CDMS.logical_name, #v)?)
                }
                _ => quote!(#property_fn(&mut #body, CDMS, F, #v)?),
            }
        };
        Some(quote! {
            #field_index => {
                #[doc = #comment]
                const F: &#cdms_field = &CDMS.fields[#index];
                #call;
            }
        })
    });
    let f = encoder_fn();
    quote! {
        fn #f(
            #values: &[(usize, #value)],
            #mode: #write_mode,
        ) -> ::core::result::Result<#map<::std::string::String, #json>, #error> {
            const CDMS: &#cdms_meta = <#ident as #synced_trait>::CDMS;
            let mut #body = #map::new();
            for (#field, #v) in #values {
                #[allow(unreachable_patterns)]
                match *#field {
                    #(#arms)*
                    _ => {}
                }
            }
            let _ = #mode;
            ::core::result::Result::Ok(#body)
        }
    }
}
