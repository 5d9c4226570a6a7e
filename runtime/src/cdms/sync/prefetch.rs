//! Referenced records missing locally, fetched from CDMS before the transaction that applies the
//! records referring to them: no write lock waits for CDMS (on SQLite every other writer of the
//! file would wait with it).
//!
//! [`References::fetch`] follows the lookups of the records level by level, as the apply does:
//! the targets of the given records (depth 0) that no local row holds are fetched by id, then
//! the targets of those, up to [`super::SyncConfig::reference_depth`] levels. The transaction
//! then finds every target either in the store or among the fetched records; a target removed
//! locally in between is not fetched inside it: the records referring to it are rejected (and
//! quarantined), and the next refresh fetches it again.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::fields::{cdms_of, reference_target};
use super::quarantine::Rejected;
use super::refs::{fetch_by_ids, IDS_PER_REQUEST};
use super::CdmsRemote;
use crate::cdms::codec::RemoteRecord;
use crate::cdms::meta::CdmsMeta;
use crate::entity::EntityMeta;
use crate::error::Result;
use crate::store::{rows, Db};
use crate::value::Value;

/// Referenced records fetched from CDMS ahead of a transaction (see the module docs), for
/// [`super::apply_prefetched`].
#[derive(Debug, Clone, Default)]
pub struct References {
    /// The fetched records, by the target's table and CDMS id.
    records: HashMap<(&'static str, Uuid), RemoteRecord>,
    /// Why a missing target could not be fetched, by table and id.
    unresolved: HashMap<(&'static str, Uuid), String>,
    /// Fetched records that could not be decoded.
    rejected: Vec<Rejected>,
    /// CDMS requests made.
    requests: usize,
}

/// The lookup targets of `records` (of `cdms`'s entity) that are not in `known`, by target
/// entity, each once.
fn targets<'r>(
    cdms: &'static CdmsMeta,
    records: impl IntoIterator<Item = &'r RemoteRecord>,
    known: &HashSet<(&'static str, Uuid)>,
    out: &mut Vec<(&'static EntityMeta, Vec<Uuid>)>,
) {
    let meta = cdms.entity;
    for record in records {
        for (field, value) in &record.values {
            let (Some(target), Value::Uuid(id)) = (reference_target(meta, *field), value) else {
                continue;
            };
            if known.contains(&(target.table, *id)) {
                continue;
            }
            match out.iter_mut().find(|(t, _)| std::ptr::eq(*t, target)) {
                Some((_, ids)) if ids.contains(id) => {}
                Some((_, ids)) => ids.push(*id),
                None => out.push((target, vec![*id])),
            }
        }
    }
}

impl References {
    /// No references fetched: the apply fetches missing targets inside its transaction, as
    /// [`super::apply_records`] does.
    pub fn none() -> Self {
        Self::default()
    }

    /// Fetches the records `records` (of `meta`'s entity) refer to that have no local row in
    /// `db`, and theirs in turn, up to the remote's reference depth. One SELECT per target
    /// entity and level (outside any transaction), and one CDMS request per 15 missing ids.
    /// Targets CDMS does not have, or that cannot be decoded, are remembered with the reason,
    /// which the records referring to them are rejected with.
    pub async fn fetch(
        remote: &CdmsRemote,
        db: &Db,
        meta: &'static EntityMeta,
        records: &[RemoteRecord],
    ) -> Result<Self> {
        Self::fetch_for(remote, db, &[(cdms_of(meta)?, records)]).await
    }

    /// [`References::fetch`] for records of several entities applied in one transaction (an
    /// expansion's related records and its root records): none of them is fetched as a
    /// target of another.
    pub(super) async fn fetch_for(
        remote: &CdmsRemote,
        db: &Db,
        groups: &[(&'static CdmsMeta, &[RemoteRecord])],
    ) -> Result<Self> {
        let bound = remote.config().reference_depth_bound();
        let mut out = References::default();
        // Ids already accounted for: the records themselves (they refer to each other within
        // a page), targets found locally, and targets fetched or given up on.
        let mut known: HashSet<(&'static str, Uuid)> = groups
            .iter()
            .flat_map(|(cdms, records)| records.iter().map(|r| (cdms.entity.table, r.id)))
            .collect();
        let mut wanted = Vec::new();
        for (cdms, records) in groups {
            targets(cdms, records.iter(), &known, &mut wanted);
        }
        let mut depth = 0;
        while !wanted.is_empty() {
            let mut level: Vec<(&'static CdmsMeta, RemoteRecord)> = Vec::new();
            for (target, ids) in std::mem::take(&mut wanted) {
                let target_cdms = cdms_of(target)?;
                let values: Vec<Value> = ids.iter().map(|&u| Value::Uuid(u)).collect();
                let mut present = HashSet::with_capacity(ids.len());
                for (v, _) in rows::find_pks(db, target, target_cdms.id_field, &values).await? {
                    if let Value::Uuid(u) = v {
                        present.insert(u);
                    }
                }
                known.extend(ids.iter().map(|&u| (target.table, u)));
                let missing: Vec<Uuid> = ids.into_iter().filter(|u| !present.contains(u)).collect();
                if missing.is_empty() {
                    continue;
                }
                if depth >= bound {
                    let reason = format!(
                        "it is missing locally and fetching it would go deeper than the reference \
                         depth bound ({bound})"
                    );
                    out.unresolved
                        .extend(missing.iter().map(|&u| ((target.table, u), reason.clone())));
                    continue;
                }
                let (fetched, bad) = fetch_by_ids(remote.client(), target_cdms, &missing).await?;
                out.requests += missing.len().div_ceil(IDS_PER_REQUEST);
                for b in bad {
                    if let Some(id) = b.cdms_id {
                        out.unresolved.insert(
                            (target.table, id),
                            format!("the referenced record cannot be applied: {}", b.reason),
                        );
                    }
                    out.rejected.push(b);
                }
                let back: HashSet<Uuid> = fetched.iter().map(|r| r.id).collect();
                for u in &missing {
                    if !back.contains(u) {
                        out.unresolved.entry((target.table, *u)).or_insert_with(|| {
                            "CDMS has no such record (a dangling lookup)".into()
                        });
                    }
                }
                level.extend(fetched.into_iter().map(|r| (target_cdms, r)));
            }
            depth += 1;
            for (target_cdms, record) in &level {
                targets(target_cdms, [record], &known, &mut wanted);
            }
            for (target_cdms, record) in level {
                out.records
                    .insert((target_cdms.entity.table, record.id), record);
            }
        }
        if out.requests > 0 {
            tracing::debug!(
                entity = groups.first().map_or("", |(c, _)| c.entity.name),
                fetched = out.records.len(),
                requests = out.requests,
                unresolved = out.unresolved.len(),
                "fetched missing referenced records ahead of the transaction"
            );
        }
        Ok(out)
    }

    /// Adds what `other` fetched (for other records applied in the same transaction).
    pub(crate) fn absorb(&mut self, other: References) {
        self.records.extend(other.records);
        for (key, reason) in other.unresolved {
            self.unresolved.entry(key).or_insert(reason);
        }
        self.rejected.extend(other.rejected);
        self.requests += other.requests;
    }

    /// How many referenced records were fetched.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no referenced record was fetched.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// CDMS requests the fetch made.
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// Fetched records that could not be decoded (quarantined by the apply that uses them).
    pub(super) fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// The fetched record of `target` with CDMS id `id`.
    pub(super) fn record(&self, target: &EntityMeta, id: Uuid) -> Option<&RemoteRecord> {
        self.records.get(&(target.table, id))
    }

    /// Why the target `id` of `target` could not be fetched, if it could not.
    pub(super) fn unresolved(&self, target: &EntityMeta, id: Uuid) -> Option<&str> {
        self.unresolved.get(&(target.table, id)).map(String::as_str)
    }
}
