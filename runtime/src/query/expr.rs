//! The typed query DSL.
//!
//! `Field<E, T>` is a handle on field `T` of entity `E`; only the lookups that make sense for `T`
//! exist as methods, so `name.gt(3)` or a misspelled field does not compile. Each lookup builds
//! a [`Q<E>`]; `&`, `|` and `!` combine them into the untyped tree of [`crate::expr`], which
//! the store and the OData translator read.

use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use crate::types::{Dated, FieldType, Ordered, Textual, Timed};
use crate::value::Value;

pub use crate::expr::{Cmp, Cond, DatePart, Expr, Lookup, OrderKey};

/// A typed filter on entity `E`: built from field lookups, combined with `&`, `|`, `!`.
pub struct Q<E> {
    expr: Expr,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Q<E> {
    /// Wraps an untyped expression (its field indexes must belong to `E`).
    pub fn from_expr(expr: Expr) -> Self {
        Q {
            expr,
            _entity: PhantomData,
        }
    }
    /// Matches every row.
    pub fn all() -> Self {
        Q::from_expr(Expr::All)
    }
    /// Matches no row.
    pub fn nothing() -> Self {
        Q::from_expr(Expr::Nothing)
    }
    /// The untyped expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
    /// The untyped expression, by value.
    pub fn into_expr(self) -> Expr {
        self.expr
    }
}

impl<E> Clone for Q<E> {
    fn clone(&self) -> Self {
        Q::from_expr(self.expr.clone())
    }
}

impl<E> std::fmt::Debug for Q<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

impl<E> BitAnd for Q<E> {
    type Output = Q<E>;
    fn bitand(self, rhs: Q<E>) -> Q<E> {
        Q::from_expr(self.expr.and(rhs.expr))
    }
}

impl<E> BitOr for Q<E> {
    type Output = Q<E>;
    fn bitor(self, rhs: Q<E>) -> Q<E> {
        Q::from_expr(self.expr.or(rhs.expr))
    }
}

impl<E> Not for Q<E> {
    type Output = Q<E>;
    fn not(self) -> Q<E> {
        Q::from_expr(self.expr.negate())
    }
}

/// A typed order key on entity `E` (from [`Field::asc`] / [`Field::desc`], or through references
/// from [`crate::query::order::FieldPath`]).
pub struct Order<E> {
    key: OrderKey,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Order<E> {
    /// Wraps an untyped key (its field indexes must belong to `E`, or to the entities its
    /// `via` leads to).
    pub fn from_key(key: OrderKey) -> Self {
        Order {
            key,
            _entity: PhantomData,
        }
    }

    /// The untyped key.
    pub fn key(&self) -> OrderKey {
        self.key.clone()
    }

    /// The untyped key, by value.
    pub fn into_key(self) -> OrderKey {
        self.key
    }
}

impl<E> Clone for Order<E> {
    fn clone(&self) -> Self {
        Order::from_key(self.key.clone())
    }
}

impl<E> std::fmt::Debug for Order<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.key.fmt(f)
    }
}

/// A typed handle on one field of entity `E`, of Rust type `T`.
pub struct Field<E, T> {
    index: usize,
    _marker: PhantomData<fn() -> (E, T)>,
}

impl<E, T> Clone for Field<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E, T> Copy for Field<E, T> {}

impl<E, T> std::fmt::Debug for Field<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Field({})", self.index)
    }
}

/// A date or time part of a [`Field`], compared with integers: `created.year().eq(2016)`.
pub struct Part<E> {
    field: usize,
    part: DatePart,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Part<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Part<E> {}

impl<E> Part<E> {
    fn cmp(self, op: Cmp, n: i32) -> Q<E> {
        cond(self.field, Lookup::DatePart(self.part, op, n))
    }
    /// The part equals `n`.
    pub fn eq(self, n: i32) -> Q<E> {
        self.cmp(Cmp::Eq, n)
    }
    /// The part is greater than `n`.
    pub fn gt(self, n: i32) -> Q<E> {
        self.cmp(Cmp::Gt, n)
    }
    /// The part is at least `n`.
    pub fn gte(self, n: i32) -> Q<E> {
        self.cmp(Cmp::Gte, n)
    }
    /// The part is less than `n`.
    pub fn lt(self, n: i32) -> Q<E> {
        self.cmp(Cmp::Lt, n)
    }
    /// The part is at most `n`.
    pub fn lte(self, n: i32) -> Q<E> {
        self.cmp(Cmp::Lte, n)
    }
    /// The part is between `lo` and `hi`, inclusive.
    pub fn range(self, lo: i32, hi: i32) -> Q<E> {
        self.cmp(Cmp::Gte, lo) & self.cmp(Cmp::Lte, hi)
    }
    /// The part is one of `values`.
    pub fn is_in(self, values: impl IntoIterator<Item = i32>) -> Q<E> {
        cond(
            self.field,
            Lookup::DatePartIn(self.part, values.into_iter().collect()),
        )
    }
}

fn cond<E>(field: usize, lookup: Lookup) -> Q<E> {
    Q::from_expr(Expr::Cond(Cond { field, lookup }))
}

impl<E, T> Field<E, T> {
    /// A handle on field number `index` (generated code only).
    #[doc(hidden)]
    pub const fn new(index: usize) -> Self {
        Field {
            index,
            _marker: PhantomData,
        }
    }
    /// The field's index in [`crate::EntityMeta::fields`].
    pub const fn index(self) -> usize {
        self.index
    }
    /// Ascending order on this field.
    pub fn asc(self) -> Order<E> {
        Order::from_key(OrderKey::new(self.index, false))
    }
    /// Descending order on this field.
    pub fn desc(self) -> Order<E> {
        Order::from_key(OrderKey::new(self.index, true))
    }
    fn lookup(self, lookup: Lookup) -> Q<E> {
        cond(self.index, lookup)
    }
    fn part(self, part: DatePart) -> Part<E> {
        Part {
            field: self.index,
            part,
            _entity: PhantomData,
        }
    }
}

impl<E, T: FieldType> Field<E, T> {
    /// Equal to `value` (`exact`; case-sensitive for text).
    pub fn eq(self, value: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Exact(value.into().to_value()))
    }
    /// Not equal to `value`: `!field.eq(value)`, so rows where the field is null match too.
    pub fn ne(self, value: impl Into<T::Scalar>) -> Q<E> {
        !self.eq(value)
    }
    /// Equal to one of `values` (`in`); an empty list matches nothing.
    pub fn is_in<V: Into<T::Scalar>>(self, values: impl IntoIterator<Item = V>) -> Q<E> {
        let values: Vec<Value> = values.into_iter().map(|v| v.into().to_value()).collect();
        if values.is_empty() {
            return Q::nothing();
        }
        self.lookup(Lookup::In(values))
    }
}

impl<E, T: FieldType> Field<E, Option<T>> {
    /// `IS NULL` when `yes`, `IS NOT NULL` otherwise.
    pub fn isnull(self, yes: bool) -> Q<E> {
        self.lookup(Lookup::IsNull(yes))
    }
}

impl<E, T: Ordered> Field<E, T> {
    /// Greater than.
    pub fn gt(self, value: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Compare(Cmp::Gt, value.into().to_value()))
    }
    /// Greater than or equal.
    pub fn gte(self, value: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Compare(Cmp::Gte, value.into().to_value()))
    }
    /// Less than.
    pub fn lt(self, value: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Compare(Cmp::Lt, value.into().to_value()))
    }
    /// Less than or equal.
    pub fn lte(self, value: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Compare(Cmp::Lte, value.into().to_value()))
    }
    /// Between `lo` and `hi`, inclusive.
    pub fn range(self, lo: impl Into<T::Scalar>, hi: impl Into<T::Scalar>) -> Q<E> {
        self.lookup(Lookup::Range(lo.into().to_value(), hi.into().to_value()))
    }
}

impl<E, T: Textual> Field<E, T> {
    /// Equal ignoring ASCII case.
    pub fn iexact(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::IExact(s.into()))
    }
    /// Contains `s` (case-sensitive).
    pub fn contains(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::Contains(s.into()))
    }
    /// Contains `s`, ignoring ASCII case.
    pub fn icontains(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::IContains(s.into()))
    }
    /// Starts with `s` (case-sensitive).
    pub fn startswith(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::StartsWith(s.into()))
    }
    /// Starts with `s`, ignoring ASCII case.
    pub fn istartswith(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::IStartsWith(s.into()))
    }
    /// Ends with `s` (case-sensitive).
    pub fn endswith(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::EndsWith(s.into()))
    }
    /// Ends with `s`, ignoring ASCII case.
    pub fn iendswith(self, s: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::IEndsWith(s.into()))
    }
    /// Matches the regular expression `re` (case-sensitive).
    pub fn regex(self, re: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::Regex(re.into()))
    }
    /// Matches the regular expression `re`, ignoring case.
    pub fn iregex(self, re: impl Into<String>) -> Q<E> {
        self.lookup(Lookup::IRegex(re.into()))
    }
}

impl<E, T: Dated> Field<E, T> {
    /// The year (UTC).
    pub fn year(self) -> Part<E> {
        self.part(DatePart::Year)
    }
    /// The month, 1–12.
    pub fn month(self) -> Part<E> {
        self.part(DatePart::Month)
    }
    /// The day of month.
    pub fn day(self) -> Part<E> {
        self.part(DatePart::Day)
    }
    /// The day of week, 1 = Sunday … 7 = Saturday.
    pub fn week_day(self) -> Part<E> {
        self.part(DatePart::WeekDay)
    }
}

impl<E, T: Timed> Field<E, T> {
    /// The hour (UTC).
    pub fn hour(self) -> Part<E> {
        self.part(DatePart::Hour)
    }
    /// The minute.
    pub fn minute(self) -> Part<E> {
        self.part(DatePart::Minute)
    }
    /// The second.
    pub fn second(self) -> Part<E> {
        self.part(DatePart::Second)
    }
}
