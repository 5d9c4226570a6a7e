//! `#[derive(OptionSet)]`: `impl FieldType` (kind `Int32`, shape `OptionSet`), `impl OptionSet`
//! and the conversions to (and, for newtypes, from) `i32`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::Ident;

use crate::model::{Code, OptionSet};
use crate::paths;

/// The whole expansion of `#[derive(OptionSet)]`.
pub fn expand(option_set: &OptionSet) -> TokenStream {
    let body = match option_set {
        OptionSet::Enum {
            ident,
            codes,
            other,
        } => expand_enum(ident, codes, *other),
        OptionSet::Newtype { ident } => expand_newtype(ident),
    };
    super::in_const(body)
}

/// `impl FieldType` around the given `to_value`/`from_value` bodies, plus `impl OptionSet`.
fn traits(
    ident: &Ident,
    to_value: TokenStream,
    from_value: TokenStream,
    codes: TokenStream,
) -> TokenStream {
    let field_type = paths::field_type();
    let option_set = paths::option_set_trait();
    let kind = paths::kind();
    let shape = paths::shape();
    let value = paths::value();
    let value_error = paths::value_error();
    let value_param = paths::local("value");
    quote! {
        #[automatically_derived]
        impl #field_type for #ident {
            const KIND: #kind = #kind::Int32;
            const SHAPE: #shape = #shape::OptionSet;
            type Scalar = #ident;
            fn to_value(&self) -> #value {
                #to_value
            }
            fn from_value(#value_param: #value) -> ::core::result::Result<Self, #value_error> {
                #from_value
            }
        }
        #[automatically_derived]
        impl #option_set for #ident {
            const CODES: &'static [(i32, &'static str)] = &[#codes];
        }
    }
}

fn expand_enum(ident: &Ident, codes: &[Code], other: Option<&Ident>) -> TokenStream {
    let value = paths::value();
    let value_error = paths::value_error();
    let value_param = paths::local("value");
    let code_local = paths::local("code");
    // With a fallback every i32 decodes, so only the range is worth naming; without one the
    // message lists the known codes.
    let expected = if other.is_some() {
        format!("a code of `{ident}` (an i32)")
    } else {
        let listed = codes
            .iter()
            .map(|c| format!("{} = {}", c.code, c.ident))
            .collect::<Vec<_>>();
        format!("a code of `{ident}` ({})", listed.join(", "))
    };

    let decode_arms = codes.iter().map(|c| {
        let (variant, code) = (c.ident, Literal::i64_unsuffixed(i64::from(c.code)));
        quote!(#value::Int(#code) => ::core::result::Result::Ok(#ident::#variant),)
    });
    let fallback_arm = other.map(|other| {
        quote! {
            #value::Int(#code_local) => match <i32 as ::core::convert::TryFrom<i64>>::try_from(#code_local) {
                ::core::result::Result::Ok(#code_local) => ::core::result::Result::Ok(#ident::#other(#code_local)),
                ::core::result::Result::Err(_) => ::core::result::Result::Err(#value_error::new(#expected, &#value::Int(#code_local))),
            },
        }
    });
    let from_value = quote! {
        match #value_param {
            #(#decode_arms)*
            #fallback_arm
            #value_param => ::core::result::Result::Err(#value_error::new(#expected, &#value_param)),
        }
    };
    let to_value = quote! {
        #value::Int(::core::convert::From::from(<i32 as ::core::convert::From<&#ident>>::from(self)))
    };
    let code_list = codes.iter().map(|c| {
        let (code, name) = (Literal::i32_unsuffixed(c.code), c.ident.to_string());
        quote!((#code, #name))
    });
    let traits = traits(ident, to_value, from_value, quote!(#(#code_list),*));

    let encode_arms = codes.iter().map(|c| {
        let (variant, code) = (c.ident, Literal::i32_unsuffixed(c.code));
        quote!(#ident::#variant => #code,)
    });
    let other_arm = other.map(|other| quote!(#ident::#other(#code_local) => *#code_local,));
    quote! {
        #traits
        #[automatically_derived]
        impl ::core::convert::From<&#ident> for i32 {
            fn from(#value_param: &#ident) -> i32 {
                match #value_param {
                    #(#encode_arms)*
                    #other_arm
                }
            }
        }
        #[automatically_derived]
        impl ::core::convert::From<#ident> for i32 {
            fn from(#value_param: #ident) -> i32 {
                <i32 as ::core::convert::From<&#ident>>::from(&#value_param)
            }
        }
    }
}

fn expand_newtype(ident: &Ident) -> TokenStream {
    let value = paths::value();
    let value_error = paths::value_error();
    let value_param = paths::local("value");
    let code_local = paths::local("code");
    let expected = format!("a code of `{ident}` (an i32)");
    let to_value = quote!(#value::Int(::core::convert::From::from(self.0)));
    let from_value = quote! {
        match #value_param {
            #value::Int(#code_local) => match <i32 as ::core::convert::TryFrom<i64>>::try_from(#code_local) {
                ::core::result::Result::Ok(#code_local) => ::core::result::Result::Ok(#ident(#code_local)),
                ::core::result::Result::Err(_) => ::core::result::Result::Err(#value_error::new(#expected, &#value::Int(#code_local))),
            },
            #value_param => ::core::result::Result::Err(#value_error::new(#expected, &#value_param)),
        }
    };
    let traits = traits(ident, to_value, from_value, TokenStream::new());
    quote! {
        #traits
        #[automatically_derived]
        impl ::core::convert::From<#ident> for i32 {
            fn from(#value_param: #ident) -> i32 {
                #value_param.0
            }
        }
        #[automatically_derived]
        impl ::core::convert::From<i32> for #ident {
            fn from(#code_local: i32) -> Self {
                #ident(#code_local)
            }
        }
    }
}
