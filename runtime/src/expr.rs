//! The untyped expression tree: filter conditions ([`Expr`]) and order keys ([`OrderKey`]) over
//! field indexes into [`crate::EntityMeta::fields`], and the relation conditions ([`Related`])
//! that lead from one entity to another.
//!
//! The typed query API ([`crate::query`]) builds these trees; the store turns them into SQL
//! ([`crate::store::sql`]) and the CDMS layer into `$filter`/`$orderby`. Both depend on this
//! module, not on each other.

use crate::entity::EntityMeta;
use crate::value::Value;

/// A part of a date or datetime, for the date-part lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// Calendar year.
    Year,
    /// Month, 1–12.
    Month,
    /// Day of month, 1–31.
    Day,
    /// Day of week, 1 = Sunday … 7 = Saturday (Django's numbering).
    WeekDay,
    /// Hour, 0–23 (UTC).
    Hour,
    /// Minute, 0–59.
    Minute,
    /// Second, 0–59.
    Second,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

/// One lookup applied to a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Equal (case-sensitive for text).
    Exact(Value),
    /// Equal ignoring ASCII case.
    IExact(String),
    /// Contains (case-sensitive).
    Contains(String),
    /// Contains, ignoring ASCII case.
    IContains(String),
    /// Starts with (case-sensitive).
    StartsWith(String),
    /// Starts with, ignoring ASCII case.
    IStartsWith(String),
    /// Ends with (case-sensitive).
    EndsWith(String),
    /// Ends with, ignoring ASCII case.
    IEndsWith(String),
    /// Equal to one of (an empty list matches nothing).
    In(Vec<Value>),
    /// Compared with a value (`gt`, `gte`, `lt`, `lte`).
    Compare(Cmp, Value),
    /// Between two values, inclusive.
    Range(Value, Value),
    /// A part of a date/datetime compared with a number.
    DatePart(DatePart, Cmp, i32),
    /// A date part equal to one of.
    DatePartIn(DatePart, Vec<i32>),
    /// `IS NULL` (true) or `IS NOT NULL` (false).
    IsNull(bool),
    /// Matches a regular expression (case-sensitive).
    Regex(String),
    /// Matches a regular expression, ignoring case.
    IRegex(String),
}

/// A condition on one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// Index of the field in [`crate::EntityMeta::fields`].
    pub field: usize,
    /// The lookup.
    pub lookup: Lookup,
}

/// An untyped filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Matches every row.
    All,
    /// Matches no row (`none()`, `in` with an empty list).
    Nothing,
    /// One condition.
    Cond(Cond),
    /// All of.
    And(Vec<Expr>),
    /// Any of.
    Or(Vec<Expr>),
    /// Not.
    Not(Box<Expr>),
    /// A condition on related rows (a reference's target, or the rows referring to this one);
    /// built by [`crate::query::path`].
    Related(Box<Related>),
}

impl Expr {
    /// `self AND other`, flattening and simplifying.
    pub fn and(self, other: Expr) -> Expr {
        match (self, other) {
            (Expr::All, e) | (e, Expr::All) => e,
            (Expr::Nothing, _) | (_, Expr::Nothing) => Expr::Nothing,
            (Expr::And(mut a), Expr::And(b)) => {
                a.extend(b);
                Expr::And(a)
            }
            (Expr::And(mut a), e) => {
                a.push(e);
                Expr::And(a)
            }
            (e, Expr::And(mut b)) => {
                b.insert(0, e);
                Expr::And(b)
            }
            (a, b) => Expr::And(vec![a, b]),
        }
    }

    /// `self OR other`, flattening and simplifying.
    pub fn or(self, other: Expr) -> Expr {
        match (self, other) {
            (Expr::All, _) | (_, Expr::All) => Expr::All,
            (Expr::Nothing, e) | (e, Expr::Nothing) => e,
            (Expr::Or(mut a), Expr::Or(b)) => {
                a.extend(b);
                Expr::Or(a)
            }
            (Expr::Or(mut a), e) => {
                a.push(e);
                Expr::Or(a)
            }
            (e, Expr::Or(mut b)) => {
                b.insert(0, e);
                Expr::Or(b)
            }
            (a, b) => Expr::Or(vec![a, b]),
        }
    }

    /// `NOT self`, simplifying double negation and constants.
    pub fn negate(self) -> Expr {
        match self {
            Expr::All => Expr::Nothing,
            Expr::Nothing => Expr::All,
            Expr::Not(inner) => *inner,
            e => Expr::Not(Box::new(e)),
        }
    }

    /// Whether a relation condition ([`Expr::Related`]) is part of the condition: whether
    /// rows other than the entity's own decide it.
    pub fn has_related(&self) -> bool {
        match self {
            Expr::Related(_) => true,
            Expr::And(items) | Expr::Or(items) => items.iter().any(Expr::has_related),
            Expr::Not(inner) => inner.has_related(),
            Expr::All | Expr::Nothing | Expr::Cond(_) => false,
        }
    }
}

/// One key of an `order_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// Index of the field: of the entity queried, or with `via`, of the entity the last
    /// reference in `via` leads to.
    pub field: usize,
    /// Descending.
    pub desc: bool,
    /// The reference fields followed before `field`, from the entity queried on, each a field
    /// of the entity the previous one leads to; empty for a field of the entity itself
    /// (see [`crate::query::order`]).
    pub via: Vec<usize>,
}

impl OrderKey {
    /// A key on field `field` of the entity itself.
    pub fn new(field: usize, desc: bool) -> Self {
        OrderKey {
            field,
            desc,
            via: Vec::new(),
        }
    }

    /// Ascending on field `field` of the entity itself.
    pub fn asc(field: usize) -> Self {
        OrderKey::new(field, false)
    }

    /// Whether the key is on a field of the entity itself (no reference followed).
    pub fn is_root(&self) -> bool {
        self.via.is_empty()
    }
}

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
