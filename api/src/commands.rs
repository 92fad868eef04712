//! The command routes: each runs one domain command, named by the route,
//! with the request's body as the command's fields. A request goes through
//! four steps, each a function: its command is read from the body, the path
//! and the caller ([`CommandSpec::parse`]); its ids are derived from the
//! `Idempotency-Key` ([`RequestIds`]); the command runs once per key, a
//! retry answered from the first run ([`run_once`]); the receipts are
//! answered ([`recorded`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use chrono::Utc;
use schemars::{Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use windledger_app::command::{Command, Receipt};
use windledger_app::ledger::{LedgerRuntime, REQUEST_KEY};
use windledger_domain::budgeting::fund::FundCommand;
use windledger_domain::budgeting::round::RoundCommand;
use windledger_domain::company::CompanyCommand;
use windledger_domain::finance::{AdvanceCommand, FinancialYearCommand};
use windledger_domain::meeting::MeetingCommand;
use windledger_store::StreamId;

use crate::AppState;
use crate::answers::Recorded;
use crate::auth::{Principal, Role};
use crate::extract::{IdempotencyKey, JsonBody, Ledger, PathParams};
use crate::problem::{Kind, Problem};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Aggregate {
    Company,
    Meeting,
    Year,
    Advance,
    Round,
    Fund,
}

impl Aggregate {
    /// The type of its streams (`<type>/<id>`).
    fn stream_type(self) -> &'static str {
        use cqrs_es::Aggregate as _;
        match self {
            Aggregate::Company => windledger_domain::company::Company::TYPE,
            Aggregate::Meeting => windledger_domain::meeting::Meeting::TYPE,
            Aggregate::Year => windledger_domain::finance::FinancialYear::TYPE,
            Aggregate::Advance => windledger_domain::finance::CurrentAccountAdvance::TYPE,
            Aggregate::Round => windledger_domain::budgeting::round::BudgetingRound::TYPE,
            Aggregate::Fund => windledger_domain::budgeting::fund::TerritoryFund::TYPE,
        }
    }

    /// The command the fields (tagged `command`) name, of this aggregate's
    /// command enum.
    fn decode(self, fields: Value) -> Result<Command, serde_json::Error> {
        Ok(match self {
            Aggregate::Company => Command::Company(Box::new(serde_json::from_value(fields)?)),
            Aggregate::Meeting => Command::Meeting(serde_json::from_value(fields)?),
            Aggregate::Year => Command::FinancialYear(serde_json::from_value(fields)?),
            Aggregate::Advance => Command::Advance(serde_json::from_value(fields)?),
            Aggregate::Round => Command::Round(serde_json::from_value(fields)?),
            Aggregate::Fund => Command::Fund(serde_json::from_value(fields)?),
        })
    }
}

/// Where a command's aggregate id comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdFrom {
    /// The ledger's company.
    CompanyStream,
    /// The path's id of the aggregate: `{meeting}`, `{year}`, `{advance}`
    /// or `{round}`.
    Path,
    /// The ledger's one stream of the aggregate (the territory fund's).
    Fixed(&'static str),
    /// A field of the body.
    Body(&'static str),
}

/// The ids a command's path names besides its ledger.
#[derive(Debug, Deserialize)]
pub(crate) struct CommandPath {
    /// The holder the command is about (`/shareholders/{holder}/...`).
    holder: Option<String>,
    meeting: Option<String>,
    year: Option<String>,
    advance: Option<String>,
    round: Option<String>,
}

impl CommandPath {
    /// The path's id of an aggregate of this type.
    fn aggregate_id(&self, aggregate: Aggregate) -> Option<&String> {
        match aggregate {
            Aggregate::Company | Aggregate::Fund => None,
            Aggregate::Meeting => self.meeting.as_ref(),
            Aggregate::Year => self.year.as_ref(),
            Aggregate::Advance => self.advance.as_ref(),
            Aggregate::Round => self.round.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    aggregate: Aggregate,
    tag: &'static str,
    id: IdFrom,
    /// The body's `holder` is the path's `{holder}`.
    holder_from_path: bool,
    /// The body field that must be the caller's own holder when a
    /// shareholder or the municipality sends it.
    own: Option<&'static str>,
    /// The body field that must be the caller's own resident when a
    /// resident sends it.
    own_resident: Option<&'static str>,
    /// The command's instant, which the server's clock gives: a body may
    /// not carry it.
    server_time: Option<&'static str>,
    /// The body carries the holder's identity (`person`), sealed in the
    /// vault and committed to by the command itself: the admission.
    person: bool,
    /// The `person` may be left out (a resident's registration: a
    /// shareholder's identity is in the vault already).
    person_optional: bool,
}

/// A command read from its request, ready to run.
struct Parsed {
    command: Command,
    /// The identity the command records (see [`CommandSpec::with_person`]).
    person: Option<windledger_vault::Person>,
    aggregate_id: String,
    /// `<type>/<aggregate id>`.
    stream: String,
}

impl CommandSpec {
    pub(crate) const fn new(aggregate: Aggregate, tag: &'static str, id: IdFrom) -> Self {
        Self {
            aggregate,
            tag,
            id,
            holder_from_path: false,
            own: None,
            own_resident: None,
            server_time: None,
            person: false,
            person_optional: false,
        }
    }

    /// The body carries a `person` (required), the holder's identity: it is
    /// sealed in the vault and the command records its commitment in the
    /// same step (the admission).
    pub(crate) const fn with_person(mut self) -> Self {
        self.person = true;
        self
    }

    /// The body may carry a `person` (see [`CommandSpec::with_person`]),
    /// or leave it out.
    pub(crate) const fn with_optional_person(mut self) -> Self {
        self.person = true;
        self.person_optional = true;
        self
    }

    /// Whether the body carries a `person`.
    pub fn takes_person(&self) -> bool {
        self.person
    }

    /// Whether the body's `person` is required.
    pub fn requires_person(&self) -> bool {
        self.person && !self.person_optional
    }

    /// The command happens when the server receives it: `field` is the
    /// server's clock, never the client's.
    pub(crate) const fn at_server_time(mut self, field: &'static str) -> Self {
        self.server_time = Some(field);
        self
    }

    /// The body's `holder` is the path's `{holder}`.
    pub(crate) const fn holder_from_path(mut self) -> Self {
        self.holder_from_path = true;
        self
    }

    pub(crate) const fn own(mut self, field: &'static str) -> Self {
        self.own = Some(field);
        self
    }

    /// A resident's token sends `field` as its own resident (filled in
    /// when left out, refused if another).
    pub(crate) const fn own_resident(mut self, field: &'static str) -> Self {
        self.own_resident = Some(field);
        self
    }

    /// The body field the server's clock fills in, which a body may not
    /// carry.
    pub fn server_time_field(&self) -> Option<&'static str> {
        self.server_time
    }

    /// The command's name, as in an import file (`"issue_shares"`).
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The body field the path fills in (it may be left out; if given, it
    /// must equal the path's).
    pub fn injected_field(&self) -> Option<&'static str> {
        self.holder_from_path.then_some("holder")
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
            Aggregate::Round => generator.subschema_for::<RoundCommand>(),
            Aggregate::Fund => generator.subschema_for::<FundCommand>(),
        }
    }

    /// The route's handler.
    pub(crate) fn handler(self) -> MethodRouter<AppState> {
        post(move |state, ledger, principal, path, key, body| {
            run_command(self, state, ledger, principal, path, key, body)
        })
    }

    /// Step 1: the command the body's fields give, completed from the path
    /// (the holder, the aggregate id), the server's clock and the caller
    /// (their own holder), and checked against the stream it runs on.
    fn parse(
        &self,
        runtime: &LedgerRuntime,
        principal: &Principal,
        path: &CommandPath,
        body: &[u8],
    ) -> Result<Parsed, Problem> {
        let mut fields = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => fields,
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
        let person = match (self.person, self.person_optional) {
            (true, true) if !fields.contains_key("person") => None,
            (true, _) => take_person(&mut fields)?,
            (false, _) => None,
        };
        if self.holder_from_path {
            let holder = path
                .holder
                .clone()
                .ok_or_else(|| Problem::internal("a holder's command route without {holder}"))?;
            match fields.get("holder") {
                Some(given) if given != &Value::String(holder.clone()) => {
                    return Err(Problem::validation(
                        "the body's \"holder\" differs from the path's holder: leave it out",
                    ));
                }
                _ => {
                    fields.insert("holder".to_owned(), Value::String(holder));
                }
            }
        }
        if let Some(field) = self.server_time {
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
        if let Some(field) = self.own
            && principal.role != Role::Secretary
        {
            own_holder(principal, field, &mut fields)?;
        }
        if let Some(field) = self.own_resident
            && principal.role == Role::Resident
        {
            own_resident(principal, field, &mut fields)?;
        }
        let aggregate_id = match self.id {
            IdFrom::CompanyStream => runtime.company_id(),
            IdFrom::Path => path.aggregate_id(self.aggregate).cloned().ok_or_else(|| {
                Problem::internal(format!("the route of {} names no aggregate", self.tag))
            })?,
            IdFrom::Fixed(id) => id.to_owned(),
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
        fields.insert("command".to_owned(), Value::String(self.tag.to_owned()));
        let command = self
            .aggregate
            .decode(Value::Object(fields))
            .map_err(|e| Problem::validation(format!("not a valid {} command: {e}", self.tag)))?;
        let stream = format!("{}/{aggregate_id}", self.aggregate.stream_type());
        StreamId::parse(stream.clone()).map_err(|e| Problem::validation(e.to_string()))?;
        windledger_app::command::check_aggregate_id(&command, &aggregate_id)
            .map_err(Problem::validation)?;
        Ok(Parsed {
            command,
            person,
            aggregate_id,
            stream,
        })
    }
}

/// The admission's `person`, required; the commitment (`identity`) is the
/// server's to compute.
fn take_person(
    fields: &mut Map<String, Value>,
) -> Result<Option<windledger_vault::Person>, Problem> {
    if fields.contains_key("identity") {
        return Err(Problem::validation(
            "the body has an \"identity\" field: the server computes the commitment from \"person\", leave it out",
        ));
    }
    let person = fields.remove("person").ok_or_else(|| {
        Problem::validation(
            "the body must have a \"person\" field: the holder's identity, recorded in the same step",
        )
    })?;
    serde_json::from_value(person)
        .map(Some)
        .map_err(|e| Problem::validation(format!("not a valid person: {e}")))
}

async fn run_command(
    spec: CommandSpec,
    State(state): State<AppState>,
    Ledger(runtime): Ledger,
    principal: Principal,
    PathParams(path): PathParams<CommandPath>,
    key: Result<Option<IdempotencyKey>, Problem>,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    // A body that is not JSON is refused (415) before its key is looked at.
    let key = key?;
    let mut parsed = spec.parse(&runtime, &principal, &path, &body)?;
    // A dividend's or an interest's withholding statuses come from the
    // identity vault.
    parsed.command = windledger_papers::payments::with_withholding_statuses(
        state.vault().ok(),
        &runtime,
        &parsed.aggregate_id,
        parsed.command,
        &crate::identity::reader(&principal, "withholding"),
    )
    .await?;
    let ids = RequestIds::new(spec.tag, &parsed.stream, &principal, key, &body);
    let stream = parsed.stream.clone();
    let vault = match (&parsed.person, &parsed.command) {
        (Some(_), _) => Some(state.vault()?.clone()),
        // A resident removed is forgotten by the vault (a server without
        // the vault's key removes, and keeps nothing to forget).
        (None, Command::Fund(FundCommand::RemoveResident { .. })) => state.vault().ok().cloned(),
        (None, _) => None,
    };
    let (receipts, replayed) = run_once(runtime, vault, parsed, ids, &principal).await?;
    state.metrics.appended(receipts.len() as u64);
    recorded(stream, receipts, replayed)
}

/// A shareholder or the municipality acts for its own holder: `field` is
/// filled in with it when left out, and may name no other.
fn own_holder(
    principal: &Principal,
    field: &str,
    fields: &mut Map<String, Value>,
) -> Result<(), Problem> {
    let own = principal.holder.as_ref().map(|h| h.as_str());
    acts_for(principal, "holder", own, field, fields)
}

/// A resident acts for itself: `field` is filled in with its resident
/// when left out, and may name no other.
fn own_resident(
    principal: &Principal,
    field: &str,
    fields: &mut Map<String, Value>,
) -> Result<(), Problem> {
    let own = principal.resident.as_ref().map(|r| r.as_str());
    acts_for(principal, "resident", own, field, fields)
}

/// The body's `field` is `own`, the `whom` (holder, resident) the token
/// acts for: filled in when left out, and no other.
fn acts_for(
    principal: &Principal,
    whom: &str,
    own: Option<&str>,
    field: &str,
    fields: &mut Map<String, Value>,
) -> Result<(), Problem> {
    let own = own
        .ok_or_else(|| Problem::forbidden(format!("this token acts for no {whom}")))?
        .to_owned();
    match fields.get(field) {
        None => {
            fields.insert(field.to_owned(), Value::String(own));
        }
        Some(Value::String(given)) if *given == own => {}
        Some(_) => {
            return Err(Problem::forbidden(format!(
                "{} token acts for {whom} {own}: {field} must be {own}",
                principal.role.with_article()
            )));
        }
    }
    Ok(())
}

/// Step 2: what the ledger keeps of a request. The command's id comes from
/// the caller's `Idempotency-Key` (a new one without), so that a retry
/// finds the first run; the fingerprint of the request (method, command,
/// stream and body) tells a retry from another request under the same key.
struct RequestIds {
    command_id: String,
    fingerprint: String,
    /// Whether the caller sent a key (else the id is new: nothing to look
    /// up).
    keyed: bool,
}

impl RequestIds {
    fn new(
        tag: &str,
        stream: &str,
        principal: &Principal,
        key: Option<IdempotencyKey>,
        body: &[u8],
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(Method::POST.as_str());
        hasher.update(b" ");
        hasher.update(tag.as_bytes());
        hasher.update(b" ");
        hasher.update(stream.as_bytes());
        hasher.update(b"\n");
        hasher.update(body);
        Self {
            command_id: match &key {
                Some(IdempotencyKey(k)) => format!("api:{}:{k}", principal.token_id),
                None => format!("api:{}", uuid::Uuid::new_v4()),
            },
            fingerprint: hex::encode(hasher.finalize()),
            keyed: key.is_some(),
        }
    }

    /// The event metadata of the command's run: who, which command, which
    /// request.
    fn metadata(&self, principal: &Principal) -> HashMap<String, String> {
        HashMap::from([
            (
                "actor".to_owned(),
                format!("{}:{}", principal.role, principal.token_id),
            ),
            ("command_id".to_owned(), self.command_id.clone()),
            (REQUEST_KEY.to_owned(), self.fingerprint.clone()),
        ])
    }
}

/// Step 3: runs the command, or answers a keyed request already answered
/// with its first receipts (`true`: a replay). In a task of its own,
/// holding the key until the command is done: a client that goes away
/// neither cuts the command short nor frees its key while its commit may
/// still land (a retry then waits and gets the answer, rather than deciding
/// again on a state holding the first).
async fn run_once(
    runtime: Arc<LedgerRuntime>,
    vault: Option<windledger_app::people::Vault>,
    parsed: Parsed,
    ids: RequestIds,
    principal: &Principal,
) -> Result<(Vec<Receipt>, bool), Problem> {
    let metadata = ids.metadata(principal);
    let task = tokio::spawn(async move {
        let _held = runtime.hold(&ids.command_id).await;
        if let Some(receipts) = answered_before(&runtime, &parsed, &ids).await? {
            return Ok((receipts, true));
        }
        let receipts = match (parsed.person, vault) {
            (None, Some(vault)) => {
                vault
                    .remove_resident(&runtime, parsed.command, metadata)
                    .await?
                    .receipts
            }
            (Some(person), Some(vault)) => match parsed.command {
                command @ windledger_app::command::Command::Fund(_) => {
                    vault
                        .register_resident(&runtime, command, person, metadata)
                        .await?
                }
                command => vault.admit(&runtime, command, person, metadata).await?,
            },
            _ => {
                runtime
                    .execute(&parsed.aggregate_id, parsed.command, metadata)
                    .await?
            }
        };
        Ok((receipts, false))
    });
    task.await
        .unwrap_or_else(|e| Err(Problem::internal(format!("the command's task failed: {e}"))))
}

/// The first receipts of a keyed request answered before, once the
/// projections show them; a key used for another request is refused. A key
/// not in memory may still be in the ledger (its commit landed after this
/// server read it): it is looked up there before the command is decided
/// again.
async fn answered_before(
    runtime: &LedgerRuntime,
    parsed: &Parsed,
    ids: &RequestIds,
) -> Result<Option<Vec<Receipt>>, Problem> {
    if !ids.keyed {
        return Ok(None);
    }
    let Some(answered) = runtime
        .answered_or_recorded(&parsed.command, &parsed.aggregate_id, &ids.command_id)
        .await?
    else {
        return Ok(None);
    };
    if answered.fingerprint != ids.fingerprint {
        return Err(Problem::new(
            Kind::IdempotencyKeyReused,
            "this Idempotency-Key was already used for another request: use a new key for a new request",
        ));
    }
    runtime.shown(&answered.receipts).await;
    Ok(Some(answered.receipts))
}

/// Step 4: 201 with the stream and the receipts; a replay says so in
/// `Idempotent-Replayed`.
fn recorded(stream: String, receipts: Vec<Receipt>, replayed: bool) -> Result<Response, Problem> {
    let answer = Recorded {
        stream,
        receipts: receipts.into_iter().map(Into::into).collect(),
    };
    let mut response = (StatusCode::CREATED, crate::answers::json(&answer)?).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}
