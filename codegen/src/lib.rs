//! Attribute model, validation and expansion behind the cdms-sync derives.
//!
//! A plain library (`&syn::DeriveInput` in, `proc_macro2::TokenStream` out) so expansions can be
//! tested in-process; `cdms-macros` only forwards to it. Each derive runs three phases:
//! [`model`] builds the intermediate representation from the syntax tree and attributes
//! ([`attr`]), [`validate`] checks the cross-field rules, and [`expand`] generates code from the
//! validated model. Errors of the first two phases are collected in a [`ctxt::Ctxt`] and all
//! reported, each at the token to edit; nothing here panics on user input.
//!
//! The split between the two derives follows the retirement line: `#[derive(Entity)]` generates
//! only local code (`cdms_runtime::__private` items outside the runtime's `cdms` feature), while
//! everything about CDMS comes from `#[derive(CdmsSynced)]`. Removing the `#[cdms(...)]`
//! attributes and `CdmsSynced` from a struct leaves a compiling, local-only entity.

pub mod attr;
pub mod ctxt;
pub mod expand;
pub mod model;
pub mod paths;
pub mod read_only;
pub mod ty;
pub mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::model::{Entity, OptionSet, Synced};

/// Expands `#[derive(Entity)]`.
pub fn derive_entity(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = Entity::from_ast(&cx, input, "Entity");
    if let Some(model) = &model {
        validate::entity(&cx, model);
    }
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::entity::expand(&model),
        (Ok(()), None) => TokenStream::new(),
        (Err(errors), model) => with_fallback(errors, model.as_ref().map(expand::fallback::entity)),
    }
}

/// Expands `#[derive(CdmsSynced)]`.
pub fn derive_cdms_synced(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = Synced::from_ast(&cx, input);
    if let Some(model) = &model {
        validate::synced(&cx, model);
    }
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::cdms::expand(&model),
        (Ok(()), None) => TokenStream::new(),
        (Err(errors), model) => with_fallback(errors, model.as_ref().map(expand::fallback::synced)),
    }
}

/// Expands `#[derive(OptionSet)]`.
pub fn derive_option_set(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = OptionSet::from_ast(&cx, input);
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::option_set::expand(&model),
        (Ok(()), None) => TokenStream::new(),
        (Err(errors), _) => with_fallback(errors, Some(expand::fallback::option_set(input))),
    }
}

/// The errors, followed by inert impls (when the item's shape allows them) that keep code using
/// the type from reporting consequential errors.
fn with_fallback(errors: syn::Error, fallback: Option<TokenStream>) -> TokenStream {
    let mut out = errors.into_compile_error();
    out.extend(fallback);
    out
}
