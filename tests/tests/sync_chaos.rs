//! Chaos: several tasks create, update, delete, get and list organisations through the sync
//! layer while "people in CDMS" edit and delete records, and the emulator injects faults at a
//! set rate (5xx, dropped connections, truncated and malformed bodies, 401, the HTML sign-in
//! page, apply-then-drop). Seeded and bounded; the seed is printed, and `CHAOS_SEED`,
//! `CHAOS_OPS` (operations per task) and `CHAOS_FAULT_RATE` change the run.
//!
//! Invariants, checked after every operation and at the end:
//! - a reported success is in both stores and they agree on what was written;
//! - a reported failure left the local store exactly as before (the object's row and history);
//! - every successful write has its history version;
//! - after faults stop and a final load and poll, every record is identical in both stores;
//! - no panic, no hung task (the whole run is bounded in time).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cdms_entities::Organisation;
use cdms_runtime::cdms::bulk::{LoadOptions, Loader, PollOptions, Poller};
use cdms_runtime::emulator::{Clock, FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::{history, rows};
use cdms_runtime::{Db, Entity, Row};
use cdms_tests::bulk_support::{backends, compare_all, metas, BulkEnv};
use serde_json::json;
use uuid::Uuid;

const TASKS: usize = 3;

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift64*), one per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Records deleted by "people in CDMS" (a success may legitimately vanish afterwards).
type Gone = Arc<Mutex<HashSet<Uuid>>>;
/// Records the tasks created (the only ones people delete: nothing else refers to them).
type Created = Arc<Mutex<Vec<Uuid>>>;

#[derive(Default, Debug)]
struct Tally {
    ops: usize,
    failures: usize,
    violations: Vec<String>,
}

async fn local_row(db: &Db, pk: i64) -> Option<Row> {
    rows::get(db, Organisation::META, pk)
        .await
        .expect("local read")
}

async fn versions(db: &Db, pk: i64) -> usize {
    history::versions(db, Organisation::META, pk)
        .await
        .expect("versions")
        .len()
}

fn name_in_cdms(env: &BulkEnv, id: Uuid) -> Option<String> {
    env.emulator()
        .get("AccountSet", id)
        .and_then(|r| r.get("Name").and_then(|v| v.as_str()).map(str::to_owned))
}

async fn task(
    env: Arc<BulkEnv>,
    db: Db,
    me: usize,
    seed: u64,
    ops: usize,
    gone: Gone,
    created_ids: Created,
) -> Tally {
    let mut rng = Rng::new(seed ^ (me as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut mine: Vec<Organisation> = Vec::new();
    let mut tally = Tally::default();
    let local = db.skip_cdms();
    for n in 0..ops {
        tally.ops += 1;
        let what = if mine.is_empty() { 0 } else { rng.below(10) };
        match what {
            // create
            0..=2 => {
                let name = format!("t{me}-{n}");
                let mut org = cdms_tests::sync_support::new_org(&name);
                org.telephone = Some(format!("{me}"));
                match Organisation::objects(&db).create(org).await {
                    Ok(created) => {
                        let id = created.cdms_id.expect("a created object has a CDMS id");
                        if name_in_cdms(&env, id).as_deref() != Some(name.as_str())
                            && !gone.lock().unwrap().contains(&id)
                        {
                            tally.violations.push(format!("create {name}: not in CDMS"));
                        }
                        if local_row(&local, created.id).await.is_none() {
                            tally.violations.push(format!("create {name}: not local"));
                        }
                        if versions(&local, created.id).await == 0 {
                            tally.violations.push(format!("create {name}: no version"));
                        }
                        created_ids.lock().unwrap().push(id);
                        mine.push(created);
                    }
                    Err(_) => {
                        tally.failures += 1;
                        let f = Organisation::fields();
                        let found = Organisation::objects(&local)
                            .filter(f.name.eq(name.clone()))
                            .count()
                            .await
                            .unwrap();
                        if found != 0 {
                            tally
                                .violations
                                .push(format!("failed create {name} left a local row"));
                        }
                    }
                }
            }
            // update
            3..=5 => {
                let i = rng.below(mine.len());
                let mut obj = mine[i].clone();
                let before = local_row(&local, obj.id).await;
                let versions_before = versions(&local, obj.id).await;
                let name = format!("t{me}-{n}-u");
                obj.name = name.clone();
                match obj.save(&db).await {
                    Ok(()) => {
                        let id = obj.cdms_id.expect("synced");
                        let in_cdms = name_in_cdms(&env, id);
                        if in_cdms.as_deref() != Some(name.as_str())
                            && !gone.lock().unwrap().contains(&id)
                        {
                            tally
                                .violations
                                .push(format!("update {name}: CDMS has {in_cdms:?}"));
                        }
                        let row = local_row(&local, obj.id).await;
                        let local_name = row
                            .as_ref()
                            .map(|r| r[Organisation::fields().name.index()].clone());
                        if local_name != Some(cdms_runtime::Value::Text(name.clone())) {
                            tally
                                .violations
                                .push(format!("update {name}: local has {local_name:?}"));
                        }
                        if versions(&local, obj.id).await <= versions_before {
                            tally.violations.push(format!("update {name}: no version"));
                        }
                        mine[i] = obj;
                    }
                    Err(e) => {
                        tally.failures += 1;
                        if local_row(&local, obj.id).await != before
                            || versions(&local, obj.id).await != versions_before
                        {
                            tally.violations.push(format!(
                                "failed update {name} ({e}) changed the local store"
                            ));
                        }
                        // Read it again (as an application would after an error).
                        if let Ok(fresh) = Organisation::objects(&db)
                            .filter(Organisation::fields().id.eq(obj.id))
                            .get()
                            .await
                        {
                            mine[i] = fresh;
                        }
                    }
                }
            }
            // delete
            6 => {
                let i = rng.below(mine.len());
                let mut obj = mine[i].clone();
                let before = local_row(&local, obj.id).await;
                let pk = obj.id;
                match obj.delete(&db).await {
                    Ok(()) => {
                        if local_row(&local, pk).await.is_some() {
                            tally.violations.push(format!("delete {pk}: still local"));
                        }
                        if let Some(id) = mine[i].cdms_id {
                            if env.emulator().get("AccountSet", id).is_some() {
                                tally.violations.push(format!("delete {pk}: still in CDMS"));
                            }
                        }
                        mine.remove(i);
                    }
                    Err(e) => {
                        tally.failures += 1;
                        if local_row(&local, pk).await != before {
                            tally
                                .violations
                                .push(format!("failed delete {pk} ({e}) changed the local row"));
                        }
                    }
                }
            }
            // get
            7 | 8 => {
                let i = rng.below(mine.len());
                let pk = mine[i].id;
                match Organisation::objects(&db)
                    .filter(Organisation::fields().id.eq(pk))
                    .get()
                    .await
                {
                    Ok(fresh) => mine[i] = fresh,
                    Err(e) if e.is_not_found() => {
                        mine.remove(i);
                    }
                    Err(_) => tally.failures += 1,
                }
            }
            // list
            _ => {
                let f = Organisation::fields();
                if Organisation::objects(&db)
                    .filter(f.name.startswith(format!("t{me}-")))
                    .all()
                    .await
                    .is_err()
                {
                    tally.failures += 1;
                }
            }
        }
    }
    tally
}

/// "People in CDMS": edit telephone numbers of any organisation and delete a few of the ones
/// the tasks created, directly.
async fn people(env: Arc<BulkEnv>, seed: u64, edits: usize, gone: Gone, created: Created) {
    let mut rng = Rng::new(seed ^ 0xC0FF_EE00);
    for _ in 0..edits {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let ids = env.emulator().ids("AccountSet");
        if ids.is_empty() {
            continue;
        }
        let id = ids[rng.below(ids.len())];
        if rng.below(8) == 0 {
            let victim = {
                let c = created.lock().unwrap();
                (!c.is_empty()).then(|| c[rng.below(c.len())])
            };
            if let Some(victim) = victim {
                if env.emulator().delete("AccountSet", victim).is_ok() {
                    gone.lock().unwrap().insert(victim);
                }
            }
        } else {
            let _ = env.emulator().update(
                "AccountSet",
                id,
                json!({"Telephone1": format!("p{}", rng.below(1000))}),
            );
        }
    }
}

fn fault_rules(rate: f64, seed: u64) -> Vec<FaultRule> {
    let actions = [
        FaultAction::status(503, "Service Unavailable"),
        FaultAction::Drop,
        FaultAction::TruncatedBody,
        FaultAction::MalformedJson,
        FaultAction::Unauthorized,
        FaultAction::LoginPage,
        FaultAction::ApplyThenDrop,
    ];
    let each = rate / actions.len() as f64;
    actions
        .into_iter()
        .enumerate()
        .map(|(i, a)| FaultRule::new(a).probability(each, seed.wrapping_add(i as u64)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_keeps_both_stores_consistent() {
    let seed: u64 = env_number("CHAOS_SEED", 20_261_201);
    let ops: usize = env_number("CHAOS_OPS", 60);
    let rate: f64 = env_number("CHAOS_FAULT_RATE", 0.15);
    println!("chaos: seed {seed}, {TASKS} tasks x {ops} operations, fault rate {rate}");
    for local in backends().await {
        let label = local.label;
        let env = Arc::new(BulkEnv::new(local, 30, Clock::system(), |b| b).await);
        // Start from a loaded store.
        Loader::new(env.bulk("loader"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("initial load");
        let db = env.remote.attach(env.db()).as_actor("chaos");
        for rule in fault_rules(rate, seed) {
            env.emulator().faults().add(rule);
        }
        env.emulator().reset_log();
        let gone: Gone = Arc::default();
        let created: Created = Arc::default();
        let mut handles = Vec::new();
        for me in 0..TASKS {
            handles.push(tokio::spawn(task(
                env.clone(),
                db.clone(),
                me,
                seed,
                ops,
                gone.clone(),
                created.clone(),
            )));
        }
        let person = tokio::spawn(people(
            env.clone(),
            seed,
            ops * 2,
            gone.clone(),
            created.clone(),
        ));
        let run = async {
            let mut tallies = Vec::new();
            for h in handles {
                tallies.push(h.await.expect("no task panicked"));
            }
            person.await.expect("no panic");
            tallies
        };
        let tallies = tokio::time::timeout(Duration::from_secs(300), run)
            .await
            .unwrap_or_else(|_| panic!("[{label}] seed {seed}: a task hung"));
        let faults = env
            .emulator()
            .requests()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
        let requests = env.emulator().requests().len();
        env.emulator().faults().clear();

        // Faults stop: a fresh load (records created in CDMS whose answer was lost) and a poll
        // with reconciliation (records deleted by people) bring the stores together.
        for meta in metas() {
            cdms_runtime::cdms::bulk::state::reset(env.db(), meta.set, false)
                .await
                .expect("reset");
        }
        Loader::new(env.bulk("final"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("final load");
        let options = PollOptions {
            reconcile_every: Some(Duration::ZERO),
            ..PollOptions::default()
        };
        Poller::new(env.bulk("final"), options)
            .once(&metas())
            .await
            .expect("final poll");
        let quarantined = env.remote.quarantine(env.db()).await.expect("quarantine");

        let ops_done: usize = tallies.iter().map(|t| t.ops).sum();
        let failures: usize = tallies.iter().map(|t| t.failures).sum();
        let violations: Vec<&String> = tallies.iter().flat_map(|t| &t.violations).collect();
        println!(
            "[{label}] seed {seed}: {ops_done} operations ({failures} failed as reported), {requests} requests, {faults} faults injected, {} deleted in CDMS by people, {} violations",
            gone.lock().unwrap().len(),
            violations.len()
        );
        assert!(
            violations.is_empty(),
            "[{label}] seed {seed}: {violations:#?}"
        );
        assert!(
            quarantined.is_empty(),
            "[{label}] seed {seed}: {quarantined:?}"
        );
        if let Err(problems) = compare_all(env.db(), env.emulator()).await {
            panic!(
                "[{label}] seed {seed}: the stores differ after the final poll:\n{}",
                problems.join("\n")
            );
        }
    }
}
