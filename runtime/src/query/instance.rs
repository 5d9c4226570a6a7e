//! Instance methods for every entity: `obj.save(&db)`, `obj.delete(&db)`, `obj.refresh(&db)`,
//! reverse relations and history.

use std::future::Future;

use super::related::{referring, RefField};
use super::QuerySet;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::store::history::{self, Version, VersionKind};
use crate::store::{ops, rows, Db, ReadOp, ReadSpec, Tx};
use crate::value::Value;

fn missing<E: Entity>(pk: i64) -> Error {
    Error::NotFound {
        entity: E::META.name,
        query: format!("{} = {pk}", E::META.pk_field().name),
    }
}

async fn save_in_tx<E: Entity>(obj: &mut E, tx: &mut Tx) -> Result<()> {
    let mut row = obj.to_row();
    if obj.pk() == 0 {
        ops::insert_in(tx, E::META, &mut row, VersionKind::LocalChange, false).await?;
    } else {
        ops::update_in(tx, E::META, &mut row, VersionKind::LocalChange).await?;
    }
    tx.db().snapshots().remember(E::META, [&row]);
    *obj = E::from_row(row)?;
    Ok(())
}

/// Query and write methods available on every [`Entity`] (`use cdms_runtime::query::EntityExt`).
pub trait EntityExt: Entity {
    /// All objects of this entity in `db`: `Organisation::objects(&db).filter(…)`.
    fn objects(db: &Db) -> QuerySet<Self> {
        QuerySet::new(db)
    }

    /// Inserts the object when its primary key is 0, updates it otherwise, in one transaction
    /// with a history version. The object is updated to the stored row (primary key assigned,
    /// `modified`/`created` stamped, fields filled by the remote).
    fn save<'a>(&'a mut self, db: &'a Db) -> impl Future<Output = Result<()>> + Send + 'a {
        async move {
            let mut row = self.to_row();
            ops::save(db, Self::META, &mut row).await?;
            db.snapshots().remember(Self::META, [&row]);
            *self = Self::from_row(row)?;
            Ok(())
        }
    }

    /// [`EntityExt::save`] inside an open transaction.
    fn save_in<'a>(&'a mut self, tx: &'a mut Tx) -> impl Future<Output = Result<()>> + Send + 'a {
        save_in_tx(self, tx)
    }

    /// Deletes the object (history keeps its last state) and resets its primary key to 0.
    fn delete<'a>(&'a mut self, db: &'a Db) -> impl Future<Output = Result<()>> + Send + 'a {
        async move {
            ops::delete(db, Self::META, self.pk()).await?;
            self.set_pk(0);
            Ok(())
        }
    }

    /// [`EntityExt::delete`] inside an open transaction.
    fn delete_in<'a>(&'a mut self, tx: &'a mut Tx) -> impl Future<Output = Result<()>> + Send + 'a {
        async move {
            ops::delete_in(tx, Self::META, self.pk()).await?;
            self.set_pk(0);
            Ok(())
        }
    }

    /// Reloads the object from the database ([`Error::NotFound`] if it was deleted).
    fn refresh<'a>(&'a mut self, db: &'a Db) -> impl Future<Output = Result<()>> + Send + 'a {
        async move {
            let pk = self.pk();
            let spec = ReadSpec {
                op: ReadOp::Get,
                ..ReadSpec::filtered(Self::META, rows::pk_expr(Self::META, vec![Value::Int(pk)]))
            };
            let answered = match db.active_remote(Self::META) {
                Some(remote) => {
                    remote
                        .before_read(&db.skip_cdms(), Self::META, &spec)
                        .await?
                }
                None => None,
            };
            let row = match answered {
                Some(found) => found.into_iter().next(),
                None => rows::get(db, Self::META, pk).await?,
            }
            .ok_or_else(|| missing::<Self>(pk))?;
            *self = Self::from_row(row)?;
            Ok(())
        }
    }

    /// The objects of `C` whose reference `via` points to this object, e.g. an organisation's
    /// contacts: `org.children(&db, Contact::fields().organisation)`. Objects created through the
    /// returned queryset (`create`, `bulk_create`, `get_or_create`, `update_or_create`) refer to
    /// this object, and the lookups of `get_or_create`/`update_or_create` only consider its
    /// children.
    fn children<C: Entity, F: RefField<C, Target = Self>>(&self, db: &Db, via: F) -> QuerySet<C> {
        referring(db, &via, self.pk())
    }

    /// The recorded versions of this object, oldest first.
    fn versions<'a>(
        &'a self,
        db: &'a Db,
    ) -> impl Future<Output = Result<Vec<Version>>> + Send + 'a {
        history::versions(db, Self::META, self.pk())
    }

    /// Reverts the object a version belongs to back to that version (a write through `db`,
    /// recorded as `"revert"`); returns the object as stored.
    fn revert_to(db: &Db, version_id: i64) -> impl Future<Output = Result<Self>> + Send + '_ {
        async move { Self::from_row(history::revert(db, Self::META, version_id).await?) }
    }

    /// Re-creates the deleted object with primary key `pk` from its last version, under the same
    /// key (recorded as `"restore"`); returns it.
    fn restore(db: &Db, pk: i64) -> impl Future<Output = Result<Self>> + Send + '_ {
        async move { Self::from_row(history::restore(db, Self::META, pk).await?) }
    }
}

impl<E: Entity> EntityExt for E {}
