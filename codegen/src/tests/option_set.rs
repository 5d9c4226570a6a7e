use syn::parse_quote;

use super::{assert_expansion, errors};
use crate::derive_option_set;

#[test]
fn option_set_enum_with_fallback() {
    assert_expansion!(
        "option_set_enum",
        derive_option_set,
        parse_quote! {
            #[repr(i32)]
            pub enum IndustryCode {
                Accounting = 1,
                Brokers = 4,
                Negative = -2,
                #[option_set(other)]
                Other(i32),
            }
        }
    );
}

#[test]
fn option_set_enum_without_fallback() {
    assert_expansion!(
        "option_set_enum_strict",
        derive_option_set,
        parse_quote! {
            pub enum Gender {
                Male = 1,
                Female = 2,
            }
        }
    );
}

#[test]
fn option_set_newtype() {
    assert_expansion!(
        "option_set_newtype",
        derive_option_set,
        parse_quote! {
            pub struct CustomerType(pub i32);
        }
    );
}

#[test]
fn option_set_mistakes() {
    let input = parse_quote! {
        #[option_set(other)]
        enum Bad {
            NoCode,
            Named = CONST,
            Huge = 3_000_000_000,
            Data(String),
            #[option_set(other)]
            Fallback(u8),
            #[option_set(other, unknown)]
            Second(i32),
        }
    };
    assert_eq!(
        errors(derive_option_set, &input),
        [
            "#[option_set(...)] is not expected on the type; it marks the fallback variant: #[option_set(other)] Other(i32)",
            "option set variant `NoCode` needs its code: `NoCode = 1`",
            "an option set code is an integer literal",
            "option set codes are i32 values; this one is out of range",
            "option set variants carry no data; a fallback for unknown codes is written #[option_set(other)] Other(i32)",
            "the fallback variant carries the unknown code: `Other(i32)`",
            "unknown key `unknown` in #[option_set(...)] on a variant; expected one of `other`",
            "a second fallback variant; `Fallback` is already #[option_set(other)]",
        ]
    );
}

#[test]
fn option_set_shapes() {
    let cases: [(syn::DeriveInput, &str); 4] = [
        (
            parse_quote!(
                struct S {
                    code: i32,
                }
            ),
            "applies to a fieldless enum",
        ),
        (
            parse_quote!(
                struct S(i64);
            ),
            "wraps `i32`",
        ),
        (
            parse_quote!(
                enum E {}
            ),
            "at least one variant",
        ),
        (
            parse_quote!(
                enum E<T> {
                    A = 1,
                    B(T),
                }
            ),
            "generic parameters",
        ),
    ];
    for (input, message) in cases {
        let errors = errors(derive_option_set, &input);
        assert!(
            errors.iter().any(|e| e.contains(message)),
            "{errors:?} should mention {message:?}"
        );
    }
}

#[test]
fn option_set_errors_come_with_an_inert_impl() {
    let input: syn::DeriveInput = parse_quote! {
        enum Gender { Male, Female = 2 }
    };
    let output = super::pretty(derive_option_set, &input);
    assert!(
        output.contains("impl ::cdms_runtime::__private::FieldType for Gender"),
        "{output}"
    );
    assert!(
        output.contains("impl ::cdms_runtime::__private::OptionSet for Gender"),
        "{output}"
    );
}
