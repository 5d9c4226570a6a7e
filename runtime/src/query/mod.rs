//! The query API: [`QuerySet`] (lazy, chainable, typed) and the instance methods of
//! [`EntityExt`].
//!
//! ```ignore
//! let acme = Organisation::objects(&db)
//!     .filter(f.name.icontains("acme") & !f.country.isnull(true))
//!     .exclude(f.archived.eq(true))
//!     .order_by([f.name.asc(), f.modified.desc()])
//!     .slice(0..20)
//!     .all()
//!     .await?;
//! ```
//!
//! Builders consume and return the queryset; terminals are `async` and run one statement (or
//! one transaction for writes). Filters always apply before ordering and slicing, whatever the
//! call order. The default order is the primary key; every order ends with the primary key as a
//! tie-breaker, so results are deterministic and identical on SQLite and PostgreSQL. Nulls sort
//! first ascending and last descending.
//!
//! With a [`crate::store::Remote`] installed and active for the entity, each read terminal first
//! calls [`crate::store::Remote::before_read`]; writes go through the remote's hooks (see
//! [`crate::store::remote`]).

pub mod aggregate;
pub mod describe;
pub mod expr;
pub mod instance;
pub mod order;
pub mod path;
pub mod project;
pub mod related;
pub mod set;
mod write;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use crate::entity::{Entity, Row};
use crate::error::{Error, Result};
use crate::query::expr::{Cond, Expr, Field, Lookup, Order, OrderKey, Q};
use crate::store::{rows, Db, Param, ReadOp, ReadSpec, Tx};
use crate::value::Value;

pub use aggregate::{Aggregate, Summable};
pub use instance::EntityExt;
pub use order::FieldPath;
pub use path::{Hop, Related};
pub use project::{Columns, DateTrunc, TimeTrunc};
pub use related::RefField;
pub use set::Set;

/// At most this many rows are fetched by [`QuerySet::get`] to report how many matched.
const GET_LIMIT: u64 = 21;

/// A lazy query on entity `E`.
pub struct QuerySet<E> {
    db: Db,
    expr: Expr,
    order: Vec<OrderKey>,
    reversed: bool,
    random: bool,
    limit: Option<u64>,
    offset: u64,
    /// Values every object created through this queryset takes (field index, value): the
    /// reference to the parent of a reverse relation ([`EntityExt::children`]).
    fixed: Vec<(usize, Value)>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for QuerySet<E> {
    fn clone(&self) -> Self {
        QuerySet {
            db: self.db.clone(),
            expr: self.expr.clone(),
            order: self.order.clone(),
            reversed: self.reversed,
            random: self.random,
            limit: self.limit,
            offset: self.offset,
            fixed: self.fixed.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for QuerySet<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySet")
            .field("expr", &self.expr)
            .field("order", &self.order)
            .field("reversed", &self.reversed)
            .field("random", &self.random)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("fixed", &self.fixed)
            .finish_non_exhaustive()
    }
}

impl<E> QuerySet<E> {
    /// All rows of `E` in `db`.
    pub fn new(db: &Db) -> Self {
        QuerySet {
            db: db.clone(),
            expr: Expr::All,
            order: Vec::new(),
            reversed: false,
            random: false,
            limit: None,
            offset: 0,
            fixed: Vec::new(),
            _entity: PhantomData,
        }
    }

    /// The handle the queryset runs on.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The filter built so far.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Keeps the rows matching `q` (and every earlier filter).
    pub fn filter(mut self, q: Q<E>) -> Self {
        self.expr = std::mem::replace(&mut self.expr, Expr::All).and(q.into_expr());
        self
    }

    /// Drops the rows matching `q`: `filter(!q)`. Rows where `q`'s fields are null are kept.
    pub fn exclude(self, q: Q<E>) -> Self {
        self.filter(!q)
    }

    /// Matches nothing; terminals return empty results without touching the database.
    pub fn none(mut self) -> Self {
        self.expr = Expr::Nothing;
        self
    }

    /// Orders by `keys` (replacing any earlier order), e.g. `[f.name.asc(), f.created.desc()]`.
    pub fn order_by(mut self, keys: impl IntoIterator<Item = Order<E>>) -> Self {
        self.order = keys.into_iter().map(Order::into_key).collect();
        self.random = false;
        self.reversed = false;
        self
    }

    /// Random order (`ORDER BY random()`).
    pub fn order_random(mut self) -> Self {
        self.random = true;
        self
    }

    /// Reverses the order (the default primary-key order included).
    pub fn reverse(mut self) -> Self {
        self.reversed = !self.reversed;
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }

    /// The rows at positions `range` of the current result (`slice(10..20)`, `slice(5..)`);
    /// slicing a slice narrows it.
    pub fn slice(mut self, range: impl RangeBounds<u64>) -> Self {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => Some(e.saturating_add(1)),
            Bound::Excluded(&e) => Some(e),
            Bound::Unbounded => None,
        };
        let remaining = self.limit.map(|l| l.saturating_sub(start));
        let wanted = end.map(|e| e.saturating_sub(start));
        self.limit = match (remaining, wanted) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.offset = self.offset.saturating_add(start);
        self
    }

    /// Local only: the remote is not consulted for this queryset (writes to remote-governed
    /// entities still pass the remote's guard). Harmless without a remote.
    pub fn skip_cdms(mut self) -> Self {
        self.db = self.db.skip_cdms();
        self
    }

    fn is_sliced(&self) -> bool {
        self.limit.is_some() || self.offset > 0
    }
}

impl<E: Entity> QuerySet<E> {
    /// The effective order: the keys (primary key appended as a tie-breaker), reversed if asked.
    fn effective_order(&self) -> Vec<OrderKey> {
        let pk = E::META.pk;
        let mut keys = self.order.clone();
        if !keys.iter().any(|k| k.is_root() && k.field == pk) {
            keys.push(OrderKey::asc(pk));
        }
        if self.reversed {
            for k in &mut keys {
                k.desc = !k.desc;
            }
        }
        keys
    }

    /// The untyped read this queryset describes, for terminal `op`.
    pub fn spec(&self, op: ReadOp) -> ReadSpec {
        ReadSpec {
            expr: self.expr.clone(),
            order: self.effective_order(),
            random: self.random,
            limit: self.limit,
            offset: self.offset,
            op,
        }
    }

    /// The spec for `op` after the remote (if active) has seen it; `None` when the queryset
    /// matches nothing.
    async fn prepare(&self, op: ReadOp) -> Result<Option<ReadSpec>> {
        Ok(self.prepare_answered(op).await?.map(|(spec, _)| spec))
    }

    /// [`QuerySet::prepare`], with the rows the remote answered the read with, if it did (see
    /// [`crate::store::Remote::before_read`]).
    async fn prepare_answered(&self, op: ReadOp) -> Result<Option<(ReadSpec, Option<Vec<Row>>)>> {
        if matches!(self.expr, Expr::Nothing) || self.limit == Some(0) {
            return Ok(None);
        }
        let spec = self.spec(op);
        let answered = self.before_read(&spec).await?;
        Ok(Some((spec, answered)))
    }

    async fn before_read(&self, spec: &ReadSpec) -> Result<Option<Vec<Row>>> {
        match self.db.active_remote(E::META) {
            Some(remote) => {
                remote
                    .before_read(&self.db.skip_cdms(), E::META, spec)
                    .await
            }
            None => Ok(None),
        }
    }

    fn describe(&self) -> String {
        describe::describe(E::META, &self.expr)
    }

    async fn fetch_spec(&self, spec: &ReadSpec) -> Result<Vec<E>> {
        let found = rows::select(&self.db, E::META, spec).await?;
        self.objects(found)
    }

    /// The objects of `spec`: the rows the remote answered with when it did (for the spec it
    /// saw; `spec` may only have lowered its limit since), otherwise read.
    async fn fetch_answered(&self, spec: &ReadSpec, answered: Option<Vec<Row>>) -> Result<Vec<E>> {
        match answered {
            Some(mut found) => {
                if let Some(limit) = spec.limit {
                    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                }
                self.objects(found)
            }
            None => self.fetch_spec(spec).await,
        }
    }

    fn objects(&self, found: Vec<Row>) -> Result<Vec<E>> {
        self.db.snapshots().remember(E::META, &found);
        found.into_iter().map(E::from_row).collect()
    }

    /// Every matching object, in order.
    pub async fn all(&self) -> Result<Vec<E>> {
        match self.prepare_answered(ReadOp::List).await? {
            Some((spec, answered)) => self.fetch_answered(&spec, answered).await,
            None => Ok(Vec::new()),
        }
    }

    /// Same as [`QuerySet::all`].
    pub async fn fetch(&self) -> Result<Vec<E>> {
        self.all().await
    }

    /// The one matching object: [`Error::NotFound`] when none matches,
    /// [`Error::MultipleFound`] when several do.
    pub async fn get(&self) -> Result<E> {
        let Some((mut spec, answered)) = self.prepare_answered(ReadOp::Get).await? else {
            return Err(Error::NotFound {
                entity: E::META.name,
                query: self.describe(),
            });
        };
        spec.limit = Some(spec.limit.map_or(GET_LIMIT, |l| l.min(GET_LIMIT)));
        let mut found = self.fetch_answered(&spec, answered).await?;
        match found.len() {
            0 => Err(Error::NotFound {
                entity: E::META.name,
                query: self.describe(),
            }),
            1 => Ok(found.remove(0)),
            n => Err(Error::MultipleFound {
                entity: E::META.name,
                count: n as u64,
                query: self.describe(),
            }),
        }
    }

    /// How many objects match (limit and offset respected).
    pub async fn count(&self) -> Result<u64> {
        match self.prepare(ReadOp::Count).await? {
            Some(spec) => rows::count(&self.db, E::META, &spec).await,
            None => Ok(0),
        }
    }

    /// Whether any object matches.
    pub async fn exists(&self) -> Result<bool> {
        match self.prepare(ReadOp::Exists).await? {
            Some(spec) => rows::exists(&self.db, E::META, &spec).await,
            None => Ok(false),
        }
    }

    /// The first object in order, if any.
    pub async fn first(&self) -> Result<Option<E>> {
        let Some((mut spec, answered)) = self.prepare_answered(ReadOp::First).await? else {
            return Ok(None);
        };
        spec.limit = Some(spec.limit.map_or(1, |l| l.min(1)));
        Ok(self
            .fetch_answered(&spec, answered)
            .await?
            .into_iter()
            .next())
    }

    /// The last object in order, if any.
    pub async fn last(&self) -> Result<Option<E>> {
        if self.is_sliced() {
            // The last row of a window: fetch the window.
            let Some(spec) = self.prepare(ReadOp::Last).await? else {
                return Ok(None);
            };
            return Ok(self.fetch_spec(&spec).await?.pop());
        }
        self.clone().reverse().limit(1).first_as(ReadOp::Last).await
    }

    async fn first_as(&self, op: ReadOp) -> Result<Option<E>> {
        let Some(spec) = self.prepare(op).await? else {
            return Ok(None);
        };
        Ok(self.fetch_spec(&spec).await?.into_iter().next())
    }

    /// The object with the smallest `field` (rows where it is null are ignored);
    /// [`Error::NotFound`] when there is none.
    pub async fn earliest<T>(&self, field: Field<E, T>) -> Result<E> {
        self.extreme(field, false).await
    }

    /// The object with the largest `field` (rows where it is null are ignored);
    /// [`Error::NotFound`] when there is none.
    pub async fn latest<T>(&self, field: Field<E, T>) -> Result<E> {
        self.extreme(field, true).await
    }

    async fn extreme<T>(&self, field: Field<E, T>, desc: bool) -> Result<E> {
        let index = field.index();
        let mut qs = self.clone();
        if E::META.fields.get(index).is_some_and(|f| f.nullable) {
            qs = qs.filter(Q::from_expr(Expr::Cond(Cond {
                field: index,
                lookup: Lookup::IsNull(false),
            })));
        }
        qs.order = vec![OrderKey::new(index, desc), OrderKey::new(E::META.pk, desc)];
        qs.reversed = false;
        qs.random = false;
        qs.limit = Some(qs.limit.map_or(1, |l| l.min(1)));
        let op = if desc { ReadOp::Last } else { ReadOp::First };
        qs.first_as(op).await?.ok_or_else(|| Error::NotFound {
            entity: E::META.name,
            query: self.describe(),
        })
    }

    /// The matching objects with primary keys in `pks`, by primary key. Not available on a
    /// sliced queryset.
    pub async fn in_bulk(&self, pks: impl IntoIterator<Item = i64>) -> Result<HashMap<i64, E>> {
        if self.is_sliced() {
            return Err(Error::InvalidQuery {
                entity: E::META.name,
                message: "in_bulk cannot be used on a sliced queryset".to_owned(),
            });
        }
        let pks: Vec<Value> = pks.into_iter().map(Value::Int).collect();
        let qs = self
            .clone()
            .filter(Q::from_expr(rows::pk_expr(E::META, pks)));
        let Some(spec) = qs.prepare(ReadOp::InBulk).await? else {
            return Ok(HashMap::new());
        };
        qs.fetch_spec(&spec)
            .await?
            .into_iter()
            .map(|e| Ok((e.pk(), e)))
            .collect()
    }

    /// The matching objects, read inside `tx` and locked until it ends (PostgreSQL
    /// `SELECT … FOR UPDATE`; a SQLite transaction already holds the write lock). The remote is
    /// not consulted: inside a transaction only local rows are read.
    pub async fn select_for_update(&self, tx: &mut Tx) -> Result<Vec<E>> {
        if matches!(self.expr, Expr::Nothing) || self.limit == Some(0) {
            return Ok(Vec::new());
        }
        let spec = self.spec(ReadOp::List);
        rows::select_for_update(tx, E::META, &spec)
            .await?
            .into_iter()
            .map(E::from_row)
            .collect()
    }

    /// Objects from hand-written SQL: `statement` must be a `SELECT` whose result has a column
    /// named like each field's column; `params` bind its placeholders (`?` on SQLite, `$1`… on
    /// PostgreSQL). The queryset's filters, order and slice do not apply, nor does the remote.
    pub async fn raw(&self, statement: &str, params: &[Param]) -> Result<Vec<E>> {
        use crate::store::sql::{quote_ident, Sql};
        let mut sql = Sql::new(self.db.backend(), E::META.name);
        sql.push("SELECT ");
        let cols: Vec<String> = E::META
            .fields
            .iter()
            .map(|f| format!("\"raw\".{}", quote_ident(f.column)))
            .collect();
        sql.push(&cols.join(", "))
            .push(" FROM (")
            .push(statement)
            .push(") AS \"raw\"");
        sql.params_mut().extend(params.iter().cloned());
        rows::select_sql(&self.db, E::META, &sql)
            .await?
            .into_iter()
            .map(E::from_row)
            .collect()
    }
}
