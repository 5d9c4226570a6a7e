//! Converters for `#[cdms(with = ...)]`: fields whose local form differs from CDMS's.
//!
//! Each module provides `KIND`, `from_cdms` and `to_cdms`, the contract of `with = path`.

/// A CDMS value a converter cannot read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct ConvertError {
    /// What the converter reads.
    pub expected: &'static str,
    /// The JSON that arrived.
    pub got: String,
}

/// Postcodes, normalised locally to upper case with single spaces (`" sw1a  1aa "` →
/// `"SW1A 1AA"`); an empty postcode is `None`, as CDMS stores `""` as null.
pub mod postcode {
    use cdms_runtime::cdms::CdmsKind;
    use serde_json::Value;

    use super::ConvertError;

    /// The CDMS property is an `Edm.String`.
    pub const KIND: CdmsKind = CdmsKind::String;

    /// Reads the property (a string or null) and normalises it.
    pub fn from_cdms(json: &Value) -> Result<Option<String>, ConvertError> {
        match json {
            Value::Null => Ok(None),
            Value::String(s) => Ok(normalise(s)),
            other => Err(ConvertError {
                expected: "a postcode string or null",
                got: other.to_string(),
            }),
        }
    }

    /// Writes the property: the (normalised) postcode, or null.
    pub fn to_cdms(value: &Option<String>) -> Value {
        value
            .as_deref()
            .and_then(normalise)
            .map_or(Value::Null, Value::String)
    }

    /// Upper case, runs of whitespace collapsed to one space, trimmed; `None` when empty.
    pub fn normalise(raw: &str) -> Option<String> {
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() {
            return None;
        }
        Some(words.join(" ").to_uppercase())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        #[test]
        fn normalises_case_and_spaces() {
            assert_eq!(normalise(" sw1a \t 1aa "), Some("SW1A 1AA".to_owned()));
            assert_eq!(normalise("EC1A1BB"), Some("EC1A1BB".to_owned()));
            assert_eq!(normalise("   "), None);
        }

        #[test]
        fn reads_strings_and_null() {
            assert_eq!(from_cdms(&json!("w1a 0ax")), Ok(Some("W1A 0AX".to_owned())));
            assert_eq!(from_cdms(&json!("")), Ok(None));
            assert_eq!(from_cdms(&Value::Null), Ok(None));
            let err = from_cdms(&json!(42)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "expected a postcode string or null, got 42"
            );
        }

        #[test]
        fn writes_normalised_or_null() {
            assert_eq!(to_cdms(&Some("sw1a 1aa".to_owned())), json!("SW1A 1AA"));
            assert_eq!(to_cdms(&Some(" ".to_owned())), Value::Null);
            assert_eq!(to_cdms(&None), Value::Null);
        }
    }
}
