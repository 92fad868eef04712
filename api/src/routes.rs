//! Every route of the API, in one table: its method, path, who may call it
//! and what it does. The router, the OpenAPI document and the authorization
//! test are all built from [`routes`], so a route cannot exist without an
//! access rule.

use std::collections::{BTreeMap, HashMap};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use chrono::{NaiveDate, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use windledger_domain::company::CompanyCommand;
use windledger_domain::finance::{AdvanceCommand, FinancialYearCommand};
use windledger_domain::meeting::MeetingCommand;
use windledger_domain::types::HolderId;
use windledger_projections::cap_table::AsOf;
use windledger_projections::local_returns::local_returns;
use windledger_projections::statement::statement;
use windledger_store::{Checkpoint, StreamId};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::problem::{Kind, Problem};
use windledger_app::import::Command;
use windledger_app::ledger::{LedgerRuntime, REQUEST_KEY};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token: no personal data.
    Public,
    /// A token of one of these roles.
    Roles(&'static [Role]),
    /// These roles, or a shareholder whose token acts for the `{holder}` of
    /// the path.
    RolesOrSelf(&'static [Role]),
    /// These roles, or a shareholder or the municipality acting for the
    /// holder its token names (the handler checks the body's holder).
    RolesOrOwnHolder(&'static [Role]),
}

impl Access {
    /// Whether this caller may call the route; `self_holder` is the path's
    /// `{holder}` if any.
    pub fn allows(self, caller: &Caller, path_holder: Option<&str>) -> Result<(), Problem> {
        let principal = match (self, caller) {
            (Access::Public, _) => return Ok(()),
            (_, Caller::Anonymous) => {
                return Err(Problem::new(
                    Kind::Unauthenticated,
                    "this needs a token: send Authorization: Bearer <token>",
                ));
            }
            (_, Caller::Token(p)) => p,
        };
        let allowed = match self {
            Access::Public => true,
            Access::Roles(roles) => roles.contains(&principal.role),
            Access::RolesOrSelf(roles) => {
                roles.contains(&principal.role)
                    || (principal.role == Role::Shareholder
                        && principal.holder.as_ref().map(HolderId::as_str) == path_holder)
            }
            Access::RolesOrOwnHolder(roles) => {
                roles.contains(&principal.role)
                    || (matches!(principal.role, Role::Shareholder | Role::Municipality)
                        && principal.holder.is_some())
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "a {} token may not do this",
                principal.role
            )))
        }
    }
}

/// One route.
pub struct RouteSpec {
    pub method: Method,
    /// The axum path, `{param}` for parameters.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// For a command: the domain command it runs (and so its body's schema).
    pub command: Option<CommandSpec>,
    /// What a success answers, for the OpenAPI document.
    pub answer: Answer,
    /// For a read: the JSON Schema of its query string (the type its handler
    /// decodes the query into).
    pub query: Option<fn(&mut SchemaGenerator) -> Schema>,
    pub handler: MethodRouter<AppState>,
}

/// What a route answers when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with a JSON body: the schema of that name in the OpenAPI
    /// document's components (`openapi::answer_schemas`).
    Json(&'static str),
    /// 200 with a file of this media type.
    File(&'static str),
    /// 201 with the receipts of the events recorded (a command).
    Recorded,
}

use crate::auth::roles::{AUDITORS, MEMBERS, OPERATOR, SECRETARY};

/// `/api/v1/ledgers/{ledger}` + suffix, as a static string.
macro_rules! at {
    ($suffix:literal) => {
        concat!("/api/v1/ledgers/{ledger}", $suffix)
    };
}

/// Every route of the API.
pub fn routes() -> Vec<RouteSpec> {
    let read = |path, access, summary, answer, query, handler| RouteSpec {
        method: Method::GET,
        path,
        access,
        summary,
        command: None,
        answer,
        query,
        handler,
    };
    let command = |path, access, summary, spec: CommandSpec| RouteSpec {
        method: Method::POST,
        path,
        access,
        summary,
        command: Some(spec),
        answer: Answer::Recorded,
        query: None,
        handler: post(move |state, caller, params, headers, body| {
            run_command(spec, state, caller, params, headers, body)
        }),
    };
    use Aggregate::*;
    use IdFrom::*;
    vec![
        // Reads.
        read(
            at!("/company"),
            Access::Public,
            "The company, its charter and turbines",
            Answer::Json("Company"),
            None,
            get(company),
        ),
        read(
            at!("/parties"),
            Access::Public,
            "Each college's share of capital and votes",
            Answer::Json("Parties"),
            Some(AsOfQuery::json_schema),
            get(parties),
        ),
        read(
            at!("/cap-table"),
            Access::Roles(MEMBERS),
            "The cap table as of a date or position",
            Answer::Json("CapTable"),
            Some(AsOfQuery::json_schema),
            get(cap_table),
        ),
        read(
            at!("/holders"),
            Access::Roles(AUDITORS),
            "Every holder with their register history",
            Answer::Json("Holders"),
            None,
            get(holders),
        ),
        read(
            at!("/holders/{holder}"),
            Access::RolesOrSelf(AUDITORS),
            "One holder's register history and movements",
            Answer::Json("Holder"),
            None,
            get(holder),
        ),
        read(
            at!("/holders/{holder}/statement"),
            Access::RolesOrSelf(AUDITORS),
            "A holder's statement: holdings, ballots with receipts, dividends",
            Answer::Json("Statement"),
            None,
            get(holder_statement),
        ),
        read(
            at!("/meetings"),
            Access::Public,
            "Meetings convened, with their status",
            Answer::Json("Meetings"),
            None,
            get(meetings),
        ),
        read(
            at!("/meetings/{meeting}"),
            Access::Roles(MEMBERS),
            "A meeting's register entry: agenda, roll, proxies, ballots, tally",
            Answer::Json("MeetingRecord"),
            None,
            get(meeting),
        ),
        read(
            at!("/decisions"),
            Access::Public,
            "Resolutions decided, with their counts and outcome",
            Answer::Json("Decisions"),
            None,
            get(decisions),
        ),
        read(
            at!("/decisions-register"),
            Access::Roles(AUDITORS),
            "The decisions register: every meeting in full",
            Answer::Json("DecisionsRegister"),
            None,
            get(decisions_register),
        ),
        read(
            at!("/production"),
            Access::Public,
            "Production and revenue per month (corrections applied)",
            Answer::Json("Production"),
            Some(YearQuery::json_schema),
            get(production),
        ),
        read(
            at!("/local-returns"),
            Access::Public,
            "Local economic returns of a year",
            Answer::Json("LocalReturns"),
            Some(YearQuery::json_schema),
            get(local_returns_of),
        ),
        read(
            at!("/events"),
            Access::Roles(AUDITORS),
            "The event log by position",
            Answer::Json("EventsPage"),
            Some(EventsQuery::json_schema),
            get(events),
        ),
        read(
            at!("/checkpoint"),
            Access::Public,
            "A signed checkpoint of the ledger's head",
            Answer::Json("Checkpoint"),
            None,
            get(checkpoint),
        ),
        read(
            at!("/ocf"),
            Access::Roles(AUDITORS),
            "Open Cap Format 1.2.0 export (.ocf.zip) as of a date",
            Answer::File("application/zip"),
            Some(AsOfQuery::json_schema),
            get(ocf),
        ),
        // The company.
        command(
            at!("/company"),
            Access::Roles(SECRETARY),
            "Incorporate the company",
            CommandSpec::new(Company, "incorporate", CompanyStream),
        ),
        command(
            at!("/charter-amendments"),
            Access::Roles(SECRETARY),
            "Amend the charter",
            CommandSpec::new(Company, "amend_charter", CompanyStream),
        ),
        command(
            at!("/shareholders"),
            Access::Roles(SECRETARY),
            "Admit a shareholder",
            CommandSpec::new(Company, "admit_shareholder", CompanyStream),
        ),
        command(
            at!("/shareholders/{holder}/college-changes"),
            Access::Roles(SECRETARY),
            "Move a holder to another college",
            CommandSpec::new(Company, "change_college", CompanyStream).inject("holder", "holder"),
        ),
        command(
            at!("/shareholders/{holder}/residence-changes"),
            Access::Roles(SECRETARY),
            "Record a holder's new commune",
            CommandSpec::new(Company, "change_residence", CompanyStream).inject("holder", "holder"),
        ),
        command(
            at!("/shareholders/{holder}/exit"),
            Access::Roles(SECRETARY),
            "Record a holder's exit",
            CommandSpec::new(Company, "record_exit", CompanyStream).inject("holder", "holder"),
        ),
        command(
            at!("/share-issuances"),
            Access::Roles(SECRETARY),
            "Issue shares",
            CommandSpec::new(Company, "issue_shares", CompanyStream),
        ),
        command(
            at!("/share-transfers"),
            Access::Roles(SECRETARY),
            "Transfer shares",
            CommandSpec::new(Company, "transfer_shares", CompanyStream),
        ),
        command(
            at!("/share-repurchases"),
            Access::Roles(SECRETARY),
            "Repurchase shares",
            CommandSpec::new(Company, "repurchase_shares", CompanyStream),
        ),
        command(
            at!("/share-cancellations"),
            Access::Roles(SECRETARY),
            "Cancel shares",
            CommandSpec::new(Company, "cancel_shares", CompanyStream),
        ),
        // Meetings.
        command(
            at!("/meetings"),
            Access::Roles(SECRETARY),
            "Convene a meeting",
            CommandSpec::new(Meeting, "convene", Body("meeting")),
        ),
        command(
            at!("/meetings/{meeting}/voting"),
            Access::Roles(SECRETARY),
            "Open the voting (freezes the roll)",
            CommandSpec::new(Meeting, "open_voting", PathParam("meeting")).at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/proxies"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Give a proxy",
            CommandSpec::new(Meeting, "grant_proxy", PathParam("meeting"))
                .own("grantor")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/proxy-revocations"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Revoke a proxy",
            CommandSpec::new(Meeting, "revoke_proxy", PathParam("meeting"))
                .own("grantor")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/ballots"),
            Access::RolesOrOwnHolder(SECRETARY),
            "Cast a ballot, for oneself or as a proxy",
            CommandSpec::new(Meeting, "cast_ballot", PathParam("meeting"))
                .own("cast_by")
                .at_server_time("at"),
        ),
        command(
            at!("/meetings/{meeting}/postal-ballots"),
            Access::Roles(SECRETARY),
            "Enter a postal voting form received by the company (vote par correspondance)",
            CommandSpec::new(Meeting, "record_postal_ballot", PathParam("meeting")),
        ),
        command(
            at!("/meetings/{meeting}/close"),
            Access::Roles(SECRETARY),
            "Close the meeting and record the tally",
            CommandSpec::new(Meeting, "close", PathParam("meeting")).at_server_time("at"),
        ),
        // Financial years.
        command(
            at!("/financial-years"),
            Access::Roles(SECRETARY),
            "Open a financial year",
            CommandSpec::new(Year, "open_year", Body("year")),
        ),
        command(
            at!("/financial-years/{year}/production-reports"),
            Access::Roles(OPERATOR),
            "Report a turbine's production of a month",
            CommandSpec::new(Year, "report_production", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/revenue"),
            Access::Roles(OPERATOR),
            "Record revenue of a month",
            CommandSpec::new(Year, "record_revenue", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/costs"),
            Access::Roles(OPERATOR),
            "Record a cost",
            CommandSpec::new(Year, "record_cost", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/ifer"),
            Access::Roles(OPERATOR),
            "Assess the IFER",
            CommandSpec::new(Year, "assess_ifer", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/local-taxes"),
            Access::Roles(OPERATOR),
            "Record a local tax (CFE, property tax)",
            CommandSpec::new(Year, "record_local_tax", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/accounts-approval"),
            Access::Roles(SECRETARY),
            "Record the approval of the accounts",
            CommandSpec::new(Year, "approve_accounts", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/result-appropriation"),
            Access::Roles(SECRETARY),
            "Record the appropriation of the result",
            CommandSpec::new(Year, "appropriate_result", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/dividends"),
            Access::Roles(SECRETARY),
            "Declare the dividend",
            CommandSpec::new(Year, "declare_dividend", PathParam("year")),
        ),
        command(
            at!("/financial-years/{year}/dividend-payments"),
            Access::Roles(SECRETARY),
            "Record a dividend payment",
            CommandSpec::new(Year, "record_dividend_payment", PathParam("year")),
        ),
        // Current-account advances.
        command(
            at!("/advances"),
            Access::Roles(SECRETARY),
            "Record a current-account advance",
            CommandSpec::new(Advance, "grant", Body("advance")),
        ),
        command(
            at!("/advances/{advance}/repayments"),
            Access::Roles(SECRETARY),
            "Record a repayment",
            CommandSpec::new(Advance, "repay", PathParam("advance")),
        ),
        command(
            at!("/advances/{advance}/interest"),
            Access::Roles(SECRETARY),
            "Record a year's interest",
            CommandSpec::new(Advance, "accrue_interest", PathParam("advance")),
        ),
    ]
}

// ---------------------------------------------------------------- commands

#[derive(Debug, Clone, Copy)]
enum Aggregate {
    Company,
    Meeting,
    Year,
    Advance,
}

/// Where a command's aggregate id comes from.
#[derive(Debug, Clone, Copy)]
enum IdFrom {
    /// The ledger's company.
    CompanyStream,
    /// A path parameter.
    PathParam(&'static str),
    /// A field of the body.
    Body(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    aggregate: Aggregate,
    tag: &'static str,
    id: IdFrom,
    /// A path parameter copied into a body field.
    inject: Option<(&'static str, &'static str)>,
    /// The body field that must be the caller's own holder when a
    /// shareholder or the municipality sends it.
    own: Option<&'static str>,
    /// The command's instant, which the server's clock gives: a body may
    /// not carry it.
    server_time: Option<&'static str>,
}

impl CommandSpec {
    const fn new(aggregate: Aggregate, tag: &'static str, id: IdFrom) -> Self {
        Self {
            aggregate,
            tag,
            id,
            inject: None,
            own: None,
            server_time: None,
        }
    }

    /// The command happens when the server receives it: `field` is the
    /// server's clock, never the client's.
    const fn at_server_time(mut self, field: &'static str) -> Self {
        self.server_time = Some(field);
        self
    }

    /// The body field the server's clock fills in, which a body may not
    /// carry.
    pub fn server_time_field(&self) -> Option<&'static str> {
        self.server_time
    }

    const fn inject(mut self, param: &'static str, field: &'static str) -> Self {
        self.inject = Some((param, field));
        self
    }

    const fn own(mut self, field: &'static str) -> Self {
        self.own = Some(field);
        self
    }

    /// The command's name, as in an import file (`"issue_shares"`).
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The body field the path fills in (it may be left out; if given, it
    /// must equal the path's).
    pub fn injected_field(&self) -> Option<&'static str> {
        self.inject.map(|(_, field)| field)
    }

    /// The body field a shareholder or municipality token may leave out (it
    /// is then its own holder).
    pub fn own_field(&self) -> Option<&'static str> {
        self.own
    }

    /// The JSON Schema of the command enum the body is decoded into (a
    /// reference into the generator's definitions); the body is the variant
    /// tagged [`Self::tag`], without its `command` field.
    pub fn command_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        match self.aggregate {
            Aggregate::Company => generator.subschema_for::<CompanyCommand>(),
            Aggregate::Meeting => generator.subschema_for::<MeetingCommand>(),
            Aggregate::Year => generator.subschema_for::<FinancialYearCommand>(),
            Aggregate::Advance => generator.subschema_for::<AdvanceCommand>(),
        }
    }
}

/// Most characters in an Idempotency-Key.
const MAX_KEY_LEN: usize = 200;

async fn run_command(
    spec: CommandSpec,
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let principal = caller
        .principal()
        .ok_or_else(|| Problem::new(Kind::Unauthenticated, "this needs a token"))?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json")
        });
    if !is_json {
        return Err(Problem::new(
            Kind::UnsupportedMediaType,
            "send the command as a JSON object with Content-Type: application/json",
        ));
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v.to_str().map_err(|_| {
                Problem::validation("the Idempotency-Key must be visible ASCII characters")
            })?;
            if k.is_empty() || k.len() > MAX_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Problem::validation(format!(
                    "the Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
                )));
            }
            Some(k.to_owned())
        }
    };

    let mut fields: Map<String, Value> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(Problem::validation("the body must be a JSON object")),
        Err(e) => {
            return Err(Problem::validation(format!(
                "the body is not valid JSON: {e}"
            )));
        }
    };
    if fields.contains_key("command") {
        return Err(Problem::validation(
            "the body has a \"command\" field: the URL names the command, leave it out",
        ));
    }
    if let Some((param, field)) = spec.inject {
        let value = params.get(param).cloned().unwrap_or_default();
        match fields.get(field) {
            Some(given) if given != &Value::String(value.clone()) => {
                return Err(Problem::validation(format!(
                    "the body's {field:?} differs from the path's {param}: leave it out"
                )));
            }
            _ => {
                fields.insert(field.to_owned(), Value::String(value));
            }
        }
    }
    if let Some(field) = spec.server_time {
        if fields.contains_key(field) {
            return Err(Problem::validation(format!(
                "the body has an {field:?} field: the server's clock decides when this happens, leave it out (a postal voting form received earlier is entered by the secretary at /postal-ballots)"
            )));
        }
        fields.insert(
            field.to_owned(),
            Value::String(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
    }
    if let Some(field) = spec.own
        && principal.role != Role::Secretary
    {
        let own = principal
            .holder
            .as_ref()
            .ok_or_else(|| Problem::forbidden("this token acts for no holder"))?
            .to_string();
        match fields.get(field) {
            None => {
                fields.insert(field.to_owned(), Value::String(own));
            }
            Some(Value::String(given)) if *given == own => {}
            Some(_) => {
                return Err(Problem::forbidden(format!(
                    "a {} token acts for holder {own}: {field} must be {own}",
                    principal.role
                )));
            }
        }
    }
    let aggregate_id = match spec.id {
        IdFrom::CompanyStream => runtime.company_id(),
        IdFrom::PathParam(p) => params.get(p).cloned().unwrap_or_default(),
        IdFrom::Body(f) => match fields.get(f) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(Problem::validation(format!(
                    "the body must have a {f:?} field naming the new {f}"
                )));
            }
        },
    };
    fields.insert("command".to_owned(), Value::String(spec.tag.to_owned()));
    let value = Value::Object(fields);
    let invalid = |e: serde_json::Error| {
        Problem::validation(format!("not a valid {} command: {e}", spec.tag))
    };
    let command = match spec.aggregate {
        Aggregate::Company => Command::Company(Box::new(
            serde_json::from_value::<CompanyCommand>(value).map_err(invalid)?,
        )),
        Aggregate::Meeting => {
            Command::Meeting(serde_json::from_value::<MeetingCommand>(value).map_err(invalid)?)
        }
        Aggregate::Year => Command::FinancialYear(
            serde_json::from_value::<FinancialYearCommand>(value).map_err(invalid)?,
        ),
        Aggregate::Advance => {
            Command::Advance(serde_json::from_value::<AdvanceCommand>(value).map_err(invalid)?)
        }
    };
    let stream = format!("{}/{aggregate_id}", stream_type(spec.aggregate));
    StreamId::parse(stream.clone()).map_err(|e| Problem::validation(e.to_string()))?;
    windledger_app::import::check_aggregate_id(&command, &aggregate_id)
        .map_err(Problem::validation)?;

    let mut hasher = Sha256::new();
    hasher.update(Method::POST.as_str());
    hasher.update(b" ");
    hasher.update(spec.tag.as_bytes());
    hasher.update(b" ");
    hasher.update(stream.as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    let fingerprint = hex::encode(hasher.finalize());
    let command_id = match &key {
        Some(k) => format!("api:{}:{k}", principal.token_id),
        None => format!("api:{}", uuid::Uuid::new_v4()),
    };
    let metadata = HashMap::from([
        (
            "actor".to_owned(),
            format!("{}:{}", principal.role, principal.token_id),
        ),
        ("command_id".to_owned(), command_id.clone()),
        (REQUEST_KEY.to_owned(), fingerprint.clone()),
    ]);

    // In a task of its own, holding the key until the command is done: a
    // client that goes away neither cuts the command short nor frees its key
    // while its commit may still land (a retry then waits and gets the
    // answer, rather than deciding again on a state holding the first).
    let task = tokio::spawn(async move {
        let _held = runtime.hold(&command_id).await;
        // A key not in memory may still be in the ledger (its commit landed
        // after this server read it): looked up there before deciding again.
        let answered = match key {
            Some(_) => {
                runtime
                    .answered_or_recorded(&command, &aggregate_id, &command_id)
                    .await?
            }
            None => None,
        };
        if let Some(answered) = answered {
            if answered.fingerprint != fingerprint {
                return Err(Problem::new(
                    Kind::IdempotencyKeyReused,
                    "this Idempotency-Key was already used for another request: use a new key for a new request",
                ));
            }
            runtime.shown(&answered.receipts).await;
            return Ok((answered.receipts, true));
        }
        let receipts = runtime.execute(&aggregate_id, command, metadata).await?;
        Ok((receipts, false))
    });
    let outcome = task
        .await
        .unwrap_or_else(|e| Err(Problem::internal(format!("the command's task failed: {e}"))));
    let (receipts, replayed) = outcome?;
    state.metrics.appended(receipts.len() as u64);
    let mut response = (
        StatusCode::CREATED,
        axum::Json(json!({ "stream": stream, "receipts": receipts })),
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn stream_type(aggregate: Aggregate) -> &'static str {
    use cqrs_es::Aggregate as _;
    match aggregate {
        Aggregate::Company => windledger_domain::company::Company::TYPE,
        Aggregate::Meeting => windledger_domain::meeting::Meeting::TYPE,
        Aggregate::Year => windledger_domain::finance::FinancialYear::TYPE,
        Aggregate::Advance => windledger_domain::finance::CurrentAccountAdvance::TYPE,
    }
}

// ---------------------------------------------------------------- reads

type Params = Path<HashMap<String, String>>;

fn ok(value: impl serde::Serialize) -> Result<Response, Problem> {
    Ok(axum::Json(value).into_response())
}

/// Waits until the projections show the ledger's head (so a client reads
/// its own writes, and a restarted server answers nothing stale).
async fn fresh(runtime: &LedgerRuntime) -> Result<(), Problem> {
    let head = runtime
        .recent_head()
        .await
        .map_err(|e| Problem::store(&e))?;
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        runtime.projections.caught_up(head),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Problem::internal(e)),
        Err(_) => Err(Problem::unavailable(
            "the projections are still catching up with the ledger: try again shortly",
        )),
    }
}

/// Reads the projections once they are [`fresh`].
async fn projected<T>(
    runtime: &LedgerRuntime,
    f: impl FnOnce(&windledger_projections::runner::Projections) -> T,
) -> Result<T, Problem> {
    fresh(runtime).await?;
    Ok(runtime.projections.read(f))
}

/// A JSON body already serialised.
fn json_bytes(body: Bytes) -> Result<Response, Problem> {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A cap-table read: cached while the cap table does not change when it is
/// as of the latest event, computed otherwise.
async fn cap_table_read(
    runtime: &LedgerRuntime,
    name: &'static str,
    as_of: AsOf,
    render: impl FnOnce(
        windledger_projections::cap_table::CapTableView<'_>,
    ) -> Result<Value, serde_json::Error>,
) -> Result<Response, Problem> {
    fresh(runtime).await?;
    let compute = |p: &windledger_projections::runner::Projections| -> Result<Bytes, Problem> {
        let view = p
            .cap_table
            .fold()
            .view(as_of)
            .ok_or_else(|| Problem::not_found("the company did not exist then"))?;
        // A view that cannot be serialised is an error (500), never `null`.
        render(view)
            .and_then(|value| serde_json::to_vec(&value))
            .map(Bytes::from)
            .map_err(Problem::internal)
    };
    let body = if as_of == AsOf::Latest {
        runtime.latest_cap_table(name, compute)?
    } else {
        runtime.projections.read(compute)?
    };
    json_bytes(body)
}

/// Which state of the ledger to read: the latest by default.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AsOfQuery {
    /// The facts effective up to the end of this date.
    as_of: Option<NaiveDate>,
    /// The events up to this position (not with `as_of`; not for the OCF
    /// export, which is as of a date).
    position: Option<u64>,
}

impl AsOfQuery {
    fn as_of(&self) -> Result<AsOf, Problem> {
        match (self.as_of, self.position) {
            (Some(_), Some(_)) => Err(Problem::validation(
                "give as_of (a date) or position, not both",
            )),
            (Some(date), None) => Ok(AsOf::Date { date }),
            (None, Some(position)) => Ok(AsOf::Position { position }),
            (None, None) => Ok(AsOf::Latest),
        }
    }
}

fn query<T: serde::de::DeserializeOwned>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::validation(format!("bad query parameters: {}", e.body_text())))
}

async fn company(State(state): State<AppState>, Path(params): Params) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let value = projected(&runtime, |p| {
        let fold = p.cap_table.fold();
        fold.incorporation().map(|inc| {
            json!({
                "company": inc,
                "charter": fold.charter(AsOf::Latest),
            })
        })
    })
    .await?;
    ok(value.ok_or_else(|| Problem::not_found("this ledger has no company yet"))?)
}

async fn parties(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<AsOfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let as_of = query(q)?.as_of()?;
    cap_table_read(&runtime, "parties", as_of, |v| {
        Ok(json!({
            "as_of": v.as_of,
            "share_capital": v.share_capital,
            "by_college": v.by_college,
            "by_class": v.by_class,
        }))
    })
    .await
}

async fn cap_table(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<AsOfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let as_of = query(q)?.as_of()?;
    #[allow(clippy::redundant_closure)] // the function item is not general over the view's lifetime
    cap_table_read(&runtime, "cap-table", as_of, |v| serde_json::to_value(v)).await
}

async fn holders(State(state): State<AppState>, Path(params): Params) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let value = projected(&runtime, |p| {
        p.cap_table
            .fold()
            .holders()
            .map(|(id, h)| json!({ "holder": id, "history": h }))
            .collect::<Vec<_>>()
    })
    .await?;
    ok(value)
}

fn path_holder(params: &HashMap<String, String>) -> Result<HolderId, Problem> {
    let raw = params.get("holder").cloned().unwrap_or_default();
    HolderId::new(raw).map_err(|e| Problem::validation(format!("bad holder id: {e}")))
}

async fn holder(State(state): State<AppState>, Path(params): Params) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let id = path_holder(&params)?;
    let value = projected(&runtime, |p| {
        p.cap_table
            .fold()
            .holder(&id)
            .map(|h| json!({ "holder": id, "history": h }))
    })
    .await?;
    ok(value.ok_or_else(|| Problem::not_found(format!("no holder {id} in this ledger")))?)
}

async fn holder_statement(
    State(state): State<AppState>,
    Path(params): Params,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let id = path_holder(&params)?;
    let value = projected(&runtime, |p| statement(p, &id).map(serde_json::to_value)).await?;
    match value {
        Some(v) => ok(v.map_err(Problem::internal)?),
        None => Err(Problem::not_found(format!("no holder {id} in this ledger"))),
    }
}

async fn meetings(
    State(state): State<AppState>,
    Path(params): Params,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let value = projected(&runtime, |p| {
        p.register
            .fold()
            .meetings()
            .map(|(id, m)| {
                let status = if m.closed.is_some() {
                    "closed"
                } else if m.roll.is_some() {
                    "voting"
                } else {
                    "convened"
                };
                json!({
                    "meeting": id,
                    "kind": m.convocation.kind,
                    "call": m.convocation.call,
                    "record_date": m.convocation.record_date,
                    "opens_at": m.convocation.opens_at,
                    "closes_at": m.convocation.closes_at,
                    "agenda": m.convocation.agenda,
                    "status": status,
                })
            })
            .collect::<Vec<_>>()
    })
    .await?;
    ok(value)
}

async fn meeting(State(state): State<AppState>, Path(params): Params) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let id = params.get("meeting").cloned().unwrap_or_default();
    let value = projected(&runtime, |p| {
        p.register.fold().meeting(&id).map(serde_json::to_value)
    })
    .await?;
    match value {
        Some(v) => ok(v.map_err(Problem::internal)?),
        None => Err(Problem::not_found(format!(
            "no meeting {id:?} in this ledger"
        ))),
    }
}

async fn decisions(
    State(state): State<AppState>,
    Path(params): Params,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let value = projected(&runtime, |p| {
        let mut out = Vec::new();
        for (id, m) in p.register.fold().meetings() {
            let Some(closed) = &m.closed else { continue };
            for (item, result) in m.convocation.agenda.iter().zip(&closed.results) {
                out.push(json!({
                    "meeting": id,
                    "kind": m.convocation.kind,
                    "closed_at": closed.closed_at,
                    "resolution": result.resolution,
                    "text": item.text,
                    "outcome": result.outcome,
                    "roll_total": result.roll_total,
                    "present": result.present,
                    "votes_for": result.votes_for,
                    "votes_against": result.votes_against,
                    "abstentions": result.abstentions,
                    "colleges": result.colleges,
                    "position": closed.at.position,
                }));
            }
        }
        out
    })
    .await?;
    ok(value)
}

async fn decisions_register(
    State(state): State<AppState>,
    Path(params): Params,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let value = projected(&runtime, |p| {
        p.register
            .fold()
            .meetings()
            .map(|(id, m)| Ok(json!({ "meeting": id, "record": serde_json::to_value(m)? })))
            .collect::<Result<Vec<_>, serde_json::Error>>()
    })
    .await?;
    ok(value.map_err(Problem::internal)?)
}

/// One financial year, or every year.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct YearQuery {
    /// The financial year: the year it ends in (every year when left out).
    year: Option<i32>,
}

async fn production(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let wanted = query(q)?.year;
    let value = projected(&runtime, |p| {
        p.finance
            .fold()
            .years()
            .filter(|y| wanted.is_none_or(|w| w == y.year))
            .map(|y| {
                let production: Vec<Value> = y
                    .production()
                    .into_iter()
                    .map(|((turbine, month), (mwh, availability))| {
                        json!({ "turbine": turbine, "month": month, "mwh": mwh, "availability": availability })
                    })
                    .collect();
                let revenue: Vec<Value> = y
                    .revenue()?
                    .into_iter()
                    .map(|((month, kind), amount)| json!({ "month": month, "kind": kind, "amount": amount }))
                    .collect();
                Ok(json!({ "year": y.year, "production": production, "revenue": revenue, "total_revenue": y.total_revenue()? }))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(value.map_err(|e| Problem::figures_out_of_range(&e))?)
}

async fn local_returns_of(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<YearQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let wanted = query(q)?.year;
    let value = projected(&runtime, |p| {
        let years: Vec<i32> = p.finance.fold().years().map(|y| y.year).collect();
        years
            .into_iter()
            .filter(|y| wanted.is_none_or(|w| w == *y))
            .filter_map(|y| local_returns(p, y).transpose())
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(value.map_err(|e| Problem::figures_out_of_range(&e))?)
}

/// A page of the event log.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    /// The events after this position (0: from the first; at most
    /// 2^53 − 1, the largest position a ledger can reach).
    #[serde(default)]
    #[schemars(range(max = windledger_store::MAX_POSITION))]
    after: u64,
    /// Most events in the page (100 by default).
    #[schemars(range(min = 1, max = MAX_EVENTS_PAGE))]
    limit: Option<u32>,
}

/// Most events per page of the event log.
const MAX_EVENTS_PAGE: u32 = 1_000;

async fn events(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let q = query(q)?;
    if q.after > windledger_store::MAX_POSITION {
        return Err(Problem::validation(format!(
            "after must be a position from 0 to {}",
            windledger_store::MAX_POSITION
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_EVENTS_PAGE {
        return Err(Problem::validation(format!(
            "limit must be 1 to {MAX_EVENTS_PAGE}"
        )));
    }
    let page = runtime
        .store
        .read_ledger(&runtime.id, q.after, limit)
        .await
        .map_err(|e| Problem::store(&e))?;
    let events = page
        .iter()
        .map(|e| {
            Ok(json!({
                "position": e.position,
                "stream": e.stream_id.as_str(),
                "stream_version": e.stream_version,
                "event_id": e.event_id,
                "event_type": e.event_type,
                "schema_version": e.schema_version,
                "payload": serde_json::from_str::<Value>(e.payload.get())?,
                "metadata": e.metadata,
                "recorded_at": windledger_store::timestamp::format(&e.recorded_at),
                "prev_hash": e.prev_hash.to_hex(),
                "hash": e.hash.to_hex(),
            }))
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(Problem::internal)?;
    let next = page.last().map(|e| e.position);
    ok(json!({ "events": events, "next_after": next }))
}

async fn checkpoint(
    State(state): State<AppState>,
    Path(params): Params,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let head = runtime.verified_head().await?;
    runtime
        .extends_last_signed(head, &state.trusted_keys)
        .await?;
    let checkpoint = Checkpoint::new(runtime.id.clone(), head, Utc::now());
    let note = state.signer.sign(&checkpoint);
    runtime
        .store
        .record_signed_checkpoint(&checkpoint, &note)
        .await
        .map_err(|e| Problem::store(&e))?;
    ok(json!({
        "ledger": runtime.id.as_str(),
        "size": head.size,
        "head": head.hash.to_hex(),
        "checkpoint": note,
        "public_key": state.signer.verifier().to_string(),
    }))
}

async fn ocf(
    State(state): State<AppState>,
    Path(params): Params,
    q: Result<Query<AsOfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let runtime = state.runtime(&params).await?;
    let q = query(q)?;
    if q.position.is_some() {
        return Err(Problem::validation(
            "the OCF export is as of a date: give as_of",
        ));
    }
    let as_of = q.as_of.unwrap_or_else(|| Utc::now().date_naive());
    let stream = windledger_store::aggregate_stream::<windledger_domain::company::Company>(
        &runtime.company_id(),
    )
    .map_err(Problem::internal)?;
    let recorded = runtime
        .store
        .read_stream_to_end(&runtime.id, &stream)
        .await
        .map_err(|e| Problem::store(&e))?;
    if recorded.is_empty() {
        return Err(Problem::not_found("this ledger has no company yet"));
    }
    let events = recorded
        .iter()
        .map(|e| Ok((e.position, e.decode()?)))
        .collect::<Result<Vec<_>, windledger_store::StoreError>>()
        .map_err(Problem::internal)?;
    let package = windledger_projections::ocf::export(&events, as_of, Utc::now())
        .map_err(|e| Problem::validation(e.to_string()))?;
    let zip = package.to_zip().map_err(Problem::internal)?;
    let mut response = zip.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{as_of}.ocf.zip\"",
        runtime.id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The names of a route's path parameters, in order.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// For the OpenAPI document: the routes grouped by path.
pub fn by_path(routes: &[RouteSpec]) -> BTreeMap<&'static str, Vec<&RouteSpec>> {
    let mut out: BTreeMap<&'static str, Vec<&RouteSpec>> = BTreeMap::new();
    for r in routes {
        out.entry(r.path).or_default().push(r);
    }
    out
}
