//! String comparison the way a CRM 2011 on-premises organisation database does it.
//!
//! CRM orgs default to the SQL Server collation `Latin1_General_CI_AI`: case- and
//! accent-insensitive. The emulator approximates it by *folding* both sides: lower-case, then
//! strip the diacritics of Latin-1 and Latin Extended-A letters (`É`→`e`, `ł`→`l`) and expand the
//! ligatures SQL Server treats as equal to two letters (`ß`→`ss`, `æ`→`ae`, `œ`→`oe`, `þ`→`th`).
//! Combining marks (U+0300–U+036F) are dropped, so decomposed input folds the same as composed.
//!
//! Equality and ordering additionally ignore trailing spaces, as SQL Server's `=` does (ANSI
//! padding); `substringof`/`startswith`/`endswith` (SQL `LIKE`) do not. Ordering compares the
//! folded text code point by code point, which matches the collation for letters and digits but
//! not for every punctuation mark (a documented approximation).

use std::cmp::Ordering;

/// Latin Extended-A (U+0100..=U+017F) as runs of code points folding to the same text.
const LATIN_EXT_A: &[(&str, u8)] = &[
    ("a", 6),
    ("c", 8),
    ("d", 4),
    ("e", 10),
    ("g", 8),
    ("h", 4),
    ("i", 10),
    ("ij", 2),
    ("j", 2),
    ("k", 3),
    ("l", 10),
    ("n", 9),
    ("o", 6),
    ("oe", 2),
    ("r", 6),
    ("s", 8),
    ("t", 6),
    ("u", 12),
    ("w", 2),
    ("y", 3),
    ("z", 6),
    ("s", 1),
];

/// Latin-1 Supplement letters U+00C0..=U+00DF (the lower-case block U+00E0.. maps alike).
const LATIN_1: &[(&str, u8)] = &[
    ("a", 6),
    ("ae", 1),
    ("c", 1),
    ("e", 4),
    ("i", 4),
    ("d", 1),
    ("n", 1),
    ("o", 5),
    ("", 1), // × / ÷: not a letter, kept as is (handled by the caller)
    ("o", 1),
    ("u", 4),
    ("y", 1),
    ("th", 1),
    ("ss", 1), // ß; U+00FF ÿ is special-cased
];

fn run_lookup(table: &[(&'static str, u8)], mut offset: u32) -> Option<&'static str> {
    for (text, len) in table {
        let len = u32::from(*len);
        if offset < len {
            return Some(text);
        }
        offset -= len;
    }
    None
}

/// Appends the folded form of `c` to `out`.
fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let cp = u32::from(c);
    let mapped = match cp {
        0xD7 | 0xF7 => None,
        0xFF => Some("y"),
        0xC0..=0xDF => run_lookup(LATIN_1, cp - 0xC0),
        0xE0..=0xFE => run_lookup(LATIN_1, cp - 0xE0),
        0x100..=0x17F => run_lookup(LATIN_EXT_A, cp - 0x100),
        0x300..=0x36F => Some(""),
        _ => None,
    };
    match mapped {
        Some(text) => out.push_str(text),
        None => out.extend(c.to_lowercase()),
    }
}

/// The folded (case- and accent-insensitive) form of `s`.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// `s` without trailing spaces (SQL Server ignores them in `=` and ordering).
pub(crate) fn unpadded(s: &str) -> &str {
    s.trim_end_matches(' ')
}

/// Compares two folded strings as the collation orders them.
pub(crate) fn cmp_folded(a: &str, b: &str) -> Ordering {
    unpadded(a).cmp(unpadded(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Ångström"), "angstrom");
        assert_eq!(fold("CAFÉ Crème"), "cafe creme");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Œuvre Æther"), "oeuvre aether");
        assert_eq!(fold("ÿ Ÿ ý Ý"), "y y y y");
        assert_eq!(fold("Þór"), "thor");
        assert_eq!(fold("Dvořák Škoda"), "dvorak skoda");
        assert_eq!(fold("e\u{301}cole"), "ecole");
        assert_eq!(fold("2×3÷1"), "2×3÷1");
        assert_eq!(fold("ΣΑΣ"), "σασ");
        assert_eq!(fold("O'Brien"), "o'brien");
    }

    #[test]
    fn every_latin_ext_a_letter_folds_to_ascii() {
        for cp in 0x100u32..=0x17F {
            let c = char::from_u32(cp).unwrap();
            let folded = fold(&c.to_string());
            assert!(!folded.is_empty(), "U+{cp:04X} {c} folded to nothing");
            assert!(
                folded.chars().all(|f| f.is_ascii_lowercase()),
                "{c} -> {folded}"
            );
        }
    }

    #[test]
    fn latin1_letters_fold_to_ascii() {
        for cp in 0xC0u32..=0xFF {
            if cp == 0xD7 || cp == 0xF7 {
                continue;
            }
            let c = char::from_u32(cp).unwrap();
            let folded = fold(&c.to_string());
            assert!(
                folded.chars().all(|f| f.is_ascii_lowercase()),
                "{c} -> {folded}"
            );
        }
        assert_eq!(fold("ÀÁÂÃÄÅ"), "aaaaaa");
        assert_eq!(fold("ÈÉÊËÌÍÎÏ"), "eeeeiiii");
        assert_eq!(fold("ÐÑÒÓÔÕÖØÙÚÛÜÝ"), "dnoooooouuuuy");
    }

    #[test]
    fn trailing_spaces_are_ignored_by_ordering() {
        assert_eq!(cmp_folded("abc  ", "abc"), Ordering::Equal);
        assert_eq!(cmp_folded(" abc", "abc"), Ordering::Less);
        assert_eq!(cmp_folded("abd", "abc "), Ordering::Greater);
    }
}
