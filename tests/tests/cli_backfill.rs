//! `cdms-sync backfill` through the binary: after `load`, a changed mapping of one property
//! (the record says it was mapped differently, and the column lost its values) is reported by
//! `migrate --plan` and `status`, and `backfill` fetches it again for every row.

use std::time::Duration;

use cdms_entities::Organisation;
use cdms_runtime::cdms::Synced;
use cdms_runtime::emulator::Clock;
use cdms_runtime::store::{Backend, Param};
use cdms_runtime::{Kind, Value};
use cdms_tests::bulk_support::{backends, cdms_sync, BulkEnv, Spawned};
use chrono::{DateTime, Utc};

async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = cdms_sync();
    cmd.args(args);
    let mut spawned = Spawned::new(cmd);
    let status = spawned.wait(Duration::from_secs(180)).await;
    (status.code(), spawned.stdout(), spawned.stderr())
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_583_143_200, 0).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_backfill_refills_a_property_whose_mapping_changed() {
    for local in backends().await {
        let label = local.label;
        let env = BulkEnv::new(local, 60, Clock::manual(start()), |b| b).await;
        let db = env.database_url();
        let cdms = env.emu.base_url();
        let args = |cmd: &'static str| vec![cmd, "--database-url", &db, "--cdms-url", &cdms];

        let (code, out, err) = run(&args("load")).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
        assert!(!out.contains("backfill"), "[{label}] {out}");
        let (code, out, err) = run(&args("status")).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");

        // The record says Telephone1 was mapped as another kind, and the column is empty: what
        // rows loaded under an older mapping look like.
        let local_db = env.db();
        let (p1, p2) = match local_db.backend() {
            Backend::Sqlite => ("?", "?"),
            Backend::Postgres => ("$1", "$2"),
        };
        let changed = local_db
            .execute_raw(
                &format!("UPDATE cdms_sync_mapping SET fingerprint = {p1} WHERE record_key = {p2}"),
                &[
                    Param::new(Value::Text("Edm.Int32; local Int32".into()), Kind::Text),
                    Param::new(
                        Value::Text(format!("{}/Telephone1", Organisation::CDMS.set)),
                        Kind::Text,
                    ),
                ],
            )
            .await
            .expect("the record of an older mapping");
        assert_eq!(changed, 1, "[{label}]");
        local_db
            .execute_raw(
                &format!("UPDATE cdms_sync_mapping SET fingerprint = {p1} WHERE record_key = {p2}"),
                &[
                    Param::new(Value::Text("older".into()), Kind::Text),
                    Param::new(
                        Value::Text(format!("{}/", Organisation::CDMS.set)),
                        Kind::Text,
                    ),
                ],
            )
            .await
            .unwrap();
        local_db
            .execute_raw("UPDATE organisation SET telephone = NULL", &[])
            .await
            .unwrap();

        let (code, out, err) = run(&["migrate", "--plan", "--database-url", &db]).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
        assert!(
            out.contains("Organisation (AccountSet): the CDMS mapping changed")
                && out.contains("Telephone1")
                && out.contains("cdms-sync backfill"),
            "[{label}] {out}"
        );
        let (code, out, err) = run(&args("status")).await;
        assert_eq!(code, Some(3), "[{label}] {out}{err}");
        assert!(
            out.contains("stale:") && out.contains("lack Telephone1"),
            "[{label}] {out}"
        );

        let (code, out, err) = run(&args("backfill")).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
        assert!(out.contains("backfill of Telephone1"), "[{label}] {out}");
        let (code, out, err) = run(&args("status")).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");

        let orgs = Organisation::objects(local_db)
            .skip_cdms()
            .all()
            .await
            .unwrap();
        assert!(!orgs.is_empty());
        for org in &orgs {
            let id = org.cdms_id.expect("synced");
            let record = env.emulator().get(Organisation::CDMS.set, id).unwrap();
            assert_eq!(
                org.telephone.as_deref(),
                record["Telephone1"].as_str(),
                "[{label}] {id}"
            );
        }
        let (code, out, err) = run(&args("backfill")).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
        assert!(out.contains("nothing stale"), "[{label}] {out}");
    }
}
