//! The routes of identities: reading, exporting, correcting and erasing a
//! holder's data in the vault, through `windledger_app::people`. The
//! secretary may for any holder; a shareholder for their own (the route's
//! access rule); erasure is the secretary's and the domain's decision.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;
use windledger_app::people::Reader;
use windledger_vault::Person;

use crate::answers::{self, Recorded};
use crate::auth::Principal;
use crate::extract::{Body, Call, HolderPath, PathParams, ResidentPath};
use crate::problem::Problem;

/// A correction of a holder's identity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    pub person: Person,
    /// When the new data took effect (today by default): on or after the
    /// latest date the company's stream records.
    pub effective_date: Option<NaiveDate>,
}

/// A correction of a resident's identity: a natural person's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentCorrection {
    pub person: Person,
}

/// An erasure takes no field: the server's clock dates it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erasure {}

/// The reader the vault's log names: the token's role and id.
pub fn reader(principal: &Principal, purpose: &str) -> Reader {
    Reader {
        who: format!("{}:{}", principal.role, principal.token_id),
        purpose: purpose.to_owned(),
    }
}

pub(crate) fn metadata(principal: &Principal) -> HashMap<String, String> {
    HashMap::from([
        (
            "actor".to_owned(),
            format!("{}:{}", principal.role, principal.token_id),
        ),
        (
            "command_id".to_owned(),
            format!("api:{}", uuid::Uuid::new_v4()),
        ),
    ])
}

fn recorded(
    stream: String,
    receipts: Vec<windledger_app::command::Receipt>,
) -> Result<Response, Problem> {
    let answer = Recorded {
        stream,
        receipts: receipts.into_iter().map(Into::into).collect(),
    };
    Ok((StatusCode::CREATED, answers::json(&answer)?).into_response())
}

/// `value` as JSON, or a 404 saying what is `missing`.
fn found<T: serde::Serialize>(value: Option<T>, missing: String) -> Result<Response, Problem> {
    match value {
        Some(value) => Ok(answers::json(&value)?.into_response()),
        None => Err(Problem::not_found(missing)),
    }
}

pub(crate) async fn read(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
) -> Result<Response, Problem> {
    let reader = reader(&principal, "read through the API");
    let in_force = state.vault()?.read(&runtime, &holder, &reader).await?;
    found(
        in_force,
        format!("no identity of {holder} is kept in this ledger's vault"),
    )
}

/// A resident's identity in force, for the municipality or the resident
/// (each read logged).
pub(crate) async fn read_resident(
    Call(state, principal, runtime): Call,
    PathParams(ResidentPath { resident }): PathParams<ResidentPath>,
) -> Result<Response, Problem> {
    let reader = reader(&principal, "read through the API");
    let in_force = state
        .vault()?
        .read_resident(&runtime, &resident, &reader)
        .await?;
    found(
        in_force,
        format!("no identity of resident {resident} is kept in this ledger's vault"),
    )
}

/// Everything kept about a resident, for the municipality or the resident.
pub(crate) async fn export_resident(
    Call(state, principal, runtime): Call,
    PathParams(ResidentPath { resident }): PathParams<ResidentPath>,
) -> Result<Response, Problem> {
    let reader = reader(&principal, "access request through the API");
    let export = state
        .vault()?
        .export_resident(&runtime, &resident, &reader)
        .await?;
    found(
        export,
        format!("no resident {resident} in this ledger's territory fund"),
    )
}

/// A new version of a resident's identity, for the municipality.
pub(crate) async fn record_resident(
    Call(state, principal, runtime): Call,
    PathParams(ResidentPath { resident }): PathParams<ResidentPath>,
    Body(ResidentCorrection { person }): Body<ResidentCorrection>,
) -> Result<Response, Problem> {
    let receipts = state
        .vault()?
        .record_resident(&runtime, &resident, person, metadata(&principal))
        .await?;
    recorded(
        format!(
            "territory-fund/{}",
            windledger_domain::budgeting::fund::TerritoryFund::ID
        ),
        receipts,
    )
}

pub(crate) async fn export(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
) -> Result<Response, Problem> {
    if runtime
        .projections
        .read(|p| p.cap_table.fold().holder(&holder).is_none())
    {
        return Err(Problem::not_found(format!(
            "no holder {holder} in this ledger"
        )));
    }
    let export = state
        .vault()?
        .export(
            &runtime,
            &holder,
            &reader(&principal, "access request through the API"),
        )
        .await?;
    Ok(answers::json(&export)?.into_response())
}

pub(crate) async fn record(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
    Body(Correction {
        person,
        effective_date,
    }): Body<Correction>,
) -> Result<Response, Problem> {
    let receipts = state
        .vault()?
        .record(
            &runtime,
            &holder,
            person,
            effective_date,
            metadata(&principal),
        )
        .await?;
    recorded(format!("company/{}", runtime.company_id()), receipts)
}

pub(crate) async fn erase(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
    Body(Erasure {}): Body<Erasure>,
) -> Result<Response, Problem> {
    let erased = state
        .vault()?
        .erase(&runtime, &holder, metadata(&principal))
        .await?;
    recorded(format!("company/{}", runtime.company_id()), erased.receipts)
}
