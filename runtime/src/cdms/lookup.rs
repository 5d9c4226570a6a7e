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
    use serde_json::{json, Value};
    use uuid::Uuid;

    use crate::cdms::meta::CdmsKind;

    /// The CDMS property is an `EntityReference`.
    pub const KIND: CdmsKind = CdmsKind::EntityReference;

    /// A value that is not an `EntityReference` with a GUID (or null) `Id`.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("expected an EntityReference object with a GUID or null Id, got {0}")]
    pub struct NotAReference(pub String);

    /// Reads `{"Id": guid | null, "LogicalName": .., "Name": ..}` (or a bare null).
    pub fn from_cdms(json: &Value) -> Result<Option<Uuid>, NotAReference> {
        let shown = || {
            let mut text = json.to_string();
            if text.len() > 100 {
                let mut end = 100;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push('…');
            }
            NotAReference(text)
        };
        match json {
            Value::Null => Ok(None),
            Value::Object(o) => match o.get("Id") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => {
                    let s = s.trim().trim_start_matches('{').trim_end_matches('}');
                    Uuid::parse_str(s).map(Some).map_err(|_| shown())
                }
                Some(_) => Err(shown()),
            },
            _ => Err(shown()),
        }
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

        #[test]
        fn reads_and_writes_references() {
            let id = Uuid::from_u128(0x1234);
            let full = json!({"Id": id.to_string(), "LogicalName": "systemuser", "Name": "Jo"});
            assert_eq!(from_cdms(&full), Ok(Some(id)));
            assert_eq!(from_cdms(&json!({"Id": format!("{{{id}}}")})), Ok(Some(id)));
            let empty = json!({"Id": null, "LogicalName": null, "Name": null});
            assert_eq!(from_cdms(&empty), Ok(None));
            assert_eq!(from_cdms(&Value::Null), Ok(None));
            assert!(from_cdms(&json!({"Id": "not-a-guid"})).is_err());
            assert!(from_cdms(&json!({"Id": 7})).is_err());
            let err = from_cdms(&json!("x".repeat(300))).unwrap_err();
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
