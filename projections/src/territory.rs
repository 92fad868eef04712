//! The territory fund and its budgeting rounds as the public reads them
//! (docs/territory.md): the fund's money in and out, by year and in all,
//! reconciled (balance = in − paid; available = balance − owed); the
//! residents counted by commune (never named); each round's proposals with
//! their review, votes and decision once tallied (their proposers never
//! named).
//!
//! Money is kept in cents; a sum that would overflow saturates (bounded
//! input, `windledger_domain::input`, never reaches it).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use windledger_domain::budgeting::fund::FundEvent;
use windledger_domain::budgeting::round::RoundEvent;
use windledger_domain::budgeting::{Decision, Method};
use windledger_domain::charter::FundFeed;
use windledger_domain::money::Euros;
use windledger_domain::types::{CommuneCode, PartyId, ProposalId, ResidentId, RoundId};

use crate::event::{FarmEvent, LedgerEvent};
use crate::runner::Fold;

/// The fund and its rounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Territory {
    residents: BTreeMap<ResidentId, CommuneCode>,
    feeds: Vec<Feed>,
    grants: Vec<Grant>,
    commitments: Vec<Commitment>,
    payments: Vec<Payment>,
    rounds: BTreeMap<String, Round>,
}

/// A financial year's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Feed {
    pub year: i32,
    pub feed: FundFeed,
    /// What the rule applied to: euros of revenue or dividends, or MWh.
    #[cfg_attr(feature = "json-schema", schemars(with = "String"))]
    pub base: rust_decimal::Decimal,
    pub amount: Euros,
    /// The event that recorded it.
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Grant {
    pub grantor: PartyId,
    pub amount: Euros,
    pub received_on: chrono::NaiveDate,
    pub position: u64,
}

/// What the fund owes a project a round funded, and what it paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Commitment {
    pub round: RoundId,
    pub proposal: ProposalId,
    pub amount: Euros,
    pub paid: Euros,
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Payment {
    pub round: RoundId,
    pub proposal: ProposalId,
    pub amount: Euros,
    pub paid_on: chrono::NaiveDate,
    pub position: u64,
}

/// One calendar year of the fund: what came in (the feeds of the financial
/// years ending in it, the grants received in it), what was paid in it,
/// and the balance at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct FundYear {
    pub year: i32,
    pub fed: Euros,
    pub grants: Euros,
    pub paid: Euros,
    pub balance: Euros,
}

/// The fund as the public reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct FundView {
    /// Feeds and grants, in all.
    pub came_in: Euros,
    pub paid: Euros,
    /// What came in less what was paid.
    pub balance: Euros,
    /// Committed and not yet paid.
    pub outstanding: Euros,
    /// The balance less what is owed.
    pub available: Euros,
    pub years: Vec<FundYear>,
    pub feeds: Vec<Feed>,
    pub grants: Vec<Grant>,
    pub commitments: Vec<Commitment>,
    pub payments: Vec<Payment>,
    /// Registered residents by commune.
    pub residents: BTreeMap<CommuneCode, u64>,
    pub rounds: Vec<RoundSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct RoundSummary {
    pub round: String,
    pub method: Method,
    pub budget: Euros,
    pub tallied: bool,
}

/// A round as the public reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Round {
    pub round: String,
    pub method: Method,
    pub budget: Euros,
    pub communes: Vec<CommuneCode>,
    pub submissions_open: DateTime<Utc>,
    pub submissions_close: DateTime<Utc>,
    pub voting_open: DateTime<Utc>,
    pub voting_close: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_approvals: Option<u32>,
    /// In order of submission.
    pub proposals: Vec<Proposal>,
    pub ballots: u64,
    /// Who has voted, for a resident's own page: never in the public read.
    #[serde(skip)]
    #[cfg_attr(feature = "json-schema", schemars(skip))]
    pub voters: BTreeSet<ResidentId>,
    /// Once tallied: what the funded proposals cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spent: Option<Euros>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Proposal {
    pub proposal: ProposalId,
    pub title: String,
    pub description: String,
    pub cost: Euros,
    pub commune: CommuneCode,
    /// `None` until reviewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Once tallied (eligible proposals only): its votes and why it was or
    /// was not funded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub votes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

fn cents(amount: Euros) -> u64 {
    amount.cents().unwrap_or_default()
}

impl Fold for Territory {
    const NAME: &'static str = "territory";

    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String> {
        match event {
            FarmEvent::Fund(event) => self.apply_fund(meta.position, event),
            FarmEvent::Round { round, event } => self.apply_round(round, event),
            _ => Ok(()),
        }
    }
}

impl Territory {
    fn apply_fund(&mut self, position: u64, event: &FundEvent) -> Result<(), String> {
        match event.clone() {
            FundEvent::ResidentRegistered {
                resident, commune, ..
            }
            | FundEvent::ResidentMoved { resident, commune } => {
                self.residents.insert(resident, commune);
            }
            FundEvent::ResidentRemoved { resident } => {
                self.residents.remove(&resident);
            }
            // The identity is the vault's: nothing of it is public.
            FundEvent::ResidentIdentityRecorded { .. } => {}
            FundEvent::FundFed {
                year,
                feed,
                base,
                amount,
            } => self.feeds.push(Feed {
                year,
                feed,
                base,
                amount,
                position,
            }),
            FundEvent::GrantReceived {
                grantor,
                amount,
                received_on,
            } => self.grants.push(Grant {
                grantor,
                amount,
                received_on,
                position,
            }),
            FundEvent::RoundCommitted {
                round, commitments, ..
            } => self
                .commitments
                .extend(commitments.into_iter().map(|c| Commitment {
                    round: round.clone(),
                    proposal: c.proposal,
                    amount: c.amount,
                    paid: Euros::ZERO,
                    position,
                })),
            FundEvent::ProjectPaid {
                round,
                proposal,
                amount,
                paid_on,
                ..
            } => {
                let owed = self
                    .commitments
                    .iter_mut()
                    .find(|c| c.round == round && c.proposal == proposal)
                    .ok_or_else(|| {
                        format!("a payment to {proposal} of {round}, never committed")
                    })?;
                owed.paid = Euros::from_cents(cents(owed.paid).saturating_add(cents(amount)));
                self.payments.push(Payment {
                    round,
                    proposal,
                    amount,
                    paid_on,
                    position,
                });
            }
        }
        Ok(())
    }

    fn apply_round(&mut self, id: &str, event: &RoundEvent) -> Result<(), String> {
        let rounds = &mut self.rounds;
        fn convened<'a>(
            rounds: &'a mut BTreeMap<String, Round>,
            id: &str,
        ) -> Result<&'a mut Round, String> {
            rounds
                .get_mut(id)
                .ok_or_else(|| format!("round {id} is not convened"))
        }
        match event.clone() {
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
                rounds.insert(
                    id.to_owned(),
                    Round {
                        round: id.to_owned(),
                        method,
                        budget,
                        communes,
                        submissions_open,
                        submissions_close,
                        voting_open,
                        voting_close,
                        max_approvals,
                        proposals: Vec::new(),
                        ballots: 0,
                        voters: BTreeSet::new(),
                        spent: None,
                    },
                );
            }
            RoundEvent::ProposalSubmitted {
                proposal,
                title,
                description,
                cost,
                commune,
                ..
            } => convened(rounds, id)?.proposals.push(Proposal {
                proposal,
                title,
                description,
                cost,
                commune,
                eligible: None,
                reason: None,
                votes: None,
                decision: None,
            }),
            RoundEvent::ProposalReviewed {
                proposal,
                eligible,
                reason,
                ..
            } => {
                let p = convened(rounds, id)?
                    .proposals
                    .iter_mut()
                    .find(|p| p.proposal == proposal)
                    .ok_or_else(|| format!("a review of {proposal}, never submitted"))?;
                p.eligible = Some(eligible);
                p.reason = reason;
            }
            RoundEvent::BallotCast { resident, .. } => {
                let round = convened(rounds, id)?;
                round.ballots += 1;
                round.voters.insert(resident);
            }
            RoundEvent::RoundTallied {
                proposals, outcome, ..
            } => {
                let round = convened(rounds, id)?;
                for (id, result) in proposals.iter().zip(outcome.projects) {
                    if let Some(p) = round.proposals.iter_mut().find(|p| &p.proposal == id) {
                        p.votes = Some(result.votes);
                        p.decision = Some(result.decision);
                    }
                }
                round.spent = Some(outcome.spent);
            }
        }
        Ok(())
    }

    pub fn round(&self, id: &str) -> Option<&Round> {
        self.rounds.get(id)
    }

    /// The registered residents, each with its commune: for the
    /// municipality, never in the public read.
    pub fn residents(&self) -> &BTreeMap<ResidentId, CommuneCode> {
        &self.residents
    }

    /// The fund, reconciled.
    pub fn fund(&self) -> FundView {
        let fed: u64 = self.feeds.iter().map(|f| cents(f.amount)).sum();
        let granted: u64 = self.grants.iter().map(|g| cents(g.amount)).sum();
        let paid: u64 = self.payments.iter().map(|p| cents(p.amount)).sum();
        let committed: u64 = self.commitments.iter().map(|c| cents(c.amount)).sum();
        let came_in = fed.saturating_add(granted);
        let balance = came_in.saturating_sub(paid);
        let outstanding = committed.saturating_sub(paid);
        let mut years: BTreeMap<i32, (u64, u64, u64)> = BTreeMap::new();
        for f in &self.feeds {
            years.entry(f.year).or_default().0 += cents(f.amount);
        }
        for g in &self.grants {
            years.entry(g.received_on.year()).or_default().1 += cents(g.amount);
        }
        for p in &self.payments {
            years.entry(p.paid_on.year()).or_default().2 += cents(p.amount);
        }
        let mut running: i128 = 0;
        let years = years
            .into_iter()
            .map(|(year, (fed, grants, paid))| {
                running += i128::from(fed) + i128::from(grants) - i128::from(paid);
                FundYear {
                    year,
                    fed: Euros::from_cents(fed),
                    grants: Euros::from_cents(grants),
                    paid: Euros::from_cents(paid),
                    balance: Euros::from_cents(u64::try_from(running.max(0)).unwrap_or(0)),
                }
            })
            .collect();
        let mut residents = BTreeMap::new();
        for commune in self.residents.values() {
            *residents.entry(commune.clone()).or_default() += 1;
        }
        FundView {
            came_in: Euros::from_cents(came_in),
            paid: Euros::from_cents(paid),
            balance: Euros::from_cents(balance),
            outstanding: Euros::from_cents(outstanding),
            available: Euros::from_cents(balance.saturating_sub(outstanding)),
            years,
            feeds: self.feeds.clone(),
            grants: self.grants.clone(),
            commitments: self.commitments.clone(),
            payments: self.payments.clone(),
            residents,
            rounds: self
                .rounds
                .values()
                .map(|r| RoundSummary {
                    round: r.round.clone(),
                    method: r.method,
                    budget: r.budget,
                    tallied: r.spent.is_some(),
                })
                .collect(),
        }
    }
}
