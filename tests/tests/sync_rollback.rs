//! Injected CDMS faults roll the local transaction back: the local store (every row and every
//! history version) is exactly as before, and the error says what failed.

use cdms_entities::Organisation;
use cdms_runtime::cdms::CdmsError;
use cdms_runtime::emulator::{FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::Error;
use cdms_tests::sync_support::{envs, new_org, text, SyncEnv};
use serde_json::json;

fn fail(env: &SyncEnv, method: &str, nth: u64) {
    env.emulator().faults().add(
        FaultRule::new(FaultAction::status(500, "injected failure"))
            .method(method)
            .set("AccountSet")
            .nth(nth),
    );
}

fn cdms_status(e: &Error) -> Option<u16> {
    match e {
        Error::Cdms(c) => match c.as_ref() {
            CdmsError::Transient {
                cause: cdms_runtime::cdms::TransientCause::Status(s),
                ..
            } => Some(*s),
            other => other.status(),
        },
        _ => None,
    }
}

#[tokio::test]
async fn a_failed_create_leaves_nothing_behind() {
    for env in envs().await {
        Organisation::objects(&env.db)
            .create(new_org("Existing"))
            .await
            .unwrap();
        let before = env.snapshot().await;
        fail(&env, "POST", 1);
        let err = Organisation::objects(&env.db)
            .create(new_org("Failing"))
            .await
            .unwrap_err();
        assert_eq!(cdms_status(&err), Some(500), "[{}] {err}", env.label());
        assert!(err.to_string().contains("AccountSet"), "{err}");
        assert_eq!(env.snapshot().await, before, "local store unchanged");
        assert_eq!(env.emulator().count("AccountSet"), 1);

        // A malformed answer to the create is an error too, and changes nothing locally.
        env.emulator().faults().add(
            FaultRule::new(FaultAction::MalformedJson)
                .method("POST")
                .set("AccountSet")
                .nth(1),
        );
        let err = Organisation::objects(&env.db)
            .create(new_org("Garbled"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Cdms(c) if matches!(c.as_ref(), CdmsError::Malformed { .. })),
            "{err}"
        );
        assert_eq!(env.snapshot().await, before);
    }
}

#[tokio::test]
async fn a_failed_update_at_any_step_leaves_the_row_as_it_was() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Stable"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        for (step, method, nth) in [
            ("conflict check", "GET", 1),
            ("merge", "MERGE", 1),
            ("read back", "GET", 2),
        ] {
            env.tick();
            let before = env.snapshot().await;
            env.emulator().faults().clear();
            fail(&env, method, nth);
            let mut changed = org.clone();
            changed.name = format!("Changed at {step}");
            let err = changed.save(&env.db).await.unwrap_err();
            assert_eq!(
                cdms_status(&err),
                Some(500),
                "[{}] {step}: {err}",
                env.label()
            );
            assert_eq!(
                env.snapshot().await,
                before,
                "{step}: local store unchanged"
            );
        }
        env.emulator().faults().clear();
        // The MERGE of the last attempt reached CDMS before the read-back failed: the next read
        // brings the row in line.
        assert_eq!(
            text(&env.record("AccountSet", id), "Name"),
            Some("Changed at read back")
        );
        let f = Organisation::fields();
        let now = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(now.name, "Changed at read back");
    }
}

#[tokio::test]
async fn a_failed_delete_keeps_the_row() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Kept"))
            .await
            .unwrap();
        let before = env.snapshot().await;
        fail(&env, "DELETE", 1);
        let err = org.delete(&env.db).await.unwrap_err();
        assert_eq!(cdms_status(&err), Some(500), "[{}] {err}", env.label());
        assert_eq!(env.snapshot().await, before);
        assert!(env
            .emulator()
            .get("AccountSet", org.cdms_id.unwrap())
            .is_some());
    }
}

#[tokio::test]
async fn bulk_writes_are_all_or_nothing_locally() {
    for env in envs().await {
        let before = env.snapshot().await;
        fail(&env, "POST", 3);
        let err = Organisation::objects(&env.db)
            .bulk_create(vec![new_org("a"), new_org("b"), new_org("c"), new_org("d")])
            .await
            .unwrap_err();
        assert_eq!(cdms_status(&err), Some(500), "[{}] {err}", env.label());
        assert_eq!(env.snapshot().await, before, "no local row, no version");
        // CDMS has no transactions: the two records created before the failure stay there, and
        // the next read brings them in.
        assert_eq!(env.emulator().count("AccountSet"), 2);
        assert_eq!(Organisation::objects(&env.db).count().await.unwrap(), 2);

        // Queryset update: the second record's MERGE fails, nothing changes locally.
        env.emulator().faults().clear();
        env.tick();
        let before = env.snapshot().await;
        fail(&env, "MERGE", 2);
        let f = Organisation::fields();
        let err = Organisation::objects(&env.db)
            .update([f.website.set(Some("https://x.example".to_owned()))])
            .await
            .unwrap_err();
        assert_eq!(cdms_status(&err), Some(500), "{err}");
        assert_eq!(env.snapshot().await, before);
    }
}

#[tokio::test]
async fn a_failed_list_page_applies_nothing() {
    for env in envs().await {
        for i in 0..60 {
            env.seed_account(&format!("Org {i}"), json!({}));
        }
        let before = env.snapshot().await;
        env.emulator().faults().add(
            FaultRule::new(FaultAction::status(500, "page two fails"))
                .method("GET")
                .set("AccountSet")
                .nth(2),
        );
        let err = Organisation::objects(&env.db).all().await.unwrap_err();
        assert_eq!(cdms_status(&err), Some(500), "[{}] {err}", env.label());
        assert_eq!(
            env.snapshot().await,
            before,
            "the first page was not applied alone"
        );
        // A dropped connection during a get.
        env.emulator().faults().add(
            FaultRule::new(FaultAction::Drop)
                .method("GET")
                .set("AccountSet")
                .nth(1),
        );
        let f = Organisation::fields();
        let err = Organisation::objects(&env.db)
            .filter(f.name.eq("Org 1"))
            .all()
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::Cdms(c) if c.is_transient()), "{err}");
        assert_eq!(env.snapshot().await, before);
    }
}
