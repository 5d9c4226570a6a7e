//! Derive macros of cdms-sync. The logic lives in `cdms-codegen`; this crate only forwards.

extern crate proc_macro;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Maps a struct to a local table. See the crate README for the attribute reference.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_entity(&input).into()
}

/// Maps an entity to a CDMS entity set.
#[proc_macro_derive(CdmsSynced, attributes(cdms))]
pub fn derive_cdms_synced(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_cdms_synced(&input).into()
}

/// Makes an integer-coded enum (or `i32` newtype) usable as an entity field.
#[proc_macro_derive(OptionSet, attributes(option_set))]
pub fn derive_option_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_option_set(&input).into()
}
