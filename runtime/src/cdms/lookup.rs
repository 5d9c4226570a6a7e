//! Converters for lookups kept as the raw id (`#[cdms(with = ...)]` on an `Option<Uuid>` field).
//!
//! A lookup (`EntityReference`) is normally a `Ref<T>` field: a local foreign key to the synced
//! entity `T`. When `T` is not part of the application (a lookup to `systemuser` or
//! `businessunit`, say), the field can keep the target's CDMS id instead:
//!
//! ```ignore
//! #[cdms(field = "PrimaryContactId", with = ::cdms_runtime::cdms::lookup::raw_id)]
//! pub primary_contact_id: Option<Uuid>,
//! ```
//!
//! Such a field is not resolved against a local table and is not translated into `$filter`
//! (conditions on it run locally). Writing it sends `{"Id": ...}`, which CRM accepts for
//! lookups with one target entity; a polymorphic lookup (Customer: account or contact, Owner:
//! systemuser or team) also needs the target's logical name, which a raw id does not carry, so
//! such fields are mapped `read_only`.

/// A lookup whose local value is the target's CDMS id, `None` for an empty lookup.
pub mod raw_id {
    use std::fmt;

    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_json::{json, Value};
    use uuid::Uuid;

    use crate::cdms::meta::CdmsKind;

    /// The CDMS property is an `EntityReference`.
    pub const KIND: CdmsKind = CdmsKind::EntityReference;

    /// A value that is not an `EntityReference` with a GUID (or null) `Id`.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("expected an EntityReference object with a GUID or null Id, got {0}")]
    pub struct NotAReference(pub String);

    /// The `Id` of an `EntityReference` object, read straight from its JSON (the other members,
    /// `LogicalName`, `Name`, `__metadata`, are skipped unread). Only an object reads as one; an
    /// `Id` that is neither a string nor null is an error.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Reference {
        /// The `Id` member as sent (`None` when null or absent).
        pub id: Option<String>,
    }

    impl<'de> Deserialize<'de> for Reference {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(ReferenceVisitor)
        }
    }

    struct ReferenceVisitor;

    impl<'de> Visitor<'de> for ReferenceVisitor {
        type Value = Reference;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an EntityReference object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reference, A::Error> {
            let mut reference = Reference::default();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "Id" {
                    reference.id = map.next_value()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(reference)
        }
    }

    /// Reads `{"Id": guid | null, "LogicalName": .., "Name": ..}` (or a bare null).
    pub fn from_cdms(json: &Option<Reference>) -> Result<Option<Uuid>, NotAReference> {
        let Some(id) = json.as_ref().and_then(|r| r.id.as_deref()) else {
            return Ok(None);
        };
        let trimmed = id.trim().trim_start_matches('{').trim_end_matches('}');
        Uuid::parse_str(trimmed).map(Some).map_err(|_| {
            let mut shown = id.to_owned();
            if shown.len() > 100 {
                let mut end = 100;
                while !shown.is_char_boundary(end) {
                    end -= 1;
                }
                shown.truncate(end);
                shown.push('…');
            }
            NotAReference(shown)
        })
    }

    /// Writes `{"Id": guid}`, or an empty reference (every member null) for `None`.
    pub fn to_cdms(value: &Option<Uuid>) -> Value {
        match value {
            Some(id) => json!({ "Id": id.to_string() }),
            None => json!({ "Id": null, "LogicalName": null, "Name": null }),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// `from_cdms` of the JSON `text`, as the derive's wrapper reads it.
        fn read(text: &str) -> Result<Option<Uuid>, String> {
            let json: Option<Reference> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            from_cdms(&json).map_err(|e| e.to_string())
        }

        #[test]
        fn reads_and_writes_references() {
            let id = Uuid::from_u128(0x1234);
            let full = json!({"__metadata": {"type": "Microsoft.Crm.Sdk.Data.Services.EntityReference"},
                "Id": id.to_string(), "LogicalName": "systemuser", "Name": "Jo"});
            assert_eq!(read(&full.to_string()), Ok(Some(id)));
            assert_eq!(
                read(&json!({"Id": format!("{{{id}}}")}).to_string()),
                Ok(Some(id))
            );
            let empty = json!({"Id": null, "LogicalName": null, "Name": null});
            assert_eq!(read(&empty.to_string()), Ok(None));
            assert_eq!(read("null"), Ok(None));
            assert_eq!(read("{}"), Ok(None));
            assert!(read(r#"{"Id": "not-a-guid"}"#).is_err());
            assert!(read(r#"{"Id": 7}"#).is_err());
            assert!(
                read(&format!("[\"{id}\"]")).is_err(),
                "an array is no reference"
            );
            assert!(read(r#""x""#).is_err());
            let long = Reference {
                id: Some("x".repeat(300)),
            };
            let err = from_cdms(&Some(long)).unwrap_err();
            assert!(err.0.chars().count() <= 101, "{err}");
            assert_eq!(to_cdms(&Some(id)), json!({"Id": id.to_string()}));
            assert_eq!(to_cdms(&None), empty);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cdms::codec::{encode, WriteMode};
    use crate::cdms::meta::{CdmsField, CdmsMeta};
    use crate::cdms::test_fixtures::{EMPLOYEES, NAME, ORG_CDMS};
    use crate::value::Value;

    /// The fixture organisation with `NumberOfEmployees` marked `read_only`.
    fn with_read_only_employees() -> &'static CdmsMeta {
        let fields: Vec<CdmsField> = ORG_CDMS
            .fields
            .iter()
            .map(|f| CdmsField {
                field: f.field,
                property: f.property,
                kind: f.kind,
                codec: f.codec,
                null: f.null,
                read_only: f.field == EMPLOYEES,
                relationship: f.relationship,
            })
            .collect();
        Box::leak(Box::new(CdmsMeta {
            fields: Box::leak(fields.into_boxed_slice()),
            ..ORG_CDMS
        }))
    }

    #[test]
    fn read_only_properties_are_never_written() {
        let meta = with_read_only_employees();
        let values = [
            (NAME, Value::Text("Acme".into())),
            (EMPLOYEES, Value::Int(12)),
        ];
        for mode in [WriteMode::Create, WriteMode::Merge] {
            let body = encode(meta, &values, mode).expect("encode");
            assert!(body.contains_key("Name"), "{mode:?}: {body:?}");
            assert!(
                !body.contains_key("NumberOfEmployees"),
                "{mode:?}: {body:?}"
            );
        }
        let body = encode(&ORG_CDMS, &values, WriteMode::Merge).expect("encode");
        assert!(
            body.contains_key("NumberOfEmployees"),
            "written when not read_only"
        );
    }
}
