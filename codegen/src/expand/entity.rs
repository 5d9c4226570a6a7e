//! `#[derive(Entity)]`: the field-handle struct, `impl Entity` and the inherent
//! `fields()`/`objects()` functions.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::DefaultLit;
use crate::model::{Entity, Field, Role};
use crate::paths;

/// The whole expansion of `#[derive(Entity)]`.
pub fn expand(entity: &Entity) -> TokenStream {
    let fields_struct = fields_struct(entity);
    let assertions = entity.fields.iter().map(type_assertions);
    let entity_impl = entity_impl(entity);
    let inherent_impl = inherent_impl(entity);
    let body = quote! {
        #(#assertions)*
        #entity_impl
        #inherent_impl
    };
    let wrapped = super::in_const(body);
    quote! {
        #fields_struct
        #wrapped
    }
}

/// `<Struct>Fields`: one public `Field<Struct, T>` handle per field.
pub(super) fn fields_struct(entity: &Entity) -> TokenStream {
    let vis = entity.vis;
    let ident = entity.ident;
    let name = paths::fields_struct(ident);
    let handle = paths::field_handle();
    let doc = format!(
        " Typed handles on the fields of [`{ident}`], for building queries: \
         `{ident}::fields().<field>.<lookup>(...)`."
    );
    let fields = entity.fields.iter().map(|f| {
        let field = f.ident;
        let ty = f.ty;
        let docs = if f.docs.is_empty() {
            let doc = format!(" The `{}` field (column `{}`).", f.name, f.column);
            quote!(#[doc = #doc])
        } else {
            let docs = &f.docs;
            quote!(#(#docs)*)
        };
        quote! {
            #docs
            pub #field: #handle<#ident, #ty>
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name {
            #(#fields,)*
        }
    }
}

/// Compile-time checks spanned at the user's types, so an unsupported field type or a `Ref` to
/// a non-entity fails at the type with the runtime trait's message.
fn type_assertions(field: &Field) -> TokenStream {
    let ty = field.ty;
    let field_type = paths::field_type();
    let kind = paths::kind();
    let is_field_type = quote_spanned! {ty.span()=>
        const _: #kind = <#ty as #field_type>::KIND;
    };
    let is_entity = field.reference.map(|target| {
        let assert_entity = paths::assert_entity();
        quote_spanned! {target.span()=>
            const _: () = #assert_entity::<#target>();
        }
    });
    quote! {
        #is_entity
        #is_field_type
    }
}

/// `impl Entity for Struct`.
fn entity_impl(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let entity_trait = paths::entity_trait();
    let entity_meta = paths::entity_meta();
    let fields_struct = paths::fields_struct(ident);
    let row = paths::row();
    let error = paths::error();
    let decode_with = paths::decode_with();
    let field_type = paths::field_type();

    let name = ident.to_string();
    let table = &entity.table;
    let field_metas = entity.fields.iter().map(field_meta);
    let index_of = |role| match entity.with_role(role) {
        Some(f) => {
            let index = Literal::usize_unsuffixed(f.index);
            quote!(::core::option::Option::Some(#index))
        }
        None => quote!(::core::option::Option::None),
    };
    let pk = entity.with_role(Role::PrimaryKey);
    let pk_index = Literal::usize_unsuffixed(pk.map_or(0, |f| f.index));
    let pk_ident = pk.map(|f| f.ident);
    let modified = index_of(Role::Modified);
    let created = index_of(Role::Created);
    let remote = if entity.synced {
        let synced = paths::synced_trait();
        quote!(::core::option::Option::Some(<#ident as #synced>::remote_any))
    } else {
        quote!(::core::option::Option::None)
    };

    // `FieldType` is named at the field's type (as in `type_assertions`), so an unsupported type
    // yields one diagnostic, there, however often the type is used.
    let row_values = entity.fields.iter().map(|f| {
        let (field, ty) = (f.ident, f.ty);
        let to_value = quote_spanned!(ty.span()=> <#ty as #field_type>::to_value);
        quote!(#to_value(&self.#field))
    });
    let values = paths::local("values");
    let meta = paths::local("meta");
    let decoded = entity.fields.iter().map(|f| {
        let (field, ty) = (f.ident, f.ty);
        let index = Literal::usize_unsuffixed(f.index);
        let from_value = quote_spanned!(ty.span()=> <#ty as #field_type>::from_value);
        quote! {
            #field: #decode_with(
                #meta,
                #index,
                ::core::iter::Iterator::next(&mut #values),
                #from_value,
            )?
        }
    });
    let sql = super::sql::entity_sql(entity);
    let table_consts = super::sql::table_consts(entity);
    let row_param = paths::local("row");
    let pk_param = paths::local("pk");

    quote! {
        #[automatically_derived]
        impl #entity_trait for #ident {
            const META: &'static #entity_meta = &#entity_meta {
                name: #name,
                table: #table,
                fields: &[#(#field_metas),*],
                pk: #pk_index,
                modified: #modified,
                created: #created,
                remote: #remote,
                sql: #sql,
            };
            #table_consts
            type Fields = #fields_struct;
            fn fields() -> #fields_struct {
                #ident::fields()
            }
            fn to_row(&self) -> #row {
                ::std::vec::Vec::from([#(#row_values),*])
            }
            fn from_row(#row_param: #row) -> ::core::result::Result<Self, #error> {
                let #meta = <Self as #entity_trait>::META;
                let mut #values = ::core::iter::IntoIterator::into_iter(#row_param);
                ::core::result::Result::Ok(#ident {
                    #(#decoded,)*
                })
            }
            fn pk(&self) -> i64 {
                self.#pk_ident
            }
            fn set_pk(&mut self, #pk_param: i64) {
                self.#pk_ident = #pk_param;
            }
        }
    }
}

/// One `FieldMeta` literal.
fn field_meta(f: &Field) -> TokenStream {
    let field_meta = paths::field_meta();
    let field_type = paths::field_type();
    let references = paths::references();
    let is_option_set = paths::is_option_set();
    let role = paths::role();
    let ty = f.ty;
    let (name, column) = (&f.name, &f.column);
    let role = match f.role {
        Role::Plain => quote!(#role::Plain),
        Role::PrimaryKey => quote!(#role::PrimaryKey),
        Role::Modified => quote!(#role::Modified),
        Role::Created => quote!(#role::Created),
    };
    let unique = f.attrs.unique.is_some();
    let indexed = f.attrs.index.is_some();
    let renamed_from = match &f.attrs.renamed_from {
        Some(old) => {
            let old = &old.value;
            quote!(::core::option::Option::Some(#old))
        }
        None => quote!(::core::option::Option::None),
    };
    let default = column_default(f);
    quote! {
        #field_meta {
            name: #name,
            column: #column,
            kind: <#ty as #field_type>::KIND,
            nullable: <#ty as #field_type>::NULLABLE,
            role: #role,
            references: #references::<#ty>(),
            unique: #unique,
            indexed: #indexed,
            renamed_from: #renamed_from,
            option_set: #is_option_set::<#ty>(),
            default: #default,
        }
    }
}

/// The `FieldMeta::default` of `f`: `None`, or the literal checked against the field's type
/// (`let _: <T as DefaultLiteral>::Literal = <literal>;`, spanned at the literal, so a literal
/// of another type is reported there) and its value.
fn column_default(f: &Field) -> TokenStream {
    let Some(default) = &f.attrs.default else {
        return quote!(::core::option::Option::None);
    };
    let column_default = paths::column_default();
    let default_literal = paths::default_literal();
    let (ty, expr) = (f.ty, &default.value.expr);
    let value = match &default.value.lit {
        DefaultLit::Str(s) => {
            let s = Literal::string(s);
            quote!(#column_default::Text(#s))
        }
        DefaultLit::Int(i) => {
            let i = Literal::i64_unsuffixed(*i);
            quote!(#column_default::Int(#i))
        }
        DefaultLit::Float(x) => {
            let x = Literal::f64_unsuffixed(*x);
            quote!(#column_default::Float(#x))
        }
        DefaultLit::Bool(b) => quote!(#column_default::Bool(#b)),
    };
    let check = quote_spanned! {expr.span()=>
        let _: <#ty as #default_literal>::Literal = #expr;
    };
    quote! {
        {
            #check
            ::core::option::Option::Some(#value)
        }
    }
}

/// `impl Struct { fields(), objects() }`.
pub(super) fn inherent_impl(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let fields_struct = paths::fields_struct(ident);
    let handle = paths::field_handle();
    let db = paths::db();
    let query_set = paths::query_set();
    let handles = entity.fields.iter().map(|f| {
        let field = f.ident;
        let index = Literal::usize_unsuffixed(f.index);
        quote!(#field: #handle::new(#index))
    });
    let fields_doc = format!(
        " Typed handles on the fields of `{ident}`, for building queries: \
         `{ident}::fields().<field>.<lookup>(...)`."
    );
    let objects_doc = format!(" All rows of `{ident}` in `db`, as a lazy query.");
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #fields_doc]
            pub const fn fields() -> #fields_struct {
                #fields_struct {
                    #(#handles,)*
                }
            }
            #[doc = #objects_doc]
            pub fn objects(db: &#db) -> #query_set<#ident> {
                #query_set::new(db)
            }
        }
    }
}
