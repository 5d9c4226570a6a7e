//! Shared pieces of the `bulk_*` and `cli_*` tests: the demo data set served by an emulator, a
//! local database per backend, bulk engines wired to both, an exact comparison of every record
//! on both sides, request-log checks, and the `cdms-sync` binary.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cdms_entities::demo_data::{self, DemoScale, Seeded};
use cdms_runtime::cdms::bulk::{state, Bulk, Partition};
use cdms_runtime::cdms::{codec, CdmsClient, CdmsMeta, CdmsRemote, RetryPolicy, SyncConfig};
use cdms_runtime::emulator::{Clock, Emulator, EmulatorBuilder, RequestRecord, RunningEmulator};
use cdms_runtime::store::history::HISTORY;
use cdms_runtime::store::{normalize, rows, truncate_micros, ReadSpec};
use cdms_runtime::{Db, Row, Value};
use serde_json::Value as J;
use uuid::Uuid;

/// A fresh local database whose URL is known (the command line connects to it too).
pub struct LocalDb {
    /// The handle.
    pub db: Db,
    /// Its URL.
    pub url: String,
    /// `"sqlite"` or `"postgres"`.
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    admin: Option<(String, String)>,
}

impl Drop for LocalDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.admin.take() {
            crate::db::drop_database(admin_url, name);
        }
    }
}

/// A fresh SQLite file in a temporary directory.
pub async fn sqlite() -> LocalDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("local.sqlite").display()
    );
    let db = Db::connect(&url).await.expect("open sqlite");
    LocalDb {
        db,
        url,
        label: "sqlite",
        _dir: Some(dir),
        admin: None,
    }
}

/// The PostgreSQL server of `DATABASE_URL`, if the variable is set.
pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A fresh, uniquely named database on the PostgreSQL server of `admin_url`.
pub async fn postgres(admin_url: &str) -> LocalDb {
    let admin = Db::connect(admin_url)
        .await
        .expect("connect to DATABASE_URL");
    let name = format!(
        "cdms_bulk_{}_{}",
        std::process::id(),
        Uuid::new_v4().simple()
    );
    admin
        .execute_raw(&format!("CREATE DATABASE \"{name}\""), &[])
        .await
        .expect("CREATE DATABASE");
    admin.close().await;
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let url = format!("{server}/{name}{query}");
    let db = Db::connect(&url)
        .await
        .expect("connect to the test database");
    LocalDb {
        db,
        url,
        label: "postgres",
        _dir: None,
        admin: Some((admin_url.to_owned(), name)),
    }
}

/// SQLite, plus PostgreSQL when `DATABASE_URL` is set.
pub async fn backends() -> Vec<LocalDb> {
    let mut out = vec![sqlite().await];
    if let Some(url) = postgres_url() {
        out.push(postgres(&url).await);
    }
    out
}

/// Every synced entity of the example crate, in reference order.
pub fn metas() -> Vec<&'static CdmsMeta> {
    cdms_entities::all_entities()
        .iter()
        .filter_map(|m| CdmsMeta::of(m))
        .collect()
}

/// A client of `emu` with quick retries (so injected transient faults are retried fast).
pub fn client(emu: &RunningEmulator) -> CdmsClient {
    let retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(10),
    };
    CdmsClient::builder(emu.base_url())
        .retry(retry)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A served emulator with the demo data set, a migrated local database and a sync remote.
pub struct BulkEnv {
    /// The local database.
    pub local: LocalDb,
    /// The served emulator.
    pub emu: RunningEmulator,
    /// The emulator's clock.
    pub clock: Clock,
    /// The remote (with [`client`]).
    pub remote: Arc<CdmsRemote>,
    /// What was seeded.
    pub seeded: Seeded,
}

impl std::fmt::Debug for BulkEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.local.label)
    }
}

impl BulkEnv {
    /// `organisations` demo organisations (and their contacts and the lookups) on `local`, the
    /// emulator on `clock` and customised by `customize`.
    pub async fn new(
        local: LocalDb,
        organisations: usize,
        clock: Clock,
        customize: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
    ) -> BulkEnv {
        local
            .db
            .migrate(cdms_entities::all_entities())
            .await
            .expect("migrate");
        let emulator = customize(demo_data::emulator_builder().clock(clock.clone()))
            .build()
            .expect("emulator");
        let seeded =
            demo_data::seed(&emulator, DemoScale::organisations(organisations)).expect("seed");
        let emu = emulator.serve("127.0.0.1:0").await.expect("serve");
        let remote = Arc::new(CdmsRemote::new(client(&emu), SyncConfig::default()));
        BulkEnv {
            local,
            emu,
            clock,
            remote,
            seeded,
        }
    }

    /// The emulator.
    pub fn emulator(&self) -> &Emulator {
        self.emu.emulator()
    }

    /// The local database.
    pub fn db(&self) -> &Db {
        &self.local.db
    }

    /// Bulk engines on this environment, as worker `worker`.
    pub fn bulk(&self, worker: &str) -> Bulk {
        Bulk::new(&self.local.db.as_actor(worker), self.remote.clone()).worker(worker)
    }

    /// The database URL of the local database (for the command line).
    pub fn database_url(&self) -> String {
        self.local.url.clone()
    }
}

/// Every partition of every set.
pub async fn partitions(db: &Db) -> Vec<Partition> {
    let mut out = Vec::new();
    for meta in metas() {
        out.extend(state::partitions(db, meta.set).await.expect("partitions"));
    }
    out
}

fn is_list_get(r: &RequestRecord) -> bool {
    r.method == "GET" && r.set.is_some() && !r.path.contains("(guid")
}

/// Data pages (list GETs carrying `$orderby=CreatedOn`, or resumed with a skip token) that were
/// answered 200 more than once without an injected fault: a page read twice.
pub fn pages_read_twice(requests: &[RequestRecord]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in requests
        .iter()
        .filter(|r| is_list_get(r) && r.status == Some(200) && r.fault.is_none())
    {
        let q = &r.query;
        let load_page =
            q.contains("CreatedOn%20asc") || q.contains("$skiptoken") || q.contains("%24skiptoken");
        if load_page {
            *seen.entry(format!("{}?{}", r.path, r.query)).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("{n}× {k}"))
        .collect()
}

fn uuid_of(v: &Value) -> Option<Uuid> {
    match v {
        Value::Uuid(u) => Some(*u),
        _ => None,
    }
}

/// Compares every CDMS record of every set with its local row (and the row counts): `Ok` when
/// both sides hold exactly the same data, otherwise the first differences.
pub async fn compare_all(db: &Db, emu: &Emulator) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    // CDMS id of every local row, per table (to compare lookups).
    let mut ids: HashMap<&'static str, HashMap<i64, Option<Uuid>>> = HashMap::new();
    let mut all_rows: HashMap<&'static str, Vec<Row>> = HashMap::new();
    for meta in metas() {
        let rows = rows::select(db, meta.entity, &ReadSpec::all(meta.entity))
            .await
            .expect("select");
        let map = rows
            .iter()
            .filter_map(|r| match r.get(meta.entity.pk) {
                Some(Value::Int(pk)) => Some((*pk, r.get(meta.id_field).and_then(uuid_of))),
                _ => None,
            })
            .collect();
        ids.insert(meta.entity.table, map);
        all_rows.insert(meta.entity.table, rows);
    }
    for meta in metas() {
        let entity = meta.entity;
        let local = &all_rows[entity.table];
        let by_id: HashMap<Uuid, &Row> = local
            .iter()
            .filter_map(|r| r.get(meta.id_field).and_then(uuid_of).map(|id| (id, r)))
            .collect();
        let remote_ids = emu.ids(meta.set);
        if remote_ids.len() != local.len() {
            problems.push(format!(
                "{}: {} in CDMS, {} local rows",
                meta.set,
                remote_ids.len(),
                local.len()
            ));
        }
        for id in remote_ids {
            let Some(record) = emu.get(meta.set, id) else {
                continue;
            };
            let decoded = match codec::decode(meta, &J::Object(record)) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("{} {id}: {e}", meta.set));
                    continue;
                }
            };
            let Some(row) = by_id.get(&id) else {
                problems.push(format!("{} {id}: missing locally", meta.set));
                continue;
            };
            if let Some(m) = entity.modified {
                if row.get(m) != Some(&Value::DateTime(truncate_micros(decoded.modified))) {
                    problems.push(format!(
                        "{} {id}: modified {:?} locally, {} in CDMS",
                        meta.set,
                        row.get(m),
                        decoded.modified
                    ));
                }
            }
            for (field, value) in &decoded.values {
                let local_value = row.get(*field).cloned().unwrap_or(Value::Null);
                let target = entity
                    .fields
                    .get(*field)
                    .and_then(|f| f.references)
                    .map(|t| t().table);
                let same = match (target, &local_value) {
                    (Some(table), Value::Int(pk)) => {
                        ids.get(table).and_then(|m| m.get(pk)).copied().flatten() == uuid_of(value)
                    }
                    (Some(_), Value::Null) => value.is_null(),
                    _ => normalize(value.clone()) == local_value,
                };
                if !same {
                    let name = entity.fields.get(*field).map_or("?", |f| f.name);
                    problems.push(format!(
                        "{} {id}: {name} is {local_value} locally, {value} in CDMS",
                        meta.set
                    ));
                }
            }
            if problems.len() > 20 {
                return Err(problems);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Panics with the first differences unless both stores hold exactly the same data.
pub async fn assert_exact(env: &BulkEnv) {
    if let Err(problems) = compare_all(env.db(), env.emulator()).await {
        panic!(
            "{}: local store differs from CDMS:\n{}",
            env.local.label,
            problems.join("\n")
        );
    }
}

/// The local organisation with CDMS id `id` (read locally, through the handle's remote if any).
pub async fn local_org(env: &BulkEnv, id: Uuid) -> cdms_entities::Organisation {
    let f = cdms_entities::Organisation::fields();
    cdms_entities::Organisation::objects(env.db())
        .filter(f.cdms_id.eq(id))
        .get()
        .await
        .expect("organisation")
}

/// How many `remote refresh` versions each object of the example entities has, keyed by
/// `(table, local pk)`.
pub async fn refresh_versions(db: &Db) -> HashMap<(String, i64), usize> {
    let rows = rows::select(db, &HISTORY, &ReadSpec::all(&HISTORY))
        .await
        .expect("history");
    let mut out: HashMap<(String, i64), usize> = HashMap::new();
    for r in rows {
        if let (Some(Value::Text(table)), Some(Value::Int(pk)), Some(Value::Text(kind))) =
            (r.get(1), r.get(2), r.get(4))
        {
            if kind == "remote refresh" {
                *out.entry((table.clone(), *pk)).or_default() += 1;
            }
        }
    }
    out
}

/// Local rows of all example entities.
pub async fn local_rows(db: &Db) -> usize {
    let mut n = 0;
    for meta in metas() {
        n += rows::count(db, meta.entity, &ReadSpec::all(meta.entity))
            .await
            .expect("count") as usize;
    }
    n
}

/// The `cdms-sync` binary, built (once per test process) with the same profile as the tests.
pub fn cdms_sync_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("CDMS_SYNC_BIN") {
            return PathBuf::from(path);
        }
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target dir")
            .to_path_buf();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "cdms-entities",
            "--bin",
            "cdms-sync",
        ]);
        if release {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build of cdms-sync failed");
        profile_dir.join(format!("cdms-sync{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// A `cargo` command (the one running the tests) without the variables cargo set for this test
/// (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, ...): build scripts that rerun when those change
/// (ring's does) would otherwise rebuild half the dependency tree on every test run, and again
/// on the next workspace build.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        let set_for_tests = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_BIN_",
            "CARGO_CRATE_NAME",
            "CARGO_TARGET_TMPDIR",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ];
        if set_for_tests.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(&var);
        }
    }
    cmd
}

/// A `cdms-sync` command with plain log output and no inherited configuration.
pub fn cdms_sync() -> Command {
    let mut cmd = Command::new(cdms_sync_bin());
    for var in [
        "DATABASE_URL",
        "CDMS_URL",
        "CDMS_USER",
        "CDMS_PASSWORD",
        "CDMS_TOKEN",
        "CDMS_LOGIN_PATH",
        "CDMS_SYNC_WORKER",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.arg("--progress").arg("log");
    cmd
}

/// A spawned command whose output goes to temporary files (a pipe nobody reads could fill up
/// and stall it).
pub struct Spawned {
    /// The process.
    pub child: std::process::Child,
    out: tempfile::NamedTempFile,
    err: tempfile::NamedTempFile,
}

impl Spawned {
    /// Spawns `cmd` with stdout and stderr captured to files.
    pub fn new(mut cmd: Command) -> Spawned {
        let out = tempfile::NamedTempFile::new().expect("temporary file");
        let err = tempfile::NamedTempFile::new().expect("temporary file");
        cmd.stdout(out.reopen().expect("reopen"))
            .stderr(err.reopen().expect("reopen"));
        let child = cmd.spawn().expect("spawn cdms-sync");
        Spawned { child, out, err }
    }

    /// Waits (polling, without blocking the async runtime) until the process ends.
    pub async fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "cdms-sync did not finish within {limit:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.out.path()).unwrap_or_default()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.err.path()).unwrap_or_default()
    }
}

/// An application crate outside the workspace, built against this workspace's runtime with the
/// workspace's features, profile, lock file and target directory, so that the workspace's
/// compiled dependencies are reused and the build takes seconds.
pub mod scratch {
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    /// The workspace root (the parent of the `tests` crate).
    pub fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }

    /// The target directory the running test was built in (`<target>/<profile>/deps/<test>`).
    pub fn target_dir() -> PathBuf {
        let exe = std::env::current_exe().expect("current exe");
        exe.ancestors().nth(3).expect("target dir").to_path_buf()
    }

    /// Writes `Cargo.toml` (package `name`, the runtime with features `cli`, `emulator` and
    /// `scaffold` as the workspace unifies them, chrono, uuid, rust_decimal, then `extra_deps`
    /// lines) and the workspace's `Cargo.lock` into `dir`.
    pub fn write_manifest(dir: &Path, name: &str, extra_deps: &str) {
        let root = workspace();
        let runtime = root.join("runtime").display().to_string();
        let manifest = format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
cdms-runtime = {{ path = {runtime:?}, default-features = false, features = ["cli", "emulator", "scaffold"] }}
chrono = {{ version = "0.4", default-features = false, features = ["std", "clock", "serde"] }}
uuid = {{ version = "1", features = ["v4", "serde"] }}
rust_decimal = {{ version = "1", default-features = false, features = ["std", "serde-str"] }}
{extra_deps}

# The workspace's dev profile, with the runtime and its derive crates built as the workspace
# builds its members, so that their artifacts are shared with the workspace build.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
opt-level = 1

[profile.dev.package.cdms-runtime]
debug = "line-tables-only"
opt-level = 0

[profile.dev.package.cdms-macros]
debug = "line-tables-only"
opt-level = 0

[profile.dev.package.cdms-codegen]
debug = "line-tables-only"
opt-level = 0
"#
        );
        std::fs::create_dir_all(dir.join("src")).expect("mkdir src");
        std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
    }

    /// Builds the crate in `dir` (offline) and returns its binary `name`. Warnings fail the
    /// build: generated code must compile clean.
    pub fn build(dir: &Path, name: &str) -> PathBuf {
        let target = target_dir();
        let started = Instant::now();
        let out = super::cargo()
            .args(["build", "--offline", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("run cargo build");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} does not build:\n{stderr}");
        assert!(
            !stderr.contains("warning"),
            "{name} builds with warnings:\n{stderr}"
        );
        eprintln!(
            "{name} built in {:.1} s (target dir {})",
            started.elapsed().as_secs_f64(),
            target.display()
        );
        target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }
}
