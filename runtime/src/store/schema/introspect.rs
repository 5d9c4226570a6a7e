//! Reading the live schema: SQLite's table-valued pragmas (`pragma_table_info`,
//! `pragma_index_list`, `pragma_index_info`, `pragma_foreign_key_list`), PostgreSQL's
//! `information_schema` and `pg_catalog` (the current schema only). Table names are bound as
//! values, never spliced into the text.

use sqlx::Row;

use super::{normalize_default, Column, ForeignKey, Index, Schema, Table};
use crate::error::{Error, Result};
use crate::store::{Db, Pool};

const DURING: &str = "schema introspection";

fn err(e: sqlx::Error) -> Error {
    Error::db("store", DURING, e)
}

/// The live schema of `db`: every table except the backend's own (`sqlite_*`).
pub async fn introspect(db: &Db) -> Result<Schema> {
    let mut schema = Schema::default();
    match db.pool() {
        Pool::Sqlite(pool) => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(err)?;
            for name in names {
                let table = sqlite_table(pool, &name).await?;
                schema.tables.insert(name, table);
            }
        }
        Pool::Postgres(pool) => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name",
            )
            .fetch_all(pool)
            .await
            .map_err(err)?;
            for name in names {
                let table = pg_table(pool, &name).await?;
                schema.tables.insert(name, table);
            }
        }
    }
    Ok(schema)
}

async fn sqlite_table(pool: &sqlx::SqlitePool, name: &str) -> Result<Table> {
    let rows = sqlx::query(
        "SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info(?1) ORDER BY cid",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let sql_type: String = row.try_get(1).map_err(err)?;
        let not_null: i64 = row.try_get(2).map_err(err)?;
        let pk: i64 = row.try_get(3).map_err(err)?;
        let default: Option<String> = row.try_get(4).map_err(err)?;
        columns.push(Column {
            default: default.as_deref().and_then(normalize_default),
            name: row.try_get(0).map_err(err)?,
            sql_type: sql_type.to_ascii_uppercase(),
            // An INTEGER PRIMARY KEY is the rowid: never null, whatever the pragma says.
            nullable: not_null == 0 && pk == 0,
            primary_key: pk > 0,
        });
    }
    let rows = sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
        .bind(name)
        .fetch_all(pool)
        .await
        .map_err(err)?;
    let mut indexes = Vec::with_capacity(rows.len());
    for row in rows {
        let index_name: String = row.try_get(0).map_err(err)?;
        let unique: i64 = row.try_get(1).map_err(err)?;
        let origin: String = row.try_get(2).map_err(err)?;
        let index_columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .bind(&index_name)
                .fetch_all(pool)
                .await
                .map_err(err)?;
        indexes.push(Index {
            name: index_name,
            columns: index_columns,
            unique: unique != 0,
            primary: origin == "pk",
            constraint: origin != "c",
        });
    }
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let rows = sqlx::query(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for row in rows {
        let id: i64 = row.try_get(0).map_err(err)?;
        let references: String = row.try_get(1).map_err(err)?;
        let from: String = row.try_get(2).map_err(err)?;
        let to: Option<String> = row.try_get(3).map_err(err)?;
        match foreign_keys.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.columns.push(from);
                fk.referenced_columns.extend(to);
            }
            _ => foreign_keys.push((
                id,
                ForeignKey {
                    columns: vec![from],
                    references,
                    referenced_columns: to.into_iter().collect(),
                },
            )),
        }
    }
    Ok(Table {
        name: name.to_owned(),
        columns,
        indexes,
        foreign_keys: foreign_keys.into_iter().map(|(_, fk)| fk).collect(),
    })
}

async fn pg_table(pool: &sqlx::PgPool, name: &str) -> Result<Table> {
    let rows = sqlx::query(
        "SELECT c.column_name::text, c.data_type::text, c.is_nullable::text, \
                c.collation_name::text, c.column_default::text, \
                EXISTS (SELECT 1 FROM pg_index ix \
                        JOIN pg_class t ON t.oid = ix.indrelid \
                        JOIN pg_namespace n ON n.oid = t.relnamespace \
                        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey) \
                        WHERE ix.indisprimary AND n.nspname = current_schema() \
                          AND t.relname = c.table_name AND a.attname = c.column_name) \
         FROM information_schema.columns c \
         WHERE c.table_schema = current_schema() AND c.table_name = $1 \
         ORDER BY c.ordinal_position",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let data_type: String = row.try_get(1).map_err(err)?;
        let is_nullable: String = row.try_get(2).map_err(err)?;
        let collation: Option<String> = row.try_get(3).map_err(err)?;
        let default: Option<String> = row.try_get(4).map_err(err)?;
        let sql_type = match collation {
            Some(c) => format!("{data_type} COLLATE \"{c}\""),
            None => data_type,
        };
        columns.push(Column {
            name: row.try_get(0).map_err(err)?,
            sql_type,
            nullable: is_nullable == "YES",
            primary_key: row.try_get(5).map_err(err)?,
            default: default.as_deref().and_then(normalize_default),
        });
    }
    let rows = sqlx::query(
        "SELECT i.relname::text, ix.indisunique, ix.indisprimary, \
                EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid), \
                ARRAY(SELECT a.attname::text \
                      FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                      ORDER BY k.ord) \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY i.relname",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let mut indexes = Vec::with_capacity(rows.len());
    for row in rows {
        indexes.push(Index {
            name: row.try_get(0).map_err(err)?,
            unique: row.try_get(1).map_err(err)?,
            primary: row.try_get(2).map_err(err)?,
            constraint: row.try_get(3).map_err(err)?,
            columns: row.try_get(4).map_err(err)?,
        });
    }
    let rows = sqlx::query(
        "SELECT f.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord), \
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord) \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class f ON f.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY c.conname",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(err)?;
    let mut foreign_keys = Vec::with_capacity(rows.len());
    for row in rows {
        foreign_keys.push(ForeignKey {
            references: row.try_get(0).map_err(err)?,
            columns: row.try_get(1).map_err(err)?,
            referenced_columns: row.try_get(2).map_err(err)?,
        });
    }
    Ok(Table {
        name: name.to_owned(),
        columns,
        indexes,
        foreign_keys,
    })
}
