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

use crate::entity::Entity;
use crate::query::expr::{Expr, Field, Q};

pub use crate::expr::{Hop, Related};
use crate::types::Ref;

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
