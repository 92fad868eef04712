//! A budgeting round of the territory fund, each a stream of its own
//! (`budgeting-round/<id>`): the municipality convenes it with a budget,
//! a method and two windows; residents of the territory's communes submit
//! proposals in the first; the municipality marks each eligible or not,
//! with a reason; residents approve eligible proposals in the second; once
//! voting has closed the outcome is computed ([`super::Election`]) and
//! recorded, so that `verify` computes it again from the ballots.
//!
//! Windows are instants, each from its opening (included) to its closing
//! (excluded). Each step carries the instant it happens at, which the
//! server's clock gives (never the client's) and which may not be later
//! than the clock: a proposal is taken only in the submission window, a
//! ballot only in the voting window, the tally only once voting has
//! closed. Rules chosen where the issue is silent:
//! - the submission window closes before the voting window opens, and
//!   proposals are reviewed until voting opens (a review may be changed
//!   until then, the last one counts);
//! - a proposal costs at most the round's budget, and is in one of the
//!   round's communes;
//! - a resident casts one ballot, which is final, approving at least one
//!   eligible proposal and at most `max_approvals` if the round sets it;
//! - a proposal not marked eligible by the time voting opens is not on the
//!   ballot;
//! - ballots are recorded under the resident's pseudonymous id, as Pabulib
//!   publishes them, so that anyone holding the log can count them again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::fund::Commitment;
use super::{Election, Method, Outcome, Project};
use crate::aggregate::aggregate;
use crate::clock::{Clock, not_after};
use crate::domain_event::domain_event;
use crate::money::Euros;
use crate::resolution::{BoxFuture, LookupError};
use crate::same_fields::same_fields;
use crate::types::{CommuneCode, ProposalId, ResidentId, RoundId};

/// Longest title of a proposal, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description of a proposal, in characters.
pub const MAX_DESCRIPTION: usize = 4_000;
/// Longest reason given for an ineligible proposal, in characters.
pub const MAX_REASON: usize = 1_000;
/// Most proposals a round takes.
pub const MAX_PROPOSALS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum RoundCommand {
    Convene {
        round: RoundId,
        method: Method,
        budget: Euros,
        /// The communes whose residents take part.
        communes: Vec<CommuneCode>,
        submissions_open: DateTime<Utc>,
        submissions_close: DateTime<Utc>,
        voting_open: DateTime<Utc>,
        voting_close: DateTime<Utc>,
        /// Most proposals one ballot may approve; any number if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_approvals: Option<u32>,
    },
    Submit {
        proposal: ProposalId,
        resident: ResidentId,
        title: String,
        description: String,
        cost: Euros,
        commune: CommuneCode,
        /// When the proposal is received: the server's clock.
        submitted_at: DateTime<Utc>,
    },
    Review {
        proposal: ProposalId,
        eligible: bool,
        /// Why it is not eligible: required then, refused otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        reviewed_at: DateTime<Utc>,
    },
    Vote {
        resident: ResidentId,
        approvals: Vec<ProposalId>,
        /// When the ballot is received: the server's clock.
        cast_at: DateTime<Utc>,
    },
    Tally {
        tallied_at: DateTime<Utc>,
    },
}

impl RoundCommand {
    /// The instant the command happens at, which the server's clock gives.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Convene { .. } => None,
            Self::Submit { submitted_at, .. } => Some(*submitted_at),
            Self::Review { reviewed_at, .. } => Some(*reviewed_at),
            Self::Vote { cast_at, .. } => Some(*cast_at),
            Self::Tally { tallied_at } => Some(*tallied_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoundEvent {
    RoundConvened {
        round: RoundId,
        method: Method,
        budget: Euros,
        communes: Vec<CommuneCode>,
        submissions_open: DateTime<Utc>,
        submissions_close: DateTime<Utc>,
        voting_open: DateTime<Utc>,
        voting_close: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_approvals: Option<u32>,
    },
    ProposalSubmitted {
        proposal: ProposalId,
        resident: ResidentId,
        title: String,
        description: String,
        cost: Euros,
        commune: CommuneCode,
        submitted_at: DateTime<Utc>,
    },
    ProposalReviewed {
        proposal: ProposalId,
        eligible: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        reviewed_at: DateTime<Utc>,
    },
    BallotCast {
        resident: ResidentId,
        /// The resident's commune when voting, from the roll of residents.
        commune: CommuneCode,
        approvals: Vec<ProposalId>,
        cast_at: DateTime<Utc>,
    },
    /// The outcome: `proposals` are the eligible proposals in order of
    /// submission (the election's projects, the outcome's indices), the
    /// outcome computed from every ballot by the round's method.
    RoundTallied {
        proposals: Vec<ProposalId>,
        ballots: u64,
        outcome: Outcome,
        tallied_at: DateTime<Utc>,
    },
}

/// The command an event is the outcome of: what `verify` decides again
/// (the dates and the tally are the aggregate's, from the clock and the
/// ballots).
impl From<&RoundEvent> for RoundCommand {
    fn from(event: &RoundEvent) -> Self {
        same_fields!(event.clone(), RoundEvent => Self {
            RoundConvened => Convene {
                round, method, budget, communes, submissions_open, submissions_close,
                voting_open, voting_close, max_approvals,
            },
            ProposalSubmitted => Submit {
                proposal, resident, title, description, cost, commune, submitted_at,
            },
            ProposalReviewed => Review { proposal, eligible, reason, reviewed_at },
            BallotCast => Vote { resident, approvals, cast_at },
            RoundTallied => Tally { tallied_at },
        })
    }
}

impl RoundEvent {
    /// The event's stable name (the log's `event_type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::RoundConvened { .. } => "RoundConvened",
            Self::ProposalSubmitted { .. } => "ProposalSubmitted",
            Self::ProposalReviewed { .. } => "ProposalReviewed",
            Self::BallotCast { .. } => "BudgetBallotCast",
            Self::RoundTallied { .. } => "RoundTallied",
        }
    }
}

/// Schema version of every round event.
pub const ROUND_EVENT_VERSION: &str = "1";

domain_event!(RoundEvent, ROUND_EVENT_VERSION);

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum RoundError {
    #[error("the round is already convened")]
    RoundAlreadyConvened,
    #[error("the round is not convened")]
    RoundNotConvened,
    #[error("the round's budget must be a positive amount in whole cents, not {0}")]
    InvalidBudget(Euros),
    #[error("a round names at least one commune, each once")]
    InvalidCommunes,
    #[error(
        "the windows must follow each other: submissions from {submissions_open} to {submissions_close}, then voting from {voting_open} to {voting_close}"
    )]
    InvalidWindows {
        submissions_open: DateTime<Utc>,
        submissions_close: DateTime<Utc>,
        voting_open: DateTime<Utc>,
        voting_close: DateTime<Utc>,
    },
    #[error("a ballot approves at least one proposal: max_approvals cannot be 0")]
    InvalidMaxApprovals,
    #[error("{at} is in the future (it is {now}): the server's clock dates each step")]
    InTheFuture {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("proposals are taken from {open} until {close}, not at {at}")]
    OutsideSubmissions {
        at: DateTime<Utc>,
        open: DateTime<Utc>,
        close: DateTime<Utc>,
    },
    #[error("proposals are reviewed until voting opens at {voting_open}, not at {at}")]
    ReviewClosed {
        at: DateTime<Utc>,
        voting_open: DateTime<Utc>,
    },
    #[error("ballots are taken from {open} until {close}, not at {at}")]
    OutsideVoting {
        at: DateTime<Utc>,
        open: DateTime<Utc>,
        close: DateTime<Utc>,
    },
    #[error("the round is counted once voting has closed at {voting_close}, not at {at}")]
    VotingNotClosed {
        at: DateTime<Utc>,
        voting_close: DateTime<Utc>,
    },
    #[error("the round is already counted")]
    AlreadyTallied,
    #[error("{0} is not a registered resident of the territory")]
    NotAResident(ResidentId),
    #[error("{resident} lives in {commune}, which is not one of the round's communes")]
    CommuneNotInRound {
        resident: ResidentId,
        commune: CommuneCode,
    },
    #[error("the proposal is for {0}, which is not one of the round's communes")]
    ProposalCommuneNotInRound(CommuneCode),
    #[error("proposal {0} is already submitted")]
    DuplicateProposal(ProposalId),
    #[error("the round takes at most {MAX_PROPOSALS} proposals")]
    TooManyProposals,
    #[error("no proposal {0} in this round")]
    UnknownProposal(ProposalId),
    #[error("a proposal's {what} is at most {max} characters and not empty")]
    InvalidText { what: &'static str, max: usize },
    #[error(
        "a proposal's cost must be a positive amount in whole cents, at most the budget {budget}, not {cost}"
    )]
    InvalidCost { cost: Euros, budget: Euros },
    #[error("an ineligible proposal is given a reason, and only an ineligible one")]
    ReasonMisfit,
    #[error("{0} has already voted: a ballot is final")]
    AlreadyVoted(ResidentId),
    #[error("a ballot approves at least one proposal, and each once")]
    InvalidApprovals,
    #[error("a ballot approves at most {max} proposals, not {count}")]
    TooManyApprovals { max: u32, count: usize },
    #[error("proposal {0} is not on the ballot: it was not found eligible")]
    NotOnTheBallot(ProposalId),
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

/// The roll of the territory's residents: whether a resident is
/// registered on a day, and in which commune. The fund's stream keeps it;
/// the tests' fake is [`KnownResidents`].
pub trait ResidentRoll: Send + Sync {
    fn commune<'a>(
        &'a self,
        resident: &'a ResidentId,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<Option<CommuneCode>, LookupError>>;
}

/// Residents known in advance, each in a commune: the tests' fake.
#[derive(Debug, Clone, Default)]
pub struct KnownResidents(pub BTreeMap<ResidentId, CommuneCode>);

impl ResidentRoll for KnownResidents {
    fn commune<'a>(
        &'a self,
        resident: &'a ResidentId,
        _on: NaiveDate,
    ) -> BoxFuture<'a, Result<Option<CommuneCode>, LookupError>> {
        Box::pin(async move { Ok(self.0.get(resident).cloned()) })
    }
}

/// What a round needs from outside its stream: the clock, and the roll of
/// residents.
#[derive(Clone)]
pub struct RoundServices {
    pub clock: Arc<dyn Clock>,
    pub residents: Arc<dyn ResidentRoll>,
}

impl RoundServices {
    pub fn new(clock: impl Clock + 'static, residents: impl ResidentRoll + 'static) -> Self {
        Self {
            clock: Arc::new(clock),
            residents: Arc::new(residents),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Convened {
    method: Method,
    budget: Euros,
    communes: BTreeSet<CommuneCode>,
    submissions_open: DateTime<Utc>,
    submissions_close: DateTime<Utc>,
    voting_open: DateTime<Utc>,
    voting_close: DateTime<Utc>,
    max_approvals: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Proposal {
    id: ProposalId,
    cost: Euros,
    eligible: Option<bool>,
}

/// One budgeting round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetingRound {
    convened: Option<Convened>,
    /// In order of submission.
    proposals: Vec<Proposal>,
    /// Each ballot's approvals (indices into `proposals`), in the order
    /// cast, and who cast it.
    ballots: Vec<Vec<usize>>,
    voters: BTreeSet<ResidentId>,
    /// Once tallied: the funded proposals, in the order chosen, with their
    /// costs.
    funded: Option<Vec<Commitment>>,
}

aggregate!(
    BudgetingRound: "budgeting-round",
    RoundCommand => RoundEvent, RoundError, RoundServices
);

fn text(value: &str, what: &'static str, max: usize) -> Result<(), RoundError> {
    let length = value.chars().count();
    if value.trim().is_empty() || length > max {
        Err(RoundError::InvalidText { what, max })
    } else {
        Ok(())
    }
}

fn positive_cents(amount: Euros) -> bool {
    amount.cents().is_some_and(|c| c > 0)
}

impl BudgetingRound {
    /// Nothing is recorded before it happens; the windows are checked
    /// against the command's instant in `decision`.
    fn check_clock(command: &RoundCommand, clock: &dyn Clock) -> Result<(), RoundError> {
        match command.at() {
            Some(at) => not_after(at, clock.now(), |at, now| RoundError::InTheFuture {
                at,
                now,
            }),
            None => Ok(()),
        }
    }

    fn index_of(&self, proposal: &ProposalId) -> Result<usize, RoundError> {
        self.proposals
            .iter()
            .position(|p| &p.id == proposal)
            .ok_or_else(|| RoundError::UnknownProposal(proposal.clone()))
    }

    /// The resident's commune today, if registered and in the round.
    async fn resident(
        round: &Convened,
        resident: &ResidentId,
        services: &RoundServices,
        at: DateTime<Utc>,
    ) -> Result<CommuneCode, RoundError> {
        let commune = services
            .residents
            .commune(resident, crate::paris::paris_date(at))
            .await?
            .ok_or_else(|| RoundError::NotAResident(resident.clone()))?;
        if round.communes.contains(&commune) {
            Ok(commune)
        } else {
            Err(RoundError::CommuneNotInRound {
                resident: resident.clone(),
                commune,
            })
        }
    }

    /// The funded proposals with their costs, in the order chosen, once
    /// the round is tallied.
    pub fn funded(&self) -> Option<&[Commitment]> {
        self.funded.as_deref()
    }

    /// The election the ballots make: the eligible proposals in order of
    /// submission, each ballot's approvals among them.
    pub fn election(&self) -> Option<(Vec<ProposalId>, Election)> {
        let round = self.convened.as_ref()?;
        let mut position = vec![None; self.proposals.len()];
        let mut ids = Vec::new();
        let mut projects = Vec::new();
        for (index, proposal) in self.proposals.iter().enumerate() {
            if proposal.eligible == Some(true) {
                position[index] = Some(projects.len());
                ids.push(proposal.id.clone());
                projects.push(Project {
                    id: proposal.id.to_string(),
                    cost: proposal.cost,
                });
            }
        }
        let ballots = self
            .ballots
            .iter()
            .map(|b| b.iter().filter_map(|&p| position[p]).collect())
            .collect();
        // Checked when each was recorded: budget and costs in whole cents
        // above zero, ids unique, approvals of listed proposals.
        let election = Election::new(round.budget, projects, ballots).ok()?;
        Some((ids, election))
    }

    async fn decision(
        &self,
        command: RoundCommand,
        services: &RoundServices,
    ) -> Result<RoundEvent, RoundError> {
        let round = match (&command, &self.convened) {
            (RoundCommand::Convene { .. }, Some(_)) => {
                return Err(RoundError::RoundAlreadyConvened);
            }
            (RoundCommand::Convene { .. }, None) => None,
            (_, None) => return Err(RoundError::RoundNotConvened),
            (_, Some(round)) => Some(round),
        };
        if self.funded.is_some() {
            return Err(RoundError::AlreadyTallied);
        }
        match (command, round) {
            (
                RoundCommand::Convene {
                    round,
                    method,
                    budget,
                    communes,
                    submissions_open,
                    submissions_close,
                    voting_open,
                    voting_close,
                    max_approvals,
                },
                _,
            ) => {
                if !positive_cents(budget) {
                    return Err(RoundError::InvalidBudget(budget));
                }
                let distinct: BTreeSet<_> = communes.iter().collect();
                if communes.is_empty() || distinct.len() != communes.len() {
                    return Err(RoundError::InvalidCommunes);
                }
                if !(submissions_open < submissions_close
                    && submissions_close <= voting_open
                    && voting_open < voting_close)
                {
                    return Err(RoundError::InvalidWindows {
                        submissions_open,
                        submissions_close,
                        voting_open,
                        voting_close,
                    });
                }
                if max_approvals == Some(0) {
                    return Err(RoundError::InvalidMaxApprovals);
                }
                Ok(RoundEvent::RoundConvened {
                    round,
                    method,
                    budget,
                    communes,
                    submissions_open,
                    submissions_close,
                    voting_open,
                    voting_close,
                    max_approvals,
                })
            }
            (
                RoundCommand::Submit {
                    proposal,
                    resident,
                    title,
                    description,
                    cost,
                    commune,
                    submitted_at,
                },
                Some(round),
            ) => {
                if submitted_at < round.submissions_open || submitted_at >= round.submissions_close
                {
                    return Err(RoundError::OutsideSubmissions {
                        at: submitted_at,
                        open: round.submissions_open,
                        close: round.submissions_close,
                    });
                }
                if self.proposals.iter().any(|p| p.id == proposal) {
                    return Err(RoundError::DuplicateProposal(proposal));
                }
                if self.proposals.len() >= MAX_PROPOSALS {
                    return Err(RoundError::TooManyProposals);
                }
                text(&title, "title", MAX_TITLE)?;
                if description.chars().count() > MAX_DESCRIPTION {
                    return Err(RoundError::InvalidText {
                        what: "description",
                        max: MAX_DESCRIPTION,
                    });
                }
                if !positive_cents(cost) || cost > round.budget {
                    return Err(RoundError::InvalidCost {
                        cost,
                        budget: round.budget,
                    });
                }
                if !round.communes.contains(&commune) {
                    return Err(RoundError::ProposalCommuneNotInRound(commune));
                }
                Self::resident(round, &resident, services, submitted_at).await?;
                Ok(RoundEvent::ProposalSubmitted {
                    proposal,
                    resident,
                    title,
                    description,
                    cost,
                    commune,
                    submitted_at,
                })
            }
            (
                RoundCommand::Review {
                    proposal,
                    eligible,
                    reason,
                    reviewed_at,
                },
                Some(round),
            ) => {
                if reviewed_at >= round.voting_open {
                    return Err(RoundError::ReviewClosed {
                        at: reviewed_at,
                        voting_open: round.voting_open,
                    });
                }
                self.index_of(&proposal)?;
                match (&reason, eligible) {
                    (None, true) => {}
                    (Some(reason), false) => text(reason, "reason", MAX_REASON)?,
                    _ => return Err(RoundError::ReasonMisfit),
                }
                Ok(RoundEvent::ProposalReviewed {
                    proposal,
                    eligible,
                    reason,
                    reviewed_at,
                })
            }
            (
                RoundCommand::Vote {
                    resident,
                    approvals,
                    cast_at,
                },
                Some(round),
            ) => {
                if cast_at < round.voting_open || cast_at >= round.voting_close {
                    return Err(RoundError::OutsideVoting {
                        at: cast_at,
                        open: round.voting_open,
                        close: round.voting_close,
                    });
                }
                if self.voters.contains(&resident) {
                    return Err(RoundError::AlreadyVoted(resident));
                }
                let distinct: BTreeSet<_> = approvals.iter().collect();
                if approvals.is_empty() || distinct.len() != approvals.len() {
                    return Err(RoundError::InvalidApprovals);
                }
                if let Some(max) = round.max_approvals
                    && approvals.len() > max as usize
                {
                    return Err(RoundError::TooManyApprovals {
                        max,
                        count: approvals.len(),
                    });
                }
                for proposal in &approvals {
                    let index = self.index_of(proposal)?;
                    if self.proposals[index].eligible != Some(true) {
                        return Err(RoundError::NotOnTheBallot(proposal.clone()));
                    }
                }
                let commune = Self::resident(round, &resident, services, cast_at).await?;
                Ok(RoundEvent::BallotCast {
                    resident,
                    commune,
                    approvals,
                    cast_at,
                })
            }
            (RoundCommand::Tally { tallied_at }, Some(round)) => {
                if tallied_at < round.voting_close {
                    return Err(RoundError::VotingNotClosed {
                        at: tallied_at,
                        voting_close: round.voting_close,
                    });
                }
                let (proposals, election) = self.election().ok_or(RoundError::RoundNotConvened)?;
                Ok(RoundEvent::RoundTallied {
                    proposals,
                    ballots: self.ballots.len() as u64,
                    outcome: election.outcome(round.method),
                    tallied_at,
                })
            }
            (_, None) => Err(RoundError::RoundNotConvened),
        }
    }

    fn evolve(&mut self, event: RoundEvent) {
        match event {
            RoundEvent::RoundConvened {
                method,
                budget,
                communes,
                submissions_open,
                submissions_close,
                voting_open,
                voting_close,
                max_approvals,
                ..
            } => {
                self.convened = Some(Convened {
                    method,
                    budget,
                    communes: communes.into_iter().collect(),
                    submissions_open,
                    submissions_close,
                    voting_open,
                    voting_close,
                    max_approvals,
                });
            }
            RoundEvent::ProposalSubmitted { proposal, cost, .. } => {
                self.proposals.push(Proposal {
                    id: proposal,
                    cost,
                    eligible: None,
                });
            }
            RoundEvent::ProposalReviewed {
                proposal, eligible, ..
            } => {
                if let Some(p) = self.proposals.iter_mut().find(|p| p.id == proposal) {
                    p.eligible = Some(eligible);
                }
            }
            RoundEvent::BallotCast {
                resident,
                approvals,
                ..
            } => {
                let ballot = approvals
                    .iter()
                    .filter_map(|a| self.proposals.iter().position(|p| &p.id == a))
                    .collect();
                self.ballots.push(ballot);
                self.voters.insert(resident);
            }
            RoundEvent::RoundTallied {
                proposals, outcome, ..
            } => {
                let cost = |id: &ProposalId| {
                    self.proposals
                        .iter()
                        .find(|p| &p.id == id)
                        .map_or(Euros::ZERO, |p| p.cost)
                };
                self.funded = Some(
                    outcome
                        .funded
                        .iter()
                        .filter_map(|&i| proposals.get(i))
                        .map(|id| Commitment {
                            proposal: id.clone(),
                            amount: cost(id),
                        })
                        .collect(),
                );
            }
        }
    }
}

impl crate::Rule for RoundError {
    fn rule(&self) -> &'static str {
        self.into()
    }
}
