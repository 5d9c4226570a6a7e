//! Relations: select_related, prefetch_related, reverse relations, foreign-key integrity.

use cdms_runtime::query::EntityExt;
use cdms_runtime::{Error, Ref};
use cdms_tests::local::{databases, Line, Product, Shop};

#[tokio::test]
async fn follow_references_both_ways() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let mut north = Shop {
            id: 0,
            name: "North".into(),
            city: Some("Leeds".into()),
        };
        north.save(db).await.unwrap();
        let mut south = Shop {
            id: 0,
            name: "South".into(),
            city: None,
        };
        south.save(db).await.unwrap();
        let mut products = Vec::new();
        for (name, shop) in [
            ("a", Some(&north)),
            ("b", None),
            ("c", Some(&south)),
            ("d", Some(&north)),
        ] {
            let mut p = Product::new(name, 1);
            p.shop = shop.map(Ref::to);
            p.save(db).await.unwrap();
            products.push(p);
        }
        let pairs = Product::objects(db).select_related(f.shop).await.unwrap();
        let shown: Vec<(&str, Option<&str>)> = pairs
            .iter()
            .map(|(p, s)| (p.name.as_str(), s.as_ref().map(|s| s.name.as_str())))
            .collect();
        assert_eq!(
            shown,
            [
                ("a", Some("North")),
                ("b", None),
                ("c", Some("South")),
                ("d", Some("North"))
            ],
            "[{}]",
            t.label
        );
        assert_eq!(pairs[0].1.as_ref(), Some(&north));
        // Filters, order and slices apply to the main entity.
        let filtered = Product::objects(db)
            .filter(f.shop.isnull(false))
            .order_by([f.name.desc()])
            .limit(2)
            .select_related(f.shop)
            .await
            .unwrap();
        assert_eq!(
            filtered
                .iter()
                .map(|(p, _)| p.name.as_str())
                .collect::<Vec<_>>(),
            ["d", "c"]
        );

        // Reverse relation: a shop's products.
        let north_products = north
            .children(db, f.shop)
            .order_by([f.name.desc()])
            .values_list(f.name)
            .await
            .unwrap();
        assert_eq!(north_products, ["d", "a"]);
        assert_eq!(south.children(db, f.shop).count().await.unwrap(), 1);
        let with_products = Shop::objects(db).prefetch_related(f.shop).await.unwrap();
        let summary: Vec<(&str, Vec<&str>)> = with_products
            .iter()
            .map(|(s, ps)| {
                (
                    s.name.as_str(),
                    ps.iter().map(|p| p.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(summary, [("North", vec!["a", "d"]), ("South", vec!["c"])]);

        // A required reference.
        let line = Line {
            id: 0,
            product: Ref::to(&products[1]),
            count: 3,
        };
        let line = Line::objects(db).create(line).await.unwrap();
        let lines = Line::objects(db)
            .select_related(Line::fields().product)
            .await
            .unwrap();
        assert_eq!(lines, [(line.clone(), Some(products[1].clone()))]);
        assert_eq!(
            products[1]
                .children(db, Line::fields().product)
                .get()
                .await
                .unwrap(),
            line
        );

        // Integrity: a referenced row cannot be deleted; a dangling reference cannot be written.
        let mut referenced = north.clone();
        assert!(matches!(
            referenced.delete(db).await.unwrap_err(),
            Error::Database { .. }
        ));
        let dangling = Line {
            id: 0,
            product: Ref::new(999),
            count: 1,
        };
        assert!(matches!(
            Line::objects(db).create(dangling).await.unwrap_err(),
            Error::Database { .. }
        ));
        assert_eq!(Shop::objects(db).count().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn reverse_relations_link_what_they_create() {
    for t in databases().await {
        let db = &t.db;
        let f = Product::fields();
        let mut north = Shop {
            id: 0,
            name: "North".into(),
            city: None,
        };
        north.save(db).await.unwrap();
        let mut south = Shop {
            id: 0,
            name: "South".into(),
            city: None,
        };
        south.save(db).await.unwrap();
        let products = north.children(db, f.shop);

        // create: linked to the parent, whatever the object held.
        let made = products.create(Product::new("made", 1)).await.unwrap();
        assert_eq!(made.shop, Some(Ref::to(&north)), "[{}]", t.label);
        let mut elsewhere = Product::new("elsewhere", 1);
        elsewhere.shop = Some(Ref::to(&south));
        let moved = products.create(elsewhere).await.unwrap();
        assert_eq!(moved.shop, Some(Ref::to(&north)), "[{}]", t.label);

        // get_or_create: the second call finds what the first created.
        let (first, created) = products
            .get_or_create(f.name.eq("widget"), Product::new("widget", 2))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(first.shop, Some(Ref::to(&north)));
        let (second, created) = products
            .get_or_create(f.name.eq("widget"), Product::new("widget", 3))
            .await
            .unwrap();
        assert!(!created, "[{}]", t.label);
        assert_eq!(second.id, first.id);
        // The lookup stays within the parent's objects: a widget of the other shop is not it.
        let (theirs, created) = south
            .children(db, f.shop)
            .get_or_create(f.name.eq("widget"), Product::new("widget", 4))
            .await
            .unwrap();
        assert!(created);
        assert_ne!(theirs.id, first.id);
        assert_eq!(theirs.shop, Some(Ref::to(&south)));

        // update_or_create and bulk_create link too.
        let (gadget, created) = products
            .update_or_create(
                f.name.eq("gadget"),
                Product::new("gadget", 0),
                [f.qty.set(5)],
            )
            .await
            .unwrap();
        assert!(created);
        assert_eq!((gadget.shop, gadget.qty), (Some(Ref::to(&north)), 5));
        let (again, created) = products
            .update_or_create(
                f.name.eq("gadget"),
                Product::new("gadget", 0),
                [f.qty.set(6)],
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!((again.id, again.qty), (gadget.id, 6));
        let many = products
            .bulk_create(vec![Product::new("b1", 1), Product::new("b2", 1)])
            .await
            .unwrap();
        assert!(many.iter().all(|p| p.shop == Some(Ref::to(&north))));

        let mut names = products.values_list(f.name).await.unwrap();
        names.sort();
        assert_eq!(
            names,
            ["b1", "b2", "elsewhere", "gadget", "made", "widget"],
            "[{}]",
            t.label
        );
        assert_eq!(
            Product::objects(db)
                .filter(f.name.eq("widget"))
                .count()
                .await
                .unwrap(),
            2,
            "one widget per shop"
        );

        // A required reference: the parent fills it.
        let line = made
            .children(db, Line::fields().product)
            .create(Line {
                id: 0,
                product: Ref::new(0),
                count: 3,
            })
            .await
            .unwrap();
        assert_eq!(line.product, Ref::to(&made), "[{}]", t.label);
    }
}
