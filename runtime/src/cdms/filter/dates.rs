//! Date-part lookups as instant ranges: 2011 has no `year()`/`month()` functions, so a year, or a
//! year+month, year+month+day, ... prefix (optionally followed by comparisons on the next part)
//! becomes a `datetime'…'` range on the property itself. All arithmetic is in UTC.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};

use crate::expr::{Cmp, DatePart};

/// One end of an instant interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// No limit on this side.
    Unbounded,
    /// Includes the instant.
    Incl(DateTime<Utc>),
    /// Excludes the instant.
    Excl(DateTime<Utc>),
}

/// A set of non-null instants between `lo` and `hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub lo: Bound,
    pub hi: Bound,
}

/// The complement of a union of sorted, disjoint intervals (among non-null instants).
pub(crate) fn complement(intervals: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut from = Bound::Unbounded; // lower bound of the current gap
    let mut open = true; // whether the gap before the next interval starts at `from`
    for iv in intervals {
        let gap_hi = match iv.lo {
            Bound::Unbounded => None,
            Bound::Incl(t) => Some(Bound::Excl(t)),
            Bound::Excl(t) => Some(Bound::Incl(t)),
        };
        if let (true, Some(hi)) = (open, gap_hi) {
            out.push(Interval { lo: from, hi });
        }
        match iv.hi {
            Bound::Unbounded => {
                open = false;
            }
            Bound::Incl(t) => {
                from = Bound::Excl(t);
                open = true;
            }
            Bound::Excl(t) => {
                from = Bound::Incl(t);
                open = true;
            }
        }
    }
    if open {
        out.push(Interval {
            lo: from,
            hi: Bound::Unbounded,
        });
    }
    out
}

/// A date-part condition: compared with a number, or one of a list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PartCond {
    Cmp(Cmp, i32),
    In(Vec<i32>),
}

/// Which of a conjunction's date-part conditions on one field became a range, and the range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// Indexes (into the input) of the conditions the range stands for exactly.
    pub consumed: Vec<usize>,
    /// The union of instants matching all consumed conditions (empty: nothing matches).
    pub intervals: Vec<Interval>,
    /// False when a bound fell outside chrono's range and was dropped (a superset).
    pub exact: bool,
}

const ORDER: [DatePart; 6] = [
    DatePart::Year,
    DatePart::Month,
    DatePart::Day,
    DatePart::Hour,
    DatePart::Minute,
    DatePart::Second,
];

/// Plans the conjunction of `conds` (all on the same field) as an instant range, when they
/// contain a contiguous prefix of year, month, day, hour, minute, second equalities
/// (possibly empty), optionally followed by comparisons or `in` on the next part. Conditions not
/// consumed (a bare month, week day, a part after a gap) are left to the caller (relaxed).
pub(crate) fn plan(conds: &[(DatePart, PartCond)]) -> Option<Plan> {
    let mut prefix: Vec<i64> = Vec::new();
    let mut consumed = Vec::new();
    for part in ORDER {
        let eqs: Vec<(usize, i64)> = conds
            .iter()
            .enumerate()
            .filter_map(|(i, (p, c))| match c {
                PartCond::Cmp(Cmp::Eq, n) if *p == part => Some((i, i64::from(*n))),
                _ => None,
            })
            .collect();
        let Some(&(_, n)) = eqs.first() else { break };
        consumed.extend(eqs.iter().map(|(i, _)| *i));
        let (lo, hi) = domain(part, &prefix);
        let contradictory = eqs.iter().any(|(_, m)| *m != n);
        let out_of_domain = lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi);
        if contradictory || out_of_domain {
            // No date has these parts: nothing matches, locally or remotely.
            return Some(Plan {
                consumed,
                intervals: Vec::new(),
                exact: true,
            });
        }
        prefix.push(n);
    }
    let Some(&next) = ORDER.get(prefix.len()) else {
        // Down to the second: a one-second interval.
        return Some(run_plan(
            consumed,
            &prefix,
            DatePart::Second,
            vec![(None, None)],
            true,
        ));
    };
    let (mut lo, mut hi) = domain(next, &prefix);
    let mut set: Option<BTreeSet<i64>> = None;
    let mut constrained = false;
    for (i, (p, c)) in conds.iter().enumerate() {
        if *p != next {
            continue;
        }
        match c {
            PartCond::Cmp(Cmp::Eq, _) => continue, // cannot happen: equalities ended the prefix
            PartCond::Cmp(op, n) => {
                let n = i64::from(*n);
                match op {
                    Cmp::Gt => lo = Some(lo.map_or(n + 1, |l| l.max(n + 1))),
                    Cmp::Gte => lo = Some(lo.map_or(n, |l| l.max(n))),
                    Cmp::Lt => hi = Some(hi.map_or(n - 1, |h| h.min(n - 1))),
                    Cmp::Lte => hi = Some(hi.map_or(n, |h| h.min(n))),
                    Cmp::Eq => {}
                }
            }
            PartCond::In(values) => {
                let these: BTreeSet<i64> = values.iter().map(|v| i64::from(*v)).collect();
                set = Some(match set {
                    Some(s) => s.intersection(&these).copied().collect(),
                    None => these,
                });
            }
        }
        consumed.push(i);
        constrained = true;
    }
    if prefix.is_empty() && !constrained {
        return None;
    }
    let runs: Vec<(Option<i64>, Option<i64>)> = match set {
        Some(values) => {
            let mut runs: Vec<(Option<i64>, Option<i64>)> = Vec::new();
            let inside = values
                .into_iter()
                .filter(|v| lo.is_none_or(|lo| *v >= lo) && hi.is_none_or(|hi| *v <= hi));
            for v in inside {
                match runs.last_mut() {
                    Some((_, Some(end))) if *end + 1 == v => *end = v,
                    _ => runs.push((Some(v), Some(v))),
                }
            }
            runs
        }
        None if lo.zip(hi).is_some_and(|(lo, hi)| lo > hi) => Vec::new(),
        None => vec![(lo, hi)],
    };
    Some(run_plan(consumed, &prefix, next, runs, false))
}

/// One end of a run, as an instant.
enum End {
    At(DateTime<Utc>),
    Open,
    /// Outside chrono's range: dropped, which widens the interval (a superset).
    Overflow,
}

fn at(t: Option<DateTime<Utc>>) -> End {
    t.map_or(End::Overflow, End::At)
}

/// Turns runs `[a, b]` of values of `part` under `prefix` into instant intervals (`None` ends are
/// open: only the year is unbounded). With `whole_prefix`, the prefix names a single second.
fn run_plan(
    consumed: Vec<usize>,
    prefix: &[i64],
    part: DatePart,
    runs: Vec<(Option<i64>, Option<i64>)>,
    whole_prefix: bool,
) -> Plan {
    let mut exact = true;
    let mut intervals = Vec::new();
    for (a, b) in runs {
        let (lo, hi) = if whole_prefix {
            let s = start(prefix);
            (at(s), at(s.and_then(|t| next(t, DatePart::Second))))
        } else {
            let lo = match a {
                Some(a) => at(start(&with(prefix, a))),
                None => End::Open,
            };
            let hi = match b {
                Some(b) => at(start(&with(prefix, b)).and_then(|t| next(t, part))),
                None => End::Open,
            };
            (lo, hi)
        };
        let lo = match lo {
            End::At(t) => Bound::Incl(t),
            End::Open => Bound::Unbounded,
            End::Overflow => {
                exact = false;
                Bound::Unbounded
            }
        };
        let hi = match hi {
            End::At(t) => Bound::Excl(t),
            End::Open => Bound::Unbounded,
            End::Overflow => {
                exact = false;
                Bound::Unbounded
            }
        };
        intervals.push(Interval { lo, hi });
    }
    Plan {
        consumed,
        intervals,
        exact,
    }
}

fn with(prefix: &[i64], n: i64) -> Vec<i64> {
    let mut parts = prefix.to_vec();
    parts.push(n);
    parts
}

/// The first instant with the given leading parts (year, month, day, hour, minute, second).
fn start(parts: &[i64]) -> Option<DateTime<Utc>> {
    let part = |i: usize, default: u32| -> Option<u32> {
        parts
            .get(i)
            .map_or(Some(default), |n| u32::try_from(*n).ok())
    };
    let year = i32::try_from(*parts.first()?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, part(1, 1)?, part(2, 1)?)?;
    Some(
        date.and_hms_opt(part(3, 0)?, part(4, 0)?, part(5, 0)?)?
            .and_utc(),
    )
}

/// The first instant after the `part`-sized period starting at `t`.
fn next(t: DateTime<Utc>, part: DatePart) -> Option<DateTime<Utc>> {
    match part {
        DatePart::Year => t.checked_add_months(Months::new(12)),
        DatePart::Month => t.checked_add_months(Months::new(1)),
        DatePart::Day | DatePart::WeekDay => t.checked_add_signed(Duration::days(1)),
        DatePart::Hour => t.checked_add_signed(Duration::hours(1)),
        DatePart::Minute => t.checked_add_signed(Duration::minutes(1)),
        DatePart::Second => t.checked_add_signed(Duration::seconds(1)),
    }
}

/// The valid values of `part` given the earlier parts (`None`: unbounded).
fn domain(part: DatePart, prefix: &[i64]) -> (Option<i64>, Option<i64>) {
    match part {
        DatePart::Year => (None, None),
        DatePart::Month => (Some(1), Some(12)),
        DatePart::Day => (Some(1), Some(days_in_month(prefix))),
        DatePart::Hour => (Some(0), Some(23)),
        DatePart::Minute | DatePart::Second => (Some(0), Some(59)),
        DatePart::WeekDay => (Some(1), Some(7)),
    }
}

fn days_in_month(prefix: &[i64]) -> i64 {
    let first = start(prefix);
    let next_month = first.and_then(|t| next(t, DatePart::Month));
    match (first, next_month) {
        (Some(a), Some(b)) => (b - a).num_days(),
        _ => 31,
    }
}
