//! `#[derive(CdmsSynced)]`: `impl Synced` with the entity's `CdmsMeta`, the codec functions
//! of fields with a `with = path` converter, and the record decoder ([`super::decode`]).

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Property, Synced};
use crate::paths;

/// The whole expansion of `#[derive(CdmsSynced)]`.
pub fn expand(synced: &Synced) -> TokenStream {
    let assertions = synced.properties.iter().filter_map(assert_synced);
    let codecs = synced.properties.iter().filter_map(codec_fns);
    let synced_impl = synced_impl(synced);
    let record_shape = super::decode::record_shape(synced);
    let body_encoder = super::encode::body_encoder(synced);
    super::in_const(quote! {
        #(#assertions)*
        #(#codecs)*
        #synced_impl
        #record_shape
        #body_encoder
    })
}

/// A lookup's target must be synced too (its GUID is what CDMS stores).
fn assert_synced(property: &Property) -> Option<TokenStream> {
    let target = property.reference?;
    let assert_synced = paths::assert_synced();
    Some(quote_spanned! {target.span()=>
        const _: () = #assert_synced::<#target>();
    })
}

/// The `Codec` functions wrapping a converter module's `from_cdms`/`to_cdms`. `from_cdms` is
/// named once (in the generic `__cdms_convert_<field>`), so a mistyped one is reported once.
fn codec_fns(property: &Property) -> Option<TokenStream> {
    let with = property.with.as_ref()?;
    let ty = property.ty;
    let json = paths::json_value();
    let value = paths::value();
    let codec_convert = paths::codec_convert();
    let codec_decode_text = paths::codec_decode_text();
    let codec_encode = paths::codec_encode();
    let convert_fn = paths::codec_convert_fn(property.ident);
    let decode_fn = paths::codec_decode_fn(property.ident);
    let decode_text_fn = paths::codec_decode_text_fn(property.ident);
    let encode_fn = paths::codec_encode_fn(property.ident);
    let deserializer = paths::deserializer();
    let json_param = paths::local("json");
    let text_param = paths::local("text");
    let value_param = paths::local("value");
    // Spanned at the converter path, so a missing or mistyped function is reported there.
    let from_cdms = quote_spanned!(with.span()=> #with::from_cdms);
    let to_cdms = quote_spanned!(with.span()=> #with::to_cdms);
    Some(quote! {
        fn #convert_fn<'__cdms_de, __CdmsJson: #deserializer<'__cdms_de>>(
            #json_param: __CdmsJson,
        ) -> ::core::result::Result<#value, ::std::string::String> {
            #codec_convert::<#ty, _, _, _>(#from_cdms, #json_param)
        }
        fn #decode_fn(#json_param: &#json) -> ::core::result::Result<#value, ::std::string::String> {
            #convert_fn(#json_param)
        }
        fn #decode_text_fn(#text_param: &str) -> ::core::result::Result<#value, ::std::string::String> {
            #codec_decode_text(#text_param, |#json_param| #convert_fn(#json_param))
        }
        fn #encode_fn(#value_param: #value) -> ::core::result::Result<#json, ::std::string::String> {
            #codec_encode::<#ty>(#to_cdms, #value_param)
        }
    })
}

/// `impl Synced for Struct`.
fn synced_impl(synced: &Synced) -> TokenStream {
    let ident = synced.entity.ident;
    let synced_trait = paths::synced_trait();
    let entity_trait = paths::entity_trait();
    let cdms_meta = paths::cdms_meta();
    let (service, set, logical_name) = (&synced.service, &synced.set, &synced.logical_name);
    let id = synced.properties.iter().find(|p| p.id);
    let id_field = Literal::usize_unsuffixed(id.map_or(0, |p| p.field));
    let id_property = id.map_or("", |p| p.name.as_str());
    let fields = synced.properties.iter().map(cdms_field);
    let decoder = super::decode::decoder();
    let encoder = super::encode::encoder();
    quote! {
        #[automatically_derived]
        impl #synced_trait for #ident {
            const CDMS: &'static #cdms_meta = &#cdms_meta {
                service: #service,
                set: #set,
                logical_name: #logical_name,
                entity: <#ident as #entity_trait>::META,
                id_field: #id_field,
                id_property: #id_property,
                fields: &[#(#fields),*],
                decoder: #decoder,
                encoder: #encoder,
            };
        }
    }
}

/// One `CdmsField` literal.
fn cdms_field(property: &Property) -> TokenStream {
    let cdms_field = paths::cdms_field();
    let cdms_kind = paths::cdms_kind();
    let codec = paths::codec();
    let ty = property.ty;
    let index = Literal::usize_unsuffixed(property.field);
    let name = &property.name;
    let (kind, codec) = match &property.with {
        Some(with) => {
            let decode_fn = paths::codec_decode_fn(property.ident);
            let decode_text_fn = paths::codec_decode_text_fn(property.ident);
            let encode_fn = paths::codec_encode_fn(property.ident);
            let version = property.version;
            (
                quote_spanned!(with.span()=> #with::KIND),
                quote!(::core::option::Option::Some(#codec { decode: #decode_fn, decode_text: #decode_text_fn, encode: #encode_fn, version: #version })),
            )
        }
        None => {
            let money = property.money;
            (
                quote!(#cdms_kind::infer::<#ty>(#money)),
                quote!(::core::option::Option::None),
            )
        }
    };
    let null_policy = paths::null_policy();
    let null = if property.null_default {
        quote!(#null_policy::Default)
    } else {
        quote!(#null_policy::Refuse)
    };
    let read_only = property.read_only;
    let relationship = match &property.relationship {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #cdms_field {
            field: #index,
            property: #name,
            kind: #kind,
            codec: #codec,
            null: #null,
            read_only: #read_only,
            relationship: #relationship,
        }
    }
}
