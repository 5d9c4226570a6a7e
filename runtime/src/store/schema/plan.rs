//! The plan from the live schema to the entities: typed steps, their risk, their SQL.
//!
//! Only tables of the given entities are compared; other tables (a removed entity's, another
//! module's) are listed in [`Plan::unmanaged`] and never touched. Renames are never guessed:
//! a column is renamed only when a field declares `#[entity(renamed_from = "old")]`; otherwise
//! a missing column is added and a column no field maps is dropped (a risky step).

use super::{expected_table, same_default, Schema, Table};
use crate::entity::{ColumnDefault, EntityMeta, Role};
use crate::store::sql::{ddl, quote_ident};
use crate::store::Backend;
use crate::value::Kind;

/// Whether a step may run without review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// Additive: cannot lose data or fail on existing rows. [`Db::migrate`](crate::Db::migrate)
    /// applies it.
    Safe,
    /// Can lose data, fail on existing rows, or break other code: applied only from a reviewed
    /// migration file.
    Risky,
}

/// One change of the schema.
#[derive(Debug, Clone)]
pub enum Step {
    /// A new table (with its unique constraints and foreign keys) and its indexes.
    CreateTable {
        /// The entity.
        entity: &'static EntityMeta,
    },
    /// A new column.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its storage kind.
        kind: Kind,
        /// Whether it is nullable; a `NOT NULL` column without a default has no value for
        /// existing rows (risky).
        nullable: bool,
        /// The declared default (existing rows get it).
        default: Option<ColumnDefault>,
        /// The referenced table and column, for a reference.
        references: Option<(String, String)>,
    },
    /// A column renamed (declared with `renamed_from`).
    RenameColumn {
        /// The table.
        table: String,
        /// The live name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A column no field maps any more.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column whose type differs.
    ChangeType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The live type.
        from: String,
        /// The new kind.
        kind: Kind,
    },
    /// A column whose declared default is added, changed or removed (existing rows keep their
    /// values; on SQLite a table rebuild).
    ChangeDefault {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The new default (`None`: no default).
        default: Option<ColumnDefault>,
    },
    /// A nullable column that becomes `NOT NULL` (fails if a row holds `NULL`).
    SetNotNull {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A `NOT NULL` column that becomes nullable.
    DropNotNull {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A new plain index.
    CreateIndex {
        /// The table.
        table: String,
        /// The columns.
        columns: Vec<String>,
    },
    /// An index the store created that no field asks for any more.
    DropIndex {
        /// The table.
        table: String,
        /// The index name.
        index: String,
    },
    /// A new unique index (fails if existing rows hold duplicates; safe on a new column).
    AddUnique {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the column is added by the same plan (no existing values).
        new_column: bool,
    },
    /// A unique index or constraint no field asks for any more.
    DropUnique {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The index (or constraint) name.
        index: String,
        /// Whether it is a constraint of the table definition.
        constraint: bool,
    },
    /// A foreign key on an existing column.
    AddForeignKey {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The referenced table.
        references: String,
        /// The referenced column.
        referenced_column: String,
    },
}

impl Step {
    /// Whether the step may run without review.
    pub fn risk(&self) -> Risk {
        match self {
            Step::CreateTable { .. } | Step::CreateIndex { .. } | Step::DropIndex { .. } => {
                Risk::Safe
            }
            Step::AddColumn {
                nullable, default, ..
            } if *nullable || default.is_some() => Risk::Safe,
            Step::AddUnique { new_column, .. } if *new_column => Risk::Safe,
            _ => Risk::Risky,
        }
    }

    /// The table the step changes.
    pub fn table(&self) -> &str {
        match self {
            Step::CreateTable { entity } => entity.table,
            Step::AddColumn { table, .. }
            | Step::RenameColumn { table, .. }
            | Step::DropColumn { table, .. }
            | Step::ChangeType { table, .. }
            | Step::ChangeDefault { table, .. }
            | Step::SetNotNull { table, .. }
            | Step::DropNotNull { table, .. }
            | Step::CreateIndex { table, .. }
            | Step::DropIndex { table, .. }
            | Step::AddUnique { table, .. }
            | Step::DropUnique { table, .. }
            | Step::AddForeignKey { table, .. } => table,
        }
    }
}

/// The steps from a live schema to the entities, in the order they run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The backend the plan was computed for (and renders for).
    pub backend: Backend,
    /// The steps.
    pub steps: Vec<Step>,
    /// Live tables that belong to none of the entities (left alone).
    pub unmanaged: Vec<String>,
    /// The tables whose steps SQLite cannot make with `ALTER TABLE`: the plan's SQL rebuilds
    /// them instead (empty on PostgreSQL).
    pub rebuilds: Vec<Rebuild>,
}

/// A table rebuilt the way SQLite documents for schema changes `ALTER TABLE` cannot make
/// (<https://www.sqlite.org/lang_altertable.html>, "other kinds of table schema changes"):
/// create `new_<table>` with the target definition, copy the rows, drop the table, rename the
/// new one, recreate the indexes.
#[derive(Debug, Clone)]
pub struct Rebuild {
    /// The entity whose definition the table gets.
    pub entity: &'static EntityMeta,
    /// Per field of the entity: the live column its values are copied from (`None`: a new
    /// column, which gets its default or `NULL`).
    pub sources: Vec<Option<String>>,
    /// Indexes of the table beyond its fields' (columns).
    pub extra: Vec<Vec<String>>,
}

impl Rebuild {
    /// The rebuild's statements, in the order they run (inside the migration's transaction).
    pub fn sql(&self) -> Vec<String> {
        let q = |s: &str| quote_ident(s);
        let table = self.entity.table;
        let new = format!("new_{table}");
        let (targets, sources): (Vec<String>, Vec<String>) = self
            .entity
            .fields
            .iter()
            .zip(&self.sources)
            .filter_map(|(f, src)| Some((q(f.column), q(src.as_deref()?))))
            .unzip();
        let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut out = vec![
            // Foreign keys are checked at commit, after the rename (a no-op when they are off).
            "PRAGMA defer_foreign_keys = ON".to_owned(),
            format!(
                "CREATE TABLE {}",
                ddl::table_definition(Backend::Sqlite, self.entity, &new)
            ),
            format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                q(&new),
                targets.join(", "),
                sources.join(", "),
                q(table)
            ),
            // Keep the AUTOINCREMENT counter: ids of deleted rows are not handed out again.
            format!("DELETE FROM sqlite_sequence WHERE name = {}", literal(&new)),
            format!(
                "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence \
                 WHERE name = {}",
                literal(&new),
                literal(table)
            ),
            format!("DROP TABLE {}", q(table)),
            format!("ALTER TABLE {} RENAME TO {}", q(&new), q(table)),
        ];
        out.extend(ddl::create_indexes(self.entity));
        for columns in &self.extra {
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            out.push(ddl::create_index(table, &columns));
        }
        out
    }
}

impl Plan {
    /// Whether the live schema already matches the entities.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps [`Db::migrate`](crate::Db::migrate) applies.
    pub fn safe(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.risk() == Risk::Safe)
    }

    /// The steps that need a reviewed migration file.
    pub fn risky(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.risk() == Risk::Risky)
    }

    /// The rebuild of `table`, if the plan rebuilds it.
    pub fn rebuild(&self, table: &str) -> Option<&Rebuild> {
        self.rebuilds.iter().find(|r| r.entity.table == table)
    }

    /// The plan as SQL for its backend: each step as a `--` comment (with `RISKY` when it needs
    /// review) followed by its statements, each ending in `;`. The steps of a rebuilt table are
    /// comments only, followed (after its last step) by the rebuild.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        let push = |out: &mut String, statement: &str| {
            out.push_str(statement);
            if !statement.starts_with("--") {
                out.push(';');
            }
            out.push('\n');
        };
        for (i, step) in self.steps.iter().enumerate() {
            let risk = match step.risk() {
                Risk::Safe => "",
                Risk::Risky => " [RISKY: review]",
            };
            out.push_str(&format!("-- {step}{risk}\n"));
            let Some(rebuild) = self.rebuild(step.table()) else {
                for statement in step.sql(self.backend) {
                    push(&mut out, &statement);
                }
                continue;
            };
            let last = self.steps[i + 1..]
                .iter()
                .all(|s| s.table() != step.table());
            if last {
                out.push_str(&format!(
                    "-- rebuild table {} with the steps above \
                     (SQLite cannot ALTER them in place)\n",
                    rebuild.entity.table
                ));
                for statement in rebuild.sql() {
                    push(&mut out, &statement);
                }
            }
        }
        out
    }
}

/// The plan from `live` to `entities` (referenced entities first) plus `extra` indexes of
/// those tables that the entities' DDL does not describe (`(table, columns)`).
pub fn plan(
    backend: Backend,
    live: &Schema,
    entities: &[&'static EntityMeta],
    extra: &[(&str, &[&str])],
) -> Plan {
    let mut steps = Vec::new();
    let mut creates = Vec::new();
    let mut rebuilds = Vec::new();
    for meta in entities {
        let Some(table) = live.tables.get(meta.table) else {
            creates.push(Step::CreateTable { entity: meta });
            for (_, columns) in extra.iter().filter(|(t, _)| *t == meta.table) {
                creates.push(Step::CreateIndex {
                    table: meta.table.to_owned(),
                    columns: columns.iter().map(|c| (*c).to_owned()).collect(),
                });
            }
            continue;
        };
        let extra: Vec<&[&str]> = extra
            .iter()
            .filter(|(t, _)| *t == meta.table)
            .map(|(_, c)| *c)
            .collect();
        let before = steps.len();
        let sources = alter(backend, table, meta, &extra, &mut steps);
        if backend == Backend::Sqlite
            && steps[before..]
                .iter()
                .any(|s| sqlite_cannot_alter(s, table))
        {
            rebuilds.push(Rebuild {
                entity: meta,
                sources,
                extra: extra
                    .iter()
                    .map(|c| c.iter().map(|c| (*c).to_owned()).collect())
                    .collect(),
            });
        }
    }
    let unmanaged = live
        .tables
        .keys()
        .filter(|t| !entities.iter().any(|m| m.table == t.as_str()))
        .cloned()
        .collect();
    creates.extend(steps);
    Plan {
        backend,
        steps: creates,
        unmanaged,
        rebuilds,
    }
}

/// Whether SQLite's `ALTER TABLE` cannot make `step` on `live`: a type, nullability or default
/// change, a foreign key or `UNIQUE` constraint added to or dropped from the definition, a
/// `NOT NULL` column without default, a dropped column that a constraint covers.
fn sqlite_cannot_alter(step: &Step, live: &Table) -> bool {
    match step {
        Step::ChangeType { .. }
        | Step::ChangeDefault { .. }
        | Step::SetNotNull { .. }
        | Step::DropNotNull { .. }
        | Step::AddForeignKey { .. } => true,
        Step::DropUnique { constraint, .. } => *constraint,
        Step::AddColumn {
            nullable, default, ..
        } => !*nullable && default.is_none(),
        Step::DropColumn { column, .. } => {
            live.foreign_key(column).is_some()
                || live
                    .indexes
                    .iter()
                    .any(|i| i.constraint && i.columns.iter().any(|c| c == column))
        }
        _ => false,
    }
}

/// The steps for one existing table, grouped in a safe order: index and constraint drops,
/// renames, additions, type and nullability changes, column drops, new indexes and constraints.
fn alter(
    backend: Backend,
    live: &Table,
    meta: &EntityMeta,
    extra: &[&[&str]],
    steps: &mut Vec<Step>,
) -> Vec<Option<String>> {
    let want = expected_table(backend, meta);
    let table = meta.table.to_owned();
    // The live name of each field's column: its own, or the one it was renamed from.
    let mut live_name: Vec<Option<String>> = Vec::new();
    let (mut renames, mut adds, mut changes, mut drops, mut creates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (field, col) in meta.fields.iter().zip(&want.columns) {
        let found = live.column(field.column).map(|c| (c, false)).or_else(|| {
            field
                .renamed_from
                .and_then(|old| live.column(old))
                .map(|c| (c, true))
        });
        let Some((have, renamed)) = found else {
            live_name.push(None);
            adds.push(Step::AddColumn {
                table: table.clone(),
                column: field.column.to_owned(),
                kind: field.kind,
                nullable: field.nullable,
                default: field.default,
                references: field.references.map(|r| {
                    let r = r();
                    (r.table.to_owned(), r.pk_field().column.to_owned())
                }),
            });
            if field.unique {
                creates.push(Step::AddUnique {
                    table: table.clone(),
                    column: field.column.to_owned(),
                    new_column: true,
                });
            }
            continue;
        };
        live_name.push(Some(have.name.clone()));
        if renamed {
            renames.push(Step::RenameColumn {
                table: table.clone(),
                from: have.name.clone(),
                to: field.column.to_owned(),
            });
        }
        if field.role == Role::PrimaryKey {
            continue;
        }
        if !have.sql_type.eq_ignore_ascii_case(&col.sql_type) {
            changes.push(Step::ChangeType {
                table: table.clone(),
                column: field.column.to_owned(),
                from: have.sql_type.clone(),
                kind: field.kind,
            });
        }
        if !same_default(field.kind, have.default.as_deref(), col.default.as_deref()) {
            changes.push(Step::ChangeDefault {
                table: table.clone(),
                column: field.column.to_owned(),
                default: field.default,
            });
        }
        match (have.nullable, col.nullable) {
            (true, false) => changes.push(Step::SetNotNull {
                table: table.clone(),
                column: field.column.to_owned(),
            }),
            (false, true) => changes.push(Step::DropNotNull {
                table: table.clone(),
                column: field.column.to_owned(),
            }),
            _ => {}
        }
        if field.unique && !live.is_unique(&have.name) {
            creates.push(Step::AddUnique {
                table: table.clone(),
                column: field.column.to_owned(),
                new_column: false,
            });
        }
        if let Some(target) = field.references {
            let target = target();
            if live.foreign_key(&have.name).is_none() {
                creates.push(Step::AddForeignKey {
                    table: table.clone(),
                    column: field.column.to_owned(),
                    references: target.table.to_owned(),
                    referenced_column: target.pk_field().column.to_owned(),
                });
            }
        }
    }
    // Live columns no field maps.
    let mapped = |name: &str| live_name.iter().flatten().any(|n| n == name);
    for have in &live.columns {
        if !mapped(&have.name) {
            drops.push(Step::DropColumn {
                table: table.clone(),
                column: have.name.clone(),
            });
        }
    }
    // Indexes, compared by their columns under the new names.
    let new_name = |live_col: &str| -> String {
        meta.fields
            .iter()
            .zip(&live_name)
            .find(|(_, n)| n.as_deref() == Some(live_col))
            .map_or_else(|| live_col.to_owned(), |(f, _)| f.column.to_owned())
    };
    let mut index_drops = Vec::new();
    let wanted_plain: Vec<Vec<String>> = want
        .indexes
        .iter()
        .filter(|i| !i.unique)
        .map(|i| i.columns.clone())
        .chain(
            extra
                .iter()
                .map(|cols| cols.iter().map(|c| (*c).to_owned()).collect()),
        )
        .collect();
    for index in &live.indexes {
        if index.primary {
            continue;
        }
        let columns: Vec<String> = index.columns.iter().map(|c| new_name(c)).collect();
        if index.unique {
            let still = columns.len() == 1
                && meta
                    .fields
                    .iter()
                    .any(|f| f.unique && f.column == columns[0] && f.role != Role::PrimaryKey);
            let dropped_column = columns.iter().any(|c| !mapped_after(meta, c));
            if !still && !dropped_column && columns.len() == 1 {
                index_drops.push(Step::DropUnique {
                    table: table.clone(),
                    column: columns[0].clone(),
                    index: index.name.clone(),
                    constraint: index.constraint,
                });
            } else if !still && !index.constraint && dropped_column {
                // A dropped column's own index goes first (SQLite refuses to drop an
                // indexed column).
                index_drops.push(Step::DropIndex {
                    table: table.clone(),
                    index: index.name.clone(),
                });
            }
            continue;
        }
        let ours = index.name.starts_with(&format!("{}__", meta.table));
        if ours && !wanted_plain.contains(&columns) {
            index_drops.push(Step::DropIndex {
                table: table.clone(),
                index: index.name.clone(),
            });
        }
    }
    for cols in &wanted_plain {
        let present = live.indexes.iter().any(|i| {
            !i.unique && i.columns.iter().map(|c| new_name(c)).collect::<Vec<_>>() == *cols
        });
        if !present {
            creates.push(Step::CreateIndex {
                table: table.clone(),
                columns: cols.clone(),
            });
        }
    }
    // Order: index drops, renames, adds, changes, column drops, creations (unique last).
    creates.sort_by_key(|s| match s {
        Step::CreateIndex { .. } => 0,
        Step::AddUnique { .. } => 1,
        _ => 2,
    });
    steps.extend(index_drops);
    steps.extend(renames);
    steps.extend(adds);
    steps.extend(changes);
    steps.extend(drops);
    steps.extend(creates);
    live_name
}

/// Whether `column` is a column of `meta`.
fn mapped_after(meta: &EntityMeta, column: &str) -> bool {
    meta.fields.iter().any(|f| f.column == column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::history::HISTORY;
    use crate::store::schema::{expected, Column};

    fn live(backend: Backend) -> Schema {
        expected(backend, &[&HISTORY])
    }

    #[test]
    fn the_expected_schema_needs_no_step() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let plan = plan(backend, &live(backend), &[&HISTORY], &[]);
            assert!(plan.is_empty(), "{backend:?}: {:?}", plan.steps);
            assert!(plan.unmanaged.is_empty());
        }
    }

    #[test]
    fn missing_and_extra_columns_and_tables() {
        let mut schema = live(Backend::Postgres);
        let table = schema.tables.get_mut(HISTORY.table).unwrap();
        table.columns.retain(|c| c.name != "actor");
        table.columns.push(Column {
            name: "legacy".into(),
            sql_type: "text".into(),
            nullable: true,
            primary_key: false,
            default: None,
        });
        schema.tables.insert(
            "other".into(),
            Table {
                name: "other".into(),
                columns: Vec::new(),
                indexes: Vec::new(),
                foreign_keys: Vec::new(),
            },
        );
        let plan = plan(Backend::Postgres, &schema, &[&HISTORY], &[]);
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            steps,
            ["add column history.actor", "drop column history.legacy"]
        );
        assert_eq!(
            plan.unmanaged,
            ["other"],
            "other tables are listed, not dropped"
        );
        assert_eq!(
            plan.safe().count(),
            1,
            "a nullable column is safe, a drop is not"
        );
        assert_eq!(
            plan.to_sql(),
            "-- add column history.actor\n\
             ALTER TABLE \"history\" ADD COLUMN \"actor\" TEXT COLLATE \"C\" NULL;\n\
             -- drop column history.legacy [RISKY: review]\n\
             ALTER TABLE \"history\" DROP COLUMN \"legacy\";\n"
        );
    }

    #[test]
    fn extra_indexes_are_created_with_a_new_table() {
        let plan = plan(
            Backend::Sqlite,
            &Schema::default(),
            &[&HISTORY],
            &[("history", &["entity", "local_pk"])],
        );
        let steps: Vec<String> = plan.steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            steps,
            [
                "create table history",
                "create index on history (entity, local_pk)"
            ]
        );
        assert!(plan.risky().next().is_none());
    }
}
