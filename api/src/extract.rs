//! What a handler takes from a request, parsed at the edge: the ledger of
//! the path (opened), the path's other ids, the query string, the caller,
//! the `Idempotency-Key` and a command's JSON body. Each refuses a request
//! with a problem, so that a handler starts from values it can trust.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use windledger_app::ledger::LedgerRuntime;
use windledger_domain::types::HolderId;

use crate::AppState;
use crate::auth::{Caller, Principal};
use crate::problem::{Kind, Problem};

/// The runtime of the path's `{ledger}`, opened on first use: 404 when the
/// ledger does not exist.
pub struct Ledger(pub Arc<LedgerRuntime>);

impl FromRequestParts<AppState> for Ledger {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        #[derive(Deserialize)]
        struct LedgerPath {
            ledger: String,
        }
        let PathParams(LedgerPath { ledger }) =
            PathParams::from_request_parts(parts, state).await?;
        state.runtime_of(ledger).await.map(Ledger)
    }
}

/// What most handlers start from, extracted in this order: the server's
/// state, the caller's token (401 without one) and the runtime of the
/// path's `{ledger}` (404 when the ledger does not exist).
pub struct Call(pub AppState, pub Principal, pub Arc<LedgerRuntime>);

impl FromRequestParts<AppState> for Call {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let Ledger(runtime) = Ledger::from_request_parts(parts, state).await?;
        Ok(Call(state.clone(), principal, runtime))
    }
}

/// The path's parameters, decoded into `T` (a struct naming them): an id
/// that does not parse is a 422 problem.
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match <axum::extract::Path<T> as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
        {
            Ok(axum::extract::Path(params)) => Ok(Self(params)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                Err(Problem::validation(format!("bad path: {}", e.into_kind())))
            }
            // A handler asking for a parameter its route does not have.
            Err(e) => Err(Problem::internal(e.body_text())),
        }
    }
}

/// A route's `{holder}`.
#[derive(Debug, Deserialize)]
pub struct HolderPath {
    pub holder: HolderId,
}

/// A route's `{resident}`.
#[derive(Debug, Deserialize)]
pub struct ResidentPath {
    pub resident: windledger_domain::types::ResidentId,
}

/// A route's `{meeting}`: the name it is registered under, looked up as it
/// is (a name no meeting has is not found, whatever its form).
#[derive(Debug, Deserialize)]
pub struct MeetingPath {
    pub meeting: String,
}

/// `{round}`: a budgeting round's id.
#[derive(Debug, Deserialize)]
pub struct RoundPath {
    pub round: String,
}

/// The query string, decoded into `T`: a bad or unknown parameter is a 422
/// problem.
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Self(q))
            .map_err(|e| Problem::validation(format!("bad query parameters: {}", e.body_text())))
    }
}

/// The caller `authorize` found (every route of the table has that layer).
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Problem::internal("no caller: the route has no authorize layer"))
    }
}

/// A caller with a token: 401 for anyone else.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match <Caller as FromRequestParts<S>>::from_request_parts(parts, state).await? {
            Caller::Token(principal) => Ok(principal),
            Caller::Anonymous => Err(Problem::new(Kind::Unauthenticated, "this needs a token")),
        }
    }
}

/// Most characters in an Idempotency-Key.
pub const MAX_KEY_LEN: usize = 200;

/// The `Idempotency-Key` header: 1 to [`MAX_KEY_LEN`] visible ASCII
/// characters. A request without one is `None`.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Problem> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = value.to_str().map_err(|_| {
            Problem::validation("the Idempotency-Key must be visible ASCII characters")
        })?;
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Problem::validation(format!(
                "the Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )));
        }
        Ok(Some(Self(key.to_owned())))
    }
}

/// A command's body, sent as `application/json` (415 otherwise).
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json")
            });
        // A body too large or cut off is answered by `observe`, which makes
        // a problem of axum's plain answer.
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !is_json {
            return Err(Problem::new(
                Kind::UnsupportedMediaType,
                "send the command as a JSON object with Content-Type: application/json",
            )
            .into_response());
        }
        Ok(Self(bytes))
    }
}

/// A [`JsonBody`] decoded into `T` (a struct naming its fields): one that
/// does not decode is a 422 problem.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let JsonBody(bytes) = JsonBody::from_request(request, state).await?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| Problem::validation(format!("not a valid body: {e}")).into_response())
    }
}
