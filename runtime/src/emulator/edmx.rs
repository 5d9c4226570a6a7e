//! Reading a `$metadata` document (EDMX/CSDL as CRM 2011 publishes it) into [`SetSpec`]s, so the
//! emulator serves the sets of any organisation: `Emulator::builder().specs(edmx::parse(&text)?
//! .select(&[])?)`.
//!
//! What is read: every `EntityType` (its `Key/PropertyRef` and its `Property` elements), the
//! container's `EntitySet`s (a type without a set is not served), and the `Association`s whose
//! `ReferentialConstraint` names a lookup (`Dependent/PropertyRef`) and the entity it points at
//! (`Principal` end): those become the lookup's targets, several for a Customer or Owner lookup,
//! and each association's name the relationship behind the lookup for that target (so the
//! served sets have the same navigation properties).
//! Properties of a type the emulator does not model (`Edm.Binary`, `Edm.Byte`, other complex
//! types such as `BooleanManagedProperty`) are left out and listed in [`Edmx::skipped`].

use std::collections::HashMap;

use roxmltree::{Document, Node};

use super::schema::SetSpec;
use crate::cdms::meta::CdmsKind;

/// Why a `$metadata` document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EdmxError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(#[from] roxmltree::Error),
    /// An element lacks an attribute it must have.
    #[error("{element} {name:?} has no {attribute} attribute")]
    MissingAttribute {
        /// The element (`EntityType`, `EntitySet`, ...).
        element: &'static str,
        /// Its `Name` (empty when that is what is missing).
        name: String,
        /// The missing attribute.
        attribute: &'static str,
    },
    /// An entity type without exactly one key property of type `Edm.Guid`.
    #[error("entity type {entity} has no single Edm.Guid key (found {found:?})")]
    Key {
        /// The entity type.
        entity: String,
        /// The key properties found, with their types.
        found: Vec<String>,
    },
    /// An entity set names a type the document does not declare.
    #[error("entity set {set} is of type {entity_type}, which the document does not declare")]
    UnknownType {
        /// The entity set.
        set: String,
        /// Its `EntityType` attribute.
        entity_type: String,
    },
    /// No entity set at all.
    #[error("the document declares no entity set")]
    Empty,
}

/// A property left out because the emulator has no such type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entity set.
    pub set: String,
    /// The property.
    pub property: String,
    /// Its EDM type.
    pub edm_type: String,
}

/// The sets of a `$metadata` document, in document order.
#[derive(Debug, Clone)]
pub struct Edmx {
    /// One spec per entity set.
    pub sets: Vec<SetSpec>,
    /// Properties left out.
    pub skipped: Vec<Skipped>,
}

impl Edmx {
    /// The sets named in `wanted` (all when empty), in document order; an unknown name is an
    /// error listing the sets there are.
    pub fn select(self, wanted: &[String]) -> Result<Vec<SetSpec>, String> {
        if let Some(unknown) = wanted
            .iter()
            .find(|w| !self.sets.iter().any(|s| s.set_name() == w.as_str()))
        {
            let known: Vec<&str> = self.sets.iter().map(SetSpec::set_name).collect();
            return Err(format!(
                "no entity set {unknown:?} in the document; it has: {}",
                known.join(", ")
            ));
        }
        Ok(self
            .sets
            .into_iter()
            .filter(|s| wanted.is_empty() || wanted.iter().any(|w| w == s.set_name()))
            .collect())
    }
}

/// The kind of an EDM type name (`Edm.String`, `Microsoft.Crm.Sdk.Data.Services.Money`).
pub fn kind_of(edm_type: &str) -> Option<CdmsKind> {
    CdmsKind::ALL.into_iter().find(|k| k.edm_type() == edm_type)
}

fn attr<'a>(
    node: Node<'a, '_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, EdmxError> {
    node.attribute(attribute)
        .ok_or_else(|| EdmxError::MissingAttribute {
            element,
            name: node.attribute("Name").unwrap_or_default().to_owned(),
            attribute,
        })
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// `Namespace.Name` → `Name`.
fn local(qualified: &str) -> &str {
    qualified.rsplit('.').next().unwrap_or(qualified)
}

struct EntityType<'a> {
    name: &'a str,
    key: Vec<&'a str>,
    props: Vec<(&'a str, &'a str)>,
}

fn entity_type<'a>(node: Node<'a, '_>) -> Result<EntityType<'a>, EdmxError> {
    let name = attr(node, "EntityType", "Name")?;
    let mut key = Vec::new();
    for k in children(node, "Key") {
        for r in children(k, "PropertyRef") {
            key.push(attr(r, "PropertyRef", "Name")?);
        }
    }
    let mut props = Vec::new();
    for p in children(node, "Property") {
        props.push((attr(p, "Property", "Name")?, attr(p, "Property", "Type")?));
    }
    Ok(EntityType { name, key, props })
}

/// Lookup targets from the associations: (entity type, lookup property) → (target type,
/// association name) pairs.
type Targets<'a> = HashMap<(&'a str, &'a str), Vec<(&'a str, &'a str)>>;

fn lookup_targets<'a>(doc: &'a Document<'_>) -> Targets<'a> {
    let mut out: Targets<'a> = HashMap::new();
    for assoc in doc.descendants().filter(|n| n.has_tag_name("Association")) {
        let name = assoc.attribute("Name").unwrap_or_default();
        let ends: HashMap<&str, &str> = children(assoc, "End")
            .filter_map(|e| Some((e.attribute("Role")?, local(e.attribute("Type")?))))
            .collect();
        for rc in children(assoc, "ReferentialConstraint") {
            let role_and_prop = |tag: &'static str| {
                let n = children(rc, tag).next()?;
                let role = n.attribute("Role")?;
                let prop = children(n, "PropertyRef").next()?.attribute("Name")?;
                Some((*ends.get(role)?, prop))
            };
            if let (Some((target, _)), Some((source, lookup))) =
                (role_and_prop("Principal"), role_and_prop("Dependent"))
            {
                let slot = out.entry((source, lookup)).or_default();
                if !slot.iter().any(|(t, _)| *t == target) {
                    slot.push((target, name));
                }
            }
        }
    }
    out
}

/// Reads the entity sets of a `$metadata` document.
pub fn parse(text: &str) -> Result<Edmx, EdmxError> {
    let doc = Document::parse(text)?;
    let mut types = HashMap::new();
    for node in doc.descendants().filter(|n| n.has_tag_name("EntityType")) {
        let t = entity_type(node)?;
        types.insert(t.name, t);
    }
    let targets = lookup_targets(&doc);
    let mut sets = Vec::new();
    let mut skipped = Vec::new();
    for node in doc.descendants().filter(|n| n.has_tag_name("EntitySet")) {
        let set = attr(node, "EntitySet", "Name")?;
        let type_attr = attr(node, "EntitySet", "EntityType")?;
        let t = types
            .get(local(type_attr))
            .ok_or_else(|| EdmxError::UnknownType {
                set: set.to_owned(),
                entity_type: type_attr.to_owned(),
            })?;
        let key = match t.key.as_slice() {
            [k] if t.props.iter().any(|(p, ty)| p == k && *ty == "Edm.Guid") => *k,
            _ => {
                return Err(EdmxError::Key {
                    entity: t.name.to_owned(),
                    found: t
                        .key
                        .iter()
                        .map(|k| {
                            let ty = t.props.iter().find(|(p, _)| p == k).map_or("?", |p| p.1);
                            format!("{k}: {ty}")
                        })
                        .collect(),
                })
            }
        };
        let mut spec = SetSpec::new(t.name, key).set_name_as(set);
        for (name, edm_type) in &t.props {
            let kind = kind_of(edm_type);
            match kind {
                Some(kind) => spec = spec.property(name, kind),
                None => skipped.push(Skipped {
                    set: set.to_owned(),
                    property: (*name).to_owned(),
                    edm_type: (*edm_type).to_owned(),
                }),
            }
            let lookup = kind == Some(CdmsKind::EntityReference);
            if let Some(to) = targets.get(&(t.name, *name)).filter(|_| lookup) {
                let logical: Vec<String> = to.iter().map(|(t, _)| t.to_lowercase()).collect();
                let names: Vec<&str> = logical.iter().map(String::as_str).collect();
                spec = spec.lookup(name, &names);
                for ((_, relationship), target) in to.iter().zip(&logical) {
                    if !relationship.is_empty() {
                        spec = spec.relationship(name, relationship, target);
                    }
                }
            }
        }
        sets.push(spec);
    }
    if sets.is_empty() {
        return Err(EdmxError::Empty);
    }
    Ok(Edmx { sets, skipped })
}
