//! The grammar of `#[entity(...)]`, `#[cdms(...)]` and `#[option_set(...)]`.
//!
//! Entry points take a [`Ctxt`] and the item's attributes and return a typed struct per position
//! (container, field, variant); none of them returns a `Result`. Values are kept as syn nodes
//! (`LitStr`, `Path`) so later phases can point at them. Rules of this module: an unknown key is
//! an error on the key listing the valid keys; a repeated key is an error on its second
//! occurrence (the first one wins); a flag given a value, or a key missing its value, is an error
//! on the key. Semantic rules (which combinations make sense) live in `validate.rs`.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr, Path, Token};

use crate::ctxt::Ctxt;

/// `#[entity(...)]`
pub const ENTITY: &str = "entity";
/// `#[cdms(...)]`
pub const CDMS: &str = "cdms";
/// `#[option_set(...)]`
pub const OPTION_SET: &str = "option_set";

const ENTITY_CONTAINER_KEYS: &[&str] = &["table"];
const ENTITY_FIELD_KEYS: &[&str] = &[
    "primary_key",
    "modified",
    "created",
    "column",
    "unique",
    "index",
    "renamed_from",
    "default",
];
const CDMS_CONTAINER_KEYS: &[&str] = &["service", "logical_name"];
const CDMS_FIELD_KEYS: &[&str] = &[
    "field",
    "id",
    "money",
    "with",
    "version",
    "skip",
    "null",
    "read_only",
    "relationship",
];
/// The values `null = ...` takes.
const NULL_VALUES: &[&str] = &["default"];
const OPTION_SET_VARIANT_KEYS: &[&str] = &["other"];

/// A key with its value; `key` keeps the key's span for conflict errors.
#[derive(Clone)]
pub struct Keyed<T> {
    /// The key as written.
    pub key: Path,
    /// The value.
    pub value: T,
}

/// `#[entity(...)]` on the struct.
#[derive(Default)]
pub struct EntityContainerAttrs {
    /// `table = "organisation"`
    pub table: Option<Keyed<LitStr>>,
}

/// `#[entity(...)]` on a field.
#[derive(Default)]
pub struct EntityFieldAttrs {
    /// `primary_key`
    pub primary_key: Option<Path>,
    /// `modified`
    pub modified: Option<Path>,
    /// `created`
    pub created: Option<Path>,
    /// `column = "name"`
    pub column: Option<Keyed<LitStr>>,
    /// `unique`
    pub unique: Option<Path>,
    /// `index`
    pub index: Option<Path>,
    /// `renamed_from = "old_column"`
    pub renamed_from: Option<Keyed<LitStr>>,
    /// `default = <literal>`
    pub default: Option<Keyed<DefaultValue>>,
}

/// The literal of `#[entity(default = ...)]`, as written and as read.
#[derive(Clone)]
pub struct DefaultValue {
    /// The literal as written (`-1` is a negation of a literal), for spans and the type check.
    pub expr: syn::Expr,
    /// Its value.
    pub lit: DefaultLit,
}

/// The value of a column default literal.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultLit {
    /// `"text"`
    Str(String),
    /// `42`, `-1`
    Int(i64),
    /// `1.5`, `-0.25`
    Float(f64),
    /// `true`, `false`
    Bool(bool),
}

/// What `#[entity(default = ...)]` accepts, for its error messages.
const DEFAULT_ACCEPTS: &str = "a default is a literal of the field's type: \
     a string, an integer, a float or `true`/`false` (e.g. #[entity(default = 0)])";

/// Reads a default literal: a string, integer, float or bool literal, or `-` before a number.
fn default_literal(expr: &syn::Expr) -> Result<DefaultLit, String> {
    use syn::{Expr, Lit, UnOp};
    let (negative, lit) = match expr {
        Expr::Lit(l) => (false, &l.lit),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) if matches!(l.lit, Lit::Int(_) | Lit::Float(_)) => (true, &l.lit),
            _ => return Err(format!("`default` takes a literal; {DEFAULT_ACCEPTS}")),
        },
        Expr::Group(g) => return default_literal(&g.expr),
        _ => return Err(format!("`default` takes a literal; {DEFAULT_ACCEPTS}")),
    };
    match lit {
        Lit::Str(s) => {
            let value = s.value();
            if value.contains('\0') {
                return Err("a text default cannot contain NUL characters".to_owned());
            }
            Ok(DefaultLit::Str(value))
        }
        Lit::Bool(b) => Ok(DefaultLit::Bool(b.value)),
        Lit::Int(i) => {
            let digits = i
                .base10_parse::<i128>()
                .map_err(|e| format!("unreadable integer: {e}"))?;
            let value = if negative { -digits } else { digits };
            i64::try_from(value)
                .map(DefaultLit::Int)
                .map_err(|_| format!("integer default `{value}` does not fit a 64-bit column"))
        }
        Lit::Float(f) => {
            let value = f
                .base10_parse::<f64>()
                .map_err(|e| format!("unreadable float: {e}"))?;
            if !value.is_finite() {
                return Err("a float default must be finite".to_owned());
            }
            Ok(DefaultLit::Float(if negative { -value } else { value }))
        }
        _ => Err(format!("unsupported literal; {DEFAULT_ACCEPTS}")),
    }
}

/// `#[cdms(...)]` on the struct.
#[derive(Default)]
pub struct CdmsContainerAttrs {
    /// `service = "Account"`
    pub service: Option<Keyed<LitStr>>,
    /// `logical_name = "account"`
    pub logical_name: Option<Keyed<LitStr>>,
}

/// `#[cdms(...)]` on a field.
#[derive(Default)]
pub struct CdmsFieldAttrs {
    /// The first `#[cdms(...)]` attribute on the field, if any.
    pub attr: Option<Attribute>,
    /// Whether parsing the field's `#[cdms(...)]` reported an error (rules about what is
    /// missing then stay silent: the key may be the misspelled one).
    pub invalid: bool,
    /// `field = "Name"`
    pub field: Option<Keyed<LitStr>>,
    /// `id`
    pub id: Option<Path>,
    /// `money`
    pub money: Option<Path>,
    /// `with = path::to::module`
    pub with: Option<Keyed<Path>>,
    /// `version = 2` (of the `with` converter)
    pub version: Option<Keyed<syn::LitInt>>,
    /// `skip`
    pub skip: Option<Path>,
    /// `null = default`
    pub null: Option<Keyed<syn::Ident>>,
    /// `read_only`
    pub read_only: Option<Path>,
    /// `relationship = "contact_customer_accounts"`
    pub relationship: Option<Keyed<LitStr>>,
}

/// `#[option_set(...)]` on a variant.
#[derive(Default)]
pub struct OptionSetVariantAttrs {
    /// `other`
    pub other: Option<Path>,
}

/// Where an attribute sits, for its grammar and its messages.
struct Position {
    /// `entity`, `cdms` or `option_set`.
    attr: &'static str,
    /// Keys valid here.
    keys: &'static [&'static str],
    /// Keys valid at the other position of the same attribute, with where they belong.
    elsewhere: &'static [&'static str],
    /// "the struct", "a field", "a variant" ...
    here: &'static str,
    /// Where the `elsewhere` keys go.
    there: &'static str,
}

/// Parses `#[entity(...)]` on the struct.
pub fn entity_container(cx: &Ctxt, attrs: &[Attribute]) -> EntityContainerAttrs {
    let mut out = EntityContainerAttrs::default();
    let pos = Position {
        attr: ENTITY,
        keys: ENTITY_CONTAINER_KEYS,
        elsewhere: ENTITY_FIELD_KEYS,
        here: "the struct",
        there: "a field",
    };
    parse(cx, attrs, &pos, |meta, key| {
        // #[entity(table = "organisation")]
        if key == "table" {
            string(cx, meta, &pos, &mut out.table)?;
        }
        Ok(())
    });
    out
}

/// Parses `#[entity(...)]` on a field.
pub fn entity_field(cx: &Ctxt, attrs: &[Attribute]) -> EntityFieldAttrs {
    let mut out = EntityFieldAttrs::default();
    let pos = Position {
        attr: ENTITY,
        keys: ENTITY_FIELD_KEYS,
        elsewhere: ENTITY_CONTAINER_KEYS,
        here: "a field",
        there: "the struct",
    };
    parse(cx, attrs, &pos, |meta, key| {
        match key {
            // #[entity(primary_key)]
            "primary_key" => flag(cx, meta, &pos, &mut out.primary_key)?,
            // #[entity(modified)]
            "modified" => flag(cx, meta, &pos, &mut out.modified)?,
            // #[entity(created)]
            "created" => flag(cx, meta, &pos, &mut out.created)?,
            // #[entity(column = "name")]
            "column" => string(cx, meta, &pos, &mut out.column)?,
            // #[entity(unique)]
            "unique" => flag(cx, meta, &pos, &mut out.unique)?,
            // #[entity(index)]
            "index" => flag(cx, meta, &pos, &mut out.index)?,
            // #[entity(renamed_from = "old_column")]
            "renamed_from" => string(cx, meta, &pos, &mut out.renamed_from)?,
            // #[entity(default = 0)], #[entity(default = "new")]
            "default" => {
                if let Some(expr) = value_of::<syn::Expr>(cx, meta, &pos, "0")? {
                    match default_literal(&expr) {
                        Ok(lit) => keep(
                            cx,
                            &pos,
                            &mut out.default,
                            Keyed {
                                key: meta.path.clone(),
                                value: DefaultValue { expr, lit },
                            },
                        ),
                        Err(message) => cx.error_at(&expr, message),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    });
    out
}

/// Parses `#[cdms(...)]` on the struct.
pub fn cdms_container(cx: &Ctxt, attrs: &[Attribute]) -> CdmsContainerAttrs {
    let mut out = CdmsContainerAttrs::default();
    let pos = Position {
        attr: CDMS,
        keys: CDMS_CONTAINER_KEYS,
        elsewhere: CDMS_FIELD_KEYS,
        here: "the struct",
        there: "a field",
    };
    parse(cx, attrs, &pos, |meta, key| {
        match key {
            // #[cdms(service = "Account")]
            "service" => string(cx, meta, &pos, &mut out.service)?,
            // #[cdms(logical_name = "account")]
            "logical_name" => string(cx, meta, &pos, &mut out.logical_name)?,
            _ => {}
        }
        Ok(())
    });
    out
}

/// Parses `#[cdms(...)]` on a field.
pub fn cdms_field(cx: &Ctxt, attrs: &[Attribute]) -> CdmsFieldAttrs {
    let mut out = CdmsFieldAttrs {
        attr: attrs.iter().find(|a| a.path().is_ident(CDMS)).cloned(),
        ..CdmsFieldAttrs::default()
    };
    let errors_before = cx.error_count();
    let pos = Position {
        attr: CDMS,
        keys: CDMS_FIELD_KEYS,
        elsewhere: CDMS_CONTAINER_KEYS,
        here: "a field",
        there: "the struct",
    };
    parse(cx, attrs, &pos, |meta, key| {
        match key {
            // #[cdms(field = "Name")]
            "field" => string(cx, meta, &pos, &mut out.field)?,
            // #[cdms(id)]
            "id" => flag(cx, meta, &pos, &mut out.id)?,
            // #[cdms(money)]
            "money" => flag(cx, meta, &pos, &mut out.money)?,
            // #[cdms(with = path::to::module)]
            "with" => {
                if let Some(value) = value_of::<Path>(cx, meta, &pos, "path::to::module")? {
                    keep(
                        cx,
                        &pos,
                        &mut out.with,
                        Keyed {
                            key: meta.path.clone(),
                            value,
                        },
                    );
                }
            }
            // #[cdms(with = path::to::module, version = 2)]
            "version" => {
                if let Some(value) = value_of::<syn::LitInt>(cx, meta, &pos, "2")? {
                    keep(
                        cx,
                        &pos,
                        &mut out.version,
                        Keyed {
                            key: meta.path.clone(),
                            value,
                        },
                    );
                }
            }
            // #[cdms(skip)]
            "skip" => flag(cx, meta, &pos, &mut out.skip)?,
            // #[cdms(read_only)]
            "read_only" => flag(cx, meta, &pos, &mut out.read_only)?,
            // #[cdms(relationship = "contact_customer_accounts")]
            "relationship" => string(cx, meta, &pos, &mut out.relationship)?,
            // #[cdms(null = default)]
            "null" => {
                if let Some(value) = value_of::<syn::Ident>(cx, meta, &pos, "default")? {
                    if NULL_VALUES.contains(&value.to_string().as_str()) {
                        keep(
                            cx,
                            &pos,
                            &mut out.null,
                            Keyed {
                                key: meta.path.clone(),
                                value,
                            },
                        );
                    } else {
                        cx.error_at(
                            &value,
                            format_args!(
                                "unknown value `{value}` for `null`; expected `default`: \
                                 #[cdms(null = default)] reads CDMS's null as the type's default"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(())
    });
    out.invalid = cx.error_count() > errors_before;
    out
}

/// Parses `#[option_set(...)]` on a variant.
pub fn option_set_variant(cx: &Ctxt, attrs: &[Attribute]) -> OptionSetVariantAttrs {
    let mut out = OptionSetVariantAttrs::default();
    let pos = Position {
        attr: OPTION_SET,
        keys: OPTION_SET_VARIANT_KEYS,
        elsewhere: &[],
        here: "a variant",
        there: "",
    };
    parse(cx, attrs, &pos, |meta, key| {
        // #[option_set(other)]
        if key == "other" {
            flag(cx, meta, &pos, &mut out.other)?;
        }
        Ok(())
    });
    out
}

/// Reports every `#[option_set(...)]` in `attrs`: the attribute belongs on a variant only.
pub fn option_set_misplaced(cx: &Ctxt, attrs: &[Attribute], here: &str) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(OPTION_SET)) {
        cx.error_at(
            attr,
            format_args!(
                "#[option_set(...)] is not expected on {here}; \
                 it marks the fallback variant: #[option_set(other)] Other(i32)"
            ),
        );
    }
}

/// Runs `on_key` for each known key of every `#[<pos.attr>(...)]` in `attrs`; reports unknown
/// keys and syntax errors.
fn parse(
    cx: &Ctxt,
    attrs: &[Attribute],
    pos: &Position,
    mut on_key: impl FnMut(&ParseNestedMeta, &'static str) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(pos.attr)) {
        let parsed =
            attr.parse_nested_meta(
                |meta| match pos.keys.iter().find(|k| meta.path.is_ident(k)) {
                    Some(key) => on_key(&meta, key),
                    None => {
                        cx.error_at(&meta.path, unknown_key(pos, &meta.path));
                        skip_value(&meta)
                    }
                },
            );
        if let Err(e) = parsed {
            cx.push(e);
        }
    }
}

/// The message for an unknown key at `pos`.
fn unknown_key(pos: &Position, key: &Path) -> String {
    let name = key
        .get_ident()
        .map_or_else(|| quote::quote!(#key).to_string(), |i| i.to_string());
    if pos.elsewhere.contains(&name.as_str()) {
        return format!(
            "`{name}` is not expected on {}; it belongs in #[{}(...)] on {}",
            pos.here, pos.attr, pos.there
        );
    }
    let expected = pos
        .keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "unknown key `{name}` in #[{}(...)] on {}; expected one of {expected}",
        pos.attr, pos.here
    )
}

/// Consumes whatever follows an unknown key (`= value` or `(...)`) so parsing can go on.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

/// Stores a flag (`key` alone), reporting a repeated key and a value given to it (the flag is
/// still taken as set: that is what was meant).
fn flag(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    pos: &Position,
    slot: &mut Option<Path>,
) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        let key = ident_of(&meta.path);
        cx.error_at(
            &meta.path,
            format_args!("`{key}` takes no value; write #[{}({key})]", pos.attr),
        );
        skip_value(meta)?;
    }
    keep(cx, pos, slot, meta.path.clone());
    Ok(())
}

/// Stores a `key = "string"` value.
fn string(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    pos: &Position,
    slot: &mut Option<Keyed<LitStr>>,
) -> syn::Result<()> {
    if let Some(value) = value_of::<LitStr>(cx, meta, pos, "\"...\"")? {
        keep(
            cx,
            pos,
            slot,
            Keyed {
                key: meta.path.clone(),
                value,
            },
        );
    }
    Ok(())
}

/// Parses `= value`; a missing `=` is reported on the key (with the expected form) and yields
/// `None`.
fn value_of<T: syn::parse::Parse>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    pos: &Position,
    example: &str,
) -> syn::Result<Option<T>> {
    if !meta.input.peek(Token![=]) {
        let key = ident_of(&meta.path);
        cx.error_at(
            &meta.path,
            format_args!(
                "`{key}` needs a value; write #[{}({key} = {example})]",
                pos.attr
            ),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    meta.value()?.parse().map(Some)
}

/// Stores `value` unless the slot is taken, in which case the repeat is reported.
fn keep<T: KeySpan>(cx: &Ctxt, pos: &Position, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        let key = value.key();
        cx.error_at(
            key,
            format_args!("duplicate `{}` in #[{}(...)]", ident_of(key), pos.attr),
        );
    } else {
        *slot = Some(value);
    }
}

/// The key path of a stored value.
trait KeySpan {
    fn key(&self) -> &Path;
}
impl KeySpan for Path {
    fn key(&self) -> &Path {
        self
    }
}
impl<T> KeySpan for Keyed<T> {
    fn key(&self) -> &Path {
        &self.key
    }
}

fn ident_of(path: &Path) -> String {
    path.get_ident()
        .map_or_else(String::new, ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn messages(cx: Ctxt) -> Vec<String> {
        match cx.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn entity_field_keys_are_parsed() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[entity(primary_key, column = "org_id")]),
            parse_quote!(#[entity(unique)]),
            parse_quote!(#[doc = "ignored"]),
        ];
        let out = entity_field(&cx, &attrs);
        assert!(out.primary_key.is_some());
        assert!(out.unique.is_some());
        assert!(out.modified.is_none() && out.created.is_none());
        assert_eq!(
            out.column.map(|c| c.value.value()).as_deref(),
            Some("org_id")
        );
        assert!(messages(cx).is_empty());
    }

    #[test]
    fn unknown_key_lists_the_valid_keys() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[entity(primary, unique)])];
        let out = entity_field(&cx, &attrs);
        assert!(out.unique.is_some(), "parsing goes on after an unknown key");
        assert_eq!(
            messages(cx),
            [
                "unknown key `primary` in #[entity(...)] on a field; expected one of \
              `primary_key`, `modified`, `created`, `column`, `unique`, `index`, `renamed_from`, `default`"
            ]
        );
    }

    #[test]
    fn unknown_key_with_a_value_is_skipped() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> =
            vec![parse_quote!(#[cdms(name = "Name", nested(a, b), field = "Name")])];
        let out = cdms_field(&cx, &attrs);
        assert_eq!(out.field.map(|f| f.value.value()).as_deref(), Some("Name"));
        assert_eq!(messages(cx).len(), 2);
    }

    #[test]
    fn key_of_the_other_position_says_where_it_belongs() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[cdms(service = "Account")])];
        cdms_field(&cx, &attrs);
        assert_eq!(
            messages(cx),
            ["`service` is not expected on a field; it belongs in #[cdms(...)] on the struct"]
        );
    }

    #[test]
    fn duplicate_key_is_reported_once_and_the_first_wins() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[cdms(field = "Name")]),
            parse_quote!(#[cdms(field = "Other")]),
        ];
        let out = cdms_field(&cx, &attrs);
        assert_eq!(out.field.map(|f| f.value.value()).as_deref(), Some("Name"));
        assert_eq!(messages(cx), ["duplicate `field` in #[cdms(...)]"]);
    }

    #[test]
    fn flag_with_a_value_and_key_without_one() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[cdms(skip = true, field)])];
        let out = cdms_field(&cx, &attrs);
        assert!(
            out.skip.is_some(),
            "a flag given a value still counts as set"
        );
        assert!(out.field.is_none());
        assert!(out.attr.is_some() && out.invalid);
        assert_eq!(
            messages(cx),
            [
                "`skip` takes no value; write #[cdms(skip)]",
                "`field` needs a value; write #[cdms(field = \"...\")]",
            ]
        );
    }

    #[test]
    fn with_takes_a_path() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> =
            vec![parse_quote!(#[cdms(field = "P", with = crate::convert::postcode)])];
        let out = cdms_field(&cx, &attrs);
        let with = out.with.map(|w| w.value);
        assert_eq!(with, Some(parse_quote!(crate::convert::postcode)));
        assert!(messages(cx).is_empty());
    }

    #[test]
    fn null_takes_default_once() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[cdms(field = "Name", null = default)])];
        let out = cdms_field(&cx, &attrs);
        assert_eq!(
            out.null.map(|n| n.value.to_string()).as_deref(),
            Some("default")
        );
        assert!(messages(cx).is_empty());

        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[cdms(field = "A", null = empty)]),
            parse_quote!(#[cdms(null, null = default, null = default)]),
        ];
        let out = cdms_field(&cx, &attrs);
        assert!(out.null.is_some(), "the first valid `null` is kept");
        assert_eq!(
            messages(cx),
            [
                "unknown value `empty` for `null`; expected `default`: #[cdms(null = default)] \
                 reads CDMS's null as the type's default",
                "`null` needs a value; write #[cdms(null = default)]",
                "duplicate `null` in #[cdms(...)]",
            ]
        );
    }

    #[test]
    fn wrong_literal_type_is_a_syntax_error() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[entity(table = organisation)])];
        assert!(entity_container(&cx, &attrs).table.is_none());
        assert_eq!(messages(cx), ["expected string literal"]);
    }

    #[test]
    fn container_keys() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> =
            vec![parse_quote!(#[cdms(service = "Account", logical_name = "account")])];
        let out = cdms_container(&cx, &attrs);
        assert_eq!(
            out.service.map(|s| s.value.value()).as_deref(),
            Some("Account")
        );
        assert_eq!(
            out.logical_name.map(|s| s.value.value()).as_deref(),
            Some("account")
        );
        assert!(messages(cx).is_empty());
    }

    #[test]
    fn option_set_other_and_misplaced() {
        let cx = Ctxt::new();
        let attrs: Vec<Attribute> = vec![parse_quote!(#[option_set(other)])];
        assert!(option_set_variant(&cx, &attrs).other.is_some());
        option_set_misplaced(&cx, &attrs, "the enum");
        assert_eq!(messages(cx).len(), 1);
    }
}
