//! SQL statements the store executes to refresh a page of 50 records through a synced filter,
//! counted by the store itself ([`Db::sql_counts`]): a page of new records, of records changed in
//! CDMS, and of records already in sync. The numbers are pinned so that a regression fails.

use cdms_entities::Organisation;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_runtime::{Db, SqlCounts, StatementKind, Q};
use cdms_tests::sync_support::envs;
use serde_json::json;

async fn counted(db: &Db, want: usize) -> SqlCounts {
    let f = Organisation::fields();
    let before = db.sql_counts();
    let page = Organisation::objects(db)
        .filter(f.name.startswith("Page "))
        .all()
        .await
        .unwrap();
    assert_eq!(page.len(), want);
    db.sql_counts().since(&before)
}

fn by_kind(c: &SqlCounts) -> [u64; 6] {
    [
        c.get(StatementKind::Select),
        c.get(StatementKind::Insert),
        c.get(StatementKind::Update),
        c.get(StatementKind::Delete),
        c.get(StatementKind::Begin),
        c.get(StatementKind::Commit),
    ]
}

#[tokio::test]
async fn statements_per_page_of_50() {
    for env in envs().await {
        let label = env.label();
        // The first synced read of an entity records its mapping once; not part of a page.
        env.seed_account("Warm-up", json!({}));
        let f = Organisation::fields();
        Organisation::objects(&env.db)
            .filter(f.name.eq("Warm-up"))
            .all()
            .await
            .unwrap();
        let ids: Vec<_> = (0..50)
            .map(|i| env.seed_account(&format!("Page {i:02}"), json!({})))
            .collect();

        let new = counted(&env.db, 50).await;
        let in_sync = counted(&env.db, 50).await;
        for id in &ids {
            env.edit("AccountSet", *id, json!({"Telephone1": "0123"}));
        }
        let changed = counted(&env.db, 50).await;
        let in_sync_again = counted(&env.db, 50).await;
        eprintln!(
            "[{label}] SQL statements per page of 50: new {new}, changed {changed}, \
             in sync {in_sync}"
        );

        // [SELECT, INSERT, UPDATE, DELETE, BEGIN, COMMIT], and nothing else. The SELECTs: the
        // local answer (read while CDMS answers; it holds the rows the filter considers), then
        // for new records the records it does not hold (whether they are new: they are then
        // inserted without being looked for again), for changed ones the rows of the page
        // (locked). The answer is not read again once they changed: the upsert says which
        // written rows satisfy the filter, and they are put in place. A page already in sync is
        // answered by the first read. The INSERTs: the upsert and the versions, which are one statement on
        // PostgreSQL (`WITH written AS (INSERT …) INSERT INTO history …`). No savepoint: the
        // transaction has not written before the batch.
        let inserts = if label == "postgres" { 1 } else { 2 };
        let got = [by_kind(&new), by_kind(&changed), by_kind(&in_sync)];
        let want = [
            [2, inserts, 0, 0, 1, 1],
            [2, inserts, 0, 0, 1, 1],
            [1, 0, 0, 0, 0, 0],
        ];
        assert_eq!(
            got, want,
            "[{label}] new {new}, changed {changed}, in sync {in_sync}"
        );
        let totals = [new.total(), changed.total(), in_sync.total()];
        assert_eq!(
            totals,
            [4 + inserts, 4 + inserts, 1],
            "[{label}] nothing but those"
        );
        assert_eq!(in_sync_again, in_sync, "[{label}]");
    }
}

/// Through a filter CDMS evaluates exactly as the local SQL does (a whole number), the local
/// answer holds every row the page can change: a record it lacks is new (or no longer
/// matches) without a look-up, so a page of new records is the local answer, then the insert
/// of the records (and on SQLite their versions) in a transaction, and nothing else.
#[tokio::test]
async fn an_exact_filter_needs_no_look_up_of_new_records() {
    for env in envs().await {
        let label = env.label();
        let f = Organisation::fields();
        let page = || async {
            let before = env.db.sql_counts();
            let page = Organisation::objects(&env.db)
                .filter(f.number_of_employees.eq(4242))
                .all()
                .await
                .unwrap();
            (page.len(), env.db.sql_counts().since(&before))
        };
        // The first synced read of an entity records its mapping once; not part of a page.
        assert_eq!(page().await.0, 0);
        for i in 0..50 {
            env.seed_account(&format!("Exact {i:02}"), json!({"NumberOfEmployees": 4242}));
        }
        env.seed_account("Other", json!({"NumberOfEmployees": 7}));
        let (n, new) = page().await;
        let (m, in_sync) = page().await;
        assert_eq!((n, m), (50, 50), "[{label}]");
        let inserts = if label == "postgres" { 1 } else { 2 };
        assert_eq!(
            by_kind(&new),
            [1, inserts, 0, 0, 1, 1],
            "[{label}] new {new}"
        );
        assert_eq!(by_kind(&in_sync), [1, 0, 0, 0, 0, 0], "[{label}] {in_sync}");
        // A window in sync opens no transaction, although the records CDMS lists before it,
        // or at its edge between ties CDMS breaks by id and the local order by key, are not
        // in its local answer.
        let before = env.db.sql_counts();
        let window = Organisation::objects(&env.db)
            .filter(f.number_of_employees.eq(4242))
            .order_by([f.number_of_employees.asc()])
            .slice(10..20)
            .all()
            .await
            .unwrap();
        let counts = env.db.sql_counts().since(&before);
        assert_eq!(window.len(), 10, "[{label}]");
        assert_eq!(
            counts.get(StatementKind::Begin),
            0,
            "[{label}] window {counts}"
        );
        assert_eq!(
            counts.get(StatementKind::Insert),
            0,
            "[{label}] window {counts}"
        );
    }
}

/// A page with one record the database refuses (PostgreSQL refuses U+0000 in text): the other
/// 49 are applied and that one is quarantined. On PostgreSQL the bare batch aborted the
/// transaction, so it was begun again (a second `BEGIN`) and the page applied under savepoints.
#[tokio::test]
async fn a_refused_record_in_a_page_of_50() {
    for env in envs().await {
        let label = env.label();
        let pg = label == "postgres";
        env.seed_account("Warm-up", json!({}));
        let f = Organisation::fields();
        Organisation::objects(&env.db)
            .filter(f.name.eq("Warm-up"))
            .all()
            .await
            .unwrap();
        let ids: Vec<_> = (0..50)
            .map(|i| {
                let name = if i == 7 {
                    "Page \u{0}07".to_owned()
                } else {
                    format!("Page {i:02}")
                };
                env.seed_account(&name, json!({}))
            })
            .collect();
        let before = env.db.sql_counts();
        let page = Organisation::objects(&env.db)
            .filter(f.name.startswith("Page "))
            .all()
            .await
            .unwrap();
        let counts = env.db.sql_counts().since(&before);
        eprintln!("[{label}] a page of 50 with a refused record: {counts}");
        let q = env.remote.quarantine(&env.db).await.unwrap();
        if pg {
            assert_eq!(page.len(), 49, "[{label}]");
            assert_eq!(q.len(), 1, "[{label}] {q:?}");
            assert_eq!(q[0].cdms_id, Some(ids[7]), "[{label}]");
            assert_eq!(counts.get(StatementKind::Begin), 2, "[{label}] {counts}");
        } else {
            assert_eq!(page.len(), 50, "[{label}]");
            assert!(q.is_empty(), "[{label}] {q:?}");
            assert_eq!(counts.get(StatementKind::Begin), 1, "[{label}] {counts}");
        }
        assert_eq!(counts.get(StatementKind::Commit), 1, "[{label}] {counts}");
        // Every applied record has exactly its one `remote refresh` version.
        for o in &page {
            let versions = o.versions(&env.db).await.unwrap();
            assert_eq!(versions.len(), 1, "[{label}] {}", o.name);
            assert_eq!(versions[0].kind, VersionKind::RemoteRefresh, "[{label}]");
            assert_eq!(versions[0].object::<Organisation>().unwrap().name, o.name);
        }
    }
}

/// A get of one record already in sync, by local key and by CDMS id: the local row is read once
/// (it is the answer), and nothing is written. A get whose record changed in CDMS reads the
/// answer again after the refresh.
#[tokio::test]
async fn a_get_in_sync_reads_its_row_once() {
    for env in envs().await {
        let label = env.label();
        let id = env.seed_account("Single", json!({}));
        let org = env.synced_account(id).await;
        let f = Organisation::fields();

        let before = env.db.sql_counts();
        let by_pk = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        let in_sync = env.db.sql_counts().since(&before);
        assert_eq!(by_pk, org, "[{label}]");
        assert_eq!(by_kind(&in_sync), [1, 0, 0, 0, 0, 0], "[{label}] {in_sync}");
        assert_eq!(in_sync.total(), 1, "[{label}] {in_sync}");

        let before = env.db.sql_counts();
        let by_id = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(id))
            .first()
            .await
            .unwrap();
        let in_sync = env.db.sql_counts().since(&before);
        assert_eq!(by_id.as_ref(), Some(&org), "[{label}]");
        assert_eq!(in_sync.total(), 1, "[{label}] {in_sync}");

        // Another condition beside the key is the local SQL's to apply: read again.
        let before = env.db.sql_counts();
        let none = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .filter(f.name.eq("Another name"))
            .first()
            .await
            .unwrap();
        let counted = env.db.sql_counts().since(&before);
        assert_eq!(none, None, "[{label}]");
        assert_eq!(counted.get(StatementKind::Select), 2, "[{label}] {counted}");

        env.edit("AccountSet", id, json!({"Telephone1": "0123"}));
        let mut stale = org.clone();
        let before = env.db.sql_counts();
        stale.refresh(&env.db).await.unwrap();
        let changed = env.db.sql_counts().since(&before);
        assert_eq!(stale.telephone.as_deref(), Some("0123"), "[{label}]");
        assert_eq!(changed.get(StatementKind::Begin), 1, "[{label}] {changed}");
        assert_eq!(changed.get(StatementKind::Commit), 1, "[{label}] {changed}");
    }
}

/// A get that refreshes its row answers with the row as the refresh wrote it: the row read
/// to find the CDMS id, the row locked, the upsert (and on SQLite the version), and no read
/// after. A get by CDMS id of a record with no local row inserts it without looking for it
/// again inside the transaction.
#[tokio::test]
async fn a_get_that_refreshes_answers_with_the_written_row() {
    for env in envs().await {
        let label = env.label();
        let inserts = if label == "postgres" { 1 } else { 2 };
        let id = env.seed_account("Single", json!({"NumberOfEmployees": 3}));
        let org = env.synced_account(id).await;
        let f = Organisation::fields();
        env.edit("AccountSet", id, json!({"Telephone1": "0123"}));

        let (by_pk, changed) = got_and_again(&env.db, f.id.eq(org.id), label).await;
        assert_eq!(by_pk.telephone.as_deref(), Some("0123"), "[{label}]");
        assert_eq!(
            by_kind(&changed),
            [2, inserts, 0, 0, 1, 1],
            "[{label}] {changed}"
        );

        let new = env.seed_account("Newcomer", json!({"Revenue": {"Value": "12.5"}}));
        let (_, created) = got_and_again(&env.db, f.cdms_id.eq(new), label).await;
        assert_eq!(
            by_kind(&created),
            [1, inserts, 0, 0, 1, 1],
            "[{label}] {created}"
        );
    }
}

/// The object `q` picks, read through the sync layer, with the statements that took; checked
/// against the same object read again locally.
async fn got_and_again(db: &Db, q: Q<Organisation>, label: &str) -> (Organisation, SqlCounts) {
    let before = db.sql_counts();
    let got = Organisation::objects(db)
        .filter(q.clone())
        .get()
        .await
        .unwrap();
    let counted = db.sql_counts().since(&before);
    let again = Organisation::objects(&db.skip_cdms())
        .filter(q)
        .get()
        .await
        .unwrap();
    assert_eq!(got, again, "[{label}]");
    (got, counted)
}

/// A synced create and a synced save write the row and its version in one statement on
/// PostgreSQL (`WITH written AS (INSERT … | UPDATE … RETURNING pk) INSERT INTO history …`); on
/// SQLite, which has no data-modifying `WITH`, the version is an `INSERT` of its own. Either
/// way the versions are the ones a separate statement records.
#[tokio::test]
async fn a_write_and_its_version_are_one_statement_on_postgresql() {
    for env in envs().await {
        let label = env.label();
        let versions = if label == "postgres" { 0 } else { 1 };

        let before = env.db.sql_counts();
        let mut org = Organisation::objects(&env.db)
            .create(Organisation::named("Written once"))
            .await
            .unwrap();
        let created = env.db.sql_counts().since(&before);
        assert_eq!(
            by_kind(&created),
            [0, 1 + versions, 0, 0, 1, 1],
            "[{label}] {created}"
        );

        org.telephone = Some("0123".into());
        let before = env.db.sql_counts();
        org.save(&env.db).await.unwrap();
        let saved = env.db.sql_counts().since(&before);
        // The row read before CDMS is asked, and read again, locked, in the transaction.
        assert_eq!(
            by_kind(&saved),
            [2, versions, 1, 0, 1, 1],
            "[{label}] {saved}"
        );

        let stored = org.versions(&env.db).await.unwrap();
        let kinds: Vec<VersionKind> = stored.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            [VersionKind::LocalChange, VersionKind::LocalChange],
            "[{label}]"
        );
        assert!(stored.iter().all(|v| v.local_pk == org.id), "[{label}]");
        // The first copy reads back as the row it inserted; the save's version holds the row
        // it wrote, the telephone's prior value and the CDMS id.
        assert_eq!(stored[0].snapshot["telephone"], json!(null), "[{label}]");
        assert_eq!(stored[0].prior, None, "[{label}]");
        assert_eq!(stored[1].snapshot["telephone"], json!("0123"), "[{label}]");
        let prior = stored[1].prior.as_ref().expect("the save's prior values");
        assert_eq!(prior["telephone"], json!(null), "[{label}]");
        let cdms_id = org.cdms_id.expect("a CDMS id").to_string();
        assert_eq!(
            stored[1].remote_key.as_deref(),
            Some(cdms_id.as_str()),
            "[{label}]"
        );
    }
}
