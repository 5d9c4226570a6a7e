//! Pins the exact `$filter` text of every lookup and combination.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{orderby, translate, translate_expanded, Translation};
use crate::cdms::test_fixtures::*;
use crate::entity::EntityMeta;
use crate::query::expr::{Cond, Expr, Field, Lookup, OrderKey, Q};
use crate::value::Value;

struct O;

fn name() -> Field<O, String> {
    Field::new(NAME)
}
fn number() -> Field<O, Option<String>> {
    Field::new(ACCOUNT_NUMBER)
}
fn employees() -> Field<O, Option<i32>> {
    Field::new(EMPLOYEES)
}
fn version() -> Field<O, Option<i64>> {
    Field::new(VERSION)
}
fn rate() -> Field<O, Option<Decimal>> {
    Field::new(EXCHANGE_RATE)
}
fn credit() -> Field<O, Option<Decimal>> {
    Field::new(CREDIT_LIMIT)
}
fn latitude() -> Field<O, Option<f64>> {
    Field::new(LATITUDE)
}
fn do_not_phone() -> Field<O, bool> {
    Field::new(DO_NOT_PHONE)
}
fn industry() -> Field<O, Option<i32>> {
    Field::new(INDUSTRY)
}
fn last_used() -> Field<O, Option<NaiveDate>> {
    Field::new(LAST_USED)
}
fn verified() -> Field<O, Option<DateTime<Utc>>> {
    Field::new(VERIFIED)
}
fn modified() -> Field<O, DateTime<Utc>> {
    Field::new(MODIFIED)
}
fn tags() -> Field<O, Option<String>> {
    Field::new(TAGS)
}
fn notes() -> Field<O, Option<String>> {
    Field::new(NOTES)
}
fn local_pk() -> Field<O, i64> {
    Field::new(ID)
}
fn cdms_id() -> Field<O, Option<Uuid>> {
    Field::new(CDMS_ID)
}

const GB: &str = "6f2c1b1e-8a41-e011-8b7e-0050568f0b11";

fn resolver(meta: &'static EntityMeta, pk: i64) -> Option<Uuid> {
    assert!(
        std::ptr::eq(meta, &COUNTRY),
        "references resolve against the target entity"
    );
    (pk == 7).then(|| Uuid::parse_str(GB).unwrap())
}

fn tr_expr(e: &Expr) -> Translation {
    translate(&ORG_CDMS, e, &resolver)
}

fn tr(q: Q<O>) -> Translation {
    tr_expr(q.expr())
}

#[track_caller]
fn exact(q: Q<O>, expected: &str) {
    assert_eq!(
        tr(q),
        Translation {
            filter: Some(expected.to_owned()),
            exact: true
        }
    );
}

#[track_caller]
fn superset(q: Q<O>, expected: &str) {
    assert_eq!(
        tr(q),
        Translation {
            filter: Some(expected.to_owned()),
            exact: false
        }
    );
}

#[track_caller]
fn relaxed(q: Q<O>) {
    assert_eq!(
        tr(q),
        Translation {
            filter: None,
            exact: false
        }
    );
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn reference(lookup: Lookup) -> Expr {
    Expr::Cond(Cond {
        field: COUNTRY_REF,
        lookup,
    })
}

#[test]
fn text_lookups_are_supersets() {
    superset(name().eq("Acme"), "Name eq 'Acme'");
    superset(name().iexact("acme"), "Name eq 'acme'");
    superset(name().contains("cme"), "substringof('cme',Name)");
    superset(name().icontains("CME"), "substringof('CME',Name)");
    superset(name().startswith("Ac"), "startswith(Name,'Ac')");
    superset(name().istartswith("ac"), "startswith(Name,'ac')");
    superset(name().endswith("me"), "endswith(Name,'me')");
    superset(name().iendswith("ME"), "endswith(Name,'ME')");
    superset(name().is_in(["A", "B"]), "Name eq 'A' or Name eq 'B'");
    superset(number().eq("X1"), "AccountNumber eq 'X1'");
    // Nullable text, exact lookup: the same.
    superset(
        number().isnull(false) & number().eq("X1"),
        "AccountNumber ne null and AccountNumber eq 'X1'",
    );
}

#[test]
fn text_lookups_that_cannot_be_expressed_relax() {
    relaxed(name().regex("^A.*e$"));
    relaxed(name().iregex("^a"));
    // Ordering text follows CDMS's collation, not the local byte order: not even a superset.
    relaxed(name().gt("M"));
    relaxed(name().lte("M"));
    relaxed(name().range("A", "M"));
    // `[` opens a character class in the LIKE pattern CRM builds.
    relaxed(name().contains("a[b]c"));
    relaxed(name().startswith("[x"));
    superset(name().eq("a[b]c"), "Name eq 'a[b]c'");
    // Negated text conditions have no subset to write.
    relaxed(!name().eq("Acme"));
    relaxed(name().ne("Acme"));
    relaxed(!name().icontains("acme"));
    relaxed(!name().is_in(["A", "B"]));
}

#[test]
fn escaping() {
    superset(name().eq("O'Brien"), "Name eq 'O''Brien'");
    superset(name().eq("''"), "Name eq ''''''");
    superset(
        name().eq("A&B #1 + 'quoted' 100%"),
        "Name eq 'A&B #1 + ''quoted'' 100%'",
    );
    superset(name().contains("50% off_"), "substringof('50% off_',Name)");
    superset(
        name().startswith("Zoë Ünal—東京"),
        "startswith(Name,'Zoë Ünal—東京')",
    );
    superset(name().endswith("a/b?c=d"), "endswith(Name,'a/b?c=d')");
}

#[test]
fn numbers_booleans_and_guids_are_exact() {
    exact(employees().eq(5), "NumberOfEmployees eq 5");
    exact(employees().gt(5), "NumberOfEmployees gt 5");
    exact(employees().gte(5), "NumberOfEmployees ge 5");
    exact(employees().lt(-5), "NumberOfEmployees lt -5");
    exact(employees().lte(5), "NumberOfEmployees le 5");
    exact(
        employees().range(1, 10),
        "NumberOfEmployees ge 1 and NumberOfEmployees le 10",
    );
    exact(
        employees().is_in([1, 2, 3]),
        "NumberOfEmployees eq 1 or NumberOfEmployees eq 2 or NumberOfEmployees eq 3",
    );
    exact(employees().is_in([7]), "NumberOfEmployees eq 7");
    exact(employees().isnull(true), "NumberOfEmployees eq null");
    exact(employees().isnull(false), "NumberOfEmployees ne null");
    exact(version().eq(42), "VersionNumber eq 42L");
    exact(
        version().lt(-9_000_000_000_i64),
        "VersionNumber lt -9000000000L",
    );
    exact(rate().gt(dec("12.50")), "ExchangeRate gt 12.50M");
    exact(rate().eq(dec("-0.0001")), "ExchangeRate eq -0.0001M");
    exact(credit().gte(dec("1000")), "CreditLimit/Value ge 1000M");
    exact(credit().isnull(true), "CreditLimit/Value eq null");
    exact(latitude().lt(51.5074), "Address1_Latitude lt 51.5074");
    exact(latitude().eq(2.0), "Address1_Latitude eq 2.0");
    exact(do_not_phone().eq(true), "DoNotPhone eq true");
    exact(do_not_phone().eq(false), "DoNotPhone eq false");
    exact(industry().eq(3), "IndustryCode/Value eq 3");
    exact(
        industry().is_in([1, 2]),
        "IndustryCode/Value eq 1 or IndustryCode/Value eq 2",
    );
    exact(industry().isnull(true), "IndustryCode/Value eq null");
    let id = Uuid::parse_str("DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E").unwrap();
    exact(
        cdms_id().eq(id),
        "AccountId eq guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e'",
    );
    // Ordering comparisons on booleans and GUIDs are not 2011 material.
    assert_eq!(
        tr_expr(&Expr::Cond(Cond {
            field: DO_NOT_PHONE,
            lookup: Lookup::Compare(crate::expr::Cmp::Gt, Value::Bool(false)),
        })),
        Translation {
            filter: None,
            exact: false
        }
    );
    // A value of the wrong kind (not producible by the typed DSL) relaxes.
    assert_eq!(
        tr_expr(&Expr::Cond(Cond {
            field: EMPLOYEES,
            lookup: Lookup::Exact(Value::Text("5".into()))
        })),
        Translation {
            filter: None,
            exact: false
        }
    );
    // Out of Int32 range: relaxed rather than sent as an invalid literal.
    assert_eq!(
        tr_expr(&Expr::Cond(Cond {
            field: EMPLOYEES,
            lookup: Lookup::Exact(Value::Int(1 << 40))
        })),
        Translation {
            filter: None,
            exact: false
        }
    );
    relaxed(latitude().eq(f64::NAN));
}

#[test]
fn negations_are_pushed_down_with_nulls() {
    // Locally `!q` includes rows where the field is null.
    exact(
        employees().ne(5),
        "NumberOfEmployees ne 5 or NumberOfEmployees eq null",
    );
    exact(
        !employees().gt(5),
        "NumberOfEmployees le 5 or NumberOfEmployees eq null",
    );
    exact(
        !employees().gte(5),
        "NumberOfEmployees lt 5 or NumberOfEmployees eq null",
    );
    exact(
        !employees().lt(5),
        "NumberOfEmployees ge 5 or NumberOfEmployees eq null",
    );
    exact(
        !employees().lte(5),
        "NumberOfEmployees gt 5 or NumberOfEmployees eq null",
    );
    exact(
        !employees().range(1, 10),
        "NumberOfEmployees lt 1 or NumberOfEmployees gt 10 or NumberOfEmployees eq null",
    );
    exact(
        !employees().is_in([1, 2]),
        "(NumberOfEmployees ne 1 and NumberOfEmployees ne 2) or NumberOfEmployees eq null",
    );
    exact(!employees().isnull(true), "NumberOfEmployees ne null");
    exact(!employees().isnull(false), "NumberOfEmployees eq null");
    // Not nullable: no null disjunct.
    exact(do_not_phone().ne(true), "DoNotPhone ne true");
    exact(
        !modified().gt(at(2016, 1, 1, 0, 0, 0)),
        "ModifiedOn le datetime'2016-01-01T00:00:00'",
    );
    exact(
        !(employees().eq(1) & do_not_phone().eq(true)),
        "NumberOfEmployees ne 1 or NumberOfEmployees eq null or DoNotPhone ne true",
    );
    exact(
        !(employees().eq(1) | do_not_phone().eq(true)),
        "(NumberOfEmployees ne 1 or NumberOfEmployees eq null) and DoNotPhone ne true",
    );
    // Explicit double negation in the tree.
    let e = Expr::Not(Box::new(Expr::Not(Box::new(employees().eq(1).into_expr()))));
    assert_eq!(
        tr_expr(&e),
        Translation {
            filter: Some("NumberOfEmployees eq 1".into()),
            exact: true
        }
    );
    exact(
        !(employees().gt(5) & !credit().lt(dec("10"))),
        "NumberOfEmployees le 5 or NumberOfEmployees eq null or CreditLimit/Value lt 10M",
    );
}

#[test]
fn references() {
    let g = format!("optevia_Country/Id eq guid'{GB}'");
    assert_eq!(
        tr_expr(&reference(Lookup::Exact(Value::Int(7)))),
        Translation {
            filter: Some(g.clone()),
            exact: true
        }
    );
    assert_eq!(
        tr_expr(&reference(Lookup::In(vec![Value::Int(7)]))),
        Translation {
            filter: Some(g.clone()),
            exact: true
        }
    );
    assert_eq!(
        tr_expr(&Expr::Not(Box::new(reference(Lookup::Exact(Value::Int(
            7
        )))))),
        Translation {
            filter: Some(format!(
                "optevia_Country/Id ne guid'{GB}' or optevia_Country/Id eq null"
            )),
            exact: true
        }
    );
    // The target has no CDMS id (a local-only row): relaxed, in either polarity.
    for e in [
        reference(Lookup::Exact(Value::Int(8))),
        Expr::Not(Box::new(reference(Lookup::Exact(Value::Int(8))))),
        reference(Lookup::In(vec![Value::Int(7), Value::Int(8)])),
    ] {
        assert_eq!(
            tr_expr(&e),
            Translation {
                filter: None,
                exact: false
            }
        );
    }
    assert_eq!(
        tr_expr(&reference(Lookup::IsNull(true))),
        Translation {
            filter: Some("optevia_Country/Id eq null".into()),
            exact: true
        }
    );
    // A GUID given directly is used as is.
    assert_eq!(
        tr_expr(&reference(Lookup::Exact(Value::Uuid(
            Uuid::parse_str(GB).unwrap()
        )))),
        Translation {
            filter: Some(g),
            exact: true
        }
    );
}

#[test]
fn datetimes_round_outwards() {
    let t = at(2016, 1, 31, 13, 5, 9);
    let half = t + Duration::milliseconds(500);
    exact(
        verified().eq(t),
        "optevia_LastVerified eq datetime'2016-01-31T13:05:09'",
    );
    exact(
        verified().gt(t),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09'",
    );
    exact(
        verified().lte(t),
        "optevia_LastVerified le datetime'2016-01-31T13:05:09'",
    );
    superset(
        verified().gt(half),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09'",
    );
    superset(
        verified().gte(half),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09'",
    );
    superset(
        verified().lt(half),
        "optevia_LastVerified lt datetime'2016-01-31T13:05:10'",
    );
    superset(
        verified().lte(half),
        "optevia_LastVerified lt datetime'2016-01-31T13:05:10'",
    );
    superset(
        verified().eq(half),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09' and optevia_LastVerified lt datetime'2016-01-31T13:05:10'",
    );
    superset(
        verified().range(half, t + Duration::seconds(60) + Duration::microseconds(1)),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09' and optevia_LastVerified lt datetime'2016-01-31T13:06:10'",
    );
    // Negated: the complement is rounded outwards too.
    superset(
        !verified().lt(half),
        "optevia_LastVerified gt datetime'2016-01-31T13:05:09' or optevia_LastVerified eq null",
    );
    superset(
        !verified().eq(half),
        "optevia_LastVerified lt datetime'2016-01-31T13:05:10' or optevia_LastVerified gt datetime'2016-01-31T13:05:09' or optevia_LastVerified eq null",
    );
    exact(
        !verified().eq(t),
        "optevia_LastVerified ne datetime'2016-01-31T13:05:09' or optevia_LastVerified eq null",
    );
    // Before 1970 (and the millisecond sign) is no special case.
    let old = at(1969, 12, 31, 23, 59, 59) + Duration::milliseconds(250);
    superset(
        modified().lt(old),
        "ModifiedOn lt datetime'1970-01-01T00:00:00'",
    );
    superset(
        modified().gt(old),
        "ModifiedOn gt datetime'1969-12-31T23:59:59'",
    );
    // Outside the literal's four-digit years: relaxed.
    superset(
        modified().gt(at(10000, 1, 1, 0, 0, 0)),
        "ModifiedOn ne null",
    );
}

#[test]
fn dates_are_utc_day_ranges() {
    let d = day(2016, 3, 1);
    let lo = "datetime'2016-03-01T00:00:00'";
    let hi = "datetime'2016-03-02T00:00:00'";
    exact(
        last_used().eq(d),
        &format!("LastUsedInCampaign ge {lo} and LastUsedInCampaign lt {hi}"),
    );
    exact(last_used().gt(d), &format!("LastUsedInCampaign ge {hi}"));
    exact(last_used().gte(d), &format!("LastUsedInCampaign ge {lo}"));
    exact(last_used().lt(d), &format!("LastUsedInCampaign lt {lo}"));
    exact(last_used().lte(d), &format!("LastUsedInCampaign lt {hi}"));
    exact(
        last_used().ne(d),
        &format!("LastUsedInCampaign lt {lo} or LastUsedInCampaign ge {hi} or LastUsedInCampaign eq null"),
    );
    exact(
        last_used().range(day(2016, 2, 28), day(2016, 2, 29)),
        "LastUsedInCampaign ge datetime'2016-02-28T00:00:00' and LastUsedInCampaign lt datetime'2016-03-01T00:00:00'",
    );
    exact(
        last_used().is_in([day(2016, 1, 1), day(2016, 12, 31)]),
        "(LastUsedInCampaign ge datetime'2016-01-01T00:00:00' and LastUsedInCampaign lt datetime'2016-01-02T00:00:00') or (LastUsedInCampaign ge datetime'2016-12-31T00:00:00' and LastUsedInCampaign lt datetime'2017-01-01T00:00:00')",
    );
}

#[test]
fn date_parts_become_ranges() {
    let y = |s: &str| format!("datetime'{s}'");
    exact(
        modified().year().eq(2016),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-01-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    exact(
        modified().year().gt(2016),
        &format!("ModifiedOn ge {}", y("2017-01-01T00:00:00")),
    );
    exact(
        modified().year().gte(2016),
        &format!("ModifiedOn ge {}", y("2016-01-01T00:00:00")),
    );
    exact(
        modified().year().lt(2016),
        &format!("ModifiedOn lt {}", y("2016-01-01T00:00:00")),
    );
    exact(
        modified().year().lte(2016),
        &format!("ModifiedOn lt {}", y("2017-01-01T00:00:00")),
    );
    exact(
        modified().year().range(2015, 2016),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2015-01-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    exact(
        modified().year().is_in([2014, 2015, 2017]),
        &format!(
            "(ModifiedOn ge {} and ModifiedOn lt {}) or (ModifiedOn ge {} and ModifiedOn lt {})",
            y("2014-01-01T00:00:00"),
            y("2016-01-01T00:00:00"),
            y("2017-01-01T00:00:00"),
            y("2018-01-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016) & modified().month().eq(2),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-02-01T00:00:00"),
            y("2016-03-01T00:00:00")
        ),
    );
    exact(
        modified().month().eq(12) & modified().year().eq(2016),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-12-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016) & modified().month().eq(2) & modified().day().eq(29),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-02-29T00:00:00"),
            y("2016-03-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016)
            & modified().month().eq(2)
            & modified().day().eq(29)
            & modified().hour().eq(23),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-02-29T23:00:00"),
            y("2016-03-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016)
            & modified().month().eq(1)
            & modified().day().eq(2)
            & modified().hour().eq(3)
            & modified().minute().eq(4)
            & modified().second().eq(5),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-01-02T03:04:05"),
            y("2016-01-02T03:04:06")
        ),
    );
    // A comparison on the part after the prefix.
    exact(
        modified().year().eq(2016) & modified().month().gte(6),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-06-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016) & modified().month().range(3, 4),
        &format!(
            "ModifiedOn ge {} and ModifiedOn lt {}",
            y("2016-03-01T00:00:00"),
            y("2016-05-01T00:00:00")
        ),
    );
    exact(
        modified().year().eq(2016) & modified().month().is_in([1, 2, 3, 12]),
        &format!(
            "(ModifiedOn ge {} and ModifiedOn lt {}) or (ModifiedOn ge {} and ModifiedOn lt {})",
            y("2016-01-01T00:00:00"),
            y("2016-04-01T00:00:00"),
            y("2016-12-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    // Impossible dates match nothing, locally and remotely.
    exact(
        modified().year().eq(2015) & modified().month().eq(2) & modified().day().eq(29),
        "AccountId eq null",
    );
    exact(
        modified().year().eq(2016) & modified().month().eq(13),
        "AccountId eq null",
    );
    exact(
        modified().year().eq(2016) & modified().year().eq(2017),
        "AccountId eq null",
    );
    exact(
        modified().year().eq(2016) & modified().month().gt(12),
        "AccountId eq null",
    );
    // On a date field.
    exact(
        last_used().year().eq(2016),
        &format!(
            "LastUsedInCampaign ge {} and LastUsedInCampaign lt {}",
            y("2016-01-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    // Negated: the complement of the range, plus nulls when nullable.
    exact(
        !(modified().year().eq(2016) & modified().month().eq(2)),
        &format!(
            "ModifiedOn lt {} or ModifiedOn ge {}",
            y("2016-02-01T00:00:00"),
            y("2016-03-01T00:00:00")
        ),
    );
    exact(
        !verified().year().eq(2016),
        &format!(
            "optevia_LastVerified lt {} or optevia_LastVerified ge {} or optevia_LastVerified eq null",
            y("2016-01-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
    exact(
        !modified().year().is_in([2014, 2016]),
        &format!(
            "ModifiedOn lt {} or (ModifiedOn ge {} and ModifiedOn lt {}) or ModifiedOn ge {}",
            y("2014-01-01T00:00:00"),
            y("2015-01-01T00:00:00"),
            y("2016-01-01T00:00:00"),
            y("2017-01-01T00:00:00")
        ),
    );
}

#[test]
fn date_parts_that_are_not_ranges_relax() {
    relaxed(modified().month().eq(3));
    relaxed(modified().day().eq(3));
    relaxed(modified().hour().eq(3));
    relaxed(modified().minute().eq(3));
    relaxed(modified().second().eq(3));
    relaxed(modified().week_day().eq(2));
    relaxed(modified().month().is_in([1, 2]));
    relaxed(!modified().month().eq(3));
    relaxed(modified().month().eq(3) & modified().day().eq(1));
    // A gap after the prefix: the year stays, the day is relaxed.
    superset(
        modified().year().eq(2016) & modified().day().eq(3),
        "ModifiedOn ge datetime'2016-01-01T00:00:00' and ModifiedOn lt datetime'2017-01-01T00:00:00'",
    );
    superset(
        modified().year().eq(2016) & modified().week_day().eq(1),
        "ModifiedOn ge datetime'2016-01-01T00:00:00' and ModifiedOn lt datetime'2017-01-01T00:00:00'",
    );
    // Negated with a relaxed member: the whole negated conjunction is dropped.
    relaxed(!(modified().year().eq(2016) & modified().day().eq(3)));
    // Years outside the literal's range widen to no bound.
    superset(modified().year().gte(10000), "ModifiedOn ne null");
}

#[test]
fn unmappable_fields_relax() {
    relaxed(tags().eq("a,b"));
    relaxed(tags().isnull(true));
    relaxed(notes().icontains("x"));
    relaxed(local_pk().eq(5));
}

#[test]
fn combinations() {
    superset(
        name().eq("A") & employees().gt(5),
        "Name eq 'A' and NumberOfEmployees gt 5",
    );
    exact(
        employees().gt(5) | employees().lt(2),
        "NumberOfEmployees gt 5 or NumberOfEmployees lt 2",
    );
    exact(
        (employees().gt(5) | employees().lt(2)) & do_not_phone().eq(true),
        "(NumberOfEmployees gt 5 or NumberOfEmployees lt 2) and DoNotPhone eq true",
    );
    exact(
        employees().gt(5) | (employees().lt(2) & do_not_phone().eq(true)),
        "NumberOfEmployees gt 5 or (NumberOfEmployees lt 2 and DoNotPhone eq true)",
    );
    // Relaxed member of a conjunction: dropped; of a disjunction: the whole disjunction.
    superset(
        employees().gt(5) & name().regex("x"),
        "NumberOfEmployees gt 5",
    );
    relaxed(employees().gt(5) | name().regex("x"));
    // Under `not`: the relaxed member drops the negated conjunction entirely...
    relaxed(!(employees().gt(5) & name().regex("x")));
    // ... and is dropped from a negated disjunction (`!(a | b)` = `!a & !b` ⊆ `!a`).
    superset(
        !(employees().gt(5) | name().regex("x")),
        "NumberOfEmployees le 5 or NumberOfEmployees eq null",
    );
    superset(
        !name().eq("x") & employees().eq(3),
        "NumberOfEmployees eq 3",
    );
    superset(
        (name().icontains("acme") | name().istartswith("the ")) & !credit().isnull(true),
        "(substringof('acme',Name) or startswith(Name,'the ')) and CreditLimit/Value ne null",
    );
    superset(
        !(!(name().icontains("x") & employees().eq(1)) | do_not_phone().eq(false)),
        "substringof('x',Name) and NumberOfEmployees eq 1 and DoNotPhone ne false",
    );
    assert_eq!(
        tr(Q::all()),
        Translation {
            filter: None,
            exact: true
        }
    );
    exact(Q::nothing(), "AccountId eq null");
    assert_eq!(
        tr(!Q::nothing()),
        Translation {
            filter: None,
            exact: true
        }
    );
    exact(employees().is_in(Vec::<i32>::new()), "AccountId eq null");
    exact(employees().eq(1) & Q::nothing(), "AccountId eq null");
    exact(employees().eq(1) | Q::nothing(), "NumberOfEmployees eq 1");
    // Unsimplified constants inside a manually built tree.
    let e = Expr::Or(vec![
        Expr::Nothing,
        Expr::Not(Box::new(Expr::All)),
        employees().eq(1).into_expr(),
    ]);
    assert_eq!(
        tr_expr(&e),
        Translation {
            filter: Some("NumberOfEmployees eq 1".into()),
            exact: true
        }
    );
    let e = Expr::Not(Box::new(Expr::And(vec![Expr::All, Expr::Nothing])));
    assert_eq!(
        tr_expr(&e),
        Translation {
            filter: None,
            exact: true
        }
    );
}

#[test]
fn no_unsupported_functions_are_ever_emitted() {
    let all: Vec<Q<O>> = vec![
        name().iexact("x"),
        name().icontains("x"),
        name().istartswith("x"),
        name().iendswith("x"),
        modified().year().eq(2016),
        modified().month().eq(2),
        modified().day().eq(2),
        modified().week_day().eq(2),
        modified().hour().eq(2),
        modified().minute().eq(2),
        modified().second().eq(2),
        name().regex("x"),
        !name().iexact("x"),
    ];
    for q in all {
        let f = tr(q).filter.unwrap_or_default();
        for banned in [
            "tolower", "toupper", "year(", "month(", "day(", "hour(", "minute(", "second(", "not ",
            "length(", "indexof(",
        ] {
            assert!(!f.contains(banned), "{f} contains {banned}");
        }
    }
}

#[test]
fn order_keys() {
    let key = OrderKey::new;
    let o = orderby(&ORG_CDMS, &[]);
    assert_eq!(o.orderby, "ModifiedOn desc,AccountId asc");
    assert!(o.exact);
    let o = orderby(&ORG_CDMS, &[key(EMPLOYEES, false), key(MODIFIED, true)]);
    assert_eq!(
        o.orderby,
        "NumberOfEmployees asc,ModifiedOn desc,AccountId asc"
    );
    assert!(o.exact);
    let o = orderby(&ORG_CDMS, &[key(CREDIT_LIMIT, true), key(INDUSTRY, false)]);
    assert_eq!(
        o.orderby,
        "CreditLimit/Value desc,IndustryCode/Value asc,AccountId asc"
    );
    assert!(o.exact);
    let o = orderby(&ORG_CDMS, &[key(NAME, false)]);
    assert_eq!(o.orderby, "Name asc,AccountId asc");
    assert!(!o.exact, "CDMS sorts text case-insensitively");
    // A reference ends the remote order; the rest would order within groups CDMS doesn't form.
    let o = orderby(
        &ORG_CDMS,
        &[
            key(EMPLOYEES, true),
            key(COUNTRY_REF, false),
            key(NAME, false),
        ],
    );
    assert_eq!(o.orderby, "NumberOfEmployees desc,AccountId asc");
    assert!(!o.exact);
    let o = orderby(&ORG_CDMS, &[key(COUNTRY_REF, false)]);
    assert_eq!(o.orderby, "ModifiedOn desc,AccountId asc");
    assert!(!o.exact);
    for unmapped in [NOTES, TAGS, ID, CDMS_ID] {
        let o = orderby(&ORG_CDMS, &[key(unmapped, false)]);
        assert_eq!(o.orderby, "ModifiedOn desc,AccountId asc");
        assert!(!o.exact);
    }
    let o = orderby(&COUNTRY_CDMS, &[]);
    assert_eq!(o.orderby, "ModifiedOn desc,optevia_countryId asc");
    // A field of a referenced entity (2011 has no `Nav/Property` in `$orderby`) ends it too,
    // whatever its kind: the root keys before it are kept.
    let through = |field| OrderKey {
        field,
        desc: false,
        via: vec![COUNTRY_REF],
    };
    let o = orderby(
        &ORG_CDMS,
        &[key(EMPLOYEES, true), through(0), key(NAME, false)],
    );
    assert_eq!(o.orderby, "NumberOfEmployees desc,AccountId asc");
    assert!(!o.exact);
    let o = orderby(&ORG_CDMS, &[through(EMPLOYEES)]);
    assert_eq!(o.orderby, "ModifiedOn desc,AccountId asc");
    assert!(!o.exact);
}

#[test]
fn expanded_entities_prefix_every_path() {
    let nav = |q: Q<O>| translate_expanded(&ORG_CDMS, "nav_org", q.expr(), &resolver);
    let t = nav(name().icontains("ltd") & employees().gt(10));
    assert_eq!(
        t.filter.as_deref(),
        Some("substringof('ltd',nav_org/Name) and nav_org/NumberOfEmployees gt 10")
    );
    assert!(!t.exact);
    // Member paths, references, datetimes and the nulls a negation adds.
    let t = nav(!credit().gt(dec("5")) | Q::from_expr(reference(Lookup::Exact(Value::Int(7)))));
    assert_eq!(
        t.filter.as_deref(),
        Some(&*format!(
            "nav_org/CreditLimit/Value le 5M or nav_org/CreditLimit/Value eq null \
             or nav_org/optevia_Country/Id eq guid'{GB}'"
        ))
    );
    assert!(t.exact);
    let t = nav(verified().year().eq(2016));
    assert_eq!(
        t.filter.as_deref(),
        Some(
            "nav_org/optevia_LastVerified ge datetime'2016-01-01T00:00:00' and \
             nav_org/optevia_LastVerified lt datetime'2017-01-01T00:00:00'"
        )
    );
    // What the root translation relaxes stays relaxed; nothing matching names the nav's id.
    let t = nav(tags().eq("x") & name().regex("^a"));
    assert_eq!(
        t,
        Translation {
            filter: None,
            exact: false
        }
    );
    let t = translate_expanded(&ORG_CDMS, "nav_org", &Expr::Nothing, &resolver);
    assert_eq!(t.filter.as_deref(), Some("nav_org/AccountId eq null"));
    // The same translation as the root's, but for the prefix.
    let q = (name().startswith("A") | industry().eq(3)) & !do_not_phone().eq(true);
    let root = tr(q.clone()).filter.unwrap();
    let expanded = nav(q).filter.unwrap();
    assert_eq!(expanded.replace("nav_org/", ""), root);
}
