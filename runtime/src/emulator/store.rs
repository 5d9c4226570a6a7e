//! In-memory storage of the emulated organisation.
//!
//! Per set, records live in a `BTreeMap` keyed by the primary key in the configured GUID order
//! ([`GuidOrder`]), so the default order and `$skiptoken` paging are range scans. A record is a
//! boxed slice of [`Cell`]s, one per property of the set's schema; strings carry their folded
//! (case/accent-insensitive) form computed once at write time, so filters never allocate per
//! record. Sorted key lists of `$orderby` queries, and the records sorted by a date property
//! for range reads, are cached per set until the next write.

use std::borrow::Borrow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use rust_decimal::Decimal;
use uuid::Uuid;

use super::collation;
use super::error::ApiError;
use super::schema::SetSchema;
use crate::cdms::wire;

/// How GUID keys (and `Edm.Guid` values) are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GuidOrder {
    /// SQL Server `uniqueidentifier` order (CRM's database): the last 6 bytes are most
    /// significant, then bytes 8–9, 6–7, 4–5 and 0–3 of the textual form. The default.
    #[default]
    SqlServer,
    /// Plain byte order of the textual form.
    Lexical,
}

impl GuidOrder {
    /// The 16-byte sort key of `id`.
    pub(crate) fn key(self, id: Uuid) -> Key {
        let b = id.as_bytes();
        match self {
            GuidOrder::Lexical => Key(*b),
            GuidOrder::SqlServer => Key([
                b[10], b[11], b[12], b[13], b[14], b[15], b[8], b[9], b[6], b[7], b[4], b[5], b[0],
                b[1], b[2], b[3],
            ]),
        }
    }

    /// The id of a sort key (inverse of [`GuidOrder::key`]).
    pub(crate) fn id(self, key: Key) -> Uuid {
        let k = key.0;
        match self {
            GuidOrder::Lexical => Uuid::from_bytes(k),
            GuidOrder::SqlServer => Uuid::from_bytes([
                k[12], k[13], k[14], k[15], k[10], k[11], k[8], k[9], k[6], k[7], k[0], k[1], k[2],
                k[3], k[4], k[5],
            ]),
        }
    }
}

/// A primary key in sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key(pub [u8; 16]);

/// A string value and its folded form.
#[derive(Debug, Clone)]
pub(crate) struct Text {
    pub raw: String,
    pub fold: String,
}

/// A lookup value.
#[derive(Debug, Clone)]
pub(crate) struct RefVal {
    pub id: Uuid,
    /// The target's logical name (lower case), when known.
    pub logical: Option<Arc<str>>,
}

/// One stored property value. Complex kinds store their `Value`/`Id`: Money → `Dec`,
/// OptionSetValue → `Int`, EntityReference → `Ref`; a complex value whose members are all null
/// is `Null`.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Dec(Decimal),
    /// Milliseconds since the epoch, UTC.
    Date(i64),
    Guid(Uuid),
    Text(Box<Text>),
    Ref(Box<RefVal>),
}

impl Cell {
    pub fn text(raw: String) -> Cell {
        let fold = collation::fold(&raw);
        Cell::Text(Box::new(Text { raw, fold }))
    }

    #[cfg(test)]
    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }
}

/// A record: one cell per schema property.
pub(crate) type Record = Box<[Cell]>;

/// Values computed from one generation of a set's records (sorted key lists), at most `N`, one
/// per key; a newer generation invalidates them all.
#[derive(Debug)]
pub(crate) struct GenerationCache<K, V, const N: usize> {
    entries: Mutex<VecDeque<(u64, K, Arc<V>)>>,
}

impl<K, V, const N: usize> Default for GenerationCache<K, V, N> {
    fn default() -> Self {
        GenerationCache {
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl<K: PartialEq, V, const N: usize> GenerationCache<K, V, N> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<(u64, K, Arc<V>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get<Q>(&self, generation: u64, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.lock()
            .iter()
            .find(|(g, k, _)| *g == generation && k.borrow() == key)
            .map(|(_, _, v)| Arc::clone(v))
    }

    pub fn put(&self, generation: u64, key: K, value: Arc<V>) {
        let mut entries = self.lock();
        // One entry per key: a value another request computed meanwhile is replaced (they are
        // equal).
        entries.retain(|(g, k, _)| *g == generation && *k != key);
        if entries.len() >= N {
            entries.pop_front();
        }
        entries.push_back((generation, key, value));
    }

    /// How many values are cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Sorted key lists of `$orderby` queries, by query.
pub(crate) type SortCache = GenerationCache<String, Vec<Key>, 8>;

/// The records of one set.
#[derive(Debug, Default)]
pub(crate) struct SetData {
    pub records: BTreeMap<Key, Record>,
    /// Bumped by every write; invalidates the sort cache.
    pub generation: u64,
    pub sort_cache: SortCache,
    /// Records sorted by a date property, for range reads ([`super::index`]); likewise.
    pub date_indexes: super::index::DateIndexes,
    last_version: i64,
}

impl SetData {
    fn touch(&mut self) {
        self.generation += 1;
    }

    fn next_version(&mut self) -> i64 {
        self.last_version += 1;
        self.last_version
    }
}

/// A validated write: the client-supplied key (create only) and property values.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub id: Option<Uuid>,
    pub cells: Vec<(usize, Cell)>,
}

/// All sets of the organisation.
#[derive(Debug)]
pub(crate) struct Store {
    pub sets: Vec<SetData>,
    pub order: GuidOrder,
}

impl Store {
    pub fn new(sets: usize, order: GuidOrder) -> Self {
        Store {
            sets: (0..sets).map(|_| SetData::default()).collect(),
            order,
        }
    }

    pub fn get(&self, set: usize, id: Uuid) -> Option<&Record> {
        self.sets[set].records.get(&self.order.key(id))
    }

    pub fn contains(&self, set: usize, id: Uuid) -> bool {
        self.get(set, id).is_some()
    }

    /// Creates a record; `now` is the server timestamp in ms.
    pub fn create(
        &mut self,
        schema: &SetSchema,
        set: usize,
        changes: Changes,
        now: i64,
    ) -> Result<Uuid, ApiError> {
        let id = changes.id.unwrap_or_else(Uuid::new_v4);
        let key = self.order.key(id);
        let data = &mut self.sets[set];
        if data.records.contains_key(&key) {
            return Err(duplicate_key(schema, id));
        }
        let mut cells: Vec<Cell> = vec![Cell::Null; schema.props.len()];
        for (i, cell) in changes.cells {
            cells[i] = cell;
        }
        cells[schema.id] = Cell::Guid(id);
        let created = schema
            .overridden_created
            .and_then(|i| match cells[i] {
                Cell::Date(ms) => Some(ms),
                _ => None,
            })
            .unwrap_or(now);
        cells[schema.created] = Cell::Date(created);
        cells[schema.modified] = Cell::Date(now);
        cells[schema.version] = Cell::Int(data.next_version());
        data.records.insert(key, cells.into_boxed_slice());
        data.touch();
        Ok(id)
    }

    /// Checks that none of `ids` exists yet (nor repeats), for all-or-nothing bulk inserts.
    pub fn check_new_ids(
        &self,
        schema: &SetSchema,
        set: usize,
        ids: impl Iterator<Item = Uuid>,
    ) -> Result<(), ApiError> {
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(id) || self.contains(set, id) {
                return Err(duplicate_key(schema, id));
            }
        }
        Ok(())
    }

    /// Applies a partial update (MERGE) or a replacement (PUT: every writable property absent
    /// from `changes` becomes null). `bump` stamps `ModifiedOn` and a new `VersionNumber`.
    pub fn update(
        &mut self,
        schema: &SetSchema,
        set: usize,
        id: Uuid,
        changes: Changes,
        replace: bool,
        bump: Option<i64>,
    ) -> Result<(), ApiError> {
        let key = self.order.key(id);
        let data = &mut self.sets[set];
        let version = data.last_version + 1;
        let record = data
            .records
            .get_mut(&key)
            .ok_or_else(|| ApiError::record_not_found(&schema.logical, id))?;
        if replace {
            for (i, prop) in schema.props.iter().enumerate() {
                if !prop.managed && i != schema.id {
                    record[i] = Cell::Null;
                }
            }
        }
        for (i, cell) in changes.cells {
            record[i] = cell;
        }
        if let Some(now) = bump {
            record[schema.modified] = Cell::Date(now);
            record[schema.version] = Cell::Int(version);
            data.last_version = version;
        }
        data.touch();
        Ok(())
    }

    /// Sets `ModifiedOn` to exactly `ms` (no other change).
    pub fn set_modified(
        &mut self,
        schema: &SetSchema,
        set: usize,
        id: Uuid,
        ms: i64,
    ) -> Result<(), ApiError> {
        let key = self.order.key(id);
        let data = &mut self.sets[set];
        let record = data
            .records
            .get_mut(&key)
            .ok_or_else(|| ApiError::record_not_found(&schema.logical, id))?;
        record[schema.modified] = Cell::Date(ms);
        data.touch();
        Ok(())
    }

    pub fn delete(&mut self, schema: &SetSchema, set: usize, id: Uuid) -> Result<(), ApiError> {
        let key = self.order.key(id);
        let data = &mut self.sets[set];
        data.records
            .remove(&key)
            .ok_or_else(|| ApiError::record_not_found(&schema.logical, id))?;
        data.touch();
        Ok(())
    }
}

fn duplicate_key(schema: &SetSchema, id: Uuid) -> ApiError {
    ApiError::platform(
        500,
        wire::CODE_DUPLICATE_KEY,
        format!(
            "Cannot insert duplicate key. A {} with id {id} already exists.",
            schema.logical
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::schema::SetSpec;

    #[test]
    fn the_sort_cache_keeps_one_list_per_query_of_the_current_generation() {
        let list = |n: u8| Arc::new(vec![Key([n; 16])]);
        let cache = SortCache::default();
        cache.put(1, "a".into(), list(1));
        cache.put(1, "b".into(), list(2));
        // Sorted twice concurrently: the second list replaces the first, taking no more room.
        cache.put(1, "a".into(), list(3));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(1, "a"), Some(list(3)));
        for q in 0..8 {
            cache.put(1, format!("q{q}"), list(q));
        }
        assert_eq!(cache.len(), 8);
        assert_eq!(cache.get(1, "b"), None, "the oldest entries make room");
        cache.put(2, "a".into(), list(4));
        assert_eq!(cache.len(), 1, "a write invalidates every list");
        assert_eq!(cache.get(1, "q0"), None);
    }

    #[test]
    fn sql_server_guid_order_round_trips_and_weights_the_last_group() {
        let order = GuidOrder::SqlServer;
        let a: Uuid = "ffffffff-ffff-ffff-ffff-000000000001".parse().unwrap();
        let b: Uuid = "00000000-0000-0000-0000-000000000002".parse().unwrap();
        let c: Uuid = "00000000-0000-0000-0100-000000000002".parse().unwrap();
        let d: Uuid = "00000000-0000-0001-0000-000000000002".parse().unwrap();
        assert!(order.key(a) < order.key(b));
        assert!(order.key(b) < order.key(d), "bytes 6-7 weigh less than 8-9");
        assert!(order.key(d) < order.key(c));
        for id in [a, b, c, d, Uuid::new_v4()] {
            assert_eq!(order.id(order.key(id)), id);
            assert_eq!(GuidOrder::Lexical.id(GuidOrder::Lexical.key(id)), id);
        }
        assert!(GuidOrder::Lexical.key(b) < GuidOrder::Lexical.key(a));
    }

    #[test]
    fn create_update_delete_keep_system_properties() {
        let schema = SetSchema::build(
            SetSpec::new("Account", "AccountId").property("Name", crate::cdms::CdmsKind::String),
        )
        .unwrap();
        let name = schema.prop("Name").unwrap();
        let mut store = Store::new(1, GuidOrder::SqlServer);
        let changes = Changes {
            id: None,
            cells: vec![(name, Cell::text("Acme".into()))],
        };
        let id = store.create(&schema, 0, changes, 1_000).unwrap();
        let dup = Changes {
            id: Some(id),
            cells: vec![],
        };
        assert_eq!(
            store.create(&schema, 0, dup, 1_000).unwrap_err().status,
            500
        );
        store
            .update(&schema, 0, id, Changes::default(), true, Some(2_000))
            .unwrap();
        let rec = store.get(0, id).unwrap();
        assert!(rec[name].is_null(), "PUT without Name nulls it");
        assert!(matches!(rec[schema.created], Cell::Date(1_000)));
        assert!(matches!(rec[schema.modified], Cell::Date(2_000)));
        assert!(matches!(rec[schema.version], Cell::Int(2)));
        assert!(matches!(rec[schema.id], Cell::Guid(g) if g == id));
        store.delete(&schema, 0, id).unwrap();
        assert_eq!(store.delete(&schema, 0, id).unwrap_err().status, 404);
    }
}
