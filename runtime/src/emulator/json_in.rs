//! Reading create/update bodies: verbose-JSON property values checked against each property's
//! CRM type, as WCF Data Services and CRM check them (dialect §4 "Write payloads").
//!
//! Accepted shapes, per kind:
//! - String: a string or null; `""` stores null (as CRM does on update, and here on create too).
//! - Boolean: `true`/`false`/null. Int32: an integral JSON number. Double: a JSON number.
//! - Int64, Decimal: a number or a numeric string (they are quoted on output).
//! - DateTime: `"/Date(ms)/"` (also with an offset), RFC 3339, `yyyy-mm-dd[ hh:mm[:ss[.f]]]`
//!   (with `T` or a space), `mm/dd/yyyy[ hh:mm:ss]`; times without a zone are UTC.
//! - Guid: a GUID string (hyphenated, braced or plain).
//! - Money `{"Value": number|string|null}`, OptionSetValue `{"Value": int|numeric string|null}`,
//!   EntityReference `{"Id": guid|null, "LogicalName"?: string, "Name"?: ignored}`; members
//!   beyond those (other than `__metadata`) are refused, and so is JSON `null` for the whole
//!   complex property (clear it with null members instead).
//!
//! Keys starting with `__` (`__metadata`) and `{"__deferred":..}` values (navigation properties of
//! a round-tripped entry) are skipped. Server-managed properties (`CreatedOn`, `ModifiedOn`,
//! `VersionNumber`) are accepted and ignored. Unknown or mis-cased properties are refused (400).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value as J};
use uuid::Uuid;

use super::error::ApiError;
use super::schema::SetSchema;
use super::store::{Cell, Changes, RefVal};
use crate::cdms::meta::CdmsKind;
use crate::cdms::wire;

/// Money is stored with 4 decimal places (SQL Server `money`), Decimal with 10.
pub(crate) const MONEY_SCALE: u32 = 4;
pub(crate) const DECIMAL_SCALE: u32 = 10;

/// What the body is for: a create may carry the key; an update must not change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Create,
    Update(Uuid),
}

fn stream_error(message: String) -> ApiError {
    ApiError::bad_request(format!("Error processing request stream. {message}"))
}

fn type_error(prop: &str, kind: CdmsKind, found: &J) -> ApiError {
    let found = match found {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    };
    stream_error(format!(
        "The value of property '{prop}' is {found}, which cannot be converted to '{}'.",
        kind.edm_type()
    ))
}

/// Parses a JSON write body into validated changes.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Map<String, J>, ApiError> {
    match serde_json::from_slice::<J>(bytes) {
        Ok(J::Object(map)) => Ok(map),
        Ok(_) => Err(stream_error(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(stream_error(format!(
            "JSON text specified is not valid: {e}."
        ))),
    }
}

/// Checks every property of `body` against `schema`.
pub(crate) fn changes(
    schema: &SetSchema,
    body: &Map<String, J>,
    purpose: Purpose,
) -> Result<Changes, ApiError> {
    let mut out = Changes {
        id: None,
        cells: Vec::with_capacity(body.len()),
    };
    for (name, value) in body {
        if name.starts_with("__") {
            continue;
        }
        let Some(i) = schema.prop(name) else {
            if value.get("__deferred").is_some() {
                continue;
            }
            return Err(stream_error(format!(
                "The property '{name}' does not exist on type '{}'. Property names are \
                 case-sensitive.",
                schema.type_name
            )));
        };
        let prop = &schema.props[i];
        if prop.managed {
            continue;
        }
        let cell = cell_from_json(&prop.name, prop.kind, value)?;
        if i == schema.id {
            let id = match cell {
                Cell::Guid(id) => Some(id),
                _ => None,
            };
            match (purpose, id) {
                (Purpose::Create, id) => out.id = id,
                (Purpose::Update(key), Some(id)) if id == key => {}
                (Purpose::Update(_), _) => {
                    return Err(ApiError::bad_request(format!(
                        "The key property '{name}' cannot be changed."
                    )))
                }
            }
            continue;
        }
        out.cells.push((i, cell));
    }
    Ok(out)
}

/// One property value.
pub(crate) fn cell_from_json(prop: &str, kind: CdmsKind, v: &J) -> Result<Cell, ApiError> {
    let bad = || type_error(prop, kind, v);
    if v.is_null() {
        return if kind.is_complex() {
            Err(stream_error(format!(
                "The complex property '{prop}' cannot be null; set its members to null instead."
            )))
        } else {
            Ok(Cell::Null)
        };
    }
    Ok(match kind {
        CdmsKind::String => match v {
            J::String(s) if s.is_empty() => Cell::Null,
            J::String(s) => Cell::text(s.clone()),
            _ => return Err(bad()),
        },
        CdmsKind::Boolean => Cell::Bool(v.as_bool().ok_or_else(bad)?),
        CdmsKind::Int32 => Cell::Int(int32(v).ok_or_else(bad)?),
        CdmsKind::Int64 => Cell::Int(match v {
            J::Number(n) => n.as_i64().ok_or_else(bad)?,
            J::String(s) => s.trim().parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }),
        CdmsKind::Double => Cell::Float(match v {
            J::Number(n) => n.as_f64().filter(|f| f.is_finite()).ok_or_else(bad)?,
            _ => return Err(bad()),
        }),
        CdmsKind::Decimal => Cell::Dec(decimal(v, DECIMAL_SCALE).ok_or_else(bad)?),
        CdmsKind::DateTime => match v {
            J::String(s) => Cell::Date(parse_datetime(s).ok_or_else(bad)?.timestamp_millis()),
            _ => return Err(bad()),
        },
        CdmsKind::Guid => match v {
            J::String(s) => Cell::Guid(Uuid::parse_str(s.trim()).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        CdmsKind::Money | CdmsKind::OptionSetValue => {
            let obj = v.as_object().ok_or_else(bad)?;
            check_members(prop, obj, &["Value"])?;
            match obj.get("Value") {
                None | Some(J::Null) => Cell::Null,
                Some(value) if kind == CdmsKind::Money => Cell::Dec(
                    decimal(value, MONEY_SCALE).ok_or_else(|| member_error(prop, "Value"))?,
                ),
                Some(value) => Cell::Int(
                    match value {
                        J::String(s) => s.trim().parse::<i32>().map(i64::from).ok(),
                        other => int32(other),
                    }
                    .ok_or_else(|| member_error(prop, "Value"))?,
                ),
            }
        }
        CdmsKind::EntityReference => {
            let obj = v.as_object().ok_or_else(bad)?;
            check_members(prop, obj, &["Id", "LogicalName", "Name"])?;
            let id = match obj.get("Id") {
                None => {
                    return Err(stream_error(format!(
                        "The lookup '{prop}' needs an 'Id' member (null to clear it)."
                    )))
                }
                Some(J::Null) => return Ok(Cell::Null),
                Some(J::String(s)) => {
                    Uuid::parse_str(s.trim()).map_err(|_| member_error(prop, "Id"))?
                }
                Some(_) => return Err(member_error(prop, "Id")),
            };
            let logical = match obj.get("LogicalName") {
                None | Some(J::Null) => None,
                Some(J::String(s)) if !s.is_empty() => Some(s.to_lowercase().into()),
                Some(_) => return Err(member_error(prop, "LogicalName")),
            };
            Cell::Ref(Box::new(RefVal { id, logical }))
        }
    })
}

fn check_members(prop: &str, obj: &Map<String, J>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj
        .keys()
        .find(|k| !k.starts_with("__") && !allowed.contains(&k.as_str()))
    {
        Some(k) => Err(stream_error(format!(
            "The member '{k}' does not exist on the complex property '{prop}'."
        ))),
        None => Ok(()),
    }
}

fn member_error(prop: &str, member: &str) -> ApiError {
    stream_error(format!(
        "The value of '{prop}/{member}' is not valid for its type."
    ))
}

fn int32(v: &J) -> Option<i64> {
    let i = v.as_i64()?;
    i32::try_from(i).ok().map(i64::from)
}

fn decimal(v: &J, scale: u32) -> Option<Decimal> {
    let d = match v {
        J::Number(n) => parse_decimal(&n.to_string())?,
        J::String(s) => parse_decimal(s.trim())?,
        _ => return None,
    };
    let mut d = d.round_dp(scale);
    d.rescale(scale);
    Some(d)
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

/// The date/time forms CRM accepted on writes.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = wire::parse_date(s) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    const FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ];
    for f in FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(kind: CdmsKind, v: J) -> Cell {
        cell_from_json("P", kind, &v).unwrap_or_else(|e| panic!("{v}: {e:?}"))
    }
    fn err(kind: CdmsKind, v: J) -> ApiError {
        cell_from_json("P", kind, &v).expect_err(&v.to_string())
    }

    #[test]
    fn primitive_shapes() {
        assert!(ok(CdmsKind::String, json!("")).is_null());
        assert!(matches!(ok(CdmsKind::String, json!("  a ")), Cell::Text(t) if t.raw == "  a "));
        assert_eq!(err(CdmsKind::String, json!(5)).status, 400);
        assert!(matches!(ok(CdmsKind::Int32, json!(5)), Cell::Int(5)));
        err(CdmsKind::Int32, json!("5"));
        err(CdmsKind::Int32, json!(5.5));
        err(CdmsKind::Int32, json!(3_000_000_000i64));
        assert!(matches!(ok(CdmsKind::Int64, json!("42")), Cell::Int(42)));
        assert!(matches!(ok(CdmsKind::Int64, json!(42)), Cell::Int(42)));
        assert!(matches!(ok(CdmsKind::Double, json!(1.5)), Cell::Float(f) if f == 1.5));
        err(CdmsKind::Double, json!("1.5"));
        match ok(CdmsKind::Decimal, json!("1.5")) {
            Cell::Dec(d) => assert_eq!(d.to_string(), "1.5000000000"),
            other => panic!("{other:?}"),
        }
        err(CdmsKind::Boolean, json!("true"));
        err(CdmsKind::Guid, json!("1234"));
        assert!(matches!(
            ok(
                CdmsKind::Guid,
                json!("{DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E}")
            ),
            Cell::Guid(_)
        ));
    }

    #[test]
    fn datetimes_in_every_accepted_form() {
        let want = 1_479_134_989_123;
        for s in [
            "/Date(1479134989123)/",
            "2016-11-14T14:49:49.123Z",
            "2016-11-14T15:49:49.123+01:00",
            "2016-11-14 14:49:49.123456",
            "2016-11-14T14:49:49.123",
        ] {
            assert!(
                matches!(ok(CdmsKind::DateTime, json!(s)), Cell::Date(ms) if ms == want),
                "{s}"
            );
        }
        assert!(matches!(
            ok(CdmsKind::DateTime, json!("12/26/2022")),
            Cell::Date(1_672_012_800_000)
        ));
        err(CdmsKind::DateTime, json!("yesterday"));
        err(CdmsKind::DateTime, json!(1_479_134_989_123i64));
    }

    #[test]
    fn complex_shapes() {
        assert!(matches!(
            ok(CdmsKind::OptionSetValue, json!({"Value": 3})),
            Cell::Int(3)
        ));
        assert!(matches!(
            ok(CdmsKind::OptionSetValue, json!({"Value": "3"})),
            Cell::Int(3)
        ));
        assert!(ok(CdmsKind::OptionSetValue, json!({"Value": null})).is_null());
        err(CdmsKind::OptionSetValue, json!(3));
        err(CdmsKind::OptionSetValue, json!(null));
        err(CdmsKind::OptionSetValue, json!({"Value": "x"}));
        err(CdmsKind::OptionSetValue, json!({"value": 3}));
        match ok(CdmsKind::Money, json!({"__metadata": {}, "Value": 100.5})) {
            Cell::Dec(d) => assert_eq!(d.to_string(), "100.5000"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ok(CdmsKind::Money, json!({"Value": "12.34"})),
            Cell::Dec(_)
        ));
        let id = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";
        match ok(
            CdmsKind::EntityReference,
            json!({"Id": id, "LogicalName": "Account"}),
        ) {
            Cell::Ref(r) => assert_eq!(r.logical.as_deref(), Some("account")),
            other => panic!("{other:?}"),
        }
        assert!(ok(
            CdmsKind::EntityReference,
            json!({"Id": null, "LogicalName": null, "Name": null})
        )
        .is_null());
        err(CdmsKind::EntityReference, json!({"LogicalName": "account"}));
        err(CdmsKind::EntityReference, json!({"Id": "nope"}));
        err(CdmsKind::EntityReference, json!({"Id": id, "Extra": 1}));
    }
}
