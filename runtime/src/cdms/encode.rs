//! Create and MERGE bodies written by the encoder `#[derive(CdmsSynced)]` generates.
//!
//! The generated encoder is a `match` on the local field index, resolved at compile time: a
//! field that CDMS never takes (local-only, `ModifiedOn`, `CreatedOn`, `VersionNumber`,
//! `#[cdms(read_only)]`) has no arm, the id property is written only into a create, and a
//! lookup carries its target's logical name as a constant. Each arm calls one of the helpers
//! below for its CRM shape. The interpreted encoder ([`codec::encode`]) stays for metadata
//! built by hand and as the oracle of a property test: both write the same body.

use serde_json::{json, Map, Value as J};

use crate::cdms::codec::{self, WriteMode};
use crate::cdms::meta::{CdmsField, CdmsMeta};
use crate::cdms::CdmsError;
use crate::value::Value;

/// A generated body encoder: `(local field index, value)` pairs into a create or MERGE body,
/// with the contract of [`codec::encode`].
pub type BodyEncoder = fn(&[(usize, Value)], WriteMode) -> Result<Map<String, J>, CdmsError>;

/// The body of `values` for `meta`: through its generated encoder, else interpreted.
pub fn body(
    meta: &'static CdmsMeta,
    values: &[(usize, Value)],
    mode: WriteMode,
) -> Result<Map<String, J>, CdmsError> {
    match meta.encoder {
        Some(encoder) => encoder(values, mode),
        None => codec::encode(meta, values, mode),
    }
}

/// Writes the property `f` (any shape but a lookup to a synced entity): strings, numbers,
/// booleans, `/Date(ms)/`, GUIDs, Money and OptionSetValue as `{"Value": ..}` (their null
/// as `{"Value": null}`), and a converter's own JSON.
#[inline]
pub fn property(
    body: &mut Map<String, J>,
    meta: &'static CdmsMeta,
    f: &'static CdmsField,
    value: &Value,
) -> Result<(), CdmsError> {
    codec::refuse_blank(meta, f, value)?;
    let json = match (f.codec, value) {
        (None, Value::Text(s)) if f.kind == crate::cdms::CdmsKind::String => J::String(s.clone()),
        (None, Value::Bool(b)) if f.kind == crate::cdms::CdmsKind::Boolean => J::Bool(*b),
        _ => codec::encode_property(meta, f, value.clone())?,
    };
    body.insert(f.property.to_owned(), json);
    Ok(())
}

/// Writes the id property `f` into a create with a chosen id; never into a MERGE, and not when
/// the id is unset (CDMS assigns it).
#[inline]
pub fn id(
    body: &mut Map<String, J>,
    meta: &'static CdmsMeta,
    f: &'static CdmsField,
    value: &Value,
    mode: WriteMode,
) -> Result<(), CdmsError> {
    if mode == WriteMode::Merge || value.is_null() {
        return Ok(());
    }
    property(body, meta, f, value)
}

/// Writes the lookup `f` to an entity whose logical name is `logical_name`:
/// `{"Id": .., "LogicalName": ..}`, cleared as `{"Id": null, "LogicalName": null, "Name": null}`.
/// The value must be the target's CDMS id ([`Value::Uuid`]).
#[inline]
pub fn lookup(
    body: &mut Map<String, J>,
    meta: &'static CdmsMeta,
    f: &'static CdmsField,
    logical_name: &'static str,
    value: &Value,
) -> Result<(), CdmsError> {
    let json = match value {
        Value::Uuid(id) => {
            json!({ "Id": id.hyphenated().to_string(), "LogicalName": logical_name })
        }
        Value::Null => json!({ "Id": null, "LogicalName": null, "Name": null }),
        // The reference encoder names the property and the value in its error.
        other => codec::encode_property(meta, f, other.clone())?,
    };
    body.insert(f.property.to_owned(), json);
    Ok(())
}
