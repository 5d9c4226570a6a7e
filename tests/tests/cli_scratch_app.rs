//! An application of its own, the three steps of the README: `cdms-sync scaffold` writes the
//! entity modules of a team's CDMS sets (read from `$metadata` over HTTP), a scratch crate outside
//! the workspace embeds them with the one-line `main.rs` over `cdms_runtime::cli` and is built
//! with cargo, then its binary runs `emulate --seed` → `migrate` → `load` → `status` →
//! `poll --once`, on SQLite and (with `DATABASE_URL`) PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cdms_runtime::cdms::CdmsKind;
use cdms_runtime::emulator::{Emulator, SetSpec};
use cdms_tests::bulk_support::{cdms_sync_bin, postgres, postgres_url, scratch, sqlite, Spawned};

const MAIN: &str = r#"mod entities;

fn main() -> std::process::ExitCode {
    cdms_runtime::cli::main(entities::entities())
}
"#;

/// The team's CDMS: sites and the regions they belong to (custom `new_*` sets).
fn team_cdms() -> Emulator {
    let region = SetSpec::new("new_region", "new_regionId").property("new_name", CdmsKind::String);
    let site = SetSpec::new("new_site", "new_siteId")
        .property("new_name", CdmsKind::String)
        .property("new_headcount", CdmsKind::Int32)
        .property("new_open", CdmsKind::Boolean)
        .property("new_openedon", CdmsKind::DateTime)
        .property("new_budget", CdmsKind::Money)
        .property("new_kind", CdmsKind::OptionSetValue)
        .property("new_regionid", CdmsKind::EntityReference)
        .lookup("new_regionid", &["new_region"]);
    Emulator::builder()
        .spec(region)
        .spec(site)
        .build()
        .expect("the team's CDMS")
}

/// Step 1: `cdms-sync scaffold` of the team's sets into `<dir>/src/entities`.
async fn scaffold(dir: &Path) -> String {
    let running = team_cdms().serve("127.0.0.1:0").await.expect("serve");
    let out_dir = dir.join("src/entities");
    let mut cmd = Command::new(cdms_sync_bin());
    for var in ["DATABASE_URL", "CDMS_USER", "CDMS_PASSWORD", "CDMS_TOKEN"] {
        cmd.env_remove(var);
    }
    cmd.env("CDMS_URL", running.base_url());
    cmd.args([
        "scaffold",
        "--set",
        "new_regionSet",
        "--set",
        "new_siteSet",
        "--lookup",
        "new_siteSet.new_regionid=new_regionSet",
        "--out",
    ]);
    cmd.arg(&out_dir);
    let mut spawned = Spawned::new(cmd);
    let status = spawned.wait(Duration::from_secs(120)).await;
    assert!(status.success(), "scaffold failed:\n{}", spawned.stderr());
    let site = std::fs::read_to_string(out_dir.join("new_site.rs")).expect("new_site.rs");
    assert!(
        site.contains("#[cdms(field = \"new_regionid\")]")
            && site.contains("Ref<super::new_region::NewRegion>"),
        "the lookup to a scaffolded set is a Ref:\n{site}"
    );
    site
}

/// The table and the lookup column of the scaffolded site entity.
fn site_names(site: &str) -> (String, String) {
    let quoted = |after: &str| {
        let start = site.find(after).expect(after) + after.len();
        site[start..].split('"').next().expect("quoted").to_owned()
    };
    let table = quoted("#[entity(table = \"");
    let lookup = site
        .split("#[cdms(field = \"new_regionid\")]")
        .nth(1)
        .and_then(|rest| rest.trim_start().strip_prefix("pub "))
        .and_then(|rest| rest.split(':').next())
        .expect("the lookup field")
        .to_owned();
    (table, lookup)
}

/// Step 2: the scratch crate embedding the scaffolded modules; returns its binary.
fn build_app(dir: &Path) -> PathBuf {
    scratch::write_manifest(dir, "scratch-sites", "");
    std::fs::write(dir.join("src/main.rs"), MAIN).expect("write main.rs");
    scratch::build(dir, "scratch-sites")
}

fn app(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for var in [
        "DATABASE_URL",
        "CDMS_URL",
        "CDMS_USER",
        "CDMS_PASSWORD",
        "CDMS_TOKEN",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.arg("--progress").arg("log");
    cmd
}

async fn run(bin: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = app(bin);
    cmd.args(args);
    let mut spawned = Spawned::new(cmd);
    let status = spawned.wait(Duration::from_secs(120)).await;
    (status.code(), spawned.stdout(), spawned.stderr())
}

/// Starts `<app> emulate --seed <n>` and returns it with its organisation URL.
async fn emulate(bin: &Path, seed: &str) -> (Spawned, String) {
    let mut cmd = app(bin);
    cmd.args(["emulate", "--listen", "127.0.0.1:0", "--seed", seed]);
    let server = Spawned::new(cmd);
    let started = Instant::now();
    loop {
        if let Some(url) = server
            .stdout()
            .lines()
            .find_map(|l| l.strip_prefix("CDMS emulator: "))
            .and_then(|l| l.split_whitespace().next())
        {
            return (server, url.to_owned());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "emulate did not start:\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_scratch_app_runs_every_command_on_its_own_entities() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (table, lookup) = site_names(&scaffold(dir.path()).await);
    let bin = build_app(dir.path());

    let (code, help, err) = run(&bin, &["--help"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        help.contains("emulate") && help.contains("load") && !help.contains("demo"),
        "{help}"
    );

    let (mut server, cdms) = emulate(&bin, "30").await;
    assert!(
        server.stdout().contains("new_regionSet, new_siteSet"),
        "{}",
        server.stdout()
    );
    let mut locals = vec![sqlite().await];
    if let Some(url) = postgres_url() {
        locals.push(postgres(&url).await);
    }
    for local in &locals {
        let db = local.url.as_str();
        let label = local.label;
        let (code, out, err) = run(&bin, &["migrate", "--database-url", db]).await;
        assert_eq!(code, Some(0), "{label}: {out}{err}");
        let (code, out, err) =
            run(&bin, &["load", "--database-url", db, "--cdms-url", &cdms]).await;
        assert_eq!(code, Some(0), "{label}: {out}{err}");
        assert!(
            out.contains("60 records") && !out.contains("were quarantined"),
            "{label}: every generated record loads:\n{out}"
        );
        let (code, out, err) =
            run(&bin, &["status", "--database-url", db, "--cdms-url", &cdms]).await;
        assert_eq!(code, Some(0), "{label}: {out}{err}");
        assert!(out.contains("in sync"), "{label}: {out}");
        let (code, out, err) = run(
            &bin,
            &[
                "poll",
                "--once",
                "--reconcile-every",
                "0",
                "--database-url",
                db,
                "--cdms-url",
                &cdms,
            ],
        )
        .await;
        assert_eq!(code, Some(0), "{label}: {out}{err}");
        assert!(
            out.contains("Site") && out.contains("ids reconciled"),
            "{label}: {out}"
        );

        // Generated lookups arrive as local references (a no-op update counts the rows).
        let linked = local
            .db
            .execute_raw(
                &format!("UPDATE {table} SET {lookup} = {lookup} WHERE {lookup} IS NOT NULL"),
                &[],
            )
            .await
            .expect("count linked sites");
        assert!(linked > 0, "{label}: no site references a region");
    }

    let pid = server.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let status = server.wait(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", server.stderr());
}
