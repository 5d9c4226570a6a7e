//! `cdms-sync demo`, end to end, as a user runs it.

use std::time::Duration;

use cdms_tests::bulk_support::{cdms_sync, Spawned};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cmd = cdms_sync();
    cmd.current_dir(dir.path()).args(["demo", "--scale", "250"]);
    let mut run = Spawned::new(cmd);
    let status = run.wait(Duration::from_secs(300)).await;
    let out = run.stdout();
    assert!(
        status.success(),
        "demo failed: {status}\n{out}\n{}",
        run.stderr()
    );
    for expected in [
        "== 1. A CDMS organisation",
        "== 3. Initial load",
        "loaded 992 records",
        "a local read refreshes it on the way (1 CDMS request)",
        "poll: Organisation  0 new, 1 updated, 0 deleted",
        "poll: Contact       1 new, 0 updated, 1 deleted",
        "the deleted contact is gone: true",
        "CDMS now has \"www.example-renamed.co.uk\"",
        "in CDMS: true",
        "local row unchanged: true",
        "remote refresh  cdms-sync load",
        "local change    alice@trade.gov.uk",
        "in sync",
        "CDMS requests: GET",
        "total time",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("DRIFT"), "{out}");
    assert!(
        dir.path().join("cdms-demo.sqlite").exists(),
        "the demo database is in the working directory"
    );

    // A second run recreates the default database and succeeds again.
    let mut again = cdms_sync();
    again
        .current_dir(dir.path())
        .args(["demo", "--scale", "20"]);
    let mut rerun = Spawned::new(again);
    let status = rerun.wait(Duration::from_secs(300)).await;
    assert!(
        status.success(),
        "second demo failed: {status}\n{}",
        rerun.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_refuses_a_database_that_holds_data() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("mine.sqlite").display()
    );
    let demo = |scale: &str| {
        let mut cmd = cdms_sync();
        cmd.current_dir(dir.path())
            .args(["demo", "--scale", scale, "--database-url", &url]);
        Spawned::new(cmd)
    };
    let mut first = demo("15");
    let status = first.wait(Duration::from_secs(300)).await;
    assert!(status.success(), "{}", first.stderr());
    let mut second = demo("15");
    let status = second.wait(Duration::from_secs(120)).await;
    assert_eq!(status.code(), Some(2), "{}", second.stderr());
    assert!(
        second.stderr().contains("needs an empty database"),
        "{}",
        second.stderr()
    );
}
