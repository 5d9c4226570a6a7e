//! The emulator's knobs over real HTTP: latency, fault rules, authentication modes, request log.

mod emulator_common;

use std::time::{Duration, Instant};

use cdms_runtime::emulator::{Auth, ExpiredAnswer, FaultAction, FaultRule, Latency, SessionAuth};
use cdms_tests::emulator_fixtures as fx;
use emulator_common::{entity, start, Http};
use serde_json::json;
use uuid::Uuid;

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

#[tokio::test]
async fn fixed_and_jittered_latency() {
    let emulator = fx::builder()
        .latency(Latency::Fixed(Duration::from_millis(150)))
        .build()
        .unwrap();
    let (_server, http) = start(&emulator).await;
    let t = Instant::now();
    assert_eq!(http.get("/AccountSet").await.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    assert!(emulator.requests()[0].duration >= Duration::from_millis(150));
    emulator.set_latency(Latency::Jitter {
        min: Duration::from_millis(20),
        max: Duration::from_millis(60),
    });
    for _ in 0..3 {
        let t = Instant::now();
        http.get("/AccountSet").await;
        assert!(t.elapsed() >= Duration::from_millis(20));
    }
    emulator.set_latency(Latency::None);
    let t = Instant::now();
    http.get("/AccountSet").await;
    assert!(t.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn status_faults_by_rule_and_count() {
    let emulator = fx::emulator();
    let (_server, http) = start(&emulator).await;
    let rule = emulator.faults().add(
        FaultRule::new(FaultAction::Status {
            status: 503,
            code: "-2147220970".into(),
            message: "Server busy".into(),
        })
        .method("GET")
        .set("AccountSet")
        .after(1)
        .times(2),
    );
    let statuses: Vec<u16> = futures_status(&http, 5).await;
    assert_eq!(statuses, [200, 503, 503, 200, 200]);
    assert_eq!(emulator.faults().fired(rule), 2);
    assert_eq!(emulator.requests()[1].fault, Some(rule));
    let busy = {
        emulator.faults().add(
            FaultRule::new(FaultAction::status(500, "boom"))
                .path_contains("$top=7")
                .nth(1),
        );
        http.get("/AccountSet?$top=7").await
    };
    assert_eq!(busy.status, 500);
    assert_eq!(busy.error(), ("-2147220970".to_owned(), "boom".to_owned()));
    assert_eq!(
        http.get("/AccountSet?$top=7").await.status,
        200,
        "nth fires once"
    );
    assert_eq!(
        http.post("/AccountSet", &json!({})).await.status,
        201,
        "other methods unaffected"
    );
    assert!(emulator.faults().remove(rule));
}

async fn futures_status(http: &Http, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(http.get("/AccountSet").await.status);
    }
    out
}

#[tokio::test]
async fn dropped_connections_and_hangs() {
    let emulator = fx::emulator();
    let (server, _) = start(&emulator).await;
    let http = Http::with_client(&server, client(Duration::from_millis(500)));
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::Drop).nth(1));
    let err = http
        .request(
            "GET",
            "/AccountSet",
            None,
            &[("Accept", "application/json")],
        )
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(emulator.requests()[0].status, None, "no answer was sent");
    assert_eq!(
        http.get("/AccountSet").await.status,
        200,
        "the next request is served"
    );

    emulator.faults().clear();
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::Hang(Duration::from_secs(60))).nth(1));
    let t = Instant::now();
    let err = http
        .request(
            "GET",
            "/AccountSet",
            None,
            &[("Accept", "application/json")],
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
    let t = Instant::now();
    server.shutdown().await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shutdown releases hung requests: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn truncated_and_malformed_answers() {
    let emulator = fx::emulator();
    let id = emulator
        .insert("AccountSet", json!({"Name": "Acme"}))
        .unwrap();
    let (_server, http) = start(&emulator).await;
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::TruncatedBody).nth(1));
    let resp = http
        .client
        .get(http.url(&entity("AccountSet", id)))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the head arrives");
    let declared: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 100);
    assert!(
        resp.bytes().await.is_err(),
        "the body stops short of its Content-Length"
    );
    assert_eq!(http.get(&entity("AccountSet", id)).await.status, 200);

    emulator.faults().clear();
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::MalformedJson).times(2));
    let r = http.get(&entity("AccountSet", id)).await;
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "{}",
        r.text
    );
    let merge = http
        .call(
            "MERGE",
            &entity("AccountSet", id),
            Some(&json!({"Name": "Changed"})),
        )
        .await;
    assert_eq!(merge.status, 200, "a 204 turns into 200 with broken JSON");
    assert!(serde_json::from_str::<serde_json::Value>(&merge.text).is_err());
    assert_eq!(
        emulator.get("AccountSet", id).unwrap()["Name"],
        "Changed",
        "the write happened"
    );
}

#[tokio::test]
async fn apply_then_drop_commits_the_write() {
    let emulator = fx::emulator();
    let (_server, http) = start(&emulator).await;
    emulator.faults().add(
        FaultRule::new(FaultAction::ApplyThenDrop)
            .method("POST")
            .set("AccountSet")
            .nth(1),
    );
    let id = Uuid::new_v4();
    let body = json!({"AccountId": id.to_string(), "Name": "Once"});
    let err = http
        .request(
            "POST",
            "/AccountSet",
            Some(&body),
            &[("Accept", "application/json")],
        )
        .await;
    assert!(err.is_err(), "the answer is lost");
    assert_eq!(emulator.count("AccountSet"), 1, "but the record exists");
    let retry = http.post("/AccountSet", &body).await;
    assert_eq!(
        retry.status, 500,
        "a retry with the same client id cannot duplicate it"
    );
    assert_eq!(retry.error().0, "-2147220937");
    assert_eq!(emulator.count("AccountSet"), 1);
}

#[tokio::test]
async fn unauthorized_and_login_page_faults_and_seeded_probability() {
    let emulator = fx::emulator();
    let (_server, http) = start(&emulator).await;
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::Unauthorized).nth(1));
    emulator
        .faults()
        .add(FaultRule::new(FaultAction::LoginPage).nth(2));
    let r = http.get("/AccountSet").await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    let r = http.get("/AccountSet").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("UsernameTextBox"));
    emulator.faults().clear();
    let run = |seed| {
        let e = fx::emulator();
        e.faults()
            .add(FaultRule::new(FaultAction::status(503, "flaky")).probability(0.5, seed));
        e
    };
    let mut patterns = Vec::new();
    for _ in 0..2 {
        let e = run(7);
        let (_s, h) = start(&e).await;
        patterns.push(futures_status(&h, 20).await);
    }
    assert_eq!(patterns[0], patterns[1], "same seed, same failures");
    assert!(patterns[0].contains(&503) && patterns[0].contains(&200));
}

#[tokio::test]
async fn basic_and_bearer_auth() {
    let emulator = fx::builder()
        .auth(Auth::basic("crm\\svc", "p@ss:word"))
        .build()
        .unwrap();
    let (_server, http) = start(&emulator).await;
    let none = http.get("/AccountSet").await;
    assert_eq!(none.status, 401);
    assert!(none
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let wrong = http
        .client
        .get(http.url("/AccountSet"))
        .basic_auth("crm\\svc", Some("nope"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = http
        .client
        .get(http.url("/AccountSet"))
        .basic_auth("crm\\svc", Some("p@ss:word"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);

    emulator.set_auth(Auth::bearer("t0ken"));
    let none = http.get("/AccountSet").await;
    assert_eq!(
        (none.status, none.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    let right = http
        .client
        .get(http.url("/$metadata"))
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let wrong = http
        .client
        .get(http.url("/$metadata"))
        .bearer_auth("other")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn cookie_sessions_expire_into_the_html_login_page() {
    let emulator = fx::builder()
        .auth(SessionAuth::new("svc", "secret").lifetime(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let (server, _) = start(&emulator).await;
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let http = Http::with_client(&server, jar.clone());
    let anonymous = http.get("/AccountSet").await;
    assert_eq!(
        anonymous.status, 200,
        "CDMS answered 200 with HTML, not 401"
    );
    assert!(anonymous
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(anonymous.text.contains("PasswordTextBox"));

    let form = jar
        .get(server.login_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("action=\"/adfs/login\"")
            && form.contains("ctl00$ContentPlaceHolder1$UsernameTextBox")
    );
    let bad = jar
        .post(server.login_url())
        .form(&[
            ("ctl00$ContentPlaceHolder1$UsernameTextBox", "svc"),
            ("ctl00$ContentPlaceHolder1$PasswordTextBox", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 200);
    assert!(bad.headers().get("set-cookie").is_none());
    assert!(bad.text().await.unwrap().contains("ErrorTextLabel"));
    let good = jar
        .post(server.login_url())
        .form(&[
            ("__VIEWSTATE", "x"),
            ("ctl00$ContentPlaceHolder1$UsernameTextBox", "svc"),
            ("ctl00$ContentPlaceHolder1$PasswordTextBox", "secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert!(good.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("MSISAuth="));
    assert_eq!(
        http.get("/AccountSet").await.json()["d"]["results"],
        json!([]),
        "signed in"
    );
    assert_eq!(emulator.session_count(), 1);

    emulator.expire_sessions();
    let expired = http.get("/AccountSet").await;
    assert_eq!(expired.status, 200);
    assert!(
        expired.text.starts_with("<!DOCTYPE html>"),
        "expiry looks like the login page"
    );

    let json_login = jar
        .post(server.login_url())
        .json(&json!({"user": "svc", "password": "secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_login.status(), 200);
    assert_eq!(http.get("/AccountSet").await.status, 200);
    assert!(http.get("/AccountSet").await.text.starts_with("{\"d\""));
    emulator.clock().advance(Duration::from_secs(3600));
    assert!(
        http.get("/AccountSet").await.text.contains("<html"),
        "the lifetime is measured on the emulator clock"
    );
    let json_bad = jar
        .post(server.login_url())
        .json(&json!({"user": "svc", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_bad.status(), 401);
}

#[tokio::test]
async fn expired_sessions_can_answer_401_or_redirect() {
    let emulator = fx::builder()
        .auth(SessionAuth::new("svc", "secret").expired_answer(ExpiredAnswer::Unauthorized))
        .build()
        .unwrap();
    let (server, http) = start(&emulator).await;
    assert_eq!(http.get("/AccountSet").await.status, 401);
    emulator.set_auth(SessionAuth::new("svc", "secret").expired_answer(ExpiredAnswer::Redirect));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(server.set_url("AccountSet"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], server.login_url().as_str());
    let followed = http.get("/AccountSet").await;
    assert_eq!(followed.status, 200);
    assert!(
        followed.text.contains("UsernameTextBox"),
        "following the redirect ends on the login page"
    );
    let bearer_only = fx::builder().auth(Auth::bearer("x")).build().unwrap();
    let (s2, _) = start(&bearer_only).await;
    assert_eq!(
        reqwest::get(s2.login_url()).await.unwrap().status(),
        404,
        "no sign-in page without session auth"
    );
}

#[tokio::test]
async fn request_log_counts_every_request() {
    let emulator = fx::emulator();
    let (_server, http) = start(&emulator).await;
    let id = http.create("AccountSet", &json!({"Name": "A"})).await;
    http.get("/AccountSet?$top=5&$filter=Name%20eq%20'A'").await;
    http.get(&entity("AccountSet", id)).await;
    http.call(
        "MERGE",
        &entity("AccountSet", id),
        Some(&json!({"Name": "B"})),
    )
    .await;
    http.request(
        "POST",
        &entity("AccountSet", id),
        Some(&json!({})),
        &[("Accept", "application/json"), ("X-HTTP-Method", "MERGE")],
    )
    .await
    .unwrap();
    http.get("/NopeSet").await;
    http.get("/$metadata").await;
    assert_eq!(emulator.request_count("GET", "AccountSet"), 2);
    assert_eq!(emulator.request_count("post", "AccountSet"), 1);
    assert_eq!(emulator.request_count("MERGE", "AccountSet"), 2);
    assert_eq!(emulator.request_count("GET", "NopeSet"), 1);
    let log = emulator.requests();
    assert_eq!(log.len(), 7);
    let list = &log[1];
    assert_eq!(list.method, "GET");
    assert_eq!(list.query, "$top=5&$filter=Name%20eq%20%27A%27", "as sent");
    assert!(list
        .path
        .ends_with("/XRMServices/2011/OrganizationData.svc/AccountSet"));
    assert_eq!(
        (list.status, list.set.as_deref()),
        (Some(200), Some("AccountSet"))
    );
    assert_eq!(log[0].status, Some(201));
    assert!(log[4].tunnelled && !log[3].tunnelled);
    assert_eq!(log[5].status, Some(404));
    assert_eq!(log[6].set, None);
    assert_eq!(emulator.log().count_where(|r| r.status == Some(204)), 2);
    emulator.reset_log();
    assert!(emulator.log().is_empty());
    assert_eq!(emulator.request_count("GET", "AccountSet"), 0);
}
