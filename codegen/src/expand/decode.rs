//! The record decoder of `#[derive(CdmsSynced)]`: a `RecordShape` whose `slot` matches CDMS
//! property names at compile time (a switch on length and bytes, [`super::names`]) and whose
//! `SEEDS` hold, per slot, the seed of the property's CRM type, which streams its JSON into the
//! record without a JSON tree.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::names::Node;
use crate::model::Synced;
use crate::paths;

/// `impl RecordShape for __CdmsRecord` (the type is declared here too).
pub fn record_shape(synced: &Synced) -> TokenStream {
    let ident = synced.entity.ident;
    let shape = paths::record_shape_type();
    let record_shape = paths::de("RecordShape");
    let property = paths::de("Property");
    let unmapped = paths::de("UNMAPPED");
    let synced_trait = paths::synced_trait();
    let cdms_meta = paths::cdms_meta();
    let name = paths::local("name");
    let names: Vec<(&str, usize)> = synced
        .properties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let bytes = paths::local("bytes");
    let matcher = Node::of(&names).tokens(&quote!(#name), &quote!(#bytes), &unmapped);
    let seeds = (0..synced.properties.len()).map(Literal::usize_unsuffixed);
    // One line per slot in `cargo expand`: `/// 3: name ← Name`.
    let seeds_doc = synced
        .properties
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" {i}: {} ← {}", p.ident, p.name));
    quote! {
        #[doc(hidden)]
        struct #shape;

        #[automatically_derived]
        impl #record_shape for #shape {
            const CDMS: &'static #cdms_meta = <#ident as #synced_trait>::CDMS;

            #(#[doc = #seeds_doc])*
            const SEEDS: &'static [#property] = &[#(#property::of(Self::CDMS, #seeds)),*];

            #[inline]
            fn slot(#name: &str) -> usize {
                let #bytes = #name.as_bytes();
                #matcher
            }
        }
    }
}

/// The `decoder` member of the entity's `CdmsMeta`.
pub fn decoder() -> TokenStream {
    let shape = paths::record_shape_type();
    let decode_record = paths::de("decode_record");
    quote!(::core::option::Option::Some(#decode_record::<#shape>))
}
