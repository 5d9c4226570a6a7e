//! Corrupt rows surface as `Error::Decode` naming entity, field and value.

use cdms_runtime::store::{Backend, Param};
use cdms_runtime::{Error, Value};
use cdms_tests::local::{databases, Product};

fn expect_decode(err: Error, field: &str, value: &str) {
    match &err {
        Error::Decode {
            entity,
            field: f,
            value: v,
            ..
        } => {
            assert_eq!(*entity, "Product");
            assert_eq!(*f, field);
            assert!(v.contains(value), "{err}");
            let shown = err.to_string();
            assert!(
                shown.contains("Product") && shown.contains(field) && shown.contains(value),
                "{shown}"
            );
        }
        other => panic!("expected a decode error for {field}, got {other}"),
    }
}

fn ph(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

#[tokio::test]
async fn unknown_option_set_code() {
    for t in databases().await {
        let db = &t.db;
        let p = Product::objects(db)
            .create(Product::new("a", 1))
            .await
            .unwrap();
        let statement = format!(
            "UPDATE product SET colour = 9 WHERE id = {}",
            ph(t.backend(), 1)
        );
        db.execute_raw(&statement, &[Param::from(Value::Int(p.id))])
            .await
            .unwrap();
        expect_decode(Product::objects(db).get().await.unwrap_err(), "colour", "9");
        // Projections of other fields still work.
        assert_eq!(
            Product::objects(db)
                .values_list(Product::fields().name)
                .await
                .unwrap(),
            ["a"]
        );
    }
}

#[tokio::test]
async fn corrupt_storage_forms() {
    for t in databases().await {
        let db = &t.db;
        if t.backend() == Backend::Postgres {
            // PostgreSQL types its columns: make one hold text first.
            db.execute_raw("ALTER TABLE product ALTER COLUMN at TYPE TEXT", &[])
                .await
                .unwrap();
            db.execute_raw("INSERT INTO product (name, qty, active, at, modified) VALUES ('x', 1, TRUE, 'yesterday', now())", &[]).await.unwrap();
            expect_decode(
                Product::objects(db).all().await.unwrap_err(),
                "at",
                "yesterday",
            );
            continue;
        }
        let cases = [
            ("at", "'yesterday'", "yesterday"),
            ("day", "'2016-13-45'", "2016-13-45"),
            ("uid", "'not-a-uuid'", "not-a-uuid"),
            ("price", "'1,5'", "1,5"),
            ("active", "2", "2"),
            ("qty", "'many'", "many"),
            ("qty", "4294967296", "4294967296"),
            ("weight", "'heavy'", "heavy"),
            ("modified", "'2016-01-01 10:00'", "2016-01-01 10:00"),
        ];
        for (field, literal, shown) in cases {
            db.execute_raw("DELETE FROM product", &[]).await.unwrap();
            let p = Product::objects(db)
                .create(Product::new("a", 1))
                .await
                .unwrap();
            let statement = format!("UPDATE product SET \"{field}\" = {literal} WHERE id = ?");
            db.execute_raw(&statement, &[Param::from(Value::Int(p.id))])
                .await
                .unwrap();
            expect_decode(Product::objects(db).get().await.unwrap_err(), field, shown);
        }
    }
}
