//! Order keys → `$orderby`.

use crate::expr::OrderKey;
use crate::value::Kind;

use super::super::meta::{CdmsKind, CdmsMeta};
use super::member_path;

/// The remote form of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOrder {
    /// The `$orderby` value (not yet URL-encoded), e.g. `Name asc,ModifiedOn desc,AccountId asc`.
    pub orderby: String,
    /// Whether CDMS orders records exactly as the local store does for the requested keys.
    /// When false, a capped remote list may not hold the same first records as the local order.
    pub exact: bool,
}

/// The `$orderby` for `keys` on `meta`'s entity set.
///
/// - Keys map to CDMS property names; money and option sets order by their `/Value` member.
/// - A key that cannot be ordered remotely ends the remote order there (the following keys
///   would order within groups CDMS does not form): reference (lookup) fields, since a lookup
///   has no orderable value that matches the local foreign key; GUIDs (SQL Server orders
///   `uniqueidentifier` differently from the local text form); codec and unmapped fields; a
///   field of a referenced entity (2011 has no `$orderby` through a navigation property).
/// - Text keys are kept, but CDMS sorts them case- and accent-insensitively, so the order is
///   not exact.
/// - Without usable keys, the order is `ModifiedOn desc`: when a cap cuts the list, the most
///   recently changed records are the ones fetched.
/// - The id property is always appended as a tiebreak, so paging is stable.
pub fn orderby(meta: &'static CdmsMeta, keys: &[OrderKey]) -> RemoteOrder {
    let mut parts: Vec<String> = Vec::new();
    let mut exact = true;
    for key in keys {
        if !key.is_root() {
            // CRM 2011 orders by the set's own properties only (no `Nav/Property` in `$orderby`).
            exact = false;
            break;
        }
        let local = meta.entity.fields.get(key.field);
        let mapped = meta.by_field(key.field).filter(|f| f.codec.is_none());
        let (Some(local), Some(f)) = (local, mapped) else {
            exact = false;
            break;
        };
        match f.kind {
            CdmsKind::EntityReference | CdmsKind::Guid => {
                exact = false;
                break;
            }
            CdmsKind::String => exact = false,
            _ if local.kind == Kind::Text => exact = false,
            _ => {}
        }
        let dir = if key.desc { "desc" } else { "asc" };
        parts.push(format!("{} {dir}", member_path(f)));
    }
    if parts.is_empty() {
        let modified = meta.modified().map_or("ModifiedOn", |f| f.property);
        parts.push(format!("{modified} desc"));
    }
    let id_key = |p: &String| p.split(' ').next() == Some(meta.id_property);
    if !parts.iter().any(id_key) {
        parts.push(format!("{} asc", meta.id_property));
    }
    RemoteOrder {
        orderby: parts.join(","),
        exact,
    }
}
