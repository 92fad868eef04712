//! The read routes: each answers from the projections once they show the
//! ledger's head (so a client reads its own writes), or from the store for
//! the event log, a checkpoint and the OCF export.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use windledger_app::ledger::LedgerRuntime;
use windledger_projections::cap_table::{AsOf, CapTableView};
use windledger_projections::local_returns::local_returns;
use windledger_projections::runner::Projections;
use windledger_projections::statement::statement;
use windledger_store::Checkpoint;

use crate::AppState;
use crate::answers::{
    self, Company, Decision, EventsPage, Holder, LoggedEvent, MeetingSummary, Parties,
    ProductionLine, RegisterEntry, RevenueLine, SignedHead, YearProduction,
};
use crate::extract::{HolderPath, Ledger, MeetingPath, PathParams, QueryParams, RoundPath};
use crate::problem::Problem;

/// A 200 answer.
fn ok(answer: impl Serialize) -> Result<Response, Problem> {
    Ok(answers::json(&answer)?.into_response())
}

/// `GET /api/v1/ledgers`: the farms this server serves.
pub async fn farms(State(state): State<AppState>) -> Result<Response, Problem> {
    ok(&*state.directory().await?)
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
pub(crate) async fn projected<T>(
    runtime: &LedgerRuntime,
    f: impl FnOnce(&Projections) -> T,
) -> Result<T, Problem> {
    fresh(runtime).await?;
    Ok(runtime.projections.read(f))
}

/// A cap-table read: cached while the cap table does not change when it is
/// as of the latest event, computed otherwise.
async fn cap_table_read(
    runtime: &LedgerRuntime,
    name: &'static str,
    as_of: AsOf,
    render: impl FnOnce(CapTableView<'_>) -> Result<Value, serde_json::Error>,
) -> Result<Response, Problem> {
    fresh(runtime).await?;
    let compute = |p: &Projections| -> Result<Bytes, Problem> {
        if let AsOf::Position { position } = as_of
            && position > p.position()
        {
            return Err(Problem::validation(format!(
                "position {position} is beyond the ledger's last event ({}): give a position the ledger has reached",
                p.position()
            )));
        }
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
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Which state of the ledger to read: the latest by default.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOfQuery {
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

pub(crate) async fn company(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| {
        let fold = p.cap_table.fold();
        match fold.incorporation() {
            Some(company) => {
                let fleet = fold.fleet(AsOf::Latest);
                ok(Company {
                    company,
                    charter: fold.charter(AsOf::Latest),
                    turbines: fleet.installations().to_vec(),
                    planned_turbines: fleet.planned().clone(),
                })
            }
            None => Err(Problem::not_found("this ledger has no company yet")),
        }
    })
    .await?
}

pub(crate) async fn parties(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<AsOfQuery>,
) -> Result<Response, Problem> {
    cap_table_read(&runtime, "parties", q.as_of()?, |v| {
        serde_json::to_value(Parties::from(&v))
    })
    .await
}

pub(crate) async fn cap_table(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<AsOfQuery>,
) -> Result<Response, Problem> {
    #[allow(clippy::redundant_closure)] // the function item is not general over the view's lifetime
    cap_table_read(&runtime, "cap-table", q.as_of()?, |v| {
        serde_json::to_value(v)
    })
    .await
}

pub(crate) async fn holders(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| {
        let holders: Vec<Holder<'_>> = p
            .cap_table
            .fold()
            .holders()
            .map(|(holder, history)| Holder { holder, history })
            .collect();
        ok(holders)
    })
    .await?
}

pub(crate) async fn holder(
    Ledger(runtime): Ledger,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
) -> Result<Response, Problem> {
    projected(&runtime, |p| match p.cap_table.fold().holder(&holder) {
        Some(history) => ok(Holder {
            holder: &holder,
            history,
        }),
        None => Err(Problem::not_found(format!(
            "no holder {holder} in this ledger"
        ))),
    })
    .await?
}

pub(crate) async fn holder_statement(
    Ledger(runtime): Ledger,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
) -> Result<Response, Problem> {
    match projected(&runtime, |p| statement(p, &holder)).await? {
        Some(statement) => ok(statement),
        None => Err(Problem::not_found(format!(
            "no holder {holder} in this ledger"
        ))),
    }
}

pub(crate) async fn meetings(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| {
        let meetings: Vec<MeetingSummary<'_>> = p
            .register
            .fold()
            .meetings()
            .map(|(id, record)| MeetingSummary::of(id, record))
            .collect();
        ok(meetings)
    })
    .await?
}

pub(crate) async fn meeting(
    Ledger(runtime): Ledger,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    projected(&runtime, |p| match p.register.fold().meeting(&meeting) {
        Some(record) => ok(record),
        None => Err(Problem::not_found(format!(
            "no meeting {meeting:?} in this ledger"
        ))),
    })
    .await?
}

/// The territory fund, reconciled: what came in and went out, by year and
/// in all, what is owed and available, the residents by commune.
pub(crate) async fn territory_fund(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| ok(p.territory.fold().fund())).await?
}

/// A budgeting round: its proposals, their review, votes and decisions.
pub(crate) async fn budgeting_round(
    Ledger(runtime): Ledger,
    PathParams(RoundPath { round }): PathParams<RoundPath>,
) -> Result<Response, Problem> {
    projected(&runtime, |p| match p.territory.fold().round(&round) {
        Some(view) => ok(view),
        None => Err(Problem::not_found(format!(
            "no budgeting round {round:?} in this ledger"
        ))),
    })
    .await?
}

pub(crate) async fn decisions(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| {
        let decisions: Vec<Decision<'_>> = p
            .register
            .fold()
            .meetings()
            .flat_map(|(id, record)| Decision::all_of(id, record))
            .collect();
        ok(decisions)
    })
    .await?
}

pub(crate) async fn decisions_register(Ledger(runtime): Ledger) -> Result<Response, Problem> {
    projected(&runtime, |p| {
        let register: Vec<RegisterEntry<'_>> = p
            .register
            .fold()
            .meetings()
            .map(|(meeting, record)| RegisterEntry { meeting, record })
            .collect();
        ok(register)
    })
    .await?
}

/// One financial year, or every year.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct YearQuery {
    /// The financial year: the year it ends in (every year when left out).
    year: Option<i32>,
}

pub(crate) async fn production(
    Ledger(runtime): Ledger,
    QueryParams(YearQuery { year: wanted }): QueryParams<YearQuery>,
) -> Result<Response, Problem> {
    let years = projected(&runtime, |p| {
        p.finance
            .fold()
            .years()
            .filter(|y| wanted.is_none_or(|w| w == y.year))
            .map(|y| {
                let production = y
                    .production()
                    .into_iter()
                    .map(|((turbine, month), (mwh, availability))| ProductionLine {
                        turbine,
                        month,
                        mwh,
                        availability,
                    })
                    .collect();
                let revenue = y
                    .revenue()?
                    .into_iter()
                    .map(|((month, kind), amount)| RevenueLine {
                        month,
                        kind,
                        amount,
                    })
                    .collect();
                Ok(YearProduction {
                    year: y.year,
                    production,
                    revenue,
                    total_revenue: y.total_revenue()?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(years.map_err(|e| Problem::figures_out_of_range(&e))?)
}

pub(crate) async fn local_returns_of(
    Ledger(runtime): Ledger,
    QueryParams(YearQuery { year: wanted }): QueryParams<YearQuery>,
) -> Result<Response, Problem> {
    let returns = projected(&runtime, |p| {
        let years: Vec<i32> = p.finance.fold().years().map(|y| y.year).collect();
        years
            .into_iter()
            .filter(|y| wanted.is_none_or(|w| w == *y))
            .filter_map(|y| local_returns(p, y).transpose())
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    ok(returns.map_err(|e| Problem::figures_out_of_range(&e))?)
}

/// A page of the event log.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
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

pub(crate) async fn events(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<EventsQuery>,
) -> Result<Response, Problem> {
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
            Ok(LoggedEvent {
                position: e.position,
                stream: e.stream_id.as_str(),
                stream_version: e.stream_version,
                event_id: e.event_id,
                event_type: &e.event_type,
                schema_version: e.schema_version,
                payload: serde_json::from_str(e.payload.get())?,
                metadata: &e.metadata,
                recorded_at: windledger_store::timestamp::format(&e.recorded_at),
                prev_hash: e.prev_hash.to_hex(),
                hash: e.hash.to_hex(),
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(Problem::internal)?;
    ok(EventsPage {
        events,
        next_after: page.last().map(|e| e.position),
    })
}

pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    Ledger(runtime): Ledger,
) -> Result<Response, Problem> {
    if state.read_only() {
        // A read-only server records nothing: it shows the latest
        // checkpoint the writer signed (which may be behind the head).
        let latest = runtime
            .store
            .latest_signed_checkpoint(&runtime.id)
            .await
            .map_err(|e| Problem::store(&e))?
            .ok_or_else(|| {
                Problem::unavailable(
                    "the writer has signed no checkpoint of this ledger yet: ask the writer",
                )
            })?;
        return ok(SignedHead {
            ledger: latest.ledger.to_string(),
            size: latest.size,
            head: latest.head.to_hex(),
            checkpoint: latest.note,
            public_key: state.signer.verifier().to_string(),
        });
    }
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
    ok(SignedHead {
        ledger: runtime.id.as_str().to_owned(),
        size: head.size,
        head: head.hash.to_hex(),
        checkpoint: note,
        public_key: state.signer.verifier().to_string(),
    })
}

pub(crate) async fn ocf(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<AsOfQuery>,
) -> Result<Response, Problem> {
    if q.position.is_some() {
        return Err(Problem::validation(
            "the OCF export is as of a date: give as_of",
        ));
    }
    let as_of = q.as_of.unwrap_or_else(windledger_app::today);
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
