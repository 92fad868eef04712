//! Values that commands and events of the meeting stream share.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::charter::{College, DecisionKind, VoteBasis};
use crate::money::Euros;
use crate::ratio::Ratio;
use crate::resolution::ResolutionPurpose;
use crate::types::{CollegeId, DecisionKindId, HolderId, MeetingId, ResolutionId};

/// Nature de la réunion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// Assemblée générale ordinaire.
    OrdinaryGeneralMeeting,
    /// Assemblée générale extraordinaire.
    ExtraordinaryGeneralMeeting,
    /// Conseil d'administration (or de surveillance).
    Board,
    /// Comité stratégique.
    StrategicCommittee,
}

impl MeetingKind {
    /// General meetings vote on the cap table; boards and committees on their
    /// members, one vote each.
    pub fn is_general_meeting(self) -> bool {
        matches!(
            self,
            Self::OrdinaryGeneralMeeting | Self::ExtraordinaryGeneralMeeting
        )
    }
}

/// Convocation: first call, or second call after a first one that lacked
/// its quorum (the quorum of the second call applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    First,
    Second { first_call: MeetingId },
}

/// What the convening notice fixes, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Convocation {
    pub meeting: MeetingId,
    pub kind: MeetingKind,
    pub call: Call,
    /// Date d'enregistrement: the roll is the cap table at its end.
    pub record_date: NaiveDate,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub agenda: Vec<AgendaItem>,
    /// The rules of every decision kind on the agenda, from the charter in
    /// force on the convening date, in charter order.
    pub decision_kinds: Vec<DecisionKind>,
    /// Members of a board or committee; empty for a general meeting.
    pub members: Vec<CommitteeMember>,
    pub convened_on: NaiveDate,
}

/// A member of a board or committee: the id of the person in the
/// personal-data table (a shareholder's id, or a representative's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CommitteeMember {
    pub member: HolderId,
    pub college: CollegeId,
}

/// One resolution on the agenda, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct AgendaItem {
    /// `<meeting>.<n>`, n from 1 in agenda order.
    pub resolution: ResolutionId,
    pub decision_kind: DecisionKindId,
    pub purpose: ResolutionPurpose,
    pub text: String,
}

/// How a holder was convened (R225-63, R225-68): by e-mail, for those who
/// consented to it in writing, or by letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConvocationChannel {
    Email,
    Post,
}

/// One holder's convocation as sent: who, and the SHA-256 (64 lowercase
/// hexadecimal digits) of the message, so that the message kept outside the
/// ledger can be shown to be the one sent. No address, no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct SentConvocation {
    pub holder: HolderId,
    pub sha256: String,
}

/// Le procès-verbal's own words (R225-106): the summary of the debates the
/// meeting's secretary wrote and the documents presented to the meeting.
/// The rest of the minutes (convocation, agenda, bureau, quorum, results)
/// is drawn from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Minutes {
    pub debates: String,
    pub documents_presented: Vec<String>,
    pub at: DateTime<Utc>,
}

/// How an officer signed the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum OfficerSignature {
    /// An Ed25519 signature by the officer's own key (hexadecimal: a 32-byte
    /// public key, a 64-byte signature) over
    /// [`minutes_signing_message`]: anyone can check it.
    Ed25519 {
        public_key: String,
        signature: String,
    },
    /// A handwritten signature on the printed minutes, attested by whoever
    /// records it (the company's secretary, as the event's author says).
    Handwritten,
}

/// The bytes an officer signs with Ed25519: the meeting and the minutes'
/// SHA-256, under a label so that the signature means nothing else.
pub fn minutes_signing_message(meeting: &MeetingId, document_sha256: &str) -> Vec<u8> {
    format!("windledger minutes signature v1\n{meeting}\n{document_sha256}\n").into_bytes()
}

/// A SHA-256 written as 64 lowercase hexadecimal digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Pour, contre, abstention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    For,
    Against,
    /// Not a vote cast (French law since 2019): counts for the quorum only.
    Abstain,
}

/// Liste d'émargement: the electoral roll, frozen when voting opens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Roll {
    /// The date of the cap table the roll was computed from.
    pub record_date: NaiveDate,
    /// The colleges of the charter in force on that date, in charter order.
    pub colleges: Vec<RollCollege>,
    /// Every voter, ordered by holder id; none has weight zero.
    pub voters: Vec<Voter>,
    /// The charter's cap on proxies held by one voter.
    pub max_proxies_held: Option<u32>,
}

impl Roll {
    pub fn total_weight(&self) -> u64 {
        self.voters
            .iter()
            .fold(0u64, |sum, v| sum.saturating_add(v.weight))
    }

    pub fn college(&self, id: &CollegeId) -> Option<&RollCollege> {
        self.colleges.iter().find(|c| &c.id == id)
    }
}

/// A college as the roll counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct RollCollege {
    pub id: CollegeId,
    pub weight: Option<Ratio>,
    pub vote_basis: VoteBasis,
}

impl From<&College> for RollCollege {
    fn from(c: &College) -> Self {
        Self {
            id: c.id.clone(),
            weight: c.weight,
            vote_basis: c.vote_basis,
        }
    }
}

/// One line of the roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Voter {
    pub holder: HolderId,
    pub college: CollegeId,
    /// Every share held on the record date, voting or not (0 for a committee
    /// member).
    pub shares: u64,
    /// Votes: shares x votes per share, or 1 in a per-member college or a
    /// committee.
    pub weight: u64,
    /// The nominal value of the voter's voting shares, on the roll of a
    /// general meeting where a decision kind counts its quorum on capital
    /// (absent, and not written, otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital: Option<Euros>,
}

/// The id of the `number`th resolution (from 1) of a meeting; `None` if the
/// meeting id is too long to leave room for the number.
pub fn resolution_id(meeting: &MeetingId, number: usize) -> Option<ResolutionId> {
    ResolutionId::new(format!("{meeting}.{number}")).ok()
}

/// The meeting a resolution belongs to and its number, if the id has the
/// shape [`resolution_id`] gives.
pub fn split_resolution_id(resolution: &ResolutionId) -> Option<(MeetingId, usize)> {
    let (meeting, number) = resolution.as_str().rsplit_once('.')?;
    let number: usize = number.parse().ok()?;
    if number == 0 || number.to_string().len() != resolution.as_str().len() - meeting.len() - 1 {
        return None;
    }
    Some((MeetingId::new(meeting).ok()?, number))
}
