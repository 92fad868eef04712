//! The decisions register: every meeting with its agenda, roll, proxies,
//! ballots, tally and outcome, and the position and hash of each event
//! behind them. What the municipality audits.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use windledger_domain::meeting::{
    Bureau, Choice, Convocation, ConvocationChannel, MeetingEvent, Minutes, OfficerSignature,
    ResolutionResult, Roll,
};
use windledger_domain::types::{HolderId, ResolutionId};

use crate::event::{EventRef, FarmEvent, LedgerEvent};
use crate::runner::Fold;

/// A ballot's or a late form's choices, one per resolution in agenda
/// order: held inline up to 16 resolutions (a register holds every ballot
/// of every meeting, and an allocation of its own for five bytes of
/// choices cost more than the choices). Serialised as a list.
pub type Choices = smallvec::SmallVec<[Choice; 16]>;

/// One meeting, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct MeetingRecord {
    pub convocation: Convocation,
    pub convened: EventRef,
    pub roll: Option<RollRecord>,
    pub proxies: Vec<ProxyRecord>,
    /// Every ballot cast, in order, replaced and withdrawn ones included.
    pub ballots: Vec<BallotRecord>,
    pub closed: Option<ClosedRecord>,
    /// The meeting's officers, once constituted.
    pub bureau: Option<BureauRecord>,
    /// Every convocation sent, by channel, in the order recorded.
    pub convocations: Vec<ConvocationRecord>,
    /// Postal forms received after the charter's deadline: kept, not
    /// counted (R225-77).
    pub late_forms: Vec<LateFormRecord>,
    /// The minutes' own words, once recorded.
    pub minutes: Option<MinutesRecord>,
    /// The officers' signatures of the minutes.
    pub signatures: Vec<SignatureRecord>,
    /// Voter -> index of their ballot in force.
    #[serde(skip)]
    in_force: HashMap<HolderId, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct RollRecord {
    pub roll: Roll,
    pub total: u64,
    pub opened_at: DateTime<Utc>,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ProxyRecord {
    pub grantor: HolderId,
    pub proxy: HolderId,
    pub granted: EventRef,
    pub revoked: Option<EventRef>,
    /// When it was given, or (on paper) received.
    pub given_at: DateTime<Utc>,
    /// A proxy on paper, entered by the secretary.
    pub paper: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ConvocationRecord {
    pub holder: HolderId,
    pub channel: ConvocationChannel,
    pub sent_on: NaiveDate,
    /// SHA-256 of the message sent.
    pub sha256: String,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct LateFormRecord {
    pub voter: HolderId,
    /// In agenda order.
    pub choices: Choices,
    pub received_at: DateTime<Utc>,
    pub electronic: bool,
    /// The last instant it would have counted.
    pub deadline: DateTime<Utc>,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct MinutesRecord {
    pub minutes: Minutes,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct SignatureRecord {
    pub officer: HolderId,
    pub document_sha256: String,
    pub signature: OfficerSignature,
    pub signed_at: DateTime<Utc>,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct BallotRecord {
    pub voter: HolderId,
    /// The voter, or the proxy who cast it for them.
    pub cast_by: HolderId,
    /// One per resolution, in agenda order (see [`MeetingRecord::choices`]).
    pub choices: Choices,
    /// When it was cast; for a postal form, when it was received.
    pub cast_at: DateTime<Utc>,
    /// A postal voting form entered by the secretary (vote par
    /// correspondance); its receipt's recording time may be after the window.
    pub postal: bool,
    /// A postal form received electronically.
    pub electronic: bool,
    /// The receipt.
    pub receipt: EventRef,
    /// No later ballot, proxy or revocation replaced or withdrew it: it
    /// counted (or will count) at the close.
    pub in_force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct BureauRecord {
    pub bureau: Bureau,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ClosedRecord {
    pub results: Vec<ResolutionResult>,
    pub closed_at: DateTime<Utc>,
    pub at: EventRef,
}

/// The register fold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecisionsRegister {
    meetings: BTreeMap<String, MeetingRecord>,
    /// Holder -> (meeting number in `numbered`, index of the ballot) of
    /// every ballot they cast or had cast for them: a statement reads its
    /// holder's ballots without scanning every meeting's. Eight bytes a
    /// ballot: a ledger holds millions.
    by_holder: HashMap<HolderId, Vec<(u32, u32)>>,
    /// Meeting ids by number, in the order convened.
    numbered: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Fold for DecisionsRegister {
    const NAME: &'static str = "decisions-register";

    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String> {
        let FarmEvent::Meeting { meeting, event } = event else {
            return Ok(());
        };
        let at = meta.reference();
        if let MeetingEvent::MeetingConvened(convocation) = event {
            if !self.numbers.contains_key(meeting) {
                let number = u32::try_from(self.numbered.len())
                    .map_err(|_| "more than 2^32 meetings".to_owned())?;
                self.numbers.insert(meeting.clone(), number);
                self.numbered.push(meeting.clone());
            }
            self.meetings.insert(
                meeting.clone(),
                MeetingRecord {
                    convocation: convocation.clone(),
                    convened: at,
                    roll: None,
                    proxies: Vec::new(),
                    ballots: Vec::new(),
                    closed: None,
                    bureau: None,
                    convocations: Vec::new(),
                    late_forms: Vec::new(),
                    minutes: None,
                    signatures: Vec::new(),
                    in_force: HashMap::new(),
                },
            );
            return Ok(());
        }
        let record = self
            .meetings
            .get_mut(meeting)
            .ok_or_else(|| format!("meeting {meeting} was never convened"))?;
        match event {
            MeetingEvent::MeetingConvened(_) => {}
            MeetingEvent::BureauConstituted(bureau) => {
                record.bureau = Some(BureauRecord {
                    bureau: bureau.clone(),
                    at,
                });
            }
            MeetingEvent::VotingOpened {
                roll,
                at: opened_at,
            } => {
                record.roll = Some(RollRecord {
                    total: roll.total_weight(),
                    roll: roll.clone(),
                    opened_at: *opened_at,
                    at,
                });
            }
            MeetingEvent::ProxyGranted {
                grantor,
                proxy,
                ballot_withdrawn,
                at: given_at,
                paper,
            } => {
                if *ballot_withdrawn {
                    record.withdraw(grantor);
                }
                record.proxies.push(ProxyRecord {
                    grantor: grantor.clone(),
                    proxy: proxy.clone(),
                    granted: at,
                    revoked: None,
                    given_at: *given_at,
                    paper: *paper,
                });
            }
            MeetingEvent::ProxyRevoked {
                grantor,
                ballot_withdrawn,
                ..
            } => {
                if *ballot_withdrawn {
                    record.withdraw(grantor);
                }
                if let Some(p) = record
                    .proxies
                    .iter_mut()
                    .rev()
                    .find(|p| &p.grantor == grantor && p.revoked.is_none())
                {
                    p.revoked = Some(at);
                }
            }
            MeetingEvent::BallotCast {
                voter,
                cast_by,
                choices,
                at: cast_at,
                postal,
                electronic,
                ..
            } => {
                record.withdraw(voter);
                let index = record.ballots.len();
                record.in_force.insert(voter.clone(), index);
                let choices = record.in_agenda_order(choices)?;
                record.ballots.push(BallotRecord {
                    voter: voter.clone(),
                    cast_by: cast_by.clone(),
                    choices,
                    cast_at: *cast_at,
                    postal: *postal,
                    electronic: *electronic,
                    receipt: at,
                    in_force: true,
                });
                let number = *self
                    .numbers
                    .get(meeting)
                    .ok_or_else(|| format!("meeting {meeting} has no number"))?;
                let index =
                    u32::try_from(index).map_err(|_| "more than 2^32 ballots".to_owned())?;
                self.by_holder
                    .entry(voter.clone())
                    .or_default()
                    .push((number, index));
                if cast_by != voter {
                    self.by_holder
                        .entry(cast_by.clone())
                        .or_default()
                        .push((number, index));
                }
            }
            MeetingEvent::MeetingClosed {
                results,
                at: closed_at,
            } => {
                // No ballot, proxy or convocation comes after the close:
                // what was grown for them and is not used is given back.
                record.in_force = HashMap::new();
                record.ballots.shrink_to_fit();
                record.proxies.shrink_to_fit();
                record.convocations.shrink_to_fit();
                record.closed = Some(ClosedRecord {
                    results: results.clone(),
                    closed_at: *closed_at,
                    at,
                });
            }
            MeetingEvent::PostalFormKeptLate {
                voter,
                choices,
                received_at,
                electronic,
                deadline,
            } => {
                let choices = record.in_agenda_order(choices)?;
                record.late_forms.push(LateFormRecord {
                    voter: voter.clone(),
                    choices,
                    received_at: *received_at,
                    electronic: *electronic,
                    deadline: *deadline,
                    at,
                });
            }
            MeetingEvent::ConvocationsSent {
                channel,
                sent_on,
                convocations,
            } => {
                record
                    .convocations
                    .extend(convocations.iter().map(|c| ConvocationRecord {
                        holder: c.holder.clone(),
                        channel: *channel,
                        sent_on: *sent_on,
                        sha256: c.sha256.clone(),
                        at,
                    }));
            }
            MeetingEvent::MinutesRecorded(minutes) => {
                record.minutes = Some(MinutesRecord {
                    minutes: minutes.clone(),
                    at,
                });
            }
            MeetingEvent::MinutesSigned {
                officer,
                document_sha256,
                signature,
                at: signed_at,
            } => {
                record.signatures.push(SignatureRecord {
                    officer: officer.clone(),
                    document_sha256: document_sha256.clone(),
                    signature: signature.clone(),
                    signed_at: *signed_at,
                    at,
                });
            }
        }
        Ok(())
    }
}

impl MeetingRecord {
    /// A ballot's or a form's choices in agenda order, one for each
    /// resolution.
    fn in_agenda_order(&self, choices: &BTreeMap<ResolutionId, Choice>) -> Result<Choices, String> {
        self.convocation
            .agenda
            .iter()
            .map(|item| {
                choices
                    .get(&item.resolution)
                    .copied()
                    .ok_or_else(|| format!("the ballot has no choice for {}", item.resolution))
            })
            .collect()
    }

    /// A ballot's choices by resolution.
    pub fn choices(&self, ballot: &BallotRecord) -> BTreeMap<ResolutionId, Choice> {
        self.convocation
            .agenda
            .iter()
            .zip(&ballot.choices)
            .map(|(item, c)| (item.resolution.clone(), *c))
            .collect()
    }

    fn withdraw(&mut self, voter: &HolderId) {
        if let Some(i) = self.in_force.remove(voter)
            && let Some(b) = self.ballots.get_mut(i)
        {
            b.in_force = false;
        }
    }
}

impl DecisionsRegister {
    pub fn meetings(&self) -> impl Iterator<Item = (&String, &MeetingRecord)> {
        self.meetings.iter()
    }

    pub fn meeting(&self, id: &str) -> Option<&MeetingRecord> {
        self.meetings.get(id)
    }

    /// Every ballot a holder cast or had cast for them, with its meeting,
    /// by meeting id and then in the order cast.
    pub fn ballots_of<'a>(
        &'a self,
        holder: &'a HolderId,
    ) -> impl Iterator<Item = (&'a String, &'a MeetingRecord, &'a BallotRecord)> + 'a {
        let mut found: Vec<(&'a String, &'a MeetingRecord, usize)> = self
            .by_holder
            .get(holder)
            .into_iter()
            .flatten()
            .filter_map(|(number, index)| {
                let meeting = self.numbered.get(usize::try_from(*number).ok()?)?;
                let (id, record) = self.meetings.get_key_value(meeting)?;
                Some((id, record, usize::try_from(*index).ok()?))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(b.0).then(a.2.cmp(&b.2)));
        found
            .into_iter()
            .filter_map(|(id, record, index)| Some((id, record, record.ballots.get(index)?)))
    }
}
