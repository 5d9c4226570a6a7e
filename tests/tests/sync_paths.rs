//! Lookups across relations in synced reads: the related entity is listed with the relation's
//! own condition, then the root with the keys it selected (exact `$filter` strings pinned), and
//! a relation under `not` is relaxed remotely and applied locally; writes through a reverse
//! relation (`add`, `remove`, `clear`) as synced writes.

use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::{SyncConfig, SyncError};
use cdms_runtime::query::EntityExt;
use cdms_runtime::QuerySet;
use cdms_tests::sync_support::{envs, envs_with, sync_error, Node, SyncEnv};
use serde_json::{json, Value as J};
use uuid::Uuid;

/// `s` with `%XX` escapes decoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 query")
}

/// The decoded `$filter` of every list request to `set` since the last reset (`None` for a list
/// without one).
fn list_filters(env: &SyncEnv, set: &str) -> Vec<Option<String>> {
    env.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.set.as_deref() == Some(set) && !r.path.contains("(guid"))
        .map(|r| {
            r.query
                .split('&')
                .find_map(|p| p.strip_prefix("$filter="))
                .map(percent_decode)
        })
        .collect()
}

fn contact(env: &SyncEnv, last_name: &str, email: Option<&str>, org: Option<Uuid>) -> Uuid {
    let parent = match org {
        Some(id) => json!({"Id": id.to_string(), "LogicalName": "account"}),
        None => json!({"Id": null, "LogicalName": null, "Name": null}),
    };
    let email = email.map_or(J::Null, |e| J::String(e.into()));
    env.seed(
        "ContactSet",
        json!({"LastName": last_name, "DoNotPhone": false, "EMailAddress1": email, "ParentCustomerId": parent}),
    )
}

/// Accounts "Acme Ltd", "Beta plc", "Gamma LTD"; contacts x (Acme, gov.uk), y (Beta), z (no
/// organisation, gov.uk), w (Gamma), v (Acme).
fn seed(env: &SyncEnv) -> [Uuid; 3] {
    let a = env.seed_account("Acme Ltd", json!({}));
    let b = env.seed_account("Beta plc", json!({}));
    let c = env.seed_account("Gamma LTD", json!({}));
    contact(env, "x", Some("x@gov.uk"), Some(a));
    contact(env, "y", Some("y@beta.example"), Some(b));
    contact(env, "z", Some("z@gov.uk"), None);
    contact(env, "w", None, Some(c));
    contact(env, "v", Some("v@acme.example"), Some(a));
    [a, b, c]
}

async fn last_names(qs: QuerySet<Contact>) -> Vec<String> {
    let mut names = qs
        .values_list(Contact::fields().last_name)
        .await
        .expect("contacts");
    names.sort();
    names
}

async fn org_names(qs: QuerySet<Organisation>) -> Vec<String> {
    let mut names = qs
        .values_list(Organisation::fields().name)
        .await
        .expect("organisations");
    names.sort();
    names
}

/// The `or` chain of `Prop eq guid'…'` for `ids`, in the order of their local keys.
async fn guid_chain(env: &SyncEnv, prop: &str, ids: &[Uuid]) -> String {
    let mut keyed = Vec::new();
    for id in ids {
        keyed.push((env.synced_account(*id).await.id, *id));
    }
    keyed.sort();
    let parts: Vec<String> = keyed
        .iter()
        .map(|(_, id)| format!("{prop} eq guid'{id}'"))
        .collect();
    parts.join(" or ")
}

#[tokio::test]
async fn sync_forward_relation_lists_the_target_first() {
    for env in envs().await {
        let label = env.label();
        let [a, _, c] = seed(&env);
        let f = Contact::fields();
        let ltd = || f.organisation.matching(|o| o.name.icontains("ltd"));
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).filter(ltd())).await;
        assert_eq!(got, ["v", "w", "x"], "[{label}]");
        let accounts = list_filters(&env, "AccountSet");
        assert_eq!(
            accounts,
            [Some("substringof('ltd',Name)".to_owned())],
            "[{label}]"
        );
        let chain = guid_chain(&env, "ParentCustomerId/Id", &[a, c]).await;
        assert_eq!(list_filters(&env, "ContactSet"), [Some(chain)], "[{label}]");
        // Renamed in CDMS: the next read refreshes the organisation and drops its contact.
        env.edit("AccountSet", c, json!({"Name": "Gamma"}));
        let got = last_names(Contact::objects(&env.db).filter(ltd())).await;
        assert_eq!(got, ["v", "x"], "[{label}]");
        assert_eq!(env.synced_account(c).await.name, "Gamma", "[{label}]");
        // With a root condition beside it, both go into the contacts' filter.
        env.reset_log();
        let q = ltd() & f.last_name.eq("x");
        let got = last_names(Contact::objects(&env.db).filter(q)).await;
        assert_eq!(got, ["x"], "[{label}]");
        let chain = guid_chain(&env, "ParentCustomerId/Id", &[a]).await;
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(format!("{chain} and LastName eq 'x'"))],
            "[{label}]"
        );
        // A relation under `not` is relaxed remotely, applied exactly locally (a contact without
        // organisation is kept, as `exclude` keeps null fields).
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).exclude(ltd())).await;
        assert_eq!(got, ["w", "y", "z"], "[{label}]");
        assert_eq!(list_filters(&env, "ContactSet"), [None], "[{label}]");
        // Nothing matches remotely: no contact request at all.
        env.reset_log();
        let none = f.organisation.matching(|o| o.name.eq("Nobody"));
        let got = last_names(Contact::objects(&env.db).filter(none)).await;
        assert!(got.is_empty(), "[{label}]");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            Vec::<Option<String>>::new()
        );
    }
}

#[tokio::test]
async fn sync_backward_relation_lists_the_referring_entity_first() {
    for env in envs().await {
        let label = env.label();
        let [a, _, _] = seed(&env);
        let f = Contact::fields();
        let gov = || f.organisation.any(|c| c.email.iendswith("@gov.uk"));
        env.reset_log();
        let got = org_names(Organisation::objects(&env.db).filter(gov())).await;
        assert_eq!(got, ["Acme Ltd"], "[{label}]");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some("endswith(EMailAddress1,'@gov.uk')".to_owned())],
            "[{label}]"
        );
        // The contact's organisation, missing locally, is fetched by id while the contacts are
        // applied; then the organisations are listed with the keys the contacts selected.
        let chain = guid_chain(&env, "AccountId", &[a]).await;
        assert_eq!(
            list_filters(&env, "AccountSet"),
            [Some(chain.clone()), Some(chain)],
            "[{label}]"
        );
        // `none` is a relation under `not`: relaxed remotely, exact locally.
        let got = org_names(
            Organisation::objects(&env.db)
                .filter(f.organisation.none(|c| c.email.iendswith("@gov.uk"))),
        )
        .await;
        assert_eq!(got, ["Beta plc", "Gamma LTD"], "[{label}]");
        // A contact moved in CDMS: the next read sees it.
        let y = Contact::objects(&env.db)
            .filter(f.last_name.eq("y"))
            .get()
            .await
            .expect("y");
        let y_id = y.cdms_id.expect("synced");
        env.edit("ContactSet", y_id, json!({"EMailAddress1": "Y@GOV.UK"}));
        let got = org_names(Organisation::objects(&env.db).filter(gov())).await;
        assert_eq!(got, ["Acme Ltd", "Beta plc"], "[{label}]");
    }
}

/// The CDMS id a lookup property of a CDMS record points to.
fn lookup_id(record: &serde_json::Map<String, J>, prop: &str) -> Option<Uuid> {
    record.get(prop)?.get("Id")?.as_str()?.parse().ok()
}

#[tokio::test]
async fn sync_reverse_relation_add_remove_clear() {
    for env in envs().await {
        let label = env.label();
        let [a, b, _] = seed(&env);
        let acme = env.synced_account(a).await;
        let f = Contact::fields();
        let contacts = acme.children(&env.db, f.organisation);
        let mut y = Contact::objects(&env.db)
            .filter(f.last_name.eq("y"))
            .get()
            .await
            .expect("y");
        let y_id = y.cdms_id.expect("synced");
        assert_eq!(
            lookup_id(&env.record("ContactSet", y_id), "ParentCustomerId"),
            Some(b)
        );
        // add: the reference is set and written to CDMS.
        env.reset_log();
        contacts.add(&mut y).await.expect("add");
        assert_eq!(y.organisation.map(|r| r.pk()), Some(acme.id), "[{label}]");
        assert_eq!(env.count("MERGE", "ContactSet"), 1, "[{label}]");
        assert_eq!(
            lookup_id(&env.record("ContactSet", y_id), "ParentCustomerId"),
            Some(a)
        );
        let mut names = last_names(contacts.clone()).await;
        assert_eq!(names, ["v", "x", "y"], "[{label}]");
        // remove: cleared, in CDMS too.
        contacts.remove(&mut y).await.expect("remove");
        assert_eq!(y.organisation, None, "[{label}]");
        assert_eq!(
            lookup_id(&env.record("ContactSet", y_id), "ParentCustomerId"),
            None
        );
        // Removing a contact that is not a child is refused, and changes nothing.
        env.reset_log();
        let err = contacts.remove(&mut y).await.expect_err("not a child");
        assert!(err.is_not_found(), "[{label}] {err}");
        assert_eq!(env.count("MERGE", "ContactSet"), 0, "[{label}]");
        // clear: every child, one synced write each.
        env.reset_log();
        assert_eq!(contacts.clear().await.expect("clear"), 2, "[{label}]");
        assert_eq!(env.count("MERGE", "ContactSet"), 2, "[{label}]");
        names = last_names(contacts.clone()).await;
        assert!(names.is_empty(), "[{label}] {names:?}");
        let orphans = Contact::objects(&env.db).filter(f.organisation.isnull(true));
        assert_eq!(last_names(orphans).await, ["v", "x", "y", "z"], "[{label}]");
    }
}

#[tokio::test]
async fn sync_chains_recurse_through_the_related_reads() {
    for env in envs().await {
        let label = env.label();
        let node = |name: &str, parent: Option<Uuid>| {
            let parent = match parent {
                Some(id) => json!({"Id": id.to_string(), "LogicalName": "new_node"}),
                None => json!({"Id": null, "LogicalName": null, "Name": null}),
            };
            env.seed(
                "new_nodeSet",
                json!({"new_name": name, "new_ParentId": parent}),
            )
        };
        let root = node("root", None);
        let a = node("a", Some(root));
        let b = node("b", Some(root));
        node("a1", Some(a));
        node("b1", Some(b));
        let c = node("c", None);
        node("c1", Some(c));
        let n = Node::fields();
        let grandchildren = n
            .parent
            .matching(|p| p.parent.matching(|g| g.name.eq("root")));
        env.reset_log();
        let mut got = Node::objects(&env.db)
            .filter(grandchildren)
            .values_list(n.name)
            .await
            .expect("grandchildren");
        got.sort();
        assert_eq!(got, ["a1", "b1"], "[{label}]");
        // Innermost first: the root by name, its children by key, then theirs.
        let local = |id: Uuid| {
            let db = env.db.skip_cdms();
            async move {
                Node::objects(&db)
                    .filter(Node::fields().cdms_id.eq(id))
                    .get()
                    .await
                    .expect("local node")
                    .id
            }
        };
        let mut children = [(local(a).await, a), (local(b).await, b)];
        children.sort();
        let chain: Vec<String> = children
            .iter()
            .map(|(_, id)| format!("new_ParentId/Id eq guid'{id}'"))
            .collect();
        assert_eq!(
            list_filters(&env, "new_nodeSet"),
            [
                Some("new_name eq 'root'".to_owned()),
                Some(format!("new_ParentId/Id eq guid'{root}'")),
                Some(chain.join(" or ")),
            ],
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn sync_relation_is_relaxed_when_the_related_list_is_cut() {
    for env in envs_with(SyncConfig::default().page_cap(2), |b| b).await {
        let label = env.label();
        seed(&env);
        let f = Contact::fields();
        env.reset_log();
        // Two accounts match: a list of two under a cap of two may be cut, so the keys may be
        // incomplete and are not used.
        let q = f.organisation.matching(|o| o.name.icontains("ltd"));
        let err = Contact::objects(&env.db)
            .filter(q)
            .count()
            .await
            .expect_err("beyond the cap");
        assert!(
            matches!(sync_error(&err), Some(SyncError::Incomplete { .. })),
            "[{label}] {err}"
        );
        let accounts = list_filters(&env, "AccountSet");
        assert_eq!(
            accounts.first(),
            Some(&Some("substringof('ltd',Name)".to_owned())),
            "[{label}]"
        );
        assert_eq!(list_filters(&env, "ContactSet"), [None], "[{label}]");
    }
}
