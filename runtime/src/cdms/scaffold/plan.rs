//! Deciding, per property, the Rust field: its name, type, `#[cdms(...)]` keys and doc comment.
//!
//! The rules (README "Scaffold from CDMS" has the user-facing list):
//! - the key becomes `cdms_id: Option<Uuid>` (`#[cdms(id)]`, unique), beside the local
//!   `id: i64` primary key; `ModifiedOn` and `CreatedOn` become the `modified`/`created` fields;
//! - primitives map to `Option<_>` of their Rust type; a property declared `Nullable="false"`
//!   whose type has a default is the plain type with `null = default` (CRM stores `""` as null);
//! - Money is `Option<Decimal>` with `money`; an option set is an `Option<_>` of an `i32`
//!   newtype deriving `OptionSet` (the codes' labels are not in `$metadata`);
//! - a lookup whose single target set is scaffolded too is `Option<Ref<Target>>`; any other
//!   lookup keeps the raw target id (`Option<Uuid>` with the `lookup::raw_id` converter); a
//!   polymorphic lookup (several targets, or CRM's Customer and Owner lookups) also keeps the
//!   raw id and is `read_only`: writing it needs the target's logical name;
//! - system properties CDMS computes or stamps are `read_only`;
//! - types no field can hold (`BooleanManagedProperty`, binary, other complex types) are left out
//!   and listed in the module's documentation.

use std::collections::{BTreeSet, HashSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

use super::edmx::{EntitySet, Metadata, Property};
use super::Options;

/// CRM's polymorphic lookups by their standard schema names: Customer (`account` or
/// `contact`) and Owner (`systemuser` or `team`). `$metadata` does not say a lookup is
/// polymorphic.
const POLYMORPHIC: &[(&str, &str)] = &[
    ("CustomerId", "account or contact"),
    ("ParentCustomerId", "account or contact"),
    ("OwnerId", "systemuser or team"),
];

/// Properties CRM sets itself: never written.
const SYSTEM: &[&str] = &[
    "CreatedBy",
    "CreatedOnBehalfBy",
    "ModifiedBy",
    "ModifiedOnBehalfBy",
    "OwningBusinessUnit",
    "OwningUser",
    "OwningTeam",
    "VersionNumber",
    "ExchangeRate",
    "MasterId",
    "Merged",
    "Address1_AddressId",
    "Address2_AddressId",
    "Address3_AddressId",
];

/// Field names the scaffold uses itself.
const RESERVED: &[&str] = &["id", "cdms_id", "modified_on", "created_on"];

/// The Rust type of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// `bool`, `i32`, `i64`, `f64`, `String`, `Decimal`, `DateTime<Utc>`, `Uuid`.
    Plain(&'static str),
    /// An option set newtype of this module.
    OptionSet(String),
    /// `Ref<module::Struct>`.
    Ref {
        /// The target's module.
        module: String,
        /// The target's struct.
        ident: String,
    },
}

/// What a field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The CDMS id.
    Id,
    /// `ModifiedOn`.
    Modified,
    /// `CreatedOn`.
    Created,
    /// Any other property.
    Plain,
}

/// One generated field (the local primary key is not listed: every entity has it).
#[derive(Debug, Clone)]
pub(crate) struct FieldPlan {
    pub ident: String,
    pub property: String,
    pub role: Role,
    pub ty: FieldType,
    pub optional: bool,
    pub money: bool,
    pub null_default: bool,
    pub read_only: bool,
    /// `with = ::cdms_runtime::cdms::lookup::raw_id`.
    pub raw_lookup: bool,
    pub docs: Vec<String>,
}

/// One generated module.
#[derive(Debug, Clone)]
pub(crate) struct EntityPlan {
    pub set: String,
    pub service: String,
    pub module: String,
    pub ident: String,
    pub fields: Vec<FieldPlan>,
    /// `(type name, property)` of the option set newtypes.
    pub option_sets: Vec<(String, String)>,
    /// `(property, reason)` of what was left out.
    pub unmapped: Vec<(String, String)>,
    /// Modules of the scaffolded entities this one refers to (`Ref<T>`), itself excluded.
    pub refers_to: BTreeSet<String>,
}

/// Names of a scaffolded set: `(module, struct)`.
pub(crate) fn names(service: &str) -> (String, String) {
    let module = rust_ident(&service.to_snake_case());
    (module, type_ident(service, "E"))
}

/// The plan of one set. `chosen` are the scaffolded sets; `keep` says whether a property is
/// chosen by `only`/`exclude`.
pub(crate) fn entity(
    meta: &Metadata,
    set: &EntitySet,
    chosen: &HashSet<&str>,
    options: &Options,
    keep: &dyn Fn(&str) -> bool,
) -> EntityPlan {
    let ty = &set.ty;
    let (module, ident) = names(&ty.name);
    let mut plan = EntityPlan {
        set: set.name.clone(),
        service: ty.name.clone(),
        module,
        ident,
        fields: Vec::new(),
        option_sets: Vec::new(),
        unmapped: Vec::new(),
        refers_to: BTreeSet::new(),
    };
    let mut used: HashSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let mut type_names: HashSet<String> = HashSet::from([plan.ident.clone()]);
    for p in &ty.properties {
        let role = if p.name == ty.key {
            Role::Id
        } else if p.name == "ModifiedOn" && p.ty == "Edm.DateTime" {
            Role::Modified
        } else if p.name == "CreatedOn" && p.ty == "Edm.DateTime" {
            Role::Created
        } else {
            Role::Plain
        };
        if role == Role::Plain && !keep(&p.name) {
            continue;
        }
        let field = match role {
            Role::Id => Some(role_field(
                p,
                "cdms_id",
                role,
                FieldType::Plain("Uuid"),
                true,
            )),
            Role::Modified => Some(role_field(
                p,
                "modified_on",
                role,
                FieldType::Plain("DateTime<Utc>"),
                false,
            )),
            Role::Created => Some(role_field(
                p,
                "created_on",
                role,
                FieldType::Plain("DateTime<Utc>"),
                true,
            )),
            Role::Plain => plain_field(
                meta,
                set,
                p,
                chosen,
                options,
                &mut plan,
                &mut type_names,
                &mut used,
            ),
        };
        plan.fields.extend(field);
    }
    if !plan.fields.iter().any(|f| f.role == Role::Modified) {
        // Every CRM set has ModifiedOn; the derives need it to tell what is in sync.
        plan.fields.push(FieldPlan {
            docs: vec![
                "When CDMS last changed the record (`ModifiedOn`, server-managed; not declared \
                 in this `$metadata`, present on every CRM set)."
                    .to_owned(),
            ],
            ..role_field_named("ModifiedOn", "modified_on", Role::Modified)
        });
    }
    plan
}

fn role_field_named(property: &str, ident: &str, role: Role) -> FieldPlan {
    FieldPlan {
        ident: ident.to_owned(),
        property: property.to_owned(),
        role,
        ty: FieldType::Plain("DateTime<Utc>"),
        optional: false,
        money: false,
        null_default: false,
        read_only: false,
        raw_lookup: false,
        docs: Vec::new(),
    }
}

fn role_field(p: &Property, ident: &str, role: Role, ty: FieldType, optional: bool) -> FieldPlan {
    let doc = match role {
        Role::Id => format!(
            "The CDMS GUID (`{}`, `{}`, the key; `None` until the record exists in CDMS).",
            p.name, p.ty
        ),
        Role::Modified => format!(
            "When CDMS last changed the record (`{}`, `{}`, server-managed).",
            p.name, p.ty
        ),
        _ => format!(
            "When the record was created in CDMS (`{}`, `{}`, server-managed; `None` before it \
             is published).",
            p.name, p.ty
        ),
    };
    FieldPlan {
        ident: ident.to_owned(),
        property: p.name.clone(),
        role,
        ty,
        optional,
        money: false,
        null_default: false,
        read_only: false,
        raw_lookup: false,
        docs: vec![doc],
    }
}

#[allow(clippy::too_many_arguments)]
fn plain_field(
    meta: &Metadata,
    set: &EntitySet,
    p: &Property,
    chosen: &HashSet<&str>,
    options: &Options,
    plan: &mut EntityPlan,
    type_names: &mut HashSet<String>,
    used: &mut HashSet<String>,
) -> Option<FieldPlan> {
    let mut docs = vec![format!("`{}` (`{}`).", p.name, p.ty)];
    let system = SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&p.name))
        || (p.name.ends_with("_Base") && p.type_name() == "Money");
    let mut field = FieldPlan {
        ident: String::new(),
        property: p.name.clone(),
        role: Role::Plain,
        ty: FieldType::Plain("String"),
        optional: true,
        money: false,
        null_default: false,
        read_only: system,
        raw_lookup: false,
        docs: Vec::new(),
    };
    if p.is_primitive() {
        let rust = match p.type_name() {
            "String" => "String",
            "Boolean" => "bool",
            "Int32" | "Int16" | "Byte" | "SByte" => "i32",
            "Int64" => "i64",
            "Decimal" => "Decimal",
            "Double" | "Single" => "f64",
            "DateTime" => "DateTime<Utc>",
            "Guid" => "Uuid",
            other => {
                plan.unmapped.push((
                    p.name.clone(),
                    format!("`Edm.{other}`: no field type holds it"),
                ));
                return None;
            }
        };
        field.ty = FieldType::Plain(rust);
        let has_default = matches!(rust, "String" | "bool" | "i32" | "i64" | "f64" | "Decimal");
        if !p.nullable && has_default {
            field.optional = false;
            field.null_default = true;
            docs.push(
                "Declared not nullable; a null from CDMS (a blanked value) reads as the type's default."
                    .to_owned(),
            );
        }
    } else {
        match p.type_name() {
            "Money" => {
                field.ty = FieldType::Plain("Decimal");
                field.money = true;
            }
            "OptionSetValue" => {
                let name = unique_type(plan, type_names, &p.name);
                plan.option_sets.push((name.clone(), p.name.clone()));
                field.ty = FieldType::OptionSet(name);
                docs.push(
                    "An option set: its codes and their labels are not in `$metadata`, so the \
                     code is kept as is."
                        .to_owned(),
                );
            }
            "EntityReference" => lookup(meta, set, p, chosen, options, plan, &mut field, &mut docs),
            "BooleanManagedProperty" => {
                plan.unmapped.push((
                    p.name.clone(),
                    "`BooleanManagedProperty` (a solution-managed flag with `CanBeChanged`): no \
                     field type holds its three members"
                        .to_owned(),
                ));
                return None;
            }
            _ => {
                plan.unmapped.push((
                    p.name.clone(),
                    format!("`{}`: a complex type no field type holds", p.ty),
                ));
                return None;
            }
        }
    }
    if system {
        docs.push("Set by CDMS itself: read only, never written.".to_owned());
    }
    field.ident = unique_ident(used, &p.name);
    field.docs = docs;
    Some(field)
}

#[allow(clippy::too_many_arguments)]
fn lookup(
    meta: &Metadata,
    set: &EntitySet,
    p: &Property,
    chosen: &HashSet<&str>,
    options: &Options,
    plan: &mut EntityPlan,
    field: &mut FieldPlan,
    docs: &mut Vec<String>,
) {
    let given = options
        .lookups
        .iter()
        .find(|l| l.set == set.name && l.property == p.name)
        .map(|l| {
            l.targets
                .iter()
                .map(|t| meta.set(t).map_or_else(|| t.clone(), |s| s.ty.name.clone()))
                .collect::<Vec<_>>()
        });
    let declared = meta
        .targets
        .get(&(set.ty.name.clone(), p.name.clone()))
        .cloned();
    let targets = given.or(declared).unwrap_or_default();
    let standard = POLYMORPHIC
        .iter()
        .find(|(name, _)| *name == p.name)
        .map(|(_, what)| *what);
    let polymorphic = targets.len() > 1 || (targets.is_empty() && standard.is_some());
    field.ty = FieldType::Plain("Uuid");
    field.raw_lookup = true;
    if polymorphic {
        let what = if targets.is_empty() {
            standard.unwrap_or_default().to_owned()
        } else {
            targets.join(" or ").to_lowercase()
        };
        field.read_only = true;
        docs.push(format!(
            "A polymorphic lookup ({what}): the raw CDMS id of the target, read only, since \
             writing it needs the target's logical name."
        ));
        return;
    }
    let target_set = targets
        .first()
        .and_then(|t| meta.set_of_type(t))
        .filter(|s| chosen.contains(s.name.as_str()));
    match (targets.first(), target_set) {
        (Some(_), Some(target)) => {
            let (module, ident) = names(&target.ty.name);
            field.raw_lookup = false;
            if module != plan.module {
                plan.refers_to.insert(module.clone());
            }
            field.ty = FieldType::Ref { module, ident };
            docs.push(format!(
                "A lookup to `{}` ({}), a local reference.",
                target.ty.name.to_lowercase(),
                target.name
            ));
        }
        (Some(target), None) => docs.push(format!(
            "A lookup to `{}`, which is not scaffolded: the raw CDMS id of the target.",
            target.to_lowercase()
        )),
        (None, _) => docs.push(
            "A lookup whose target `$metadata` does not name: the raw CDMS id of the target."
                .to_owned(),
        ),
    }
}

/// A field name for `property` not used yet in the struct.
fn unique_ident(used: &mut HashSet<String>, property: &str) -> String {
    let base = rust_ident(&property.to_snake_case());
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// An option set type name: the struct's name, then the property's (not repeated when the
/// property already starts with it: `AccountCategoryCode` on `Account`).
fn unique_type(plan: &EntityPlan, used: &mut HashSet<String>, property: &str) -> String {
    let camel = type_ident(property, "P");
    let base = if camel.starts_with(&plan.ident) && camel != plan.ident {
        camel
    } else {
        format!("{}{camel}", plan.ident)
    };
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// `s` in upper camel case, ASCII letters and digits only, starting with a letter (`prefix`
/// otherwise): a type name that is never a keyword.
fn type_ident(s: &str, prefix: &str) -> String {
    let camel: String = s
        .to_upper_camel_case()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if camel.starts_with(|c: char| c.is_ascii_alphabetic()) && camel != "Self" {
        camel
    } else {
        format!("{prefix}{camel}")
    }
}

/// `s` made a plain Rust identifier: keywords get a trailing `_`, a leading digit a `p_`.
fn rust_ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "p_");
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() || out == "self" || out == "super" {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(rust_ident("type"), "type_");
        assert_eq!(rust_ident("self"), "self_");
        assert_eq!(rust_ident("1st"), "p_1st");
        assert_eq!(rust_ident("a-b"), "a_b");
        assert_eq!(
            names("optevia_country"),
            ("optevia_country".into(), "OpteviaCountry".into())
        );
        assert_eq!(names("Account"), ("account".into(), "Account".into()));
        assert_eq!(names("9é-x").1, "E9X");
        assert_eq!(names("self"), ("self_".into(), "ESelf".into()));
        assert!(syn::parse_str::<syn::Ident>(&rust_ident("é")).is_ok());
        let mut used = HashSet::from(["id".to_owned()]);
        assert_eq!(unique_ident(&mut used, "Id"), "id_2");
        assert_eq!(unique_ident(&mut used, "EMailAddress1"), "e_mail_address1");
        assert_eq!(
            unique_ident(&mut used, "optevia_UKRegion"),
            "optevia_uk_region"
        );
    }
}
