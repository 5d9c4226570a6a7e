//! `backfill`, and what `migrate` and `load` say about changed CDMS mappings.

use crate::cdms::bulk::{mapping, BackfillReport, Backfiller, Bulk};
use crate::{Db, EntityMeta};
use clap::Args;

use super::args::{BatchArgs, CdmsArgs, DbArgs, EntityArgs, WorkerArgs};
use super::commands::{migrate, requests_by_verb, stop_on_ctrl_c};
use super::render::Reporter;
use super::{CliError, Outcome};

/// Options of `backfill`.
#[derive(Debug, Clone, Args)]
pub struct BackfillArgs {
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
}

/// Prints what a backfill did.
pub fn print_backfill(report: &BackfillReport) {
    for e in &report.entities {
        if e.stale_before == 0 {
            println!("{:<14} backfill: nothing stale", e.entity);
            continue;
        }
        println!(
            "{:<14} backfill of {}: {} stale rows, {} records read, {} rows changed, {} quarantined, {} still stale{}",
            e.entity,
            e.properties.join(", "),
            e.stale_before,
            e.records,
            e.updated,
            e.quarantined,
            e.stale_left,
            if e.complete { "" } else { " (incomplete)" }
        );
    }
}

/// `backfill`.
pub async fn backfill(
    args: &BackfillArgs,
    all: &'static [&'static EntityMeta],
    reporter: &Reporter,
) -> Result<Outcome, CliError> {
    let entities = args.entities.select(all)?;
    let db = args.db.connect().await?;
    migrate(&db, all).await?;
    let remote = args.cdms.remote()?;
    let bulk = args
        .worker
        .apply(Bulk::new(&db, remote.clone()).progress(reporter.progress.clone()));
    stop_on_ctrl_c(bulk.stop_signal().clone());
    let options = args.batch.options(&args.worker);
    let report = Backfiller::new(bulk, options).run(&entities).await?;
    print_backfill(&report);
    println!(
        "CDMS requests: {}",
        requests_by_verb(&remote.client().metrics().snapshot())
    );
    db.close().await;
    if report.stopped {
        eprintln!("the backfill stopped before the end; run `cdms-sync backfill` again to resume from the checkpoints");
        return Ok(Outcome::Interrupted);
    }
    if report.stale_left() > 0 {
        println!(
            "{} rows are still stale (quarantined or gone from CDMS): `cdms-sync status` lists them",
            report.stale_left()
        );
        return Ok(Outcome::Drift);
    }
    Ok(Outcome::Ok)
}

/// For `migrate`: the CDMS properties mapped or changed since the mapping was recorded, which a
/// backfill will fill once the columns exist. Prints nothing when the mappings are unchanged.
pub async fn mapping_notes(db: &Db, entities: &[&'static EntityMeta]) -> Result<(), CliError> {
    for meta in entities.iter().filter_map(|m| crate::cdms::CdmsMeta::of(m)) {
        let Some(change) = mapping::pending(db, meta).await? else {
            continue;
        };
        if change.needs_backfill() {
            let mut properties = change.added.clone();
            properties.extend(change.changed.iter().cloned());
            println!(
                "-- {} ({}): the CDMS mapping changed; rows loaded before lack {}: after migrating, \
                 run `cdms-sync backfill` (or `cdms-sync load`) to fetch them",
                change.entity,
                change.set,
                properties.join(", ")
            );
        }
        if !change.removed.is_empty() {
            println!(
                "-- {} ({}): no longer mapped: {} (their columns stay as local columns unless a \
                 reviewed migration drops them)",
                change.entity,
                change.set,
                change.removed.join(", ")
            );
        }
    }
    Ok(())
}
