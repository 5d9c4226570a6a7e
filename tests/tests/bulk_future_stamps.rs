//! Far-future stamps (`9999-12-31`, CRM's usual "no date" placeholder) as `CreatedOn` and
//! `ModifiedOn`: the record is loaded and polled like any other, while the load plan and the poll
//! watermark ignore the stamp, so reruns of the load work and later edits keep arriving.

use std::time::Duration;

use cdms_entities::demo_data::organisation_id;
use cdms_entities::Organisation;
use cdms_runtime::cdms::bulk::{state, LoadOptions, LoadReport, Loader, PollOptions, Poller};
use cdms_runtime::cdms::Synced;
use cdms_runtime::emulator::Clock;
use cdms_runtime::store::{Backend, Param};
use cdms_runtime::{Kind, Value};
use cdms_tests::bulk_support::{assert_exact, backends, local_org, metas, partitions, BulkEnv};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

/// 2020-03-02T10:00:00Z: after every demo record's `ModifiedOn`.
fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_583_143_200, 0).unwrap_or_default()
}

/// The last second of year 9999.
fn far_future() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or_default()
}

/// What the engines may trust at most with the default allowance of one day (plus a minute for
/// the test's own run time).
fn trusted_bound() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(1) + chrono::Duration::minutes(1)
}

async fn load(env: &BulkEnv) -> LoadReport {
    let report = Loader::new(env.bulk("loader"), LoadOptions::default())
        .run(&metas())
        .await
        .unwrap_or_else(|e| panic!("{}: load: {e}", env.local.label));
    assert!(report.complete(), "{}: {report:?}", env.local.label);
    report
}

fn future_stamps(report: &LoadReport) -> u64 {
    report
        .entities
        .iter()
        .find(|e| e.entity == "Organisation")
        .map_or(0, |e| e.future_stamps)
}

fn poll_options() -> PollOptions {
    PollOptions {
        reconcile_every: None,
        ..PollOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_with_a_far_future_record_succeeds_reruns_and_restarts() {
    for local in backends().await {
        // More than 1,000 organisations: the set is split into CreatedOn windows.
        let env = BulkEnv::new(local, 1_050, Clock::manual(start()), |b| b).await;
        let emu = env.emulator();
        env.clock.set(far_future());
        let placeholder = emu
            .insert(
                Organisation::CDMS.set,
                json!({ "Name": "Placeholder Dates Ltd", "DoNotEMail": false }),
            )
            .expect("far-future record");
        env.clock.set(start() + chrono::Duration::seconds(5));

        let first = load(&env).await;
        assert_eq!(future_stamps(&first), 1, "{first:?}");
        let row = local_org(&env, placeholder).await;
        assert_eq!(
            row.modified_on,
            far_future(),
            "the record itself is applied"
        );
        assert_eq!(row.created_on, Some(far_future()));
        let parts = partitions(env.db()).await;
        assert!(
            parts
                .iter()
                .filter_map(|p| p.hi)
                .all(|hi| hi <= trusted_bound()),
            "{}: the plan is bounded by trusted stamps: {parts:?}",
            env.local.label
        );
        let org_parts = parts
            .iter()
            .filter(|p| p.entity == Organisation::CDMS.set)
            .count();
        assert!(org_parts > 2, "the organisations were split: {org_parts}");
        let st = state::entity_state(env.db(), Organisation::CDMS.set)
            .await
            .expect("state")
            .expect("state row");
        assert!(
            st.watermark
                .is_some_and(|w| w < start() + chrono::Duration::seconds(5)),
            "the watermark is the newest trusted ModifiedOn: {st:?}"
        );

        // A rerun reads the stored plan back and has nothing to do.
        let again = load(&env).await;
        assert!(again.entities.iter().all(|e| e.already_done), "{again:?}");

        // `load --restart`: the plan is dropped, made again, stored and read back.
        for meta in metas() {
            state::reset(env.db(), meta.set, false)
                .await
                .expect("reset");
        }
        let restarted = load(&env).await;
        assert_eq!(future_stamps(&restarted), 1, "{restarted:?}");
        assert_exact(&env).await;

        // The first poll after the load still sees a later edit.
        env.clock.advance(Duration::from_secs(5));
        emu.update(
            Organisation::CDMS.set,
            organisation_id(3),
            json!({ "Name": "Edited after the load" }),
        )
        .expect("edit");
        let report = Poller::new(env.bulk("poller"), poll_options())
            .once(&metas())
            .await
            .expect("poll");
        let orgs = report
            .entities
            .iter()
            .find(|e| e.entity == "Organisation")
            .expect("organisations polled");
        assert_eq!(orgs.updated, 1, "{orgs:?}");
        assert_eq!(orgs.future_stamps, 1, "{orgs:?}");
        assert_eq!(
            local_org(&env, organisation_id(3)).await.name,
            "Edited after the load"
        );
        assert_exact(&env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_after_a_far_future_modified_on_still_sees_later_edits() {
    for local in backends().await {
        let env = BulkEnv::new(local, 60, Clock::manual(start()), |b| b).await;
        load(&env).await;
        let emu = env.emulator();
        env.clock.advance(Duration::from_secs(5));
        let odd = emu
            .insert(
                Organisation::CDMS.set,
                json!({ "Name": "Edited Directly In SQL Ltd", "DoNotEMail": false }),
            )
            .expect("create");
        emu.set_modified(Organisation::CDMS.set, odd, far_future())
            .expect("far-future ModifiedOn");
        let poller = Poller::new(env.bulk("poller"), poll_options());

        let first = poller.once(&metas()).await.expect("poll");
        let orgs = first
            .entities
            .iter()
            .find(|e| e.entity == "Organisation")
            .expect("organisations polled");
        assert_eq!((orgs.inserted, orgs.future_stamps), (1, 1), "{orgs:?}");
        assert!(
            orgs.watermark.is_some_and(|w| w <= trusted_bound()),
            "{}: the far-future stamp is not the watermark: {orgs:?}",
            env.local.label
        );
        assert_eq!(local_org(&env, odd).await.modified_on, far_future());

        // Two later edits, each picked up by the next poll.
        for (round, name) in ["Renamed once", "Renamed twice"].into_iter().enumerate() {
            env.clock.advance(Duration::from_secs(60));
            emu.update(
                Organisation::CDMS.set,
                organisation_id(3),
                json!({ "Name": name }),
            )
            .expect("edit");
            let report = poller.once(&metas()).await.expect("poll");
            let orgs = report
                .entities
                .iter()
                .find(|e| e.entity == "Organisation")
                .expect("organisations polled");
            assert_eq!(
                orgs.updated, 1,
                "{} round {round}: {orgs:?}",
                env.local.label
            );
            assert_eq!(local_org(&env, organisation_id(3)).await.name, name);
        }
        assert_exact(&env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_far_future_watermark_is_replaced() {
    for local in backends().await {
        let env = BulkEnv::new(local, 40, Clock::manual(start()), |b| b).await;
        load(&env).await;
        // What a poll stored before stamps were checked.
        let db = env.db();
        let (p1, p2) = match db.backend() {
            Backend::Sqlite => ("?", "?"),
            Backend::Postgres => ("$1", "$2"),
        };
        let poisoned = db
            .execute_raw(
                &format!("UPDATE cdms_sync_entity SET watermark = {p1} WHERE entity = {p2}"),
                &[
                    Param::new(Value::DateTime(far_future()), Kind::DateTime),
                    Param::new(Value::Text(Organisation::CDMS.set.to_owned()), Kind::Text),
                ],
            )
            .await
            .expect("poison the watermark");
        assert_eq!(poisoned, 1);
        env.clock.advance(Duration::from_secs(5));
        env.emulator()
            .update(
                Organisation::CDMS.set,
                organisation_id(3),
                json!({ "Name": "Edited under a poisoned watermark" }),
            )
            .expect("edit");
        let report = Poller::new(env.bulk("poller"), poll_options())
            .once(&metas())
            .await
            .expect("poll");
        let orgs = report
            .entities
            .iter()
            .find(|e| e.entity == "Organisation")
            .expect("organisations polled");
        assert_eq!(orgs.updated, 1, "{}: {orgs:?}", env.local.label);
        assert!(
            orgs.watermark.is_some_and(|w| w <= trusted_bound()),
            "{}: {orgs:?}",
            env.local.label
        );
        assert_eq!(
            local_org(&env, organisation_id(3)).await.name,
            "Edited under a poisoned watermark"
        );
    }
}
