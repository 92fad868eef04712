//! The command vocabulary of a ledger ([`Command`]: one variant per
//! aggregate) and the one way a command runs ([`Aggregates::run`]: load the
//! aggregate, let it decide, append its events, return their receipts).
//! The importer, the API and the pages all run commands through it; a fifth
//! aggregate is added here and in the domain only.

use std::collections::HashMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore};
use serde::Serialize;
use windledger_domain::Rule;
use windledger_domain::budgeting::fund::{FundCommand, FundServices, TerritoryFund};
use windledger_domain::budgeting::round::{BudgetingRound, RoundCommand, RoundServices};
use windledger_domain::cap_table::CapTableService;
use windledger_domain::company::{Company, CompanyCommand, CompanyServices};
use windledger_domain::finance::{
    AdvanceCommand, AdvanceServices, CurrentAccountAdvance, FinancialYear, FinancialYearCommand,
    FinancialYearServices,
};
use windledger_domain::meeting::{Meeting, MeetingCommand, MeetingServices};
use windledger_store::{
    HASH_KEY, LedgerEventStore, LedgerId, POSITION_KEY, RecordedEvent, Store, StoreError,
};

use crate::error::{Error, ErrorKind};
use crate::services::{
    FundResidents, LedgerFundSources, MeetingResolutions, SystemClock, YearClosings,
};

/// A command of one of the aggregate types, as a line names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Boxed: an incorporation or a charter amendment carries a charter.
    Company(Box<CompanyCommand>),
    Meeting(MeetingCommand),
    FinancialYear(FinancialYearCommand),
    Advance(AdvanceCommand),
    /// A budgeting round of the territory fund.
    Round(RoundCommand),
    /// The territory fund (one a ledger).
    Fund(FundCommand),
}

impl Command {
    /// The bounds every command entering windledger must respect
    /// (`windledger_domain::input`): checked by the API, the pages and the
    /// import before a command runs, never when a recorded event is decided
    /// again.
    pub fn check_input(&self) -> Result<(), windledger_domain::types::ParseError> {
        match self {
            Self::Company(c) => c.check_input(),
            Self::Meeting(c) => c.check_input(),
            Self::FinancialYear(c) => c.check_input(),
            Self::Advance(c) => c.check_input(),
            Self::Round(c) => c.check_input(),
            Self::Fund(c) => c.check_input(),
        }
    }
}

impl Command {
    /// The command a stream type's JSON names (`kind` is the part of the
    /// stream id before the `/`).
    pub fn parse(kind: &str, json: &str) -> Result<Self, String> {
        let decoded = match kind {
            k if k == Company::TYPE => decode(json).map(|c| Command::Company(Box::new(c))),
            k if k == Meeting::TYPE => decode(json).map(Command::Meeting),
            k if k == FinancialYear::TYPE => decode(json).map(Command::FinancialYear),
            k if k == CurrentAccountAdvance::TYPE => decode(json).map(Command::Advance),
            k if k == BudgetingRound::TYPE => decode(json).map(Command::Round),
            k if k == TerritoryFund::TYPE => decode(json).map(Command::Fund),
            other => {
                return Err(format!(
                    "unknown stream type {other:?}: the types are {}",
                    Self::stream_types()
                ));
            }
        };
        decoded.map_err(|reason| format!("not a {kind} command: {reason}"))
    }

    /// The stream types, for messages.
    pub fn stream_types() -> String {
        [
            Company::TYPE,
            Meeting::TYPE,
            FinancialYear::TYPE,
            CurrentAccountAdvance::TYPE,
            BudgetingRound::TYPE,
            TerritoryFund::TYPE,
        ]
        .join(", ")
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// What the aggregates cannot check themselves: that a command naming its
/// own stream's id names the stream it is sent to.
pub fn check_aggregate_id(command: &Command, aggregate_id: &str) -> Result<(), String> {
    match command {
        Command::Company(_) => Ok(()),
        Command::Meeting(c) => check_meeting_id(c, aggregate_id),
        Command::FinancialYear(c) => check_year_id(c, aggregate_id),
        Command::Advance(c) => check_advance_id(c, aggregate_id),
        Command::Round(c) => check_round_id(c, aggregate_id),
        Command::Fund(_) => check_fund_id(aggregate_id),
    }
}

/// A ledger has one fund, on its one stream.
pub(crate) fn check_fund_id(aggregate_id: &str) -> Result<(), String> {
    same_id(TerritoryFund::ID, aggregate_id)
}

/// A convocation names its round: the stream's.
pub(crate) fn check_round_id(command: &RoundCommand, aggregate_id: &str) -> Result<(), String> {
    match command {
        RoundCommand::Convene { round, .. } => same_id(round.as_str(), aggregate_id),
        _ => Ok(()),
    }
}

/// A convocation names its meeting: the stream's.
pub(crate) fn check_meeting_id(command: &MeetingCommand, aggregate_id: &str) -> Result<(), String> {
    match command {
        MeetingCommand::Convene { meeting, .. } => same_id(meeting.as_str(), aggregate_id),
        _ => Ok(()),
    }
}

/// A grant names its advance: the stream's.
pub(crate) fn check_advance_id(command: &AdvanceCommand, aggregate_id: &str) -> Result<(), String> {
    match command {
        AdvanceCommand::Grant { advance, .. } => same_id(advance.as_str(), aggregate_id),
        _ => Ok(()),
    }
}

/// The year a financial year ends in is its id: the next year finds its
/// opening balances by it.
pub(crate) fn check_year_id(
    command: &FinancialYearCommand,
    aggregate_id: &str,
) -> Result<(), String> {
    let year: i32 = aggregate_id.parse().map_err(|_| {
        format!(
            "a financial year's stream is financial-year/<the year it ends in>, not {aggregate_id:?}"
        )
    })?;
    match command {
        FinancialYearCommand::OpenYear { year: opened, .. } => {
            same_id(&opened.to_string(), aggregate_id)
        }
        _ => same_id(&year.to_string(), aggregate_id),
    }
}

fn same_id(named: &str, aggregate_id: &str) -> Result<(), String> {
    if named == aggregate_id {
        Ok(())
    } else {
        Err(format!(
            "the command names {named:?} but is sent to {aggregate_id:?}: they must be the same"
        ))
    }
}

/// Where an event landed: its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub position: u64,
    pub hash: String,
    pub stream: String,
    pub event_type: String,
}

impl From<&RecordedEvent> for Receipt {
    fn from(e: &RecordedEvent) -> Self {
        Self {
            position: e.position,
            hash: e.hash.to_hex(),
            stream: e.stream_id.to_string(),
            event_type: e.event_type.clone(),
        }
    }
}

/// The aggregates of one ledger: their event stores, and the services
/// each asks of the others.
pub struct Aggregates {
    company: Decider<Company>,
    meeting: Decider<Meeting>,
    year: Decider<FinancialYear>,
    advance: Decider<CurrentAccountAdvance>,
    round: Decider<BudgetingRound>,
    fund: Decider<TerritoryFund>,
}

/// One aggregate's event store and the services its decisions ask.
struct Decider<A: Aggregate> {
    store: LedgerEventStore<A>,
    services: A::Services,
}

impl Aggregates {
    /// The aggregates of `ledger`, deciding on the server's clock.
    /// `cap_tables` answers the cap table on a date (for the meetings'
    /// rolls, the dividends' and the advances' holders): from the
    /// projections when a server runs the ledger, from the company stream
    /// when the importer does. Clones of one event store share its states:
    /// the services read what the aggregates commit.
    pub fn new<C: CapTableService + 'static>(
        store: &Store,
        ledger: &LedgerId,
        cap_tables: impl Fn() -> C,
    ) -> Self {
        let meetings = LedgerEventStore::<Meeting>::new(store.clone(), ledger.clone());
        let years = LedgerEventStore::<FinancialYear>::new(store.clone(), ledger.clone());
        let resolutions = || MeetingResolutions {
            meetings: meetings.clone(),
        };
        let funds = LedgerEventStore::<TerritoryFund>::new(store.clone(), ledger.clone());
        let rounds = LedgerEventStore::<BudgetingRound>::new(store.clone(), ledger.clone());
        Self {
            round: Decider {
                services: RoundServices::new(
                    SystemClock,
                    FundResidents {
                        funds: funds.clone(),
                    },
                ),
                store: rounds.clone(),
            },
            fund: Decider {
                services: FundServices::new(
                    SystemClock,
                    LedgerFundSources {
                        cap_tables: cap_tables(),
                        years: years.clone(),
                        rounds,
                    },
                ),
                store: funds,
            },
            company: Decider {
                store: LedgerEventStore::new(store.clone(), ledger.clone()),
                services: CompanyServices::new(SystemClock, resolutions()),
            },
            year: Decider {
                store: years.clone(),
                services: FinancialYearServices::new(
                    SystemClock,
                    resolutions(),
                    cap_tables(),
                    YearClosings { years },
                ),
            },
            advance: Decider {
                store: LedgerEventStore::new(store.clone(), ledger.clone()),
                services: AdvanceServices::new(SystemClock, cap_tables()),
            },
            meeting: Decider {
                services: MeetingServices::new(SystemClock, cap_tables())
                    .with_meetings(resolutions()),
                store: meetings,
            },
        }
    }

    /// Runs a command on its aggregate: load, decide, append; the receipts
    /// of what was appended.
    pub async fn run(
        &self,
        aggregate_id: &str,
        command: Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        match command {
            Command::Company(c) => self.company.run(aggregate_id, *c, metadata).await,
            Command::Meeting(c) => self.meeting.run(aggregate_id, c, metadata).await,
            Command::FinancialYear(c) => self.year.run(aggregate_id, c, metadata).await,
            Command::Advance(c) => self.advance.run(aggregate_id, c, metadata).await,
            Command::Round(c) => self.round.run(aggregate_id, c, metadata).await,
            Command::Fund(c) => self.fund.run(aggregate_id, c, metadata).await,
        }
    }

    /// Runs `commands`, all of one aggregate, in order: each decided on the
    /// state the ones before it leave, and what the accepted ones decided
    /// appended in one commit. A command refused is said in its place and
    /// records nothing; the others are recorded all together or not at all
    /// (the outer error: nothing was written). A batch carries no command
    /// id: `metadata`'s is dropped, as no one id names all its commands.
    pub async fn run_batch(
        &self,
        aggregate_id: &str,
        commands: Vec<Command>,
        mut metadata: HashMap<String, String>,
    ) -> Result<Vec<Result<Vec<Receipt>, Error>>, Error> {
        metadata.remove("command_id");
        let Some(first) = commands.first() else {
            return Ok(Vec::new());
        };
        // Each arm: the batch's commands unwrapped to its aggregate's type,
        // run by its decider.
        macro_rules! run_on {
            ($decider:ident, $variant:ident, $unwrap:expr) => {{
                let commands = of_one_type(commands, |c| match c {
                    Command::$variant(c) => Some($unwrap(c)),
                    _ => None,
                })?;
                self.$decider
                    .run_batch(aggregate_id, commands, metadata)
                    .await
            }};
        }
        match first {
            Command::Company(_) => run_on!(company, Company, |c: Box<CompanyCommand>| *c),
            Command::Meeting(_) => run_on!(meeting, Meeting, std::convert::identity),
            Command::FinancialYear(_) => run_on!(year, FinancialYear, std::convert::identity),
            Command::Advance(_) => run_on!(advance, Advance, std::convert::identity),
            Command::Round(_) => run_on!(round, Round, std::convert::identity),
            Command::Fund(_) => run_on!(fund, Fund, std::convert::identity),
        }
    }

    /// The events a command id recorded on the command's aggregate (none
    /// if nothing): one indexed query.
    pub async fn recorded(
        &self,
        command: &Command,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<RecordedEvent>, Error> {
        match command {
            Command::Company(_) => self.company.recorded(aggregate_id, command_id).await,
            Command::Meeting(_) => self.meeting.recorded(aggregate_id, command_id).await,
            Command::FinancialYear(_) => self.year.recorded(aggregate_id, command_id).await,
            Command::Advance(_) => self.advance.recorded(aggregate_id, command_id).await,
            Command::Round(_) => self.round.recorded(aggregate_id, command_id).await,
            Command::Fund(_) => self.fund.recorded(aggregate_id, command_id).await,
        }
        .map_err(|e| Error::store(&e))
    }

    /// A financial year as the ledger holds it now, to decide commands on a
    /// copy without writing.
    pub async fn financial_year(&self, year: &str) -> Result<FinancialYear, Error> {
        let mut context = self
            .year
            .store
            .load_aggregate(year)
            .await
            .map_err(aggregate_error)?;
        Ok(context.aggregate().clone())
    }

    /// The services the financial years' commands ask (read-only).
    pub fn year_services(&self) -> &FinancialYearServices {
        &self.year.services
    }
}

impl<A> Decider<A>
where
    A: Aggregate,
    A::Error: Rule,
    LedgerEventStore<A>: EventStore<A>,
{
    /// The events a command id recorded on this aggregate (none if
    /// nothing).
    async fn recorded(
        &self,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.store
            .recorded_for_command(aggregate_id, command_id)
            .await
    }

    /// `load, handle, commit` as `CqrsFramework::execute_with_metadata`
    /// does, keeping the committed envelopes for their receipts.
    async fn run(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        let mut context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(aggregate_error)?;
        let sink = EventSink::<A>::default();
        context
            .aggregate()
            .handle(command, &self.services, &sink)
            .await
            .map_err(|e| Error::refused(e.rule(), e.to_string()))?;
        let events = sink.collect().await;
        let committed = self
            .store
            .commit(events, context, metadata)
            .await
            .map_err(aggregate_error)?;
        committed.iter().map(receipt_of).collect()
    }

    /// [`Aggregates::run_batch`] on this aggregate. The sink folds each
    /// accepted command's events into the loaded state, and a refused one
    /// leaves it untouched (the domain decides in full before it writes),
    /// so each command is decided on what the ones before it decided.
    async fn run_batch(
        &self,
        aggregate_id: &str,
        commands: Vec<A::Command>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Result<Vec<Receipt>, Error>>, Error> {
        let mut context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(aggregate_error)?;
        let mut decided = Vec::with_capacity(commands.len());
        let mut events = Vec::new();
        for command in commands {
            let sink = EventSink::<A>::default();
            match context
                .aggregate()
                .handle(command, &self.services, &sink)
                .await
            {
                Ok(()) => {
                    let written = sink.collect().await;
                    decided.push(Ok(written.len()));
                    events.extend(written);
                }
                Err(e) => decided.push(Err(Error::refused(e.rule(), e.to_string()))),
            }
        }
        let expected = events.len();
        let committed = self
            .store
            .commit(events, context, metadata)
            .await
            .map_err(aggregate_error)?;
        if committed.len() != expected {
            return Err(Error::internal(format!(
                "a batch decided {expected} events but {} were committed",
                committed.len()
            )));
        }
        let mut receipts = committed.iter().map(receipt_of);
        decided
            .into_iter()
            .map(|outcome| match outcome {
                Ok(count) => receipts
                    .by_ref()
                    .take(count)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Ok),
                Err(refused) => Ok(Err(refused)),
            })
            .collect()
    }
}

/// The receipt of a committed event.
fn receipt_of<A: Aggregate>(envelope: &cqrs_es::EventEnvelope<A>) -> Result<Receipt, Error> {
    let position = envelope
        .metadata
        .get(POSITION_KEY)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error::internal("a committed event has no position"))?;
    let hash = envelope
        .metadata
        .get(HASH_KEY)
        .cloned()
        .ok_or_else(|| Error::internal("a committed event has no hash"))?;
    Ok(Receipt {
        position,
        hash,
        stream: format!("{}/{}", A::TYPE, envelope.aggregate_id),
        event_type: cqrs_es::DomainEvent::event_type(&envelope.payload),
    })
}

/// The commands of a batch, all of the type `pick` takes.
fn of_one_type<T>(
    commands: Vec<Command>,
    pick: impl Fn(Command) -> Option<T>,
) -> Result<Vec<T>, Error> {
    commands
        .into_iter()
        .map(|c| {
            pick(c).ok_or_else(|| {
                Error::invalid("a batch's commands must all be of one aggregate's type")
            })
        })
        .collect()
}

pub(crate) fn aggregate_error<E: std::error::Error>(e: AggregateError<E>) -> Error {
    match e {
        AggregateError::UserError(e) => Error::refused("refused", e.to_string()),
        AggregateError::AggregateConflict => Error::new(
            ErrorKind::VersionConflict,
            "another process changed this aggregate at the same moment: send the command again",
        ),
        AggregateError::DatabaseConnectionError(e) => {
            Error::unavailable(format!("the database is not reachable: {e}"))
        }
        AggregateError::DeserializationError(e) | AggregateError::UnexpectedError(e) => {
            Error::internal(e)
        }
    }
}
