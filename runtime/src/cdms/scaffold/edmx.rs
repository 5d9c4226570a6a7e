//! Reading CRM 2011's `$metadata` (EDMX 1.0 with a CSDL schema) into the few facts scaffolding
//! needs: the entity sets, each type's key and properties, and lookup targets.
//!
//! Elements are matched by local name, so the CSDL namespace version (2006, 2007, 2008) does not
//! matter. Lookup targets come from `Association` elements with a `ReferentialConstraint` whose
//! dependent `PropertyRef` names the lookup property (on the referencing type) and whose
//! principal end is the target type. CRM's own `$metadata` declares associations and navigation
//! properties without such constraints: its navigation properties are named after
//! relationships (`contact_customer_accounts`), not after the lookup attribute, so they do not
//! say which lookup they follow and are not used. Without a constraint a lookup's target is
//! unknown unless the caller names it (`Options::lookup`).

use std::collections::HashMap;

use roxmltree::{Document, Node};

use super::error::ScaffoldError;

/// One property of an entity type.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    /// The case-sensitive schema name (`Address1_PostalCode`).
    pub name: String,
    /// The declared type (`Edm.String`, `Microsoft.Crm.Sdk.Data.Services.Money`).
    pub ty: String,
    /// `Nullable` (CSDL's default: true).
    pub nullable: bool,
}

impl Property {
    /// The type's name without its namespace (`String`, `Money`).
    pub fn type_name(&self) -> &str {
        self.ty.rsplit('.').next().unwrap_or(&self.ty)
    }
    /// Whether the type is an EDM primitive (`Edm.*`).
    pub fn is_primitive(&self) -> bool {
        self.ty.starts_with("Edm.")
    }
}

/// An entity type.
#[derive(Debug, Clone)]
pub(crate) struct EntityType {
    /// The schema name (`Account`).
    pub name: String,
    /// The key property.
    pub key: String,
    /// Every declared property, in document order.
    pub properties: Vec<Property>,
}

/// An entity set and its type.
#[derive(Debug, Clone)]
pub(crate) struct EntitySet {
    /// `AccountSet`.
    pub name: String,
    /// The set's entity type.
    pub ty: EntityType,
}

/// What `$metadata` says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata {
    /// The entity sets, in document order.
    pub sets: Vec<EntitySet>,
    /// `(referencing type, lookup property)` → the target types.
    pub targets: HashMap<(String, String), Vec<String>>,
}

impl Metadata {
    /// The set named `name` (case-sensitive).
    pub fn set(&self, name: &str) -> Option<&EntitySet> {
        self.sets.iter().find(|s| s.name == name)
    }
    /// The set whose entity type is `ty`.
    pub fn set_of_type(&self, ty: &str) -> Option<&EntitySet> {
        self.sets.iter().find(|s| s.ty.name == ty)
    }
}

/// Parses the EDMX text.
pub(crate) fn parse(text: &str) -> Result<Metadata, ScaffoldError> {
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        ScaffoldError::Xml {
            line: pos.row,
            column: pos.col,
            message: e.to_string(),
        }
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "Edmx" {
        return Err(edmx_error(
            &doc,
            root,
            "the document element of $metadata is <edmx:Edmx>",
        ));
    }
    let schemas: Vec<Node> = root.descendants().filter(|n| is(n, "Schema")).collect();
    if schemas.is_empty() {
        return Err(edmx_error(&doc, root, "no <Schema> element"));
    }
    let mut types: HashMap<String, (Node, EntityType)> = HashMap::new();
    let mut associations = Vec::new();
    let mut set_nodes = Vec::new();
    for schema in &schemas {
        let namespace = schema.attribute("Namespace").unwrap_or_default();
        for node in schema.children().filter(Node::is_element) {
            match node.tag_name().name() {
                "EntityType" => {
                    let ty = entity_type(&doc, node)?;
                    let qualified = qualify(namespace, &ty.name);
                    types.insert(qualified, (node, ty));
                }
                "Association" => associations.push((namespace, node)),
                "EntityContainer" => {
                    set_nodes.extend(node.children().filter(|n| is(n, "EntitySet")));
                }
                _ => {}
            }
        }
    }
    let mut sets = Vec::with_capacity(set_nodes.len());
    for node in set_nodes {
        let name = required(&doc, node, "Name")?;
        let ty_name = required(&doc, node, "EntityType")?;
        let (_, ty) = types.get(ty_name).ok_or_else(|| {
            edmx_error(
                &doc,
                node,
                &format!("entity set {name} names type {ty_name}, which no <EntityType> declares"),
            )
        })?;
        sets.push(EntitySet {
            name: name.to_owned(),
            ty: ty.clone(),
        });
    }
    let mut targets: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (namespace, node) in associations {
        if let Some((from, property, to)) = constraint(&doc, namespace, node)? {
            let from = types.get(&from).map(|(_, t)| t.name.clone());
            let to = types.get(&to).map(|(_, t)| t.name.clone());
            if let (Some(from), Some(to)) = (from, to) {
                let slot = targets.entry((from, property)).or_default();
                if !slot.contains(&to) {
                    slot.push(to);
                }
            }
        }
    }
    Ok(Metadata { sets, targets })
}

/// `(referencing type, lookup property, target type)` of an association with a referential
/// constraint, qualified names.
fn constraint(
    doc: &Document,
    namespace: &str,
    node: Node,
) -> Result<Option<(String, String, String)>, ScaffoldError> {
    let Some(rc) = node.children().find(|n| is(n, "ReferentialConstraint")) else {
        return Ok(None);
    };
    let role_of = |kind: &str| rc.children().find(|n| is(n, kind));
    let (Some(principal), Some(dependent)) = (role_of("Principal"), role_of("Dependent")) else {
        return Err(edmx_error(
            doc,
            rc,
            "a referential constraint needs <Principal> and <Dependent>",
        ));
    };
    let end_type = |role: Node| -> Result<String, ScaffoldError> {
        let name = required(doc, role, "Role")?;
        let end = node
            .children()
            .filter(|n| is(n, "End"))
            .find(|n| n.attribute("Role") == Some(name))
            .ok_or_else(|| {
                edmx_error(
                    doc,
                    role,
                    &format!("role {name} is not an <End> of the association"),
                )
            })?;
        let ty = required(doc, end, "Type")?;
        Ok(if ty.contains('.') {
            ty.to_owned()
        } else {
            qualify(namespace, ty)
        })
    };
    let property = dependent
        .children()
        .find(|n| is(n, "PropertyRef"))
        .ok_or_else(|| edmx_error(doc, dependent, "no <PropertyRef> names the lookup"))?;
    let property = required(doc, property, "Name")?;
    // `ParentCustomerId/Id` (the member of the EntityReference) names the lookup too.
    let property = property.split('/').next().unwrap_or(property).to_owned();
    Ok(Some((end_type(dependent)?, property, end_type(principal)?)))
}

fn entity_type(doc: &Document, node: Node) -> Result<EntityType, ScaffoldError> {
    let name = required(doc, node, "Name")?.to_owned();
    let key = node
        .children()
        .find(|n| is(n, "Key"))
        .ok_or_else(|| edmx_error(doc, node, &format!("entity type {name} has no <Key>")))?;
    let refs: Vec<Node> = key.children().filter(|n| is(n, "PropertyRef")).collect();
    let [key_ref] = refs.as_slice() else {
        return Err(edmx_error(
            doc,
            key,
            &format!(
                "entity type {name} has {} key properties; CRM keys are one GUID",
                refs.len()
            ),
        ));
    };
    let key_name = required(doc, *key_ref, "Name")?.to_owned();
    let mut properties = Vec::new();
    for p in node.children().filter(|n| is(n, "Property")) {
        let nullable = match p.attribute("Nullable") {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(edmx_error(
                    doc,
                    p,
                    &format!("Nullable is \"true\" or \"false\", not {other:?}"),
                ))
            }
        };
        properties.push(Property {
            name: required(doc, p, "Name")?.to_owned(),
            ty: required(doc, p, "Type")?.to_owned(),
            nullable,
        });
    }
    if !properties.iter().any(|p| p.name == key_name) {
        return Err(edmx_error(
            doc,
            *key_ref,
            &format!("key {key_name} of entity type {name} is not one of its properties"),
        ));
    }
    Ok(EntityType {
        name,
        key: key_name,
        properties,
    })
}

fn is(node: &Node, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local
}

fn qualify(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

fn required<'a>(doc: &Document, node: Node<'a, '_>, attr: &str) -> Result<&'a str, ScaffoldError> {
    node.attribute(attr)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| edmx_error(doc, node, &format!("the {attr} attribute is missing")))
}

fn edmx_error(doc: &Document, node: Node, reason: &str) -> ScaffoldError {
    ScaffoldError::Edmx {
        element: node.tag_name().name().to_owned(),
        line: doc.text_pos_at(node.range().start).row,
        reason: reason.to_owned(),
    }
}
