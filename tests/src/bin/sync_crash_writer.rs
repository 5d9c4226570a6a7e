//! A writer for the crash test (`tests/tests/sync_crash.rs`): creates organisations
//! `<tag>-0` … `<tag>-<n-1>` through the sync layer with `get_or_create` (so a rerun after a crash
//! finds what CDMS already holds instead of creating it twice), and after each one saves a new
//! telephone number on organisation `<tag>-0`. The test kills it with SIGKILL at random moments
//! and starts it again until it finishes.
//!
//! Usage: `sync_crash_writer DATABASE_URL CDMS_URL TAG N`

use std::process::ExitCode;

use cdms_entities::Organisation;
use cdms_runtime::cdms::{CdmsClient, CdmsRemote, SyncConfig};
use cdms_runtime::query::EntityExt;
use cdms_runtime::Db;

async fn run(database_url: &str, cdms_url: &str, tag: &str, n: usize) -> cdms_runtime::Result<()> {
    let db = Db::connect(database_url).await?;
    let client = CdmsClient::builder(cdms_url).build()?;
    let remote = CdmsRemote::new(client, SyncConfig::default());
    let db = remote.attach(&db).as_actor("crash-writer");
    let f = Organisation::fields();
    for i in 0..n {
        let name = format!("{tag}-{i}");
        let mut default = cdms_tests::sync_support::new_org(&name);
        default.account_number = Some(format!("{i}"));
        Organisation::objects(&db)
            .get_or_create(f.name.eq(name.clone()), default)
            .await?;
        let mut first = Organisation::objects(&db)
            .filter(f.name.eq(format!("{tag}-0")))
            .get()
            .await?;
        first.telephone = Some(format!("after {i}"));
        first.save(&db).await?;
    }
    db.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, database_url, cdms_url, tag, n] = args.as_slice() else {
        eprintln!("usage: sync_crash_writer DATABASE_URL CDMS_URL TAG N");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a number");
        return ExitCode::from(2);
    };
    match run(database_url, cdms_url, tag, n).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
