//! `cdms-sync load` against a CDMS holding bad records among thousands of good ones: it loads
//! all the others, says how many it quarantined, and `status` names the bad ones. (A blanked
//! name is not bad for the example entities: they map CRM's null name with `null = default`.)

use std::time::Duration;

use cdms_entities::demo_data::{self, DemoScale};
use cdms_entities::Organisation;
use cdms_tests::bulk_support::{backends, cdms_sync, Spawned};
use serde_json::json;
use uuid::Uuid;

async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = cdms_sync();
    cmd.args(args);
    let mut spawned = Spawned::new(cmd);
    let status = spawned.wait(Duration::from_secs(240)).await;
    (status.code(), spawned.stdout(), spawned.stderr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_skips_bad_records_and_status_names_them() {
    let emulator = demo_data::emulator_builder().build().expect("emulator");
    let seeded = demo_data::seed(&emulator, DemoScale::organisations(2_000)).expect("seed");
    let ghost = Uuid::new_v4();
    let dangling = emulator
        .insert(
            "AccountSet",
            json!({
                "Name": "Dangling Ltd",
                "DoNotEMail": false,
                "optevia_Country": {"Id": ghost.to_string(), "LogicalName": "optevia_country"},
            }),
        )
        .expect("insert");
    // A null in a field the local struct requires (`do_not_email: bool`).
    let null_flag = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Null Flag Ltd", "DoNotEMail": null}),
        )
        .expect("insert");
    // A blanked name: CRM stores "" as null; `Name` maps it with `null = default`.
    let blank = emulator
        .insert("AccountSet", json!({"Name": "", "DoNotEMail": false}))
        .expect("insert");
    // A "no date" placeholder as ModifiedOn: loaded, never trusted as a bound.
    let placeholder = emulator
        .insert(
            "AccountSet",
            json!({"Name": "Placeholder Ltd", "DoNotEMail": false}),
        )
        .expect("insert");
    let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z")
        .expect("date")
        .with_timezone(&chrono::Utc);
    emulator
        .set_modified("AccountSet", placeholder, far)
        .expect("stamp");
    let running = emulator.serve("127.0.0.1:0").await.expect("serve");
    let cdms = running.base_url();
    for local in backends().await {
        let label = local.label;
        let db = local.url.as_str();
        let (code, out, err) = run(&["migrate", "--database-url", db]).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
        let (code, out, err) = run(&["load", "--database-url", db, "--cdms-url", &cdms]).await;
        assert_eq!(code, Some(0), "[{label}] the load finishes:\n{out}{err}");
        assert!(
            out.contains("2 records could not be applied and were quarantined"),
            "[{label}] {out}"
        );
        let loaded = Organisation::objects(&local.db.skip_cdms())
            .count()
            .await
            .unwrap();
        assert_eq!(
            loaded as usize,
            seeded.organisations + 2,
            "[{label}] every other organisation is loaded, the blank name and the placeholder too"
        );
        assert!(
            out.contains("1 records are stamped more than a day in the future"),
            "[{label}] {out}"
        );
        let f = Organisation::fields();
        let blanked = Organisation::objects(&local.db.skip_cdms())
            .filter(f.cdms_id.eq(blank))
            .get()
            .await
            .unwrap();
        assert_eq!(blanked.name, "", "[{label}]");
        for id in [dangling, null_flag] {
            assert!(
                err.contains(&id.to_string()),
                "[{label}] the skip is a warning naming the record:\n{err}"
            );
        }

        let (code, out, err) = run(&["status", "--database-url", db, "--cdms-url", &cdms]).await;
        assert_eq!(
            code,
            Some(3),
            "[{label}] quarantine counts as drift:\n{out}{err}"
        );
        let line = |id: Uuid| {
            out.lines()
                .find(|l| l.contains("quarantined:") && l.contains(&id.to_string()))
                .unwrap_or_else(|| panic!("[{label}] no quarantine line for {id}:\n{out}"))
                .to_owned()
        };
        let dangling_line = line(dangling);
        assert!(dangling_line.contains("optevia_Country"), "{dangling_line}");
        assert!(dangling_line.contains("dangling"), "{dangling_line}");
        let null_line = line(null_flag);
        assert!(null_line.contains("DoNotEMail"), "{null_line}");
        assert!(null_line.contains("not optional"), "{null_line}");

        // A rerun is idempotent: nothing new, the entry is still there.
        let (code, out, err) = run(&["load", "--database-url", db, "--cdms-url", &cdms]).await;
        assert_eq!(code, Some(0), "[{label}] {out}{err}");
    }
    running.shutdown().await.expect("shutdown");
}
