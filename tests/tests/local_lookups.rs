//! Every lookup, on SQLite and (with `DATABASE_URL`) PostgreSQL, with identical expectations.
//! Text data includes non-ASCII letters, quotes, `%`, `_` and `\`.

use cdms_runtime::{Db, QuerySet, Ref, Q};
use cdms_tests::local::{at, databases, day, Colour, Product, Shop};
use rust_decimal::Decimal;
use uuid::Uuid;

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// name, note, qty, price, at, day, weight
type Seed = (
    &'static str,
    Option<&'static str>,
    i32,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<f64>,
);

const DATA: &[Seed] = &[
    (
        "Acme",
        Some("first"),
        10,
        Some("1.50"),
        Some("2016-01-03T23:59:59.999999Z"),
        Some("2016-01-03"),
        Some(1.5),
    ),
    (
        "acme corp",
        None,
        20,
        Some("10"),
        Some("2016-02-29T00:00:00Z"),
        Some("2016-02-29"),
        Some(-2.25),
    ),
    (
        "ÄRGER äpfel",
        Some("Ünïcödé"),
        30,
        Some("-3.333"),
        Some("2017-12-31T12:30:45.5Z"),
        Some("2017-12-31"),
        None,
    ),
    ("50% off_sale", Some("a%b"), 40, None, None, None, Some(0.0)),
    (
        "back\\slash",
        Some("x_y"),
        50,
        Some("1000000.000001"),
        Some("1999-07-04T06:07:08Z"),
        Some("1999-07-04"),
        Some(1e10),
    ),
    (
        "O'Brien",
        Some(""),
        -5,
        Some("0"),
        Some("2016-01-09T01:02:03Z"),
        Some("2016-01-09"),
        Some(3.0),
    ),
];

async fn seed(db: &Db) -> Vec<Product> {
    let mut shop = Shop {
        id: 0,
        name: "Main".into(),
        city: None,
    };
    cdms_runtime::query::EntityExt::save(&mut shop, db)
        .await
        .expect("shop");
    let products: Vec<Product> = DATA
        .iter()
        .enumerate()
        .map(|(i, (name, note, qty, price, t, d, w))| {
            let mut p = Product::new(name, *qty);
            p.note = note.map(str::to_owned);
            p.price = price.map(dec);
            p.at = t.map(at);
            p.day = d.map(day);
            p.weight = *w;
            p.active = i % 2 == 0;
            p.big = Some(i64::from(*qty) * 1_000_000_000);
            p.uid = Some(Uuid::from_u128(i as u128 + 1));
            p.colour = [Some(Colour::Red), Some(Colour::Green), None][i % 3];
            p.shop = (i < 2).then(|| Ref::to(&shop));
            p.sku = Some(format!("SKU-{i}"));
            p
        })
        .collect();
    Product::objects(db)
        .bulk_create(products)
        .await
        .expect("seed")
}

async fn names(qs: QuerySet<Product>) -> Vec<String> {
    qs.values_list(Product::fields().name).await.expect("query")
}

async fn check(db: &Db, label: &str, q: Q<Product>, expected: &[&str]) {
    let got = names(Product::objects(db).filter(q.clone())).await;
    assert_eq!(got, expected, "[{label}] filter {q:?}");
    // The complement: exclude(q) is exactly the other rows (two-valued logic).
    let all = names(Product::objects(db)).await;
    let rest: Vec<&String> = all
        .iter()
        .filter(|n| !expected.contains(&n.as_str()))
        .collect();
    let excluded = names(Product::objects(db).exclude(q.clone())).await;
    assert_eq!(
        excluded.iter().collect::<Vec<_>>(),
        rest,
        "[{label}] exclude {q:?}"
    );
}

const ACME: &str = "Acme";
const CORP: &str = "acme corp";
const ARGER: &str = "ÄRGER äpfel";
const SALE: &str = "50% off_sale";
const BACK: &str = "back\\slash";
const OBRIEN: &str = "O'Brien";

#[tokio::test]
async fn text_lookups() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let l = t.label;
        check(db, l, f.name.eq("Acme"), &[ACME]).await;
        check(db, l, f.name.eq("acme"), &[]).await;
        check(db, l, f.name.eq("O'Brien"), &[OBRIEN]).await;
        check(db, l, f.name.iexact("ACME"), &[ACME]).await;
        check(db, l, f.name.iexact("ärger äpfel"), &[]).await;
        check(db, l, f.name.iexact("Ärger äPFEL"), &[ARGER]).await;
        check(db, l, f.name.iexact("o'brien"), &[OBRIEN]).await;
        check(db, l, f.name.contains("cme"), &[ACME, CORP]).await;
        check(db, l, f.name.contains("CME"), &[]).await;
        check(db, l, f.name.contains("%"), &[SALE]).await;
        check(db, l, f.name.contains("_"), &[SALE]).await;
        check(db, l, f.name.contains("0%"), &[SALE]).await;
        check(db, l, f.name.contains("\\"), &[BACK]).await;
        check(db, l, f.name.contains("'"), &[OBRIEN]).await;
        check(db, l, f.name.contains("äp"), &[ARGER]).await;
        check(db, l, f.name.contains("är"), &[]).await;
        check(
            db,
            l,
            f.name.contains(""),
            &[ACME, CORP, ARGER, SALE, BACK, OBRIEN],
        )
        .await;
        check(db, l, f.name.icontains("ACME"), &[ACME, CORP]).await;
        check(db, l, f.name.icontains("ärger"), &[]).await;
        check(db, l, f.name.icontains("Ärger ÄP"), &[]).await;
        check(db, l, f.name.icontains("Ärger äp"), &[ARGER]).await;
        check(db, l, f.name.icontains("_SALE"), &[SALE]).await;
        check(db, l, f.name.icontains("%"), &[SALE]).await;
        check(db, l, f.name.icontains("K\\S"), &[BACK]).await;
        check(db, l, f.name.startswith("Ac"), &[ACME]).await;
        check(db, l, f.name.startswith("50%"), &[SALE]).await;
        check(db, l, f.name.startswith("5_"), &[]).await;
        check(db, l, f.name.startswith("Ä"), &[ARGER]).await;
        check(db, l, f.name.istartswith("AC"), &[ACME, CORP]).await;
        check(db, l, f.name.istartswith("ä"), &[]).await;
        check(db, l, f.name.istartswith("o'"), &[OBRIEN]).await;
        check(db, l, f.name.endswith("corp"), &[CORP]).await;
        check(db, l, f.name.endswith("_sale"), &[SALE]).await;
        check(db, l, f.name.endswith("\\slash"), &[BACK]).await;
        check(
            db,
            l,
            f.name
                .endswith("a very long suffix that is longer than every name"),
            &[],
        )
        .await;
        check(db, l, f.name.iendswith("CORP"), &[CORP]).await;
        check(db, l, f.name.iendswith("ÄPFEL"), &[]).await;
        check(db, l, f.name.iendswith("äPFEL"), &[ARGER]).await;
        check(db, l, f.name.regex("^[A-Z]"), &[ACME, OBRIEN]).await;
        check(db, l, f.name.regex("^a.*p$"), &[CORP]).await;
        check(db, l, f.name.regex("\\d+%"), &[SALE]).await;
        check(db, l, f.name.regex("^Ä"), &[ARGER]).await;
        check(db, l, f.name.iregex("^acme"), &[ACME, CORP]).await;
        check(db, l, f.name.iregex("^ä"), &[]).await;
        check(db, l, f.name.iregex("^[^a]"), &[ARGER, SALE, BACK, OBRIEN]).await;
        check(db, l, f.name.iregex("BRIEN$|^B"), &[BACK, OBRIEN]).await;
        check(
            db,
            l,
            f.name.is_in(["Acme", "O'Brien", "nope"]),
            &[ACME, OBRIEN],
        )
        .await;
        check(db, l, f.name.is_in(Vec::<String>::new()), &[]).await;
        check(db, l, f.name.gt("a"), &[CORP, ARGER, BACK]).await;
        check(db, l, f.name.lte("O'Brien"), &[ACME, SALE, OBRIEN]).await;
        // Nullable text: lookups never match null, their negation does.
        check(db, l, f.note.contains("_"), &[BACK]).await;
        check(db, l, f.note.icontains("A%"), &[SALE]).await;
        check(db, l, f.note.eq(""), &[OBRIEN]).await;
        check(db, l, f.note.isnull(true), &[CORP]).await;
        check(
            db,
            l,
            f.note.isnull(false),
            &[ACME, ARGER, SALE, BACK, OBRIEN],
        )
        .await;
        check(
            db,
            l,
            f.note.ne("first"),
            &[CORP, ARGER, SALE, BACK, OBRIEN],
        )
        .await;
        check(db, l, f.note.iexact("ÜNÏCÖDÉ"), &[]).await;
        check(db, l, f.note.iexact("ünïcödé"), &[]).await;
        check(db, l, f.note.iexact("Ünïcödé"), &[ARGER]).await;
        check(db, l, f.sku.eq("SKU-3"), &[SALE]).await;
    }
}

#[tokio::test]
async fn number_lookups() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let l = t.label;
        check(db, l, f.qty.eq(10), &[ACME]).await;
        check(db, l, f.qty.gt(30), &[SALE, BACK]).await;
        check(db, l, f.qty.gte(30), &[ARGER, SALE, BACK]).await;
        check(db, l, f.qty.lt(10), &[OBRIEN]).await;
        check(db, l, f.qty.lte(10), &[ACME, OBRIEN]).await;
        check(db, l, f.qty.range(10, 30), &[ACME, CORP, ARGER]).await;
        check(db, l, f.qty.is_in([-5, 50, 7]), &[BACK, OBRIEN]).await;
        check(db, l, f.big.gt(25_000_000_000_i64), &[ARGER, SALE, BACK]).await;
        check(db, l, f.weight.lt(1.0), &[CORP, SALE]).await;
        check(db, l, f.weight.gte(3.0), &[BACK, OBRIEN]).await;
        check(db, l, f.weight.eq(0.0), &[SALE]).await;
        check(db, l, f.weight.isnull(true), &[ARGER]).await;
        check(db, l, f.price.eq(dec("1.5")), &[ACME]).await;
        check(db, l, f.price.eq(dec("1.500")), &[ACME]).await;
        check(db, l, f.price.eq(dec("10.0")), &[CORP]).await;
        check(db, l, f.price.gt(dec("1.5")), &[CORP, BACK]).await;
        check(db, l, f.price.gte(dec("1.5")), &[ACME, CORP, BACK]).await;
        check(db, l, f.price.lt(dec("0")), &[ARGER]).await;
        check(db, l, f.price.lte(dec("0.0")), &[ARGER, OBRIEN]).await;
        check(
            db,
            l,
            f.price.range(dec("-3.333"), dec("9.99")),
            &[ACME, ARGER, OBRIEN],
        )
        .await;
        check(
            db,
            l,
            f.price.is_in([dec("0"), dec("10.00")]),
            &[CORP, OBRIEN],
        )
        .await;
        check(db, l, f.active.eq(true), &[ACME, ARGER, BACK]).await;
        check(db, l, f.active.ne(true), &[CORP, SALE, OBRIEN]).await;
        check(db, l, f.uid.eq(Uuid::from_u128(2)), &[CORP]).await;
        check(
            db,
            l,
            f.uid.is_in([Uuid::from_u128(1), Uuid::from_u128(6)]),
            &[ACME, OBRIEN],
        )
        .await;
        check(db, l, f.colour.eq(Colour::Green), &[CORP, BACK]).await;
        check(db, l, f.colour.isnull(true), &[ARGER, OBRIEN]).await;
        check(
            db,
            l,
            f.colour.is_in([Colour::Red, Colour::Blue]),
            &[ACME, SALE],
        )
        .await;
        let shop = Shop::objects(db).get().await.expect("shop");
        check(db, l, f.shop.eq(Ref::to(&shop)), &[ACME, CORP]).await;
        check(db, l, f.shop.isnull(true), &[ARGER, SALE, BACK, OBRIEN]).await;
    }
}

#[tokio::test]
async fn date_lookups() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let f = Product::fields();
        let l = t.label;
        check(db, l, f.at.eq(at("2016-02-29T00:00:00Z")), &[CORP]).await;
        check(
            db,
            l,
            f.at.gt(at("2016-01-03T23:59:59.999999Z")),
            &[CORP, ARGER, OBRIEN],
        )
        .await;
        check(
            db,
            l,
            f.at.gte(at("2016-01-03T23:59:59.999999Z")),
            &[ACME, CORP, ARGER, OBRIEN],
        )
        .await;
        check(db, l, f.at.lt(at("2016-01-04T00:00:00Z")), &[ACME, BACK]).await;
        check(db, l, f.at.lte(at("1999-07-04T06:07:08Z")), &[BACK]).await;
        check(
            db,
            l,
            f.at.range(at("2016-01-01T00:00:00Z"), at("2016-12-31T23:59:59Z")),
            &[ACME, CORP, OBRIEN],
        )
        .await;
        // Bounds finer than the stored microseconds keep their exact meaning.
        let x = at("2016-01-03T23:59:59.999999Z");
        let ns = chrono::Duration::nanoseconds(1);
        check(db, l, f.at.lt(x + ns), &[ACME, BACK]).await;
        check(db, l, f.at.gt(x - ns), &[ACME, CORP, ARGER, OBRIEN]).await;
        check(db, l, f.at.lte(x - ns), &[BACK]).await;
        check(db, l, f.at.gte(x + ns), &[CORP, ARGER, OBRIEN]).await;
        check(db, l, f.at.eq(x + ns), &[]).await;
        check(db, l, f.at.is_in([x + ns, x]), &[ACME]).await;
        check(db, l, f.at.range(x - ns, x + ns), &[ACME]).await;
        check(db, l, f.at.year().eq(2016), &[ACME, CORP, OBRIEN]).await;
        check(db, l, f.at.year().gte(2017), &[ARGER]).await;
        check(db, l, f.at.month().eq(1), &[ACME, OBRIEN]).await;
        check(db, l, f.at.month().is_in([2, 7]), &[CORP, BACK]).await;
        check(db, l, f.at.day().eq(29), &[CORP]).await;
        check(db, l, f.at.day().range(3, 9), &[ACME, BACK, OBRIEN]).await;
        // 2016-01-03 was a Sunday (1), 2016-02-29 a Monday, 2017-12-31 a Sunday,
        // 1999-07-04 a Sunday, 2016-01-09 a Saturday (7).
        check(db, l, f.at.week_day().eq(1), &[ACME, ARGER, BACK]).await;
        check(db, l, f.at.week_day().eq(2), &[CORP]).await;
        check(db, l, f.at.week_day().eq(7), &[OBRIEN]).await;
        check(db, l, f.at.hour().eq(23), &[ACME]).await;
        check(db, l, f.at.hour().lt(2), &[CORP, OBRIEN]).await;
        check(db, l, f.at.minute().eq(30), &[ARGER]).await;
        check(db, l, f.at.minute().gt(2), &[ACME, ARGER, BACK]).await;
        check(db, l, f.at.second().eq(59), &[ACME]).await;
        check(db, l, f.at.second().eq(45), &[ARGER]).await;
        check(db, l, f.at.second().lte(3), &[CORP, OBRIEN]).await;
        check(db, l, f.day.eq(day("2016-02-29")), &[CORP]).await;
        check(db, l, f.day.gt(day("2016-01-09")), &[CORP, ARGER]).await;
        check(
            db,
            l,
            f.day.range(day("1999-01-01"), day("2016-01-03")),
            &[ACME, BACK],
        )
        .await;
        check(db, l, f.day.year().eq(1999), &[BACK]).await;
        check(db, l, f.day.month().eq(12), &[ARGER]).await;
        check(db, l, f.day.day().eq(9), &[OBRIEN]).await;
        check(db, l, f.day.week_day().eq(1), &[ACME, ARGER, BACK]).await;
        check(db, l, f.day.isnull(true), &[SALE]).await;
    }
}

#[tokio::test]
async fn invalid_regex_is_a_typed_error() {
    for t in databases().await {
        let db = &t.db;
        seed(db).await;
        let err = Product::objects(db)
            .filter(Product::fields().name.regex("("))
            .count()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                cdms_runtime::Error::InvalidQuery {
                    entity: "Product",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("name"), "{err}");
    }
}
