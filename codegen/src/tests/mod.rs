//! Expansion snapshots: each derive runs in-process, its output is parsed as a file and printed
//! with prettyplease; the input is kept in the snapshot's description.

use proc_macro2::TokenStream;
use syn::DeriveInput;

mod entity;
mod option_set;
mod synced;

/// Expands `input` with `derive` and pretty-prints the result.
fn pretty(derive: fn(&DeriveInput) -> TokenStream, input: &DeriveInput) -> String {
    let tokens = derive(input);
    let file: syn::File = match syn::parse2(tokens.clone()) {
        Ok(file) => file,
        Err(e) => panic!("the expansion does not parse ({e}):\n{tokens}"),
    };
    prettyplease::unparse(&file)
}

/// The input, pretty-printed for the snapshot description.
fn describe(input: &DeriveInput) -> String {
    let file: syn::File = syn::parse_quote!(#input);
    prettyplease::unparse(&file)
}

/// Asserts the snapshot `name` of `derive` applied to `input`.
macro_rules! assert_expansion {
    ($name:literal, $derive:path, $input:expr) => {{
        let input: syn::DeriveInput = $input;
        let output = $crate::tests::pretty($derive, &input);
        insta::with_settings!({
            description => $crate::tests::describe(&input),
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, output);
        });
    }};
}
use assert_expansion;

/// The error messages of `derive` applied to `input`, in order (empty when it expands).
fn errors(derive: fn(&DeriveInput) -> TokenStream, input: &DeriveInput) -> Vec<String> {
    let file: syn::File = match syn::parse2(derive(input)) {
        Ok(file) => file,
        Err(e) => panic!("the expansion does not parse: {e}"),
    };
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "compile_error") =>
            {
                let lit: syn::LitStr = m.mac.parse_body().ok()?;
                Some(lit.value())
            }
            _ => None,
        })
        .collect()
}
