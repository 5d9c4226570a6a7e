//! Combinations: `&`, `|`, `!`, chained `filter`/`exclude`, nesting, and null semantics.

use cdms_runtime::{Db, QuerySet, Q};
use cdms_tests::local::{databases, Product};

/// (name, note, qty)
const DATA: &[(&str, Option<&str>, i32)] = &[
    ("a", Some("x"), 1),
    ("b", Some("y"), 2),
    ("c", None, 3),
    ("d", Some("x"), 4),
    ("e", None, 5),
];

async fn seed(db: &Db) {
    let rows = DATA
        .iter()
        .map(|(n, note, q)| {
            let mut p = Product::new(n, *q);
            p.note = note.map(str::to_owned);
            p
        })
        .collect();
    Product::objects(db).bulk_create(rows).await.expect("seed");
}

async fn names(qs: QuerySet<Product>) -> String {
    qs.values_list(Product::fields().name)
        .await
        .expect("query")
        .concat()
}

#[tokio::test]
async fn combinations() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = || Product::objects(db);
        let cases: Vec<(Q<Product>, &str)> = vec![
            (f.qty.gt(1) & f.qty.lt(5), "bcd"),
            (f.qty.eq(1) | f.qty.eq(5), "ae"),
            (!f.note.eq("x"), "bce"),
            (!(f.note.eq("x") | f.note.eq("y")), "ce"),
            (!f.note.eq("x") & !f.note.isnull(true), "b"),
            ((f.qty.gte(2) & f.qty.lte(4)) | f.note.isnull(true), "bcde"),
            (!((f.qty.gte(2) & f.note.eq("x")) | f.name.eq("a")), "bce"),
            (!!f.note.eq("x"), "ad"),
            (
                f.qty.gt(1) & (f.note.eq("y") | (f.note.isnull(true) & f.qty.lt(5))),
                "bc",
            ),
            (Q::all(), "abcde"),
            (Q::nothing(), ""),
            (!Q::nothing(), "abcde"),
            (f.qty.gt(1) | Q::nothing(), "bcde"),
            (f.qty.gt(1) & Q::all(), "bcde"),
        ];
        for (q, expected) in cases {
            assert_eq!(
                names(qs().filter(q.clone())).await,
                expected,
                "[{}] {q:?}",
                t.label
            );
        }
        // Chains: filter∘filter is AND, exclude is AND NOT, in any order.
        assert_eq!(
            names(qs().filter(f.qty.gt(1)).filter(f.qty.lt(5))).await,
            "bcd"
        );
        assert_eq!(names(qs().exclude(f.note.eq("x"))).await, "bce");
        assert_eq!(
            names(qs().exclude(f.note.eq("x")).exclude(f.note.eq("y"))).await,
            "ce"
        );
        assert_eq!(
            names(qs().exclude(f.qty.eq(1) & f.note.eq("x"))).await,
            "bcde"
        );
        assert_eq!(
            names(qs().exclude(f.qty.eq(1) | f.note.eq("y"))).await,
            "cde"
        );
        assert_eq!(
            names(qs().filter(f.note.eq("x")).exclude(f.qty.eq(1))).await,
            "d"
        );
        assert_eq!(
            names(
                qs().filter(f.qty.lt(3) | f.note.isnull(true))
                    .exclude(f.qty.eq(1) & f.note.eq("x"))
            )
            .await,
            "bce"
        );
        // ne on a nullable field keeps nulls (Django semantics).
        assert_eq!(names(qs().filter(f.note.ne("x"))).await, "bce");
        assert_eq!(qs().exclude(f.note.eq("x")).count().await.unwrap(), 3);
        // A filter after none() still matches nothing.
        assert_eq!(names(qs().none().filter(f.qty.gt(0))).await, "");
    }
}
