//! Re-modelling a synced entity after months of sync: v1 loaded, v2 adds two mapped fields, a
//! local-only field and an index, removes a mapped field and renames one. The plan shows exactly
//! that; the risky steps are refused until they come from a reviewed file; the mapping change
//! makes the loaded rows stale; a synced read refreshes a stale row; the backfill fetches only
//! the new properties (one bad record quarantined, the others go on) and every row then equals
//! CDMS, with `status` and the drift report clean.

use std::collections::HashMap;
use std::time::Duration;

use cdms_runtime::cdms::bulk::{
    self, backfill, mapping, BackfillReport, Backfiller, LoadOptions, Loader,
};
use cdms_runtime::cdms::{codec, CdmsMeta, Synced};
use cdms_runtime::emulator::{Clock, RequestRecord};
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::schema::{MigrationError, Step};
use cdms_runtime::store::{normalize, rows, truncate_micros, Backend, Param, ReadSpec};
use cdms_runtime::{Entity, Error, Kind, Value};
use cdms_tests::bulk_support::{backends, BulkEnv};
use chrono::{DateTime, Utc};
use serde_json::{json, Value as J};
use uuid::Uuid;

mod v1 {
    use cdms_runtime::{CdmsSynced, Entity};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    #[derive(Debug, Clone, Entity, CdmsSynced)]
    #[entity(table = "remodel_org")]
    #[cdms(service = "Account")]
    pub struct Org {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(unique)]
        #[cdms(field = "AccountId", id)]
        pub cdms_id: Option<Uuid>,
        #[entity(modified)]
        pub modified_on: DateTime<Utc>,
        #[entity(created)]
        pub created_on: Option<DateTime<Utc>>,
        #[cdms(field = "Name", null = default)]
        pub name: String,
        #[cdms(field = "Address1_City")]
        pub city: Option<String>,
        #[cdms(field = "AccountNumber")]
        pub account_number: Option<String>,
    }
}

mod v2 {
    use cdms_runtime::{CdmsSynced, Entity};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    #[derive(Debug, Clone, Entity, CdmsSynced)]
    #[entity(table = "remodel_org")]
    #[cdms(service = "Account")]
    pub struct Org {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(unique)]
        #[cdms(field = "AccountId", id)]
        pub cdms_id: Option<Uuid>,
        #[entity(modified)]
        pub modified_on: DateTime<Utc>,
        #[entity(created)]
        pub created_on: Option<DateTime<Utc>>,
        #[entity(index)]
        #[cdms(field = "Name", null = default)]
        pub name: String,
        #[entity(renamed_from = "city")]
        #[cdms(field = "Address1_City")]
        pub town: Option<String>,
        #[cdms(field = "Telephone1")]
        pub telephone: Option<String>,
        #[cdms(field = "NumberOfEmployees")]
        pub employees: Option<i32>,
        #[cdms(skip)]
        pub notes: Option<String>,
    }
}

/// City converters: v1 upper-cases, v2 lower-cases (and says so with its version).
mod city {
    /// A CDMS string through `f`; null stays null.
    pub fn from_cdms(
        json: &serde_json::Value,
        f: fn(&str) -> String,
    ) -> Result<Option<String>, String> {
        match json {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Ok(Some(f(s))),
            other => Err(format!("not a string: {other}")),
        }
    }

    pub fn to_cdms(value: &Option<String>) -> serde_json::Value {
        value
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String)
    }
}

mod upper {
    use cdms_runtime::cdms::CdmsKind;
    pub const KIND: CdmsKind = CdmsKind::String;
    pub fn from_cdms(json: &serde_json::Value) -> Result<Option<String>, String> {
        super::city::from_cdms(json, str::to_uppercase)
    }
    pub use super::city::to_cdms;
}

mod lower {
    use cdms_runtime::cdms::CdmsKind;
    pub const KIND: CdmsKind = CdmsKind::String;
    pub fn from_cdms(json: &serde_json::Value) -> Result<Option<String>, String> {
        super::city::from_cdms(json, str::to_lowercase)
    }
    pub use super::city::to_cdms;
}

mod conv_v1 {
    use cdms_runtime::{CdmsSynced, Entity};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    #[derive(Debug, Clone, Entity, CdmsSynced)]
    #[entity(table = "conv_org")]
    #[cdms(service = "Account")]
    pub struct Org {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(unique)]
        #[cdms(field = "AccountId", id)]
        pub cdms_id: Option<Uuid>,
        #[entity(modified)]
        pub modified_on: DateTime<Utc>,
        #[cdms(field = "Name", null = default)]
        pub name: String,
        #[cdms(field = "Address1_City", with = super::upper)]
        pub city: Option<String>,
    }
}

mod conv_v2 {
    use cdms_runtime::{CdmsSynced, Entity};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    #[derive(Debug, Clone, Entity, CdmsSynced)]
    #[entity(table = "conv_org")]
    #[cdms(service = "Account")]
    pub struct Org {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(unique)]
        #[cdms(field = "AccountId", id)]
        pub cdms_id: Option<Uuid>,
        #[entity(modified)]
        pub modified_on: DateTime<Utc>,
        #[cdms(field = "Name", null = default)]
        pub name: String,
        #[cdms(field = "Address1_City", with = super::lower, version = 2)]
        pub city: Option<String>,
    }
}

/// 2020-03-02T10:00:00Z: after every demo record's `ModifiedOn`.
fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_583_143_200, 0).unwrap_or_default()
}

fn options() -> LoadOptions {
    LoadOptions {
        partitions: 4,
        concurrency: 3,
        pages_per_commit: 1,
        ..LoadOptions::default()
    }
}

fn described(steps: &[Step]) -> Vec<String> {
    let mut out: Vec<String> = steps.iter().map(ToString::to_string).collect();
    out.sort();
    out
}

fn refused(err: &Error) -> Option<&[Step]> {
    match err {
        Error::Migration(e) => match e.as_ref() {
            MigrationError::Refused { steps } => Some(steps),
            _ => None,
        },
        _ => None,
    }
}

/// Every CDMS record of the set against its local row, through `meta`'s mapping.
fn differences(env: &BulkEnv, meta: &'static CdmsMeta, local: &[cdms_runtime::Row]) -> Vec<String> {
    let by_id: HashMap<Uuid, &cdms_runtime::Row> = local
        .iter()
        .filter_map(|r| match r.get(meta.id_field) {
            Some(Value::Uuid(u)) => Some((*u, r)),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    let ids = env.emulator().ids(meta.set);
    if ids.len() != local.len() {
        problems.push(format!("{} in CDMS, {} local", ids.len(), local.len()));
    }
    for id in ids {
        let record = env.emulator().get(meta.set, id).expect("record");
        let decoded = codec::decode(meta, &J::Object(record)).expect("decode");
        let Some(row) = by_id.get(&id) else {
            problems.push(format!("{id}: missing locally"));
            continue;
        };
        let modified = meta.entity.modified.expect("modified");
        if row[modified] != Value::DateTime(truncate_micros(decoded.modified)) {
            problems.push(format!("{id}: modified {:?}", row[modified]));
        }
        for (field, value) in &decoded.values {
            if normalize(value.clone()) != row[*field] {
                problems.push(format!(
                    "{id}: {} is {} locally, {value} in CDMS",
                    meta.entity.fields[*field].name, row[*field]
                ));
            }
        }
    }
    problems
}

async fn all_rows(env: &BulkEnv, meta: &'static CdmsMeta) -> Vec<cdms_runtime::Row> {
    rows::select(env.db(), meta.entity, &ReadSpec::all(meta.entity))
        .await
        .expect("select")
}

/// The `$select` of every listing of the set.
fn selects(log: &[RequestRecord]) -> Vec<String> {
    log.iter()
        .filter(|r| r.path.ends_with("AccountSet"))
        .filter_map(|r| {
            let query = r
                .query
                .replace("%24", "$")
                .replace("%2C", ",")
                .replace("%2c", ",");
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("$select="))
                .map(str::to_owned)
        })
        .collect()
}

fn set_modified(db: &cdms_runtime::Db) -> String {
    match db.backend() {
        Backend::Sqlite => "UPDATE remodel_org SET modified_on = ? WHERE id = ?".to_owned(),
        Backend::Postgres => "UPDATE remodel_org SET modified_on = $1 WHERE id = $2".to_owned(),
    }
}

fn entity(report: &BackfillReport) -> &bulk::EntityBackfill {
    report.entities.first().expect("one entity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_remodel_v1_to_v2_plan_migrate_backfill_clean() {
    for local in backends().await {
        let label = local.label;
        let env = BulkEnv::new(local, 120, Clock::manual(start()), |b| b).await;
        let db = env.db().clone();
        let v1_meta = v1::Org::CDMS;
        let v2_meta = v2::Org::CDMS;

        // v1: migrate and load.
        db.migrate(&[v1::Org::META]).await.expect("migrate v1");
        let report = Loader::new(env.bulk("loader"), options())
            .run(&[v1_meta])
            .await
            .expect("load v1");
        assert!(report.complete(), "[{label}] {report:?}");
        assert!(
            report.backfill.is_none(),
            "[{label}] a first load records the mapping"
        );
        let loaded = all_rows(&env, v1_meta).await;
        assert_eq!(
            differences(&env, v1_meta, &loaded),
            Vec::<String>::new(),
            "[{label}]"
        );
        assert_eq!(
            mapping::pending(&db, v1_meta)
                .await
                .unwrap()
                .map(|c| c.differs()),
            Some(false),
            "[{label}] v1 is recorded"
        );

        // Months later, in CDMS: one record edited after the load.
        let ids = env.emulator().ids("AccountSet");
        let edited = ids[3];
        env.clock.advance(Duration::from_secs(60));
        env.emulator()
            .update(
                "AccountSet",
                edited,
                json!({"Telephone1": "+44 20 7946 0000", "Name": "Edited Ltd"}),
            )
            .expect("edit");

        // v2: the plan shows exactly the re-modelling.
        let v2_entities = [v2::Org::META];
        let plan = db.plan(&v2_entities).await.expect("plan");
        assert_eq!(
            described(&plan.steps),
            [
                "add column remodel_org.employees",
                "add column remodel_org.notes",
                "add column remodel_org.telephone",
                "create index on remodel_org (name)",
                "drop column remodel_org.account_number",
                "rename column remodel_org.city to town",
            ],
            "[{label}]"
        );
        let pending = mapping::pending(&db, v2_meta)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(
            pending.added,
            ["NumberOfEmployees", "Telephone1"],
            "[{label}]"
        );
        assert_eq!(pending.removed, ["AccountNumber"], "[{label}]");
        assert!(
            pending.changed.is_empty() && pending.needs_backfill(),
            "[{label}]"
        );

        // Destructive steps are refused without a migration file; nothing changes.
        let err = db.migrate(&v2_entities).await.expect_err("refused");
        let steps = refused(&err).unwrap_or_else(|| panic!("[{label}] {err}"));
        assert_eq!(
            described(steps),
            [
                "drop column remodel_org.account_number",
                "rename column remodel_org.city to town",
            ],
            "[{label}]"
        );
        assert_eq!(db.plan(&v2_entities).await.unwrap().steps.len(), 6);

        // Drift: the entities differ from the live schema.
        let dir = tempfile::tempdir().unwrap();
        let drift = db.drift(Some(dir.path()), &v2_entities).await.unwrap();
        assert!(
            !drift.is_clean() && drift.schema.len() == 6,
            "[{label}] {drift}"
        );

        // The reviewed file: written, applied, recorded; the renamed column keeps its values.
        cdms_runtime::store::schema::files::write(&plan, dir.path(), "remodel org v2")
            .unwrap()
            .expect("a file");
        db.apply_migrations(dir.path()).await.expect("apply");
        let drift = db.drift(Some(dir.path()), &v2_entities).await.unwrap();
        assert!(drift.is_clean(), "[{label}] {drift}");
        let before = v2::Org::objects(&db).skip_cdms().all().await.unwrap();
        assert!(before
            .iter()
            .all(|o| o.telephone.is_none() && o.employees.is_none()));
        assert!(
            before.iter().any(|o| o.town.is_some()),
            "[{label}] towns kept"
        );

        // A local-only value, saved locally, survives everything below (and keeps the row's
        // `modified`: it is not newer than CDMS).
        let kept_pk = before[0].id;
        let mut noted = before[0].clone();
        noted.notes = Some("local note".into());
        noted
            .save(&db.skip_cdms())
            .await
            .expect("a local-only value");

        // Recording v2's mapping lists every loaded row as stale.
        let bulk = env.bulk("status");
        let status = bulk::status(&bulk, &[v2_meta], 3).await.expect("status");
        let s = &status.entities[0];
        assert_eq!(s.stale, ids.len() as u64, "[{label}] {status}");
        assert_eq!(
            s.stale_properties,
            ["NumberOfEmployees", "Telephone1"],
            "[{label}]"
        );
        assert!(status.drift() && status.to_string().contains("cdms-sync backfill"));

        // A synced read of a stale row refreshes it, although its `modified` equals CDMS's.
        let read_id = ids[7];
        let synced = env.remote.attach(&db);
        let read = v2::Org::objects(&synced)
            .filter(v2::Org::fields().cdms_id.eq(read_id))
            .get()
            .await
            .expect("synced get");
        let cdms = env.emulator().get("AccountSet", read_id).unwrap();
        assert_eq!(
            read.telephone.as_deref(),
            cdms["Telephone1"].as_str(),
            "[{label}]"
        );

        // One bad row: newer locally than CDMS. The backfill quarantines it, the others go on.
        let bad_id = ids[11];
        let bad = v2::Org::objects(&db)
            .skip_cdms()
            .filter(v2::Org::fields().cdms_id.eq(bad_id))
            .get()
            .await
            .unwrap();
        let later = bad.modified_on + chrono::Duration::hours(1);
        db.execute_raw(
            &set_modified(&db),
            &[
                Param::new(Value::DateTime(later), Kind::DateTime),
                Param::new(Value::Int(bad.id), Kind::Int64),
            ],
        )
        .await
        .expect("make one row newer locally");

        env.emulator().reset_log();
        let report = Backfiller::new(env.bulk("backfiller"), options())
            .run(&[v2_meta])
            .await
            .expect("backfill");
        let e = entity(&report);
        assert_eq!(
            e.properties,
            ["NumberOfEmployees", "Telephone1"],
            "[{label}]"
        );
        assert_eq!(
            e.stale_before,
            ids.len() as u64 - 1,
            "[{label}] the read settled one"
        );
        let quarantine = env.remote.quarantine(&db).await.unwrap();
        assert_eq!(e.stale_left, 1, "[{label}] {e:?} {quarantine:?}");
        assert_eq!(e.quarantined, 1, "[{label}] {e:?}");
        assert!(
            e.complete && e.records == ids.len() as u64,
            "[{label}] {e:?}"
        );
        // Only the id, ModifiedOn and the new properties were asked for (besides the edited
        // record, fetched whole by id).
        let log = env.emulator().requests();
        let narrowed: Vec<String> = selects(&log)
            .into_iter()
            .filter(|s| s.contains("Telephone1"))
            .collect();
        assert!(!narrowed.is_empty());
        assert!(
            narrowed.iter().filter(|s| !s.contains("Name")).count() >= narrowed.len() - 1,
            "[{label}] {narrowed:?}"
        );
        assert!(
            narrowed
                .iter()
                .any(|s| s == "AccountId,ModifiedOn,Telephone1,NumberOfEmployees"
                    || s == "AccountId,ModifiedOn,NumberOfEmployees,Telephone1"),
            "[{label}] {narrowed:?}"
        );

        // The bad row: put back, and a second run settles it.
        db.execute_raw(
            &set_modified(&db),
            &[
                Param::new(Value::DateTime(bad.modified_on), Kind::DateTime),
                Param::new(Value::Int(bad.id), Kind::Int64),
            ],
        )
        .await
        .unwrap();
        let again = Backfiller::new(env.bulk("backfiller"), options())
            .run(&[v2_meta])
            .await
            .expect("backfill again");
        assert!(again.complete(), "[{label}] {again:?}");
        assert_eq!(entity(&again).stale_left, 0);

        // Every row equals CDMS; the local-only value is kept; status is clean.
        let now = all_rows(&env, v2_meta).await;
        assert_eq!(
            differences(&env, v2_meta, &now),
            Vec::<String>::new(),
            "[{label}]"
        );
        let kept = v2::Org::objects(&db)
            .skip_cdms()
            .filter(v2::Org::fields().id.eq(kept_pk))
            .get()
            .await
            .unwrap();
        assert_eq!(kept.notes.as_deref(), Some("local note"), "[{label}]");
        let edited_row = v2::Org::objects(&db)
            .skip_cdms()
            .filter(v2::Org::fields().cdms_id.eq(edited))
            .get()
            .await
            .unwrap();
        assert_eq!(
            edited_row.name, "Edited Ltd",
            "[{label}] edited in CDMS: fetched whole"
        );
        let status = bulk::status(&bulk, &[v2_meta], 3).await.expect("status");
        assert!(!status.drift(), "[{label}] {status}");
        let drift = db.drift(Some(dir.path()), &v2_entities).await.unwrap();
        assert!(drift.is_clean(), "[{label}] {drift}");

        // Changed rows have a version by the backfill; an up-to-date store needs no more.
        let versions = cdms_runtime::store::history::versions(
            &db,
            v2::Org::META,
            now.iter()
                .find(|r| r[1] == Value::Uuid(ids[20]))
                .and_then(|r| match r[0] {
                    Value::Int(pk) => Some(pk),
                    _ => None,
                })
                .expect("row"),
        )
        .await
        .unwrap();
        let telephone = env.emulator().get("AccountSet", ids[20]).unwrap()["Telephone1"].clone();
        if !telephone.is_null() {
            assert!(
                versions
                    .iter()
                    .any(|v| v.actor.as_deref() == Some(backfill::ACTOR)),
                "[{label}] {versions:?}"
            );
        }
        let idle = Loader::new(env.bulk("loader"), options())
            .run(&[v2_meta])
            .await
            .expect("load v2");
        assert!(
            idle.complete() && idle.backfill.is_none(),
            "[{label}] {idle:?}"
        );
    }
}

/// A converter whose version is bumped: the loaded rows are stale for that property only, and
/// the backfill fetches it again through the new converter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bumped_converter_version_backfills_its_property() {
    for local in backends().await {
        let label = local.label;
        let env = BulkEnv::new(local, 40, Clock::manual(start()), |b| b).await;
        let db = env.db().clone();
        let (v1_meta, v2_meta) = (conv_v1::Org::CDMS, conv_v2::Org::CDMS);
        db.migrate(&[conv_v1::Org::META]).await.expect("migrate");
        let report = Loader::new(env.bulk("loader"), options())
            .run(&[v1_meta])
            .await
            .expect("load v1");
        assert!(report.complete(), "[{label}] {report:?}");
        let loaded = all_rows(&env, v1_meta).await;
        assert_eq!(differences(&env, v1_meta, &loaded), Vec::<String>::new());
        assert!(
            loaded.iter().any(|r| r[4] != Value::Null),
            "[{label}] some records have a city"
        );

        // Same properties, same kinds: only the converter's version tells the change.
        let pending = mapping::pending(&db, v2_meta)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(pending.changed, ["Address1_City"], "[{label}] {pending:?}");
        assert!(pending.added.is_empty() && pending.removed.is_empty());
        assert!(db.plan(&[conv_v2::Org::META]).await.unwrap().is_empty());

        env.emulator().reset_log();
        let report = Backfiller::new(env.bulk("backfiller"), options())
            .run(&[v2_meta])
            .await
            .expect("backfill");
        let e = entity(&report);
        assert_eq!(e.properties, ["Address1_City"], "[{label}] {e:?}");
        assert!(e.complete && e.stale_left == 0, "[{label}] {e:?}");
        let listed = selects(&env.emulator().requests());
        let narrowed: Vec<&String> = listed
            .iter()
            .filter(|s| s.contains("Address1_City"))
            .collect();
        assert!(
            !narrowed.is_empty()
                && narrowed
                    .iter()
                    .all(|s| *s == "AccountId,ModifiedOn,Address1_City"),
            "[{label}] {listed:?}"
        );
        let now = all_rows(&env, v2_meta).await;
        assert_eq!(
            differences(&env, v2_meta, &now),
            Vec::<String>::new(),
            "[{label}] every city through the new converter"
        );
        assert!(
            mapping::pending(&db, v2_meta)
                .await
                .unwrap()
                .is_some_and(|c| !c.differs()),
            "[{label}] v2 is recorded"
        );
    }
}
