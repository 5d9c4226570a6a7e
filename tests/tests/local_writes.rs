//! Writes: create, bulk_create, queryset update/delete, save/delete/refresh, get_or_create,
//! update_or_create, local stamping of `modified`/`created`, concurrency.

use cdms_runtime::query::EntityExt;
use cdms_runtime::{Error, Value};
use cdms_tests::local::{at, databases, Product};

#[tokio::test]
async fn create_save_refresh_delete() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        let a = Product::objects(db)
            .create(Product::new("a", 1))
            .await
            .unwrap();
        assert_eq!(a.id, 1);
        assert!(
            a.modified > before && a.created == Some(a.modified),
            "[{}] stamped on insert",
            t.label
        );
        assert_eq!(
            a.modified.timestamp_subsec_nanos() % 1000,
            0,
            "microsecond precision"
        );

        // An explicit created is kept; modified is always stamped.
        let mut b = Product::new("b", 2);
        b.created = Some(at("2010-05-06T07:08:09Z"));
        b.modified = at("2000-01-01T00:00:00Z");
        b.save(db).await.unwrap();
        assert_eq!(b.id, 2);
        assert_eq!(b.created, Some(at("2010-05-06T07:08:09Z")));
        assert!(b.modified > before);

        let first_modified = b.modified;
        b.qty = 20;
        b.created = None;
        b.save(db).await.unwrap();
        assert!(b.modified >= first_modified);
        assert_eq!(b.created, None, "an update writes what it is given");

        let mut stale = Product::objects(db).filter(f.id.eq(2)).get().await.unwrap();
        Product::objects(db)
            .filter(f.id.eq(2))
            .update([f.name.set("renamed")])
            .await
            .unwrap();
        stale.refresh(db).await.unwrap();
        assert_eq!(stale.name, "renamed");

        let mut gone = a.clone();
        gone.delete(db).await.unwrap();
        assert_eq!(gone.id, 0);
        let mut again = a.clone();
        assert!(again.refresh(db).await.unwrap_err().is_not_found());
        assert!(again.delete(db).await.unwrap_err().is_not_found());
        assert!(
            again.save(db).await.unwrap_err().is_not_found(),
            "updating a deleted row"
        );
        // Saving the deleted object again (key reset) inserts a new row.
        gone.save(db).await.unwrap();
        assert_eq!(gone.id, 3);

        let err = Product::objects(db).create(b.clone()).await.unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err}");
    }
}

#[tokio::test]
async fn bulk_create_is_all_or_nothing() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let made = Product::objects(db)
            .bulk_create((0..50).map(|i| Product::new(&format!("p{i}"), i)).collect())
            .await
            .unwrap();
        assert_eq!(made.len(), 50);
        assert_eq!(
            made.iter().map(|p| p.id).collect::<Vec<_>>(),
            (1..=50).collect::<Vec<_>>()
        );
        assert!(made.iter().all(|p| p.created.is_some()));
        let mut dup = vec![
            Product::new("x", 1),
            Product::new("y", 2),
            Product::new("z", 3),
        ];
        dup[0].sku = Some("same".into());
        dup[2].sku = Some("same".into());
        let err = Product::objects(db).bulk_create(dup).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Database {
                    entity: "Product",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            Product::objects(db).count().await.unwrap(),
            50,
            "[{}] nothing of the failed batch",
            t.label
        );
        assert_eq!(
            Product::objects(db)
                .filter(f.name.eq("x"))
                .count()
                .await
                .unwrap(),
            0
        );
        assert!(Product::objects(db)
            .bulk_create(Vec::new())
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn queryset_update_and_delete() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let made = Product::objects(db)
            .bulk_create(
                (1..=10)
                    .map(|i| Product::new(&format!("p{i}"), i))
                    .collect(),
            )
            .await
            .unwrap();
        let n = Product::objects(db)
            .filter(f.qty.gt(5))
            .update([f.note.set(Some("big".to_owned())), f.active.set(false)])
            .await
            .unwrap();
        assert_eq!(n, 5);
        let big = Product::objects(db)
            .filter(f.note.eq("big") & f.active.eq(false))
            .all()
            .await
            .unwrap();
        assert_eq!(big.len(), 5);
        // The update stamps modified; created is kept.
        assert!(big
            .iter()
            .zip(&made[5..])
            .all(|(p, m)| p.modified >= m.modified && p.created == m.created));
        // A sliced update changes only the window.
        let n = Product::objects(db)
            .order_by([f.qty.desc()])
            .limit(2)
            .update([f.qty.set(100)])
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            Product::objects(db)
                .filter(f.qty.eq(100))
                .values_list(f.name)
                .await
                .unwrap(),
            ["p9", "p10"]
        );
        assert_eq!(
            Product::objects(db)
                .filter(f.qty.gt(1000))
                .update([f.qty.set(0)])
                .await
                .unwrap(),
            0
        );
        // Refused assignments.
        assert!(matches!(
            Product::objects(db)
                .update([f.id.set(5)])
                .await
                .unwrap_err(),
            Error::Refused { .. }
        ));
        let null_name = cdms_runtime::query::Set::from_parts(f.name.index(), Value::Null);
        assert!(matches!(
            Product::objects(db).update([null_name]).await.unwrap_err(),
            Error::InvalidQuery { .. }
        ));

        assert_eq!(
            Product::objects(db)
                .filter(f.note.isnull(true))
                .delete()
                .await
                .unwrap(),
            5
        );
        assert_eq!(Product::objects(db).count().await.unwrap(), 5);
        assert_eq!(
            Product::objects(db)
                .order_by([f.qty.asc()])
                .slice(0..2)
                .delete()
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            Product::objects(db).values_list(f.qty).await.unwrap(),
            [8, 100, 100]
        );
        assert_eq!(Product::objects(db).delete().await.unwrap(), 3);
        assert!(!Product::objects(db).exists().await.unwrap());
    }
}

#[tokio::test]
async fn get_or_create_and_update_or_create() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let (a, created) = Product::objects(db)
            .get_or_create(f.name.eq("a"), Product::new("a", 1))
            .await
            .unwrap();
        assert!(created);
        let (a2, created) = Product::objects(db)
            .get_or_create(f.name.eq("a"), Product::new("a", 99))
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(a2, a);
        // Racing get_or_create calls on a unique value: one creates, the others read it.
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut p = Product::new("s", 1);
                p.sku = Some("S-1".into());
                Product::objects(&db)
                    .get_or_create(Product::fields().sku.eq("S-1"), p)
                    .await
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("join").expect("get_or_create"));
        }
        assert_eq!(
            results.iter().filter(|(_, created)| *created).count(),
            1,
            "[{}]",
            t.label
        );
        assert!(results.iter().all(|(p, _)| p.id == results[0].0.id));
        // A clash with a row the query does not match returns the unique violation.
        let mut clash = Product::new("s2", 1);
        clash.sku = Some("S-1".into());
        let err = Product::objects(db)
            .get_or_create(f.name.eq("s2"), clash)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Database { .. }), "{err}");
        let (u, created) = Product::objects(db)
            .update_or_create(f.name.eq("u"), Product::new("u", 1), [f.qty.set(5)])
            .await
            .unwrap();
        assert!(created);
        assert_eq!(u.qty, 5);
        let (u2, created) = Product::objects(db)
            .update_or_create(
                f.name.eq("u"),
                Product::new("u", 1),
                [f.qty.set(6), f.note.set(Some("n".to_owned()))],
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!((u2.id, u2.qty, u2.note.as_deref()), (u.id, 6, Some("n")));
        assert!(Product::objects(db)
            .update_or_create(f.name.eq("u"), Product::new("u", 1), [f.id.set(9)])
            .await
            .is_err());
        let err = Product::objects(db)
            .filter(f.qty.gt(0))
            .get_or_create(f.name.eq("a") | f.name.eq("u"), Product::new("x", 1))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::MultipleFound { count: 2, .. }),
            "{err}"
        );
    }
}

#[tokio::test]
async fn skip_cdms_is_harmless_locally() {
    for t in databases().await {
        let db = t.db.skip_cdms();
        let f = Product::fields();
        let p = Product::objects(&db)
            .skip_cdms()
            .create(Product::new("a", 1))
            .await
            .unwrap();
        assert!(
            p.created.is_some(),
            "local entities are stamped in skip mode too"
        );
        assert_eq!(
            Product::objects(&t.db)
                .skip_cdms()
                .filter(f.name.eq("a"))
                .count()
                .await
                .unwrap(),
            1
        );
    }
}

#[tokio::test]
async fn concurrent_writers() {
    for t in databases().await {
        let mut tasks = Vec::new();
        for w in 0..8 {
            let db = t.db.as_actor(format!("writer{w}"));
            tasks.push(tokio::spawn(async move {
                for i in 0..15 {
                    let mut p = Product::new(&format!("w{w}-{i}"), i);
                    p.save(&db).await?;
                    p.qty += 1;
                    p.save(&db).await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for task in tasks {
            task.await.expect("join").expect("write");
        }
        assert_eq!(
            Product::objects(&t.db).count().await.unwrap(),
            120,
            "[{}]",
            t.label
        );
    }
}
