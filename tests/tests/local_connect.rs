//! Connecting to a PostgreSQL server that is not there fails fast, says where and why, and
//! never shows the password.

use std::time::{Duration, Instant};

use cdms_runtime::Db;
use tokio::net::TcpListener;

async fn connect_error(url: &str) -> (String, Duration) {
    let started = Instant::now();
    let e = match Db::connect(url).await {
        Ok(_) => panic!("connected to {url}"),
        Err(e) => e.to_string(),
    };
    (e, started.elapsed())
}

#[tokio::test]
async fn a_closed_port_fails_at_once_naming_host_and_port() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again
    let (e, took) = connect_error(&format!("postgres://app:pw-secret@127.0.0.1:{port}/x")).await;
    assert!(took < Duration::from_secs(3), "took {took:?}: {e}");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.to_ascii_lowercase().contains("refused"), "{e}");
    assert!(!e.contains("pw-secret") && !e.contains("timed out"), "{e}");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_seconds() {
    // Accepts connections (the kernel completes the handshake) but never speaks.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (e, took) = connect_error(&format!("postgres://app:pw-secret@127.0.0.1:{port}/x")).await;
    assert!(took < Duration::from_secs(10), "took {took:?}: {e}");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.contains("no answer within 5 s"), "{e}");
    assert!(!e.contains("pw-secret"), "{e}");
    drop(listener);
}
