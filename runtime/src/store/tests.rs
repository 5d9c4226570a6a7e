//! Store tests on hand-written entities (the derive lives in another crate), on a SQLite file
//! and, when `DATABASE_URL` is set, on a fresh PostgreSQL database.

mod remote;
mod sql_text;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::__private::{decode, is_option_set, references};
use crate::entity::{Entity, EntityMeta, FieldMeta, Role, Row};
use crate::error::{Error, Result};
use crate::query::expr::Field;
use crate::query::EntityExt;
use crate::store::history::VersionKind;
use crate::store::{history, rows, Backend, Db, Param, ReadSpec};
use crate::types::{FieldType, Ref};
use crate::value::Value;

const fn fm<T: FieldType>(name: &'static str, role: Role, unique: bool) -> FieldMeta {
    FieldMeta {
        name,
        column: name,
        kind: T::KIND,
        nullable: T::NULLABLE,
        role,
        references: references::<T>(),
        unique,
        indexed: false,
        renamed_from: None,
        default: None,
        option_set: is_option_set::<T>(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Group {
    pub id: i64,
    pub name: String,
}

pub(super) struct GroupFields {
    pub name: Field<Group, String>,
}

impl Entity for Group {
    const META: &'static EntityMeta = &EntityMeta {
        name: "Group",
        table: "grp",
        fields: &[
            fm::<i64>("id", Role::PrimaryKey, false),
            fm::<String>("name", Role::Plain, true),
        ],
        pk: 0,
        modified: None,
        created: None,
        remote: None,
        sql: None,
    };
    type Fields = GroupFields;
    fn fields() -> GroupFields {
        GroupFields {
            name: Field::new(1),
        }
    }
    fn to_row(&self) -> Row {
        vec![self.id.to_value(), self.name.to_value()]
    }
    fn from_row(row: Row) -> Result<Self> {
        let mut it = row.into_iter();
        Ok(Group {
            id: decode(Self::META, 0, it.next())?,
            name: decode(Self::META, 1, it.next())?,
        })
    }
    fn pk(&self) -> i64 {
        self.id
    }
    fn set_pk(&mut self, pk: i64) {
        self.id = pk;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub id: i64,
    pub name: String,
    pub code: Option<String>,
    pub qty: i32,
    pub price: Option<Decimal>,
    pub at: Option<DateTime<Utc>>,
    pub uid: Option<Uuid>,
    pub group: Option<Ref<Group>>,
    pub modified: DateTime<Utc>,
    pub created: Option<DateTime<Utc>>,
}

pub(super) struct ItemFields {
    pub name: Field<Item, String>,
    pub code: Field<Item, Option<String>>,
    pub qty: Field<Item, i32>,
    pub price: Field<Item, Option<Decimal>>,
    pub at: Field<Item, Option<DateTime<Utc>>>,
    pub group: Field<Item, Option<Ref<Group>>>,
}

impl Entity for Item {
    const META: &'static EntityMeta = &EntityMeta {
        name: "Item",
        table: "item",
        fields: &[
            fm::<i64>("id", Role::PrimaryKey, false),
            fm::<String>("name", Role::Plain, false),
            fm::<Option<String>>("code", Role::Plain, true),
            fm::<i32>("qty", Role::Plain, false),
            fm::<Option<Decimal>>("price", Role::Plain, false),
            fm::<Option<DateTime<Utc>>>("at", Role::Plain, false),
            fm::<Option<Uuid>>("uid", Role::Plain, false),
            fm::<Option<Ref<Group>>>("group", Role::Plain, false),
            fm::<DateTime<Utc>>("modified", Role::Modified, false),
            fm::<Option<DateTime<Utc>>>("created", Role::Created, false),
        ],
        pk: 0,
        modified: Some(8),
        created: Some(9),
        remote: None,
        sql: None,
    };
    type Fields = ItemFields;
    fn fields() -> ItemFields {
        ItemFields {
            name: Field::new(1),
            code: Field::new(2),
            qty: Field::new(3),
            price: Field::new(4),
            at: Field::new(5),
            group: Field::new(7),
        }
    }
    fn to_row(&self) -> Row {
        vec![
            self.id.to_value(),
            self.name.to_value(),
            self.code.to_value(),
            self.qty.to_value(),
            self.price.to_value(),
            self.at.to_value(),
            self.uid.to_value(),
            self.group.to_value(),
            self.modified.to_value(),
            self.created.to_value(),
        ]
    }
    fn from_row(row: Row) -> Result<Self> {
        let m = Self::META;
        let mut it = row.into_iter();
        Ok(Item {
            id: decode(m, 0, it.next())?,
            name: decode(m, 1, it.next())?,
            code: decode(m, 2, it.next())?,
            qty: decode(m, 3, it.next())?,
            price: decode(m, 4, it.next())?,
            at: decode(m, 5, it.next())?,
            uid: decode(m, 6, it.next())?,
            group: decode(m, 7, it.next())?,
            modified: decode(m, 8, it.next())?,
            created: decode(m, 9, it.next())?,
        })
    }
    fn pk(&self) -> i64 {
        self.id
    }
    fn set_pk(&mut self, pk: i64) {
        self.id = pk;
    }
}

pub(super) fn item(name: &str, qty: i32) -> Item {
    Item {
        id: 0,
        name: name.to_owned(),
        code: None,
        qty,
        price: None,
        at: None,
        uid: None,
        group: None,
        modified: DateTime::default(),
        created: None,
    }
}

/// A fresh database: a SQLite file in a temporary directory (kept alive by the guard), or a
/// new PostgreSQL database under `DATABASE_URL`.
pub(super) struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg.take() else {
            return;
        };
        // Best effort, on a thread of its own: drop cannot await.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Db::connect(&admin_url).await.ok()?;
                let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                admin.execute_raw(&statement, &[]).await.ok()?;
                admin.close().await;
                Some(())
            })
        });
        let _ = dropped.join();
    }
}

pub(super) async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Db::sqlite(dir.path().join("test.db"))
        .await
        .expect("sqlite");
    let mut out = vec![TestDb {
        db,
        _dir: Some(dir),
        pg: None,
    }];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let admin = Db::connect(&url).await.expect("postgres");
        let name = format!(
            "cdms_store_{}_{}",
            std::process::id(),
            Uuid::new_v4().simple()
        );
        admin
            .execute_raw(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .expect("create database");
        admin.close().await;
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        let db = Db::connect(&format!("{base}/{name}"))
            .await
            .expect("postgres test database");
        out.push(TestDb {
            db,
            _dir: None,
            pg: Some((url.clone(), name)),
        });
    }
    for t in &out {
        t.db.migrate(&[Group::META, Item::META])
            .await
            .expect("migrate");
    }
    out
}

pub(super) fn t(s: &str) -> DateTime<Utc> {
    crate::types::parse_datetime(s).expect("test datetime")
}

#[tokio::test]
async fn insert_update_delete_with_history_and_actor() {
    for t_db in databases().await {
        let db = t_db.db.as_actor("alice");
        let mut it = item("first", 1);
        it.price = Some(Decimal::new(1250, 3));
        it.at = Some(Utc.timestamp_nanos(1_456_000_000_123_456_789));
        it.save(&db).await.unwrap();
        assert!(it.id > 0);
        // Stored forms: decimal normalized, datetime truncated to microseconds.
        assert_eq!(it.price, Some(Decimal::new(125, 2)));
        assert_eq!(it.at, Some(t("2016-02-20T20:26:40.123456Z")));
        assert!(it.created.is_some());
        assert_eq!(it.created, Some(it.modified));
        let created = it.created;

        it.name = "renamed".into();
        it.save(&db).await.unwrap();
        assert_eq!(it.created, created);
        let stored = Item::objects(&db)
            .filter(Item::fields().name.eq("renamed"))
            .get()
            .await
            .unwrap();
        assert_eq!(stored, it);

        let pk = it.id;
        it.delete(&db).await.unwrap();
        assert_eq!(it.id, 0);
        let versions = history::versions(&db, Item::META, pk).await.unwrap();
        let kinds: Vec<VersionKind> = versions.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            [
                VersionKind::LocalChange,
                VersionKind::LocalChange,
                VersionKind::Delete
            ]
        );
        assert!(versions.iter().all(|v| v.actor.as_deref() == Some("alice")));
        assert_eq!(versions[1].object::<Item>().unwrap().name, "renamed");

        let restored = Item::restore(&db, pk).await.unwrap();
        assert_eq!(restored.id, pk);
        assert_eq!(restored.name, "renamed");
        let reverted = Item::revert_to(&db, versions[0].id).await.unwrap();
        assert_eq!(reverted.name, "first");
        let kinds: Vec<VersionKind> = history::versions(&db, Item::META, pk)
            .await
            .unwrap()
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(kinds[3..], [VersionKind::Restore, VersionKind::Revert]);
    }
}

#[tokio::test]
async fn upsert_versioned_records_each_written_row() {
    for t_db in databases().await {
        let db = &t_db.db.as_actor("carol");
        let mut tx = db.begin().await.unwrap();
        let mut first = vec![item("kept", 1).to_row()];
        first[0][2] = Value::Text("c0".into());
        rows::upsert(&mut tx, Item::META, 2, &[1, 3], &mut first)
            .await
            .unwrap();
        // 30 rows, 20 distinct keys (one of them existing), with text that needs escaping.
        let mut rows_in: Vec<Row> = (0..30)
            .map(|i| {
                let mut it = item(&format!("n{i} \"quoted\" \\ é"), i);
                it.code = Some(format!("c{}", i % 20));
                it.price = Some(Decimal::new(12345, 2));
                it.to_row()
            })
            .collect();
        // The rows keyed "c0" replace the stored one; the others are inserted.
        let replaces: Vec<Option<&Row>> = rows_in
            .iter()
            .map(|r| (r[2] == Value::Text("c0".into())).then_some(&first[0]))
            .collect();
        let before = db.sql_counts();
        let pks = rows::upsert_versioned(
            &mut tx,
            Item::META,
            2,
            &[1, 3, 4],
            &mut rows_in,
            VersionKind::RemoteRefresh,
            &replaces,
        )
        .await
        .unwrap();
        let statements = db.sql_counts().since(&before);
        tx.commit().await.unwrap();
        let want = if t_db.db.backend() == Backend::Postgres {
            1
        } else {
            2
        };
        assert_eq!(statements.total(), want, "{statements}");
        assert_eq!(statements.get(crate::StatementKind::Insert), want);
        assert_eq!(first[0][0], Value::Int(pks[0]));
        for (i, row) in rows_in.iter().enumerate().skip(10) {
            let versions = history::versions(db, Item::META, pks[i]).await.unwrap();
            assert_eq!(versions.len(), 1, "row {i}");
            let v = &versions[0];
            assert_eq!(v.kind, VersionKind::RemoteRefresh);
            assert_eq!(v.actor.as_deref(), Some("carol"));
            assert_eq!(v.local_pk, pks[i]);
            assert_eq!(&v.row(Item::META).unwrap(), row, "row {i}");
            let text = history::snapshot(Item::META, row);
            let (head, tail) = history::snapshot_around_pk(Item::META, row);
            assert_eq!(format!("{head}{}{tail}", pks[i]), text);
            if i == 20 {
                // Replaced "kept" (quantity 1): the prior values of what changed.
                let prior = v.prior.as_ref().expect("a prior");
                assert_eq!(prior["name"], serde_json::json!("kept"), "{prior:?}");
                assert_eq!(prior["qty"], serde_json::json!(1), "{prior:?}");
                assert!(!prior.contains_key("code"), "{prior:?}");
            } else {
                assert_eq!(v.prior, None, "row {i}");
            }
        }
        // The 19 inserted rows' versions are stored without a snapshot; the replacing one whole.
        let stored = rows::select(db, &history::HISTORY, &ReadSpec::all(&history::HISTORY))
            .await
            .unwrap();
        let empty = stored
            .iter()
            .filter(|r| r[5] == Value::Text(String::new()))
            .count();
        assert_eq!((stored.len(), empty), (20, 19));
    }
}

#[tokio::test]
async fn upsert_find_pk_and_rows_api() {
    for t_db in databases().await {
        let db = &t_db.db;
        let mut tx = db.begin().await.unwrap();
        let mut rows_in: Vec<Row> = (0..120)
            .map(|i| {
                let mut it = item(&format!("n{i}"), i);
                it.code = Some(format!("c{}", i % 100));
                it.to_row()
            })
            .collect();
        // 120 rows, 100 distinct keys: the later row of a key wins.
        let pks = rows::upsert(&mut tx, Item::META, 2, &[1, 3], &mut rows_in)
            .await
            .unwrap();
        assert_eq!(pks.len(), 120);
        assert_eq!(pks[5], pks[105]);
        // Rows 100.. replace rows 0.. of the same key.
        let changes = rows_in
            .iter()
            .enumerate()
            .map(|(i, r)| (r, i.checked_sub(100).map(|j| &rows_in[j])));
        history::record_many(&mut tx, Item::META, VersionKind::RemoteRefresh, changes)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(Item::objects(db).count().await.unwrap(), 100);
        let five = Item::objects(db)
            .filter(Item::fields().code.eq("c5"))
            .get()
            .await
            .unwrap();
        assert_eq!((five.name.as_str(), five.qty), ("n105", 105));

        // A second upsert updates only the listed fields.
        let mut tx = db.begin().await.unwrap();
        let mut again = vec![{
            let mut it = item("changed", 7);
            it.code = Some("c5".into());
            it.to_row()
        }];
        let pk = rows::upsert(&mut tx, Item::META, 2, &[1], &mut again)
            .await
            .unwrap();
        assert_eq!(pk, [five.id]);
        tx.commit().await.unwrap();
        let five2 = Item::objects(db)
            .filter(Item::fields().code.eq("c5"))
            .get()
            .await
            .unwrap();
        assert_eq!((five2.name.as_str(), five2.qty), ("changed", 105));

        let found = rows::find_pk(db, Item::META, 2, &Value::Text("c5".into()))
            .await
            .unwrap();
        assert_eq!(found, Some(five.id));
        let many = rows::find_pks(
            db,
            Item::META,
            2,
            &[Value::Text("c1".into()), Value::Text("zz".into())],
        )
        .await
        .unwrap();
        assert_eq!(many.len(), 1);
        let refresh = history::versions(db, Item::META, five.id).await.unwrap();
        assert_eq!(refresh.len(), 2);
        assert!(refresh
            .iter()
            .all(|v| v.kind == VersionKind::RemoteRefresh && v.actor.is_none()));
        // The first copy, stored compactly, reads back as the row the second one replaced.
        let mut first_copy = rows_in[5].clone();
        first_copy[0] = Value::Int(five.id);
        assert_eq!(refresh[0].row(Item::META).unwrap(), first_copy);
        assert_eq!(refresh[1].row(Item::META).unwrap(), rows_in[105]);

        // Upserting on a non-unique field is refused.
        let mut tx = db.begin().await.unwrap();
        let err = rows::upsert(&mut tx, Item::META, 1, &[], &mut again)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidQuery { .. }), "{err}");
    }
}

#[tokio::test]
async fn corrupt_rows_are_decode_errors_naming_entity_field_value() {
    for t_db in databases().await {
        let db = &t_db.db;
        let mut it = item("x", 1);
        it.save(db).await.unwrap();
        let (statement, param) = match db.backend() {
            Backend::Sqlite => (
                "UPDATE \"item\" SET \"at\" = 'not a date' WHERE \"id\" = ?",
                Param::from(Value::Int(it.id)),
            ),
            Backend::Postgres => {
                db.execute_raw("ALTER TABLE \"item\" ALTER COLUMN \"at\" TYPE TEXT", &[])
                    .await
                    .unwrap();
                (
                    "UPDATE \"item\" SET \"at\" = 'not a date' WHERE \"id\" = $1",
                    Param::from(Value::Int(it.id)),
                )
            }
        };
        assert_eq!(db.execute_raw(statement, &[param]).await.unwrap(), 1);
        let err = Item::objects(db).all().await.unwrap_err();
        match &err {
            Error::Decode {
                entity,
                field,
                value,
                ..
            } => {
                assert_eq!((*entity, *field), ("Item", "at"));
                assert!(value.contains("not a date"), "{err}");
            }
            other => panic!("expected a decode error, got {other}"),
        }
    }
}

#[tokio::test]
async fn bind_mismatch_is_an_invalid_query() {
    let dbs = databases().await;
    let db = &dbs[0].db;
    let q = crate::Q::<Item>::from_expr(crate::expr::Expr::Cond(crate::expr::Cond {
        field: 3,
        lookup: crate::expr::Lookup::Exact(Value::Text("three".into())),
    }));
    let err = Item::objects(db).filter(q).all().await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuery { entity: "Item", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn select_spec_helpers() {
    for t_db in databases().await {
        let db = &t_db.db;
        let mut g = Group {
            id: 0,
            name: "g".into(),
        };
        g.save(db).await.unwrap();
        let mut a = item("a", 1);
        a.group = Some(Ref::to(&g));
        a.save(db).await.unwrap();
        item("b", 2).save(db).await.unwrap();
        let all = rows::select(db, Item::META, &ReadSpec::all(Item::META))
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let in_g = Item::objects(db)
            .filter(Item::fields().group.eq(Ref::to(&g)))
            .count()
            .await
            .unwrap();
        assert_eq!(in_g, 1);
        assert!(Group::objects(db)
            .filter(Group::fields().name.eq("g"))
            .exists()
            .await
            .unwrap());
        let joined =
            rows::select_joined(db, Item::META, &ReadSpec::all(Item::META), 7, Group::META)
                .await
                .unwrap();
        assert!(joined[0].1.is_some() && joined[1].1.is_none());
        // A referenced row cannot be deleted while referenced.
        let mut g2 = g.clone();
        assert!(matches!(
            g2.delete(db).await.unwrap_err(),
            Error::Database { .. }
        ));
    }
}

/// A SQLite file in a temporary directory (kept alive by the returned guard) with `Group`.
async fn group_file() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Db::sqlite(dir.path().join("groups.db"))
        .await
        .expect("sqlite");
    db.migrate(&[Group::META]).await.expect("migrate");
    (dir, db)
}

/// The transactions of a SQLite file take turns on one connection in the order they began,
/// while reads outside them go on through the pool's other connections.
#[tokio::test]
async fn sqlite_transactions_take_turns_in_order() {
    use std::sync::{Arc, Mutex};
    let (_dir, db) = group_file().await;
    let first = db.begin().await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut waiting = Vec::new();
    for i in 0..5 {
        let (db, order) = (db.clone(), Arc::clone(&order));
        waiting.push(tokio::spawn(async move {
            let mut tx = db.begin().await?;
            order.lock().expect("order").push(i);
            let mut g = Group {
                id: 0,
                name: format!("g{i}"),
            };
            g.save_in(&mut tx).await?;
            tx.commit().await
        }));
        // Task i asks for its turn before task i + 1 is started.
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    // Five transactions wait for the first one; a read outside them is not held up.
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        Group::objects(&db).count(),
    )
    .await
    .expect("a read while transactions wait");
    assert_eq!(read.unwrap(), 0);
    assert!(order.lock().expect("order").is_empty());
    first.rollback().await.unwrap();
    for w in waiting {
        w.await.expect("join").unwrap();
    }
    assert_eq!(*order.lock().expect("order"), vec![0, 1, 2, 3, 4]);
    assert_eq!(Group::objects(&db).count().await.unwrap(), 5);
}

#[tokio::test]
async fn reads_on_the_writer_take_their_turn() {
    let (_dir, db) = group_file().await;
    let on_writer = db.reading_on_writer();
    let open = db.begin().await.unwrap();
    // The read pool answers while a transaction holds the writing connection; a handle
    // reading on the writer waits for it.
    assert_eq!(Group::objects(&db).count().await.unwrap(), 0);
    let queued = tokio::spawn(async move { Group::objects(&on_writer).count().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !queued.is_finished(),
        "the read did not wait for the writer"
    );
    open.rollback().await.unwrap();
    assert_eq!(queued.await.expect("join").unwrap(), 0);
    // PostgreSQL and in-memory SQLite have no writing connection: nothing changes there.
    let memory = Db::memory().await.expect("memory").reading_on_writer();
    memory.migrate(&[Group::META]).await.expect("migrate");
    assert_eq!(Group::objects(&memory).count().await.unwrap(), 0);
}

#[tokio::test]
async fn the_writing_connection_has_a_larger_cache_and_fewer_checkpoints() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Db::sqlite(dir.path().join("pragmas.db"))
        .await
        .expect("sqlite");
    let pragma = |name: &'static str| format!("PRAGMA {name}");
    let mut tx = db.begin().await.expect("begin");
    let super::tx::TxInner::Sqlite(conn) = &mut tx.inner else {
        panic!("a SQLite transaction");
    };
    let cache: i64 = sqlx::query_scalar(&pragma("cache_size"))
        .fetch_one(&mut **conn)
        .await
        .expect("cache_size");
    let checkpoint: i64 = sqlx::query_scalar(&pragma("wal_autocheckpoint"))
        .fetch_one(&mut **conn)
        .await
        .expect("wal_autocheckpoint");
    assert_eq!((cache, checkpoint), (-32 * 1024, 8 * 1024));
    tx.rollback().await.expect("rollback");
    // A reading connection keeps SQLite's defaults (every connection has a cache of its own).
    let super::Pool::Sqlite(readers) = db.pool() else {
        panic!("a SQLite pool");
    };
    let cache: i64 = sqlx::query_scalar(&pragma("cache_size"))
        .fetch_one(readers)
        .await
        .expect("cache_size");
    assert_eq!(cache, -2000);
}
