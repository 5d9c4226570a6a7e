//! The remote seam: hooks run inside the local transaction, errors roll back, skip mode uses
//! the guard, `before_read` sees every read terminal.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use uuid::Uuid;

use super::{databases, fm, item, t, Item};
use crate::__private::decode;
use crate::entity::{Entity, EntityMeta, Role, Row};
use crate::error::{Error, Result};
use crate::query::expr::Field;
use crate::query::EntityExt;
use crate::store::history::{self, VersionKind};
use crate::store::remote::{ReadOp, ReadSpec, Remote};
use crate::store::{rows, Db, Tx};
use crate::types::FieldType;
use crate::value::Value;

fn opaque() -> &'static (dyn std::any::Any + Send + Sync) {
    &()
}

#[derive(Debug, Clone, PartialEq)]
struct Tracked {
    id: i64,
    key: Option<Uuid>,
    name: String,
    modified: DateTime<Utc>,
    note: Option<String>,
}

struct TrackedFields {
    name: Field<Tracked, String>,
    note: Field<Tracked, Option<String>>,
}

impl Entity for Tracked {
    const META: &'static EntityMeta = &EntityMeta {
        name: "Tracked",
        table: "tracked",
        fields: &[
            fm::<i64>("id", Role::PrimaryKey, false),
            fm::<Option<Uuid>>("key", Role::Plain, true),
            fm::<String>("name", Role::Plain, false),
            fm::<DateTime<Utc>>("modified", Role::Modified, false),
            fm::<Option<String>>("note", Role::Plain, false),
        ],
        pk: 0,
        modified: Some(3),
        created: None,
        remote: Some(opaque),
        sql: None,
    };
    type Fields = TrackedFields;
    fn fields() -> TrackedFields {
        TrackedFields {
            name: Field::new(2),
            note: Field::new(4),
        }
    }
    fn to_row(&self) -> Row {
        vec![
            self.id.to_value(),
            self.key.to_value(),
            self.name.to_value(),
            self.modified.to_value(),
            self.note.to_value(),
        ]
    }
    fn from_row(row: Row) -> Result<Self> {
        let m = Self::META;
        let mut it = row.into_iter();
        Ok(Tracked {
            id: decode(m, 0, it.next())?,
            key: decode(m, 1, it.next())?,
            name: decode(m, 2, it.next())?,
            modified: decode(m, 3, it.next())?,
            note: decode(m, 4, it.next())?,
        })
    }
    fn pk(&self) -> i64 {
        self.id
    }
    fn set_pk(&mut self, pk: i64) {
        self.id = pk;
    }
}

fn tracked(name: &str) -> Tracked {
    Tracked {
        id: 0,
        key: None,
        name: name.into(),
        modified: DateTime::default(),
        note: None,
    }
}

const REMOTE_TIME: &str = "2016-03-01T10:00:00Z";

#[derive(Default)]
struct Fake {
    log: Mutex<Vec<String>>,
    fail_on: Mutex<Option<&'static str>>,
    reads: Mutex<Vec<ReadOp>>,
}

impl Fake {
    fn log(&self, s: String) {
        self.log.lock().expect("log").push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().expect("log"))
    }
    fn fails(&self, what: &str) -> Result<()> {
        if *self.fail_on.lock().expect("fail") == Some(what) {
            return Err(Error::Refused {
                entity: "Tracked",
                message: format!("remote {what} failed"),
            });
        }
        Ok(())
    }
}

fn text(row: &Row, i: usize) -> String {
    match &row[i] {
        Value::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Remote for Fake {
    fn before_read<'a>(
        &'a self,
        db: &'a Db,
        meta: &'static EntityMeta,
        spec: &'a ReadSpec,
    ) -> BoxFuture<'a, Result<Option<Vec<Row>>>> {
        async move {
            assert!(db.is_skipping_remote());
            self.reads.lock().expect("reads").push(spec.op);
            // A refresh: the remote knows a record the local store has not seen yet.
            let mut tx = db.begin().await?;
            let mut row = tracked("from remote").to_row();
            row[1] = Value::Uuid(Uuid::from_u128(7));
            row[3] = Value::DateTime(t(REMOTE_TIME));
            // The stored row this refresh replaces, if any (what its version records as prior).
            let replaced = match rows::find_pk(&mut tx, meta, 1, &row[1]).await? {
                Some(pk) => rows::get(&mut tx, meta, pk).await?,
                None => None,
            };
            let mut batch = vec![row];
            rows::upsert(&mut tx, meta, 1, &[2, 3], &mut batch).await?;
            let change = (&batch[0], replaced.as_ref());
            history::record_many(&mut tx, meta, VersionKind::RemoteRefresh, [change]).await?;
            tx.commit().await?;
            Ok(None)
        }
        .boxed()
    }
    fn insert<'a>(
        &'a self,
        _tx: &'a mut Tx,
        _meta: &'static EntityMeta,
        row: &'a mut Row,
        _restore: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.fails("insert")?;
            self.log(format!("insert {}", text(row, 2)));
            row[1] = Value::Uuid(Uuid::new_v4());
            row[3] = Value::DateTime(t(REMOTE_TIME));
            Ok(())
        }
        .boxed()
    }
    fn update<'a>(
        &'a self,
        _tx: &'a mut Tx,
        _meta: &'static EntityMeta,
        old: &'a Row,
        new: &'a mut Row,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.fails("update")?;
            self.log(format!("update {} -> {}", text(old, 2), text(new, 2)));
            new[3] = Value::DateTime(t(REMOTE_TIME));
            Ok(())
        }
        .boxed()
    }
    fn delete<'a>(
        &'a self,
        _tx: &'a mut Tx,
        _meta: &'static EntityMeta,
        row: &'a Row,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.fails("delete")?;
            self.log(format!("delete {}", text(row, 2)));
            Ok(())
        }
        .boxed()
    }
    fn local_write_guard(
        &self,
        _meta: &'static EntityMeta,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> Result<()> {
        self.log(format!(
            "guard {:?} -> {:?}",
            old.map(|r| text(r, 2)),
            new.map(|r| text(r, 2))
        ));
        // Only the local-only `note` may change without the remote.
        match (old, new) {
            (Some(o), Some(n)) if o[..4] == n[..4] => Ok(()),
            _ => Err(Error::Refused {
                entity: "Tracked",
                message: "synced fields need the remote".into(),
            }),
        }
    }
    fn remote_key(&self, _meta: &'static EntityMeta, row: &Row) -> Option<String> {
        match &row[1] {
            Value::Uuid(u) => Some(u.to_string()),
            _ => None,
        }
    }
}

async fn setup(plain: &Db) -> (Db, Arc<Fake>) {
    plain.migrate(&[Tracked::META]).await.unwrap();
    let fake = Arc::new(Fake::default());
    let remote: Arc<dyn Remote> = fake.clone();
    (plain.with_remote(remote).as_actor("bob"), fake)
}

#[tokio::test]
async fn writes_go_through_hooks_inside_the_transaction() {
    for t_db in databases().await {
        let (db, fake) = setup(&t_db.db).await;
        let f = Tracked::fields();
        let mut a = tracked("a");
        a.save(&db).await.unwrap();
        assert!(a.key.is_some());
        assert_eq!(
            a.modified,
            t(REMOTE_TIME),
            "the store does not stamp remote-governed rows"
        );
        let v = a.versions(&db).await.unwrap();
        assert_eq!(v[0].remote_key, a.key.map(|k| k.to_string()));
        assert_eq!(v[0].actor.as_deref(), Some("bob"));

        let created = Tracked::objects(&db)
            .bulk_create(vec![tracked("b"), tracked("c")])
            .await
            .unwrap();
        assert!(created.iter().all(|c| c.key.is_some()));
        let n = Tracked::objects(&db)
            .filter(f.name.is_in(["a", "b"]))
            .update([f.name.set("z")])
            .await
            .unwrap();
        assert_eq!(n, 2);
        let n = Tracked::objects(&db)
            .filter(f.name.eq("c"))
            .delete()
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            fake.take(),
            [
                "insert a",
                "insert b",
                "insert c",
                "update a -> z",
                "update b -> z",
                "delete c"
            ]
        );

        // A failing hook rolls the local write back.
        *fake.fail_on.lock().unwrap() = Some("insert");
        let err = Tracked::objects(&db)
            .bulk_create(vec![tracked("d"), tracked("e")])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err}");
        *fake.fail_on.lock().unwrap() = Some("update");
        assert!(Tracked::objects(&db)
            .update([f.note.set(Some("n".to_owned()))])
            .await
            .is_err());
        *fake.fail_on.lock().unwrap() = None;
        let local = Tracked::objects(&db.skip_cdms())
            .order_by([f.name.asc()])
            .values_list(f.name)
            .await
            .unwrap();
        assert_eq!(local, ["from remote", "z", "z"]);
        assert!(
            Tracked::objects(&db.skip_cdms())
                .filter(f.note.isnull(false))
                .count()
                .await
                .unwrap()
                == 0
        );
    }
}

/// The version that inserted an object stores no remote key, as it stores no snapshot: it
/// reads back with the key of the state it was written with, as the handle's remote reads it.
#[tokio::test]
async fn a_first_copy_reads_its_remote_key_back_without_storing_it() {
    for t_db in databases().await {
        let (db, _fake) = setup(&t_db.db).await;
        let mut a = tracked("a");
        a.save(&db).await.unwrap();
        let key = a.key.map(|k| k.to_string());
        assert!(key.is_some());
        a.name = "b".into();
        a.save(&db).await.unwrap();
        let stored: Vec<Value> =
            rows::select(&db, &history::HISTORY, &ReadSpec::all(&history::HISTORY))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r[3].clone())
                .collect();
        assert_eq!(stored, [Value::Null, Value::Text(key.clone().unwrap())]);
        let keys = |v: Vec<history::Version>| -> Vec<Option<String>> {
            v.into_iter().map(|v| v.remote_key).collect()
        };
        assert_eq!(
            keys(a.versions(&db).await.unwrap()),
            [key.clone(), key.clone()]
        );
        // Without a remote, only the stored keys are known.
        assert_eq!(
            keys(a.versions(&t_db.db).await.unwrap()),
            [None, key.clone()]
        );
        // A key stored with a first copy (as earlier versions did) is read as stored.
        db.execute_raw(
            "UPDATE \"history\" SET \"remote_key\" = 'stored' WHERE \"snapshot\" = ''",
            &[],
        )
        .await
        .unwrap();
        assert_eq!(
            keys(a.versions(&db).await.unwrap()),
            [Some("stored".to_owned()), key]
        );
    }
}

#[tokio::test]
async fn before_read_sees_every_read_terminal() {
    for t_db in databases().await {
        let (db, fake) = setup(&t_db.db).await;
        let f = Tracked::fields();
        let qs = Tracked::objects(&db);
        // The refresh in before_read makes the remote record visible to the same read.
        assert_eq!(
            qs.clone()
                .filter(f.name.eq("from remote"))
                .get()
                .await
                .unwrap()
                .key,
            Some(Uuid::from_u128(7))
        );
        qs.all().await.unwrap();
        qs.count().await.unwrap();
        qs.exists().await.unwrap();
        qs.first().await.unwrap();
        qs.last().await.unwrap();
        qs.values_list(f.name).await.unwrap();
        qs.aggregate(f.name.count()).await.unwrap();
        qs.in_bulk([1]).await.unwrap();
        qs.clone().none().all().await.unwrap();
        let reads = fake.reads.lock().unwrap().clone();
        use ReadOp::*;
        assert_eq!(
            reads,
            [Get, List, Count, Exists, First, Last, Values, Aggregate, InBulk]
        );
        // Skip mode and entities without remote metadata never reach the remote.
        Tracked::objects(&db).skip_cdms().all().await.unwrap();
        Item::objects(&db).all().await.unwrap();
        item("plain", 1).save(&db).await.unwrap();
        assert_eq!(fake.reads.lock().unwrap().len(), 9);
        assert!(fake.take().is_empty());
        let refreshed = history::versions(&db, Tracked::META, 1).await.unwrap();
        assert!(refreshed
            .iter()
            .all(|v| v.kind == VersionKind::RemoteRefresh));
    }
}

#[tokio::test]
async fn skip_mode_writes_pass_the_guard() {
    for t_db in databases().await {
        let (db, fake) = setup(&t_db.db).await;
        let local = db.skip_cdms();
        let f = Tracked::fields();
        let mut a = tracked("a");
        a.save(&db).await.unwrap();
        fake.take();
        // A local-only field may change; modified is left alone.
        a.note = Some("n".into());
        a.save(&local).await.unwrap();
        assert_eq!(a.modified, t(REMOTE_TIME));
        let n = Tracked::objects(&local)
            .update([f.note.set(Some("m".to_owned()))])
            .await
            .unwrap();
        assert_eq!(n, 1);
        // A synced field may not.
        a.name = "b".into();
        assert!(matches!(
            a.save(&local).await.unwrap_err(),
            Error::Refused { .. }
        ));
        assert!(Tracked::objects(&local).create(tracked("x")).await.is_err());
        assert!(Tracked::objects(&local).delete().await.is_err());
        assert_eq!(
            Tracked::objects(&local).values_list(f.name).await.unwrap(),
            ["a"]
        );
        assert_eq!(
            fake.take(),
            [
                "guard Some(\"a\") -> Some(\"a\")",
                "guard Some(\"a\") -> Some(\"a\")",
                "guard Some(\"a\") -> Some(\"b\")",
                "guard None -> Some(\"x\")",
                "guard Some(\"a\") -> None",
            ]
        );
    }
}
