//! Splitting an entity set into partitions for the initial load.
//!
//! CRM 2011 has no counts (`$inlinecount` is refused) and limits `$skip`, so the set is split by
//! `CreatedOn` windows: the oldest and newest `CreatedOn` come from two one-record requests
//! (`$orderby=CreatedOn asc|desc&$top=1&$select=CreatedOn`), and the span between them is cut into
//! equal windows on whole seconds (CDMS's precision, and all a `datetime'…'` literal can say). The
//! first window has no lower bound and the last no upper bound, and one more partition takes the
//! records without a `CreatedOn` (`CreatedOn eq null`), so the partitions cover every record, now
//! and created later, exactly once.
//!
//! Records are rarely created at an even pace (a CRM fills faster as the years go by), so equal
//! windows hold very unequal numbers of records, and the largest partition, read page after page
//! by one task, becomes the load's tail. A window is therefore asked, with one `$skip` probe,
//! whether it holds more than [`PARTITION_RECORDS`]; one that does is cut in two at its middle
//! second, and the halves are asked in turn, until no window holds more, a window is one second
//! wide, or there are [`MAX_SPLIT`] times as many windows as asked for.
//!
//! A set whose entity does not map `CreatedOn`, an empty set, or a set of fewer than
//! [`SMALL_SET`] records (one `$skip` probe tells) is one partition without a filter.

use chrono::{DateTime, Duration, Utc};
use serde_json::value::RawValue;
use serde_json::Value as J;

use crate::cdms::client::{CdmsClient, ListOptions};
use crate::cdms::meta::CdmsMeta;
use crate::cdms::{wire, CdmsError};
use crate::error::Result;

use super::state::Partition;

/// The `CreatedOn` property of `meta`, when mapped.
pub(crate) fn created_property(meta: &CdmsMeta) -> Option<&'static str> {
    meta.entity
        .created
        .and_then(|i| meta.by_field(i))
        .map(|f| f.property)
}

/// The `ModifiedOn` property of `meta` (mapped by every synced entity; the CDMS name otherwise).
pub(crate) fn modified_property(meta: &CdmsMeta) -> &'static str {
    meta.modified().map_or("ModifiedOn", |f| f.property)
}

/// `datetime'2016-01-31T13:05:09'` for a whole-second instant.
pub(crate) fn datetime_literal(t: DateTime<Utc>) -> String {
    format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// `t` rounded down to a whole second.
pub(crate) fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Reads the datetime property `prop` of a record.
pub(crate) fn record_time(
    meta: &CdmsMeta,
    record: &J,
    prop: &str,
) -> Result<Option<DateTime<Utc>>> {
    stamp(meta, record.get(prop), prop)
}

/// [`record_time`] of a record's text: only that property is read.
pub(crate) fn raw_record_time(
    meta: &CdmsMeta,
    record: &RawValue,
    prop: &str,
) -> Result<Option<DateTime<Utc>>> {
    stamp(
        meta,
        crate::cdms::decode::property(record, prop).as_ref(),
        prop,
    )
}

/// The time in `value`, the JSON of property `prop`.
fn stamp(meta: &CdmsMeta, value: Option<&J>, prop: &str) -> Result<Option<DateTime<Utc>>> {
    match value {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => wire::parse_date(s).map(Some).ok_or_else(|| {
            CdmsError::Decode {
                entity: meta.service,
                record: None,
                property: prop.to_owned(),
                value: s.clone(),
                reason: "expected /Date(ms)/".to_owned(),
            }
            .into()
        }),
        Some(other) => Err(CdmsError::Decode {
            entity: meta.service,
            record: None,
            property: prop.to_owned(),
            value: crate::cdms::excerpt(&other.to_string(), 80),
            reason: "expected /Date(ms)/".to_owned(),
        }
        .into()),
    }
}

/// The newest (`desc`) or oldest value of datetime property `prop` in `meta`'s set, ignoring
/// values later than `until` when given.
pub(crate) async fn extreme(
    client: &CdmsClient,
    meta: &CdmsMeta,
    prop: &str,
    desc: bool,
    until: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>> {
    let filter = match until {
        Some(t) => format!("{prop} ne null and {prop} le {}", datetime_literal(t)),
        None => format!("{prop} ne null"),
    };
    let opts = ListOptions {
        filter: Some(filter),
        select: vec![prop.to_owned()],
        expand: Vec::new(),
        orderby: Some(format!("{prop} {}", if desc { "desc" } else { "asc" })),
        top: Some(1),
    };
    let mut pager = client.pager(meta.set, &opts)?;
    let Some(page) = pager.next_page().await? else {
        return Ok(None);
    };
    match page.first() {
        Some(record) => record_time(meta, record, prop),
        None => Ok(None),
    }
}

/// A planned load of one set.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub partitions: Vec<Partition>,
    /// The newest `ModifiedOn` when the plan was made: the first poll starts there.
    pub watermark: Option<DateTime<Utc>>,
}

/// Windows `[lo, hi)` cutting `[min, max]` (whole seconds) into at most `n` equal parts.
pub(crate) fn windows(
    min: DateTime<Utc>,
    max: DateTime<Utc>,
    n: usize,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let lo = floor_second(min);
    let hi = floor_second(max) + Duration::seconds(1);
    let span = (hi - lo).num_seconds().max(1);
    let n = (n.max(1) as i64).min(span);
    let step = (span + n - 1) / n;
    let mut out = Vec::with_capacity(n as usize);
    let mut start = lo;
    while start < hi {
        let end = (start + Duration::seconds(step)).min(hi);
        out.push((start, end));
        start = end;
    }
    out
}

/// Sets with fewer records than this are loaded as one partition: splitting them would cost
/// more requests (one partly filled page per window) than it saves.
pub(crate) const SMALL_SET: u32 = 1_000;

/// A window holding more records than this is cut in two (50 pages of 50: half a second of one
/// task's requests at 10 ms each). Within CRM's `$skip` limit of 5,000.
pub(crate) const PARTITION_RECORDS: u32 = 2_500;

/// The most windows a plan cuts, as a multiple of the partitions asked for.
pub(crate) const MAX_SPLIT: usize = 8;

/// How many window probes are in flight at once.
const PROBES_AT_ONCE: usize = 8;

/// The `$filter` of window `[lo, hi)` of `created`: no lower bound for the first window, no
/// upper bound for the last one.
fn window_filter(
    created: &str,
    (lo, hi): (DateTime<Utc>, DateTime<Utc>),
    first: bool,
    last: bool,
) -> String {
    let lower = (!first).then(|| format!("{created} ge {}", datetime_literal(lo)));
    let upper = (!last).then(|| format!("{created} lt {}", datetime_literal(hi)));
    match (lower, upper) {
        (Some(l), Some(u)) => format!("{l} and {u}"),
        (Some(l), None) => l,
        (None, Some(u)) => u,
        // A single window: everything with a CreatedOn.
        (None, None) => format!("{created} ne null"),
    }
}

/// Whether more than `count` records of `meta`'s set match `filter` (`None`: every record): one
/// request for the record after that many (`$skip` must stay within CRM's limit of 5,000).
async fn more_than(
    client: &CdmsClient,
    meta: &CdmsMeta,
    filter: Option<String>,
    count: u32,
) -> Result<bool> {
    let opts = ListOptions {
        filter,
        select: vec![meta.id_property.to_owned()],
        top: Some(1),
        ..ListOptions::default()
    };
    let link = format!(
        "{}/{}?{}&$skip={count}",
        client.service_url(),
        meta.set,
        opts.query()
    );
    let mut pager = client.resume_pager(meta.set, &link)?;
    Ok(pager
        .next_page()
        .await?
        .is_some_and(|page| !page.is_empty()))
}

/// Cuts the windows that hold more than [`PARTITION_RECORDS`] in two at their middle second,
/// again and again (see the module docs), up to `cap` windows. Windows stay in order and
/// keep covering the same span.
async fn split_dense(
    client: &CdmsClient,
    meta: &CdmsMeta,
    created: &str,
    mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    cap: usize,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    // Whether each window is still to be asked.
    let mut unknown = vec![true; windows.len()];
    // Each round cuts at least one window (or ends), and a plan has at most `cap` windows.
    while windows.len() < cap && unknown.iter().any(|u| *u) {
        let last = windows.len().saturating_sub(1);
        let asked: Vec<usize> = (0..windows.len()).filter(|&i| unknown[i]).collect();
        let dense: Vec<bool> = stream::iter(asked.iter().map(|&i| {
            let filter = window_filter(created, windows[i], i == 0, i == last);
            more_than(client, meta, Some(filter), PARTITION_RECORDS)
        }))
        .buffered(PROBES_AT_ONCE)
        .try_collect()
        .await?;
        let mut cut = vec![false; windows.len()];
        let mut room = cap - windows.len();
        for (&i, dense) in asked.iter().zip(dense) {
            let (lo, hi) = windows[i];
            let span = (hi - lo).num_seconds();
            if dense && span >= 2 && room > 0 {
                cut[i] = true;
                room -= 1;
            }
        }
        if !cut.contains(&true) {
            break;
        }
        let mut next = Vec::with_capacity(windows.len() * 2);
        let mut next_unknown = Vec::with_capacity(windows.len() * 2);
        for (i, &(lo, hi)) in windows.iter().enumerate() {
            if cut[i] {
                let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
                next.extend([(lo, mid), (mid, hi)]);
                next_unknown.extend([true, true]);
            } else {
                next.push((lo, hi));
                next_unknown.push(false);
            }
        }
        windows = next;
        unknown = next_unknown;
    }
    if windows.len() > 1 {
        tracing::debug!(
            entity = meta.set,
            windows = windows.len(),
            "CreatedOn windows cut to at most {PARTITION_RECORDS} records where CDMS is dense"
        );
    }
    Ok(windows)
}

/// Whether `meta`'s set holds fewer than [`SMALL_SET`] records: one request for the record at
/// that offset (`$skip` stays far below CRM's 5000 limit).
async fn is_small(client: &CdmsClient, meta: &CdmsMeta) -> Result<bool> {
    Ok(!more_than(client, meta, None, SMALL_SET).await?)
}

/// Partition numbers for `n` consecutive windows such that claiming in number order visits the
/// span evenly (first, middle, quarters, ...: the windows sorted by the bit-reversal of their
/// index), so the first partitions loaded sample the whole time range and the size estimate
/// is sound early. Returns the number of each window.
pub(crate) fn spread(n: usize) -> Vec<usize> {
    let bits = usize::BITS - n.saturating_sub(1).leading_zeros();
    let reverse = |i: usize| {
        if bits == 0 {
            0
        } else {
            i.reverse_bits() >> (usize::BITS - bits)
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| reverse(i));
    let mut numbers = vec![0; n];
    for (number, window) in order.into_iter().enumerate() {
        numbers[window] = number;
    }
    numbers
}

/// Plans the partitions of `meta`'s set (about `n` of them). Stamps later than `trusted` (see
/// [`super::skew`]) bound neither the watermark nor the windows: records created after the newest
/// trusted `CreatedOn` fall into the last window, which has no upper bound.
pub(crate) async fn plan(
    client: &CdmsClient,
    meta: &'static CdmsMeta,
    n: usize,
    trusted: DateTime<Utc>,
) -> Result<Plan> {
    let trusted = floor_second(trusted);
    let watermark = extreme(client, meta, modified_property(meta), true, Some(trusted)).await?;
    let created = match created_property(meta) {
        Some(c) if n > 1 && !is_small(client, meta).await? => c,
        _ => {
            return Ok(Plan {
                partitions: vec![Partition::planned(meta.set, 0, None, None, None)],
                watermark,
            })
        }
    };
    let (Some(min), Some(max)) = (
        extreme(client, meta, created, false, None).await?,
        extreme(client, meta, created, true, Some(trusted)).await?,
    ) else {
        return Ok(Plan {
            partitions: vec![Partition::planned(meta.set, 0, None, None, None)],
            watermark,
        });
    };
    let windows = windows(min, max, n);
    let windows = split_dense(client, meta, created, windows, n.saturating_mul(MAX_SPLIT)).await?;
    let last = windows.len().saturating_sub(1);
    let numbers = spread(windows.len());
    let mut partitions = Vec::with_capacity(windows.len() + 1);
    for (k, (lo, hi)) in windows.into_iter().enumerate() {
        let filter = window_filter(created, (lo, hi), k == 0, k == last);
        partitions.push(Partition::planned(
            meta.set,
            numbers[k] as i64,
            Some(filter),
            Some(lo),
            Some(hi),
        ));
    }
    let k = partitions.len() as i64;
    partitions.push(Partition::planned(
        meta.set,
        k,
        Some(format!("{created} eq null")),
        None,
        None,
    ));
    Ok(Plan {
        partitions,
        watermark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_451_606_400 + s, 0).unwrap()
    }

    #[test]
    fn windows_cover_the_span_on_whole_seconds() {
        let w = windows(t(0), t(99), 4);
        assert_eq!(w.len(), 4);
        assert_eq!(w[0].0, t(0));
        assert_eq!(w[3].1, t(100));
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0));
        // A span shorter than the partition count gives one window per second.
        let w = windows(t(5), t(6), 16);
        assert_eq!(w, vec![(t(5), t(6)), (t(6), t(7))]);
        // One instant: one window.
        assert_eq!(windows(t(5), t(5), 8), vec![(t(5), t(6))]);
        // Fractions round outwards.
        let frac = t(5) + Duration::milliseconds(400);
        assert_eq!(windows(frac, frac, 3), vec![(t(5), t(6))]);
    }

    #[test]
    fn numbers_spread_over_the_span() {
        assert_eq!(spread(0), Vec::<usize>::new());
        assert_eq!(spread(1), vec![0]);
        // Windows 0..8 are claimed in the order 0, 4, 2, 6, 1, 5, 3, 7.
        assert_eq!(spread(8), vec![0, 4, 2, 6, 1, 5, 3, 7]);
        let mut five = spread(5);
        five.sort_unstable();
        assert_eq!(five, vec![0, 1, 2, 3, 4], "a permutation");
    }

    #[test]
    fn literal_is_whole_seconds() {
        assert_eq!(datetime_literal(t(9)), "datetime'2016-01-01T00:00:09'");
    }
}
