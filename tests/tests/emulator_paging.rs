//! Paging over real HTTP: pages of 50, `__next`, `$skiptoken`, `$top`, `$skip` and its limit,
//! `$orderby`, `$select`, and the query options CRM 2011 refuses.

mod emulator_common;

use std::collections::HashSet;

use cdms_runtime::emulator::Emulator;
use cdms_tests::emulator_fixtures as fx;
use emulator_common::{enc, start, Http};
use serde_json::{json, Value};

/// An emulator with `n` accounts: `Name` = `acc-{i:04}`, `NumberOfEmployees` = i, ModifiedOn one
/// second apart (i seconds after the start).
fn seeded(n: usize) -> Emulator {
    let emulator = fx::emulator();
    for i in 0..n {
        emulator
            .insert(
                "AccountSet",
                json!({"Name": format!("acc-{i:04}"), "NumberOfEmployees": i}),
            )
            .unwrap();
        emulator.clock().advance(std::time::Duration::from_secs(1));
    }
    emulator
}

struct Page {
    results: Vec<Value>,
    next: Option<String>,
}

async fn page(http: &Http, rel: &str) -> Page {
    let r = http.get(rel).await;
    assert_eq!(r.status, 200, "{rel}: {}", r.text);
    let d = r.json()["d"].clone();
    let obj = d.as_object().unwrap();
    assert!(
        obj.keys().all(|k| k == "results" || k == "__next"),
        "{:?}",
        obj.keys()
    );
    assert!(obj.get("__count").is_none());
    Page {
        results: d["results"].as_array().unwrap().clone(),
        next: d.get("__next").and_then(|n| n.as_str()).map(str::to_owned),
    }
}

/// Follows `__next` to the end; returns every page's size and every row.
async fn follow(http: &Http, first: &str) -> (Vec<usize>, Vec<Value>, Vec<String>) {
    let (mut sizes, mut rows, mut nexts) = (Vec::new(), Vec::new(), Vec::new());
    let mut rel = first.to_owned();
    loop {
        let p = page(http, &rel).await;
        sizes.push(p.results.len());
        rows.extend(p.results);
        match p.next {
            Some(next) => {
                nexts.push(next.clone());
                rel = next;
            }
            None => return (sizes, rows, nexts),
        }
        assert!(sizes.len() < 100, "runaway paging");
    }
}

fn names(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["Name"].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

#[tokio::test]
async fn pages_of_fifty_in_key_order_with_absolute_next_links() {
    let emulator = seeded(120);
    let (server, http) = start(&emulator).await;
    let (sizes, rows, nexts) = follow(&http, "/AccountSet").await;
    assert_eq!(sizes, [50, 50, 20]);
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["AccountId"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = emulator
        .ids("AccountSet")
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(ids, expected, "default order is the primary key order");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 120);
    let first = &nexts[0];
    assert!(
        first.starts_with(&format!(
            "{}/AccountSet?$skiptoken=1,'accountid','%7B",
            server.service_url()
        )),
        "{first}"
    );
    assert!(nexts[1].contains("$skiptoken=2,"), "{}", nexts[1]);
    let last_of_page1 = ids[49].to_uppercase();
    assert!(
        first.contains(&format!("%7B{last_of_page1}%7D")),
        "the token names the page's last key"
    );
    let r = http.get("/AccountSet").await;
    assert_eq!(r.header("dataserviceversion"), Some("2.0;"));
}

#[tokio::test]
async fn next_links_repeat_filter_select_orderby_and_the_remaining_top() {
    let emulator = seeded(130);
    let (_server, http) = start(&emulator).await;
    let filter = "NumberOfEmployees ge 5 and substringof('acc', Name)";
    let first = format!(
        "/AccountSet?$filter={}&$select=Name,NumberOfEmployees&$top=120",
        enc(filter)
    );
    let (sizes, rows, nexts) = follow(&http, &first).await;
    assert_eq!(sizes, [50, 50, 20], "$top caps the total across pages");
    assert_eq!(rows.len(), 120);
    assert!(
        rows.iter().all(|r| r.as_object().unwrap().len() == 3),
        "$select applies to every page"
    );
    assert!(nexts[0].contains("$top=70&"), "{}", nexts[0]);
    assert!(nexts[1].contains("$top=20&"), "{}", nexts[1]);
    for n in &nexts {
        assert!(
            n.contains("$filter=NumberOfEmployees%20ge%205%20and%20substringof('acc',%20Name)"),
            "{n}"
        );
        assert!(n.contains("$select=Name,NumberOfEmployees"), "{n}");
    }
    let (sizes, _, _) = follow(&http, "/AccountSet?$top=30").await;
    assert_eq!(sizes, [30], "no __next once $top is reached");
    let (sizes, _, _) = follow(&http, "/AccountSet?$top=100").await;
    assert_eq!(sizes, [50, 50]);
    let (sizes, _, _) = follow(&http, "/AccountSet?$top=0").await;
    assert_eq!(sizes, [0]);
}

#[tokio::test]
async fn ordered_paging_resumes_after_the_last_row() {
    let emulator = seeded(120);
    let (_server, http) = start(&emulator).await;
    let (sizes, rows, nexts) = follow(&http, "/AccountSet?$orderby=Name%20desc").await;
    assert_eq!(sizes, [50, 50, 20]);
    let got = names(&rows);
    let mut want = got.clone();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(got, want);
    assert_eq!(got[0], "acc-0119");
    assert!(nexts[0].contains("$orderby=Name%20desc"), "{}", nexts[0]);
    // Editing rows between pages neither repeats nor skips the others.
    let (_, poller_rows, _) = follow(
        &http,
        "/AccountSet?$orderby=ModifiedOn%20desc,NumberOfEmployees",
    )
    .await;
    assert_eq!(names(&poller_rows)[0], "acc-0119", "newest first");
    let first = page(&http, "/AccountSet?$orderby=NumberOfEmployees").await;
    let victim = emulator.ids("AccountSet")[0];
    emulator
        .update("AccountSet", victim, json!({"Telephone1": "changed"}))
        .unwrap();
    let (_, rest, _) = follow(&http, first.next.as_deref().unwrap()).await;
    let mut all = names(&first.results);
    all.extend(names(&rest));
    assert_eq!(all.len(), 120);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 120);
    // The uktrade poller: $orderby=ModifiedOn desc&$top=50&$skip=N.
    let p = page(
        &http,
        "/AccountSet?$orderby=ModifiedOn%20desc&$top=50&$skip=50",
    )
    .await;
    assert_eq!(p.results.len(), 50);
    assert!(p.next.is_none());
    let complex = follow(
        &http,
        "/AccountSet?$orderby=Revenue/Value,PrimaryContactId/Id%20desc",
    )
    .await;
    assert_eq!(complex.1.len(), 120);
}

#[tokio::test]
async fn skip_limits() {
    let emulator = seeded(60);
    let (_server, http) = start(&emulator).await;
    let p = page(&http, "/AccountSet?$skip=40").await;
    assert_eq!(p.results.len(), 20);
    let past_end = page(&http, "/AccountSet?$top=50&$skip=200").await;
    assert!(
        past_end.results.is_empty() && past_end.next.is_none(),
        "skip past the end: 200 and no rows"
    );
    let at_limit = page(&http, "/AccountSet?$top=50&$skip=4950").await;
    assert!(at_limit.results.is_empty());
    for rel in [
        "/AccountSet?$top=50&$skip=4951",
        "/AccountSet?$skip=4960",
        "/AccountSet?$top=5000&$skip=1",
    ] {
        let r = http.get(rel).await;
        assert_eq!(r.status, 500, "{rel}");
        let (code, message) = r.error();
        assert_eq!(code, "-2147220970");
        assert!(message.contains("paging"), "{message}");
    }
    let top_only = page(&http, "/AccountSet?$top=9000").await;
    assert_eq!(top_only.results.len(), 50, "$top alone is not limited");
    let limited = fx::builder().skip_limit(100).page_size(10).build().unwrap();
    for i in 0..30 {
        limited
            .insert("AccountSet", json!({"NumberOfEmployees": i}))
            .unwrap();
    }
    let (_s2, http2) = start(&limited).await;
    let (sizes, _, _) = follow(&http2, "/AccountSet").await;
    assert_eq!(sizes, [10, 10, 10], "configurable page size");
    assert_eq!(
        http2.get("/AccountSet?$skip=95").await.status,
        500,
        "configurable limit"
    );
}

#[tokio::test]
async fn select_and_query_options_crm_refuses() {
    let emulator = seeded(3);
    let (_server, http) = start(&emulator).await;
    let p = page(&http, "/AccountSet?$select=Name").await;
    assert!(p
        .results
        .iter()
        .all(|r| r.as_object().unwrap().keys().collect::<Vec<_>>() == ["Name", "__metadata"]));
    let all = page(&http, "/AccountSet?$select=*").await;
    assert!(all.results[0].get("CreatedOn").is_some());
    let refused: &[(&str, &str)] = &[
        ("$format=json", "$format"),
        ("$inlinecount=allpages", "$inlinecount"),
        ("$expand=account_primary_contact", "navigation property"),
        ("$expand=a/b", "Multi-level"),
        ("$bogus=1", "'$bogus'"),
        ("$select=Nope", "'Nope'"),
        ("$select=Revenue/Value", "member path"),
        ("$orderby=PrimaryContactId", "complex property"),
        ("$orderby=Name%20sideways", "$orderby"),
        ("$orderby=Nope", "'Nope'"),
        ("$top=abc", "$top"),
        ("$skip=-1", "$skip"),
        ("$skiptoken=garbage", "skip token"),
        ("$top=1&$top=2", "more than once"),
        ("$filter=tolower(Name)%20eq%20'a'", "tolower"),
    ];
    for (query, needle) in refused {
        let r = http.get(&format!("/AccountSet?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        let (code, message) = r.error();
        assert_eq!(code, "", "{query}");
        assert!(message.contains(needle), "{query}: {message}");
    }
    let id = emulator.ids("AccountSet")[0].to_string().to_uppercase();
    let token = format!("1,'accountid','%7B{id}%7D','%7B{id}%7D'");
    let resumed = page(&http, &format!("/AccountSet?$skiptoken={token}")).await;
    assert_eq!(
        resumed.results.len(),
        2,
        "a key-order token resumes after its key"
    );
    let r = http
        .get(&format!("/AccountSet?$orderby=Name&$skiptoken={token}"))
        .await;
    assert_eq!(r.status, 400, "a token of another ordering is refused");
    assert_eq!(
        http.get("/AccountSet?custom=1").await.status,
        200,
        "options without $ are ignored"
    );
}
