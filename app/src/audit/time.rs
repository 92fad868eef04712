//! The recording time of live commands: what deciding again cannot see.
//!
//! Deciding an event again with the services' clock at its `recorded_at`
//! (see `replay`) refuses any effective instant or date later than its
//! recording. What remains is the other direction: a meeting command
//! decided live happens when the server receives it, so its instant (`at`)
//! is the server's clock at the decision, and it is recorded within the
//! moments its commit takes. An instant further in the past is a late
//! entry, which only two things may be:
//! - a postal voting form the secretary entered (`postal: true` in the
//!   ballot, or a form kept because it came late), or a proxy on paper
//!   (`paper: true`), which the meeting's rules check (received inside its
//!   time, entered before the close);
//! - history entered by `windledger import`, whose metadata says so
//!   (`entry: imported`).

use chrono::{DateTime, Duration, Utc};
use windledger_domain::meeting::MeetingEvent;
use windledger_store::RecordedEvent;

use crate::import::{ENTRY_IMPORTED, ENTRY_KEY};

/// The longest a live command's commit may take between its decision and
/// its recording (queued behind a group commit, a slow disk).
pub const RECORDING_GRACE: Duration = Duration::seconds(60);

/// Checks a meeting event's instant against its recording time. The error
/// completes "the event at position N (type on stream) ...".
pub(crate) fn check_meeting_instant(e: &RecordedEvent, event: &MeetingEvent) -> Result<(), String> {
    let at: DateTime<Utc> = match event {
        MeetingEvent::MeetingConvened(_)
        | MeetingEvent::BallotCast { postal: true, .. }
        | MeetingEvent::ProxyGranted { paper: true, .. }
        | MeetingEvent::PostalFormKeptLate { .. }
        | MeetingEvent::ConvocationsSent { .. } => return Ok(()),
        MeetingEvent::VotingOpened { at, .. }
        | MeetingEvent::ProxyGranted { at, .. }
        | MeetingEvent::ProxyRevoked { at, .. }
        | MeetingEvent::BallotCast { at, .. }
        | MeetingEvent::MeetingClosed { at, .. } => *at,
        MeetingEvent::BureauConstituted(b) => b.at,
        MeetingEvent::MinutesRecorded(m) => m.at,
        MeetingEvent::MinutesSigned { at, .. } => *at,
    };
    let imported = e
        .metadata
        .extra
        .get(ENTRY_KEY)
        .is_some_and(|v| v == ENTRY_IMPORTED);
    if imported || e.recorded_at - at <= RECORDING_GRACE {
        return Ok(());
    }
    Err(format!(
        "says it happened at {at} but was recorded at {}: a live command happens when the server receives it, \
         and only a postal form or a proxy on paper entered by the secretary or imported history may be recorded later",
        e.recorded_at
    ))
}
