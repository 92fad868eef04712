//! Failed token checks slow the client down: after [`FREE_FAILURES`] from
//! one address, each further check from it waits [`STEP`] more, up to
//! [`MOST`], until a token from that address is accepted or it stays quiet
//! for [`FORGET_AFTER`]. The API's bearer tokens and the web sign-in count
//! together, so that alternating them buys nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed checks allowed per address before it is slowed down.
pub const FREE_FAILURES: u32 = 5;

/// Each failure past the free ones adds this much to the wait.
pub const STEP: Duration = Duration::from_millis(100);

/// The longest wait.
pub const MOST: Duration = Duration::from_secs(2);

/// An address quiet this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// Failed checks per client address.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long a check from this address waits now.
    pub fn delay(&self, client: &str) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(client) {
            Some((n, at)) if *n >= FREE_FAILURES && at.elapsed() < FORGET_AFTER => {
                (STEP * (n - FREE_FAILURES + 1)).min(MOST)
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
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
        let entry = failures
            .entry(client.to_owned())
            .or_insert((0, Instant::now()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = Instant::now();
    }

    /// A token from this address was accepted: its slow-down ends.
    pub fn forgive(&self, client: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if !failures.is_empty() {
            failures.remove(client);
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
}
