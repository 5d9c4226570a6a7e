//! Regular-expression helpers for the SQLite backend, whose `REGEXP` uses Rust `regex` syntax.
//!
//! PostgreSQL's `~*` on a `"C"`-collated column folds ASCII letters only; Rust's `(?i)` folds all
//! of Unicode. To give `iregex` the same meaning on SQLite, the pattern is rewritten so that each
//! ASCII letter matches both cases (`a` → `[aA]`, `[a-c]` → `[a-cA-C]`, `[^a]` → `[^aA]`), and is
//! then matched case-sensitively.

use regex_syntax::ast::{
    self, parse::Parser, Ast, ClassAsciiKind, ClassBracketed, ClassSet, ClassSetItem,
    ClassSetRange, ClassSetUnion, Literal, LiteralKind,
};

/// Checks that `pattern` is a valid regular expression; the error explains why not.
pub fn validate(pattern: &str) -> Result<(), String> {
    regex_syntax::Parser::new()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

/// `pattern` rewritten to match ASCII letters in either case (see the module docs).
pub fn ascii_case_insensitive(pattern: &str) -> Result<String, String> {
    let mut ast = Parser::new()
        .parse(pattern)
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
    fold(&mut ast);
    let mut out = String::with_capacity(pattern.len() * 2);
    ast::print::Printer::new()
        .print(&ast, &mut out)
        .map_err(|e| format!("cannot rewrite regular expression {pattern:?}: {e}"))?;
    Ok(out)
}

fn other_case(c: char) -> Option<char> {
    if c.is_ascii_lowercase() {
        Some(c.to_ascii_uppercase())
    } else if c.is_ascii_uppercase() {
        Some(c.to_ascii_lowercase())
    } else {
        None
    }
}

fn literal(span: ast::Span, c: char) -> Literal {
    Literal {
        span,
        kind: LiteralKind::Verbatim,
        c,
    }
}

fn fold(ast: &mut Ast) {
    match ast {
        Ast::Literal(lit) => {
            if let Some(other) = other_case(lit.c) {
                let span = lit.span;
                let items = vec![
                    ClassSetItem::Literal(literal(span, lit.c)),
                    ClassSetItem::Literal(literal(span, other)),
                ];
                *ast = Ast::class_bracketed(ClassBracketed {
                    span,
                    negated: false,
                    kind: ClassSet::union(ClassSetUnion { span, items }),
                });
            }
        }
        Ast::ClassBracketed(class) => fold_set(&mut class.kind),
        Ast::Repetition(rep) => fold(&mut rep.ast),
        Ast::Group(group) => fold(&mut group.ast),
        Ast::Alternation(alt) => alt.asts.iter_mut().for_each(fold),
        Ast::Concat(concat) => concat.asts.iter_mut().for_each(fold),
        Ast::Empty(_)
        | Ast::Flags(_)
        | Ast::Dot(_)
        | Ast::Assertion(_)
        | Ast::ClassUnicode(_)
        | Ast::ClassPerl(_) => {}
    }
}

fn fold_set(set: &mut ClassSet) {
    match set {
        ClassSet::Item(item) => fold_item(item),
        ClassSet::BinaryOp(op) => {
            fold_set(&mut op.lhs);
            fold_set(&mut op.rhs);
        }
    }
}

/// The ASCII-letter part of `start..=end` in the other case, as ranges.
fn counterpart_ranges(start: char, end: char) -> Vec<(char, char)> {
    let mut out = Vec::new();
    for (lo, hi) in [('a', 'z'), ('A', 'Z')] {
        let s = start.max(lo);
        let e = end.min(hi);
        if s <= e {
            if let (Some(s2), Some(e2)) = (other_case(s), other_case(e)) {
                out.push((s2, e2));
            }
        }
    }
    out
}

fn fold_item(item: &mut ClassSetItem) {
    match item {
        ClassSetItem::Literal(lit) => {
            if let Some(other) = other_case(lit.c) {
                let span = lit.span;
                let items = vec![
                    ClassSetItem::Literal(literal(span, lit.c)),
                    ClassSetItem::Literal(literal(span, other)),
                ];
                *item = ClassSetItem::Union(ClassSetUnion { span, items });
            }
        }
        ClassSetItem::Range(range) => {
            let extra = counterpart_ranges(range.start.c, range.end.c);
            if !extra.is_empty() {
                let span = range.span;
                let mut items = vec![ClassSetItem::Range(range.clone())];
                items.extend(extra.into_iter().map(|(s, e)| {
                    ClassSetItem::Range(ClassSetRange {
                        span,
                        start: literal(span, s),
                        end: literal(span, e),
                    })
                }));
                *item = ClassSetItem::Union(ClassSetUnion { span, items });
            }
        }
        ClassSetItem::Ascii(class) => {
            if matches!(class.kind, ClassAsciiKind::Upper | ClassAsciiKind::Lower) {
                class.kind = ClassAsciiKind::Alpha;
            }
        }
        ClassSetItem::Bracketed(class) => fold_set(&mut class.kind),
        ClassSetItem::Union(union) => union.items.iter_mut().for_each(fold_item),
        ClassSetItem::Empty(_) | ClassSetItem::Unicode(_) | ClassSetItem::Perl(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_ascii_letters_only() {
        assert_eq!(ascii_case_insensitive("ab").unwrap(), "[aA][bB]");
        assert_eq!(ascii_case_insensitive("é1").unwrap(), "é1");
        assert_eq!(ascii_case_insensitive("[^a]").unwrap(), "[^aA]");
        assert_eq!(ascii_case_insensitive("[b-e]x").unwrap(), "[b-eB-E][xX]");
        assert_eq!(ascii_case_insensitive("[X-c]").unwrap(), "[X-cA-Cx-z]");
        assert_eq!(
            ascii_case_insensitive("^\\d+[[:upper:]]$").unwrap(),
            "^\\d+[[:alpha:]]$"
        );
        assert_eq!(
            ascii_case_insensitive("(foo|Bar)*").unwrap(),
            "([fF][oO][oO]|[Bb][aA][rR])*"
        );
    }

    #[test]
    fn rejects_invalid_patterns() {
        assert!(validate("(unclosed").is_err());
        assert!(ascii_case_insensitive("[z-a]").is_err());
        assert!(validate("^a.c$").is_ok());
    }
}
