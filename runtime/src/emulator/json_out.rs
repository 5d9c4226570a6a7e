//! Writing entries in CRM 2011's verbose JSON (dialect §4).
//!
//! Entries are written by hand (not through `serde_json::Map`) so that `__metadata` comes first and
//! properties keep their schema order, as WCF Data Services writes them, and so a page of 50
//! entries costs one buffer. Every property is present (unless `$select` narrows them), with CRM's
//! null shapes: complex values are never JSON `null` but objects whose members are null.
//! DateTimes are written `"\/Date(ms)\/"` (the `/` escaped, as WCF writes them; JSON readers see
//! `/Date(ms)/`); Int64 and Decimal values are quoted strings; Money carries 4 decimal places.
//!
//! Navigation properties follow the properties: `{"__deferred":{"uri":"<entry uri>/<nav>"}}`,
//! or, when expanded, the related entry (many-to-one; `null` when the lookup is empty or points
//! at a record that is gone) or `{"results":[…]}` (one-to-many, in the related set's key order).

use std::collections::HashMap;
use std::fmt::Write as _;

use uuid::Uuid;

use super::query::Shape;
use super::schema::{NavEnd, SetSchema};
use super::store::{Cell, Record, Store};
use crate::cdms::meta::CdmsKind;

/// Appends `s` as a JSON string literal.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Everything needed to render entries: the schemas and the store (lookup names are read from
/// the target records).
pub(crate) struct Render<'a> {
    pub schemas: &'a [SetSchema],
    pub by_logical: &'a HashMap<String, usize>,
    pub store: &'a Store,
    /// Whether `VersionNumber` is reported (vanilla 2011 answered `null`).
    pub version_numbers: bool,
}

impl Render<'_> {
    /// Appends one entry. `service_root` (absolute, no trailing slash) makes `__metadata.uri`;
    /// without it `__metadata` and the navigation properties are left out. `select` narrows the
    /// properties (and leaves the navigation properties out).
    pub fn entry(
        &self,
        out: &mut String,
        set: usize,
        record: &Record,
        service_root: Option<&str>,
        select: Option<&[usize]>,
    ) {
        let shape = match select {
            Some(props) => Shape {
                props: Some(props.to_vec()),
                ..Shape::default()
            },
            None => Shape::all(&self.schemas[set]),
        };
        self.entry_shaped(out, set, record, service_root, &shape);
    }

    /// Appends one entry carrying what `shape` says (see [`Render::entry`]).
    pub fn entry_shaped(
        &self,
        out: &mut String,
        set: usize,
        record: &Record,
        service_root: Option<&str>,
        shape: &Shape,
    ) {
        let schema = &self.schemas[set];
        out.push('{');
        let mut first = true;
        let id = match record[schema.id] {
            Cell::Guid(id) => id,
            _ => Uuid::nil(),
        };
        let uri = service_root.map(|root| format!("{root}/{}(guid'{id}')", schema.set));
        if let Some(uri) = &uri {
            out.push_str("\"__metadata\":{\"uri\":");
            write_str(out, uri);
            out.push_str(",\"type\":");
            write_str(out, &schema.type_name);
            out.push('}');
            first = false;
        }
        let mut write_prop = |out: &mut String, i: usize| {
            if !first {
                out.push(',');
            }
            first = false;
            let prop = &schema.props[i];
            write_str(out, &prop.name);
            out.push(':');
            if i == schema.version && !self.version_numbers {
                out.push_str("null");
            } else {
                self.value(out, prop.kind, &record[i]);
            }
        };
        match &shape.props {
            Some(props) => props.iter().for_each(|&i| write_prop(out, i)),
            None => (0..schema.props.len()).for_each(|i| write_prop(out, i)),
        }
        let (Some(root), Some(uri)) = (service_root, &uri) else {
            out.push('}');
            return;
        };
        for (n, nav) in schema.navs.iter().enumerate() {
            let expanded = shape.expanded.iter().find(|(e, _)| *e == n);
            if expanded.is_none() && !shape.deferred.contains(&n) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            write_str(out, &nav.name);
            out.push(':');
            let Some((_, props)) = expanded else {
                out.push_str("{\"__deferred\":{\"uri\":");
                write_str(out, &format!("{uri}/{}", nav.name));
                out.push_str("}}");
                continue;
            };
            let inner = match props {
                Some(props) => Shape {
                    props: Some(props.clone()),
                    ..Shape::default()
                },
                None => Shape::default(),
            };
            match nav.end {
                NavEnd::ManyToOne { prop, target } => {
                    let related = match &record[prop] {
                        Cell::Ref(r) => self.store.get(target, r.id),
                        _ => None,
                    };
                    match related {
                        Some(related) => {
                            self.entry_shaped(out, target, related, Some(root), &inner)
                        }
                        None => out.push_str("null"),
                    }
                }
                NavEnd::OneToMany { source, prop } => {
                    out.push_str("{\"results\":[");
                    let related = self.store.sets[source]
                        .records
                        .values()
                        .filter(|r| matches!(&r[prop], Cell::Ref(reference) if reference.id == id));
                    for (k, related) in related.enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        self.entry_shaped(out, source, related, Some(root), &inner);
                    }
                    out.push_str("]}");
                }
            }
        }
        out.push('}');
    }

    /// Appends one property value of kind `kind`.
    pub fn value(&self, out: &mut String, kind: CdmsKind, cell: &Cell) {
        match kind {
            CdmsKind::Money | CdmsKind::OptionSetValue | CdmsKind::EntityReference => {
                out.push_str("{\"__metadata\":{\"type\":\"");
                out.push_str(kind.edm_type());
                out.push_str("\"},");
                if kind == CdmsKind::EntityReference {
                    self.reference(out, cell);
                } else {
                    out.push_str("\"Value\":");
                    let value_kind = if kind == CdmsKind::Money {
                        CdmsKind::Decimal
                    } else {
                        CdmsKind::Int32
                    };
                    primitive(out, value_kind, cell);
                }
                out.push('}');
            }
            _ => primitive(out, kind, cell),
        }
    }

    fn reference(&self, out: &mut String, cell: &Cell) {
        let Cell::Ref(r) = cell else {
            out.push_str("\"Id\":null,\"LogicalName\":null,\"Name\":null");
            return;
        };
        let _ = write!(out, "\"Id\":\"{}\",\"LogicalName\":", r.id);
        match &r.logical {
            Some(l) => write_str(out, l),
            None => out.push_str("null"),
        }
        out.push_str(",\"Name\":");
        match self.lookup_name(r.logical.as_deref(), r.id) {
            Some(name) => write_str(out, name),
            None => out.push_str("null"),
        }
    }

    /// The primary name of the record a lookup points at, when it is served and has one.
    pub fn lookup_name(&self, logical: Option<&str>, id: Uuid) -> Option<&str> {
        let set = *self.by_logical.get(logical?)?;
        let name = self.schemas[set].primary_name?;
        match &self.store.get(set, id)?[name] {
            Cell::Text(t) => Some(&t.raw),
            _ => None,
        }
    }
}

/// Appends a primitive value of kind `kind` (null when the cell does not hold one).
fn primitive(out: &mut String, kind: CdmsKind, cell: &Cell) {
    match (kind, cell) {
        (CdmsKind::String, Cell::Text(t)) => write_str(out, &t.raw),
        (CdmsKind::Boolean, Cell::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (CdmsKind::Int32, Cell::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        (CdmsKind::Int64, Cell::Int(i)) => {
            let _ = write!(out, "\"{i}\"");
        }
        (CdmsKind::Double, Cell::Float(f)) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        (CdmsKind::Decimal, Cell::Dec(d)) => {
            let _ = write!(out, "\"{d}\"");
        }
        (CdmsKind::DateTime, Cell::Date(ms)) => {
            let _ = write!(out, "\"\\/Date({ms})\\/\"");
        }
        (CdmsKind::Guid, Cell::Guid(g)) => {
            let _ = write!(out, "\"{g}\"");
        }
        _ => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::schema::SetSpec;
    use crate::emulator::store::{Changes, GuidOrder};
    use rust_decimal::Decimal;

    #[test]
    fn entries_use_crm_shapes_and_null_forms() {
        let spec = SetSpec::new("Account", "AccountId")
            .property("Name", CdmsKind::String)
            .property("Revenue", CdmsKind::Money)
            .property("StatusCode", CdmsKind::OptionSetValue)
            .property("PrimaryContactId", CdmsKind::EntityReference)
            .property("Rate", CdmsKind::Double);
        let schema = SetSchema::build(spec).unwrap();
        let schemas = vec![schema];
        let mut store = Store::new(1, GuidOrder::SqlServer);
        let name = schemas[0].prop("Name").unwrap();
        let revenue = schemas[0].prop("Revenue").unwrap();
        let changes = Changes {
            id: Some("dff27d1f-a61b-4bfe-a203-b2e5a36cda0e".parse().unwrap()),
            cells: vec![
                (name, Cell::text("Ac\"me/\n".into())),
                (revenue, Cell::Dec(Decimal::new(10000000, 4))),
            ],
        };
        let id = store
            .create(&schemas[0], 0, changes, 1_451_606_400_000)
            .unwrap();
        let by_logical = HashMap::from([("account".to_owned(), 0)]);
        let render = Render {
            schemas: &schemas,
            by_logical: &by_logical,
            store: &store,
            version_numbers: true,
        };
        let mut out = String::new();
        render.entry(
            &mut out,
            0,
            store.get(0, id).unwrap(),
            Some("http://h/o/svc"),
            None,
        );
        assert!(
            out.starts_with("{\"__metadata\":{\"uri\":\"http://h/o/svc/AccountSet(guid'dff27d1f")
        );
        assert!(out.contains("\"CreatedOn\":\"\\/Date(1451606400000)\\/\""));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Name"], "Ac\"me/\n");
        assert_eq!(v["Revenue"]["Value"], "1000.0000");
        assert_eq!(
            v["Revenue"]["__metadata"]["type"],
            "Microsoft.Crm.Sdk.Data.Services.Money"
        );
        assert_eq!(v["StatusCode"]["Value"], serde_json::Value::Null);
        assert_eq!(v["PrimaryContactId"]["Id"], serde_json::Value::Null);
        assert_eq!(
            v["PrimaryContactId"]["LogicalName"],
            serde_json::Value::Null
        );
        assert_eq!(v["PrimaryContactId"]["Name"], serde_json::Value::Null);
        assert_eq!(v["Rate"], serde_json::Value::Null);
        assert_eq!(v["VersionNumber"], "1");
        assert_eq!(v["ModifiedOn"], "/Date(1451606400000)/");
        let mut narrowed = String::new();
        render.entry(
            &mut narrowed,
            0,
            store.get(0, id).unwrap(),
            None,
            Some(&[name]),
        );
        assert_eq!(narrowed, "{\"Name\":\"Ac\\\"me/\\n\"}");
    }
}
