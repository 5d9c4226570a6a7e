//! `$filter` in the CRM 2011 dialect: a lexer and parser for the OData V2 URI expression syntax
//! ([`lexer`], [`parser`]), a binder that keeps only what CRM 2011 can translate and type-checks
//! it against the set ([`bind`]), and an allocation-free evaluator with SQL's three-valued logic
//! and the organisation's case- and accent-insensitive collation ([`eval`]).
//!
//! With `$expand`, conditions may name `<nav>/<Property>` of an expanded many-to-one navigation
//! property ([`compile_expanded`]). As in CRM 2011, a filter is either on the root entity or on
//! one expanded entity: mixing the two, or naming two expanded entities, is refused with 400. A
//! record whose lookup is empty never matches a condition on the expanded entity.

pub(crate) mod bind;
pub(crate) mod eval;
pub(crate) mod lexer;
pub(crate) mod parser;

use super::error::ApiError;
use super::schema::{NavEnd, SetSchema};

pub(crate) use bind::Pred;
use parser::Ast;

/// Parses and binds a `$filter` expression of the root set (the tests' shorthand of
/// [`compile_expanded`] without `$expand`).
#[cfg(test)]
pub(crate) fn compile(schema: &SetSchema, text: &str) -> Result<Pred, ApiError> {
    let ast = parser::parse(text)?;
    bind::bind(schema, &ast)
}

/// A filter bound against the root set, or against the entity one lookup points at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    pub pred: Pred,
    /// `Some((lookup property, target set))`: the predicate reads the record the lookup points
    /// at (a condition on an expanded entity).
    pub via: Option<(usize, usize)>,
}

/// Parses and binds a `$filter` of set `set` of `schemas`, whose navigation properties
/// `expanded` (indices into its `navs`) are expanded.
pub(crate) fn compile_expanded(
    schemas: &[SetSchema],
    set: usize,
    text: &str,
    expanded: &[usize],
) -> Result<Filter, ApiError> {
    let schema = &schemas[set];
    let mut ast = parser::parse(text)?;
    let mut paths = Vec::new();
    collect_paths(&ast, &mut paths);
    let mut root_path = None;
    let mut nav_used: Option<(usize, usize)> = None;
    for (segs, pos) in paths {
        let Some(n) = schema.navs.iter().position(|nav| nav.name == segs[0]) else {
            root_path.get_or_insert(pos);
            continue;
        };
        match nav_used {
            Some((first, _)) if first != n => {
                return Err(ApiError::bad_request(format!(
                    "The $filter at position {pos} has conditions on the expanded entities '{}' \
                     and '{}'; CRM 2011 filters on the root entity or on one expanded entity.",
                    schema.navs[first].name, schema.navs[n].name
                )))
            }
            Some(_) => {}
            None => nav_used = Some((n, pos)),
        }
        if segs.len() < 2 {
            return Err(ApiError::bad_request(format!(
                "The navigation property '{}' at position {pos} cannot be used in $filter \
                 itself; name one of its properties ('{}/Property').",
                segs[0], segs[0]
            )));
        }
    }
    let Some((n, pos)) = nav_used else {
        return Ok(Filter {
            pred: bind::bind(schema, &ast)?,
            via: None,
        });
    };
    let nav = &schema.navs[n];
    if let Some(root_pos) = root_path {
        return Err(ApiError::bad_request(format!(
            "The $filter combines conditions on the root entity (position {root_pos}) with \
             conditions on the expanded entity '{}' (position {pos}); CRM 2011 filters on the \
             root entity or on one expanded entity, not both.",
            nav.name
        )));
    }
    if !expanded.contains(&n) {
        return Err(ApiError::bad_request(format!(
            "The navigation property '{}' at position {pos} is not expanded; a condition on a \
             related entity needs $expand={}.",
            nav.name, nav.name
        )));
    }
    let NavEnd::ManyToOne { prop, target } = nav.end else {
        return Err(ApiError::bad_request(format!(
            "The collection navigation property '{}' at position {pos} cannot be filtered on \
             (any/all are not supported by the CRM 2011 OData endpoint).",
            nav.name
        )));
    };
    strip_first_segment(&mut ast);
    Ok(Filter {
        pred: bind::bind(&schemas[target], &ast)?,
        via: Some((prop, target)),
    })
}

/// Every member path of the expression, with its position.
fn collect_paths<'a>(ast: &'a Ast, out: &mut Vec<(&'a [String], usize)>) {
    match ast {
        Ast::Lit(..) => {}
        Ast::Path(segs, pos) => {
            if !segs.is_empty() {
                out.push((segs, *pos));
            }
        }
        Ast::Call(_, args, _) => args.iter().for_each(|a| collect_paths(a, out)),
        Ast::Not(inner, _) | Ast::Neg(inner, _) => collect_paths(inner, out),
        Ast::Bin(_, l, r, _) => {
            collect_paths(l, out);
            collect_paths(r, out);
        }
    }
}

/// Drops the navigation property from every path (`nav/Name` → `Name`).
fn strip_first_segment(ast: &mut Ast) {
    match ast {
        Ast::Lit(..) => {}
        Ast::Path(segs, _) => {
            if segs.len() > 1 {
                segs.remove(0);
            }
        }
        Ast::Call(_, args, _) => args.iter_mut().for_each(strip_first_segment),
        Ast::Not(inner, _) | Ast::Neg(inner, _) => strip_first_segment(inner),
        Ast::Bin(_, l, r, _) => {
            strip_first_segment(l);
            strip_first_segment(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdms::meta::CdmsKind;
    use crate::emulator::schema::SetSpec;
    use crate::emulator::store::{Cell, RefVal};
    use rust_decimal::Decimal;

    const PARENT: &str = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";

    fn schema() -> SetSchema {
        SetSchema::build(
            SetSpec::new("Account", "AccountId")
                .property("Name", CdmsKind::String)
                .property("Count", CdmsKind::Int32)
                .property("Big", CdmsKind::Int64)
                .property("Rate", CdmsKind::Double)
                .property("Amount", CdmsKind::Decimal)
                .property("Revenue", CdmsKind::Money)
                .property("Status", CdmsKind::OptionSetValue)
                .property("Parent", CdmsKind::EntityReference)
                .property("When", CdmsKind::DateTime)
                .property("Flag", CdmsKind::Boolean)
                .property("Ext", CdmsKind::Guid),
        )
        .unwrap()
    }

    /// A record: Name "Crème Brûlée  ", Count 5, Rate 1.5, Amount 12.5, Revenue 1000,
    /// Status 2, Parent → account PARENT, When 2016-01-31T13:05:09Z, Flag true; Big/Ext null.
    fn record(s: &SetSchema) -> Vec<Cell> {
        let mut cells = vec![Cell::Null; s.props.len()];
        let set =
            |cells: &mut Vec<Cell>, name: &str, cell: Cell| cells[s.prop(name).unwrap()] = cell;
        set(&mut cells, "Name", Cell::text("Crème Brûlée  ".into()));
        set(&mut cells, "Count", Cell::Int(5));
        set(&mut cells, "Rate", Cell::Float(1.5));
        set(&mut cells, "Amount", Cell::Dec(Decimal::new(125, 1)));
        set(&mut cells, "Revenue", Cell::Dec(Decimal::new(1000, 0)));
        set(&mut cells, "Status", Cell::Int(2));
        let parent = RefVal {
            id: PARENT.parse().unwrap(),
            logical: Some("account".into()),
        };
        set(&mut cells, "Parent", Cell::Ref(Box::new(parent)));
        set(&mut cells, "When", Cell::Date(1_454_245_509_000));
        set(&mut cells, "Flag", Cell::Bool(true));
        cells
    }

    fn eval(text: &str) -> Option<bool> {
        let s = schema();
        let pred = compile(&s, text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
        eval::eval(&pred, &record(&s))
    }

    #[test]
    fn accepted_constructs_evaluate() {
        let g = PARENT;
        let cases: &[(&str, Option<bool>)] = &[
            ("Name eq 'creme brulee'", Some(true)),
            ("Name eq 'CRÈME BRÛLÉE'", Some(true)),
            ("'creme brulee' eq Name", Some(true)),
            ("Name ne 'creme brulee'", Some(false)),
            ("Name gt 'A' and Name lt 'D'", Some(true)),
            ("substringof('BRU', Name)", Some(true)),
            ("substringof('brux', Name) eq false", Some(true)),
            ("startswith(Name, 'cre')", Some(true)),
            ("startswith(Name, 'cre') eq true", Some(true)),
            ("startswith(Name, 'cre') ne true", Some(false)),
            ("endswith(Name, 'lee  ')", Some(true)),
            ("endswith(Name, 'lee')", Some(false)),
            ("Count eq 5", Some(true)),
            ("Count ge 5L", Some(true)),
            ("Count lt 5.5", Some(true)),
            ("Count gt 4.5M", Some(true)),
            ("5 lt Count", Some(false)),
            ("Rate eq 1.5", Some(true)),
            ("Rate gt 1", Some(true)),
            ("Amount eq 12.5M", Some(true)),
            ("Amount gt 12", Some(true)),
            ("Revenue/Value ge 1000M", Some(true)),
            ("Revenue/Value eq 1000", Some(true)),
            ("Status/Value eq 2", Some(true)),
            (&format!("Parent/Id eq guid'{g}'"), Some(true)),
            ("Parent/Id ne null", Some(true)),
            ("Parent ne null", Some(true)),
            ("Parent/LogicalName eq 'ACCOUNT'", Some(true)),
            ("When eq datetime'2016-01-31T13:05:09'", Some(true)),
            ("When gt datetime'2016-01-31T13:05'", Some(true)),
            ("When lt datetime'2016-01-31T13:05:09Z'", Some(false)),
            ("Flag", Some(true)),
            ("Flag eq false", Some(false)),
            ("not Flag", Some(false)),
            ("Big eq null", Some(true)),
            ("Big ne null", Some(false)),
            ("Ext eq null", Some(true)),
            ("Big eq 1L", None),
            ("Big ne 1L", None),
            ("not (Big eq 1L)", None),
            ("Big eq 1L or Count eq 5", Some(true)),
            ("Big eq 1L and Count eq 5", None),
            ("Big eq 1L and Count eq 4", Some(false)),
            (
                "(Count eq 4 or Count eq 5) and not (Name eq 'x')",
                Some(true),
            ),
            ("Big gt 2147483648", None),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text), *want, "{text}");
        }
    }

    #[test]
    fn rejected_constructs_name_the_problem() {
        let s = schema();
        let cases: &[(&str, &str)] = &[
            ("tolower(Name) eq 'a'", "function 'tolower'"),
            ("year(When) eq 2016", "function 'year'"),
            ("substring(Name, 1) eq 'a'", "function 'substring'"),
            ("Name eq concat('a', 'b')", "function 'concat'"),
            ("isof('Account')", "function 'isof'"),
            ("contains(Name, 'a')", "Unknown function 'contains'"),
            ("Count add 1 eq 2", "arithmetic operator 'add'"),
            ("Count eq 2 mod 2", "arithmetic operator 'mod'"),
            ("-Count eq 2", "negation"),
            (
                "Name eq Name",
                "Comparing property 'Name' with property 'Name'",
            ),
            ("1 eq 1", "without a property"),
            (
                "Nope eq 1",
                "No property 'Nope' exists in type 'Microsoft.Crm.Sdk.Data.Services.Account'",
            ),
            ("Revenue/Amount eq 1", "No property 'Amount'"),
            ("Parent/Name eq 'x'", "lookup name member"),
            ("Amount eq 12.5", "'System.Decimal' and 'System.Double'"),
            (
                "Revenue/Value gt 1.5",
                "'System.Decimal' and 'System.Double'",
            ),
            ("Rate eq 1.5M", "'System.Double' and 'System.Decimal'"),
            ("Name eq 5", "'System.String' and 'System.Int32'"),
            ("Count eq '5'", "'System.Int32' and 'System.String'"),
            ("Flag gt true", "Operator 'gt'"),
            (
                "Parent/Id gt guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e'",
                "Operator 'gt'",
            ),
            ("Revenue eq 5", "Money"),
            ("Count gt null", "with null"),
            ("Name", "not a Boolean expression"),
            ("startswith('a', Name)", "No applicable function"),
            ("startswith(Count, 'a')", "not 'System.String'"),
            ("substringof(Name, 'a')", "No applicable function"),
            ("startswith(Name, 'a') eq 1", "anything but true or false"),
            ("Name eq 'a' AND Count eq 1", "Syntax error"),
            (
                "When eq datetime'2016-1-1T00:00'",
                "Unrecognized 'Edm.DateTime' literal",
            ),
            ("Name eq 'a", "unterminated"),
        ];
        for (text, needle) in cases {
            match compile(&s, text) {
                Ok(p) => panic!("{text} was accepted as {p:?}"),
                Err(e) => {
                    assert_eq!(e.status, 400, "{text}");
                    assert_eq!(e.code, "", "{text}");
                    assert!(e.message.contains(needle), "{text}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn every_unsupported_function_is_refused() {
        let s = schema();
        for f in bind::UNSUPPORTED_FUNCTIONS {
            let e = compile(&s, &format!("{f}(Name) eq 1")).unwrap_err();
            assert!(
                e.message.contains(&format!("function '{f}'")),
                "{f}: {}",
                e.message
            );
        }
    }

    #[test]
    fn null_text_and_lookups_are_unknown() {
        let s = schema();
        let cells = vec![Cell::Null; s.props.len()];
        for text in [
            "Name eq 'a'",
            "substringof('a', Name)",
            "Parent/Id eq guid'dff27d1f-a61b-4bfe-a203-b2e5a36cda0e'",
        ] {
            assert_eq!(
                eval::eval(&compile(&s, text).unwrap(), &cells),
                None,
                "{text}"
            );
        }
        assert!(eval::matches(
            &compile(&s, "Parent eq null").unwrap(),
            &cells
        ));
        assert!(eval::matches(
            &compile(&s, "Parent/Id eq null").unwrap(),
            &cells
        ));
    }
}
