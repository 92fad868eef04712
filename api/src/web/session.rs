//! Sessions of the web pages, kept in memory: a random session id in an
//! HttpOnly, Secure, SameSite=Strict cookie maps to the principal of the
//! token that signed in, with a CSRF token of its own. A restart of the
//! server signs everyone out.
//!
//! - The map is keyed by the SHA-256 of the session id, so a lookup never
//!   compares the secret itself.
//! - A session ends after two hours without a request, twelve hours after
//!   sign-in, at sign-out, or as soon as its token is revoked or expires
//!   (checked on every request).
//! - Every POST carries the session's CSRF token in a hidden field (`_csrf`)
//!   and a one-time form id (`_formulaire`): a form sent twice (a double
//!   click, a reload) is answered with the first answer and writes nothing
//!   more.
//! - The sign-in form, before any session, carries a token that must match
//!   a short-lived cookie of its own (double submit), and a successful
//!   sign-in always starts a new session (no fixation).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};

use crate::http::auth::Principal;

pub const SESSION_COOKIE: &str = "wl_session";
pub const SIGN_IN_COOKIE: &str = "wl_connexion";
/// The hidden field of every form with the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// The hidden field with a form's one-time id.
pub const FORM_ID_FIELD: &str = "_formulaire";

/// A session ends after this long without a request...
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// ...and this long after sign-in in any case.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept at once; the least recently used goes first.
const MAX_SESSIONS: usize = 10_000;
/// Forms remembered per session, for their second sending.
const MAX_FORMS: usize = 64;

/// A message shown once, on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash(pub String);

/// The last chain verification a session asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReport {
    pub ledger: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub intact: bool,
    pub size: u64,
    pub head: String,
    pub checkpoints: usize,
    pub broken_at: Option<u64>,
    pub reason: Option<String>,
}

struct Session<P> {
    principal: P,
    csrf: String,
    created: Instant,
    last_seen: Instant,
    flash: Option<Flash>,
    /// Form id -> where its answer sent the browser.
    forms: VecDeque<(String, String)>,
    verification: Option<VerificationReport>,
}

/// A signed-in visitor's session, as a request sees it.
#[derive(Debug, Clone)]
pub struct SessionView<P = Principal> {
    /// The map's key (SHA-256 of the id), never the id itself.
    pub key: String,
    pub principal: P,
    pub csrf: String,
}

/// The sessions alive, each with the principal `P` it signed in as.
pub struct Sessions<P = Principal> {
    map: Mutex<HashMap<String, Session<P>>>,
}

impl<P> Default for Sessions<P> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> Option<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).ok()?;
    Some(hex::encode(buf))
}

fn key_of(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl<P> Session<P> {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.last_seen) > IDLE || now.duration_since(self.created) > LIFETIME
    }
}

impl<P: Clone> Sessions<P> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session<P>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session: returns the id for the cookie.
    pub fn create(&self, principal: P) -> Option<String> {
        let id = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| !s.expired(now));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            key_of(&id),
            Session {
                principal,
                csrf,
                created: now,
                last_seen: now,
                flash: None,
                forms: VecDeque::new(),
                verification: None,
            },
        );
        Some(id)
    }

    /// The session of a cookie's id, if it is alive (and touches it).
    pub fn find(&self, id: &str) -> Option<SessionView<P>> {
        let key = key_of(id);
        let now = Instant::now();
        let mut map = self.lock();
        let session = map.get_mut(&key)?;
        if session.expired(now) {
            map.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(SessionView {
            key,
            principal: session.principal.clone(),
            csrf: session.csrf.clone(),
        })
    }

    pub fn end(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn set_flash(&self, key: &str, message: impl Into<String>) {
        if let Some(s) = self.lock().get_mut(key) {
            s.flash = Some(Flash(message.into()));
        }
    }

    pub fn take_flash(&self, key: &str) -> Option<Flash> {
        self.lock().get_mut(key).and_then(|s| s.flash.take())
    }

    /// Where a form already sent in this session led, if it was.
    pub fn answered(&self, key: &str, form_id: &str) -> Option<String> {
        let map = self.lock();
        let session = map.get(key)?;
        session
            .forms
            .iter()
            .find(|(id, _)| id == form_id)
            .map(|(_, to)| to.clone())
    }

    /// Remembers that a form was answered by sending the browser to `to`.
    pub fn remember(&self, key: &str, form_id: &str, to: &str) {
        if form_id.is_empty() {
            return;
        }
        if let Some(s) = self.lock().get_mut(key) {
            if s.forms.len() >= MAX_FORMS {
                s.forms.pop_front();
            }
            s.forms.push_back((form_id.to_owned(), to.to_owned()));
        }
    }

    pub fn set_verification(&self, key: &str, report: VerificationReport) {
        if let Some(s) = self.lock().get_mut(key) {
            s.verification = Some(report);
        }
    }

    pub fn verification(&self, key: &str) -> Option<VerificationReport> {
        self.lock().get(key).and_then(|s| s.verification.clone())
    }
}

/// The value of a cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` for `name`: HttpOnly, Secure, SameSite=Strict, for `path`,
/// kept `max_age` (0: deleted).
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: Duration) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests' principal: any value will do.
    fn principal() -> String {
        "operator 0123456789ab".to_owned()
    }

    #[test]
    fn a_session_is_found_by_its_id_only() {
        let sessions = Sessions::<String>::default();
        let id = sessions.create(principal()).expect("randomness");
        let found = sessions.find(&id).expect("the session");
        assert_eq!(found.principal, principal());
        assert_eq!(found.csrf.len(), 64);
        assert_ne!(found.key, id, "the map keeps a digest, not the id");
        assert!(sessions.find(&found.key).is_none());
        assert!(sessions.find("not-a-session").is_none());
        sessions.end(&found.key);
        assert!(sessions.find(&id).is_none());
    }

    #[test]
    fn a_form_is_answered_once() {
        let sessions = Sessions::<String>::default();
        let id = sessions.create(principal()).expect("randomness");
        let key = sessions.find(&id).expect("the session").key;
        assert_eq!(sessions.answered(&key, "f1"), None);
        sessions.remember(&key, "f1", "/parcs/parc/espace");
        assert_eq!(
            sessions.answered(&key, "f1").as_deref(),
            Some("/parcs/parc/espace")
        );
        sessions.set_flash(&key, "fait");
        assert_eq!(sessions.take_flash(&key), Some(Flash("fait".into())));
        assert_eq!(sessions.take_flash(&key), None);
    }

    #[test]
    fn cookies_are_read_and_set_strictly() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; wl_session=abc ; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        let set = set_cookie(SESSION_COOKIE, "abc", "/", LIFETIME);
        let text = set.to_str().expect("ASCII");
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Max-Age=43200"] {
            assert!(text.contains(part), "{text}");
        }
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
    }
}
