//! Derive macros of cdms-sync. The logic lives in `cdms-codegen`; this crate only forwards.
//!
//! Use the derives through `cdms-runtime`, which re-exports them next to the traits they
//! implement (`use cdms_runtime::{Entity, CdmsSynced, OptionSet};`). The generated code refers to
//! `::cdms_runtime::__private` only, so the runtime must be a direct dependency named
//! `cdms_runtime`.
//!
//! `#[derive(Entity)]` is the local half and never mentions CDMS; `#[derive(CdmsSynced)]` adds
//! the CDMS mapping. Retiring CDMS means deleting the `#[cdms(...)]` attributes and
//! `CdmsSynced` from the derive lists: what remains compiles unchanged.

extern crate proc_macro;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Maps a struct to a local table (SQLite or PostgreSQL) and generates typed query handles.
///
/// # Generated items
///
/// - `impl Entity for S` (metadata: table, columns, kinds, roles, references; row conversion;
///   primary key access).
/// - `pub struct SFields` (same visibility as `S`): one `Field<S, T>` handle per field, for
///   building queries; returned by `S::fields()`.
/// - inherent `S::fields()` (a `const fn`) and `S::objects(&db) -> QuerySet<S>`.
///
/// # Attributes
///
/// On the struct:
///
/// | attribute | meaning |
/// |---|---|
/// | `#[entity(table = "name")]` | the table name; default: the struct name in snake_case |
///
/// On fields:
///
/// | attribute | meaning |
/// |---|---|
/// | `#[entity(primary_key)]` | the local primary key: exactly one, of type `i64`; `0` means not yet saved, the database assigns it on insert |
/// | `#[entity(modified)]` | when the row last changed: at most one, `DateTime<Utc>`; with CDMS it mirrors `ModifiedOn` |
/// | `#[entity(created)]` | when the record was created: at most one, `DateTime<Utc>` or `Option<DateTime<Utc>>`; with CDMS it is `CreatedOn` |
/// | `#[entity(column = "name")]` | the column name; default: the field name (without `r#`) |
/// | `#[entity(unique)]` | a unique index on the column |
/// | `#[entity(index)]` | a plain index on the column (references and `modified` have one already) |
/// | `#[entity(renamed_from = "old")]` | the column was called `old`: the migration plan renames it instead of dropping it and adding a new one |
/// | `#[entity(default = 0)]` | the column's declared default: a string, integer, float or `true`/`false` literal of the field's type (checked against it); the DDL carries it, and a new non-optional field with a default is a safe migration step |
///
/// Table and column names are letters, digits and `_`, and column names are unique ignoring
/// case.
///
/// # Field types
///
/// `String`, `bool`, `i32`, `i64`, `f64`, `rust_decimal::Decimal`, `chrono::DateTime<Utc>`,
/// `chrono::NaiveDate`, `uuid::Uuid`, `Ref<E>` (a foreign key to entity `E`), types deriving
/// [`OptionSet`](derive@OptionSet), and `Option<_>` of each (a nullable column). Any other type
/// fails to compile at the type, as does a `Ref<T>` whose `T` is not an entity.
///
/// # Example
///
/// ```ignore
/// use cdms_runtime::{Entity, Ref};
/// use chrono::{DateTime, Utc};
///
/// #[derive(Entity)]
/// #[entity(table = "meeting_note")]
/// pub struct Note {
///     #[entity(primary_key)]
///     pub id: i64,
///     #[entity(modified)]
///     pub modified_on: DateTime<Utc>,
///     #[entity(unique)]
///     pub title: String,
///     pub reply_to: Option<Ref<Note>>,
/// }
///
/// let recent = Note::objects(&db)
///     .filter(Note::fields().title.icontains("budget") & Note::fields().reply_to.isnull(true));
/// ```
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_entity(&input).into()
}

/// Maps an entity to a CDMS (Dynamics CRM 2011) entity set. Requires `#[derive(Entity)]` on the
/// same struct and the runtime's `cdms` feature.
///
/// # Generated items
///
/// `impl Synced for S`, whose `CDMS` constant (`CdmsMeta`) names the service, entity set,
/// logical name, the CDMS id field, and one `CdmsField` per mapped property (its CRM type and,
/// for `with = ...`, the converter). `EntityMeta::remote` of the entity points at it.
///
/// # Attributes
///
/// On the struct:
///
/// | attribute | meaning |
/// |---|---|
/// | `#[cdms(service = "Account")]` | required: the CRM entity schema name; the set is `AccountSet` |
/// | `#[cdms(logical_name = "account")]` | the logical name used in `EntityReference.LogicalName`; default: the service in lower case |
///
/// On fields:
///
/// | attribute | meaning |
/// |---|---|
/// | `#[cdms(field = "Name")]` | the CDMS property (case-sensitive schema name) |
/// | `#[cdms(id)]` | the CDMS primary key: exactly one field, of type `Option<Uuid>` (`None` until the record exists in CDMS); the property defaults to `<service>Id` |
/// | `#[cdms(money)]` | a `Decimal` (or `Option<Decimal>`) property of CRM type `Money` rather than `Decimal` |
/// | `#[cdms(with = path::to::module)]` | a custom converter (below) |
/// | `#[cdms(with = path::to::module, version = 2)]` | the converter's version (1 when not given): bump it when the converter maps values differently, and rows synced under the older one become stale for that property (the backfill fetches it again) |
/// | `#[cdms(skip)]` | a local-only field, never sent to or read from CDMS |
/// | `#[cdms(null = default)]` | a null from CDMS reads as the type's default (`""`, `false`, `0`); only on non-optional `String`, `bool`, `i32`, `i64`, `f64` and `Decimal` fields |
/// | `#[cdms(read_only)]` | read from CDMS, never written: left out of every create and MERGE body (system properties such as `CreatedBy`, `VersionNumber`); not on the id, `modified` or `created` fields |
/// | `#[cdms(relationship = "contact_customer_accounts")]` | on a `Ref<T>` / `Option<Ref<T>>` field: the schema name of the CRM relationship behind the lookup, carried in `CdmsField::relationship` (the navigation property `$expand` takes; the emulator serves it on both ends) |
///
/// # Nulls
///
/// CRM stores an empty string as null, and fields it requires only on its forms can be empty in
/// any record. A null for a non-optional field is a decode error naming the entity, the property
/// and the value, unless the field has `null = default`; an `Option<_>` field takes it as
/// `None`. For the same reason a create or save sending `""` for a non-optional `String` field
/// without `null = default` is refused before any request (`CdmsError::Encode`): CDMS would
/// keep a null the local field could not read back. `null` excludes `with` (the converter sees
/// the null), `skip`, `id` and the `modified`/`created` fields.
///
/// Every field except the local primary key carries `field = ...`, `id` or `skip`; the
/// `#[entity(modified)]` field (required) maps to `ModifiedOn` and the `#[entity(created)]` field
/// to `CreatedOn` unless given `field = ...`, and neither can be skipped. Property names are
/// letters, digits and `_` and unique (ignoring case). `skip` excludes every other key; `money`
/// excludes `with`. A `Ref<T>` field is a lookup (`EntityReference`) and `T` must be synced too.
///
/// The CRM type of a property is inferred from the field type: `String` → String, `bool` →
/// Boolean, `i32` → Int32, `i64` → Int64, `f64` → Double, `Decimal` → Decimal (Money with
/// `money`), `DateTime<Utc>` and `NaiveDate` → DateTime, `Uuid` → Guid, option sets →
/// OptionSetValue, `Ref<_>` → EntityReference.
///
/// # Converters
///
/// `with = m` names a module providing, for a field of type `T`:
///
/// ```ignore
/// pub const KIND: cdms_runtime::cdms::CdmsKind;
/// pub fn from_cdms(json: &J) -> Result<T, E>; // J: DeserializeOwned, E: Display
/// pub fn to_cdms(value: &T) -> serde_json::Value;
/// ```
///
/// The functions see the property's raw JSON (as CDMS sends and accepts it). `J` is
/// `serde_json::Value` for the JSON tree, or any type that deserializes from the property's
/// JSON: the record decoder then reads the property straight into it, without a tree (as
/// `cdms_runtime::cdms::lookup::raw_id` does). Conditions on such a field are never translated
/// into `$filter`; they are applied locally.
///
/// # Example
///
/// ```ignore
/// use cdms_runtime::{CdmsSynced, Entity, Ref};
/// use chrono::{DateTime, Utc};
/// use rust_decimal::Decimal;
/// use uuid::Uuid;
///
/// #[derive(Entity, CdmsSynced)]
/// #[entity(table = "organisation")]
/// #[cdms(service = "Account")]
/// pub struct Organisation {
///     #[entity(primary_key)]
///     pub id: i64,
///     #[cdms(field = "AccountId", id)]
///     pub cdms_id: Option<Uuid>,
///     #[entity(modified)]
///     pub modified_on: DateTime<Utc>,
///     #[cdms(field = "Name")]
///     pub name: String,
///     #[cdms(field = "Revenue", money)]
///     pub revenue: Option<Decimal>,
///     #[cdms(field = "Address1_PostalCode", with = crate::convert::postcode)]
///     pub postcode: Option<String>,
///     #[cdms(field = "optevia_Country")]
///     pub country: Option<Ref<Country>>,
///     #[cdms(skip)]
///     pub notes: Option<String>,
/// }
/// ```
#[proc_macro_derive(CdmsSynced, attributes(cdms))]
pub fn derive_cdms_synced(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_cdms_synced(&input).into()
}

/// Makes an integer-coded enum (or `i32` newtype) usable as an entity field: a CRM option set
/// (`OptionSetValue` in CDMS, an integer column locally).
///
/// # Forms
///
/// - A fieldless enum where every variant has an explicit `i32` code (`Male = 1`). Decoding an
///   unknown code is an error naming the type and the code.
/// - The same with one fallback variant `#[option_set(other)] Other(i32)` that receives every
///   unknown code (Rust then requires `#[repr(i32)]` on the enum).
/// - A newtype `struct Code(i32)` (or `pub i32`): any code, no names.
///
/// # Generated items
///
/// `impl FieldType` (kind `Int32`, shape `OptionSet`), `impl OptionSet` (`CODES`: the named
/// codes with their variant names), `impl From<T> for i32`; for enums also
/// `impl From<&T> for i32`, for newtypes `impl From<i32> for T`. No other trait (`Debug`,
/// `Clone`, ...) is required.
///
/// # Example
///
/// ```ignore
/// use cdms_runtime::OptionSet;
///
/// #[derive(Debug, Clone, Copy, PartialEq, OptionSet)]
/// #[repr(i32)]
/// pub enum IndustryCode {
///     Accounting = 1,
///     Brokers = 4,
///     #[option_set(other)]
///     Other(i32),
/// }
///
/// #[derive(Debug, Clone, Copy, PartialEq, OptionSet)]
/// pub struct CustomerType(pub i32);
/// ```
#[proc_macro_derive(OptionSet, attributes(option_set))]
pub fn derive_option_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    cdms_codegen::derive_option_set(&input).into()
}
