//! Evaluating a bound filter against a record, with SQL Server's semantics: a comparison with a
//! null value is *unknown*, `not unknown` is unknown, and only rows whose filter is *true* are
//! returned (three-valued logic, as CRM's translation to SQL behaves: `Name ne 'x'` and
//! `not (Name eq 'x')` both leave out rows where `Name` is null; use `eq null`/`ne null` to test
//! absence). Evaluation never allocates: strings are compared in their folded forms.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::bind::{CmpOp, LikeFn, Pred, Slot, Val};
use crate::emulator::collation;
use crate::emulator::store::Cell;

/// A borrowed value read through a [`Slot`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read<'a> {
    Null,
    Cell(&'a Cell),
    /// A lookup's logical name (already lower case).
    Logical(&'a str),
    Guid(uuid::Uuid),
}

pub(crate) fn read(cells: &[Cell], slot: Slot) -> Read<'_> {
    match slot {
        Slot::Cell(i) => match &cells[i] {
            Cell::Null => Read::Null,
            Cell::Ref(r) => Read::Guid(r.id),
            c => Read::Cell(c),
        },
        Slot::RefId(i) => match &cells[i] {
            Cell::Ref(r) => Read::Guid(r.id),
            _ => Read::Null,
        },
        Slot::RefLogical(i) => match &cells[i] {
            Cell::Ref(r) => r.logical.as_deref().map_or(Read::Null, Read::Logical),
            _ => Read::Null,
        },
    }
}

/// Whether the record is returned.
pub(crate) fn matches(pred: &Pred, cells: &[Cell]) -> bool {
    eval(pred, cells) == Some(true)
}

/// Kleene logic: `None` is unknown.
pub(crate) fn eval(pred: &Pred, cells: &[Cell]) -> Option<bool> {
    match pred {
        Pred::And(a, b) => match eval(a, cells) {
            Some(false) => Some(false),
            left => match (left, eval(b, cells)) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
        },
        Pred::Or(a, b) => match eval(a, cells) {
            Some(true) => Some(true),
            left => match (left, eval(b, cells)) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        },
        Pred::Not(a) => eval(a, cells).map(|b| !b),
        Pred::Null { slot, is_null } => Some(matches!(read(cells, *slot), Read::Null) == *is_null),
        Pred::Like { slot, func, needle } => {
            let hay = match read(cells, *slot) {
                Read::Cell(Cell::Text(t)) => t.fold.as_str(),
                Read::Logical(l) => l,
                _ => return None,
            };
            Some(match func {
                LikeFn::Contains => hay.contains(needle.as_str()),
                LikeFn::StartsWith => hay.starts_with(needle.as_str()),
                LikeFn::EndsWith => hay.ends_with(needle.as_str()),
            })
        }
        Pred::Cmp { slot, op, val } => {
            let ord = compare(read(cells, *slot), val)?;
            Some(match op {
                CmpOp::Eq => ord == Ordering::Equal,
                CmpOp::Ne => ord != Ordering::Equal,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
            })
        }
    }
}

/// Orders the stored value against the literal; `None` when the value is null.
fn compare(value: Read<'_>, val: &Val) -> Option<Ordering> {
    Some(match (value, val) {
        (Read::Cell(Cell::Text(t)), Val::Str(s)) => collation::cmp_folded(&t.fold, s),
        (Read::Logical(l), Val::Str(s)) => collation::cmp_folded(l, s),
        (Read::Cell(Cell::Int(i)), Val::Int(v)) => i.cmp(v),
        (Read::Cell(Cell::Int(i)), Val::Dec(v)) => Decimal::from(*i).cmp(v),
        (Read::Cell(Cell::Int(i)), Val::Float(v)) => (*i as f64).total_cmp(v),
        (Read::Cell(Cell::Float(f)), Val::Float(v)) => f.total_cmp(v),
        (Read::Cell(Cell::Dec(d)), Val::Dec(v)) => d.cmp(v),
        (Read::Cell(Cell::Date(ms)), Val::Date(v)) => ms.cmp(v),
        (Read::Cell(Cell::Bool(b)), Val::Bool(v)) => b.cmp(v),
        (Read::Cell(Cell::Guid(g)), Val::Guid(v)) => guid_order(*g, *v),
        (Read::Guid(g), Val::Guid(v)) => guid_order(g, *v),
        _ => return None,
    })
}

/// GUIDs only support `eq`/`ne`: any inequality reads as "less".
fn guid_order(a: uuid::Uuid, b: uuid::Uuid) -> Ordering {
    if a == b {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}
