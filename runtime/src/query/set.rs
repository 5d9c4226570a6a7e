//! Typed assignments for queryset updates: `fields.name.set("Acme")`.

use std::marker::PhantomData;

use crate::query::expr::Field;
use crate::types::FieldType;
use crate::value::Value;

/// An assignment `field = value` on entity `E` (from [`Field::set`]).
pub struct Set<E> {
    field: usize,
    value: Value,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Set<E> {
    /// An assignment of `value` to field number `field` (untyped; prefer [`Field::set`]).
    pub fn from_parts(field: usize, value: Value) -> Self {
        Set {
            field,
            value,
            _entity: PhantomData,
        }
    }
    /// The field's index.
    pub fn field(&self) -> usize {
        self.field
    }
    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }
    /// `(field index, value)`.
    pub fn into_parts(self) -> (usize, Value) {
        (self.field, self.value)
    }
}

impl<E> Clone for Set<E> {
    fn clone(&self) -> Self {
        Set::from_parts(self.field, self.value.clone())
    }
}

impl<E> std::fmt::Debug for Set<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({} = {})", self.field, self.value)
    }
}

impl<E, T: FieldType> Field<E, T> {
    /// Assigns `value` to this field (for `QuerySet::update` and `update_or_create`).
    /// For an optional field pass `None` or `Some(x)`.
    pub fn set(self, value: impl Into<T>) -> Set<E> {
        Set::from_parts(self.index(), value.into().to_value())
    }
}
