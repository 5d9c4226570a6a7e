//! Date range reads: a filter whose conjunction bounds one date property (`CreatedOn ge
//! datetime'…' and CreatedOn lt datetime'…'`, as the bulk load's windows and the poller's
//! watermark ask) reads only the records within those bounds, through the set's records sorted
//! by that property, as SQL Server reads CRM's `createdon`/`modifiedon` indexes. Without it every
//! such request scans the whole set, and a load of a large set in many windows does that once
//! per window and per probe.
//!
//! The sorted list is built on first use and cached per set and property until the set changes
//! (like the sort cache of `$orderby` queries). The bounds only narrow the candidates: every
//! candidate is still checked against the whole filter, so the answer is the scan's.

use std::ops::Bound;
use std::sync::Arc;

use super::filter::bind::{CmpOp, Pred, Slot, Val};
use super::store::{Cell, GenerationCache, Key, SetData};

/// Sets smaller than this are scanned: a scan costs less than building the sorted list.
pub(crate) const MIN_RECORDS: usize = 2_048;

/// The bounds a filter puts on one date property (the cell at `prop`) in its top-level
/// conjunction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateRange {
    pub prop: usize,
    pub lo: Bound<i64>,
    pub hi: Bound<i64>,
}

/// The range of the first date property a conjunct of `pred` compares with a date (`eq`, `gt`,
/// `ge`, `lt`, `le`), narrowed by every conjunct on the same property. A record matching `pred`
/// matches each conjunct, so its value is within the range (a null compares as unknown and
/// never matches).
pub(crate) fn date_range(pred: &Pred) -> Option<DateRange> {
    let mut conjuncts = Vec::new();
    flatten(pred, &mut conjuncts);
    let bounds: Vec<(usize, Bound<i64>, Bound<i64>)> =
        conjuncts.into_iter().filter_map(bound_of).collect();
    let prop = bounds.first()?.0;
    let mut range = DateRange {
        prop,
        lo: Bound::Unbounded,
        hi: Bound::Unbounded,
    };
    for (_, lo, hi) in bounds.into_iter().filter(|b| b.0 == prop) {
        range.lo = tighter(range.lo, lo, true);
        range.hi = tighter(range.hi, hi, false);
    }
    Some(range)
}

fn flatten<'p>(pred: &'p Pred, out: &mut Vec<&'p Pred>) {
    match pred {
        Pred::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

/// `(prop, lower, upper)` of a date comparison.
fn bound_of(pred: &Pred) -> Option<(usize, Bound<i64>, Bound<i64>)> {
    let Pred::Cmp {
        slot: Slot::Cell(prop),
        op,
        val: Val::Date(v),
    } = pred
    else {
        return None;
    };
    let v = *v;
    let (lo, hi) = match op {
        CmpOp::Eq => (Bound::Included(v), Bound::Included(v)),
        CmpOp::Gt => (Bound::Excluded(v), Bound::Unbounded),
        CmpOp::Ge => (Bound::Included(v), Bound::Unbounded),
        CmpOp::Lt => (Bound::Unbounded, Bound::Excluded(v)),
        CmpOp::Le => (Bound::Unbounded, Bound::Included(v)),
        CmpOp::Ne => return None,
    };
    Some((*prop, lo, hi))
}

/// The narrower of two lower (`lower`) or upper bounds.
fn tighter(a: Bound<i64>, b: Bound<i64>, lower: bool) -> Bound<i64> {
    let value = |x: &Bound<i64>| match x {
        Bound::Included(v) | Bound::Excluded(v) => Some(*v),
        Bound::Unbounded => None,
    };
    match (value(&a), value(&b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) if x == y => {
            // The same value: exclusive is narrower.
            if matches!(a, Bound::Excluded(_)) {
                a
            } else {
                b
            }
        }
        (Some(x), Some(y)) => {
            if (x > y) == lower {
                a
            } else {
                b
            }
        }
    }
}

/// A set's records with a date in one property, by (date, key).
type Sorted = Arc<Vec<(i64, Key)>>;

/// Sorted lists of a set's records, by date property.
pub(crate) type DateIndexes = GenerationCache<usize, Vec<(i64, Key)>, 4>;

/// The records of a set within a [`DateRange`], in date order (ties by key).
pub(crate) struct Within {
    sorted: Sorted,
    span: std::ops::Range<usize>,
}

impl Within {
    pub fn len(&self) -> usize {
        self.span.len()
    }

    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.sorted
            .get(self.span.clone())
            .unwrap_or_default()
            .iter()
            .map(|(_, k)| *k)
    }
}

/// The records of `data` whose date in `range.prop` is within the range.
pub(crate) fn within(data: &SetData, range: DateRange) -> Within {
    let sorted = sorted_by(data, range.prop);
    let start = match range.lo {
        Bound::Included(v) => sorted.partition_point(|(d, _)| *d < v),
        Bound::Excluded(v) => sorted.partition_point(|(d, _)| *d <= v),
        Bound::Unbounded => 0,
    };
    let end = match range.hi {
        Bound::Included(v) => sorted.partition_point(|(d, _)| *d <= v),
        Bound::Excluded(v) => sorted.partition_point(|(d, _)| *d < v),
        Bound::Unbounded => sorted.len(),
    };
    Within {
        sorted,
        span: start..end.max(start),
    }
}

fn sorted_by(data: &SetData, prop: usize) -> Sorted {
    if let Some(sorted) = data.date_indexes.get(data.generation, &prop) {
        return sorted;
    }
    // Built without holding the cache (the set cannot change: the caller reads it under the
    // store's lock).
    let mut sorted: Vec<(i64, Key)> = data
        .records
        .iter()
        .filter_map(|(key, cells)| match cells.get(prop) {
            Some(Cell::Date(ms)) => Some((*ms, *key)),
            _ => None,
        })
        .collect();
    sorted.sort_unstable();
    let sorted = Arc::new(sorted);
    data.date_indexes
        .put(data.generation, prop, Arc::clone(&sorted));
    sorted
}
