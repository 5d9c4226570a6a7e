//! The live schema of the database, what the entities expect, and the plan between them.
//!
//! - [`introspect`] reads the live schema (tables, columns, types, nullability, unique
//!   constraints, foreign keys, indexes) from SQLite's pragmas or PostgreSQL's catalogs into a
//!   [`Schema`];
//! - [`expected`] builds the [`Schema`] the store's DDL creates for a list of entities;
//! - [`plan`] compares the two and lists typed [`Step`]s, each safe (applied by
//!   [`Db::migrate`](super::Db::migrate)) or risky (only applied from a reviewed migration file,
//!   see [`files`]).

pub mod files;
pub mod introspect;
pub mod plan;
pub mod render;

use std::collections::BTreeMap;

use super::sql::ddl;
use super::Backend;
use crate::entity::{EntityMeta, Role};
use crate::value::Kind;

pub use files::{AppliedMigration, Drift, MigrationError, MigrationFile, MIGRATIONS_TABLE};
pub use plan::{Plan, Rebuild, Risk, Step};

/// A database schema: tables by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// The tables, by name.
    pub tables: BTreeMap<String, Table>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table name.
    pub name: String,
    /// The columns in table order.
    pub columns: Vec<Column>,
    /// Every index, including those behind unique constraints (`constraint` set).
    pub indexes: Vec<Index>,
    /// The foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// The column called `name` (case-insensitive, as both databases fold unquoted names).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Whether a unique index or constraint covers exactly `column`.
    pub fn is_unique(&self, column: &str) -> bool {
        self.indexes
            .iter()
            .any(|i| i.unique && !i.primary && i.columns.len() == 1 && i.columns[0] == column)
    }

    /// The foreign key on exactly `column`, if any.
    pub fn foreign_key(&self, column: &str) -> Option<&ForeignKey> {
        self.foreign_keys
            .iter()
            .find(|f| f.columns.len() == 1 && f.columns[0] == column)
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// The type as the backend reports it, normalized (see [`column_type`]).
    pub sql_type: String,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
    /// Whether the column is (part of) the primary key.
    pub primary_key: bool,
    /// The column default, normalized (see [`normalize_default`]): `None` when there is none.
    pub default: Option<String>,
}

/// A column default as the backend reports it (SQLite's `dflt_value`, PostgreSQL's
/// `column_default`) reduced to the value it spells: outer parentheses and a trailing
/// `::type` cast removed, a quoted text unquoted; `NULL` is no default.
pub fn normalize_default(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    while let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        s = inner.trim();
    }
    if let Some(rest) = s.strip_prefix('\'') {
        let mut text = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\'' {
                text.push(c);
            } else if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                text.push('\'');
                chars.next();
            } else {
                let after = rest[i + 1..].trim();
                if after.is_empty() || after.starts_with("::") {
                    return Some(text);
                }
                break;
            }
        }
        return Some(s.to_owned());
    }
    let s = s.split("::").next().unwrap_or(s).trim();
    let s = s.trim_start_matches('(').trim_end_matches(')').trim();
    if s.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(s.to_owned())
}

/// Whether two normalized defaults of a column of `kind` are the same value (numbers and bools
/// compared as values: `'-5'::integer` and `-5`, `TRUE`, `true` and `1` agree).
pub fn same_default(kind: Kind, a: Option<&str>, b: Option<&str>) -> bool {
    let (a, b) = match (a, b) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    let boolean = |s: &str| match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" => Some(true),
        "0" | "false" | "f" => Some(false),
        _ => None,
    };
    match kind {
        Kind::Int32 | Kind::Int64 => a
            .parse::<i64>()
            .ok()
            .is_some_and(|x| b.parse::<i64>().ok() == Some(x)),
        Kind::Float => a
            .parse::<f64>()
            .ok()
            .is_some_and(|x| b.parse::<f64>().ok() == Some(x)),
        Kind::Bool => boolean(a).is_some_and(|x| boolean(b) == Some(x)),
        _ => a == b,
    }
}

/// One index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index name.
    pub name: String,
    /// The indexed columns, in order.
    pub columns: Vec<String>,
    /// Whether the index is unique.
    pub unique: bool,
    /// Whether it is the primary key's index.
    pub primary: bool,
    /// Whether it belongs to a constraint (`UNIQUE` in the table definition) rather than to a
    /// `CREATE INDEX`: dropping it means altering the table.
    pub constraint: bool,
}

/// One foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
}

/// The normalized type of a column of `kind` (primary key: `primary_key`) on `backend`, in the
/// form [`introspect`] reports it: SQLite's declared type; PostgreSQL's `data_type`, followed by
/// `COLLATE "x"` when the column has a collation.
pub fn column_type(backend: Backend, kind: Kind, primary_key: bool) -> String {
    match backend {
        Backend::Sqlite if primary_key => "INTEGER".to_owned(),
        Backend::Sqlite => ddl::column_type(backend, kind).to_owned(),
        Backend::Postgres if primary_key => "bigint".to_owned(),
        Backend::Postgres => match kind {
            Kind::Bool => "boolean",
            Kind::Int32 => "integer",
            Kind::Int64 => "bigint",
            Kind::Float => "double precision",
            Kind::Text => "text COLLATE \"C\"",
            Kind::Decimal => "numeric",
            Kind::DateTime => "timestamp with time zone",
            Kind::Date => "date",
            Kind::Uuid => "uuid",
        }
        .to_owned(),
    }
}

/// The schema the store's DDL creates for `entities` on `backend` (index names as
/// [`ddl::index_name`] spells them; unique constraints keep the backend's own names, which
/// comparisons ignore).
pub fn expected(backend: Backend, entities: &[&'static EntityMeta]) -> Schema {
    let mut schema = Schema::default();
    for meta in entities {
        schema
            .tables
            .insert(meta.table.to_owned(), expected_table(backend, meta));
    }
    schema
}

/// The table [`ddl::create_table`] and [`ddl::create_indexes`] make for `meta`.
pub fn expected_table(backend: Backend, meta: &EntityMeta) -> Table {
    let columns = meta
        .fields
        .iter()
        .map(|f| {
            let primary_key = f.role == Role::PrimaryKey;
            Column {
                name: f.column.to_owned(),
                sql_type: column_type(backend, f.kind, primary_key),
                nullable: f.nullable && !primary_key,
                primary_key,
                default: f
                    .default
                    .as_ref()
                    .and_then(|d| ddl::default_literal(backend, d))
                    .and_then(|d| normalize_default(&d)),
            }
        })
        .collect();
    let mut indexes: Vec<Index> = meta
        .fields
        .iter()
        .filter(|f| f.unique && f.role != Role::PrimaryKey)
        .map(|f| Index {
            name: format!("{}_{}_key", meta.table, f.column),
            columns: vec![f.column.to_owned()],
            unique: true,
            primary: false,
            constraint: true,
        })
        .collect();
    indexes.extend(ddl::indexed_columns(meta).into_iter().map(|c| Index {
        name: ddl::index_name(meta.table, &[c]),
        columns: vec![c.to_owned()],
        unique: false,
        primary: false,
        constraint: false,
    }));
    let foreign_keys = meta
        .fields
        .iter()
        .filter_map(|f| {
            let target = (f.references?)();
            Some(ForeignKey {
                columns: vec![f.column.to_owned()],
                references: target.table.to_owned(),
                referenced_columns: vec![target.pk_field().column.to_owned()],
            })
        })
        .collect();
    Table {
        name: meta.table.to_owned(),
        columns,
        indexes,
        foreign_keys,
    }
}
