//! Syntactic questions about field types.
//!
//! Only shapes the derives must know before type checking are asked here (is it an `Option`,
//! is it a `Ref`, what is its last path segment); everything else is left to trait bounds the
//! generated code asserts, which also see through aliases.

use syn::{GenericArgument, PathArguments, PathSegment, Type};

/// The last path segment of a plain path type (`a::b::C<T>` → `C<T>`), looking through
/// parentheses and invisible groups.
fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The single type argument of `Name<T>` when the last segment of `ty` is `Name`.
fn single_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let segment = last_segment(ty).filter(|s| s.ident == name)?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(t), None) => Some(t),
        _ => None,
    }
}

/// `T` for `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Option")
}

/// `ty` without one `Option<...>` layer.
pub fn strip_option(ty: &Type) -> &Type {
    option_inner(ty).unwrap_or(ty)
}

/// The target `T` of a `Ref<T>` or `Option<Ref<T>>` field type.
pub fn ref_target(ty: &Type) -> Option<&Type> {
    single_argument(strip_option(ty), "Ref")
}

/// Whether the last path segment of `ty` is `name` (arguments ignored): `chrono::DateTime<Utc>`
/// is named `DateTime`.
pub fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// Whether `ty` is exactly the path `name` without arguments (`i64`, `i32`).
pub fn is_plain(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn options_and_refs() {
        let t: Type = parse_quote!(Option<Ref<Country>>);
        assert_eq!(ref_target(&t), Some(&parse_quote!(Country)));
        let t: Type = parse_quote!(cdms_runtime::Ref<crate::Sector>);
        assert_eq!(ref_target(&t), Some(&parse_quote!(crate::Sector)));
        let t: Type = parse_quote!(::std::option::Option<String>);
        assert_eq!(option_inner(&t), Some(&parse_quote!(String)));
        assert_eq!(ref_target(&t), None);
        let t: Type = parse_quote!(Option<Option<Ref<A>>>);
        assert_eq!(
            ref_target(&t),
            None,
            "only one Option layer is looked through"
        );
        let t: Type = parse_quote!(<X as Trait>::Option<String>);
        assert_eq!(option_inner(&t), None, "qualified paths are not options");
    }

    #[test]
    fn names() {
        let t: Type = parse_quote!(chrono::DateTime<chrono::Utc>);
        assert!(is_named(&t, "DateTime"));
        assert!(!is_plain(&t, "DateTime"));
        assert!(is_plain(&parse_quote!(i64), "i64"));
        assert!(is_plain(&parse_quote!(std::primitive::i64), "i64"));
        assert!(!is_plain(&parse_quote!(Option<i64>), "i64"));
        assert!(!is_named(&parse_quote!(&str), "str"));
        assert_eq!(
            strip_option(&parse_quote!(Option<Uuid>)),
            &parse_quote!(Uuid)
        );
    }
}
