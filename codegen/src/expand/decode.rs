//! The record decoder of `#[derive(CdmsSynced)]`: a `RecordShape` whose `slot` matches CDMS
//! property names at compile time (a switch on length and bytes, [`super::names`]) and whose `value` streams each property's JSON through the
//! seed of its CRM type into the record, without a JSON tree.

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
    let partial = paths::de("Partial");
    let property = paths::de("Property");
    let map_access = paths::de("MapAccess");
    let ignored = paths::de("IgnoredAny");
    let unmapped = paths::de("UNMAPPED");
    let synced_trait = paths::synced_trait();
    let cdms_meta = paths::cdms_meta();
    let name = paths::local("name");
    let slot = paths::local("slot");
    let map = paths::local("map");
    let record = paths::local("record");
    let names: Vec<(&str, usize)> = synced
        .properties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let bytes = paths::local("bytes");
    let matcher = Node::of(&names).tokens(&quote!(#name), &quote!(#bytes), &unmapped);
    let values = synced.properties.iter().enumerate().map(|(i, p)| {
        let i = Literal::usize_unsuffixed(i);
        let field = Literal::usize_unsuffixed(p.field);
        let comment = format!("{} ← {}", p.ident, p.name);
        quote! {
            #i => {
                #[doc = #comment]
                const SEED: #property = #property::new(
                    &<#ident as #synced_trait>::CDMS.fields[#i],
                    <#ident as #synced_trait>::CDMS.entity.fields[#field].kind,
                );
                #record.put(#i, #map.next_value_seed(SEED)?);
            }
        }
    });
    quote! {
        #[doc(hidden)]
        struct #shape;

        #[automatically_derived]
        impl #record_shape for #shape {
            const CDMS: &'static #cdms_meta = <#ident as #synced_trait>::CDMS;

            #[inline]
            fn slot(#name: &str) -> usize {
                let #bytes = #name.as_bytes();
                #matcher
            }

            #[inline]
            fn value<'__cdms_de, __CdmsMap: #map_access<'__cdms_de>>(
                #slot: usize,
                #map: &mut __CdmsMap,
                #record: &mut #partial,
            ) -> ::core::result::Result<(), __CdmsMap::Error> {
                match #slot {
                    #(#values)*
                    _ => {
                        #map.next_value::<#ignored>()?;
                    }
                }
                ::core::result::Result::Ok(())
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
