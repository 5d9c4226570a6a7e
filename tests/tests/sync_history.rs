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

/// The versions of `pk` whose stored snapshot is empty (a first copy referring to its row).
async fn compact_versions(db: &cdms_runtime::Db, pk: i64) -> u64 {
    use cdms_runtime::store::{Backend, Param};
    use cdms_runtime::{Kind, Value};
    let p = match db.backend() {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    // A no-op update: counts the rows without changing them.
    db.execute_raw(
        &format!("UPDATE history SET kind = kind WHERE snapshot = '' AND local_pk = {p}"),
        &[Param::new(Value::Int(pk), Kind::Int64)],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_first_copy_refers_to_its_row_until_the_row_changes() {
    for env in envs().await {
        let id = env
            .emulator()
            .insert(
                "AccountSet",
                json!({"Name": "Loaded", "Telephone1": "01", "DoNotEMail": false}),
            )
            .unwrap();
        let f = Organisation::fields();
        let mut org = Organisation::objects(&env.db.as_actor("reader"))
            .filter(f.cdms_id.eq(id))
            .get()
            .await
            .unwrap();
        let pk = org.id;
        assert_eq!(compact_versions(&env.db, pk).await, 1, "[{}]", env.label());
        let first = org.versions(&env.db).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kind, VersionKind::RemoteRefresh);
        assert_eq!(first[0].actor.as_deref(), Some("reader"));
        let loaded = first[0].object::<Organisation>().unwrap();
        assert_eq!((loaded.id, loaded.name.as_str()), (pk, "Loaded"));
        assert_eq!(loaded.telephone.as_deref(), Some("01"));

        // A change writes the row as loaded into the first version, then records its own.
        env.tick();
        org.name = "Changed".to_owned();
        org.telephone = None;
        org.save(&env.db).await.unwrap();
        assert_eq!(compact_versions(&env.db, pk).await, 0);
        let versions = org.versions(&env.db).await.unwrap();
        let names: Vec<(VersionKind, String, Option<String>)> = versions
            .iter()
            .map(|v| {
                let o = v.object::<Organisation>().unwrap();
                (v.kind, o.name, o.telephone)
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    VersionKind::RemoteRefresh,
                    "Loaded".to_owned(),
                    Some("01".to_owned())
                ),
                (VersionKind::LocalChange, "Changed".to_owned(), None),
            ]
        );
        assert_eq!(versions[0].snapshot, first[0].snapshot, "the same values");

        env.tick();
        let reverted = Organisation::revert_to(&env.db, versions[0].id)
            .await
            .unwrap();
        assert_eq!(reverted.name, "Loaded");
        assert_eq!(reverted.telephone.as_deref(), Some("01"));
        assert_eq!(text(&env.record("AccountSet", id), "Name"), Some("Loaded"));
    }
}

#[tokio::test]
async fn a_deleted_first_copy_restores_as_loaded() {
    for env in envs().await {
        let id = env
            .emulator()
            .insert("AccountSet", json!({"Name": "Once", "DoNotEMail": false}))
            .unwrap();
        let f = Organisation::fields();
        let mut org = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(id))
            .get()
            .await
            .unwrap();
        let pk = org.id;
        org.delete(&env.db.skip_cdms()).await.unwrap();
        assert_eq!(compact_versions(&env.db, pk).await, 0, "[{}]", env.label());
        let versions = cdms_runtime::store::history::versions(
            &env.db,
            <Organisation as cdms_runtime::Entity>::META,
            pk,
        )
        .await
        .unwrap();
        let kinds: Vec<VersionKind> = versions.iter().map(|v| v.kind).collect();
        assert_eq!(kinds, [VersionKind::RemoteRefresh, VersionKind::Delete]);
        assert_eq!(versions[0].snapshot, versions[1].snapshot);
        assert_eq!(versions[0].object::<Organisation>().unwrap().name, "Once");
    }
}
