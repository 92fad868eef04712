//! What the API answers, as types: each derives `Serialize` (the JSON sent)
//! and `JsonSchema` (the OpenAPI document's schema of it), so the document
//! follows a renamed or added field by itself. A projection's own view that
//! is answered as it is (the cap table, a statement, a meeting's record,
//! local returns) derives both in `windledger-projections`; the answers
//! assembled here from the projections, the store and the command's
//! receipts are the types below.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use windledger_domain::charter::Charter;
use windledger_domain::company::{Incorporation, PlannedTurbine, Turbine};
use windledger_domain::finance::{RevenueKind, YearMonth};
use windledger_domain::meeting::{
    AgendaItem, Call, CollegeTally, MeetingKind, Outcome, ResolutionResult,
};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::types::{
    CollegeId, HolderId, MeetingId, ResolutionId, ShareClassId, TurbineId,
};
use windledger_projections::cap_table::{AsOf, CapTableView, HolderHistory, Totals};
use windledger_projections::event::EventHash;
use windledger_projections::register::MeetingRecord;

use crate::problem::Problem;

/// An answer as JSON, through `serde_json::Value`, whose maps are sorted:
/// every answer's keys are in alphabetical order, whatever the order of its
/// type's fields.
pub(crate) fn json(answer: &impl Serialize) -> Result<axum::Json<Value>, Problem> {
    serde_json::to_value(answer)
        .map(axum::Json)
        .map_err(Problem::internal)
}

/// A farm this server serves, as the directory lists it (`GET
/// /api/v1/ledgers`): read from its company's stream, none of its read
/// models opened.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Farm {
    /// Its ledger's id: `/api/v1/ledgers/{ledger}/...`, `/parcs/{ledger}`.
    pub ledger: String,
    pub legal_name: String,
    /// Turbines in service.
    pub turbines: usize,
    /// Their rated power, in kW.
    pub rated_kw: u64,
}

/// The company and its charter in force.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Company<'a> {
    /// As incorporated (its `turbines` are the farm's first).
    pub company: &'a Incorporation,
    pub charter: Option<&'a Charter>,
    /// The turbines over the farm's life: every installation with its
    /// commissioning date and, once out of service, its decommissioning
    /// date (a repowered turbine is two installations under one id).
    pub turbines: Vec<Turbine>,
    /// Turbines added by resolution, not commissioned yet.
    pub planned_turbines: BTreeMap<TurbineId, PlannedTurbine>,
}

/// Each college's and each class's share of capital and votes: the cap
/// table's totals, without its rows.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Parties<'a> {
    pub as_of: AsOf,
    pub share_capital: Euros,
    pub by_college: &'a BTreeMap<CollegeId, Totals>,
    pub by_class: &'a BTreeMap<ShareClassId, Totals>,
}

impl<'a> From<&'a CapTableView<'_>> for Parties<'a> {
    fn from(view: &'a CapTableView<'_>) -> Self {
        Self {
            as_of: view.as_of,
            share_capital: view.share_capital,
            by_college: &view.by_college,
            by_class: &view.by_class,
        }
    }
}

/// A holder with their register history and movements.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Holder<'a> {
    pub holder: &'a HolderId,
    pub history: &'a HolderHistory,
}

/// A meeting convened, without its roll, ballots and tally.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MeetingSummary<'a> {
    #[schemars(with = "MeetingId")]
    pub meeting: &'a str,
    pub kind: MeetingKind,
    pub call: &'a Call,
    pub record_date: NaiveDate,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub agenda: &'a [AgendaItem],
    pub status: MeetingStatus,
}

impl<'a> MeetingSummary<'a> {
    pub fn of(meeting: &'a str, record: &'a MeetingRecord) -> Self {
        let convocation = &record.convocation;
        let status = if record.closed.is_some() {
            MeetingStatus::Closed
        } else if record.roll.is_some() {
            MeetingStatus::Voting
        } else {
            MeetingStatus::Convened
        };
        Self {
            meeting,
            kind: convocation.kind,
            call: &convocation.call,
            record_date: convocation.record_date,
            opens_at: convocation.opens_at,
            closes_at: convocation.closes_at,
            agenda: &convocation.agenda,
            status,
        }
    }
}

/// Where a meeting stands.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Convened; the voting has not opened.
    Convened,
    /// The roll is frozen and the voting open.
    Voting,
    Closed,
}

/// A resolution decided: its text, counts and outcome.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Decision<'a> {
    #[schemars(with = "MeetingId")]
    pub meeting: &'a str,
    pub kind: MeetingKind,
    pub closed_at: DateTime<Utc>,
    pub resolution: &'a ResolutionId,
    pub text: &'a str,
    pub outcome: &'a Outcome,
    pub roll_total: u64,
    pub present: u64,
    pub votes_for: u64,
    pub votes_against: u64,
    pub abstentions: u64,
    pub colleges: &'a [CollegeTally],
    /// The position of the meeting's closing event.
    #[schemars(range(min = 1))]
    pub position: u64,
}

impl<'a> Decision<'a> {
    /// Every resolution of a closed meeting, in agenda order; none for a
    /// meeting not closed.
    pub fn all_of(meeting: &'a str, record: &'a MeetingRecord) -> impl Iterator<Item = Self> {
        let kind = record.convocation.kind;
        record.closed.iter().flat_map(move |closed| {
            record.convocation.agenda.iter().zip(&closed.results).map(
                move |(item, result): (&'a AgendaItem, &'a ResolutionResult)| Decision {
                    meeting,
                    kind,
                    closed_at: closed.closed_at,
                    resolution: &result.resolution,
                    text: &item.text,
                    outcome: &result.outcome,
                    roll_total: result.roll_total,
                    present: result.present,
                    votes_for: result.votes_for,
                    votes_against: result.votes_against,
                    abstentions: result.abstentions,
                    colleges: &result.colleges,
                    position: closed.at.position,
                },
            )
        })
    }
}

/// A meeting of the decisions register, in full.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RegisterEntry<'a> {
    #[schemars(with = "MeetingId")]
    pub meeting: &'a str,
    pub record: &'a MeetingRecord,
}

/// A financial year's production and revenue, corrections applied.
#[derive(Debug, Serialize, JsonSchema)]
pub struct YearProduction {
    pub year: i32,
    /// Per turbine and month.
    pub production: Vec<ProductionLine>,
    /// Per month and kind.
    pub revenue: Vec<RevenueLine>,
    pub total_revenue: SignedEuros,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProductionLine {
    pub turbine: TurbineId,
    pub month: YearMonth,
    #[schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$"))]
    pub mwh: Decimal,
    /// Per cent.
    #[schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$"))]
    pub availability: Decimal,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RevenueLine {
    pub month: YearMonth,
    pub kind: RevenueKind,
    pub amount: SignedEuros,
}

/// A page of the event log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventsPage<'a> {
    pub events: Vec<LoggedEvent<'a>>,
    /// The position to ask the next page after; none when the page is
    /// empty.
    #[schemars(range(min = 1))]
    pub next_after: Option<u64>,
}

/// An event as the ledger recorded it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoggedEvent<'a> {
    #[schemars(range(min = 1))]
    pub position: u64,
    pub stream: &'a str,
    #[schemars(range(min = 1))]
    pub stream_version: u64,
    #[schemars(with = "String", extend("format" = "uuid"))]
    pub event_id: uuid::Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    /// The event, named by its type: `{"BallotCast": {...}}`.
    #[schemars(
        with = "Map<String, Value>",
        extend("minProperties" = 1, "maxProperties" = 1)
    )]
    pub payload: Value,
    #[schemars(schema_with = "metadata_schema")]
    pub metadata: &'a windledger_store::Metadata,
    #[schemars(with = "DateTime<Utc>")]
    pub recorded_at: String,
    #[schemars(with = "EventHash")]
    pub prev_hash: String,
    #[schemars(with = "EventHash")]
    pub hash: String,
}

/// The store's event metadata, which derives no schema (the store knows no
/// OpenAPI): who and what caused the event, each field left out when
/// unknown.
fn metadata_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "properties": {
            "actor": { "type": "string" },
            "command_id": { "type": "string" },
            "correlation_id": { "type": "string" },
            "causation_id": { "type": "string" },
            "extra": { "type": "object", "additionalProperties": { "type": "string" } }
        }
    })
}

/// A signed checkpoint of the ledger's head.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignedHead {
    pub ledger: String,
    /// How many events the ledger holds.
    pub size: u64,
    #[schemars(with = "EventHash")]
    pub head: String,
    /// A C2SP signed note of the head.
    pub checkpoint: String,
    /// The verifier key: `<name>+<hex key id>+<base64 key>`.
    pub public_key: String,
}

/// A command recorded: the events it appended, by their receipts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Recorded {
    /// `<type>/<id>`: the stream the command ran on.
    pub stream: String,
    #[schemars(length(min = 1))]
    pub receipts: Vec<Receipt>,
}

/// Where an event landed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Receipt {
    #[schemars(range(min = 1))]
    pub position: u64,
    #[schemars(with = "EventHash")]
    pub hash: String,
    pub stream: String,
    pub event_type: String,
}

impl From<windledger_app::command::Receipt> for Receipt {
    fn from(r: windledger_app::command::Receipt) -> Self {
        Self {
            position: r.position,
            hash: r.hash,
            stream: r.stream,
            event_type: r.event_type,
        }
    }
}
