//! `order_by` a referenced entity's field in synced reads: CRM 2011 cannot `$orderby` a related
//! property, so the root is listed without that key (never just a slice's window), the
//! referenced rows are refreshed by key, and the local SQL orders exactly. Request counts and
//! `$orderby`/`$filter` strings are pinned against the emulator over HTTP, on both backends.

use cdms_entities::{Contact, Country, Organisation};
use cdms_runtime::QuerySet;
use cdms_tests::sync_support::{envs, SyncEnv};
use serde_json::json;
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

/// The decoded value of query option `option` (`$filter`, `$orderby`, `$top`) of every list
/// request to `set` since the last reset (`None` for a list without it).
fn list_options(env: &SyncEnv, set: &str, option: &str) -> Vec<Option<String>> {
    let prefix = format!("{option}=");
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

fn lookup(id: Uuid, logical: &str) -> serde_json::Value {
    json!({"Id": id.to_string(), "LogicalName": logical})
}

/// Countries France, Albania; accounts Mango (France), Apple (Albania), Zebra (no country);
/// contacts p (Zebra), q (Apple), r (no organisation), s (Mango), t (Apple).
struct Seeded {
    accounts: [Uuid; 3],
    albania: Uuid,
    apple: Uuid,
}

fn seed(env: &SyncEnv) -> Seeded {
    let france = env.seed_country("France", "FR");
    let albania = env.seed_country("Albania", "AL");
    let mango = env.seed_account(
        "Mango",
        json!({"optevia_Country": lookup(france, "optevia_country")}),
    );
    let apple = env.seed_account(
        "Apple",
        json!({"optevia_Country": lookup(albania, "optevia_country")}),
    );
    let zebra = env.seed_account("Zebra", json!({}));
    env.seed_contact("p", Some(zebra));
    env.seed_contact("q", Some(apple));
    env.seed_contact("r", None);
    env.seed_contact("s", Some(mango));
    env.seed_contact("t", Some(apple));
    Seeded {
        accounts: [mango, apple, zebra],
        albania,
        apple,
    }
}

async fn last_names(qs: QuerySet<Contact>) -> Vec<String> {
    qs.values_list(Contact::fields().last_name)
        .await
        .expect("contacts")
}

/// `AccountId eq guid'…' or …` for the local rows of `ids`, in the order of their local keys.
async fn account_chain(env: &SyncEnv, ids: &[Uuid]) -> String {
    let local = env.db.skip_cdms();
    let mut keyed = Vec::new();
    for id in ids {
        let row = Organisation::objects(&local)
            .filter(Organisation::fields().cdms_id.eq(*id))
            .get()
            .await
            .expect("local row");
        keyed.push((row.id, *id));
    }
    keyed.sort();
    let parts: Vec<String> = keyed
        .iter()
        .map(|(_, id)| format!("AccountId eq guid'{id}'"))
        .collect();
    parts.join(" or ")
}

#[tokio::test]
async fn sync_order_by_a_referenced_field_refreshes_the_referenced_rows() {
    for env in envs().await {
        let label = env.label();
        let seeded = seed(&env);
        let (c, o) = (Contact::fields(), Organisation::fields());
        let by_org = || {
            Contact::objects(&env.db)
                .order_by([c.organisation.then(o.name).asc(), c.last_name.asc()])
        };
        env.reset_log();
        // A null organisation sorts first ascending, like a null value.
        assert_eq!(
            last_names(by_org().limit(3)).await,
            ["r", "q", "t"],
            "[{label}]"
        );
        // The contacts without the related key (nor a window: `$top` is the page cap), then the
        // accounts: the missing ones by id while the contacts are applied, then every
        // referenced one by key for the order.
        assert_eq!(
            list_options(&env, "ContactSet", "$orderby"),
            [Some("ModifiedOn desc,ContactId asc".to_owned())],
            "[{label}]"
        );
        assert_eq!(
            list_options(&env, "ContactSet", "$top"),
            [Some("500".to_owned())],
            "[{label}]"
        );
        let accounts = account_chain(&env, &seeded.accounts).await;
        let filters = list_options(&env, "AccountSet", "$filter");
        assert_eq!(filters.len(), 2, "[{label}] {filters:?}");
        assert_eq!(filters.last(), Some(&Some(accounts.clone())), "[{label}]");
        // Once the accounts are local: one request for the contacts, one for their accounts.
        env.reset_log();
        assert_eq!(
            last_names(by_org()).await,
            ["r", "q", "t", "s", "p"],
            "[{label}]"
        );
        assert_eq!(env.total(), 2, "[{label}] {:?}", env.requests());
        assert_eq!(
            list_options(&env, "AccountSet", "$filter"),
            [Some(accounts.clone())],
            "[{label}]"
        );
        // Renamed in CDMS: the next read orders by the new name.
        env.edit("AccountSet", seeded.apple, json!({"Name": "Zulu"}));
        assert_eq!(
            last_names(by_org().limit(3)).await,
            ["r", "s", "p"],
            "[{label}]"
        );
        // Root keys CDMS can order by come first in `$orderby`, up to the related key.
        env.reset_log();
        let got = last_names(Contact::objects(&env.db).order_by([
            c.do_not_phone.asc(),
            c.organisation.then(o.name).desc(),
            c.last_name.asc(),
        ]))
        .await;
        assert_eq!(got, ["q", "t", "p", "s", "r"], "[{label}]");
        assert_eq!(
            list_options(&env, "ContactSet", "$orderby"),
            [Some("DoNotPhone asc,ContactId asc".to_owned())],
            "[{label}]"
        );
        // A filter narrows the referenced rows refreshed to those of the matching contacts.
        env.reset_log();
        let got = last_names(by_org().filter(c.last_name.is_in(["q", "s"]))).await;
        assert_eq!(got, ["s", "q"], "[{label}]");
        let two = account_chain(&env, &seeded.accounts[..2]).await;
        assert_eq!(
            list_options(&env, "AccountSet", "$filter"),
            [Some(two)],
            "[{label}]"
        );
        // A count does not depend on the order: no request for the accounts.
        env.reset_log();
        assert_eq!(by_org().count().await.expect("count"), 5, "[{label}]");
        assert_eq!(env.gets("AccountSet"), (0, 0), "[{label}]");
    }
}

#[tokio::test]
async fn sync_order_through_a_chain_refreshes_each_entity_along_it() {
    for env in envs().await {
        let label = env.label();
        let seeded = seed(&env);
        let (c, o, k) = (Contact::fields(), Organisation::fields(), Country::fields());
        let by_country = || {
            Contact::objects(&env.db).order_by([
                c.organisation.then(o.country).then(k.name).desc(),
                c.last_name.asc(),
            ])
        };
        // Everything local first.
        assert_eq!(last_names(by_country()).await.len(), 5, "[{label}]");
        env.reset_log();
        // France (s), Albania (q, t), then the broken chains: Zebra has no country (p), r no
        // organisation.
        assert_eq!(
            last_names(by_country()).await,
            ["s", "q", "t", "p", "r"],
            "[{label}]"
        );
        // One list per entity along the chain: contacts, their accounts, those accounts'
        // countries.
        assert_eq!(env.gets("ContactSet"), (0, 1), "[{label}]");
        assert_eq!(env.gets("AccountSet"), (0, 1), "[{label}]");
        assert_eq!(env.gets("optevia_countrySet"), (0, 1), "[{label}]");
        assert_eq!(env.total(), 3, "[{label}]");
        assert_eq!(
            list_options(&env, "AccountSet", "$orderby"),
            [Some("ModifiedOn desc,AccountId asc".to_owned())],
            "[{label}]"
        );
        // Renamed in CDMS, two references away: the next read sees it.
        env.edit(
            "optevia_countrySet",
            seeded.albania,
            json!({"optevia_Country": "Zimbabwe"}),
        );
        assert_eq!(
            last_names(by_country()).await,
            ["q", "t", "s", "p", "r"],
            "[{label}]"
        );
    }
}

#[tokio::test]
async fn sync_slice_ordered_through_a_reference_reads_every_page() {
    for env in envs().await {
        let label = env.label();
        // The contact of the first organisation by name is the least recently changed: CDMS's
        // default order (`ModifiedOn desc`) puts it on the second page.
        let first = env.seed_account("Aardvark", json!({}));
        let other = env.seed_account("Other", json!({}));
        env.seed_contact("first", Some(first));
        for n in 0..60 {
            env.seed_contact(&format!("c{n:02}"), Some(other));
        }
        let (c, o) = (Contact::fields(), Organisation::fields());
        env.reset_log();
        let got = Contact::objects(&env.db)
            .order_by([c.organisation.then(o.name).asc()])
            .first()
            .await
            .expect("first")
            .map(|c| c.last_name);
        assert_eq!(got.as_deref(), Some("first"), "[{label}]");
        assert_eq!(env.gets("ContactSet"), (0, 2), "[{label}] both pages");
    }
}
