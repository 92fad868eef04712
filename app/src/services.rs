//! The services the aggregates ask of each other, answered from the ledger
//! (a server answers the cap table from its projections instead:
//! `windledger_projections::cap_table::ProjectedCapTables`), and reading a
//! ledger whole.

use chrono::{DateTime, NaiveDate, Utc};
use windledger_domain::budgeting::fund::{
    Commitment, FundSources, TerritoryFund, YearFigures, YearFiguresFold,
};
use windledger_domain::budgeting::round::{BudgetingRound, ResidentRoll};
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot};
use windledger_domain::charter::FundFeed;
use windledger_domain::company::{Company, CompanyEvent, Turbine};
use windledger_domain::finance::{Balances, ClosingBalances, FinancialYear};
use windledger_domain::meeting::{Meeting, MeetingLookup, split_resolution_id};
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, LookupError, ResolutionService, Standing,
};
use windledger_domain::types::{CommuneCode, MeetingId, ResidentId, ResolutionId, RoundId};
use windledger_projections::cap_table::HeadPosition;
use windledger_projections::event::{EventHash, LedgerEvent};
use windledger_store::{LedgerEventStore, LedgerId, RecordedEvent, Store, aggregate_stream};

fn lookup(e: impl std::fmt::Display) -> LookupError {
    LookupError(e.to_string())
}

/// The server's clock: the instant a command is decided at. Every rule
/// that depends on "now" reads it through the aggregates' services (the
/// domain has no clock of its own).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl windledger_domain::clock::Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Today in Paris on the server's clock: the date a page, a document or a
/// command takes when none is given (the one place the shell reads it).
pub fn today() -> NaiveDate {
    windledger_domain::clock::Clock::today(&SystemClock)
}

/// The cap table on a date: the company stream folded to that date.
pub struct CompanyCapTables {
    pub store: Store,
    pub ledger: LedgerId,
    /// The company's aggregate id.
    pub company: String,
}

impl CapTableService for CompanyCapTables {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(async move {
            let events = self.events().await?;
            Company::as_of(events, on)
                .cap_table(on)
                .ok_or_else(|| LookupError(format!("the company did not exist on {on}")))
        })
    }

    /// The turbines only: the stream read, the register not folded.
    fn turbines<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Vec<Turbine>, LookupError>> {
        Box::pin(async move {
            let events = self.events().await?;
            Ok(Company::turbines_as_of(&events, on))
        })
    }
}

impl CompanyCapTables {
    /// The company stream, read to its end and decoded.
    async fn events(&self) -> Result<Vec<CompanyEvent>, LookupError> {
        let stream = aggregate_stream::<Company>(&self.company).map_err(lookup)?;
        let recorded = self
            .store
            .read_stream_to_end(&self.ledger, &stream)
            .await
            .map_err(lookup)?;
        recorded
            .iter()
            .map(|e| e.decode::<CompanyEvent>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(lookup)
    }
}

/// The meetings as committed (never a state whose close may still fail to
/// commit): whether a resolution was adopted, and another meeting.
pub struct MeetingResolutions {
    pub meetings: LedgerEventStore<Meeting>,
}

impl MeetingResolutions {
    /// The meeting `id` as its stream committed it.
    async fn committed(&self, id: &str) -> Result<Meeting, LookupError> {
        self.meetings.load_committed(id).await.map_err(lookup)
    }
}

impl ResolutionService for MeetingResolutions {
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(async move {
            Ok(match self.standing(id).await? {
                Standing::Adopted(r) => Some(r),
                _ => None,
            })
        })
    }

    fn standing<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Standing, LookupError>> {
        Box::pin(async move {
            let Some((meeting, _)) = split_resolution_id(id) else {
                return Ok(Standing::Unknown);
            };
            // As committed: a close still in flight may yet fail.
            Ok(self.committed(meeting.as_str()).await?.standing(id))
        })
    }
}

/// Another meeting, as its stream committed it (a second call's first
/// call).
impl MeetingLookup for MeetingResolutions {
    fn meeting<'a>(
        &'a self,
        id: &'a MeetingId,
    ) -> BoxFuture<'a, Result<Option<Meeting>, LookupError>> {
        Box::pin(async move { Ok(Some(self.committed(id.as_str()).await?)) })
    }
}

/// The closing balances of a year: its financial-year stream.
pub struct YearClosings {
    pub years: LedgerEventStore<FinancialYear>,
}

impl ClosingBalances for YearClosings {
    fn closing_balances<'a>(
        &'a self,
        year: i32,
    ) -> BoxFuture<'a, Result<Option<Balances>, LookupError>> {
        Box::pin(async move {
            // As committed: a closing still in flight may yet fail.
            let year = self
                .years
                .load_committed(&year.to_string())
                .await
                .map_err(lookup)?;
            Ok(year.closing_balances())
        })
    }
}

/// The roll of the territory's residents: the ledger's fund stream, folded
/// once and then as it grows (a round asks it once a ballot).
pub struct FundResidents {
    pub funds: LedgerEventStore<TerritoryFund>,
}

impl ResidentRoll for FundResidents {
    fn commune<'a>(
        &'a self,
        resident: &'a ResidentId,
        _on: NaiveDate,
    ) -> BoxFuture<'a, Result<Option<CommuneCode>, LookupError>> {
        Box::pin(async move {
            self.funds
                .read_committed(TerritoryFund::ID, |fund| fund.commune_of(resident).cloned())
                .await
                .map_err(lookup)
        })
    }
}

/// What the fund reads from the ledger: the charter's feed (the cap table
/// on a date carries the charter then in force), a financial year's
/// figures folded from its stream, a round's funded projects.
pub struct LedgerFundSources<C> {
    pub cap_tables: C,
    pub years: LedgerEventStore<FinancialYear>,
    pub rounds: LedgerEventStore<BudgetingRound>,
}

impl<C: CapTableService> FundSources for LedgerFundSources<C> {
    fn feed<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Option<FundFeed>, LookupError>> {
        Box::pin(async move { Ok(self.cap_tables.cap_table(on).await?.charter.territory_fund) })
    }

    fn year<'a>(&'a self, year: i32) -> BoxFuture<'a, Result<Option<YearFigures>, LookupError>> {
        Box::pin(async move {
            let events = cqrs_es::EventStore::load_events(&self.years, &year.to_string())
                .await
                .map_err(lookup)?;
            let mut fold = YearFiguresFold::default();
            for envelope in &events {
                fold.apply(&envelope.payload);
            }
            Ok(fold.figures())
        })
    }

    fn funded<'a>(
        &'a self,
        round: &'a RoundId,
    ) -> BoxFuture<'a, Result<Option<Vec<Commitment>>, LookupError>> {
        Box::pin(async move {
            let round = self
                .rounds
                .load_committed(round.as_str())
                .await
                .map_err(lookup)?;
            Ok(round.funded().map(<[Commitment]>::to_vec))
        })
    }
}

/// A recorded event as the projections take it.
pub fn ledger_event(e: RecordedEvent) -> LedgerEvent {
    LedgerEvent {
        position: e.position,
        stream_id: e.stream_id.into(),
        stream_version: e.stream_version,
        event_type: e.event_type,
        payload: e.payload.into_string(),
        recorded_at: e.recorded_at,
        hash: EventHash(e.hash.0),
    }
}

/// The ledger's head, for the projections to catch up to before answering.
pub struct StoreHead {
    pub store: Store,
    pub ledger: LedgerId,
}

impl HeadPosition for StoreHead {
    fn head(&self) -> BoxFuture<'_, Result<u64, LookupError>> {
        Box::pin(async move {
            self.store
                .head(&self.ledger)
                .await
                .map(|h| h.size)
                .map_err(lookup)
        })
    }
}

/// Reads the ledger in order up to position `up_to` (`u64::MAX`: all of
/// it), a page at a time, handing each event to `visit` until it breaks;
/// what it broke with, if it did.
pub async fn scan<B>(
    store: &Store,
    ledger: &LedgerId,
    up_to: u64,
    mut visit: impl FnMut(RecordedEvent) -> std::ops::ControlFlow<B>,
) -> Result<Option<B>, windledger_store::StoreError> {
    const PAGE: u32 = 5_000;
    let mut after = 0;
    while after < up_to {
        let page = store.read_ledger(ledger, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        for e in page {
            if e.position > up_to {
                return Ok(None);
            }
            if let std::ops::ControlFlow::Break(b) = visit(e) {
                return Ok(Some(b));
            }
        }
        if !full {
            break;
        }
        after = last;
    }
    Ok(None)
}

/// The company's aggregate id, if the event is on the company's stream.
pub fn company_of(e: &RecordedEvent) -> Option<&str> {
    e.stream_id
        .as_str()
        .strip_prefix(<Company as cqrs_es::Aggregate>::TYPE)
        .and_then(|rest| rest.strip_prefix('/'))
}
