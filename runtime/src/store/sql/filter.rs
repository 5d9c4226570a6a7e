//! The filter tree ([`Expr`]) as a SQL condition with bound parameters.
//!
//! Semantics, identical on both backends:
//! - Two-valued logic: a condition on a `NULL` column is false, never `NULL`
//!   (`("c" IS NOT NULL AND "c" = ?)`), so `NOT` / `exclude` include rows where the field is null.
//! - Case-insensitive lookups fold ASCII letters only (SQLite `lower()`, PostgreSQL
//!   `translate(c, 'A…Z', 'a…z')`); other characters compare exactly.
//! - Case-sensitive `contains`/`startswith`/`endswith` are exact for every character (SQLite:
//!   `instr`/`substr`, since its `LIKE` ignores ASCII case; PostgreSQL: `LIKE` with `%`, `_` and
//!   `\` escaped).
//! - A condition on related rows is an `EXISTS` subquery (see [`super::related`]): a null
//!   reference has no target row, so it never matches a condition on its target.
//! - Date parts are taken in UTC; `week_day` is 1 = Sunday … 7 = Saturday.
//! - Regular expressions: SQLite `REGEXP` (Rust `regex` syntax), PostgreSQL `~` (POSIX ARE):
//!   use the common subset (literals, `.`, classes, `\d`, `\s`, `\w`, anchors, groups,
//!   alternation, repetition). `iregex` folds ASCII case only on both backends.

use super::{field, Sql};
use crate::entity::{EntityMeta, FieldMeta};
use crate::error::{Error, Result};
use crate::expr::{Cmp, Cond, DatePart, Expr, Lookup};
use crate::store::Backend;
use crate::value::{Kind, Value};

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// The most values written into one `IN (…)` list; longer lists are split and `OR`ed.
const IN_CHUNK: usize = 1000;

/// Appends ` WHERE <expr>` (nothing for [`Expr::All`]).
pub fn push_where(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    expr: &Expr,
) -> Result<()> {
    if matches!(expr, Expr::All) {
        return Ok(());
    }
    sql.push(" WHERE ");
    push_expr(sql, meta, alias, expr)
}

/// Appends `expr` as a condition; columns are qualified with `alias` when given.
pub fn push_expr(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    expr: &Expr,
) -> Result<()> {
    match expr {
        Expr::All => {
            sql.push("(1=1)");
        }
        Expr::Nothing => {
            sql.push("(1=0)");
        }
        Expr::Cond(c) => push_cond(sql, meta, alias, c)?,
        Expr::And(items) | Expr::Or(items) if items.is_empty() => {
            sql.push(if matches!(expr, Expr::And(_)) {
                "(1=1)"
            } else {
                "(1=0)"
            });
        }
        Expr::And(items) | Expr::Or(items) => {
            let sep = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sql.push(sep);
                }
                push_expr(sql, meta, alias, item)?;
            }
            sql.push(")");
        }
        Expr::Not(inner) => {
            sql.push("(NOT ");
            push_expr(sql, meta, alias, inner)?;
            sql.push(")");
        }
        Expr::Related(r) => super::related::push_related(sql, meta, alias, r)?,
    }
    Ok(())
}

fn invalid(meta: &EntityMeta, f: &FieldMeta, what: impl std::fmt::Display) -> Error {
    Error::InvalidQuery {
        entity: meta.name,
        message: format!("field {}: {what}", f.name),
    }
}

fn push_cond(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    alias: Option<&str>,
    c: &Cond,
) -> Result<()> {
    let f = field(meta, c.field)?;
    match &c.lookup {
        Lookup::IsNull(true) | Lookup::Exact(Value::Null) => {
            sql.push("(").column(alias, f.column).push(" IS NULL)");
            return Ok(());
        }
        Lookup::IsNull(false) => {
            sql.push("(").column(alias, f.column).push(" IS NOT NULL)");
            return Ok(());
        }
        _ => {}
    }
    sql.push("(");
    if f.nullable {
        sql.column(alias, f.column).push(" IS NOT NULL AND ");
    }
    push_lookup(sql, meta, f, alias, &c.lookup)?;
    sql.push(")");
    Ok(())
}

/// The column expression, in the form comparisons use (decimals as `REAL` on SQLite).
fn push_ordered(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>) {
    if sql.backend() == Backend::Sqlite && f.kind == Kind::Decimal {
        sql.push("CAST(").column(alias, f.column).push(" AS REAL)");
    } else {
        sql.column(alias, f.column);
    }
}

/// The order-expression of a column (as [`push_ordered`]); public for `ORDER BY`.
pub(crate) fn push_order_expr(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>) {
    push_ordered(sql, f, alias);
}

fn push_ordered_param(sql: &mut Sql, f: &FieldMeta, value: Value) {
    if sql.backend() == Backend::Sqlite && f.kind == Kind::Decimal {
        sql.push("CAST(").param(value, f.kind).push(" AS REAL)");
    } else {
        sql.param(value, f.kind);
    }
}

/// Case folding of a column: ASCII letters only, on both backends.
fn push_folded(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>) {
    match sql.backend() {
        Backend::Sqlite => {
            sql.push("lower(").column(alias, f.column).push(")");
        }
        Backend::Postgres => {
            sql.push("translate(").column(alias, f.column);
            sql.push(", '")
                .push(UPPER)
                .push("', '")
                .push(LOWER)
                .push("')");
        }
    }
}

/// `s` with `\`, `%` and `_` escaped for `LIKE … ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn op(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Eq => " = ",
        Cmp::Gt => " > ",
        Cmp::Gte => " >= ",
        Cmp::Lt => " < ",
        Cmp::Lte => " <= ",
    }
}

/// Where a case-sensitive substring must occur.
#[derive(Clone, Copy)]
enum At {
    Anywhere,
    Start,
    End,
}

fn push_lookup(
    sql: &mut Sql,
    meta: &'static EntityMeta,
    f: &FieldMeta,
    alias: Option<&str>,
    lookup: &Lookup,
) -> Result<()> {
    match lookup {
        Lookup::Exact(v) => match exact_instant(v) {
            Some(v) => {
                sql.column(alias, f.column).push(" = ").param(v, f.kind);
            }
            None => {
                sql.push("1=0");
            }
        },
        Lookup::IExact(s) => {
            check_text(meta, f)?;
            push_folded(sql, f, alias);
            sql.push(" = ")
                .param(Value::Text(s.to_ascii_lowercase()), Kind::Text);
        }
        Lookup::Contains(s) => {
            check_text(meta, f)?;
            substring(sql, f, alias, s, At::Anywhere);
        }
        Lookup::StartsWith(s) => {
            check_text(meta, f)?;
            substring(sql, f, alias, s, At::Start);
        }
        Lookup::EndsWith(s) => {
            check_text(meta, f)?;
            substring(sql, f, alias, s, At::End);
        }
        Lookup::IContains(s) => {
            check_text(meta, f)?;
            folded_like(
                sql,
                f,
                alias,
                &format!("%{}%", escape_like(&s.to_ascii_lowercase())),
            );
        }
        Lookup::IStartsWith(s) => {
            check_text(meta, f)?;
            folded_like(
                sql,
                f,
                alias,
                &format!("{}%", escape_like(&s.to_ascii_lowercase())),
            );
        }
        Lookup::IEndsWith(s) => {
            check_text(meta, f)?;
            folded_like(
                sql,
                f,
                alias,
                &format!("%{}", escape_like(&s.to_ascii_lowercase())),
            );
        }
        Lookup::In(values) => {
            let values: Vec<Value> = values
                .iter()
                .filter(|v| !v.is_null())
                .filter_map(exact_instant)
                .collect();
            push_in(
                sql,
                values.len(),
                |sql| {
                    sql.column(alias, f.column);
                },
                |sql, i| {
                    sql.param(values[i].clone(), f.kind);
                },
            );
        }
        Lookup::Compare(cmp, v) => {
            let bound = match cmp {
                Cmp::Eq => exact_instant(v),
                Cmp::Gt | Cmp::Lte => Some(instant_bound(v, false)),
                Cmp::Gte | Cmp::Lt => Some(instant_bound(v, true)),
            };
            match bound {
                Some(v) if !v.is_null() => {
                    push_ordered(sql, f, alias);
                    sql.push(op(*cmp));
                    push_ordered_param(sql, f, v);
                }
                _ => {
                    sql.push("1=0");
                }
            }
        }
        Lookup::Range(lo, hi) => {
            if lo.is_null() || hi.is_null() {
                sql.push("1=0");
            } else {
                push_ordered(sql, f, alias);
                sql.push(" >= ");
                push_ordered_param(sql, f, instant_bound(lo, true));
                sql.push(" AND ");
                push_ordered(sql, f, alias);
                sql.push(" <= ");
                push_ordered_param(sql, f, instant_bound(hi, false));
            }
        }
        Lookup::DatePart(part, cmp, n) => {
            check_dated(meta, f)?;
            push_part(sql, f, alias, *part);
            sql.push(op(*cmp))
                .param(Value::Int((*n).into()), Kind::Int32);
        }
        Lookup::DatePartIn(part, ns) => {
            check_dated(meta, f)?;
            push_in(
                sql,
                ns.len(),
                |sql| push_part(sql, f, alias, *part),
                |sql, i| {
                    sql.param(Value::Int(ns[i].into()), Kind::Int32);
                },
            );
        }
        Lookup::Regex(re) => {
            check_text(meta, f)?;
            super::regex::validate(re).map_err(|e| invalid(meta, f, e))?;
            sql.column(alias, f.column);
            match sql.backend() {
                Backend::Sqlite => sql.push(" REGEXP "),
                Backend::Postgres => sql.push(" ~ "),
            };
            sql.param(Value::Text(re.clone()), Kind::Text);
        }
        Lookup::IRegex(re) => {
            check_text(meta, f)?;
            super::regex::validate(re).map_err(|e| invalid(meta, f, e))?;
            sql.column(alias, f.column);
            match sql.backend() {
                Backend::Sqlite => {
                    let folded = super::regex::ascii_case_insensitive(re)
                        .map_err(|e| invalid(meta, f, e))?;
                    sql.push(" REGEXP ").param(Value::Text(folded), Kind::Text);
                }
                Backend::Postgres => {
                    // The column's "C" collation makes `~*` fold ASCII letters only.
                    sql.push(" ~* ").param(Value::Text(re.clone()), Kind::Text);
                }
            }
        }
        // Handled by `push_cond` before the null guard.
        Lookup::IsNull(yes) => {
            sql.column(alias, f.column)
                .push(if *yes { " IS NULL" } else { " IS NOT NULL" });
        }
    }
    Ok(())
}

/// Stored instants have whole microseconds (both backends). A bound with a finer part is moved
/// to the microsecond giving the same answer: down (`up == false`) for `>` and `<=`, up for `>=`
/// and `<`.
fn instant_bound(v: &Value, up: bool) -> Value {
    match v {
        Value::DateTime(t) => {
            let floor = crate::store::truncate_micros(*t);
            if up && floor < *t {
                Value::DateTime(floor + chrono::Duration::microseconds(1))
            } else {
                Value::DateTime(floor)
            }
        }
        other => other.clone(),
    }
}

/// `v` for an equality test; `None` for an instant with a sub-microsecond part, which no stored
/// instant can equal.
fn exact_instant(v: &Value) -> Option<Value> {
    match v {
        Value::DateTime(t) if crate::store::truncate_micros(*t) != *t => None,
        other => Some(other.clone()),
    }
}

fn check_text(meta: &EntityMeta, f: &FieldMeta) -> Result<()> {
    if f.kind == Kind::Text {
        Ok(())
    } else {
        Err(invalid(
            meta,
            f,
            format!("text lookups need a text field, not {}", f.kind.name()),
        ))
    }
}

fn check_dated(meta: &EntityMeta, f: &FieldMeta) -> Result<()> {
    if matches!(f.kind, Kind::Date | Kind::DateTime) {
        Ok(())
    } else {
        Err(invalid(
            meta,
            f,
            format!(
                "date parts need a date or datetime field, not {}",
                f.kind.name()
            ),
        ))
    }
}

/// `lhs IN (…)` over `n` values, split into chunks; `1=0` when empty.
fn push_in(
    sql: &mut Sql,
    n: usize,
    mut lhs: impl FnMut(&mut Sql),
    mut value: impl FnMut(&mut Sql, usize),
) {
    if n == 0 {
        sql.push("1=0");
        return;
    }
    let chunks = n.div_ceil(IN_CHUNK);
    if chunks > 1 {
        sql.push("(");
    }
    for c in 0..chunks {
        if c > 0 {
            sql.push(" OR ");
        }
        lhs(sql);
        sql.push(" IN (");
        let end = ((c + 1) * IN_CHUNK).min(n);
        for i in c * IN_CHUNK..end {
            if i > c * IN_CHUNK {
                sql.push(", ");
            }
            value(sql, i);
        }
        sql.push(")");
    }
    if chunks > 1 {
        sql.push(")");
    }
}

fn folded_like(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>, pattern: &str) {
    push_folded(sql, f, alias);
    sql.push(" LIKE ")
        .param(Value::Text(pattern.to_owned()), Kind::Text)
        .push(" ESCAPE '\\'");
}

fn substring(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>, s: &str, at: At) {
    if s.is_empty() {
        // Every (non-null) string contains, starts and ends with "".
        sql.push("1=1");
        return;
    }
    let text = || Value::Text(s.to_owned());
    match sql.backend() {
        Backend::Sqlite => match at {
            At::Anywhere => {
                sql.push("instr(").column(alias, f.column).push(", ");
                sql.param(text(), Kind::Text).push(") > 0");
            }
            At::Start => {
                sql.push("substr(")
                    .column(alias, f.column)
                    .push(", 1, length(");
                sql.param(text(), Kind::Text)
                    .push(")) = ")
                    .param(text(), Kind::Text);
            }
            At::End => {
                sql.push("substr(")
                    .column(alias, f.column)
                    .push(", -length(");
                sql.param(text(), Kind::Text)
                    .push(")) = ")
                    .param(text(), Kind::Text);
            }
        },
        Backend::Postgres => {
            let escaped = escape_like(s);
            let pattern = match at {
                At::Anywhere => format!("%{escaped}%"),
                At::Start => format!("{escaped}%"),
                At::End => format!("%{escaped}"),
            };
            sql.column(alias, f.column).push(" LIKE ");
            sql.param(Value::Text(pattern), Kind::Text)
                .push(" ESCAPE '\\'");
        }
    }
}

/// A date part of a column as an integer, in UTC.
fn push_part(sql: &mut Sql, f: &FieldMeta, alias: Option<&str>, part: DatePart) {
    match sql.backend() {
        Backend::Sqlite => {
            let format = match part {
                DatePart::Year => "%Y",
                DatePart::Month => "%m",
                DatePart::Day => "%d",
                DatePart::WeekDay => "%w",
                DatePart::Hour => "%H",
                DatePart::Minute => "%M",
                DatePart::Second => "%S",
            };
            // Whole seconds only: SQLite rounds fractional seconds to milliseconds, so
            // 23:59:59.9999 would otherwise become the next day.
            sql.push("(CAST(strftime('").push(format).push("', substr(");
            sql.column(alias, f.column).push(", 1, 19)) AS INTEGER)");
            if part == DatePart::WeekDay {
                sql.push(" + 1");
            }
            sql.push(")");
        }
        Backend::Postgres => {
            let name = match part {
                DatePart::Year => "YEAR",
                DatePart::Month => "MONTH",
                DatePart::Day => "DAY",
                DatePart::WeekDay => "DOW",
                DatePart::Hour => "HOUR",
                DatePart::Minute => "MINUTE",
                DatePart::Second => "SECOND",
            };
            // EXTRACT(SECOND …) has a fractional part: floor it like SQLite's %S.
            sql.push("(CAST(FLOOR(EXTRACT(").push(name).push(" FROM ");
            sql.column(alias, f.column);
            if f.kind == Kind::DateTime {
                sql.push(" AT TIME ZONE 'UTC'");
            }
            sql.push(")) AS INTEGER)");
            if part == DatePart::WeekDay {
                sql.push(" + 1");
            }
            sql.push(")");
        }
    }
}
