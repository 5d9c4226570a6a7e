//! The drift report: injected drift is found and sampled, the command exits non-zero, and a poll
//! clears it.

use std::time::Duration;

use cdms_entities::demo_data::{contact_id, organisation_id};
use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::bulk::{status, LoadOptions, Loader, PollOptions, Poller};
use cdms_runtime::cdms::Synced;
use cdms_runtime::emulator::Clock;
use cdms_runtime::query::EntityExt;
use cdms_tests::bulk_support::{backends, cdms_sync, metas, sqlite, BulkEnv, Spawned};
use chrono::DateTime;
use serde_json::json;

fn start() -> chrono::DateTime<chrono::Utc> {
    DateTime::from_timestamp(1_583_143_200, 0).unwrap_or_default()
}

async fn run_status(env: &BulkEnv) -> (std::process::ExitStatus, String) {
    let mut cmd = cdms_sync();
    cmd.args([
        "status",
        "--database-url",
        &env.database_url(),
        "--cdms-url",
        &env.emu.base_url(),
        "--sample",
        "2",
    ]);
    let mut run = Spawned::new(cmd);
    let code = run.wait(Duration::from_secs(120)).await;
    (code, run.stdout())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_injected_drift() {
    for local in backends().await {
        let env = BulkEnv::new(local, 60, Clock::manual(start()), |b| b).await;
        assert!(Loader::new(env.bulk("loader"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("load")
            .complete());
        let clean = status(&env.bulk("status"), &metas(), 3)
            .await
            .expect("status");
        assert!(!clean.drift(), "{clean}");
        assert!(clean
            .entities
            .iter()
            .all(|e| e.cdms_count == e.local_count && e.loaded_at.is_some()));
        let (code, out) = run_status(&env).await;
        assert_eq!(code.code(), Some(0), "{out}");
        assert!(out.contains("in sync") && !out.contains("DRIFT"), "{out}");

        // Drift: a record created in CDMS, one deleted there, one whose ModifiedOn moved.
        let emu = env.emulator();
        let created = emu
            .insert(
                Organisation::CDMS.set,
                json!({ "Name": "Meridian Optics Ltd", "DoNotEMail": false }),
            )
            .expect("create");
        let deleted = contact_id(4);
        emu.delete(Contact::CDMS.set, deleted).expect("delete");
        let touched = organisation_id(2);
        emu.set_modified(
            Organisation::CDMS.set,
            touched,
            start() + chrono::Duration::seconds(30),
        )
        .expect("touch");
        let report = status(&env.bulk("status"), &metas(), 3)
            .await
            .expect("status");
        assert!(report.drift(), "{report}");
        let orgs = report
            .entities
            .iter()
            .find(|e| e.entity == "Organisation")
            .expect("organisations");
        assert_eq!(
            (
                orgs.missing_locally,
                orgs.missing_in_cdms,
                orgs.modified_differs
            ),
            (1, 0, 1),
            "{report}"
        );
        assert_eq!(orgs.sample_missing_locally, vec![created]);
        assert_eq!(
            orgs.sample_modified_differs.first().map(|d| d.cdms_id),
            Some(touched)
        );
        assert_eq!(orgs.cdms_count, orgs.local_count + 1);
        let contacts = report
            .entities
            .iter()
            .find(|e| e.entity == "Contact")
            .expect("contacts");
        assert_eq!(
            (
                contacts.missing_locally,
                contacts.missing_in_cdms,
                contacts.modified_differs
            ),
            (0, 1, 0),
            "{report}"
        );
        assert_eq!(
            contacts.sample_missing_in_cdms.first().map(|(_, id)| *id),
            Some(deleted)
        );
        let text = report.to_string();
        assert!(
            text.contains(&created.to_string()) && text.contains(&deleted.to_string()),
            "{text}"
        );
        let (code, out) = run_status(&env).await;
        assert_eq!(code.code(), Some(3), "drift exits with 3:\n{out}");
        assert!(
            out.contains("DRIFT") && out.contains(&created.to_string()),
            "{out}"
        );

        // A poll with reconciliation brings the two sides together again.
        let options = PollOptions {
            reconcile_every: Some(Duration::ZERO),
            ..PollOptions::default()
        };
        Poller::new(env.bulk("poller"), options)
            .once(&metas())
            .await
            .expect("poll");
        let after = status(&env.bulk("status"), &metas(), 3)
            .await
            .expect("status");
        assert!(!after.drift(), "{after}");
        let (code, out) = run_status(&env).await;
        assert_eq!(code.code(), Some(0), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_a_store_never_loaded_is_drift() {
    let env = BulkEnv::new(sqlite().await, 10, Clock::manual(start()), |b| b).await;
    let report = status(&env.bulk("status"), &metas(), 2)
        .await
        .expect("status");
    assert!(report.drift());
    for e in &report.entities {
        assert_eq!(
            (e.local_count, e.missing_locally),
            (0, e.cdms_count),
            "{report}"
        );
        assert!(e.loaded_at.is_none());
        assert!(e.sample_missing_locally.len() <= 2);
    }
    assert!(report.to_string().contains("not loaded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpublished_local_rows_are_not_drift() {
    let env = BulkEnv::new(sqlite().await, 10, Clock::manual(start()), |b| b).await;
    assert!(Loader::new(env.bulk("loader"), LoadOptions::default())
        .run(&metas())
        .await
        .expect("load")
        .complete());
    let mut draft = Organisation::objects(env.db())
        .skip_cdms()
        .first()
        .await
        .expect("first")
        .expect("an organisation");
    draft.id = 0;
    draft.cdms_id = None;
    draft.name = "Draft, not yet in CDMS".to_owned();
    draft
        .save(&env.db().skip_cdms())
        .await
        .expect("a local-only row");
    let report = status(&env.bulk("status"), &metas(), 2)
        .await
        .expect("status");
    let orgs = report
        .entities
        .iter()
        .find(|e| e.entity == "Organisation")
        .expect("organisations");
    assert_eq!(
        (orgs.unpublished, orgs.local_count, orgs.cdms_count),
        (1, 11, 10),
        "{report}"
    );
    assert!(!report.drift(), "{report}");
    assert!(
        report
            .to_string()
            .contains("1 local rows have no CDMS id yet"),
        "{report}"
    );
}
