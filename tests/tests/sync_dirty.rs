//! Real CDMS data: one bad record never blocks the others (lists skip and quarantine it, a get of
//! it returns the typed error), answers are checked against the request, same-second edits are
//! seen, and the quarantine clears when the record can be applied.

use cdms_runtime::cdms::{CdmsError, SyncError};
use cdms_runtime::emulator::{FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::{Backend, Param};
use cdms_runtime::{Kind, Value};
use cdms_tests::sync_support::{envs, Node, SyncEnv};
use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

const NODES: &str = "new_nodeSet";

fn seed_node(env: &SyncEnv, name: serde_json::Value) -> Uuid {
    env.seed(NODES, json!({ "new_name": name }))
}

fn cdms_error(e: &cdms_runtime::Error) -> Option<&CdmsError> {
    match e {
        cdms_runtime::Error::Cdms(c) => Some(c.as_ref()),
        _ => None,
    }
}

async fn get_node(env: &SyncEnv, id: Uuid) -> cdms_runtime::Result<Node> {
    let f = Node::fields();
    Node::objects(&env.db).filter(f.cdms_id.eq(id)).get().await
}

async fn get_node_by_pk(env: &SyncEnv, pk: i64) -> cdms_runtime::Result<Node> {
    let f = Node::fields();
    Node::objects(&env.db).filter(f.id.eq(pk)).get().await
}

/// Answers the next GET naming `id` with this status, type and body instead of the record.
fn answer_next_get(env: &SyncEnv, id: Uuid, status: u16, content_type: &str, body: String) {
    env.emulator().faults().add(
        FaultRule::new(FaultAction::Respond {
            status,
            content_type: content_type.into(),
            body,
        })
        .method("GET")
        .path_contains(&id.to_string())
        .times(1),
    );
}

async fn all_nodes(env: &SyncEnv) -> Vec<Node> {
    Node::objects(&env.db)
        .all()
        .await
        .expect("the list read succeeds")
}

async fn local_names(env: &SyncEnv) -> Vec<String> {
    let mut names: Vec<String> = Node::objects(&env.db.skip_cdms())
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_null_in_a_required_field_is_quarantined_and_the_rest_of_the_page_is_applied() {
    for env in envs().await {
        let label = env.label();
        for i in 0..5 {
            seed_node(&env, json!(format!("node {i}")));
        }
        let bad = seed_node(&env, json!(null));
        let found = all_nodes(&env).await;
        assert_eq!(found.len(), 5, "[{label}] every other record is applied");
        let q = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(q.len(), 1, "[{label}] {q:?}");
        assert_eq!(q[0].entity, NODES);
        assert_eq!(q[0].cdms_id, Some(bad));
        assert_eq!(q[0].property.as_deref(), Some("new_name"));
        assert_eq!(q[0].value.as_deref(), Some("null"));
        assert!(q[0].reason.contains("not optional"), "{}", q[0].reason);
        assert_eq!(q[0].attempts, 1);

        // Seen again: counted, first-seen kept.
        all_nodes(&env).await;
        let again = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(again[0].attempts, 2, "[{label}]");
        assert_eq!(again[0].first_seen, q[0].first_seen);

        // A get of the bad record itself is its typed error, naming record and property.
        let err = get_node(&env, bad).await.unwrap_err();
        match cdms_error(&err) {
            Some(CdmsError::Decode {
                record, property, ..
            }) => {
                assert_eq!(*record, Some(bad), "[{label}]");
                assert_eq!(property, "new_name");
            }
            other => panic!("[{label}] expected a decode error, got {other:?} ({err})"),
        }
        assert!(err.to_string().contains(&bad.to_string()), "{err}");

        // Fixed in CDMS: the next read applies it and clears the entry.
        env.edit(NODES, bad, json!({"new_name": "fixed"}));
        assert_eq!(all_nodes(&env).await.len(), 6);
        assert!(
            env.remote.quarantine(&env.db).await.unwrap().is_empty(),
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn a_property_absent_from_an_answer_is_an_error_never_a_default() {
    for env in envs().await {
        let label = env.label();
        let id = seed_node(&env, json!("present"));
        env.emulator().faults().add(
            FaultRule::new(FaultAction::OmitProperty("new_name".into()))
                .set(NODES)
                .times(1),
        );
        let err = get_node(&env, id).await.unwrap_err();
        assert!(
            matches!(cdms_error(&err), Some(CdmsError::Decode { property, .. }) if property == "new_name"),
            "[{label}] {err}"
        );
        assert!(err.to_string().contains("absent"), "{err}");
        assert!(
            local_names(&env).await.is_empty(),
            "[{label}] nothing stored with a default"
        );
        // The next answer carries it again.
        let node = get_node(&env, id).await.unwrap();
        assert_eq!(node.name, "present");
        assert!(
            env.remote.quarantine(&env.db).await.unwrap().is_empty(),
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn a_dangling_reference_blocks_only_its_own_record() {
    for env in envs().await {
        let label = env.label();
        let parent = seed_node(&env, json!("parent"));
        env.seed(
            NODES,
            json!({"new_name": "child", "new_ParentId": {"Id": parent.to_string(), "LogicalName": "new_node"}}),
        );
        let ghost = Uuid::new_v4();
        let orphan = env.seed(
            NODES,
            json!({"new_name": "orphan", "new_ParentId": {"Id": ghost.to_string(), "LogicalName": "new_node"}}),
        );
        let found = all_nodes(&env).await;
        assert_eq!(found.len(), 2, "[{label}] parent and child applied");
        let q = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(q.len(), 1, "[{label}] {q:?}");
        assert_eq!(q[0].cdms_id, Some(orphan));
        assert_eq!(q[0].property.as_deref(), Some("new_ParentId"));
        assert_eq!(q[0].value, Some(ghost.to_string()));
        assert!(q[0].reason.contains("dangling"), "{}", q[0].reason);
    }
}

#[tokio::test]
async fn a_local_row_newer_than_cdms_blocks_only_itself() {
    for env in envs().await {
        let label = env.label();
        let ids: Vec<Uuid> = (0..3)
            .map(|i| seed_node(&env, json!(format!("n{i}"))))
            .collect();
        let nodes = all_nodes(&env).await;
        assert_eq!(nodes.len(), 3);
        // The row of ids[0] is moved ahead of CDMS behind the sync layer's back.
        let ahead = Utc::now() + Duration::days(1);
        let sql = match env.db.backend() {
            Backend::Sqlite => r#"UPDATE "node" SET "modified_on" = ? WHERE "cdms_id" = ?"#,
            Backend::Postgres => r#"UPDATE "node" SET "modified_on" = $1 WHERE "cdms_id" = $2"#,
        };
        env.db
            .execute_raw(
                sql,
                &[
                    Param::new(Value::DateTime(ahead), Kind::DateTime),
                    Param::new(Value::Uuid(ids[0]), Kind::Uuid),
                ],
            )
            .await
            .unwrap();
        for (i, id) in ids.iter().enumerate() {
            env.edit(NODES, *id, json!({"new_name": format!("edited {i}")}));
        }
        all_nodes(&env).await;
        assert_eq!(
            local_names(&env).await,
            vec!["edited 1", "edited 2", "n0"],
            "[{label}] the others are refreshed, the newer row is left alone"
        );
        let q = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(q.len(), 1, "[{label}] {q:?}");
        assert_eq!(q[0].cdms_id, Some(ids[0]));
        assert!(q[0].local_pk.is_some());
        assert!(q[0].reason.contains("not in sync"), "{}", q[0].reason);
        // Its own get still says so.
        let err = get_node(&env, ids[0]).await.unwrap_err();
        assert!(
            SyncError::of(&err).is_some_and(SyncError::is_not_in_sync),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_value_the_database_refuses_is_quarantined_on_its_own() {
    for env in envs().await {
        let label = env.label();
        seed_node(&env, json!("fine 1"));
        let nul = seed_node(&env, json!("nul\u{0}inside"));
        seed_node(&env, json!("fine 2"));
        let found = all_nodes(&env).await;
        let q = env.remote.quarantine(&env.db).await.unwrap();
        match env.db.backend() {
            // PostgreSQL refuses U+0000 in text: that row alone is skipped.
            Backend::Postgres => {
                assert_eq!(found.len(), 2, "[{label}]");
                assert_eq!(q.len(), 1, "[{label}] {q:?}");
                assert_eq!(q[0].cdms_id, Some(nul));
                assert!(q[0].reason.contains("refused"), "{}", q[0].reason);
                // A write that would leave such a record in CDMS is refused before sending.
                env.reset_log();
                let bad = cdms_tests::sync_support::new_node("mine\u{0}", None);
                let err = Node::objects(&env.db).create(bad).await.unwrap_err();
                assert!(err.to_string().contains("U+0000"), "{err}");
                assert_eq!(env.total(), 0, "[{label}] nothing sent to CDMS");
            }
            // SQLite stores it.
            Backend::Sqlite => {
                assert_eq!(found.len(), 3, "[{label}]");
                assert!(q.is_empty(), "[{label}] {q:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_keyed_get_answered_with_another_record_is_an_error() {
    for env in envs().await {
        let label = env.label();
        let a = seed_node(&env, json!("a"));
        let b = seed_node(&env, json!("b"));
        let node_a = get_node(&env, a).await.unwrap();
        env.edit(NODES, a, json!({"new_name": "a2"}));
        let other = serde_json::to_string(&json!({ "d": env.record(NODES, b) })).unwrap();
        answer_next_get(&env, a, 200, "application/json;charset=utf-8", other);
        let err = get_node_by_pk(&env, node_a.id).await.unwrap_err();
        assert!(
            matches!(cdms_error(&err), Some(CdmsError::Malformed { what, .. }) if what.contains(&b.to_string())),
            "[{label}] {err}"
        );
        let mut local = Node::objects(&env.db.skip_cdms()).all().await.unwrap();
        local.sort_by_key(|n| n.id);
        assert_eq!(
            local[0].cdms_id,
            Some(a),
            "[{label}] the row keeps its own id"
        );
        assert_eq!(local[0].name, "a", "[{label}] and its own data");
        // A save through the same answer fails the same way and changes nothing in CDMS.
        let mut edit = node_a.clone();
        edit.name = "mine".into();
        answer_next_get(
            &env,
            a,
            200,
            "application/json;charset=utf-8",
            serde_json::to_string(&json!({ "d": env.record(NODES, b) })).unwrap(),
        );
        assert!(edit.save(&env.db).await.is_err(), "[{label}]");
        assert_eq!(
            env.record(NODES, b).get("new_name"),
            Some(&json!("b")),
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn a_plain_404_on_a_keyed_get_means_deleted_in_cdms() {
    for env in envs().await {
        let label = env.label();
        let id = seed_node(&env, json!("soon gone"));
        let node = get_node(&env, id).await.unwrap();
        answer_next_get(
            &env,
            id,
            404,
            "text/html",
            "<html><body>404 - File or directory not found.</body></html>".into(),
        );
        let err = get_node_by_pk(&env, node.id).await.unwrap_err();
        assert!(err.is_not_found(), "[{label}] {err}");
        assert!(
            Node::objects(&env.db.skip_cdms())
                .all()
                .await
                .unwrap()
                .is_empty(),
            "[{label}] the deleted-in-CDMS outcome removed the row"
        );
    }
}

#[tokio::test]
async fn an_edit_within_the_same_second_is_seen_by_get_and_lists() {
    for env in envs().await {
        let label = env.label();
        let id = seed_node(&env, json!("first"));
        let node = get_node(&env, id).await.unwrap();
        // Another user edits within the same second: ModifiedOn does not move.
        env.emulator()
            .update(NODES, id, json!({"new_name": "second"}))
            .unwrap();
        assert_eq!(
            cdms_tests::sync_support::modified_on(&env.record(NODES, id)),
            node.modified_on,
            "same ModifiedOn"
        );
        env.reset_log();
        let again = get_node_by_pk(&env, node.id).await.unwrap();
        assert_eq!(again.name, "second", "[{label}] get");
        assert_eq!(env.total(), 1, "[{label}] no extra request");
        let versions = again.versions(&env.db).await.unwrap();
        assert_eq!(versions.len(), 2, "[{label}] the refresh is a version");

        env.emulator()
            .update(NODES, id, json!({"new_name": "third"}))
            .unwrap();
        env.reset_log();
        let listed = all_nodes(&env).await;
        assert_eq!(listed[0].name, "third", "[{label}] list");
        assert_eq!(env.total(), 1, "[{label}] one page");
    }
}

#[tokio::test]
async fn creating_with_the_id_of_an_existing_record_is_a_conflict() {
    for env in envs().await {
        let label = env.label();
        let id = seed_node(&env, json!("theirs"));
        let mut mine = cdms_tests::sync_support::new_node("mine", None);
        mine.cdms_id = Some(id);
        let err = Node::objects(&env.db).create(mine).await.unwrap_err();
        assert!(
            matches!(cdms_error(&err), Some(CdmsError::Conflict { .. })),
            "[{label}] {err}"
        );
        assert_eq!(
            env.record(NODES, id).get("new_name"),
            Some(&json!("theirs"))
        );
        assert!(
            local_names(&env).await.is_empty(),
            "[{label}] nothing stored locally"
        );
    }
}

#[tokio::test]
async fn a_save_that_changes_nothing_makes_no_request_and_no_version() {
    for env in envs().await {
        let label = env.label();
        let id = seed_node(&env, json!("same"));
        let mut node = get_node(&env, id).await.unwrap();
        let versions = node.versions(&env.db).await.unwrap().len();
        env.reset_log();
        node.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 0, "[{label}]");
        assert_eq!(
            node.versions(&env.db).await.unwrap().len(),
            versions,
            "[{label}]"
        );
        // Locally too (skip_cdms).
        node.save(&env.db.skip_cdms()).await.unwrap();
        assert_eq!(
            node.versions(&env.db).await.unwrap().len(),
            versions,
            "[{label}]"
        );
    }
}

/// Sets one field of an organisation.
type Setter = fn(&mut cdms_entities::Organisation, String);

#[tokio::test]
async fn concurrent_holders_changing_their_own_fields_lose_no_edit() {
    use cdms_entities::Organisation;
    for env in envs().await {
        let label = env.label();
        let id = env.seed_account("Acme", json!({}));
        let f = Organisation::fields();
        let org = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(id))
            .get()
            .await
            .unwrap();
        let edits: [(&str, Setter); 8] = [
            ("AccountNumber", |o, v| o.account_number = Some(v)),
            ("optevia_CompaniesHouseNumber", |o, v| {
                o.companies_house_number = Some(v)
            }),
            ("optevia_VATNumber", |o, v| o.vat_number = Some(v)),
            ("WebSiteURL", |o, v| o.website = Some(v)),
            ("Telephone1", |o, v| o.telephone = Some(v)),
            ("EMailAddress1", |o, v| o.email = Some(v)),
            ("Address1_Line1", |o, v| o.address_line1 = Some(v)),
            ("Address1_City", |o, v| o.address_city = Some(v)),
        ];
        let mut tasks = Vec::new();
        for (i, (_, set)) in edits.iter().enumerate() {
            let db = env.db.clone();
            let set = *set;
            let pk = org.id;
            tasks.push(tokio::spawn(async move {
                let mut mine = Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .get()
                    .await?;
                set(&mut mine, format!("value {i}"));
                mine.save(&db).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("[{label}] {e}"));
        }
        let record = env.record("AccountSet", id);
        for (i, (property, _)) in edits.iter().enumerate() {
            assert_eq!(
                record.get(*property),
                Some(&json!(format!("value {i}"))),
                "[{label}] CDMS keeps {property}"
            );
        }
        let local = Organisation::objects(&env.db.skip_cdms())
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(
            local.account_number.as_deref(),
            Some("value 0"),
            "[{label}]"
        );
        assert_eq!(local.address_city.as_deref(), Some("value 7"), "[{label}]");
        assert_eq!(local.email.as_deref(), Some("value 5"), "[{label}]");
        assert_eq!(
            local.modified_on,
            cdms_tests::sync_support::modified_on(&record)
        );
    }
}

#[test]
fn empty_credentials_are_a_configuration_error_at_build() {
    use cdms_runtime::cdms::{Auth, CdmsClient, Secret};
    let cases = [
        Auth::Basic {
            user: String::new(),
            password: Secret::new("x"),
        },
        Auth::Basic {
            user: "jane".into(),
            password: Secret::new(""),
        },
        Auth::Bearer(Secret::new("  ")),
        Auth::CookieSession {
            login_path: "/adfs/login".into(),
            user: "jane".into(),
            password: Secret::new(""),
        },
    ];
    for auth in cases {
        let shown = format!("{auth:?}");
        let err = CdmsClient::builder("http://127.0.0.1:9/UKTI")
            .auth(auth)
            .build()
            .unwrap_err();
        assert!(matches!(err, CdmsError::Config { .. }), "{shown}: {err}");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
