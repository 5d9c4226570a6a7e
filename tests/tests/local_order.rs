//! Ordering (multi-key, asc/desc, nulls, reverse, random) and slicing.

use cdms_runtime::{Db, QuerySet};
use cdms_tests::local::{databases, Product};
use rust_decimal::Decimal;

/// (name, note, qty, price)
const DATA: &[(&str, Option<&str>, i32, Option<&str>)] = &[
    ("b", Some("m"), 2, Some("10")),
    ("a", Some("z"), 2, Some("9.5")),
    ("Z", None, 1, Some("-1")),
    ("é", Some("m"), 3, None),
    ("_", Some("a"), 1, Some("100.25")),
    ("a", None, 3, Some("2")),
];

async fn seed(db: &Db) {
    let rows = DATA
        .iter()
        .map(|(n, note, q, price)| {
            let mut p = Product::new(n, *q);
            p.note = note.map(str::to_owned);
            p.price = price.map(|s| s.parse::<Decimal>().expect("decimal"));
            p
        })
        .collect();
    Product::objects(db).bulk_create(rows).await.expect("seed");
}

async fn ids(qs: QuerySet<Product>) -> Vec<i64> {
    qs.values_list(Product::fields().id).await.expect("query")
}

#[tokio::test]
async fn ordering() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = || Product::objects(db);
        let l = t.label;
        assert_eq!(
            ids(qs()).await,
            [1, 2, 3, 4, 5, 6],
            "[{l}] default order is the primary key"
        );
        assert_eq!(ids(qs().reverse()).await, [6, 5, 4, 3, 2, 1], "[{l}]");
        // Byte order of UTF-8 on both backends: "Z" < "_" < "a" < "b" < "é"; ties by pk.
        assert_eq!(
            ids(qs().order_by([f.name.asc()])).await,
            [3, 5, 2, 6, 1, 4],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.name.desc()])).await,
            [4, 1, 2, 6, 5, 3],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.qty.asc(), f.name.desc()])).await,
            [5, 3, 1, 2, 4, 6],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.qty.desc(), f.name.asc()])).await,
            [6, 4, 2, 1, 3, 5],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.qty.desc(), f.name.asc()]).reverse()).await,
            [5, 3, 1, 2, 4, 6],
            "[{l}]"
        );
        // Nulls first ascending, last descending.
        assert_eq!(
            ids(qs().order_by([f.note.asc()])).await,
            [3, 6, 5, 1, 4, 2],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.note.desc()])).await,
            [2, 1, 4, 5, 3, 6],
            "[{l}]"
        );
        // Decimals order numerically (not as text) on SQLite too.
        assert_eq!(
            ids(qs().order_by([f.price.asc()])).await,
            [4, 3, 6, 2, 1, 5],
            "[{l}]"
        );
        assert_eq!(
            ids(qs().order_by([f.price.desc()])).await,
            [5, 1, 2, 6, 3, 4],
            "[{l}]"
        );
        // A later order_by replaces the earlier one.
        assert_eq!(
            ids(qs().order_by([f.name.asc()]).order_by([f.qty.asc()])).await,
            [3, 5, 1, 2, 4, 6],
            "[{l}]"
        );
        // Random order: same rows.
        let mut shuffled = ids(qs().order_random()).await;
        shuffled.sort_unstable();
        assert_eq!(shuffled, [1, 2, 3, 4, 5, 6]);
    }
}

#[tokio::test]
async fn slicing() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = || Product::objects(db).order_by([f.name.asc()]);
        let l = t.label;
        assert_eq!(ids(qs().limit(2)).await, [3, 5], "[{l}]");
        assert_eq!(ids(qs().offset(4)).await, [1, 4], "[{l}]");
        assert_eq!(ids(qs().limit(2).offset(1)).await, [5, 2], "[{l}]");
        assert_eq!(ids(qs().slice(1..3)).await, [5, 2], "[{l}]");
        assert_eq!(ids(qs().slice(4..)).await, [1, 4], "[{l}]");
        assert_eq!(ids(qs().slice(..=1)).await, [3, 5], "[{l}]");
        assert_eq!(ids(qs().slice(1..5).slice(1..2)).await, [2], "[{l}]");
        assert_eq!(ids(qs().slice(1..3).slice(1..10)).await, [2], "[{l}]");
        assert_eq!(ids(qs().slice(10..20)).await, Vec::<i64>::new(), "[{l}]");
        assert_eq!(ids(qs().limit(0)).await, Vec::<i64>::new(), "[{l}]");
        assert_eq!(qs().slice(1..3).count().await.unwrap(), 2, "[{l}]");
        assert_eq!(qs().offset(5).count().await.unwrap(), 1, "[{l}]");
        assert!(qs().offset(5).exists().await.unwrap());
        assert!(!qs().offset(6).exists().await.unwrap());
        // first/last respect order and window.
        assert_eq!(qs().first().await.unwrap().map(|p| p.id), Some(3));
        assert_eq!(qs().last().await.unwrap().map(|p| p.id), Some(4));
        assert_eq!(
            qs().slice(1..3).last().await.unwrap().map(|p| p.id),
            Some(2)
        );
        assert_eq!(
            qs().slice(1..3).first().await.unwrap().map(|p| p.id),
            Some(5)
        );
        assert_eq!(
            Product::objects(db).last().await.unwrap().map(|p| p.id),
            Some(6)
        );
        // none(): empty without error.
        let none = Product::objects(db).none();
        assert_eq!(ids(none.clone()).await, Vec::<i64>::new());
        assert_eq!(none.count().await.unwrap(), 0);
        assert!(!none.exists().await.unwrap());
        assert!(none.first().await.unwrap().is_none());
        assert!(none.get().await.unwrap_err().is_not_found());
        assert_eq!(none.update([f.qty.set(0)]).await.unwrap(), 0);
        assert_eq!(none.delete().await.unwrap(), 0);
        assert_eq!(Product::objects(db).count().await.unwrap(), 6);
    }
}
