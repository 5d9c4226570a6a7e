//! Credentials and the cookie session.

use std::sync::RwLock;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, SET_COOKIE};

/// A credential: `Debug` and `Display` print `***`, so it never reaches logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The credential itself (for building a request only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

/// How the client authenticates.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Basic` on every request (the NTLM-era on-premises style).
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>` on every request.
    Bearer(Secret),
    /// A claims (ADFS-style) cookie session: the client signs in by POSTing the sign-in form's
    /// user name and password fields to `login_path` (an absolute path on the server, e.g.
    /// `/adfs/login`), keeps the cookies the answer sets, and sends them with every request.
    /// An expired session (401, a redirect, or `200` with an HTML sign-in page instead of JSON)
    /// signs in again once and repeats the request.
    CookieSession {
        /// The sign-in path on the server (not below the organisation).
        login_path: String,
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
}

impl Auth {
    /// Refuses a sign-in mode without the credentials it needs (an empty user name, password or
    /// token): a configuration error now rather than a refused sign-in at the first request.
    pub(crate) fn check(&self) -> Result<(), super::CdmsError> {
        let missing = |what: &str, mode: &str| super::CdmsError::Config {
            message: format!("{mode} needs a {what}, and it is empty"),
        };
        match self {
            Auth::None => Ok(()),
            Auth::Basic { user, password } | Auth::CookieSession { user, password, .. } => {
                let mode = if matches!(self, Auth::Basic { .. }) {
                    "HTTP Basic sign-in"
                } else {
                    "the form sign-in"
                };
                if user.trim().is_empty() {
                    Err(missing("user name", mode))
                } else if password.expose().is_empty() {
                    Err(missing("password", mode))
                } else {
                    Ok(())
                }
            }
            Auth::Bearer(token) if token.expose().trim().is_empty() => {
                Err(missing("token", "bearer authentication"))
            }
            Auth::Bearer(_) => Ok(()),
        }
    }
}

/// The ADFS sign-in form's field names (the server matches `username`/`password` in them).
pub(crate) const USER_FIELD: &str = "ctl00$ContentPlaceHolder1$UsernameTextBox";
pub(crate) const PASSWORD_FIELD: &str = "ctl00$ContentPlaceHolder1$PasswordTextBox";

/// The cookies of the current session and how many sign-ins produced them.
#[derive(Debug, Default)]
pub(crate) struct Session {
    state: RwLock<(Option<Secret>, u64)>,
}

impl Session {
    /// The `Cookie` header value and the session generation it belongs to.
    pub fn current(&self) -> (Option<Secret>, u64) {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Installs the cookies of a new sign-in.
    pub fn replace(&self, cookie: Secret) -> u64 {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.0 = Some(cookie);
        state.1 += 1;
        state.1
    }
    /// The generation of the current cookies.
    pub fn generation(&self) -> u64 {
        self.state.read().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// The `name=value` pairs of every `Set-Cookie` header, as a `Cookie` header value.
pub(crate) fn cookies_from(headers: &HeaderMap) -> Option<String> {
    let pairs: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, _)| !name.trim().is_empty())
        })
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// A sensitive header value (hidden from `Debug` of the request).
pub(crate) fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// The form body of a sign-in.
pub(crate) fn login_form(user: &str, password: &Secret) -> String {
    let enc = |s: &str| super::url::encode_component(s);
    format!(
        "{}={}&{}={}",
        enc(USER_FIELD),
        enc(user),
        enc(PASSWORD_FIELD),
        enc(password.expose())
    )
}

/// Whether an answer is an HTML page (a sign-in page where JSON was expected).
/// An XML document that says so (`$metadata`, `application/xml`) is not one.
pub(crate) fn is_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if content_type.contains("html") {
        return true;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    first == Some(&b'<') && !content_type.contains("xml")
}

/// The text of the sign-in page's error element (`id="…ErrorTextLabel"`), if there is one.
pub(crate) fn login_error(body: &str) -> Option<String> {
    let at = body.find("ErrorTextLabel")?;
    let rest = &body[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    let text = rest[start..end].trim();
    (!text.is_empty()).then(|| {
        text.replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
    })
}
