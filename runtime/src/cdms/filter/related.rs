//! Relation conditions in the remote filter: which ones can become key conditions, and the
//! rewrite that puts the keys in their place.
//!
//! CRM 2011 filters on related records only through `$expand` (one many-to-one relation, no
//! root condition beside it: [`super::translate_expanded`]), so the sync layer answers the other
//! relation conditions with a semi-join: it selects the keys the condition stands for and sends
//! those ([`crate::cdms::sync`]). Only relations in positive position (outside any `not`, under
//! `and`/`or` only) may be replaced: `and` and `or` are monotone, so a superset of each relation
//! gives a superset of the whole; under `not` it would give a subset. The others are relaxed by
//! [`super::translate`].

use crate::expr::Expr;
use crate::expr::Related;

/// The relation conditions of `expr` outside any `not`, in the order [`substitute`] expects.
pub fn positive_relations(expr: &Expr) -> Vec<&Related> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

fn collect<'e>(expr: &'e Expr, out: &mut Vec<&'e Related>) {
    match expr {
        Expr::Related(r) => out.push(r),
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| collect(e, out)),
        Expr::All | Expr::Nothing | Expr::Cond(_) | Expr::Not(_) => {}
    }
}

/// `expr` with the `i`-th relation of [`positive_relations`] replaced by `keys[i]` (a condition
/// on the root whose records include every record the relation matches), or by `true` when
/// `keys[i]` is `None` or missing.
pub fn substitute(expr: &Expr, keys: &[Option<Expr>]) -> Expr {
    let mut next = 0;
    walk(expr, keys, &mut next)
}

fn walk(expr: &Expr, keys: &[Option<Expr>], next: &mut usize) -> Expr {
    match expr {
        Expr::Related(_) => {
            let key = keys.get(*next).cloned().flatten().unwrap_or(Expr::All);
            *next += 1;
            key
        }
        Expr::And(items) => Expr::And(items.iter().map(|e| walk(e, keys, next)).collect()),
        Expr::Or(items) => Expr::Or(items.iter().map(|e| walk(e, keys, next)).collect()),
        other => other.clone(),
    }
}
