//! `skip_cdms()`: reads and writes stay local; the guard keeps synced rows in sync; local-only
//! rows are written freely and published explicitly.

use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::SyncError;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_runtime::Error;
use cdms_tests::sync_support::{envs, modified_on, new_contact, new_org, sync_error, text};
use serde_json::json;

fn refused(e: &Error) -> &str {
    match e {
        Error::Refused { message, .. } => message,
        other => panic!("expected Refused, got {other}"),
    }
}

#[tokio::test]
async fn skip_mode_reads_are_local_only() {
    for env in envs().await {
        env.seed_account("Only in CDMS", json!({}));
        env.reset_log();
        assert_eq!(
            Organisation::objects(&env.db)
                .skip_cdms()
                .count()
                .await
                .unwrap(),
            0,
            "[{}]",
            env.label()
        );
        assert!(Organisation::objects(&env.db)
            .skip_cdms()
            .all()
            .await
            .unwrap()
            .is_empty());
        assert!(Organisation::objects(&env.db.skip_cdms())
            .first()
            .await
            .unwrap()
            .is_none());
        assert_eq!(env.total(), 0);
    }
}

#[tokio::test]
async fn the_guard_keeps_synced_rows_in_sync() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Synced"))
            .await
            .unwrap();
        let local = env.db.skip_cdms();
        let f = Organisation::fields();
        let before = env.snapshot().await;
        env.reset_log();

        // A mapped field: refused, with a message saying what to do.
        let mut changed = org.clone();
        changed.name = "Local rename".to_owned();
        let err = changed.save(&local).await.unwrap_err();
        let message = refused(&err);
        assert!(
            message.contains("name")
                && message.contains("without skip_cdms")
                && message.contains("notes"),
            "[{}] {message}",
            env.label()
        );
        // modified cannot be moved behind CDMS's back either.
        let mut stamped = org.clone();
        stamped.modified_on = chrono::Utc::now();
        refused(&stamped.save(&local).await.unwrap_err());
        let err = Organisation::objects(&local)
            .filter(f.id.eq(org.id))
            .update([f.telephone.set(Some("x".to_owned()))])
            .await
            .unwrap_err();
        refused(&err);
        // A row claiming a CDMS id cannot be inserted locally.
        let mut fake = new_org("Fake");
        fake.cdms_id = Some(uuid::Uuid::new_v4());
        refused(
            &Organisation::objects(&local)
                .create(fake)
                .await
                .unwrap_err(),
        );
        assert_eq!(env.snapshot().await, before, "nothing changed");

        // Local-only fields: allowed, no request, still in sync.
        let mut noted = org.clone();
        noted.notes = Some("private".to_owned());
        noted.save(&local).await.unwrap();
        let n = Organisation::objects(&local)
            .filter(f.id.eq(org.id))
            .update([f.notes.set(Some("more".to_owned()))])
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(env.total(), 0);
        let synced = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(synced.notes.as_deref(), Some("more"));
        assert_eq!(
            synced.modified_on,
            modified_on(&env.record("AccountSet", org.cdms_id.unwrap()))
        );

        // Deleting locally only forgets the row; the next read brings it back.
        let mut forget = synced.clone();
        forget.delete(&local).await.unwrap();
        assert!(env
            .emulator()
            .get("AccountSet", org.cdms_id.unwrap())
            .is_some());
        let back = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(org.cdms_id.unwrap()))
            .get()
            .await
            .unwrap();
        assert_eq!(back.name, "Synced");
        assert_eq!(
            back.notes, None,
            "local-only data went with the local delete"
        );
    }
}

#[tokio::test]
async fn local_only_rows_are_written_freely_and_published_explicitly() {
    for env in envs().await {
        let local = env.db.skip_cdms();
        let mut draft = Organisation::objects(&local)
            .create(new_org("Draft"))
            .await
            .unwrap();
        draft.name = "Draft 2".to_owned();
        draft.save(&local).await.unwrap();
        // In synced mode a local-only row stays local until published.
        env.reset_log();
        draft.name = "Draft 3".to_owned();
        draft.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 0, "[{}]", env.label());
        assert_eq!(draft.cdms_id, None);
        // A contact can reference it locally...
        let contact = Contact::objects(&local)
            .create(new_contact("Pending", Some(&draft)))
            .await
            .unwrap();
        // ...but cannot be published before it.
        let mut c = contact.clone();
        let err = env.remote.publish(&env.db, &mut c).await.unwrap_err();
        assert!(
            matches!(
                sync_error(&err),
                Some(SyncError::Unpublished {
                    entity: "Organisation",
                    ..
                })
            ),
            "{err}"
        );

        env.reset_log();
        env.remote.publish(&env.db, &mut draft).await.unwrap();
        assert_eq!(env.total(), 1, "one POST");
        let id = draft.cdms_id.expect("published");
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("Draft 3"));
        assert_eq!(draft.modified_on, modified_on(&record));
        let last = draft.versions(&env.db).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.kind, last.actor.as_deref()),
            (VersionKind::LocalChange, Some("tester"))
        );
        assert_eq!(last.remote_key.as_deref(), Some(id.to_string().as_str()));
        let again = env.remote.publish(&env.db, &mut draft).await.unwrap_err();
        assert!(refused(&again).contains("already published"));

        env.remote.publish(&env.db, &mut c).await.unwrap();
        let contact_record = env.record("ContactSet", c.cdms_id.unwrap());
        let parent = contact_record
            .get("ParentCustomerId")
            .and_then(|p| p.get("Id"))
            .and_then(|v| v.as_str());
        assert_eq!(parent, Some(id.to_string().as_str()));

        // From now on it is a synced row.
        env.reset_log();
        let f = Organisation::fields();
        let got = Organisation::objects(&env.db)
            .filter(f.id.eq(draft.id))
            .get()
            .await
            .unwrap();
        assert_eq!(got, draft);
        assert_eq!(env.total(), 1);

        // A failed publish changes nothing.
        let mut second = Organisation::objects(&local)
            .create(new_org("Second"))
            .await
            .unwrap();
        env.emulator().faults().add(
            cdms_runtime::emulator::FaultRule::new(cdms_runtime::emulator::FaultAction::status(
                500, "no",
            ))
            .method("POST")
            .nth(1),
        );
        let before = env.snapshot().await;
        assert!(env.remote.publish(&env.db, &mut second).await.is_err());
        assert_eq!(env.snapshot().await, before);
        assert_eq!(second.cdms_id, None);
    }
}

/// A handle without the remote (a local job filling local-only columns, say): a change of only
/// local-only fields of a synced row keeps its `modified`, which mirrors CDMS's `ModifiedOn`, so
/// the next synced read sees the row in sync and refreshes it instead of quarantining it.
#[tokio::test]
async fn local_only_changes_without_the_remote_keep_the_sync_stamp() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Stamped"))
            .await
            .unwrap();
        let plain = env.local.db.skip_cdms();
        let f = Organisation::fields();
        let stored = || async {
            Organisation::objects(&plain)
                .filter(f.id.eq(org.id))
                .get()
                .await
                .unwrap()
        };
        let mut noted = stored().await;
        noted.notes = Some("private".to_owned());
        noted.save(&plain).await.unwrap();
        assert_eq!(
            stored().await.modified_on,
            org.modified_on,
            "[{}] save",
            env.label()
        );
        let n = Organisation::objects(&plain)
            .filter(f.id.eq(org.id))
            .update([f.notes.set(Some("more".to_owned()))])
            .await
            .unwrap();
        assert_eq!(n, 1);
        let now = stored().await;
        assert_eq!(now.modified_on, org.modified_on, "[{}] update", env.label());
        assert_eq!(now.notes.as_deref(), Some("more"));

        // CDMS changes the record later: the synced read refreshes it, nothing is quarantined.
        env.edit(
            "AccountSet",
            org.cdms_id.unwrap(),
            json!({"Name": "Renamed in CDMS"}),
        );
        let synced = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(synced.name, "Renamed in CDMS", "[{}]", env.label());
        assert_eq!(synced.notes.as_deref(), Some("more"));
        assert!(
            env.remote
                .quarantine(&env.local.db)
                .await
                .unwrap()
                .is_empty(),
            "[{}]",
            env.label()
        );

        // A mapped field changed without the remote is a local change: `modified` moves.
        let mut renamed = synced.clone();
        renamed.name = "Local rename".to_owned();
        renamed.save(&plain).await.unwrap();
        assert_ne!(
            stored().await.modified_on,
            synced.modified_on,
            "[{}]",
            env.label()
        );
    }
}
