//! The time against which commands are decided.
//!
//! Rules that depend on "now" (a voting window, a date in the future, a
//! month not yet begun) are decided against a [`Clock`] the shell passes in
//! each aggregate's services. The domain never reads the system clock: the
//! server gives its own clock at the moment of the command, and the
//! verifier gives each event's recording time, so that deciding again from
//! the log refuses an event whose effective instant is later than the
//! moment it was recorded.

use chrono::{DateTime, NaiveDate, Utc};

/// Gives the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Today's civil date in Paris, the company's legal time: the dates
    /// people give are Paris dates, and a date given at 00:30 in Paris
    /// is today's, though UTC is still on the day before. (Paris is ahead
    /// of UTC, so a date accepted against UTC's day is accepted against
    /// Paris's: events recorded before this rule decide the same.)
    fn today(&self) -> NaiveDate {
        crate::paris::paris_date(self.now())
    }
}

/// Nothing is recorded before it happens: `Err(refusal(at, now))` when
/// `at` is later than `now` (an instant, or a date against today).
pub(crate) fn not_after<T: PartialOrd, E>(
    at: T,
    now: T,
    refusal: impl FnOnce(T, T) -> E,
) -> Result<(), E> {
    if at > now {
        Err(refusal(at, now))
    } else {
        Ok(())
    }
}

/// A fixed instant is a clock that never moves: the recording time of an
/// event when it is decided again, or the moment a test is set at.
impl Clock for DateTime<Utc> {
    fn now(&self) -> DateTime<Utc> {
        *self
    }
}
