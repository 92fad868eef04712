//! What the meeting stream records.
//!
//! Each event holds everything a replay and an auditor need: the decision
//! kinds' rules as they stood when convened, the whole roll with every
//! voter's weight, and each resolution's full count.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::tally::ResolutionResult;
use super::types::{
    Choice, Convocation, ConvocationChannel, Minutes, OfficerSignature, Roll, SentConvocation,
};
use crate::domain_event::domain_event;
use crate::types::{HolderId, ResolutionId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeetingEvent {
    /// Convocation: the agenda, the window and the rules that will count.
    MeetingConvened(Convocation),
    VotingOpened {
        roll: Roll,
        at: DateTime<Utc>,
    },
    ProxyGranted {
        grantor: HolderId,
        proxy: HolderId,
        /// The grantor's own ballot, withdrawn: the proxy votes for them now.
        ballot_withdrawn: bool,
        /// When it was given; for a proxy on paper, when it was received.
        at: DateTime<Utc>,
        /// A proxy on paper the company received, entered by the secretary
        /// (like a postal voting form, an attested entry after the fact).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        paper: bool,
    },
    ProxyRevoked {
        grantor: HolderId,
        proxy: HolderId,
        /// The ballot the proxy cast for the grantor, withdrawn with the
        /// proxy: the grantor votes for themself again.
        ballot_withdrawn: bool,
        at: DateTime<Utc>,
    },
    BallotCast {
        voter: HolderId,
        cast_by: HolderId,
        choices: BTreeMap<ResolutionId, Choice>,
        /// An earlier ballot of this voter was in force and is replaced.
        replaces_earlier: bool,
        /// When the ballot was cast; for a postal form, when it was received.
        at: DateTime<Utc>,
        /// A postal voting form entered by the secretary (vote par
        /// correspondance), which may be recorded after the window closed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        postal: bool,
        /// A postal form received electronically (its deadline is the
        /// charter's hour the day before, not days ahead).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        electronic: bool,
    },
    /// A postal voting form received after the charter's deadline: kept,
    /// never counted (R225-77).
    PostalFormKeptLate {
        voter: HolderId,
        choices: BTreeMap<ResolutionId, Choice>,
        received_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        electronic: bool,
        /// The last instant it would have counted.
        deadline: DateTime<Utc>,
    },
    /// Holders convened by one channel on one day, with each message's hash.
    ConvocationsSent {
        channel: ConvocationChannel,
        sent_on: NaiveDate,
        convocations: Vec<SentConvocation>,
    },
    /// The minutes' own words, once the meeting is closed.
    MinutesRecorded(Minutes),
    /// An officer of the bureau signed the minutes whose PDF has this hash.
    MinutesSigned {
        officer: HolderId,
        document_sha256: String,
        signature: OfficerSignature,
        at: DateTime<Utc>,
    },
    MeetingClosed {
        results: Vec<ResolutionResult>,
        at: DateTime<Utc>,
    },
    BureauConstituted(Bureau),
}

/// The officers of a meeting (bureau de l'assemblée), by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Bureau {
    /// Le président de séance: a voter on the roll.
    pub chair: HolderId,
    /// Les scrutateurs: one or two voters on the roll.
    pub scrutineers: Vec<HolderId>,
    /// Le secrétaire de séance: anyone the meeting appoints, by id.
    pub secretary: HolderId,
    pub at: DateTime<Utc>,
}

impl MeetingEvent {
    /// Stable names: the log's `event_type` and the payload's only key.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MeetingConvened(_) => "MeetingConvened",
            Self::VotingOpened { .. } => "VotingOpened",
            Self::ProxyGranted { .. } => "ProxyGranted",
            Self::ProxyRevoked { .. } => "ProxyRevoked",
            Self::BallotCast { .. } => "BallotCast",
            Self::MeetingClosed { .. } => "MeetingClosed",
            Self::BureauConstituted(_) => "BureauConstituted",
            Self::PostalFormKeptLate { .. } => "PostalFormKeptLate",
            Self::ConvocationsSent { .. } => "ConvocationsSent",
            Self::MinutesRecorded(_) => "MinutesRecorded",
            Self::MinutesSigned { .. } => "MinutesSigned",
        }
    }
}

/// Schema version of every meeting event.
pub const MEETING_EVENT_VERSION: &str = "1";

domain_event!(MeetingEvent, MEETING_EVENT_VERSION);
