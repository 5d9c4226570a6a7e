//! Binding a parsed `$filter` to a set's properties: what CRM 2011 can translate into a
//! QueryExpression, type-checked with WCF Data Services' promotion rules. Everything else is
//! refused with 400 and a WCF-style message naming the construct and its position.
//!
//! Accepted: `eq ne gt ge lt le` between a property (or a complex member `X/Value`, `X/Id`,
//! `X/LogicalName`) and a literal (either side); `eq null`/`ne null` on any property, complex ones
//! included; `and`, `or`, `not`, parentheses; `substringof('x', P)`, `startswith(P, 'x')`,
//! `endswith(P, 'x')` bare or compared with `true`/`false`; a bare Boolean property.
//! Numeric promotion: an integer literal matches Int32/Int64/Double/Decimal properties; a Decimal
//! literal (`12.5M`) matches integer and Decimal/Money members; a Double literal (`12.5`) matches
//! integer and Double properties but not Decimal/Money (WCF has no Decimal↔Double conversion).
//! Booleans and GUIDs support only `eq`/`ne`.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::lexer::Literal;
use super::parser::{Ast, BinOp};
use crate::cdms::meta::CdmsKind;
use crate::emulator::collation;
use crate::emulator::error::ApiError;
use crate::emulator::schema::SetSchema;

/// The functions WCF Data Services V2 knows but CRM 2011 cannot translate.
pub(crate) const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "tolower",
    "toupper",
    "trim",
    "concat",
    "length",
    "indexof",
    "replace",
    "substring",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "round",
    "floor",
    "ceiling",
    "isof",
    "cast",
];

/// Where a value is read from in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A property's cell (primitive, or the `Value` of Money/OptionSetValue).
    Cell(usize),
    /// `Lookup/Id`.
    RefId(usize),
    /// `Lookup/LogicalName`.
    RefLogical(usize),
}

/// The type a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotType {
    Prim(CdmsKind),
    /// A whole complex property (only `eq null`/`ne null`).
    Complex(CdmsKind),
}

impl SlotType {
    fn clr(self) -> &'static str {
        match self {
            SlotType::Prim(k) => match k {
                CdmsKind::String => "System.String",
                CdmsKind::Boolean => "System.Boolean",
                CdmsKind::Int32 => "System.Int32",
                CdmsKind::Int64 => "System.Int64",
                CdmsKind::Decimal => "System.Decimal",
                CdmsKind::Double => "System.Double",
                CdmsKind::DateTime => "System.DateTime",
                CdmsKind::Guid => "System.Guid",
                other => other.edm_type(),
            },
            SlotType::Complex(k) => k.edm_type(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn from_bin(op: BinOp) -> Option<CmpOp> {
        Some(match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Gt => CmpOp::Gt,
            BinOp::Ge => CmpOp::Ge,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            _ => return None,
        })
    }

    /// The operator with its operands swapped (`1 lt A` ≡ `A gt 1`).
    fn mirror(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            other => other,
        }
    }
}

/// A literal converted to the slot's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Int(i64),
    Dec(Decimal),
    Float(f64),
    /// Folded, trailing spaces removed.
    Str(String),
    Bool(bool),
    Date(i64),
    Guid(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LikeFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// A bound filter, evaluated with SQL's three-valued logic by [`super::eval`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pred {
    Cmp {
        slot: Slot,
        op: CmpOp,
        val: Val,
    },
    Null {
        slot: Slot,
        is_null: bool,
    },
    /// Folded needle.
    Like {
        slot: Slot,
        func: LikeFn,
        needle: String,
    },
    Not(Box<Pred>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
}

fn unsupported(what: impl std::fmt::Display, pos: usize) -> ApiError {
    ApiError::bad_request(format!(
        "{what} at position {pos} is not supported by the CRM 2011 OData endpoint."
    ))
}

/// Resolves `A` or `A/B` to a slot.
pub(crate) fn bind_path(
    schema: &SetSchema,
    segs: &[String],
    pos: usize,
) -> Result<(Slot, SlotType), ApiError> {
    let no_prop = |name: &str, ty: &str| {
        ApiError::bad_request(format!(
            "No property '{name}' exists in type '{ty}' at position {pos}."
        ))
    };
    let i = schema
        .prop(&segs[0])
        .ok_or_else(|| no_prop(&segs[0], &schema.type_name))?;
    let kind = schema.props[i].kind;
    match segs {
        [_] if kind.is_complex() => Ok((Slot::Cell(i), SlotType::Complex(kind))),
        [_] => Ok((Slot::Cell(i), SlotType::Prim(kind))),
        [_, member] => match (kind, member.as_str()) {
            (CdmsKind::Money, "Value") => Ok((Slot::Cell(i), SlotType::Prim(CdmsKind::Decimal))),
            (CdmsKind::OptionSetValue, "Value") => {
                Ok((Slot::Cell(i), SlotType::Prim(CdmsKind::Int32)))
            }
            (CdmsKind::EntityReference, "Id") => {
                Ok((Slot::RefId(i), SlotType::Prim(CdmsKind::Guid)))
            }
            (CdmsKind::EntityReference, "LogicalName") => {
                Ok((Slot::RefLogical(i), SlotType::Prim(CdmsKind::String)))
            }
            (CdmsKind::EntityReference, "Name") => Err(unsupported(
                format!("The lookup name member '{}/Name'", segs[0]),
                pos,
            )),
            (k, m) => Err(no_prop(m, k.edm_type())),
        },
        _ => Err(unsupported(
            format!("The member path '{}'", segs.join("/")),
            pos,
        )),
    }
}

/// Binds a whole `$filter`.
pub(crate) fn bind(schema: &SetSchema, ast: &Ast) -> Result<Pred, ApiError> {
    match ast {
        Ast::Bin(BinOp::And, l, r, _) => Ok(Pred::And(
            Box::new(bind(schema, l)?),
            Box::new(bind(schema, r)?),
        )),
        Ast::Bin(BinOp::Or, l, r, _) => Ok(Pred::Or(
            Box::new(bind(schema, l)?),
            Box::new(bind(schema, r)?),
        )),
        Ast::Bin(op, l, r, pos) if op.is_comparison() => compare(schema, *op, l, r, *pos),
        Ast::Bin(op, _, _, pos) => Err(unsupported(
            format!("The arithmetic operator '{}'", op.name()),
            *pos,
        )),
        Ast::Neg(_, pos) => Err(unsupported("Arithmetic negation", *pos)),
        Ast::Not(inner, _) => Ok(Pred::Not(Box::new(bind(schema, inner)?))),
        Ast::Call(name, args, pos) => call(schema, name, args, *pos),
        Ast::Path(segs, pos) => match bind_path(schema, segs, *pos)? {
            (slot, SlotType::Prim(CdmsKind::Boolean)) => Ok(Pred::Cmp {
                slot,
                op: CmpOp::Eq,
                val: Val::Bool(true),
            }),
            (_, ty) => Err(ApiError::bad_request(format!(
                "Expression of type '{}' at position {pos} is not a Boolean expression.",
                ty.clr()
            ))),
        },
        Ast::Lit(_, pos) => Err(unsupported("A condition without a property", *pos)),
    }
}

/// Refuses arithmetic and function results as comparison operands (after naming the function).
fn check_operand(schema: &SetSchema, ast: &Ast) -> Result<(), ApiError> {
    match ast {
        Ast::Bin(op, _, _, pos) if op.is_arithmetic() => Err(unsupported(
            format!("The arithmetic operator '{}'", op.name()),
            *pos,
        )),
        Ast::Neg(_, pos) => Err(unsupported("Arithmetic negation", *pos)),
        Ast::Call(name, args, pos) => call(schema, name, args, *pos).map(|_| ()),
        _ => Ok(()),
    }
}

fn compare(schema: &SetSchema, op: BinOp, l: &Ast, r: &Ast, pos: usize) -> Result<Pred, ApiError> {
    check_operand(schema, l)?;
    check_operand(schema, r)?;
    let Some(cmp) = CmpOp::from_bin(op) else {
        return Err(unsupported(format!("The operator '{}'", op.name()), pos));
    };
    match (l, r) {
        (Ast::Call(name, args, p), Ast::Lit(Literal::Bool(b), _))
        | (Ast::Lit(Literal::Bool(b), _), Ast::Call(name, args, p))
            if matches!(cmp, CmpOp::Eq | CmpOp::Ne) =>
        {
            let pred = call(schema, name, args, *p)?;
            Ok(if (cmp == CmpOp::Eq) == *b {
                pred
            } else {
                Pred::Not(Box::new(pred))
            })
        }
        (Ast::Call(name, _, p), _) | (_, Ast::Call(name, _, p)) => Err(unsupported(
            format!("Comparing the result of '{name}' with anything but true or false"),
            *p,
        )),
        (Ast::Path(segs, p), Ast::Lit(lit, _)) => path_vs_literal(schema, cmp, segs, *p, lit, pos),
        (Ast::Lit(lit, _), Ast::Path(segs, p)) => {
            path_vs_literal(schema, cmp.mirror(), segs, *p, lit, pos)
        }
        (Ast::Path(a, pa), Ast::Path(b, pb)) => {
            bind_path(schema, a, *pa)?;
            bind_path(schema, b, *pb)?;
            Err(unsupported(
                format!(
                    "Comparing property '{}' with property '{}'",
                    a.join("/"),
                    b.join("/")
                ),
                pos,
            ))
        }
        (Ast::Lit(..), Ast::Lit(..)) => Err(unsupported("A comparison without a property", pos)),
        _ => Err(unsupported("Comparing a Boolean expression", pos)),
    }
}

fn path_vs_literal(
    schema: &SetSchema,
    op: CmpOp,
    segs: &[String],
    path_pos: usize,
    lit: &Literal,
    pos: usize,
) -> Result<Pred, ApiError> {
    let (slot, ty) = bind_path(schema, segs, path_pos)?;
    let op_name = format!("{op:?}").to_lowercase();
    let incompatible = || {
        ApiError::bad_request(format!(
            "Operator '{op_name}' incompatible with operand types '{}' and '{}' at position {pos}.",
            ty.clr(),
            lit.type_name()
        ))
    };
    if *lit == Literal::Null {
        return match op {
            CmpOp::Eq => Ok(Pred::Null {
                slot,
                is_null: true,
            }),
            CmpOp::Ne => Ok(Pred::Null {
                slot,
                is_null: false,
            }),
            _ => Err(unsupported(format!("Operator '{op_name}' with null"), pos)),
        };
    }
    let SlotType::Prim(kind) = ty else {
        return Err(incompatible());
    };
    let equality_only = matches!(op, CmpOp::Eq | CmpOp::Ne);
    let val = match (kind, lit) {
        (CdmsKind::String, Literal::Str(s)) => {
            Val::Str(collation::unpadded(&collation::fold(s)).to_owned())
        }
        (CdmsKind::Boolean, Literal::Bool(b)) if equality_only => Val::Bool(*b),
        (CdmsKind::Guid, Literal::Guid(g)) if equality_only => Val::Guid(*g),
        (CdmsKind::DateTime, Literal::DateTime(ms)) => Val::Date(*ms),
        (CdmsKind::Int32 | CdmsKind::Int64, Literal::Int32(i)) => Val::Int(i64::from(*i)),
        (CdmsKind::Int32 | CdmsKind::Int64, Literal::Int64(i)) => Val::Int(*i),
        (CdmsKind::Int32 | CdmsKind::Int64, Literal::Decimal(d)) => Val::Dec(*d),
        (CdmsKind::Int32 | CdmsKind::Int64 | CdmsKind::Double, Literal::Double(f)) => {
            Val::Float(*f)
        }
        (CdmsKind::Double, Literal::Int32(i)) => Val::Float(f64::from(*i)),
        (CdmsKind::Double, Literal::Int64(i)) => Val::Float(*i as f64),
        (CdmsKind::Decimal, Literal::Int32(i)) => Val::Dec(Decimal::from(*i)),
        (CdmsKind::Decimal, Literal::Int64(i)) => Val::Dec(Decimal::from(*i)),
        (CdmsKind::Decimal, Literal::Decimal(d)) => Val::Dec(*d),
        _ => return Err(incompatible()),
    };
    Ok(Pred::Cmp { slot, op, val })
}

fn call(schema: &SetSchema, name: &str, args: &[Ast], pos: usize) -> Result<Pred, ApiError> {
    let func = match name {
        "substringof" => LikeFn::Contains,
        "startswith" => LikeFn::StartsWith,
        "endswith" => LikeFn::EndsWith,
        _ if UNSUPPORTED_FUNCTIONS.contains(&name) => {
            return Err(ApiError::bad_request(format!(
                "The function '{name}' at position {pos} is not supported by the CRM 2011 OData \
                 endpoint; only substringof, startswith and endswith are."
            )))
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "Unknown function '{name}' at position {pos}."
            )))
        }
    };
    for arg in args {
        check_operand(schema, arg)?;
    }
    let (lit, path) = match (func, args) {
        (LikeFn::Contains, [Ast::Lit(Literal::Str(s), _), Ast::Path(segs, p)]) => (s, (segs, *p)),
        (
            LikeFn::StartsWith | LikeFn::EndsWith,
            [Ast::Path(segs, p), Ast::Lit(Literal::Str(s), _)],
        ) => (s, (segs, *p)),
        _ => {
            let shape = match func {
                LikeFn::Contains => "substringof('<literal>', <String property>)",
                LikeFn::StartsWith => "startswith(<String property>, '<literal>')",
                LikeFn::EndsWith => "endswith(<String property>, '<literal>')",
            };
            return Err(ApiError::bad_request(format!(
                "No applicable function found for '{name}' at position {pos} with the specified \
                 arguments; the supported form is {shape}."
            )));
        }
    };
    match bind_path(schema, path.0, path.1)? {
        (slot, SlotType::Prim(CdmsKind::String)) => Ok(Pred::Like {
            slot,
            func,
            needle: collation::fold(lit),
        }),
        (_, ty) => Err(ApiError::bad_request(format!(
            "No applicable function found for '{name}' at position {pos}: its property argument \
             is of type '{}', not 'System.String'.",
            ty.clr()
        ))),
    }
}
