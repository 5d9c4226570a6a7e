//! Attribute model, validation and expansion behind the cdms-sync derives.
use proc_macro2::TokenStream;

/// Expands `#[derive(Entity)]`.
pub fn derive_entity(_input: &syn::DeriveInput) -> TokenStream {
    TokenStream::new()
}
/// Expands `#[derive(CdmsSynced)]`.
pub fn derive_cdms_synced(_input: &syn::DeriveInput) -> TokenStream {
    TokenStream::new()
}
/// Expands `#[derive(OptionSet)]`.
pub fn derive_option_set(_input: &syn::DeriveInput) -> TokenStream {
    TokenStream::new()
}
