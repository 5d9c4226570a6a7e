//! References: CDMS lookups become local foreign keys; missing targets are fetched (bounded
//! depth, cycles handled); reverse relations sync like filters.

use cdms_entities::{Contact, Country, Organisation};
use std::time::Duration;

use cdms_runtime::cdms::{apply_prefetched, codec, References, SyncConfig, SyncError, Synced};
use cdms_runtime::emulator::Latency;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_runtime::Entity;
use cdms_runtime::Ref;
use cdms_tests::sync_support::{
    envs, envs_with, new_contact, new_org, sync_error, text, Node, SyncEnv,
};
use serde_json::json;
use uuid::Uuid;

fn lookup(id: Uuid, logical: &str) -> serde_json::Value {
    json!({"Id": id.to_string(), "LogicalName": logical})
}

fn seed_chain(env: &SyncEnv) -> (Uuid, Uuid, Uuid) {
    let country = env.seed_country("United Kingdom", "GB");
    let org = env.seed_account(
        "Employer",
        json!({"optevia_Country": lookup(country, "optevia_country")}),
    );
    let contact = env.seed_contact("Smith", Some(org));
    (country, org, contact)
}

#[tokio::test]
async fn missing_targets_are_fetched_before_the_referring_row() {
    for env in envs().await {
        let (country, org, contact) = seed_chain(&env);
        env.reset_log();
        let f = Contact::fields();
        let got = Contact::objects(&env.db)
            .filter(f.cdms_id.eq(contact))
            .get()
            .await
            .unwrap();
        assert_eq!(env.gets("ContactSet"), (1, 0), "[{}]", env.label());
        assert_eq!(env.gets("AccountSet"), (0, 1), "the organisation, by id");
        assert_eq!(env.gets("optevia_countrySet"), (0, 1), "its country, by id");
        let employer = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(Organisation::fields().cdms_id.eq(org))
            .get()
            .await
            .unwrap();
        assert_eq!(got.organisation.map(|r| r.pk()), Some(employer.id));
        let uk = Country::objects(&env.db).skip_cdms().get().await.unwrap();
        assert_eq!(uk.cdms_id, Some(country));
        assert_eq!(employer.country.map(|r| r.pk()), Some(uk.id));
        for v in [
            got.versions(&env.db).await.unwrap(),
            employer.versions(&env.db).await.unwrap(),
        ] {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].kind, VersionKind::RemoteRefresh);
        }
        // Known targets are not fetched again.
        env.edit("ContactSet", contact, json!({"JobTitle": "CEO"}));
        env.reset_log();
        let got = Contact::objects(&env.db)
            .filter(f.id.eq(got.id))
            .get()
            .await
            .unwrap();
        assert_eq!(got.job_title.as_deref(), Some("CEO"));
        assert_eq!(env.total(), 1);
    }
}

/// After `after_ms`, a local-only write must be done within `within_ms`: no transaction holds
/// the database while `what` waits for CDMS.
async fn write_meanwhile(env: &SyncEnv, after_ms: u64, within_ms: u64, what: &str) {
    tokio::time::sleep(Duration::from_millis(after_ms)).await;
    let local = env.db.skip_cdms();
    let write = tokio::time::timeout(
        Duration::from_millis(within_ms),
        Organisation::objects(&local).create(new_org("Written meanwhile")),
    )
    .await;
    assert!(
        write.is_ok(),
        "[{}] a local write waited for CDMS requests of {what}",
        env.label()
    );
    write.unwrap().unwrap();
}

#[tokio::test]
async fn missing_targets_are_fetched_before_the_transaction() {
    for env in envs().await {
        let (_, org, contact) = seed_chain(&env);
        // Each request takes 800 ms: the contact's GET, then its organisation's and that one's
        // country's fetches by id. Before, those two ran inside the transaction that stores the
        // contact, and on SQLite every other writer of the file waited for them.
        env.emulator()
            .set_latency(Latency::Fixed(Duration::from_millis(800)));
        let db = env.db.clone();
        let read = tokio::spawn(async move {
            Contact::objects(&db)
                .filter(Contact::fields().cdms_id.eq(contact))
                .get()
                .await
        });
        // Within the organisation's fetch (from 0.8 s to 1.6 s), a local write goes through.
        write_meanwhile(&env, 1200, 600, "a read").await;
        assert!(
            !read.is_finished(),
            "the read was still fetching references"
        );
        let got = read.await.unwrap().unwrap();
        env.emulator().set_latency(Latency::None);
        let employer = got.organisation.expect("the lookup is set");
        let stored = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(Organisation::fields().id.eq(employer.pk()))
            .get()
            .await
            .unwrap();
        assert_eq!(stored.cdms_id, Some(org));
        assert_eq!(env.gets("AccountSet"), (0, 1), "[{}]", env.label());
        assert_eq!(env.gets("optevia_countrySet"), (0, 1));
    }
}

#[tokio::test]
async fn a_target_not_looked_up_is_not_fetched_inside_the_transaction() {
    for env in envs().await {
        let (_, org, contact) = seed_chain(&env);
        // The contact's record applied with references looked up beforehand and none fetched:
        // what a refresh sees when the organisation was found locally and then removed before
        // the transaction began.
        let body = serde_json::Value::Object(env.record("ContactSet", contact));
        let record = codec::decode(<Contact as Synced>::CDMS, &body).unwrap();
        env.reset_log();
        let mut tx = env.db.begin().await.unwrap();
        let stats = apply_prefetched(
            &env.remote,
            &mut tx,
            <Contact as Entity>::META,
            vec![record],
            &References::none(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(env.total(), 0, "[{}] no request", env.label());
        assert_eq!((stats.inserted, stats.fetched_references), (0, 0));
        assert_eq!(stats.rejected.len(), 1, "{:?}", stats.rejected);
        let rejected = &stats.rejected[0];
        assert_eq!(rejected.cdms_id, Some(contact));
        assert_eq!(rejected.property.as_deref(), Some("ParentCustomerId"));
        assert_eq!(rejected.value, Some(org.hyphenated().to_string()));
        assert!(
            rejected.reason.contains("removed while"),
            "{}",
            rejected.reason
        );
        // Looked up first, the organisation and its country are fetched before the transaction.
        let record = codec::decode(<Contact as Synced>::CDMS, &body).unwrap();
        let meta = <Contact as Entity>::META;
        let references =
            References::fetch(&env.remote, &env.db, meta, std::slice::from_ref(&record))
                .await
                .unwrap();
        assert_eq!((references.len(), references.requests()), (2, 2));
        env.reset_log();
        let mut tx = env.db.begin().await.unwrap();
        let stats = apply_prefetched(&env.remote, &mut tx, meta, vec![record], &references)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(env.total(), 0, "[{}] no request inside", env.label());
        assert_eq!((stats.inserted, stats.fetched_references), (3, 2));
        assert!(stats.rejected.is_empty(), "{:?}", stats.rejected);
    }
}

#[tokio::test]
async fn a_write_fetches_the_targets_of_what_cdms_answers_before_its_transaction() {
    for env in envs().await {
        let contact = env.seed_contact("Smith", None);
        let f = Contact::fields();
        let mut read = Contact::objects(&env.db)
            .filter(f.cdms_id.eq(contact))
            .get()
            .await
            .unwrap();
        // Someone points the contact at an organisation this store has never read.
        let org = env.seed_account("Elsewhere", json!({}));
        env.edit(
            "ContactSet",
            contact,
            json!({"ParentCustomerId": lookup(org, "account")}),
        );
        // Each request takes 800 ms: the GET before the MERGE, the MERGE, the GET after it,
        // then the organisation's fetch by id, which used to run inside the transaction that
        // stores the write's result (from 2.4 s on).
        env.emulator()
            .set_latency(Latency::Fixed(Duration::from_millis(800)));
        env.reset_log();
        let db = env.db.clone();
        let save = tokio::spawn(async move {
            read.job_title = Some("CEO".to_owned());
            read.save(&db).await.map(|()| read)
        });
        write_meanwhile(&env, 2800, 300, "another write").await;
        let saved = save.await.unwrap().unwrap();
        env.emulator().set_latency(Latency::None);
        assert_eq!(env.gets("AccountSet"), (0, 1), "[{}]", env.label());
        let stored = Contact::objects(&env.db)
            .skip_cdms()
            .filter(f.id.eq(saved.id))
            .get()
            .await
            .unwrap();
        assert_eq!(stored.job_title.as_deref(), Some("CEO"));
        let employer = stored.organisation.expect("merged from CDMS");
        let employer = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(Organisation::fields().id.eq(employer.pk()))
            .get()
            .await
            .unwrap();
        assert_eq!(employer.cdms_id, Some(org));
    }
}

#[tokio::test]
async fn the_fetch_depth_is_bounded() {
    for env in envs_with(SyncConfig::default().reference_depth(1), |b| b).await {
        let (_, _, contact) = seed_chain(&env);
        let before = env.snapshot().await;
        let err = Contact::objects(&env.db)
            .filter(Contact::fields().cdms_id.eq(contact))
            .get()
            .await
            .unwrap_err();
        match sync_error(&err) {
            Some(SyncError::UnresolvedReference {
                entity,
                field,
                target,
                reason,
                ..
            }) => {
                assert_eq!(
                    (*entity, *field, *target),
                    ("Organisation", "country", "Country"),
                    "[{}]",
                    env.label()
                );
                assert!(reason.contains("depth"), "{reason}");
            }
            other => panic!("expected UnresolvedReference, got {other:?}: {err}"),
        }
        assert_eq!(env.snapshot().await, before, "nothing stored");
    }
}

#[tokio::test]
async fn a_dangling_lookup_is_reported() {
    for env in envs().await {
        let contact = env.seed_contact("Orphan", Some(Uuid::new_v4()));
        let before = env.snapshot().await;
        let err = Contact::objects(&env.db)
            .filter(Contact::fields().cdms_id.eq(contact))
            .get()
            .await
            .unwrap_err();
        match sync_error(&err) {
            Some(SyncError::UnresolvedReference { field, reason, .. }) => {
                assert_eq!(*field, "organisation", "[{}]", env.label());
                assert!(reason.contains("no such record"), "{reason}");
            }
            other => panic!("expected UnresolvedReference, got {other:?}: {err}"),
        }
        assert_eq!(env.snapshot().await, before);
    }
}

fn node_parent(env: &SyncEnv, name: &str, parent: Option<Uuid>) -> Uuid {
    let parent = match parent {
        Some(p) => lookup(p, "new_node"),
        None => json!({"Id": null, "LogicalName": null, "Name": null}),
    };
    env.seed(
        "new_nodeSet",
        json!({"new_name": name, "new_ParentId": parent}),
    )
}

#[tokio::test]
async fn cycles_are_stored_and_completed() {
    for env in envs().await {
        let a = node_parent(&env, "a", None);
        let b = node_parent(&env, "b", Some(a));
        env.edit(
            "new_nodeSet",
            a,
            json!({"new_ParentId": lookup(b, "new_node")}),
        );
        let selfish = node_parent(&env, "self", None);
        env.edit(
            "new_nodeSet",
            selfish,
            json!({"new_ParentId": lookup(selfish, "new_node")}),
        );
        let f = Node::fields();
        let got_a = Node::objects(&env.db)
            .filter(f.cdms_id.eq(a))
            .get()
            .await
            .unwrap();
        let got_b = Node::objects(&env.db)
            .skip_cdms()
            .filter(f.cdms_id.eq(b))
            .get()
            .await
            .unwrap();
        assert_eq!(
            got_a.parent.map(|r| r.pk()),
            Some(got_b.id),
            "[{}]",
            env.label()
        );
        assert_eq!(got_b.parent.map(|r| r.pk()), Some(got_a.id));
        // History holds the completed rows.
        let vb = got_b.versions(&env.db).await.unwrap();
        assert_eq!(vb.last().unwrap().object::<Node>().unwrap(), got_b);
        let got_self = Node::objects(&env.db)
            .filter(f.cdms_id.eq(selfish))
            .get()
            .await
            .unwrap();
        assert_eq!(got_self.parent.map(|r| r.pk()), Some(got_self.id));
        // A list read with a cycle inside one page.
        let c = node_parent(&env, "c", None);
        let d = node_parent(&env, "d", Some(c));
        env.edit(
            "new_nodeSet",
            c,
            json!({"new_ParentId": lookup(d, "new_node")}),
        );
        let all = Node::objects(&env.db)
            .filter(f.name.is_in(["c", "d"]))
            .order_by([f.name.asc()])
            .all()
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].parent.map(|r| r.pk()), Some(all[1].id));
        assert_eq!(all[1].parent.map(|r| r.pk()), Some(all[0].id));
    }
}

#[tokio::test]
async fn long_chains_stop_at_the_depth_bound() {
    for env in envs().await {
        // n1 → n2 → … → n6: fetching n1 needs five levels, one more than the default bound of 4.
        let mut ids = Vec::new();
        let mut parent = None;
        for i in (1..=6).rev() {
            let id = node_parent(&env, &format!("n{i}"), parent);
            ids.push(id);
            parent = Some(id);
        }
        ids.reverse();
        let f = Node::fields();
        let before = env.snapshot().await;
        let err = Node::objects(&env.db)
            .filter(f.cdms_id.eq(ids[0]))
            .get()
            .await
            .unwrap_err();
        assert!(
            matches!(
                sync_error(&err),
                Some(SyncError::UnresolvedReference { .. })
            ),
            "[{}] {err}",
            env.label()
        );
        assert_eq!(env.snapshot().await, before);
        // n2 needs four levels: fine.
        let n2 = Node::objects(&env.db)
            .filter(f.cdms_id.eq(ids[1]))
            .get()
            .await
            .unwrap();
        assert_eq!(n2.name, "n2");
        assert_eq!(Node::objects(&env.db).skip_cdms().count().await.unwrap(), 5);
    }
}

#[tokio::test]
async fn reverse_relations_sync_like_filters() {
    for env in envs().await {
        let org = env.seed_account("Parent org", json!({}));
        let other = env.seed_account("Other org", json!({}));
        for name in ["Ann", "Bob", "Cat"] {
            env.seed_contact(name, Some(org));
        }
        env.seed_contact("Dan", Some(other));
        let parent = Organisation::objects(&env.db)
            .filter(Organisation::fields().cdms_id.eq(org))
            .get()
            .await
            .unwrap();
        env.reset_log();
        let kids = parent
            .children(&env.db, Contact::fields().organisation)
            .order_by([Contact::fields().last_name.asc()])
            .all()
            .await
            .unwrap();
        let names: Vec<&str> = kids.iter().map(|c| c.last_name.as_str()).collect();
        assert_eq!(names, ["Ann", "Bob", "Cat"], "[{}]", env.label());
        let list = env
            .requests()
            .into_iter()
            .find(|r| r.set.as_deref() == Some("ContactSet"))
            .unwrap();
        let expected = format!("ParentCustomerId%2FId%20eq%20guid%27{org}%27");
        assert!(list.query.contains(&expected), "{}", list.query);
        assert_eq!(env.gets("ContactSet"), (0, 1));

        // A new contact in CDMS shows up in the next read.
        env.seed_contact("Eve", Some(org));
        let n = parent
            .children(&env.db, Contact::fields().organisation)
            .count()
            .await
            .unwrap();
        assert_eq!(n, 4);

        // select_related and prefetch_related read through too.
        let pairs = Contact::objects(&env.db)
            .select_related(Contact::fields().organisation)
            .await
            .unwrap();
        assert_eq!(pairs.len(), 5);
        assert!(pairs.iter().all(|(_, o)| o.is_some()));
        let tree = Organisation::objects(&env.db)
            .order_by([Organisation::fields().name.asc()])
            .prefetch_related(Contact::fields().organisation)
            .await
            .unwrap();
        let counts: Vec<(String, usize)> =
            tree.into_iter().map(|(o, c)| (o.name, c.len())).collect();
        assert_eq!(
            counts,
            [("Other org".to_owned(), 1), ("Parent org".to_owned(), 4)]
        );
    }
}

/// The CDMS id a record's lookup property points to.
fn lookup_id(record: &serde_json::Map<String, serde_json::Value>, prop: &str) -> Option<Uuid> {
    record
        .get(prop)
        .and_then(|l| l.get("Id"))
        .and_then(|id| id.as_str())
        .and_then(|id| id.parse().ok())
}

#[tokio::test]
async fn reverse_relations_link_what_they_create_in_cdms() {
    for env in envs().await {
        let org = env.seed_account("Parent org", json!({}));
        let parent = Organisation::objects(&env.db)
            .filter(Organisation::fields().cdms_id.eq(org))
            .get()
            .await
            .unwrap();
        let f = Contact::fields();
        let contacts = parent.children(&env.db, f.organisation);
        env.reset_log();

        let kid = contacts.create(new_contact("Kid", None)).await.unwrap();
        assert_eq!(
            kid.organisation,
            Some(Ref::to(&parent)),
            "[{}]",
            env.label()
        );
        let id = kid.cdms_id.expect("created in CDMS");
        assert_eq!(
            lookup_id(&env.record("ContactSet", id), "ParentCustomerId"),
            Some(org),
            "[{}] the CDMS record refers to the parent",
            env.label()
        );
        assert_eq!(env.count("POST", "ContactSet"), 1);

        // get_or_create twice: one record in CDMS and one row locally.
        let (first, created) = contacts
            .get_or_create(f.last_name.eq("Solo"), new_contact("Solo", None))
            .await
            .unwrap();
        assert!(created);
        let (second, created) = contacts
            .get_or_create(f.last_name.eq("Solo"), new_contact("Solo", None))
            .await
            .unwrap();
        assert!(
            !created,
            "[{}] the second call finds the first",
            env.label()
        );
        assert_eq!(second.id, first.id);
        assert_eq!(env.count("POST", "ContactSet"), 2, "Kid and one Solo");
        let solos: Vec<Uuid> = env
            .emulator()
            .ids("ContactSet")
            .into_iter()
            .filter(|id| text(&env.record("ContactSet", *id), "LastName") == Some("Solo"))
            .collect();
        assert_eq!(
            solos,
            [first.cdms_id.expect("in CDMS")],
            "[{}]",
            env.label()
        );
        assert_eq!(
            lookup_id(&env.record("ContactSet", solos[0]), "ParentCustomerId"),
            Some(org)
        );
        let local_solos = Contact::objects(&env.db)
            .skip_cdms()
            .filter(f.last_name.eq("Solo"))
            .count()
            .await
            .unwrap();
        assert_eq!(local_solos, 1);

        // bulk_create links every record.
        let made = contacts
            .bulk_create(vec![
                new_contact("Twin A", None),
                new_contact("Twin B", None),
            ])
            .await
            .unwrap();
        for c in &made {
            assert_eq!(c.organisation, Some(Ref::to(&parent)));
            let id = c.cdms_id.expect("in CDMS");
            assert_eq!(
                lookup_id(&env.record("ContactSet", id), "ParentCustomerId"),
                Some(org),
                "[{}] {}",
                env.label(),
                c.last_name
            );
        }
    }
}
