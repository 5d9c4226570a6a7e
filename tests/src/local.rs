//! Plain test entities (no remote) covering every field kind, with constructors.

use cdms_runtime::query::EntityExt;
use cdms_runtime::{Db, Entity, EntityMeta, OptionSet, Ref};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::{migrated, TestDb};

/// A colour option set (no fallback variant: an unknown stored code is a decode error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
#[repr(i32)]
pub enum Colour {
    /// 1
    Red = 1,
    /// 2
    Green = 2,
    /// 3
    Blue = 3,
}

/// A shop: the parent of products.
#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "shop")]
pub struct Shop {
    /// Local key.
    #[entity(primary_key)]
    pub id: i64,
    /// Unique name.
    #[entity(unique)]
    pub name: String,
    /// Optional city.
    pub city: Option<String>,
}

/// A product: one field of every kind, nullable and not.
#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "product")]
pub struct Product {
    /// Local key.
    #[entity(primary_key)]
    pub id: i64,
    /// Required text.
    pub name: String,
    /// Optional text.
    pub note: Option<String>,
    /// Optional unique text.
    #[entity(unique)]
    pub sku: Option<String>,
    /// Required i32.
    pub qty: i32,
    /// Optional i64.
    pub big: Option<i64>,
    /// Optional f64.
    pub weight: Option<f64>,
    /// Optional decimal.
    pub price: Option<Decimal>,
    /// Required bool.
    pub active: bool,
    /// Optional datetime.
    pub at: Option<DateTime<Utc>>,
    /// Optional date.
    pub day: Option<NaiveDate>,
    /// Optional UUID.
    pub uid: Option<Uuid>,
    /// Optional option set.
    pub colour: Option<Colour>,
    /// Optional reference.
    pub shop: Option<Ref<Shop>>,
    /// Stamped on every local write.
    #[entity(modified)]
    pub modified: DateTime<Utc>,
    /// Stamped on insert when unset.
    #[entity(created)]
    pub created: Option<DateTime<Utc>>,
}

impl Product {
    /// A product with `name` and `qty`, every optional field empty.
    pub fn new(name: &str, qty: i32) -> Self {
        Product {
            id: 0,
            name: name.to_owned(),
            note: None,
            sku: None,
            qty,
            big: None,
            weight: None,
            price: None,
            active: true,
            at: None,
            day: None,
            uid: None,
            colour: None,
            shop: None,
            modified: DateTime::default(),
            created: None,
        }
    }
}

/// An order line: a required reference.
#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "line")]
pub struct Line {
    /// Local key.
    #[entity(primary_key)]
    pub id: i64,
    /// The product (required).
    pub product: Ref<Product>,
    /// How many.
    pub count: i32,
}

/// The test entities in reference order.
pub fn entities() -> Vec<&'static EntityMeta> {
    vec![Shop::META, Product::META, Line::META]
}

/// Fresh databases (see [`crate::db::backends`]) with the test entities' tables.
pub async fn databases() -> Vec<TestDb> {
    migrated(&entities()).await
}

/// Parses an RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test datetime")
        .with_timezone(&Utc)
}

/// Parses `YYYY-MM-DD`.
pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// The shops, products and lines the path and ordering tests share.
///
/// Shops (name, city): North (Leeds), South (no city), East (York), West (Leeds, no product).
/// Products (name, qty, active, price, shop): a 1 ✔ 10 North; b 2 ✔ – (no shop); c 3 ✘ 9.5
/// South; d 4 ✘ 100.25 North; e 5 ✔ 2 East. Lines (product×count): 1 a×1, 2 b×2, 3 c×3,
/// 4 d×4, 5 d×1.
pub async fn seed_shops(db: &Db) {
    let mut shops = Vec::new();
    for (name, city) in [
        ("North", Some("Leeds")),
        ("South", None),
        ("East", Some("York")),
        ("West", Some("Leeds")),
    ] {
        let mut s = Shop {
            id: 0,
            name: name.into(),
            city: city.map(str::to_owned),
        };
        s.save(db).await.expect("shop");
        shops.push(s);
    }
    let mut products = Vec::new();
    for (name, qty, active, price, shop) in [
        ("a", 1, true, Some("10"), Some(0)),
        ("b", 2, true, None, None),
        ("c", 3, false, Some("9.5"), Some(1)),
        ("d", 4, false, Some("100.25"), Some(0)),
        ("e", 5, true, Some("2"), Some(2)),
    ] {
        let mut p = Product::new(name, qty);
        p.active = active;
        p.price = price.map(|s| s.parse::<Decimal>().expect("decimal"));
        p.shop = shop.map(|i: usize| Ref::to(&shops[i]));
        p.save(db).await.expect("product");
        products.push(p);
    }
    for (product, count) in [(0, 1), (1, 2), (2, 3), (3, 4), (3, 1)] {
        let mut l = Line {
            id: 0,
            product: Ref::to(&products[product]),
            count,
        };
        l.save(db).await.expect("line");
    }
}
