//! Building the fixed SQL text of `#[derive(Entity)]` at compile time: the derive writes the
//! statements as pieces (literal text, quoted identifiers, and column types it reads from the
//! field types' `FieldType::KIND`), and these `const fn`s join them into one `&'static str`.

/// A piece of statement text.
#[derive(Debug, Clone, Copy)]
pub enum Piece {
    /// Text written as is.
    Raw(&'static str),
    /// An identifier, written double-quoted with embedded quotes doubled
    /// (as [`super::quote_ident`] does).
    Ident(&'static str),
}

/// The length in bytes of `pieces` joined.
pub const fn len(pieces: &[Piece]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < pieces.len() {
        n += match pieces[i] {
            Piece::Raw(s) => s.len(),
            Piece::Ident(s) => {
                let bytes = s.as_bytes();
                let mut quoted = 2;
                let mut j = 0;
                while j < bytes.len() {
                    quoted += if bytes[j] == b'"' { 2 } else { 1 };
                    j += 1;
                }
                quoted
            }
        };
        i += 1;
    }
    n
}

/// `pieces` joined, as bytes; `N` is [`len`] of the same pieces.
pub const fn bytes<const N: usize>(pieces: &[Piece]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < pieces.len() {
        match pieces[i] {
            Piece::Raw(s) => {
                let b = s.as_bytes();
                let mut j = 0;
                while j < b.len() && at < N {
                    out[at] = b[j];
                    at += 1;
                    j += 1;
                }
            }
            Piece::Ident(s) => {
                let b = s.as_bytes();
                if at < N {
                    out[at] = b'"';
                    at += 1;
                }
                let mut j = 0;
                while j < b.len() {
                    if b[j] == b'"' && at < N {
                        out[at] = b'"';
                        at += 1;
                    }
                    if at < N {
                        out[at] = b[j];
                        at += 1;
                    }
                    j += 1;
                }
                if at < N {
                    out[at] = b'"';
                    at += 1;
                }
            }
        }
        i += 1;
    }
    out
}

/// The joined bytes as text (they are UTF-8: only whole `&str`s and ASCII quotes are joined;
/// anything else would read as empty text, which the tests comparing the fixed SQL with the
/// runtime-built text would show).
pub const fn text(bytes: &'static [u8]) -> &'static str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => "",
    }
}

/// `" NULL"` or `" NOT NULL"`.
pub const fn nullability(nullable: bool) -> &'static str {
    if nullable {
        " NULL"
    } else {
        " NOT NULL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_pieces_quoting_identifiers_like_the_runtime() {
        const P: &[Piece] = &[
            Piece::Raw("SELECT "),
            Piece::Ident("a\"b"),
            Piece::Raw(" FROM "),
            Piece::Ident("t€"),
        ];
        const N: usize = len(P);
        const B: [u8; N] = bytes::<N>(P);
        const T: &str = text(&B);
        assert_eq!(
            T,
            format!(
                "SELECT {} FROM {}",
                super::super::quote_ident("a\"b"),
                super::super::quote_ident("t€")
            )
        );
    }
}
