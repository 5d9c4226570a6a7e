//! The request budget, measured through the emulator's request log: get = 1, filter = one per
//! page, create = 1, update <= 3, delete = 1, identical concurrent gets = 1; and the freshness
//! window.

use std::time::Duration;

use cdms_entities::Organisation;
use cdms_runtime::cdms::SyncConfig;
use cdms_runtime::emulator::Latency;
use cdms_runtime::query::EntityExt;
use cdms_tests::sync_support::{envs, envs_with, new_org};
use serde_json::json;

#[tokio::test]
async fn the_request_budget() {
    for env in envs().await {
        let f = Organisation::fields();
        let label = env.label();
        let mut measured = Vec::new();

        env.reset_log();
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Budget"))
            .await
            .unwrap();
        measured.push(("create", env.total()));
        let id = org.cdms_id.unwrap();

        env.reset_log();
        Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        measured.push(("get by local key", env.total()));

        env.reset_log();
        env.synced_account(id).await;
        measured.push(("get by CDMS id", env.total()));

        env.reset_log();
        Organisation::objects(&env.db)
            .filter(f.name.eq("Budget"))
            .get()
            .await
            .unwrap();
        measured.push(("get by another filter", env.total()));

        env.tick();
        env.reset_log();
        org.name = "Budget 2".to_owned();
        org.save(&env.db).await.unwrap();
        measured.push(("update", env.total()));

        for i in 0..119 {
            env.seed_account(&format!("Filler {i}"), json!({}));
        }
        env.reset_log();
        let all = Organisation::objects(&env.db).all().await.unwrap();
        assert_eq!(all.len(), 120);
        measured.push(("filter over 120 records (3 pages)", env.total()));

        env.reset_log();
        org.delete(&env.db).await.unwrap();
        measured.push(("delete", env.total()));

        eprintln!("[{label}] request budget: {measured:?}");
        let expected = [
            ("create", 1),
            ("get by local key", 1),
            ("get by CDMS id", 1),
            ("get by another filter", 1),
            ("update", 3),
            ("filter over 120 records (3 pages)", 3),
            ("delete", 1),
        ];
        assert_eq!(measured, expected, "[{label}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_gets_share_one_request() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Popular"))
            .await
            .unwrap();
        env.emulator()
            .set_latency(Latency::Fixed(Duration::from_millis(150)));
        env.edit(
            "AccountSet",
            org.cdms_id.unwrap(),
            json!({"Name": "Popular (edited)"}),
        );
        env.reset_log();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let db = env.db.clone();
            let pk = org.id;
            tasks.push(tokio::spawn(async move {
                Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .get()
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(
                t.await.unwrap().unwrap().name,
                "Popular (edited)",
                "[{}]",
                env.label()
            );
        }
        assert_eq!(
            env.total(),
            1,
            "[{}] ten concurrent gets, one request",
            env.label()
        );
        let versions = org.versions(&env.db).await.unwrap();
        assert_eq!(versions.len(), 2, "one refresh version, not ten");

        // A record not yet stored locally: created once.
        let id = env.seed_account("New to us", json!({}));
        env.reset_log();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let db = env.db.clone();
            tasks.push(tokio::spawn(async move {
                Organisation::objects(&db)
                    .filter(Organisation::fields().cdms_id.eq(id))
                    .get()
                    .await
            }));
        }
        let mut pks = Vec::new();
        for t in tasks {
            pks.push(t.await.unwrap().unwrap().id);
        }
        assert!(pks.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(env.total(), 1, "[{}]", env.label());
        let created = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(Organisation::fields().id.eq(pks[0]))
            .get()
            .await
            .unwrap();
        assert_eq!(created.versions(&env.db).await.unwrap().len(), 1);
        env.emulator().set_latency(Latency::None);
    }
}

#[tokio::test]
async fn a_freshness_window_skips_recent_gets() {
    let config = SyncConfig::default().freshness::<Organisation>(Duration::from_secs(3600));
    for env in envs_with(config, |b| b).await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Fresh"))
            .await
            .unwrap();
        let f = Organisation::fields();
        let by_pk = || Organisation::objects(&env.db).filter(f.id.eq(org.id));
        let by_id = || Organisation::objects(&env.db).filter(f.cdms_id.eq(org.cdms_id.unwrap()));
        env.reset_log();
        by_pk().get().await.unwrap();
        assert_eq!(
            env.total(),
            1,
            "[{}] a write does not confirm: its transaction could roll back",
            env.label()
        );
        by_pk().get().await.unwrap();
        by_id().get().await.unwrap();
        assert_eq!(
            env.total(),
            1,
            "confirmed by the read: no request within the window"
        );
        // A change in CDMS is not seen within the window (that is the trade-off).
        env.edit(
            "AccountSet",
            org.cdms_id.unwrap(),
            serde_json::json!({"Name": "Changed in CDMS"}),
        );
        assert_eq!(by_pk().get().await.unwrap().name, "Fresh");
        // Writes always ask CDMS (and see the change).
        env.tick();
        env.reset_log();
        let mut changed = org.clone();
        changed.telephone = Some("01".to_owned());
        changed.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 3);
        assert_eq!(changed.name, "Changed in CDMS");
        // ...and forget the mark: the next get asks again.
        by_pk().get().await.unwrap();
        assert_eq!(env.total(), 4);
    }
    // Strict by default: every get asks.
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Strict"))
            .await
            .unwrap();
        env.reset_log();
        for _ in 0..3 {
            Organisation::objects(&env.db)
                .filter(Organisation::fields().id.eq(org.id))
                .get()
                .await
                .unwrap();
        }
        assert_eq!(env.total(), 3, "[{}]", env.label());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_gets_of_a_record_in_sync_make_one_request() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("In sync"))
            .await
            .unwrap();
        env.emulator()
            .set_latency(Latency::Fixed(Duration::from_millis(10)));
        env.reset_log();
        let versions = org.versions(&env.db).await.unwrap().len();
        // The first synced read sets up the sync state tables once; not part of the count.
        Organisation::objects(&env.db)
            .filter(Organisation::fields().id.eq(org.id))
            .get()
            .await
            .unwrap();
        env.reset_log();
        let before = env.db.sql_counts();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(100));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let db = env.db.clone();
            let pk = org.id;
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .get()
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().name, "In sync");
        }
        assert_eq!(
            env.total(),
            1,
            "[{}] a hundred concurrent gets, one request",
            env.label()
        );
        // The row the shared refresh read, in sync, answers every one of them.
        let counted = env.db.sql_counts().since(&before);
        assert_eq!(counted.total(), 1, "[{}] {counted}", env.label());
        assert_eq!(org.versions(&env.db).await.unwrap().len(), versions);
    }
}
