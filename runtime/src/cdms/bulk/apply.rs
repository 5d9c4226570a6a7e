//! Applying a batch of raw CDMS records through the sync layer's apply path.
//!
//! CDMS stamps `ModifiedOn` in whole seconds, so two edits of a record within one second carry
//! the same `ModifiedOn`; the apply path compares the mapped values of every record whose
//! `ModifiedOn` equals its local row's and refreshes the row when they differ.
//!
//! One bad record never blocks the batch: records that cannot be decoded or applied are
//! skipped, recorded in the quarantine in the same transaction (with a `tracing` warning), and
//! counted in [`BatchStats::quarantined`]; the others are applied and committed.

use chrono::{DateTime, Utc};

use crate::cdms::codec::RemoteRecord;
use crate::cdms::decode::RawRecord;
use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::{apply_json_page, apply_prefetched, References, Rejected};
use crate::error::Result;
use crate::store::Tx;

use super::Bulk;

/// What applying one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchStats {
    /// Records in the batch.
    pub records: usize,
    /// Rows created.
    pub inserted: usize,
    /// Rows refreshed.
    pub updated: usize,
    /// Records already in sync.
    pub unchanged: usize,
    /// Records whose local row is newer (left alone).
    pub local_newer: usize,
    /// Rows refreshed because of a same-second change.
    pub same_second: usize,
    /// Records skipped and recorded in the quarantine.
    pub quarantined: usize,
    /// The newest `ModifiedOn` in the batch.
    pub newest: Option<DateTime<Utc>>,
}

/// A batch prepared ahead of its transaction ([`Bulk::prepare`]): the records that decode, a
/// rejection for each one that does not, how many there were, and the referenced records
/// they need that no local row holds.
pub(crate) struct DecodedBatch {
    records: Vec<RemoteRecord>,
    rejected: Vec<Rejected>,
    count: usize,
    references: References,
}

impl DecodedBatch {
    /// Records in the batch (those that decode and those that do not).
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Batches fetched by several partitions, as one (applied in one transaction: see
    /// [`super::group`]).
    pub(crate) fn merge(batches: Vec<DecodedBatch>) -> DecodedBatch {
        let mut all = DecodedBatch {
            records: Vec::with_capacity(batches.iter().map(|b| b.records.len()).sum()),
            rejected: Vec::new(),
            count: 0,
            references: References::none(),
        };
        for batch in batches {
            all.records.extend(batch.records);
            all.rejected.extend(batch.rejected);
            all.count += batch.count;
            all.references.absorb(batch.references);
        }
        all
    }
}

impl Bulk {
    /// Decodes `records` of `cdms`'s set and fetches the referenced records missing locally:
    /// CPU work and CDMS requests that need no transaction, so a writer does them before
    /// waiting for the database's write lock, not while holding it.
    pub(crate) async fn prepare(
        &self,
        cdms: &'static CdmsMeta,
        raw: &[RawRecord],
    ) -> Result<DecodedBatch> {
        let (records, rejected) = apply_json_page(cdms, raw);
        let db = self.db.reading_on_writer();
        let references = References::fetch(&self.remote, &db, cdms.entity, &records).await?;
        Ok(DecodedBatch {
            records,
            rejected,
            count: raw.len(),
            references,
        })
    }

    /// Applies a decoded batch inside `tx`, quarantining in `tx` what cannot be applied.
    pub(crate) async fn apply_decoded(
        &self,
        tx: &mut Tx,
        cdms: &'static CdmsMeta,
        batch: DecodedBatch,
    ) -> Result<BatchStats> {
        let DecodedBatch {
            records: decoded,
            rejected,
            count,
            references,
        } = batch;
        let mut stats = BatchStats {
            records: count,
            newest: decoded.iter().map(|r| r.modified).max(),
            ..BatchStats::default()
        };
        let applied = apply_prefetched(&self.remote, tx, cdms.entity, decoded, &references).await?;
        stats.inserted = applied.inserted;
        stats.updated = applied.updated;
        stats.unchanged = applied.unchanged;
        stats.same_second = applied.same_second;
        stats.local_newer = applied.local_newer.len();
        stats.quarantined = rejected.len() + applied.rejected.len();
        self.remote
            .after_apply(tx, cdms.set, &applied, &rejected)
            .await?;
        Ok(stats)
    }
}
