//! The OData V2 `$filter` grammar as WCF Data Services parses it, before CRM decides what it can
//! translate: precedence `or` < `and` < comparison < `add`/`sub` < `mul`/`div`/`mod` < unary
//! (`not`, `-`) < primary. Keywords are lower case and case-sensitive.
//!
//! Nesting is bounded ([`MAX_DEPTH`]): the parser, the binder and the evaluator recurse over the
//! expression, so an unbounded `((((…))))` would exhaust the stack. WCF Data Services has a
//! recursion limit of its own; its exact threshold and message as CRM 2011 answers them are not
//! known (dialect §8), so the limit and the wording here are ours. Chains of `and` / `or` are
//! built as balanced trees, so a long or-chain (an `in` lookup) stays shallow.

use super::lexer::{syntax_error, Literal, Tok, Token};
use crate::emulator::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Eq => "eq",
            BinOp::Ne => "ne",
            BinOp::Gt => "gt",
            BinOp::Ge => "ge",
            BinOp::Lt => "lt",
            BinOp::Le => "le",
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ast {
    Lit(Literal, usize),
    /// A member path `A` or `A/B`.
    Path(Vec<String>, usize),
    Call(String, Vec<Ast>, usize),
    Not(Box<Ast>, usize),
    Neg(Box<Ast>, usize),
    Bin(BinOp, Box<Ast>, Box<Ast>, usize),
}

/// How deeply a `$filter` may nest: parentheses, function arguments, `not` / `-`, and the height
/// of the expression tree. Far above what any real query needs (a balanced chain of 5,000
/// conditions is 13 levels), far below what exhausts a 2 MiB thread stack.
pub(crate) const MAX_DEPTH: usize = 100;

fn too_deep(pos: usize) -> ApiError {
    ApiError::bad_request(format!(
        "The $filter expression is nested more than {MAX_DEPTH} levels deep at position {pos}; \
         recursion depth exceeded allowed limit."
    ))
}

/// An expression and the height of its tree (a leaf is 1).
type Node = (Ast, usize);

pub(crate) struct Parser {
    toks: Vec<Token>,
    at: usize,
    /// Nesting of the recursive calls in progress (parentheses, arguments, unary operators).
    depth: usize,
}

impl Parser {
    pub fn new(toks: Vec<Token>) -> Self {
        Parser {
            toks,
            at: 0,
            depth: 0,
        }
    }

    /// Enters one level of recursion, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), ApiError> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.peek().pos));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> &Token {
        // `lex` always ends with Eof and the parser never moves past it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.at += 1;
        }
        t
    }

    fn keyword(&self) -> Option<&str> {
        match &self.peek().tok {
            Tok::Ident(w) => Some(w.as_str()),
            _ => None,
        }
    }

    /// Parses a whole expression and requires the end of input.
    pub fn parse_all(mut self) -> Result<Ast, ApiError> {
        let (ast, _) = self.node()?;
        self.expect_eof()?;
        Ok(ast)
    }

    pub fn expect_eof(&mut self) -> Result<(), ApiError> {
        let t = self.peek();
        if t.tok == Tok::Eof {
            Ok(())
        } else {
            Err(syntax_error(t.pos))
        }
    }

    /// An expression, one recursion level down.
    fn node(&mut self) -> Result<Node, ApiError> {
        self.enter()?;
        let node = self.binary(0);
        self.leave();
        node
    }

    fn binary(&mut self, level: usize) -> Result<Node, ApiError> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("or", BinOp::Or)],
            &[("and", BinOp::And)],
            &[
                ("eq", BinOp::Eq),
                ("ne", BinOp::Ne),
                ("gt", BinOp::Gt),
                ("ge", BinOp::Ge),
                ("lt", BinOp::Lt),
                ("le", BinOp::Le),
            ],
            &[("add", BinOp::Add), ("sub", BinOp::Sub)],
            &[
                ("mul", BinOp::Mul),
                ("div", BinOp::Div),
                ("mod", BinOp::Mod),
            ],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let first = self.binary(level + 1)?;
        // The operands and, between each pair, the operator and its position.
        let mut rest: Vec<(BinOp, usize, Node)> = Vec::new();
        loop {
            let op = self
                .keyword()
                .and_then(|w| LEVELS[level].iter().find(|(name, _)| *name == w))
                .map(|(_, op)| *op);
            let Some(op) = op else { break };
            let pos = self.bump().pos;
            rest.push((op, pos, self.binary(level + 1)?));
        }
        if matches!(LEVELS[level], [(_, BinOp::Or | BinOp::And)]) {
            return balanced(first, rest);
        }
        let mut left = first;
        for (op, pos, right) in rest {
            left = join(op, pos, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, ApiError> {
        let wrap: fn(Box<Ast>, usize) -> Ast = if self.keyword() == Some("not") {
            Ast::Not
        } else if self.peek().tok == Tok::Minus {
            Ast::Neg
        } else {
            return self.primary();
        };
        let pos = self.bump().pos;
        self.enter()?;
        let inner = self.unary();
        self.leave();
        let (inner, height) = inner?;
        checked((wrap(Box::new(inner), pos), height + 1), pos)
    }

    fn primary(&mut self) -> Result<Node, ApiError> {
        let t = self.bump();
        match t.tok {
            Tok::Lit(lit) => Ok((Ast::Lit(lit, t.pos), 1)),
            Tok::LParen => {
                let inner = self.node()?;
                match self.bump() {
                    Token {
                        tok: Tok::RParen, ..
                    } => Ok(inner),
                    other => Err(ApiError::bad_request(format!(
                        "')' or operator expected at position {}.",
                        other.pos
                    ))),
                }
            }
            Tok::Ident(name) if self.peek().tok == Tok::LParen => {
                self.bump();
                let mut args = Vec::new();
                let mut height = 0;
                if self.peek().tok != Tok::RParen {
                    loop {
                        let (arg, h) = self.node()?;
                        args.push(arg);
                        height = height.max(h);
                        match self.bump() {
                            Token {
                                tok: Tok::Comma, ..
                            } => continue,
                            Token {
                                tok: Tok::RParen, ..
                            } => break,
                            other => {
                                return Err(ApiError::bad_request(format!(
                                    "')' or ',' expected at position {}.",
                                    other.pos
                                )))
                            }
                        }
                    }
                } else {
                    self.bump();
                }
                checked((Ast::Call(name, args, t.pos), height + 1), t.pos)
            }
            Tok::Ident(name) if is_keyword(&name) => Err(ApiError::bad_request(format!(
                "Expression expected at position {}.",
                t.pos
            ))),
            Tok::Ident(name) => {
                let mut path = vec![name];
                while self.peek().tok == Tok::Slash {
                    self.bump();
                    match self.bump() {
                        Token {
                            tok: Tok::Ident(seg),
                            ..
                        } => path.push(seg),
                        other => return Err(syntax_error(other.pos)),
                    }
                }
                Ok((Ast::Path(path, t.pos), 1))
            }
            Tok::Eof => Err(ApiError::bad_request(format!(
                "Expression expected at position {}.",
                t.pos
            ))),
            _ => Err(syntax_error(t.pos)),
        }
    }
}

/// Refuses a tree higher than [`MAX_DEPTH`].
fn checked(node: Node, pos: usize) -> Result<Node, ApiError> {
    if node.1 > MAX_DEPTH {
        Err(too_deep(pos))
    } else {
        Ok(node)
    }
}

fn join(op: BinOp, pos: usize, (l, lh): Node, (r, rh): Node) -> Result<Node, ApiError> {
    checked(
        (Ast::Bin(op, Box::new(l), Box::new(r), pos), lh.max(rh) + 1),
        pos,
    )
}

/// A chain `a op b op c …` of one associative operator as a balanced tree (operands keep their
/// left-to-right order), so its height grows with the logarithm of its length.
fn balanced(first: Node, rest: Vec<(BinOp, usize, Node)>) -> Result<Node, ApiError> {
    let mut ops = Vec::with_capacity(rest.len());
    let mut operands = vec![first];
    for (op, pos, node) in rest {
        ops.push((op, pos));
        operands.push(node);
    }
    // Pairs neighbours level by level; `ops[i]` sits between `operands[i]` and `operands[i + 1]`.
    while operands.len() > 1 {
        let mut next_ops = Vec::with_capacity(ops.len() / 2);
        let mut next = Vec::with_capacity(operands.len().div_ceil(2));
        let mut items = operands.into_iter();
        let mut between = ops.into_iter();
        while let Some(left) = items.next() {
            match (between.next(), items.next()) {
                (Some((op, pos)), Some(right)) => {
                    next.push(join(op, pos, left, right)?);
                    if let Some(gap) = between.next() {
                        next_ops.push(gap);
                    }
                }
                _ => next.push(left),
            }
        }
        operands = next;
        ops = next_ops;
    }
    operands.pop().ok_or_else(|| syntax_error(0))
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "and"
            | "or"
            | "eq"
            | "ne"
            | "gt"
            | "ge"
            | "lt"
            | "le"
            | "add"
            | "sub"
            | "mul"
            | "div"
            | "mod"
    )
}

/// Parses a `$filter` expression.
pub(crate) fn parse(text: &str) -> Result<Ast, ApiError> {
    Parser::new(super::lexer::lex(text)?).parse_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(ast: &Ast) -> String {
        match ast {
            Ast::Lit(l, _) => format!("{l:?}"),
            Ast::Path(p, _) => p.join("/"),
            Ast::Call(n, args, _) => {
                format!(
                    "{n}({})",
                    args.iter().map(shape).collect::<Vec<_>>().join(",")
                )
            }
            Ast::Not(a, _) => format!("not({})", shape(a)),
            Ast::Neg(a, _) => format!("-({})", shape(a)),
            Ast::Bin(op, l, r, _) => format!("({} {} {})", shape(l), op.name(), shape(r)),
        }
    }

    #[test]
    fn precedence() {
        let p = |s: &str| shape(&parse(s).unwrap());
        assert_eq!(
            p("A eq 1 or B eq 2 and C eq 3"),
            "((A eq Int32(1)) or ((B eq Int32(2)) and (C eq Int32(3))))"
        );
        assert_eq!(p("not (A eq 1)"), "not((A eq Int32(1)))");
        assert_eq!(p("not A eq true"), "(not(A) eq Bool(true))");
        assert_eq!(
            p("A add 1 mul 2 eq 3"),
            "((A add (Int32(1) mul Int32(2))) eq Int32(3))"
        );
        assert_eq!(
            p("startswith(Name,'a') eq true"),
            "(startswith(Name,Str(\"a\")) eq Bool(true))"
        );
        assert_eq!(p("P/Id ne null"), "(P/Id ne Null)");
        assert_eq!(p("f()"), "f()");
        assert_eq!(p("-A eq 1"), "(-(A) eq Int32(1))");
    }

    fn height(ast: &Ast) -> usize {
        match ast {
            Ast::Lit(..) | Ast::Path(..) => 1,
            Ast::Call(_, args, _) => 1 + args.iter().map(height).max().unwrap_or(0),
            Ast::Not(a, _) | Ast::Neg(a, _) => 1 + height(a),
            Ast::Bin(_, l, r, _) => 1 + height(l).max(height(r)),
        }
    }

    fn assert_too_deep(text: &str) {
        let e = parse(text).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, ""), "{}", &text[..40]);
        assert!(
            e.message.contains("nested more than 100 levels"),
            "{}",
            e.message
        );
    }

    #[test]
    fn nesting_is_bounded() {
        assert_too_deep(&format!("{}A eq 1{}", "(".repeat(1000), ")".repeat(1000)));
        assert_too_deep(&"(".repeat(100_000));
        assert_too_deep(&format!("{}Flag", "not ".repeat(10_000)));
        assert_too_deep(&format!("{}1 eq A", "-".repeat(10_000)));
        assert_too_deep(&format!("{}A{}", "f(".repeat(1000), ")".repeat(1000)));
        // Height without parentheses: a left-associative arithmetic chain.
        assert_too_deep(&format!("A eq 1{}", " add 1".repeat(200)));
        let ok = |n: usize| format!("{}A eq 1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&ok(90)).is_ok());
    }

    #[test]
    fn and_or_chains_are_balanced_in_order() {
        let p = |s: &str| shape(&parse(s).unwrap());
        assert_eq!(
            p("A eq 1 or B eq 2 or C eq 3"),
            "(((A eq Int32(1)) or (B eq Int32(2))) or (C eq Int32(3)))"
        );
        assert_eq!(p("A and B and C and D"), "((A and B) and (C and D))");
        let chain = vec!["Count eq 1"; 5000].join(" or ");
        let ast = parse(&chain).unwrap();
        assert_eq!(height(&ast), 15, "13 levels of or, then the comparisons");
        let nested = format!("({chain}) and not ({chain})");
        assert!(parse(&nested).is_ok());
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "A eq",
            "(A eq 1",
            "A eq 1)",
            "A eq 1 AND B eq 2",
            "f(a b)",
            "A/",
            "A eq 1 2",
            "eq 1",
        ] {
            assert_eq!(parse(bad).unwrap_err().status, 400, "{bad:?}");
        }
        assert_eq!(
            parse("A eq").unwrap_err().message,
            "Expression expected at position 4."
        );
    }
}
