//! Code generation from the validated models: one file per derive.
//!
//! Expansion reads only the models (never the attributes again) and cannot fail. Trait impls
//! and helpers go inside `const _: () = { ... };` so they add no names to the user's module; the
//! only named item emitted at module level is the field-handle struct `<Struct>Fields`.

pub mod cdms;
pub mod decode;
pub mod encode;
pub mod entity;
pub mod fallback;
pub mod names;
pub mod option_set;
pub mod sql;

use proc_macro2::TokenStream;
use quote::quote;

/// Wraps `body` in an anonymous constant.
fn in_const(body: TokenStream) -> TokenStream {
    quote! {
        #[doc(hidden)]
        const _: () = {
            #body
        };
    }
}
