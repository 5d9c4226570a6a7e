//! Unit tests of the pure parts: which reads name one record, the remote form of key
//! conditions, duplicate records, and the setup check.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::apply::newest_by_id;
use super::fields::{cdms_of, changed_fields, default_row};
use super::list::{collect, rewrite};
use super::read::{single, Single};
use crate::cdms::codec::RemoteRecord;
use crate::cdms::filter::translate;
use crate::cdms::test_fixtures::{
    CDMS_ID, COUNTRY, COUNTRY_REF, ID, MODIFIED, NAME, NOTES, ORG, ORG_CDMS,
};
use crate::expr::{Cond, Expr, Lookup};
use crate::value::Value;

fn cond(field: usize, lookup: Lookup) -> Expr {
    Expr::Cond(Cond { field, lookup })
}

fn guid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn one_record_reads_are_recognised() {
    let by_pk = cond(ID, Lookup::Exact(Value::Int(7)));
    let by_id = cond(CDMS_ID, Lookup::Exact(Value::Uuid(guid(1))));
    let name = cond(NAME, Lookup::Exact(Value::Text("x".into())));
    assert_eq!(single(&ORG_CDMS, &by_pk), Some(Single::Pk(7)));
    assert_eq!(single(&ORG_CDMS, &by_id), Some(Single::Id(guid(1))));
    assert_eq!(
        single(&ORG_CDMS, &name.clone().and(by_pk.clone())),
        Some(Single::Pk(7))
    );
    assert_eq!(single(&ORG_CDMS, &name), None);
    assert_eq!(
        single(&ORG_CDMS, &Expr::Or(vec![by_pk.clone(), name.clone()])),
        None
    );
    assert_eq!(single(&ORG_CDMS, &Expr::Not(Box::new(by_pk))), None);
    assert_eq!(
        single(
            &ORG_CDMS,
            &cond(ID, Lookup::In(vec![Value::Int(1), Value::Int(2)]))
        ),
        None
    );
}

#[test]
fn key_conditions_become_id_conditions() {
    let expr = Expr::And(vec![
        cond(
            ID,
            Lookup::In(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
        ),
        Expr::Not(Box::new(cond(ID, Lookup::Exact(Value::Int(4))))),
        cond(COUNTRY_REF, Lookup::Exact(Value::Int(9))),
    ]);
    let mut keys = Vec::new();
    collect(&ORG, &expr, &mut keys);
    let found: Vec<(&str, i64)> = keys.iter().map(|(m, pk)| (m.table, *pk)).collect();
    assert_eq!(
        found,
        [
            ("organisation", 1),
            ("organisation", 2),
            ("organisation", 3),
            ("organisation", 4),
            ("country", 9)
        ]
    );

    // Key 2 is local-only (no CDMS id); key 4 too.
    let ids: HashMap<(&'static str, i64), Uuid> = [
        (("organisation", 1), guid(1)),
        (("organisation", 3), guid(3)),
        (("country", 9), guid(9)),
    ]
    .into();
    let rewritten = rewrite(&ORG_CDMS, &expr, &ids);
    assert_eq!(
        rewritten,
        Expr::And(vec![
            cond(
                CDMS_ID,
                Lookup::In(vec![Value::Uuid(guid(1)), Value::Uuid(guid(3))])
            ),
            Expr::Not(Box::new(Expr::Nothing)),
            cond(COUNTRY_REF, Lookup::Exact(Value::Int(9))),
        ])
    );
    let resolve = |t: &'static crate::entity::EntityMeta, pk: i64| ids.get(&(t.table, pk)).copied();
    let filter = translate(&ORG_CDMS, &rewritten, &resolve)
        .filter
        .unwrap_or_default();
    assert_eq!(
        filter,
        "(AccountId eq guid'00000000-0000-0000-0000-000000000001' or AccountId eq \
         guid'00000000-0000-0000-0000-000000000003') and optevia_Country/Id eq \
         guid'00000000-0000-0000-0000-000000000009'"
    );
    // Only local-only keys: nothing can match remotely.
    let none = rewrite(&ORG_CDMS, &cond(ID, Lookup::Exact(Value::Int(2))), &ids);
    assert_eq!(none, Expr::Nothing);
}

fn record(id: u128, modified: i64, name: &str) -> RemoteRecord {
    RemoteRecord {
        id: guid(id),
        modified: DateTime::<Utc>::from_timestamp(modified, 0).unwrap_or_default(),
        values: vec![(NAME, Value::Text(name.into()))],
        refs: Vec::new(),
    }
}

#[test]
fn duplicate_records_keep_the_newest() {
    let kept = newest_by_id(vec![
        record(1, 10, "a"),
        record(2, 5, "b"),
        record(1, 20, "c"),
        record(1, 15, "d"),
    ]);
    let names: Vec<&Value> = kept.iter().map(|r| &r.values[0].1).collect();
    assert_eq!(names, [&Value::Text("c".into()), &Value::Text("b".into())]);
}

#[test]
fn rows_and_changes() {
    let row = default_row(&ORG);
    assert_eq!(row[ID], Value::Int(0));
    assert_eq!(
        row[NAME],
        Value::Text(String::new()),
        "a non-optional text field"
    );
    assert_eq!(row[NOTES], Value::Null);
    let mut other = row.clone();
    other[NAME] = Value::Text("x".into());
    other[NOTES] = Value::Text("local".into());
    other[MODIFIED] = Value::DateTime(Utc::now());
    other[CDMS_ID] = Value::Uuid(guid(1));
    assert_eq!(
        changed_fields(&ORG_CDMS, &row, &other),
        [NAME],
        "mapped data fields only"
    );
}

#[test]
fn the_cdms_id_must_be_unique_locally() {
    let err = cdms_of(&ORG).unwrap_err().to_string();
    assert!(
        err.contains("#[entity(unique)]") && err.contains("AccountId"),
        "{err}"
    );
    let err = cdms_of(&COUNTRY).unwrap_err().to_string();
    assert!(err.contains("unique"), "{err}");
}
