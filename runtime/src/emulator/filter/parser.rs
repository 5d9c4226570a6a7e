//! The OData V2 `$filter` grammar as WCF Data Services parses it, before CRM decides what it can
//! translate: precedence `or` < `and` < comparison < `add`/`sub` < `mul`/`div`/`mod` < unary
//! (`not`, `-`) < primary. Keywords are lower case and case-sensitive.

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

pub(crate) struct Parser {
    toks: Vec<Token>,
    at: usize,
}

impl Parser {
    pub fn new(toks: Vec<Token>) -> Self {
        Parser { toks, at: 0 }
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
        let ast = self.expr()?;
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

    pub fn expr(&mut self) -> Result<Ast, ApiError> {
        self.binary(0)
    }

    fn binary(&mut self, level: usize) -> Result<Ast, ApiError> {
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
        let mut left = self.binary(level + 1)?;
        loop {
            let op = self
                .keyword()
                .and_then(|w| LEVELS[level].iter().find(|(name, _)| *name == w))
                .map(|(_, op)| *op);
            let Some(op) = op else { return Ok(left) };
            let pos = self.bump().pos;
            let right = self.binary(level + 1)?;
            left = Ast::Bin(op, Box::new(left), Box::new(right), pos);
        }
    }

    fn unary(&mut self) -> Result<Ast, ApiError> {
        if self.keyword() == Some("not") {
            let pos = self.bump().pos;
            return Ok(Ast::Not(Box::new(self.unary()?), pos));
        }
        if self.peek().tok == Tok::Minus {
            let pos = self.bump().pos;
            return Ok(Ast::Neg(Box::new(self.unary()?), pos));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Ast, ApiError> {
        let t = self.bump();
        match t.tok {
            Tok::Lit(lit) => Ok(Ast::Lit(lit, t.pos)),
            Tok::LParen => {
                let inner = self.expr()?;
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
                if self.peek().tok != Tok::RParen {
                    loop {
                        args.push(self.expr()?);
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
                Ok(Ast::Call(name, args, t.pos))
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
                Ok(Ast::Path(path, t.pos))
            }
            Tok::Eof => Err(ApiError::bad_request(format!(
                "Expression expected at position {}.",
                t.pos
            ))),
            _ => Err(syntax_error(t.pos)),
        }
    }
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
