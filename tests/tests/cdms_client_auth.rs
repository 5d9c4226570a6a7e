//! Each authentication mode, session expiry in each of its shapes, and re-authentication.

mod cdms_client_support;

use std::time::Duration;

use serde_json::json;

use cdms_client_support::*;
use cdms_runtime::cdms::{Auth, CdmsError, ListOptions, Verb};
use cdms_runtime::emulator::{
    self, ExpiredAnswer, FaultAction, FaultRule, SessionAuth, LOGIN_PATH,
};

fn session(user: &str, password: &str) -> Auth {
    Auth::CookieSession {
        login_path: LOGIN_PATH.into(),
        user: user.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn basic_and_bearer() {
    let emu = builder()
        .auth(emulator::Auth::basic("svc", "s3cret:!"))
        .build()
        .unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let ok = client(
        &server,
        Auth::Basic {
            user: "svc".into(),
            password: "s3cret:!".into(),
        },
    );
    assert_eq!(ok.get(ACCOUNTS, id).await.unwrap()["Name"], "Acme");
    for wrong in [
        Auth::Basic {
            user: "svc".into(),
            password: "nope".into(),
        },
        Auth::None,
        Auth::Bearer("t".into()),
    ] {
        let c = client(&server, wrong);
        match c.get(ACCOUNTS, id).await {
            Err(CdmsError::Unauthorized { message }) => {
                assert!(message.contains("401"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.metrics().snapshot().total_requests(),
            1,
            "a refused credential is not retried"
        );
    }
    emu.set_auth(emulator::Auth::bearer("tok-123"));
    let bearer = client(&server, Auth::Bearer("tok-123".into()));
    assert_eq!(
        bearer
            .list(ACCOUNTS, &ListOptions::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(client(&server, Auth::Bearer("tok-999".into()))
        .get(ACCOUNTS, id)
        .await
        .is_err());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cookie_sessions_sign_in_and_renew_after_every_kind_of_expiry() {
    for expired in [
        ExpiredAnswer::LoginPage,
        ExpiredAnswer::Redirect,
        ExpiredAnswer::Unauthorized,
    ] {
        let emu = builder()
            .auth(SessionAuth::new("me", "pw & more").expired_answer(expired))
            .build()
            .unwrap();
        let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
        let server = serve(&emu).await;
        let c = client(&server, session("me", "pw & more"));
        assert_eq!(
            c.get(ACCOUNTS, id).await.unwrap()["Name"],
            "Acme",
            "{expired:?}"
        );
        assert_eq!(emu.session_count(), 1);
        let m = c.metrics().snapshot();
        assert_eq!(
            (m.logins, m.reauths),
            (1, 0),
            "signed in before the first request"
        );

        emu.expire_sessions();
        assert_eq!(
            c.list(ACCOUNTS, &ListOptions::default())
                .await
                .unwrap()
                .len(),
            1,
            "{expired:?}"
        );
        let m = c.metrics().snapshot();
        assert_eq!((m.logins, m.reauths), (2, 1), "{expired:?}");
        assert_eq!(
            m.requests(Verb::Get),
            3,
            "the expired answer, then the repeat"
        );
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn sessions_expiring_by_lifetime_and_concurrent_renewal() {
    let emu = builder()
        .auth(SessionAuth::new("me", "pw").lifetime(Duration::from_secs(3600)))
        .clock(emulator::Clock::manual(chrono::Utc::now()))
        .build()
        .unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let c = client(&server, session("me", "pw"));
    c.sign_in().await.unwrap();
    emu.clock().advance(Duration::from_secs(3601));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get(ACCOUNTS, id).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap()["Name"], "Acme");
    }
    assert_eq!(
        c.metrics().snapshot().logins,
        2,
        "one renewal shared by concurrent requests"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn failed_sign_ins_and_repeated_refusals() {
    let emu = builder()
        .auth(emulator::Auth::session("me", "pw"))
        .build()
        .unwrap();
    let id = emu.insert(ACCOUNTS, json!({"Name": "Acme"})).unwrap();
    let server = serve(&emu).await;
    let wrong = client(&server, session("me", "wrong"));
    match wrong.get(ACCOUNTS, id).await {
        Err(CdmsError::Unauthorized { message }) => {
            assert!(
                message.contains("user name or password is incorrect"),
                "{message}"
            );
            assert!(
                !message.contains("wrong"),
                "no credentials in messages: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(wrong.metrics().snapshot().total_requests(), 0);

    // The sign-in page keeps coming back: re-authenticate once, then give up.
    let c = client(&server, session("me", "pw"));
    emu.faults()
        .add(FaultRule::new(FaultAction::LoginPage).method("GET"));
    match c.get(ACCOUNTS, id).await {
        Err(CdmsError::Unauthorized { message }) => assert!(message.contains("HTML"), "{message}"),
        other => panic!("{other:?}"),
    }
    let m = c.metrics().snapshot();
    assert_eq!((m.requests(Verb::Get), m.reauths, m.logins), (2, 1, 2));
    emu.faults().clear();
    // A one-off 401 from the front end: renewed and repeated.
    emu.faults().add(
        FaultRule::new(FaultAction::Unauthorized)
            .method("GET")
            .times(1),
    );
    assert_eq!(c.get(ACCOUNTS, id).await.unwrap()["Name"], "Acme");
    // Session mode on a server without sign-in: a configuration problem, reported as refused.
    let plain = builder().build().unwrap();
    let plain_server = serve(&plain).await;
    let c = client(&plain_server, session("me", "pw"));
    assert!(matches!(
        c.list(ACCOUNTS, &ListOptions::default()).await,
        Err(CdmsError::Unauthorized { .. })
    ));
    plain_server.shutdown().await.unwrap();
    server.shutdown().await.unwrap();
}
