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
