//! The `$filter` translation's guarantee, checked against the emulator: for random query trees
//! over random records, every record the local condition matches is in the remote result, and
//! when the translation says it is exact, the two are equal. Relation conditions (on the
//! organisation's country) go through the same key substitution as synced reads. Each tree
//! without relations is also checked as the condition of a relation CRM 2011 can expand
//! (contacts whose account matches it, `$expand` of the relationship and a `$filter` on the
//! expanded entity, as synced reads send it).

mod cdms_client_support;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use cdms_client_support::*;
use cdms_runtime::cdms::codec::{self, RemoteRecord};
use cdms_runtime::cdms::{filter, Auth, CdmsKind, ListOptions};
use cdms_runtime::emulator::SetSpec;
use cdms_runtime::expr::{Cmp, Cond, DatePart, Expr, Lookup};
use cdms_runtime::query::{Hop, Related};
use cdms_runtime::Value;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &[
    "Acme",
    "acme",
    "ACME Ltd",
    "Zoë",
    "zoe",
    "O'Brien",
    "A&B #1 + 'quoted' 100%",
    "Café",
    "cafe ",
    "50% off_",
    "Beta",
    "beta corp",
    "Gamma",
    "delta_x",
];
const NEEDLES: &[&str] = &[
    "a", "A", "cme", "ACME", "zo", "ë", "O'", "&", "%", "_", "caf", "e ", "Be", "x", "Ltd",
];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 6, 1, 0, 0, 0).unwrap()
}

fn some_instant(rng: &mut Rng) -> DateTime<Utc> {
    let secs = rng.below(3 * 365 * 86_400) as i64;
    let ms = if rng.chance(50) {
        rng.below(1000) as i64
    } else {
        0
    };
    base() + Duration::seconds(secs) + Duration::milliseconds(ms)
}

fn some_date(rng: &mut Rng) -> NaiveDate {
    NaiveDate::from_ymd_opt(2016, 1, 1).unwrap() + Duration::days(rng.below(800) as i64)
}

fn seed(rng: &mut Rng, countries: &[Uuid]) -> Vec<serde_json::Value> {
    (0..90)
        .map(|_| {
            let mut r = json!({ "Name": rng.pick(NAMES), "DoNotPhone": rng.chance(50) });
            if rng.chance(80) {
                r["NumberOfEmployees"] = json!(rng.below(20) as i64 - 5);
            }
            if rng.chance(80) {
                r["CreditLimit"] =
                    json!({"Value": format!("{}.{:02}", rng.below(50), rng.below(100))});
            }
            if rng.chance(80) {
                r["IndustryCode"] = json!({"Value": 1 + rng.below(4)});
            }
            if rng.chance(75) {
                r["optevia_Country"] = json!({"Id": rng.pick(countries).to_string()});
            }
            if rng.chance(80) {
                let d = some_date(rng).and_hms_opt(0, 0, 0).unwrap().and_utc();
                r["LastUsedInCampaign"] = json!(format!("/Date({})/", d.timestamp_millis()));
            }
            if rng.chance(80) {
                r["optevia_LastVerified"] =
                    json!(format!("/Date({})/", some_instant(rng).timestamp_millis()));
            }
            if rng.chance(70) {
                r["Address1_Latitude"] = json!((rng.below(200) as f64) / 4.0 - 10.0);
            }
            if rng.chance(60) {
                r["AccountNumber"] = json!(rng.pick(NAMES).to_uppercase());
            }
            r
        })
        .collect()
}

fn cond(field: usize, lookup: Lookup) -> Expr {
    Expr::Cond(Cond { field, lookup })
}

fn cmp(rng: &mut Rng) -> Cmp {
    *rng.pick(&[Cmp::Eq, Cmp::Gt, Cmp::Gte, Cmp::Lt, Cmp::Lte])
}

/// A value of the field's kind, often one that occurs in the data.
fn value(rng: &mut Rng, field: usize, records: &[RemoteRecord]) -> Value {
    if rng.chance(50) {
        let r = rng.pick(records);
        if let Some(v) = r.value(field).filter(|v| !v.is_null()) {
            if field == COUNTRY_REF {
                if let Value::Uuid(_) = v {
                    return Value::Int(1 + rng.below(3) as i64);
                }
            }
            return v.clone();
        }
    }
    match field {
        NAME | ACCOUNT_NUMBER => Value::Text(rng.pick(NAMES).to_string()),
        EMPLOYEES | INDUSTRY => Value::Int(rng.below(20) as i64 - 5),
        CREDIT_LIMIT => Value::Decimal(Decimal::new(rng.below(5000) as i64, 2)),
        LATITUDE => Value::Float((rng.below(200) as f64) / 4.0 - 10.0),
        DO_NOT_PHONE => Value::Bool(rng.chance(50)),
        COUNTRY_REF => Value::Int(1 + rng.below(4) as i64), // 4 has no CDMS id
        LAST_USED => Value::Date(some_date(rng)),
        _ => Value::DateTime(some_instant(rng)),
    }
}

fn leaf(rng: &mut Rng, records: &[RemoteRecord]) -> Expr {
    let fields = [
        NAME,
        ACCOUNT_NUMBER,
        EMPLOYEES,
        INDUSTRY,
        CREDIT_LIMIT,
        LATITUDE,
        DO_NOT_PHONE,
        COUNTRY_REF,
        LAST_USED,
        VERIFIED,
        TAGS,
    ];
    let field = *rng.pick(&fields);
    let text = matches!(field, NAME | ACCOUNT_NUMBER | TAGS);
    let dated = matches!(field, LAST_USED | VERIFIED);
    let ordered = !matches!(field, DO_NOT_PHONE | COUNTRY_REF);
    let nullable = field != NAME && field != DO_NOT_PHONE;
    loop {
        let lookup = match rng.below(12) {
            0 => Lookup::Exact(value(rng, field, records)),
            1 => Lookup::In(
                (0..1 + rng.below(3))
                    .map(|_| value(rng, field, records))
                    .collect(),
            ),
            2 if ordered => Lookup::Compare(cmp(rng), value(rng, field, records)),
            3 if ordered => {
                let (a, b) = (value(rng, field, records), value(rng, field, records));
                Lookup::Range(a, b)
            }
            4 if nullable => Lookup::IsNull(rng.chance(50)),
            5 | 6 if text => {
                let s = rng.pick(NEEDLES).to_string();
                match rng.below(7) {
                    0 => Lookup::IExact(rng.pick(NAMES).to_lowercase()),
                    1 => Lookup::Contains(s),
                    2 => Lookup::IContains(s),
                    3 => Lookup::StartsWith(s),
                    4 => Lookup::IStartsWith(s),
                    5 => Lookup::EndsWith(s),
                    _ => Lookup::IEndsWith(s),
                }
            }
            7..=9 if dated => {
                let parts: &[DatePart] = if field == VERIFIED {
                    &[
                        DatePart::Year,
                        DatePart::Month,
                        DatePart::Day,
                        DatePart::WeekDay,
                        DatePart::Hour,
                        DatePart::Minute,
                        DatePart::Second,
                    ]
                } else {
                    &[
                        DatePart::Year,
                        DatePart::Month,
                        DatePart::Day,
                        DatePart::WeekDay,
                    ]
                };
                let part = *rng.pick(parts);
                let n = match part {
                    DatePart::Year => 2014 + rng.below(5) as i32,
                    DatePart::Month => 1 + rng.below(12) as i32,
                    DatePart::Day => 1 + rng.below(31) as i32,
                    DatePart::WeekDay => 1 + rng.below(7) as i32,
                    DatePart::Hour => rng.below(24) as i32,
                    _ => rng.below(60) as i32,
                };
                if rng.chance(20) {
                    Lookup::DatePartIn(part, vec![n, n + 1, n + 3])
                } else {
                    Lookup::DatePart(part, cmp(rng), n)
                }
            }
            _ => continue,
        };
        return cond(field, lookup);
    }
}

/// Year-prefixed date-part conjunctions, which translate as one range.
fn date_prefix(rng: &mut Rng) -> Expr {
    let field = *rng.pick(&[LAST_USED, VERIFIED]);
    let mut items = vec![cond(
        field,
        Lookup::DatePart(DatePart::Year, Cmp::Eq, 2015 + rng.below(3) as i32),
    )];
    let next = [DatePart::Month, DatePart::Day, DatePart::Hour];
    let depth = rng.below(if field == VERIFIED { 4 } else { 3 });
    for (i, part) in next.iter().enumerate().take(depth) {
        let n = if *part == DatePart::Hour {
            rng.below(24)
        } else {
            1 + rng.below(if i == 0 { 12 } else { 28 })
        } as i32;
        let op = if i + 1 == depth { cmp(rng) } else { Cmp::Eq };
        items.push(cond(field, Lookup::DatePart(*part, op, n)));
    }
    Expr::And(items)
}

const COUNTRY_NAMES: &[&str] = &["UK", "France", "Japan"];

const CONTACTS: &str = "ContactSet";
/// The relationship of contacts to their account, and the navigation property it names.
const NAV: &str = "contact_customer_accounts";

/// Contacts, whose `ParentCustomerId` lookup to accounts names its relationship.
fn contact_set() -> SetSpec {
    SetSpec::new("Contact", "ContactId")
        .property("LastName", CdmsKind::String)
        .property("ParentCustomerId", CdmsKind::EntityReference)
        .lookup("ParentCustomerId", &["account"])
        .relationship("ParentCustomerId", NAV, "account")
}

/// A condition on the organisation's country (a relation), as `country.matching(…)` builds it.
fn country_path(rng: &mut Rng) -> Expr {
    let name = |lookup| Expr::Cond(Cond { field: 2, lookup });
    let one = |rng: &mut Rng| match rng.below(4) {
        0 => name(Lookup::Exact(Value::Text(
            (*rng.pick(COUNTRY_NAMES)).into(),
        ))),
        1 => name(Lookup::IContains(
            (*rng.pick(&["a", "K", "pan", "x"])).into(),
        )),
        2 => name(Lookup::StartsWith((*rng.pick(&["U", "Fr", "j"])).into())),
        _ => Expr::Cond(Cond {
            field: 0,
            lookup: Lookup::Exact(Value::Int(1 + rng.below(4) as i64)),
        }),
    };
    let inner = match rng.below(3) {
        0 => one(rng),
        1 => Expr::Not(Box::new(one(rng))),
        _ => Expr::Or(vec![one(rng), one(rng)]),
    };
    Expr::Related(Box::new(Related {
        hop: Hop::Forward {
            field: COUNTRY_REF,
            target: &COUNTRY,
        },
        expr: inner,
    }))
}

/// `e` (a condition on countries) for the country at position `i` of [`COUNTRY_NAMES`].
fn eval_country(e: &Expr, i: usize) -> bool {
    match e {
        Expr::All => true,
        Expr::Nothing => false,
        Expr::Not(inner) => !eval_country(inner, i),
        Expr::And(items) => items.iter().all(|x| eval_country(x, i)),
        Expr::Or(items) => items.iter().any(|x| eval_country(x, i)),
        Expr::Cond(c) => {
            let name = COUNTRY_NAMES[i];
            match &c.lookup {
                Lookup::Exact(Value::Int(pk)) => *pk == i as i64 + 1,
                Lookup::Exact(Value::Text(s)) => name == s,
                Lookup::IContains(s) => name.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
                Lookup::StartsWith(s) => name.starts_with(s.as_str()),
                other => unreachable!("not generated: {other:?}"),
            }
        }
        Expr::Related(_) => unreachable!("not generated"),
    }
}

/// The condition on the organisation's country key that a relation condition `inner` on
/// countries stands for (countries 1–3 exist, 4 is a local key without a CDMS record).
fn country_keys(inner: &Expr) -> Expr {
    let pks: Vec<Value> = (0..COUNTRY_NAMES.len())
        .filter(|&i| eval_country(inner, i))
        .map(|i| Value::Int(i as i64 + 1))
        .collect();
    if pks.is_empty() {
        return Expr::Nothing;
    }
    Expr::Cond(Cond {
        field: COUNTRY_REF,
        lookup: Lookup::In(pks),
    })
}

fn e_has_relation(e: &Expr) -> bool {
    match e {
        Expr::Related(_) => true,
        Expr::And(items) | Expr::Or(items) => items.iter().any(e_has_relation),
        Expr::Not(inner) => e_has_relation(inner),
        _ => false,
    }
}

fn tree(rng: &mut Rng, records: &[RemoteRecord], depth: usize) -> Expr {
    if depth == 0 || rng.chance(35) {
        return if rng.chance(15) {
            date_prefix(rng)
        } else if rng.chance(12) {
            country_path(rng)
        } else {
            leaf(rng, records)
        };
    }
    match rng.below(3) {
        0 => Expr::Not(Box::new(tree(rng, records, depth - 1))),
        1 => Expr::And(
            (0..2 + rng.below(2))
                .map(|_| tree(rng, records, depth - 1))
                .collect(),
        ),
        _ => Expr::Or(
            (0..2 + rng.below(2))
                .map(|_| tree(rng, records, depth - 1))
                .collect(),
        ),
    }
}

// ---- local evaluation (two-valued: a condition on null is false) ----

fn parts(v: &Value) -> Option<[i64; 7]> {
    let (d, t) = match v {
        Value::DateTime(t) => (t.date_naive(), Some(*t)),
        Value::Date(d) => (*d, None),
        _ => return None,
    };
    Some([
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
        i64::from(d.weekday().number_from_sunday()),
        t.map_or(0, |t| i64::from(t.hour())),
        t.map_or(0, |t| i64::from(t.minute())),
        t.map_or(0, |t| i64::from(t.second())),
    ])
}

fn part_index(p: DatePart) -> usize {
    match p {
        DatePart::Year => 0,
        DatePart::Month => 1,
        DatePart::Day => 2,
        DatePart::WeekDay => 3,
        DatePart::Hour => 4,
        DatePart::Minute => 5,
        DatePart::Second => 6,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.partial_cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => x.partial_cmp(y),
        (Value::Text(x), Value::Text(y)) => x.partial_cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.partial_cmp(y),
        (Value::Date(x), Value::Date(y)) => x.partial_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.partial_cmp(y),
        (Value::Uuid(x), Value::Uuid(y)) => x.partial_cmp(y),
        _ => None,
    }
}

fn test_cmp(op: Cmp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Cmp::Eq => o == Equal,
        Cmp::Gt => o == Greater,
        Cmp::Gte => o != Less,
        Cmp::Lt => o == Less,
        Cmp::Lte => o != Greater,
    }
}

fn eval(e: &Expr, r: &RemoteRecord, countries: &[Uuid]) -> bool {
    match e {
        Expr::All => true,
        Expr::Nothing => false,
        Expr::Not(inner) => !eval(inner, r, countries),
        Expr::And(items) => items.iter().all(|i| eval(i, r, countries)),
        Expr::Or(items) => items.iter().any(|i| eval(i, r, countries)),
        // The organisation's country exists (locally: it has a row) and matches.
        Expr::Related(rel) => match r.value(COUNTRY_REF) {
            Some(Value::Uuid(g)) => countries
                .iter()
                .position(|x| x == g)
                .is_some_and(|i| eval_country(&rel.expr, i)),
            _ => false,
        },
        Expr::Cond(c) => {
            let mut v = r.value(c.field).cloned().unwrap_or(Value::Null);
            if c.field == COUNTRY_REF {
                if let Value::Uuid(g) = v {
                    v = Value::Int(
                        countries
                            .iter()
                            .position(|x| *x == g)
                            .map_or(-1, |i| i as i64 + 1),
                    );
                }
            }
            if let Lookup::IsNull(yes) = c.lookup {
                return v.is_null() == yes;
            }
            if v.is_null() {
                return false;
            }
            let text = match &v {
                Value::Text(s) => s.clone(),
                _ => String::new(),
            };
            let lower = |s: &str| s.to_ascii_lowercase();
            match &c.lookup {
                Lookup::Exact(x) => order(&v, x) == Some(std::cmp::Ordering::Equal),
                Lookup::IExact(s) => lower(&text) == lower(s),
                Lookup::Contains(s) => text.contains(s.as_str()),
                Lookup::IContains(s) => lower(&text).contains(&lower(s)),
                Lookup::StartsWith(s) => text.starts_with(s.as_str()),
                Lookup::IStartsWith(s) => lower(&text).starts_with(&lower(s)),
                Lookup::EndsWith(s) => text.ends_with(s.as_str()),
                Lookup::IEndsWith(s) => lower(&text).ends_with(&lower(s)),
                Lookup::In(xs) => xs
                    .iter()
                    .any(|x| order(&v, x) == Some(std::cmp::Ordering::Equal)),
                Lookup::Compare(op, x) => order(&v, x).is_some_and(|o| test_cmp(*op, o)),
                Lookup::Range(a, b) => {
                    order(&v, a).is_some_and(|o| o.is_ge())
                        && order(&v, b).is_some_and(|o| o.is_le())
                }
                Lookup::DatePart(p, op, n) => parts(&v)
                    .is_some_and(|ps| test_cmp(*op, ps[part_index(*p)].cmp(&i64::from(*n)))),
                Lookup::DatePartIn(p, ns) => parts(&v)
                    .is_some_and(|ps| ns.iter().any(|n| ps[part_index(*p)] == i64::from(*n))),
                Lookup::IsNull(_) => unreachable!(),
                Lookup::Regex(_) | Lookup::IRegex(_) => unreachable!("not generated"),
            }
        }
    }
}

#[tokio::test]
async fn remote_results_are_supersets_of_local_ones() {
    let emu = builder().spec(contact_set()).build().unwrap();
    let countries: Vec<Uuid> = COUNTRY_NAMES
        .iter()
        .map(|n| {
            emu.insert(COUNTRIES, json!({"optevia_Country": n}))
                .unwrap()
        })
        .collect();
    // Another seed can be tried with CDMS_SUPERSET_SEED=<n>.
    let seed_value = std::env::var("CDMS_SUPERSET_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_1234_ABCD_0001_u64);
    let mut rng = Rng(seed_value | 1);
    emu.insert_many(ACCOUNTS, seed(&mut rng, &countries))
        .unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    let records: Vec<RemoteRecord> = c
        .list(ACCOUNTS, &ListOptions::default())
        .await
        .unwrap()
        .iter()
        .map(|r| codec::decode(&ORG_CDMS, r).unwrap())
        .collect();
    assert_eq!(records.len(), 90);
    // 150 contacts (three pages), most at a random account, some at none.
    let mut contacts: Vec<(Uuid, Option<Uuid>)> = Vec::new();
    for i in 0..150 {
        let account = rng.chance(85).then(|| rng.pick(&records).id);
        let parent = match account {
            Some(id) => json!({"Id": id.to_string(), "LogicalName": "account"}),
            None => json!({"Id": null, "LogicalName": null, "Name": null}),
        };
        let props = json!({"LastName": format!("c{i}"), "ParentCustomerId": parent});
        contacts.push((emu.insert(CONTACTS, props).unwrap(), account));
    }
    let resolve = |_: &'static cdms_runtime::EntityMeta, pk: i64| {
        countries.get(usize::try_from(pk - 1).ok()?).copied()
    };

    let (mut exact, mut nonempty, mut paths) = (0, 0, 0);
    let (mut expanded, mut expanded_exact) = (0, 0);
    for round in 0..400 {
        let e = tree(&mut rng, &records, 3);
        // As the sync layer does: relations outside `not` become the keys they select (the
        // fourth country has no CDMS id), the others are relaxed.
        let keys: Vec<Option<Expr>> = filter::positive_relations(&e)
            .iter()
            .map(|rel| Some(country_keys(&rel.expr)))
            .collect();
        let joined = !keys.is_empty();
        let mut t = filter::translate(&ORG_CDMS, &filter::substitute(&e, &keys), &resolve);
        t.exact &= !joined;
        paths += usize::from(e_has_relation(&e));
        let local: BTreeSet<Uuid> = records
            .iter()
            .filter(|r| eval(&e, r, &countries))
            .map(|r| r.id)
            .collect();
        let opts = ListOptions {
            filter: t.filter.clone(),
            select: vec!["AccountId".into()],
            ..ListOptions::default()
        };
        let remote: BTreeSet<Uuid> = c
            .list(ACCOUNTS, &opts)
            .await
            .unwrap_or_else(|err| panic!("round {round}: {:?} was refused: {err}", t.filter))
            .iter()
            .map(|r| Uuid::parse_str(r["AccountId"].as_str().unwrap()).unwrap())
            .collect();
        let missing: Vec<_> = local.difference(&remote).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {e:?}\n$filter={:?}\nmissing {missing:?}",
            t.filter
        );
        if t.exact {
            exact += 1;
            assert_eq!(
                local, remote,
                "round {round}: exact translation differs: {e:?}\n$filter={:?}",
                t.filter
            );
        }
        if !local.is_empty() {
            nonempty += 1;
        }
        if e_has_relation(&e) {
            continue; // a chain: 2011 expands one level, synced reads keep the semi-join
        }
        // The same tree as a condition on the contacts' account, through `$expand`.
        let t = filter::translate_expanded(&ORG_CDMS, NAV, &e, &resolve);
        let Some(on_nav) = t.filter.clone() else {
            continue; // wholly relaxed: synced reads keep the semi-join
        };
        let opts = ListOptions {
            filter: Some(on_nav.clone()),
            select: vec!["ContactId".into(), NAV.into(), format!("{NAV}/AccountId")],
            expand: vec![NAV.into()],
            ..ListOptions::default()
        };
        if !opts.fits() {
            continue; // too long for IIS: synced reads keep the semi-join
        }
        let mut remote_contacts = BTreeSet::new();
        let answer = c
            .list(CONTACTS, &opts)
            .await
            .unwrap_or_else(|err| panic!("round {round}: expanded {on_nav:?} was refused: {err}"));
        for r in &answer {
            let id = Uuid::parse_str(r["ContactId"].as_str().unwrap()).unwrap();
            // Each contact comes with its account inline.
            let inline = r[NAV]["AccountId"]
                .as_str()
                .map(|s| s.parse::<Uuid>().unwrap());
            let parent = contacts
                .iter()
                .find(|(c, _)| *c == id)
                .and_then(|(_, a)| *a);
            assert_eq!(inline, parent, "round {round}: {r}");
            remote_contacts.insert(id);
        }
        let local_contacts: BTreeSet<Uuid> = contacts
            .iter()
            .filter(|(_, account)| account.is_some_and(|a| local.contains(&a)))
            .map(|(c, _)| *c)
            .collect();
        let missing: Vec<_> = local_contacts.difference(&remote_contacts).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {e:?}\n$filter={on_nav:?}\nmissing contacts {missing:?}"
        );
        expanded += 1;
        if t.exact {
            expanded_exact += 1;
            assert_eq!(
                local_contacts, remote_contacts,
                "round {round}: exact expanded translation differs: {e:?}\n$filter={on_nav:?}"
            );
        }
    }
    // The generator exercises both kinds of translation and non-trivial results.
    assert!(
        exact > 60 && nonempty > 100 && paths > 40,
        "exact {exact}, non-empty {nonempty}, with relations {paths}"
    );
    assert!(
        expanded > 150 && expanded_exact > 40,
        "expanded {expanded}, of which exact {expanded_exact}"
    );
    server.shutdown().await.unwrap();
}
