//! Synced reads: `get` by local key, by CDMS id and by other filters; refresh, equal, not in
//! sync, not found, created from CDMS, deleted in CDMS; local-only rows.

use cdms_entities::Organisation;
use cdms_runtime::cdms::SyncError;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::{rows, VersionKind};
use cdms_runtime::{Entity, Value};
use cdms_tests::sync_support::{envs, modified_on, new_org, sync_error};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn get_by_cdms_id_creates_the_local_row() {
    for env in envs().await {
        let id = env.seed_account(
            "Acme Ltd",
            json!({"NumberOfEmployees": 250, "Revenue": {"Value": "1000.5"}}),
        );
        env.reset_log();
        let org = env.synced_account(id).await;
        assert_eq!(org.name, "Acme Ltd", "[{}]", env.label());
        assert_eq!(org.number_of_employees, Some(250));
        assert_eq!(org.revenue, Some("1000.5".parse().unwrap()));
        assert_eq!(org.cdms_id, Some(id));
        let record = env.record("AccountSet", id);
        assert_eq!(
            org.modified_on,
            modified_on(&record),
            "local modified = CDMS ModifiedOn"
        );
        assert_eq!(env.gets("AccountSet"), (1, 0), "one keyed GET");
        assert_eq!(env.total(), 1);

        let versions = org.versions(&env.db).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].kind, VersionKind::RemoteRefresh);
        assert_eq!(versions[0].actor.as_deref(), Some("tester"));
        assert_eq!(
            versions[0].remote_key.as_deref(),
            Some(id.to_string().as_str())
        );
    }
}

#[tokio::test]
async fn get_by_pk_refreshes_newer_cdms_records_and_leaves_equal_ones() {
    for env in envs().await {
        let id = env.seed_account("Old name", json!({}));
        let f = Organisation::fields();
        let org = env.synced_account(id).await;

        // Equal ModifiedOn: untouched, no version.
        env.reset_log();
        let versions_before = org.versions(&env.db).await.unwrap().len();
        let same = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(same, org, "[{}]", env.label());
        assert_eq!(env.gets("AccountSet"), (1, 0));
        assert_eq!(env.total(), 1, "get by pk = one request");
        assert_eq!(org.versions(&env.db).await.unwrap().len(), versions_before);

        // Someone edits in CDMS: refreshed before returning, with a version.
        env.edit("AccountSet", id, json!({"Name": "New name"}));
        let fresh = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(fresh.name, "New name");
        assert_eq!(fresh.id, org.id);
        assert_eq!(
            fresh.modified_on,
            modified_on(&env.record("AccountSet", id))
        );
        assert!(fresh.modified_on > org.modified_on);
        let versions = org.versions(&env.db).await.unwrap();
        assert_eq!(versions.len(), versions_before + 1);
        assert_eq!(versions.last().unwrap().kind, VersionKind::RemoteRefresh);

        // refresh() on an instance goes through the same path.
        let mut stale = org.clone();
        env.edit("AccountSet", id, json!({"Telephone1": "0207 000 0000"}));
        stale.refresh(&env.db).await.unwrap();
        assert_eq!(stale.telephone.as_deref(), Some("0207 000 0000"));
        assert_eq!(stale.name, "New name");
    }
}

#[tokio::test]
async fn local_newer_is_not_in_sync_and_changes_nothing() {
    for env in envs().await {
        let id = env.seed_account("Acme", json!({}));
        let f = Organisation::fields();
        let org = env.synced_account(id).await;
        // The local row claims a later ModifiedOn than CDMS has (written behind the sync layer).
        let later = org.modified_on + chrono::TimeDelta::hours(1);
        let mut row = org.to_row();
        row[Organisation::META.modified.unwrap()] = Value::DateTime(later);
        let mut tx = env.local.db.begin().await.unwrap();
        rows::update(&mut tx, Organisation::META, &mut row)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let before = env.snapshot().await;
        let err = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap_err();
        match sync_error(&err) {
            Some(SyncError::NotInSync {
                pk, cdms_id, local, ..
            }) => {
                assert_eq!(
                    (*pk, *cdms_id, *local),
                    (org.id, id, later),
                    "[{}]",
                    env.label()
                );
            }
            other => panic!(
                "[{}] expected NotInSync, got {other:?} ({err})",
                env.label()
            ),
        }
        assert!(err.to_string().contains("not in sync"), "{err}");
        assert_eq!(env.snapshot().await, before, "nothing changed");
        // By CDMS id and by another filter: the same answer.
        let err = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(id))
            .get()
            .await
            .unwrap_err();
        assert!(
            sync_error(&err).is_some_and(SyncError::is_not_in_sync),
            "{err}"
        );
        // A list does not fail for one row: it is left alone, quarantined, and the list answers.
        let listed = Organisation::objects(&env.db)
            .filter(f.name.eq("Acme"))
            .all()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "[{}]", env.label());
        assert_eq!(listed[0].modified_on, later, "the local row is untouched");
        let q = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(q.len(), 1, "[{}] {q:?}", env.label());
        assert_eq!(q[0].cdms_id, Some(id));
        assert!(q[0].reason.contains("not in sync"), "{}", q[0].reason);
        assert_eq!(env.snapshot().await, before, "nothing changed");
    }
}

#[tokio::test]
async fn neither_side_has_it() {
    for env in envs().await {
        let f = Organisation::fields();
        let before = env.snapshot().await;
        env.reset_log();
        let err = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(Uuid::new_v4()))
            .get()
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "[{}] {err}", env.label());
        assert_eq!(env.gets("AccountSet"), (1, 0));
        // By local key: nothing local, so nothing to ask CDMS.
        let err = Organisation::objects(&env.db)
            .filter(f.id.eq(4242))
            .get()
            .await
            .unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(env.total(), 1, "a missing local key costs no request");
        // By another filter: one list request, nothing found.
        let err = Organisation::objects(&env.db)
            .filter(f.name.eq("Nobody"))
            .get()
            .await
            .unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(env.gets("AccountSet"), (1, 1));
        assert_eq!(env.snapshot().await, before, "no local change");
    }
}

#[tokio::test]
async fn get_by_other_filter_lists_and_refreshes() {
    for env in envs().await {
        let id = env.seed_account("O'Brien & Sons", json!({"NumberOfEmployees": 12}));
        env.seed_account("Someone else", json!({}));
        let f = Organisation::fields();
        env.reset_log();
        let org = Organisation::objects(&env.db)
            .filter(f.name.eq("O'Brien & Sons"))
            .get()
            .await
            .unwrap();
        assert_eq!(org.cdms_id, Some(id), "[{}]", env.label());
        assert_eq!(env.gets("AccountSet"), (0, 1), "one list request");
        let list = &env.requests()[0];
        assert!(
            list.query
                .contains("$filter=Name%20eq%20%27O%27%27Brien%20%26%20Sons%27"),
            "{}",
            list.query
        );

        env.edit("AccountSet", id, json!({"NumberOfEmployees": 13}));
        let org = Organisation::objects(&env.db)
            .filter(f.name.eq("O'Brien & Sons"))
            .get()
            .await
            .unwrap();
        assert_eq!(org.number_of_employees, Some(13));
    }
}

#[tokio::test]
async fn deleted_in_cdms_removes_the_local_row_with_a_restorable_version() {
    for env in envs().await {
        let id = env.seed_account("Doomed", json!({}));
        let f = Organisation::fields();
        let org = env.synced_account(id).await;
        env.emulator().delete("AccountSet", id).unwrap();

        let err = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "[{}] {err}", env.label());
        assert_eq!(
            Organisation::objects(&env.db)
                .skip_cdms()
                .count()
                .await
                .unwrap(),
            0,
            "local row removed"
        );
        let versions = org.versions(&env.db).await.unwrap();
        let last = versions.last().unwrap();
        assert_eq!(last.kind, VersionKind::RemoteDelete);
        assert_eq!(last.actor.as_deref(), Some("tester"));
        assert_eq!(
            last.object::<Organisation>().unwrap(),
            org,
            "the version holds the last state"
        );

        // Restoring re-creates the record in CDMS under the same id.
        env.reset_log();
        let restored = Organisation::restore(&env.db, org.id).await.unwrap();
        assert_eq!(restored.cdms_id, Some(id));
        assert_eq!(restored.name, "Doomed");
        assert_eq!(env.count("POST", "AccountSet"), 1);
        assert_eq!(
            env.record("AccountSet", id).get("Name"),
            Some(&json!("Doomed"))
        );
        assert_eq!(
            restored.modified_on,
            modified_on(&env.record("AccountSet", id))
        );
        let kinds: Vec<VersionKind> = org
            .versions(&env.db)
            .await
            .unwrap()
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(kinds.last(), Some(&VersionKind::Restore));
    }
}

#[tokio::test]
async fn deleted_in_cdms_but_still_referenced_locally_is_reported() {
    for env in envs().await {
        let org_id = env.seed_account("Parent", json!({}));
        let contact_id = env.seed_contact("Child", Some(org_id));
        let cf = cdms_entities::Contact::fields();
        let contact = cdms_entities::Contact::objects(&env.db)
            .filter(cf.cdms_id.eq(contact_id))
            .get()
            .await
            .unwrap();
        assert!(contact.organisation.is_some(), "[{}]", env.label());
        env.emulator().delete("AccountSet", org_id).unwrap();
        let before = env.snapshot().await;
        let f = Organisation::fields();
        let err = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(org_id))
            .get()
            .await
            .unwrap_err();
        match sync_error(&err) {
            Some(SyncError::RemoteDeleted {
                cdms_id, message, ..
            }) => {
                assert_eq!(*cdms_id, org_id);
                assert!(message.contains("refer"), "{message}");
            }
            other => panic!("expected RemoteDeleted, got {other:?}: {err}"),
        }
        assert_eq!(env.snapshot().await, before, "nothing changed");
    }
}

#[tokio::test]
async fn local_only_rows_are_returned_as_they_are() {
    for env in envs().await {
        let local = Organisation::objects(&env.db)
            .skip_cdms()
            .create(new_org("Draft"))
            .await
            .unwrap();
        assert_eq!(local.cdms_id, None, "[{}]", env.label());
        env.reset_log();
        let f = Organisation::fields();
        let got = Organisation::objects(&env.db)
            .filter(f.id.eq(local.id))
            .get()
            .await
            .unwrap();
        assert_eq!(got, local);
        assert_eq!(
            env.total(),
            0,
            "no request for a row without a CDMS id (never guid'')"
        );
        // A list read returns it too (CDMS does not have it, so nothing refreshes it).
        let all = Organisation::objects(&env.db).all().await.unwrap();
        assert_eq!(all, vec![local]);
        assert!(env
            .requests()
            .iter()
            .all(|r| !r.query.contains("guid%27%27")));
    }
}
