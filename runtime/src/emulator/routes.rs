//! What a request path addresses.
//!
//! The organisation segment and the service path are matched case-insensitively (IIS); entity
//! set and property names are case-sensitive (CRM schema names). Keys are `(guid'…')` or
//! `(KeyProperty=guid'…')`; a malformed key answers 400, an unknown set 404.

use percent_encoding::percent_decode_str;
use uuid::Uuid;

use super::auth::LOGIN_PATH;
use super::builder::OrgUrl;
use super::Emulator;
use crate::cdms::wire::SERVICE_PATH;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Login,
    ServiceRoot,
    Metadata,
    Batch,
    Collection(usize),
    Count(usize),
    Entity(usize, Uuid),
    Property(usize, Uuid, String),
    Links(usize),
    /// A set with a key that is not a GUID literal.
    BadKey(usize),
    /// A first segment naming no set.
    UnknownSegment(String),
    /// A path below an entity naming nothing.
    UnknownPath(usize, String),
    /// Outside the service.
    Outside,
}

impl Route {
    /// The entity set the request addressed, by name.
    pub fn set_name<'a>(&'a self, emu: &'a Emulator) -> Option<&'a str> {
        match self {
            Route::Collection(s)
            | Route::Count(s)
            | Route::Entity(s, _)
            | Route::Property(s, _, _)
            | Route::Links(s)
            | Route::BadKey(s)
            | Route::UnknownPath(s, _) => Some(&emu.inner.schemas[*s].set),
            Route::UnknownSegment(name) => Some(name),
            _ => None,
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Parses a request path.
pub(crate) fn parse(emu: &Emulator, raw_path: &str) -> Route {
    let path = percent_decode_str(raw_path).decode_utf8_lossy();
    if path.eq_ignore_ascii_case(LOGIN_PATH) {
        return Route::Login;
    }
    let cfg = &emu.inner.cfg;
    let below_org = match cfg.org_url {
        OrgUrl::Path => strip_prefix_ci(&path, &format!("/{}", cfg.org)),
        OrgUrl::Root => Some(&*path),
    };
    let Some(rest) = below_org.and_then(|p| strip_prefix_ci(p, SERVICE_PATH)) else {
        return Route::Outside;
    };
    let rest = match rest {
        "" | "/" => return Route::ServiceRoot,
        r => match r.strip_prefix('/') {
            Some(r) => r,
            None => return Route::Outside,
        },
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest == "$metadata" {
        return Route::Metadata;
    }
    if rest == "$batch" {
        return Route::Batch;
    }
    let (first, tail) = match split_first_segment(rest) {
        Some(parts) => parts,
        None => return Route::UnknownSegment(rest.to_owned()),
    };
    let (name, key) = match first.find('(') {
        Some(i) => (&first[..i], Some(&first[i..])),
        None => (first, None),
    };
    let Some(&set) = emu.inner.by_set.get(name) else {
        return Route::UnknownSegment(name.to_owned());
    };
    let key = match key {
        None | Some("()") => None,
        Some(k) => match parse_key(
            &emu.inner.schemas[set].props[emu.inner.schemas[set].id].name,
            k,
        ) {
            Some(id) => Some(id),
            None => return Route::BadKey(set),
        },
    };
    match (key, tail) {
        (None, None) => Route::Collection(set),
        (None, Some("$count")) => Route::Count(set),
        (Some(id), None) => Route::Entity(set, id),
        (Some(_), Some(t)) if t == "$links" || t.starts_with("$links/") => Route::Links(set),
        (Some(id), Some(t)) if !t.contains('/') && emu.inner.schemas[set].prop(t).is_some() => {
            Route::Property(set, id, t.to_owned())
        }
        (_, Some(t)) => Route::UnknownPath(set, t.to_owned()),
    }
}

/// Splits `Seg(key)/rest` at the first `/` outside the key's quotes.
fn split_first_segment(s: &str) -> Option<(&str, Option<&str>)> {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '/' if !in_quote => return Some((&s[..i], Some(&s[i + 1..]))),
            _ => {}
        }
    }
    (!in_quote).then_some((s, None))
}

/// `(guid'…')` or `(Key=guid'…')`.
fn parse_key(key_property: &str, k: &str) -> Option<Uuid> {
    let inner = k.strip_prefix('(')?.strip_suffix(')')?.trim();
    let inner = match inner.split_once('=') {
        Some((name, value)) if name.trim() == key_property => value.trim(),
        Some(_) => return None,
        None => inner,
    };
    let g = inner.strip_prefix("guid'")?.strip_suffix('\'')?;
    if g.len() != 36 {
        return None;
    }
    Uuid::parse_str(g).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdms::meta::CdmsKind;
    use crate::emulator::SetSpec;

    fn emu(style: OrgUrl) -> Emulator {
        Emulator::builder()
            .spec(SetSpec::new("Account", "AccountId").property("Name", CdmsKind::String))
            .org_url(style)
            .build()
            .unwrap()
    }

    #[test]
    fn routes() {
        let e = emu(OrgUrl::Path);
        let svc = "/UKTI/XRMServices/2011/OrganizationData.svc";
        let g = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";
        let id: Uuid = g.parse().unwrap();
        assert_eq!(parse(&e, svc), Route::ServiceRoot);
        assert_eq!(parse(&e, &format!("{svc}/")), Route::ServiceRoot);
        assert_eq!(
            parse(&e, "/ukti/xrmservices/2011/organizationdata.svc/$metadata"),
            Route::Metadata
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet")),
            Route::Collection(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet()")),
            Route::Collection(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet/$count")),
            Route::Count(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid'{g}')")),
            Route::Entity(0, id)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid%27{g}%27)")),
            Route::Entity(0, id)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(AccountId=guid'{g}')")),
            Route::Entity(0, id)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid'{g}')/Name")),
            Route::Property(0, id, "Name".into())
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid'{g}')/$links/x")),
            Route::Links(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid'{g}')/Nope")),
            Route::UnknownPath(0, "Nope".into())
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(guid'1234')")),
            Route::BadKey(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/AccountSet(1234)")),
            Route::BadKey(0)
        );
        assert_eq!(
            parse(&e, &format!("{svc}/accountset")),
            Route::UnknownSegment("accountset".into())
        );
        assert_eq!(parse(&e, &format!("{svc}/$batch")), Route::Batch);
        assert_eq!(
            parse(&e, "/XRMServices/2011/OrganizationData.svc/AccountSet"),
            Route::Outside
        );
        assert_eq!(parse(&e, "/adfs/login"), Route::Login);
        let root = emu(OrgUrl::Root);
        assert_eq!(
            parse(&root, "/XRMServices/2011/OrganizationData.svc/AccountSet"),
            Route::Collection(0)
        );
    }
}
