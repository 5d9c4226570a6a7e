//! Hiding credentials in URLs before they are shown: in errors, logs, `Debug` output and
//! reports. Works on malformed URLs too (they are the ones echoed in error messages).

/// `url` with the user-info part (`user:password@`) of its authority replaced by `***@`:
/// `postgres://app:s3cret@db:5432/x` → `postgres://***@db:5432/x`. Anything that does not look
/// like a URL with credentials is returned unchanged.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The authority ends at the first `/`, `?` or `#`; its user info ends at its last `@`.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn user_info_is_hidden() {
        let cases = [
            (
                "postgres://app:s3cret@db:5432/x",
                "postgres://***@db:5432/x",
            ),
            (
                "https://u:p%40ss@crm.example.org/UKTI",
                "https://***@crm.example.org/UKTI",
            ),
            ("http://u:p@ss@host", "http://***@host"),
            ("http://user@host/a@b", "http://***@host/a@b"),
            ("http://u:p@[::1/bad", "http://***@[::1/bad"),
            ("u:secret@host:5432/db", "***@host:5432/db"),
            ("http://host/path?x=a@b", "http://host/path?x=a@b"),
            (
                "sqlite://cdms-sync.sqlite?mode=rwc",
                "sqlite://cdms-sync.sqlite?mode=rwc",
            ),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
        }
    }
}
