//! The record of each entity's CDMS mapping, and which rows were synced under an older one.
//!
//! `cdms_sync_mapping` holds, per entity set, one row per mapped property (its fingerprint: the
//! CRM attribute type, the local value kind, the null policy, whether a converter maps it) and
//! one row for the whole mapping (a SHA-256 over the property rows) with the current
//! **generation**. Every property row carries the generation in which it was last added or
//! changed.
//!
//! [`record`] compares an entity's mapping with the record. The first record of a set assumes
//! the rows already there were synced under the current mapping. A later difference starts a
//! new generation: new and changed properties get it, removed ones are forgotten (their column
//! stays, as a local column, unless a reviewed migration drops it), and when anything was added
//! or changed every local row with a CDMS id is listed as stale under the previous generation
//! (see [`crate::cdms::sync`]'s stale rows) — whatever its `modified` says. A row is stale for
//! the properties whose generation is newer than its own; the backfill
//! ([`super::backfill`]) fetches exactly those.
//!
//! Reading the record ([`pending`]) creates nothing, so `migrate --plan` and `--check` change
//! nothing.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cdms::meta::CdmsMeta;
use crate::cdms::sync::stale;
use crate::entity::{EntityMeta, FieldMeta, Row};
use crate::error::{Error, Result};
use crate::expr::{Cmp, Cond, Expr, Lookup, OrderKey};
use crate::store::sql::ddl;
use crate::store::{rows, Backend, Conn, Db, Pool, ReadSpec, Tx};
use crate::value::{Kind, Value};

static FIELDS: [FieldMeta; 7] = [
    FieldMeta::column("id", Kind::Int64).primary_key(),
    FieldMeta::column("record_key", Kind::Text).unique(),
    FieldMeta::column("entity", Kind::Text),
    FieldMeta::column("property", Kind::Text),
    FieldMeta::column("fingerprint", Kind::Text),
    FieldMeta::column("generation", Kind::Int64),
    FieldMeta::column("updated_at", Kind::DateTime),
];

/// `cdms_sync_mapping`: per entity set, one row per mapped property and one (property `""`)
/// for the whole mapping.
pub(crate) static MAPPING: EntityMeta = EntityMeta {
    name: "cdms_sync_mapping",
    table: "cdms_sync_mapping",
    fields: &FIELDS,
    pk: 0,
    modified: None,
    created: None,
    remote: None,
    sql: None,
};

const M_KEY: usize = 1;
const M_ENTITY: usize = 2;
const M_PROPERTY: usize = 3;
const M_FINGERPRINT: usize = 4;
const M_GENERATION: usize = 5;

/// Local rows read per statement when listing stale rows.
const LOCAL_CHUNK: u64 = 5_000;

/// The PostgreSQL advisory lock that serialises mapping records.
const RECORD_LOCK: i64 = 0x6364_6d73_6d61_7070;

/// The fingerprint of every mapped property of `meta` except the id and `ModifiedOn` (which
/// every sync fetches anyway), by property name.
pub fn fingerprints(meta: &'static CdmsMeta) -> BTreeMap<&'static str, String> {
    meta.fields
        .iter()
        .filter(|f| f.field != meta.id_field && Some(f.field) != meta.entity.modified)
        .map(|f| {
            let local = meta.entity.fields.get(f.field);
            let kind = local.map_or_else(|| "?".to_owned(), |l| format!("{:?}", l.kind));
            // Version 1 reads as before versions existed, so old records still match.
            let converter = match f.codec.map(|c| c.version) {
                None => String::new(),
                Some(1) => "; converter".to_owned(),
                Some(v) => format!("; converter v{v}"),
            };
            let null = match f.null {
                crate::cdms::meta::NullPolicy::Refuse => "",
                crate::cdms::meta::NullPolicy::Default => "; null = default",
            };
            let text = format!("{}; local {kind}{null}{converter}", f.kind.edm_type());
            (f.property, text)
        })
        .collect()
}

/// The fingerprint of the whole mapping: SHA-256 (hex) over its property fingerprints.
pub fn mapping_fingerprint(meta: &'static CdmsMeta) -> String {
    let mut hash = Sha256::new();
    for (p, f) in fingerprints(meta) {
        hash.update(p.as_bytes());
        hash.update(b"=");
        hash.update(f.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// How an entity's mapping compares with its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingChange {
    /// The local entity (`Organisation`).
    pub entity: &'static str,
    /// The CDMS set (`AccountSet`).
    pub set: &'static str,
    /// The mapping's generation after the comparison (1 for a first record).
    pub generation: i64,
    /// Whether this is the set's first record (nothing was recorded before).
    pub first: bool,
    /// Properties mapped since the record.
    pub added: Vec<String>,
    /// Properties mapped differently since the record (kind, converter, null policy).
    pub changed: Vec<String>,
    /// Properties no longer mapped (their columns are local columns from now on).
    pub removed: Vec<String>,
    /// Rows listed as stale by this comparison.
    pub stale_rows: u64,
}

impl MappingChange {
    /// Whether the mapping differs from the record in a way a backfill must fill.
    pub fn needs_backfill(&self) -> bool {
        let changed = !self.added.is_empty() || !self.changed.is_empty();
        !self.first && changed
    }

    /// Whether anything differs from the record.
    pub fn differs(&self) -> bool {
        let changed =
            !self.added.is_empty() || !self.changed.is_empty() || !self.removed.is_empty();
        !self.first && changed
    }
}

fn key(set: &str, property: &str) -> String {
    format!("{set}/{property}")
}

fn text_of(row: &Row, i: usize) -> String {
    match row.get(i) {
        Some(Value::Text(s)) => s.clone(),
        _ => String::new(),
    }
}

fn int_of(row: &Row, i: usize) -> i64 {
    match row.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

/// Creates the mapping and stale tables if they do not exist, inside `tx`.
pub(crate) async fn create(tx: &mut Tx) -> Result<()> {
    stale::create(tx).await?;
    let backend = tx.backend();
    let table = ddl::create_table(backend, &MAPPING);
    Conn::Tx(tx)
        .execute_plain(&table, MAPPING.name, "migrate")
        .await
}

/// Whether the mapping table exists (reading creates nothing).
async fn table_exists(db: &Db) -> Result<bool> {
    let err = |e| Error::db(MAPPING.name, "inspect", e);
    let found: Option<i64> = match db.pool() {
        Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
                .bind(MAPPING.table)
                .fetch_optional(p)
                .await
                .map_err(err)?
        }
        Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT 1::int8 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(MAPPING.table)
        .fetch_optional(p)
        .await
        .map_err(err)?,
    };
    Ok(found.is_some())
}

/// The recorded rows of `set`, by property (`""`: the whole mapping).
async fn recorded<'c>(conn: impl Into<Conn<'c>>, set: &str) -> Result<BTreeMap<String, Row>> {
    let spec = ReadSpec::filtered(
        &MAPPING,
        Expr::Cond(Cond {
            field: M_ENTITY,
            lookup: Lookup::Exact(Value::Text(set.to_owned())),
        }),
    );
    let found = rows::select(conn, &MAPPING, &spec).await?;
    Ok(found
        .into_iter()
        .map(|r| (text_of(&r, M_PROPERTY), r))
        .collect())
}

/// Compares `meta`'s mapping with the record `rows` (empty: nothing recorded).
fn compare(meta: &'static CdmsMeta, recorded: &BTreeMap<String, Row>) -> MappingChange {
    let now = fingerprints(meta);
    let first = recorded.is_empty();
    let generation = recorded.get("").map_or(0, |r| int_of(r, M_GENERATION));
    let mut change = MappingChange {
        entity: meta.entity.name,
        set: meta.set,
        generation: if first { 1 } else { generation },
        first,
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        stale_rows: 0,
    };
    if first {
        return change;
    }
    for (property, fp) in &now {
        match recorded.get(*property) {
            None => change.added.push((*property).to_owned()),
            Some(row) if text_of(row, M_FINGERPRINT) != *fp => {
                change.changed.push((*property).to_owned())
            }
            Some(_) => {}
        }
    }
    for property in recorded.keys() {
        if !property.is_empty() && !now.contains_key(property.as_str()) {
            change.removed.push(property.clone());
        }
    }
    if change.differs() {
        change.generation = generation + 1;
    }
    change
}

/// How `meta`'s mapping differs from its record, without changing anything: `None` when nothing
/// was recorded yet (the first `load`, `poll` or `backfill` records it).
pub async fn pending(db: &Db, meta: &'static CdmsMeta) -> Result<Option<MappingChange>> {
    if !table_exists(db).await? {
        return Ok(None);
    }
    let recorded = recorded(&db.skip_cdms(), meta.set).await?;
    let change = compare(meta, &recorded);
    Ok((!change.first).then_some(change))
}

fn mapping_row(set: &str, property: &str, fingerprint: &str, generation: i64) -> Row {
    vec![
        Value::Int(0),
        Value::Text(key(set, property)),
        Value::Text(set.to_owned()),
        Value::Text(property.to_owned()),
        Value::Text(fingerprint.to_owned()),
        Value::Int(generation),
        Value::DateTime(crate::store::now()),
    ]
}

/// Records `meta`'s mapping (see the module docs): a first record, or a new generation with
/// the rows synced before listed as stale. Nothing changes when the mapping equals the record.
pub async fn record(db: &Db, meta: &'static CdmsMeta) -> Result<MappingChange> {
    let mut tx = db.begin().await?;
    if tx.backend() == Backend::Postgres {
        let sql = format!("SELECT pg_advisory_xact_lock({RECORD_LOCK})");
        Conn::Tx(&mut tx)
            .execute_plain(&sql, MAPPING.name, "lock")
            .await?;
    }
    create(&mut tx).await?;
    let recorded = recorded(&mut tx, meta.set).await?;
    let mut change = compare(meta, &recorded);
    if !change.first && !change.differs() {
        let whole = recorded.get("").map(|r| text_of(r, M_FINGERPRINT));
        if whole.as_deref() == Some(mapping_fingerprint(meta).as_str()) {
            tx.rollback().await?;
            return Ok(change);
        }
    }
    let generation = change.generation;
    let mut batch = vec![mapping_row(
        meta.set,
        "",
        &mapping_fingerprint(meta),
        generation,
    )];
    for (property, fp) in fingerprints(meta) {
        let touched = change.first
            || change.added.iter().any(|p| p == property)
            || change.changed.iter().any(|p| p == property);
        if touched {
            batch.push(mapping_row(meta.set, property, &fp, generation));
        }
    }
    let update = [M_ENTITY, M_PROPERTY, M_FINGERPRINT, M_GENERATION, 6];
    rows::upsert(&mut tx, &MAPPING, M_KEY, &update, &mut batch).await?;
    let gone: Vec<i64> = change
        .removed
        .iter()
        .filter_map(|p| recorded.get(p).map(|r| int_of(r, 0)))
        .collect();
    if !gone.is_empty() {
        rows::delete_many(&mut tx, &MAPPING, &gone).await?;
    }
    if change.needs_backfill() {
        change.stale_rows = mark_all(&mut tx, meta, generation - 1).await?;
    }
    tx.commit().await?;
    if change.differs() {
        tracing::info!(
            entity = meta.entity.name,
            set = meta.set,
            generation,
            added = ?change.added,
            changed = ?change.changed,
            removed = ?change.removed,
            stale_rows = change.stale_rows,
            "the CDMS mapping changed"
        );
    }
    Ok(change)
}

/// Lists every local row of `meta` with a CDMS id as stale under `generation`.
async fn mark_all(tx: &mut Tx, meta: &'static CdmsMeta, generation: i64) -> Result<u64> {
    let entity = meta.entity;
    let mut after = i64::MIN;
    let mut marked = 0;
    loop {
        let spec = ReadSpec {
            order: vec![OrderKey::asc(entity.pk)],
            limit: Some(LOCAL_CHUNK),
            ..ReadSpec::filtered(
                entity,
                Expr::Cond(Cond {
                    field: entity.pk,
                    lookup: Lookup::Compare(Cmp::Gt, Value::Int(after)),
                }),
            )
        };
        let chunk =
            rows::select_columns(&mut *tx, entity, &spec, &[entity.pk, meta.id_field]).await?;
        let n = chunk.len() as u64;
        let mut ids: Vec<Uuid> = Vec::with_capacity(chunk.len());
        for row in chunk {
            if let Some(Value::Int(pk)) = row.first() {
                after = *pk;
            }
            if let Some(Value::Uuid(id)) = row.get(1) {
                ids.push(*id);
            }
        }
        marked += stale::mark(tx, meta.set, &ids, generation).await?;
        if n < LOCAL_CHUNK {
            return Ok(marked);
        }
    }
}

/// The properties of `set` added or changed after `generation`.
pub(crate) async fn properties_since<'c>(
    conn: impl Into<Conn<'c>>,
    set: &str,
    generation: i64,
) -> Result<Vec<String>> {
    let recorded = recorded(conn, set).await?;
    Ok(recorded
        .into_iter()
        .filter(|(p, r)| !p.is_empty() && int_of(r, M_GENERATION) > generation)
        .map(|(p, _)| p)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdms::test_fixtures::ORG_CDMS;

    #[test]
    fn fingerprints_name_kind_null_policy_and_converter() {
        let fps = fingerprints(&ORG_CDMS);
        assert!(!fps.contains_key(ORG_CDMS.id_property));
        let name = fps.get("Name").expect("Name is mapped");
        assert!(name.starts_with("Edm.String; local Text"), "{name}");
        assert_eq!(mapping_fingerprint(&ORG_CDMS).len(), 64);
        assert_eq!(
            mapping_fingerprint(&ORG_CDMS),
            mapping_fingerprint(&ORG_CDMS)
        );
    }

    #[test]
    fn a_first_record_is_generation_one_and_needs_nothing() {
        let change = compare(&ORG_CDMS, &BTreeMap::new());
        assert!(change.first);
        assert_eq!(change.generation, 1);
        assert!(!change.needs_backfill());
    }

    #[test]
    fn added_changed_and_removed_properties_start_a_generation() {
        let mut recorded: BTreeMap<String, Row> = BTreeMap::new();
        recorded.insert(String::new(), mapping_row("AccountSet", "", "x", 3));
        for (p, fp) in fingerprints(&ORG_CDMS) {
            if p == "Name" {
                continue;
            }
            recorded.insert(p.to_owned(), mapping_row("AccountSet", p, &fp, 1));
        }
        let first = recorded.keys().find(|k| !k.is_empty()).cloned().unwrap();
        recorded.insert(
            first.clone(),
            mapping_row("AccountSet", &first, "Edm.Int32; local Int32", 1),
        );
        recorded.insert(
            "Legacy".into(),
            mapping_row("AccountSet", "Legacy", "Edm.String; local Text", 1),
        );
        let change = compare(&ORG_CDMS, &recorded);
        assert_eq!(change.added, vec!["Name".to_owned()]);
        assert_eq!(change.changed, vec![first]);
        assert_eq!(change.removed, vec!["Legacy".to_owned()]);
        assert_eq!(change.generation, 4);
        assert!(change.needs_backfill());
    }
}
