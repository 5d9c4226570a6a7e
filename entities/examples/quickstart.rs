//! The README's quickstart, runnable: `cargo run -p cdms-entities --example quickstart`.
//!
//! Serves the built-in CDMS emulator with a small demo data set, opens a SQLite file, and queries
//! organisations through CDMS and locally.

use cdms_entities::demo_data::{self, DemoScale};
use cdms_entities::{all_entities, Organisation};
use cdms_runtime::cdms::{CdmsClient, CdmsRemote, SyncConfig};
use cdms_runtime::prelude::*;
use rust_decimal::Decimal;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = demo_data::emulator_builder().build()?;
    demo_data::seed(&emulator, DemoScale::organisations(200))?;
    let cdms = emulator.serve("127.0.0.1:0").await?;

    let dir = tempfile::tempdir()?;
    let db = Db::sqlite(dir.path().join("quickstart.sqlite")).await?;
    db.migrate(all_entities()).await?;

    // Sync through CDMS (omit these two lines and the same code runs purely locally):
    let remote = CdmsRemote::new(
        CdmsClient::builder(cdms.base_url()).build()?,
        SyncConfig::default(),
    );
    let db = remote.attach(&db).as_actor("jane@example.org");

    let f = Organisation::fields();
    let found = Organisation::objects(&db)
        .filter(f.name.icontains("ltd") & !f.uk_organisation.eq(false))
        .exclude(f.created_on.year().eq(2015))
        .order_by([f.name.asc(), f.modified_on.desc()])
        .limit(20)
        .all()
        .await?;
    println!("{} organisations through CDMS, e.g.:", found.len());
    for org in found.iter().take(5) {
        println!("  {} ({:?})", org.name, org.address_city);
    }

    // Local only, CDMS not involved:
    let rich = Organisation::objects(&db)
        .skip_cdms()
        .filter(f.revenue.gt(Decimal::from(1_000_000)))
        .count()
        .await?;
    println!("{rich} of them report revenue over 1,000,000 (local count)");
    cdms.shutdown().await?;
    Ok(())
}
