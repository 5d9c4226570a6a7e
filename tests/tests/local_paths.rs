//! Lookups across relations, on SQLite and (with `DATABASE_URL`) PostgreSQL, with identical
//! expectations: forward through a reference, chains of references, backward with any/none
//! semantics, combined with root conditions, and null references.

use cdms_runtime::query::EntityExt;
use cdms_runtime::{Db, Error, QuerySet, Q};
use cdms_tests::local::{databases, seed_shops as seed, Line, Product, Shop};

async fn products(qs: QuerySet<Product>) -> Vec<String> {
    qs.values_list(Product::fields().name)
        .await
        .expect("products")
}

async fn shops(qs: QuerySet<Shop>) -> Vec<String> {
    qs.values_list(Shop::fields().name).await.expect("shops")
}

async fn lines(qs: QuerySet<Line>) -> Vec<i64> {
    let p = Product::fields();
    let mut out = Vec::new();
    for line in qs.all().await.expect("lines") {
        let product = Product::objects(qs.db())
            .filter(p.id.eq(line.product.pk()))
            .get()
            .await
            .expect("line's product");
        out.push(i64::from(line.count) * 100 + i64::from(product.name.as_bytes()[0]));
    }
    out
}

/// `filter(q)` gives `expected`, and `exclude(q)` exactly the other products.
async fn check(db: &Db, label: &str, q: Q<Product>, expected: &[&str]) {
    let got = products(Product::objects(db).filter(q.clone())).await;
    assert_eq!(got, expected, "[{label}] filter {q:?}");
    let rest: Vec<String> = products(Product::objects(db))
        .await
        .into_iter()
        .filter(|n| !expected.contains(&n.as_str()))
        .collect();
    let excluded = products(Product::objects(db).exclude(q.clone())).await;
    assert_eq!(excluded, rest, "[{label}] exclude {q:?}");
    let count = Product::objects(db).filter(q.clone()).count().await;
    assert_eq!(
        count.ok(),
        Some(expected.len() as u64),
        "[{label}] count {q:?}"
    );
}

#[tokio::test]
async fn forward_through_a_reference() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let f = Product::fields();
        check(
            db,
            label,
            f.shop.matching(|s| s.city.eq("Leeds")),
            &["a", "d"],
        )
        .await;
        check(
            db,
            label,
            f.shop.matching(|s| s.name.icontains("TH")),
            &["a", "c", "d"],
        )
        .await;
        // A null reference never matches a condition on its target, not even `isnull`.
        check(db, label, f.shop.matching(|s| s.city.isnull(true)), &["c"]).await;
        check(
            db,
            label,
            f.shop.matching(|_| Q::all()),
            &["a", "c", "d", "e"],
        )
        .await;
        check(db, label, f.shop.matching(|_| Q::nothing()), &[]).await;
        // … and `!` / `exclude` keep it, as they keep a null field.
        check(
            db,
            label,
            !f.shop.matching(|s| s.city.eq("Leeds")),
            &["b", "c", "e"],
        )
        .await;
        check(
            db,
            label,
            f.shop.matching(|s| s.city.ne("Leeds")),
            &["c", "e"],
        )
        .await;
        // Every lookup works on the far field.
        let s = Shop::fields();
        let far = [
            (s.name.eq("North"), &["a", "d"][..]),
            (s.name.iexact("east"), &["e"]),
            (s.name.startswith("No"), &["a", "d"]),
            (s.name.iendswith("TH"), &["a", "c", "d"]),
            (s.name.is_in(["East", "South", "Nowhere"]), &["c", "e"]),
            (s.name.regex("^[NS]o"), &["a", "c", "d"]),
            (s.name.gt("N"), &["a", "c", "d"]),
            (s.city.isnull(false), &["a", "d", "e"]),
            (s.id.is_in(Vec::<i64>::new()), &[]),
        ];
        for (q, expected) in far {
            check(db, label, f.shop.matching(move |_| q), expected).await;
        }
        // Combined with root conditions.
        let leeds = || f.shop.matching(|s| s.city.eq("Leeds"));
        check(db, label, leeds() & f.active.eq(true), &["a"]).await;
        check(db, label, leeds() | f.qty.gte(5), &["a", "d", "e"]).await;
        check(db, label, !(leeds() | f.active.eq(false)), &["b", "e"]).await;
        let qs = Product::objects(db)
            .filter(f.qty.lt(5))
            .exclude(f.shop.matching(|s| s.name.eq("South")));
        assert_eq!(products(qs).await, ["a", "b", "d"], "[{label}]");
        // The other terminals take the same filter.
        let qs = Product::objects(db).filter(leeds());
        assert!(qs.exists().await.unwrap(), "[{label}]");
        assert_eq!(qs.first().await.unwrap().map(|p| p.name), Some("a".into()));
        assert_eq!(
            qs.clone()
                .order_by([f.qty.desc()])
                .slice(..1)
                .all()
                .await
                .unwrap()[0]
                .name,
            "d"
        );
    }
}

#[tokio::test]
async fn chains_of_references() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let l = Line::fields();
        let north = l
            .product
            .matching(|p| p.shop.matching(|s| s.name.eq("North")));
        let got = lines(Line::objects(db).filter(north.clone())).await;
        assert_eq!(got, [100 + 97, 400 + 100, 100 + 100], "[{label}]");
        // The product exists but has no shop: the chain breaks, nothing matches, `!` keeps it.
        let cityless = l
            .product
            .matching(|p| p.shop.matching(|s| s.city.isnull(true)));
        assert_eq!(
            lines(Line::objects(db).filter(cityless.clone())).await,
            [300 + 99]
        );
        let not_north = lines(Line::objects(db).exclude(north)).await;
        assert_eq!(not_north, [200 + 98, 300 + 99], "[{label}]");
        // Conditions at every level of the chain.
        let q = l.count.gte(2)
            & l.product.matching(|p| {
                p.active.eq(false)
                    & p.shop
                        .matching(|s| s.city.eq("Leeds") | s.city.isnull(true))
            });
        assert_eq!(
            lines(Line::objects(db).filter(q)).await,
            [300 + 99, 400 + 100]
        );
    }
}

#[tokio::test]
async fn backward_with_any_and_none() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let p = Product::fields();
        let s = Shop::fields();
        let active = || p.shop.any(|p| p.active.eq(true));
        assert_eq!(
            shops(Shop::objects(db).filter(active())).await,
            ["North", "East"],
            "[{label}]"
        );
        assert_eq!(
            shops(Shop::objects(db).filter(p.shop.none(|p| p.active.eq(true)))).await,
            ["South", "West"],
            "[{label}]"
        );
        assert_eq!(
            shops(Shop::objects(db).exclude(active())).await,
            ["South", "West"]
        );
        // Referred to at all, or not.
        let any = shops(Shop::objects(db).filter(p.shop.any(|_| Q::all()))).await;
        assert_eq!(any, ["North", "South", "East"], "[{label}]");
        let none = shops(Shop::objects(db).filter(p.shop.none(|_| Q::all()))).await;
        assert_eq!(none, ["West"], "[{label}]");
        // Each `any` is about one product: none is both active and of quantity 4 …
        let same = p.shop.any(|p| p.active.eq(true) & p.qty.eq(4));
        assert!(shops(Shop::objects(db).filter(same)).await.is_empty());
        // … while two `any` may be met by different products.
        let both = p.shop.any(|p| p.active.eq(true)) & p.shop.any(|p| p.qty.eq(4));
        assert_eq!(shops(Shop::objects(db).filter(both)).await, ["North"]);
        // With root conditions.
        let q = s.city.eq("Leeds") & !active();
        assert_eq!(
            shops(Shop::objects(db).filter(q)).await,
            ["West"],
            "[{label}]"
        );
        let q = s.name.eq("South") | p.shop.any(|p| p.qty.gt(4));
        assert_eq!(shops(Shop::objects(db).filter(q)).await, ["South", "East"]);
        // Backward twice: shops with a product having a line of more than one unit.
        let l = Line::fields();
        let q = p.shop.any(|_| l.product.any(|l| l.count.gt(1)));
        assert_eq!(shops(Shop::objects(db).filter(q)).await, ["North", "South"]);
        // Forward then backward: products whose shop has an active product other than "a".
        let q = p.shop.matching(|_| {
            p.shop
                .any(|other| other.active.eq(true) & other.name.ne("a"))
        });
        let got = products(Product::objects(db).filter(q)).await;
        assert_eq!(got, ["e"], "[{label}]");
        // A relation condition names its relation in errors.
        let err = Shop::objects(db)
            .filter(active() & s.city.eq("Paris"))
            .get()
            .await;
        match err {
            Err(Error::NotFound { query, .. }) => assert_eq!(
                query, "any Product.shop -> (active = true) AND city = \"Paris\"",
                "[{label}]"
            ),
            other => panic!("[{label}] {other:?}"),
        }
    }
}

#[tokio::test]
async fn writes_through_relation_filters() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let p = Product::fields();
        let l = Line::fields();
        let leeds = p.shop.matching(|s| s.city.eq("Leeds"));
        let changed = Product::objects(db)
            .filter(leeds.clone())
            .update([p.qty.set(0)])
            .await
            .expect("update");
        assert_eq!(changed, 2, "[{label}]");
        let zero = products(Product::objects(db).filter(p.qty.eq(0))).await;
        assert_eq!(zero, ["a", "d"], "[{label}]");
        let gone = Line::objects(db)
            .filter(l.product.matching(|_| leeds))
            .delete()
            .await
            .expect("delete");
        assert_eq!(gone, 3, "[{label}]");
        let left = Product::objects(db).filter(l.product.none(|_| Q::all()));
        assert_eq!(products(left).await, ["a", "d", "e"], "[{label}]");
        // A required reference cannot be cleared through its reverse relation.
        let c = Product::objects(db)
            .filter(p.name.eq("c"))
            .get()
            .await
            .unwrap();
        let err = c
            .children(db, l.product)
            .clear()
            .await
            .expect_err("required");
        assert!(matches!(err, Error::InvalidQuery { .. }), "[{label}] {err}");
        // add and remove on a nullable one.
        let mut b = Product::objects(db)
            .filter(p.name.eq("b"))
            .get()
            .await
            .unwrap();
        let west = Shop::objects(db)
            .filter(Shop::fields().name.eq("West"))
            .get()
            .await
            .unwrap();
        west.children(db, p.shop).add(&mut b).await.expect("add");
        let west_products = products(west.children(db, p.shop)).await;
        assert_eq!(west_products, ["b"], "[{label}]");
        west.children(db, p.shop)
            .remove(&mut b)
            .await
            .expect("remove");
        assert_eq!(b.shop, None, "[{label}]");
        assert!(products(west.children(db, p.shop)).await.is_empty());
    }
}
