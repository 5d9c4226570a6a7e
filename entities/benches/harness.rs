//! The benchmark harness: the figures the project tracks, measured side by side in one run.
//!
//! `cargo bench -p cdms-entities --bench harness -- [--quick] [--json PATH] [--latency-ms N]
//! [--only operations|decode|load]...`
//!
//! Starts the built-in emulator on 127.0.0.1 with a per-request latency (default 10 ms) and
//! prints a table (and writes it as JSON, default the workspace's `target/bench-harness.json`):
//! - CDMS requests per operation (get, a filter over 120 records, create, update, delete, 100
//!   concurrent gets of one record in sync) — these are checked: a wrong count fails the run;
//! - each operation's latency ÷ (requests on its critical path × the emulator latency), the
//!   median of 5 (`--quick`) or 21 runs, beside the same ratio for a bare client GET of the
//!   record (transport and emulator alone: what of the figure is not the sync layer's);
//! - decode throughput of the example `Organisation` mapping against a plain
//!   `#[derive(Deserialize)]` struct on the same bytes;
//! - the initial load at concurrency 1 and 8 (records/s, ratio, ÷ the floor of
//!   pages × latency ÷ concurrency) and the process's peak RSS;
//! - a local-only (`skip_cdms`) get by name ÷ the same query hand-written in sqlx.
//!
//! Timings are printed, never judged. PostgreSQL is used for the operation figures too when
//! `DATABASE_URL` is set. `--quick` keeps the run to a minute or two on 2 cores. `--only` (which
//! may be repeated) runs those sections alone, e.g. to profile one of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cdms_entities::demo_data::{self, DemoScale};
use cdms_entities::Organisation;
use cdms_runtime::cdms::bulk::{state, Bulk, LoadOptions, Loader};
use cdms_runtime::cdms::{
    codec, decode, CdmsClient, CdmsMeta, CdmsRemote, ListOptions, SyncConfig, Synced,
};
use cdms_runtime::emulator::{Emulator, Latency, RunningEmulator};
use cdms_runtime::query::EntityExt;
use cdms_runtime::Db;
use serde::Deserialize;
use serde_json::{json, Value as J};

#[allow(dead_code)]
#[path = "harness/wide.rs"]
mod wide;

type Fail = Box<dyn std::error::Error>;

struct Options {
    quick: bool,
    json: String,
    latency: Duration,
    /// The sections to run (`--only`); all when empty.
    only: Vec<String>,
}

/// The sections of the harness, in run order.
const SECTIONS: [&str; 3] = ["operations", "decode", "load"];

impl Options {
    fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

fn options() -> Result<Options, Fail> {
    let mut out = Options {
        quick: false,
        // Cargo runs a bench in its package directory: the default lands in the workspace's
        // target directory, where `cargo` puts everything else it builds.
        json: concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-harness.json").to_owned(),
        latency: Duration::from_millis(10),
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => out.quick = true,
            "--json" => out.json = args.next().ok_or("--json needs a path")?,
            "--latency-ms" => {
                let ms: u64 = args.next().ok_or("--latency-ms needs a number")?.parse()?;
                out.latency = Duration::from_millis(ms.clamp(1, 1_000));
            }
            "--only" => {
                let section = args.next().ok_or("--only needs a section")?;
                if !SECTIONS.contains(&section.as_str()) {
                    return Err(format!(
                        "unknown section {section:?} (one of {})",
                        SECTIONS.join(", ")
                    )
                    .into());
                }
                out.only.push(section);
            }
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(out)
}

/// The figures of the run, in print order.
#[derive(Default)]
struct Table {
    rows: Vec<(String, String, String)>,
    json: serde_json::Map<String, J>,
    wrong: Vec<String>,
}

impl Table {
    fn add(&mut self, figure: &str, value: J, note: &str) {
        let shown = match &value {
            J::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or_default()),
            other => other.to_string(),
        };
        self.rows.push((figure.to_owned(), shown, note.to_owned()));
        self.json.insert(figure.to_owned(), value);
    }

    fn count(&mut self, figure: &str, got: usize, want: usize) {
        let note = if got == want {
            format!("expected {want}")
        } else {
            self.wrong
                .push(format!("{figure}: {got} requests, expected {want}"));
            format!("WRONG: expected {want}")
        };
        self.add(figure, json!(got), &note);
    }
}

/// The median of `samples`.
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn metas() -> Vec<&'static CdmsMeta> {
    cdms_entities::all_entities()
        .iter()
        .filter_map(|m| CdmsMeta::of(m))
        .collect()
}

async fn serve(organisations: usize) -> Result<(Emulator, RunningEmulator), Fail> {
    let emulator = demo_data::emulator_builder().build()?;
    demo_data::seed(&emulator, DemoScale::organisations(organisations))?;
    let running = emulator.serve("127.0.0.1:0").await?;
    Ok((emulator, running))
}

/// Requests and latency ratios of the single operations on `db`.
async fn operations(t: &mut Table, label: &str, db: Db, o: &Options) -> Result<(), Fail> {
    let (emu, running) = serve(20).await?;
    state::migrate_all(&db, cdms_entities::all_entities()).await?;
    let client = CdmsClient::builder(running.base_url()).build()?;
    let remote = CdmsRemote::new(client.clone(), SyncConfig::default());
    let db = remote.attach(&db).as_actor("bench");
    for i in 0..120 {
        emu.insert(
            "AccountSet",
            json!({"Name": format!("Bench {i:03}"), "DoNotEMail": false}),
        )?;
    }
    let f = Organisation::fields();
    let lat = o.latency.as_secs_f64();
    emu.set_latency(Latency::Fixed(o.latency));
    // Each single operation is timed `reps` times and the median reported (one sample is at
    // the mercy of a shared machine); the request count must be right every time.
    let reps = if o.quick { 5 } else { 21 };
    let mut measure =
        |name: &str, requests: &[usize], want: usize, critical: usize, secs: Vec<f64>| {
            let worst = requests
                .iter()
                .copied()
                .find(|&r| r != want)
                .unwrap_or(want);
            t.count(&format!("{label}: {name}: CDMS requests"), worst, want);
            t.add(
                &format!("{label}: {name}: latency / critical path"),
                json!(median(secs) / (critical as f64 * lat)),
                &format!(
                    "median of {n}; {critical} request(s) on the critical path; target <= 1.15",
                    n = requests.len()
                ),
            );
        };

    // The first synced read of the run also pays for what is done once per process and
    // database (statements prepared, the quarantine's table checked): reported on its own.
    emu.reset_log();
    let started = Instant::now();
    let listed = Organisation::objects(&db)
        .filter(f.name.startswith("Bench "))
        .all()
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let mut read = listed.len();
    measure(
        "first filter of the run, over 120 new records",
        &[emu.log().len()],
        3,
        3,
        vec![secs],
    );

    // Then each run reads 120 records the local store has never seen, added to CDMS for it.
    let (mut requests, mut secs) = (Vec::new(), Vec::new());
    for r in 0..reps {
        for i in 0..120 {
            emu.insert(
                "AccountSet",
                json!({"Name": format!("Fresh {r:02} {i:03}"), "DoNotEMail": false}),
            )?;
        }
        emu.reset_log();
        let started = Instant::now();
        let fresh = Organisation::objects(&db)
            .filter(f.name.startswith(format!("Fresh {r:02} ")))
            .all()
            .await?;
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
        read = read.min(fresh.len());
    }
    measure("filter over 120 new records", &requests, 3, 3, secs);

    let (mut requests, mut secs, mut short) = (Vec::new(), Vec::new(), 120);
    for _ in 0..reps {
        emu.reset_log();
        let started = Instant::now();
        let again = Organisation::objects(&db)
            .filter(f.name.startswith("Bench "))
            .all()
            .await?;
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
        short = short.min(again.len());
    }
    measure("filter over 120 records in sync", &requests, 3, 3, secs);

    let pk = listed[0].id;
    let (mut requests, mut secs) = (Vec::new(), Vec::new());
    let mut one = None;
    for _ in 0..reps {
        emu.reset_log();
        let started = Instant::now();
        one = Some(Organisation::objects(&db).filter(f.id.eq(pk)).get().await?);
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
    }
    measure("get by key", &requests, 1, 1, secs);
    let mut one = one.ok_or("no get ran")?;

    // What the transport and the emulator alone take for the same GET: the part of the
    // figures above that is not the sync layer's.
    let id = one.cdms_id.ok_or("the record has no CDMS id")?;
    let (mut requests, mut secs) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        emu.reset_log();
        let started = Instant::now();
        client.get_raw("AccountSet", id).await?;
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
    }
    measure(
        "bare client GET of that record (transport + emulator)",
        &requests,
        1,
        1,
        secs,
    );

    let (mut requests, mut secs) = (Vec::new(), Vec::new());
    for i in 0..reps {
        emu.reset_log();
        let started = Instant::now();
        one.telephone = Some(format!("0123 {i}"));
        one.save(&db).await?;
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
    }
    measure("update", &requests, 3, 3, secs);

    let (mut created_requests, mut created_secs) = (Vec::new(), Vec::new());
    let (mut deleted_requests, mut deleted_secs) = (Vec::new(), Vec::new());
    for i in 0..reps {
        emu.reset_log();
        let started = Instant::now();
        let mut created = Organisation::objects(&db)
            .create(Organisation::named(&format!("Bench new {i}")))
            .await?;
        created_secs.push(started.elapsed().as_secs_f64());
        created_requests.push(emu.log().len());

        emu.reset_log();
        let started = Instant::now();
        created.delete(&db).await?;
        deleted_secs.push(started.elapsed().as_secs_f64());
        deleted_requests.push(emu.log().len());
    }
    measure("create", &created_requests, 1, 1, created_secs);
    measure("delete", &deleted_requests, 1, 1, deleted_secs);

    // 100 gets of the record in sync, released together: they share one GET.
    let (mut requests, mut secs) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        emu.reset_log();
        let gate = Arc::new(tokio::sync::Barrier::new(101));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let db = db.clone();
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                gate.wait().await;
                let f = Organisation::fields();
                Organisation::objects(&db).filter(f.id.eq(pk)).get().await
            }));
        }
        gate.wait().await;
        let started = Instant::now();
        for task in tasks {
            task.await??;
        }
        secs.push(started.elapsed().as_secs_f64());
        requests.push(emu.log().len());
    }
    measure("100 concurrent gets in sync", &requests, 1, 1, secs);
    if short != 120 {
        t.wrong.push(format!(
            "{label}: a filter in sync read {short} of 120 records"
        ));
    }
    if read != 120 {
        t.wrong.push(format!(
            "{label}: a filter of new records read {read} of 120"
        ));
    }
    statements_per_page(t, label, &db, &emu).await?;
    running.shutdown().await?;
    Ok(())
}

/// SQL statements the store executes to refresh a page of 50 records (no lookups) through a
/// synced filter: new, changed in CDMS, already in sync.
async fn statements_per_page(
    t: &mut Table,
    label: &str,
    db: &Db,
    emu: &Emulator,
) -> Result<(), Fail> {
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(emu.insert(
            "AccountSet",
            json!({"Name": format!("Page {i:02}"), "DoNotEMail": false}),
        )?);
    }
    let f = Organisation::fields();
    let page = || async move {
        let before = db.sql_counts();
        let read = Organisation::objects(db)
            .filter(f.name.startswith("Page "))
            .all()
            .await?
            .len();
        Ok::<_, Fail>((db.sql_counts().since(&before), read))
    };
    let (new, read_new) = page().await?;
    let (in_sync, read_in_sync) = page().await?;
    // CDMS stamps whole seconds: edit in a later second than the copies just read.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for id in &ids {
        emu.update("AccountSet", *id, json!({"Telephone1": "0123"}))?;
    }
    let (changed, read_changed) = page().await?;
    if [read_new, read_in_sync, read_changed] != [50; 3] {
        t.wrong.push(format!(
            "{label}: the page reads returned {read_new}, {read_in_sync}, {read_changed} of 50"
        ));
    }
    t.add(
        &format!("{label}: SQL statements to refresh a page of 50 new records"),
        json!(new.total()),
        &format!("{new}; target <= 5"),
    );
    t.add(
        &format!("{label}: SQL statements to refresh a page of 50 changed records"),
        json!(changed.total()),
        &format!("{changed}; target <= 5"),
    );
    t.add(
        &format!("{label}: SQL statements for a page of 50 already in sync"),
        json!(in_sync.total()),
        &format!("{in_sync}; target <= 1"),
    );
    Ok(())
}

/// A plain serde struct of the properties the example `Organisation` maps.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlainAccount {
    account_id: String,
    modified_on: String,
    created_on: Option<String>,
    name: Option<String>,
    account_number: Option<String>,
    #[serde(rename = "optevia_CompaniesHouseNumber")]
    companies_house_number: Option<String>,
    #[serde(rename = "optevia_VATNumber")]
    vat_number: Option<String>,
    #[serde(rename = "WebSiteURL")]
    website: Option<String>,
    telephone1: Option<String>,
    #[serde(rename = "EMailAddress1")]
    email: Option<String>,
    #[serde(rename = "Address1_Line1")]
    line1: Option<String>,
    #[serde(rename = "Address1_City")]
    city: Option<String>,
    #[serde(rename = "Address1_PostalCode")]
    postcode: Option<String>,
    #[serde(rename = "Address1_Latitude")]
    latitude: Option<f64>,
    number_of_employees: Option<i32>,
    revenue: Option<Valued<Option<String>>>,
    industry_code: Option<Valued<Option<i32>>>,
    customer_type_code: Option<Valued<Option<i32>>>,
    #[serde(rename = "DoNotEMail")]
    do_not_email: Option<bool>,
    #[serde(rename = "optevia_ukorganisation")]
    uk: Option<bool>,
    #[serde(rename = "optevia_Country")]
    country: Option<Reference>,
    #[serde(rename = "optevia_Sector")]
    sector: Option<Reference>,
    #[serde(rename = "optevia_UKRegion")]
    region: Option<Reference>,
    #[serde(rename = "optevia_BusinessType")]
    business_type: Option<Reference>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Valued<T> {
    #[serde(rename = "Value")]
    value: T,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "Id")]
    id: Option<String>,
    #[serde(rename = "LogicalName")]
    logical_name: Option<String>,
}

/// The CPU time of the calling thread, in seconds, to the nanosecond. A decode loop runs on
/// one thread without yielding, so the work of other threads (the runtime's, the pools', the
/// database's) is not counted in it, as it would be in the process's CPU time (which `/proc`
/// moreover gives in 10 ms ticks, longer than a round of the narrow decode).
fn cpu_seconds() -> Result<f64, Fail> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`, and the clock is one Linux always has.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Err(format!(
            "clock_gettime(CLOCK_THREAD_CPUTIME_ID): {}",
            std::io::Error::last_os_error()
        )
        .into());
    }
    Ok(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

/// Decode throughput, the mapping against the plain struct, on the same bytes.
async fn decoding(t: &mut Table, o: &Options) -> Result<(), Fail> {
    let (_emu, running) = serve(2_000).await?;
    let client = CdmsClient::builder(running.base_url()).build()?;
    let opts = ListOptions {
        select: codec::select(Organisation::CDMS, None),
        ..ListOptions::default()
    };
    let records = raw_records(&client, Organisation::CDMS.set, &opts).await?;
    running.shutdown().await?;
    let rounds = if o.quick { 25 } else { 50 };
    let n = records.len() * rounds;
    // Side by side, alternating, so drift hits all three.
    let (mut ours, mut plain, mut tree) = (0.0, 0.0, 0.0);
    for _ in 0..rounds {
        ours += cpu_time(&records, |text| {
            std::hint::black_box(decode::decode_text(Organisation::CDMS, text, None)?);
            Ok(())
        })?;
        plain += cpu_time(&records, |text| {
            std::hint::black_box(serde_json::from_str::<PlainAccount>(text)?);
            Ok(())
        })?;
        tree += cpu_time(&records, |text| {
            let value: J = serde_json::from_str(text)?;
            std::hint::black_box(codec::decode(Organisation::CDMS, &value)?);
            Ok(())
        })?;
    }
    let ours_rate = n as f64 / ours.max(1e-9);
    let plain_rate = n as f64 / plain.max(1e-9);
    let tree_rate = n as f64 / tree.max(1e-9);
    t.add(
        "decode Organisation (24 properties): records per CPU-second",
        json!(ours_rate.round()),
        "target >= 100,000",
    );
    t.add(
        "decode: plain #[derive(Deserialize)] struct, same bytes",
        json!(plain_rate.round()),
        "",
    );
    t.add(
        "decode: mapping / plain serde struct",
        json!(ours_rate / plain_rate),
        "target >= 1.0",
    );
    t.add(
        "decode: reference decoder through a serde_json::Value tree, records per CPU-second",
        json!(tree_rate.round()),
        "what the read paths did before the derive generated the decoder",
    );
    decoding_wide(t, o).await
}

/// Each record of `set` as text, exactly as the emulator sent it.
async fn raw_records(
    client: &CdmsClient,
    set: &str,
    opts: &ListOptions,
) -> Result<Vec<String>, Fail> {
    let mut records = Vec::new();
    let mut pager = client.pager(set, opts)?;
    while let Some(page) = pager.next_raw_page().await? {
        records.extend(page.iter().map(|r| r.get().to_owned()));
    }
    Ok(records)
}

/// The CPU seconds `decode` takes over every record of `records` once.
fn cpu_time(records: &[String], decode: impl Fn(&str) -> Result<(), Fail>) -> Result<f64, Fail> {
    let start = cpu_seconds()?;
    for text in records {
        decode(text)?;
    }
    Ok(cpu_seconds()? - start)
}

/// Decode throughput at full width ([`wide`]), against the plain serde struct on the same bytes.
async fn decoding_wide(t: &mut Table, o: &Options) -> Result<(), Fail> {
    let emulator = Emulator::builder().spec(wide::spec()).build()?;
    emulator.generate(if o.quick { 200 } else { 1_000 }, 1)?;
    let running = emulator.serve("127.0.0.1:0").await?;
    let client = CdmsClient::builder(running.base_url()).build()?;
    let records = raw_records(&client, wide::NewWide::CDMS.set, &ListOptions::default()).await?;
    running.shutdown().await?;
    let bytes: usize = records.iter().map(String::len).sum();
    // Valid records never fall back to the reference decoder (which builds a JSON tree).
    let generated = wide::NewWide::CDMS
        .decoder
        .ok_or("the derive generated no decoder")?;
    if let Some((i, e)) = records
        .iter()
        .enumerate()
        .find_map(|(i, text)| generated(text, None).err().map(|e| (i, e)))
    {
        t.wrong.push(format!(
            "the generated decoder declined full-width record {i}: {e}"
        ));
    }
    let rounds = if o.quick { 30 } else { 100 };
    let n = records.len() * rounds;
    let (mut ours, mut plain) = (0.0, 0.0);
    for _ in 0..rounds {
        ours += cpu_time(&records, |text| {
            std::hint::black_box(decode::decode_text(wide::NewWide::CDMS, text, None)?);
            Ok(())
        })?;
        plain += cpu_time(&records, |text| {
            std::hint::black_box(serde_json::from_str::<wide::PlainWide>(text)?);
            Ok(())
        })?;
    }
    let ours_rate = n as f64 / ours.max(1e-9);
    let plain_rate = n as f64 / plain.max(1e-9);
    t.add(
        "decode at full width (198 properties): records per CPU-second",
        json!(ours_rate.round()),
        &format!(
            "{} records of {:.1} KB on average",
            records.len(),
            bytes as f64 / records.len().max(1) as f64 / 1024.0
        ),
    );
    t.add(
        "decode at full width: plain #[derive(Deserialize)] struct, same bytes",
        json!(plain_rate.round()),
        "",
    );
    t.add(
        "decode at full width: mapping / plain serde struct",
        json!(ours_rate / plain_rate),
        "target >= 1.0",
    );
    Ok(())
}

/// The initial load at concurrency 1 and 8, and local-only reads against hand-written sqlx.
async fn loading(t: &mut Table, o: &Options) -> Result<(), Fail> {
    let organisations = if o.quick { 1_500 } else { 28_000 };
    let (emu, running) = serve(organisations).await?;
    emu.set_latency(Latency::Fixed(o.latency));
    let mut rates = Vec::new();
    let mut last_db: Option<(Db, std::path::PathBuf, tempfile::TempDir)> = None;
    for concurrency in [1usize, 8] {
        // One load's database at a time: the peak below is that of one load.
        if let Some((db, _, _)) = last_db.take() {
            db.close().await;
        }
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bench.sqlite");
        let db = Db::sqlite(&path).await?;
        state::migrate_all(&db, cdms_entities::all_entities()).await?;
        let client = CdmsClient::builder(running.base_url()).build()?;
        let remote = Arc::new(CdmsRemote::new(client.clone(), SyncConfig::default()));
        let options = LoadOptions {
            concurrency,
            partitions: concurrency.max(1) * 2,
            ..LoadOptions::default()
        };
        let report = Loader::new(Bulk::new(&db.as_actor("bench"), remote), options)
            .run(&metas())
            .await?;
        let secs = report.elapsed.as_secs_f64();
        let records = report.records();
        let pages = client.metrics().snapshot().pages;
        let floor = pages as f64 * o.latency.as_secs_f64() / concurrency as f64;
        rates.push(records as f64 / secs);
        t.add(
            &format!("load at concurrency {concurrency}: records/s"),
            json!((records as f64 / secs).round()),
            &format!("{records} records, {pages} pages, {secs:.2} s"),
        );
        t.add(
            &format!("load at concurrency {concurrency}: time / floor"),
            json!(secs / floor.max(1e-9)),
            "floor = pages x latency / concurrency; target <= 1.3",
        );
        last_db = Some((db, path, dir));
    }
    if let [one, eight] = rates[..] {
        t.add(
            "load: concurrency 8 / concurrency 1",
            json!(eight / one),
            "target >= 6",
        );
    }
    t.add(
        "peak RSS of this process (emulator included), MiB",
        json!(peak_rss_mib().map(f64::round)),
        "",
    );
    if let Some((_, path, _)) = &last_db {
        t.add(
            "load: history bytes / table bytes, SQLite",
            json!(sqlite_history_ratio(path).await?),
            "tables and their indexes (dbstat); target <= 0.5",
        );
    }
    if let Ok(url) = std::env::var("DATABASE_URL") {
        // DATABASE_URL may hold other tables of these names (the test suite shares it): a figure
        // that cannot be measured there is reported as such, it does not stop the harness.
        let measured = async {
            let db = Db::connect(&url).await?;
            state::migrate_all(&db, cdms_entities::all_entities()).await?;
            let client = CdmsClient::builder(running.base_url()).build()?;
            let remote = Arc::new(CdmsRemote::new(client, SyncConfig::default()));
            let options = LoadOptions {
                concurrency: 8,
                partitions: 16,
                ..LoadOptions::default()
            };
            Loader::new(Bulk::new(&db.as_actor("bench"), remote), options)
                .run(&metas())
                .await?;
            postgres_history_ratio(&url).await
        }
        .await;
        t.add(
            "load: history bytes / table bytes, PostgreSQL",
            match measured {
                Ok(ratio) => json!(ratio),
                Err(e) => json!(format!("not measured: {e}")),
            },
            "pg_total_relation_size; target <= 0.5",
        );
    }
    running.shutdown().await?;
    if let Some((db, path, _dir)) = last_db {
        local_reads(t, &db, &path, o).await?;
    }
    Ok(())
}

/// The history table's bytes ÷ the bytes of the entity tables it describes (indexes included).
async fn sqlite_history_ratio(path: &std::path::Path) -> Result<f64, Fail> {
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true),
    )
    .await?;
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d \
         JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let size = |table: &str| -> f64 {
        sizes
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, n)| *n as f64)
            .sum()
    };
    let tables: f64 = cdms_entities::all_entities()
        .iter()
        .map(|m| size(m.table))
        .sum();
    Ok(size("history") / tables.max(1.0))
}

async fn postgres_history_ratio(url: &str) -> Result<f64, Fail> {
    let pool = sqlx::PgPool::connect(url).await?;
    let size = |table: &'static str| {
        let pool = pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT pg_total_relation_size($1::regclass)")
                .bind(format!("\"{table}\""))
                .fetch_one(&pool)
                .await?;
            Ok::<f64, sqlx::Error>(n as f64)
        }
    };
    let mut tables = 0.0;
    for m in cdms_entities::all_entities() {
        tables += size(m.table).await?;
    }
    let history = size("history").await?;
    pool.close().await;
    Ok(history / tables.max(1.0))
}

async fn local_reads(
    t: &mut Table,
    db: &Db,
    path: &std::path::Path,
    o: &Options,
) -> Result<(), Fail> {
    let names: Vec<String> = Organisation::objects(&db.skip_cdms())
        .limit(200)
        .all()
        .await?
        .into_iter()
        .map(|o| o.name)
        .collect();
    let rounds = if o.quick { 3 } else { 20 };
    let f = Organisation::fields();
    let local = db.skip_cdms();
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true),
    )
    .await?;
    let (mut ours, mut hand) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        for name in &names {
            std::hint::black_box(
                Organisation::objects(&local)
                    .filter(f.name.eq(name.clone()))
                    .first()
                    .await?,
            );
        }
        ours += start.elapsed();
        let start = Instant::now();
        for name in &names {
            std::hint::black_box(
                sqlx::query(
                    "SELECT * FROM \"organisation\" WHERE \"name\" = ? ORDER BY \"id\" LIMIT 1",
                )
                .bind(name)
                .fetch_optional(&pool)
                .await?,
            );
        }
        hand += start.elapsed();
    }
    t.add(
        "local-only get by name / hand-written sqlx",
        json!(ours.as_secs_f64() / hand.as_secs_f64().max(1e-9)),
        "target <= 1.15 (the hand query decodes nothing)",
    );
    pool.close().await;
    Ok(())
}

fn main() -> Result<(), Fail> {
    let o = options()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut t = Table::default();
    rt.block_on(async {
        if o.runs("operations") {
            let dir = tempfile::tempdir()?;
            let sqlite = Db::sqlite(dir.path().join("ops.sqlite")).await?;
            operations(&mut t, "sqlite", sqlite, &o).await?;
            if let Ok(url) = std::env::var("DATABASE_URL") {
                operations(&mut t, "postgres", Db::connect(&url).await?, &o).await?;
            }
        }
        if o.runs("decode") {
            decoding(&mut t, &o).await?;
        }
        if o.runs("load") {
            loading(&mut t, &o).await?;
        }
        Ok::<(), Fail>(())
    })?;
    let width = t.rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    println!(
        "cdms-sync benchmark harness — {} — emulator latency {} ms{}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        o.latency.as_millis(),
        if o.quick { ", --quick" } else { "" }
    );
    for (figure, value, note) in &t.rows {
        println!("{figure:<width$}  {value:>12}  {note}");
    }
    println!("({:.0} s)", started.elapsed().as_secs_f64());
    let mut json = t.json.clone();
    json.insert("quick".into(), json!(o.quick));
    json.insert("latency_ms".into(), json!(o.latency.as_millis() as u64));
    if let Some(dir) = std::path::Path::new(&o.json).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&o.json, serde_json::to_string_pretty(&J::Object(json))?)?;
    println!("figures written to {}", o.json);
    if !t.wrong.is_empty() {
        return Err(format!("wrong counts: {}", t.wrong.join("; ")).into());
    }
    Ok(())
}
