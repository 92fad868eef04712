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
//! - The sign-in form, before any session, carries a value that must be the
//!   HMAC-SHA256, by a key this server drew at its start and holds in
//!   memory only, of a short-lived cookie of its own (random, with its
//!   expiry): a value and a cookie an attacker chose never match. A
//!   successful sign-in always starts a new session (no fixation).
//! - A token holds at most [`MAX_SESSIONS_PER_TOKEN`] sessions: a new
//!   sign-in with it ends the one it used least lately, never another
//!   token's. Past [`MAX_SESSIONS`] in all, a sign-in is refused until
//!   sessions end: signing someone else out to make room would let anyone
//!   holding enough tokens sign everyone out.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};

use windledger_api::auth::Principal;

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
/// Most sessions kept at once: past it, sign-ins are refused.
pub const MAX_SESSIONS: usize = 50_000;
/// Most sessions of one token at once: its least recently used goes first.
pub const MAX_SESSIONS_PER_TOKEN: usize = 20;
/// How long a sign-in form may be sent after it was shown.
pub const SIGN_IN_FORM_LIFETIME: Duration = Duration::from_secs(3600);
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
    /// Its token's id.
    owner: String,
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
    map: Mutex<Map<P>>,
}

struct Map<P> {
    /// By SHA-256 of the session id.
    sessions: HashMap<String, Session<P>>,
    /// Each token's sessions' keys.
    by_owner: HashMap<String, Vec<String>>,
}

impl<P> Map<P> {
    fn remove(&mut self, key: &str) {
        let Some(session) = self.sessions.remove(key) else {
            return;
        };
        if let Some(keys) = self.by_owner.get_mut(&session.owner) {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.by_owner.remove(&session.owner);
            }
        }
    }
}

impl<P> Default for Sessions<P> {
    fn default() -> Self {
        Self {
            map: Mutex::new(Map {
                sessions: HashMap::new(),
                by_owner: HashMap::new(),
            }),
        }
    }
}

/// Whose sessions count together: a token's.
pub trait Owner {
    fn owner(&self) -> &str;
}

impl Owner for Principal {
    fn owner(&self) -> &str {
        &self.token_id
    }
}

/// Why no session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSession {
    /// No randomness for its id.
    NoRandomness,
    /// [`MAX_SESSIONS`] are alive.
    Full,
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

impl<P: Clone + Owner> Sessions<P> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Map<P>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session: returns the id for the cookie. The principal's
    /// token keeps at most [`MAX_SESSIONS_PER_TOKEN`]: its least recently
    /// used ends if need be. Past [`MAX_SESSIONS`], refused.
    pub fn create(&self, principal: P) -> Result<String, NoSession> {
        let id = random_token().ok_or(NoSession::NoRandomness)?;
        let csrf = random_token().ok_or(NoSession::NoRandomness)?;
        let now = Instant::now();
        let owner = principal.owner().to_owned();
        let mut map = self.lock();
        let mine = map.by_owner.get(&owner).cloned().unwrap_or_default();
        for key in &mine {
            if map.sessions.get(key).is_some_and(|s| s.expired(now)) {
                map.remove(key);
            }
        }
        let mut mine: Vec<(Instant, String)> = map
            .by_owner
            .get(&owner)
            .into_iter()
            .flatten()
            .filter_map(|k| map.sessions.get(k).map(|s| (s.last_seen, k.clone())))
            .collect();
        mine.sort();
        let surplus = (mine.len() + 1).saturating_sub(MAX_SESSIONS_PER_TOKEN);
        for (_, key) in mine.iter().take(surplus) {
            map.remove(key);
        }
        if map.sessions.len() >= MAX_SESSIONS {
            let expired: Vec<String> = map
                .sessions
                .iter()
                .filter(|(_, s)| s.expired(now))
                .map(|(k, _)| k.clone())
                .collect();
            for key in &expired {
                map.remove(key);
            }
            if map.sessions.len() >= MAX_SESSIONS {
                return Err(NoSession::Full);
            }
        }
        let key = key_of(&id);
        map.by_owner
            .entry(owner.clone())
            .or_default()
            .push(key.clone());
        map.sessions.insert(
            key,
            Session {
                principal,
                owner,
                csrf,
                created: now,
                last_seen: now,
                flash: None,
                forms: VecDeque::new(),
                verification: None,
            },
        );
        Ok(id)
    }

    /// Sessions alive (or expired and not yet dropped).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// The session of a cookie's id, if it is alive (and touches it).
    pub fn find(&self, id: &str) -> Option<SessionView<P>> {
        let key = key_of(id);
        let now = Instant::now();
        let mut map = self.lock();
        let session = map.sessions.get_mut(&key)?;
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
        if let Some(s) = self.lock().sessions.get_mut(key) {
            s.flash = Some(Flash(message.into()));
        }
    }

    pub fn take_flash(&self, key: &str) -> Option<Flash> {
        self.lock()
            .sessions
            .get_mut(key)
            .and_then(|s| s.flash.take())
    }

    /// Where a form already sent in this session led, if it was.
    pub fn answered(&self, key: &str, form_id: &str) -> Option<String> {
        let map = self.lock();
        let session = map.sessions.get(key)?;
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
        if let Some(s) = self.lock().sessions.get_mut(key) {
            if s.forms.len() >= MAX_FORMS {
                s.forms.pop_front();
            }
            s.forms.push_back((form_id.to_owned(), to.to_owned()));
        }
    }

    pub fn set_verification(&self, key: &str, report: VerificationReport) {
        if let Some(s) = self.lock().sessions.get_mut(key) {
            s.verification = Some(report);
        }
    }

    pub fn verification(&self, key: &str) -> Option<VerificationReport> {
        self.lock()
            .sessions
            .get(key)
            .and_then(|s| s.verification.clone())
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The sign-in form's CSRF pairs: the cookie is random with its expiry
/// (`<64 hex>.<unix seconds>`), the form's value the HMAC of the cookie by
/// a key drawn at the server's start and held in memory only. A restart
/// voids the forms shown before it (the page says to try again).
pub struct SignInKey(Option<[u8; 32]>);

/// What the HMAC covers before the cookie, so that the key signs nothing
/// else by mistake.
const SIGN_IN_TAG: &[u8] = b"windledger/sign-in/v1\n";

impl SignInKey {
    /// A new key (none if there is no randomness: every sign-in is then
    /// refused as an internal error).
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        Self(getrandom::fill(&mut key).ok().map(|()| key))
    }

    fn mac(&self, cookie: &str) -> Option<String> {
        let key = self.0.as_ref()?;
        let mut message = SIGN_IN_TAG.to_vec();
        message.extend_from_slice(cookie.as_bytes());
        Some(hex::encode(hmac_sha256(key, &message)))
    }

    /// A new pair at `now` (unix seconds): the cookie's value and the
    /// form's.
    pub fn issue(&self, now: i64) -> Option<(String, String)> {
        let expires = now.checked_add(i64::try_from(SIGN_IN_FORM_LIFETIME.as_secs()).ok()?)?;
        let cookie = format!("{}.{expires}", random_token()?);
        let field = self.mac(&cookie)?;
        Some((cookie, field))
    }

    /// Whether the form's value is this server's HMAC of the cookie, and
    /// the cookie has not expired at `now`.
    pub fn check(&self, cookie: &str, field: &str, now: i64) -> bool {
        let Some((random, expires)) = cookie.split_once('.') else {
            return false;
        };
        let fresh = expires.parse::<i64>().is_ok_and(|e| {
            now < e
                && e.saturating_sub(now)
                    <= i64::try_from(SIGN_IN_FORM_LIFETIME.as_secs()).unwrap_or(i64::MAX)
        });
        let well_formed = random.len() == 64 && random.bytes().all(|b| b.is_ascii_hexdigit());
        let expected = self.mac(cookie);
        // Compared even when the rest fails, so the time says nothing.
        let matches = expected.is_some_and(|m| same_secret(&m, field));
        fresh && well_formed && matches
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

    /// The tests' principal: any value will do; its owner is itself.
    fn principal() -> String {
        "operator 0123456789ab".to_owned()
    }

    impl Owner for String {
        fn owner(&self) -> &str {
            self
        }
    }

    #[test]
    fn hmac_sha256_is_rfc_4231() {
        // Test cases 1, 2 and 6 (a key longer than the block).
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, mac) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, message)), mac);
        }
    }

    #[test]
    fn a_sign_in_pair_is_made_by_this_server_only_and_expires() {
        let key = SignInKey::generate();
        let now = 1_700_000_000;
        let (cookie, field) = key.issue(now).expect("randomness");
        assert_eq!(field.len(), 64);
        assert!(key.check(&cookie, &field, now));
        assert!(key.check(&cookie, &field, now + 3599));
        assert!(!key.check(&cookie, &field, now + 3600), "expired");
        // A pair the attacker chose, or made by another server.
        assert!(!key.check("x", "x", now));
        assert!(!key.check(&field, &field, now));
        let other = SignInKey::generate();
        assert!(!other.check(&cookie, &field, now));
        // The cookie's expiry cannot be pushed back without the key.
        let (random, expires) = cookie.split_once('.').expect("a dot");
        let later = format!(
            "{random}.{}",
            expires.parse::<i64>().expect("seconds") + 3600
        );
        assert!(!key.check(&later, &field, now + 3700));
        assert!(!SignInKey(None).check(&cookie, &field, now));
    }

    #[test]
    fn a_token_keeps_its_newest_sessions_and_never_ends_anothers() {
        let sessions = Sessions::<String>::default();
        let secretary = sessions.create("secretary".to_owned()).expect("a session");
        let first = sessions.create("attacker".to_owned()).expect("a session");
        let mut last = String::new();
        for _ in 0..MAX_SESSIONS_PER_TOKEN * 3 {
            last = sessions.create("attacker".to_owned()).expect("a session");
        }
        assert!(
            sessions.find(&secretary).is_some(),
            "another token's session ended"
        );
        assert!(
            sessions.find(&first).is_none(),
            "the token's oldest session stays"
        );
        assert!(sessions.find(&last).is_some());
        assert_eq!(sessions.len(), 1 + MAX_SESSIONS_PER_TOKEN);
    }

    #[test]
    fn past_the_global_bound_a_sign_in_is_refused_and_no_one_is_signed_out() {
        let sessions = Sessions::<String>::default();
        let first = sessions.create("t0".to_owned()).expect("a session");
        for n in 1..MAX_SESSIONS {
            sessions
                .create(format!("t{}", n % 2_500))
                .expect("a session");
        }
        assert_eq!(sessions.create("newcomer".to_owned()), Err(NoSession::Full));
        assert!(sessions.find(&first).is_some());
        // A token at its own bound (each holds 20) still signs in: in place
        // of its oldest.
        sessions
            .create("t1".to_owned())
            .expect("in place of its own");
        assert_eq!(sessions.len(), MAX_SESSIONS);
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
