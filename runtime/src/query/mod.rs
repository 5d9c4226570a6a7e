//! The query API.

pub mod expr;

use std::marker::PhantomData;

use crate::store::Db;

/// A lazy query on entity `E`.
pub struct QuerySet<E> {
    #[allow(dead_code)]
    db: Db,
    _entity: PhantomData<fn() -> E>,
}

impl<E> QuerySet<E> {
    /// All rows of `E` in `db`.
    pub fn new(db: &Db) -> Self {
        QuerySet { db: db.clone(), _entity: PhantomData }
    }
}
