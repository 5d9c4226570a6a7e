//! Cross-field rules of the derives, checked on the model before anything is generated.
//!
//! Each rule records one error at the token to edit and validation goes on, so a struct with
//! several mistakes reports all of them. Type rules here are syntactic (the type as written);
//! the generated code additionally asserts trait bounds, which see through aliases.

use std::collections::HashMap;

use crate::attr::CdmsFieldAttrs;
use crate::ctxt::Ctxt;
use crate::model::{Entity, Field, Role, Synced};
use crate::ty;

/// Whether `s` is an ASCII identifier (`[A-Za-z_][A-Za-z0-9_]*`): the form of SQL names we
/// accept unquoted-compatible, and of CDMS property, entity and logical names.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The rules of `#[derive(Entity)]`.
pub fn entity(cx: &Ctxt, entity: &Entity) {
    if let Some(table) = &entity.attrs.table {
        if !is_identifier(&entity.table) {
            cx.error_at(
                &table.value,
                "a table name is letters, digits and `_`, not starting with a digit",
            );
        }
    }
    for field in &entity.fields {
        roles(cx, field);
    }
    one_with_role(cx, entity, Role::PrimaryKey, "primary_key");
    one_with_role(cx, entity, Role::Modified, "modified");
    one_with_role(cx, entity, Role::Created, "created");
    if entity.with_role(Role::PrimaryKey).is_none() && !entity.fields.is_empty() {
        cx.error_at(
            entity.ident,
            format_args!(
                "`{}` has no primary key; mark an `i64` field #[entity(primary_key)] \
                 (0 = not yet saved, the database assigns it)",
                entity.ident
            ),
        );
    } else if entity.fields.is_empty() {
        cx.error_at(
            entity.ident,
            "an entity needs fields, at least an `#[entity(primary_key)] id: i64`",
        );
    }
    columns(cx, entity);
    schema_keys(cx, entity);
}

/// `index`, `default` and `renamed_from`: an index that adds something, no default on the
/// primary key, a previous name that is a column name other than the current one and is not
/// claimed twice.
fn schema_keys(cx: &Ctxt, entity: &Entity) {
    let mut claimed: HashMap<String, &Field> = HashMap::new();
    for field in &entity.fields {
        if let Some(index) = &field.attrs.index {
            if field.role == Role::PrimaryKey || field.attrs.unique.is_some() {
                cx.error_at(
                    index,
                    "`index` is implied by `primary_key` and `unique` (they are indexed); remove it",
                );
            }
        }
        if let Some(default) = &field.attrs.default {
            if field.role == Role::PrimaryKey {
                cx.error_at(
                    &default.key,
                    "the primary key is assigned by the database; remove `default`",
                );
            }
        }
        let Some(old) = &field.attrs.renamed_from else {
            continue;
        };
        let name = old.value.value();
        if !is_identifier(&name) {
            cx.error_at(
                &old.value,
                "a previous column name is letters, digits and `_`, not starting with a digit",
            );
        } else if name.eq_ignore_ascii_case(&field.column) {
            cx.error_at(
                &old.value,
                format_args!("`renamed_from` names the current column `{}`; remove it once the rename is applied", field.column),
            );
        } else if let Some(other) = entity
            .fields
            .iter()
            .find(|f| f.column.eq_ignore_ascii_case(&name))
        {
            cx.error_at(
                &old.value,
                format_args!(
                    "column `{name}` still exists as field `{}`; a renamed column has one new name",
                    other.ident
                ),
            );
        } else if let Some(first) = claimed.get(&name.to_ascii_lowercase()) {
            cx.error_at(
                &old.value,
                format_args!(
                    "column `{name}` is already renamed to field `{}`",
                    first.ident
                ),
            );
        } else {
            claimed.insert(name.to_ascii_lowercase(), field);
        }
    }
}

/// Roles of one field: at most one, each on a type that fits it.
fn roles(cx: &Ctxt, field: &Field) {
    let a = &field.attrs;
    let keys = [&a.primary_key, &a.modified, &a.created];
    let mut set = keys.iter().filter_map(|k| k.as_ref());
    if let Some(first) = set.next() {
        for extra in set {
            cx.error_at(
                extra,
                format_args!(
                    "`{}` conflicts with `{}`: a field has one role",
                    extra
                        .get_ident()
                        .map_or_else(String::new, ToString::to_string),
                    first
                        .get_ident()
                        .map_or_else(String::new, ToString::to_string)
                ),
            );
        }
    }
    match field.role {
        Role::PrimaryKey => {
            if !ty::is_plain(field.ty, "i64") {
                cx.error_at(
                    field.ty,
                    "the primary key is an `i64` (0 = not yet saved, the database assigns it)",
                );
            }
            if let Some(unique) = &a.unique {
                cx.error_at(unique, "`unique` is implied by `primary_key`; remove it");
            }
        }
        Role::Modified => {
            if !ty::is_named(field.ty, "DateTime") {
                cx.error_at(field.ty, "the `modified` field is a `DateTime<Utc>`");
            }
        }
        Role::Created => {
            if !ty::is_named(ty::strip_option(field.ty), "DateTime") {
                cx.error_at(
                    field.ty,
                    "the `created` field is a `DateTime<Utc>` or `Option<DateTime<Utc>>`",
                );
            }
        }
        Role::Plain => {}
    }
}

/// At most one field with `role`; the second and later are reported at their key.
fn one_with_role(cx: &Ctxt, entity: &Entity, role: Role, key: &str) {
    let mut with = entity.fields.iter().filter(|f| f.role == role);
    let Some(first) = with.next() else { return };
    for extra in with {
        let at = match role {
            Role::PrimaryKey => extra.attrs.primary_key.as_ref(),
            Role::Modified => extra.attrs.modified.as_ref(),
            Role::Created => extra.attrs.created.as_ref(),
            Role::Plain => None,
        };
        if let Some(at) = at {
            cx.error_at(
                at,
                format_args!("a second #[entity({key})] field; `{}` already is one, an entity has at most one", first.ident),
            );
        }
    }
}

/// Column names: identifiers, unique (case-insensitively, as both databases fold them).
fn columns(cx: &Ctxt, entity: &Entity) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in &entity.fields {
        if let Some(column) = &field.attrs.column {
            if !is_identifier(&field.column) {
                cx.error_at(
                    &column.value,
                    "a column name is letters, digits and `_`, not starting with a digit",
                );
                continue;
            }
        }
        match seen.get(&field.column.to_ascii_lowercase()) {
            Some(first) => {
                let at: &dyn quote::ToTokens = match &field.attrs.column {
                    Some(c) => &c.value,
                    None => field.ident,
                };
                cx.error_at(
                    at,
                    format_args!(
                        "column `{}` is already used by field `{}`",
                        field.column, first.ident
                    ),
                );
            }
            None => {
                seen.insert(field.column.to_ascii_lowercase(), field);
            }
        }
    }
}

/// The rules of `#[derive(CdmsSynced)]`.
pub fn synced(cx: &Ctxt, synced: &Synced) {
    let entity = &synced.entity;
    container(cx, synced);
    if entity.with_role(Role::Modified).is_none() {
        cx.error_at(
            entity.ident,
            "a CDMS-synced entity needs a `modified` field, compared with CDMS's ModifiedOn: \
             add `#[entity(modified)] modified_on: DateTime<Utc>`",
        );
    }
    for (field, attrs) in entity.fields.iter().zip(&synced.field_attrs) {
        field_keys(cx, field, attrs);
        null_default(cx, field, attrs);
        crate::read_only::check(cx, field, attrs);
        relationship(cx, field, attrs);
    }
    ids(cx, synced);
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for property in &synced.properties {
        // Derived names are valid when the service is; only written names are checked.
        if property.explicit && !is_identifier(&property.name) {
            cx.error_span(property.name_span, "a CDMS property name is letters, digits and `_` (case-sensitive: `Name`, `optevia_Country`)");
            continue;
        }
        match seen.get(&property.name.to_ascii_lowercase()) {
            Some(first) => cx.error_span(
                property.name_span,
                format_args!(
                    "CDMS property `{}` is already mapped by field `{first}`",
                    property.name
                ),
            ),
            None => {
                seen.insert(property.name.to_ascii_lowercase(), property.ident);
            }
        }
    }
}

/// `service` present and well-formed; `logical_name` well-formed.
fn container(cx: &Ctxt, synced: &Synced) {
    match &synced.attrs.service {
        None => cx.error_at(
            synced.entity.ident,
            "missing #[cdms(service = \"...\")]: the CRM entity name, e.g. #[cdms(service = \"Account\")] for AccountSet",
        ),
        Some(service) if !is_identifier(&synced.service) => {
            cx.error_at(&service.value, "a CDMS service name is letters, digits and `_`, e.g. \"Account\" or \"optevia_country\"");
        }
        Some(_) => {}
    }
    if let Some(logical) = &synced.attrs.logical_name {
        if !is_identifier(&synced.logical_name) {
            cx.error_at(
                &logical.value,
                "a logical name is letters, digits and `_`, e.g. \"account\"",
            );
        }
    }
}

/// The keys of one field: present where required, compatible with each other and with the type.
fn field_keys(cx: &Ctxt, field: &Field, attrs: &CdmsFieldAttrs) {
    if field.role == Role::PrimaryKey {
        if let Some(attr) = &attrs.attr {
            cx.error_at(attr, "the local primary key is not synced; remove #[cdms(...)] (the CDMS id is a separate `Option<Uuid>` field marked #[cdms(id)])");
        }
        return;
    }
    let mapped = attrs.field.is_some() || attrs.id.is_some() || attrs.skip.is_some();
    if !mapped && !attrs.invalid && matches!(field.role, Role::Plain) {
        cx.error_at(
            field.ident,
            format_args!(
                "field `{}` is not mapped to CDMS; add #[cdms(field = \"PropertyName\")], or #[cdms(skip)] to keep it local",
                field.ident
            ),
        );
    }
    if let Some(skip) = &attrs.skip {
        for (key, name) in [
            (attrs.field.as_ref().map(|k| &k.key), "field"),
            (attrs.id.as_ref(), "id"),
            (attrs.money.as_ref(), "money"),
            (attrs.with.as_ref().map(|k| &k.key), "with"),
            (attrs.version.as_ref().map(|k| &k.key), "version"),
            (attrs.null.as_ref().map(|k| &k.key), "null"),
            (attrs.read_only.as_ref(), "read_only"),
            (attrs.relationship.as_ref().map(|k| &k.key), "relationship"),
        ] {
            if let Some(key) = key {
                cx.error_at(
                    key,
                    format_args!("`{name}` conflicts with `skip`: a skipped field is local-only"),
                );
            }
        }
        if matches!(field.role, Role::Modified | Role::Created) {
            cx.error_at(skip, "the `modified` and `created` fields mirror CDMS's ModifiedOn and CreatedOn; they cannot be skipped");
        }
    }
    if let Some(version) = &attrs.version {
        if attrs.with.is_none() {
            cx.error_at(
                &version.key,
                "`version` is the version of a converter; it goes with `with`: \
                 #[cdms(field = \"Name\", with = path::to::module, version = 2)]",
            );
        } else if !matches!(version.value.base10_parse::<u32>(), Ok(v) if v >= 1) {
            cx.error_at(
                &version.value,
                "a converter version is a whole number from 1 (the version when not given); \
                 bump it when the converter maps values differently",
            );
        }
    }
    if let (Some(_), Some(money)) = (&attrs.with, &attrs.money) {
        cx.error_at(
            money,
            "`money` conflicts with `with`: the converter's KIND decides the CDMS type",
        );
    }
    if attrs.id.is_some() {
        if let Some(with) = &attrs.with {
            cx.error_at(&with.key, "the CDMS id field cannot use a converter");
        }
        if let Some(money) = &attrs.money {
            cx.error_at(money, "`money` conflicts with `id`");
        }
        let is_uuid = ty::option_inner(field.ty).is_some_and(|t| ty::is_plain(t, "Uuid"));
        if !is_uuid {
            cx.error_at(
                field.ty,
                "the CDMS id field is an `Option<Uuid>` (None until the record exists in CDMS)",
            );
        }
    }
    if let (Some(money), None) = (&attrs.money, &attrs.id) {
        if !ty::is_plain(ty::strip_option(field.ty), "Decimal") {
            cx.error_at(
                money,
                "`money` applies to `Decimal` and `Option<Decimal>` fields (CDMS Money)",
            );
        }
    }
}

/// `relationship = "..."`: names the CRM relationship behind a lookup, so only on a `Ref<T>`
/// field that is synced, and spelled as a CRM schema name.
fn relationship(cx: &Ctxt, field: &Field, attrs: &CdmsFieldAttrs) {
    let Some(relationship) = &attrs.relationship else {
        return;
    };
    if attrs.skip.is_some() {
        return; // reported as a conflict with `skip`
    }
    if field.reference.is_none() {
        cx.error_at(
            &relationship.key,
            "`relationship` names the CRM relationship behind a lookup; it applies to \
             `Ref<T>` and `Option<Ref<T>>` fields",
        );
        return;
    }
    if !is_identifier(&relationship.value.value()) {
        cx.error_at(
            &relationship.value,
            "a CRM relationship name is letters, digits and `_` (`contact_customer_accounts`)",
        );
    }
}

/// The field types whose default a CDMS null may stand for (`#[cdms(null = default)]`).
const NULL_DEFAULT_TYPES: &[&str] = &["String", "bool", "i32", "i64", "f64", "Decimal"];

/// `null = default`: only where a null cannot be stored as it is and the type has a default.
fn null_default(cx: &Ctxt, field: &Field, attrs: &CdmsFieldAttrs) {
    let Some(null) = &attrs.null else {
        return;
    };
    if attrs.skip.is_some() {
        return; // reported as a conflict with `skip`
    }
    if attrs.with.is_some() {
        cx.error_at(
            &null.key,
            "`null` conflicts with `with`: the converter's from_cdms decides what a null becomes",
        );
        return;
    }
    if attrs.id.is_some() || matches!(field.role, Role::Modified | Role::Created) {
        cx.error_at(
            &null.key,
            "`null = default` is not for the CDMS id, `modified` or `created` fields: CDMS always sets them",
        );
        return;
    }
    if ty::option_inner(field.ty).is_some() {
        cx.error_at(
            &null.key,
            "`null = default` is for non-optional fields; an `Option<_>` field takes CDMS's null as None",
        );
        return;
    }
    if !NULL_DEFAULT_TYPES.iter().any(|t| ty::is_plain(field.ty, t)) {
        cx.error_at(
            &null.key,
            "`null = default` applies to `String`, `bool`, `i32`, `i64`, `f64` and `Decimal` fields \
             (types with a default); make this field an `Option<_>` to take CDMS's null",
        );
    }
}

/// Exactly one `#[cdms(id)]` field.
fn ids(cx: &Ctxt, synced: &Synced) {
    let mut ids = synced.field_attrs.iter().filter_map(|a| a.id.as_ref());
    if ids.next().is_none() {
        if synced.attrs.service.is_some() {
            cx.error_at(
                synced.entity.ident,
                format_args!(
                    "no CDMS id field; add `#[cdms(field = \"{}Id\", id)] cdms_id: Option<Uuid>`",
                    synced.service
                ),
            );
        } else {
            cx.error_at(
                synced.entity.ident,
                "no CDMS id field; add `#[cdms(id)] cdms_id: Option<Uuid>`",
            );
        }
    }
    for extra in ids {
        cx.error_at(
            extra,
            "a second #[cdms(id)] field; an entity has one CDMS id",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn errors(input: syn::DeriveInput, synced_too: bool) -> Vec<String> {
        let cx = Ctxt::new();
        if let Some(e) = Entity::from_ast(&cx, &input, "Entity") {
            entity(&cx, &e);
        }
        if synced_too {
            if let Some(s) = Synced::from_ast(&cx, &input) {
                synced(&cx, &s);
            }
        }
        match cx.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn identifiers() {
        for ok in ["Name", "optevia_Country", "_x", "a1"] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "Name ", "a-b", "Ünïcode", "a.b"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn valid_entity_has_no_errors() {
        let input = parse_quote! {
            struct Country {
                #[entity(primary_key)] id: i64,
                #[entity(modified)] modified: DateTime<Utc>,
                #[entity(created)] created: Option<DateTime<Utc>>,
                #[entity(column = "country_name", unique)] name: String,
            }
        };
        assert_eq!(errors(input, false), Vec::<String>::new());
    }

    #[test]
    fn entity_rules() {
        let input = parse_quote! {
            struct Bad {
                #[entity(primary_key, modified)] id: i32,
                #[entity(primary_key)] other: i64,
                #[entity(modified)] m1: Option<DateTime<Utc>>,
                #[entity(column = "ID")] x: String,
                #[entity(column = "a b")] y: String,
            }
        };
        assert_eq!(
            errors(input, false),
            [
                "`modified` conflicts with `primary_key`: a field has one role",
                "the primary key is an `i64` (0 = not yet saved, the database assigns it)",
                "the `modified` field is a `DateTime<Utc>`",
                "a second #[entity(primary_key)] field; `id` already is one, an entity has at most one",
                "column `ID` is already used by field `id`",
                "a column name is letters, digits and `_`, not starting with a digit",
            ]
        );
    }

    #[test]
    fn missing_primary_key() {
        let input = parse_quote! { struct NoKey { name: String } };
        assert_eq!(errors(input, false).len(), 1);
    }

    #[test]
    fn synced_rules() {
        let input = parse_quote! {
            struct Org {
                #[entity(primary_key)] #[cdms(skip)] id: i64,
                #[cdms(field = "AccountId", id)] cdms_id: Option<String>,
                #[cdms(field = "Name")] name: String,
                #[cdms(field = "name")] other_name: String,
                #[cdms(field = "Revenue", money)] revenue: f64,
                #[cdms(skip, field = "X")] local: String,
                unmapped: bool,
            }
        };
        let errors = errors(input, true);
        let expected = [
            "missing #[cdms(service",
            "a CDMS-synced entity needs a `modified` field",
            "the local primary key is not synced",
            "the CDMS id field is an `Option<Uuid>`",
            "`money` applies to `Decimal`",
            "`field` conflicts with `skip`",
            "field `unmapped` is not mapped to CDMS",
            "CDMS property `name` is already mapped by field `name`",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (got, want) in errors.iter().zip(expected) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn null_default_rules() {
        let input = parse_quote! {
            #[cdms(service = "Account")]
            struct Org {
                #[entity(primary_key)] id: i64,
                #[cdms(field = "AccountId", id, null = default)] cdms_id: Option<Uuid>,
                #[entity(modified)] modified: DateTime<Utc>,
                #[cdms(field = "Name", null = default)] name: String,
                #[cdms(field = "DoNotEMail", null = default)] do_not_email: bool,
                #[cdms(field = "NumberOfEmployees", null = default)] employees: i32,
                #[cdms(field = "VersionNumber", null = default)] version: i64,
                #[cdms(field = "Address1_Latitude", null = default)] latitude: f64,
                #[cdms(field = "Revenue", money, null = default)] revenue: rust_decimal::Decimal,
                #[cdms(field = "AccountNumber", null = default)] number: Option<String>,
                #[cdms(field = "LastUsedInCampaign", null = default)] used: DateTime<Utc>,
                #[cdms(field = "Description", with = upper, null = default)] text: String,
                #[cdms(skip, null = default)] notes: String,
            }
        };
        let errors = errors(input, true);
        let expected = [
            "`null = default` is not for the CDMS id",
            "`null = default` is for non-optional fields",
            "`null = default` applies to `String`, `bool`, `i32`, `i64`, `f64` and `Decimal`",
            "`null` conflicts with `with`",
            "`null` conflicts with `skip`",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for want in expected {
            assert!(
                errors.iter().any(|got| got.starts_with(want)),
                "{want:?} missing from {errors:#?}"
            );
        }
    }

    #[test]
    fn synced_defaults_need_no_attributes() {
        let input: syn::DeriveInput = parse_quote! {
            #[cdms(service = "optevia_country")]
            struct Country {
                #[entity(primary_key)] id: i64,
                #[cdms(id)] cdms_id: Option<Uuid>,
                #[entity(modified)] modified: DateTime<Utc>,
                #[entity(created)] created: DateTime<Utc>,
            }
        };
        assert_eq!(errors(input.clone(), true), Vec::<String>::new());
        let cx = Ctxt::new();
        let model = Synced::from_ast(&cx, &input).expect("model");
        let names: Vec<&str> = model.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["optevia_countryId", "ModifiedOn", "CreatedOn"]);
        assert_eq!(model.set, "optevia_countrySet");
        assert_eq!(model.logical_name, "optevia_country");
    }
}
