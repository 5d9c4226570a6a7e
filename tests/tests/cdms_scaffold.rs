//! `scaffold`: entities generated from the emulator's `$metadata` compile as generated, in a
//! scratch application crate, and round-trip: that application loads every set from the
//! emulator and `status` finds it in sync.
//!
//! The sets: a code-built synthetic `new_widget` (about 200 properties of every kind CRM
//! publishes, a lookup to a scaffolded `new_gadget`, a polymorphic lookup, lookups to sets not
//! scaffolded) always, and the full-width real `AccountSet` and `ContactSet` when
//! `../shared/cdms-schema/` (or `$CDMS_SCHEMA_DIR`) is present.
//!
//! The scratch crate is built with this workspace's `Cargo.lock` and target directory, so the
//! dependencies already built for the tests are reused; the build time is printed.

use std::path::{Path, PathBuf};
use std::process::Command;

use cdms_runtime::cdms::scaffold::{self, Options};
use cdms_runtime::cdms::CdmsKind;
use cdms_runtime::emulator::{Emulator, SetSpec};
use cdms_tests::bulk_support::{backends, scratch};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

/// The kinds of the synthetic set's properties, cycled.
const KINDS: [CdmsKind; 11] = CdmsKind::ALL;

/// The synthetic full-width set: `(property, kind)`, the key and server-managed stamps aside.
fn widget_properties() -> Vec<(String, CdmsKind)> {
    let mut props: Vec<(String, CdmsKind)> = (0..196)
        .map(|i| {
            let name = match i % 4 {
                0 => format!("new_Field{i}"),
                1 => format!("Address{}_Line{i}", i % 3 + 1),
                2 => format!("new_UKThing{i}"),
                _ => format!("NEW_upper_{i}"),
            };
            (name, KINDS[i % KINDS.len()])
        })
        .collect();
    props.extend([
        ("new_GadgetId".to_owned(), CdmsKind::EntityReference),
        ("ParentCustomerId".to_owned(), CdmsKind::EntityReference),
        ("CreatedBy".to_owned(), CdmsKind::EntityReference),
        ("type".to_owned(), CdmsKind::String),
    ]);
    props
}

fn schema_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CDMS_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cdms-schema"));
    dir.join("AccountSet.tsv").is_file().then_some(dir)
}

/// `(set, tsv text)` of the real sets, when the schema files are there.
fn real_sets() -> Vec<(String, String)> {
    let Some(dir) = schema_dir() else {
        eprintln!("cdms-schema not found: scaffolding the synthetic set only");
        return Vec::new();
    };
    ["AccountSet", "ContactSet"]
        .iter()
        .map(|set| {
            let tsv = std::fs::read_to_string(dir.join(format!("{set}.tsv"))).expect("read tsv");
            ((*set).to_owned(), tsv)
        })
        .collect()
}

fn tsv_properties(tsv: &str) -> Vec<(String, CdmsKind)> {
    tsv.lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(name, kind)| {
            let kind = KINDS
                .iter()
                .copied()
                .find(|k| k.edm_type().rsplit('.').next() == Some(kind.trim()))?;
            Some((name.trim().to_owned(), kind))
        })
        .collect()
}

/// A value of `kind` for record `i` (every fourth one null).
fn value(kind: CdmsKind, i: usize, salt: usize) -> J {
    let n = i + salt;
    if n % 4 == 3 {
        return match kind {
            CdmsKind::Money | CdmsKind::OptionSetValue => json!({ "Value": null }),
            CdmsKind::EntityReference => json!({ "Id": null, "LogicalName": null, "Name": null }),
            _ => J::Null,
        };
    }
    match kind {
        CdmsKind::String => json!(format!("text {n} ünïcode 'quoted'")),
        CdmsKind::Boolean => json!(n.is_multiple_of(2)),
        CdmsKind::Int32 => json!(n as i64 - 50),
        CdmsKind::Int64 => json!(format!("{}", 9_000_000_000_i64 + n as i64)),
        CdmsKind::Decimal => json!(format!("{n}.125")),
        CdmsKind::Double => json!(n as f64 * 1.5),
        CdmsKind::DateTime => json!(format!(
            "/Date({})/",
            1_451_606_400_000_i64 + n as i64 * 86_400_000
        )),
        CdmsKind::Guid => json!(Uuid::from_u128(n as u128 + 1).to_string()),
        CdmsKind::Money => json!({ "Value": format!("{n}.5") }),
        CdmsKind::OptionSetValue => json!({ "Value": (n % 5) as i64 + 1 }),
        CdmsKind::EntityReference => {
            json!({ "Id": Uuid::from_u128(0xfeed_0000 + n as u128).to_string() })
        }
    }
}

/// A record of the set with properties `props`, key and server-managed properties left out.
fn record(props: &[(String, CdmsKind)], key: &str, i: usize) -> Map<String, J> {
    let managed = [
        "CreatedOn",
        "ModifiedOn",
        "VersionNumber",
        "OverriddenCreatedOn",
    ];
    props
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name != key && !managed.contains(&name.as_str()))
        .map(|(salt, (name, kind))| (name.clone(), value(*kind, i, salt)))
        .collect()
}

struct Served {
    emulator: Emulator,
    /// `(set, records)`
    counts: Vec<(String, usize)>,
}

fn emulator(real: &[(String, String)]) -> Served {
    let mut widget = SetSpec::new("new_widget", "new_widgetId");
    for (name, kind) in widget_properties() {
        widget = widget.property(&name, kind);
    }
    let widget = widget.lookup("new_GadgetId", &["new_gadget"]);
    let gadget = SetSpec::new("new_gadget", "new_gadgetId")
        .property("new_name", CdmsKind::String)
        .property("new_Weight", CdmsKind::Double);
    let mut builder = Emulator::builder().spec(gadget).spec(widget);
    for (set, tsv) in real {
        builder = builder.spec(SetSpec::from_tsv(set, tsv).expect("tsv spec"));
    }
    let emulator = builder.build().expect("emulator");
    let gadgets: Vec<Uuid> = (0..7)
        .map(|i| {
            emulator
                .insert(
                    "new_gadgetSet",
                    json!({"new_name": format!("gadget {i}"), "new_Weight": i}),
                )
                .expect("gadget")
        })
        .collect();
    let widget_props = widget_properties();
    for i in 0..120 {
        let mut body = record(&widget_props, "new_widgetId", i);
        body.insert(
            "new_GadgetId".into(),
            json!({ "Id": gadgets[i % gadgets.len()].to_string() }),
        );
        emulator
            .insert("new_widgetSet", J::Object(body))
            .expect("widget");
    }
    let mut counts = vec![
        ("new_gadgetSet".to_owned(), 7),
        ("new_widgetSet".to_owned(), 120),
    ];
    for (set, tsv) in real {
        let props = tsv_properties(tsv);
        let key = format!("{}Id", set.trim_end_matches("Set"));
        for i in 0..60 {
            emulator
                .insert(set, J::Object(record(&props, &key, i)))
                .unwrap_or_else(|e| panic!("{set} record {i}: {e}"));
        }
        counts.push((set.clone(), 60));
    }
    Served { emulator, counts }
}

/// Writes the scratch crate: the generated modules in `src/cdms/`, the application's
/// `main.rs`, a `Cargo.toml` depending on this workspace's runtime, the workspace's lock file.
fn scratch_crate(dir: &Path, files: &[scaffold::GeneratedFile]) {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("cdms")).expect("mkdir");
    for f in files {
        std::fs::write(src.join("cdms").join(&f.path), &f.contents).expect("write module");
    }
    std::fs::write(src.join("main.rs"), include_str!("../scaffold_app/main.rs")).expect("main.rs");
    scratch::write_manifest(
        dir,
        "scaffolded-app",
        r#"tokio = { version = "1", features = ["rt-multi-thread", "macros", "sync", "time", "net", "signal"] }"#,
    );
}

/// `rustfmt --check` of every generated file, when rustfmt is installed.
fn assert_rustfmt_clean(dir: &Path, files: &[scaffold::GeneratedFile]) {
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join("src/cdms").join(&f.path))
        .collect();
    let run = Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .args(&paths)
        .output();
    match run {
        Ok(out) => assert!(
            out.status.success(),
            "generated code is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(e) => eprintln!("rustfmt not run ({e}): formatting not checked"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdms_scaffold_compiles_and_round_trips() {
    let real = real_sets();
    let served = emulator(&real);
    let running = served.emulator.serve("127.0.0.1:0").await.expect("serve");
    let edmx = reqwest::get(format!("{}/$metadata", running.service_url()))
        .await
        .expect("GET $metadata")
        .text()
        .await
        .expect("$metadata text");

    let mut options = Options::sets(["new_widgetSet", "new_gadgetSet"])
        .lookup("new_widgetSet", "new_GadgetId", &["new_gadgetSet"])
        .exclude(["new_widgetSet.NEW_upper_3"]);
    options.sets.extend(real.iter().map(|(set, _)| set.clone()));
    let files = scaffold::generate(&edmx, &options).expect("scaffold");
    let widget = files
        .iter()
        .find(|f| f.path == Path::new("new_widget.rs"))
        .expect("new_widget.rs");
    assert!(widget
        .contents
        .contains("pub new_gadget_id: Option<Ref<super::new_gadget::NewGadget>>"));
    assert!(widget.contents.contains(
        "#[cdms(field = \"CreatedBy\", with = ::cdms_runtime::cdms::lookup::raw_id, read_only)]"
    ));
    assert!(!widget.contents.contains("NEW_upper_3\""), "excluded");
    if !real.is_empty() {
        let contact = files
            .iter()
            .find(|f| f.path == Path::new("contact.rs"))
            .expect("contact.rs");
        assert!(contact
            .contents
            .replace("\n    /// ", " ")
            .contains("A polymorphic lookup (account or contact)"));
    }

    let dir = tempfile::tempdir().expect("scratch dir");
    scratch_crate(dir.path(), &files);
    assert_rustfmt_clean(dir.path(), &files);
    let app = scratch::build(dir.path(), "scaffolded-app");

    for local in backends().await {
        let out = Command::new(&app)
            .env("CDMS_URL", running.base_url())
            .env("DATABASE_URL", &local.url)
            .output()
            .expect("run the scaffolded app");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{}: load + status of the scaffolded app failed ({}):\n{stdout}\n{stderr}",
            local.label,
            out.status
        );
        let total: usize = served.counts.iter().map(|(_, n)| n).sum();
        assert!(
            stdout.contains(&format!("loaded {total} records")),
            "{}: {stdout}",
            local.label
        );
        let in_sync = stdout
            .lines()
            .filter(|l| l.trim_end().ends_with("in sync"))
            .count();
        assert_eq!(
            in_sync,
            served.counts.len(),
            "{}: every set in sync:\n{stdout}",
            local.label
        );
    }
    running.shutdown().await.expect("shutdown");
}
