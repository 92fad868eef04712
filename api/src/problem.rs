//! Errors as RFC 9457 problem details (`application/problem+json`), each
//! with a stable `type` URI under `https://windledger.org/problems/`.

use std::collections::BTreeSet;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

/// Where problem types live; a type is this plus its slug.
pub const TYPE_BASE: &str = "https://windledger.org/problems/";

/// An RFC 9457 problem: the response of every failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schemars(schema_with = "kind_uris")]
    pub kind: String,
    pub title: &'static str,
    #[schemars(schema_with = "kind_statuses")]
    pub status: u16,
    pub detail: String,
    /// The domain's error variant, for a refused command: the rule that
    /// refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Seconds for the `Retry-After` header (a 503 says 1 without it).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// A problem's `type`: the URI of one of the kinds.
fn kind_uris(_: &mut SchemaGenerator) -> Schema {
    let uris: Vec<String> = Kind::ALL.iter().map(|k| k.uri()).collect();
    json_schema!({ "type": "string", "enum": uris })
}

/// A problem's `status`: that of one of the kinds.
fn kind_statuses(_: &mut SchemaGenerator) -> Schema {
    let statuses: BTreeSet<u16> = Kind::ALL.iter().map(|k| k.status().as_u16()).collect();
    json_schema!({ "type": "integer", "enum": statuses })
}

/// The problem kinds: slug, title and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is not understood: bad JSON, wrong types, unknown
    /// fields, bad query parameters.
    Validation,
    /// The command is well formed but the domain refuses it.
    Refused,
    Unauthenticated,
    Forbidden,
    NotFound,
    /// Another command changed the aggregate first: retry.
    VersionConflict,
    /// The Idempotency-Key was used with another request.
    IdempotencyKeyReused,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    TooManyRequests,
    /// A read adds figures recorded before windledger bounded them, and the
    /// sum leaves the range of exact decimals: a correction of the report
    /// mends it.
    FiguresOutOfRange,
    /// The database cannot be reached, or the projections are not ready.
    Unavailable,
    /// A read-only server (`serve --read-only`) refuses writes, and reads
    /// that would write (a reading of personal data is recorded).
    ReadOnly,
    Internal,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Validation,
        Kind::Refused,
        Kind::Unauthenticated,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::VersionConflict,
        Kind::IdempotencyKeyReused,
        Kind::PayloadTooLarge,
        Kind::UnsupportedMediaType,
        Kind::MethodNotAllowed,
        Kind::TooManyRequests,
        Kind::FiguresOutOfRange,
        Kind::Unavailable,
        Kind::ReadOnly,
        Kind::Internal,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Validation => "validation",
            Kind::Refused => "refused",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not-found",
            Kind::VersionConflict => "version-conflict",
            Kind::IdempotencyKeyReused => "idempotency-key-reused",
            Kind::PayloadTooLarge => "payload-too-large",
            Kind::UnsupportedMediaType => "unsupported-media-type",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::TooManyRequests => "too-many-requests",
            Kind::FiguresOutOfRange => "figures-out-of-range",
            Kind::Unavailable => "unavailable",
            Kind::ReadOnly => "read-only",
            Kind::Internal => "internal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Validation => "The request is not valid",
            Kind::Refused => "The ledger's rules refuse this command",
            Kind::Unauthenticated => "A valid token is required",
            Kind::Forbidden => "This token may not do this",
            Kind::NotFound => "Not found",
            Kind::VersionConflict => "Another command changed this first",
            Kind::IdempotencyKeyReused => "This Idempotency-Key was used for another request",
            Kind::PayloadTooLarge => "The request body is too large",
            Kind::UnsupportedMediaType => "The body must be JSON",
            Kind::MethodNotAllowed => "Method not allowed",
            Kind::TooManyRequests => "Too many tokens that are not valid from this address",
            Kind::FiguresOutOfRange => "The ledger's figures do not add up within range",
            Kind::Unavailable => "The service is not available right now",
            Kind::ReadOnly => "This server only reads",
            Kind::Internal => "Internal error",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::Validation
            | Kind::Refused
            | Kind::IdempotencyKeyReused
            | Kind::FiguresOutOfRange => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::VersionConflict => StatusCode::CONFLICT,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::MethodNotAllowed | Kind::ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
            Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn uri(self) -> String {
        format!("{TYPE_BASE}{}", self.slug())
    }
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.uri(),
            title: kind.title(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            rule: None,
            retry_after: None,
        }
    }

    /// Too many attempts: try again after `wait` (whole seconds, rounded up).
    pub fn too_many_requests(wait: std::time::Duration, detail: impl Into<String>) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(Kind::TooManyRequests, detail)
        }
    }

    /// A refused command, with the domain's rule (its error variant).
    pub fn refused(rule: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            rule: Some(rule.into()),
            ..Self::new(Kind::Refused, detail)
        }
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(Kind::Validation, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, detail)
    }

    /// A sum over recorded figures that does not fit (see
    /// `windledger_projections::finance::SumOverflow`).
    pub fn figures_out_of_range(e: &windledger_projections::finance::SumOverflow) -> Self {
        Self::new(Kind::FiguresOutOfRange, e.to_string())
    }

    /// An unexpected failure: the detail is logged, not shown.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        Self::new(
            Kind::Internal,
            "the server failed to handle this request; it was logged",
        )
    }

    /// A store failure: unavailable when the database is, else internal.
    pub fn store(e: &windledger_store::StoreError) -> Self {
        if let windledger_store::StoreError::ReadOnly(why) = e {
            Self::new(Kind::ReadOnly, why.clone())
        } else if e.is_retryable() {
            Self::unavailable(format!("the database is not reachable: {e}"))
        } else {
            Self::internal(e)
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// What the application layer could not do, as a problem.
impl From<windledger_app::Error> for Problem {
    fn from(e: windledger_app::Error) -> Self {
        use windledger_app::ErrorKind as K;
        match e.kind {
            K::Invalid => Self::validation(e.detail),
            K::Refused => Self::refused(e.rule.unwrap_or("refused"), e.detail),
            K::VersionConflict => Self::new(Kind::VersionConflict, e.detail),
            K::Unavailable => Self::unavailable(e.detail),
            K::ReadOnly => Self::new(Kind::ReadOnly, e.detail),
            // Logged where it arose; the detail is not shown.
            K::Internal => Self::new(
                Kind::Internal,
                "the server failed to handle this request; it was logged",
            ),
        }
    }
}
