//! Authentication modes: none, HTTP Basic, a bearer token, or a claims-style cookie session.
//!
//! The session mode imitates CDMS behind ADFS (dialect §6) in one step: `GET /adfs/login` serves a
//! sign-in form whose inputs are named like ADFS's (`...UsernameTextBox`, `...PasswordTextBox`);
//! `POST /adfs/login` with those fields (any form field whose name contains `username`/`password`,
//! case-insensitively) or with JSON `{"user"|"username": .., "password": ..}` sets the session
//! cookie `MSISAuth`. A wrong password answers the form again (200) with the message in an element
//! whose id ends in `ErrorTextLabel`, as ADFS did; JSON logins get 401 instead. Requests without a
//! live session get what an expired CDMS session gave: by default 200 with the HTML sign-in page
//! (see [`ExpiredAnswer`]). Sessions end after their lifetime (measured on the emulator's clock) or
//! on [`Emulator::expire_sessions`](super::Emulator::expire_sessions).
//!
//! Credentials are never printed: `Debug` redacts them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The cookie carrying the session.
pub const SESSION_COOKIE: &str = "MSISAuth";

/// The sign-in path (at the server root, outside the organisation).
pub const LOGIN_PATH: &str = "/adfs/login";

/// How requests are authenticated.
#[derive(Clone, Default)]
pub enum Auth {
    /// Everything is allowed.
    #[default]
    None,
    /// `Authorization: Basic` with these credentials (the NTLM-era style); 401 otherwise.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <token>`; 401 otherwise.
    Bearer {
        /// The accepted token.
        token: String,
    },
    /// A cookie session from `POST /adfs/login`.
    Session(SessionAuth),
}

impl Auth {
    /// Basic authentication.
    pub fn basic(user: &str, password: &str) -> Self {
        Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// Bearer-token authentication.
    pub fn bearer(token: &str) -> Self {
        Auth::Bearer {
            token: token.to_owned(),
        }
    }

    /// Cookie sessions for one user (configure further with [`SessionAuth`]'s methods).
    pub fn session(user: &str, password: &str) -> Self {
        Auth::Session(SessionAuth::new(user, password))
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { user, .. } => {
                write!(f, "Auth::Basic {{ user: {user:?}, password: <redacted> }}")
            }
            Auth::Bearer { .. } => f.write_str("Auth::Bearer { token: <redacted> }"),
            Auth::Session(s) => write!(f, "Auth::{s:?}"),
        }
    }
}

/// What a request without a live session gets in session mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiredAnswer {
    /// 200 with the HTML sign-in page (what an expired CDMS claims session answered).
    #[default]
    LoginPage,
    /// 302 to the sign-in page (a client following redirects ends on the 200 HTML page).
    Redirect,
    /// 401.
    Unauthorized,
}

/// Settings of the cookie-session mode.
#[derive(Clone)]
pub struct SessionAuth {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) lifetime: Option<Duration>,
    pub(crate) expired: ExpiredAnswer,
}

impl SessionAuth {
    /// Sessions for `user`, without a lifetime limit, answering the sign-in page when expired.
    pub fn new(user: &str, password: &str) -> Self {
        SessionAuth {
            user: user.to_owned(),
            password: password.to_owned(),
            lifetime: None,
            expired: ExpiredAnswer::default(),
        }
    }

    /// Sessions end this long after sign-in (on the emulator's clock).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// What requests without a live session get.
    pub fn expired_answer(mut self, answer: ExpiredAnswer) -> Self {
        self.expired = answer;
        self
    }
}

impl std::fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("expired", &self.expired)
            .finish()
    }
}

impl From<SessionAuth> for Auth {
    fn from(s: SessionAuth) -> Self {
        Auth::Session(s)
    }
}

/// Live sessions: token → sign-in time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sessions {
    live: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session, returning its cookie value.
    pub fn start(&self, now: DateTime<Utc>) -> String {
        let mut rng = fastrand::Rng::new();
        let token: String = (0..32)
            .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
            .collect();
        self.lock().insert(token.clone(), now);
        token
    }

    /// Whether `token` names a live session; expired ones are forgotten.
    pub fn is_live(&self, token: &str, now: DateTime<Utc>, lifetime: Option<Duration>) -> bool {
        let mut live = self.lock();
        let Some(started) = live.get(token).copied() else {
            return false;
        };
        let expired = lifetime.is_some_and(|l| {
            chrono::TimeDelta::from_std(l).is_ok_and(|l| now.signed_duration_since(started) >= l)
        });
        if expired {
            live.remove(token);
        }
        !expired
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Standard base64 (for comparing `Authorization: Basic`).
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Escapes text for HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The ADFS-style sign-in page, optionally with an error message.
pub(crate) fn login_page(error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!(
            "<span id=\"ctl00_ContentPlaceHolder1_ErrorTextLabel\" class=\"error\">{}</span>",
            html_escape(e)
        )
    });
    format!(
        "<!DOCTYPE html>\n<html><head><title>Sign In</title></head><body>\n\
         <form method=\"post\" action=\"{LOGIN_PATH}\" id=\"aspnetForm\">\n\
         <input type=\"hidden\" name=\"__VIEWSTATE\" value=\"emulated\" />\n\
         <label>User name</label><input name=\"ctl00$ContentPlaceHolder1$UsernameTextBox\" type=\"text\" />\n\
         <label>Password</label><input name=\"ctl00$ContentPlaceHolder1$PasswordTextBox\" type=\"password\" />\n\
         <input type=\"submit\" name=\"ctl00$ContentPlaceHolder1$SubmitButton\" value=\"Sign In\" />\n\
         {error}\n</form></body></html>\n"
    )
}

/// Reads user and password out of a sign-in body (form or JSON).
pub(crate) fn credentials(content_type: &str, body: &[u8]) -> Option<(String, String)> {
    if content_type.contains("json") {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let user = v
            .get("user")
            .or_else(|| v.get("username"))?
            .as_str()?
            .to_owned();
        let password = v.get("password")?.as_str()?.to_owned();
        return Some((user, password));
    }
    let text = std::str::from_utf8(body).ok()?;
    let pairs = super::query::decode_pairs(text).ok()?;
    let find = |needle: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase().contains(needle))
            .map(|(_, v)| v.clone())
    };
    Some((find("username")?, find("password")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!(
            "{:?} {:?} {:?}",
            Auth::basic("u", "s3cret"),
            Auth::bearer("t0ken"),
            Auth::session("u", "s3cret")
        );
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken"),
            "{shown}"
        );
    }

    #[test]
    fn credentials_from_forms_and_json() {
        let form = b"__VIEWSTATE=x&ctl00%24ContentPlaceHolder1%24UsernameTextBox=me&ctl00%24ContentPlaceHolder1%24PasswordTextBox=p%26w";
        assert_eq!(
            credentials("application/x-www-form-urlencoded", form),
            Some(("me".into(), "p&w".into()))
        );
        assert_eq!(
            credentials("application/json", br#"{"user":"me","password":"pw"}"#),
            Some(("me".into(), "pw".into()))
        );
        assert_eq!(credentials("application/json", br#"{"user":"me"}"#), None);
    }

    #[test]
    fn sessions_expire_by_lifetime() {
        let sessions = Sessions::default();
        let t0 = Utc::now();
        let token = sessions.start(t0);
        let life = Some(Duration::from_secs(60));
        assert!(sessions.is_live(&token, t0 + chrono::TimeDelta::seconds(59), life));
        assert!(!sessions.is_live(&token, t0 + chrono::TimeDelta::seconds(60), life));
        assert!(
            !sessions.is_live(&token, t0, life),
            "forgotten once expired"
        );
        assert!(!sessions.is_live("nope", t0, None));
    }
}
