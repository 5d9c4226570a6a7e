//! URLs of the Organization Data Service, with every query option percent-encoded.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Url;
use uuid::Uuid;

use super::super::CdmsError;

/// Everything but RFC 3986's unreserved characters is encoded: `&`, `#`, `+`, `'`, `%`, `,`,
/// `/`, spaces (as `%20`) and non-ASCII (as UTF-8 bytes) all survive the trip.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query option value (or a form field).
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// The options of a list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `$filter` (see [`crate::cdms::filter::translate`]), unencoded.
    pub filter: Option<String>,
    /// `$select`: the properties to return (empty = all).
    pub select: Vec<String>,
    /// `$expand`: the navigation properties whose related records come inline (CRM 2011:
    /// at most 6, one level; a many-to-one one is the relationship's schema name, and with a
    /// `$select` it must be selected too: `nav`, `nav/Prop`). Empty = none.
    pub expand: Vec<String>,
    /// `$orderby` (see [`crate::cdms::filter::orderby`]), unencoded.
    pub orderby: Option<String>,
    /// `$top`: the most records to return across all pages. Also enforced by the client, which
    /// stops following `__next` once it has this many.
    pub top: Option<u32>,
}

impl ListOptions {
    /// The query string (without `?`), every value percent-encoded.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.filter {
            parts.push(format!("$filter={}", encode_component(f)));
        }
        if !self.select.is_empty() {
            parts.push(format!(
                "$select={}",
                encode_component(&self.select.join(","))
            ));
        }
        if !self.expand.is_empty() {
            parts.push(format!(
                "$expand={}",
                encode_component(&self.expand.join(","))
            ));
        }
        if let Some(o) = &self.orderby {
            parts.push(format!("$orderby={}", encode_component(o)));
        }
        if let Some(top) = self.top {
            parts.push(format!("$top={top}"));
        }
        parts.join("&")
    }

    /// Whether a listing with these options stays within IIS's query string limit
    /// ([`crate::cdms::wire::MAX_QUERY_STRING`], with room for what CRM adds to `__next`
    /// links), once the client has narrowed it (see [`crate::cdms::CdmsClient::pager`]).
    pub fn fits(&self) -> bool {
        self.narrowed().is_some()
    }

    /// The query string to send: as given when it fits, otherwise without `$select` (every
    /// property comes back, expanded records whole; the decoders ignore the others); `None`
    /// when even that is too long.
    pub(crate) fn narrowed(&self) -> Option<String> {
        let budget = crate::cdms::wire::MAX_QUERY_STRING - crate::cdms::wire::NEXT_LINK_ROOM;
        let query = self.query();
        if query.len() <= budget {
            return Some(query);
        }
        let bare = ListOptions {
            select: Vec::new(),
            ..self.clone()
        }
        .query();
        (bare.len() <= budget).then_some(bare)
    }
}

/// Where the service lives.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `{org root}/XRMServices/2011/OrganizationData.svc`, without a trailing slash.
    pub service: String,
    /// The parsed organisation root (for the origin and the sign-in path).
    pub base: Url,
}

impl Endpoint {
    pub fn new(base_url: &str) -> Result<Self, CdmsError> {
        let config = |message: String| CdmsError::Config { message };
        // Shown redacted: a malformed URL may still carry a password.
        let shown = crate::redact_url(base_url);
        let base =
            Url::parse(base_url).map_err(|e| config(format!("invalid base URL {shown:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(config(format!(
                "base URL {shown:?} must be an http(s) URL with a host"
            )));
        }
        if base.query().is_some()
            || base.fragment().is_some()
            || !base.username().is_empty()
            || base.password().is_some()
        {
            return Err(config(
                "the base URL must not carry a query, a fragment or credentials (use Auth)"
                    .to_owned(),
            ));
        }
        let root = base.as_str().trim_end_matches('/');
        Ok(Endpoint {
            service: format!("{root}{}", super::super::wire::SERVICE_PATH),
            base,
        })
    }

    /// `…/AccountSet`.
    pub fn set_url(&self, set: &str) -> Result<String, CdmsError> {
        check_set(set)?;
        Ok(format!("{}/{set}", self.service))
    }

    /// `…/AccountSet(guid'…')`.
    pub fn key_url(&self, set: &str, id: Uuid) -> Result<String, CdmsError> {
        check_set(set)?;
        Ok(format!("{}/{set}(guid'{}')", self.service, id.hyphenated()))
    }

    /// An absolute path on the server (`/adfs/login`), resolved against the origin.
    pub fn origin_path(&self, path: &str) -> Result<String, CdmsError> {
        let mut url = self.base.clone();
        if !path.starts_with('/') {
            return Err(CdmsError::Config {
                message: format!("the sign-in path {path:?} must start with '/'"),
            });
        }
        url.set_path(path);
        url.set_query(None);
        Ok(url.to_string())
    }

    /// Whether `url` is on the same origin (scheme, host, port) as the service: a `__next` link
    /// elsewhere is refused, so credentials never leave for another host.
    pub fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == self.base.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.base.port_or_known_default()
    }
}

/// Entity set names are schema identifiers (`AccountSet`, `optevia_countrySet`).
fn check_set(set: &str) -> Result<(), CdmsError> {
    let ok = !set.is_empty() && set.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CdmsError::Config {
            message: format!("{set:?} is not an entity set name"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_is_encoded_after_select_and_survives_narrowing() {
        let opts = ListOptions {
            filter: Some("substringof('a&b',nav_x/Name)".into()),
            select: vec!["ContactId".into(), "nav_x".into(), "nav_x/Name".into()],
            expand: vec!["nav_x".into(), "nav y".into()],
            orderby: Some("ModifiedOn desc".into()),
            top: Some(10),
        };
        assert_eq!(
            opts.query(),
            "$filter=substringof%28%27a%26b%27%2Cnav_x%2FName%29\
             &$select=ContactId%2Cnav_x%2Cnav_x%2FName&$expand=nav_x%2Cnav%20y\
             &$orderby=ModifiedOn%20desc&$top=10"
        );
        // Too long with its $select: sent without it, $expand kept.
        let wide = ListOptions {
            select: (0..400).map(|i| format!("nav_x/P{i}")).collect(),
            ..opts.clone()
        };
        assert!(wide.fits());
        let sent = wide.narrowed().unwrap();
        assert!(!sent.contains("$select"), "{sent}");
        assert!(sent.contains("&$expand=nav_x%2Cnav%20y&"), "{sent}");
        let none = ListOptions::default();
        assert!(!none.query().contains("expand"));
    }
}
