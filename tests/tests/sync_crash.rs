//! Crash test: a writer process is killed with SIGKILL at random moments — between its CDMS
//! write and its local commit among them — and restarted until it finishes. Afterwards nothing
//! is duplicated in CDMS, and after a poll both stores are identical. `CRASH_SEED` changes the
//! kill times (printed).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use cdms_entities::Organisation;
use cdms_runtime::cdms::bulk::{state, LoadOptions, Loader, PollOptions, Poller};
use cdms_runtime::emulator::{Clock, Latency};
use cdms_tests::bulk_support::{backends, compare_all, metas, BulkEnv};

const RECORDS: usize = 12;
const MAX_RUNS: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_writers_converge_without_duplicates() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut state_rng = seed.max(1);
    let mut next = move || {
        state_rng ^= state_rng << 13;
        state_rng ^= state_rng >> 7;
        state_rng ^= state_rng << 17;
        state_rng
    };
    for local in backends().await {
        let label = local.label;
        let env = BulkEnv::new(local, 5, Clock::system(), |b| {
            b.latency(Latency::Fixed(Duration::from_millis(15)))
        })
        .await;
        Loader::new(env.bulk("loader"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("load");
        let url = env.database_url();
        let cdms = env.emu.base_url();
        let mut kills = 0;
        let mut finished = false;
        for _ in 0..MAX_RUNS {
            let mut child = Command::new(env!("CARGO_BIN_EXE_sync_crash_writer"))
                .args([url.as_str(), cdms.as_str(), "crash", &RECORDS.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start the writer");
            let after = Duration::from_millis(100 + next() % 800);
            tokio::time::sleep(after).await;
            if child.try_wait().expect("wait").is_none() {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                kills += 1;
                continue;
            }
            let out = child.wait_with_output().expect("output");
            assert!(
                out.status.success(),
                "[{label}] the writer failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            finished = true;
            break;
        }
        if !finished {
            // Let the last run finish undisturbed.
            let out = Command::new(env!("CARGO_BIN_EXE_sync_crash_writer"))
                .args([url.as_str(), cdms.as_str(), "crash", &RECORDS.to_string()])
                .output()
                .expect("run the writer");
            assert!(
                out.status.success(),
                "[{label}] {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        println!("[{label}] seed {seed}: writer killed {kills} times, then ran to the end");

        // No duplicate in CDMS: every name exactly once.
        let mut names: HashMap<String, usize> = HashMap::new();
        for id in env.emulator().ids("AccountSet") {
            if let Some(name) = env
                .emulator()
                .get("AccountSet", id)
                .and_then(|r| r.get("Name").and_then(|v| v.as_str()).map(str::to_owned))
            {
                *names.entry(name).or_default() += 1;
            }
        }
        for i in 0..RECORDS {
            let name = format!("crash-{i}");
            assert_eq!(
                names.get(&name),
                Some(&1),
                "[{label}] seed {seed}: {name} in CDMS"
            );
        }
        // Locally too.
        let f = Organisation::fields();
        let local = Organisation::objects(&env.db().skip_cdms())
            .filter(f.name.startswith("crash-"))
            .count()
            .await
            .unwrap();
        assert_eq!(local as usize, RECORDS, "[{label}]");

        // The next poll (after a fresh load, as a restarted service would run) converges.
        for meta in metas() {
            state::reset(env.db(), meta.set, false).await.unwrap();
        }
        Loader::new(env.bulk("final"), LoadOptions::default())
            .run(&metas())
            .await
            .expect("final load");
        Poller::new(env.bulk("final"), PollOptions::default())
            .once(&metas())
            .await
            .expect("final poll");
        if let Err(problems) = compare_all(env.db(), env.emulator()).await {
            panic!("[{label}] seed {seed}: {}", problems.join("\n"));
        }
    }
}
