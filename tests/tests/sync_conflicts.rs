//! Writes meeting changes made in CDMS since the last sync: merges, same-field overwrites
//! (observable, with both versions in history), not-in-sync, deleted records, and concurrent
//! writers.

use cdms_entities::Organisation;
use cdms_runtime::cdms::sync::observe;
use cdms_runtime::cdms::SyncError;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::{rows, VersionKind};
use cdms_runtime::{Entity, Value};
use cdms_tests::sync_support::{envs, modified_on, new_org, sync_error, text};
use serde_json::json;

#[tokio::test]
async fn changes_to_different_fields_are_merged() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Acme"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        // Someone changes the telephone in CDMS; we change the name from our (older) copy.
        env.edit("AccountSet", id, json!({"Telephone1": "0113 000 0000"}));
        env.tick();
        org.name = "Acme Ltd".to_owned();
        env.reset_log();
        let (saved, outcomes) = observe(org.save(&env.db)).await;
        saved.unwrap();
        assert!(
            env.total() <= 3,
            "[{}] update <= 3 requests, got {}",
            env.label(),
            env.total()
        );
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("Acme Ltd"), "ours");
        assert_eq!(
            text(&record, "Telephone1"),
            Some("0113 000 0000"),
            "theirs survives"
        );
        assert_eq!(
            org.telephone.as_deref(),
            Some("0113 000 0000"),
            "merged into the row"
        );
        assert_eq!(org.modified_on, modified_on(&record));
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].merged, ["telephone"]);
        assert!(outcomes[0].overwritten.is_empty() && !outcomes[0].is_conflict());
        assert_eq!(env.remote.recent_outcomes().last(), Some(&outcomes[0]));
        let kinds: Vec<VersionKind> = org
            .versions(&env.db)
            .await
            .unwrap()
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                VersionKind::LocalChange,
                VersionKind::RemoteRefresh,
                VersionKind::LocalChange
            ]
        );
    }
}

#[tokio::test]
async fn the_same_field_changed_on_both_sides_last_writer_wins_with_both_versions() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db.as_actor("alice"))
            .create(new_org("Original"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        env.edit(
            "AccountSet",
            id,
            json!({"Name": "Theirs", "NumberOfEmployees": 7}),
        );
        env.tick();
        org.name = "Ours".to_owned();
        let (saved, outcomes) = observe(org.save(&env.db.as_actor("bob"))).await;
        saved.unwrap();
        let record = env.record("AccountSet", id);
        assert_eq!(
            text(&record, "Name"),
            Some("Ours"),
            "[{}] last writer wins",
            env.label()
        );
        assert_eq!(record.get("NumberOfEmployees"), Some(&json!(7)));
        assert_eq!(org.number_of_employees, Some(7));
        let outcome = &outcomes[0];
        assert!(outcome.is_conflict());
        assert_eq!(outcome.overwritten, ["name"]);
        assert_eq!(outcome.merged, ["number_of_employees"]);
        assert_eq!(outcome.actor.as_deref(), Some("bob"));
        let versions = org.versions(&env.db).await.unwrap();
        let theirs = &versions[versions.len() - 2];
        let ours = &versions[versions.len() - 1];
        assert_eq!(theirs.kind, VersionKind::RemoteRefresh);
        assert_eq!(
            theirs.object::<Organisation>().unwrap().name,
            "Theirs",
            "history keeps CDMS's version"
        );
        assert_eq!(
            (
                ours.kind,
                ours.object::<Organisation>().unwrap().name.as_str()
            ),
            (VersionKind::LocalChange, "Ours")
        );
        assert_eq!(ours.actor.as_deref(), Some("bob"));
        assert_eq!(versions[0].actor.as_deref(), Some("alice"));
    }
}

#[tokio::test]
async fn a_change_cdms_already_has_needs_no_merge() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Same"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        env.edit("AccountSet", id, json!({"Telephone1": "01"}));
        org.telephone = Some("01".to_owned());
        env.reset_log();
        let (saved, outcomes) = observe(org.save(&env.db)).await;
        saved.unwrap();
        assert_eq!(env.total(), 1, "[{}] only the conflict check", env.label());
        assert!(outcomes.is_empty(), "nothing merged or overwritten");
        assert_eq!(org.modified_on, modified_on(&env.record("AccountSet", id)));
    }
}

#[tokio::test]
async fn updating_a_row_that_is_not_in_sync_or_gone_changes_nothing() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Drifted"))
            .await
            .unwrap();
        let mut row = org.to_row();
        row[Organisation::META.modified.unwrap()] =
            Value::DateTime(org.modified_on + chrono::TimeDelta::minutes(5));
        let mut tx = env.local.db.begin().await.unwrap();
        rows::update(&mut tx, Organisation::META, &mut row)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut drifted = Organisation::from_row(row).unwrap();
        let before = env.snapshot().await;
        drifted.name = "Nope".to_owned();
        let err = drifted.save(&env.db).await.unwrap_err();
        assert!(
            sync_error(&err).is_some_and(SyncError::is_not_in_sync),
            "[{}] {err}",
            env.label()
        );
        assert_eq!(env.snapshot().await, before);
        assert_eq!(env.count("MERGE", "AccountSet"), 0);

        let mut gone = Organisation::objects(&env.db)
            .create(new_org("Gone"))
            .await
            .unwrap();
        env.emulator()
            .delete("AccountSet", gone.cdms_id.unwrap())
            .unwrap();
        let before = env.snapshot().await;
        gone.name = "Renamed".to_owned();
        let err = gone.save(&env.db).await.unwrap_err();
        assert!(
            matches!(sync_error(&err), Some(SyncError::RemoteDeleted { .. })),
            "{err}"
        );
        assert_eq!(env.snapshot().await, before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_to_one_record_are_serialized() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Busy"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        let f = Organisation::fields();
        let assignments = [
            f.telephone.set(Some("t".to_owned())),
            f.email.set(Some("e@x.example".to_owned())),
            f.website.set(Some("https://w.example".to_owned())),
            f.address_line1.set(Some("1 Road".to_owned())),
            f.address_city.set(Some("Leeds".to_owned())),
            f.vat_number.set(Some("GB1".to_owned())),
            f.account_number.set(Some("A-1".to_owned())),
            f.companies_house_number.set(Some("0001".to_owned())),
        ];
        let mut tasks = Vec::new();
        for (i, a) in assignments.into_iter().enumerate() {
            let db = env.db.as_actor(format!("writer {i}"));
            let pk = org.id;
            tasks.push(tokio::spawn(async move {
                Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .update([a])
                    .await
            }));
        }
        // Two writers of the same field, too.
        for name in ["Busy A", "Busy B"] {
            let db = env.db.clone();
            let pk = org.id;
            tasks.push(tokio::spawn(async move {
                Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .update([Organisation::fields().name.set(name.to_owned())])
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 1, "[{}]", env.label());
        }
        let record = env.record("AccountSet", id);
        for (prop, value) in [
            ("Telephone1", "t"),
            ("EMailAddress1", "e@x.example"),
            ("WebSiteURL", "https://w.example"),
            ("Address1_Line1", "1 Road"),
            ("Address1_City", "Leeds"),
            ("optevia_VATNumber", "GB1"),
            ("AccountNumber", "A-1"),
            ("optevia_CompaniesHouseNumber", "0001"),
        ] {
            assert_eq!(text(&record, prop), Some(value), "no lost update of {prop}");
        }
        let local = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert!(["Busy A", "Busy B"].contains(&local.name.as_str()));
        assert_eq!(text(&record, "Name"), Some(local.name.as_str()));
        assert_eq!(local.modified_on, modified_on(&record));
        assert_eq!(local.telephone.as_deref(), Some("t"));
        let versions = local.versions(&env.db).await.unwrap();
        let changes = versions
            .iter()
            .filter(|v| v.kind == VersionKind::LocalChange)
            .count();
        assert_eq!(changes, 1 + 10, "the create and one version per write");
        assert_eq!(env.count("MERGE", "AccountSet"), 10);
    }
}
