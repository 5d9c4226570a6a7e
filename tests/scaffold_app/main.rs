//! The application a scaffolded model is compiled into by `tests/cdms_scaffold.rs`: it creates
//! the tables of the generated entities, loads them from CDMS_URL into DATABASE_URL, and reports
//! the drift status (exit code 3 on drift).

mod cdms;

use std::process::ExitCode;
use std::sync::Arc;

use cdms_runtime::cdms::bulk::{self, Bulk, LoadOptions, Loader};
use cdms_runtime::cdms::{CdmsClient, CdmsMeta, CdmsRemote, SyncConfig};
use cdms_runtime::Db;

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let cdms_url = std::env::var("CDMS_URL")?;
    let database_url = std::env::var("DATABASE_URL")?;
    let db = Db::connect(&database_url).await?;
    db.migrate(cdms::entities()).await?;
    let metas: Vec<&'static CdmsMeta> = cdms::entities()
        .iter()
        .filter_map(|e| CdmsMeta::of(e))
        .collect();
    let client = CdmsClient::builder(cdms_url).build()?;
    let remote = Arc::new(CdmsRemote::new(client, SyncConfig::default()));
    let bulk = Bulk::new(&db, remote);
    let report = Loader::new(bulk.clone(), LoadOptions::default())
        .run(&metas)
        .await?;
    println!("loaded {} records", report.records());
    let status = bulk::status(&bulk, &metas, 5).await?;
    println!("{status}");
    Ok(if status.drift() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
