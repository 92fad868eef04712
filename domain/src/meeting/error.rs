//! Why the meeting stream refuses a command. Each message says what to do.

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

use crate::resolution::{LookupError, ResolutionPurpose};
use crate::types::{CollegeId, DecisionKindId, HolderId, MeetingId, ResolutionId, ShareClassId};

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum MeetingError {
    // Convening.
    #[error("the meeting is already convened")]
    AlreadyConvened,
    #[error("the meeting is not convened: convene it first")]
    NotConvened,
    #[error("meeting id {0} is too long to number its resolutions: use at most 60 characters")]
    MeetingIdTooLong(MeetingId),
    #[error("the agenda is empty: a meeting votes on at least one resolution")]
    EmptyAgenda,
    #[error("the agenda has {count} resolutions; at most {max} are allowed")]
    TooManyResolutions { count: usize, max: usize },
    #[error("resolution {number} has no text, or more than {max} characters")]
    InvalidResolutionText { number: usize, max: usize },
    #[error("resolution {number}'s terms name share class {class}, which is not in the charter")]
    TermsUnknownClass { number: usize, class: ShareClassId },
    #[error("resolution {number}'s terms authorise no share: give a count of at least one")]
    TermsWithoutShares { number: usize },
    #[error("decision kind {0} is not in the charter in force")]
    UnknownDecisionKind(DecisionKindId),
    #[error("a resolution for {purpose} must be a {required} decision, not {found}")]
    WrongDecisionKind {
        purpose: Box<ResolutionPurpose>,
        required: DecisionKindId,
        found: DecisionKindId,
    },
    #[error("the voting window must end after it opens ({opens_at} .. {closes_at})")]
    EmptyVotingWindow {
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    },
    #[error(
        "the record date {record_date} must be before the day voting opens ({opens_at}), so that the roll is final when voting starts"
    )]
    RecordDateNotBeforeOpening {
        record_date: NaiveDate,
        opens_at: DateTime<Utc>,
    },
    #[error("the meeting is convened on {convened_on}, after its record date {record_date}")]
    ConvenedAfterRecordDate {
        convened_on: NaiveDate,
        record_date: NaiveDate,
    },
    #[error("a board or committee meeting needs its list of members")]
    MembersRequired,
    #[error("a general meeting votes on the cap table: give no list of members")]
    MembersNotAllowed,
    #[error("member {0} is listed twice")]
    DuplicateMember(HolderId),
    #[error("college {0} is not in the charter in force")]
    UnknownCollege(CollegeId),
    #[error("a second call must refer to a first call, not to meeting {0} itself")]
    SecondCallOfItself(MeetingId),
    #[error("the meeting's bureau is constituted already")]
    BureauAlreadyConstituted,
    #[error("a bureau has one or two scrutineers, not {count}")]
    ScrutineerCount { count: usize },
    #[error(
        "{0} holds two offices of the bureau: the chair, the scrutineers and the secretary are distinct"
    )]
    OfficerTwice(HolderId),
    #[error("the first call {0} was never convened")]
    FirstCallUnknown(MeetingId),
    #[error("the first call {0} is a meeting of another kind")]
    FirstCallOfAnotherKind(MeetingId),
    #[error("the first call {0} is not closed: a second call follows a first call that was held")]
    FirstCallNotHeld(MeetingId),
    #[error(
        "the first call {0} reached its quorum on every resolution: there is nothing to call again"
    )]
    FirstCallReachedQuorum(MeetingId),
    #[error(
        "resolution {number} is not one of the resolutions of the first call {first_call} that failed their quorum (same decision kind, purpose and text)"
    )]
    NotOnTheFirstCall {
        number: usize,
        first_call: MeetingId,
    },
    #[error(
        "{earliest} is the earliest a meeting convened on {convened_on} can open: the charter gives a {call} {days} days' notice, and its vote opens on {opens_on}"
    )]
    NoticeTooShort {
        call: &'static str,
        days: u16,
        convened_on: NaiveDate,
        opens_on: NaiveDate,
        earliest: NaiveDate,
    },
    #[error(transparent)]
    CapTableLookup(#[from] LookupError),

    // Time.
    #[error("{at} is later than now ({now}): a meeting records what has happened")]
    InTheFuture {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("the meeting cannot be convened on {convened_on}: today is {today}")]
    ConvenedInTheFuture {
        convened_on: NaiveDate,
        today: NaiveDate,
    },

    // Opening.
    #[error("voting is already open: the roll was frozen at {0}")]
    VotingAlreadyOpen(DateTime<Utc>),
    #[error("voting is not open yet: open it (freezing the roll) first")]
    VotingNotOpen,
    #[error("voting cannot open on {at}: the record date {record_date} has not ended yet")]
    OpenedOnOrBeforeRecordDate {
        at: DateTime<Utc>,
        record_date: NaiveDate,
    },
    #[error("the voting window ended at {closes_at}: it can no longer open")]
    WindowOver { closes_at: DateTime<Utc> },
    #[error("the voting window ended at {closes_at}: a proxy can no longer be given or revoked")]
    ProxyWindowOver { closes_at: DateTime<Utc> },
    #[error("no one holds a vote on the record date {0}: there is no one to vote")]
    EmptyRoll(NaiveDate),
    #[error("the meeting was closed at {0}")]
    Closed(DateTime<Utc>),

    // Proxies.
    #[error("{0} is not on the roll of this meeting")]
    NotOnRoll(HolderId),
    #[error("{0} cannot give a proxy to themself")]
    ProxyToSelf(HolderId),
    #[error("{grantor} already gave a proxy to {proxy}: revoke it first")]
    ProxyAlreadyGiven { grantor: HolderId, proxy: HolderId },
    #[error("{0} gave no proxy in this meeting")]
    NoProxyGiven(HolderId),
    #[error("{proxy} gave a proxy to {their_proxy}: they cannot hold one (no chain of proxies)")]
    ProxyHasGivenProxy {
        proxy: HolderId,
        their_proxy: HolderId,
    },
    #[error(
        "{grantor} holds {held} proxies: they cannot pass them on (no chain of proxies); their grantors must revoke first"
    )]
    GrantorHoldsProxies { grantor: HolderId, held: u32 },
    #[error("{proxy} already holds {max} proxies, the most the charter allows")]
    ProxyCapReached { proxy: HolderId, max: u32 },

    // Ballots.
    #[error("ballots are accepted from {opens_at} until {closes_at}, not at {at}")]
    OutsideVotingWindow {
        at: DateTime<Utc>,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    },
    #[error("{voter} is represented by {proxy}: only the proxy votes for them until it is revoked")]
    VoterIsRepresented { voter: HolderId, proxy: HolderId },
    #[error("{cast_by} holds no proxy from {voter}")]
    NotTheProxy { cast_by: HolderId, voter: HolderId },
    #[error("the ballot gives no choice for resolution {0}: choose for, against or abstain")]
    IncompleteBallot(ResolutionId),
    #[error("resolution {0} is not on the agenda of this meeting")]
    UnknownResolution(ResolutionId),
    #[error(
        "a postal voting form must have been received between the convocation ({convened_on}) and the end of the window ({closes_at}), not at {received_at}"
    )]
    PostalFormOutsideTime {
        received_at: DateTime<Utc>,
        convened_on: NaiveDate,
        closes_at: DateTime<Utc>,
    },
    #[error(
        "{voter} voted at {in_force}, after their postal form was received ({received_at}): the later ballot stands"
    )]
    LaterBallotInForce {
        voter: HolderId,
        in_force: DateTime<Utc>,
        received_at: DateTime<Utc>,
    },

    #[error("a proxy on paper received at {received_at} predates the convocation ({convened_on})")]
    PaperProxyBeforeConvening {
        received_at: DateTime<Utc>,
        convened_on: NaiveDate,
    },

    // Convocations.
    #[error(
        "convocations are sent between the convening ({convened_on}) and the day the vote opens ({opens_on}), not on {sent_on}"
    )]
    ConvocationOutsideTime {
        sent_on: NaiveDate,
        convened_on: NaiveDate,
        opens_on: NaiveDate,
    },
    #[error("convocations cannot be recorded as sent on {sent_on}: today is {today}")]
    SentInTheFuture {
        sent_on: NaiveDate,
        today: NaiveDate,
    },
    #[error("one record of convocations holds from 1 to {max} holders, not {count}")]
    ConvocationCount { count: usize, max: usize },
    #[error("{0} is listed twice in one record of convocations")]
    ConvenedTwice(HolderId),
    #[error(
        "{holder} held no share on the convening date {convened_on} (nor is a member): they are not convened"
    )]
    NotConvenable {
        holder: HolderId,
        convened_on: NaiveDate,
    },
    #[error("{0:?} is not a SHA-256 written as 64 lowercase hexadecimal digits")]
    NotASha256(String),

    // Minutes.
    #[error("the minutes are recorded once the meeting is closed")]
    MinutesBeforeClose,
    #[error("the minutes name the bureau: constitute it first")]
    MinutesWithoutBureau,
    #[error("the minutes of this meeting are recorded already")]
    MinutesAlreadyRecorded,
    #[error("the summary of the debates is empty or longer than {max} characters")]
    InvalidDebates { max: usize },
    #[error("the documents presented are at most {max}, each named in 1 to {max_chars} characters")]
    InvalidDocumentsPresented { max: usize, max_chars: usize },
    #[error("the minutes are not recorded yet: there is nothing to sign")]
    NoMinutes,
    #[error("{0} is not an officer of the meeting's bureau: only they sign the minutes")]
    NotAnOfficer(HolderId),
    #[error("{0} signed the minutes already")]
    AlreadySigned(HolderId),
    #[error(
        "the officers signed the minutes whose SHA-256 is {signed}: every signature is over that document"
    )]
    OtherDocumentSigned { signed: String },
    #[error("the Ed25519 signature of {0} does not verify over the minutes")]
    BadSignature(HolderId),

    // Closing.
    #[error("the voting window ends at {closes_at}: the meeting cannot close at {at}")]
    CloseBeforeWindowEnds {
        at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    },
}

impl crate::Rule for MeetingError {
    fn rule(&self) -> &'static str {
        self.into()
    }
}
