//! The typed query tree ([`Expr`]) → the CRM 2011 `$filter` dialect, and order keys →
//! `$orderby`.
//!
//! # The superset guarantee
//!
//! The remote filter only has to *select candidates*: the local SQL always applies the exact
//! condition afterwards. So [`translate`] guarantees that every record matching the local
//! condition matches the remote filter (the remote set is a **superset**), and reports in
//! [`Translation::exact`] whether the two sets are equal.
//!
//! The translation works on the negation normal form: `not` is pushed down to the conditions
//! (De Morgan; `eq`↔`ne`, `gt`↔`le`, `ge`↔`lt`; `null`↔`ne null`), and each condition is
//! translated in the polarity it ends up in. The emitted filter therefore never contains `not`,
//! so the result does not depend on how the server treats `not` over null values: a negated
//! condition on a nullable field explicitly adds `or P eq null`, because locally `!q` includes the
//! rows where the field is null (two-valued logic).
//!
//! A condition that cannot be expressed is *relaxed* to `true` in whichever polarity it sits.
//! Because negation was pushed into the leaves first, a relaxed condition under `not` is
//! dropped (it becomes `true` as a leaf of the negated form) rather than negated, which would
//! have turned a superset into a subset. By induction over the tree:
//!
//! - a leaf's translation `T(c)` satisfies `local(c) ⊆ remote(T(c))` in both polarities
//!   (exact operators, rounded-outwards datetime bounds, case/accent-insensitive text matching,
//!   or `true`);
//! - `and`/`or` are monotone, so combining supersets yields a superset.
//!
//! What is exact, superset-only, or relaxed:
//!
//! | lookup | remote form | exact |
//! |---|---|---|
//! | `exact`/`in`/comparisons/`range` on numbers, booleans, GUIDs, option sets, money, lookups | `eq ne gt ge lt le`, or-chains | yes |
//! | the same on datetimes | `datetime'…'`; fractional seconds round outwards | yes when whole seconds |
//! | the same on dates | a UTC day range on the CDMS DateTime | yes |
//! | `year`, `year`+`month`(+`day`…), and a comparison on the part after such a prefix | a `datetime'…'` range | yes |
//! | `isnull` | `eq null` / `ne null` | yes |
//! | text `exact`, `iexact`, `in` | `eq` (CDMS collation is case- and accent-insensitive) | no (superset) |
//! | `contains`/`icontains`, `startswith`/`istartswith`, `endswith`/`iendswith` | `substringof`, `startswith`, `endswith` | no (superset) |
//! | any text condition under `not`, text ordering comparisons | relaxed | no |
//! | `regex`, `iregex`, `week_day`, a bare `month`/`day`/`hour`/`minute`/`second` | relaxed | no |
//! | a codec field, an unmapped field, a reference whose target has no CDMS id | relaxed | no |
//! | a condition on related records (`matching`, `any`, `none`) | relaxed here; outside `not` the sync layer first replaces it by keys ([`substitute`]), or sends it on the expanded entity ([`translate_expanded`]) | no |
//!
//! `tolower`, `year()` and the other functions 2011 rejects are never emitted.

mod dates;
mod formula;
mod literal;
mod order;
mod related;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use uuid::Uuid;

use crate::entity::{EntityMeta, FieldMeta};
use crate::expr::{Cmp, Cond, DatePart, Expr, Lookup};
use crate::value::Value;

use super::meta::{CdmsField, CdmsKind, CdmsMeta};
use dates::{Bound, Interval, PartCond};
use formula::{and, or, render, F};

pub use order::{orderby, RemoteOrder};
pub use related::{positive_relations, substitute};

/// Turns a referenced row's local primary key into its CDMS id, if it has one.
pub type Resolver<'a> = &'a dyn Fn(&'static EntityMeta, i64) -> Option<Uuid>;

/// The remote form of a local filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The `$filter` value (not yet URL-encoded); `None` when no filter is needed (everything
    /// matches). When the local filter matches nothing, this is `<IdProperty> eq null`, which
    /// matches no record.
    pub filter: Option<String>,
    /// Whether the remote result equals the local one; otherwise it is a superset and the local
    /// condition must be applied to the fetched records.
    pub exact: bool,
}

/// Translates `expr` (whose field indexes belong to `meta.entity`) into a `$filter` whose result
/// is a superset of the local one. `resolve` maps a referenced row's local primary key to its CDMS
/// id (conditions on references it cannot resolve are relaxed).
pub fn translate(meta: &'static CdmsMeta, expr: &Expr, resolve: Resolver<'_>) -> Translation {
    translate_with(meta, "", expr, resolve)
}

/// Translates `expr`, a condition on `meta`'s entity, for a list of another entity that expands
/// it through the many-to-one navigation property `nav` (`$expand=<nav>`): the same translation
/// as [`translate`], every property path prefixed with `<nav>/` (`substringof('ltd',
/// contact_customer_accounts/Name)`). CRM 2011 then selects the records whose lookup points at
/// a record matching it (an empty lookup never matches), so the superset guarantee holds for the
/// records the relation selects. When `expr` matches nothing, the filter is
/// `<nav>/<IdProperty> eq null`.
pub fn translate_expanded(
    meta: &'static CdmsMeta,
    nav: &str,
    expr: &Expr,
    resolve: Resolver<'_>,
) -> Translation {
    translate_with(meta, &format!("{nav}/"), expr, resolve)
}

fn translate_with(
    meta: &'static CdmsMeta,
    prefix: &str,
    expr: &Expr,
    resolve: Resolver<'_>,
) -> Translation {
    let mut tr = Translator {
        meta,
        prefix,
        resolve,
        exact: true,
    };
    let f = tr.expr(expr, false);
    let filter = match f {
        F::True => None,
        F::False => Some(format!("{prefix}{} eq null", meta.id_property)),
        f => Some(render(&f)),
    };
    Translation {
        filter,
        exact: tr.exact,
    }
}

/// A comparison operator, including the `ne` that negation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn from_cmp(c: Cmp) -> Op {
        match c {
            Cmp::Eq => Op::Eq,
            Cmp::Gt => Op::Gt,
            Cmp::Gte => Op::Ge,
            Cmp::Lt => Op::Lt,
            Cmp::Lte => Op::Le,
        }
    }
    /// The operator matching exactly the non-null values this one does not.
    fn complement(self) -> Op {
        match self {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
        }
    }
    fn keyword(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
    fn is_ordering(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

/// A text match (all superset-only remotely).
#[derive(Debug, Clone, Copy)]
enum TextOp {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
}

/// The remote side of a local field used in a condition.
struct Target {
    field: &'static FieldMeta,
    cdms: &'static CdmsField,
    /// The property or member path (`Name`, `Revenue/Value`, `optevia_Country/Id`).
    path: String,
}

/// The property or member path a condition or order key on `f` addresses.
fn member_path(f: &CdmsField) -> String {
    match f.kind {
        CdmsKind::Money | CdmsKind::OptionSetValue => format!("{}/Value", f.property),
        CdmsKind::EntityReference => format!("{}/Id", f.property),
        _ => f.property.to_owned(),
    }
}

struct Translator<'a> {
    meta: &'static CdmsMeta,
    /// Put before every property path: empty, or `<nav>/` for an expanded entity.
    prefix: &'a str,
    resolve: Resolver<'a>,
    exact: bool,
}

impl Translator<'_> {
    /// A condition that cannot be expressed: `true`, whatever the polarity.
    fn relax(&mut self) -> F {
        self.exact = false;
        F::True
    }

    fn target(&self, field: usize) -> Option<Target> {
        let local = self.meta.entity.fields.get(field)?;
        let cdms = self.meta.by_field(field)?;
        if cdms.codec.is_some() {
            return None;
        }
        Some(Target {
            field: local,
            cdms,
            path: if self.prefix.is_empty() {
                member_path(cdms)
            } else {
                format!("{}{}", self.prefix, member_path(cdms))
            },
        })
    }

    /// A superset of `expr` (or of `not expr` when `neg`).
    fn expr(&mut self, expr: &Expr, neg: bool) -> F {
        match expr {
            Expr::All => {
                if neg {
                    F::False
                } else {
                    F::True
                }
            }
            Expr::Nothing => {
                if neg {
                    F::True
                } else {
                    F::False
                }
            }
            Expr::Cond(c) => self.cond(c, neg),
            Expr::And(items) => {
                let parts = self.conjunction(items, neg);
                if neg {
                    or(parts)
                } else {
                    and(parts)
                }
            }
            Expr::Or(items) => {
                let parts = items.iter().map(|e| self.expr(e, neg)).collect();
                if neg {
                    and(parts)
                } else {
                    or(parts)
                }
            }
            Expr::Not(inner) => self.expr(inner, !neg),
            // Conditions on related records: relaxed (the local query applies them exactly).
            Expr::Related(_) => self.relax(),
        }
    }

    /// The members of a conjunction, with the date-part conditions on each field combined into
    /// ranges first (`year = 2016 and month = 3` is one range, not two conditions).
    fn conjunction(&mut self, items: &[Expr], neg: bool) -> Vec<F> {
        let mut done = vec![false; items.len()];
        let mut out = Vec::new();
        let mut fields: Vec<usize> = Vec::new();
        for item in items {
            if let Expr::Cond(c) = item {
                if part_cond(&c.lookup).is_some() && !fields.contains(&c.field) {
                    fields.push(c.field);
                }
            }
        }
        for field in fields {
            let (indexes, conds): (Vec<usize>, Vec<(DatePart, PartCond)>) = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Expr::Cond(c) if c.field == field => part_cond(&c.lookup).map(|pc| (i, pc)),
                    _ => None,
                })
                .unzip();
            if conds.len() < 2 {
                continue; // a single one is planned by `cond`
            }
            let Some(target) = self.target(field) else {
                continue;
            };
            if target.cdms.kind != CdmsKind::DateTime {
                continue;
            }
            let Some(plan) = dates::plan(&conds) else {
                continue;
            };
            for i in &plan.consumed {
                done[indexes[*i]] = true;
            }
            self.exact &= plan.exact;
            let f = self.intervals(&target, plan.intervals, neg);
            out.push(self.with_null(&target, f, neg));
        }
        for (i, item) in items.iter().enumerate() {
            if !done[i] {
                out.push(self.expr(item, neg));
            }
        }
        out
    }

    /// Adds the null rows a negated condition matches locally (`!q` includes nulls).
    fn with_null(&self, t: &Target, f: F, neg: bool) -> F {
        if neg && t.field.nullable && f != F::True {
            or(vec![f, F::Atom(format!("{} eq null", t.path))])
        } else {
            f
        }
    }

    fn cond(&mut self, c: &Cond, neg: bool) -> F {
        let Some(t) = self.target(c.field) else {
            return self.relax();
        };
        let f = match &c.lookup {
            Lookup::IsNull(yes) => {
                let op = if *yes != neg { "eq" } else { "ne" };
                return F::Atom(format!("{} {op} null", t.path));
            }
            Lookup::Exact(Value::Null) => {
                if neg {
                    return self.relax();
                }
                self.exact = false;
                return F::Atom(format!("{} eq null", t.path));
            }
            Lookup::Exact(v) => self.compare(&t, if neg { Op::Ne } else { Op::Eq }, v),
            Lookup::Compare(cmp, v) => {
                let op = Op::from_cmp(*cmp);
                self.compare(&t, if neg { op.complement() } else { op }, v)
            }
            Lookup::In(values) => {
                let op = if neg { Op::Ne } else { Op::Eq };
                let parts = values.iter().map(|v| self.compare(&t, op, v)).collect();
                if neg {
                    and(parts)
                } else {
                    or(parts)
                }
            }
            Lookup::Range(lo, hi) => {
                if neg {
                    or(vec![
                        self.compare(&t, Op::Lt, lo),
                        self.compare(&t, Op::Gt, hi),
                    ])
                } else {
                    and(vec![
                        self.compare(&t, Op::Ge, lo),
                        self.compare(&t, Op::Le, hi),
                    ])
                }
            }
            Lookup::IExact(s) => self.text(&t, TextOp::Eq, s, neg),
            Lookup::Contains(s) | Lookup::IContains(s) => self.text(&t, TextOp::Contains, s, neg),
            Lookup::StartsWith(s) | Lookup::IStartsWith(s) => {
                self.text(&t, TextOp::StartsWith, s, neg)
            }
            Lookup::EndsWith(s) | Lookup::IEndsWith(s) => self.text(&t, TextOp::EndsWith, s, neg),
            Lookup::DatePart(..) | Lookup::DatePartIn(..) => {
                let plan = match (part_cond(&c.lookup), t.cdms.kind) {
                    (Some(pc), CdmsKind::DateTime) => dates::plan(&[pc]),
                    _ => None,
                };
                match plan {
                    Some(plan) => {
                        self.exact &= plan.exact;
                        self.intervals(&t, plan.intervals, neg)
                    }
                    None => self.relax(),
                }
            }
            Lookup::Regex(_) | Lookup::IRegex(_) => self.relax(),
        };
        self.with_null(&t, f, neg)
    }

    /// `P op value` over the non-null values of the field (the caller adds nulls when negated).
    fn compare(&mut self, t: &Target, op: Op, value: &Value) -> F {
        if t.cdms.kind == CdmsKind::DateTime {
            return self.compare_instant(t, op, value);
        }
        if let (CdmsKind::String, Value::Text(s)) = (t.cdms.kind, value) {
            // Remote text comparison follows CDMS's collation: equality is a superset of the
            // local one; ordering (and anything negated) is not, so it is relaxed.
            return match op {
                Op::Eq => self.text(t, TextOp::Eq, s, false),
                _ => self.relax(),
            };
        }
        let ordered = matches!(
            t.cdms.kind,
            CdmsKind::Int32
                | CdmsKind::Int64
                | CdmsKind::Decimal
                | CdmsKind::Double
                | CdmsKind::Money
                | CdmsKind::OptionSetValue
        );
        if op.is_ordering() && !ordered {
            return self.relax();
        }
        match self.scalar(t, value) {
            Some(lit) => F::Atom(format!("{} {} {lit}", t.path, op.keyword())),
            None => self.relax(),
        }
    }

    /// The literal of `value` for a non-datetime property; `None` when it cannot be written.
    fn scalar(&self, t: &Target, value: &Value) -> Option<String> {
        Some(match (t.cdms.kind, value) {
            (CdmsKind::Boolean, Value::Bool(b)) => b.to_string(),
            (CdmsKind::Int32 | CdmsKind::OptionSetValue, Value::Int(n)) => literal::int32(*n)?,
            (CdmsKind::Int64, Value::Int(n)) => literal::int64(*n),
            (CdmsKind::Decimal | CdmsKind::Money, Value::Decimal(d)) => literal::decimal(d),
            (CdmsKind::Double, Value::Float(x)) => literal::double(*x)?,
            (CdmsKind::Guid | CdmsKind::EntityReference, Value::Uuid(u)) => literal::guid(u),
            (CdmsKind::EntityReference, Value::Int(pk)) => {
                let target = t.field.references?();
                literal::guid(&(self.resolve)(target, *pk)?)
            }
            _ => return None,
        })
    }

    /// `P op value` on a CDMS DateTime, for a local datetime or date value.
    fn compare_instant(&mut self, t: &Target, op: Op, value: &Value) -> F {
        let (lo, hi) = match value {
            Value::DateTime(at) => {
                if let Some(lit) = literal::datetime(at) {
                    return F::Atom(format!("{} {} {lit}", t.path, op.keyword()));
                }
                (Bound::Incl(*at), Bound::Incl(*at))
            }
            Value::Date(d) => match day_bounds(*d) {
                Some((a, b)) => (Bound::Incl(a), Bound::Excl(b)),
                None => return self.relax(),
            },
            _ => return self.relax(),
        };
        // `value` as the interval [lo, hi] of instants; the operator picks a side of it.
        let flip = |b: Bound| match b {
            Bound::Incl(x) => Bound::Excl(x),
            Bound::Excl(x) => Bound::Incl(x),
            Bound::Unbounded => Bound::Unbounded,
        };
        let point = Interval { lo, hi };
        let intervals = match op {
            Op::Eq => vec![point],
            Op::Ne => dates::complement(&[point]),
            Op::Gt => vec![Interval {
                lo: flip(hi),
                hi: Bound::Unbounded,
            }],
            Op::Ge => vec![Interval {
                lo,
                hi: Bound::Unbounded,
            }],
            Op::Lt => vec![Interval {
                lo: Bound::Unbounded,
                hi: flip(lo),
            }],
            Op::Le => vec![Interval {
                lo: Bound::Unbounded,
                hi,
            }],
        };
        self.intervals(t, intervals, false)
    }

    /// A union of instant intervals (or, when `neg`, its complement among non-null values).
    fn intervals(&mut self, t: &Target, intervals: Vec<Interval>, neg: bool) -> F {
        let intervals = if neg {
            dates::complement(&intervals)
        } else {
            intervals
        };
        let parts = intervals.iter().map(|iv| self.interval(t, iv)).collect();
        or(parts)
    }

    fn interval(&mut self, t: &Target, iv: &Interval) -> F {
        if let (Bound::Incl(a), Bound::Incl(b)) = (iv.lo, iv.hi) {
            if a == b {
                if let Some(lit) = literal::datetime(&a) {
                    return F::Atom(format!("{} eq {lit}", t.path));
                }
            }
        }
        let mut parts = Vec::new();
        if let Some((op, at)) = self.lower(iv.lo) {
            match literal::datetime(&at) {
                Some(lit) => parts.push(F::Atom(format!("{} {op} {lit}", t.path))),
                None => self.exact = false,
            }
        }
        if let Some((op, at)) = self.upper(iv.hi) {
            match literal::datetime(&at) {
                Some(lit) => parts.push(F::Atom(format!("{} {op} {lit}", t.path))),
                None => self.exact = false,
            }
        }
        if parts.is_empty() {
            return F::Atom(format!("{} ne null", t.path));
        }
        and(parts)
    }

    /// A lower bound as a whole-second comparison, rounded down (a superset) when fractional.
    fn lower(&mut self, b: Bound) -> Option<(&'static str, DateTime<Utc>)> {
        match b {
            Bound::Unbounded => None,
            Bound::Incl(t) | Bound::Excl(t) if t.nanosecond() != 0 => {
                self.exact = false;
                Some(("gt", floor_second(t)))
            }
            Bound::Incl(t) => Some(("ge", t)),
            Bound::Excl(t) => Some(("gt", t)),
        }
    }

    /// An upper bound as a whole-second comparison, rounded up (a superset) when fractional.
    fn upper(&mut self, b: Bound) -> Option<(&'static str, DateTime<Utc>)> {
        match b {
            Bound::Unbounded => None,
            Bound::Incl(t) | Bound::Excl(t) if t.nanosecond() != 0 => {
                self.exact = false;
                Some(("lt", floor_second(t) + Duration::seconds(1)))
            }
            Bound::Incl(t) => Some(("le", t)),
            Bound::Excl(t) => Some(("lt", t)),
        }
    }

    /// A text match; under negation no subset of the complement can be written, so it relaxes.
    fn text(&mut self, t: &Target, op: TextOp, s: &str, neg: bool) -> F {
        if neg || t.cdms.kind != CdmsKind::String {
            return self.relax();
        }
        self.exact = false;
        if !matches!(op, TextOp::Eq) && s.contains('[') {
            // CRM turns these into SQL LIKE patterns, where `[` opens a character class and
            // could exclude a matching record; `%` and `_` only widen the match.
            return self.relax();
        }
        let lit = literal::string(s);
        F::Atom(match op {
            TextOp::Eq => format!("{} eq {lit}", t.path),
            TextOp::Contains => format!("substringof({lit},{})", t.path),
            TextOp::StartsWith => format!("startswith({},{lit})", t.path),
            TextOp::EndsWith => format!("endswith({},{lit})", t.path),
        })
    }
}

/// The date-part form of a lookup, if it is one.
fn part_cond(lookup: &Lookup) -> Option<(DatePart, PartCond)> {
    match lookup {
        Lookup::DatePart(part, cmp, n) => Some((*part, PartCond::Cmp(*cmp, *n))),
        Lookup::DatePartIn(part, values) => Some((*part, PartCond::In(values.clone()))),
        _ => None,
    }
}

/// The UTC instants `[d 00:00, d+1 00:00)` of a calendar date.
fn day_bounds(d: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = d.and_hms_opt(0, 0, 0)?.and_utc();
    Some((start, start.checked_add_signed(Duration::days(1))?))
}

fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}
