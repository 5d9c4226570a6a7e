//! Every error class of the client, with faults injected through the emulator's knobs.

mod cdms_client_support;

use std::time::Duration;

use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use cdms_client_support::*;
use cdms_runtime::cdms::{
    Auth, CdmsClient, CdmsError, ListOptions, RetryPolicy, TransientCause, Verb,
};
use cdms_runtime::emulator::{FaultAction, FaultRule};

fn obj(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn status(code: u16, message: &str) -> FaultAction {
    FaultAction::status(code, message)
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let emu = builder().build().unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);

    // Two 503s, then the answer.
    let rule = emu.faults().add(
        FaultRule::new(status(503, "Service Unavailable"))
            .method("GET")
            .times(2),
    );
    assert_eq!(c.get(ACCOUNTS, id).await.unwrap()["Name"], "Acme");
    assert_eq!(emu.faults().fired(rule), 2);
    let m = c.metrics().snapshot();
    assert_eq!(
        (m.requests(Verb::Get), m.status(Verb::Get, 503), m.retries),
        (3, 2, 2)
    );
    emu.faults().clear();

    // A 500 that persists: the policy's attempts, then a transient error with the server's text.
    emu.reset_log();
    emu.faults()
        .add(FaultRule::new(status(500, "Generic SQL error.")).method("GET"));
    match c.list(ACCOUNTS, &ListOptions::default()).await {
        Err(e @ CdmsError::Transient { .. }) => {
            assert!(e.is_transient());
            let CdmsError::Transient {
                set,
                cause,
                attempts,
                message,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(
                (set.as_str(), cause, attempts),
                (ACCOUNTS, TransientCause::Status(500), 4)
            );
            assert!(message.contains("Generic SQL error"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.request_count("GET", ACCOUNTS), 4);
    emu.faults().clear();

    // 429 is retried too; MERGE and DELETE are idempotent.
    emu.faults().add(
        FaultRule::new(status(429, "Too many requests"))
            .method("MERGE")
            .times(1),
    );
    emu.faults().add(
        FaultRule::new(status(502, "Bad gateway"))
            .method("DELETE")
            .times(1),
    );
    c.update(ACCOUNTS, id, &obj(json!({"Name": "Acme 2"})))
        .await
        .unwrap();
    c.delete(ACCOUNTS, id).await.unwrap();
    assert_eq!(emu.count(ACCOUNTS), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_create_without_a_key_is_never_repeated_blindly() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    emu.faults().add(
        FaultRule::new(status(503, "Service Unavailable"))
            .method("POST")
            .times(1),
    );
    match c.create(ACCOUNTS, &obj(json!({"Name": "Once"}))).await {
        Err(CdmsError::Transient {
            attempts: 1,
            cause: TransientCause::Status(503),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.request_count("POST", ACCOUNTS), 1);
    // The answer of a committed create is lost: the client cannot know, and does not repeat it.
    emu.faults().add(
        FaultRule::new(FaultAction::ApplyThenDrop)
            .method("POST")
            .times(1),
    );
    match c.create(ACCOUNTS, &obj(json!({"Name": "Lost"}))).await {
        Err(CdmsError::Transient {
            attempts: 1,
            cause: TransientCause::Io(_),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.count(ACCOUNTS), 1, "committed once, not repeated");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_create_with_a_client_key_survives_a_lost_answer_without_duplicating() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    let rule = emu.faults().add(
        FaultRule::new(FaultAction::ApplyThenDrop)
            .method("POST")
            .times(1),
    );
    let id = Uuid::new_v4();
    let created = c
        .create_with_id(
            ACCOUNTS,
            "AccountId",
            id,
            &obj(json!({"Name": "Exactly once"})),
        )
        .await
        .unwrap();
    assert_eq!(emu.faults().fired(rule), 1);
    assert_eq!(created["AccountId"], id.to_string());
    assert_eq!(created["Name"], "Exactly once");
    assert_eq!(emu.count(ACCOUNTS), 1, "no duplicate");
    let m = c.metrics().snapshot();
    assert_eq!(
        (m.requests(Verb::Post), m.retries, m.replayed_creates),
        (2, 1, 1)
    );
    assert_eq!(
        m.status(Verb::Post, 500),
        1,
        "the retry met the duplicate-key answer"
    );
    // A 503 before anything was stored: retried, created once.
    emu.faults()
        .add(FaultRule::new(status(503, "busy")).method("POST").times(2));
    let id2 = Uuid::new_v4();
    c.create_with_id(ACCOUNTS, "AccountId", id2, &obj(json!({"Name": "Second"})))
        .await
        .unwrap();
    assert_eq!(emu.count(ACCOUNTS), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn lost_answers_of_idempotent_writes() {
    let emu = builder().build().unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    emu.faults().add(
        FaultRule::new(FaultAction::ApplyThenDrop)
            .method("MERGE")
            .times(1),
    );
    c.update(ACCOUNTS, id, &obj(json!({"Name": "Merged"})))
        .await
        .unwrap();
    assert_eq!(emu.get(ACCOUNTS, id).unwrap()["Name"], "Merged");
    assert_eq!(emu.request_count("MERGE", ACCOUNTS), 2);
    // The delete committed but its answer was lost; the retry's 404 means it is done.
    emu.faults().add(
        FaultRule::new(FaultAction::ApplyThenDrop)
            .method("DELETE")
            .times(1),
    );
    c.delete(ACCOUNTS, id).await.unwrap();
    assert_eq!(emu.count(ACCOUNTS), 0);
    assert_eq!(emu.request_count("DELETE", ACCOUNTS), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn timeouts_dropped_connections_and_truncated_bodies() {
    let emu = builder().build().unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let c = CdmsClient::builder(server.base_url())
        .retry(fast_retry())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    for (action, label) in [
        (FaultAction::Hang(Duration::from_secs(3)), "hang"),
        (FaultAction::Drop, "drop"),
        (FaultAction::TruncatedBody, "truncated"),
    ] {
        emu.faults().clear();
        let rule = emu
            .faults()
            .add(FaultRule::new(action).method("GET").times(1));
        assert_eq!(
            c.get(ACCOUNTS, id).await.unwrap()["Name"],
            "Acme",
            "{label}"
        );
        assert_eq!(emu.faults().fired(rule), 1, "{label}");
        let rows = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap();
        assert_eq!(rows.len(), 1, "{label}");
    }
    let m = c.metrics().snapshot();
    assert_eq!(m.transport_errors.get(&Verb::Get), Some(&3));
    assert_eq!(m.retries, 3);

    emu.faults().clear();
    emu.faults()
        .add(FaultRule::new(FaultAction::Hang(Duration::from_secs(3))).method("GET"));
    let quick = CdmsClient::builder(server.base_url())
        .retry(RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    match quick.get(ACCOUNTS, id).await {
        Err(CdmsError::Transient {
            cause: TransientCause::Timeout,
            attempts: 2,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    emu.faults().clear();
    emu.faults()
        .add(FaultRule::new(FaultAction::Drop).method("GET"));
    match quick.get(ACCOUNTS, id).await {
        Err(CdmsError::Transient {
            cause: TransientCause::Io(_),
            attempts: 2,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_answers() {
    let emu = builder().build().unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    emu.faults()
        .add(FaultRule::new(FaultAction::MalformedJson).method("GET"));
    match c.get(ACCOUNTS, id).await {
        Err(CdmsError::Malformed { what, excerpt }) => {
            assert!(
                what.contains(ACCOUNTS) && what.contains("invalid JSON"),
                "{what}"
            );
            assert!(excerpt.starts_with('{'), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    match c.list(ACCOUNTS, &ListOptions::default()).await {
        Err(CdmsError::Malformed { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.metrics().snapshot().retries,
        0,
        "a malformed answer is not retried"
    );
    // Without a session to renew, an HTML page where JSON was expected is malformed.
    emu.faults().clear();
    emu.faults().add(
        FaultRule::new(FaultAction::LoginPage)
            .method("GET")
            .times(1),
    );
    match c.get(ACCOUNTS, id).await {
        Err(CdmsError::Malformed { what, excerpt }) => {
            assert!(what.contains("HTML"), "{what}");
            assert!(excerpt.contains("<"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn refusals_carry_the_servers_message() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, Auth::None);
    match c.create(ACCOUNTS, &obj(json!({"Nmae": "typo"}))).await {
        Err(CdmsError::BadRequest {
            set,
            status: 400,
            code,
            message,
        }) => {
            assert_eq!((set.as_str(), code.as_str()), (ACCOUNTS, ""));
            assert!(message.contains("Nmae"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let opts = ListOptions {
        filter: Some("tolower(Name) eq 'x'".into()),
        ..ListOptions::default()
    };
    match c.list(ACCOUNTS, &opts).await {
        Err(CdmsError::BadRequest {
            status: 400,
            message,
            ..
        }) => assert!(message.contains("tolower"), "{message}"),
        other => panic!("{other:?}"),
    }
    match c.list("NoSuchSet", &ListOptions::default()).await {
        Err(CdmsError::BadRequest { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    match c.get(ACCOUNTS, Uuid::new_v4()).await {
        Err(e @ CdmsError::NotFound { .. }) => assert!(e.is_not_found() && !e.is_transient()),
        other => panic!("{other:?}"),
    }
    // A lookup to a record that does not exist: a 404 about the body, not the key.
    let id = emu.insert(ACCOUNTS, json!({"Name": "A"})).unwrap();
    let body = obj(
        json!({"optevia_Country": {"Id": Uuid::new_v4().to_string(), "LogicalName": "optevia_country"}}),
    );
    match c.update(ACCOUNTS, id, &body).await {
        Err(CdmsError::BadRequest { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    emu.faults().add(
        FaultRule::new(FaultAction::status(403, "no privilege"))
            .method("GET")
            .times(1),
    );
    assert!(matches!(
        c.get(ACCOUNTS, id).await,
        Err(CdmsError::Forbidden { .. })
    ));
    assert_eq!(
        c.metrics().snapshot().retries,
        0,
        "refusals are not retried"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let base = server.base_url();
    server.shutdown().await.unwrap();
    let c = CdmsClient::builder(base)
        .retry(fast_retry())
        .build()
        .unwrap();
    match c.get(ACCOUNTS, Uuid::new_v4()).await {
        Err(CdmsError::Transient {
            cause: TransientCause::Connect,
            attempts: 4,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Nothing was sent, so even a keyless create may try again.
    match c.create(ACCOUNTS, &Map::new()).await {
        Err(CdmsError::Transient {
            cause: TransientCause::Connect,
            attempts: 4,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}
