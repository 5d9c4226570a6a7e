//! The SQL of each [`Step`] per backend, and how a step reads in a plan.

use std::fmt;

use super::plan::Step;
use crate::entity::ColumnDefault;
use crate::store::sql::{ddl, quote_ident};
use crate::store::Backend;

impl Step {
    /// The statements of the step on `backend`. A change SQLite cannot make in place (type,
    /// nullability, constraints of an existing table) is a single SQL comment saying so: the
    /// table has to be rebuilt by hand in the reviewed migration file.
    pub fn sql(&self, backend: Backend) -> Vec<String> {
        let q = |s: &str| quote_ident(s);
        let rebuild = |what: &str, table: &str| {
            vec![format!(
                "-- SQLite cannot {what} in place: rebuild table {} here \
                 (CREATE TABLE new, INSERT ... SELECT, DROP TABLE, ALTER TABLE ... RENAME TO)",
                q(table)
            )]
        };
        match self {
            Step::CreateTable { entity } => {
                let mut out = vec![ddl::create_table(backend, entity)];
                out.extend(ddl::create_indexes(entity));
                out
            }
            Step::AddColumn {
                table,
                column,
                kind,
                nullable,
                default,
                references,
            } => {
                let mut def = format!(
                    "ALTER TABLE {} ADD COLUMN {} {} {}",
                    q(table),
                    q(column),
                    ddl::column_type(backend, *kind),
                    if *nullable { "NULL" } else { "NOT NULL" }
                );
                if let Some(d) = default
                    .as_ref()
                    .and_then(|d| ddl::default_literal(backend, d))
                {
                    def.push_str(&format!(" DEFAULT {d}"));
                }
                if let Some((t, c)) = references {
                    def.push_str(&format!(" REFERENCES {} ({})", q(t), q(c)));
                }
                vec![def]
            }
            Step::RenameColumn { table, from, to } => vec![format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(from),
                q(to)
            )],
            Step::DropColumn { table, column } => vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table),
                q(column)
            )],
            Step::ChangeType {
                table,
                column,
                kind,
                ..
            } => match backend {
                Backend::Sqlite => rebuild("change a column's type", table),
                Backend::Postgres => {
                    let ty = ddl::column_type(backend, *kind);
                    let bare = ty.split(' ').next().unwrap_or(ty);
                    vec![format!(
                        "ALTER TABLE {} ALTER COLUMN {} TYPE {ty} USING {}::{bare}",
                        q(table),
                        q(column),
                        q(column)
                    )]
                }
            },
            Step::ChangeDefault {
                table,
                column,
                default,
            } => match backend {
                Backend::Sqlite => rebuild("change a column's default", table),
                Backend::Postgres => {
                    let literal = default
                        .as_ref()
                        .and_then(|d| ddl::default_literal(backend, d));
                    vec![match literal {
                        Some(d) => format!(
                            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {d}",
                            q(table),
                            q(column)
                        ),
                        None => format!(
                            "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                            q(table),
                            q(column)
                        ),
                    }]
                }
            },
            Step::SetNotNull { table, column } => match backend {
                Backend::Sqlite => rebuild("make a column NOT NULL", table),
                Backend::Postgres => vec![format!(
                    "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
                    q(table),
                    q(column)
                )],
            },
            Step::DropNotNull { table, column } => match backend {
                Backend::Sqlite => rebuild("make a column nullable", table),
                Backend::Postgres => vec![format!(
                    "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
                    q(table),
                    q(column)
                )],
            },
            Step::CreateIndex { table, columns } => {
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                vec![ddl::create_index(table, &columns)]
            }
            Step::DropIndex { index, .. } => vec![format!("DROP INDEX IF EXISTS {}", q(index))],
            Step::AddUnique { table, column, .. } => vec![format!(
                "CREATE UNIQUE INDEX {} ON {} ({})",
                q(&unique_index_name(table, column)),
                q(table),
                q(column)
            )],
            Step::DropUnique {
                table,
                index,
                constraint,
                ..
            } => match (backend, constraint) {
                (_, false) => vec![format!("DROP INDEX {}", q(index))],
                (Backend::Sqlite, true) => rebuild("drop a UNIQUE constraint", table),
                (Backend::Postgres, true) => vec![format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    q(table),
                    q(index)
                )],
            },
            Step::AddForeignKey {
                table,
                column,
                references,
                referenced_column,
            } => match backend {
                Backend::Sqlite => rebuild("add a foreign key", table),
                Backend::Postgres => vec![format!(
                    "ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(table),
                    q(column),
                    q(references),
                    q(referenced_column)
                )],
            },
        }
    }
}

/// A default as a plan reads it: `'text'`, `42`, `1.5`, `true`.
fn describe_default(default: &ColumnDefault) -> String {
    match default {
        ColumnDefault::Bool(b) => b.to_string(),
        other => ddl::default_literal(Backend::Postgres, other).unwrap_or_default(),
    }
}

/// The name of the unique index a plan creates on `column` of `table`.
pub fn unique_index_name(table: &str, column: &str) -> String {
    format!("{table}__{column}__key")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateTable { entity } => write!(f, "create table {}", entity.table),
            Step::AddColumn {
                table,
                column,
                nullable,
                default,
                ..
            } => match (nullable, default) {
                (true, _) => write!(f, "add column {table}.{column}"),
                (false, Some(d)) => write!(
                    f,
                    "add column {table}.{column} (NOT NULL, existing rows get the default {})",
                    describe_default(d)
                ),
                (false, None) => write!(
                    f,
                    "add column {table}.{column} (NOT NULL, no value for existing rows)"
                ),
            },
            Step::ChangeDefault {
                table,
                column,
                default,
            } => match default {
                Some(d) => write!(
                    f,
                    "set default of {table}.{column} to {}",
                    describe_default(d)
                ),
                None => write!(f, "drop default of {table}.{column}"),
            },
            Step::RenameColumn { table, from, to } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Step::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Step::ChangeType {
                table,
                column,
                from,
                kind,
            } => write!(f, "change type of {table}.{column} from {from} to {kind:?}"),
            Step::SetNotNull { table, column } => write!(f, "set NOT NULL on {table}.{column}"),
            Step::DropNotNull { table, column } => {
                write!(f, "drop NOT NULL on {table}.{column}")
            }
            Step::CreateIndex { table, columns } => {
                write!(f, "create index on {table} ({})", columns.join(", "))
            }
            Step::DropIndex { table, index } => write!(f, "drop index {index} on {table}"),
            Step::AddUnique {
                table,
                column,
                new_column,
            } => write!(
                f,
                "add unique index on {table}.{column}{}",
                if *new_column {
                    " (new column)"
                } else {
                    " (over existing rows)"
                }
            ),
            Step::DropUnique { table, column, .. } => {
                write!(f, "drop unique constraint on {table}.{column}")
            }
            Step::AddForeignKey {
                table,
                column,
                references,
                ..
            } => write!(f, "add foreign key {table}.{column} -> {references}"),
        }
    }
}
