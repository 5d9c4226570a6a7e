//! The [`Entity`] trait implemented by `#[derive(Entity)]`, and the metadata it carries.

use crate::error::Error;
use crate::value::{Kind, Value};

/// What a field is for, beyond holding data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An ordinary column.
    Plain,
    /// The local primary key (`i64`, assigned by the database on insert).
    PrimaryKey,
    /// When the row last changed. With CDMS it mirrors `ModifiedOn`; without, the local clock.
    Modified,
    /// When the record was created. With CDMS it is `CreatedOn`.
    Created,
}

/// One field of an entity, as the store and the sync layer see it.
#[derive(Debug)]
pub struct FieldMeta {
    /// The Rust field name.
    pub name: &'static str,
    /// The SQL column name.
    pub column: &'static str,
    /// The storage kind.
    pub kind: Kind,
    /// Whether the column is nullable (`Option<_>`).
    pub nullable: bool,
    /// What the field is for.
    pub role: Role,
    /// The referenced entity, for [`crate::Ref`] fields.
    pub references: Option<fn() -> &'static EntityMeta>,
    /// Whether the column carries a unique index (`#[entity(unique)]`).
    pub unique: bool,
    /// Whether the column carries a plain index (`#[entity(index)]`).
    pub indexed: bool,
    /// The column's previous name (`#[entity(renamed_from = "old")]`): the migration plan
    /// renames that column instead of dropping it and adding this one.
    pub renamed_from: Option<&'static str>,
    /// Whether the field is an option set (integer codes).
    pub option_set: bool,
    /// The column's declared default (`#[entity(default = ...)]`): the DDL carries it, and a
    /// new `NOT NULL` column with a default is a safe migration step.
    pub default: Option<ColumnDefault>,
}

/// A column default declared with `#[entity(default = ...)]`: a literal of the field's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnDefault {
    /// A string (`Text` columns).
    Text(&'static str),
    /// An integer (`Int32`, `Int64` columns).
    Int(i64),
    /// A float (`Float` columns).
    Float(f64),
    /// A bool (`Bool` columns).
    Bool(bool),
}

/// Everything the runtime needs to know about an entity type.
#[derive(Debug)]
pub struct EntityMeta {
    /// The Rust type name.
    pub name: &'static str,
    /// The SQL table name.
    pub table: &'static str,
    /// All fields in declaration order; rows are vectors in this order.
    pub fields: &'static [FieldMeta],
    /// Index of the primary key field.
    pub pk: usize,
    /// Index of the `modified` field, if any.
    pub modified: Option<usize>,
    /// Index of the `created` field, if any.
    pub created: Option<usize>,
    /// The remote system's description of this entity, when one is derived for it
    /// (`#[derive(CdmsSynced)]`). Opaque to the local store.
    pub remote: Option<fn() -> &'static (dyn std::any::Any + Send + Sync)>,
}

impl EntityMeta {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<(usize, &'static FieldMeta)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
    /// The primary key field.
    pub fn pk_field(&self) -> &'static FieldMeta {
        &self.fields[self.pk]
    }
}

/// A row: one [`Value`] per field, in [`EntityMeta::fields`] order.
pub type Row = Vec<Value>;

/// A struct mapped to a local table. Implemented by `#[derive(Entity)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "not an entity",
    note = "add `#[derive(Entity)]` (and `#[entity(...)]` attributes) to `{Self}`"
)]
pub trait Entity: Sized + Send + Sync + Unpin + 'static {
    /// The entity's metadata.
    const META: &'static EntityMeta;
    /// The generated field handles (`<Struct>Fields`).
    type Fields;
    /// The field handles, for building queries: `Organisation::fields().name.icontains("acme")`.
    fn fields() -> Self::Fields;
    /// The metadata, as a function (usable where a `fn` pointer is needed).
    fn meta() -> &'static EntityMeta {
        Self::META
    }
    /// This value as a row.
    fn to_row(&self) -> Row;
    /// A row as a value; the error names the entity, field and value.
    fn from_row(row: Row) -> Result<Self, Error>;
    /// The local primary key (`0` before the first save).
    fn pk(&self) -> i64;
    /// Sets the local primary key (after an insert).
    fn set_pk(&mut self, pk: i64);
}
