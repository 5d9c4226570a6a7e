//! `migrate`, `load`, `poll` and `status` (`backfill` is in `backfill.rs`).

use std::time::Duration;

use crate::cdms::bulk::{self, Bulk, LoadReport, Loader, PollOptions, PollReport, Poller, Stop};
use crate::cdms::{CdmsMeta, MetricsSnapshot, Verb};
use crate::store::schema;
use crate::{Db, EntityMeta};
use clap::Args;

use super::args::{count_in, BatchArgs, CdmsArgs, DbArgs, EntityArgs, WorkerArgs, MAX_SECS};
use super::render::Reporter;
use super::{CliError, Outcome};

/// Creates or updates the local tables of every entity (and the sync's state tables).
pub async fn migrate(db: &Db, entities: &[&'static EntityMeta]) -> Result<(), CliError> {
    Ok(bulk::state::migrate_all(db, entities).await?)
}

/// `migrate` and its modes.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    /// The database.
    pub db: DbArgs,
    /// Print the plan (live schema → entities) as SQL for this database, change nothing.
    #[arg(long, conflicts_with_all = ["write", "apply", "check"])]
    pub plan: bool,
    /// Write the plan as a versioned migration file (`<version>_<description>.sql`, sqlx's
    /// layout) into DIR for review, change nothing.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["apply", "check"])]
    pub write: Option<std::path::PathBuf>,
    /// Apply the migration files of DIR not yet recorded in the database (in version order,
    /// each in a transaction), then the safe steps left, then report drift (exit code 3).
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub apply: Option<std::path::PathBuf>,
    /// Report drift between the database, its recorded migrations, the files of DIR and the
    /// entities, change nothing (exit code 3 when anything differs).
    #[arg(long, value_name = "DIR")]
    pub check: Option<std::path::PathBuf>,
}

/// Runs `migrate` in the mode `args` asks for.
pub async fn migrate_command(
    args: &MigrateArgs,
    entities: &'static [&'static EntityMeta],
) -> Result<Outcome, CliError> {
    let db = args.db.connect().await?;
    let outcome = if args.plan {
        let plan = db.plan(entities).await?;
        if plan.is_empty() {
            println!("-- the local tables match the entities");
        } else {
            print!("{}", plan.to_sql());
        }
        super::backfill::mapping_notes(&db, entities).await?;
        Outcome::Ok
    } else if let Some(dir) = &args.write {
        let plan = db.plan(entities).await?;
        match schema::files::write(&plan, dir, "schema plan")? {
            Some(file) => println!(
                "wrote {} ({} step(s), {} risky): review it, then run `cdms-sync migrate --apply {}`",
                file.path.display(),
                plan.steps.len(),
                plan.risky().count(),
                dir.display()
            ),
            None => println!("the local tables match the entities: no file written"),
        }
        Outcome::Ok
    } else if let Some(dir) = &args.apply {
        let applied = db.apply_migrations(dir).await?;
        println!("applied {} migration file(s): {applied:?}", applied.len());
        migrate(&db, entities).await?;
        super::backfill::mapping_notes(&db, entities).await?;
        report_drift(&db.drift(Some(dir), entities).await?)
    } else if let Some(dir) = &args.check {
        report_drift(&db.drift(Some(dir), entities).await?)
    } else {
        migrate(&db, entities).await?;
        println!("the local tables are up to date");
        super::backfill::mapping_notes(&db, entities).await?;
        Outcome::Ok
    };
    db.close().await;
    Ok(outcome)
}

fn report_drift(drift: &schema::Drift) -> Outcome {
    print!("{drift}");
    if drift.is_clean() {
        Outcome::Ok
    } else {
        Outcome::Drift
    }
}

/// Fires `stop` on the first Ctrl-C; a second one exits at once.
pub fn stop_on_ctrl_c(stop: Stop) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!(
                "interrupted: finishing the current batch (Ctrl-C again to quit at once)"
            );
            stop.stop();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}

/// Requests by verb, e.g. `GET 412, POST 3, MERGE 2`.
pub fn requests_by_verb(m: &MetricsSnapshot) -> String {
    let parts: Vec<String> = [Verb::Get, Verb::Post, Verb::Merge, Verb::Delete]
        .into_iter()
        .filter(|v| m.requests(*v) > 0)
        .map(|v| format!("{v} {}", m.requests(v)))
        .collect();
    let mut text = if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    };
    if m.retries > 0 {
        text.push_str(&format!(" ({} retries)", m.retries));
    }
    text
}

/// Options of `load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub cdms: CdmsArgs,
    #[command(flatten)]
    pub entities: EntityArgs,
    #[command(flatten)]
    pub worker: WorkerArgs,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// Forget earlier checkpoints of the selected entities and load them again from the start
    /// (rows already loaded are refreshed, not duplicated).
    #[arg(long)]
    pub restart: bool,
}

fn print_load(report: &LoadReport, metrics: &MetricsSnapshot) {
    println!(
        "{:<14} {:>9} {:>7} {:>11} {:>9} {:>10} {:>11}",
        "entity", "records", "pages", "partitions", "seconds", "records/s", "quarantined"
    );
    for e in &report.entities {
        let rate = if e.elapsed.as_secs_f64() > 0.0 {
            e.records as f64 / e.elapsed.as_secs_f64()
        } else {
            0.0
        };
        let note = match (e.already_done, e.complete) {
            (true, _) => "  (already loaded)",
            (false, true) => "",
            (false, false) => "  (incomplete)",
        };
        println!(
            "{:<14} {:>9} {:>7} {:>11} {:>9.1} {:>10.0} {:>11}{note}",
            e.entity,
            e.records,
            e.pages,
            format!("{}/{}", e.claimed, e.partitions),
            e.elapsed.as_secs_f64(),
            rate,
            e.quarantined
        );
    }
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        report.records() as f64 / secs
    } else {
        0.0
    };
    println!(
        "{} records in {secs:.1}s ({rate:.0}/s); CDMS requests: {}",
        report.records(),
        requests_by_verb(metrics)
    );
    let future: u64 = report.entities.iter().map(|e| e.future_stamps).sum();
    if future > 0 {
        println!(
            "{future} records are stamped more than a day in the future (a placeholder date?): \
             loaded, but never used as a partition bound or the poll watermark"
        );
    }
    let quarantined: u64 = report.entities.iter().map(|e| e.quarantined).sum();
    if quarantined > 0 {
        println!(
            "{quarantined} records could not be applied and were quarantined (the others were \
             loaded); `cdms-sync status` lists them with their CDMS ids and reasons"
        );
    }
    if let Some(backfill) = &report.backfill {
        super::backfill::print_backfill(backfill);
    }
}

/// `load`.
pub async fn load(
    args: &LoadArgs,
    all: &'static [&'static EntityMeta],
    reporter: &Reporter,
) -> Result<Outcome, CliError> {
    let entities = args.entities.select(all)?;
    let db = args.db.connect().await?;
    migrate(&db, all).await?;
    let remote = args.cdms.remote()?;
    let bulk = args.worker.apply(
        Bulk::new(&db.as_actor("cdms-sync load"), remote.clone())
            .progress(reporter.progress.clone()),
    );
    if args.restart {
        for meta in &entities {
            bulk::state::reset(&db, meta.set, false).await?;
        }
    }
    stop_on_ctrl_c(bulk.stop_signal().clone());
    let options = args.batch.options(&args.worker);
    tracing::info!(
        worker = bulk.worker_id(),
        cdms = remote.client().service_url(),
        "loading"
    );
    let report = Loader::new(bulk, options).run(&entities).await?;
    print_load(&report, &remote.client().metrics().snapshot());
    db.close().await;
    if report.complete() {
        Ok(Outcome::Ok)
    } else {
        eprintln!("the load stopped before the end; run `cdms-sync load` again to resume from the checkpoints");
        Ok(Outcome::Interrupted)
    }
}

/// Options of `poll`.
#[derive(Debug, Clone, Args)]
pub struct PollArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub cdms: CdmsArgs,
    #[command(flatten)]
    pub entities: EntityArgs,
    #[command(flatten)]
    pub worker: WorkerArgs,
    /// Poll once and exit.
    #[arg(long, conflicts_with = "interval")]
    pub once: bool,
    /// Seconds between the starts of two polls (continuous mode, until Ctrl-C).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=MAX_SECS)
    )]
    pub interval: u64,
    /// Seconds before the watermark each poll starts reading again.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=MAX_SECS)
    )]
    pub overlap: u64,
    /// Seconds between id reconciliations (which find records deleted in CDMS); 0 reconciles on
    /// every poll.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(0..=MAX_SECS)
    )]
    pub reconcile_every: u64,
    /// Never reconcile ids.
    #[arg(long, conflicts_with = "reconcile_every")]
    pub no_reconcile: bool,
}

fn print_poll(report: &PollReport) {
    for e in &report.entities {
        if let Some(why) = &e.skipped {
            println!("{:<14} skipped: {why}", e.entity);
            continue;
        }
        let watermark = e
            .watermark
            .map_or_else(|| "-".to_owned(), |w| crate::types::format_datetime(&w));
        println!(
            "{:<14} read {:>6}, new {:>5}, updated {:>5} ({} same-second), deleted {:>4}, quarantined {}{}{}  watermark {watermark}",
            e.entity,
            e.fetched,
            e.inserted + e.recovered,
            e.updated,
            e.same_second,
            e.deleted,
            e.quarantined,
            if e.delete_refused > 0 { format!(" ({} kept: still referenced)", e.delete_refused) } else { String::new() },
            if e.reconciled { ", ids reconciled" } else { "" },
        );
        if e.future_stamps > 0 {
            println!(
                "{:<14} {} records stamped more than a day in the future: applied, never used as the watermark",
                "", e.future_stamps
            );
        }
    }
}

/// `poll`.
pub async fn poll(
    args: &PollArgs,
    all: &'static [&'static EntityMeta],
    reporter: &Reporter,
) -> Result<Outcome, CliError> {
    let entities = args.entities.select(all)?;
    let db = args.db.connect().await?;
    migrate(&db, all).await?;
    let remote = args.cdms.remote()?;
    let bulk = args.worker.apply(
        Bulk::new(&db.as_actor("cdms-sync poll"), remote).progress(reporter.progress.clone()),
    );
    stop_on_ctrl_c(bulk.stop_signal().clone());
    let options = PollOptions {
        overlap: Duration::from_secs(args.overlap),
        reconcile_every: (!args.no_reconcile).then(|| Duration::from_secs(args.reconcile_every)),
        lease: args.worker.lease(),
        ..PollOptions::default()
    };
    let poller = Poller::new(bulk, options);
    if args.once {
        let report = poller.once(&entities).await?;
        print_poll(&report);
    } else {
        let polls = poller
            .run(&entities, Duration::from_secs(args.interval.max(1)), |r| {
                if r.changes() > 0 || r.entities.iter().any(|e| e.reconciled) {
                    print_poll(r);
                }
            })
            .await?;
        tracing::info!(polls, "stopped");
    }
    db.close().await;
    Ok(Outcome::Ok)
}

/// Options of `status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub cdms: CdmsArgs,
    #[command(flatten)]
    pub entities: EntityArgs,
    /// Examples of each kind of drift to show per entity.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = count_in(0, 10_000))]
    pub sample: usize,
}

/// `status`: exit code 3 when the two sides differ.
pub async fn status(
    args: &StatusArgs,
    all: &'static [&'static EntityMeta],
    reporter: &Reporter,
) -> Result<Outcome, CliError> {
    let entities: Vec<&'static CdmsMeta> = args.entities.select(all)?;
    let db = args.db.connect().await?;
    migrate(&db, all).await?;
    let bulk = Bulk::new(&db, args.cdms.remote()?).progress(reporter.progress.clone());
    stop_on_ctrl_c(bulk.stop_signal().clone());
    let report = bulk::status(&bulk, &entities, args.sample).await?;
    print!("{report}");
    db.close().await;
    Ok(if report.drift() {
        Outcome::Drift
    } else {
        Outcome::Ok
    })
}
