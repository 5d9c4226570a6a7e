//! Initial-load throughput: the demo data set at several sizes, served by the emulator over HTTP
//! on 127.0.0.1, loaded into a fresh SQLite file with the default load options.
//!
//! `cargo bench -p cdms-entities --bench bulk_load [-- RECORDS...]` (default: 20000 100000).
//! Prints, per size: records, seeding time, load time, records per second, CDMS pages, and the
//! process's peak resident memory so far (which includes the in-process emulator's copy of the
//! data; run `cdms-sync emulate` and `cdms-sync load` as two processes to see the loader's own).

use std::sync::Arc;
use std::time::Instant;

use cdms_entities::demo_data::{self, DemoScale};
use cdms_runtime::cdms::bulk::{state, Bulk, LoadOptions, Loader};
use cdms_runtime::cdms::{CdmsClient, CdmsMeta, CdmsRemote, SyncConfig};
use cdms_runtime::Db;

/// Peak resident set size of this process, in MiB (Linux; `None` elsewhere).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn run(records: usize) -> Result<(), Box<dyn std::error::Error>> {
    // Records = organisations · (1 + 2.5 contacts) + 117 lookups.
    let organisations = (records.saturating_sub(117) * 2 / 7).max(1);
    let started = Instant::now();
    let emulator = demo_data::emulator_builder().build()?;
    let seeded = demo_data::seed(&emulator, DemoScale::organisations(organisations))?;
    let seed_secs = started.elapsed().as_secs_f64();
    let server = emulator.serve("127.0.0.1:0").await?;
    let dir = tempfile::tempdir()?;
    let db = Db::sqlite(dir.path().join("bench.sqlite")).await?;
    state::migrate_all(&db, cdms_entities::all_entities()).await?;
    let client = CdmsClient::builder(server.base_url()).build()?;
    let remote = Arc::new(CdmsRemote::new(client.clone(), SyncConfig::default()));
    let metas: Vec<&'static CdmsMeta> = cdms_entities::all_entities()
        .iter()
        .filter_map(|m| CdmsMeta::of(m))
        .collect();
    let bulk = Bulk::new(&db.as_actor("bench"), remote);
    let report = Loader::new(bulk, LoadOptions::default())
        .run(&metas)
        .await?;
    let secs = report.elapsed.as_secs_f64();
    assert!(report.complete(), "the load did not complete");
    assert_eq!(
        report.records(),
        seeded.total() as u64,
        "every record loaded once"
    );
    println!(
        "{:>8} records  seed {:>5.1}s  load {:>6.2}s  {:>7.0} records/s  {:>5} pages  peak RSS {} MiB",
        seeded.total(),
        seed_secs,
        secs,
        seeded.total() as f64 / secs,
        client.metrics().snapshot().pages,
        peak_rss_mib().map_or_else(|| "?".to_owned(), |m| format!("{m:.0}"))
    );
    db.close().await;
    server.shutdown().await?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20_000, 100_000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for records in sizes {
        runtime.block_on(run(records))?;
    }
    Ok(())
}
