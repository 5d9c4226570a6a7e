//! `order_by` a referenced entity's field, on SQLite and (with `DATABASE_URL`) PostgreSQL, with
//! identical expectations: through one reference and chains of them, null references sorting
//! like null values, several keys sharing a join, with root keys, reversal, slices and the other
//! terminals, beside path filters.

use cdms_runtime::expr::OrderKey;
use cdms_runtime::{Error, Order, QuerySet};
use cdms_tests::local::{databases, seed_shops as seed, Line, Product, Shop};

async fn names(qs: QuerySet<Product>) -> Vec<String> {
    qs.values_list(Product::fields().name)
        .await
        .expect("products")
}

async fn line_ids(qs: QuerySet<Line>) -> Vec<i64> {
    qs.values_list(Line::fields().id).await.expect("lines")
}

#[tokio::test]
async fn order_through_one_reference() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let l = t.label;
        let (p, s) = (Product::fields(), Shop::fields());
        let qs = || Product::objects(db);
        // A null reference sorts like a null value: first ascending, last descending; ties
        // (a and d share North) by primary key.
        assert_eq!(
            names(qs().order_by([p.shop.then(s.name).asc()])).await,
            ["b", "e", "a", "d", "c"],
            "[{l}]"
        );
        assert_eq!(
            names(qs().order_by([p.shop.then(s.name).desc()])).await,
            ["c", "a", "d", "e", "b"],
            "[{l}]"
        );
        // A null far field (South has no city) and a null reference (b) sort alike.
        assert_eq!(
            names(qs().order_by([p.shop.then(s.city).asc()])).await,
            ["b", "c", "a", "d", "e"],
            "[{l}]"
        );
        assert_eq!(
            names(qs().order_by([p.shop.then(s.city).desc()])).await,
            ["e", "a", "d", "b", "c"],
            "[{l}]"
        );
        // With root keys, before and after; two keys through the same reference share a join.
        assert_eq!(
            names(qs().order_by([p.shop.then(s.city).asc(), p.name.desc()])).await,
            ["c", "b", "d", "a", "e"],
            "[{l}]"
        );
        assert_eq!(
            names(qs().order_by([p.active.asc(), p.shop.then(s.name).desc()])).await,
            ["c", "d", "a", "e", "b"],
            "[{l}]"
        );
        assert_eq!(
            names(qs().order_by([p.shop.then(s.city).desc(), p.shop.then(s.name).asc()])).await,
            ["e", "a", "d", "b", "c"],
            "[{l}]"
        );
        // Ordering by the referenced entity's key is not the root's tie-breaker: ties still
        // break by the product's key.
        assert_eq!(
            names(qs().order_by([p.shop.then(s.id).desc()])).await,
            ["e", "c", "a", "d", "b"],
            "[{l}]"
        );
        // reverse() turns every key, the tie-breaker too.
        assert_eq!(
            names(qs().order_by([p.shop.then(s.name).asc()]).reverse()).await,
            ["c", "d", "a", "e", "b"],
            "[{l}]"
        );
    }
}

#[tokio::test]
async fn order_through_chains() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let (l, p, s) = (Line::fields(), Product::fields(), Shop::fields());
        let qs = || Line::objects(db);
        // Line 2's product has no shop: the chain breaks, and it sorts like a null.
        assert_eq!(
            line_ids(qs().order_by([l.product.then(p.shop).then(s.name).asc(), l.count.asc()]))
                .await,
            [2, 1, 5, 4, 3],
            "[{label}]"
        );
        assert_eq!(
            line_ids(qs().order_by([l.product.then(p.shop).then(s.name).desc(), l.count.desc()]))
                .await,
            [3, 4, 1, 5, 2],
            "[{label}]"
        );
        // Decimals order numerically through the reference too (not as text on SQLite).
        assert_eq!(
            line_ids(qs().order_by([l.product.then(p.price).asc()])).await,
            [2, 3, 1, 4, 5],
            "[{label}]"
        );
        // Keys at different depths of one chain.
        assert_eq!(
            line_ids(qs().order_by([
                l.product.then(p.shop).then(s.city).asc(),
                l.product.then(p.name).desc(),
                l.count.asc(),
            ]))
            .await,
            [3, 2, 5, 4, 1],
            "[{label}]"
        );
        // The reference at the end of a path orders by the key it holds.
        assert_eq!(
            line_ids(qs().order_by([l.product.then(p.shop).desc(), l.id.desc()])).await,
            [3, 5, 4, 1, 2],
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn order_through_references_with_filters_and_terminals() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let (p, s) = (Product::fields(), Shop::fields());
        let by_shop = || Product::objects(db).order_by([p.shop.then(s.name).asc()]);
        // Beside a path filter (its EXISTS subquery and the order's join on one statement).
        let with_city = by_shop().filter(p.shop.matching(|s| s.city.isnull(false)));
        assert_eq!(names(with_city.clone()).await, ["e", "a", "d"], "[{label}]");
        let leeds_or_none = by_shop()
            .exclude(p.shop.matching(|s| s.city.eq("York")))
            .filter(p.qty.gte(2));
        assert_eq!(names(leeds_or_none).await, ["b", "d", "c"], "[{label}]");
        let l = Line::fields();
        let inactive = Line::objects(db)
            .filter(l.product.matching(|p| p.active.eq(false)))
            .order_by([l.product.then(p.shop).then(s.name).desc(), l.count.desc()]);
        assert_eq!(line_ids(inactive).await, [3, 4, 5], "[{label}]");
        // Slices take their window from the whole order.
        assert_eq!(names(by_shop().limit(2)).await, ["b", "e"], "[{label}]");
        assert_eq!(names(by_shop().slice(1..3)).await, ["e", "a"], "[{label}]");
        assert_eq!(names(by_shop().offset(3)).await, ["d", "c"], "[{label}]");
        let first = by_shop().first().await.expect("first").map(|p| p.name);
        assert_eq!(first.as_deref(), Some("b"), "[{label}]");
        let last = by_shop().last().await.expect("last").map(|p| p.name);
        assert_eq!(last.as_deref(), Some("c"), "[{label}]");
        let last = by_shop()
            .slice(..3)
            .last()
            .await
            .expect("last")
            .map(|p| p.name);
        assert_eq!(last.as_deref(), Some("a"), "[{label}]");
        assert_eq!(by_shop().slice(1..).count().await.unwrap(), 4, "[{label}]");
        assert!(!by_shop().offset(5).exists().await.unwrap(), "[{label}]");
        let qty = by_shop().limit(2).aggregate(p.qty.sum()).await.unwrap();
        assert_eq!(qty, Some(7), "[{label}]");
        // select_related joins the shop beside the order's own join.
        let pairs = by_shop()
            .select_related(p.shop)
            .await
            .expect("select_related");
        let got: Vec<(String, Option<String>)> = pairs
            .into_iter()
            .map(|(p, s)| (p.name, s.map(|s| s.name)))
            .collect();
        let shop = |n: &str| Some(n.to_owned());
        assert_eq!(
            got,
            [
                ("b".to_owned(), None),
                ("e".to_owned(), shop("East")),
                ("a".to_owned(), shop("North")),
                ("d".to_owned(), shop("North")),
                ("c".to_owned(), shop("South")),
            ],
            "[{label}]"
        );
        // Rows locked in a transaction (PostgreSQL locks the products only, not the outer
        // join's nullable side).
        let mut tx = db.begin().await.expect("begin");
        let locked = by_shop().select_for_update(&mut tx).await.expect("lock");
        let locked: Vec<String> = locked.into_iter().map(|p| p.name).collect();
        assert_eq!(locked, ["b", "e", "a", "d", "c"], "[{label}]");
        tx.rollback().await.expect("rollback");
    }
}

#[tokio::test]
async fn an_untyped_key_through_a_plain_field_is_an_error() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let label = t.label;
        let p = Product::fields();
        let key = OrderKey {
            field: 0,
            desc: false,
            via: vec![p.name.index()],
        };
        let err = Product::objects(db)
            .order_by([Order::from_key(key)])
            .all()
            .await
            .expect_err("a plain field leads nowhere");
        match err {
            Error::InvalidQuery { entity, message } => {
                assert_eq!(entity, "Product", "[{label}]");
                assert!(message.contains("field name"), "[{label}] {message}");
            }
            other => panic!("[{label}] {other}"),
        }
    }
}
