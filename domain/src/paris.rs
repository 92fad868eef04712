//! The company's legal time: Paris. Deadlines the law sets in local time
//! (a postal voting form received by 15:00 the day before the meeting) are
//! decided on it, and the French pages and documents print it. The EU rule
//! (summer time from the last Sunday of March to the last Sunday of
//! October, 01:00 UTC) is written here rather than drawn from a time-zone
//! database: it is the only zone the product needs, and it keeps the
//! domain free of a data file that changes under it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The start of summer time in the EU: the last Sunday of March, 01:00 UTC
/// (and its end, the last Sunday of October).
fn last_sunday_at_one(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - Duration::days(i64::from(back));
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

/// Paris's offset from UTC at an instant: +2 h in summer time, +1 h else.
pub fn paris_offset(at: DateTime<Utc>) -> Duration {
    let year = at.year();
    match (last_sunday_at_one(year, 3), last_sunday_at_one(year, 10)) {
        (Some(start), Some(end)) if at >= start && at < end => Duration::hours(2),
        _ => Duration::hours(1),
    }
}

/// Today's date in Paris at `at`: the date people mean when they give one
/// (at 00:30 in Paris it is already the new day, though in UTC it is not).
pub fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    // At the end of time (a clock that never refuses, in tests) there is
    // no later day: UTC's.
    at.naive_utc()
        .checked_add_signed(paris_offset(at))
        .map_or(at.date_naive(), |local| local.date())
}

/// A time in Paris, as read on a clock there.
pub fn to_paris(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc() + paris_offset(at)
}

/// The instant a Paris clock shows `local`: in the autumn's repeated hour
/// the first one, in the spring's skipped hour as if it were winter time.
pub fn from_paris(local: NaiveDateTime) -> DateTime<Utc> {
    for hours in [2, 1] {
        let candidate = Utc.from_utc_datetime(&(local - Duration::hours(hours)));
        if paris_offset(candidate) == Duration::hours(hours) {
            return candidate;
        }
    }
    Utc.from_utc_datetime(&(local - Duration::hours(1)))
}
