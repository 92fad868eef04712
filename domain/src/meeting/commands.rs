//! What the company secretary, the shareholders and their proxies ask the
//! meeting stream to record.
//!
//! Instants (`at`) are given by the shell: the server's clock when the
//! request arrived (the API refuses them in a request's body), or the
//! recorded history an import replays. Each is checked against the
//! services' clock: none may be later than now. A postal voting form's
//! `received_at` is the one instant entered after the fact, by the
//! secretary, who attests it, as are a proxy on paper's and the day
//! letters or e-mails of convocation were sent.

impl MeetingCommand {
    /// The instant the command happens at, or says it happened at.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Convene { .. } => None,
            Self::OpenVoting { at }
            | Self::GrantProxy { at, .. }
            | Self::RevokeProxy { at, .. }
            | Self::CastBallot { at, .. }
            | Self::Close { at }
            | Self::ConstituteBureau { at, .. }
            | Self::RecordMinutes { at, .. }
            | Self::SignMinutes { at, .. } => Some(*at),
            Self::RecordPostalBallot { received_at, .. }
            | Self::RecordPaperProxy { received_at, .. } => Some(*received_at),
            Self::RecordConvocations { .. } => None,
        }
    }
}

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::events::{Bureau, MeetingEvent};
use super::types::{
    Call, Choice, CommitteeMember, Convocation, ConvocationChannel, MeetingKind, Minutes,
    OfficerSignature, SentConvocation,
};
use crate::resolution::ResolutionPurpose;
use crate::same_fields::same_fields;
use crate::types::{DecisionKindId, HolderId, MeetingId, ResolutionId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum MeetingCommand {
    /// Convocation, with the agenda (ordre du jour).
    Convene {
        /// Must equal the aggregate id (the shell checks it).
        meeting: MeetingId,
        kind: MeetingKind,
        call: Call,
        /// Date d'enregistrement: the roll is the cap table at its end.
        record_date: NaiveDate,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        agenda: Vec<ProposedResolution>,
        /// Members of a board or committee; empty for a general meeting.
        #[serde(default)]
        members: Vec<CommitteeMember>,
        convened_on: NaiveDate,
    },
    /// Freezes the roll from the cap table at the record date; proxies and
    /// ballots need it.
    OpenVoting { at: DateTime<Utc> },
    /// Pouvoir: `grantor` is represented by `proxy`.
    GrantProxy {
        grantor: HolderId,
        proxy: HolderId,
        at: DateTime<Utc>,
    },
    RevokeProxy {
        grantor: HolderId,
        at: DateTime<Utc>,
    },
    /// Bulletin: one choice for every resolution of the agenda, by the voter
    /// (`cast_by == voter`) or by their proxy.
    CastBallot {
        voter: HolderId,
        cast_by: HolderId,
        choices: BTreeMap<ResolutionId, Choice>,
        at: DateTime<Utc>,
    },
    /// Vote par correspondance: a postal voting form the company received,
    /// entered by the secretary after the fact, even once the window is
    /// over (but before the close). It counts as cast when it was received.
    RecordPostalBallot {
        voter: HolderId,
        choices: BTreeMap<ResolutionId, Choice>,
        received_at: DateTime<Utc>,
        /// Received electronically rather than on paper.
        #[serde(default)]
        electronic: bool,
    },
    /// Pouvoir sur papier: a proxy the company received, entered by the
    /// secretary with the instant it was received, until the window ends.
    RecordPaperProxy {
        grantor: HolderId,
        proxy: HolderId,
        received_at: DateTime<Utc>,
    },
    /// The convocations sent by one channel on one day (at most
    /// [`super::MAX_CONVOCATIONS_PER_EVENT`] holders at a time).
    RecordConvocations {
        channel: ConvocationChannel,
        sent_on: NaiveDate,
        convocations: Vec<SentConvocation>,
    },
    /// Le procès-verbal's own words, once the meeting is closed and its
    /// bureau constituted.
    RecordMinutes {
        debates: String,
        documents_presented: Vec<String>,
        at: DateTime<Utc>,
    },
    /// An officer's signature of the minutes whose PDF has this SHA-256.
    SignMinutes {
        officer: HolderId,
        document_sha256: String,
        signature: OfficerSignature,
        at: DateTime<Utc>,
    },
    /// Clôture: counts every resolution.
    Close { at: DateTime<Utc> },
    /// Le bureau de l'assemblée: its chair and scrutineers (voters on the
    /// roll) and its secretary, who certify the attendance sheet and sign
    /// the minutes. Ids only: their names are the vault's.
    ConstituteBureau {
        chair: HolderId,
        scrutineers: Vec<HolderId>,
        secretary: HolderId,
        at: DateTime<Utc>,
    },
}

/// A resolution as the convening notice proposes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ProposedResolution {
    pub decision_kind: DecisionKindId,
    pub purpose: ResolutionPurpose,
    pub text: String,
}

/// The command an event is the outcome of (see the company's). A
/// convocation gives back its agenda as proposed (the ids, numbers and
/// the decision kinds' rules are the aggregate's); opening the vote, its
/// time (the roll is the aggregate's); a proxy or a ballot, what was asked
/// (whether it withdrew or replaced a ballot is the aggregate's); the
/// close, its time (the results are the tally's).
impl From<&MeetingEvent> for MeetingCommand {
    fn from(event: &MeetingEvent) -> Self {
        same_fields!(&event, MeetingEvent => Self {
            MeetingConvened(Convocation) => Convene {
                meeting, kind, call, record_date, opens_at, closes_at,
                agenda: agenda
                    .iter()
                    .map(|item| ProposedResolution {
                        decision_kind: item.decision_kind.clone(),
                        purpose: item.purpose.clone(),
                        text: item.text.clone(),
                    })
                    .collect(),
                members, convened_on,
            },
            VotingOpened => OpenVoting { at },
            BureauConstituted(Bureau) => ConstituteBureau { chair, scrutineers, secretary, at },
            ProxyGranted => GrantProxy { grantor, proxy, at },
            ProxyRevoked => RevokeProxy { grantor, at },
            PostalFormKeptLate => RecordPostalBallot { voter, choices, received_at, electronic },
            ConvocationsSent => RecordConvocations { channel, sent_on, convocations },
            MinutesRecorded(Minutes) => RecordMinutes { debates, documents_presented, at },
            MinutesSigned => SignMinutes { officer, document_sha256, signature, at },
            BallotCast => CastBallot { voter, cast_by, choices, at },
            MeetingClosed => Close { at },
        } unless {
            // A proxy on paper and a postal form: entered by the secretary,
            // `at` is when they were received.
            MeetingEvent::ProxyGranted { grantor, proxy, at, paper: true, .. } => {
                Self::RecordPaperProxy {
                    grantor: grantor.clone(),
                    proxy: proxy.clone(),
                    received_at: *at,
                }
            }
            MeetingEvent::BallotCast { voter, choices, at, postal: true, electronic, .. } => {
                Self::RecordPostalBallot {
                    voter: voter.clone(),
                    choices: choices.clone(),
                    received_at: *at,
                    electronic: *electronic,
                }
            }
        })
    }
}
