//! The fixed SQL of `#[derive(Entity)]`: per backend, the column list and the statements whose
//! text does not depend on the values (insert, upsert, update, delete and select by key) as
//! string literals, and `CREATE TABLE` joined at compile time from literal pieces and each
//! field type's column type. The text is exactly what the store builds from the metadata
//! (`runtime/src/store/sql/`); a test compares them.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Entity, Field, Role};
use crate::paths;

/// The alias of the entity's table in the store's `SELECT`s (`MAIN_ALIAS`).
const MAIN_ALIAS: &str = "t0";

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// `name` double-quoted, embedded quotes doubled.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

fn placeholders(backend: Backend, count: usize) -> String {
    (1..=count)
        .map(|n| placeholder(backend, n))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Layout<'e, 'a> {
    entity: &'e Entity<'a>,
    table: String,
    pk: String,
    /// Every field but the primary key, in field order.
    data: Vec<&'e Field<'a>>,
}

impl<'e, 'a> Layout<'e, 'a> {
    fn new(entity: &'e Entity<'a>) -> Self {
        let pk = entity.with_role(Role::PrimaryKey);
        let pk_index = pk.map_or(0, |f| f.index);
        Layout {
            entity,
            table: ident(&entity.table),
            pk: ident(pk.map_or("", |f| f.column.as_str())),
            data: entity
                .fields
                .iter()
                .filter(|f| f.index != pk_index)
                .collect(),
        }
    }

    fn columns(&self) -> String {
        let cols: Vec<String> = self
            .entity
            .fields
            .iter()
            .map(|f| ident(&f.column))
            .collect();
        cols.join(", ")
    }

    fn data_columns(&self) -> String {
        let cols: Vec<String> = self.data.iter().map(|f| ident(&f.column)).collect();
        cols.join(", ")
    }

    fn insert(&self, backend: Backend) -> String {
        let table = &self.table;
        let pk = &self.pk;
        if self.data.is_empty() {
            return format!("INSERT INTO {table} DEFAULT VALUES RETURNING {pk}");
        }
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) RETURNING {pk}",
            self.data_columns(),
            placeholders(backend, self.data.len())
        )
    }

    /// The first unique field (not the primary key).
    fn upsert_key(&self) -> Option<&'e Field<'a>> {
        self.data.iter().copied().find(|f| f.attrs.unique.is_some())
    }

    fn upsert(&self, backend: Backend) -> Option<String> {
        let key = ident(&self.upsert_key()?.column);
        let sets: Vec<String> = self
            .data
            .iter()
            .map(|f| {
                let c = ident(&f.column);
                format!("{c} = excluded.{c}")
            })
            .collect();
        Some(format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({key}) DO UPDATE SET {} RETURNING {}, {key}",
            self.table,
            self.data_columns(),
            placeholders(backend, self.data.len()),
            sets.join(", "),
            self.pk
        ))
    }

    fn update(&self, backend: Backend) -> String {
        let pk = &self.pk;
        let sets = if self.data.is_empty() {
            format!("{pk} = {pk}")
        } else {
            let sets: Vec<String> = self
                .data
                .iter()
                .enumerate()
                .map(|(n, f)| format!("{} = {}", ident(&f.column), placeholder(backend, n + 1)))
                .collect();
            sets.join(", ")
        };
        format!(
            "UPDATE {} SET {sets} WHERE {pk} = {}",
            self.table,
            placeholder(backend, self.data.len() + 1)
        )
    }

    fn delete(&self, backend: Backend) -> String {
        format!(
            "DELETE FROM {} WHERE {} IN ({}) RETURNING {}",
            self.table,
            self.pk,
            placeholder(backend, 1),
            self.columns()
        )
    }

    fn select(&self, backend: Backend, for_update: bool) -> String {
        let alias = ident(MAIN_ALIAS);
        let cols: Vec<String> = self
            .entity
            .fields
            .iter()
            .map(|f| format!("{alias}.{}", ident(&f.column)))
            .collect();
        let lock = if for_update && backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        format!(
            "SELECT {} FROM {} AS {alias} WHERE ({alias}.{pk} = {}) ORDER BY {alias}.{pk} ASC{lock}",
            cols.join(", "),
            self.table,
            placeholder(backend, 1),
            pk = self.pk,
        )
    }

    /// `CREATE TABLE` as pieces joined at compile time; `None` when a field's type is a
    /// reference the derive cannot see (a type alias of `Ref<T>`): checked at compile time too.
    fn create_table(&self, backend: Backend) -> TokenStream {
        let piece = paths::sql("Piece");
        let column_type = paths::sql("column_type");
        let nullability = paths::sql("nullability");
        let sql_backend = paths::sql("Backend");
        let field_type = paths::field_type();
        let entity_trait = paths::entity_trait();
        let references = paths::references();
        let (len, bytes, text) = (paths::sql("len"), paths::sql("bytes"), paths::sql("text"));
        let backend_tokens = match backend {
            Backend::Sqlite => quote!(#sql_backend::Sqlite),
            Backend::Postgres => quote!(#sql_backend::Postgres),
        };
        let mut raw = format!("CREATE TABLE IF NOT EXISTS {} (\n  ", self.table);
        let mut pieces = Vec::new();
        let flush = |raw: &mut String, pieces: &mut Vec<TokenStream>| {
            if !raw.is_empty() {
                let lit = std::mem::take(raw);
                pieces.push(quote!(#piece::Raw(#lit)));
            }
        };
        for (n, f) in self.entity.fields.iter().enumerate() {
            if n > 0 {
                raw.push_str(",\n  ");
            }
            let name = ident(&f.column);
            if f.role == Role::PrimaryKey {
                raw.push_str(&match backend {
                    Backend::Sqlite => format!("{name} INTEGER PRIMARY KEY AUTOINCREMENT"),
                    Backend::Postgres => format!("{name} BIGSERIAL PRIMARY KEY"),
                });
                continue;
            }
            raw.push_str(&name);
            raw.push(' ');
            flush(&mut raw, &mut pieces);
            let ty = f.ty;
            let kind = quote_spanned!(ty.span()=> <#ty as #field_type>::KIND);
            let nullable = quote_spanned!(ty.span()=> <#ty as #field_type>::NULLABLE);
            pieces.push(quote!(#piece::Raw(#column_type(#backend_tokens, #kind))));
            pieces.push(quote!(#piece::Raw(#nullability(#nullable))));
            if f.attrs.unique.is_some() {
                raw.push_str(" UNIQUE");
            }
        }
        let mut unseen = Vec::new();
        for f in &self.entity.fields {
            let Some(target) = f.reference else {
                let ty = f.ty;
                unseen.push(quote!(#references::<#ty>().is_none()));
                continue;
            };
            raw.push_str(&format!(
                ",\n  FOREIGN KEY ({}) REFERENCES ",
                ident(&f.column)
            ));
            flush(&mut raw, &mut pieces);
            let self_ref = matches!(
                target,
                syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(self.entity.ident)
            );
            let (table, key) = if self_ref {
                let pk = self.entity.with_role(Role::PrimaryKey);
                let (table, key) = (&self.entity.table, pk.map_or("", |f| f.column.as_str()));
                (quote!(#table), quote!(#key))
            } else {
                (
                    quote!(<#target as #entity_trait>::TABLE),
                    quote!(<#target as #entity_trait>::PK_COLUMN),
                )
            };
            pieces.push(quote!(#piece::Ident(#table)));
            pieces.push(quote!(#piece::Raw(" (")));
            pieces.push(quote!(#piece::Ident(#key)));
            raw.push(')');
        }
        raw.push_str("\n)");
        flush(&mut raw, &mut pieces);
        let seen = if unseen.is_empty() {
            quote!(true)
        } else {
            quote!(#(#unseen)&&*)
        };
        quote! {{
            const PIECES: &[#piece] = &[#(#pieces),*];
            const LEN: usize = #len(PIECES);
            const BYTES: [u8; LEN] = #bytes::<LEN>(PIECES);
            if #seen {
                ::core::option::Option::Some(#text(&BYTES))
            } else {
                ::core::option::Option::None
            }
        }}
    }

    fn fixed(&self, backend: Backend) -> TokenStream {
        let fixed_sql = paths::fixed_sql();
        let columns = self.columns();
        let create_table = self.create_table(backend);
        let insert = self.insert(backend);
        let upsert = match self.upsert(backend) {
            Some(text) => quote!(::core::option::Option::Some(#text)),
            None => quote!(::core::option::Option::None),
        };
        let update = self.update(backend);
        let delete = self.delete(backend);
        let select = self.select(backend, false);
        let select_for_update = self.select(backend, true);
        quote! {
            #fixed_sql {
                columns: #columns,
                create_table: #create_table,
                insert: #insert,
                upsert: #upsert,
                update: #update,
                delete: #delete,
                select: #select,
                select_for_update: #select_for_update,
            }
        }
    }
}

/// The `sql` member of the entity's `EntityMeta`.
pub fn entity_sql(entity: &Entity) -> TokenStream {
    let layout = Layout::new(entity);
    let entity_sql = paths::entity_sql();
    let upsert_key = match layout.upsert_key() {
        Some(f) => {
            let i = Literal::usize_unsuffixed(f.index);
            quote!(::core::option::Option::Some(#i))
        }
        None => quote!(::core::option::Option::None),
    };
    let sqlite = layout.fixed(Backend::Sqlite);
    let postgres = layout.fixed(Backend::Postgres);
    quote! {
        ::core::option::Option::Some(&#entity_sql {
            upsert_key: #upsert_key,
            sqlite: #sqlite,
            postgres: #postgres,
        })
    }
}

/// `const TABLE` and `const PK_COLUMN` of `impl Entity`.
pub fn table_consts(entity: &Entity) -> TokenStream {
    let table = &entity.table;
    let pk = entity
        .with_role(Role::PrimaryKey)
        .map_or("", |f| f.column.as_str());
    quote! {
        const TABLE: &'static str = #table;
        const PK_COLUMN: &'static str = #pk;
    }
}
