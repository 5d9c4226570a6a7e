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
