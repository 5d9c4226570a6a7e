//! The drift report: how the local store differs from CDMS, per entity set.
//!
//! CRM 2011 has no counts, so the CDMS side is read by paging through the set with
//! `$select=<Id>,ModifiedOn` (a few bytes per record), and the local side by reading
//! `(pk, cdms id, modified)` in chunks. The CDMS keys of one set are held in memory while it is
//! compared (about 40 bytes per record). Drift is:
//! - a CDMS record with no local row (*missing locally*),
//! - a local row whose CDMS id is not in CDMS (*missing in CDMS*: deleted there, not yet
//!   reconciled by `poll`),
//! - a pair whose local `modified` differs from CDMS's `ModifiedOn` (*modified differs*).
//!
//! - a record in the quarantine: it could not be applied locally (see
//!   [`crate::cdms::CdmsRemote::quarantine`]); every quarantined record is listed with its CDMS
//!   id and the reason.
//!
//! - a row synced under an older CDMS mapping (*stale*): its newly mapped or changed
//!   properties have not been fetched yet (`cdms-sync backfill`, see [`super::backfill`]).
//!
//! Local rows without a CDMS id (created with `skip_cdms` and never published) are counted
//! separately and are not drift.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::Quarantined;
use crate::error::Result;
use crate::types::format_datetime;

use super::progress::{EntityProgress, Phase};
use super::scan::{local_keys, remote_keys};
use super::state;
use super::Bulk;

/// A local row and its CDMS record whose `modified` differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifiedDiff {
    /// The local primary key.
    pub pk: i64,
    /// The CDMS id.
    pub cdms_id: Uuid,
    /// The local `modified`.
    pub local: Option<DateTime<Utc>>,
    /// CDMS's `ModifiedOn`.
    pub cdms: Option<DateTime<Utc>>,
}

/// The comparison of one entity set.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityStatus {
    /// The local entity (`Organisation`).
    pub entity: &'static str,
    /// The CDMS set (`AccountSet`).
    pub set: &'static str,
    /// Records in CDMS.
    pub cdms_count: u64,
    /// Local rows (published or not).
    pub local_count: u64,
    /// Local rows without a CDMS id (not drift).
    pub unpublished: u64,
    /// CDMS records with no local row.
    pub missing_locally: u64,
    /// Local rows whose CDMS record does not exist.
    pub missing_in_cdms: u64,
    /// Pairs whose `modified` differs.
    pub modified_differs: u64,
    /// Up to the sample size of CDMS ids missing locally.
    pub sample_missing_locally: Vec<Uuid>,
    /// Up to the sample size of `(pk, CDMS id)` missing in CDMS.
    pub sample_missing_in_cdms: Vec<(i64, Uuid)>,
    /// Up to the sample size of differing pairs.
    pub sample_modified_differs: Vec<ModifiedDiff>,
    /// Records of the set that could not be applied locally (every one, with its reason).
    pub quarantined: Vec<Quarantined>,
    /// Rows synced under an older CDMS mapping, not backfilled yet.
    pub stale: u64,
    /// The CDMS properties those rows lack (mapped or changed since they were synced).
    pub stale_properties: Vec<String>,
    /// When the initial load finished, if it did.
    pub loaded_at: Option<DateTime<Utc>>,
    /// The poll watermark.
    pub watermark: Option<DateTime<Utc>>,
}

impl EntityStatus {
    /// Whether the two sides differ.
    pub fn drift(&self) -> bool {
        self.missing_locally + self.missing_in_cdms + self.modified_differs + self.stale > 0
            || !self.quarantined.is_empty()
    }
}

/// The drift report of several sets.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// Per set, in the requested order.
    pub entities: Vec<EntityStatus>,
    /// Wall time.
    pub elapsed: Duration,
}

impl StatusReport {
    /// Whether any set drifted.
    pub fn drift(&self) -> bool {
        self.entities.iter().any(EntityStatus::drift)
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_owned(), |t| format_datetime(&t))
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<14} {:>9} {:>9} {:>10} {:>10} {:>10} {:>11}  state",
            "entity", "cdms", "local", "missing↓", "missing↑", "modified≠", "quarantine"
        )?;
        for e in &self.entities {
            let state = match (e.loaded_at, e.drift()) {
                (None, _) => "not loaded".to_owned(),
                (Some(_), true) => "DRIFT".to_owned(),
                (Some(_), false) => "in sync".to_owned(),
            };
            writeln!(
                f,
                "{:<14} {:>9} {:>9} {:>10} {:>10} {:>10} {:>11}  {state}",
                e.entity,
                e.cdms_count,
                e.local_count,
                e.missing_locally,
                e.missing_in_cdms,
                e.modified_differs,
                e.quarantined.len()
            )?;
        }
        writeln!(f, "(missing↓: in CDMS, not local; missing↑: local, not in CDMS; modified≠: ModifiedOn differs; quarantine: could not be applied locally)")?;
        for e in self
            .entities
            .iter()
            .filter(|e| e.drift() || e.unpublished > 0)
        {
            writeln!(
                f,
                "\n{} ({}): loaded {}, watermark {}",
                e.entity,
                e.set,
                when(e.loaded_at),
                when(e.watermark)
            )?;
            for id in &e.sample_missing_locally {
                writeln!(f, "  missing locally:  CDMS id {id}")?;
            }
            for (pk, id) in &e.sample_missing_in_cdms {
                writeln!(f, "  missing in CDMS:  pk {pk}, CDMS id {id}")?;
            }
            for d in &e.sample_modified_differs {
                writeln!(
                    f,
                    "  modified differs: pk {}, CDMS id {}: local {}, CDMS {}",
                    d.pk,
                    d.cdms_id,
                    when(d.local),
                    when(d.cdms)
                )?;
            }
            for q in &e.quarantined {
                let id = q
                    .cdms_id
                    .map_or_else(|| "(none)".to_owned(), |u| u.hyphenated().to_string());
                let property = q
                    .property
                    .as_deref()
                    .map(|p| format!(", property {p}"))
                    .unwrap_or_default();
                let value = q
                    .value
                    .as_deref()
                    .map(|v| format!(" (value {v})"))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "  quarantined:      CDMS id {id}{property}: {}{value}; seen {} times, last {}",
                    q.reason,
                    q.attempts,
                    format_datetime(&q.last_seen)
                )?;
            }
            if e.stale > 0 {
                writeln!(
                    f,
                    "  stale:            {} rows synced under an older mapping lack {}: run `cdms-sync backfill`",
                    e.stale,
                    e.stale_properties.join(", ")
                )?;
            }
            if e.unpublished > 0 {
                writeln!(
                    f,
                    "  {} local rows have no CDMS id yet (not drift)",
                    e.unpublished
                )?;
            }
        }
        Ok(())
    }
}

/// Compares the sets of `entities`, keeping up to `sample` examples of each kind of drift.
pub async fn status(
    bulk: &Bulk,
    entities: &[&'static CdmsMeta],
    sample: usize,
) -> Result<StatusReport> {
    let started = Instant::now();
    state::migrate(&bulk.db).await?;
    bulk.remote.quarantine_state().ensure(&bulk.db).await?;
    for &meta in entities {
        super::backfill::record_mapping(bulk, meta).await?;
    }
    let mut out = Vec::with_capacity(entities.len());
    for &meta in entities {
        if bulk.stop.is_stopped() {
            break;
        }
        out.push(entity_status(bulk, meta, sample).await?);
    }
    Ok(StatusReport {
        entities: out,
        elapsed: started.elapsed(),
    })
}

async fn entity_status(
    bulk: &Bulk,
    meta: &'static CdmsMeta,
    sample: usize,
) -> Result<EntityStatus> {
    let started = Instant::now();
    let mut snapshot = EntityProgress::new(meta.entity.name, meta.set, Phase::Reconciling);
    bulk.progress.phase(&snapshot);
    let mut remote: HashMap<Uuid, Option<DateTime<Utc>>> = HashMap::new();
    remote_keys(&bulk.client, meta, true, &bulk.stop, |k| {
        remote.insert(k.id, k.modified);
    })
    .await?;
    let st = state::entity_state(&bulk.db, meta.set).await?;
    let (stale, oldest) = crate::cdms::sync::stale::summary(&bulk.db, meta.set).await?;
    let stale_properties = match oldest {
        Some(g) => super::mapping::properties_since(&bulk.db, meta.set, g).await?,
        None => Vec::new(),
    };
    let mut s = EntityStatus {
        entity: meta.entity.name,
        set: meta.set,
        cdms_count: remote.len() as u64,
        local_count: 0,
        unpublished: 0,
        missing_locally: 0,
        missing_in_cdms: 0,
        modified_differs: 0,
        sample_missing_locally: Vec::new(),
        sample_missing_in_cdms: Vec::new(),
        sample_modified_differs: Vec::new(),
        quarantined: bulk.remote.quarantine_of(&bulk.db, meta.set).await?,
        stale,
        stale_properties,
        loaded_at: st.as_ref().and_then(|s| s.load_done_at),
        watermark: st.as_ref().and_then(|s| s.watermark),
    };
    local_keys(&bulk.db, meta, |k| {
        s.local_count += 1;
        let Some(id) = k.cdms_id else {
            s.unpublished += 1;
            return;
        };
        match remote.remove(&id) {
            None => {
                s.missing_in_cdms += 1;
                if s.sample_missing_in_cdms.len() < sample {
                    s.sample_missing_in_cdms.push((k.pk, id));
                }
            }
            Some(cdms) if cdms != k.modified => {
                s.modified_differs += 1;
                if s.sample_modified_differs.len() < sample {
                    s.sample_modified_differs.push(ModifiedDiff {
                        pk: k.pk,
                        cdms_id: id,
                        local: k.modified,
                        cdms,
                    });
                }
            }
            Some(_) => {}
        }
    })
    .await?;
    s.missing_locally = remote.len() as u64;
    let mut missing: Vec<Uuid> = remote.into_keys().collect();
    missing.sort_unstable();
    missing.truncate(sample);
    s.sample_missing_locally = missing;
    snapshot.phase = Phase::Done;
    snapshot.records = s.cdms_count;
    snapshot.elapsed = started.elapsed();
    bulk.progress.finish(&snapshot);
    Ok(s)
}
