//! Running a collection query: filter, order, `$skip`, `$top`, and one page of at most
//! `page_size` rows, with whether more rows follow.
//!
//! Without `$orderby` the rows come in primary-key order straight from the set's `BTreeMap`, and a
//! skip token resumes with a range scan after the last key: a page costs the rows it reads. With
//! `$orderby`, the filtered rows are sorted once (ties broken by key, ascending), the sorted key
//! list is cached until the set changes, and each page is a binary search plus a slice.
//!
//! In a large set, a filter that bounds a date property (`CreatedOn ge … and CreatedOn lt …`)
//! reads only the records in that range ([`super::index`]) instead of scanning the set, when
//! that reads fewer rows.
//!
//! Ordering follows SQL Server: nulls first ascending and last descending; strings by the folded
//! collation form; GUIDs in the configured [`GuidOrder`].

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::collation;
use super::filter::bind::Slot;
use super::filter::eval::{self, Read};
use super::filter::Pred;
use super::index;
use super::query::{OrderKey, Resume, SortVal};
use super::store::{Cell, GuidOrder, Key, Record, Store};

/// What to fetch.
pub(crate) struct Plan<'a> {
    pub filter: Option<&'a Pred>,
    /// `Some((lookup property, target set))`: the filter applies to the record the lookup
    /// points at (a condition on an expanded entity); an empty lookup never matches.
    pub via: Option<(usize, usize)>,
    pub order: &'a [OrderKey],
    pub top: Option<usize>,
    pub skip: usize,
    pub resume: Option<&'a Resume>,
    pub page_size: usize,
    /// Identifies the filter and ordering for the sort cache.
    pub cache_id: &'a str,
}

/// One page of keys, and whether rows remain after it.
#[derive(Debug)]
pub(crate) struct Page {
    pub keys: Vec<Key>,
    pub more: bool,
}

#[derive(Debug, Clone, Copy)]
enum SortRef<'a> {
    Null,
    Int(i64),
    Dec(Decimal),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    Date(i64),
    Guid(Key),
}

fn sort_ref(cells: &[Cell], slot: Slot, go: GuidOrder) -> SortRef<'_> {
    match eval::read(cells, slot) {
        Read::Null => SortRef::Null,
        Read::Logical(l) => SortRef::Str(l),
        Read::Guid(g) => SortRef::Guid(go.key(g)),
        Read::Cell(c) => match c {
            Cell::Int(i) => SortRef::Int(*i),
            Cell::Dec(d) => SortRef::Dec(*d),
            Cell::Float(f) => SortRef::Float(*f),
            Cell::Text(t) => SortRef::Str(&t.fold),
            Cell::Bool(b) => SortRef::Bool(*b),
            Cell::Date(ms) => SortRef::Date(*ms),
            Cell::Guid(g) => SortRef::Guid(go.key(*g)),
            Cell::Null | Cell::Ref(_) => SortRef::Null,
        },
    }
}

fn val_ref(v: &SortVal, go: GuidOrder) -> SortRef<'_> {
    match v {
        SortVal::Null => SortRef::Null,
        SortVal::Int(i) => SortRef::Int(*i),
        SortVal::Dec(d) => SortRef::Dec(*d),
        SortVal::Float(f) => SortRef::Float(*f),
        SortVal::Str(s) => SortRef::Str(s),
        SortVal::Bool(b) => SortRef::Bool(*b),
        SortVal::Date(ms) => SortRef::Date(*ms),
        SortVal::Guid(g) => SortRef::Guid(go.key(*g)),
    }
}

fn cmp_ref(a: SortRef<'_>, b: SortRef<'_>) -> Ordering {
    use SortRef::*;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Less,
        (_, Null) => Ordering::Greater,
        (Int(x), Int(y)) => x.cmp(&y),
        (Dec(x), Dec(y)) => x.cmp(&y),
        (Float(x), Float(y)) => x.total_cmp(&y),
        (Str(x), Str(y)) => collation::cmp_folded(x, y),
        (Bool(x), Bool(y)) => x.cmp(&y),
        (Date(x), Date(y)) => x.cmp(&y),
        (Guid(x), Guid(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    }
}

fn directed(ord: Ordering, desc: bool) -> Ordering {
    if desc {
        ord.reverse()
    } else {
        ord
    }
}

/// Orders a row against the resume point (the last row of the previous page).
fn cmp_resume(
    cells: &[Cell],
    key: Key,
    resume: &Resume,
    order: &[OrderKey],
    go: GuidOrder,
) -> Ordering {
    for (k, v) in order.iter().zip(&resume.vals) {
        let ord = cmp_ref(sort_ref(cells, k.slot, go), val_ref(v, go));
        if ord != Ordering::Equal {
            return directed(ord, k.desc);
        }
    }
    key.cmp(&go.key(resume.last))
}

/// The sort values of a row, for its skip token.
pub(crate) fn sort_vals(cells: &[Cell], order: &[OrderKey]) -> Vec<SortVal> {
    order
        .iter()
        .map(|k| match eval::read(cells, k.slot) {
            Read::Null => SortVal::Null,
            Read::Logical(l) => SortVal::Str(l.to_owned()),
            Read::Guid(g) => SortVal::Guid(g),
            Read::Cell(c) => match c {
                Cell::Int(i) => SortVal::Int(*i),
                Cell::Dec(d) => SortVal::Dec(*d),
                Cell::Float(f) => SortVal::Float(*f),
                Cell::Text(t) => SortVal::Str(t.fold.clone()),
                Cell::Bool(b) => SortVal::Bool(*b),
                Cell::Date(ms) => SortVal::Date(*ms),
                Cell::Guid(g) => SortVal::Guid(*g),
                Cell::Null | Cell::Ref(_) => SortVal::Null,
            },
        })
        .collect()
}

fn passes(store: &Store, plan: &Plan<'_>, record: &Record) -> bool {
    let Some(pred) = plan.filter else {
        return true;
    };
    match plan.via {
        None => eval::matches(pred, record),
        Some((prop, target)) => match &record[prop] {
            Cell::Ref(r) => store
                .get(target, r.id)
                .is_some_and(|related| eval::matches(pred, related)),
            _ => false,
        },
    }
}

/// Runs the query against one set.
pub(crate) fn run(store: &Store, set: usize, plan: &Plan<'_>) -> Page {
    let limit = plan.page_size.min(plan.top.unwrap_or(usize::MAX));
    if plan.order.is_empty() {
        by_key(store, set, plan, limit)
    } else {
        by_order(store, set, plan, limit)
    }
}

/// The records within the date range `plan`'s filter bounds ([`index`]), when the set is large
/// enough for a range read to pay.
fn range_read(store: &Store, set: usize, plan: &Plan<'_>) -> Option<index::Within> {
    let data = &store.sets[set];
    if plan.via.is_some() || data.records.len() < index::MIN_RECORDS {
        return None;
    }
    let range = index::date_range(plan.filter?)?;
    Some(index::within(data, range))
}

fn by_key(store: &Store, set: usize, plan: &Plan<'_>, limit: usize) -> Page {
    let records = &store.sets[set].records;
    let start = match plan.resume {
        Some(r) => Bound::Excluded(store.order.key(r.last)),
        None => Bound::Unbounded,
    };
    if let Some(within) = range_read(store, set, plan) {
        // A scan reads about `wanted × n ÷ m` rows to fill the page, the range read the `m`
        // rows in range (then sorts the matches by key): the cheaper one runs.
        let wanted = plan.skip.saturating_add(limit).saturating_add(1);
        if within.len().saturating_mul(within.len()) <= wanted.saturating_mul(records.len()) {
            let mut keys: Vec<Key> = within
                .keys()
                .filter(|k| std::ops::RangeBounds::contains(&(start, Bound::Unbounded), k))
                .filter(|k| records.get(k).is_some_and(|r| passes(store, plan, r)))
                .collect();
            keys.sort_unstable();
            let from = plan.skip.min(keys.len());
            let more = keys.len() - from > limit;
            keys.truncate(from.saturating_add(limit));
            keys.drain(..from);
            return Page { keys, more };
        }
    }
    let mut keys = Vec::with_capacity(limit.min(64));
    let mut skipped = 0;
    for (key, record) in records.range((start, Bound::Unbounded)) {
        if !passes(store, plan, record) {
            continue;
        }
        if skipped < plan.skip {
            skipped += 1;
            continue;
        }
        if keys.len() == limit {
            return Page { keys, more: true };
        }
        keys.push(*key);
    }
    Page { keys, more: false }
}

fn sorted_keys(store: &Store, set: usize, plan: &Plan<'_>) -> Arc<Vec<Key>> {
    let data = &store.sets[set];
    if let Some(keys) = data.sort_cache.get(data.generation, plan.cache_id) {
        return keys;
    }
    // Sorted without holding the cache: other queries of the set, cached ones included, are
    // served meanwhile (the set itself cannot change: the caller reads it under the store's
    // lock).
    let go = store.order;
    // Read every row's sort values once into one flat buffer, then sort row indices: no per-row
    // allocation, no repeated decoding while comparing.
    let width = plan.order.len();
    let mut keys_in_order = Vec::new();
    let mut vals: Vec<SortRef<'_>> = Vec::new();
    let within = range_read(store, set, plan);
    let rows: Box<dyn Iterator<Item = (&Key, &Record)>> = match &within {
        Some(w) => Box::new(w.keys().filter_map(|k| data.records.get_key_value(&k))),
        None => Box::new(data.records.iter()),
    };
    for (key, record) in rows.filter(|(_, r)| passes(store, plan, r)) {
        keys_in_order.push(*key);
        vals.extend(plan.order.iter().map(|k| sort_ref(record, k.slot, go)));
    }
    let mut rows: Vec<usize> = (0..keys_in_order.len()).collect();
    // Ties are broken by key, ascending (the rows may come in another order from a range read).
    rows.sort_unstable_by(|&a, &b| {
        let (va, vb) = (
            &vals[a * width..(a + 1) * width],
            &vals[b * width..(b + 1) * width],
        );
        for ((x, y), key) in va.iter().zip(vb).zip(plan.order) {
            let ord = cmp_ref(*x, *y);
            if ord != Ordering::Equal {
                return directed(ord, key.desc);
            }
        }
        keys_in_order[a].cmp(&keys_in_order[b])
    });
    let keys = Arc::new(
        rows.into_iter()
            .map(|i| keys_in_order[i])
            .collect::<Vec<_>>(),
    );
    data.sort_cache
        .put(data.generation, plan.cache_id.to_owned(), Arc::clone(&keys));
    keys
}

fn by_order(store: &Store, set: usize, plan: &Plan<'_>, limit: usize) -> Page {
    let sorted = sorted_keys(store, set, plan);
    let records = &store.sets[set].records;
    let start = match plan.resume {
        Some(resume) => sorted.partition_point(|k| match records.get(k) {
            Some(r) => cmp_resume(r, *k, resume, plan.order, store.order) != Ordering::Greater,
            None => true,
        }),
        None => 0,
    };
    let start = start.saturating_add(plan.skip).min(sorted.len());
    let end = start.saturating_add(limit).min(sorted.len());
    Page {
        keys: sorted[start..end].to_vec(),
        more: end < sorted.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdms::meta::CdmsKind;
    use crate::emulator::query::{decode_token, encode_token, orderby};
    use crate::emulator::schema::{SetSchema, SetSpec};
    use crate::emulator::store::Changes;

    /// A store of one set of `n` records with the properties `first` (record `i` holds
    /// `cell(i)`) and `N` (`num(i)`).
    fn store_of(
        first: (&str, CdmsKind),
        n: i64,
        cell: impl Fn(i64) -> Cell,
        num: impl Fn(i64) -> i64,
    ) -> (SetSchema, Store) {
        let schema = SetSchema::build(
            SetSpec::new("Account", "AccountId")
                .property(first.0, first.1)
                .property("N", CdmsKind::Int32),
        )
        .unwrap();
        let mut store = Store::new(1, GuidOrder::SqlServer);
        let (a, b) = (schema.prop(first.0).unwrap(), schema.prop("N").unwrap());
        for i in 0..n {
            let cells = vec![(a, cell(i)), (b, Cell::Int(num(i)))];
            store
                .create(&schema, 0, Changes { id: None, cells }, 0)
                .unwrap();
        }
        (schema, store)
    }

    fn setup(n: i64) -> (SetSchema, Store) {
        let name = |i: i64| {
            if i % 7 == 0 {
                Cell::Null
            } else {
                Cell::text(format!("n{:03}", i % 10))
            }
        };
        store_of(("Name", CdmsKind::String), n, name, |i| i)
    }

    /// Follows pages through skip tokens, as a client follows `__next`.
    fn all_pages(
        schema: &SetSchema,
        store: &Store,
        orderby_text: &str,
        filter: Option<&Pred>,
    ) -> Vec<Key> {
        // `filter|order` names the cache entry of a filtered read; the order follows the bar.
        let cache_id = orderby_text;
        let orderby_text = orderby_text.rsplit('|').next().unwrap_or_default();
        let order = if orderby_text.is_empty() {
            vec![]
        } else {
            orderby(schema, orderby_text).unwrap()
        };
        let mut out = Vec::new();
        let mut resume = None;
        loop {
            let plan = Plan {
                filter,
                via: None,
                order: &order,
                top: None,
                skip: 0,
                resume: resume.as_ref(),
                page_size: 50,
                cache_id,
            };
            let page = run(store, 0, &plan);
            assert!(page.keys.len() <= 50);
            out.extend(&page.keys);
            if !page.more {
                return out;
            }
            let last = *page.keys.last().unwrap();
            let cells = &store.sets[0].records[&last];
            let token = encode_token(
                1,
                "accountid",
                store.order.id(last),
                store.order.id(page.keys[0]),
                &sort_vals(cells, &order),
            );
            resume = Some(decode_token(&token, schema, &order).unwrap());
        }
    }

    #[test]
    fn key_order_paging_visits_every_row_once() {
        let (schema, store) = setup(237);
        let keys = all_pages(&schema, &store, "", None);
        assert_eq!(keys.len(), 237);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ordered_paging_with_ties_and_nulls() {
        let (schema, store) = setup(237);
        let keys = all_pages(&schema, &store, "Name desc", None);
        assert_eq!(keys.len(), 237);
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 237, "no row twice");
        let name = schema.prop("Name").unwrap();
        let names: Vec<Option<String>> = keys
            .iter()
            .map(|k| match &store.sets[0].records[k][name] {
                Cell::Text(t) => Some(t.raw.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names.first().unwrap().as_deref(), Some("n009"));
        assert!(
            names.last().unwrap().is_none(),
            "nulls last when descending"
        );
        let mut sorted = names.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(names, sorted, "descending, nulls last");
    }

    #[test]
    fn skip_top_and_filter() {
        let (schema, store) = setup(120);
        let pred = crate::emulator::filter::compile(&schema, "N ge 100").unwrap();
        let plan = Plan {
            filter: Some(&pred),
            via: None,
            order: &[],
            top: Some(5),
            skip: 3,
            resume: None,
            page_size: 50,
            cache_id: "",
        };
        let page = run(&store, 0, &plan);
        assert_eq!(page.keys.len(), 5);
        assert!(page.more);
        let order = orderby(&schema, "N desc").unwrap();
        let plan = Plan {
            filter: Some(&pred),
            via: None,
            order: &order,
            top: None,
            skip: 15,
            resume: None,
            page_size: 50,
            cache_id: "N desc",
        };
        let page = run(&store, 0, &plan);
        assert_eq!(page.keys.len(), 5);
        assert!(!page.more);
        let num = schema.prop("N").unwrap();
        assert!(matches!(
            store.sets[0].records[&page.keys[0]][num],
            Cell::Int(104)
        ));
        let plan = Plan {
            filter: None,
            via: None,
            order: &order,
            top: None,
            skip: 500,
            resume: None,
            page_size: 50,
            cache_id: "N desc",
        };
        assert!(run(&store, 0, &plan).keys.is_empty());
    }

    /// A set large enough for range reads: `Made` (a date with many ties, null in every 13th
    /// record) and `N`.
    fn dated(n: i64) -> (SetSchema, Store) {
        let made = |i: i64| {
            if i % 13 == 0 {
                Cell::Null
            } else {
                // Seconds from 2016-01-01, out of key order, ten records a second.
                Cell::Date(1_451_606_400_000 + ((i * 7_919) % n) / 10 * 1_000)
            }
        };
        store_of(("Made", CdmsKind::DateTime), n, made, |i| i % 17)
    }

    /// The filter's rows by brute force: every record, in `order` then key order.
    fn expected(store: &Store, pred: &Pred, order: &[OrderKey]) -> Vec<Key> {
        let mut rows: Vec<(&Key, &Record)> = store.sets[0]
            .records
            .iter()
            .filter(|(_, r)| eval::matches(pred, r))
            .collect();
        rows.sort_by(|(ka, a), (kb, b)| {
            for k in order {
                let ord = cmp_ref(
                    sort_ref(a, k.slot, store.order),
                    sort_ref(b, k.slot, store.order),
                );
                if ord != Ordering::Equal {
                    return directed(ord, k.desc);
                }
            }
            ka.cmp(kb)
        });
        rows.into_iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn a_date_range_reads_what_a_scan_reads() {
        let (schema, store) = dated(3_000);
        assert!(store.sets[0].records.len() >= index::MIN_RECORDS);
        let filters = [
            "Made ge datetime'2016-01-01T00:01:00' and Made lt datetime'2016-01-01T00:02:00'",
            "Made gt datetime'2016-01-01T00:01:00' and Made le datetime'2016-01-01T00:02:00' and N eq 3",
            "N ne 5 and Made lt datetime'2016-01-01T00:00:30'",
            "Made eq datetime'2016-01-01T00:03:20'",
            "Made ge datetime'2016-01-01T00:04:50'",
            "Made ge datetime'2016-01-01T00:02:00' and Made lt datetime'2016-01-01T00:01:00'",
        ];
        for text in filters {
            let pred = crate::emulator::filter::compile(&schema, text).unwrap();
            assert!(index::date_range(&pred).is_some(), "{text}");
            for orderby_text in ["", "Made asc", "Made desc", "N asc", "N desc, Made asc"] {
                let order = if orderby_text.is_empty() {
                    vec![]
                } else {
                    orderby(&schema, orderby_text).unwrap()
                };
                let want = expected(&store, &pred, &order);
                let got = all_pages(
                    &schema,
                    &store,
                    &format!("{text}|{orderby_text}"),
                    Some(&pred),
                );
                assert_eq!(got, want, "{text} ordered by {orderby_text:?}");
            }
            // A probe: the record after `skip` matching ones, in key order.
            let want = expected(&store, &pred, &[]);
            for skip in [0, 3, 250, 2_999] {
                let plan = Plan {
                    filter: Some(&pred),
                    via: None,
                    order: &[],
                    top: Some(1),
                    skip,
                    resume: None,
                    page_size: 50,
                    cache_id: "",
                };
                let page = run(&store, 0, &plan);
                assert_eq!(
                    page.keys,
                    want.iter().skip(skip).take(1).copied().collect::<Vec<_>>(),
                    "{text} $skip={skip}"
                );
                assert_eq!(page.more, want.len() > skip + 1, "{text} $skip={skip}");
            }
        }
        let built = store.sets[0].date_indexes.len();
        assert_eq!(built, 1, "one sorted list of Made served every range read");
    }
}
