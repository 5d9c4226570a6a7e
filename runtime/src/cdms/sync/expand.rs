//! Relation conditions in synced reads, in CRM 2011's one-request form: `$expand`.
//!
//! A list read whose filter, as far as CDMS can be asked about it, is only conditions on one
//! forward many-to-one relation is sent as one request of the root entity that expands the
//! relation and filters on the expanded entity:
//!
//! ```text
//! ContactSet?$filter=substringof('ltd',contact_customer_accounts/Name)
//!     &$select=ContactId,…,contact_customer_accounts,contact_customer_accounts/AccountId,…
//!     &$expand=contact_customer_accounts&$orderby=ModifiedOn desc
//! ```
//!
//! The related records come inline in each root record (`null` when its lookup is empty) and
//! refresh their own rows, in the transaction of the root page and before it. The semi-join
//! ([`super::paths`]) stays for everything else.
//!
//! A filter qualifies when:
//! - its top-level conjuncts are relation conditions through **one** reference field
//!   (`matching`, combined with `&` and `|`: for a many-to-one reference, `matching(a) &
//!   matching(b)` is `matching(a & b)`, and the same for `|`), and root conditions CDMS is not
//!   asked about anyway (relaxed by the translator: regexes, converted fields, …). A root
//!   condition CDMS would filter on cannot go beside it: 2011 filters on the root or on one
//!   expanded entity, never both;
//! - the relation is outside any `not` (a `not` needs the relation's complement) and has no
//!   relation inside it (2011 expands one level);
//! - the reference field names its CRM relationship (`#[cdms(relationship = "…")]`, the
//!   navigation property), and the related entity is synced;
//! - the relation's own condition translates remotely (not wholly relaxed): the translation is
//!   [`translate_expanded`], the root translation with the `<nav>/` prefix, so the superset
//!   guarantee holds as for root conditions. CRM never matches a record whose lookup is empty,
//!   as the local `EXISTS` never does;
//! - the listing fits IIS's query string limit.
//!
//! The navigation property of a many-to-one lookup is the relationship's schema name, or
//! `Referencing<name>` when the relationship links an entity to itself (as the emulator's
//! `$metadata` publishes them).

use std::collections::HashSet;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::list::{collect, prepare};
use super::quarantine::Rejected;
use super::refs::{self, decode_page, IDS_PER_REQUEST};
use crate::cdms::client::{CdmsClient, ListOptions};
use crate::cdms::codec::{self, RemoteRecord};
use crate::cdms::decode::{self, RawRecord};
use crate::cdms::filter::{translate, translate_expanded};
use crate::cdms::meta::{CdmsField, CdmsKind, CdmsMeta};
use crate::entity::EntityMeta;
use crate::error::Result;
use crate::expr::Expr;
use crate::expr::Hop;
use crate::store::Db;

/// How a list read asks for its relation condition in one request.
#[derive(Debug, Clone)]
pub(super) struct Expansion {
    /// The navigation property (`contact_customer_accounts`): `$expand`'s only item.
    pub nav: String,
    /// The related entity.
    pub related: &'static CdmsMeta,
    /// The `$filter`, on the expanded entity only (`…contact_customer_accounts/Name…`).
    pub filter: String,
    /// What the root's `$select` gets in addition: the navigation property and each mapped
    /// property of the related entity through it.
    pub select: Vec<String>,
}

/// Records of the related entity inlined in an answer: the distinct ones decoded, and a
/// rejection for each that does not decode.
#[derive(Debug, Default)]
pub(super) struct Inlined {
    pub records: Vec<RemoteRecord>,
    pub rejected: Vec<Rejected>,
}

impl Inlined {
    pub fn extend(&mut self, other: Inlined) {
        self.records.extend(other.records);
        self.rejected.extend(other.rejected);
    }
}

impl Expansion {
    /// The listing options for `filter` with the root's `select`, this expansion added.
    pub fn options(&self, filter: Option<String>, select: &[String]) -> ListOptions {
        let mut all = select.to_vec();
        all.extend(self.select.iter().cloned());
        ListOptions {
            filter,
            select: all,
            expand: vec![self.nav.clone()],
            orderby: None,
            top: None,
        }
    }
}

/// The navigation property CRM 2011 names the many-to-one end of `reference` (a lookup of
/// `root` to `target`) after: its relationship, `Referencing<relationship>` for a relationship of
/// an entity to itself. `None` when the lookup declares no relationship.
pub(super) fn navigation(
    root: &CdmsMeta,
    reference: &CdmsField,
    target: &CdmsMeta,
) -> Option<String> {
    let relationship = reference.relationship?;
    if root.entity.table == target.entity.table {
        Some(format!("Referencing{relationship}"))
    } else {
        Some(relationship.to_owned())
    }
}

/// The expansion answering `expr` (a filter on `cdms`'s entity) in one request, when it
/// qualifies (see the module docs).
pub(super) async fn plan(
    db: &Db,
    cdms: &'static CdmsMeta,
    expr: &Expr,
) -> Result<Option<Expansion>> {
    let Some((field, target, on_target)) = relation_only(cdms, expr) else {
        return Ok(None);
    };
    let (Some(related), Some(reference)) = (CdmsMeta::of(target), cdms.by_field(field)) else {
        return Ok(None);
    };
    if reference.kind != CdmsKind::EntityReference || reference.codec.is_some() {
        return Ok(None);
    }
    let Some(nav) = navigation(cdms, reference, related) else {
        return Ok(None);
    };
    let prepared = prepare(db, related, &on_target).await?;
    let translation = translate_expanded(related, &nav, &prepared.expr, &|t, pk| {
        prepared.ids.get(&(t.table, pk)).copied()
    });
    let nothing = format!("{nav}/{} eq null", related.id_property);
    let filter = match translation.filter {
        Some(f) if f != nothing => f,
        // Wholly relaxed, or matching nothing: the semi-join answers these better (it lists
        // the related entity first, or makes no request at all).
        _ => return Ok(None),
    };
    let mut select = vec![nav.clone()];
    select.extend(
        codec::select(related, None)
            .into_iter()
            .map(|p| format!("{nav}/{p}")),
    );
    tracing::debug!(
        entity = cdms.set,
        nav = %nav,
        exact = translation.exact,
        "a relation condition is sent as $expand"
    );
    Ok(Some(Expansion {
        nav,
        related,
        filter,
        select,
    }))
}

/// The reference field, its target and the condition on the target that `expr` amounts to
/// remotely, when its top-level conjuncts are relations through that one field and root
/// conditions the translator relaxes anyway.
fn relation_only(
    cdms: &'static CdmsMeta,
    expr: &Expr,
) -> Option<(usize, &'static EntityMeta, Expr)> {
    let items = match expr {
        Expr::And(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let mut hop = None;
    let mut on_target = Vec::new();
    for item in items {
        if has_relation(item) {
            on_target.push(through(item, &mut hop)?);
        } else if !remotely_irrelevant(cdms, item) {
            return None;
        }
    }
    let (field, target) = hop?;
    let expr = match on_target.len() {
        1 => on_target.pop()?,
        _ => Expr::And(on_target),
    };
    Some((field, target, expr))
}

/// `item`, `and`/`or` of relations through one forward reference, as the condition on the
/// referenced entity; `None` for anything else (a `not`, a root condition, a chain, another
/// reference).
fn through(item: &Expr, hop: &mut Option<(usize, &'static EntityMeta)>) -> Option<Expr> {
    match item {
        Expr::Related(r) => {
            let Hop::Forward { field, target } = r.hop else {
                return None;
            };
            match hop {
                Some((f, t)) if *f != field || t.table != target.table => return None,
                Some(_) => {}
                None => *hop = Some((field, target)),
            }
            (!has_relation(&r.expr)).then(|| r.expr.clone())
        }
        Expr::And(items) => items
            .iter()
            .map(|e| through(e, hop))
            .collect::<Option<Vec<_>>>()
            .map(Expr::And),
        Expr::Or(items) => items
            .iter()
            .map(|e| through(e, hop))
            .collect::<Option<Vec<_>>>()
            .map(Expr::Or),
        _ => None,
    }
}

fn has_relation(e: &Expr) -> bool {
    match e {
        Expr::Related(_) => true,
        Expr::And(items) | Expr::Or(items) => items.iter().any(has_relation),
        Expr::Not(inner) => has_relation(inner),
        Expr::All | Expr::Nothing | Expr::Cond(_) => false,
    }
}

/// Whether CDMS is not asked about root condition `e` at all: no keys in it, and the translator
/// relaxes it entirely. Dropping it from an `and` keeps the remote filter a superset.
fn remotely_irrelevant(cdms: &'static CdmsMeta, e: &Expr) -> bool {
    let mut keys = Vec::new();
    collect(cdms.entity, e, &mut keys);
    keys.is_empty() && translate(cdms, e, &|_, _| None).filter.is_none()
}

/// The related records inlined in the root records of `page`, each distinct one decoded once.
/// A root record without one (`null`: its lookup is empty or points at another entity; or a
/// deferred link) contributes nothing.
pub(super) fn inlined(exp: &Expansion, page: &[RawRecord]) -> Inlined {
    let mut seen = HashSet::new();
    let mut raw = Vec::new();
    for record in page {
        let Some(entry) = raw_property(record, &exp.nav) else {
            continue;
        };
        if is_entry(&entry) && seen.insert(entry.get().to_owned()) {
            raw.push(entry);
        }
    }
    let (records, rejected) = decode_page(exp.related, &raw);
    Inlined { records, rejected }
}

/// Whether an inlined value is one related record: an object that is neither a deferred link
/// (`{"__deferred": …}`) nor a collection (`{"results": […]}`).
fn is_entry(value: &RawValue) -> bool {
    value.get().starts_with('{')
        && decode::properties(value, &["__deferred", "results"])
            .iter()
            .all(Option::is_none)
}

/// The text of property `name` of a record, when present and not `null`; the other properties
/// are skipped unread.
fn raw_property(record: &RawValue, name: &str) -> Option<Box<RawValue>> {
    struct Pluck<'n>(&'n str);
    impl<'de> Visitor<'de> for Pluck<'_> {
        type Value = Option<Box<RawValue>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(hit) = map.next_key_seed(Named(self.0))? {
                if hit {
                    found = Some(map.next_value::<Box<RawValue>>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    struct Named<'n>(&'n str);
    impl<'de> DeserializeSeed<'de> for Named<'_> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl<'de> Visitor<'de> for Named<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a property name")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
            Ok(s == self.0)
        }
    }
    let mut de = serde_json::Deserializer::from_str(record.get());
    de.deserialize_map(Pluck(name))
        .ok()
        .flatten()
        .filter(|v| v.get() != "null")
}

/// The records of `cdms`'s set with the given ids, each with its related record inline, fetched
/// like [`super::refs::fetch_by_ids`] (or-chains of at most [`IDS_PER_REQUEST`] ids, one
/// request each, records not asked for an error) with the expansion's `$expand` and `$select`:
/// the local rows a complete list did not return get their related rows refreshed too, which
/// the local relation condition reads.
pub(super) async fn fetch_by_ids(
    client: &CdmsClient,
    cdms: &'static CdmsMeta,
    exp: &Expansion,
    ids: &[Uuid],
) -> Result<(Vec<RemoteRecord>, Vec<Rejected>, Inlined)> {
    let mut out = Vec::with_capacity(ids.len());
    let mut rejected = Vec::new();
    let mut related = Inlined::default();
    let select = codec::select(cdms, None);
    for chunk in ids.chunks(IDS_PER_REQUEST) {
        let opts = exp.options(refs::by_ids_filter(cdms, chunk), &select);
        let page = client.list_raw(cdms.set, &opts).await?;
        let (records, bad) = decode_page(cdms, &page);
        refs::only_asked_for(cdms, chunk, &records, &bad)?;
        related.extend(inlined(exp, &page));
        out.extend(records);
        rejected.extend(bad);
    }
    Ok((out, rejected, related))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn inlined_values_are_plucked_raw() {
        let r = raw(r#"{"A": 1, "nav": {"Name": "x", "B": [1, {"c": null}]}, "Z": "nav"}"#);
        assert_eq!(
            raw_property(&r, "nav").unwrap().get(),
            r#"{"Name": "x", "B": [1, {"c": null}]}"#
        );
        assert!(raw_property(&raw(r#"{"nav": null}"#), "nav").is_none());
        assert!(raw_property(&raw(r#"{"other": {}}"#), "nav").is_none());
        assert!(raw_property(&raw("[1]"), "nav").is_none());
        assert!(is_entry(&raw(r#"{"Name": "x"}"#)));
        assert!(!is_entry(&raw(r#"{"__deferred": {"uri": "u"}}"#)));
        assert!(!is_entry(&raw(r#"{"results": []}"#)));
        assert!(!is_entry(&raw("3")));
    }
}
