//! The `meeting` stream (DESIGN.md 2.2): a general meeting, a board or a
//! strategic committee, from its convening to its close, with the electoral
//! roll, proxies, ballots and the tally of each resolution.
//!
//! The rules the issue left open are on [`Meeting`]; the counting rules are
//! in [`tally`].

mod aggregate;
mod commands;
mod error;
mod events;
pub mod tally;
mod types;

pub use aggregate::{
    BallotInForce, KnownMeetings, MAX_CONVOCATIONS_PER_EVENT, MAX_DEBATES, MAX_DOCUMENT_TITLE,
    MAX_DOCUMENTS_PRESENTED, MAX_RESOLUTION_TEXT, MAX_RESOLUTIONS, Meeting, MeetingLookup,
    MeetingServices, Phase, general_meeting_voters,
};
pub use commands::{MeetingCommand, ProposedResolution};
pub use error::MeetingError;
pub use events::{Bureau, MEETING_EVENT_VERSION, MeetingEvent};
pub use tally::{CapitalCount, CollegeTally, Fraction, Outcome, RejectionRule, ResolutionResult};
pub use types::{
    AgendaItem, Call, Choice, CommitteeMember, Convocation, ConvocationChannel, MeetingKind,
    Minutes, OfficerSignature, Roll, RollCollege, SentConvocation, Voter, is_sha256_hex,
    minutes_signing_message, resolution_id, split_resolution_id,
};
