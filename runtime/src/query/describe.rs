//! Human-readable rendering of a filter, for error messages (`NotFound`, `MultipleFound`).

use crate::entity::EntityMeta;
use crate::query::expr::{Cmp, DatePart, Expr, Lookup};
use crate::query::path::Hop;
use crate::value::Value;

/// `expr` with field names, e.g. `name iexact "acme" AND NOT (country isnull)`; a relation
/// reads `shop -> (city = "Leeds")` forward and `any Product.shop -> (active = true)` backward.
pub fn describe(meta: &EntityMeta, expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, meta, expr, false);
    out
}

fn cmp(op: Cmp) -> &'static str {
    match op {
        Cmp::Eq => "=",
        Cmp::Gt => ">",
        Cmp::Gte => ">=",
        Cmp::Lt => "<",
        Cmp::Lte => "<=",
    }
}

fn part(p: DatePart) -> &'static str {
    match p {
        DatePart::Year => "year",
        DatePart::Month => "month",
        DatePart::Day => "day",
        DatePart::WeekDay => "week_day",
        DatePart::Hour => "hour",
        DatePart::Minute => "minute",
        DatePart::Second => "second",
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", shown.join(", "))
}

fn write_expr(out: &mut String, meta: &EntityMeta, expr: &Expr, nested: bool) {
    match expr {
        Expr::All => out.push_str("all"),
        Expr::Nothing => out.push_str("nothing"),
        Expr::Cond(c) => {
            let name = meta.fields.get(c.field).map_or("?", |f| f.name);
            let text = |s: &String| Value::Text(s.clone()).to_string();
            let rendered = match &c.lookup {
                Lookup::Exact(v) => format!("{name} = {v}"),
                Lookup::IExact(s) => format!("{name} iexact {}", text(s)),
                Lookup::Contains(s) => format!("{name} contains {}", text(s)),
                Lookup::IContains(s) => format!("{name} icontains {}", text(s)),
                Lookup::StartsWith(s) => format!("{name} startswith {}", text(s)),
                Lookup::IStartsWith(s) => format!("{name} istartswith {}", text(s)),
                Lookup::EndsWith(s) => format!("{name} endswith {}", text(s)),
                Lookup::IEndsWith(s) => format!("{name} iendswith {}", text(s)),
                Lookup::In(vs) => format!("{name} in {}", list(vs)),
                Lookup::Compare(op, v) => format!("{name} {} {v}", cmp(*op)),
                Lookup::Range(lo, hi) => format!("{name} range [{lo}, {hi}]"),
                Lookup::DatePart(p, op, n) => format!("{name}.{} {} {n}", part(*p), cmp(*op)),
                Lookup::DatePartIn(p, ns) => format!("{name}.{} in {}", part(*p), list(ns)),
                Lookup::IsNull(true) => format!("{name} isnull"),
                Lookup::IsNull(false) => format!("{name} not isnull"),
                Lookup::Regex(s) => format!("{name} regex {}", text(s)),
                Lookup::IRegex(s) => format!("{name} iregex {}", text(s)),
            };
            out.push_str(&rendered);
        }
        Expr::And(items) | Expr::Or(items) => {
            let sep = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            if nested {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                write_expr(out, meta, item, true);
            }
            if nested {
                out.push(')');
            }
        }
        Expr::Not(inner) => {
            out.push_str("NOT (");
            write_expr(out, meta, inner, false);
            out.push(')');
        }
        Expr::Related(r) => {
            match r.hop {
                Hop::Forward { field, .. } => {
                    out.push_str(meta.fields.get(field).map_or("?", |f| f.name));
                }
                Hop::Reverse { source, field } => {
                    out.push_str("any ");
                    out.push_str(source.name);
                    out.push('.');
                    out.push_str(source.fields.get(field).map_or("?", |f| f.name));
                }
            }
            out.push_str(" -> (");
            write_expr(out, r.hop.entity(), &r.expr, false);
            out.push(')');
        }
    }
}
