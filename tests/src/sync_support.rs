//! Shared pieces of the `sync_*` tests: a served CDMS emulator on a manual clock, a local
//! database per backend with the example entities, a [`CdmsRemote`] attached to it, helpers to
//! edit "in CDMS" as other users would, to count requests, and to snapshot the local store.
//!
//! Also [`Node`], a test entity whose lookups can form chains and cycles (`ParentId`).

use std::time::Duration;

use cdms_entities::{BusinessType, Contact, Country, Organisation, Sector, UkRegion};
use cdms_runtime::cdms::{CdmsClient, CdmsRemote, RetryPolicy, SyncConfig, Synced};
use cdms_runtime::emulator::{Clock, Emulator, EmulatorBuilder, RequestRecord, RunningEmulator};
use cdms_runtime::store::history::HISTORY;
use cdms_runtime::store::{rows, ReadSpec};
use cdms_runtime::{CdmsSynced, Db, Entity, EntityMeta, Ref, Row};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::db::{backends, TestDb};

/// A node of a graph synced with CDMS set `new_nodeSet`: its parent lookup can form chains and
/// cycles, for the reference-resolution tests.
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[entity(table = "node")]
#[cdms(service = "new_node")]
pub struct Node {
    /// Local key.
    #[entity(primary_key)]
    pub id: i64,
    /// CDMS id.
    #[entity(unique)]
    #[cdms(field = "new_nodeId", id)]
    pub cdms_id: Option<Uuid>,
    /// `ModifiedOn`.
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// `CreatedOn`.
    #[entity(created)]
    pub created_on: Option<DateTime<Utc>>,
    /// Name.
    #[cdms(field = "new_name")]
    pub name: String,
    /// The parent node.
    #[cdms(field = "new_ParentId")]
    pub parent: Option<Ref<Node>>,
}

/// The entities the sync tests migrate, referenced entities first.
pub fn entities() -> Vec<&'static EntityMeta> {
    let mut all: Vec<&'static EntityMeta> = cdms_entities::all_entities().to_vec();
    all.push(<Node as Entity>::META);
    all
}

/// The emulator's starting instant: 2016-01-31T13:05:09Z.
pub fn start_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(1_454_245_509, 0).unwrap_or_default()
}

/// An emulator builder serving every example entity set and `new_nodeSet`, on a manual clock.
pub fn emulator_builder(clock: &Clock) -> EmulatorBuilder {
    Emulator::builder()
        .set(<Country as Synced>::CDMS)
        .set(<Sector as Synced>::CDMS)
        .set(<UkRegion as Synced>::CDMS)
        .set(<BusinessType as Synced>::CDMS)
        .set(<Organisation as Synced>::CDMS)
        .set(<Contact as Synced>::CDMS)
        .set(<Node as Synced>::CDMS)
        .clock(clock.clone())
}

/// One test environment: a local database (one backend), the emulator, the remote.
pub struct SyncEnv {
    /// The local database (kept alive for the test).
    pub local: TestDb,
    /// The served emulator.
    pub emu: RunningEmulator,
    /// The emulator's clock.
    pub clock: Clock,
    /// The sync remote.
    pub remote: CdmsRemote,
    /// The local handle with the remote attached, acting as `"tester"`.
    pub db: Db,
}

impl std::fmt::Debug for SyncEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.local.label)
    }
}

/// A client of `emu` that never retries (a fault fires exactly once per request).
pub fn client(emu: &RunningEmulator) -> CdmsClient {
    CdmsClient::builder(emu.base_url())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

impl SyncEnv {
    /// An environment on `local` with the default sync settings.
    pub async fn new(local: TestDb) -> SyncEnv {
        Self::with(local, SyncConfig::default(), |b| b).await
    }

    /// An environment on `local` with `config`, the emulator customised by `customize`.
    pub async fn with(
        local: TestDb,
        config: SyncConfig,
        customize: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
    ) -> SyncEnv {
        local.db.migrate(&entities()).await.expect("migrate");
        let clock = Clock::manual(start_instant());
        let emulator = customize(emulator_builder(&clock))
            .build()
            .expect("emulator");
        let emu = emulator.serve("127.0.0.1:0").await.expect("serve");
        let remote = CdmsRemote::new(client(&emu), config);
        let db = remote.attach(&local.db).as_actor("tester");
        SyncEnv {
            local,
            emu,
            clock,
            remote,
            db,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn label(&self) -> &'static str {
        self.local.label
    }

    /// The emulator.
    pub fn emulator(&self) -> &Emulator {
        self.emu.emulator()
    }

    /// Moves the emulator's clock on by one second (CDMS stamps whole seconds).
    pub fn tick(&self) {
        self.clock.advance(Duration::from_secs(1));
    }

    /// Creates a record in CDMS directly (as another CDMS user would), one second later than the
    /// previous change.
    pub fn seed(&self, set: &str, props: J) -> Uuid {
        self.tick();
        self.emulator().insert(set, props).expect("seed")
    }

    /// Changes a record in CDMS directly (as another CDMS user would), one second later.
    pub fn edit(&self, set: &str, id: Uuid, props: J) {
        self.tick();
        self.emulator().update(set, id, props).expect("edit");
    }

    /// The record as CDMS holds it.
    pub fn record(&self, set: &str, id: Uuid) -> Map<String, J> {
        self.emulator().get(set, id).expect("record exists in CDMS")
    }

    /// A country in CDMS.
    pub fn seed_country(&self, name: &str, iso2: &str) -> Uuid {
        self.seed(
            "optevia_countrySet",
            json!({"optevia_Country": name, "optevia_ISOCountry2": iso2}),
        )
    }

    /// An account in CDMS with `name` and extra properties.
    pub fn seed_account(&self, name: &str, extra: J) -> Uuid {
        let mut props = json!({"Name": name, "DoNotEMail": false});
        if let (Some(p), J::Object(extra)) = (props.as_object_mut(), extra) {
            p.extend(extra);
        }
        self.seed("AccountSet", props)
    }

    /// The organisation with CDMS id `id`, read through the sync layer (a synced `get`).
    pub async fn synced_account(&self, id: Uuid) -> Organisation {
        let f = Organisation::fields();
        Organisation::objects(&self.db)
            .filter(f.cdms_id.eq(id))
            .get()
            .await
            .unwrap()
    }

    /// A contact in CDMS working for account `org`.
    pub fn seed_contact(&self, last_name: &str, org: Option<Uuid>) -> Uuid {
        let parent = match org {
            Some(id) => json!({"Id": id.to_string(), "LogicalName": "account"}),
            None => json!({"Id": null, "LogicalName": null, "Name": null}),
        };
        self.seed(
            "ContactSet",
            json!({"LastName": last_name, "DoNotPhone": false, "ParentCustomerId": parent}),
        )
    }

    /// Forgets the request log.
    pub fn reset_log(&self) {
        self.emulator().reset_log();
    }

    /// Every request since the last reset.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.emulator().requests()
    }

    /// How many requests since the last reset used `method` on `set`.
    pub fn count(&self, method: &str, set: &str) -> usize {
        self.emulator().request_count(method, set)
    }

    /// How many requests since the last reset, in all.
    pub fn total(&self) -> usize {
        self.emulator().log().len()
    }

    /// Keyed GETs (`Set(guid'…')`) and list GETs of `set` since the last reset.
    pub fn gets(&self, set: &str) -> (usize, usize) {
        let reqs = self.requests();
        let of_set = |r: &&RequestRecord| r.method == "GET" && r.set.as_deref() == Some(set);
        let keyed = reqs
            .iter()
            .filter(of_set)
            .filter(|r| r.path.contains("(guid"))
            .count();
        let lists = reqs
            .iter()
            .filter(of_set)
            .filter(|r| !r.path.contains("(guid"))
            .count();
        (keyed, lists)
    }

    /// The local store: every row of every entity and every history row (for "unchanged"
    /// comparisons).
    pub async fn snapshot(&self) -> Snapshot {
        let mut tables = Vec::new();
        for meta in entities() {
            tables.push(
                rows::select(&self.local.db, meta, &ReadSpec::all(meta))
                    .await
                    .expect("select"),
            );
        }
        let history = rows::select(&self.local.db, &HISTORY, &ReadSpec::all(&HISTORY))
            .await
            .expect("history");
        Snapshot { tables, history }
    }

    /// How many history versions are stored.
    pub async fn history_len(&self) -> usize {
        self.snapshot().await.history.len()
    }
}

/// Every local row, table by table, and the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Rows of [`entities`], in that order, by primary key.
    pub tables: Vec<Vec<Row>>,
    /// History rows by id.
    pub history: Vec<Row>,
}

/// One environment per backend (SQLite always, PostgreSQL when `DATABASE_URL` is set).
pub async fn envs() -> Vec<SyncEnv> {
    let mut out = Vec::new();
    for local in backends().await {
        out.push(SyncEnv::new(local).await);
    }
    out
}

/// [`envs`] with `config` and an emulator customisation.
pub async fn envs_with(
    config: SyncConfig,
    customize: impl Fn(EmulatorBuilder) -> EmulatorBuilder,
) -> Vec<SyncEnv> {
    let mut out = Vec::new();
    for local in backends().await {
        out.push(SyncEnv::with(local, config.clone(), &customize).await);
    }
    out
}

/// The CDMS `ModifiedOn` of a record body, as an instant.
pub fn modified_on(record: &Map<String, J>) -> DateTime<Utc> {
    record
        .get("ModifiedOn")
        .and_then(J::as_str)
        .and_then(cdms_runtime::cdms::wire::parse_date)
        .expect("ModifiedOn")
}

/// The string property `name` of a record body.
pub fn text<'a>(record: &'a Map<String, J>, name: &str) -> Option<&'a str> {
    record.get(name).and_then(J::as_str)
}

/// The sync error inside `e`, if any.
pub fn sync_error(e: &cdms_runtime::Error) -> Option<&cdms_runtime::cdms::SyncError> {
    cdms_runtime::cdms::SyncError::of(e)
}

/// A new (unsaved) organisation named `name`, every optional field empty.
pub fn new_org(name: &str) -> Organisation {
    Organisation::named(name)
}

/// A new (unsaved) contact, working for `org` when given.
pub fn new_contact(last_name: &str, org: Option<&Organisation>) -> Contact {
    Contact {
        id: 0,
        cdms_id: None,
        modified_on: DateTime::<Utc>::UNIX_EPOCH,
        created_on: None,
        first_name: None,
        last_name: last_name.to_owned(),
        email: None,
        telephone: None,
        job_title: None,
        birth_date: None,
        do_not_phone: false,
        annual_income: None,
        organisation: org.map(|o| Ref::new(o.id)),
        gender: None,
    }
}

/// A new (unsaved) node.
pub fn new_node(name: &str, parent: Option<&Node>) -> Node {
    Node {
        id: 0,
        cdms_id: None,
        modified_on: DateTime::<Utc>::UNIX_EPOCH,
        created_on: None,
        name: name.to_owned(),
        parent: parent.map(|p| Ref::new(p.id)),
    }
}
