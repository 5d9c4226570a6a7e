//! The skip-mode guard: local-only writes must not break the `modified` invariant.
//!
//! A row that exists in CDMS (it has a CDMS id) is in sync when its mapped fields equal CDMS's
//! record as of its `modified` (= CDMS `ModifiedOn`). A local-only write that changed a mapped
//! field would make the row claim CDMS values CDMS does not have, and the next synced read would
//! either overwrite it silently or fail with "not in sync". So, in `skip_cdms` mode:
//!
//! | write | allowed |
//! |---|---|
//! | insert of a row without a CDMS id (a local-only row, publishable later) | yes |
//! | insert of a row carrying a CDMS id | no: rows of CDMS records come from CDMS |
//! | update of a local-only row (no CDMS id), except giving it a CDMS id | yes |
//! | update of a synced row that changes only local-only (`#[cdms(skip)]`) fields | yes |
//! | update of a synced row that changes a mapped field, `modified` or `created` | no |
//! | delete of any row (a synced row is only forgotten locally; the next read brings it back) | yes |

use super::fields::{cdms_of, field_name, id_of, is_system, pk_of};
use crate::entity::{EntityMeta, Row};
use crate::error::{Error, Result};

fn refused(meta: &EntityMeta, message: String) -> Error {
    Error::Refused {
        entity: meta.name,
        message,
    }
}

/// Whether updating `old` to `new` changes only local-only fields of a row that exists in CDMS
/// (it has a CDMS id): such a write must leave `modified` alone, as it still mirrors CDMS's
/// `ModifiedOn` for every mapped value (moving it would make the row look newer than CDMS).
/// `false` for an entity without CDMS metadata, a local-only row, or a write touching a mapped
/// field, the id, `modified` or `created`.
pub(crate) fn only_local_fields_changed(meta: &'static EntityMeta, old: &Row, new: &Row) -> bool {
    let Some(cdms) = crate::cdms::meta::CdmsMeta::of(meta) else {
        return false;
    };
    if !matches!(id_of(cdms, old), Ok(Some(_))) {
        return false;
    }
    (0..meta.fields.len())
        .all(|i| old.get(i) == new.get(i) || (cdms.by_field(i).is_none() && !is_system(cdms, i)))
}

/// Checks a skip-mode write (see the module docs).
pub(crate) fn check(meta: &'static EntityMeta, old: Option<&Row>, new: Option<&Row>) -> Result<()> {
    let cdms = cdms_of(meta)?;
    let (old, new) = match (old, new) {
        (_, None) => return Ok(()),
        (None, Some(new)) => {
            return match id_of(cdms, new)? {
                None => Ok(()),
                Some(id) => Err(refused(
                    meta,
                    format!(
                        "a local-only insert cannot carry a CDMS id ({id}): rows of CDMS records are \
                         created by synced reads; insert without skip_cdms() to create the record in \
                         CDMS, or leave the id empty for a local-only row"
                    ),
                )),
            };
        }
        (Some(old), Some(new)) => (old, new),
    };
    let Some(id) = id_of(cdms, old)? else {
        return match id_of(cdms, new)? {
            None => Ok(()),
            Some(_) => Err(refused(
                meta,
                format!(
                    "object {} is local-only: a CDMS id cannot be set by a local write; publish it \
                     with CdmsRemote::publish",
                    pk_of(meta, old)
                ),
            )),
        };
    };
    let changed: Vec<&'static str> = cdms
        .fields
        .iter()
        .map(|f| f.field)
        .filter(|&i| old.get(i) != new.get(i))
        .map(|i| field_name(meta, i))
        .collect();
    let system_changed = meta
        .fields
        .iter()
        .enumerate()
        .any(|(i, _)| is_system(cdms, i) && old.get(i) != new.get(i));
    if changed.is_empty() && !system_changed {
        return Ok(());
    }
    let local_only: Vec<&'static str> = meta
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != meta.pk && cdms.by_field(*i).is_none() && !is_system(cdms, *i))
        .map(|(_, f)| f.name)
        .collect();
    let mut changed = changed;
    if changed.is_empty() {
        changed = meta
            .fields
            .iter()
            .enumerate()
            .filter(|(i, _)| is_system(cdms, *i) && old.get(*i) != new.get(*i))
            .map(|(_, f)| f.name)
            .collect();
    }
    let allowed = if local_only.is_empty() {
        "none".to_owned()
    } else {
        local_only.join(", ")
    };
    Err(refused(
        meta,
        format!(
            "object {} exists in CDMS ({id}): a skip_cdms() write cannot change its CDMS-mapped \
             fields ({}) without breaking its sync with CDMS; write through CDMS (without \
             skip_cdms()), or change only local-only fields ({allowed})",
            pk_of(meta, old),
            changed.join(", ")
        ),
    ))
}
