//! TLS: a certificate that does not verify is its own error, never retried; a private CA is
//! trusted with `root_certificates_pem` (`--cdms-ca-file`). Served on loopback with the fixtures
//! in `tests/fixtures/tls/` (see its README).

mod cdms_client_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use cdms_client_support::{fast_retry, ACCOUNTS};
use cdms_runtime::cdms::{CdmsClient, CdmsError, ListOptions};
use cdms_tests::bulk_support::cdms_sync;

const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../fixtures/tls/server.pem");
const KEY: &[u8] = include_bytes!("../fixtures/tls/server.key");

/// Serves an empty page over TLS to every request; counts TCP connections.
async fn tls_server() -> (String, Arc<AtomicUsize>) {
    let certs = CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("https://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"d":{"results":[{"Name":"A"}]}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (origin, connections)
}

fn builder(origin: &str) -> cdms_runtime::cdms::CdmsClientBuilder {
    CdmsClient::builder(format!("{origin}/UKTI"))
        .retry(fast_retry())
        .timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn an_unverified_certificate_is_a_tls_error_and_not_retried() {
    let (origin, connections) = tls_server().await;
    let port = origin.rsplit(':').next().unwrap().to_owned();
    let e = builder(&origin)
        .build()
        .unwrap()
        .list(ACCOUNTS, &ListOptions::default())
        .await
        .unwrap_err();
    match &e {
        CdmsError::Tls { set, host, reason } => {
            assert_eq!(set, ACCOUNTS);
            assert_eq!(host, &format!("127.0.0.1:{port}"));
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_transient());
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{e}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn a_private_ca_is_trusted_when_given() {
    let (origin, _) = tls_server().await;
    let c = builder(&origin)
        .root_certificates_pem(CA)
        .unwrap()
        .build()
        .unwrap();
    let records = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap();
    assert_eq!(records.len(), 1);
    // The server's certificate is not a CA: trusting it instead does not help.
    let c = builder(&origin)
        .root_certificates_pem(CERT)
        .unwrap()
        .build()
        .unwrap();
    let e = c.list(ACCOUNTS, &ListOptions::default()).await.unwrap_err();
    assert!(matches!(e, CdmsError::Tls { .. }), "{e:?}");
    // Garbage is refused when configured, not when used.
    for bad in [&b""[..], b"not a certificate"] {
        assert!(matches!(
            builder(&origin).root_certificates_pem(bad),
            Err(CdmsError::Config { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_the_certificate_and_takes_a_ca_file() {
    let (origin, _) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, CA).unwrap();
    let url = format!("{origin}/UKTI");
    let run = move |ca_file: Option<std::path::PathBuf>| {
        let mut cmd = cdms_sync();
        cmd.args([
            "status",
            "--entities",
            "country",
            "--database-url",
            &db,
            "--cdms-url",
            &url,
        ]);
        if let Some(path) = ca_file {
            cmd.env("CDMS_CA_FILE", path);
        }
        cmd.output().expect("run cdms-sync")
    };
    let runs = tokio::task::spawn_blocking(move || {
        (
            run(None),
            run(Some(ca.with_file_name("missing.pem"))),
            run(Some(ca)),
        )
    });
    let (refused, no_file, trusted) = runs.await.unwrap();
    // With the CA the handshake succeeds (what the stub server answers is beside the point).
    let trusted = String::from_utf8_lossy(&trusted.stderr).into_owned();
    assert!(!trusted.contains("certificate"), "{trusted}");
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("certificate verification failed for 127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("after 4 attempts"), "{stderr}");
    assert_eq!(no_file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_file.stderr).contains("--cdms-ca-file"));
}
