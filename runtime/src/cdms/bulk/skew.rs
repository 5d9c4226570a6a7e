//! Timestamps from the future.
//!
//! CRM users and imports put far-future dates (`9999-12-31`, a common "no date" placeholder)
//! into `CreatedOn` (through `OverriddenCreatedOn`) and, through direct database edits,
//! `ModifiedOn`. Such a stamp is still a record to apply, but the engines must not build on it:
//! a poll watermark taken from it would skip every later edit, and a load plan bounded by it
//! would cut the set into windows of centuries. The engines therefore trust a stamp only up to
//! "now plus a skew allowance" (for a CDMS clock running somewhat ahead of ours): later stamps
//! are counted, logged with the set, the record's id and the value, and left out of watermarks
//! and plan bounds.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value as J;

use crate::cdms::decode::{self, RawRecord};
use crate::cdms::meta::CdmsMeta;

use super::plan::{created_property, modified_property, record_time};

/// The default skew allowance: one day.
pub(crate) const DEFAULT_ALLOWANCE: Duration = Duration::from_secs(24 * 60 * 60);

/// The latest stamp the engines trust now: the current time plus `allowance`.
pub(crate) fn trusted_until(allowance: Duration) -> DateTime<Utc> {
    let allowance = chrono::Duration::from_std(allowance).unwrap_or(chrono::Duration::MAX);
    crate::store::now()
        .checked_add_signed(allowance)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// What one batch of raw records says about time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stamps {
    /// Records with a `ModifiedOn` or `CreatedOn` later than the bound.
    pub future: usize,
    /// The newest `ModifiedOn` not later than the bound.
    pub newest_trusted: Option<DateTime<Utc>>,
}

/// Inspects the `ModifiedOn` and `CreatedOn` of `records` of `meta`'s set against `bound`,
/// logging a warning per record stamped later. Values that do not parse are left to the
/// decoder, which reports them.
pub(crate) fn inspect(meta: &CdmsMeta, records: &[RawRecord], bound: DateTime<Utc>) -> Stamps {
    let modified = modified_property(meta);
    let created = created_property(meta);
    let mut names = vec![meta.id_property, modified];
    names.extend(created);
    let mut out = Stamps::default();
    for raw in records {
        // Only the id and the two stamps are read out of the record's text.
        let record = &J::Object(
            names
                .iter()
                .zip(decode::properties(raw, &names))
                .filter_map(|(name, value)| Some(((*name).to_owned(), value?)))
                .collect(),
        );
        let mut future = false;
        for prop in std::iter::once(modified).chain(created) {
            let Ok(Some(t)) = record_time(meta, record, prop) else {
                continue;
            };
            if t > bound {
                future = true;
                let id = record
                    .get(meta.id_property)
                    .and_then(J::as_str)
                    .unwrap_or("(no id)");
                tracing::warn!(
                    set = meta.set,
                    cdms_id = id,
                    property = prop,
                    value = %t.to_rfc3339(),
                    trusted_until = %bound.to_rfc3339(),
                    "a timestamp beyond the clock skew allowance: the record is applied, the \
                     watermark and load plan ignore the stamp"
                );
            } else if prop == modified && out.newest_trusted.is_none_or(|n| t > n) {
                out.newest_trusted = Some(t);
            }
        }
        if future {
            out.future += 1;
        }
    }
    out
}
