//! Unit tests of the client pieces that need no server.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, SET_COOKIE};
use serde_json::json;
use uuid::Uuid;

use super::auth::{self, Auth, Secret};
use super::metrics::{Metrics, Verb};
use super::response::{entry, error_details, raw_page as page, status_error};
use super::retry::RetryPolicy;
use super::transport::{is_transient_status, Answer};
use super::url::{encode_component, Endpoint, ListOptions};
use super::CdmsClient;
use crate::cdms::{wire, CdmsError};

#[test]
fn query_options_are_percent_encoded() {
    assert_eq!(
        encode_component("Name eq 'A&B #1 + ''quoted'' 100%'"),
        "Name%20eq%20%27A%26B%20%231%20%2B%20%27%27quoted%27%27%20100%25%27"
    );
    assert_eq!(encode_component("Zoë/東"), "Zo%C3%AB%2F%E6%9D%B1");
    assert_eq!(encode_component("a-b.c_d~e,f"), "a-b.c_d~e%2Cf");
    let opts = ListOptions {
        filter: Some("substringof('a&b',Name) and CreditLimit/Value gt 10M".into()),
        select: vec!["AccountId".into(), "Name".into()],
        expand: Vec::new(),
        orderby: Some("Name asc,AccountId asc".into()),
        top: Some(120),
    };
    assert_eq!(
        opts.query(),
        "$filter=substringof%28%27a%26b%27%2CName%29%20and%20CreditLimit%2FValue%20gt%2010M\
         &$select=AccountId%2CName&$orderby=Name%20asc%2CAccountId%20asc&$top=120"
    );
    assert_eq!(ListOptions::default().query(), "");
}

#[test]
fn translated_filters_encode_to_a_single_parameter() {
    use crate::cdms::filter::translate;
    use crate::cdms::test_fixtures::{NAME, ORG_CDMS};
    use crate::expr::{Cond, Expr, Lookup};
    let e = Expr::Cond(Cond {
        field: NAME,
        lookup: Lookup::Exact(crate::Value::Text("O'Brien & Sons #2 + 50%".into())),
    });
    let t = translate(&ORG_CDMS, &e, &|_, _| None);
    let f = t.filter.unwrap();
    assert_eq!(f, "Name eq 'O''Brien & Sons #2 + 50%'");
    let q = ListOptions {
        filter: Some(f),
        ..ListOptions::default()
    }
    .query();
    assert_eq!(
        q,
        "$filter=Name%20eq%20%27O%27%27Brien%20%26%20Sons%20%232%20%2B%2050%25%27"
    );
    assert!(!q.contains('&') && !q.contains('#') && !q.contains('+') && !q.contains(' '));
}

#[test]
fn endpoints() {
    let e = Endpoint::new("https://crm.example.org/UKTI/").unwrap();
    assert_eq!(
        e.service,
        "https://crm.example.org/UKTI/XRMServices/2011/OrganizationData.svc"
    );
    let id = Uuid::parse_str("DFF27D1F-A61B-4BFE-A203-B2E5A36CDA0E").unwrap();
    assert_eq!(
        e.key_url("AccountSet", id).unwrap(),
        "https://crm.example.org/UKTI/XRMServices/2011/OrganizationData.svc/AccountSet(guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e')"
    );
    assert_eq!(
        e.set_url("optevia_countrySet").unwrap(),
        format!("{}/optevia_countrySet", e.service)
    );
    for bad in [
        "",
        "Account Set",
        "AccountSet?$top=1",
        "../x",
        "AccountSet(guid'x')",
    ] {
        assert!(
            matches!(e.set_url(bad), Err(CdmsError::Config { .. })),
            "{bad}"
        );
    }
    assert_eq!(
        e.origin_path("/adfs/login").unwrap(),
        "https://crm.example.org/adfs/login"
    );
    assert!(e.origin_path("adfs").is_err());
    let same = reqwest::Url::parse("https://CRM.example.org:443/ukti/xrmservices/2011/OrganizationData.svc/AccountSet?$skiptoken=1").unwrap();
    assert!(e.same_origin(&same));
    for other in [
        "http://crm.example.org/x",
        "https://evil.example.org/x",
        "https://crm.example.org:8443/x",
    ] {
        assert!(
            !e.same_origin(&reqwest::Url::parse(other).unwrap()),
            "{other}"
        );
    }
    for bad in [
        "ftp://x/y",
        "not a url",
        "https://u:p@crm/x",
        "https://crm/x?y=1",
    ] {
        assert!(
            matches!(Endpoint::new(bad), Err(CdmsError::Config { .. })),
            "{bad}"
        );
    }
    // Malformed URLs with credentials are echoed without them.
    for bad in [
        "https://svc:hunter2@[crm/x",
        "https://svc:hunter2@crm:99999/x",
        "ftp://svc:hunter2@crm/x",
        "https://svc:hunter2@crm/x",
    ] {
        let shown = Endpoint::new(bad).unwrap_err().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[test]
fn retry_backoff_is_jittered_exponential_and_bounded() {
    let p = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(500),
        max_elapsed: Duration::from_secs(2),
    };
    let mut rng = fastrand::Rng::with_seed(7);
    for (retry, cap) in [(0, 100), (1, 200), (2, 400), (3, 500), (30, 500)] {
        for _ in 0..50 {
            let d = p.delay(retry, &mut rng);
            assert!(
                d >= Duration::from_millis(cap / 2) && d <= Duration::from_millis(cap),
                "{retry}: {d:?}"
            );
        }
    }
    assert!(p.next_delay(1, Duration::ZERO, None, &mut rng).is_some());
    assert_eq!(
        p.next_delay(5, Duration::ZERO, None, &mut rng),
        None,
        "attempts exhausted"
    );
    assert_eq!(
        p.next_delay(1, Duration::from_millis(1990), None, &mut rng),
        None,
        "time exhausted"
    );
    let hinted = p
        .next_delay(1, Duration::ZERO, Some(Duration::from_secs(60)), &mut rng)
        .unwrap();
    assert_eq!(
        hinted,
        Duration::from_millis(500),
        "Retry-After is capped by max_delay"
    );
    assert_eq!(
        RetryPolicy::none().next_delay(1, Duration::ZERO, None, &mut rng),
        None
    );
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s} {s:?}"), "*** ***");
    assert_eq!(s.expose(), "hunter2");
    let modes = [
        Auth::Basic {
            user: "me".into(),
            password: "hunter2".into(),
        },
        Auth::Bearer("t0ken-xyz".into()),
        Auth::CookieSession {
            login_path: "/adfs/login".into(),
            user: "me".into(),
            password: "hunter2".into(),
        },
    ];
    for a in modes {
        let client = CdmsClient::builder("http://127.0.0.1:1/UKTI")
            .auth(a.clone())
            .build()
            .unwrap();
        let shown = format!("{a:?} {client:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("t0ken"),
            "{shown}"
        );
    }
    let header = auth::sensitive("MSISAuth=abc").unwrap();
    assert!(header.is_sensitive());
    assert!(!format!("{header:?}").contains("abc"));
}

#[test]
fn session_cookies_and_sign_in_pages() {
    let mut h = HeaderMap::new();
    assert_eq!(auth::cookies_from(&h), None);
    h.append(
        SET_COOKIE,
        HeaderValue::from_static("MSISAuth=abc123; Path=/; HttpOnly"),
    );
    h.append(
        SET_COOKIE,
        HeaderValue::from_static("ReqClientId=r1; Path=/; Secure"),
    );
    h.append(SET_COOKIE, HeaderValue::from_static("=nameless"));
    assert_eq!(
        auth::cookies_from(&h).as_deref(),
        Some("MSISAuth=abc123; ReqClientId=r1")
    );
    let form = auth::login_form("DOM\\me", &Secret::new("p&w=1 ü"));
    assert_eq!(
        form,
        "ctl00%24ContentPlaceHolder1%24UsernameTextBox=DOM%5Cme&ctl00%24ContentPlaceHolder1%24PasswordTextBox=p%26w%3D1%20%C3%BC"
    );
    let page = "<form><span id=\"ctl00_ContentPlaceHolder1_ErrorTextLabel\" class=\"error\">The user name or password is incorrect.</span></form>";
    assert_eq!(
        auth::login_error(page).as_deref(),
        Some("The user name or password is incorrect.")
    );
    assert_eq!(auth::login_error("<html>Sign in</html>"), None);
    let mut html = HeaderMap::new();
    html.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    assert!(auth::is_html(&html, b"anything"));
    assert!(auth::is_html(&HeaderMap::new(), b"  \n<!DOCTYPE html>"));
    assert!(!auth::is_html(&HeaderMap::new(), b"{\"d\":{}}"));
}

fn answer(status: u16, body: serde_json::Value) -> Answer {
    Answer {
        status,
        body: body.to_string().into_bytes(),
        ambiguous: false,
    }
}

#[test]
fn statuses_map_to_typed_errors() {
    let id = Uuid::parse_str("dff27d1f-a61b-4bfe-a203-b2e5a36cda0e").unwrap();
    let other = "11111111-2222-3333-4444-555555555555";
    let body = |code: &str, msg: &str| wire::error_body(code, msg);
    let e = status_error(
        "AccountSet",
        Some(id),
        &answer(
            404,
            body(
                wire::CODE_NOT_FOUND,
                &format!("account With Id = {id} Does Not Exist"),
            ),
        ),
    );
    assert!(
        matches!(e, CdmsError::NotFound { ref set, id: got } if set == "AccountSet" && got == id),
        "{e:?}"
    );
    let e = status_error(
        "AccountSet",
        Some(id),
        &answer(
            404,
            body(
                wire::CODE_NOT_FOUND,
                &format!("optevia_country With Id = {other} Does Not Exist"),
            ),
        ),
    );
    assert!(
        matches!(e, CdmsError::BadRequest { status: 404, .. }),
        "{e:?}"
    );
    let e = status_error(
        "NoSet",
        None,
        &answer(404, body("", "Resource not found for the segment 'NoSet'.")),
    );
    assert!(
        matches!(e, CdmsError::BadRequest { status: 404, ref message, .. } if message.contains("NoSet")),
        "{e:?}"
    );
    let e = status_error(
        "AccountSet",
        None,
        &answer(400, body("", "The property 'Nme' does not exist")),
    );
    match e {
        CdmsError::BadRequest {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((status, code.as_str()), (400, ""));
            assert!(message.contains("Nme"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        status_error("S", None, &answer(403, body("", "no"))),
        CdmsError::Forbidden { .. }
    ));
    assert!(matches!(
        status_error("S", None, &answer(409, body("", "no"))),
        CdmsError::Conflict { .. }
    ));
    assert!(matches!(
        status_error(
            "S",
            None,
            &answer(
                500,
                body(wire::CODE_DUPLICATE_KEY, "Cannot insert duplicate key")
            )
        ),
        CdmsError::Conflict { .. }
    ));
    assert!(matches!(
        status_error("S", None, &answer(401, body("", "no"))),
        CdmsError::Unauthorized { .. }
    ));
    let plain = Answer {
        status: 405,
        body: b"Method Not Allowed".to_vec(),
        ambiguous: false,
    };
    assert_eq!(
        error_details(&plain.body),
        (String::new(), "Method Not Allowed".to_owned())
    );
}

#[test]
fn transient_statuses() {
    let e = |code: &str, msg: &str| wire::error_body(code, msg).to_string().into_bytes();
    for s in [429, 502, 503, 504] {
        assert!(is_transient_status(s, b""), "{s}");
    }
    assert!(is_transient_status(
        500,
        &e("-2147220970", "Generic SQL error.")
    ));
    assert!(is_transient_status(500, b"<html>Server Error</html>"));
    assert!(!is_transient_status(
        500,
        &e(wire::CODE_DUPLICATE_KEY, "Cannot insert duplicate key.")
    ));
    assert!(!is_transient_status(
        500,
        &e(
            "-2147220970",
            "Paging over 5000 records requires a paging cookie."
        )
    ));
    for s in [200, 201, 204, 400, 401, 403, 404, 405, 409, 501] {
        assert!(!is_transient_status(s, b""), "{s}");
    }
}

#[test]
fn envelopes() {
    let a = answer(200, json!({"d": {"Name": "A"}}));
    assert_eq!(entry("AccountSet", &a).unwrap()["Name"], "A");
    let a = answer(
        200,
        json!({"d": {"results": [{"Name": "A"}], "__next": "http://x/next"}}),
    );
    let (rows, next) = page("AccountSet", &a).unwrap();
    assert_eq!((rows.len(), next.as_deref()), (1, Some("http://x/next")));
    let a = answer(200, json!({"d": [{"Name": "A"}, {"Name": "B"}]}));
    assert_eq!(page("AccountSet", &a).unwrap().0.len(), 2);
    for (body, part) in [
        (b"{\"d\":{".to_vec(), "invalid JSON"),
        (b"{\"value\":[]}".to_vec(), "no \"d\""),
        (b"[1]".to_vec(), "not a JSON object"),
        (b"{\"d\":{\"results\":{}}}".to_vec(), "no \"results\""),
        (b"{\"d\":{\"results\":[],\"__next\":5}}".to_vec(), "__next"),
    ] {
        let a = Answer {
            status: 200,
            body,
            ambiguous: false,
        };
        match page("AccountSet", &a) {
            Err(CdmsError::Malformed { what, .. }) => assert!(
                what.contains(part) && what.starts_with("AccountSet"),
                "{what}"
            ),
            other => panic!("{other:?}"),
        }
    }
    match entry("AccountSet", &answer(200, json!({"d": [1]}))) {
        Err(CdmsError::Malformed { what, .. }) => assert!(what.contains("not an entry")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn metrics_count_and_snapshot() {
    let m = Metrics::default();
    m.request(Verb::Get, 0);
    m.request(Verb::Get, 0);
    m.request(Verb::Merge, 120);
    m.response(Verb::Get, 200, 1000);
    m.response(Verb::Get, 503, 10);
    m.response(Verb::Merge, 204, 0);
    m.transport_error(Verb::Get);
    m.retry();
    m.reauth();
    m.login();
    m.page();
    let s = m.snapshot();
    assert_eq!(
        (
            s.requests(Verb::Get),
            s.requests(Verb::Merge),
            s.requests(Verb::Delete)
        ),
        (2, 1, 0)
    );
    assert_eq!(s.total_requests(), 3);
    assert_eq!(
        (
            s.status(Verb::Get, 200),
            s.status(Verb::Get, 503),
            s.status(Verb::Merge, 204)
        ),
        (1, 1, 1)
    );
    assert_eq!((s.bytes_in, s.bytes_out), (1010, 120));
    assert_eq!((s.retries, s.reauths, s.logins, s.pages), (1, 1, 1, 1));
    assert_eq!(s.transport_errors.get(&Verb::Get), Some(&1));
    assert!(
        Verb::Get.is_idempotent() && Verb::Merge.is_idempotent() && Verb::Delete.is_idempotent()
    );
    assert!(!Verb::Post.is_idempotent());
    assert_eq!(Verb::Merge.to_string(), "MERGE");
}

#[test]
fn errors_classify() {
    let t = CdmsError::Transient {
        set: "AccountSet".into(),
        cause: crate::cdms::TransientCause::Status(503),
        attempts: 4,
        message: "Service Unavailable".into(),
    };
    assert!(t.is_transient());
    assert_eq!(t.status(), Some(503));
    assert_eq!(
        t.to_string(),
        "AccountSet: CDMS unavailable after 4 attempt(s): HTTP 503: Service Unavailable"
    );
    let n = CdmsError::NotFound {
        set: "AccountSet".into(),
        id: Uuid::nil(),
    };
    assert!(n.is_not_found() && !n.is_transient());
    assert_eq!(n.status(), Some(404));
}

/// Records every span and event field at every level.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap();
        out.push_str(&format!("\nspan {}", span.metadata().name()));
        span.record(&mut Fields(&mut out));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        out.push_str("\nevent");
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(feature = "emulator")]
#[test]
fn credentials_never_reach_the_logs() {
    use crate::cdms::test_fixtures::ORG_CDMS;
    use crate::emulator::{Emulator, FaultAction, FaultRule, SessionAuth, LOGIN_PATH};
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = Emulator::builder()
            .set(&ORG_CDMS)
            .auth(SessionAuth::new("me", "pa55-w0rd"))
            .build()
            .unwrap();
        let server = emu.serve("127.0.0.1:0").await.unwrap();
        let session = Auth::CookieSession {
            login_path: LOGIN_PATH.into(),
            user: "me".into(),
            password: "pa55-w0rd".into(),
        };
        let c = CdmsClient::builder(server.base_url())
            .auth(session)
            .retry(RetryPolicy {
                base_delay: Duration::from_millis(1),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap();
        emu.faults().add(
            FaultRule::new(FaultAction::status(503, "busy"))
                .method("GET")
                .times(1),
        );
        c.list("AccountSet", &ListOptions::default()).await.unwrap();
        emu.expire_sessions();
        c.list("AccountSet", &ListOptions::default()).await.unwrap();
        let basic = Auth::Basic {
            user: "me".into(),
            password: "pa55-w0rd".into(),
        };
        let c = CdmsClient::builder(server.base_url())
            .auth(basic)
            .build()
            .unwrap();
        assert!(c.list("AccountSet", &ListOptions::default()).await.is_err());
        let c = CdmsClient::builder(server.base_url())
            .auth(Auth::Bearer("t0ken-t0ken".into()))
            .build()
            .unwrap();
        assert!(c.list("AccountSet", &ListOptions::default()).await.is_err());
        server.shutdown().await.unwrap();
    });
    let logged = capture.0.lock().unwrap().clone();
    assert!(
        logged.contains("span cdms_request") && logged.contains("status=503"),
        "{logged}"
    );
    assert!(logged.contains("span cdms_login"), "{logged}");
    for secret in [
        "pa55-w0rd",
        "pa55",
        "t0ken",
        "MSISAuth=",
        "Basic ",
        "Bearer ",
        "bWU6",
    ] {
        assert!(!logged.contains(secret), "{secret} logged:\n{logged}");
    }
}
