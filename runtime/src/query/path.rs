//! Lookups across relations: conditions on the entity a reference points to (forward, and
//! chains of references) and on the entities referring to a row (backward, any/none).
//!
//! ```ignore
//! let p = Product::fields();
//! // Products whose shop is in Leeds (a null shop never matches).
//! Product::objects(&db).filter(p.shop.matching(|s| s.city.eq("Leeds")));
//! // Lines of a product sold in a shop called "North" (a chain).
//! Line::objects(&db).filter(l.product.matching(|p| p.shop.matching(|s| s.name.eq("North"))));
//! // Shops having an active product, and shops having none.
//! Shop::objects(&db).filter(p.shop.any(|p| p.active.eq(true)));
//! Shop::objects(&db).filter(p.shop.none(|p| p.active.eq(true)));
//! ```
//!
//! The closure receives the related entity's field handles, so the far condition is checked at
//! compile time like any other lookup, and every lookup works on the far field. The results
//! combine with `&`, `|`, `!` and `exclude` like root conditions; `!matching(q)` (and `exclude`)
//! keeps the rows whose reference is null, as `!q` keeps the rows whose field is null.
//!
//! In the tree a relation is an [`Expr::Related`] node: a [`Hop`] and the condition on the
//! entity it leads to. Locally it becomes an `EXISTS` subquery (see
//! [`crate::store::sql::filter`]).

use crate::entity::{Entity, EntityMeta};
use crate::query::expr::{Expr, Field, Q};
use crate::types::Ref;

/// One step from an entity to related ones.
#[derive(Debug, Clone, Copy)]
pub enum Hop {
    /// Through the reference field `field` of the current entity to the row it points to.
    Forward {
        /// Index of the reference field in the current entity's fields.
        field: usize,
        /// The referenced entity.
        target: &'static EntityMeta,
    },
    /// From the current entity to the rows of `source` whose reference `field` points to it.
    Reverse {
        /// The referring entity.
        source: &'static EntityMeta,
        /// Index of the reference field in `source`'s fields.
        field: usize,
    },
}

impl Hop {
    /// The entity the condition after this hop is about.
    pub fn entity(&self) -> &'static EntityMeta {
        match self {
            Hop::Forward { target, .. } => target,
            Hop::Reverse { source, .. } => source,
        }
    }
}

impl PartialEq for Hop {
    fn eq(&self, other: &Hop) -> bool {
        match (self, other) {
            (
                Hop::Forward {
                    field: a,
                    target: x,
                },
                Hop::Forward {
                    field: b,
                    target: y,
                },
            )
            | (
                Hop::Reverse {
                    field: a,
                    source: x,
                },
                Hop::Reverse {
                    field: b,
                    source: y,
                },
            ) => {
                // Metadata are constants, whose addresses need not be unique: compare tables.
                a == b && x.table == y.table
            }
            _ => false,
        }
    }
}

/// A condition on related rows: forward, the referenced row exists and matches `expr`;
/// reverse, at least one referring row matches `expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// How the related rows are reached.
    pub hop: Hop,
    /// The condition on them (field indexes belong to [`Hop::entity`]).
    pub expr: Expr,
}

fn related<E>(hop: Hop, q: Expr) -> Q<E> {
    Q::from_expr(Expr::Related(Box::new(Related { hop, expr: q })))
}

macro_rules! relation_lookups {
    ($ty:ty) => {
        impl<E: Entity, R: Entity> Field<E, $ty> {
            /// The referenced object exists and matches `q` (built from its field handles):
            /// `f.shop.matching(|s| s.city.eq("Leeds"))`. A null reference never matches.
            pub fn matching(self, q: impl FnOnce(R::Fields) -> Q<R>) -> Q<E> {
                let hop = Hop::Forward {
                    field: self.index(),
                    target: R::META,
                };
                related(hop, q(R::fields()).into_expr())
            }

            /// The objects of `R` having at least one object of `E` that refers to them
            /// through this field and matches `q`: `product.shop.any(|p| p.active.eq(true))`
            /// selects shops. `any(|_| Q::all())` selects the objects referred to at all.
            pub fn any(self, q: impl FnOnce(E::Fields) -> Q<E>) -> Q<R> {
                let hop = Hop::Reverse {
                    source: E::META,
                    field: self.index(),
                };
                related(hop, q(E::fields()).into_expr())
            }

            /// The objects of `R` having no object of `E` that refers to them through this
            /// field and matches `q`: `!self.any(q)`.
            pub fn none(self, q: impl FnOnce(E::Fields) -> Q<E>) -> Q<R> {
                !self.any(q)
            }
        }
    };
}

relation_lookups!(Ref<R>);
relation_lookups!(Option<Ref<R>>);
