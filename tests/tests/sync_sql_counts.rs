//! SQL statements the store executes to refresh a page of 50 records through a synced filter,
//! counted by the store itself ([`Db::sql_counts`]): a page of new records, of records changed in
//! CDMS, and of records already in sync. The numbers are pinned so that a regression fails.

use cdms_entities::Organisation;
use cdms_runtime::{Db, SqlCounts, StatementKind};
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

        // [SELECT, INSERT, UPDATE, DELETE, BEGIN, COMMIT], and nothing else.
        let got = [by_kind(&new), by_kind(&changed), by_kind(&in_sync)];
        let want = [[4, 2, 0, 0, 1, 1], [4, 2, 0, 0, 1, 1], [3, 0, 0, 0, 0, 0]];
        assert_eq!(
            got, want,
            "[{label}] new {new}, changed {changed}, in sync {in_sync}"
        );
        // PostgreSQL also takes a savepoint around the batched upsert (SAVEPOINT, RELEASE).
        let savepoints = if label == "postgres" { 2 } else { 0 };
        let totals = [new.total(), changed.total(), in_sync.total()];
        assert_eq!(
            totals,
            [8 + savepoints, 8 + savepoints, 3],
            "[{label}] nothing but those"
        );
        assert_eq!(in_sync_again, in_sync, "[{label}]");
    }
}
