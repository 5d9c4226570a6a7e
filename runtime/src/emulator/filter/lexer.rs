//! Tokens of OData V2 URI expressions (`$filter`, `$orderby`, skip tokens), as WCF Data Services
//! lexes them. Positions are character offsets into the expression, as in WCF's messages.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::emulator::error::ApiError;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Str(String),
    Guid(Uuid),
    /// Milliseconds since the epoch, UTC.
    DateTime(i64),
    Int32(i32),
    Int64(i64),
    Decimal(Decimal),
    Double(f64),
}

impl Literal {
    /// The CLR type name WCF uses in its error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Literal::Null => "null",
            Literal::Bool(_) => "System.Boolean",
            Literal::Str(_) => "System.String",
            Literal::Guid(_) => "System.Guid",
            Literal::DateTime(_) => "System.DateTime",
            Literal::Int32(_) => "System.Int32",
            Literal::Int64(_) => "System.Int64",
            Literal::Decimal(_) => "System.Decimal",
            Literal::Double(_) => "System.Double",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Lit(Literal),
    LParen,
    RParen,
    Comma,
    Slash,
    Star,
    Minus,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

pub(crate) fn syntax_error(pos: usize) -> ApiError {
    ApiError::bad_request(format!("Syntax error at position {pos}."))
}

/// Splits `text` into tokens (ending with `Eof`).
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, ApiError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => single(&mut i, Tok::LParen),
            ')' => single(&mut i, Tok::RParen),
            ',' => single(&mut i, Tok::Comma),
            '/' => single(&mut i, Tok::Slash),
            '*' => single(&mut i, Tok::Star),
            '\'' => Tok::Lit(Literal::Str(quoted(&chars, &mut i, text)?)),
            c if c.is_ascii_digit() => number(&chars, &mut i)?,
            '-' if chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => number(&chars, &mut i)?,
            '-' => single(&mut i, Tok::Minus),
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    typed_literal(&word, &chars, &mut i, start, text)?
                } else {
                    match word.as_str() {
                        "null" => Tok::Lit(Literal::Null),
                        "true" => Tok::Lit(Literal::Bool(true)),
                        "false" => Tok::Lit(Literal::Bool(false)),
                        _ => Tok::Ident(word),
                    }
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Syntax error: character '{other}' is not valid at position {start}."
                )))
            }
        };
        out.push(Token { tok, pos: start });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: chars.len(),
    });
    Ok(out)
}

fn single(i: &mut usize, tok: Tok) -> Tok {
    *i += 1;
    tok
}

/// A `'...'` string with `''` for a quote; `i` is at the opening quote.
fn quoted(chars: &[char], i: &mut usize, text: &str) -> Result<String, ApiError> {
    let start = *i;
    let mut s = String::new();
    *i += 1;
    loop {
        match chars.get(*i) {
            None => {
                return Err(ApiError::bad_request(format!(
                    "There is an unterminated string literal at position {start} in '{text}'."
                )))
            }
            Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                s.push('\'');
                *i += 2;
            }
            Some('\'') => {
                *i += 1;
                return Ok(s);
            }
            Some(c) => {
                s.push(*c);
                *i += 1;
            }
        }
    }
}

fn typed_literal(
    prefix: &str,
    chars: &[char],
    i: &mut usize,
    start: usize,
    text: &str,
) -> Result<Tok, ApiError> {
    let body = quoted(chars, i, text)?;
    let raw: String = chars[start..*i].iter().collect();
    let unrecognized = |edm: &str| {
        ApiError::bad_request(format!(
            "Unrecognized '{edm}' literal '{raw}' in '{start}'."
        ))
    };
    match prefix {
        "guid" => {
            if body.len() != 36 {
                return Err(unrecognized("Edm.Guid"));
            }
            let id = Uuid::parse_str(&body).map_err(|_| unrecognized("Edm.Guid"))?;
            Ok(Tok::Lit(Literal::Guid(id)))
        }
        "datetime" => parse_datetime_literal(&body)
            .map(|ms| Tok::Lit(Literal::DateTime(ms)))
            .ok_or_else(|| unrecognized("Edm.DateTime")),
        "datetimeoffset" | "time" | "X" | "binary" => Err(ApiError::bad_request(format!(
            "The literal '{raw}' at position {start} is of a type this service does not \
             support in $filter; use datetime'yyyy-mm-ddThh:mm:ss' for dates."
        ))),
        _ => Err(syntax_error(start)),
    }
}

/// `yyyy-mm-ddThh:mm[:ss[.fffffff]][Z]`, two-digit fields, read as UTC.
pub(crate) fn parse_datetime_literal(body: &str) -> Option<i64> {
    let s = body.strip_suffix('Z').unwrap_or(body);
    let b = s.as_bytes();
    let shape_ok = b.len() >= 16
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]
            .iter()
            .all(|&k| b[k].is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let rest = &s[16..];
    let full = match rest.len() {
        0 => format!("{s}:00"),
        3 if rest.starts_with(':') => s.to_owned(),
        n if (5..=11).contains(&n) && rest.as_bytes()[3] == b'.' => s.to_owned(),
        _ => return None,
    };
    if !full[16..]
        .bytes()
        .all(|c| c.is_ascii_digit() || c == b':' || c == b'.')
    {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(&full, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(t.and_utc().timestamp_millis())
}

fn number(chars: &[char], i: &mut usize) -> Result<Tok, ApiError> {
    let start = *i;
    if chars[*i] == '-' {
        *i += 1;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    digits(i);
    let mut fractional = false;
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        if !digits(i) {
            return Err(syntax_error(start));
        }
        fractional = true;
    }
    if matches!(chars.get(*i), Some('e' | 'E')) {
        *i += 1;
        if matches!(chars.get(*i), Some('+' | '-')) {
            *i += 1;
        }
        if !digits(i) {
            return Err(syntax_error(start));
        }
        fractional = true;
    }
    let text: String = chars[start..*i].iter().collect();
    let suffix = chars.get(*i).copied().filter(|c| c.is_alphanumeric());
    if suffix.is_some() {
        *i += 1;
        if chars
            .get(*i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            return Err(syntax_error(start));
        }
    }
    let bad = || syntax_error(start);
    let lit = match suffix {
        Some('L' | 'l') if !fractional => Literal::Int64(text.parse().map_err(|_| bad())?),
        Some('M' | 'm') => Literal::Decimal(
            text.parse::<Decimal>()
                .ok()
                .or_else(|| Decimal::from_scientific(&text).ok())
                .ok_or_else(bad)?,
        ),
        Some('D' | 'd' | 'F' | 'f') => Literal::Double(text.parse().map_err(|_| bad())?),
        Some(_) => return Err(bad()),
        None if fractional => Literal::Double(text.parse().map_err(|_| bad())?),
        None => match text.parse::<i32>() {
            Ok(v) => Literal::Int32(v),
            Err(_) => Literal::Int64(text.parse().map_err(|_| bad())?),
        },
    };
    Ok(Tok::Lit(lit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals() {
        use Literal::*;
        assert_eq!(
            toks("'O''Brien'"),
            vec![Tok::Lit(Str("O'Brien".into())), Tok::Eof]
        );
        assert_eq!(toks("42")[0], Tok::Lit(Int32(42)));
        assert_eq!(toks("-42")[0], Tok::Lit(Int32(-42)));
        assert_eq!(toks("3000000000")[0], Tok::Lit(Int64(3_000_000_000)));
        assert_eq!(toks("42L")[0], Tok::Lit(Int64(42)));
        assert_eq!(
            toks("12.50M")[0],
            Tok::Lit(Decimal("12.50".parse().unwrap()))
        );
        assert_eq!(toks("1.5")[0], Tok::Lit(Double(1.5)));
        assert_eq!(toks("1.5d")[0], Tok::Lit(Double(1.5)));
        assert_eq!(toks("1e3")[0], Tok::Lit(Double(1000.0)));
        assert_eq!(
            toks("true false null"),
            vec![
                Tok::Lit(Bool(true)),
                Tok::Lit(Bool(false)),
                Tok::Lit(Null),
                Tok::Eof
            ]
        );
        let g = "dff27d1f-a61b-4bfe-a203-b2e5a36cda0e";
        assert_eq!(
            toks(&format!("guid'{g}'"))[0],
            Tok::Lit(Guid(g.parse().unwrap()))
        );
        assert_eq!(
            toks("datetime'2016-01-31T13:05:09'")[0],
            Tok::Lit(DateTime(1_454_245_509_000))
        );
        assert_eq!(
            toks("datetime'2016-01-31T13:05'")[0],
            Tok::Lit(DateTime(1_454_245_500_000))
        );
        assert_eq!(
            toks("datetime'2016-01-31T13:05:09Z'")[0],
            Tok::Lit(DateTime(1_454_245_509_000))
        );
        assert_eq!(
            toks("datetime'2016-01-31T13:05:09.5'")[0],
            Tok::Lit(DateTime(1_454_245_509_500))
        );
    }

    #[test]
    fn malformed_literals() {
        let e = lex("ModifiedOn gt datetime'2016-1-31T13:05'").unwrap_err();
        assert_eq!(
            e.message,
            "Unrecognized 'Edm.DateTime' literal 'datetime'2016-1-31T13:05'' in '14'."
        );
        for bad in [
            "datetime'2016-13-01T00:00'",
            "datetime'2016-01-31'",
            "datetime'2016-01-31T13:05:09+01:00'",
        ] {
            assert!(
                lex(bad)
                    .unwrap_err()
                    .message
                    .starts_with("Unrecognized 'Edm.DateTime'"),
                "{bad}"
            );
        }
        assert!(lex("guid'1234'").unwrap_err().message.contains("Edm.Guid"));
        assert!(lex("'open").unwrap_err().message.contains("unterminated"));
        assert!(lex("datetimeoffset'2016-01-31T13:05:09Z'").is_err());
        assert!(lex("Name eq 'a' & x")
            .unwrap_err()
            .message
            .contains("character '&'"));
        assert!(lex("12abc").is_err());
        assert!(lex("1.").is_err());
        assert!(lex("1.5L").is_err());
    }

    #[test]
    fn punctuation_and_positions() {
        let t = lex("startswith(Name, 'a')").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("startswith".into()));
        assert_eq!(t[1].tok, Tok::LParen);
        assert_eq!(t[4].pos, 17);
        assert_eq!(toks("A/Id")[1], Tok::Slash);
    }
}
