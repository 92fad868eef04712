//! The decisions register: every meeting with its agenda, roll, proxies,
//! ballots, tally and outcome, and the position and hash of each event
//! behind them. What the municipality audits.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use windledger_domain::meeting::{
    Bureau, Choice, Convocation, MeetingEvent, ResolutionResult, Roll,
};
use windledger_domain::types::{HolderId, ResolutionId};

use crate::event::{EventRef, FarmEvent, LedgerEvent};
use crate::runner::Fold;

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct BallotRecord {
    pub voter: HolderId,
    /// The voter, or the proxy who cast it for them.
    pub cast_by: HolderId,
    /// One per resolution, in agenda order (see [`MeetingRecord::choices`]).
    pub choices: Vec<Choice>,
    /// When it was cast; for a postal form, when it was received.
    pub cast_at: DateTime<Utc>,
    /// A postal voting form entered by the secretary (vote par
    /// correspondance); its receipt's recording time may be after the window.
    pub postal: bool,
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
                ..
            } => {
                if *ballot_withdrawn {
                    record.withdraw(grantor);
                }
                record.proxies.push(ProxyRecord {
                    grantor: grantor.clone(),
                    proxy: proxy.clone(),
                    granted: at,
                    revoked: None,
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
                ..
            } => {
                record.withdraw(voter);
                let index = record.ballots.len();
                record.in_force.insert(voter.clone(), index);
                let choices = record
                    .convocation
                    .agenda
                    .iter()
                    .map(|item| {
                        choices.get(&item.resolution).copied().ok_or_else(|| {
                            format!("the ballot has no choice for {}", item.resolution)
                        })
                    })
                    .collect::<Result<_, _>>()?;
                record.ballots.push(BallotRecord {
                    voter: voter.clone(),
                    cast_by: cast_by.clone(),
                    choices,
                    cast_at: *cast_at,
                    postal: *postal,
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
                // No ballot comes after the close.
                record.in_force = HashMap::new();
                record.closed = Some(ClosedRecord {
                    results: results.clone(),
                    closed_at: *closed_at,
                    at,
                });
            }
        }
        Ok(())
    }
}

impl MeetingRecord {
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
