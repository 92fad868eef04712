//! The territory fund (fonds de territoire), one stream a ledger
//! (`territory-fund/<id>`): the residents of the territory registered to
//! take part in its budgeting rounds, and every euro in and out of it.
//!
//! Money comes in from the financial years, as the charter's feed says
//! ([`crate::charter::FundFeed`]), computed to the cent from the year's
//! figures once its accounts are approved, and from grants; it is committed
//! to the projects a budgeting round funded, and goes out in payments, each
//! to one committed project. At every date the balance is what came in
//! less what went out, and what is available is the balance less what is
//! committed and not yet paid: never below zero.
//!
//! Rules chosen where the issue is silent:
//! - the municipality registers residents (its approval); a resident is in
//!   one commune at a time, may move, and may be removed (the pseudonymous
//!   id stays in the log; the person behind it is erased from the vault);
//! - each financial year feeds the fund once, by the charter's rule in
//!   force on the year's last day; a share of dividends counts the
//!   dividends declared on the year so far;
//! - a round's funded projects are committed together, once, if what is
//!   available covers them; what the round did not spend stays available;
//! - grants and payments are dated, never in the future and never before
//!   the latest movement of money already recorded.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::aggregate::aggregate;
use crate::charter::{FeedRule, FundFeed};
use crate::clock::{Clock, not_after};
use crate::domain_event::domain_event;
use crate::finance::FinancialYearEvent;
use crate::money::{Euros, SignedEuros, round_to_cent};
use crate::resolution::{BoxFuture, LookupError};
use crate::same_fields::same_fields;
use crate::types::{
    CommuneCode, HolderId, IdentityCommitment, PartyId, ProposalId, ReportId, ResidentId, RoundId,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum FundCommand {
    /// The municipality approves a resident's registration.
    RegisterResident {
        resident: ResidentId,
        commune: CommuneCode,
        /// The shareholder the resident is, if a shareholder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<HolderId>,
        /// The commitment to the resident's identity, sealed in the vault
        /// beside the ledger (the server computes it from the `person` it
        /// seals): the ledger never holds the person.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<IdentityCommitment>,
    },
    MoveResident {
        resident: ResidentId,
        commune: CommuneCode,
    },
    RemoveResident {
        resident: ResidentId,
    },
    /// A new version of a registered resident's identity (a correction):
    /// the commitment to the version the server sealed in the vault.
    RecordResidentIdentity {
        resident: ResidentId,
        identity: IdentityCommitment,
    },
    /// What the financial year `year` owes the fund, by the charter.
    Feed {
        year: i32,
    },
    ReceiveGrant {
        /// The body that gives (pseudonymous, as any party).
        grantor: PartyId,
        amount: Euros,
        received_on: NaiveDate,
    },
    /// The projects a tallied round funded become commitments of the fund.
    Commit {
        round: RoundId,
    },
    Pay {
        round: RoundId,
        proposal: ProposalId,
        amount: Euros,
        paid_on: NaiveDate,
    },
}

impl FundCommand {
    /// The date a command gives, if any.
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Self::ReceiveGrant { received_on, .. } => Some(*received_on),
            Self::Pay { paid_on, .. } => Some(*paid_on),
            _ => None,
        }
    }
}

/// A project a round funded, and what the fund owes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Commitment {
    pub proposal: ProposalId,
    pub amount: Euros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FundEvent {
    ResidentRegistered {
        resident: ResidentId,
        commune: CommuneCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<HolderId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<IdentityCommitment>,
    },
    ResidentMoved {
        resident: ResidentId,
        commune: CommuneCode,
    },
    ResidentRemoved {
        resident: ResidentId,
    },
    ResidentIdentityRecorded {
        resident: ResidentId,
        identity: IdentityCommitment,
    },
    /// `base` is what the rule applies to: the year's revenue in euros, its
    /// production in MWh, or its dividends in euros; `amount` the base times
    /// the share or the amount per MWh, rounded to the cent (half away from
    /// zero).
    FundFed {
        year: i32,
        feed: FundFeed,
        base: Decimal,
        amount: Euros,
    },
    GrantReceived {
        grantor: PartyId,
        amount: Euros,
        received_on: NaiveDate,
    },
    RoundCommitted {
        round: RoundId,
        commitments: Vec<Commitment>,
        total: Euros,
    },
    ProjectPaid {
        round: RoundId,
        proposal: ProposalId,
        amount: Euros,
        paid_on: NaiveDate,
        /// What the fund still owes the project after this payment.
        outstanding: Euros,
    },
}

/// The command an event is the outcome of: what `verify` decides again
/// (dates of registration, feed and commitment, the amount fed, the
/// commitments and what is still owed are the aggregate's).
impl From<&FundEvent> for FundCommand {
    fn from(event: &FundEvent) -> Self {
        same_fields!(event.clone(), FundEvent => Self {
            ResidentRegistered => RegisterResident { resident, commune, holder, identity },
            ResidentMoved => MoveResident { resident, commune },
            ResidentRemoved => RemoveResident { resident },
            ResidentIdentityRecorded => RecordResidentIdentity { resident, identity },
            FundFed => Feed { year },
            GrantReceived => ReceiveGrant { grantor, amount, received_on },
            RoundCommitted => Commit { round },
            ProjectPaid => Pay { round, proposal, amount, paid_on },
        })
    }
}

impl FundEvent {
    /// The event's stable name (the log's `event_type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ResidentRegistered { .. } => "ResidentRegistered",
            Self::ResidentMoved { .. } => "ResidentMoved",
            Self::ResidentRemoved { .. } => "ResidentRemoved",
            Self::ResidentIdentityRecorded { .. } => "ResidentIdentityRecorded",
            Self::FundFed { .. } => "FundFed",
            Self::GrantReceived { .. } => "GrantReceived",
            Self::RoundCommitted { .. } => "RoundCommitted",
            Self::ProjectPaid { .. } => "ProjectPaid",
        }
    }
}

/// Schema version of every fund event.
pub const FUND_EVENT_VERSION: &str = "1";

domain_event!(FundEvent, FUND_EVENT_VERSION);

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum FundError {
    #[error("{date} is in the future (today is {today}): record a movement once it has happened")]
    InTheFuture { date: NaiveDate, today: NaiveDate },
    #[error(
        "{date} is before {latest}, the latest movement of money already recorded: record them in date order"
    )]
    DateTooEarly { date: NaiveDate, latest: NaiveDate },
    #[error("{0} is already registered")]
    AlreadyRegistered(ResidentId),
    #[error("{0} is not a registered resident")]
    NotAResident(ResidentId),
    #[error("this identity is already the one in force for {0}")]
    SameIdentity(ResidentId),
    #[error("{resident} already lives in {commune}")]
    SameCommune {
        resident: ResidentId,
        commune: CommuneCode,
    },
    #[error("the charter sets no territory fund: amend it to say what feeds the fund")]
    NoFeed,
    #[error("the charter's territory fund is fed from {from_year}, not by {year}")]
    YearBeforeFeed { year: i32, from_year: i32 },
    #[error("no financial year {0}")]
    UnknownYear(i32),
    #[error("the accounts of {0} are not approved yet: the fund is fed once they are")]
    AccountsNotApproved(i32),
    #[error("{0} has already fed the fund")]
    AlreadyFed(i32),
    #[error("{what} is {amount}: amounts are kept to the cent and must be above zero")]
    InvalidAmount { what: &'static str, amount: Euros },
    #[error("round {0} is not tallied: its projects are committed once it is")]
    RoundNotTallied(RoundId),
    #[error("round {0} is already committed")]
    AlreadyCommitted(RoundId),
    #[error("round {round} funded {total}, but the fund has {available} available")]
    InsufficientFunds {
        round: RoundId,
        total: Euros,
        available: Euros,
    },
    #[error("no commitment to {proposal} of round {round}")]
    UnknownCommitment {
        round: RoundId,
        proposal: ProposalId,
    },
    #[error("a payment of {amount} is above the {outstanding} still owed to the project")]
    PaymentAboveOutstanding { amount: Euros, outstanding: Euros },
    #[error("an amount overflowed: check the figures")]
    Overflow,
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

/// A financial year's figures, as its stream records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFigures {
    /// The year's last day.
    pub ends_on: NaiveDate,
    pub accounts_approved: bool,
    /// Every revenue recorded, corrections applied.
    pub revenue: SignedEuros,
    /// Every production reported, corrections applied.
    pub production_mwh: Decimal,
    /// The dividends declared on the year's result.
    pub dividends: Euros,
}

/// A financial year's figures folded from its events: each report in
/// force (a correction replaces the report it corrects), the approval of
/// its accounts, its dividends.
#[derive(Debug, Clone, Default)]
pub struct YearFiguresFold {
    revenue: BTreeMap<ReportId, Decimal>,
    production: BTreeMap<ReportId, Decimal>,
    approved: bool,
    dividends: Decimal,
    ends_on: Option<NaiveDate>,
}

impl YearFiguresFold {
    pub fn apply(&mut self, event: &FinancialYearEvent) {
        use FinancialYearEvent as E;
        if let Some((_, Some(corrected))) = event.report() {
            self.revenue.remove(corrected);
            self.production.remove(corrected);
        }
        match event {
            E::RevenueRecorded { report, amount, .. } => {
                self.revenue.insert(report.clone(), amount.amount());
            }
            E::ProductionReported { report, mwh, .. } => {
                self.production.insert(report.clone(), *mwh);
            }
            E::AccountsApproved { .. } => self.approved = true,
            E::YearOpened { ends_on, .. } => self.ends_on = Some(*ends_on),
            E::DividendDeclared { total, .. } => {
                self.dividends = self.dividends.saturating_add(total.amount());
            }
            _ => {}
        }
    }

    /// The figures so far, once the year is opened (sums saturate rather
    /// than overflow: bounded input never reaches it).
    pub fn figures(&self) -> Option<YearFigures> {
        let sum = |values: &BTreeMap<ReportId, Decimal>| {
            values
                .values()
                .fold(Decimal::ZERO, |a, b| a.saturating_add(*b))
        };
        Some(YearFigures {
            ends_on: self.ends_on?,
            accounts_approved: self.approved,
            revenue: SignedEuros::new(sum(&self.revenue)),
            production_mwh: sum(&self.production),
            dividends: Euros::new(self.dividends).unwrap_or(Euros::ZERO),
        })
    }
}

/// What the fund reads from other streams: the charter's feed in force on
/// a date (company), a financial year's figures, a round's funded projects.
pub trait FundSources: Send + Sync {
    fn feed<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Option<FundFeed>, LookupError>>;

    fn year<'a>(&'a self, year: i32) -> BoxFuture<'a, Result<Option<YearFigures>, LookupError>>;

    /// The projects the round funded, in the order chosen, with their
    /// costs; `None` if the round is unknown or not tallied.
    fn funded<'a>(
        &'a self,
        round: &'a RoundId,
    ) -> BoxFuture<'a, Result<Option<Vec<Commitment>>, LookupError>>;
}

/// Sources known in advance: the tests' fake.
#[derive(Debug, Clone, Default)]
pub struct KnownSources {
    pub feed: Option<FundFeed>,
    pub years: BTreeMap<i32, YearFigures>,
    pub rounds: BTreeMap<RoundId, Vec<Commitment>>,
}

impl FundSources for KnownSources {
    fn feed<'a>(&'a self, _on: NaiveDate) -> BoxFuture<'a, Result<Option<FundFeed>, LookupError>> {
        Box::pin(async move { Ok(self.feed.clone()) })
    }

    fn year<'a>(&'a self, year: i32) -> BoxFuture<'a, Result<Option<YearFigures>, LookupError>> {
        Box::pin(async move { Ok(self.years.get(&year).cloned()) })
    }

    fn funded<'a>(
        &'a self,
        round: &'a RoundId,
    ) -> BoxFuture<'a, Result<Option<Vec<Commitment>>, LookupError>> {
        Box::pin(async move { Ok(self.rounds.get(round).cloned()) })
    }
}

#[derive(Clone)]
pub struct FundServices {
    pub clock: Arc<dyn Clock>,
    pub sources: Arc<dyn FundSources>,
}

impl FundServices {
    pub fn new(clock: impl Clock + 'static, sources: impl FundSources + 'static) -> Self {
        Self {
            clock: Arc::new(clock),
            sources: Arc::new(sources),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Resident {
    commune: CommuneCode,
    holder: Option<HolderId>,
    #[serde(default)]
    identity: Option<IdentityCommitment>,
    /// Every commitment recorded for the resident, the one in force last.
    #[serde(default)]
    recorded: Vec<IdentityCommitment>,
    removed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Owed {
    amount: u64,
    paid: u64,
}

/// The territory fund: its residents and its money, in cents. A ledger
/// has one, on the stream `territory-fund/fund`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerritoryFund {
    residents: BTreeMap<ResidentId, Resident>,
    fed: BTreeMap<i32, u64>,
    grants: u64,
    paid: u64,
    /// By round, then proposal.
    commitments: BTreeMap<RoundId, BTreeMap<ProposalId, Owed>>,
    latest: Option<NaiveDate>,
}

impl TerritoryFund {
    /// The id of the ledger's one fund stream.
    pub const ID: &'static str = "fund";
}

aggregate!(
    TerritoryFund: "territory-fund",
    FundCommand => FundEvent, FundError, FundServices
);

fn cents(what: &'static str, amount: Euros) -> Result<u64, FundError> {
    match amount.cents() {
        Some(c) if c > 0 => Ok(c),
        _ => Err(FundError::InvalidAmount { what, amount }),
    }
}

impl TerritoryFund {
    fn check_clock(command: &FundCommand, clock: &dyn Clock) -> Result<(), FundError> {
        match command.date() {
            Some(date) => not_after(date, clock.today(), |date, today| FundError::InTheFuture {
                date,
                today,
            }),
            None => Ok(()),
        }
    }

    /// The commune a registered resident lives in.
    pub fn commune_of(&self, resident: &ResidentId) -> Option<&CommuneCode> {
        self.residents
            .get(resident)
            .filter(|r| !r.removed)
            .map(|r| &r.commune)
    }

    /// Whether `resident` was registered and has been removed since.
    pub fn was_removed(&self, resident: &ResidentId) -> bool {
        self.residents.get(resident).is_some_and(|r| r.removed)
    }

    /// The commitment to a registered resident's identity in the vault, if
    /// the municipality recorded one.
    pub fn identity_of(&self, resident: &ResidentId) -> Option<&IdentityCommitment> {
        self.residents
            .get(resident)
            .filter(|r| !r.removed)
            .and_then(|r| r.identity.as_ref())
    }

    /// Every commitment to the resident's identity the fund recorded, in
    /// the order recorded (removed residents included: what the vault may
    /// still hold until it forgets them).
    pub fn identities_recorded(&self, resident: &ResidentId) -> &[IdentityCommitment] {
        self.residents
            .get(resident)
            .map(|r| r.recorded.as_slice())
            .unwrap_or_default()
    }

    /// The registered residents, each with its commune and the holder it
    /// is, if a shareholder.
    pub fn residents(
        &self,
    ) -> impl Iterator<Item = (&ResidentId, &CommuneCode, Option<&HolderId>)> {
        self.residents
            .iter()
            .filter(|(_, r)| !r.removed)
            .map(|(id, r)| (id, &r.commune, r.holder.as_ref()))
    }

    /// What came in less what went out, in cents.
    pub fn balance_cents(&self) -> u64 {
        (self.fed.values().sum::<u64>() + self.grants).saturating_sub(self.paid)
    }

    /// What is committed and not yet paid, in cents.
    pub fn outstanding_cents(&self) -> u64 {
        self.commitments
            .values()
            .flat_map(BTreeMap::values)
            .map(|o| o.amount - o.paid)
            .sum()
    }

    /// The balance less what is owed to committed projects.
    pub fn available_cents(&self) -> u64 {
        self.balance_cents()
            .saturating_sub(self.outstanding_cents())
    }

    fn resident(&self, resident: &ResidentId) -> Result<&Resident, FundError> {
        self.residents
            .get(resident)
            .filter(|r| !r.removed)
            .ok_or_else(|| FundError::NotAResident(resident.clone()))
    }

    fn in_order(&self, date: NaiveDate) -> Result<(), FundError> {
        match self.latest {
            Some(latest) if date < latest => Err(FundError::DateTooEarly { date, latest }),
            _ => Ok(()),
        }
    }

    async fn decision(
        &self,
        command: FundCommand,
        services: &FundServices,
    ) -> Result<FundEvent, FundError> {
        match command {
            FundCommand::RegisterResident {
                resident,
                commune,
                holder,
                identity,
            } => {
                if self.residents.get(&resident).is_some_and(|r| !r.removed) {
                    return Err(FundError::AlreadyRegistered(resident));
                }
                Ok(FundEvent::ResidentRegistered {
                    resident,
                    commune,
                    holder,
                    identity,
                })
            }
            FundCommand::MoveResident { resident, commune } => {
                if self.resident(&resident)?.commune == commune {
                    return Err(FundError::SameCommune { resident, commune });
                }
                Ok(FundEvent::ResidentMoved { resident, commune })
            }
            FundCommand::RemoveResident { resident } => {
                self.resident(&resident)?;
                Ok(FundEvent::ResidentRemoved { resident })
            }
            FundCommand::RecordResidentIdentity { resident, identity } => {
                if self.resident(&resident)?.identity.as_ref() == Some(&identity) {
                    return Err(FundError::SameIdentity(resident));
                }
                Ok(FundEvent::ResidentIdentityRecorded { resident, identity })
            }
            FundCommand::Feed { year } => {
                if self.fed.contains_key(&year) {
                    return Err(FundError::AlreadyFed(year));
                }
                let figures = services
                    .sources
                    .year(year)
                    .await?
                    .ok_or(FundError::UnknownYear(year))?;
                if !figures.accounts_approved {
                    return Err(FundError::AccountsNotApproved(year));
                }
                // The charter in force on the year's last day says what
                // the year owes.
                let feed = services
                    .sources
                    .feed(figures.ends_on)
                    .await?
                    .ok_or(FundError::NoFeed)?;
                if year < feed.from_year {
                    return Err(FundError::YearBeforeFeed {
                        year,
                        from_year: feed.from_year,
                    });
                }
                // base x numerator / denominator, rounded once.
                let (base, times, over) = match feed.rule {
                    FeedRule::ShareOfRevenue { share } => (
                        figures.revenue.amount().max(Decimal::ZERO),
                        Decimal::from(share.numerator()),
                        Decimal::from(share.denominator()),
                    ),
                    FeedRule::PerMwh { amount } => {
                        (figures.production_mwh, amount.amount(), Decimal::ONE)
                    }
                    FeedRule::ShareOfDividends { share } => (
                        figures.dividends.amount(),
                        Decimal::from(share.numerator()),
                        Decimal::from(share.denominator()),
                    ),
                };
                let amount = base
                    .checked_mul(times)
                    .and_then(|a| a.checked_div(over))
                    .map(round_to_cent)
                    .and_then(|a| Euros::new(a.max(Decimal::ZERO)).ok())
                    .ok_or(FundError::Overflow)?;
                Ok(FundEvent::FundFed {
                    year,
                    feed,
                    base,
                    amount,
                })
            }
            FundCommand::ReceiveGrant {
                grantor,
                amount,
                received_on,
            } => {
                cents("a grant", amount)?;
                self.in_order(received_on)?;
                Ok(FundEvent::GrantReceived {
                    grantor,
                    amount,
                    received_on,
                })
            }
            FundCommand::Commit { round } => {
                if self.commitments.contains_key(&round) {
                    return Err(FundError::AlreadyCommitted(round));
                }
                let commitments = services
                    .sources
                    .funded(&round)
                    .await?
                    .ok_or_else(|| FundError::RoundNotTallied(round.clone()))?;
                let mut total = 0u64;
                for c in &commitments {
                    total = total
                        .checked_add(cents("a project's cost", c.amount)?)
                        .ok_or(FundError::Overflow)?;
                }
                let available = self.available_cents();
                if total > available {
                    return Err(FundError::InsufficientFunds {
                        round,
                        total: Euros::from_cents(total),
                        available: Euros::from_cents(available),
                    });
                }
                Ok(FundEvent::RoundCommitted {
                    round,
                    commitments,
                    total: Euros::from_cents(total),
                })
            }
            FundCommand::Pay {
                round,
                proposal,
                amount,
                paid_on,
            } => {
                let paying = cents("a payment", amount)?;
                self.in_order(paid_on)?;
                let owed = self
                    .commitments
                    .get(&round)
                    .and_then(|c| c.get(&proposal))
                    .ok_or_else(|| FundError::UnknownCommitment {
                        round: round.clone(),
                        proposal: proposal.clone(),
                    })?;
                let outstanding = owed.amount - owed.paid;
                if paying > outstanding {
                    return Err(FundError::PaymentAboveOutstanding {
                        amount,
                        outstanding: Euros::from_cents(outstanding),
                    });
                }
                Ok(FundEvent::ProjectPaid {
                    round,
                    proposal,
                    amount,
                    paid_on,
                    outstanding: Euros::from_cents(outstanding - paying),
                })
            }
        }
    }

    fn evolve(&mut self, event: FundEvent) {
        let cents = |amount: Euros| amount.cents().unwrap_or_default();
        match event {
            FundEvent::ResidentRegistered {
                resident,
                commune,
                holder,
                identity,
            } => {
                self.residents.insert(
                    resident,
                    Resident {
                        commune,
                        holder,
                        recorded: identity.iter().cloned().collect(),
                        identity,
                        removed: false,
                    },
                );
            }
            FundEvent::ResidentMoved {
                resident, commune, ..
            } => {
                if let Some(r) = self.residents.get_mut(&resident) {
                    r.commune = commune;
                }
            }
            FundEvent::ResidentRemoved { resident, .. } => {
                if let Some(r) = self.residents.get_mut(&resident) {
                    r.removed = true;
                }
            }
            FundEvent::ResidentIdentityRecorded { resident, identity } => {
                if let Some(r) = self.residents.get_mut(&resident) {
                    r.recorded.push(identity.clone());
                    r.identity = Some(identity);
                }
            }
            FundEvent::FundFed { year, amount, .. } => {
                self.fed.insert(year, cents(amount));
            }
            FundEvent::GrantReceived {
                amount,
                received_on,
                ..
            } => {
                self.grants += cents(amount);
                self.latest = self.latest.max(Some(received_on));
            }
            FundEvent::RoundCommitted {
                round, commitments, ..
            } => {
                self.commitments.insert(
                    round,
                    commitments
                        .into_iter()
                        .map(|c| {
                            (
                                c.proposal,
                                Owed {
                                    amount: cents(c.amount),
                                    paid: 0,
                                },
                            )
                        })
                        .collect(),
                );
            }
            FundEvent::ProjectPaid {
                round,
                proposal,
                amount,
                paid_on,
                ..
            } => {
                if let Some(owed) = self
                    .commitments
                    .get_mut(&round)
                    .and_then(|c| c.get_mut(&proposal))
                {
                    owed.paid += cents(amount);
                }
                self.paid += cents(amount);
                self.latest = self.latest.max(Some(paid_on));
            }
        }
    }
}

impl crate::Rule for FundError {
    fn rule(&self) -> &'static str {
        self.into()
    }
}
