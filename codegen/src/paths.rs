//! The only place that spells runtime paths and generated identifiers.
//!
//! Generated code reaches the runtime through `::cdms_runtime::__private`, an absolute path, so a
//! local module or type named like a runtime item cannot shadow it. The CDMS items exist only
//! with the runtime's `cdms` feature; only `#[derive(CdmsSynced)]` (and `#[derive(Entity)]` on a
//! struct that also carries `#[cdms(...)]`) refer to them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

macro_rules! runtime_paths {
    ($($(#[$doc:meta])* $name:ident => $($segment:ident)::+;)*) => {
        $(
            $(#[$doc])*
            pub fn $name() -> TokenStream {
                quote!(::cdms_runtime::__private::$($segment)::+)
            }
        )*
    };
}

runtime_paths! {
    /// The `Entity` trait.
    entity_trait => Entity;
    /// `EntityMeta`.
    entity_meta => EntityMeta;
    /// `FieldMeta`.
    field_meta => FieldMeta;
    /// `EntitySql`.
    entity_sql => EntitySql;
    /// `FixedSql`.
    fixed_sql => FixedSql;
    /// `ColumnDefault`.
    column_default => ColumnDefault;
    /// The `DefaultLiteral` trait (the literal type of a field's column default).
    default_literal => DefaultLiteral;
    /// The `Role` enum.
    role => Role;
    /// The `FieldType` trait.
    field_type => FieldType;
    /// The `OptionSet` trait.
    option_set_trait => OptionSet;
    /// The typed field handle `Field<E, T>`.
    field_handle => Field;
    /// `Row`.
    row => Row;
    /// The runtime's `Error`.
    error => Error;
    /// `decode_with(meta, index, value, <T as FieldType>::from_value)`.
    decode_with => decode_with;
    /// `references::<T>()`.
    references => references;
    /// `is_option_set::<T>()`.
    is_option_set => is_option_set;
    /// `assert_entity::<T>()`.
    assert_entity => assert_entity;
    /// The local database handle.
    db => Db;
    /// `QuerySet<E>`.
    query_set => QuerySet;
    /// `Kind`.
    kind => Kind;
    /// `Shape`.
    shape => Shape;
    /// `Value`.
    value => Value;
    /// `ValueError`.
    value_error => ValueError;
    /// The `Synced` trait.
    synced_trait => Synced;
    /// `CdmsMeta`.
    cdms_meta => CdmsMeta;
    /// `CdmsField`.
    cdms_field => CdmsField;
    /// `CdmsKind`.
    cdms_kind => CdmsKind;
    /// `NullPolicy`.
    null_policy => NullPolicy;
    /// `Codec`.
    codec => Codec;
    /// `codec_convert::<T, _, _, _>(from_cdms, json)`.
    codec_convert => codec_convert;
    /// `codec_decode_text(text, convert)`.
    codec_decode_text => codec_decode_text;
    /// `codec_encode::<T>(to_cdms, value)`.
    codec_encode => codec_encode;
    /// `assert_synced::<T>()`.
    assert_synced => assert_synced;
    /// `serde_json::Value`.
    json_value => serde_json::Value;
    /// `serde::Deserializer`.
    deserializer => serde::Deserializer;
}

/// An item of the generated record decoders' runtime: `::cdms_runtime::__private::de::<name>`.
pub fn de(name: &str) -> TokenStream {
    let name = format_ident!("{}", name);
    quote!(::cdms_runtime::__private::de::#name)
}

/// An item of the generated fixed SQL's runtime: `::cdms_runtime::__private::sql::<name>`.
pub fn sql(name: &str) -> TokenStream {
    let name = format_ident!("{}", name);
    quote!(::cdms_runtime::__private::sql::#name)
}

/// An item of the generated body encoders' runtime: `::cdms_runtime::__private::enc::<name>`.
pub fn enc(name: &str) -> TokenStream {
    let name = format_ident!("{}", name);
    quote!(::cdms_runtime::__private::enc::#name)
}

/// The generated record decoder type (inside the derive's anonymous constant).
pub fn record_shape_type() -> Ident {
    format_ident!("__CdmsRecord")
}

/// `<Struct>Fields`, the generated field-handle struct (spanned at the struct name).
pub fn fields_struct(entity: &Ident) -> Ident {
    format_ident!("{}Fields", entity)
}

/// A generated local: `__cdms_<name>`.
pub fn local(name: &str) -> Ident {
    format_ident!("__cdms_{}", name)
}

/// The generated `Codec::decode` function of a field: `__cdms_decode_<field>`.
pub fn codec_decode_fn(field: &Ident) -> Ident {
    format_ident!("__cdms_decode_{}", unraw(field))
}

/// The generated converter call of a field (generic over the JSON deserializer):
/// `__cdms_convert_<field>`.
pub fn codec_convert_fn(field: &Ident) -> Ident {
    format_ident!("__cdms_convert_{}", unraw(field))
}

/// The generated `Codec::decode_text` function of a field: `__cdms_decode_text_<field>`.
pub fn codec_decode_text_fn(field: &Ident) -> Ident {
    format_ident!("__cdms_decode_text_{}", unraw(field))
}

/// The generated `Codec::encode` function of a field: `__cdms_encode_<field>`.
pub fn codec_encode_fn(field: &Ident) -> Ident {
    format_ident!("__cdms_encode_{}", unraw(field))
}

fn unraw(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute() {
        assert_eq!(
            entity_trait().to_string(),
            ":: cdms_runtime :: __private :: Entity"
        );
        assert_eq!(
            json_value().to_string(),
            ":: cdms_runtime :: __private :: serde_json :: Value"
        );
    }

    #[test]
    fn generated_names() {
        let org: Ident = syn::parse_quote!(Organisation);
        assert_eq!(fields_struct(&org).to_string(), "OrganisationFields");
        let field: Ident = syn::parse_quote!(r#type);
        assert_eq!(codec_decode_fn(&field).to_string(), "__cdms_decode_type");
        assert_eq!(codec_encode_fn(&field).to_string(), "__cdms_encode_type");
        assert_eq!(local("row").to_string(), "__cdms_row");
    }
}
