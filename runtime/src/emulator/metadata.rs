//! `$metadata` (EDMX/CSDL as CRM 2011 publishes it) and the service document.
//!
//! The EDMX declares, in namespace `Microsoft.Crm.Sdk.Data.Services`: one `EntityType` per served
//! set (named by its schema name, keyed by its id property, every property typed from its CRM
//! kind), the complex types `EntityReference`, `OptionSetValue` and `Money` (complex properties
//! are `Nullable="false"`: WCF Data Services V1/V2 complex values cannot be null, which is why CRM
//! writes null lookups as objects with null members), and the container `<Org>Context` with one
//! `EntitySet` per set. The emulated sets have no navigation properties.

use std::fmt::Write as _;

use super::schema::SetSchema;
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
        x.push_str("   </EntityType>\n");
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
