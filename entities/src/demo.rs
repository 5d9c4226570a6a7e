//! `cdms-sync demo`: the whole sync on embedded defaults; and how `cdms-sync emulate` serves
//! these entities (the demo data set for `--seed`).
//!
//! 1. a built-in CDMS emulator on `127.0.0.1:0`, seeded with the demo data set
//!    ([`crate::demo_data`]);
//! 2. a local SQLite file, `./cdms-demo.sqlite` by default (deleted and recreated on every run;
//!    another database given with `--database-url` must not hold organisations yet);
//! 3. the initial load with progress bars;
//! 4. edits made "in CDMS" (through the emulator's data API, as CDMS users would) arriving
//!    locally: through a read, then through a poll (a new, a changed and a deleted record);
//! 5. local writes reaching CDMS (an update and a new contact);
//! 6. a write that CDMS fails (an injected HTTP 500): the local store is unchanged;
//! 7. the history of a record, with who made each version;
//! 8. the drift report, and a summary of records, CDMS requests and time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cdms_runtime::cdms::bulk::{self, Bulk, LoadOptions, Loader, PollOptions, Poller};
use cdms_runtime::cdms::{CdmsClient, CdmsMeta, CdmsRemote, SyncConfig, Synced};
use cdms_runtime::cli::{count_in, migrate, requests_by_verb, CliError, Commands, Context};
use cdms_runtime::cli::{Emulation, Outcome};
use cdms_runtime::emulator::{Emulator, EmulatorError};
use cdms_runtime::emulator::{FaultAction, FaultRule};
use cdms_runtime::query::EntityExt;
use cdms_runtime::types::format_datetime;
use cdms_runtime::{Db, Ref};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::demo_data::{self, DemoScale, DEFAULT_ORGANISATIONS};
use crate::{Contact, Organisation};

/// The demo's SQLite file (in the working directory), recreated on every run.
pub const DEFAULT_DEMO_DATABASE: &str = "cdms-demo.sqlite";

/// The commands `cdms-sync` adds to [`cdms_runtime::cli`].
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Run the whole sync on embedded defaults: a built-in CDMS emulator with a realistic data
    /// set, a local SQLite file, the initial load, then edits flowing both ways, a rollback,
    /// history and a summary. Start here: it needs nothing but this binary.
    Demo(DemoArgs),
}

impl Commands for DemoCommand {
    async fn run(&self, ctx: &Context<'_>) -> Result<Outcome, CliError> {
        match self {
            DemoCommand::Demo(args) => demo(args, ctx).await,
        }
    }
}

/// `emulate` over these entities: their sets with the demo's primary names, and `--seed N`
/// seeding N organisations of the demo data set (2.5 contacts each, the full lookup sets).
pub fn emulation() -> Emulation {
    Emulation {
        builder: demo_data::emulator_builder,
        seed: Some(seed_demo),
    }
}

fn seed_demo(emulator: &Emulator, organisations: usize) -> Result<u64, EmulatorError> {
    let seeded = demo_data::seed(emulator, DemoScale::organisations(organisations))?;
    tracing::info!(
        organisations = seeded.organisations,
        contacts = seeded.contacts,
        "demo data set"
    );
    Ok(seeded.total() as u64)
}

/// Options of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Local database (default: ./cdms-demo.sqlite, recreated on every run). Another database
    /// must not hold organisations yet. DATABASE_URL is not consulted.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Organisations in the data set (plus 2.5 contacts each and the lookup sets).
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_ORGANISATIONS,
        value_parser = count_in(1, 1_000_000)
    )]
    pub scale: usize,
    /// Partitions fetched at once during the load.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = count_in(1, 256))]
    pub concurrency: usize,
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn remove_sqlite_files(path: &str) -> Result<(), CliError> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CliError::Other(format!(
                    "cannot remove the old demo database {file}: {e}"
                )))
            }
        }
    }
    Ok(())
}

async fn open_database(args: &DemoArgs) -> Result<Db, CliError> {
    let db = match &args.database_url {
        Some(url) => Db::connect(url).await?,
        None => {
            remove_sqlite_files(DEFAULT_DEMO_DATABASE)?;
            Db::sqlite(Path::new(DEFAULT_DEMO_DATABASE)).await?
        }
    };
    migrate(&db, crate::all_entities()).await?;
    let existing = Organisation::objects(&db).skip_cdms().count().await?;
    if existing > 0 {
        return Err(CliError::usage(format!(
            "the demo needs an empty database, and this one holds {existing} organisations \
             (without --database-url the demo recreates ./{DEFAULT_DEMO_DATABASE})"
        )));
    }
    Ok(db)
}

/// What changed between two history snapshots, for display (`name = "…"`, …).
fn changes(
    before: Option<&serde_json::Map<String, serde_json::Value>>,
    after: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let Some(before) = before else {
        let name = after.get("name").map(|n| n.to_string()).unwrap_or_default();
        return format!("first copy: name = {name}");
    };
    let changed: Vec<String> = after
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "modified_on" | "id") && before.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    if changed.is_empty() {
        "no field changed".to_owned()
    } else {
        changed.join(", ")
    }
}

fn metas() -> Vec<&'static CdmsMeta> {
    crate::all_entities()
        .iter()
        .filter_map(|m| CdmsMeta::of(m))
        .collect()
}

/// Runs the demo.
pub async fn demo(args: &DemoArgs, ctx: &Context<'_>) -> Result<Outcome, CliError> {
    let started = Instant::now();
    section("1. A CDMS organisation (the built-in emulator)");
    let emulator = demo_data::emulator_builder().build()?;
    let seeded = demo_data::seed(&emulator, DemoScale::organisations(args.scale))?;
    let server = emulator.serve("127.0.0.1:0").await?;
    println!("serving {} at {}", emulator.org(), server.base_url());
    for (set, n) in seeded.per_set() {
        println!("  {set:<26} {n:>7} records");
    }
    println!("  seeded in {:.1}s", started.elapsed().as_secs_f64());

    section("2. The local database");
    let db = open_database(args).await?;
    match &args.database_url {
        Some(_) => println!(
            "{} database given with --database-url; tables created",
            db.backend().name()
        ),
        None => println!("SQLite file ./{DEFAULT_DEMO_DATABASE} (recreated); tables created"),
    }

    section("3. Initial load");
    let client = CdmsClient::builder(server.base_url()).build()?;
    let remote = Arc::new(CdmsRemote::new(client.clone(), SyncConfig::default()));
    let metas = metas();
    let bulk = Bulk::new(&db.as_actor("cdms-sync load"), remote.clone()).progress(ctx.progress());
    let options = LoadOptions {
        concurrency: args.concurrency.max(1),
        ..LoadOptions::default()
    };
    let load = Loader::new(bulk, options).run(&metas).await?;
    let load_secs = load.elapsed.as_secs_f64().max(1e-9);
    println!(
        "loaded {} records in {:.1}s ({:.0} records/s, {} CDMS pages)",
        load.records(),
        load_secs,
        load.records() as f64 / load_secs,
        load.entities.iter().map(|e| e.pages).sum::<u64>()
    );

    let synced = remote.attach(&db);
    let alice = synced.as_actor("alice@trade.gov.uk");
    let f = Organisation::fields();

    section("4. Edits made in CDMS arrive locally");
    let first_id = demo_data::organisation_id(0);
    let before = Organisation::objects(&db)
        .skip_cdms()
        .filter(f.cdms_id.eq(first_id))
        .get()
        .await?;
    let renamed = format!("{} (renamed in CDMS)", before.name);
    emulator.update(
        Organisation::CDMS.set,
        first_id,
        json!({ "Name": renamed, "NumberOfEmployees": 1234 }),
    )?;
    println!("in CDMS, a user renames {:?} → {renamed:?}", before.name);
    let gets_before = emulator.request_count("GET", Organisation::CDMS.set);
    let read = Organisation::objects(&alice)
        .filter(f.cdms_id.eq(first_id))
        .get()
        .await?;
    println!(
        "a local read refreshes it on the way ({} CDMS request): name {:?}, employees {:?}",
        emulator.request_count("GET", Organisation::CDMS.set) - gets_before,
        read.name,
        read.number_of_employees
    );
    let second_id = demo_data::organisation_id(1);
    emulator.update(
        Organisation::CDMS.set,
        second_id,
        json!({ "Telephone1": "020 7215 5000" }),
    )?;
    let new_contact = emulator.insert(
        Contact::CDMS.set,
        json!({
            "FirstName": "Ada", "LastName": "Lovelace", "JobTitle": "Head of Analytics",
            "EMailAddress1": "ada.lovelace@example.co.uk", "DoNotPhone": false,
            "ParentCustomerId": { "Id": first_id.to_string(), "LogicalName": Organisation::CDMS.logical_name },
        }),
    )?;
    let gone_id = demo_data::contact_id(0);
    emulator.delete(Contact::CDMS.set, gone_id)?;
    println!(
        "in CDMS: another organisation gets a new phone number, a contact is added, one is deleted"
    );
    let poll_bulk = Bulk::new(&db.as_actor("cdms-sync poll"), remote.clone());
    let poll = Poller::new(
        poll_bulk,
        PollOptions {
            reconcile_every: Some(Duration::ZERO),
            ..PollOptions::default()
        },
    )
    .once(&metas)
    .await?;
    for e in poll.entities.iter().filter(|e| e.changes() > 0) {
        println!(
            "poll: {:<13} {} new, {} updated, {} deleted (ids reconciled: {})",
            e.entity,
            e.inserted + e.recovered,
            e.updated,
            e.deleted,
            e.reconciled
        );
    }
    let cf = Contact::fields();
    let ada = Contact::objects(&db)
        .skip_cdms()
        .filter(cf.cdms_id.eq(new_contact))
        .get()
        .await?;
    let still_there = Contact::objects(&db)
        .skip_cdms()
        .filter(cf.cdms_id.eq(gone_id))
        .exists()
        .await?;
    println!(
        "locally: {} {} is here (organisation {:?}); the deleted contact is gone: {}",
        ada.first_name.as_deref().unwrap_or(""),
        ada.last_name,
        ada.organisation.map(|r| r.pk()),
        !still_there
    );

    section("5. Local writes reach CDMS");
    let mut org = Organisation::objects(&alice)
        .filter(f.cdms_id.eq(first_id))
        .get()
        .await?;
    org.website = Some("www.example-renamed.co.uk".to_owned());
    org.save(&alice).await?;
    let in_cdms = emulator
        .get(Organisation::CDMS.set, first_id)
        .and_then(|r| r.get("WebSiteURL").cloned());
    println!(
        "alice sets the web site locally; CDMS now has {}",
        in_cdms.unwrap_or_default()
    );
    let mut grace = Contact {
        id: 0,
        cdms_id: None,
        modified_on: chrono::DateTime::UNIX_EPOCH,
        created_on: None,
        first_name: Some("Grace".to_owned()),
        last_name: "Hopper".to_owned(),
        email: Some("grace.hopper@example.co.uk".to_owned()),
        telephone: None,
        job_title: Some("Export Manager".to_owned()),
        birth_date: None,
        do_not_phone: false,
        annual_income: None,
        organisation: Some(Ref::to(&org)),
        gender: None,
    };
    grace.save(&alice).await?;
    let grace_id = grace
        .cdms_id
        .ok_or_else(|| CliError::Other("the new contact got no CDMS id".to_owned()))?;
    println!(
        "alice creates a contact locally: CDMS id {grace_id}, in CDMS: {}",
        emulator.get(Contact::CDMS.set, grace_id).is_some()
    );

    section("6. CDMS fails: the local write is rolled back");
    let fault = emulator.faults().add(
        FaultRule::new(FaultAction::status(500, "Generic SQL error."))
            .method("MERGE")
            .set(Organisation::CDMS.set),
    );
    let mut doomed = org.clone();
    doomed.name = "This name never sticks".to_owned();
    let failed = doomed.save(&alice).await;
    emulator.faults().remove(fault);
    match failed {
        Ok(()) => {
            return Err(CliError::Other(
                "the write succeeded despite the injected CDMS failure".to_owned(),
            ))
        }
        Err(e) => println!(
            "the update fails (CDMS answered HTTP 500 {} times): {e}",
            emulator.faults().fired(fault)
        ),
    }
    let local = Organisation::objects(&db)
        .skip_cdms()
        .filter(f.cdms_id.eq(first_id))
        .get()
        .await?;
    let cdms_name = emulator
        .get(Organisation::CDMS.set, first_id)
        .and_then(|r| r.get("Name").cloned());
    println!(
        "local name is still {:?}; CDMS has {}; local row unchanged: {}",
        local.name,
        cdms_name.unwrap_or_default(),
        local == org
    );

    section("7. History of the organisation");
    let mut previous: Option<serde_json::Map<String, serde_json::Value>> = None;
    for v in org.versions(&db).await? {
        println!(
            "  #{:<6} {:<15} {:<20} {}  {}",
            v.id,
            v.kind.as_str(),
            v.actor.as_deref().unwrap_or("-"),
            format_datetime(&v.at),
            changes(previous.as_ref(), &v.snapshot)
        );
        previous = Some(v.snapshot);
    }

    section("8. Drift report");
    let status = bulk::status(&Bulk::new(&db, remote.clone()), &metas, 3).await?;
    print!("{status}");

    section("Summary");
    for meta in &metas {
        let local = cdms_runtime::store::rows::count(
            &db,
            meta.entity,
            &cdms_runtime::store::ReadSpec::all(meta.entity),
        )
        .await?;
        println!(
            "  {:<14} {:>7} local rows, {:>7} in CDMS",
            meta.entity.name,
            local,
            emulator.count(meta.set)
        );
    }
    let metrics = client.metrics().snapshot();
    println!(
        "  CDMS requests: {} (emulator saw {})",
        requests_by_verb(&metrics),
        emulator.log().len()
    );
    println!(
        "  total time {:.1}s (initial load {:.1}s)",
        started.elapsed().as_secs_f64(),
        load_secs
    );
    db.close().await;
    server.shutdown().await?;
    Ok(if status.drift() {
        Outcome::Drift
    } else {
        Outcome::Ok
    })
}
