//! Benchmark-style run of the emulator at CDMS scale: seeds 100,000 accounts (override with
//! `EMULATOR_BENCH_ROWS`) and times seeding and paged listing over HTTP. Prints the figures; the
//! assertions are about correctness (every row seen once), not speed.

mod emulator_common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use cdms_tests::emulator_fixtures as fx;
use emulator_common::{enc, start, Http};
use serde_json::{json, Value};

fn rows() -> usize {
    std::env::var("EMULATOR_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Follows `__next` from `first`; returns (pages, rows, ids seen, total time).
async fn walk(
    http: &Http,
    first: &str,
    max_pages: usize,
) -> (usize, usize, HashSet<String>, Duration) {
    let t = Instant::now();
    let mut rel = first.to_owned();
    let (mut pages, mut rows, mut ids) = (0, 0, HashSet::new());
    loop {
        let r = http.get(&rel).await;
        assert_eq!(r.status, 200, "{rel}: {}", r.text);
        let d: Value = r.json()["d"].take();
        pages += 1;
        for row in d["results"].as_array().unwrap() {
            rows += 1;
            ids.insert(row["AccountId"].as_str().unwrap().to_owned());
        }
        match d["__next"].as_str() {
            Some(next) if pages < max_pages => rel = next.to_owned(),
            _ => return (pages, rows, ids, t.elapsed()),
        }
    }
}

/// The server's own time per request (from the request log) since the log was last reset.
fn server_ms(emulator: &cdms_runtime::emulator::Emulator) -> String {
    let log = emulator.requests();
    let total: Duration = log.iter().map(|r| r.duration).sum();
    emulator.reset_log();
    format!(
        "server {:.2} ms/request",
        total.as_secs_f64() * 1000.0 / log.len().max(1) as f64
    )
}

fn per_page(d: Duration, pages: usize) -> String {
    format!(
        "{:.2} ms/page",
        d.as_secs_f64() * 1000.0 / pages.max(1) as f64
    )
}

#[tokio::test]
async fn seed_and_page_through_a_large_set() {
    let n = rows();
    let emulator = fx::emulator();
    let t = Instant::now();
    let batch = 10_000;
    for start_at in (0..n).step_by(batch) {
        let end = (start_at + batch).min(n);
        emulator
            .insert_many(
                "AccountSet",
                (start_at..end).map(|i| {
                    json!({
                        "Name": format!("Company {i:06} Ltd"),
                        "NumberOfEmployees": (i % 1000) as i32,
                        "Revenue": {"Value": (i % 5000) as f64 * 10.0},
                        "IndustryCode": {"Value": (i % 33 + 1) as i32},
                        "Telephone1": format!("+44 20 {i:07}"),
                        "DoNotEMail": i % 2 == 0
                    })
                }),
            )
            .unwrap();
        emulator.clock().advance(Duration::from_secs(1));
    }
    let seeding = t.elapsed();
    assert_eq!(emulator.count("AccountSet"), n);
    println!(
        "seeded {n} accounts in {:.2} s ({:.0} rows/s)",
        seeding.as_secs_f64(),
        n as f64 / seeding.as_secs_f64()
    );

    let (_server, http) = start(&emulator).await;
    emulator.reset_log();

    let t = Instant::now();
    let single = emulator.ids("AccountSet")[n / 2];
    for _ in 0..200 {
        assert_eq!(
            http.get(&format!("/AccountSet(guid'{single}')"))
                .await
                .status,
            200
        );
    }
    println!(
        "single GET: {:.3} ms ({})",
        t.elapsed().as_secs_f64() * 1000.0 / 200.0,
        server_ms(&emulator)
    );

    // A selective filter, default (key) order: 1 row in 1000 has NumberOfEmployees = 7, and of
    // those half have DoNotEMail = false.
    let filter = "NumberOfEmployees eq 7 and DoNotEMail eq false and substringof('ltd', Name)";
    let expected = (0..n).filter(|i| i % 1000 == 7 && i % 2 == 1).count();
    let (pages, got, ids, took) = walk(
        &http,
        &format!("/AccountSet?$filter={}", enc(filter)),
        usize::MAX,
    )
    .await;
    assert_eq!((got, ids.len()), (expected, expected));
    println!(
        "filtered list ({expected} of {n} rows): {pages} pages in {:.1} ms ({}; {})",
        took.as_secs_f64() * 1000.0,
        per_page(took, pages),
        server_ms(&emulator)
    );

    // A broad filter paged to the end in key order.
    let filter = "Revenue/Value ge 25000M";
    let expected = (0..n)
        .filter(|i| (i % 5000) as f64 * 10.0 >= 25_000.0)
        .count();
    let (pages, got, ids, took) = walk(
        &http,
        &format!("/AccountSet?$filter={}&$select=AccountId,Name", enc(filter)),
        usize::MAX,
    )
    .await;
    assert_eq!(
        (got, ids.len()),
        (expected, expected),
        "every matching row exactly once"
    );
    println!(
        "broad filtered list ({expected} rows, $select): {pages} pages in {:.2} s ({}; {})",
        took.as_secs_f64(),
        per_page(took, pages),
        server_ms(&emulator)
    );

    // Everything, every property, key order.
    let (pages, got, ids, took) = walk(&http, "/AccountSet", usize::MAX).await;
    assert_eq!((got, ids.len()), (n, n));
    println!(
        "full scan ({n} rows, all properties): {pages} pages in {:.2} s ({}; {})",
        took.as_secs_f64(),
        per_page(took, pages),
        server_ms(&emulator)
    );

    // The poller's ordering: newest first, through skip tokens; the first page sorts, the
    // following pages hit the sort cache.
    let (pages, got, _, took) = walk(
        &http,
        "/AccountSet?$orderby=ModifiedOn%20desc&$filter=DoNotEMail",
        100,
    )
    .await;
    assert_eq!(got, pages * 50);
    println!(
        "ordered ($orderby=ModifiedOn desc, filtered): {pages} pages in {:.1} ms ({}; {})",
        took.as_secs_f64() * 1000.0,
        per_page(took, pages),
        server_ms(&emulator)
    );
    let t = Instant::now();
    for skip in (0..4950).step_by(50) {
        let r = http
            .get(&format!(
                "/AccountSet?$orderby=ModifiedOn%20desc&$top=50&$skip={skip}"
            ))
            .await;
        assert_eq!(r.status, 200);
    }
    println!(
        "poller $top=50&$skip=N up to 4950: 99 pages in {:.1} ms ({}; {})",
        t.elapsed().as_secs_f64() * 1000.0,
        per_page(t.elapsed(), 99),
        server_ms(&emulator)
    );

    // After a write the cache is rebuilt once.
    let first = emulator.ids("AccountSet")[0];
    emulator
        .update("AccountSet", first, json!({"Name": "Changed"}))
        .unwrap();
    emulator.reset_log();
    let t = Instant::now();
    assert_eq!(
        http.get("/AccountSet?$orderby=Name&$top=50").await.status,
        200
    );
    println!(
        "ordered first page after a write (full sort of {n} rows): {:.1} ms ({})",
        t.elapsed().as_secs_f64() * 1000.0,
        server_ms(&emulator)
    );
}
