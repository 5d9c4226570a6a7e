//! The incremental poller: creates, edits and deletes made in CDMS arrive locally; two edits in
//! the same second; the watermark advances only with committed rows; deletions of referenced
//! records wait for the referring ones.

use std::time::Duration;

use cdms_entities::demo_data::{contact_id, organisation_id};
use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::bulk::{state, LoadOptions, Loader, PollOptions, PollReport, Poller};
use cdms_runtime::cdms::Synced;
use cdms_runtime::emulator::{Clock, FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_tests::bulk_support::{
    assert_exact, backends, local_org, metas, sqlite, BulkEnv, LocalDb,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

/// 2020-03-02T10:00:00Z: after every demo record's `ModifiedOn`.
fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_583_143_200, 0).unwrap_or_default()
}

async fn loaded(local: LocalDb, organisations: usize) -> BulkEnv {
    let env = BulkEnv::new(local, organisations, Clock::manual(start()), |b| b).await;
    let report = Loader::new(env.bulk("loader"), LoadOptions::default())
        .run(&metas())
        .await
        .expect("load");
    assert!(report.complete());
    env
}

fn poller(env: &BulkEnv, options: PollOptions) -> Poller {
    Poller::new(env.bulk("poller"), options)
}

fn every_poll() -> PollOptions {
    PollOptions {
        reconcile_every: Some(Duration::ZERO),
        ..PollOptions::default()
    }
}

fn entity<'r>(report: &'r PollReport, name: &str) -> &'r cdms_runtime::cdms::bulk::EntityPoll {
    report
        .entities
        .iter()
        .find(|e| e.entity == name)
        .expect("entity in report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_picks_up_creates_edits_and_deletes() {
    for local in backends().await {
        let env = loaded(local, 80).await;
        let emu = env.emulator();
        let loaded_org = local_org(&env, organisation_id(3)).await;
        env.clock.advance(Duration::from_secs(5));
        let new_org = emu
            .insert(
                Organisation::CDMS.set,
                json!({ "Name": "Quayside Robotics Ltd", "DoNotEMail": false }),
            )
            .expect("create");
        let new_contact = emu
            .insert(
                Contact::CDMS.set,
                json!({ "LastName": "Noether", "DoNotPhone": false,
                        "ParentCustomerId": { "Id": new_org.to_string(), "LogicalName": "account" } }),
            )
            .expect("create");
        env.clock.advance(Duration::from_secs(1));
        emu.update(
            Organisation::CDMS.set,
            organisation_id(3),
            json!({ "Name": "Renamed in CDMS" }),
        )
        .expect("edit");
        let gone = contact_id(7);
        let gone_pk = Contact::objects(env.db())
            .filter(Contact::fields().cdms_id.eq(gone))
            .get()
            .await
            .expect("contact")
            .id;
        emu.delete(Contact::CDMS.set, gone).expect("delete");

        let report = poller(&env, every_poll())
            .once(&metas())
            .await
            .expect("poll");
        let orgs = entity(&report, "Organisation");
        assert_eq!(
            (orgs.inserted, orgs.updated, orgs.deleted),
            (1, 1, 0),
            "{orgs:?}"
        );
        let contacts = entity(&report, "Contact");
        assert_eq!(
            (contacts.inserted, contacts.updated, contacts.deleted),
            (1, 0, 1),
            "{contacts:?}"
        );
        assert!(report.entities.iter().all(|e| e.reconciled));
        assert_exact(&env).await;
        let renamed = local_org(&env, organisation_id(3)).await;
        assert_eq!(renamed.name, "Renamed in CDMS");
        // The load's first copy, stored compactly, reads back as the row it loaded; the poll's
        // version as the row it wrote, with what it changed as prior values.
        let org_versions = cdms_runtime::store::history::versions(
            env.db(),
            <Organisation as cdms_runtime::Entity>::META,
            renamed.id,
        )
        .await
        .expect("history");
        assert_eq!(org_versions.len(), 2, "{org_versions:?}");
        assert_eq!(org_versions[0].prior, None);
        assert_eq!(
            org_versions[0]
                .object::<Organisation>()
                .expect("first copy"),
            loaded_org
        );
        assert_eq!(
            org_versions[1].object::<Organisation>().expect("refresh"),
            renamed
        );
        let prior = org_versions[1].prior.as_ref().expect("prior values");
        assert_eq!(prior["name"], json!(loaded_org.name), "{prior:?}");
        let ada = Contact::objects(env.db())
            .filter(Contact::fields().cdms_id.eq(new_contact))
            .get()
            .await
            .expect("new contact");
        assert_eq!(
            ada.organisation.map(|r| r.pk()),
            Some(local_org(&env, new_org).await.id)
        );
        let versions = cdms_runtime::store::history::versions(
            env.db(),
            <Contact as cdms_runtime::Entity>::META,
            gone_pk,
        )
        .await
        .expect("history");
        assert_eq!(
            versions.last().map(|v| v.kind),
            Some(VersionKind::RemoteDelete),
            "{versions:?}"
        );
        assert_eq!(
            versions.last().and_then(|v| v.actor.clone()).as_deref(),
            Some("poller")
        );

        // Nothing changed since: a second poll changes nothing and writes no version.
        let history = cdms_tests::bulk_support::refresh_versions(env.db()).await;
        let again = poller(&env, every_poll())
            .once(&metas())
            .await
            .expect("poll again");
        assert_eq!(again.changes(), 0, "{again:?}");
        assert_eq!(
            cdms_tests::bulk_support::refresh_versions(env.db()).await,
            history
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_edits_in_the_same_second_are_both_seen() {
    for local in backends().await {
        let env = loaded(local, 20).await;
        let emu = env.emulator();
        let id = organisation_id(0);
        let other = organisation_id(1);
        // No overlap: the same-second case must not depend on it.
        let options = PollOptions {
            overlap: Duration::ZERO,
            reconcile_every: None,
            ..PollOptions::default()
        };
        env.clock.set(start() + chrono::Duration::seconds(10));
        emu.update(Organisation::CDMS.set, id, json!({ "Name": "First edit" }))
            .expect("edit");
        let first = poller(&env, options.clone())
            .once(&metas())
            .await
            .expect("poll");
        assert_eq!(entity(&first, "Organisation").updated, 1);
        assert_eq!(local_org(&env, id).await.name, "First edit");
        // Within the same second: the same ModifiedOn as the row now has.
        env.clock.advance(Duration::from_millis(400));
        emu.update(Organisation::CDMS.set, id, json!({ "Name": "Second edit" }))
            .expect("edit");
        emu.update(
            Organisation::CDMS.set,
            other,
            json!({ "Telephone1": "0161 496 0000" }),
        )
        .expect("edit");
        let second = poller(&env, options.clone())
            .once(&metas())
            .await
            .expect("poll");
        let orgs = entity(&second, "Organisation");
        assert_eq!((orgs.updated, orgs.same_second), (2, 1), "{orgs:?}");
        let org = local_org(&env, id).await;
        assert_eq!(org.name, "Second edit");
        assert_eq!(
            local_org(&env, other).await.telephone.as_deref(),
            Some("0161 496 0000")
        );
        let names: Vec<String> = org
            .versions(env.db())
            .await
            .expect("versions")
            .iter()
            .filter_map(|v| {
                v.snapshot
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(
            names[names.len() - 2..],
            ["First edit".to_owned(), "Second edit".to_owned()],
            "{names:?}"
        );
        assert_exact(&env).await;
        let third = poller(&env, options).once(&metas()).await.expect("poll");
        assert_eq!(third.changes(), 0, "{third:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watermark_advances_only_with_committed_batches() {
    let env = loaded(sqlite().await, 10).await;
    let emu = env.emulator();
    let options = PollOptions {
        pages_per_commit: 1,
        reconcile_every: None,
        ..PollOptions::default()
    };
    // Records already loaded that the overlap window reads again, ahead of the new ones.
    let loaded_watermark = state::entity_state(env.db(), Organisation::CDMS.set)
        .await
        .expect("state")
        .and_then(|s| s.watermark)
        .expect("watermark");
    let from = loaded_watermark - chrono::Duration::from_std(options.overlap).expect("overlap");
    let reread = emu
        .ids(Organisation::CDMS.set)
        .into_iter()
        .filter(|id| {
            let record = emu.get(Organisation::CDMS.set, *id).expect("record");
            record["ModifiedOn"]
                .as_str()
                .and_then(cdms_runtime::cdms::wire::parse_date)
                .is_some_and(|m| m >= from)
        })
        .count();
    let mut created = Vec::new();
    for i in 0..230 {
        env.clock.advance(Duration::from_secs(1));
        created.push(
            emu.insert(
                Organisation::CDMS.set,
                json!({ "Name": format!("Batch {i:03} Ltd"), "DoNotEMail": false }),
            )
            .expect("create"),
        );
    }
    // The third page of changes fails for good (400 is not retried).
    let fault = emu.faults().add(
        FaultRule::new(FaultAction::status(400, "Simulated failure."))
            .method("GET")
            .set(Organisation::CDMS.set)
            .path_contains("ModifiedOn%20asc")
            .nth(3),
    );
    let failed = poller(&env, options.clone()).once(&metas()).await;
    assert!(failed.is_err(), "the poll fails on the third page");
    assert_eq!(emu.faults().fired(fault), 1);
    let st = state::entity_state(env.db(), Organisation::CDMS.set)
        .await
        .expect("state")
        .expect("row");
    let hundredth = emu
        .get(Organisation::CDMS.set, created[99 - reread])
        .expect("record");
    let hundredth_modified = hundredth["ModifiedOn"]
        .as_str()
        .and_then(cdms_runtime::cdms::wire::parse_date);
    assert_eq!(
        st.watermark, hundredth_modified,
        "the watermark is that of the last committed page"
    );
    let synced = Organisation::objects(env.db())
        .filter(Organisation::fields().name.startswith("Batch "))
        .count()
        .await
        .expect("count");
    assert_eq!(synced as usize, 100 - reread, "two pages committed");
    assert!(
        st.lease_owner.is_none(),
        "the poll lease is released after a failure"
    );
    emu.faults().remove(fault);
    let report = poller(&env, options).once(&metas()).await.expect("poll");
    assert_eq!(
        entity(&report, "Organisation").inserted as usize,
        230 - (100 - reread)
    );
    assert_exact(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_record_still_referenced_locally_waits_for_its_referrers() {
    let env = loaded(sqlite().await, 40).await;
    let emu = env.emulator();
    // An organisation with contacts, deleted in CDMS (the emulator does not cascade).
    let org = (0..40).map(organisation_id).find(|id| {
        emu.ids(Contact::CDMS.set).iter().any(|c| {
            emu.get(Contact::CDMS.set, *c)
                .and_then(|r| r.get("ParentCustomerId").and_then(|p| p.get("Id")).cloned())
                == Some(json!(id.to_string()))
        })
    });
    let org = org.expect("an organisation with contacts");
    let referrers: Vec<Uuid> = emu
        .ids(Contact::CDMS.set)
        .into_iter()
        .filter(|c| {
            emu.get(Contact::CDMS.set, *c)
                .and_then(|r| r.get("ParentCustomerId").and_then(|p| p.get("Id")).cloned())
                == Some(json!(org.to_string()))
        })
        .collect();
    emu.delete(Organisation::CDMS.set, org).expect("delete");
    let report = poller(&env, every_poll())
        .once(&metas())
        .await
        .expect("poll");
    let orgs = entity(&report, "Organisation");
    assert_eq!((orgs.deleted, orgs.delete_refused), (0, 1), "{orgs:?}");
    local_org(&env, org).await;
    // Once the contacts are gone in CDMS too, one poll removes them, then the organisation.
    for c in &referrers {
        emu.delete(Contact::CDMS.set, *c).expect("delete contact");
    }
    let report = poller(&env, every_poll())
        .once(&metas())
        .await
        .expect("poll");
    assert_eq!(entity(&report, "Contact").deleted, referrers.len() as u64);
    assert_eq!(entity(&report, "Organisation").deleted, 1);
    assert_exact(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_refuses_sets_that_were_never_loaded() {
    let env = BulkEnv::new(sqlite().await, 5, Clock::manual(start()), |b| b).await;
    let report = poller(&env, every_poll())
        .once(&metas())
        .await
        .expect("poll");
    assert!(
        report
            .entities
            .iter()
            .all(|e| e.skipped.as_deref().is_some_and(|s| s.contains("load"))),
        "{report:?}"
    );
    assert_eq!(report.changes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuous_polling_follows_changes_until_stopped() {
    let env = loaded(sqlite().await, 10).await;
    let bulk = env.bulk("poller");
    let stop = bulk.stop_signal().clone();
    let poller = Poller::new(
        bulk,
        PollOptions {
            reconcile_every: None,
            ..PollOptions::default()
        },
    );
    let emu = env.emulator().clone();
    let clock = env.clock.clone();
    let mut seen = Vec::new();
    let polls = poller
        .run(&metas(), Duration::from_millis(50), |report| {
            seen.push(report.changes());
            // Another CDMS user changes something between polls; stop after the fourth poll.
            clock.advance(Duration::from_secs(1));
            let name = format!("Edited {} times", seen.len());
            emu.update(
                Organisation::CDMS.set,
                organisation_id(0),
                json!({ "Name": name }),
            )
            .expect("edit");
            if seen.len() == 4 {
                stop.stop();
            }
        })
        .await
        .expect("run");
    assert_eq!(polls, 4);
    assert_eq!(seen, vec![0, 1, 1, 1]);
    assert_eq!(
        local_org(&env, organisation_id(0)).await.name,
        "Edited 3 times"
    );
}

#[tokio::test]
async fn a_bad_record_is_quarantined_by_poll_and_cleared_when_fixed() {
    for local in backends().await {
        let env = loaded(local, 20).await;
        let label = env.local.label;
        let clock = env.clock.clone();
        clock.advance(Duration::from_secs(5));
        // One edit CDMS accepts but the local store cannot apply (a dangling lookup), one good.
        let bad = organisation_id(3);
        let ghost = Uuid::new_v4();
        env.emulator()
            .update(
                "AccountSet",
                bad,
                json!({"optevia_Country": {"Id": ghost.to_string(), "LogicalName": "optevia_country"}}),
            )
            .unwrap();
        env.emulator()
            .update(
                "AccountSet",
                organisation_id(4),
                json!({"Name": "Renamed Ltd"}),
            )
            .unwrap();
        let report = poller(&env, PollOptions::default())
            .once(&metas())
            .await
            .unwrap_or_else(|e| panic!("[{label}] the poll finishes: {e}"));
        let orgs = entity(&report, "Organisation");
        assert_eq!(orgs.quarantined, 1, "[{label}] {orgs:?}");
        assert_eq!(orgs.updated, 1, "[{label}] the good edit is applied");
        let q = env.remote.quarantine(env.db()).await.unwrap();
        assert_eq!(q.len(), 1, "[{label}] {q:?}");
        assert_eq!(q[0].cdms_id, Some(bad));
        assert_eq!(q[0].property.as_deref(), Some("optevia_Country"));
        // The watermark moved past the good edit: later polls do not read it again.
        clock.advance(Duration::from_secs(60));
        // Fixed in CDMS: the next poll applies it and clears the entry.
        env.emulator()
            .update(
                "AccountSet",
                bad,
                json!({"optevia_Country": {"Id": null, "LogicalName": null, "Name": null}}),
            )
            .unwrap();
        let report = poller(&env, PollOptions::default())
            .once(&metas())
            .await
            .unwrap();
        assert_eq!(entity(&report, "Organisation").quarantined, 0, "[{label}]");
        assert!(
            env.remote.quarantine(env.db()).await.unwrap().is_empty(),
            "[{label}]"
        );
        assert_exact(&env).await;
    }
}
