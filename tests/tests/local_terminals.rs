//! Read terminals: get, count, exists, in_bulk, earliest/latest, projections, aggregates,
//! dates, raw SQL and select_for_update.

use cdms_runtime::query::{DateTrunc, TimeTrunc};
use cdms_runtime::store::{Backend, Param};
use cdms_runtime::{Db, Error, Value};
use cdms_tests::local::{at, databases, day, Product};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// (name, qty, price, at, weight)
type Seed = (
    &'static str,
    i32,
    Option<&'static str>,
    Option<&'static str>,
    Option<f64>,
);

const DATA: &[Seed] = &[
    (
        "a",
        3,
        Some("1.10"),
        Some("2016-01-03T10:20:30.5Z"),
        Some(1.0),
    ),
    (
        "b",
        1,
        Some("2.205"),
        Some("2016-01-03T10:59:00Z"),
        Some(2.0),
    ),
    ("c", 2, None, Some("2017-06-01T00:00:00Z"), None),
    ("d", 5, Some("-0.5"), None, Some(4.5)),
    ("b", 4, Some("100"), Some("2015-12-31T23:00:00Z"), Some(0.5)),
];

async fn seed(db: &Db) -> Vec<Product> {
    let rows = DATA
        .iter()
        .map(|(n, q, price, t, w)| {
            let mut p = Product::new(n, *q);
            p.price = price.map(dec);
            p.at = t.map(at);
            p.day = t.map(|s| at(s).date_naive());
            p.weight = *w;
            p
        })
        .collect();
    Product::objects(db).bulk_create(rows).await.expect("seed")
}

#[tokio::test]
async fn get_count_exists_in_bulk() {
    for t in databases().await {
        let db = &t.db;
        let seeded = seed(db).await;
        let f = Product::fields();
        let qs = Product::objects(db);
        assert_eq!(
            qs.clone().filter(f.name.eq("a")).get().await.unwrap(),
            seeded[0]
        );
        match qs.clone().filter(f.name.eq("b")).get().await.unwrap_err() {
            Error::MultipleFound {
                entity,
                count,
                query,
            } => {
                assert_eq!((entity, count), ("Product", 2));
                assert_eq!(query, "name = \"b\"");
            }
            other => panic!("[{}] {other}", t.label),
        }
        match qs
            .clone()
            .filter(f.name.eq("zz") & !f.qty.lt(-1000))
            .get()
            .await
            .unwrap_err()
        {
            Error::NotFound { entity, query } => {
                assert_eq!(entity, "Product");
                assert!(query.starts_with("name = \"zz\""), "{query}");
            }
            other => panic!("[{}] {other}", t.label),
        }
        assert_eq!(qs.count().await.unwrap(), 5);
        assert_eq!(qs.clone().filter(f.qty.gt(2)).count().await.unwrap(), 3);
        assert!(qs.clone().filter(f.qty.gt(4)).exists().await.unwrap());
        assert!(!qs.clone().filter(f.qty.gt(5)).exists().await.unwrap());
        let bulk = qs.in_bulk([seeded[1].id, seeded[3].id, 999]).await.unwrap();
        assert_eq!(bulk.len(), 2);
        assert_eq!(bulk[&seeded[3].id], seeded[3]);
        let filtered = qs
            .clone()
            .filter(f.qty.gt(1))
            .in_bulk([seeded[1].id, seeded[3].id])
            .await
            .unwrap();
        assert_eq!(filtered.keys().copied().collect::<Vec<_>>(), [seeded[3].id]);
        assert!(qs.in_bulk([]).await.unwrap().is_empty());
        assert!(matches!(
            qs.clone().limit(1).in_bulk([1]).await.unwrap_err(),
            Error::InvalidQuery { .. }
        ));
        // earliest/latest ignore nulls and the current order.
        assert_eq!(qs.earliest(f.at).await.unwrap().id, seeded[4].id);
        assert_eq!(qs.latest(f.at).await.unwrap().id, seeded[2].id);
        assert_eq!(
            qs.clone()
                .order_by([f.qty.desc()])
                .earliest(f.price)
                .await
                .unwrap()
                .id,
            seeded[3].id
        );
        assert_eq!(qs.latest(f.price).await.unwrap().id, seeded[4].id);
        assert_eq!(qs.latest(f.name).await.unwrap().id, seeded[3].id);
        assert!(qs
            .clone()
            .filter(f.qty.gt(9))
            .latest(f.at)
            .await
            .unwrap_err()
            .is_not_found());
    }
}

#[tokio::test]
async fn projections() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = Product::objects(db).order_by([f.qty.asc()]);
        assert_eq!(qs.values_list(f.qty).await.unwrap(), [1, 2, 3, 4, 5]);
        let pairs: Vec<(String, Option<Decimal>)> =
            qs.values_list((f.name, f.price)).await.unwrap();
        assert_eq!(pairs[0], ("b".to_owned(), Some(dec("2.205"))));
        assert_eq!(pairs[1], ("c".to_owned(), None));
        let quads = qs
            .clone()
            .limit(1)
            .values_list((f.id, f.name, f.active, f.weight))
            .await
            .unwrap();
        assert_eq!(quads, [(2, "b".to_owned(), true, Some(2.0))]);
        let maps = qs
            .clone()
            .filter(f.name.eq("a"))
            .values((f.name, f.qty))
            .await
            .unwrap();
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0]["name"], Value::Text("a".into()));
        assert_eq!(maps[0]["qty"], Value::Int(3));
        assert_eq!(maps[0].len(), 2);
        let all = qs.clone().filter(f.name.eq("a")).values(()).await.unwrap();
        assert_eq!(all[0].len(), 16);
        assert_eq!(all[0]["price"], Value::Decimal(dec("1.1")));
        assert!(matches!(
            qs.values_list(()).await.unwrap_err(),
            Error::InvalidQuery { .. }
        ));
    }
}

#[tokio::test]
async fn aggregates() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = Product::objects(db);
        let l = t.label;
        assert_eq!(qs.aggregate(f.qty.sum()).await.unwrap(), Some(15), "[{l}]");
        assert_eq!(qs.aggregate(f.qty.min()).await.unwrap(), Some(1), "[{l}]");
        assert_eq!(qs.aggregate(f.qty.max()).await.unwrap(), Some(5), "[{l}]");
        assert_eq!(qs.aggregate(f.qty.avg()).await.unwrap(), Some(3.0), "[{l}]");
        assert_eq!(qs.aggregate(f.qty.count()).await.unwrap(), 5, "[{l}]");
        assert_eq!(qs.aggregate(f.price.count()).await.unwrap(), 4, "[{l}]");
        assert_eq!(
            qs.aggregate(f.price.sum()).await.unwrap(),
            Some(dec("102.805")),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.price.min()).await.unwrap(),
            Some(dec("-0.5")),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.price.max()).await.unwrap(),
            Some(dec("100")),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.price.avg()).await.unwrap(),
            Some(25.70125),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.weight.sum()).await.unwrap(),
            Some(8.0),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.name.max()).await.unwrap(),
            Some("d".to_owned()),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.at.min()).await.unwrap(),
            Some(at("2015-12-31T23:00:00Z")),
            "[{l}]"
        );
        assert_eq!(
            qs.aggregate(f.day.max()).await.unwrap(),
            Some(day("2017-06-01")),
            "[{l}]"
        );
        // Over a filtered, ordered window.
        let window = qs.clone().order_by([f.qty.desc()]).limit(2);
        assert_eq!(
            window.aggregate(f.qty.sum()).await.unwrap(),
            Some(9),
            "[{l}]"
        );
        assert_eq!(
            window.aggregate(f.price.sum()).await.unwrap(),
            Some(dec("99.5")),
            "[{l}]"
        );
        // Empty sets.
        let empty = qs.clone().filter(f.qty.gt(100));
        assert_eq!(empty.aggregate(f.qty.sum()).await.unwrap(), None, "[{l}]");
        assert_eq!(empty.aggregate(f.price.avg()).await.unwrap(), None, "[{l}]");
        assert_eq!(empty.aggregate(f.qty.count()).await.unwrap(), 0, "[{l}]");
        assert_eq!(
            qs.clone().none().aggregate(f.price.max()).await.unwrap(),
            None,
            "[{l}]"
        );
    }
}

#[tokio::test]
async fn dates_and_datetimes() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let qs = Product::objects(db);
        assert_eq!(
            qs.dates(f.at, DateTrunc::Year).await.unwrap(),
            [day("2015-01-01"), day("2016-01-01"), day("2017-01-01")]
        );
        assert_eq!(
            qs.dates(f.day, DateTrunc::Month).await.unwrap(),
            [day("2015-12-01"), day("2016-01-01"), day("2017-06-01")]
        );
        assert_eq!(
            qs.dates(f.at, DateTrunc::Day).await.unwrap(),
            [day("2015-12-31"), day("2016-01-03"), day("2017-06-01")]
        );
        assert_eq!(
            qs.clone()
                .filter(f.at.year().eq(2016))
                .datetimes(f.at, TimeTrunc::Hour)
                .await
                .unwrap(),
            [at("2016-01-03T10:00:00Z")]
        );
        assert_eq!(
            qs.clone()
                .filter(f.at.year().eq(2016))
                .datetimes(f.at, TimeTrunc::Minute)
                .await
                .unwrap(),
            [at("2016-01-03T10:20:00Z"), at("2016-01-03T10:59:00Z")]
        );
        assert_eq!(
            qs.datetimes(f.at, TimeTrunc::Second).await.unwrap()[1],
            at("2016-01-03T10:20:30Z")
        );
    }
}

#[tokio::test]
async fn raw_sql_and_select_for_update() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let statement = match t.backend() {
            Backend::Sqlite => "SELECT * FROM product WHERE qty > ? ORDER BY qty",
            Backend::Postgres => "SELECT * FROM product WHERE qty > $1 ORDER BY qty",
        };
        let raw = Product::objects(db)
            .raw(
                statement,
                &[Param::new(Value::Int(3), cdms_runtime::Kind::Int32)],
            )
            .await
            .unwrap();
        assert_eq!(
            raw.iter().map(|p| p.qty).collect::<Vec<_>>(),
            [4, 5],
            "[{}]",
            t.label
        );

        let mut tx = db.begin().await.unwrap();
        let locked = Product::objects(db)
            .filter(f.name.eq("b"))
            .select_for_update(&mut tx)
            .await
            .unwrap();
        assert_eq!(locked.len(), 2);
        for mut p in locked {
            p.qty += 10;
            cdms_runtime::query::EntityExt::save_in(&mut p, &mut tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(
            Product::objects(db)
                .filter(f.qty.gt(10))
                .count()
                .await
                .unwrap(),
            2
        );
    }
}
