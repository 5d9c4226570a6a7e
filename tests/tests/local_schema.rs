//! Re-modelling: introspection, the migration plan from v1 to v2 of an entity, safe steps
//! applied, risky ones refused until they come from a reviewed migration file, and drift.

use cdms_runtime::store::schema::{MigrationError, Risk, Step, MIGRATIONS_TABLE};
use cdms_runtime::store::Backend;
use cdms_runtime::{Entity, EntityMeta, Error};
use cdms_tests::db::backends;

mod v1 {
    use cdms_runtime::Entity;
    use chrono::{DateTime, Utc};

    #[derive(Debug, Clone, Entity)]
    #[entity(table = "tag")]
    pub struct Tag {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(unique)]
        pub name: String,
    }

    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct Note {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        pub title: String,
        pub author: Option<String>,
        pub old_code: Option<String>,
    }
}

mod v2 {
    use cdms_runtime::{Entity, Ref};
    use chrono::{DateTime, Utc};

    pub use super::v1::Tag;

    #[derive(Debug, Clone, Entity)]
    #[entity(table = "label")]
    pub struct Label {
        #[entity(primary_key)]
        pub id: i64,
        pub text: String,
    }

    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct Note {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        pub title: String,
        #[entity(renamed_from = "author")]
        pub writer: Option<String>,
        #[entity(index)]
        pub priority: Option<i32>,
        pub tag: Option<Ref<Tag>>,
    }

    /// v2 with `title` made optional and `priority` required: nullability changes.
    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct NoteStrict {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        pub title: Option<String>,
        pub writer: Option<String>,
        #[entity(index)]
        pub priority: i32,
        pub tag: Option<cdms_runtime::Ref<Tag>>,
    }
}

mod v3 {
    use cdms_runtime::{Entity, Ref};
    use chrono::{DateTime, Utc};

    pub use super::v1::Tag;

    /// v2 with `priority` widened to `i64`, `title` unique and a new unique `slug`.
    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct Note {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        #[entity(unique)]
        pub title: String,
        pub writer: Option<String>,
        #[entity(index)]
        pub priority: Option<i64>,
        pub tag: Option<Ref<Tag>>,
        #[entity(unique)]
        pub slug: Option<String>,
    }
}

mod v4 {
    use cdms_runtime::{Entity, Ref};
    use chrono::{DateTime, Utc};

    pub use super::v1::Tag;

    /// v2 with three required columns that declare defaults: safe to add.
    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct Note {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        pub title: String,
        pub writer: Option<String>,
        #[entity(index)]
        pub priority: Option<i32>,
        pub tag: Option<Ref<Tag>>,
        #[entity(default = "it's new")]
        pub status: String,
        #[entity(default = -1.5)]
        pub weight: f64,
        #[entity(default = true)]
        pub visible: bool,
    }

    /// v4 with `status`'s default changed, `weight`'s dropped, and `priority` required with a
    /// default: on SQLite, a table rebuild.
    #[derive(Debug, Clone, Entity)]
    #[entity(table = "note")]
    pub struct NoteStrict {
        #[entity(primary_key)]
        pub id: i64,
        #[entity(modified)]
        pub modified: DateTime<Utc>,
        pub title: String,
        pub writer: Option<String>,
        #[entity(index, default = 3)]
        pub priority: i32,
        pub tag: Option<Ref<Tag>>,
        #[entity(default = "open")]
        pub status: String,
        pub weight: f64,
        #[entity(default = true)]
        pub visible: bool,
    }
}

fn v1_entities() -> Vec<&'static EntityMeta> {
    vec![v1::Tag::META, v1::Note::META]
}

fn v2_entities() -> Vec<&'static EntityMeta> {
    vec![v2::Tag::META, v2::Label::META, v2::Note::META]
}

fn described(steps: &[Step]) -> Vec<String> {
    steps.iter().map(ToString::to_string).collect()
}

fn refused(err: &Error) -> Option<&[Step]> {
    match err {
        Error::Migration(e) => match e.as_ref() {
            MigrationError::Refused { steps } => Some(steps),
            _ => None,
        },
        _ => None,
    }
}

#[tokio::test]
async fn introspection_matches_what_migrate_creates() {
    for t in backends().await {
        t.db.migrate(&v2_entities()).await.expect("migrate");
        let live = t.db.introspect().await.expect("introspect");
        let note = live.tables.get("note").expect("note table");
        let names: Vec<&str> = note.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "modified", "title", "writer", "priority", "tag"],
            "[{}]",
            t.label
        );
        let id = note.column("id").unwrap();
        assert!(id.primary_key && !id.nullable, "[{}] {id:?}", t.label);
        let title = note.column("title").unwrap();
        assert!(!title.nullable, "[{}]", t.label);
        let expected_text = match t.backend() {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "text COLLATE \"C\"",
        };
        assert_eq!(title.sql_type, expected_text, "[{}]", t.label);
        assert!(note.column("priority").unwrap().nullable, "[{}]", t.label);
        let fk = note.foreign_key("tag").expect("foreign key on tag");
        assert_eq!(
            (fk.references.as_str(), fk.referenced_columns.as_slice()),
            ("tag", ["id".to_owned()].as_slice()),
            "[{}]",
            t.label
        );
        let plain: Vec<Vec<String>> = note
            .indexes
            .iter()
            .filter(|i| !i.unique)
            .map(|i| i.columns.clone())
            .collect();
        for col in ["priority", "tag", "modified"] {
            assert!(
                plain.contains(&vec![col.to_owned()]),
                "[{}] index on {col}: {plain:?}",
                t.label
            );
        }
        let tag = live.tables.get("tag").unwrap();
        assert!(tag.is_unique("name"), "[{}] {:?}", t.label, tag.indexes);
        assert!(
            !tag.is_unique("id"),
            "[{}] the key is not a unique column",
            t.label
        );
        // Migrating again changes nothing.
        let plan = t.db.plan(&v2_entities()).await.unwrap();
        assert!(
            plan.is_empty(),
            "[{}] {:?}",
            t.label,
            described(&plan.steps)
        );
        t.db.migrate(&v2_entities()).await.expect("idempotent");
    }
}

#[tokio::test]
async fn v1_to_v2_plan_refusal_file_apply_and_drift() {
    for t in backends().await {
        let db = &t.db;
        db.migrate(&v1_entities()).await.expect("migrate v1");
        for (i, author) in ["ann", "bob", "cy"].into_iter().enumerate() {
            v1::Note::objects(db)
                .create(v1::Note {
                    id: 0,
                    modified: chrono::Utc::now(),
                    title: format!("note {i}"),
                    author: Some(author.to_owned()),
                    old_code: Some(format!("c{i}")),
                })
                .await
                .expect("create v1 note");
        }

        // The plan shows exactly the model change.
        let plan = db.plan(&v2_entities()).await.expect("plan");
        assert_eq!(
            described(&plan.steps),
            [
                "create table label",
                "rename column note.author to writer",
                "add column note.priority",
                "add column note.tag",
                "drop column note.old_code",
                "create index on note (priority)",
                "create index on note (tag)",
            ],
            "[{}]",
            t.label
        );
        let risky: Vec<String> = plan.risky().map(ToString::to_string).collect();
        assert_eq!(
            risky,
            [
                "rename column note.author to writer",
                "drop column note.old_code"
            ],
            "[{}]",
            t.label
        );
        let sql = plan.to_sql();
        assert!(
            sql.contains("ALTER TABLE \"note\" RENAME COLUMN \"author\" TO \"writer\";")
                && sql.contains("ALTER TABLE \"note\" DROP COLUMN \"old_code\";")
                && sql.contains("ALTER TABLE \"note\" ADD COLUMN \"tag\"")
                && sql.contains("REFERENCES \"tag\" (\"id\")")
                && sql.contains("-- drop column note.old_code [RISKY: review]"),
            "[{}] {sql}",
            t.label
        );

        // Risky steps: migrate refuses and applies nothing.
        let err = db.migrate(&v2_entities()).await.expect_err("refused");
        let steps = refused(&err).unwrap_or_else(|| panic!("[{}] {err}", t.label));
        assert_eq!(described(steps), risky, "[{}]", t.label);
        assert!(err.to_string().contains("migrate --write DIR"), "{err}");
        let again = db.plan(&v2_entities()).await.unwrap();
        assert_eq!(
            described(&again.steps),
            described(&plan.steps),
            "[{}] nothing applied",
            t.label
        );

        // A migration file: written, applied, recorded.
        let dir = tempfile::tempdir().unwrap();
        let file = cdms_runtime::store::schema::files::write(&plan, dir.path(), "note v2")
            .unwrap()
            .expect("a file");
        let name = file.path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.ends_with("_note_v2.sql") && name.split('_').next().unwrap().len() == 14,
            "{name}"
        );
        let drift = db.drift(Some(dir.path()), &v2_entities()).await.unwrap();
        assert_eq!(drift.pending.len(), 1, "[{}] {drift}", t.label);
        assert!(
            !db.introspect()
                .await
                .unwrap()
                .tables
                .contains_key(MIGRATIONS_TABLE),
            "[{}] checking drift creates nothing",
            t.label
        );
        assert_eq!(drift.schema.len(), plan.steps.len());
        let applied = db.apply_migrations(dir.path()).await.expect("apply");
        assert_eq!(applied, [file.version], "[{}]", t.label);
        assert!(
            db.plan(&v2_entities()).await.unwrap().is_empty(),
            "[{}] schema equals v2",
            t.label
        );
        db.migrate(&v2_entities()).await.expect("nothing left");
        let drift = db.drift(Some(dir.path()), &v2_entities()).await.unwrap();
        assert!(drift.is_clean(), "[{}] {drift}", t.label);
        assert!(
            db.apply_migrations(dir.path()).await.unwrap().is_empty(),
            "[{}] applied once",
            t.label
        );

        // The data came along: the renamed column keeps its values.
        let f = v2::Note::fields();
        let notes = v2::Note::objects(db)
            .order_by([f.id.asc()])
            .all()
            .await
            .unwrap();
        let writers: Vec<Option<&str>> = notes.iter().map(|n| n.writer.as_deref()).collect();
        assert_eq!(
            writers,
            [Some("ann"), Some("bob"), Some("cy")],
            "[{}]",
            t.label
        );
        assert!(notes
            .iter()
            .all(|n| n.priority.is_none() && n.tag.is_none()));

        // Drift: a file edited after it was applied, then a file gone.
        let mut edited = file.sql.clone();
        edited.push_str("\n-- edited\n");
        std::fs::write(&file.path, edited).unwrap();
        let drift = db.drift(Some(dir.path()), &v2_entities()).await.unwrap();
        assert_eq!(
            drift.changed,
            [(file.version, "note v2".to_owned())],
            "[{}]",
            t.label
        );
        let err = db
            .apply_migrations(dir.path())
            .await
            .expect_err("drift refuses");
        assert!(err.to_string().contains("checksum differs"), "{err}");
        std::fs::remove_file(&file.path).unwrap();
        let drift = db.drift(Some(dir.path()), &v2_entities()).await.unwrap();
        assert_eq!(
            drift.missing,
            [(file.version, "note v2".to_owned())],
            "[{}]",
            t.label
        );
        assert!(drift.changed.is_empty() && !drift.is_clean());

        // Drift: a column dropped by hand is seen (and, being nullable, re-added by migrate).
        db.execute_raw("DROP INDEX \"note__priority\"", &[])
            .await
            .unwrap();
        db.execute_raw("ALTER TABLE \"note\" DROP COLUMN \"priority\"", &[])
            .await
            .unwrap();
        let drift = db.drift(None, &v2_entities()).await.unwrap();
        assert_eq!(
            described(&drift.schema),
            [
                "add column note.priority",
                "create index on note (priority)"
            ],
            "[{}]",
            t.label
        );
        db.migrate(&v2_entities()).await.expect("safe steps");
        assert!(db.plan(&v2_entities()).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn nullability_and_unique_changes_are_risky() {
    for t in backends().await {
        let db = &t.db;
        db.migrate(&v2_entities()).await.expect("migrate v2");
        let strict = [v2::Tag::META, v2::Label::META, v2::NoteStrict::META];
        let plan = db.plan(&strict).await.unwrap();
        assert_eq!(
            described(&plan.steps),
            [
                "drop NOT NULL on note.title",
                "set NOT NULL on note.priority"
            ],
            "[{}]",
            t.label
        );
        assert!(plan.steps.iter().all(|s| s.risk() == Risk::Risky));
        let sql = plan.to_sql();
        match t.backend() {
            Backend::Postgres => assert!(
                sql.contains("ALTER TABLE \"note\" ALTER COLUMN \"priority\" SET NOT NULL;"),
                "{sql}"
            ),
            Backend::Sqlite => assert!(
                sql.contains("-- rebuild table note")
                    && sql.contains("CREATE TABLE \"new_note\"")
                    && sql.contains("ALTER TABLE \"new_note\" RENAME TO \"note\";"),
                "{sql}"
            ),
        }
        let err = db.migrate(&strict).await.expect_err("refused");
        assert_eq!(
            refused(&err).map(<[Step]>::len),
            Some(2),
            "[{}] {err}",
            t.label
        );

        // Going back to v1 drops the unique index of nothing, but renames back are not guessed:
        // without `renamed_from`, v1's `author` is a new column and `writer` a dropped one.
        let back = db.plan(&v1_entities()).await.unwrap();
        let back = described(&back.steps);
        assert!(
            back.contains(&"add column note.author".to_owned())
                && back.contains(&"drop column note.writer".to_owned())
                && back.contains(&"drop index note__priority on note".to_owned()),
            "[{}] {back:?}",
            t.label
        );
    }
}

#[tokio::test]
async fn type_changes_and_unique_constraints() {
    for t in backends().await {
        let db = &t.db;
        db.migrate(&v2_entities()).await.expect("migrate v2");
        let v3 = [v3::Tag::META, v2::Label::META, v3::Note::META];
        let plan = db.plan(&v3).await.unwrap();
        let mut expected = vec![
            "add column note.slug",
            "add unique index on note.title (over existing rows)",
            "add unique index on note.slug (new column)",
        ];
        if t.backend() == Backend::Postgres {
            // SQLite stores both as INTEGER: nothing to change there.
            expected.insert(1, "change type of note.priority from integer to Int64");
        }
        assert_eq!(described(&plan.steps), expected, "[{}]", t.label);
        let risky: Vec<String> = plan.risky().map(ToString::to_string).collect();
        assert!(
            risky.iter().all(|s| !s.contains("slug")) && risky.len() == expected.len() - 2,
            "[{}] {risky:?}",
            t.label
        );
        assert!(refused(&db.migrate(&v3).await.expect_err("refused")).is_some());

        let dir = tempfile::tempdir().unwrap();
        cdms_runtime::store::schema::files::write(&plan, dir.path(), "unique titles")
            .unwrap()
            .expect("a file");
        db.apply_migrations(dir.path()).await.expect("apply");
        let left = db.plan(&v3).await.unwrap();
        assert!(
            left.is_empty(),
            "[{}] {:?}",
            t.label,
            described(&left.steps)
        );
        let live = db.introspect().await.unwrap();
        let note = &live.tables["note"];
        assert!(
            note.is_unique("title") && note.is_unique("slug"),
            "[{}]",
            t.label
        );

        // And back: the unique index on title is no longer wanted (risky to drop).
        let plan = db.plan(&v2_entities()).await.unwrap();
        let back = described(&plan.steps);
        assert!(
            back.contains(&"drop unique constraint on note.title".to_owned())
                && back.contains(&"drop column note.slug".to_owned()),
            "[{}] {back:?}",
            t.label
        );
    }
}

#[tokio::test]
async fn declared_defaults_and_table_rebuilds() {
    for t in backends().await {
        let db = &t.db;
        db.migrate(&v2_entities()).await.expect("migrate v2");
        let tag = v2::Tag::objects(db)
            .create(v2::Tag {
                id: 0,
                name: "red".into(),
            })
            .await
            .unwrap();
        for (i, priority) in [Some(1), None, Some(2)].into_iter().enumerate() {
            v2::Note::objects(db)
                .create(v2::Note {
                    id: 0,
                    modified: chrono::Utc::now(),
                    title: format!("note {i}"),
                    writer: Some(format!("w{i}")),
                    priority,
                    tag: (i == 0).then(|| cdms_runtime::Ref::new(tag.id)),
                })
                .await
                .unwrap();
        }

        // Required columns with a declared default are safe: applied directly, existing rows
        // get the default.
        let v4 = [v4::Tag::META, v2::Label::META, v4::Note::META];
        let plan = db.plan(&v4).await.unwrap();
        assert_eq!(
            described(&plan.steps),
            [
                "add column note.status (NOT NULL, existing rows get the default 'it''s new')",
                "add column note.weight (NOT NULL, existing rows get the default -1.5)",
                "add column note.visible (NOT NULL, existing rows get the default true)",
            ],
            "[{}]",
            t.label
        );
        assert!(plan.risky().next().is_none(), "[{}]", t.label);
        assert!(
            plan.to_sql().contains("DEFAULT 'it''s new'"),
            "[{}] {}",
            t.label,
            plan.to_sql()
        );
        db.migrate(&v4).await.expect("safe");
        let notes = v4::Note::objects(db).all().await.unwrap();
        assert_eq!(notes.len(), 3);
        assert!(
            notes
                .iter()
                .all(|n| n.status == "it's new" && n.weight == -1.5 && n.visible),
            "[{}] {notes:?}",
            t.label
        );
        // Introspection reads the defaults back as declared: nothing left to do.
        let live = db.introspect().await.unwrap();
        let note = &live.tables["note"];
        assert_eq!(
            note.column("status").unwrap().default.as_deref(),
            Some("it's new"),
            "[{}]",
            t.label
        );
        let left = db.plan(&v4).await.unwrap();
        assert!(
            left.is_empty(),
            "[{}] {:?}",
            t.label,
            described(&left.steps)
        );

        // Changed, dropped and new defaults, and a column made NOT NULL: risky.
        let strict = [v4::Tag::META, v2::Label::META, v4::NoteStrict::META];
        let plan = db.plan(&strict).await.unwrap();
        assert_eq!(
            described(&plan.steps),
            [
                "set default of note.priority to 3",
                "set NOT NULL on note.priority",
                "set default of note.status to 'open'",
                "drop default of note.weight",
            ],
            "[{}]",
            t.label
        );
        assert!(plan.safe().next().is_none(), "[{}]", t.label);
        let sql = plan.to_sql();
        match t.backend() {
            Backend::Postgres => assert!(
                sql.contains("ALTER TABLE \"note\" ALTER COLUMN \"status\" SET DEFAULT 'open';")
                    && sql.contains("ALTER TABLE \"note\" ALTER COLUMN \"weight\" DROP DEFAULT;"),
                "{sql}"
            ),
            Backend::Sqlite => {
                assert_eq!(plan.rebuilds.len(), 1, "{sql}");
                assert!(
                    sql.contains("INSERT INTO \"new_note\" (\"id\", \"modified\", \"title\", \"writer\", \"priority\", \"tag\", \"status\", \"weight\", \"visible\") SELECT")
                        && sql.contains("DROP TABLE \"note\";")
                        && sql.contains("CREATE INDEX IF NOT EXISTS \"note__priority\""),
                    "{sql}"
                );
            }
        }
        let dir = tempfile::tempdir().unwrap();
        cdms_runtime::store::schema::files::write(&plan, dir.path(), "strict notes")
            .unwrap()
            .expect("a file");

        // One row holds NULL where NOT NULL is wanted: the file fails, nothing changes.
        let err = db
            .apply_migrations(dir.path())
            .await
            .expect_err("a NULL priority");
        assert!(
            err.to_string().to_lowercase().contains("null"),
            "[{}] {err}",
            t.label
        );
        let again = db.plan(&strict).await.unwrap();
        assert_eq!(
            described(&again.steps),
            described(&plan.steps),
            "[{}] nothing applied",
            t.label
        );
        let drift = db.drift(Some(dir.path()), &strict).await.unwrap();
        assert_eq!(
            drift.pending.len(),
            1,
            "[{}] not recorded: {drift}",
            t.label
        );
        assert_eq!(v4::Note::objects(db).all().await.unwrap().len(), 3);

        // With the row fixed, the same file applies and the data survives.
        db.execute_raw(
            "UPDATE \"note\" SET \"priority\" = 9 WHERE \"priority\" IS NULL",
            &[],
        )
        .await
        .unwrap();
        db.apply_migrations(dir.path()).await.expect("apply");
        let left = db.plan(&strict).await.unwrap();
        assert!(
            left.is_empty(),
            "[{}] {:?}",
            t.label,
            described(&left.steps)
        );
        let f = v4::NoteStrict::fields();
        let notes = v4::NoteStrict::objects(db)
            .order_by([f.id.asc()])
            .all()
            .await
            .unwrap();
        type Kept<'a> = (&'a str, Option<&'a str>, i32, Option<i64>, &'a str);
        let kept: Vec<Kept> = notes
            .iter()
            .map(|n| {
                (
                    n.title.as_str(),
                    n.writer.as_deref(),
                    n.priority,
                    n.tag.as_ref().map(|r| r.pk()),
                    n.status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            kept,
            [
                ("note 0", Some("w0"), 1, Some(tag.id), "it's new"),
                ("note 1", Some("w1"), 9, None, "it's new"),
                ("note 2", Some("w2"), 2, None, "it's new"),
            ],
            "[{}]",
            t.label
        );
        let live = db.introspect().await.unwrap();
        let note = &live.tables["note"];
        assert!(note.foreign_key("tag").is_some(), "[{}] {note:?}", t.label);
        assert!(!note.column("priority").unwrap().nullable);
        // Ids go on after the highest one ever handed out.
        let last = notes.last().unwrap().id;
        v4::NoteStrict::objects(db)
            .filter(f.id.eq(last))
            .delete()
            .await
            .unwrap();
        let next = v4::NoteStrict::objects(db)
            .create(v4::NoteStrict {
                id: 0,
                modified: chrono::Utc::now(),
                title: "after".into(),
                writer: None,
                priority: 0,
                tag: None,
                status: "x".into(),
                weight: 0.0,
                visible: false,
            })
            .await
            .unwrap();
        assert!(next.id > last, "[{}] {} after {last}", t.label, next.id);
    }
}
