//! Creating tables and indexes.
//!
//! [`migrate`] is additive and idempotent: `CREATE TABLE IF NOT EXISTS` and `CREATE INDEX IF NOT
//! EXISTS` in one transaction. It does not alter existing tables (a changed field needs a
//! hand-written migration).

use super::history::HISTORY;
use super::sql::ddl;
use super::{Conn, Db};
use crate::entity::EntityMeta;
use crate::error::Result;

/// The statements [`migrate`] runs for `entities` (history table last), for inspection.
pub fn statements(db: &Db, entities: &[&'static EntityMeta]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for meta in entities.iter().copied().chain(std::iter::once(&HISTORY)) {
        out.push((meta.name, ddl::create_table(db.backend(), meta)));
        for index in ddl::create_indexes(meta) {
            out.push((meta.name, index));
        }
    }
    out.push((
        HISTORY.name,
        ddl::create_index(HISTORY.table, &["entity", "local_pk"]),
    ));
    out.push((
        HISTORY.name,
        ddl::create_index(HISTORY.table, &["entity", "remote_key"]),
    ));
    out
}

/// Creates the tables of `entities` in the given order (an entity after the entities it
/// references), their indexes, and the history table.
pub async fn migrate(db: &Db, entities: &[&'static EntityMeta]) -> Result<()> {
    let mut tx = db.begin().await?;
    for (entity, statement) in statements(db, entities) {
        Conn::Tx(&mut tx)
            .execute_plain(&statement, entity, "migrate")
            .await?;
    }
    tx.commit().await
}
