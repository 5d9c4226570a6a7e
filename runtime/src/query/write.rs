//! Queryset writes: `create`, `bulk_create`, `update`, `delete`, `get_or_create`,
//! `update_or_create`. Each runs in one transaction and records a history version per object.

use super::{QuerySet, Set, Q};
use crate::entity::{Entity, Row};
use crate::error::{Error, Result};
use crate::store::history::VersionKind;
use crate::store::{normalize, ops, rows, ReadOp};
use crate::value::Value;

fn unsaved<E: Entity>(obj: &E) -> Result<()> {
    if obj.pk() == 0 {
        Ok(())
    } else {
        Err(Error::Refused {
            entity: E::META.name,
            message: format!(
                "the object already has primary key {}: save it to update, or reset its key to 0",
                obj.pk()
            ),
        })
    }
}

/// Whether `e` is a unique-constraint violation reported by the database.
pub(crate) fn is_unique_violation(e: &Error) -> bool {
    match e {
        Error::Database {
            source: sqlx::Error::Database(d),
            ..
        } => d.is_unique_violation(),
        _ => false,
    }
}

fn apply<E>(row: &mut Row, assignments: &[Set<E>]) {
    for a in assignments {
        if let Some(slot) = row.get_mut(a.field()) {
            *slot = normalize(a.value().clone());
        }
    }
}

impl<E: Entity> QuerySet<E> {
    /// Inserts `obj` (its primary key must be 0) and returns it as stored: primary key
    /// assigned, `modified`/`created` stamped. On a reverse relation (`parent.children(..)`)
    /// the object is linked to the parent.
    pub async fn create(&self, obj: E) -> Result<E> {
        unsaved(&obj)?;
        let mut row = obj.to_row();
        self.create_row(&mut row).await?;
        E::from_row(row)
    }

    /// Sets the queryset's fixed values (the parent of a reverse relation) on a row to insert.
    fn link(&self, row: &mut Row) {
        for (field, value) in &self.fixed {
            if let Some(slot) = row.get_mut(*field) {
                *slot = value.clone();
            }
        }
    }

    async fn create_row(&self, row: &mut Row) -> Result<()> {
        self.link(row);
        if let Some(slot) = row.get_mut(E::META.pk) {
            *slot = Value::Int(0);
        }
        ops::save(&self.db, E::META, row).await?;
        self.db.snapshots().remember(E::META, [&*row]);
        Ok(())
    }

    /// Inserts `objs` in one transaction (all or nothing) and returns them as stored (linked
    /// to the parent on a reverse relation).
    pub async fn bulk_create(&self, objs: Vec<E>) -> Result<Vec<E>> {
        objs.iter().try_for_each(unsaved)?;
        let mut rows: Vec<Row> = objs.iter().map(Entity::to_row).collect();
        rows.iter_mut().for_each(|row| self.link(row));
        ops::insert_many(&self.db, E::META, &mut rows).await?;
        rows.into_iter().map(E::from_row).collect()
    }

    /// Sets `assignments` (e.g. `[f.name.set("x"), f.active.set(false)]`) on every matching
    /// object in one transaction; returns how many changed. `modified` is stamped as for any
    /// local write. Works on sliced querysets too (the window is locked and updated).
    pub async fn update(&self, assignments: impl IntoIterator<Item = Set<E>>) -> Result<u64> {
        let assignments: Vec<(usize, Value)> =
            assignments.into_iter().map(Set::into_parts).collect();
        let Some(spec) = self.prepare(ReadOp::Update).await? else {
            return Ok(0);
        };
        ops::update_matching(&self.db, E::META, &spec, &assignments).await
    }

    /// Deletes every matching object in one transaction; returns how many were deleted.
    pub async fn delete(&self) -> Result<u64> {
        let Some(spec) = self.prepare(ReadOp::Delete).await? else {
            return Ok(0);
        };
        ops::delete_matching(&self.db, E::META, &spec).await
    }

    /// The object matching `q` (within this queryset), or `default` inserted when there is
    /// none; the flag tells whether it was created. A concurrent insert of the same unique
    /// value is resolved by reading the winner.
    pub async fn get_or_create(&self, q: Q<E>, default: E) -> Result<(E, bool)> {
        let qs = self.clone().filter(q);
        match qs.get().await {
            Ok(found) => Ok((found, false)),
            Err(e) if e.is_not_found() => match self.create(default).await {
                Ok(created) => Ok((created, true)),
                Err(e) if is_unique_violation(&e) => {
                    qs.get().await.map(|found| (found, false)).map_err(|_| e)
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The object matching `q` (within this queryset) with `assignments` applied and saved, or
    /// `default` with `assignments` applied, inserted; the flag tells whether it was created.
    pub async fn update_or_create(
        &self,
        q: Q<E>,
        default: E,
        assignments: impl IntoIterator<Item = Set<E>>,
    ) -> Result<(E, bool)> {
        let assignments: Vec<Set<E>> = assignments.into_iter().collect();
        let parts: Vec<(usize, Value)> = assignments
            .iter()
            .map(|a| (a.field(), a.value().clone()))
            .collect();
        ops::check_assignments(E::META, &parts)?;
        let qs = self.clone().filter(q);
        match qs.get().await {
            Ok(found) => self
                .update_found(found.pk(), &assignments)
                .await
                .map(|e| (e, false)),
            Err(e) if e.is_not_found() => {
                unsaved(&default)?;
                let mut row = default.to_row();
                apply(&mut row, &assignments);
                match self.create_row(&mut row).await {
                    Ok(()) => Ok((E::from_row(row)?, true)),
                    Err(e) if is_unique_violation(&e) => match qs.get().await {
                        Ok(found) => self
                            .update_found(found.pk(), &assignments)
                            .await
                            .map(|o| (o, false)),
                        Err(_) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn update_found(&self, pk: i64, assignments: &[Set<E>]) -> Result<E> {
        let mut tx = self.db.begin().await?;
        let mut row = rows::get_for_update(&mut tx, E::META, pk)
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: E::META.name,
                query: format!("{} = {pk}", E::META.pk_field().name),
            })?;
        apply(&mut row, assignments);
        ops::update_in(&mut tx, E::META, &mut row, VersionKind::LocalChange).await?;
        tx.commit().await?;
        E::from_row(row)
    }
}
