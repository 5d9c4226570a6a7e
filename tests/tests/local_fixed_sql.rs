//! The SQL text `#[derive(Entity)]` fixes at compile time is exactly the text the store builds
//! from the metadata, for every example entity (and a self-referencing one) on both backends,
//! so the two cannot drift apart.

use cdms_runtime::expr::{Cond, Expr, Lookup};
use cdms_runtime::store::sql::{ddl, quote_ident, select, write};
use cdms_runtime::store::{Backend, ReadSpec};
use cdms_runtime::{Entity, EntityMeta, Value};

fn metas() -> Vec<&'static EntityMeta> {
    let mut all = cdms_entities::all_entities().to_vec();
    all.push(<cdms_tests::sync_support::Node as Entity>::META);
    all
}

#[test]
fn the_fixed_sql_is_the_text_the_store_builds() {
    for meta in metas() {
        let fixed_sql = meta.sql.expect("the derive fixes the SQL");
        let row = vec![Value::Null; meta.fields.len()];
        let data: Vec<usize> = (0..meta.fields.len()).filter(|&i| i != meta.pk).collect();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let fixed = fixed_sql.of(backend);
            let at = format!("{} on {backend:?}", meta.name);
            let columns: Vec<String> = meta.fields.iter().map(|f| quote_ident(f.column)).collect();
            assert_eq!(fixed.columns, columns.join(", "), "{at}");
            assert_eq!(
                fixed.create_table,
                Some(ddl::built_create_table(backend, meta).as_str()),
                "{at}"
            );
            assert_eq!(
                fixed.insert,
                write::built_insert(backend, meta, &row, false)
                    .unwrap()
                    .text(),
                "{at}"
            );
            assert_eq!(
                fixed.update,
                write::built_update(backend, meta, &row).unwrap().text(),
                "{at}"
            );
            assert_eq!(
                fixed.delete,
                write::built_delete(backend, meta, &[1], true).text(),
                "{at}"
            );
            let by_pk = ReadSpec::filtered(
                meta,
                Expr::Cond(Cond {
                    field: meta.pk,
                    lookup: Lookup::Exact(Value::Int(1)),
                }),
            );
            for (text, for_update) in [(fixed.select, false), (fixed.select_for_update, true)] {
                assert_eq!(
                    text,
                    select::rows(backend, meta, &by_pk, for_update)
                        .unwrap()
                        .text(),
                    "{at}"
                );
            }
            match fixed_sql.upsert_key {
                Some(key) => assert_eq!(
                    fixed.upsert,
                    Some(
                        write::upsert(backend, meta, key, &data, std::slice::from_ref(&row))
                            .unwrap()
                            .text()
                    ),
                    "{at}"
                ),
                None => assert_eq!(fixed.upsert, None, "{at}"),
            }
            // The store runs the fixed text.
            assert_eq!(
                write::insert(backend, meta, &row, false).unwrap().text(),
                fixed.insert
            );
            assert_eq!(
                ddl::create_table(backend, meta),
                ddl::built_create_table(backend, meta)
            );
        }
    }
}
