//! Relations: `select_related` (follow a reference in the same query), `prefetch_related`
//! (load the objects referring to each result in one more query) and reverse relations
//! ([`crate::query::EntityExt::children`]).

use std::collections::HashMap;

use super::QuerySet;
use crate::entity::Entity;
use crate::error::Result;
use crate::query::expr::{Cond, Expr, Field, Lookup, Q};
use crate::store::{rows, ReadOp};
use crate::types::Ref;
use crate::value::Value;

/// A reference field of `E` (`Ref<R>` or `Option<Ref<R>>`) and the entity it points to.
pub trait RefField<E> {
    /// The referenced entity.
    type Target: Entity;
    /// The field's index in `E`'s fields.
    fn ref_index(&self) -> usize;
}

impl<E, R: Entity> RefField<E> for Field<E, Ref<R>> {
    type Target = R;
    fn ref_index(&self) -> usize {
        self.index()
    }
}

impl<E, R: Entity> RefField<E> for Field<E, Option<Ref<R>>> {
    type Target = R;
    fn ref_index(&self) -> usize {
        self.index()
    }
}

/// The objects of `C` whose reference `via` points to the object of its target with primary
/// key `pk`. Like a related manager, the queryset also links what it creates: `create`,
/// `bulk_create`, `get_or_create` and `update_or_create` set `via` to `pk` on every object they
/// insert (whatever the object held), and the lookups of `get_or_create`/`update_or_create` stay
/// within the parent's objects.
pub fn referring<C: Entity, F: RefField<C>>(
    db: &crate::store::Db,
    via: &F,
    pk: i64,
) -> QuerySet<C> {
    let field = via.ref_index();
    let mut qs = QuerySet::new(db).filter(Q::from_expr(Expr::Cond(Cond {
        field,
        lookup: Lookup::Exact(Value::Int(pk)),
    })));
    qs.fixed.push((field, Value::Int(pk)));
    qs
}

impl<E: Entity> QuerySet<E> {
    /// Every matching object with the object its reference `via` points to, read in one
    /// joined query (`None` for a null reference).
    pub async fn select_related<F: RefField<E>>(
        &self,
        via: F,
    ) -> Result<Vec<(E, Option<F::Target>)>> {
        let Some(spec) = self.prepare(ReadOp::List).await? else {
            return Ok(Vec::new());
        };
        let target = <F::Target as Entity>::META;
        let joined = rows::select_joined(&self.db, E::META, &spec, via.ref_index(), target).await?;
        joined
            .into_iter()
            .map(|(row, other)| {
                Ok((
                    E::from_row(row)?,
                    other.map(F::Target::from_row).transpose()?,
                ))
            })
            .collect()
    }

    /// Every matching object with the objects of `C` that refer to it through `via` (ordered by
    /// primary key), in two queries.
    pub async fn prefetch_related<C: Entity, F: RefField<C, Target = E>>(
        &self,
        via: F,
    ) -> Result<Vec<(E, Vec<C>)>> {
        let parents = self.all().await?;
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let pks: Vec<Value> = parents.iter().map(|p| Value::Int(p.pk())).collect();
        let index = via.ref_index();
        let children = QuerySet::<C>::new(&self.db)
            .filter(Q::from_expr(Expr::Cond(Cond {
                field: index,
                lookup: Lookup::In(pks),
            })))
            .all()
            .await?;
        let mut by_parent: HashMap<i64, Vec<C>> = HashMap::new();
        for child in children {
            if let Some(Value::Int(parent)) = child.to_row().get(index) {
                by_parent.entry(*parent).or_default().push(child);
            }
        }
        Ok(parents
            .into_iter()
            .map(|p| {
                let kids = by_parent.remove(&p.pk()).unwrap_or_default();
                (p, kids)
            })
            .collect())
    }
}

/// Writes through a reverse relation ([`crate::query::EntityExt::children`]): link and unlink
/// children by setting or clearing their reference to the parent. Each is an ordinary save or
/// queryset update, so a synced entity's change goes to CDMS like any other write.
impl<C: Entity> QuerySet<C> {
    /// The reference field and parent key of a reverse-relation queryset.
    fn relation(&self, what: &str) -> Result<(usize, i64)> {
        match self.fixed.first() {
            Some((field, Value::Int(pk))) => Ok((*field, *pk)),
            _ => Err(crate::error::Error::InvalidQuery {
                entity: C::META.name,
                message: format!("{what} needs a reverse relation (`parent.children(db, via)`)"),
            }),
        }
    }

    /// The reference field, which must be nullable for `remove`/`clear`.
    fn nullable_relation(&self, what: &str) -> Result<(usize, i64)> {
        let (field, pk) = self.relation(what)?;
        match C::META.fields.get(field) {
            Some(f) if f.nullable => Ok((field, pk)),
            f => Err(crate::error::Error::InvalidQuery {
                entity: C::META.name,
                message: format!(
                    "{what}: field {} is required (not an Option<Ref<_>>); delete the objects instead",
                    f.map_or("?", |f| f.name)
                ),
            }),
        }
    }

    /// Points `child`'s reference at the parent and saves it (inserting it when new); `child`
    /// is updated to the stored row.
    pub async fn add(&self, child: &mut C) -> Result<()> {
        let (field, pk) = self.relation("add")?;
        let mut row = child.to_row();
        if let Some(slot) = row.get_mut(field) {
            *slot = Value::Int(pk);
        }
        *child = C::from_row(row)?;
        crate::query::EntityExt::save(child, &self.db).await
    }

    /// Clears `child`'s reference to the parent and saves it. [`crate::Error::NotFound`] when
    /// `child` does not refer to the parent; refused for a required reference.
    pub async fn remove(&self, child: &mut C) -> Result<()> {
        let (field, pk) = self.nullable_relation("remove")?;
        let mut row = child.to_row();
        match row.get_mut(field) {
            Some(slot) if *slot == Value::Int(pk) => *slot = Value::Null,
            _ => {
                return Err(crate::error::Error::NotFound {
                    entity: C::META.name,
                    query: format!(
                        "id = {} AND {} = {pk}",
                        child.pk(),
                        C::META.fields.get(field).map_or("?", |f| f.name)
                    ),
                })
            }
        }
        *child = C::from_row(row)?;
        crate::query::EntityExt::save(child, &self.db).await
    }

    /// Clears the reference of every child (of those matching the queryset's filters) and
    /// returns how many changed. Refused for a required reference.
    pub async fn clear(&self) -> Result<u64> {
        let (field, _) = self.nullable_relation("clear")?;
        self.update([super::Set::from_parts(field, Value::Null)])
            .await
    }
}
