//! Lookups across relations in synced reads: a condition on one expandable relation is one
//! request with `$expand` whose inlined records refresh their rows; otherwise the related
//! entity is listed with the relation's own condition, then the root with the keys it selected
//! (exact `$filter`, `$expand` and `$select` strings pinned); a relation under `not` is relaxed
//! remotely and applied locally; writes through a reverse relation (`add`, `remove`, `clear`)
//! as synced writes.

use cdms_entities::{Contact, Country, Organisation};
use cdms_runtime::cdms::codec;
use cdms_runtime::cdms::{SyncConfig, SyncError, Synced};
use cdms_runtime::emulator::{FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
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

/// The decoded query option `name` (`"$filter"`) of every list request to `set` since the last
/// reset (`None` for a list without it).
fn list_options(env: &SyncEnv, set: &str, name: &str) -> Vec<Option<String>> {
    let prefix = format!("{name}=");
    env.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.set.as_deref() == Some(set) && !r.path.contains("(guid"))
        .map(|r| {
            r.query
                .split('&')
                .find_map(|p| p.strip_prefix(prefix.as_str()))
                .map(percent_decode)
        })
        .collect()
}

/// The decoded `$filter` of every list request to `set` since the last reset (`None` for a list
/// without one).
fn list_filters(env: &SyncEnv, set: &str) -> Vec<Option<String>> {
    list_options(env, set, "$filter")
}

const NAV: &str = "contact_customer_accounts";

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

/// The `$select` of an expanded contact list: the contact's properties, the navigation
/// property, and each organisation property through it.
fn expanded_select() -> String {
    let mut select = codec::select(Contact::CDMS, None);
    select.push(NAV.to_owned());
    select.extend(
        codec::select(Organisation::CDMS, None)
            .iter()
            .map(|p| format!("{NAV}/{p}")),
    );
    select.join(",")
}

/// The local row of the organisation with CDMS id `id` (no request).
async fn local_org(env: &SyncEnv, id: Uuid) -> Organisation {
    Organisation::objects(&env.db.skip_cdms())
        .filter(Organisation::fields().cdms_id.eq(id))
        .get()
        .await
        .expect("local organisation")
}

#[tokio::test]
async fn sync_forward_relation_is_one_expanded_request() {
    for env in envs().await {
        let label = env.label();
        let [a, _, c] = seed(&env);
        let f = Contact::fields();
        let ltd = || f.organisation.matching(|o| o.name.icontains("ltd"));
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).filter(ltd())).await;
        assert_eq!(got, ["v", "w", "x"], "[{label}]");
        // One request: the contacts, each with its organisation inline; no account request
        // (the organisations, new locally, come from the inlined records).
        assert_eq!(env.total(), 1, "[{label}] {:?}", env.requests());
        let filter = format!("substringof('ltd',{NAV}/Name)");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(filter.clone())],
            "[{label}]"
        );
        assert_eq!(
            list_options(&env, "ContactSet", "$expand"),
            [Some(NAV.to_owned())],
            "[{label}]"
        );
        let select = list_options(&env, "ContactSet", "$select");
        assert_eq!(select, [Some(expanded_select())], "[{label}]");
        let select = select[0].clone().unwrap_or_default();
        assert!(
            select.starts_with("ContactId,ModifiedOn,CreatedOn,FirstName,LastName,")
                && select.contains(&format!(
                    ",ParentCustomerId,GenderCode,{NAV},{NAV}/AccountId,{NAV}/ModifiedOn,\
                     {NAV}/CreatedOn,{NAV}/Name,"
                )),
            "[{label}] {select}"
        );
        assert_eq!(
            list_options(&env, "ContactSet", "$orderby"),
            [Some("ModifiedOn desc,ContactId asc".to_owned())],
            "[{label}]"
        );
        assert_eq!(local_org(&env, a).await.name, "Acme Ltd", "[{label}]");
        // Renamed in CDMS and still matching: the inlined record refreshes the row, with a
        // history version, in the same single request.
        env.edit("AccountSet", a, json!({"Name": "Acme Holdings Ltd"}));
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).filter(ltd())).await;
        assert_eq!(got, ["v", "w", "x"], "[{label}]");
        assert_eq!(env.total(), 1, "[{label}] {:?}", env.requests());
        let acme = local_org(&env, a).await;
        assert_eq!(acme.name, "Acme Holdings Ltd", "[{label}]");
        let last = acme
            .versions(&env.db)
            .await
            .unwrap()
            .pop()
            .expect("a version");
        assert_eq!(last.kind, VersionKind::RemoteRefresh, "[{label}]");
        assert_eq!(last.actor.as_deref(), Some("tester"), "[{label}]");
        assert_eq!(
            last.object::<Organisation>().unwrap().name,
            "Acme Holdings Ltd",
            "[{label}]"
        );
        // Renamed so that it no longer matches: CDMS leaves its contact out, the contact is
        // checked by id (with its organisation inline), and the organisation's row is refreshed.
        env.edit("AccountSet", c, json!({"Name": "Gamma"}));
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).filter(ltd())).await;
        assert_eq!(got, ["v", "x"], "[{label}]");
        assert_eq!(local_org(&env, c).await.name, "Gamma", "[{label}]");
        assert_eq!(env.count("GET", "AccountSet"), 0, "[{label}]");
        assert_eq!(env.count("GET", "ContactSet"), 2, "[{label}]");
        let recheck = env.requests().pop().expect("the recheck");
        assert!(
            recheck.query.contains(&format!("$expand={NAV}"))
                && percent_decode(&recheck.query).contains("ContactId eq guid'"),
            "[{label}] {}",
            recheck.query
        );
        // A root condition CDMS is not asked about (a regex) does not stop the expansion.
        env.reset_log();
        let q = ltd() & f.last_name.regex("^[vw]$");
        let got = last_names(Contact::objects(&env.db).filter(q)).await;
        assert_eq!(got, ["v"], "[{label}]");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(filter)],
            "[{label}]"
        );
        assert_eq!(env.count("GET", "AccountSet"), 0, "[{label}]");
        // Two conditions on the one relation combine on the expanded entity.
        env.reset_log();
        let q = ltd() & f.organisation.matching(|o| o.name.istartswith("acme"));
        let got = last_names(Contact::objects(&env.db).filter(q)).await;
        assert_eq!(got, ["v", "x"], "[{label}]");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(format!(
                "substringof('ltd',{NAV}/Name) and startswith({NAV}/Name,'acme')"
            ))],
            "[{label}]"
        );
        // A relation under `not` is relaxed remotely, applied exactly locally (a contact without
        // organisation is kept, as `exclude` keeps null fields).
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).exclude(ltd())).await;
        assert_eq!(got, ["w", "y", "z"], "[{label}]");
        assert_eq!(list_filters(&env, "ContactSet"), [None], "[{label}]");
        assert_eq!(list_options(&env, "ContactSet", "$expand"), [None]);
        // Nothing matches: one request, answered empty.
        env.reset_log();
        let none = f.organisation.matching(|o| o.name.eq("Nobody"));
        let got = last_names(Contact::objects(&env.db).filter(none)).await;
        assert!(got.is_empty(), "[{label}]");
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(format!("{NAV}/Name eq 'Nobody'"))],
            "[{label}]"
        );
        assert_eq!(env.total(), 1, "[{label}]");
    }
}

#[tokio::test]
async fn sync_expanded_reads_take_one_request_per_page() {
    for env in envs().await {
        let label = env.label();
        let acme = env.seed_account("Acme Ltd", json!({}));
        let beta = env.seed_account("Beta plc", json!({}));
        for i in 0..60 {
            contact(&env, &format!("a{i:02}"), None, Some(acme));
        }
        for i in 0..5 {
            contact(&env, &format!("b{i}"), None, Some(beta));
        }
        let f = Contact::fields();
        let q = f.organisation.matching(|o| o.name.icontains("ltd"));
        env.reset_log();
        let n = Contact::objects(&env.db)
            .filter(q.clone())
            .count()
            .await
            .expect("count");
        assert_eq!(n, 60, "[{label}]");
        // Two pages (50 + 10) of contacts, their organisation inline: 2 requests, where the
        // semi-join took 3 (the accounts, then both pages).
        assert_eq!(env.gets("ContactSet"), (0, 2), "[{label}]");
        assert_eq!(env.total(), 2, "[{label}] {:?}", env.requests());
        let expands = list_options(&env, "ContactSet", "$expand");
        assert_eq!(expands, [Some(NAV.to_owned()), Some(NAV.to_owned())]);
        // In sync: the same two requests, and nothing written.
        let versions = env.history_len().await;
        env.reset_log();
        let again = Contact::objects(&env.db).filter(q).count().await.unwrap();
        assert_eq!((again, env.total()), (60, 2), "[{label}]");
        assert_eq!(env.history_len().await, versions, "[{label}]");
    }
}

#[tokio::test]
async fn sync_a_bad_expanded_record_is_quarantined_and_the_page_applied() {
    for env in envs().await {
        let label = env.label();
        let [a, b, _] = seed(&env);
        let f = Contact::fields();
        let q = || f.organisation.matching(|o| o.name.icontains("e"));
        // Everything local and in sync first.
        let got = last_names(Contact::objects(&env.db).filter(q())).await;
        assert_eq!(got, ["v", "x", "y"], "[{label}]");
        // Both organisations change in CDMS; the answer to the next read carries Beta's record
        // with a value its field cannot hold.
        env.edit("AccountSet", a, json!({"Name": "Acme Ltd (renamed)"}));
        env.edit("AccountSet", b, json!({"Name": "Beta plc (renamed)"}));
        env.reset_log();
        let mut url = reqwest::Url::parse(&env.emu.set_url("ContactSet")).unwrap();
        url.query_pairs_mut()
            .append_pair("$filter", &format!("substringof('e',{NAV}/Name)"))
            .append_pair("$expand", NAV);
        let body = reqwest::Client::new()
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut page: J = serde_json::from_str(&body).unwrap();
        let mut spoiled = 0;
        for r in page["d"]["results"].as_array_mut().unwrap() {
            if r[NAV]["AccountId"] == json!(b.to_string()) {
                r[NAV]["NumberOfEmployees"] = json!("lots");
                spoiled += 1;
            }
        }
        assert_eq!(spoiled, 1, "[{label}] {body}");
        env.emulator().faults().add(
            FaultRule::new(FaultAction::Respond {
                status: 200,
                content_type: "application/json".into(),
                body: page.to_string(),
            })
            .method("GET")
            .set("ContactSet")
            .path_contains("$expand")
            .times(1),
        );
        let got = last_names(Contact::objects(&env.db).filter(q())).await;
        assert_eq!(got, ["v", "x", "y"], "[{label}]");
        // Acme's inlined record is applied; Beta's is quarantined with the property at fault,
        // and its row keeps its last good state; the contacts are applied.
        assert_eq!(
            local_org(&env, a).await.name,
            "Acme Ltd (renamed)",
            "[{label}]"
        );
        assert_eq!(local_org(&env, b).await.name, "Beta plc", "[{label}]");
        let bad = env
            .remote
            .quarantine_of(&env.db, "AccountSet")
            .await
            .unwrap();
        assert_eq!(bad.len(), 1, "[{label}] {bad:?}");
        assert_eq!(bad[0].cdms_id, Some(b), "[{label}]");
        assert_eq!(bad[0].property.as_deref(), Some("NumberOfEmployees"));
        // The next read (a true answer) applies it and clears the entry.
        let got = last_names(Contact::objects(&env.db).filter(q())).await;
        assert_eq!(got, ["v", "x", "y"], "[{label}]");
        assert_eq!(
            local_org(&env, b).await.name,
            "Beta plc (renamed)",
            "[{label}]"
        );
        let bad = env
            .remote
            .quarantine_of(&env.db, "AccountSet")
            .await
            .unwrap();
        assert!(bad.is_empty(), "[{label}] {bad:?}");
    }
}

#[tokio::test]
async fn sync_relations_2011_cannot_expand_stay_semi_joins() {
    for env in envs().await {
        let label = env.label();
        let [a, _, c] = seed(&env);
        let f = Contact::fields();
        let ltd = || f.organisation.matching(|o| o.name.icontains("ltd"));
        // A root condition beside it: 2011 filters on the root or the expanded entity, not
        // both, so the accounts are listed first and both go into the contacts' filter.
        env.reset_log();
        let q = ltd() & f.last_name.eq("x");
        let got = last_names(Contact::objects(&env.db).filter(q)).await;
        assert_eq!(got, ["x"], "[{label}]");
        assert_eq!(
            list_filters(&env, "AccountSet"),
            [Some("substringof('ltd',Name)".to_owned())],
            "[{label}]"
        );
        let chain = guid_chain(&env, "ParentCustomerId/Id", &[a, c]).await;
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some(format!("({chain}) and LastName eq 'x'"))],
            "[{label}]"
        );
        assert_eq!(list_options(&env, "ContactSet", "$expand"), [None]);
        // A chain (2011 expands one level): innermost first, each by the keys it selected.
        let uk = env.seed_country("United Kingdom", "GB");
        env.edit(
            "AccountSet",
            a,
            json!({"optevia_Country": {"Id": uk.to_string(), "LogicalName": "optevia_country"}}),
        );
        env.reset_log();
        let q = f
            .organisation
            .matching(|o| o.country.matching(|k| k.iso_code2.eq("GB")));
        let got = last_names(Contact::objects(&env.db).filter(q)).await;
        assert_eq!(got, ["v", "x"], "[{label}]");
        assert_eq!(
            list_filters(&env, "optevia_countrySet"),
            [Some("optevia_ISOCountry2 eq 'GB'".to_owned())],
            "[{label}]"
        );
        let uk_pk = Country::objects(&env.db.skip_cdms())
            .filter(Country::fields().cdms_id.eq(uk))
            .get()
            .await
            .unwrap()
            .id;
        assert!(uk_pk > 0);
        assert_eq!(
            list_filters(&env, "AccountSet"),
            [Some(format!("optevia_Country/Id eq guid'{uk}'"))],
            "[{label}]"
        );
        let chain = guid_chain(&env, "ParentCustomerId/Id", &[a]).await;
        assert_eq!(list_filters(&env, "ContactSet"), [Some(chain)], "[{label}]");
        assert!(
            env.requests().iter().all(|r| !r.query.contains("$expand")),
            "[{label}]"
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
        let ltd = || f.organisation.matching(|o| o.name.icontains("ltd"));
        env.reset_log();
        // Two accounts match: a list of two under a cap of two may be cut, so the keys may be
        // incomplete and are not used (a root condition beside the relation keeps the
        // semi-join).
        let q = ltd() & f.do_not_phone.eq(false);
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
        assert_eq!(
            list_filters(&env, "ContactSet"),
            [Some("DoNotPhone eq false".to_owned())],
            "[{label}]"
        );
        // Expanded, the cap cuts the contacts themselves (three match): one request of two.
        env.reset_log();
        let err = Contact::objects(&env.db)
            .filter(ltd())
            .count()
            .await
            .expect_err("beyond the cap");
        assert!(
            matches!(sync_error(&err), Some(SyncError::Incomplete { .. })),
            "[{label}] {err}"
        );
        assert_eq!(env.total(), 1, "[{label}] {:?}", env.requests());
        assert_eq!(
            list_options(&env, "ContactSet", "$top"),
            [Some("2".to_owned())],
            "[{label}]"
        );
    }
}
