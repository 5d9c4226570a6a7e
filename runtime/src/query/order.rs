//! Ordering by a field of a referenced entity, through chains of references (Django's
//! `order_by("organisation__name")`).
//!
//! ```ignore
//! let (c, o) = (Contact::fields(), Organisation::fields());
//! // Contacts by their organisation's name, then by last name.
//! Contact::objects(&db).order_by([c.organisation.then(o.name).asc(), c.last_name.asc()]);
//! // A chain: lines by the city of their product's shop, latest first.
//! let (l, p, s) = (Line::fields(), Product::fields(), Shop::fields());
//! Line::objects(&db).order_by([l.product.then(p.shop).then(s.city).desc()]);
//! ```
//!
//! `then` exists only on reference fields (`Ref<R>`, `Option<Ref<R>>`) and takes a field handle
//! of the entity the reference leads to, so a plain field or a field of another entity does not
//! compile. A null reference anywhere along the path sorts like a null value: first ascending,
//! last descending, on SQLite and PostgreSQL alike. Keys combine with root keys in one
//! `order_by`, and the primary key still breaks ties.
//!
//! In the tree the key is an [`OrderKey`] whose `via` lists the reference fields followed.
//! Locally each distinct path becomes a `LEFT JOIN` of its own (see
//! [`crate::store::sql::select`]).

use std::marker::PhantomData;

use crate::entity::Entity;
use crate::query::expr::{Field, Order, OrderKey};
use crate::types::Ref;

/// A field of type `T` of an entity reached from `E` through one or more references; ordered
/// with [`FieldPath::asc`] / [`FieldPath::desc`], extended with `then` while `T` is a reference.
pub struct FieldPath<E, T> {
    via: Vec<usize>,
    field: usize,
    _marker: PhantomData<fn() -> (E, T)>,
}

impl<E, T> Clone for FieldPath<E, T> {
    fn clone(&self) -> Self {
        FieldPath {
            via: self.via.clone(),
            field: self.field,
            _marker: PhantomData,
        }
    }
}

impl<E, T> std::fmt::Debug for FieldPath<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FieldPath({:?} -> {})", self.via, self.field)
    }
}

impl<E, T> FieldPath<E, T> {
    /// The reference fields followed, from `E` on.
    pub fn via(&self) -> &[usize] {
        &self.via
    }

    /// The index of the far field in its entity's fields.
    pub fn index(&self) -> usize {
        self.field
    }

    fn key(self, desc: bool) -> Order<E> {
        Order::from_key(OrderKey {
            field: self.field,
            desc,
            via: self.via,
        })
    }

    /// Ascending order on the far field (null references and null values first).
    pub fn asc(self) -> Order<E> {
        self.key(false)
    }

    /// Descending order on the far field (null references and null values last).
    pub fn desc(self) -> Order<E> {
        self.key(true)
    }

    fn extend<U, R>(mut self, next: Field<R, U>) -> FieldPath<E, U> {
        self.via.push(self.field);
        FieldPath {
            via: self.via,
            field: next.index(),
            _marker: PhantomData,
        }
    }
}

macro_rules! order_through {
    ($ty:ty) => {
        impl<E: Entity, R: Entity> Field<E, $ty> {
            /// Field `next` of the referenced object, for `order_by`:
            /// `c.organisation.then(o.name).asc()`. `next` must be a field handle of the entity
            /// this reference leads to.
            pub fn then<U>(self, next: Field<R, U>) -> FieldPath<E, U> {
                FieldPath {
                    via: vec![self.index()],
                    field: next.index(),
                    _marker: PhantomData,
                }
            }
        }

        impl<E: Entity, R: Entity> FieldPath<E, $ty> {
            /// Field `next` of the object this path's reference leads to (a longer chain):
            /// `l.product.then(p.shop).then(s.city)`.
            pub fn then<U>(self, next: Field<R, U>) -> FieldPath<E, U> {
                self.extend(next)
            }
        }
    };
}

order_through!(Ref<R>);
order_through!(Option<Ref<R>>);
