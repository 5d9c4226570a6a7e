//! The error accumulator shared by the parse and validate phases.
//!
//! Every phase records problems here and keeps going, so one compile reports every mistake in a
//! struct, each at the token to edit. [`Ctxt::finish`] turns the collection into one
//! [`syn::Error`] (which renders as one `compile_error!` per message).

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Collects errors during parsing and validation.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    /// A new, empty accumulator.
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// Records `msg` spanning the tokens of `at` (first to last token).
    pub fn error_at(&self, at: impl ToTokens, msg: impl Display) {
        self.push(syn::Error::new_spanned(at.into_token_stream(), msg));
    }

    /// Records `msg` at `span`.
    pub fn error_span(&self, span: Span, msg: impl Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// Records a parse error as it is.
    pub fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// How many errors have been recorded so far.
    pub fn error_count(&self) -> usize {
        self.errors.borrow().len()
    }

    /// `Ok` when nothing was recorded, otherwise every error combined in recording order.
    pub fn finish(self) -> syn::Result<()> {
        let combined = self.errors.into_inner().into_iter().reduce(|mut all, e| {
            all.combine(e);
            all
        });
        combined.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_context_finishes_ok() {
        assert!(Ctxt::new().finish().is_ok());
    }

    #[test]
    fn all_errors_are_kept_in_order() {
        let cx = Ctxt::new();
        cx.error_span(Span::call_site(), "first");
        cx.error_at(quote::quote!(a b), "second");
        assert_eq!(cx.error_count(), 2);
        let messages: Vec<String> = cx
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
