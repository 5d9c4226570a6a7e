//! The quarantine: CDMS records that could not be applied locally, kept where people can see
//! them.
//!
//! One record that cannot be applied never blocks the others. A list read, a bulk load or a poll
//! that meets such a record (a null where the local field wants a value, a property absent from
//! the answer, a value of the wrong type, a value the local database refuses, a reference that
//! cannot be resolved, a local row newer than CDMS) skips it, applies every other record of the
//! page, and records the skipped one here in the same transaction: entity set, CDMS id, local
//! key, property, reason, the offending value (truncated), first and last seen, attempts. Each
//! skip is also a `tracing` warning naming the set, the CDMS id, the property and the value.
//! A later read, poll or load that applies the record clears its entry.
//!
//! The table (`cdms_sync_quarantine`) is created by the bulk engines' migration and, on first
//! use, by the remote itself.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::set_table::{KnownSets, SetTable};
use crate::cdms::CdmsError;
use crate::entity::{EntityMeta, FieldMeta, Row};
use crate::error::Result;
use crate::expr::{Cond, Expr, Lookup, OrderKey};
use crate::store::{rows, Db, ReadSpec, Tx};
use crate::value::{Kind, Value};

/// How many characters of an offending value, or of a reason, are kept.
const VALUE_CHARS: usize = 200;
const REASON_CHARS: usize = 1000;

static FIELDS: [FieldMeta; 11] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("record_key", Kind::Text).unique(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("cdms_id", Kind::Uuid).nullable(),
    FieldMeta::column("local_pk", Kind::Int64).nullable(),
    FieldMeta::column("property", Kind::Text).nullable(),
    FieldMeta::column("reason", Kind::Text),
    FieldMeta::column("value", Kind::Text).nullable(),
    FieldMeta::column("first_seen", Kind::DateTime),
    FieldMeta::column("last_seen", Kind::DateTime),
    FieldMeta::column("attempts", Kind::Int64),
];

/// `cdms_sync_quarantine`: one row per CDMS record that could not be applied.
pub(crate) static QUARANTINE: EntityMeta = EntityMeta {
    name: "cdms_sync_quarantine",
    table: "cdms_sync_quarantine",
    fields: &FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

const Q_KEY: usize = 1;
const Q_ENTITY: usize = 2;
const Q_FIRST_SEEN: usize = 8;
const Q_ATTEMPTS: usize = 10;

/// A CDMS record that could not be applied (what a refresh skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The CDMS entity set (`AccountSet`).
    pub set: &'static str,
    /// The record's CDMS id (`None` when the record carried no readable id).
    pub cdms_id: Option<Uuid>,
    /// The local primary key, when the record has a local row.
    pub pk: Option<i64>,
    /// The CDMS property at fault, when one is.
    pub property: Option<String>,
    /// Why it could not be applied.
    pub reason: String,
    /// The offending value, rendered and truncated.
    pub value: Option<String>,
}

impl Rejected {
    /// A rejection from a decode error of a record of `set`.
    pub(crate) fn from_cdms(set: &'static str, id: Option<Uuid>, e: &CdmsError) -> Rejected {
        match e {
            CdmsError::Decode {
                record,
                property,
                value,
                reason,
                ..
            } => Rejected {
                set,
                cdms_id: record.or(id),
                pk: None,
                property: (!property.is_empty()).then(|| property.clone()),
                reason: reason.clone(),
                value: Some(value.clone()),
            },
            other => Rejected {
                set,
                cdms_id: id,
                pk: None,
                property: None,
                reason: other.to_string(),
                value: None,
            },
        }
    }

    /// A rejection of record `id` for a reason that is not about one property.
    pub(crate) fn other(set: &'static str, id: Uuid, pk: Option<i64>, reason: String) -> Rejected {
        Rejected {
            set,
            cdms_id: Some(id),
            pk,
            property: None,
            reason,
            value: None,
        }
    }

    fn key(&self) -> String {
        let id = self.cdms_id.unwrap_or_else(Uuid::nil);
        format!("{}/{}", self.set, id.hyphenated())
    }

    pub(crate) fn warn(&self) {
        tracing::warn!(
            entity = self.set,
            cdms_id = %self.cdms_id.map(|u| u.hyphenated().to_string()).unwrap_or_else(|| "(none)".into()),
            pk = ?self.pk,
            property = self.property.as_deref().unwrap_or(""),
            value = self.value.as_deref().unwrap_or(""),
            reason = %self.reason,
            "a CDMS record could not be applied; quarantined, the others go on"
        );
    }
}

/// An entry of the quarantine, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// The CDMS entity set (`AccountSet`).
    pub entity: String,
    /// The record's CDMS id (`None` when the record carried no readable id).
    pub cdms_id: Option<Uuid>,
    /// The local primary key, when the record has a local row.
    pub local_pk: Option<i64>,
    /// The CDMS property at fault, when one is.
    pub property: Option<String>,
    /// Why the record could not be applied.
    pub reason: String,
    /// The offending value (truncated).
    pub value: Option<String>,
    /// When a sync first met the problem.
    pub first_seen: DateTime<Utc>,
    /// When a sync last met it.
    pub last_seen: DateTime<Utc>,
    /// How many times a sync met it.
    pub attempts: i64,
}

/// Text safe to store on every backend (PostgreSQL refuses U+0000 in text), at most `max`
/// characters.
fn storable(text: &str, max: usize) -> String {
    crate::cdms::excerpt(text, max).replace('\0', "\\u0000")
}

fn text(v: Option<&String>) -> Value {
    v.map_or(Value::Null, |s| Value::Text(s.clone()))
}

fn take_text(row: &[Value], i: usize) -> Option<String> {
    match row.get(i) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

fn take_time(row: &[Value], i: usize) -> DateTime<Utc> {
    match row.get(i) {
        Some(Value::DateTime(t)) => *t,
        _ => DateTime::<Utc>::UNIX_EPOCH,
    }
}

fn take_int(row: &[Value], i: usize) -> Option<i64> {
    match row.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

impl Quarantined {
    fn from_row(row: &[Value]) -> Quarantined {
        Quarantined {
            entity: take_text(row, Q_ENTITY).unwrap_or_default(),
            cdms_id: match row.get(3) {
                Some(Value::Uuid(u)) if !u.is_nil() => Some(*u),
                _ => None,
            },
            local_pk: take_int(row, 4),
            property: take_text(row, 5),
            reason: take_text(row, 6).unwrap_or_default(),
            value: take_text(row, 7),
            first_seen: take_time(row, Q_FIRST_SEEN),
            last_seen: take_time(row, 9),
            attempts: take_int(row, Q_ATTEMPTS).unwrap_or(0),
        }
    }
}

/// The table, for creating it and for what a remote knows of it.
const TABLE: SetTable = SetTable {
    meta: &QUARANTINE,
    set_field: Q_ENTITY,
    create_lock: 0x6364_6d73_7175_6172,
};

/// Creates the table and its index if they do not exist, inside `tx`.
pub(crate) async fn create(tx: &mut Tx) -> Result<()> {
    TABLE.create(tx).await
}

/// What a remote knows about the quarantine tables of the databases it is used with.
#[derive(Default)]
pub(crate) struct QuarantineState {
    known: KnownSets,
}

impl QuarantineState {
    /// Creates the table in `db` the first time, and learns which sets have entries.
    pub(crate) async fn ensure(&self, db: &Db) -> Result<()> {
        self.known.ensure(db, &TABLE).await
    }

    pub(crate) fn may_have(&self, db: &Db, set: &str) -> bool {
        self.known.contains(db, set)
    }

    /// Records `items` inside `tx` (attempts counted, first seen kept) and logs each.
    pub(crate) async fn record(&self, tx: &mut Tx, items: &[Rejected]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let db = tx.db().clone();
        if !self.known.is_ready(&db) {
            // Not through `ensure`: that would start a second transaction while `tx` is open.
            create(tx).await?;
        }
        for r in items {
            r.warn();
            self.known.insert(&db, r.set);
        }
        let keys: Vec<Value> = items.iter().map(|r| Value::Text(r.key())).collect();
        let spec = ReadSpec::filtered(
            &QUARANTINE,
            Expr::Cond(Cond {
                field: Q_KEY,
                lookup: Lookup::In(keys),
            }),
        );
        let mut known: HashMap<String, (DateTime<Utc>, i64)> = HashMap::new();
        for row in rows::select(&mut *tx, &QUARANTINE, &spec).await? {
            if let Some(k) = take_text(&row, Q_KEY) {
                let attempts = take_int(&row, Q_ATTEMPTS).unwrap_or(0);
                known.insert(k, (take_time(&row, Q_FIRST_SEEN), attempts));
            }
        }
        let now = crate::store::now();
        let mut batch: Vec<Row> = Vec::with_capacity(items.len());
        for r in items {
            let key = r.key();
            let (first, attempts) = known.get(&key).copied().unwrap_or((now, 0));
            // The same record twice in one batch counts once.
            known.insert(key.clone(), (first, attempts));
            batch.push(vec![
                Value::Int(0),
                Value::Text(key),
                Value::Text(r.set.to_owned()),
                Value::Uuid(r.cdms_id.unwrap_or_else(Uuid::nil)),
                r.pk.map_or(Value::Null, Value::Int),
                text(r.property.as_ref()),
                Value::Text(storable(&r.reason, REASON_CHARS)),
                r.value
                    .as_deref()
                    .map_or(Value::Null, |v| Value::Text(storable(v, VALUE_CHARS))),
                Value::DateTime(first),
                Value::DateTime(now),
                Value::Int(attempts + 1),
            ]);
        }
        let update: Vec<usize> = (2..FIELDS.len()).collect();
        rows::upsert(tx, &QUARANTINE, Q_KEY, &update, &mut batch).await?;
        Ok(())
    }

    /// After an apply inside `tx`: records what was rejected (`stats.rejected` and `extra`, e.g.
    /// records of the page that did not decode) and clears the entries of the records of `set`
    /// that were applied or found in sync.
    pub(crate) async fn after_apply(
        &self,
        tx: &mut Tx,
        set: &str,
        stats: &super::ApplyStats,
        extra: &[Rejected],
    ) -> Result<()> {
        let mut all: Vec<Rejected> = extra.to_vec();
        all.extend(stats.rejected.iter().cloned());
        let bad: HashSet<Uuid> = all.iter().filter_map(|r| r.cdms_id).collect();
        let good: Vec<Uuid> = stats
            .keys
            .keys()
            .filter(|id| !bad.contains(id))
            .copied()
            .collect();
        self.clear(tx, set, &good).await?;
        self.record(tx, &all).await
    }

    /// Clears the entries of records `ids` of `set` (they were applied), inside `tx`.
    pub(crate) async fn clear(&self, tx: &mut Tx, set: &str, ids: &[Uuid]) -> Result<u64> {
        if ids.is_empty() || !self.may_have(tx.db(), set) {
            return Ok(0);
        }
        let keys: Vec<Value> = ids
            .iter()
            .map(|id| Value::Text(format!("{set}/{}", id.hyphenated())))
            .collect();
        let mut cleared = 0;
        for chunk in keys.chunks(500) {
            let found = rows::find_pks(&mut *tx, &QUARANTINE, Q_KEY, chunk).await?;
            let pks: Vec<i64> = found.into_iter().map(|(_, pk)| pk).collect();
            if !pks.is_empty() {
                cleared += rows::delete_many(tx, &QUARANTINE, &pks).await?;
            }
        }
        Ok(cleared)
    }

    /// Every entry (of `set` only, when given), by set and CDMS id.
    pub(crate) async fn list(&self, db: &Db, set: Option<&str>) -> Result<Vec<Quarantined>> {
        self.ensure(db).await?;
        let expr = match set {
            Some(s) => Expr::Cond(Cond {
                field: Q_ENTITY,
                lookup: Lookup::Exact(Value::Text(s.to_owned())),
            }),
            None => Expr::All,
        };
        let spec = ReadSpec {
            order: vec![OrderKey::asc(Q_ENTITY), OrderKey::asc(Q_KEY)],
            ..ReadSpec::filtered(&QUARANTINE, expr)
        };
        let found = rows::select(&db.skip_cdms(), &QUARANTINE, &spec).await?;
        Ok(found.iter().map(|r| Quarantined::from_row(r)).collect())
    }
}

/// Records one rejected record in its own short transaction (a failed single-record read,
/// whose own transaction rolled back). Failing to record is logged, never returned: the
/// caller's error is the one that matters.
pub(crate) async fn record_alone(state: &QuarantineState, db: &Db, item: Rejected) {
    let result: Result<()> = async {
        let mut tx = db.begin().await?;
        state.record(&mut tx, std::slice::from_ref(&item)).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(entity = item.set, error = %e, "could not record a quarantined record");
    }
}
