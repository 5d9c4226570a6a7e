//! `CREATE TABLE` / `CREATE INDEX` statements from [`EntityMeta`].

use super::quote_ident;
use crate::entity::{ColumnDefault, EntityMeta, FieldMeta, Role};
use crate::store::Backend;
use crate::value::Kind;

/// The SQL type of a (non primary key) column of kind `kind`.
pub const fn column_type(backend: Backend, kind: Kind) -> &'static str {
    match (backend, kind) {
        (Backend::Sqlite, Kind::Bool | Kind::Int32 | Kind::Int64) => "INTEGER",
        (Backend::Sqlite, Kind::Float) => "REAL",
        (Backend::Sqlite, Kind::Text) => "TEXT",
        (Backend::Sqlite, Kind::Decimal | Kind::DateTime | Kind::Date | Kind::Uuid) => "TEXT",
        (Backend::Postgres, Kind::Bool) => "BOOLEAN",
        (Backend::Postgres, Kind::Int32) => "INTEGER",
        (Backend::Postgres, Kind::Int64) => "BIGINT",
        (Backend::Postgres, Kind::Float) => "DOUBLE PRECISION",
        // Byte-order collation, so text orders as on SQLite.
        (Backend::Postgres, Kind::Text) => "TEXT COLLATE \"C\"",
        (Backend::Postgres, Kind::Decimal) => "NUMERIC",
        (Backend::Postgres, Kind::DateTime) => "TIMESTAMPTZ",
        (Backend::Postgres, Kind::Date) => "DATE",
        (Backend::Postgres, Kind::Uuid) => "UUID",
    }
}

fn column_def(backend: Backend, field: &FieldMeta) -> String {
    let name = quote_ident(field.column);
    if field.role == Role::PrimaryKey {
        return match backend {
            Backend::Sqlite => format!("{name} INTEGER PRIMARY KEY AUTOINCREMENT"),
            Backend::Postgres => format!("{name} BIGSERIAL PRIMARY KEY"),
        };
    }
    let mut def = format!("{name} {}", column_type(backend, field.kind));
    def.push_str(if field.nullable { " NULL" } else { " NOT NULL" });
    if let Some(default) = field
        .default
        .as_ref()
        .and_then(|d| default_literal(backend, d))
    {
        def.push_str(" DEFAULT ");
        def.push_str(&default);
    }
    if field.unique {
        def.push_str(" UNIQUE");
    }
    def
}

/// A declared default as an SQL literal on `backend` (DDL cannot bind it): a text between
/// single quotes with quotes doubled, a number, `TRUE`/`FALSE` (`1`/`0` on SQLite, where bools
/// are integers). `None` for a float that is not finite (no literal spells it).
pub fn default_literal(backend: Backend, default: &ColumnDefault) -> Option<String> {
    Some(match *default {
        ColumnDefault::Text(s) => format!("'{}'", s.replace('\'', "''")),
        ColumnDefault::Int(i) => i.to_string(),
        ColumnDefault::Float(x) if x.is_finite() => format!("{x:?}"),
        ColumnDefault::Float(_) => return None,
        ColumnDefault::Bool(b) => match (backend, b) {
            (Backend::Sqlite, true) => "1".to_owned(),
            (Backend::Sqlite, false) => "0".to_owned(),
            (Backend::Postgres, true) => "TRUE".to_owned(),
            (Backend::Postgres, false) => "FALSE".to_owned(),
        },
    })
}

/// `CREATE TABLE IF NOT EXISTS` for `meta`: the primary key assigned by the database, `NOT NULL`
/// unless the field is optional, `UNIQUE` for unique fields, and a foreign key for each
/// reference (to the referenced entity's primary key; deleting a referenced row is refused).
pub fn create_table(backend: Backend, meta: &EntityMeta) -> String {
    // The derive's fixed text carries no declared column defaults: build those tables.
    if meta.fields.iter().all(|f| f.default.is_none()) {
        if let Some(text) = meta.sql.and_then(|s| s.of(backend).create_table) {
            return text.to_owned();
        }
    }
    built_create_table(backend, meta)
}

/// [`create_table`] built from the metadata (what the derive's fixed text must equal).
pub fn built_create_table(backend: Backend, meta: &EntityMeta) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {}",
        table_definition(backend, meta, meta.table)
    )
}

/// `"name" (columns and constraints of meta)`: the definition [`create_table`] gives `meta`,
/// under another name (a table rebuild creates it as `new_<table>` first).
pub fn table_definition(backend: Backend, meta: &EntityMeta, name: &str) -> String {
    let mut parts: Vec<String> = meta.fields.iter().map(|f| column_def(backend, f)).collect();
    for field in meta.fields {
        if let Some(target) = field.references {
            let target = target();
            parts.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} ({})",
                quote_ident(field.column),
                quote_ident(target.table),
                quote_ident(target.pk_field().column)
            ));
        }
    }
    format!("{} (\n  {}\n)", quote_ident(name), parts.join(",\n  "))
}

/// The name of the index on `columns` of `table`.
pub fn index_name(table: &str, columns: &[&str]) -> String {
    format!("{table}__{}", columns.join("__"))
}

/// The single-column indexes of `meta`, besides its primary key and unique columns: one per
/// reference column and `#[entity(index)]` field (not already unique) and one on the
/// `modified` field.
pub fn indexed_columns(meta: &EntityMeta) -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = meta
        .fields
        .iter()
        .filter(|f| {
            (f.references.is_some() || f.indexed) && !f.unique && f.role != Role::PrimaryKey
        })
        .map(|f| f.column)
        .collect();
    if let Some(i) = meta.modified {
        if let Some(f) = meta.fields.get(i) {
            if !f.unique && !columns.contains(&f.column) {
                columns.push(f.column);
            }
        }
    }
    columns
}

/// `CREATE INDEX IF NOT EXISTS` statements for `meta`, one per [`indexed_columns`].
pub fn create_indexes(meta: &EntityMeta) -> Vec<String> {
    indexed_columns(meta)
        .into_iter()
        .map(|c| create_index(meta.table, &[c]))
        .collect()
}

/// `CREATE INDEX IF NOT EXISTS` on `columns` of `table`.
pub fn create_index(table: &str, columns: &[&str]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        quote_ident(&index_name(table, columns)),
        quote_ident(table),
        cols.join(", ")
    )
}
