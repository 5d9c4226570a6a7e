//! Wire forms of the Dynamics CRM 2011 OData V2 verbose JSON dialect shared by the client and
//! the emulator: `/Date(ms)/` datetimes, the error body, URL naming.
//!
//! All arithmetic is on UTC instants in milliseconds; nothing here reads the machine's time zone.

use chrono::{DateTime, TimeZone, Utc};

/// The path of the Organization Data Service below the organisation root.
pub const SERVICE_PATH: &str = "/XRMServices/2011/OrganizationData.svc";

/// The namespace of CRM's EDM types (`Microsoft.Crm.Sdk.Data.Services.Account`).
pub const NAMESPACE: &str = "Microsoft.Crm.Sdk.Data.Services";

/// CRM pages hold at most this many records.
pub const PAGE_SIZE: usize = 50;

/// The CRM error code for "record does not exist" (0x80040217).
pub const CODE_NOT_FOUND: &str = "-2147220969";

/// The CRM error code used for a duplicate primary key on create ("Cannot insert duplicate key").
pub const CODE_DUPLICATE_KEY: &str = "-2147220937";

/// The CRM error code of "unexpected" platform faults (0x80040216), which also carries
/// transient server trouble such as SQL timeouts.
pub const CODE_UNEXPECTED: &str = "-2147220970";

/// The longest query string IIS in front of a stock CRM 2011 accepts (`requestLimits`
/// `maxQueryString`, in bytes); longer ones are refused with 404.15 before CRM sees them.
pub const MAX_QUERY_STRING: usize = 2048;

/// The longest URL path IIS accepts (`requestLimits` `maxUrl`, in bytes); longer ones are
/// refused with 404.14.
pub const MAX_URL_PATH: usize = 4096;

/// The room a list request leaves in [`MAX_QUERY_STRING`] for what CRM appends to its `__next`
/// links (`$skiptoken`, about 150 bytes).
pub const NEXT_LINK_ROOM: usize = 256;

/// Renders an instant as CRM does on the wire: `/Date(1451606400000)/` (milliseconds since the
/// epoch, UTC, no offset). JSON serialisation escapes it as `"\/Date(...)\/"` only if the writer
/// chooses to; both forms are accepted by [`parse_date`].
pub fn format_date(t: &DateTime<Utc>) -> String {
    format!("/Date({})/", t.timestamp_millis())
}

/// Parses `/Date(ms)/`, `/Date(-ms)/` and the offset form `/Date(ms+0100)/` / `/Date(ms-0500)/`.
///
/// The millisecond count is the UTC instant; an offset is display information only and does not
/// shift the instant (CRM never sends one; the OData V2 text describes it as minutes to add for
/// local display). Also accepts the backslash-escaped form `\/Date(ms)\/` as found in raw text.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let s = s.strip_prefix('\\').unwrap_or(s);
    let inner = s.strip_prefix("/Date(")?;
    let inner = inner
        .strip_suffix(")/")
        .or_else(|| inner.strip_suffix(")\\/"))?;
    // The sign of the millisecond count may be '-', so look for an offset sign after the first
    // character only.
    let split = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i);
    let (ms, offset) = match split {
        Some(i) => (&inner[..i], Some(&inner[i + 1..])),
        None => (inner, None),
    };
    if let Some(offset) = offset {
        if offset.len() != 4 || !offset.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if ms.is_empty()
        || !ms
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let ms: i64 = ms.parse().ok()?;
    Utc.timestamp_millis_opt(ms).single()
}

/// The `{"error":{"code":..,"message":{"lang":"en-US","value":..}}}` body CRM answers errors with.
pub fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "code": code,
            "message": { "lang": "en-US", "value": message }
        }
    })
}

/// Reads `(code, message)` out of a CRM JSON error body, if it is one.
pub fn parse_error_body(body: &serde_json::Value) -> Option<(String, String)> {
    let err = body.get("error")?;
    let code = err
        .get("code")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .to_owned();
    let message = err
        .get("message")
        .and_then(|m| m.get("value").or(Some(m)))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned();
    Some((code, message))
}

/// The entity set name of a service: `Account` → `AccountSet`.
pub fn set_name(service: &str) -> String {
    format!("{service}Set")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_accept_all_forms() {
        let t = Utc.timestamp_millis_opt(1_451_606_400_123).unwrap();
        assert_eq!(format_date(&t), "/Date(1451606400123)/");
        assert_eq!(parse_date("/Date(1451606400123)/"), Some(t));
        assert_eq!(parse_date("\\/Date(1451606400123)\\/"), Some(t));
        assert_eq!(parse_date("/Date(1451606400123+0100)/"), Some(t));
        assert_eq!(parse_date("/Date(1451606400123-0500)/"), Some(t));
        let before_1970 = Utc.timestamp_millis_opt(-86_400_000).unwrap();
        assert_eq!(parse_date("/Date(-86400000)/"), Some(before_1970));
        assert_eq!(parse_date("/Date(-86400000+0000)/"), Some(before_1970));
        assert_eq!(parse_date("/Date()/"), None);
        assert_eq!(parse_date("/Date(12a)/"), None);
        assert_eq!(parse_date("/Date(12+01)/"), None);
        for odd in [
            "/Date(-)/",
            "/Date(--5)/",
            "/Date(+5)/",
            "/Date(5 )/",
            "/Date(5+01a0)/",
            "/Date(5+0100+0100)/",
            "/Date(99999999999999999999)/",
            "/Date(-9223372036854775808)/",
        ] {
            assert_eq!(parse_date(odd), None, "{odd}");
        }
        assert_eq!(
            parse_date(" /Date(0)/ "),
            Utc.timestamp_millis_opt(0).single()
        );
        assert_eq!(parse_date("2016-01-01"), None);
    }

    #[test]
    fn error_bodies() {
        let b = error_body(CODE_NOT_FOUND, "account With Id = x Does Not Exist");
        assert_eq!(
            parse_error_body(&b),
            Some((
                CODE_NOT_FOUND.to_owned(),
                "account With Id = x Does Not Exist".to_owned()
            ))
        );
    }
}
