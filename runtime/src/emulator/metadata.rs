//! `$metadata` (EDMX/CSDL as CRM 2011 publishes it) and the service document.
//!
//! The EDMX declares, in namespace `Microsoft.Crm.Sdk.Data.Services`: one `EntityType` per served
//! set (named by its schema name, keyed by its id property, every property typed from its CRM
//! kind), the complex types `EntityReference`, `OptionSetValue` and `Money` (complex properties
//! are `Nullable="false"`: WCF Data Services V1/V2 complex values cannot be null, which is why CRM
//! writes null lookups as objects with null members), and the container `<Org>Context` with one
//! `EntitySet` per set. A lookup with a declared relationship adds a `NavigationProperty` on both
//! ends, an `Association` (the lookup's referential constraint, roles `<rel>_Referenced` for the
//! `0..1` end and `<rel>_Referencing` for the `*` end) and an `AssociationSet`.

use std::fmt::Write as _;

use super::schema::{NavEnd, SetSchema};
use crate::cdms::meta::CdmsKind;
use crate::cdms::wire;

/// Escapes text for XML attributes and content.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The `$metadata` document.
pub(crate) fn edmx(org: &str, schemas: &[SetSchema]) -> String {
    let ns = wire::NAMESPACE;
    let mut x = String::with_capacity(4096);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n");
    x.push_str("<edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\">\n");
    x.push_str(" <edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"1.0\">\n");
    let _ = writeln!(
        x,
        "  <Schema Namespace=\"{ns}\" xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\" \
         xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" \
         xmlns=\"http://schemas.microsoft.com/ado/2007/05/edm\">"
    );
    for s in schemas {
        let _ = writeln!(x, "   <EntityType Name=\"{}\">", xml_escape(&s.service));
        let _ = writeln!(
            x,
            "    <Key><PropertyRef Name=\"{}\" /></Key>",
            xml_escape(&s.props[s.id].name)
        );
        for (i, p) in s.props.iter().enumerate() {
            let nullable = !(i == s.id || p.kind.is_complex());
            let _ = writeln!(
                x,
                "    <Property Name=\"{}\" Type=\"{}\" Nullable=\"{nullable}\" />",
                xml_escape(&p.name),
                p.kind.edm_type()
            );
        }
        for nav in &s.navs {
            let rel = xml_escape(&nav.relationship);
            let (from, to) = match nav.end {
                NavEnd::ManyToOne { .. } => ("Referencing", "Referenced"),
                NavEnd::OneToMany { .. } => ("Referenced", "Referencing"),
            };
            let _ = writeln!(
                x,
                "    <NavigationProperty Name=\"{}\" Relationship=\"{ns}.{rel}\" \
                 FromRole=\"{rel}_{from}\" ToRole=\"{rel}_{to}\" />",
                xml_escape(&nav.name)
            );
        }
        x.push_str("   </EntityType>\n");
    }
    let associations: Vec<(&SetSchema, &SetSchema, &str, &str)> = schemas
        .iter()
        .flat_map(|s| {
            s.navs.iter().filter_map(move |nav| match nav.end {
                NavEnd::ManyToOne { prop, target } => Some((
                    s,
                    schemas.get(target)?,
                    s.props[prop].name.as_str(),
                    nav.relationship.as_str(),
                )),
                NavEnd::OneToMany { .. } => None,
            })
        })
        .collect();
    for (from, to, lookup, rel) in &associations {
        let rel = xml_escape(rel);
        let _ = writeln!(
            x,
            "   <Association Name=\"{rel}\">\n\
             \x20   <End Type=\"{}\" Role=\"{rel}_Referenced\" Multiplicity=\"0..1\" />\n\
             \x20   <End Type=\"{}\" Role=\"{rel}_Referencing\" Multiplicity=\"*\" />\n\
             \x20   <ReferentialConstraint>\n\
             \x20    <Principal Role=\"{rel}_Referenced\"><PropertyRef Name=\"{}\" /></Principal>\n\
             \x20    <Dependent Role=\"{rel}_Referencing\"><PropertyRef Name=\"{}\" /></Dependent>\n\
             \x20   </ReferentialConstraint>\n\
             \x20  </Association>",
            xml_escape(&to.type_name),
            xml_escape(&from.type_name),
            xml_escape(&to.props[to.id].name),
            xml_escape(lookup),
        );
    }
    let complex: &[(&str, &[(&str, CdmsKind)])] = &[
        (
            "EntityReference",
            &[
                ("Id", CdmsKind::Guid),
                ("LogicalName", CdmsKind::String),
                ("Name", CdmsKind::String),
            ],
        ),
        ("OptionSetValue", &[("Value", CdmsKind::Int32)]),
        ("Money", &[("Value", CdmsKind::Decimal)]),
    ];
    for (name, members) in complex {
        let _ = writeln!(x, "   <ComplexType Name=\"{name}\">");
        for (m, k) in *members {
            let _ = writeln!(
                x,
                "    <Property Name=\"{m}\" Type=\"{}\" Nullable=\"true\" />",
                k.edm_type()
            );
        }
        x.push_str("   </ComplexType>\n");
    }
    let _ = writeln!(
        x,
        "   <EntityContainer Name=\"{}Context\" m:IsDefaultEntityContainer=\"true\">",
        xml_escape(org)
    );
    for s in schemas {
        let _ = writeln!(
            x,
            "    <EntitySet Name=\"{}\" EntityType=\"{}\" />",
            xml_escape(&s.set),
            xml_escape(&s.type_name)
        );
    }
    for (from, to, _, rel) in &associations {
        let rel = xml_escape(rel);
        let _ = writeln!(
            x,
            "    <AssociationSet Name=\"{rel}\" Association=\"{ns}.{rel}\">\
             <End Role=\"{rel}_Referenced\" EntitySet=\"{}\" />\
             <End Role=\"{rel}_Referencing\" EntitySet=\"{}\" /></AssociationSet>",
            xml_escape(&to.set),
            xml_escape(&from.set),
        );
    }
    x.push_str("   </EntityContainer>\n  </Schema>\n </edmx:DataServices>\n</edmx:Edmx>\n");
    x
}

/// The AtomPub service document listing every collection.
pub(crate) fn service_document_atom(service_root: &str, schemas: &[SetSchema]) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n");
    let _ = writeln!(
        x,
        "<service xml:base=\"{}/\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:app=\"http://www.w3.org/2007/app\" xmlns=\"http://www.w3.org/2007/app\">",
        xml_escape(service_root)
    );
    x.push_str(" <workspace>\n  <atom:title>Default</atom:title>\n");
    for s in schemas {
        let set = xml_escape(&s.set);
        let _ = writeln!(
            x,
            "  <collection href=\"{set}\"><atom:title>{set}</atom:title></collection>"
        );
    }
    x.push_str(" </workspace>\n</service>\n");
    x
}

/// The JSON service document (`{"d":{"EntitySets":[...]}}`).
pub(crate) fn service_document_json(schemas: &[SetSchema]) -> String {
    let sets: Vec<&str> = schemas.iter().map(|s| s.set.as_str()).collect();
    serde_json::json!({ "d": { "EntitySets": sets } }).to_string()
}

/// The OData XML error body (for clients that did not ask for JSON).
pub(crate) fn xml_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <m:error xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">\n\
         \x20 <m:code>{}</m:code>\n\
         \x20 <m:message xml:lang=\"en-US\">{}</m:message>\n\
         </m:error>\n",
        xml_escape(code),
        xml_escape(message)
    )
}
