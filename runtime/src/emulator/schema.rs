//! What an entity set looks like: its properties and their CRM types.
//!
//! A set is described by a [`SetSpec`], usually made from the `&'static CdmsMeta` that
//! `#[derive(CdmsSynced)]` generates ([`SetSpec::from_meta`]), optionally widened with properties
//! the application does not map (CDMS sets carry hundreds), or loaded from a property list in the
//! `cdms-schema/*.tsv` format ([`SetSpec::from_tsv`]). Every set additionally has the
//! server-managed `CreatedOn`, `ModifiedOn` (`Edm.DateTime`) and `VersionNumber` (`Edm.Int64`).

use std::collections::HashMap;

use crate::cdms::meta::{CdmsKind, CdmsMeta};
use crate::cdms::wire;

use super::error::EmulatorError;

/// The server-managed properties every set has: writes to them are ignored.
pub(crate) const CREATED_ON: &str = "CreatedOn";
pub(crate) const MODIFIED_ON: &str = "ModifiedOn";
pub(crate) const VERSION_NUMBER: &str = "VersionNumber";
pub(crate) const OVERRIDDEN_CREATED_ON: &str = "OverriddenCreatedOn";

/// The description of one entity set served by the emulator.
#[derive(Debug, Clone)]
pub struct SetSpec {
    set: String,
    service: String,
    logical: String,
    id_property: String,
    props: Vec<(String, CdmsKind)>,
    targets: Vec<(String, Vec<String>)>,
    /// (lookup property, relationship schema name, target logical name)
    relationships: Vec<(String, String, String)>,
    primary_name: Option<String>,
}

impl SetSpec {
    /// A set of entity `service` (`Account` → `AccountSet`, logical name `account`) whose primary
    /// key is `id_property` (`AccountId`), with no other properties yet.
    pub fn new(service: &str, id_property: &str) -> Self {
        SetSpec {
            set: wire::set_name(service),
            service: service.to_owned(),
            logical: service.to_lowercase(),
            id_property: id_property.to_owned(),
            props: vec![(id_property.to_owned(), CdmsKind::Guid)],
            targets: Vec::new(),
            relationships: Vec::new(),
            primary_name: None,
        }
    }

    /// The set described by derived CDMS metadata. Lookups (`Ref<T>` fields) target the logical
    /// name of `T`'s CDMS metadata.
    pub fn from_meta(meta: &'static CdmsMeta) -> Self {
        let mut spec = SetSpec {
            set: meta.set.to_owned(),
            service: meta.service.to_owned(),
            logical: meta.logical_name.to_owned(),
            id_property: meta.id_property.to_owned(),
            props: Vec::with_capacity(meta.fields.len() + 1),
            targets: Vec::new(),
            relationships: Vec::new(),
            primary_name: None,
        };
        if meta.by_property(meta.id_property).is_none() {
            spec.props
                .push((meta.id_property.to_owned(), CdmsKind::Guid));
        }
        for f in meta.fields {
            spec.props.push((f.property.to_owned(), f.kind));
            if f.kind != CdmsKind::EntityReference {
                continue;
            }
            let target = meta
                .entity
                .fields
                .get(f.field)
                .and_then(|fm| fm.references)
                .and_then(|target| CdmsMeta::of(target()));
            if let Some(target) = target {
                spec.targets
                    .push((f.property.to_owned(), vec![target.logical_name.to_owned()]));
                if let Some(relationship) = f.relationship {
                    spec.relationships.push((
                        f.property.to_owned(),
                        relationship.to_owned(),
                        target.logical_name.to_owned(),
                    ));
                }
            }
        }
        spec
    }

    /// A set from a property list in the `cdms-schema` TSV format (`cdms_property<TAB>edm_kind`
    /// with a header line). The key is the `Guid` property named `<Service>Id`
    /// (case-insensitively), e.g. `optevia_countryId` for `optevia_countrySet`.
    pub fn from_tsv(set: &str, tsv: &str) -> Result<Self, EmulatorError> {
        let service = set
            .strip_suffix("Set")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                EmulatorError::Config(format!("entity set name {set:?} does not end in `Set`"))
            })?;
        let mut props = Vec::new();
        for (n, line) in tsv.lines().enumerate().skip(1) {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let (name, kind) = line.split_once('\t').ok_or_else(|| {
                EmulatorError::Config(format!("{set}: line {} is not `property<TAB>kind`", n + 1))
            })?;
            let kind = parse_kind(kind.trim()).ok_or_else(|| {
                EmulatorError::Config(format!("{set}: line {}: unknown kind {kind:?}", n + 1))
            })?;
            props.push((name.trim().to_owned(), kind));
        }
        let wanted = format!("{service}id");
        let id_property = props
            .iter()
            .find(|(p, k)| *k == CdmsKind::Guid && p.eq_ignore_ascii_case(&wanted))
            .map(|(p, _)| p.clone())
            .ok_or_else(|| {
                EmulatorError::Config(format!("{set}: no Guid key property named {service}Id"))
            })?;
        Ok(SetSpec {
            set: set.to_owned(),
            service: service.to_owned(),
            logical: service.to_lowercase(),
            id_property,
            props,
            targets: Vec::new(),
            relationships: Vec::new(),
            primary_name: None,
        })
    }

    /// Overrides the entity set name (when it is not `<Service>Set`).
    pub fn set_name_as(mut self, set: &str) -> Self {
        self.set = set.to_owned();
        self
    }

    /// Overrides the logical name (`EntityReference.LogicalName` of this set's records).
    pub fn logical_name(mut self, name: &str) -> Self {
        self.logical = name.to_owned();
        self
    }

    /// Adds (or retypes) a property.
    pub fn property(mut self, name: &str, kind: CdmsKind) -> Self {
        match self.props.iter_mut().find(|(p, _)| p == name) {
            Some(slot) => slot.1 = kind,
            None => self.props.push((name.to_owned(), kind)),
        }
        self
    }

    /// Declares the logical names a lookup may point at. With one target, writes may send only
    /// `{"Id": ...}`; with several (a polymorphic Customer/Owner lookup) they must also send
    /// `LogicalName`.
    pub fn lookup(mut self, property: &str, targets: &[&str]) -> Self {
        let targets: Vec<String> = targets.iter().map(|t| t.to_lowercase()).collect();
        match self.targets.iter_mut().find(|(p, _)| p == property) {
            Some(slot) => slot.1 = targets,
            None => self.targets.push((property.to_owned(), targets)),
        }
        self
    }

    /// Names the CRM relationship between lookup `property` and the set of logical name
    /// `target` (`ParentCustomerId`, `contact_customer_accounts`, `account`; a polymorphic
    /// lookup has one relationship per target): both ends then have a navigation property,
    /// which `$expand` and `$filter` on `<relationship>/Property` use.
    pub fn relationship(mut self, property: &str, relationship: &str, target: &str) -> Self {
        let target = target.to_lowercase();
        self.relationships
            .retain(|(p, r, t)| !(p == property && (r == relationship || *t == target)));
        self.relationships
            .push((property.to_owned(), relationship.to_owned(), target));
        self
    }

    /// The `String` property whose value fills `EntityReference.Name` of lookups to this set.
    /// Without it: `Name`, `FullName`, then a property ending in `_name`, then the first
    /// `String` property.
    pub fn primary_name(mut self, property: &str) -> Self {
        self.primary_name = Some(property.to_owned());
        self
    }

    /// The entity set name (`AccountSet`).
    pub fn set_name(&self) -> &str {
        &self.set
    }
}

fn parse_kind(s: &str) -> Option<CdmsKind> {
    Some(match s {
        "String" => CdmsKind::String,
        "Boolean" => CdmsKind::Boolean,
        "Int32" => CdmsKind::Int32,
        "Int64" => CdmsKind::Int64,
        "Decimal" => CdmsKind::Decimal,
        "Double" => CdmsKind::Double,
        "DateTime" => CdmsKind::DateTime,
        "Guid" => CdmsKind::Guid,
        "Money" => CdmsKind::Money,
        "OptionSetValue" => CdmsKind::OptionSetValue,
        "EntityReference" => CdmsKind::EntityReference,
        _ => return None,
    })
}

/// One property of a served set.
#[derive(Debug)]
pub(crate) struct Prop {
    pub name: String,
    pub kind: CdmsKind,
    /// Server-managed: writes are ignored.
    pub managed: bool,
    /// For lookups: the logical names it may target (empty = unknown).
    pub targets: Vec<String>,
}

/// A navigation property of a served set: one end of a CRM relationship behind a lookup.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    /// The navigation property name: the relationship's schema name, prefixed `Referencing` /
    /// `Referenced` for a relationship of an entity to itself (as CRM names them).
    pub name: String,
    /// The relationship's schema name (the `Association`).
    pub relationship: String,
    pub end: NavEnd,
}

/// Which end of the relationship a navigation property stands at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NavEnd {
    /// On the referring set: lookup `prop` points at one record of set `target` (or none).
    ManyToOne { prop: usize, target: usize },
    /// On the referenced set: the records of set `source` whose lookup `prop` points here.
    OneToMany { source: usize, prop: usize },
}

/// A served set, resolved and validated.
#[derive(Debug)]
pub(crate) struct SetSchema {
    pub set: String,
    pub service: String,
    pub logical: String,
    /// `Microsoft.Crm.Sdk.Data.Services.<Service>`
    pub type_name: String,
    pub props: Vec<Prop>,
    pub by_name: HashMap<String, usize>,
    pub id: usize,
    pub created: usize,
    pub modified: usize,
    pub version: usize,
    pub overridden_created: Option<usize>,
    pub primary_name: Option<usize>,
    /// Declared relationships: (lookup property, relationship schema name, target logical
    /// name), resolved into [`SetSchema::navs`] once every set is built ([`link_navigations`]).
    pub relationships: Vec<(usize, String, String)>,
    /// The navigation properties, in declaration order (many-to-one ends first).
    pub navs: Vec<Nav>,
}

impl SetSchema {
    pub fn build(spec: SetSpec) -> Result<Self, EmulatorError> {
        let set = spec.set.clone();
        let err = |msg: String| EmulatorError::Config(format!("{set}: {msg}"));
        let mut props: Vec<Prop> = Vec::with_capacity(spec.props.len() + 3);
        let mut by_name = HashMap::new();
        let push =
            |props: &mut Vec<Prop>, by_name: &mut HashMap<String, usize>, name: &str, kind| {
                by_name.insert(name.to_owned(), props.len());
                props.push(Prop {
                    name: name.to_owned(),
                    kind,
                    managed: false,
                    targets: Vec::new(),
                });
            };
        for (name, kind) in &spec.props {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(err(format!("{name:?} is not a valid property name")));
            }
            if by_name.contains_key(name) {
                return Err(err(format!("property {name} is declared twice")));
            }
            push(&mut props, &mut by_name, name, *kind);
        }
        for (name, kind) in [
            (CREATED_ON, CdmsKind::DateTime),
            (MODIFIED_ON, CdmsKind::DateTime),
            (VERSION_NUMBER, CdmsKind::Int64),
        ] {
            match by_name.get(name) {
                Some(&i) if props[i].kind != kind => {
                    return Err(err(format!("{name} must be {}", kind.edm_type())))
                }
                Some(&i) => props[i].managed = true,
                None => {
                    push(&mut props, &mut by_name, name, kind);
                    if let Some(p) = props.last_mut() {
                        p.managed = true;
                    }
                }
            }
        }
        let id = *by_name
            .get(&spec.id_property)
            .ok_or_else(|| err(format!("key property {} is missing", spec.id_property)))?;
        if props[id].kind != CdmsKind::Guid {
            return Err(err(format!(
                "key property {} must be Edm.Guid",
                spec.id_property
            )));
        }
        for (prop, targets) in spec.targets {
            let i = *by_name
                .get(&prop)
                .ok_or_else(|| err(format!("no lookup {prop}")))?;
            if props[i].kind != CdmsKind::EntityReference {
                return Err(err(format!("{prop} is not an EntityReference")));
            }
            props[i].targets = targets;
        }
        let primary_name = match &spec.primary_name {
            Some(p) => match by_name.get(p) {
                Some(&i) if props[i].kind == CdmsKind::String => Some(i),
                _ => return Err(err(format!("primary name {p} is not a String property"))),
            },
            None => guess_primary_name(&props),
        };
        let mut relationships = Vec::with_capacity(spec.relationships.len());
        for (prop, relationship, target) in spec.relationships {
            let i = *by_name
                .get(&prop)
                .ok_or_else(|| err(format!("no lookup {prop} for relationship {relationship}")))?;
            if props[i].kind != CdmsKind::EntityReference {
                return Err(err(format!("{prop} is not an EntityReference")));
            }
            if relationship.is_empty()
                || !relationship
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(err(format!(
                    "{relationship:?} is not a valid relationship name"
                )));
            }
            relationships.push((i, relationship, target));
        }
        let overridden_created = by_name
            .get(OVERRIDDEN_CREATED_ON)
            .copied()
            .filter(|&i| props[i].kind == CdmsKind::DateTime);
        Ok(SetSchema {
            type_name: format!("{}.{}", wire::NAMESPACE, spec.service),
            created: by_name[CREATED_ON],
            modified: by_name[MODIFIED_ON],
            version: by_name[VERSION_NUMBER],
            set: spec.set,
            service: spec.service,
            logical: spec.logical.to_lowercase(),
            props,
            by_name,
            id,
            overridden_created,
            primary_name,
            relationships,
            navs: Vec::new(),
        })
    }

    /// The navigation property called `name` (case-sensitive).
    pub fn nav(&self, name: &str) -> Option<&Nav> {
        self.navs.iter().find(|n| n.name == name)
    }

    /// The property called `name` (case-sensitive).
    pub fn prop(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The lower-case key property name, as CRM writes it in skip tokens (`accountid`).
    pub fn key_logical(&self) -> String {
        self.props[self.id].name.to_lowercase()
    }
}

/// Resolves every set's declared relationships into navigation properties on both ends (when
/// the target is served); a name is used once per set.
pub(crate) fn link_navigations(
    schemas: &mut [SetSchema],
    by_logical: &HashMap<String, usize>,
) -> Result<(), EmulatorError> {
    let mut links = Vec::new();
    for (source, schema) in schemas.iter().enumerate() {
        for (prop, relationship, target) in &schema.relationships {
            // A relationship to a set this emulator does not serve has no navigation here.
            let Some(&target) = by_logical.get(target) else {
                continue;
            };
            links.push((source, *prop, target, relationship.clone()));
        }
    }
    for (source, prop, target, relationship) in links {
        let (referencing, referenced) = if source == target {
            (
                format!("Referencing{relationship}"),
                format!("Referenced{relationship}"),
            )
        } else {
            (relationship.clone(), relationship.clone())
        };
        for (set, name, end) in [
            (source, referencing, NavEnd::ManyToOne { prop, target }),
            (target, referenced, NavEnd::OneToMany { source, prop }),
        ] {
            let schema = &mut schemas[set];
            if schema.nav(&name).is_some() || schema.prop(&name).is_some() {
                return Err(EmulatorError::Config(format!(
                    "{}: navigation property {name} is declared twice",
                    schema.set
                )));
            }
            schema.navs.push(Nav {
                name,
                relationship: relationship.clone(),
                end,
            });
        }
    }
    for schema in schemas.iter_mut() {
        schema
            .navs
            .sort_by_key(|n| matches!(n.end, NavEnd::OneToMany { .. }));
    }
    Ok(())
}

fn guess_primary_name(props: &[Prop]) -> Option<usize> {
    let strings = || {
        props
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == CdmsKind::String)
    };
    let named = |wanted: &str| strings().find(|(_, p)| p.name.eq_ignore_ascii_case(wanted));
    named("Name")
        .or_else(|| named("FullName"))
        .or_else(|| strings().find(|(_, p)| p.name.to_ascii_lowercase().ends_with("_name")))
        .or_else(|| strings().next())
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_adds_system_properties_and_guesses_primary_name() {
        let spec = SetSpec::new("optevia_country", "optevia_countryId")
            .property("optevia_ISOCountry2", CdmsKind::String)
            .property("optevia_name", CdmsKind::String);
        let s = SetSchema::build(spec).unwrap();
        assert_eq!(s.set, "optevia_countrySet");
        assert_eq!(s.logical, "optevia_country");
        assert_eq!(s.props[s.primary_name.unwrap()].name, "optevia_name");
        assert_eq!(s.props[s.version].kind, CdmsKind::Int64);
        assert!(s.props[s.created].managed && s.props[s.modified].managed);
        assert_eq!(s.key_logical(), "optevia_countryid");
    }

    #[test]
    fn tsv_specs_load() {
        let tsv = "cdms_property\tedm_kind\nCreatedOn\tDateTime\noptevia_Country\tString\n\
                   optevia_countryId\tGuid\nVersionNumber\tInt64\nstatecode\tOptionSetValue\n";
        let s = SetSchema::build(SetSpec::from_tsv("optevia_countrySet", tsv).unwrap()).unwrap();
        assert_eq!(s.props[s.id].name, "optevia_countryId");
        assert_eq!(s.props[s.primary_name.unwrap()].name, "optevia_Country");
        assert!(SetSpec::from_tsv("Bogus", tsv).is_err());
        assert!(SetSpec::from_tsv("XSet", "h\nA\tNope\n").is_err());
    }

    #[test]
    fn relationships_become_navigation_properties_on_both_ends() {
        let account = SetSpec::new("Account", "AccountId")
            .property("ParentAccountId", CdmsKind::EntityReference)
            .lookup("ParentAccountId", &["account"])
            .relationship("ParentAccountId", "account_parent_account", "account");
        let contact = SetSpec::new("Contact", "ContactId")
            .property("ParentCustomerId", CdmsKind::EntityReference)
            .lookup("ParentCustomerId", &["account", "contact"])
            .relationship("ParentCustomerId", "contact_customer_accounts", "account")
            .relationship("ParentCustomerId", "contact_customer_contacts", "contact");
        let mut schemas = vec![
            SetSchema::build(account).unwrap(),
            SetSchema::build(contact).unwrap(),
        ];
        let by_logical = HashMap::from([("account".to_owned(), 0), ("contact".to_owned(), 1)]);
        link_navigations(&mut schemas, &by_logical).unwrap();
        let names = |s: &SetSchema| s.navs.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
        // Many-to-one ends first; a relationship of an entity to itself is named per end.
        assert_eq!(
            names(&schemas[0]),
            [
                "Referencingaccount_parent_account",
                "Referencedaccount_parent_account",
                "contact_customer_accounts"
            ]
        );
        assert_eq!(
            names(&schemas[1]),
            [
                "contact_customer_accounts",
                "Referencingcontact_customer_contacts",
                "Referencedcontact_customer_contacts"
            ]
        );
        let lookup = schemas[1].prop("ParentCustomerId").unwrap();
        assert_eq!(
            schemas[1].nav("contact_customer_accounts").unwrap().end,
            NavEnd::ManyToOne {
                prop: lookup,
                target: 0
            }
        );
        assert_eq!(
            schemas[0].nav("contact_customer_accounts").unwrap().end,
            NavEnd::OneToMany {
                source: 1,
                prop: lookup
            }
        );
        // A relationship to a set that is not served has no navigation property.
        let lone = SetSpec::new("Contact", "ContactId")
            .property("ParentCustomerId", CdmsKind::EntityReference)
            .relationship("ParentCustomerId", "contact_customer_accounts", "account");
        let mut alone = vec![SetSchema::build(lone).unwrap()];
        let only_contact = HashMap::from([("contact".to_owned(), 0)]);
        link_navigations(&mut alone, &only_contact).unwrap();
        assert!(alone[0].navs.is_empty());
        // Names are checked.
        let bad = SetSpec::new("Contact", "ContactId")
            .property("P", CdmsKind::EntityReference)
            .relationship("P", "not a name", "account");
        assert!(SetSchema::build(bad).is_err());
        let bad = SetSpec::new("Contact", "ContactId")
            .property("P", CdmsKind::String)
            .relationship("P", "rel", "account");
        assert!(SetSchema::build(bad).is_err());
    }

    #[test]
    fn inconsistent_specs_are_refused() {
        let bad = SetSpec::new("Account", "AccountId").property("ModifiedOn", CdmsKind::String);
        assert!(SetSchema::build(bad).is_err());
        let bad = SetSpec::new("Account", "AccountId").lookup("Missing", &["contact"]);
        assert!(SetSchema::build(bad).is_err());
        let bad = SetSpec::new("Account", "AccountId").property("AccountId", CdmsKind::String);
        assert!(SetSchema::build(bad).is_err());
        let bad = SetSpec::new("Account", "AccountId").property("Bad Name", CdmsKind::String);
        assert!(SetSchema::build(bad).is_err());
    }
}
