//! Concurrent writers against a slow CDMS: the CDMS round trip of a write holds no database
//! lock, so writers to different records never wait for each other's CDMS answers.

use std::time::{Duration, Instant};

use cdms_entities::Organisation;
use cdms_runtime::cdms::SyncConfig;
use cdms_runtime::emulator::Latency;
use cdms_runtime::query::EntityExt;
use cdms_tests::sync_support::envs_with;
use serde_json::json;

const WRITERS: usize = 12;
const WRITES_EACH: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_do_not_hold_the_database_lock_while_cdms_answers() {
    let latency = Duration::from_secs(1);
    for env in envs_with(SyncConfig::default(), |b| {
        b.latency(Latency::Fixed(latency))
    })
    .await
    {
        let label = env.label();
        let ids: Vec<_> = (0..WRITERS)
            .map(|i| env.seed_account(&format!("Org {i}"), json!({})))
            .collect();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().copied().enumerate() {
            let db = env.db.clone();
            tasks.push(tokio::spawn(async move {
                let f = Organisation::fields();
                let mut org = Organisation::objects(&db)
                    .filter(f.cdms_id.eq(id))
                    .get()
                    .await?;
                let mut failures = 0;
                for n in 0..WRITES_EACH {
                    org.telephone = Some(format!("0{i}-{n}"));
                    if let Err(e) = org.save(&db).await {
                        eprintln!("writer {i}, write {n}: {e}");
                        failures += 1;
                    }
                }
                Ok::<usize, cdms_runtime::Error>(failures)
            }));
        }
        let mut failures = 0;
        for t in tasks {
            failures += t.await.expect("task").expect("read");
        }
        let elapsed = started.elapsed();
        println!(
            "[{label}] {WRITERS} writers x {WRITES_EACH} saves at {} ms CDMS latency: {failures} failed, {:.1} s",
            latency.as_millis(),
            elapsed.as_secs_f64()
        );
        assert_eq!(failures, 0, "[{label}] no write fails");
        for (i, id) in ids.iter().enumerate() {
            let record = env.record("AccountSet", *id);
            assert_eq!(
                record.get("Telephone1"),
                Some(&json!(format!("0{i}-{}", WRITES_EACH - 1))),
                "[{label}]"
            );
        }
    }
}

/// A list read whose records another writer stores between the read's look-up of them and its
/// own transaction: the read finds them stored, writes nothing, and still answers with every
/// one of them (read again: they are not rows it wrote). SQLite only: the other writer's open
/// transaction holds the write lock, which orders the two exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_stored_by_another_writer_meanwhile_are_in_the_answer() {
    use cdms_runtime::StatementKind;
    for env in cdms_tests::sync_support::envs().await {
        if env.label() != "sqlite" {
            continue;
        }
        let ids: Vec<_> = (0..20)
            .map(|i| env.seed_account(&format!("Race {i:02}"), json!({})))
            .collect();
        let raw: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| serde_json::Value::Object(env.record("AccountSet", *id)))
            .collect();
        // The first synced read of an entity records its mapping once (a transaction of its
        // own): not part of the race.
        let f = Organisation::fields();
        Organisation::objects(&env.db)
            .filter(f.name.eq("Warm-up"))
            .all()
            .await
            .expect("warm-up");
        let mut other = env.db.begin().await.expect("begin");
        let before = env.db.sql_counts();
        let db = env.db.clone();
        let reader = tokio::spawn(async move {
            let f = Organisation::fields();
            Organisation::objects(&db)
                .filter(f.name.startswith("Race "))
                .all()
                .await
        });
        // The reader has looked its records up and waits for the write lock.
        let waited = Instant::now();
        while env.db.sql_counts().since(&before).get(StatementKind::Begin) == 0 {
            assert!(
                waited.elapsed() < Duration::from_secs(20),
                "the reader began"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let meta = <Organisation as cdms_runtime::Entity>::META;
        let stats = cdms_runtime::cdms::sync::apply_json(&env.remote, &mut other, meta, &raw)
            .await
            .expect("the other writer");
        assert_eq!(stats.inserted, 20);
        other.commit().await.expect("commit");
        let read = reader.await.expect("join").expect("the read");
        let names: Vec<&str> = read.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), 20, "{names:?}");
        for org in &read {
            let versions = cdms_runtime::store::history::versions(&env.db, meta, org.id)
                .await
                .expect("history");
            assert_eq!(
                versions.len(),
                1,
                "{}: the other writer's first copy only",
                org.name
            );
        }
    }
}
