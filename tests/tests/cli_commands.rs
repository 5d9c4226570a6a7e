//! The command line: help, configuration, credentials never printed, and `emulate` → `migrate` →
//! `load` → `status` → `poll` → `status` through the binary.

use std::time::{Duration, Instant};

use cdms_tests::bulk_support::{cdms_sync, sqlite, Spawned};

fn output(args: &[&str]) -> std::process::Output {
    cdms_sync().args(args).output().expect("run cdms-sync")
}

#[test]
fn help_lists_commands_and_configuration() {
    let help = output(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for word in [
        "demo",
        "emulate",
        "migrate",
        "load",
        "poll",
        "status",
        "DATABASE_URL",
        "CDMS_URL",
        "CDMS_TOKEN",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let load = output(&["load", "--help"]);
    let text = String::from_utf8_lossy(&load.stdout);
    for word in [
        "--database-url",
        "DATABASE_URL",
        "--cdms-password",
        "CDMS_PASSWORD",
        "--partitions",
        "--concurrency",
        "--worker-id",
        "--lease-secs",
        "--entities",
    ] {
        assert!(text.contains(word), "load --help lacks {word}:\n{text}");
    }
    let poll = output(&["poll", "--help"]);
    let text = String::from_utf8_lossy(&poll.stdout);
    assert!(
        text.contains("--once")
            && text.contains("--interval")
            && text.contains("--reconcile-every"),
        "{text}"
    );
}

#[test]
fn bad_usage_exits_with_2() {
    let unknown = output(&[
        "status",
        "--entities",
        "widgets",
        "--cdms-url",
        "http://127.0.0.1:9/UKTI",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown entity \"widgets\""));
    let both = output(&["poll", "--once", "--interval", "5"]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn credentials_never_appear_in_output() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("c.sqlite").display()
    );
    for (var, value) in [
        ("CDMS_PASSWORD", "hunter2-secret-value"),
        ("CDMS_TOKEN", "tok-secret-value"),
    ] {
        let mut cmd = cdms_sync();
        cmd.args([
            "-vv",
            "status",
            "--database-url",
            &url,
            "--cdms-url",
            "http://127.0.0.1:9/UKTI",
        ]);
        if var == "CDMS_PASSWORD" {
            cmd.env("CDMS_USER", "svc-sync");
        }
        let run = cmd.env(var, value).output().expect("run");
        assert_eq!(run.status.code(), Some(1), "no CDMS there");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!all.contains(value), "{var} leaked:\n{all}");
        assert!(
            all.contains("127.0.0.1:9"),
            "the error names the server:\n{all}"
        );
    }
    let help = output(&["load", "--help"]);
    let mut cmd = cdms_sync();
    let with_env = cmd
        .env("CDMS_PASSWORD", "hunter2-secret-value")
        .args(["load", "--help"])
        .output()
        .expect("help");
    assert!(
        help.status.success() && !String::from_utf8_lossy(&with_env.stdout).contains("hunter2")
    );
}

/// Runs a command to its end and returns (exit code, stdout).
async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = cdms_sync();
    cmd.args(args);
    let mut spawned = Spawned::new(cmd);
    let status = spawned.wait(Duration::from_secs(180)).await;
    (status.code(), spawned.stdout(), spawned.stderr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulate_load_poll_status_through_the_binary() {
    let mut emulate = cdms_sync();
    emulate.args(["emulate", "--listen", "127.0.0.1:0", "--seed", "40"]);
    let mut server = Spawned::new(emulate);
    let started = Instant::now();
    let base = loop {
        let out = server.stdout();
        if let Some(url) = out
            .lines()
            .find_map(|l| l.strip_prefix("CDMS emulator: "))
            .and_then(|l| l.split_whitespace().next())
        {
            break url.to_owned();
        }
        assert!(
            server.child.try_wait().expect("wait").is_none(),
            "emulate exited:\n{}",
            server.stderr()
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "emulate did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let local = sqlite().await;
    let db = local.url.as_str();
    let cdms = base.as_str();

    let (code, out, err) = run(&["migrate", "--database-url", db]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&["status", "--database-url", db, "--cdms-url", cdms]).await;
    assert_eq!(code, Some(3), "nothing loaded yet is drift:\n{out}{err}");
    let (code, out, err) = run(&["poll", "--once", "--database-url", db, "--cdms-url", cdms]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("not loaded yet"), "{out}");
    let (code, out, err) = run(&[
        "load",
        "--database-url",
        db,
        "--cdms-url",
        cdms,
        "--entities",
        "country,sector,ukregion,businesstype",
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("Country") && !out.contains("Organisation"),
        "{out}"
    );
    let (code, out, err) = run(&["load", "--database-url", db, "--cdms-url", cdms]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("(already loaded)") && out.contains("Contact"),
        "{out}"
    );
    assert!(err.contains("records"), "log lines report progress:\n{err}");
    let (code, out, err) = run(&["status", "--database-url", db, "--cdms-url", cdms]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("in sync"), "{out}");
    let (code, out, err) = run(&[
        "poll",
        "--once",
        "--reconcile-every",
        "0",
        "--database-url",
        db,
        "--cdms-url",
        cdms,
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("ids reconciled"), "{out}");

    // Ctrl-C stops the emulator cleanly.
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let status = server.wait(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", server.stderr());
    assert!(server.stdout().contains("stopped after"));
}

#[test]
fn help_never_shows_values_from_the_environment() {
    let secrets = [
        (
            "DATABASE_URL",
            "postgres://app:db-secret-1@db.example.org/x",
        ),
        ("CDMS_URL", "https://svc:url-secret-2@crm.example.org/UKTI"),
        ("CDMS_USER", "user-secret-3"),
        ("CDMS_PASSWORD", "password-secret-4"),
        ("CDMS_TOKEN", "token-secret-5"),
    ];
    for command in ["load", "poll", "status", "migrate"] {
        let mut cmd = cdms_sync();
        for (var, value) in secrets {
            cmd.env(var, value);
        }
        let help = cmd.args([command, "--help"]).output().expect("help");
        assert!(help.status.success(), "{command}");
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains("DATABASE_URL"), "{command}:\n{text}");
        for secret in [
            "db-secret-1",
            "url-secret-2",
            "user-secret-3",
            "secret-4",
            "secret-5",
        ] {
            assert!(
                !text.contains(secret),
                "{command} --help shows {secret}:\n{text}"
            );
        }
    }
}

#[test]
fn urls_with_credentials_are_shown_without_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("c.sqlite").display()
    );
    for cdms_url in [
        "http://svc:url-secret@[bad/UKTI",
        "http://svc:url-secret@127.0.0.1:99999/UKTI",
        "ftp://svc:url-secret@crm.example.org/UKTI",
        "http://svc:url-secret@127.0.0.1:9/UKTI",
    ] {
        let run = cdms_sync()
            .args(["-vv", "status", "--database-url", &db])
            .env("CDMS_URL", cdms_url)
            .output()
            .expect("run");
        assert_eq!(run.status.code(), Some(1), "{cdms_url}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!all.contains("url-secret"), "{cdms_url}:\n{all}");
    }
    let run = cdms_sync()
        .args(["migrate"])
        .env(
            "DATABASE_URL",
            "postgres://app:db-secret@127.0.0.1:notaport/x",
        )
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&run.stderr).contains("db-secret"));
}

#[test]
fn numeric_flags_out_of_range_are_usage_errors() {
    let huge = "10000000000000";
    let huger = "99999999999999999999999";
    let cases: &[(&str, &str, &str)] = &[
        ("emulate", "--latency-ms", huge),
        ("load", "--partitions", huge),
        ("load", "--partitions", "0"),
        ("load", "--concurrency", huge),
        ("load", "--concurrency", "0"),
        ("load", "--pages-per-commit", huge),
        ("load", "--max-pages", huger),
        ("load", "--max-pages", "0"),
        ("load", "--lease-secs", huge),
        ("load", "--cdms-timeout-secs", huge),
        ("load", "--cdms-timeout-secs", "0"),
        ("poll", "--interval", huge),
        ("poll", "--overlap", huge),
        ("poll", "--overlap", "-1"),
        ("poll", "--reconcile-every", huge),
        ("poll", "--lease-secs", huge),
        ("status", "--sample", huge),
        ("status", "--cdms-timeout-secs", huger),
        ("emulate", "--seed", huge),
        ("demo", "--scale", huge),
        ("demo", "--scale", "0"),
        ("demo", "--concurrency", huge),
    ];
    for (command, flag, value) in cases {
        let run = output(&[command, &format!("{flag}={value}")]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(2),
            "{command} {flag} {value}: {stderr}"
        );
        assert!(stderr.contains(flag), "{command} {flag} {value}: {stderr}");
    }
    let run = cdms_sync()
        .args(["load", "--help"])
        .env("CDMS_TIMEOUT_SECS", huge)
        .output()
        .expect("help");
    assert!(
        run.status.success(),
        "help does not validate the environment"
    );
    let run = cdms_sync()
        .args(["load"])
        .env("CDMS_TIMEOUT_SECS", huge)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(2));
}
