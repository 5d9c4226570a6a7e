//! History through the sync layer: every change and refresh has a version with its actor;
//! revert writes through to CDMS; restore re-creates a deleted object in CDMS under its id.

use cdms_entities::Organisation;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_tests::sync_support::{envs, modified_on, new_org, text};
use serde_json::json;

#[tokio::test]
async fn every_write_and_refresh_has_a_version_with_its_actor() {
    for env in envs().await {
        let alice = env.db.as_actor("alice");
        let bob = env.db.as_actor("bob");
        let mut org = Organisation::objects(&alice)
            .create(new_org("v1"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        env.tick();
        org.name = "v2".to_owned();
        org.save(&bob).await.unwrap();
        env.edit("AccountSet", id, json!({"Name": "v3"}));
        let f = Organisation::fields();
        let carol = env.db.as_actor("carol");
        let refreshed = Organisation::objects(&carol)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(refreshed.name, "v3", "[{}]", env.label());
        let versions = org.versions(&env.db).await.unwrap();
        let seen: Vec<(VersionKind, Option<&str>, String)> = versions
            .iter()
            .map(|v| {
                (
                    v.kind,
                    v.actor.as_deref(),
                    v.object::<Organisation>().unwrap().name,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (VersionKind::LocalChange, Some("alice"), "v1".to_owned()),
                (VersionKind::LocalChange, Some("bob"), "v2".to_owned()),
                (VersionKind::RemoteRefresh, Some("carol"), "v3".to_owned()),
            ]
        );
        assert!(versions
            .iter()
            .all(|v| v.remote_key.as_deref() == Some(id.to_string().as_str())));
        assert!(versions
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));
    }
}

#[tokio::test]
async fn revert_writes_through_to_cdms() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("First"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        let first = org.versions(&env.db).await.unwrap()[0].id;
        env.tick();
        org.name = "Second".to_owned();
        org.telephone = Some("02".to_owned());
        org.save(&env.db).await.unwrap();
        env.tick();
        env.reset_log();
        let reverted = Organisation::revert_to(&env.db.as_actor("auditor"), first)
            .await
            .unwrap();
        assert_eq!(reverted.name, "First", "[{}]", env.label());
        assert_eq!(reverted.telephone, None);
        assert!(env.total() <= 3, "an update: {} requests", env.total());
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("First"));
        assert_eq!(record.get("Telephone1"), Some(&serde_json::Value::Null));
        assert_eq!(
            reverted.modified_on,
            modified_on(&record),
            "in sync after the revert"
        );
        let last = org.versions(&env.db).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.kind, last.actor.as_deref()),
            (VersionKind::Revert, Some("auditor"))
        );
    }
}

#[tokio::test]
async fn restore_recreates_a_deleted_object_under_its_id() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Phoenix"))
            .await
            .unwrap();
        let (pk, id) = (org.id, org.cdms_id.unwrap());
        org.delete(&env.db).await.unwrap();
        assert!(env.emulator().get("AccountSet", id).is_none());
        env.tick();
        let restored = Organisation::restore(&env.db.as_actor("restorer"), pk)
            .await
            .unwrap();
        assert_eq!(
            (restored.id, restored.cdms_id),
            (pk, Some(id)),
            "[{}] same key, same CDMS id",
            env.label()
        );
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("Phoenix"));
        assert_eq!(restored.modified_on, modified_on(&record));
        let versions = restored.versions(&env.db).await.unwrap();
        let kinds: Vec<VersionKind> = versions.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            [
                VersionKind::LocalChange,
                VersionKind::Delete,
                VersionKind::Restore
            ]
        );
        assert_eq!(versions[2].actor.as_deref(), Some("restorer"));

        // Deleted locally only (skip mode) while CDMS kept it: restore finds the record by its
        // id (the create's duplicate answer counts as success) and takes CDMS's state.
        env.edit(
            "AccountSet",
            id,
            json!({"Name": "Phoenix (edited in CDMS)"}),
        );
        let mut local = restored.clone();
        local.delete(&env.db.skip_cdms()).await.unwrap();
        let back = Organisation::restore(&env.db, pk).await.unwrap();
        assert_eq!(back.cdms_id, Some(id));
        assert_eq!(back.name, "Phoenix (edited in CDMS)");
        assert_eq!(env.emulator().count("AccountSet"), 1, "no duplicate");
    }
}
