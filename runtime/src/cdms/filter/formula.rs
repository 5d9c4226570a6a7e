//! The remote filter as a formula: simplified as it is built, rendered with explicit parentheses.

/// A remote filter formula.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum F {
    True,
    False,
    Atom(String),
    And(Vec<F>),
    Or(Vec<F>),
}

pub(crate) fn and(items: Vec<F>) -> F {
    let mut out = Vec::new();
    for f in items {
        match f {
            F::True => {}
            F::False => return F::False,
            F::And(inner) => out.extend(inner),
            f => out.push(f),
        }
    }
    match out.len() {
        0 => F::True,
        1 => out.pop().unwrap_or(F::True),
        _ => F::And(out),
    }
}

pub(crate) fn or(items: Vec<F>) -> F {
    let mut out = Vec::new();
    for f in items {
        match f {
            F::False => {}
            F::True => return F::True,
            F::Or(inner) => out.extend(inner),
            f => out.push(f),
        }
    }
    match out.len() {
        0 => F::False,
        1 => out.pop().unwrap_or(F::False),
        _ => F::Or(out),
    }
}

pub(crate) fn render(f: &F) -> String {
    fn child(f: &F) -> String {
        match f {
            F::And(_) | F::Or(_) => format!("({})", render(f)),
            f => render(f),
        }
    }
    match f {
        F::True => "true".to_owned(),
        F::False => "false".to_owned(),
        F::Atom(s) => s.clone(),
        F::And(items) => items.iter().map(child).collect::<Vec<_>>().join(" and "),
        F::Or(items) => items.iter().map(child).collect::<Vec<_>>().join(" or "),
    }
}
