//! The client against servers that misbehave on purpose (hand-made, on 127.0.0.1): `__next`
//! chains that never end, answers that never end, and errors that retrying cannot cure.

mod cdms_client_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use cdms_client_support::*;
use cdms_runtime::cdms::{CdmsClient, CdmsError, ListOptions, PagingStop};
use cdms_runtime::emulator::{FaultAction, FaultRule};

const SVC: &str = "/XRMServices/2011/OrganizationData.svc";

/// What the hand-made server does; the organisation segment of the path picks it.
#[derive(Clone)]
struct Ctx {
    origin: String,
    requests: Arc<AtomicUsize>,
}

fn page(results: serde_json::Value, next: Option<String>) -> Response {
    let mut d = json!({ "results": results });
    if let Some(next) = next {
        d["__next"] = json!(next);
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "d": d }).to_string()))
        .unwrap()
}

fn token(req: &Request) -> u64 {
    req.uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("$skiptoken=")))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

async fn handle(State(ctx): State<Ctx>, req: Request) -> Response {
    ctx.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_owned();
    let org = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let set_url = |rest: &str| format!("{}/{org}{SVC}/AccountSet{rest}", ctx.origin);
    let record = json!([{ "Name": "A" }]);
    match org {
        // Page 0 → 2 → 1 → 2: a cycle of two pages. The links carry credentials, which must
        // be neither sent nor shown in the error.
        "cycle" if req.headers().contains_key(header::AUTHORIZATION) => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Body::from("the link's credentials were sent"))
            .unwrap(),
        "cycle" => {
            let next = match token(&req) {
                0 | 1 => 2,
                _ => 1,
            };
            let link =
                set_url(&format!("?$skiptoken={next}")).replace("http://", "http://svc:hunter2@");
            page(record, Some(link))
        }
        // Empty pages, each linking to the next, for ever.
        "empty" => page(
            json!([]),
            Some(set_url(&format!("?$skiptoken={}", token(&req) + 1))),
        ),
        // One record per page, for ever.
        "endless" => page(
            record,
            Some(set_url(&format!("?$skiptoken={}", token(&req) + 1))),
        ),
        // A 500 carrying a CRM code about the query itself, and one without any code.
        "fault" => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"error": {"code": "-2147217150", "message": {"lang": "en-US",
                    "value": "'Account' entity doesn't contain attribute with Name = 'nope'."}}})
                .to_string(),
            ))
            .unwrap(),
        "iis" => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(
                "<html><body>Server Error in '/' Application.</body></html>",
            ))
            .unwrap(),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap(),
    }
}

/// Serves [`handle`]; returns the origin and the request counter.
async fn hostile_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let ctx = Ctx {
        origin: origin.clone(),
        requests: requests.clone(),
    };
    let app = Router::new().fallback(handle).with_state(ctx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (origin, requests)
}

fn client_of(base: String) -> CdmsClient {
    CdmsClient::builder(base)
        .retry(fast_retry())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_cycle_of_pages_is_refused_naming_the_set_and_the_link() {
    let (origin, requests) = hostile_server().await;
    let c = client_of(format!("{origin}/cycle"));
    let e = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap_err();
    match &e {
        CdmsError::Paging { set, reason, link } => {
            assert_eq!((set.as_str(), *reason), (ACCOUNTS, PagingStop::Cycle));
            assert!(link.contains("$skiptoken=2"), "{link}");
            assert!(link.starts_with("http://127.0.0.1:"), "{link}");
        }
        other => panic!("{other:?}"),
    }
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains(ACCOUNTS), "{shown}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "pages 0, 2 and 1, not retried"
    );
}

#[tokio::test]
async fn an_endless_chain_of_empty_pages_ends() {
    let (origin, requests) = hostile_server().await;
    let c = client_of(format!("{origin}/empty"));
    let e = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap_err();
    assert!(
        matches!(
            &e,
            CdmsError::Paging { set, reason: PagingStop::EmptyPages(10), .. } if set == ACCOUNTS
        ),
        "{e:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn the_page_cap_ends_an_endless_listing() {
    let (origin, requests) = hostile_server().await;
    let c = CdmsClient::builder(format!("{origin}/endless"))
        .max_pages(7)
        .build()
        .unwrap();
    let mut pager = c.pager(ACCOUNTS, &ListOptions::default()).unwrap();
    let mut records = 0;
    let e = loop {
        match pager.next_page().await {
            Ok(Some(page)) => records += page.len(),
            Ok(None) => panic!("the endless listing ended"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            &e,
            CdmsError::Paging {
                reason: PagingStop::TooManyPages(7),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!((records, requests.load(Ordering::SeqCst)), (7, 7));
    // The default cap is generous: a long listing is not cut short.
    let c = client_of(format!("{origin}/endless"));
    let mut pager = c.pager(ACCOUNTS, &ListOptions::default()).unwrap();
    for _ in 0..300 {
        assert_eq!(pager.next_page().await.unwrap().unwrap().len(), 1);
    }
}

/// Serves one answer per connection: `head` (status line and headers), then `body_chunk` as
/// HTTP chunks until the client stops reading. Counts connections.
async fn endless_body_server(head: &'static str, chunked: bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                let data = if chunked {
                    framed
                } else {
                    vec![b' '; 64 * 1024]
                };
                // Stops when the client closes the connection.
                while sock.write_all(&data).await.is_ok() {}
            });
        }
    });
    (origin, requests)
}

#[tokio::test]
async fn an_endless_answer_is_cut_off_at_the_limit_and_not_retried() {
    let heads: [(&'static str, bool); 2] = [
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n",
            false,
        ),
    ];
    for (head, chunked) in heads {
        let (origin, requests) = endless_body_server(head, chunked).await;
        let c = CdmsClient::builder(format!("{origin}/UKTI"))
            .retry(fast_retry())
            .max_answer_bytes(1024 * 1024)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let e = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap_err();
        assert!(
            matches!(&e, CdmsError::TooLarge { set, limit: 1_048_576, .. } if set == ACCOUNTS),
            "{e:?}"
        );
        assert!(!e.is_transient());
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{head}");
    }
}

#[tokio::test]
async fn only_failures_that_can_pass_are_retried() {
    // A 400 from the emulator (a bad $filter) and a 404 (unknown set): one request each.
    let emu = builder().build().unwrap();
    let server = serve(&emu).await;
    let c = client(&server, cdms_runtime::cdms::Auth::None);
    let bad = ListOptions {
        filter: Some("tolower(Name) eq 'a'".into()),
        ..ListOptions::default()
    };
    let e = c.list(ACCOUNTS, &bad).await.unwrap_err();
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert_eq!(emu.request_count("GET", ACCOUNTS), 1);
    let e = c
        .list("NopeSet", &ListOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
    assert_eq!(emu.request_count("GET", "NopeSet"), 1);

    // 500 with a CRM code about the request: permanent. 500 with the generic code: retried.
    emu.faults().add(
        FaultRule::new(FaultAction::Status {
            status: 500,
            code: "-2147204326".into(),
            message: "A validation error occurred. The value of 'industrycode' is outside the \
                      valid range."
                .into(),
        })
        .method("GET")
        .times(1),
    );
    let e = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap_err();
    assert!(
        matches!(&e, CdmsError::BadRequest { status: 500, code, .. } if code == "-2147204326"),
        "{e:?}"
    );
    assert_eq!(emu.request_count("GET", ACCOUNTS), 2);
    emu.faults()
        .add(FaultRule::new(FaultAction::status(500, "Generic SQL error.")).times(1));
    c.list(ACCOUNTS, &ListOptions::default()).await.unwrap();
    assert_eq!(
        emu.request_count("GET", ACCOUNTS),
        4,
        "one failure, one retry"
    );

    // The same against a plain server: a coded 500 once, an IIS error page four times.
    let (origin, requests) = hostile_server().await;
    let e = client_of(format!("{origin}/fault"))
        .list(ACCOUNTS, &ListOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CdmsError::BadRequest { status: 500, .. }),
        "{e:?}"
    );
    assert_eq!(requests.swap(0, Ordering::SeqCst), 1);
    let e = client_of(format!("{origin}/iis"))
        .list(ACCOUNTS, &ListOptions::default())
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        4,
        "the policy's 4 attempts"
    );
}
