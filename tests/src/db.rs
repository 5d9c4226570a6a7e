//! Fresh test databases.
//!
//! [`backends`] yields a new SQLite database file in a temporary directory and, when the
//! environment variable `DATABASE_URL` points at a PostgreSQL server
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`), a new uniquely named PostgreSQL database
//! (`CREATE DATABASE`), dropped again when the [`TestDb`] is dropped. Tests loop over the
//! result so that every assertion runs on both backends.

use cdms_runtime::store::Backend;
use cdms_runtime::{Db, EntityMeta};

/// One fresh database.
pub struct TestDb {
    /// The handle.
    pub db: Db,
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// The backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            drop_database(admin_url, name);
        }
    }
}

/// Drops database `name` through `admin_url`, from a synchronous context such as `Drop` (a thread
/// with its own runtime; best effort).
pub fn drop_database(admin_url: String, name: String) {
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let admin = Db::connect(&admin_url).await.ok()?;
            let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let dropped = admin.execute_raw(&statement, &[]).await.ok();
            admin.close().await;
            dropped
        })
    });
    let _ = handle.join();
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "cdms_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    )
}

/// A fresh SQLite database file in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("test.db");
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open sqlite");
    TestDb {
        db,
        label: "sqlite",
        _dir: Some(dir),
        pg: None,
    }
}

/// A fresh PostgreSQL database on the server of `url`.
pub async fn postgres(url: &str) -> TestDb {
    let admin = Db::connect(url).await.expect("connect to DATABASE_URL");
    let name = unique_name();
    admin
        .execute_raw(&format!("CREATE DATABASE \"{name}\""), &[])
        .await
        .expect("CREATE DATABASE");
    admin.close().await;
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let db = Db::connect(&format!("{server}/{name}{query}"))
        .await
        .expect("connect to the test database");
    TestDb {
        db,
        label: "postgres",
        _dir: None,
        pg: Some((url.to_owned(), name)),
    }
}

/// A fresh database per backend: SQLite, plus PostgreSQL when `DATABASE_URL` is set.
pub async fn backends() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if !url.is_empty() {
            out.push(postgres(&url).await);
        }
    }
    out
}

/// [`backends`], each migrated with `entities`.
pub async fn migrated(entities: &[&'static EntityMeta]) -> Vec<TestDb> {
    let dbs = backends().await;
    for t in &dbs {
        t.db.migrate(entities).await.expect("migrate");
    }
    dbs
}
