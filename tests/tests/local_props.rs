//! Property test: for random rows and random filter trees, the database returns exactly the
//! rows an evaluation in Rust selects (two-valued logic, ASCII-only case folding, byte order),
//! on SQLite and — with `DATABASE_URL` — PostgreSQL, which are therefore identical.

use cdms_runtime::{Db, Q};
use cdms_tests::db::TestDb;
use cdms_tests::local::{at, databases, Product};
use chrono::{DateTime, Datelike, Timelike, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;

const ALPHABET: &[char] = &['a', 'A', 'b', 'ä', 'Ä', '%', '_', '\\', '\'', ' '];
const PRICES: &[&str] = &["0", "1.5", "-2.25", "10", "0.001", "1.50"];
const INSTANTS: &[&str] = &[
    "2016-01-03T23:59:59.999999Z",
    "2016-01-04T00:00:00Z",
    "2015-12-31T12:30:00.5Z",
    "2017-06-10T05:05:05Z",
];

#[derive(Debug, Clone)]
struct Data {
    name: String,
    note: Option<String>,
    qty: i32,
    price: Option<Decimal>,
    at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
enum TextOp {
    Exact,
    IExact,
    Contains,
    IContains,
    StartsWith,
    IStartsWith,
    EndsWith,
    IEndsWith,
    Gt,
    Lte,
}

/// A text pattern: a literal, or a piece of some row's value with some letters' case flipped
/// (so that patterns often almost-match the data).
#[derive(Debug, Clone)]
enum Pat {
    Literal(String),
    FromRow {
        row: usize,
        start: usize,
        len: usize,
        flips: u8,
    },
}

fn flip(c: char) -> char {
    match c {
        'ä' => 'Ä',
        'Ä' => 'ä',
        c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
        c => c.to_ascii_lowercase(),
    }
}

impl Pat {
    fn resolve(&self, rows: &[Data], note: bool) -> String {
        match self {
            Pat::Literal(s) => s.clone(),
            Pat::FromRow { .. } if rows.is_empty() => String::new(),
            Pat::FromRow {
                row,
                start,
                len,
                flips,
            } => {
                let d = &rows[row % rows.len()];
                let source = if note {
                    d.note.as_deref().unwrap_or(&d.name)
                } else {
                    &d.name
                };
                let chars: Vec<char> = source.chars().collect();
                let start = start % (chars.len() + 1);
                chars[start..]
                    .iter()
                    .take(*len)
                    .enumerate()
                    .map(|(i, c)| {
                        if flips & (1 << (i % 8)) != 0 {
                            flip(*c)
                        } else {
                            *c
                        }
                    })
                    .collect()
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Cond {
    Name(TextOp, Pat),
    Note(TextOp, Pat),
    NoteNull(bool),
    NameIn(Vec<String>),
    QtyGt(i32),
    QtyRange(i32, i32),
    QtyIn(Vec<i32>),
    PriceGte(Decimal),
    PriceEq(Decimal),
    AtYear(i32),
    AtWeekDay(i32),
    AtHourLt(i32),
    AtLt(DateTime<Utc>),
}

#[derive(Debug, Clone)]
enum Tree {
    Leaf(Cond),
    And(Box<Tree>, Box<Tree>),
    Or(Box<Tree>, Box<Tree>),
    Not(Box<Tree>),
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(ALPHABET), 0..4)
        .prop_map(|v| v.into_iter().collect())
}

fn pat() -> impl Strategy<Value = Pat> {
    prop_oneof![
        1 => text().prop_map(Pat::Literal),
        3 => (0..12usize, 0..2usize, 1..5usize, any::<u8>())
            .prop_map(|(row, start, len, flips)| Pat::FromRow { row, start, len, flips }),
    ]
}

fn price() -> impl Strategy<Value = Decimal> {
    proptest::sample::select(PRICES).prop_map(|s| s.parse::<Decimal>().expect("decimal"))
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    proptest::sample::select(INSTANTS).prop_map(at)
}

fn data() -> impl Strategy<Value = Data> {
    (
        text(),
        proptest::option::of(text()),
        -3..3i32,
        proptest::option::of(price()),
        proptest::option::of(instant()),
    )
        .prop_map(|(name, note, qty, price, at)| Data {
            name,
            note,
            qty,
            price,
            at,
        })
}

fn text_op() -> impl Strategy<Value = TextOp> {
    use TextOp::*;
    proptest::sample::select(vec![
        Exact,
        IExact,
        Contains,
        IContains,
        StartsWith,
        IStartsWith,
        EndsWith,
        IEndsWith,
        Gt,
        Lte,
    ])
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        // Text lookups are where the backends differ most: weighted up.
        8 => (text_op(), pat()).prop_map(|(o, s)| Cond::Name(o, s)),
        4 => (text_op(), pat()).prop_map(|(o, s)| Cond::Note(o, s)),
        1 => any::<bool>().prop_map(Cond::NoteNull),
        1 => proptest::collection::vec(text(), 0..3).prop_map(Cond::NameIn),
        1 => (-3..3i32).prop_map(Cond::QtyGt),
        1 => (-3..3i32, -3..3i32).prop_map(|(a, b)| Cond::QtyRange(a, b)),
        1 => proptest::collection::vec(-3..3i32, 0..3).prop_map(Cond::QtyIn),
        1 => price().prop_map(Cond::PriceGte),
        1 => price().prop_map(Cond::PriceEq),
        1 => (2015..2018i32).prop_map(Cond::AtYear),
        1 => (1..8i32).prop_map(Cond::AtWeekDay),
        1 => (0..24i32).prop_map(Cond::AtHourLt),
        1 => instant().prop_map(Cond::AtLt),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    cond()
        .prop_map(Tree::Leaf)
        .prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Tree::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Tree::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Tree::Not(Box::new(a))),
            ]
        })
}

fn text_q(field: cdms_runtime::Field<Product, String>, op: &TextOp, s: &str) -> Q<Product> {
    let s = s.to_owned();
    match op {
        TextOp::Exact => field.eq(s),
        TextOp::IExact => field.iexact(s),
        TextOp::Contains => field.contains(s),
        TextOp::IContains => field.icontains(s),
        TextOp::StartsWith => field.startswith(s),
        TextOp::IStartsWith => field.istartswith(s),
        TextOp::EndsWith => field.endswith(s),
        TextOp::IEndsWith => field.iendswith(s),
        TextOp::Gt => field.gt(s),
        TextOp::Lte => field.lte(s),
    }
}

fn note_q(op: &TextOp, s: &str) -> Q<Product> {
    let f = Product::fields().note;
    let s = s.to_owned();
    match op {
        TextOp::Exact => f.eq(s),
        TextOp::IExact => f.iexact(s),
        TextOp::Contains => f.contains(s),
        TextOp::IContains => f.icontains(s),
        TextOp::StartsWith => f.startswith(s),
        TextOp::IStartsWith => f.istartswith(s),
        TextOp::EndsWith => f.endswith(s),
        TextOp::IEndsWith => f.iendswith(s),
        TextOp::Gt => f.gt(s),
        TextOp::Lte => f.lte(s),
    }
}

fn to_q(t: &Tree, rows: &[Data]) -> Q<Product> {
    let f = Product::fields();
    match t {
        Tree::Leaf(c) => match c {
            Cond::Name(op, p) => text_q(f.name, op, &p.resolve(rows, false)),
            Cond::Note(op, p) => note_q(op, &p.resolve(rows, true)),
            Cond::NoteNull(yes) => f.note.isnull(*yes),
            Cond::NameIn(v) => f.name.is_in(v.clone()),
            Cond::QtyGt(n) => f.qty.gt(*n),
            Cond::QtyRange(a, b) => f.qty.range(*a, *b),
            Cond::QtyIn(v) => f.qty.is_in(v.clone()),
            Cond::PriceGte(d) => f.price.gte(*d),
            Cond::PriceEq(d) => f.price.eq(*d),
            Cond::AtYear(y) => f.at.year().eq(*y),
            Cond::AtWeekDay(d) => f.at.week_day().eq(*d),
            Cond::AtHourLt(h) => f.at.hour().lt(*h),
            Cond::AtLt(t) => f.at.lt(*t),
        },
        Tree::And(a, b) => to_q(a, rows) & to_q(b, rows),
        Tree::Or(a, b) => to_q(a, rows) | to_q(b, rows),
        Tree::Not(a) => !to_q(a, rows),
    }
}

fn text_eval(op: &TextOp, v: &str, s: &str) -> bool {
    let (lv, ls) = (v.to_ascii_lowercase(), s.to_ascii_lowercase());
    match op {
        TextOp::Exact => v == s,
        TextOp::IExact => lv == ls,
        TextOp::Contains => v.contains(s),
        TextOp::IContains => lv.contains(&ls),
        TextOp::StartsWith => v.starts_with(s),
        TextOp::IStartsWith => lv.starts_with(&ls),
        TextOp::EndsWith => v.ends_with(s),
        TextOp::IEndsWith => lv.ends_with(&ls),
        TextOp::Gt => v > s,
        TextOp::Lte => v <= s,
    }
}

/// The expected semantics: a condition on a null field is false.
fn eval(t: &Tree, d: &Data, rows: &[Data]) -> bool {
    match t {
        Tree::Leaf(c) => match c {
            Cond::Name(op, p) => text_eval(op, &d.name, &p.resolve(rows, false)),
            Cond::Note(op, p) => d
                .note
                .as_deref()
                .is_some_and(|n| text_eval(op, n, &p.resolve(rows, true))),
            Cond::NoteNull(yes) => d.note.is_none() == *yes,
            Cond::NameIn(v) => v.contains(&d.name),
            Cond::QtyGt(n) => d.qty > *n,
            Cond::QtyRange(a, b) => *a <= d.qty && d.qty <= *b,
            Cond::QtyIn(v) => v.contains(&d.qty),
            Cond::PriceGte(p) => d.price.is_some_and(|x| x >= *p),
            Cond::PriceEq(p) => d.price.is_some_and(|x| x == *p),
            Cond::AtYear(y) => d.at.is_some_and(|x| x.year() == *y),
            Cond::AtWeekDay(w) => d.at.is_some_and(|x| {
                i64::from(x.weekday().num_days_from_sunday()) + 1 == i64::from(*w)
            }),
            Cond::AtHourLt(h) => d.at.is_some_and(|x| i64::from(x.hour()) < i64::from(*h)),
            Cond::AtLt(t) => d.at.is_some_and(|x| x < *t),
        },
        Tree::And(a, b) => eval(a, d, rows) && eval(b, d, rows),
        Tree::Or(a, b) => eval(a, d, rows) || eval(b, d, rows),
        Tree::Not(a) => !eval(a, d, rows),
    }
}

async fn load(db: &Db, rows: &[Data]) -> Vec<i64> {
    Product::objects(db).delete().await.expect("clear");
    let products = rows
        .iter()
        .map(|d| {
            let mut p = Product::new(&d.name, d.qty);
            p.note = d.note.clone();
            p.price = d.price;
            p.at = d.at;
            p
        })
        .collect();
    Product::objects(db)
        .bulk_create(products)
        .await
        .expect("load")
        .iter()
        .map(|p| p.id)
        .collect()
}

#[test]
fn filters_match_a_reference_evaluation() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dbs: Vec<TestDb> = rt.block_on(databases());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(data(), 0..12),
        proptest::collection::vec(tree(), 1..6),
    );
    runner
        .run(&strategy, |(rows, trees)| {
            rt.block_on(async {
                for t in &dbs {
                    let ids = load(&t.db, &rows).await;
                    for tree in &trees {
                        let expected: Vec<i64> = ids
                            .iter()
                            .zip(&rows)
                            .filter(|(_, d)| eval(tree, d, &rows))
                            .map(|(id, _)| *id)
                            .collect();
                        let got = Product::objects(&t.db)
                            .filter(to_q(tree, &rows))
                            .values_list(Product::fields().id)
                            .await
                            .expect("query");
                        prop_assert_eq!(&got, &expected, "[{}] {:?}", t.label, tree);
                        let count = Product::objects(&t.db)
                            .exclude(to_q(tree, &rows))
                            .count()
                            .await
                            .expect("count");
                        prop_assert_eq!(
                            count as usize,
                            rows.len() - expected.len(),
                            "[{}] exclude {:?}",
                            t.label,
                            tree
                        );
                    }
                }
                Ok(())
            })
        })
        .expect("property");
}
