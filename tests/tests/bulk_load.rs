//! The initial bulk load: exact results under injected faults, resumption after a cancellation
//! and after `kill -9`, and several workers sharing one PostgreSQL database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cdms_entities::Contact;
use cdms_runtime::cdms::bulk::{
    state, EntityProgress, LoadOptions, LoadReport, Loader, Progress, Stop,
};
use cdms_runtime::cdms::Synced;
use cdms_runtime::emulator::{Clock, FaultAction, FaultRule, Latency};
use cdms_runtime::store::Param;
use cdms_runtime::value::{Kind, Value};
use cdms_tests::bulk_support::{
    backends, cdms_sync, compare_all, local_rows, metas, pages_read_twice, partitions, postgres,
    postgres_url, refresh_versions, sqlite, BulkEnv, LocalDb, Spawned,
};

fn quick(options: LoadOptions) -> LoadOptions {
    LoadOptions {
        page_retry_pause: Duration::from_millis(50),
        ..options
    }
}

/// One worker's load of every set in `partitions` partitions, four at a time.
async fn load_alone(env: &BulkEnv, partitions: usize) -> LoadReport {
    let options = quick(LoadOptions {
        partitions,
        concurrency: 4,
        ..LoadOptions::default()
    });
    Loader::new(env.bulk("solo"), options)
        .run(&metas())
        .await
        .expect("load")
}

async fn assert_exact(env: &BulkEnv) {
    if let Err(problems) = compare_all(env.db(), env.emulator()).await {
        panic!(
            "{}: local store differs from CDMS:\n{}",
            env.local.label,
            problems.join("\n")
        );
    }
    let versions = refresh_versions(env.db()).await;
    let total = local_rows(env.db()).await;
    assert_eq!(
        versions.len(),
        total,
        "{}: one object per local row has versions",
        env.local.label
    );
    let twice: Vec<_> = versions.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "{}: records applied more than once: {twice:?}",
        env.local.label
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_with_transient_faults_is_exact() {
    for local in backends().await {
        let env = BulkEnv::new(local, 1_200, Clock::system(), |b| {
            b.fault(
                FaultRule::new(FaultAction::status(500, "Generic SQL error."))
                    .method("GET")
                    .probability(0.12, 7),
            )
            .fault(
                FaultRule::new(FaultAction::Drop)
                    .method("GET")
                    .probability(0.05, 11),
            )
            .fault(
                FaultRule::new(FaultAction::TruncatedBody)
                    .method("GET")
                    .probability(0.03, 13),
            )
        })
        .await;
        assert!(env.seeded.total() > 4_000, "a few thousand records");
        let report = load_alone(&env, 8).await;
        assert!(report.complete(), "{report:?}");
        assert_eq!(report.records(), env.seeded.total() as u64);
        let faults = env
            .emulator()
            .requests()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
        assert!(faults > 10, "{}: faults fired: {faults}", env.local.label);
        assert_exact(&env).await;
        let parts = partitions(env.db()).await;
        for p in &parts {
            assert!(p.done && p.lease_owner.is_none(), "{p:?}");
            assert_eq!(p.claims, 1, "a partition was claimed twice: {p:?}");
        }
        // The checkpoints count what was committed: records, and pages (8 to a commit here).
        let pages: u64 = report.entities.iter().map(|e| e.pages).sum();
        assert_eq!(
            parts.iter().map(|p| p.pages).sum::<i64>(),
            pages as i64,
            "{}: pages in the checkpoints",
            env.local.label
        );
        assert_eq!(
            parts.iter().map(|p| p.records).sum::<i64>(),
            env.seeded.total() as i64,
            "{}: records in the checkpoints",
            env.local.label
        );
        assert_eq!(
            pages_read_twice(&env.emulator().requests()),
            Vec::<String>::new()
        );
        // A second load finds everything done and reads nothing.
        env.emulator().reset_log();
        let again = Loader::new(env.bulk("solo"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("reload");
        assert!(
            again.complete()
                && again.records() == 0
                && again.entities.iter().all(|e| e.already_done)
        );
        assert_eq!(env.emulator().log().len(), 0);
    }
}

/// Fires the stop signal once `entity` has `pages` pages committed in this run.
struct StopAfter {
    entity: &'static str,
    pages: u64,
    stop: Stop,
    fired: AtomicBool,
}

impl Progress for StopAfter {
    fn advance(&self, p: &EntityProgress) {
        if p.entity == self.entity
            && p.pages >= self.pages
            && !self.fired.swap(true, Ordering::SeqCst)
        {
            self.stop.stop();
        }
    }
}

/// Once `Contact` has two pages committed, takes the lease of one of its running partitions
/// for `thief` (for two seconds), and reads that partition again when the load notes the
/// takeover.
struct Thief {
    db: cdms_runtime::store::Db,
    fired: AtomicBool,
    /// The id of the partition stolen, and the partition as stolen.
    stolen_id: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
    stolen: std::sync::Arc<std::sync::Mutex<Option<state::Partition>>>,
    /// The same partition when the takeover was noted.
    noticed: std::sync::Arc<std::sync::Mutex<Option<state::Partition>>>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Thief {
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::runtime::Handle::current().spawn(task);
        self.tasks.lock().expect("tasks").push(handle);
    }
}

async fn contact_partition(db: &cdms_runtime::store::Db, id: i64) -> state::Partition {
    state::partitions(db, Contact::CDMS.set)
        .await
        .expect("partitions")
        .into_iter()
        .find(|p| p.id == id)
        .expect("the partition")
}

impl Progress for Thief {
    fn advance(&self, p: &EntityProgress) {
        if p.entity != "Contact" || p.pages < 2 || self.fired.swap(true, Ordering::SeqCst) {
            return;
        }
        let (db, stolen) = (self.db.clone(), std::sync::Arc::clone(&self.stolen));
        let stolen_id = std::sync::Arc::clone(&self.stolen_id);
        self.spawn(async move {
            let parts = state::partitions(&db, Contact::CDMS.set)
                .await
                .expect("partitions");
            for part in parts {
                if part.done || part.position.is_none() {
                    continue;
                }
                let until = chrono::Utc::now() + chrono::Duration::seconds(2);
                let taken = db
                    .execute_raw(
                        &format!(
                            "UPDATE cdms_sync_checkpoint SET lease_owner = {}, lease_until = {} \
                             WHERE id = {} AND done = {} AND lease_owner = {}",
                            placeholder(&db, 1),
                            placeholder(&db, 2),
                            placeholder(&db, 3),
                            placeholder(&db, 4),
                            placeholder(&db, 5)
                        ),
                        &[
                            Param::new(Value::Text("thief".into()), Kind::Text),
                            Param::new(Value::DateTime(until), Kind::DateTime),
                            Param::new(Value::Int(part.id), Kind::Int64),
                            Param::new(Value::Bool(false), Kind::Bool),
                            Param::new(Value::Text("solo".into()), Kind::Text),
                        ],
                    )
                    .await
                    .expect("steal");
                if taken == 1 {
                    *stolen_id.lock().expect("stolen id") = Some(part.id);
                    *stolen.lock().expect("stolen") = Some(contact_partition(&db, part.id).await);
                    return;
                }
            }
        });
    }

    fn note(&self, entity: &'static str, message: &str) {
        if entity != "Contact" || !message.contains("lease was taken over") {
            return;
        }
        let (db, stolen_id) = (self.db.clone(), std::sync::Arc::clone(&self.stolen_id));
        let noticed = std::sync::Arc::clone(&self.noticed);
        self.spawn(async move {
            // The takeover may be noted before the thief has written down what it took.
            for _ in 0..500 {
                let id = *stolen_id.lock().expect("stolen id");
                if let Some(id) = id {
                    *noticed.lock().expect("noticed") = Some(contact_partition(&db, id).await);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
}

fn placeholder(db: &cdms_runtime::store::Db, n: usize) -> String {
    match db.backend() {
        cdms_runtime::store::Backend::Sqlite => "?".to_owned(),
        cdms_runtime::store::Backend::Postgres => format!("${n}"),
    }
}

/// A partition whose lease another worker takes over mid-load gets no batch applied after
/// that (on SQLite its batches are committed in transactions shared with the other
/// partitions'): the loader notes the takeover, leaves the partition as the other worker holds
/// it, takes it back once that lease expires, and the load ends exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_taken_over_midway_gets_nothing_more_applied() {
    for local in backends().await {
        let env = BulkEnv::new(local, 1_200, Clock::system(), |b| {
            b.latency(Latency::Fixed(Duration::from_millis(10)))
        })
        .await;
        let label = env.local.label;
        let thief = std::sync::Arc::new(Thief {
            db: env.db().clone(),
            fired: AtomicBool::new(false),
            stolen_id: Default::default(),
            stolen: Default::default(),
            noticed: Default::default(),
            tasks: Default::default(),
        });
        let options = quick(LoadOptions {
            partitions: 4,
            concurrency: 4,
            pages_per_commit: 1,
            ..LoadOptions::default()
        });
        let report = Loader::new(env.bulk("solo").progress(thief.clone()), options)
            .run(&metas())
            .await
            .expect("load");
        let tasks: Vec<_> = thief.tasks.lock().expect("tasks").drain(..).collect();
        for task in tasks {
            task.await.expect("thief task");
        }
        assert!(report.complete(), "{label}: {report:?}");
        let stolen = thief.stolen.lock().expect("stolen").clone();
        let stolen = stolen.unwrap_or_else(|| panic!("{label}: no running partition to steal"));
        let noticed = thief.noticed.lock().expect("noticed").clone();
        let noticed = noticed.unwrap_or_else(|| panic!("{label}: the takeover was not noted"));
        assert_eq!(
            (
                &noticed.position,
                noticed.records,
                noticed.lease_owner.as_deref()
            ),
            (&stolen.position, stolen.records, Some("thief")),
            "{label}: nothing applied to the partition after the takeover"
        );
        let after = contact_partition(env.db(), stolen.id).await;
        assert!(
            after.done && after.claims > stolen.claims,
            "{label}: taken back and finished: {after:?}"
        );
        assert_exact(&env).await;
    }
}

/// Records are created faster as the years go by, so equal `CreatedOn` windows hold very
/// unequal numbers of them: a window holding more than 2,500 is cut in two (one `$skip` probe
/// each) until none does, and the load is exact all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dense_windows_are_cut_before_the_load() {
    for local in backends().await {
        let env = BulkEnv::new(local, 2_400, Clock::system(), |b| b).await;
        let label = env.local.label;
        let report = load_alone(&env, 2).await;
        assert!(report.complete(), "{label}: {report:?}");
        assert_exact(&env).await;
        let parts = state::partitions(env.db(), Contact::CDMS.set)
            .await
            .expect("partitions");
        let sizes: Vec<i64> = parts.iter().map(|p| p.records).collect();
        assert_eq!(
            sizes.iter().sum::<i64>(),
            env.seeded.contacts as i64,
            "{label}: {sizes:?}"
        );
        // Two windows asked for (and the one of records without a CreatedOn): the later,
        // denser one was cut.
        assert!(parts.len() > 3, "{label}: {sizes:?}");
        assert!(sizes.iter().all(|&n| n <= 2_500), "{label}: {sizes:?}");
        assert_eq!(
            pages_read_twice(&env.emulator().requests()),
            Vec::<String>::new()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_load_resumes_exactly() {
    for local in backends().await {
        let env = BulkEnv::new(local, 600, Clock::system(), |b| b).await;
        let stop = Stop::new();
        let hook = std::sync::Arc::new(StopAfter {
            entity: "Contact",
            pages: 4,
            stop: stop.clone(),
            fired: AtomicBool::new(false),
        });
        // One task, pages committed one by one: the stop lands inside the first contact
        // partition (about ten pages long).
        let options = LoadOptions {
            partitions: 3,
            concurrency: 1,
            pages_per_commit: 1,
            ..LoadOptions::default()
        };
        let first = Loader::new(env.bulk("first").progress(hook).stop(stop), options.clone())
            .run(&metas())
            .await
            .expect("first run");
        assert!(first.stopped && !first.complete(), "{first:?}");
        let contacts = first
            .entities
            .iter()
            .find(|e| e.entity == "Contact")
            .expect("contacts started");
        assert!(
            contacts.records > 0 && contacts.records < env.seeded.contacts as u64,
            "{contacts:?}"
        );
        let parts = state::partitions(env.db(), Contact::CDMS.set)
            .await
            .expect("partitions");
        assert!(
            parts.iter().any(|p| !p.done && p.position.is_some()),
            "a partition stopped midway: {parts:?}"
        );
        assert!(
            parts.iter().all(|p| p.lease_owner.is_none()),
            "leases released on stop: {parts:?}"
        );
        let second = Loader::new(env.bulk("second"), options)
            .run(&metas())
            .await
            .expect("second run");
        assert!(second.complete(), "{second:?}");
        assert_eq!(
            first.records() + second.records(),
            env.seeded.total() as u64,
            "each record applied once"
        );
        assert_exact(&env).await;
        // Every page fetched in the first run was committed, so no page was read twice.
        assert_eq!(
            pages_read_twice(&env.emulator().requests()),
            Vec::<String>::new()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_budget_stops_and_resumes() {
    let env = BulkEnv::new(sqlite().await, 300, Clock::system(), |b| b).await;
    let mut runs = 0;
    let mut total = 0;
    loop {
        runs += 1;
        let options = LoadOptions {
            max_pages: Some(3),
            concurrency: 2,
            pages_per_commit: 1,
            ..LoadOptions::default()
        };
        let report = Loader::new(env.bulk(&format!("run{runs}")), options)
            .run(&metas())
            .await
            .expect("load");
        total += report.records();
        if report.complete() {
            break;
        }
        assert!(runs < 100, "the load does not progress");
    }
    assert!(runs > 3, "the budget split the load ({runs} runs)");
    assert_eq!(total, env.seeded.total() as u64);
    assert_exact(&env).await;
}

fn load_command(
    env: &BulkEnv,
    worker: &str,
    partitions: usize,
    lease_secs: u64,
) -> std::process::Command {
    let mut cmd = cdms_sync();
    cmd.args([
        "load",
        "--database-url",
        &env.database_url(),
        "--cdms-url",
        &env.emu.base_url(),
    ]);
    cmd.args([
        "--worker-id",
        worker,
        "--concurrency",
        "2",
        "--pages-per-commit",
        "1",
    ]);
    cmd.arg("--partitions").arg(partitions.to_string());
    cmd.arg("--lease-secs").arg(lease_secs.to_string());
    cmd
}

async fn kill_midway_then_resume(local: LocalDb) {
    let env = BulkEnv::new(local, 600, Clock::system(), |b| {
        b.latency(Latency::Fixed(Duration::from_millis(25)))
    })
    .await;
    let mut doomed = Spawned::new(load_command(&env, "doomed", 6, 2));
    // Wait until contacts are partly committed, then kill -9.
    let started = Instant::now();
    loop {
        let parts = state::partitions(env.db(), Contact::CDMS.set)
            .await
            .unwrap_or_default();
        if parts.iter().map(|p| p.pages).sum::<i64>() >= 4 {
            break;
        }
        if let Some(status) = doomed.child.try_wait().expect("wait") {
            panic!(
                "{}: the load ended before it could be killed: {status}\n{}",
                env.local.label,
                doomed.stderr()
            );
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.child.kill().expect("kill -9");
    let _ = doomed.wait(Duration::from_secs(10)).await;
    let parts = state::partitions(env.db(), Contact::CDMS.set)
        .await
        .expect("partitions");
    let orphaned: Vec<i64> = parts
        .iter()
        .filter(|p| !p.done && p.lease_owner.as_deref() == Some("doomed"))
        .map(|p| p.id)
        .collect();
    assert!(
        !orphaned.is_empty(),
        "{}: the killed worker held leases: {parts:?}",
        env.local.label
    );
    assert!(
        local_rows(env.db()).await < env.seeded.total(),
        "killed midway"
    );

    let mut rerun = Spawned::new(load_command(&env, "survivor", 6, 2));
    let status = rerun.wait(Duration::from_secs(180)).await;
    assert!(
        status.success(),
        "{}: the resumed load failed: {status}\n{}",
        env.local.label,
        rerun.stderr()
    );
    let parts = state::partitions(env.db(), Contact::CDMS.set)
        .await
        .expect("partitions");
    for p in parts.iter().filter(|p| orphaned.contains(&p.id)) {
        assert!(
            p.done && p.claims >= 2,
            "taken over after the lease expired: {p:?}"
        );
    }
    assert_exact(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_load_resumes_exactly_sqlite() {
    kill_midway_then_resume(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_load_resumes_exactly_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("DATABASE_URL is not set: skipping the PostgreSQL kill test");
        return;
    };
    kill_midway_then_resume(postgres(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_postgres_load_exactly_once() {
    let Some(url) = postgres_url() else {
        eprintln!("DATABASE_URL is not set: skipping the three-worker test");
        return;
    };
    let env = BulkEnv::new(postgres(&url).await, 900, Clock::system(), |b| {
        b.latency(Latency::Jitter {
            min: Duration::from_millis(2),
            max: Duration::from_millis(10),
        })
    })
    .await;
    let mut workers: Vec<Spawned> = (1..=3)
        .map(|i| Spawned::new(load_command(&env, &format!("worker{i}"), 12, 30)))
        .collect();
    let mut claimed = std::collections::HashMap::<String, u64>::new();
    for worker in workers.iter_mut() {
        let status = worker.wait(Duration::from_secs(240)).await;
        let out = worker.stdout();
        assert!(
            status.success(),
            "a worker failed: {status}\n{out}\n{}",
            worker.stderr()
        );
        // Lines: `<entity> <records> <pages> <claimed>/<partitions> <seconds> <rate>`.
        for line in out.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if let (Some(entity), Some(claim)) = (cols.first(), cols.get(3)) {
                if let Some((c, _)) = claim.split_once('/') {
                    if let Ok(c) = c.parse::<u64>() {
                        *claimed.entry((*entity).to_owned()).or_default() += c;
                    }
                }
            }
        }
    }
    let parts = partitions(env.db()).await;
    for p in &parts {
        assert!(p.done, "{p:?}");
        assert_eq!(p.claims, 1, "claimed twice: {p:?}");
    }
    for meta in metas() {
        let n = parts.iter().filter(|p| p.entity == meta.set).count() as u64;
        assert_eq!(
            claimed.get(meta.entity.name).copied().unwrap_or(0),
            n,
            "{}: claims across workers",
            meta.entity.name
        );
    }
    assert_eq!(
        pages_read_twice(&env.emulator().requests()),
        Vec::<String>::new()
    );
    assert_exact(&env).await;
}
