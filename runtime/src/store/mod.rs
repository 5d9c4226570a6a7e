//! The local store: a SQLite or PostgreSQL pool, SQL generation and execution.

use std::sync::Arc;

/// A handle on the local database (cheap to clone).
#[derive(Clone)]
pub struct Db {
    #[allow(dead_code)]
    inner: Arc<()>,
}
