//! OData V2 URI literals as the 2011 endpoint (WCF Data Services V2) parses them.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// `'O''Brien'`: single quotes doubled. The whole `$filter` is percent-encoded by the client.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e'` (lower case, hyphenated).
pub(crate) fn guid(u: &Uuid) -> String {
    format!("guid'{}'", u.hyphenated())
}

/// `datetime'2016-01-31T13:05:09'` for a whole-second instant in years 1–9999; `None` otherwise
/// (the literal has no fractional part and a four-digit year).
pub(crate) fn datetime(t: &DateTime<Utc>) -> Option<String> {
    if t.nanosecond() != 0 || !(1..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%S")))
}

/// `12.50M` (the scale is kept).
pub(crate) fn decimal(d: &Decimal) -> String {
    format!("{d}M")
}

/// `1.5`, `42.0` (a decimal point keeps it a Double); `None` for NaN and infinities.
pub(crate) fn double(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let mut s = format!("{x}");
    if !s.contains('.') {
        s.push_str(".0");
    }
    Some(s)
}

/// `42` when it fits an `Edm.Int32`; `None` otherwise.
pub(crate) fn int32(n: i64) -> Option<String> {
    i32::try_from(n).ok().map(|n| n.to_string())
}

/// `42L`.
pub(crate) fn int64(n: i64) -> String {
    format!("{n}L")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn literals() {
        assert_eq!(string("O'Brien"), "'O''Brien'");
        assert_eq!(string("''"), "''''''");
        assert_eq!(string(""), "''");
        assert_eq!(string("Zoë & Co"), "'Zoë & Co'");
        let u = Uuid::parse_str("DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E").unwrap();
        assert_eq!(guid(&u), "guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e'");
        let t = Utc.with_ymd_and_hms(2016, 1, 31, 13, 5, 9).unwrap();
        assert_eq!(
            datetime(&t).as_deref(),
            Some("datetime'2016-01-31T13:05:09'")
        );
        assert_eq!(datetime(&(t + chrono::Duration::milliseconds(1))), None);
        assert_eq!(
            datetime(&Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap()),
            None
        );
        assert_eq!(
            datetime(&Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap()).as_deref(),
            Some("datetime'0001-01-01T00:00:00'")
        );
        assert_eq!(decimal(&"12.50".parse().unwrap()), "12.50M");
        assert_eq!(decimal(&"-3".parse().unwrap()), "-3M");
        assert_eq!(double(1.5).as_deref(), Some("1.5"));
        assert_eq!(double(42.0).as_deref(), Some("42.0"));
        assert_eq!(double(-0.25).as_deref(), Some("-0.25"));
        assert_eq!(double(1e21).as_deref(), Some("1000000000000000000000.0"));
        assert_eq!(double(f64::NAN), None);
        assert_eq!(double(f64::INFINITY), None);
        assert_eq!(int32(42).as_deref(), Some("42"));
        assert_eq!(int32(-2_147_483_648).as_deref(), Some("-2147483648"));
        assert_eq!(int32(2_147_483_648), None);
        assert_eq!(int64(42), "42L");
    }
}
