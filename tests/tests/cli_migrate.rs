//! `cdms-sync migrate`: `--plan`, a risky change refused, `--write`, `--apply`, `--check`.

use cdms_tests::bulk_support::{cdms_sync, sqlite};

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = cdms_sync().args(args).output().expect("run cdms-sync");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn plan_refuse_write_apply_check() {
    let local = sqlite().await;
    let db = local.url.as_str();

    let (code, out, err) = run(&["migrate", "--plan", "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("-- create table organisation\nCREATE TABLE IF NOT EXISTS \"organisation\""),
        "{out}"
    );
    let (code, out, err) = run(&["migrate", "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&["migrate", "--plan", "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("match the entities"), "{out}");

    // A column no field maps: dropping it is risky.
    local
        .db
        .execute_raw(
            "ALTER TABLE \"organisation\" ADD COLUMN \"legacy\" TEXT",
            &[],
        )
        .await
        .unwrap();
    let (code, out, err) = run(&["migrate", "--database-url", db]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        err.contains("migration refused") && err.contains("drop column organisation.legacy"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let (code, out, err) = run(&["migrate", "--check", dir_arg, "--database-url", db]);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains("drop column organisation.legacy"), "{out}");

    let (code, out, err) = run(&["migrate", "--write", dir_arg, "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "{out}");
    let (code, out, err) = run(&["migrate", "--check", dir_arg, "--database-url", db]);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains("is not applied yet"), "{out}");

    let (code, out, err) = run(&["migrate", "--apply", dir_arg, "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("applied 1 migration file(s)"), "{out}");
    let (code, out, err) = run(&["migrate", "--check", dir_arg, "--database-url", db]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&[
        "migrate",
        "--plan",
        "--write",
        dir_arg,
        "--database-url",
        db,
    ]);
    assert_eq!(code, Some(2), "conflicting modes: {out}{err}");
}
