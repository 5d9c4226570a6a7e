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
