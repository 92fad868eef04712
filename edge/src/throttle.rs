//! Guessing tokens, from one client address (an IPv6 one by its /64: see
//! [`crate::connections::client_key`]), the API's bearer tokens and the web sign-in
//! together:
//!
//! - **The limit.** At most [`GUESSES`] distinct tokens not proven valid
//!   per address within [`WINDOW`]; past it, every check from the address
//!   is answered 429 with `Retry-After` (until its oldest guess is
//!   [`WINDOW`] old), without looking at the token. A token counts as soon
//!   as its check starts, so concurrent guesses count, and stays counted
//!   unless its check proves it is no guess: the token is valid, or its
//!   secret is right (expired or revoked), or it is not a token at all
//!   (malformed: no check). A valid token forgives itself only, never the
//!   other guesses of its address: an attacker who holds one valid token
//!   gains nothing by sending it. The same wrong token sent again is no new
//!   guess (it teaches nothing): it is answered from memory, as refused,
//!   without a query, and counts once.
//! - **The slow-down.** After [`FREE_FAILURES`] refused checks from one
//!   address, each further check from it waits [`STEP`] more, up to
//!   [`MOST`], until a token from that address is accepted or it stays
//!   quiet for [`FORGET_AFTER`]. It spares the database a burst of bad
//!   checks; the limit above is what bounds guessing.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a token was not accepted. Deliberately vague towards the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Malformed,
    Unknown,
    WrongSecret,
    Expired,
    Revoked,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejected::Malformed => "the token is not a windledger token (wl_<id>_<secret>)",
            Rejected::Unknown | Rejected::WrongSecret => "the token is not valid",
            Rejected::Expired => "the token has expired",
            Rejected::Revoked => "the token was revoked",
        })
    }
}

/// Refused checks allowed per address before it is slowed down.
pub const FREE_FAILURES: u32 = 5;

/// Each failure past the free ones adds this much to the wait.
pub const STEP: Duration = Duration::from_millis(100);

/// The longest wait.
pub const MOST: Duration = Duration::from_secs(2);

/// An address quiet this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// Distinct tokens not proven valid, per address within [`WINDOW`]: a user
/// who mistypes or pastes half a token a few times stays well below it.
pub const GUESSES: usize = 20;

/// How long a guess counts.
pub const WINDOW: Duration = Duration::from_secs(600);

/// Addresses kept before those with nothing left to remember are dropped.
const PRUNE_AT: usize = 4096;

/// One token tried from an address.
#[derive(Debug, Clone)]
struct Guess {
    /// Checks of it running now.
    running: u32,
    /// When it was refused (or its check abandoned), and why if it was
    /// refused.
    failed: Option<(Instant, Option<Rejected>)>,
}

impl Guess {
    fn counts(&self, now: Instant) -> bool {
        self.running > 0 || self.refused_within(now)
    }

    fn refused_within(&self, now: Instant) -> bool {
        self.failed
            .as_ref()
            .is_some_and(|(at, _)| now.duration_since(*at) < WINDOW)
    }
}

#[derive(Debug, Default)]
struct Client {
    /// Refused checks, for the slow-down, and when the last was.
    failures: u32,
    last_failure: Option<Instant>,
    /// By SHA-256 of the token.
    guesses: HashMap<[u8; 32], Guess>,
}

impl Client {
    fn forget_old(&mut self, now: Instant) {
        self.guesses.retain(|_, g| g.counts(now));
        if self
            .last_failure
            .is_some_and(|at| now.duration_since(at) >= FORGET_AFTER)
        {
            self.failures = 0;
            self.last_failure = None;
        }
    }

    fn is_empty(&self) -> bool {
        self.guesses.is_empty() && self.failures == 0
    }

    /// How long until a guess is allowed again, if the address is at its
    /// limit.
    fn limited(&self, now: Instant) -> Option<Duration> {
        let counting = self.guesses.values().filter(|g| g.counts(now)).count();
        if counting < GUESSES {
            return None;
        }
        // Enough of the refused guesses must age out to leave one free.
        let mut ends: Vec<Instant> = self
            .guesses
            .values()
            .filter(|g| g.running == 0)
            .filter_map(|g| g.failed.as_ref().map(|(at, _)| *at + WINDOW))
            .collect();
        ends.sort_unstable();
        let wait = ends
            .get(counting - GUESSES)
            .map_or(Duration::from_secs(1), |end| end.duration_since(now));
        Some(wait.max(Duration::from_secs(1)))
    }
}

/// What a check may do.
pub enum Admission<'a> {
    /// Check the token, and say how it went.
    Check(Attempt<'a>),
    /// This token was refused lately from this address: refused again,
    /// without a query.
    Refused(Rejected),
    /// The address is at its limit: 429, retry after this.
    Limited(Duration),
}

/// Failed token checks and guesses per client address.
#[derive(Default)]
pub struct Throttle {
    clients: Mutex<HashMap<String, Client>>,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Client>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_client<T>(&self, client: &str, f: impl FnOnce(&mut Client, Instant) -> T) -> T {
        let now = Instant::now();
        let mut clients = self.lock();
        if clients.len() >= PRUNE_AT && !clients.contains_key(client) {
            clients.retain(|_, c| {
                c.forget_old(now);
                !c.is_empty()
            });
        }
        let entry = clients.entry(client.to_owned()).or_default();
        entry.forget_old(now);
        let out = f(entry, now);
        if entry.is_empty() {
            clients.remove(client);
        }
        out
    }

    /// How long a check from this address waits now.
    pub fn delay(&self, client: &str) -> Duration {
        let clients = self.lock();
        match clients.get(client) {
            Some(c)
                if c.failures >= FREE_FAILURES
                    && c.last_failure.is_some_and(|at| at.elapsed() < FORGET_AFTER) =>
            {
                (STEP * (c.failures - FREE_FAILURES + 1)).min(MOST)
            }
            _ => Duration::ZERO,
        }
    }

    /// Waits as long as this address must before its token is checked.
    pub async fn wait(&self, client: &str) {
        let delay = self.delay(client);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// A token from this address was refused.
    pub fn failed(&self, client: &str) {
        self.with_client(client, |c, now| {
            c.failures = c.failures.saturating_add(1);
            c.last_failure = Some(now);
        });
    }

    /// A token from this address was accepted: its slow-down ends (its
    /// guesses still count: see the module's doc).
    pub fn forgive(&self, client: &str) {
        let mut clients = self.lock();
        if let Some(c) = clients.get_mut(client) {
            c.failures = 0;
            c.last_failure = None;
            if c.is_empty() {
                clients.remove(client);
            }
        }
    }

    /// How long this address must wait, if it is at its limit.
    pub fn limited(&self, client: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut clients = self.lock();
        let c = clients.get_mut(client)?;
        c.forget_old(now);
        c.limited(now)
    }

    /// Starts checking the token whose SHA-256 is `token` from this address.
    pub fn admit(&self, client: &str, token: [u8; 32]) -> Admission<'_> {
        self.with_client(client, |c, now| {
            if let Some(guess) = c.guesses.get_mut(&token) {
                if let Some((_, Some(rejected))) = &guess.failed
                    && guess.refused_within(now)
                {
                    return Admission::Refused(rejected.clone());
                }
                // Already counted: running, or abandoned.
                guess.running += 1;
            } else {
                if let Some(wait) = c.limited(now) {
                    return Admission::Limited(wait);
                }
                c.guesses.insert(
                    token,
                    Guess {
                        running: 1,
                        failed: None,
                    },
                );
            }
            Admission::Check(Attempt {
                throttle: self,
                client: client.to_owned(),
                token,
                done: false,
            })
        })
    }

    /// Distinct guesses counting against this address now.
    pub fn guesses(&self, client: &str) -> usize {
        let now = Instant::now();
        self.lock()
            .get(client)
            .map_or(0, |c| c.guesses.values().filter(|g| g.counts(now)).count())
    }

    fn end(&self, client: &str, token: [u8; 32], outcome: Option<Option<Rejected>>) {
        self.with_client(client, |c, now| {
            let Some(guess) = c.guesses.get_mut(&token) else {
                return;
            };
            guess.running = guess.running.saturating_sub(1);
            match outcome {
                // Proven no guess: forgotten, with any earlier abandoned
                // check of it.
                None => {
                    guess.failed = None;
                }
                Some(why) => guess.failed = Some((now, why)),
            }
            if !guess.counts(now) {
                c.guesses.remove(&token);
            }
        });
    }
}

/// A check under way. Dropped without an outcome (the client went away),
/// it counts as a guess.
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    client: String,
    token: [u8; 32],
    done: bool,
}

impl Attempt<'_> {
    /// The token is valid, or the check could not be made (the database):
    /// it is no guess.
    pub fn no_guess(mut self) {
        self.done = true;
        self.throttle.end(&self.client, self.token, None);
    }

    /// The token was refused: a guess if its secret was not proven right.
    pub fn refused(mut self, rejected: &Rejected) {
        self.done = true;
        let outcome = match rejected {
            Rejected::Unknown | Rejected::WrongSecret => Some(Some(rejected.clone())),
            Rejected::Malformed | Rejected::Expired | Rejected::Revoked => None,
        };
        self.throttle.end(&self.client, self.token, outcome);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle.end(&self.client, self.token, Some(None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_after_the_free_failures_and_ends_with_a_good_token() {
        let t = Throttle::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.delay("10.0.0.1"), Duration::ZERO);
            t.failed("10.0.0.1");
        }
        assert_eq!(t.delay("10.0.0.1"), STEP);
        t.failed("10.0.0.1");
        assert_eq!(t.delay("10.0.0.1"), STEP * 2);
        for _ in 0..100 {
            t.failed("10.0.0.1");
        }
        assert_eq!(t.delay("10.0.0.1"), MOST);
        // Another address is not slowed by this one.
        assert_eq!(t.delay("10.0.0.2"), Duration::ZERO);
        t.forgive("10.0.0.1");
        assert_eq!(t.delay("10.0.0.1"), Duration::ZERO);
    }

    fn token(n: u32) -> [u8; 32] {
        let mut t = [0u8; 32];
        t[..4].copy_from_slice(&n.to_be_bytes());
        t
    }

    fn check<'a>(t: &'a Throttle, client: &str, n: u32) -> Attempt<'a> {
        match t.admit(client, token(n)) {
            Admission::Check(a) => a,
            Admission::Refused(r) => panic!("token {n} refused from memory: {r}"),
            Admission::Limited(w) => panic!("token {n} limited for {w:?}"),
        }
    }

    #[test]
    fn concurrent_guesses_count_from_their_start() {
        let t = Throttle::default();
        let running: Vec<_> = (0..GUESSES as u32).map(|n| check(&t, "a", n)).collect();
        assert_eq!(t.guesses("a"), GUESSES);
        // None has finished, and yet the next is refused.
        let Admission::Limited(wait) = t.admit("a", token(999)) else {
            panic!("a guess past the limit was let through");
        };
        assert!(wait >= Duration::from_secs(1));
        assert!(t.limited("a").is_some());
        // Another address is not limited by this one.
        assert!(matches!(t.admit("b", token(999)), Admission::Check(_)));
        // They fail: still counted, now for the whole window.
        for a in running {
            a.refused(&Rejected::Unknown);
        }
        let Admission::Limited(wait) = t.admit("a", token(999)) else {
            panic!("let through");
        };
        assert!(wait > WINDOW - Duration::from_secs(5), "{wait:?}");
    }

    #[test]
    fn a_valid_token_forgives_itself_only() {
        let t = Throttle::default();
        for n in 0..GUESSES as u32 - 1 {
            check(&t, "a", n).refused(&Rejected::WrongSecret);
        }
        // The attacker's own valid token, sent many times: no guess, and
        // it takes none of the others away.
        for _ in 0..100 {
            check(&t, "a", 1000).no_guess();
        }
        assert_eq!(t.guesses("a"), GUESSES - 1);
        check(&t, "a", 2000).refused(&Rejected::Unknown);
        assert!(matches!(t.admit("a", token(3000)), Admission::Limited(_)));
        assert!(
            matches!(t.admit("a", token(1000)), Admission::Limited(_)),
            "over the limit, no token is checked"
        );
    }

    #[test]
    fn the_same_wrong_token_counts_once_and_is_answered_from_memory() {
        let t = Throttle::default();
        check(&t, "a", 7).refused(&Rejected::WrongSecret);
        for _ in 0..100 {
            assert!(matches!(
                t.admit("a", token(7)),
                Admission::Refused(Rejected::WrongSecret)
            ));
        }
        assert_eq!(t.guesses("a"), 1);
    }

    #[test]
    fn what_proves_its_secret_or_is_no_token_is_no_guess() {
        let t = Throttle::default();
        for (n, r) in [
            (1, Rejected::Malformed),
            (2, Rejected::Expired),
            (3, Rejected::Revoked),
        ] {
            check(&t, "a", n).refused(&r);
        }
        assert_eq!(t.guesses("a"), 0);
        // A check abandoned halfway (the client went away) counts.
        drop(check(&t, "a", 4));
        assert_eq!(t.guesses("a"), 1);
        // ...until the same token proves valid.
        check(&t, "a", 4).no_guess();
        assert_eq!(t.guesses("a"), 0);
    }
}
