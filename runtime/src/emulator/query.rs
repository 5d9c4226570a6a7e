//! System query options of a request: decoding the query string (as IIS/.NET does: `+` is a
//! space), `$select`, `$orderby`, `$top`, `$skip`, and the `$skiptoken` CRM hands out in `__next`.
//!
//! `$expand` takes at most 6 navigation properties of the set, one level deep; `$select` then
//! narrows the expanded entities too (`nav/Prop`, `nav/*`, or `nav` for all of its properties).
//!
//! Refused with 400: `$format`, `$inlinecount` (CRM 2011 has no server-side counts), multi-level
//! or unknown `$expand` items, unknown `$` options, repeated options, malformed numbers. Options
//! without `$` are ignored, as WCF Data Services ignores them.
//!
//! Skip tokens keep the observed CRM form `page,'keyname','{LAST-GUID}','{FIRST-GUID}'`; when the
//! query has an `$orderby`, the last row's sort values follow as OData literals, so paging resumes
//! exactly after that row even if other rows change in between.

use chrono::DateTime;
use percent_encoding::percent_decode_str;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::collation;
use super::error::ApiError;
use super::filter::bind::{bind_path, Slot, SlotType};
use super::filter::lexer::{lex, Literal, Tok};
use super::schema::{NavEnd, SetSchema};
use crate::cdms::meta::CdmsKind;

/// Decodes a raw query string into name/value pairs.
pub(crate) fn decode_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| ApiError::bad_request("The query string is not valid UTF-8."))
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// The system query options of one request, undecoded beyond URL decoding.
#[derive(Debug, Default, Clone)]
pub(crate) struct Options {
    pub filter: Option<String>,
    pub select: Option<String>,
    pub orderby: Option<String>,
    pub top: Option<usize>,
    pub skip: Option<usize>,
    pub skiptoken: Option<String>,
    pub expand: Option<String>,
}

impl Options {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut o = Options::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            if !k.starts_with('$') {
                continue;
            }
            if seen.contains(&k.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "Query option '{k}' was specified more than once, but it must be specified at \
                     most once."
                )));
            }
            seen.push(k);
            match k.as_str() {
                "$filter" => o.filter = Some(v.clone()),
                "$select" => o.select = Some(v.clone()),
                "$orderby" => o.orderby = Some(v.clone()),
                "$top" => o.top = Some(count("$top", v)?),
                "$skip" => o.skip = Some(count("$skip", v)?),
                "$skiptoken" => o.skiptoken = Some(v.clone()),
                "$expand" => {
                    check_expand(v)?;
                    o.expand = Some(v.clone());
                }
                "$format" | "$inlinecount" => {
                    return Err(ApiError::bad_request(format!(
                        "The query option '{k}' is not supported by the CRM 2011 OData endpoint."
                    )))
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "The query parameter '{k}' begins with a system-reserved '$' character \
                         but is not recognized."
                    )))
                }
            }
        }
        Ok(o)
    }

    /// Whether an option that only applies to collections is present.
    pub fn has_collection_options(&self) -> bool {
        self.filter.is_some()
            || self.orderby.is_some()
            || self.top.is_some()
            || self.skip.is_some()
            || self.skiptoken.is_some()
    }
}

fn count(name: &str, v: &str) -> Result<usize, ApiError> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| ApiError::bad_request(format!("Incorrect format for {name} argument '{v}'.")))
}

/// The `$expand` items, trimmed, without empty ones.
fn expand_items(v: &str) -> Vec<&str> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The shape rules of `$expand` that need no schema: one level, at most 6 items.
fn check_expand(v: &str) -> Result<(), ApiError> {
    let items = expand_items(v);
    if items.iter().any(|i| i.contains('/')) {
        return Err(ApiError::bad_request(
            "Multi-level $expand paths are not supported; expand one level.",
        ));
    }
    if items.len() > 6 {
        return Err(ApiError::bad_request(
            "At most 6 relationships can be expanded in one request.",
        ));
    }
    Ok(())
}

/// `$expand`: the indices (into [`SetSchema::navs`]) of the navigation properties to inline.
pub(crate) fn expand(schema: &SetSchema, text: &str) -> Result<Vec<usize>, ApiError> {
    check_expand(text)?;
    let mut out = Vec::new();
    for item in expand_items(text) {
        let i = schema
            .navs
            .iter()
            .position(|n| n.name == item)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "$expand: '{item}' is not a navigation property of type '{}'.",
                    schema.type_name
                ))
            })?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

/// What an entry carries: its properties, its navigation properties left deferred, and the
/// expanded ones with the properties written of each related record.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Shape {
    /// The properties, `None` for all.
    pub props: Option<Vec<usize>>,
    /// Navigation properties written as `{"__deferred":{"uri":…}}`.
    pub deferred: Vec<usize>,
    /// Expanded navigation properties and the properties of their records (`None`: all).
    pub expanded: Vec<(usize, Option<Vec<usize>>)>,
}

impl Shape {
    /// Every property, every navigation property deferred (an entry without query options).
    pub fn all(schema: &SetSchema) -> Shape {
        Shape {
            props: None,
            deferred: (0..schema.navs.len()).collect(),
            expanded: Vec::new(),
        }
    }
}

/// `$select` with `$expand`: what each entry carries. Without `$select` (or with `*`) every
/// property is written, expanded navigation properties inline and the others deferred. With
/// it, a navigation property appears only when selected: `nav` (all its properties when
/// expanded), `nav/Prop` or `nav/*` (the nav must be expanded).
pub(crate) fn shape(
    schemas: &[SetSchema],
    set: usize,
    select_text: Option<&str>,
    expanded: &[usize],
) -> Result<Shape, ApiError> {
    let schema = &schemas[set];
    let target_of = |nav: usize| match schema.navs[nav].end {
        NavEnd::ManyToOne { target, .. } => target,
        NavEnd::OneToMany { source, .. } => source,
    };
    let items: Vec<&str> = select_text
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() || items.contains(&"*") {
        let deferred = (0..schema.navs.len())
            .filter(|n| !expanded.contains(n))
            .collect();
        let expanded = expanded.iter().map(|&n| (n, None)).collect();
        return Ok(Shape {
            props: None,
            deferred,
            expanded,
        });
    }
    let mut out = Shape {
        props: Some(Vec::new()),
        ..Shape::default()
    };
    let mut root_props = Vec::new();
    // Per expanded nav: `None` = not selected yet, `Some(None)` = all, `Some(Some(list))`.
    let mut chosen: Vec<Option<Option<Vec<usize>>>> = vec![None; expanded.len()];
    for item in items {
        let (head, member) = match item.split_once('/') {
            Some((h, m)) => (h, Some(m)),
            None => (item, None),
        };
        let Some(nav) = schema.navs.iter().position(|n| n.name == head) else {
            if member.is_some() {
                return Err(ApiError::bad_request(format!(
                    "$select: '{item}' selects a member path; select whole properties only."
                )));
            }
            let i = schema.prop(item).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "No property '{item}' exists in type '{}' ($select).",
                    schema.type_name
                ))
            })?;
            if !root_props.contains(&i) {
                root_props.push(i);
            }
            continue;
        };
        let slot = expanded.iter().position(|&e| e == nav);
        match (slot, member) {
            (None, None) => {
                if !out.deferred.contains(&nav) {
                    out.deferred.push(nav);
                }
            }
            (None, Some(_)) => {
                return Err(ApiError::bad_request(format!(
                    "Only properties specified in $expand can be traversed in $select query \
                     options. Selected item: '{item}'."
                )))
            }
            (Some(s), None) | (Some(s), Some("*")) => chosen[s] = Some(None),
            (Some(s), Some(member)) => {
                let target = &schemas[target_of(nav)];
                let i = target.prop(member).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "No property '{member}' exists in type '{}' ($select).",
                        target.type_name
                    ))
                })?;
                match &mut chosen[s] {
                    Some(None) => {}
                    Some(Some(list)) => {
                        if !list.contains(&i) {
                            list.push(i);
                        }
                    }
                    empty @ None => *empty = Some(Some(vec![i])),
                }
            }
        }
    }
    out.props = Some(root_props);
    out.expanded = expanded
        .iter()
        .zip(chosen)
        .filter_map(|(&nav, props)| Some((nav, props?)))
        .collect();
    Ok(out)
}

/// One `$orderby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderKey {
    pub slot: Slot,
    pub kind: CdmsKind,
    pub desc: bool,
}

/// `$orderby`: `Prop [asc|desc]` or `Complex/Member [asc|desc]`, comma separated.
pub(crate) fn orderby(schema: &SetSchema, text: &str) -> Result<Vec<OrderKey>, ApiError> {
    let toks = lex(text)?;
    let mut keys = Vec::new();
    let mut at = 0;
    let bad =
        |pos: usize| ApiError::bad_request(format!("Syntax error in $orderby at position {pos}."));
    loop {
        let (name, pos) = match &toks[at].tok {
            Tok::Ident(n) => (n.clone(), toks[at].pos),
            _ => return Err(bad(toks[at].pos)),
        };
        at += 1;
        let mut segs = vec![name];
        while toks[at].tok == Tok::Slash {
            match &toks[at + 1].tok {
                Tok::Ident(m) => segs.push(m.clone()),
                _ => return Err(bad(toks[at + 1].pos)),
            }
            at += 2;
        }
        let (slot, ty) = bind_path(schema, &segs, pos)?;
        let kind =
            match ty {
                SlotType::Prim(k) => k,
                SlotType::Complex(_) => {
                    return Err(ApiError::bad_request(format!(
                    "$orderby on the complex property '{}' is not supported; order by a member \
                     such as '{}/{}'.",
                    segs[0],
                    segs[0],
                    if ty == SlotType::Complex(CdmsKind::EntityReference) { "Id" } else { "Value" }
                )))
                }
            };
        let mut desc = false;
        if let Tok::Ident(dir) = &toks[at].tok {
            match dir.as_str() {
                "asc" => {}
                "desc" => desc = true,
                _ => return Err(bad(toks[at].pos)),
            }
            at += 1;
        }
        keys.push(OrderKey { slot, kind, desc });
        match toks[at].tok {
            Tok::Comma => at += 1,
            Tok::Eof => return Ok(keys),
            _ => return Err(bad(toks[at].pos)),
        }
    }
}

/// A sort value carried in a skip token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortVal {
    Null,
    Int(i64),
    Dec(Decimal),
    Float(f64),
    /// Folded.
    Str(String),
    Bool(bool),
    Date(i64),
    Guid(Uuid),
}

impl SortVal {
    fn literal(&self) -> String {
        match self {
            SortVal::Null => "null".into(),
            SortVal::Int(i) => format!("{i}L"),
            SortVal::Dec(d) => format!("{d}M"),
            SortVal::Float(f) => format!("{f:?}D"),
            SortVal::Str(s) => format!("'{}'", s.replace('\'', "''")),
            SortVal::Bool(b) => b.to_string(),
            SortVal::Date(ms) => match DateTime::from_timestamp_millis(*ms) {
                Some(t) => format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%S%.3f")),
                None => "null".into(),
            },
            SortVal::Guid(g) => format!("guid'{g}'"),
        }
    }

    fn from_literal(lit: Literal, kind: CdmsKind) -> Option<SortVal> {
        Some(match (kind, lit) {
            (_, Literal::Null) => SortVal::Null,
            (CdmsKind::Int32 | CdmsKind::Int64, Literal::Int64(i)) => SortVal::Int(i),
            (CdmsKind::Int32 | CdmsKind::Int64, Literal::Int32(i)) => SortVal::Int(i64::from(i)),
            (CdmsKind::Decimal, Literal::Decimal(d)) => SortVal::Dec(d),
            (CdmsKind::Double, Literal::Double(f)) => SortVal::Float(f),
            (CdmsKind::String, Literal::Str(s)) => SortVal::Str(collation::fold(&s)),
            (CdmsKind::Boolean, Literal::Bool(b)) => SortVal::Bool(b),
            (CdmsKind::DateTime, Literal::DateTime(ms)) => SortVal::Date(ms),
            (CdmsKind::Guid, Literal::Guid(g)) => SortVal::Guid(g),
            _ => return None,
        })
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resume {
    pub page: u64,
    pub last: Uuid,
    pub vals: Vec<SortVal>,
}

/// Renders a skip token.
pub(crate) fn encode_token(
    page: u64,
    key_logical: &str,
    last: Uuid,
    first: Uuid,
    vals: &[SortVal],
) -> String {
    let guid = |g: Uuid| format!("'{{{}}}'", g.to_string().to_uppercase());
    let mut t = format!("{page},'{key_logical}',{},{}", guid(last), guid(first));
    for v in vals {
        t.push(',');
        t.push_str(&v.literal());
    }
    t
}

/// Reads a skip token issued for this set and `$orderby`.
pub(crate) fn decode_token(
    text: &str,
    schema: &SetSchema,
    order: &[OrderKey],
) -> Result<Resume, ApiError> {
    let invalid = || ApiError::bad_request(format!("The skip token value '{text}' is not valid."));
    let toks = lex(text).map_err(|_| invalid())?;
    let mut lits = Vec::new();
    for (n, t) in toks.iter().enumerate() {
        match (&t.tok, n % 2) {
            (Tok::Lit(l), 0) => lits.push(l.clone()),
            (Tok::Comma, 1) => {}
            (Tok::Eof, 1) => break,
            _ => return Err(invalid()),
        }
    }
    if lits.len() != 4 + order.len() {
        return Err(invalid());
    }
    let mut lits = lits.into_iter();
    let page = match lits.next() {
        Some(Literal::Int32(p)) if p > 0 => p as u64,
        Some(Literal::Int64(p)) if p > 0 => p as u64,
        _ => return Err(invalid()),
    };
    if lits.next() != Some(Literal::Str(schema.key_logical())) {
        return Err(invalid());
    }
    let last = match lits.next() {
        Some(Literal::Str(s)) => Uuid::parse_str(&s).map_err(|_| invalid())?,
        _ => return Err(invalid()),
    };
    if !matches!(lits.next(), Some(Literal::Str(s)) if Uuid::parse_str(&s).is_ok()) {
        return Err(invalid());
    }
    let vals = order
        .iter()
        .zip(lits)
        .map(|(key, lit)| SortVal::from_literal(lit, key.kind).ok_or_else(invalid))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Resume { page, last, vals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::schema::SetSpec;

    fn schema() -> SetSchema {
        SetSchema::build(
            SetSpec::new("Account", "AccountId")
                .property("Name", CdmsKind::String)
                .property("Revenue", CdmsKind::Money)
                .property("Parent", CdmsKind::EntityReference),
        )
        .unwrap()
    }

    #[test]
    fn query_strings_decode_like_iis() {
        let p = decode_pairs("$filter=Name%20eq%20'a+b'&x&$top=5").unwrap();
        assert_eq!(p[0], ("$filter".into(), "Name eq 'a b'".into()));
        assert_eq!(p[1], ("x".into(), "".into()));
        let o = Options::parse(&p).unwrap();
        assert_eq!(o.top, Some(5));
        for bad in [
            "$format=json",
            "$inlinecount=allpages",
            "$foo=1",
            "$top=-1",
            "$skip=x",
            "$top=1&$top=2",
        ] {
            let e = Options::parse(&decode_pairs(bad).unwrap()).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
        assert!(Options::parse(&decode_pairs("$expand=a/b").unwrap())
            .unwrap_err()
            .message
            .contains("Multi-level"));
        assert!(
            Options::parse(&decode_pairs("$expand=a,b,c,d,e,f,g").unwrap())
                .unwrap_err()
                .message
                .contains("6")
        );
    }

    #[test]
    fn select_and_orderby() {
        let s = schema();
        let schemas = [s];
        let select = |text: &str| shape(&schemas, 0, Some(text), &[]).map(|s| s.props);
        assert_eq!(select("Name, AccountId,Name").unwrap(), Some(vec![1, 0]));
        assert_eq!(select("*").unwrap(), None);
        assert!(select("name").is_err());
        assert!(select("Revenue/Value").is_err());
        let [s] = schemas;
        let keys = orderby(&s, "Name desc, Revenue/Value,Parent/Id asc").unwrap();
        assert_eq!(keys.len(), 3);
        assert!(keys[0].desc && !keys[1].desc && !keys[2].desc);
        assert_eq!(keys[1].kind, CdmsKind::Decimal);
        for bad in [
            "Parent",
            "Name up",
            "Nope",
            "Name,",
            "Name desc desc",
            "Revenue/",
        ] {
            assert!(orderby(&s, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip() {
        let s = schema();
        let order = orderby(&s, "Name desc, Revenue/Value").unwrap();
        let last = Uuid::new_v4();
        let vals = vec![
            SortVal::Str("o'brien".into()),
            SortVal::Dec("12.5000".parse().unwrap()),
        ];
        let t = encode_token(3, "accountid", last, Uuid::new_v4(), &vals);
        assert!(t.starts_with("3,'accountid','{"));
        let r = decode_token(&t, &s, &order).unwrap();
        assert_eq!(
            r,
            Resume {
                page: 3,
                last,
                vals
            }
        );
        let plain = encode_token(1, "accountid", last, last, &[]);
        assert_eq!(decode_token(&plain, &s, &[]).unwrap().last, last);
        assert!(
            decode_token(&plain, &s, &order).is_err(),
            "token of another ordering"
        );
        assert!(decode_token("garbage", &s, &[]).is_err());
        assert!(decode_token("1,'contactid','{00000000-0000-0000-0000-000000000000}','{00000000-0000-0000-0000-000000000000}'", &s, &[]).is_err());
        let dates = vec![
            SortVal::Date(1_454_245_509_123),
            SortVal::Float(-1.5e-7),
            SortVal::Null,
        ];
        assert_eq!(
            SortVal::from_literal(Literal::DateTime(1), CdmsKind::DateTime),
            Some(SortVal::Date(1))
        );
        for v in dates {
            let lit = lex(&v.literal()).unwrap().remove(0).tok;
            let Tok::Lit(lit) = lit else { panic!("{v:?}") };
            let kind = match v {
                SortVal::Date(_) => CdmsKind::DateTime,
                _ => CdmsKind::Double,
            };
            assert_eq!(SortVal::from_literal(lit, kind), Some(v));
        }
    }
}
