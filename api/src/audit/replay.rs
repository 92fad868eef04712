//! The governance half of the audit: each event decoded into its stream's
//! domain event, and what the domain computed decided again, by the
//! domain's own aggregates, from the events before it.
//!
//! - Company stream: decoded and kept; the cap table on a date is the
//!   stream's events folded to that date (`Company::as_of`), as the import's
//!   `CompanyCapTables` answers the aggregates.
//! - Meeting streams: every event is the outcome of a command, and the
//!   command can be read back from the event (convene, open voting, grant or
//!   revoke a proxy, cast a ballot, close). Each is run again through
//!   `Meeting::handle` on the state folded so far, and must produce exactly
//!   the recorded event: the roll is recomputed from the cap table on the
//!   record date, each proxy and ballot is checked against the rules, and
//!   the close re-tallies every resolution with the domain's `tally`.
//! - Financial years: events are folded; a dividend declaration is run again
//!   through `FinancialYear::handle` (the cap table on the record date, the
//!   resolution as its meeting adopted it, the recorded amount and
//!   withholding), and each payment too (the net of the allocation).
//! - Current-account advances: decoded.
//!
//! An event's payload must also be exactly what the domain writes for the
//! decoded event, so nothing rides along unseen (an extra field, another
//! spelling of a number).

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot};
use windledger_domain::company::{Company, CompanyEvent};
use windledger_domain::finance::{
    AdvanceEvent, CurrentAccountAdvance, FinancialYear, FinancialYearCommand, FinancialYearEvent,
    FinancialYearServices, KnownClosings,
};
use windledger_domain::meeting::{
    Meeting, MeetingCommand, MeetingEvent, MeetingServices, ProposedResolution, split_resolution_id,
};
use windledger_domain::resolution::{AdoptedResolution, BoxFuture, KnownResolutions, LookupError};
use windledger_domain::types::ResolutionId;
use windledger_store::RecordedEvent;

use super::diff::first_difference;

/// What the audit recomputed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub company_events: u64,
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
    pub financial_year_events: u64,
    /// Dividend declarations re-allocated.
    pub dividends: u64,
    /// Holders' allocations recomputed.
    pub allocations: u64,
    /// Dividend payments re-decided.
    pub payments: u64,
    pub advance_events: u64,
}

/// The state the domain needs to decide again, folded from the events.
#[derive(Default)]
pub(crate) struct Replay {
    /// The ledger's company stream (one company per ledger).
    company_stream: Option<String>,
    /// Its events so far, shared with the cap-table service of a command.
    company: Arc<Vec<CompanyEvent>>,
    meetings: HashMap<String, Meeting>,
    years: HashMap<String, FinancialYear>,
    recomputed: Recomputed,
}

impl Replay {
    pub(crate) fn recomputed(&self) -> Recomputed {
        self.recomputed
    }

    /// Decodes `e` and re-decides what it records. The error completes the
    /// sentence "the event at position N (type on stream) ...".
    pub(crate) fn apply(&mut self, e: &RecordedEvent) -> Result<(), String> {
        let stream = e.stream_id.as_str();
        let Some((kind, id)) = stream.split_once('/').filter(|(_, id)| !id.is_empty()) else {
            return Err(format!(
                "is on a stream that is not <type>/<id>: the types are {}",
                stream_types()
            ));
        };
        match kind {
            k if k == Company::TYPE => self.company(stream, e),
            k if k == Meeting::TYPE => self.meeting(id, e),
            k if k == FinancialYear::TYPE => self.year(id, e),
            k if k == CurrentAccountAdvance::TYPE => {
                decode::<AdvanceEvent>(e, kind)?;
                self.recomputed.advance_events += 1;
                Ok(())
            }
            other => Err(format!(
                "is on a stream of type {other:?}, which no windledger aggregate has: the types are {}",
                stream_types()
            )),
        }
    }

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
        Arc::make_mut(&mut self.company).push(event);
        self.recomputed.company_events += 1;
        Ok(())
    }

    /// The cap tables as the company stream's events so far give them.
    fn cap_tables(&self) -> LedgerCapTables {
        LedgerCapTables(Arc::clone(&self.company))
    }

    /// The resolution as its meeting, replayed so far, adopted it.
    fn adopted(&self, id: &ResolutionId) -> Option<AdoptedResolution> {
        let (meeting, _) = split_resolution_id(id)?;
        self.meetings.get(meeting.as_str())?.adopted(id)
    }

    fn meeting(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: MeetingEvent = decode(e, Meeting::TYPE)?;
        super::time::check_meeting_instant(e, &event)?;
        let command = match &event {
            MeetingEvent::MeetingConvened(c) => {
                if c.meeting.as_str() != id {
                    return Err(format!(
                        "convenes the meeting {} on the stream of the meeting {id}",
                        c.meeting
                    ));
                }
                MeetingCommand::Convene {
                    meeting: c.meeting.clone(),
                    kind: c.kind,
                    call: c.call.clone(),
                    record_date: c.record_date,
                    opens_at: c.opens_at,
                    closes_at: c.closes_at,
                    agenda: c
                        .agenda
                        .iter()
                        .map(|item| ProposedResolution {
                            decision_kind: item.decision_kind.clone(),
                            purpose: item.purpose.clone(),
                            text: item.text.clone(),
                        })
                        .collect(),
                    members: c.members.clone(),
                    convened_on: c.convened_on,
                }
            }
            MeetingEvent::VotingOpened { at, .. } => MeetingCommand::OpenVoting { at: *at },
            MeetingEvent::ProxyGranted {
                grantor, proxy, at, ..
            } => MeetingCommand::GrantProxy {
                grantor: grantor.clone(),
                proxy: proxy.clone(),
                at: *at,
            },
            MeetingEvent::ProxyRevoked { grantor, at, .. } => MeetingCommand::RevokeProxy {
                grantor: grantor.clone(),
                at: *at,
            },
            MeetingEvent::BallotCast {
                voter,
                choices,
                at,
                postal: true,
                ..
            } => MeetingCommand::RecordPostalBallot {
                voter: voter.clone(),
                choices: choices.clone(),
                received_at: *at,
            },
            MeetingEvent::BallotCast {
                voter,
                cast_by,
                choices,
                at,
                ..
            } => MeetingCommand::CastBallot {
                voter: voter.clone(),
                cast_by: cast_by.clone(),
                choices: choices.clone(),
                at: *at,
            },
            MeetingEvent::MeetingClosed { at, .. } => MeetingCommand::Close { at: *at },
        };
        let services = MeetingServices::new(e.recorded_at, self.cap_tables());
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
        };
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        match &event {
            MeetingEvent::MeetingConvened(_) => r.meetings_convened += 1,
            MeetingEvent::VotingOpened { .. } => r.rolls += 1,
            MeetingEvent::ProxyGranted { .. } | MeetingEvent::ProxyRevoked { .. } => {
                r.proxies += 1;
            }
            MeetingEvent::BallotCast { .. } => r.ballots += 1,
            MeetingEvent::MeetingClosed { results, .. } => {
                r.meetings_closed += 1;
                r.resolutions += results.len() as u64;
            }
        }
        Ok(())
    }

    fn year(&mut self, id: &str, e: &RecordedEvent) -> Result<(), String> {
        let event: FinancialYearEvent = decode(e, FinancialYear::TYPE)?;
        self.recomputed.financial_year_events += 1;
        let (command, what, cited) = match &event {
            FinancialYearEvent::DividendDeclared {
                resolution,
                amount,
                record_date,
                payment_date,
                withholding,
                ..
            } => (
                FinancialYearCommand::DeclareDividend {
                    resolution: resolution.id.clone(),
                    amount: *amount,
                    record_date: *record_date,
                    payment_date: *payment_date,
                    withholding: Some(*withholding),
                },
                "the dividend re-allocated from the cap table on the record date, with the recorded amount and withholding rates",
                Some(&resolution.id),
            ),
            FinancialYearEvent::DividendPaid {
                holder, paid_on, ..
            } => (
                FinancialYearCommand::RecordDividendPayment {
                    holder: holder.clone(),
                    paid_on: *paid_on,
                },
                "the payment decided again from the declared allocations",
                None,
            ),
            _ => {
                self.years.entry(id.to_owned()).or_default().apply(event);
                return Ok(());
            }
        };
        let services = FinancialYearServices::new(
            e.recorded_at,
            KnownResolutions::new(cited.and_then(|id| self.adopted(id))),
            self.cap_tables(),
            KnownClosings::default(),
        );
        let state = self.years.entry(id.to_owned()).or_default();
        let produced = redecide(state, command, &services)?;
        same(&event, &produced, what)?;
        let r = &mut self.recomputed;
        match &event {
            FinancialYearEvent::DividendDeclared { allocations, .. } => {
                r.dividends += 1;
                r.allocations += allocations.len() as u64;
            }
            _ => r.payments += 1,
        }
        Ok(())
    }
}

fn stream_types() -> String {
    [
        Company::TYPE,
        Meeting::TYPE,
        FinancialYear::TYPE,
        CurrentAccountAdvance::TYPE,
    ]
    .join(", ")
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

/// The cap table on a date: the company stream's events so far folded to
/// that date, as the import's `CompanyCapTables` answers.
struct LedgerCapTables(Arc<Vec<CompanyEvent>>);

impl CapTableService for LedgerCapTables {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        let found = Company::as_of(self.0.iter().cloned(), on)
            .cap_table(on)
            .ok_or_else(|| LookupError(format!("the company did not exist on {on}")));
        Box::pin(std::future::ready(found))
    }
}
