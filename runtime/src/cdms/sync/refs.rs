//! References between synced entities: local foreign keys ⇄ CDMS lookups, and fetching records
//! by id.

use std::collections::HashMap;

use serde_json::Value as J;
use uuid::Uuid;

use super::error::SyncError;
use super::fields::{cdms_of, field_name, reference_target};
use super::quarantine::Rejected;
use crate::cdms::client::{CdmsClient, ListOptions};
use crate::cdms::codec::{self, RemoteRecord};
use crate::cdms::decode::{self, RawRecord};
use crate::cdms::filter::translate;
use crate::cdms::meta::CdmsMeta;
use crate::cdms::CdmsError;
use crate::entity::EntityMeta;
use crate::error::{Error, Result};
use crate::expr::{Cond, Expr, Lookup};
use crate::store::{rows, Conn, ReadSpec};
use crate::value::Value;

/// How many ids one by-id list request asks for: keeps the URL well under IIS's default
/// 2048-byte query string limit with a full `$select`.
pub(crate) const IDS_PER_REQUEST: usize = 15;

/// The CDMS ids of the rows of `meta` with primary keys `pks`, as a map (rows without a CDMS id
/// are absent).
pub(crate) async fn cdms_ids<'c>(
    conn: impl Into<Conn<'c>>,
    meta: &'static EntityMeta,
    pks: &[i64],
) -> Result<HashMap<i64, Option<Uuid>>> {
    let cdms = cdms_of(meta)?;
    if pks.is_empty() {
        return Ok(HashMap::new());
    }
    let expr = Expr::Cond(Cond {
        field: meta.pk,
        lookup: Lookup::In(pks.iter().map(|&p| Value::Int(p)).collect()),
    });
    let rows = rows::select_columns(
        conn,
        meta,
        &ReadSpec::filtered(meta, expr),
        &[meta.pk, cdms.id_field],
    )
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let (Some(Value::Int(pk)), id) = (r.first(), r.get(1)) else {
            continue;
        };
        let id = match id {
            Some(Value::Uuid(u)) => Some(*u),
            _ => None,
        };
        out.insert(*pk, id);
    }
    Ok(out)
}

/// Replaces the local keys in the lookup fields of `values` (for a write to CDMS) by the CDMS ids
/// of the referenced rows. A referenced row that is missing, or has no CDMS id yet, is an error
/// naming it.
pub(crate) async fn to_remote(
    conn: Conn<'_>,
    cdms: &'static CdmsMeta,
    values: &mut [(usize, Value)],
) -> Result<()> {
    let meta = cdms.entity;
    let mut conn = conn;
    for (field, value) in values.iter_mut() {
        let Some(target) = reference_target(meta, *field) else {
            continue;
        };
        let Value::Int(pk) = *value else { continue };
        let ids = cdms_ids(conn.reborrow(), target, &[pk]).await?;
        *value = match ids.get(&pk) {
            Some(Some(id)) => Value::Uuid(*id),
            Some(None) => {
                return Err(SyncError::Unpublished {
                    entity: target.name,
                    pk,
                    message: format!(
                        "{}.{} refers to it, so it must exist in CDMS first: publish it \
                         (CdmsRemote::publish), or write this row with skip_cdms()",
                        meta.name,
                        field_name(meta, *field)
                    ),
                }
                .into())
            }
            None => {
                return Err(Error::NotFound {
                    entity: target.name,
                    query: format!(
                        "{} = {pk} (referred to by {}.{})",
                        target.pk_field().name,
                        meta.name,
                        field_name(meta, *field)
                    ),
                })
            }
        };
    }
    Ok(())
}

/// The records of `cdms`'s set with the given ids, fetched with `$filter` or-chains of at most
/// [`IDS_PER_REQUEST`] ids (one request each). Ids CDMS does not have are simply absent; records
/// that cannot be decoded come back as rejections. Records CDMS returns that were not asked for
/// are an error: the answer does not fit the request.
pub(crate) async fn fetch_by_ids(
    client: &CdmsClient,
    cdms: &'static CdmsMeta,
    ids: &[Uuid],
) -> Result<(Vec<RemoteRecord>, Vec<Rejected>)> {
    let mut out = Vec::with_capacity(ids.len());
    let mut rejected = Vec::new();
    let select = codec::select(cdms, None);
    for chunk in ids.chunks(IDS_PER_REQUEST) {
        let opts = ListOptions {
            filter: by_ids_filter(cdms, chunk),
            select: select.clone(),
            expand: Vec::new(),
            orderby: None,
            top: None,
        };
        let page = client.list_raw(cdms.set, &opts).await?;
        let (records, bad) = decode_page(cdms, &page);
        only_asked_for(cdms, chunk, &records, &bad)?;
        out.extend(records);
        rejected.extend(bad);
    }
    Ok((out, rejected))
}

/// The `$filter` selecting the records with the given ids (one chunk of a fetch by id).
pub(super) fn by_ids_filter(cdms: &'static CdmsMeta, ids: &[Uuid]) -> Option<String> {
    let expr = Expr::Cond(Cond {
        field: cdms.id_field,
        lookup: Lookup::In(ids.iter().map(|&u| Value::Uuid(u)).collect()),
    });
    translate(cdms, &expr, &|_, _| None).filter
}

/// An answer to a fetch by id holds only records that were asked for: any other id, decoded or
/// rejected, means the answer is not to this request and nothing of it is applied.
pub(super) fn only_asked_for(
    cdms: &'static CdmsMeta,
    asked: &[Uuid],
    records: &[RemoteRecord],
    rejected: &[Rejected],
) -> Result<()> {
    let stray = records
        .iter()
        .map(|r| r.id)
        .chain(rejected.iter().filter_map(|b| b.cdms_id))
        .find(|id| !asked.contains(id));
    match stray {
        None => Ok(()),
        Some(id) => Err(CdmsError::Malformed {
            what: format!(
                "{}: asked for records by id, CDMS answered with record {id}, which was not \
                 asked for",
                cdms.set
            ),
            excerpt: String::new(),
        }
        .into()),
    }
}

/// Decodes the records of a page, each from its text with the entity's generated decoder: the
/// records that decode, and a rejection for each one that does not (one bad record never
/// blocks the page).
pub(crate) fn decode_page(
    cdms: &'static CdmsMeta,
    records: &[RawRecord],
) -> (Vec<RemoteRecord>, Vec<Rejected>) {
    let mut good = Vec::with_capacity(records.len());
    let mut bad = Vec::new();
    for r in records {
        match decode::decode(cdms, r) {
            Ok(record) => good.push(record),
            Err(e) => bad.push(Rejected::from_cdms(
                cdms.set,
                decode::record_id(cdms, r),
                &e,
            )),
        }
    }
    (good, bad)
}

/// [`decode_page`] of records already read into JSON trees (through the reference decoder).
pub(crate) fn decode_json_page(
    cdms: &'static CdmsMeta,
    records: &[J],
) -> (Vec<RemoteRecord>, Vec<Rejected>) {
    let mut good = Vec::with_capacity(records.len());
    let mut bad = Vec::new();
    for r in records {
        match codec::decode(cdms, r) {
            Ok(record) => good.push(record),
            Err(e) => {
                let id = r
                    .get(cdms.id_property)
                    .and_then(J::as_str)
                    .and_then(|s| Uuid::parse_str(s.trim()).ok());
                bad.push(Rejected::from_cdms(cdms.set, id, &e));
            }
        }
    }
    (good, bad)
}
