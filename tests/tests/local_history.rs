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
