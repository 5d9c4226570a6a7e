//! Bringing the live schema to the entities.
//!
//! [`plan`] introspects the database and compares it with the entities (and the history
//! table); [`migrate`] applies the plan when every step is safe (new tables, nullable columns,
//! indexes), in one transaction, and otherwise applies nothing and returns
//! [`MigrationError::Refused`] listing the risky steps: those go through a reviewed migration
//! file ([`schema::files`]).

use super::history::HISTORY;
use super::schema::{self, files::MigrationError, Plan, Risk};
use super::{Conn, Db};
use crate::entity::EntityMeta;
use crate::error::Result;

/// The history table's indexes beyond those of its fields: the versions of an object are read
/// by its local key, the entity checked on the few entries each key has (one object per
/// entity at most). Earlier versions indexed `(entity, local_pk)`, which repeated the entity's
/// name in every entry (on PostgreSQL 44 bytes a version instead of about 22), and `(entity,
/// remote_key)`, which nothing reads; `migrate` drops both.
const HISTORY_INDEXES: &[(&str, &[&str])] = &[("history", &["local_pk"])];

/// `entities` followed by the history table.
fn managed(entities: &[&'static EntityMeta]) -> Vec<&'static EntityMeta> {
    let mut all: Vec<&'static EntityMeta> = entities.to_vec();
    all.push(&HISTORY);
    all
}

/// The plan from the live schema to `entities` (referenced entities first) and the history
/// table.
pub async fn plan(db: &Db, entities: &[&'static EntityMeta]) -> Result<Plan> {
    debug_assert!(HISTORY_INDEXES.iter().all(|(t, _)| *t == HISTORY.table));
    let live = schema::introspect::introspect(db).await?;
    Ok(schema::plan::plan(
        db.backend(),
        &live,
        &managed(entities),
        HISTORY_INDEXES,
    ))
}

/// The statements [`migrate`] would run now for `entities`, for inspection.
pub async fn statements(db: &Db, entities: &[&'static EntityMeta]) -> Result<Vec<String>> {
    let plan = plan(db, entities).await?;
    Ok(plan
        .steps
        .iter()
        .flat_map(|s| s.sql(db.backend()))
        .collect())
}

/// Applies the plan for `entities` if every step is safe; otherwise applies nothing and returns
/// [`MigrationError::Refused`] with the risky steps. Idempotent.
pub async fn migrate(db: &Db, entities: &[&'static EntityMeta]) -> Result<()> {
    let plan = plan(db, entities).await?;
    let risky: Vec<_> = plan.risky().cloned().collect();
    if !risky.is_empty() {
        return Err(MigrationError::Refused { steps: risky }.into());
    }
    apply_steps(db, &plan).await
}

/// Runs every step of `plan` in one transaction.
async fn apply_steps(db: &Db, plan: &Plan) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for step in &plan.steps {
        debug_assert_eq!(step.risk(), Risk::Safe);
        for statement in step.sql(db.backend()) {
            Conn::Tx(&mut tx)
                .execute_plain(&statement, "store", "migrate")
                .await?;
        }
    }
    tx.commit().await
}
