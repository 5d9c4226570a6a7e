//! History: every local write records a version with its actor, in the same transaction;
//! revert and restore.

use cdms_runtime::query::EntityExt;
use cdms_runtime::store::{history, VersionKind};
use cdms_runtime::{Entity, Error, Value};
use cdms_tests::local::{databases, Product, Shop};

fn kinds(versions: &[history::Version]) -> Vec<VersionKind> {
    versions.iter().map(|v| v.kind).collect()
}

#[tokio::test]
async fn every_write_records_a_version_with_its_actor() {
    for t in databases().await {
        let alice = t.db.as_actor("alice");
        let bob = t.db.as_actor("bob");
        let f = Product::fields();
        let mut a = Product::new("a", 1);
        a.save(&alice).await.unwrap();
        a.qty = 2;
        a.save(&bob).await.unwrap();
        let made = Product::objects(&bob)
            .bulk_create(vec![Product::new("b", 1), Product::new("c", 1)])
            .await
            .unwrap();
        Product::objects(&alice)
            .filter(f.name.is_in(["a", "b"]))
            .update([f.qty.set(7)])
            .await
            .unwrap();
        Product::objects(&t.db)
            .create(Product::new("d", 1))
            .await
            .unwrap();
        Product::objects(&bob)
            .filter(f.name.eq("c"))
            .delete()
            .await
            .unwrap();

        let va = a.versions(&t.db).await.unwrap();
        assert_eq!(kinds(&va), [VersionKind::LocalChange; 3], "[{}]", t.label);
        let actors: Vec<Option<&str>> = va.iter().map(|v| v.actor.as_deref()).collect();
        assert_eq!(actors, [Some("alice"), Some("bob"), Some("alice")]);
        assert_eq!(va[0].snapshot["qty"], 1);
        assert_eq!(va[1].snapshot["qty"], 2);
        assert_eq!(va[2].snapshot["qty"], 7);
        assert_eq!(va[2].snapshot["name"], "a");
        assert!(va
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));
        assert_eq!(va[0].entity, "product");
        assert_eq!(va[0].local_pk, a.id);
        assert_eq!(va[0].remote_key, None);
        // The snapshot is the stored row, stamps included.
        assert_eq!(va[1].object::<Product>().unwrap(), a);

        let vb = history::versions(&t.db, Product::META, made[0].id)
            .await
            .unwrap();
        assert_eq!(
            kinds(&vb),
            [VersionKind::LocalChange, VersionKind::LocalChange]
        );
        let vc = history::versions(&t.db, Product::META, made[1].id)
            .await
            .unwrap();
        assert_eq!(kinds(&vc), [VersionKind::LocalChange, VersionKind::Delete]);
        assert_eq!(vc[1].actor.as_deref(), Some("bob"));
        assert_eq!(vc[1].snapshot["name"], "c");
        let d = Product::objects(&t.db)
            .filter(f.name.eq("d"))
            .get()
            .await
            .unwrap();
        assert_eq!(d.versions(&t.db).await.unwrap()[0].actor, None);
    }
}

#[tokio::test]
async fn a_failed_write_records_nothing() {
    for t in databases().await {
        let f = Product::fields();
        let mut a = Product::new("a", 1);
        a.sku = Some("X".into());
        a.save(&t.db).await.unwrap();
        let mut b = Product::new("b", 1);
        b.sku = Some("X".into());
        assert!(b.save(&t.db).await.is_err());
        assert_eq!(
            Product::objects(&t.db)
                .filter(f.sku.eq("X"))
                .count()
                .await
                .unwrap(),
            1
        );
        let all_versions = history::versions(&t.db, Product::META, 2).await.unwrap();
        assert!(
            all_versions.is_empty(),
            "[{}] no version for the failed insert",
            t.label
        );
    }
}

#[tokio::test]
async fn revert_and_restore() {
    for t in databases().await {
        let db = t.db.as_actor("carol");
        let mut a = Product::new("v1", 1);
        a.note = Some("first".into());
        a.save(&db).await.unwrap();
        a.name = "v2".into();
        a.note = None;
        a.save(&db).await.unwrap();
        let versions = a.versions(&db).await.unwrap();

        let reverted = Product::revert_to(&db, versions[0].id).await.unwrap();
        assert_eq!(
            (reverted.name.as_str(), reverted.note.as_deref()),
            ("v1", Some("first"))
        );
        assert_eq!(reverted.id, a.id);
        assert!(reverted.modified >= a.modified, "a revert is a local write");
        let after = a.versions(&db).await.unwrap();
        assert_eq!(
            after.last().map(|v| (v.kind, v.actor.as_deref())),
            Some((VersionKind::Revert, Some("carol")))
        );

        let pk = a.id;
        a.delete(&db).await.unwrap();
        assert!(matches!(
            Product::revert_to(&db, versions[1].id).await.unwrap_err(),
            Error::Refused { .. }
        ));
        let restored = Product::restore(&db, pk).await.unwrap();
        assert_eq!(
            (restored.id, restored.name.as_str()),
            (pk, "v1"),
            "[{}]",
            t.label
        );
        assert_eq!(Product::objects(&db).get().await.unwrap(), restored);
        assert!(matches!(
            Product::restore(&db, pk).await.unwrap_err(),
            Error::Refused { .. }
        ));
        assert!(Product::restore(&db, 999).await.unwrap_err().is_not_found());
        let kinds_now = kinds(&history::versions(&db, Product::META, pk).await.unwrap());
        assert_eq!(
            kinds_now,
            [
                VersionKind::LocalChange,
                VersionKind::LocalChange,
                VersionKind::Revert,
                VersionKind::Delete,
                VersionKind::Restore
            ]
        );
        // New objects still get fresh keys after a restore under an old key.
        let fresh = Product::objects(&db)
            .create(Product::new("new", 1))
            .await
            .unwrap();
        assert!(fresh.id > pk);
        let latest = history::latest(&db, Product::META, pk)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.snapshot.get("id"), Some(&Value::Int(pk).to_json()));
        // A version of another entity is refused.
        let err = Shop::revert_to(&db, latest.id).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidQuery { entity: "Shop", .. }),
            "{err}"
        );
    }
}

/// Every version reads back as the object was after its write, whichever way it was written,
/// although the versions that inserted an object store no snapshot of their own.
#[tokio::test]
async fn first_copies_are_stored_compactly_and_read_back_whole() {
    use cdms_runtime::store::history::HISTORY;
    use cdms_runtime::store::{rows, ReadSpec};
    for t in databases().await {
        let db = t.db.as_actor("dana");
        let f = Product::fields();
        let mut states: Vec<Product> = Vec::new();
        let mut a = Product::new("first", 1);
        a.note = Some("made".into());
        a.save(&db).await.unwrap();
        states.push(a.clone());
        // Nothing else written yet: the only version resolves from the live row.
        let only = history::latest(&db, Product::META, a.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(only.object::<Product>().unwrap(), a, "[{}]", t.label);
        assert_eq!(only.prior, None);

        a.name = "second".into();
        a.note = None;
        a.save(&db).await.unwrap();
        states.push(a.clone());
        Product::objects(&db)
            .filter(f.name.eq("second"))
            .update([f.qty.set(5)])
            .await
            .unwrap();
        a = Product::objects(&db).get().await.unwrap();
        states.push(a.clone());
        let versions = a.versions(&db).await.unwrap();
        a = Product::revert_to(&db, versions[0].id).await.unwrap();
        states.push(a.clone());
        let pk = a.id;
        a.delete(&db).await.unwrap();
        states.push(states[3].clone());
        let mut back = Product::restore(&db, pk).await.unwrap();
        states.push(back.clone());
        back.qty = 9;
        back.save(&db).await.unwrap();
        states.push(back.clone());

        let versions = history::versions(&db, Product::META, pk).await.unwrap();
        let read: Vec<Product> = versions.iter().map(|v| v.object().unwrap()).collect();
        assert_eq!(read, states, "[{}]", t.label);
        assert_eq!(versions[0].prior, None);
        assert_eq!(
            versions[5].prior, None,
            "a restore inserts the object again"
        );
        let second = versions[1].prior.as_ref().unwrap();
        assert_eq!(second["name"], "first");
        assert_eq!(second["note"], "made");
        assert!(!second.contains_key("qty"), "{second:?}");
        assert_eq!(versions[4].prior.as_ref().map(|p| p.len()), Some(0));
        // A compact version read by id is whole too.
        let by_id = Product::revert_to(&db, versions[5].id).await.unwrap();
        assert_eq!(by_id.qty, states[5].qty);

        // Stored: the create and the restore without a snapshot, the others whole.
        let stored = rows::select(&t.db, &HISTORY, &ReadSpec::all(&HISTORY))
            .await
            .unwrap();
        let empty: Vec<bool> = stored
            .iter()
            .map(|r| r[5] == Value::Text(String::new()))
            .collect();
        assert_eq!(
            empty,
            [true, false, false, false, false, true, false, false],
            "[{}]",
            t.label
        );
    }
}

/// A history table from before prior values were recorded gains the column by a safe step, and
/// its full snapshots (no prior) read as before.
#[tokio::test]
async fn an_older_history_table_is_migrated_in_place() {
    use cdms_tests::local::entities;
    for t in databases().await {
        let mut a = Product::new("old", 1);
        a.save(&t.db).await.unwrap();
        a.qty = 2;
        a.save(&t.db).await.unwrap();
        // As an older version stored them: every snapshot whole, no prior column.
        t.db.execute_raw(
            "UPDATE \"history\" SET \"snapshot\" = '{\"id\":1,\"name\":\"old\",\"qty\":1}'
             WHERE \"snapshot\" = ''",
            &[],
        )
        .await
        .unwrap();
        t.db.execute_raw("ALTER TABLE \"history\" DROP COLUMN \"prior\"", &[])
            .await
            .unwrap();
        let plan = t.db.plan(&entities()).await.unwrap();
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(steps, ["add column history.prior"], "[{}]", t.label);
        t.db.migrate(&entities()).await.unwrap();

        let versions = a.versions(&t.db).await.unwrap();
        assert_eq!(versions.len(), 2);
        assert!(versions.iter().all(|v| v.prior.is_none()));
        assert_eq!(versions[0].snapshot["qty"], 1);
        assert_eq!(versions[1].snapshot["qty"], 2);
        // New writes record prior values next to them.
        a.qty = 3;
        a.save(&t.db).await.unwrap();
        let versions = a.versions(&t.db).await.unwrap();
        assert_eq!(versions[2].prior.as_ref().unwrap()["qty"], 2);
        assert_eq!(versions[1].object::<Product>().unwrap().qty, 2);
    }
}

/// The index on `(entity, remote_key)` that earlier versions created is dropped by a safe
/// step: nothing reads history by remote key.
#[tokio::test]
async fn the_unused_remote_key_index_is_dropped() {
    use cdms_tests::local::entities;
    for t in databases().await {
        t.db.execute_raw(
            "CREATE INDEX \"history__entity__remote_key\" ON \"history\" (\"entity\", \"remote_key\")",
            &[],
        )
        .await
        .unwrap();
        let plan = t.db.plan(&entities()).await.unwrap();
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(steps.len(), 1, "[{}] {steps:?}", t.label);
        assert!(steps[0].starts_with("drop index"), "{steps:?}");
        assert!(plan.risky().next().is_none());
        t.db.migrate(&entities()).await.unwrap();
        assert!(t.db.plan(&entities()).await.unwrap().is_empty());
    }
}

/// The index on `(entity, local_pk)` that earlier versions created is replaced by one on
/// `local_pk` alone, by safe steps, and the versions read as before.
#[tokio::test]
async fn the_older_object_index_is_replaced_by_a_smaller_one() {
    use cdms_tests::local::entities;
    for t in databases().await {
        let mut a = Product::new("a", 1);
        a.save(&t.db).await.unwrap();
        a.qty = 2;
        a.save(&t.db).await.unwrap();
        t.db.execute_raw("DROP INDEX \"history__local_pk\"", &[])
            .await
            .unwrap();
        t.db.execute_raw(
            "CREATE INDEX \"history__entity__local_pk\" ON \"history\" (\"entity\", \"local_pk\")",
            &[],
        )
        .await
        .unwrap();
        let plan = t.db.plan(&entities()).await.unwrap();
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            steps,
            [
                "drop index history__entity__local_pk on history",
                "create index on history (local_pk)"
            ],
            "[{}]",
            t.label
        );
        assert!(plan.risky().next().is_none());
        t.db.migrate(&entities()).await.unwrap();
        assert!(t.db.plan(&entities()).await.unwrap().is_empty());
        let versions = a.versions(&t.db).await.unwrap();
        let qty: Vec<_> = versions.iter().map(|v| v.snapshot["qty"].clone()).collect();
        assert_eq!(qty, [1, 2], "[{}]", t.label);
    }
}

/// A first copy that cannot be made whole (the prior values of the version after it are gone,
/// or its row is) is an error naming the version, never a wrong snapshot.
#[tokio::test]
async fn a_first_copy_that_cannot_be_made_whole_is_an_error() {
    for t in databases().await {
        let mut a = Product::new("a", 1);
        a.save(&t.db).await.unwrap();
        a.qty = 2;
        a.save(&t.db).await.unwrap();
        t.db.execute_raw("UPDATE \"history\" SET \"prior\" = NULL", &[])
            .await
            .unwrap();
        let err = a.versions(&t.db).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decode {
                    entity: "history",
                    field: "snapshot",
                    ..
                }
            ),
            "[{}] {err}",
            t.label
        );
        assert!(err.to_string().contains("records no prior values"), "{err}");

        let b = Product::objects(&t.db)
            .create(Product::new("b", 1))
            .await
            .unwrap();
        t.db.execute_raw("DELETE FROM \"product\" WHERE \"name\" = 'b'", &[])
            .await
            .unwrap();
        let err = history::latest(&t.db, Product::META, b.id)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("the object has no row"), "{err}");
    }
}
