//! The governance half of the audit: every event decoded into its stream's
//! domain event and decided again, by the domain's own aggregates, from the
//! events before it.
//!
//! Every event of every stream is the outcome of one command, and the
//! domain reads that command back from the event (`From<&Event>` for each
//! aggregate's command). The command is run again through the aggregate's
//! own `handle` on the state folded so far, with its services answered from
//! what was replayed so far, and must produce exactly the recorded event. So
//! nothing is taken on trust: a movement's caps, approval and lock-up, a
//! ballot's roll and window, a proxy's cap, a report's corrections, the
//! appropriation's legal reserve, a dividend's allocations and an advance's
//! interest are all decided again, and an event the domain would refuse is
//! reported with the domain's own reason.
//!
//! - Company stream (one per ledger): decided on the company's state so far,
//!   kept as it goes; a resolution it cites is answered from the meetings
//!   replayed so far (as the meeting adopted it).
//! - Meetings: decided on the meeting's state; the cap table on a date (the
//!   convening's charter, the roll on the record date) is the company as its
//!   events so far stand on that date.
//! - Financial years: decided on the year's state, with the resolutions
//!   adopted so far, the cap table on a date, and the previous year's closing
//!   balances as replayed.
//! - Current-account advances: decided on the advance's state, with the cap
//!   table on the grant's date.
//! - Budgeting rounds: decided on the round's state, with the residents as
//!   the fund replayed so far registered them; the tally counted again from
//!   every ballot by the round's method.
//! - The territory fund: decided on the fund's state; a feed recomputed from
//!   the year's figures as replayed so far, under the charter in force on
//!   the year's last day; a round's commitments from its replayed outcome.
//!
//! The services of each aggregate are built by one function each
//! ([`Replay::company_services`] and the others), from the event being
//! decided again.
//!
//! The cap table on a date is the company's state when the date is on or
//! after its latest effective date (the usual case: services are asked about
//! the present), else the company's events folded to that date
//! (`Company::as_of`, as the import's services answer). Effective dates never
//! go back in the company stream, so the facts up to a date are a prefix of
//! its events; the last table built is kept for that prefix, since most
//! questions in a row are about the same facts.
//!
//! An event's payload must also be exactly what the domain writes for the
//! decoded event, so nothing rides along unseen (an extra field, another
//! spelling of a number).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use windledger_domain::budgeting::fund::{
    FundCommand, FundEvent, FundServices, KnownSources, TerritoryFund, YearFiguresFold,
};
use windledger_domain::budgeting::round::{
    BudgetingRound, ResidentRoll, RoundCommand, RoundEvent, RoundServices,
};
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot};
use windledger_domain::company::{Company, CompanyCommand, CompanyEvent, CompanyServices, Turbine};
use windledger_domain::finance::{
    AdvanceCommand, AdvanceEvent, AdvanceServices, CurrentAccountAdvance, FinancialYear,
    FinancialYearCommand, FinancialYearEvent, FinancialYearServices, KnownClosings,
};
use windledger_domain::meeting::{
    Call, KnownMeetings, Meeting, MeetingCommand, MeetingEvent, MeetingServices,
};
use windledger_domain::resolution::{AdoptedResolution, BoxFuture, LookupError, ResolutionService};
use windledger_domain::types::{CommuneCode, ResidentId, ResolutionId};
use windledger_store::RecordedEvent;

use super::diff::first_difference;
use crate::command::{
    Command, check_advance_id, check_fund_id, check_meeting_id, check_round_id, check_year_id,
};

/// What the audit decided again, by stream and by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    /// Company events re-decided (all of them).
    pub company_events: u64,
    /// Of which share movements: issuances, transfers, repurchases and
    /// cancellations, with their caps, approvals, lock-ups and balances.
    pub share_movements: u64,
    /// Meeting events re-decided (all of them).
    pub meeting_events: u64,
    pub meetings_convened: u64,
    /// Rolls recomputed from the cap table when voting opened.
    pub rolls: u64,
    /// Proxies given and revoked, re-decided.
    pub proxies: u64,
    /// Ballots re-decided.
    pub ballots: u64,
    /// Meetings re-tallied at their close.
    pub meetings_closed: u64,
    /// Resolutions re-tallied.
    pub resolutions: u64,
    /// Financial-year events re-decided (all of them).
    pub financial_year_events: u64,
    /// Of which reports (production, revenue, costs, IFER, local taxes),
    /// corrections included.
    pub reports: u64,
    /// Approvals of the accounts and appropriations of the result.
    pub accounts: u64,
    /// Dividend declarations re-allocated.
    pub dividends: u64,
    /// Holders' allocations recomputed.
    pub allocations: u64,
    /// Dividend payments re-decided.
    pub payments: u64,
    /// Current-account advance events re-decided (all of them).
    pub advance_events: u64,
    /// Of which yearly interest accruals recomputed.
    pub interest_accruals: u64,
    /// Budgeting-round events re-decided (all of them).
    pub round_events: u64,
    /// Of which rounds counted again from their ballots.
    pub rounds_tallied: u64,
    /// Territory-fund events re-decided (all of them).
    pub fund_events: u64,
}

impl Recomputed {
    /// Every event re-decided.
    pub fn events(&self) -> u64 {
        self.company_events
            + self.meeting_events
            + self.financial_year_events
            + self.advance_events
            + self.round_events
            + self.fund_events
    }

    /// One sentence for the audit's summary (the territory fund's part
    /// only where the ledger has one).
    pub fn summary(&self) -> String {
        let territory = if self.round_events + self.fund_events > 0 {
            format!(
                "; {} budgeting-round events ({} rounds counted again from their ballots) and {} territory-fund events",
                self.round_events, self.rounds_tallied, self.fund_events
            )
        } else {
            String::new()
        };
        format!(
            "Every event decided again by the domain from the events before it ({} in all): \
             {} company events ({} share movements); {} meeting events: {} meetings re-tallied \
             ({} resolutions) from {} rolls, {} proxies given or revoked and {} ballots; \
             {} financial-year events: {} reports, {} approvals and appropriations, \
             {} dividends re-allocated ({} allocations) and {} payments; \
             {} advance events ({} interest accruals){territory}.",
            self.events(),
            self.company_events,
            self.share_movements,
            self.meeting_events,
            self.meetings_closed,
            self.resolutions,
            self.rolls,
            self.proxies,
            self.ballots,
            self.financial_year_events,
            self.reports,
            self.accounts,
            self.dividends,
            self.allocations,
            self.payments,
            self.advance_events,
            self.interest_accruals,
        )
    }
}

/// The state the domain needs to decide again, folded from the events, fed
/// one recorded event at a time in position order ([`Replay::apply`]). After
/// an error the replay stops being meaningful: the ledger is broken there.
#[derive(Default)]
pub struct Replay {
    /// The ledger's company stream (one company per ledger).
    company_stream: Option<String>,
    /// The company so far, shared with the cap-table service of a command.
    company: Arc<CompanyHistory>,
    /// The resolutions adopted by the meetings closed so far.
    adopted: Arc<HashMap<ResolutionId, AdoptedResolution>>,
    meetings: HashMap<String, Meeting>,
    years: HashMap<String, FinancialYear>,
    advances: HashMap<String, CurrentAccountAdvance>,
    rounds: HashMap<String, BudgetingRound>,
    /// The ledger's fund so far, shared with the rounds' roll of residents.
    fund: Arc<TerritoryFund>,
    /// Each financial year's figures so far, for the fund's feed.
    figures: HashMap<i32, YearFiguresFold>,
    recomputed: Recomputed,
}

impl Replay {
    pub fn new() -> Self {
        Self::default()
    }

    /// What was decided again so far.
    pub fn recomputed(&self) -> Recomputed {
        self.recomputed
    }

    /// Decodes `e` and decides again what it records. The error completes
    /// the sentence "the event at position N (type on stream) ...".
    ///
    /// What the replay allocates comes from the heap apart
    /// (`windledger_memory`): a replay is freed as a whole (a farm put to
    /// rest, an audit ended), and so leaves no holes among the pages of
    /// the read models built beside it.
    pub fn apply(&mut self, e: &RecordedEvent) -> Result<(), String> {
        windledger_memory::apart(|| self.decide(e))
    }

    fn decide(&mut self, e: &RecordedEvent) -> Result<(), String> {
        let stream = e.stream_id.as_str();
        let Some((kind, id)) = stream.split_once('/').filter(|(_, id)| !id.is_empty()) else {
            return Err(format!(
                "is on a stream that is not <type>/<id>: the types are {}",
                Command::stream_types()
            ));
        };
        match kind {
            k if k == Company::TYPE => self.company(stream, e),
            k if k == Meeting::TYPE => self.meeting(id, e),
            k if k == FinancialYear::TYPE => self.year(id, e),
            k if k == CurrentAccountAdvance::TYPE => self.advance(id, e),
            k if k == BudgetingRound::TYPE => self.round(id, e),
            k if k == TerritoryFund::TYPE => self.fund(id, e),
            other => Err(format!(
                "is on a stream of type {other:?}, which no windledger aggregate has: the types are {}",
                Command::stream_types()
            )),
        }
    }

    // --- The services of each aggregate, for deciding `e` again. ---
    //
    // `e` is the event being decided again: its recorded time is when the
    // command was decided.

    /// The resolutions as the meetings replayed so far adopted them.
    // Every service carries the clock at the event's recording time: a
    // date or an instant later than it is refused, as it would have been live.
    fn company_services(&self, e: &RecordedEvent) -> CompanyServices {
        CompanyServices::new(e.recorded_at, self.resolutions())
    }

    /// The cap table on a date, from the company's events so far; a
    /// second call's first call as replayed so far.
    fn meeting_services(&self, e: &RecordedEvent, event: &MeetingEvent) -> MeetingServices {
        let mut known = KnownMeetings::default();
        if let MeetingEvent::MeetingConvened(c) = event
            && let Call::Second { first_call } = &c.call
            && let Some(first) = self.meetings.get(first_call.as_str())
        {
            known.0.insert(first_call.clone(), first.clone());
        }
        MeetingServices::new(e.recorded_at, self.cap_tables()).with_meetings(known)
    }

    /// The resolutions adopted so far, the cap table on a date, and the
    /// previous year's closing balances as replayed.
    fn year_services(&self, e: &RecordedEvent) -> FinancialYearServices {
        let previous = e
            .stream_id
            .as_str()
            .split_once('/')
            .and_then(|(_, id)| id.parse::<i32>().ok())
            .and_then(|year| year.checked_sub(1));
        let closing = previous.and_then(|year| {
            let balances = self.years.get(&year.to_string())?.closing_balances()?;
            Some((year, balances))
        });
        FinancialYearServices::new(
            e.recorded_at,
            self.resolutions(),
            self.cap_tables(),
            KnownClosings(closing.into_iter().collect::<BTreeMap<_, _>>()),
        )
    }

    /// The cap table on a date, from the company's events so far.
    fn advance_services(&self, e: &RecordedEvent) -> AdvanceServices {
        AdvanceServices::new(e.recorded_at, self.cap_tables())
    }

    /// The residents as the fund replayed so far registered them.
    fn round_services(&self, e: &RecordedEvent) -> RoundServices {
        RoundServices::new(e.recorded_at, ResidentsSoFar(Arc::clone(&self.fund)))
    }

    /// What a fund event read: the charter's feed on the year's last day,
    /// the year's figures, the round's funded projects, as replayed so far.
    fn fund_services(&self, e: &RecordedEvent, event: &FundEvent) -> FundServices {
        let mut sources = KnownSources::default();
        match event {
            FundEvent::FundFed { year, .. } => {
                if let Some(figures) = self.figures.get(year).and_then(YearFiguresFold::figures) {
                    sources.feed = self
                        .company
                        .cap_table(figures.ends_on)
                        .ok()
                        .and_then(|t| t.charter.territory_fund);
                    sources.years.insert(*year, figures);
                }
            }
            FundEvent::RoundCommitted { round, .. } => {
                if let Some(funded) = self.rounds.get(round.as_str()).and_then(|r| r.funded()) {
                    sources.rounds.insert(round.clone(), funded.to_vec());
                }
            }
            _ => {}
        }
        FundServices::new(e.recorded_at, sources)
    }

    fn cap_tables(&self) -> LedgerCapTables {
        LedgerCapTables(Arc::clone(&self.company))
    }

    fn resolutions(&self) -> AdoptedSoFar {
        AdoptedSoFar(Arc::clone(&self.adopted))
    }

    // --- Each stream. ---

    fn company(&mut self, stream: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: CompanyEvent = decode(e, Company::TYPE)?;
        match &self.company_stream {
            Some(known) if known != stream => {
                return Err(format!(
                    "is on a second company stream: a ledger holds one company, and this one's is {known}"
                ));
            }
            Some(_) => {}
            None => self.company_stream = Some(stream.to_owned()),
        }
        let services = self.company_services(e);
        // No service holds the history now (they live for one decision),
        // so this does not copy it.
        let history = Arc::make_mut(&mut self.company);
        let produced = redecide(&mut history.state, CompanyCommand::from(&event), &services)?;
        same(
            &event,
            &produced,
            "the company's decision taken again on the register and the charter before it",
        )?;
        let r = &mut self.recomputed;
        r.company_events += 1;
        if matches!(
            event,
            CompanyEvent::SharesIssued { .. }
                | CompanyEvent::SharesTransferred(_)
                | CompanyEvent::SharesRepurchased { .. }
                | CompanyEvent::SharesCancelled { .. }
        ) {
            r.share_movements += 1;
        }
        history.events.push(event);
        Ok(())
    }

    fn meeting(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: MeetingEvent = decode(e, Meeting::TYPE)?;
        super::time::check_meeting_instant(e, &event)?;
        let command = MeetingCommand::from(&event);
        check_meeting_id(&command, id).map_err(on_its_stream)?;
        let services = self.meeting_services(e, &event);
        let state = self.meetings.entry(id.to_owned()).or_default();
        let produced = redecide(state, command, &services)?;
        let what = match &event {
            MeetingEvent::MeetingConvened(_) => {
                "the convocation decided again from the charter on the convening date"
            }
            MeetingEvent::VotingOpened { .. } => {
                "the roll recomputed from the cap table on the record date"
            }
            MeetingEvent::ProxyGranted { .. } | MeetingEvent::ProxyRevoked { .. } => {
                "the proxy decided again from the meeting's events before it"
            }
            MeetingEvent::BallotCast { .. } => {
                "the ballot decided again from the meeting's events before it"
            }
            MeetingEvent::MeetingClosed { .. } => {
                "the re-tally of every resolution from the roll, the proxies and the ballots in force"
            }
            MeetingEvent::BureauConstituted(_) => {
                "the bureau decided again from the roll and the meeting's events before it"
            }
            MeetingEvent::PostalFormKeptLate { .. } => {
                "the form's deadline recomputed from the charter on the convening date"
            }
            MeetingEvent::ConvocationsSent { .. } => {
                "the convocations checked against the holders on the convening date"
            }
            MeetingEvent::MinutesRecorded(_) | MeetingEvent::MinutesSigned { .. } => {
                "the minutes and their signatures decided again from the bureau"
            }
        };
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        r.meeting_events += 1;
        match &event {
            MeetingEvent::MeetingConvened(_) => r.meetings_convened += 1,
            MeetingEvent::VotingOpened { .. } => r.rolls += 1,
            MeetingEvent::ProxyGranted { .. } | MeetingEvent::ProxyRevoked { .. } => {
                r.proxies += 1;
            }
            MeetingEvent::BallotCast { .. } => r.ballots += 1,
            MeetingEvent::BureauConstituted(_)
            | MeetingEvent::PostalFormKeptLate { .. }
            | MeetingEvent::ConvocationsSent { .. }
            | MeetingEvent::MinutesRecorded(_)
            | MeetingEvent::MinutesSigned { .. } => {}
            MeetingEvent::MeetingClosed { results, .. } => {
                r.meetings_closed += 1;
                r.resolutions += results.len() as u64;
                // What the company and the years may rely on from now on.
                let adopted: Vec<AdoptedResolution> = results
                    .iter()
                    .filter_map(|result| state.adopted(&result.resolution))
                    .collect();
                let known = Arc::make_mut(&mut self.adopted);
                known.extend(adopted.into_iter().map(|a| (a.id.clone(), a)));
                // Counted: what follows the close never reads them.
                state.forget_votes();
            }
        }
        Ok(())
    }

    fn year(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: FinancialYearEvent = decode(e, FinancialYear::TYPE)?;
        let command = FinancialYearCommand::from(&event);
        check_year_id(&command, id).map_err(on_its_stream)?;
        let services = self.year_services(e);
        let state = self.years.entry(id.to_owned()).or_default();
        let produced = redecide(state, command, &services)?;
        if let Ok(year) = id.parse::<i32>() {
            self.figures.entry(year).or_default().apply(&event);
        }
        use FinancialYearEvent as E;
        let what = match &event {
            E::YearOpened { .. } => {
                "the opening decided again, with the turbines on the opening date"
            }
            E::ProductionReported { .. } | E::CostRecorded { .. } | E::LocalTaxRecorded { .. } => {
                "the report decided again from the year's reports before it"
            }
            E::RevenueRecorded { .. } => "the revenue recomputed as volume x price, to the cent",
            E::IferAssessed { .. } => {
                "the IFER recomputed from the turbines in service on 1 January, with its split"
            }
            E::AccountsApproved { .. } => {
                "the approval decided again on the resolution as its meeting adopted it"
            }
            E::ResultAppropriated { .. } => {
                "the appropriation recomputed: legal reserve, distributable profit and balances from the previous year's closing"
            }
            E::DividendDeclared { .. } => {
                "the dividend re-allocated from the cap table on the record date, with the recorded amount and withholding rates"
            }
            E::DividendPaid { .. } => "the payment decided again from the declared allocations",
            E::WithholdingDecided { .. } => {
                "the non-resident's net decided again from their allocation and the withholding recorded"
            }
        };
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        r.financial_year_events += 1;
        match &event {
            E::YearOpened { .. } => {}
            E::ProductionReported { .. }
            | E::RevenueRecorded { .. }
            | E::CostRecorded { .. }
            | E::IferAssessed { .. }
            | E::LocalTaxRecorded { .. } => r.reports += 1,
            E::AccountsApproved { .. } | E::ResultAppropriated { .. } => r.accounts += 1,
            E::DividendDeclared { allocations, .. } => {
                r.dividends += 1;
                r.allocations += allocations.len() as u64;
            }
            E::DividendPaid { .. } => r.payments += 1,
            E::WithholdingDecided { .. } => {}
        }
        Ok(())
    }

    fn advance(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: AdvanceEvent = decode(e, CurrentAccountAdvance::TYPE)?;
        let command = AdvanceCommand::from(&event);
        check_advance_id(&command, id).map_err(on_its_stream)?;
        let services = self.advance_services(e);
        let state = self.advances.entry(id.to_owned()).or_default();
        let produced = redecide(state, command, &services)?;
        let what = match &event {
            AdvanceEvent::AdvanceGranted { .. } => {
                "the grant decided again, with the cap table on its date"
            }
            AdvanceEvent::AdvanceRepaid { .. } => {
                "the repayment decided again from the principal still owed"
            }
            AdvanceEvent::InterestAccrued { .. } => {
                "the interest recomputed from the principal over the year, at the rate applied, and what is withheld from it"
            }
            AdvanceEvent::WithholdingDecided { .. } => {
                "the net recomputed from the interest accrued and what the operator withheld"
            }
            AdvanceEvent::InterestPaid { .. } => {
                "the interest paid decided again: its net, once, after its accrual"
            }
        };
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        r.advance_events += 1;
        if let AdvanceEvent::InterestAccrued { .. } = event {
            r.interest_accruals += 1;
        }
        Ok(())
    }
}

impl Replay {
    fn round(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: RoundEvent = decode(e, BudgetingRound::TYPE)?;
        let command = RoundCommand::from(&event);
        check_round_id(&command, id).map_err(on_its_stream)?;
        let services = self.round_services(e);
        let state = self.rounds.entry(id.to_owned()).or_default();
        let produced = redecide(state, command, &services)?;
        let what = match &event {
            RoundEvent::RoundConvened { .. } => "the convocation decided again",
            RoundEvent::ProposalSubmitted { .. } => {
                "the proposal decided again in its window, from a resident of the round's communes"
            }
            RoundEvent::ProposalReviewed { .. } => "the review decided again before voting opened",
            RoundEvent::BallotCast { .. } => {
                "the ballot decided again in its window, from a registered resident, of eligible proposals"
            }
            RoundEvent::RoundTallied { .. } => {
                "the outcome counted again from every ballot by the round's method"
            }
        };
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        r.round_events += 1;
        if let RoundEvent::RoundTallied { .. } = event {
            r.rounds_tallied += 1;
        }
        Ok(())
    }

    fn fund(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: FundEvent = decode(e, TerritoryFund::TYPE)?;
        let command = FundCommand::from(&event);
        check_fund_id(id).map_err(on_its_stream)?;
        let services = self.fund_services(e, &event);
        let produced = redecide(Arc::make_mut(&mut self.fund), command, &services)?;
        let what = match &event {
            FundEvent::ResidentRegistered { .. }
            | FundEvent::ResidentMoved { .. }
            | FundEvent::ResidentRemoved { .. }
            | FundEvent::ResidentIdentityRecorded { .. } => "the roll of residents decided again",
            FundEvent::FundFed { .. } => {
                "the feed recomputed from the year's figures by the charter's rule, to the cent"
            }
            FundEvent::GrantReceived { .. } => "the grant decided again",
            FundEvent::RoundCommitted { .. } => {
                "the commitments decided again from the round's outcome and what was available"
            }
            FundEvent::ProjectPaid { .. } => {
                "the payment decided again from what the project was still owed"
            }
        };
        same(&event, &produced, what)?;
        self.recomputed.fund_events += 1;
        Ok(())
    }
}

/// The roll of residents: the fund replayed so far.
struct ResidentsSoFar(Arc<TerritoryFund>);

impl ResidentRoll for ResidentsSoFar {
    fn commune<'a>(
        &'a self,
        resident: &'a ResidentId,
        _on: NaiveDate,
    ) -> BoxFuture<'a, Result<Option<CommuneCode>, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.commune_of(resident).cloned())))
    }
}

fn on_its_stream(reason: String) -> String {
    format!("is not on its aggregate's stream: {reason}")
}

/// The payload as its stream's event: of the type and schema version the
/// line records, and written exactly as the domain writes it.
fn decode<E>(e: &RecordedEvent, kind: &str) -> Result<E, String>
where
    E: DeserializeOwned + Serialize + DomainEvent,
{
    let payload: serde_json::Value = serde_json::from_str(e.payload.get())
        .map_err(|err| format!("has a payload that is not JSON: {err}"))?;
    let event: E = E::deserialize(&payload)
        .map_err(|err| format!("does not decode as a {kind} event: {err}"))?;
    if event.event_type() != e.event_type {
        return Err(format!(
            "is recorded as a {} but its payload is a {}",
            e.event_type,
            event.event_type()
        ));
    }
    if event.event_version() != e.schema_version.to_string() {
        return Err(format!(
            "has schema version {}, but this windledger reads version {} of {}",
            e.schema_version,
            event.event_version(),
            e.event_type
        ));
    }
    let written = serde_json::to_value(&event)
        .map_err(|err| format!("cannot be written back as the domain writes it: {err}"))?;
    if let Some(d) = first_difference(&payload, &written) {
        return Err(format!(
            "has a payload that is not what the domain writes for the event it decodes to: {}",
            d.to_string()
                .replace("when recomputed", "as the domain writes it")
        ));
    }
    Ok(event)
}

/// Runs `command` on `state` as the domain's tests do (`handle` with an
/// `EventSink`, which applies the produced event), expecting one event.
fn redecide<A: Aggregate>(
    state: &mut A,
    command: A::Command,
    services: &A::Services,
) -> Result<A::Event, String> {
    let sink = EventSink::default();
    block_on(state.handle(command, services, &sink))
        .ok_or_else(not_ready)?
        .map_err(|e| format!("is refused by the domain's rules when decided again: {e}"))?;
    let mut produced = block_on(sink.collect()).ok_or_else(not_ready)?;
    match (produced.pop(), produced.is_empty()) {
        (Some(event), true) => Ok(event),
        _ => Err("is one of several events its command produces when decided again, which no windledger command does".to_owned()),
    }
}

fn not_ready() -> String {
    "could not be decided again: a service did not answer at once".to_owned()
}

/// The recorded event is the one the domain produced again.
fn same<E: PartialEq + Serialize>(recorded: &E, produced: &E, what: &str) -> Result<(), String> {
    if recorded == produced {
        return Ok(());
    }
    let detail = match (
        serde_json::to_value(recorded),
        serde_json::to_value(produced),
    ) {
        (Ok(a), Ok(b)) => first_difference(&a, &b).map(|d| d.to_string()),
        _ => None,
    };
    Err(format!(
        "does not match {what}: {}",
        detail.unwrap_or_else(|| "the two differ".to_owned())
    ))
}

/// Polls a future that is ready at once: the services here answer from
/// memory and the `EventSink`'s lock is never contended (as the fixtures
/// run commands). Unconstrained by tokio's cooperative budget, which could
/// otherwise make that lock wait for the runtime inside a task.
fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(tokio::task::coop::unconstrained(future));
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The company as replayed so far: its state, its events, and the last cap
/// table built.
#[derive(Default)]
struct CompanyHistory {
    state: Company,
    /// In stream order, so effective dates never go back.
    events: Vec<CompanyEvent>,
    /// The cap table of the first `n` events, as `(n, table)`.
    last_table: Mutex<Option<(usize, Arc<CapTableSnapshot>)>>,
}

impl Clone for CompanyHistory {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            events: self.events.clone(),
            last_table: Mutex::default(),
        }
    }
}

impl CompanyHistory {
    /// The cap table at the end of `on`: the state when every event so far
    /// is effective by then, else the events folded to that date.
    fn cap_table(&self, on: NaiveDate) -> Result<CapTableSnapshot, LookupError> {
        let facts = self.events.partition_point(|e| e.effective_date() <= on);
        let mut last = self
            .last_table
            .lock()
            .map_err(|_| LookupError("the cap table's cache was poisoned".to_owned()))?;
        let table = match &*last {
            Some((n, table)) if *n == facts => Arc::clone(table),
            _ => {
                let table = if facts == self.events.len() {
                    self.state.cap_table(on)
                } else {
                    Company::as_of(self.events[..facts].iter().cloned(), on).cap_table(on)
                }
                .ok_or_else(|| LookupError(format!("the company did not exist on {on}")))?;
                let table = Arc::new(table);
                *last = Some((facts, Arc::clone(&table)));
                table
            }
        };
        Ok(CapTableSnapshot {
            as_of: on,
            ..CapTableSnapshot::clone(&table)
        })
    }
}

/// The cap table on a date, from the company replayed so far.
struct LedgerCapTables(Arc<CompanyHistory>);

impl CapTableService for LedgerCapTables {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(std::future::ready(self.0.cap_table(on)))
    }

    /// The turbines only, never the register: asked for each production
    /// report, where a cap table of every holder would cost a copy each.
    fn turbines<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Vec<Turbine>, LookupError>> {
        let history = &self.0;
        let turbines = if history
            .events
            .last()
            .is_none_or(|e| e.effective_date() <= on)
        {
            history.state.fleet().installations().to_vec()
        } else {
            Company::turbines_as_of(&history.events, on)
        };
        Box::pin(std::future::ready(Ok(turbines)))
    }
}

/// Whether a resolution was adopted: as its meeting, replayed so far,
/// adopted it (`Meeting::adopted` when it closed).
struct AdoptedSoFar(Arc<HashMap<ResolutionId, AdoptedResolution>>);

impl ResolutionService for AdoptedSoFar {
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.get(id).cloned())))
    }
}
