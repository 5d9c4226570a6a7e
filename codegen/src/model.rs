//! The intermediate representation the derives validate and expand.
//!
//! `from_ast` functions read a [`syn::DeriveInput`] and its attributes once, resolve defaults
//! (table and column names, CDMS property names) and record shape errors in the [`Ctxt`]. They
//! return `None` only when the input's shape makes a model meaningless (an enum given to
//! `#[derive(Entity)]`); otherwise a model is built even with errors so validation can report
//! more of them in the same compile.

use heck::ToSnakeCase;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, Path, Type, Visibility};

use crate::attr::{
    self, CdmsContainerAttrs, CdmsFieldAttrs, EntityContainerAttrs, EntityFieldAttrs,
};
use crate::ctxt::Ctxt;
use crate::ty;

/// What a field is for (mirrors the runtime's `Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An ordinary column.
    Plain,
    /// `#[entity(primary_key)]`
    PrimaryKey,
    /// `#[entity(modified)]`
    Modified,
    /// `#[entity(created)]`
    Created,
}

/// A struct deriving `Entity`.
pub struct Entity<'a> {
    /// The struct name.
    pub ident: &'a Ident,
    /// The struct's visibility (given to the generated field-handle struct).
    pub vis: &'a Visibility,
    /// The struct's generics (must be empty; kept for the error).
    pub generics: &'a syn::Generics,
    /// `#[entity(...)]` on the struct.
    pub attrs: EntityContainerAttrs,
    /// The SQL table name.
    pub table: String,
    /// The fields in declaration order (row order).
    pub fields: Vec<Field<'a>>,
    /// Whether the struct carries any `#[cdms(...)]` attribute (it is then also `CdmsSynced`).
    pub synced: bool,
}

/// One field of an entity.
pub struct Field<'a> {
    /// Position in declaration order: the index into `EntityMeta::fields` and rows.
    pub index: usize,
    /// The Rust field name.
    pub ident: &'a Ident,
    /// The field type as written.
    pub ty: &'a Type,
    /// `#[doc]` attributes, copied to the field handle.
    pub docs: Vec<&'a Attribute>,
    /// `#[entity(...)]` on the field.
    pub attrs: EntityFieldAttrs,
    /// The Rust field name without `r#`.
    pub name: String,
    /// The SQL column name.
    pub column: String,
    /// What the field is for.
    pub role: Role,
    /// `T` of a `Ref<T>` / `Option<Ref<T>>` field.
    pub reference: Option<&'a Type>,
}

impl<'a> Entity<'a> {
    /// Builds the model of `#[derive(Entity)]`; shape errors name `derive`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput, derive: &str) -> Option<Self> {
        let named = named_fields(cx, input, derive)?;
        let attrs = attr::entity_container(cx, &input.attrs);
        let table = attrs.table.as_ref().map_or_else(
            || input.ident.unraw().to_string().to_snake_case(),
            |t| t.value.value(),
        );
        let fields = named.named.iter().enumerate().filter_map(|(index, f)| {
            let ident = f.ident.as_ref()?;
            let attrs = attr::entity_field(cx, &f.attrs);
            let name = ident.unraw().to_string();
            let column = attrs
                .column
                .as_ref()
                .map_or_else(|| name.clone(), |c| c.value.value());
            let role = if attrs.primary_key.is_some() {
                Role::PrimaryKey
            } else if attrs.modified.is_some() {
                Role::Modified
            } else if attrs.created.is_some() {
                Role::Created
            } else {
                Role::Plain
            };
            Some(Field {
                index,
                ident,
                ty: &f.ty,
                docs: f
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("doc"))
                    .collect(),
                attrs,
                name,
                column,
                role,
                reference: ty::ref_target(&f.ty),
            })
        });
        let fields: Vec<Field<'a>> = fields.collect();
        let synced = input
            .attrs
            .iter()
            .chain(named.named.iter().flat_map(|f| &f.attrs))
            .any(|a| a.path().is_ident(attr::CDMS));
        Some(Entity {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            table,
            fields,
            synced,
        })
    }

    /// The first field with `role`.
    pub fn with_role(&self, role: Role) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.role == role)
    }
}

/// The named fields of a plain struct; anything else is reported (naming `derive`) as `None`.
pub fn named_fields<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
    derive: &str,
) -> Option<&'a syn::FieldsNamed> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(unnamed) => {
                cx.error_at(unnamed, format_args!("#[derive({derive})] needs named fields; tuple structs cannot be mapped to columns"));
                None
            }
            Fields::Unit => {
                cx.error_at(
                    &input.ident,
                    format_args!(
                        "#[derive({derive})] needs a struct with named fields, one per column"
                    ),
                );
                None
            }
        },
        Data::Enum(e) => {
            cx.error_at(e.enum_token, format_args!("#[derive({derive})] applies to structs with named fields, not enums (an integer-coded enum field derives OptionSet)"));
            None
        }
        Data::Union(u) => {
            cx.error_at(
                u.union_token,
                format_args!(
                    "#[derive({derive})] applies to structs with named fields, not unions"
                ),
            );
            None
        }
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        let at: &dyn quote::ToTokens = if input.generics.params.is_empty() {
            &input.generics.where_clause
        } else {
            &input.generics
        };
        cx.error_at(at, format_args!("#[derive({derive})] does not support generic parameters: an entity maps to one table"));
    }
    fields
}

/// An entity deriving `CdmsSynced`.
pub struct Synced<'a> {
    /// The entity model (its `#[entity(...)]` errors are reported by `#[derive(Entity)]`).
    pub entity: Entity<'a>,
    /// `#[cdms(...)]` on the struct.
    pub attrs: CdmsContainerAttrs,
    /// The CRM entity schema name (`Account`); empty when missing (an error is recorded).
    pub service: String,
    /// The entity set (`AccountSet`).
    pub set: String,
    /// The logical name (`account`).
    pub logical_name: String,
    /// `#[cdms(...)]` of each entity field, parallel to `entity.fields`.
    pub field_attrs: Vec<CdmsFieldAttrs>,
    /// The mapped properties, in field order.
    pub properties: Vec<Property<'a>>,
}

/// One mapped CDMS property.
pub struct Property<'a> {
    /// Index of the local field.
    pub field: usize,
    /// The local field name.
    pub ident: &'a Ident,
    /// The field type.
    pub ty: &'a Type,
    /// The CDMS property name.
    pub name: String,
    /// Where the name came from (the `field = "..."` literal, else the field name).
    pub name_span: Span,
    /// Whether the name was written (`field = "..."`) rather than derived from the role or the
    /// service.
    pub explicit: bool,
    /// `#[cdms(id)]`
    pub id: bool,
    /// `#[cdms(money)]`
    pub money: bool,
    /// `#[cdms(with = path)]`
    pub with: Option<Path>,
    /// `#[cdms(version = n)]` of the converter (1 when not given, or unreadable: validation
    /// reports it).
    pub version: u32,
    /// `#[cdms(null = default)]`
    pub null_default: bool,
    /// `#[cdms(read_only)]`: read from CDMS, never written.
    pub read_only: bool,
    /// `T` of a `Ref<T>` field.
    pub reference: Option<&'a Type>,
    /// `#[cdms(relationship = "...")]` of a `Ref<T>` field: the CRM relationship's schema name.
    pub relationship: Option<String>,
}

impl<'a> Synced<'a> {
    /// Builds the model of `#[derive(CdmsSynced)]`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        // The roles come from `#[entity(...)]`, whose mistakes `#[derive(Entity)]` reports: they
        // are parsed here into a context that is dropped, so each mistake is reported once.
        let quiet = Ctxt::new();
        let named = named_fields(cx, input, "CdmsSynced")?;
        let entity = Entity::from_ast(&quiet, input, "CdmsSynced")?;
        drop(quiet);
        let attrs = attr::cdms_container(cx, &input.attrs);
        let service = attrs
            .service
            .as_ref()
            .map_or_else(String::new, |s| s.value.value());
        let logical_name = attrs
            .logical_name
            .as_ref()
            .map_or_else(|| service.to_lowercase(), |l| l.value.value());
        let set = format!("{service}Set");
        let field_attrs: Vec<CdmsFieldAttrs> = named
            .named
            .iter()
            .map(|f| attr::cdms_field(cx, &f.attrs))
            .collect();
        let properties = entity
            .fields
            .iter()
            .zip(&field_attrs)
            .filter_map(|(field, attrs)| property(field, attrs, &service))
            .collect();
        Some(Synced {
            entity,
            attrs,
            service,
            set,
            logical_name,
            field_attrs,
            properties,
        })
    }
}

/// The property a field maps to, `None` for skipped, unmapped and primary key fields.
fn property<'a>(field: &Field<'a>, attrs: &CdmsFieldAttrs, service: &str) -> Option<Property<'a>> {
    if attrs.skip.is_some() || field.role == Role::PrimaryKey {
        return None;
    }
    let (name, name_span) = match (&attrs.field, field.role) {
        (Some(lit), _) => (lit.value.value(), lit.value.span()),
        (None, Role::Modified) => ("ModifiedOn".to_owned(), field.ident.span()),
        (None, Role::Created) => ("CreatedOn".to_owned(), field.ident.span()),
        (None, _) if attrs.id.is_some() => (format!("{service}Id"), field.ident.span()),
        (None, _) => return None,
    };
    Some(Property {
        field: field.index,
        ident: field.ident,
        ty: field.ty,
        name,
        name_span,
        explicit: attrs.field.is_some(),
        id: attrs.id.is_some(),
        money: attrs.money.is_some(),
        with: attrs.with.as_ref().map(|w| w.value.clone()),
        version: attrs
            .version
            .as_ref()
            .and_then(|v| v.value.base10_parse().ok())
            .unwrap_or(1),
        null_default: attrs.null.is_some(),
        read_only: attrs.read_only.is_some(),
        reference: field.reference,
        relationship: attrs.relationship.as_ref().map(|r| r.value.value()),
    })
}

/// An enum or newtype deriving `OptionSet`.
pub enum OptionSet<'a> {
    /// A fieldless enum with explicit codes, optionally with a fallback variant.
    Enum {
        /// The enum name.
        ident: &'a Ident,
        /// The coded variants.
        codes: Vec<Code<'a>>,
        /// The `#[option_set(other)] Other(i32)` variant.
        other: Option<&'a Ident>,
    },
    /// `struct Code(i32)`.
    Newtype {
        /// The struct name.
        ident: &'a Ident,
    },
}

/// One coded variant.
pub struct Code<'a> {
    /// The variant.
    pub ident: &'a Ident,
    /// Its option set value.
    pub code: i32,
}

impl<'a> OptionSet<'a> {
    /// Builds the model of `#[derive(OptionSet)]`, recording every shape error.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        attr::option_set_misplaced(cx, &input.attrs, "the type");
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_at(
                &input.generics,
                "#[derive(OptionSet)] does not support generic parameters",
            );
        }
        match &input.data {
            Data::Enum(data) => Some(option_set_enum(cx, &input.ident, data)),
            Data::Struct(s) => match &s.fields {
                Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                    let inner = &f.unnamed[0];
                    attr::option_set_misplaced(cx, &inner.attrs, "a field");
                    if !ty::is_plain(&inner.ty, "i32") {
                        cx.error_at(
                            &inner.ty,
                            "an option set newtype wraps `i32`: struct Code(i32)",
                        );
                    }
                    Some(OptionSet::Newtype {
                        ident: &input.ident,
                    })
                }
                _ => {
                    cx.error_at(&input.ident, "#[derive(OptionSet)] applies to a fieldless enum with explicit codes (`Male = 1`) or to a newtype `struct Code(i32)`");
                    None
                }
            },
            Data::Union(u) => {
                cx.error_at(
                    u.union_token,
                    "#[derive(OptionSet)] applies to enums and `i32` newtypes, not unions",
                );
                None
            }
        }
    }
}

fn option_set_enum<'a>(cx: &Ctxt, ident: &'a Ident, data: &'a syn::DataEnum) -> OptionSet<'a> {
    let mut codes = Vec::new();
    let mut other: Option<&'a Ident> = None;
    if data.variants.is_empty() {
        cx.error_at(
            ident,
            "an option set needs at least one variant with its code: `Name = 1`",
        );
    }
    for variant in &data.variants {
        let attrs = attr::option_set_variant(cx, &variant.attrs);
        for field in variant.fields.iter() {
            attr::option_set_misplaced(cx, &field.attrs, "a field");
        }
        if let Some(key) = &attrs.other {
            if let Some(first) = other {
                cx.error_at(
                    key,
                    format_args!(
                        "a second fallback variant; `{first}` is already #[option_set(other)]"
                    ),
                );
            }
            let one_i32 = matches!(&variant.fields, Fields::Unnamed(f) if f.unnamed.len() == 1 && ty::is_plain(&f.unnamed[0].ty, "i32"));
            if !one_i32 {
                cx.error_at(
                    &variant.fields,
                    "the fallback variant carries the unknown code: `Other(i32)`",
                );
            }
            if let Some((eq, expr)) = &variant.discriminant {
                cx.error_at(
                    quote::quote!(#eq #expr),
                    "the fallback variant has no code of its own; remove `= ...`",
                );
            }
            other = other.or(Some(&variant.ident));
            continue;
        }
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_at(&variant.fields, "option set variants carry no data; a fallback for unknown codes is written #[option_set(other)] Other(i32)");
            continue;
        }
        match &variant.discriminant {
            None => cx.error_at(
                &variant.ident,
                format_args!(
                    "option set variant `{}` needs its code: `{} = 1`",
                    variant.ident, variant.ident
                ),
            ),
            Some((_, expr)) => {
                if let Some(code) = discriminant(cx, expr) {
                    codes.push(Code {
                        ident: &variant.ident,
                        code,
                    });
                }
            }
        }
    }
    OptionSet::Enum {
        ident,
        codes,
        other,
    }
}

/// An integer literal discriminant (`3`, `-1`, `100_000_000`) in the i32 range.
fn discriminant(cx: &Ctxt, expr: &syn::Expr) -> Option<i32> {
    let (negative, lit) = match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        }) => (false, lit),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(lit),
                ..
            }) => (true, lit),
            _ => {
                cx.error_at(expr, "an option set code is an integer literal");
                return None;
            }
        },
        _ => {
            cx.error_at(expr, "an option set code is an integer literal");
            return None;
        }
    };
    let value = lit
        .base10_parse::<i64>()
        .ok()
        .map(|v| if negative { -v } else { v });
    match value.and_then(|v| i32::try_from(v).ok()) {
        Some(code) => Some(code),
        None => {
            cx.error_at(
                expr,
                "option set codes are i32 values; this one is out of range",
            );
            None
        }
    }
}
