//! Fixtures of the emulator tests: entity sets built from the example entities' derived CDMS
//! metadata, widened so every CRM kind is represented, and a small XML well-formedness check.
//!
//! The sets keep their derived properties and add (or pin the kind of) every property the tests
//! rely on, so the tests do not depend on which fields the example entities happen to map.

use cdms_entities::{Contact, Country, Organisation};
use cdms_runtime::cdms::{CdmsKind, Synced};
use cdms_runtime::emulator::{Clock, Emulator, EmulatorBuilder, SetSpec};

/// `AccountSet`: one property of every CRM kind.
///
/// | property | kind |
/// |---|---|
/// | `Name`, `Telephone1` | String |
/// | `DoNotEMail` | Boolean |
/// | `NumberOfEmployees` | Int32 |
/// | `ImportSequenceNumber64` | Int64 |
/// | `ExchangeRate` | Decimal |
/// | `Address1_Latitude` | Double |
/// | `LastUsedInCampaign`, `OverriddenCreatedOn` | DateTime |
/// | `Address1_AddressId` | Guid |
/// | `Revenue` | Money |
/// | `IndustryCode` | OptionSetValue |
/// | `optevia_Country` (→ optevia_country), `PrimaryContactId` (→ contact) | EntityReference |
pub fn account_spec() -> SetSpec {
    SetSpec::from_meta(<Organisation as Synced>::CDMS)
        .property("Name", CdmsKind::String)
        .property("Telephone1", CdmsKind::String)
        .property("DoNotEMail", CdmsKind::Boolean)
        .property("NumberOfEmployees", CdmsKind::Int32)
        .property("ImportSequenceNumber64", CdmsKind::Int64)
        .property("ExchangeRate", CdmsKind::Decimal)
        .property("Address1_Latitude", CdmsKind::Double)
        .property("LastUsedInCampaign", CdmsKind::DateTime)
        .property("OverriddenCreatedOn", CdmsKind::DateTime)
        .property("Address1_AddressId", CdmsKind::Guid)
        .property("Revenue", CdmsKind::Money)
        .property("IndustryCode", CdmsKind::OptionSetValue)
        .property("optevia_Country", CdmsKind::EntityReference)
        .lookup("optevia_Country", &["optevia_country"])
        .property("PrimaryContactId", CdmsKind::EntityReference)
        .lookup("PrimaryContactId", &["contact"])
        .primary_name("Name")
}

/// `ContactSet`: `ParentCustomerId` is polymorphic (account or contact), as in CDMS.
pub fn contact_spec() -> SetSpec {
    SetSpec::from_meta(<Contact as Synced>::CDMS)
        .property("FirstName", CdmsKind::String)
        .property("LastName", CdmsKind::String)
        .property("FullName", CdmsKind::String)
        .property("EMailAddress1", CdmsKind::String)
        .property("ParentCustomerId", CdmsKind::EntityReference)
        .lookup("ParentCustomerId", &["account", "contact"])
        .primary_name("FullName")
}

/// `optevia_countrySet`, named by `optevia_Country`.
pub fn country_spec() -> SetSpec {
    SetSpec::from_meta(<Country as Synced>::CDMS)
        .property("optevia_Country", CdmsKind::String)
        .property("optevia_ISOCountry2", CdmsKind::String)
        .primary_name("optevia_Country")
}

/// A builder serving the three sets, on a manual clock standing at 2016-01-31T13:05:09Z.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .spec(account_spec())
        .spec(contact_spec())
        .spec(country_spec())
        .clock(Clock::manual(start_instant()))
}

/// The fixtures' starting instant: 2016-01-31T13:05:09Z (1454245509000 ms).
pub fn start_instant() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_454_245_509, 0).unwrap_or_default()
}

/// The three sets with the default options.
pub fn emulator() -> Emulator {
    match builder().build() {
        Ok(e) => e,
        Err(e) => panic!("fixture emulator does not build: {e}"),
    }
}

/// Checks that `xml` is well-formed (one root, balanced and properly nested tags, quoted
/// attributes, known or numeric entities) and returns the element names in document order.
pub fn check_xml(xml: &str) -> Result<Vec<String>, String> {
    let mut rest = xml.trim_start();
    if let Some(decl) = rest.strip_prefix("<?xml") {
        rest = decl
            .split_once("?>")
            .ok_or("unterminated XML declaration")?
            .1;
    }
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut roots = 0;
    loop {
        let Some(lt) = rest.find('<') else {
            check_text(rest)?;
            if !rest.trim().is_empty() && stack.is_empty() {
                return Err("text after the root element".into());
            }
            break;
        };
        let text = &rest[..lt];
        check_text(text)?;
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element: {text:?}"));
        }
        let gt = rest[lt..].find('>').ok_or("unterminated tag")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or_else(|| format!("stray </{name}>"))?;
            if open != name.trim() {
                return Err(format!("</{}> closes <{open}>", name.trim()));
            }
            continue;
        }
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let (name, attrs) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || ":_-.".contains(c))
        {
            return Err(format!("bad element name {name:?}"));
        }
        check_attributes(attrs)?;
        if stack.is_empty() {
            roots += 1;
        }
        names.push(name.to_owned());
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(names)
}

fn check_text(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        let semi = rest[amp..].find(';').ok_or("unterminated entity")? + amp;
        let entity = &rest[amp + 1..semi];
        let known = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity.strip_prefix('#').is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_hexdigit() || c == 'x')
            });
        if !known {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &rest[semi + 1..];
    }
    if text.contains('<') {
        return Err("'<' in text".into());
    }
    Ok(())
}

fn check_attributes(mut attrs: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(());
        }
        let (name, rest) = attrs
            .split_once('=')
            .ok_or_else(|| format!("attribute without value: {attrs:?}"))?;
        let name = name.trim();
        if seen.contains(&name) {
            return Err(format!("duplicate attribute {name}"));
        }
        seen.push(name);
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
            .ok_or("unquoted attribute")?;
        let end = rest[1..]
            .find(quote)
            .ok_or("unterminated attribute value")?
            + 1;
        check_text(&rest[1..end])?;
        attrs = &rest[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_check_accepts_and_refuses() {
        let names =
            check_xml("<?xml version=\"1.0\"?>\n<a x=\"1\" y='2'><b/><c>t &amp; &#x41;</c></a>")
                .unwrap();
        assert_eq!(names, ["a", "b", "c"]);
        for bad in [
            "<a><b></a></b>",
            "<a>",
            "<a></a><b/>",
            "<a x=1/>",
            "<a>&bogus;</a>",
            "<a x=\"1\" x=\"2\"/>",
            "text<a/>",
        ] {
            assert!(check_xml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fixture_builds() {
        let e = emulator();
        assert_eq!(
            e.set_names(),
            ["AccountSet", "ContactSet", "optevia_countrySet"]
        );
    }
}
