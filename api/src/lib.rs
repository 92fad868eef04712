//! The HTTP API under `/api/v1/ledgers/{ledger}/`: reads from the
//! projections, commands through the aggregates, tokens with roles, errors
//! as problem+json, `Idempotency-Key` on every POST, an OpenAPI document,
//! health, readiness and metrics.
//!
//! Every route and its access rule is in [`routes::routes`].

pub mod answers;
pub mod auth;
mod commands;
pub mod documents;
pub mod extract;
pub mod identity;
mod ledgers;
pub mod metrics;
pub mod openapi;
pub mod papers;
pub mod payments;
pub mod problem;
mod reads;
pub mod replicas;
pub mod routes;
pub mod tlog;
pub mod witnessing;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use windledger_store::{CheckpointSigner, CheckpointVerifier, Store};

use auth::Caller;
use metrics::Metrics;
use problem::{Kind, Problem};
use routes::Access;
use windledger_app::ledger::LedgerRuntime;

/// Largest request body accepted (a charter or a share issuance to many
/// holders fits well within it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub signer: CheckpointSigner,
    /// The public keys whose seals are trusted: the signer's, then earlier
    /// ones (after a rotation, old seals stay signed by the old key).
    pub trusted_keys: Vec<CheckpointVerifier>,
    pub metrics: Metrics,
    /// The co-signatures the charter's witnesses gave each ledger's
    /// checkpoints (see [`witnessing`]).
    pub witnessing: witnessing::Witnessing,
    /// The ledgers this server holds: each opened on first use, the idle
    /// ones released over the memory budget (see [`ledgers`]).
    pub ledgers: windledger_app::ledgers::Ledgers,
    /// Failed token checks and guesses per client address (the API's and
    /// the web sign-in's together): a limit on guessing, and a slow-down.
    pub throttle: throttle::Throttle,
    /// Tokens checked lately, by the SHA-256 of the whole token, so that a
    /// request does not cost a query (see [`TOKEN_CACHE_TTL`]).
    tokens: Mutex<HashMap<[u8; 32], (auth::Principal, Instant)>>,
    /// The SHA-256 of the secret `/metrics` requires, if one is set (see
    /// [`metrics::metrics`]).
    metrics_token: std::sync::OnceLock<[u8; 32]>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see
    /// [`AppState::client_of`]).
    trusted_proxies: std::sync::OnceLock<Vec<std::net::IpAddr>>,
    /// When the last revocation poll that succeeded started.
    revocations_seen: Mutex<Option<Instant>>,
    revocation_watch: std::sync::Once,
    /// The identity vault's master key, if this server holds one (see
    /// [`AppState::hold_vault`]).
    vault: std::sync::OnceLock<windledger_app::people::Vault>,
    /// Where the farm's pages are reached from outside (see
    /// [`AppState::publish_at`]), for the links of convocations.
    public_url: std::sync::OnceLock<String>,
    /// The SMTP relay convocations are sent through, if any (see
    /// [`AppState::hold_mailer`]).
    mailer: std::sync::OnceLock<windledger_mail::Mailer>,
    /// How this server takes part in replication (see [`replicas`]).
    replication: std::sync::OnceLock<replicas::Replication>,
    /// How far the database replayed, as last read for reads waiting on
    /// `Windledger-Read-After`.
    replayed: replicas::Replayed,
}

/// A revocation takes effect within this time. A checked token is trusted
/// without asking the database for this long; past it, for up to
/// [`TOKEN_TRUST`], but only while the revocation poll (every
/// [`REVOCATION_POLL`]) keeps succeeding: with 20,000 shareholders each
/// reading with their own token, a query per request would otherwise be the
/// norm.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(2);

/// How long a checked token is trusted while revocations are watched.
pub const TOKEN_TRUST: Duration = Duration::from_secs(300);

/// How often revoked tokens are polled for.
pub const REVOCATION_POLL: Duration = Duration::from_millis(500);

/// Most tokens kept checked at once.
const TOKEN_CACHE_MAX: usize = 100_000;

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The connections' view of the server (`windledger_edge`): the metrics'
/// counters, the trusted proxies, and a refusal as a problem document.
impl connections::Host for AppState {
    fn counters(&self) -> &connections::ConnectionCounters {
        &self.metrics.connections
    }

    fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        AppState::is_trusted_proxy(self, peer)
    }

    fn unavailable(&self, detail: &str) -> String {
        serde_json::to_string(&problem::Problem::unavailable(detail)).unwrap_or_default()
    }
}

impl AppState {
    pub fn new(store: Store, signer: CheckpointSigner) -> Self {
        Self::with_earlier_keys(store, signer, Vec::new())
    }

    /// [`AppState::new`], also trusting seals made by `earlier` keys (the
    /// server's keys before a rotation).
    pub fn with_earlier_keys(
        store: Store,
        signer: CheckpointSigner,
        earlier: Vec<CheckpointVerifier>,
    ) -> Self {
        let mut trusted_keys = vec![signer.verifier()];
        trusted_keys.extend(earlier);
        Self(Arc::new(Inner {
            store,
            signer,
            trusted_keys,
            metrics: Metrics::default(),
            witnessing: witnessing::Witnessing::default(),
            ledgers: windledger_app::ledgers::Ledgers::default(),
            throttle: throttle::Throttle::default(),
            tokens: Mutex::new(HashMap::new()),
            metrics_token: std::sync::OnceLock::new(),
            trusted_proxies: std::sync::OnceLock::new(),
            revocations_seen: Mutex::new(None),
            revocation_watch: std::sync::Once::new(),
            vault: std::sync::OnceLock::new(),
            public_url: std::sync::OnceLock::new(),
            mailer: std::sync::OnceLock::new(),
            replication: std::sync::OnceLock::new(),
            replayed: replicas::Replayed::default(),
        }))
    }

    /// Gives the server the identity vault's master key (set once, before
    /// serving; a second call changes nothing). Without it, the routes of
    /// identities answer 503.
    pub fn hold_vault(&self, vault: windledger_app::people::Vault) {
        let _ = self.vault.set(vault);
    }

    /// Sets the address the farm's pages are reached at from outside
    /// (`https://parc.example.fr`), which convocations link to (set once,
    /// before serving).
    pub fn publish_at(&self, url: &str) {
        let _ = self.public_url.set(url.trim_end_matches('/').to_owned());
    }

    /// The address convocations link to: [`AppState::publish_at`]'s, or
    /// `http://localhost:8080` when none was given.
    pub fn public_url(&self) -> &str {
        self.public_url
            .get()
            .map_or("http://localhost:8080", String::as_str)
    }

    /// Gives the server an SMTP relay to send convocations through (set
    /// once, before serving). Without it, sending is refused (422).
    pub fn hold_mailer(&self, mailer: windledger_mail::Mailer) {
        let _ = self.mailer.set(mailer);
    }

    /// The SMTP relay, or why there is none.
    pub fn mailer(&self) -> Result<&windledger_mail::Mailer, problem::Problem> {
        self.mailer.get().ok_or_else(|| {
            // Not a failure of the server's: it was started without one.
            problem::Problem::new(
                problem::Kind::Refused,
                "this server has no SMTP relay to send e-mails through: start it with one (windledger serve --smtp-url), or print the letters",
            )
        })
    }

    /// The identity vault, or why there is none.
    pub fn vault(&self) -> Result<&windledger_app::people::Vault, problem::Problem> {
        self.vault.get().ok_or_else(|| {
            problem::Problem::new(
                problem::Kind::Unavailable,
                "this server holds no vault key: start it with one (windledger serve --vault-key-file)",
            )
        })
    }

    /// Makes `/metrics` require this secret as a bearer token, from every
    /// caller (set once, before serving; a second call changes nothing).
    pub fn require_metrics_token(&self, secret: &str) {
        use sha2::Digest;
        let _ = self
            .metrics_token
            .set(sha2::Sha256::digest(secret.as_bytes()).into());
    }

    /// Whether a request from `peer` with these headers may read
    /// `/metrics`: the secret as a bearer token if one is set, else a
    /// caller on this machine (a loopback address that is not a trusted
    /// proxy, which would forward outsiders; in-process, no address).
    pub fn may_read_metrics(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &axum::http::HeaderMap,
    ) -> bool {
        match self.metrics_token.get() {
            Some(expected) => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|sent| {
                    use sha2::Digest;
                    // Digests compared: the time says nothing of the secret.
                    <[u8; 32]>::from(sha2::Sha256::digest(sent.trim().as_bytes())) == *expected
                }),
            None => peer.is_none_or(|p| {
                p.ip().to_canonical().is_loopback() && !self.is_trusted_proxy(p.ip())
            }),
        }
    }

    /// Trusts these reverse proxies' `X-Forwarded-For` (set once, before
    /// serving).
    pub fn trust_proxies(&self, proxies: Vec<std::net::IpAddr>) {
        let _ = self
            .trusted_proxies
            .set(proxies.into_iter().map(|p| p.to_canonical()).collect());
    }

    pub fn is_trusted_proxy(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies
            .get()
            .is_some_and(|p| p.contains(&ip.to_canonical()))
    }

    /// The client a request comes from, as the limits count it
    /// ([`connections::client_key`]): its peer, or, when the peer is a
    /// trusted proxy, the last address of `X-Forwarded-For` that is not
    /// one (each proxy appends the address it received from). In-process
    /// (no peer): "local".
    pub fn client_of(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &axum::http::HeaderMap,
    ) -> String {
        let Some(peer) = peer else {
            return "local".to_owned();
        };
        if !self.is_trusted_proxy(peer.ip()) {
            return connections::client_key(peer.ip());
        }
        let forwarded: Vec<std::net::IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|a| a.trim().parse::<std::net::IpAddr>().ok())
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let client = forwarded
            .into_iter()
            .rev()
            .find(|ip| !self.is_trusted_proxy(*ip))
            .unwrap_or(peer.ip());
        connections::client_key(client)
    }

    /// Starts (once) the task that polls for revoked tokens and drops them
    /// from the checked ones. A poll that succeeded and started before
    /// `TOKEN_CACHE_TTL - REVOCATION_POLL` ago lets checked tokens be
    /// trusted longer; if the polls fail (the database is away), checked
    /// tokens fall back to [`TOKEN_CACHE_TTL`].
    fn watch_revocations(&self) {
        self.revocation_watch.call_once(|| {
            let state = Arc::downgrade(&self.0);
            tokio::spawn(async move {
                // Revocations are stamped by the revoking process's clock,
                // before its commit: look back a margin.
                const MARGIN: Duration = Duration::from_secs(10);
                let mut since = chrono::Utc::now() - MARGIN;
                loop {
                    tokio::time::sleep(REVOCATION_POLL).await;
                    let Some(state) = state.upgrade() else { return };
                    let started = Instant::now();
                    let now = chrono::Utc::now();
                    match state.store.tokens_revoked_since(since).await {
                        Ok(revoked) => {
                            if !revoked.is_empty() {
                                state
                                    .tokens
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .retain(|_, (p, _)| !revoked.contains(&p.token_id));
                            }
                            *state
                                .revocations_seen
                                .lock()
                                .unwrap_or_else(|p| p.into_inner()) = Some(started);
                            since = now - MARGIN;
                        }
                        Err(e) => tracing::debug!(error = %e, "the revocation poll failed"),
                    }
                }
            });
        });
    }

    /// The runtime of the path's `{ledger}`, opened on first use; 404 if
    /// the ledger does not exist.
    pub async fn runtime(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<Arc<LedgerRuntime>, Problem> {
        self.runtime_of(params.get("ledger").cloned().unwrap_or_default())
            .await
    }
}

/// Whether the client ranks `text/html` above every JSON type, as a
/// browser does; `*/*`, JSON or no `Accept` at all mean an API client.
fn prefers_html(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let quality = |wanted: fn(&str) -> bool| {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let media = parts.next()?.trim();
                let q = parts.find_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok());
                wanted(media).then_some(q.unwrap_or(1.0))
            })
            .fold(0.0, f32::max)
    };
    let html = quality(|m| m == "text/html");
    html > 0.0 && html > quality(|m| m.ends_with("json"))
}

/// The whole application: the API, health and metrics, the OpenAPI
/// document, and the `pages` (the web front end's router) beside them.
/// An unknown address is the pages' to answer when a browser asks (their
/// fallback, a page in French), the API's problem+json otherwise.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let for_browsers = pages.clone().with_state(state.clone());
    let mut api = Router::new();
    for spec in routes::routes() {
        let access = spec.access;
        let handler = spec.handler.route_layer(middleware::from_fn_with_state(
            (state.clone(), access),
            authorize,
        ));
        api = api.route(spec.path, handler);
    }
    api.route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(openapi::router())
        .merge(pages)
        .fallback(move |request: Request| {
            let for_browsers = for_browsers.clone();
            async move {
                if prefers_html(request.headers()) {
                    let Ok(page) = tower::ServiceExt::oneshot(for_browsers, request).await;
                    page
                } else {
                    Problem::not_found("no such route").into_response()
                }
            }
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                Kind::MethodNotAllowed,
                "this route does not take this method",
            )
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            replicas::replication,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                Problem::internal("a handler panicked").into_response()
            },
        ))
        .with_state(state)
}

/// Authenticates the caller and applies the route's access rule; the
/// handler finds the [`Caller`] in the request's extensions.
async fn authorize(
    State((state, access)): State<(AppState, Access)>,
    mut request: Request,
    next: Next,
) -> Response {
    // The route is known before the caller: a refused request is counted
    // under its route too.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let slot = request.extensions().get::<CallerSlot>().cloned();
    if let Some(slot) = &slot {
        slot.0.lock().unwrap_or_else(|p| p.into_inner()).1 = route.clone();
    }
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    let client = client_address(&state, &request);
    let caller = match caller(&state, authorization, client).await {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    let params = matched_params(&request);
    // A token acts on its own ledger only; a route outside every ledger
    // (the directory) is answered to it as to anyone.
    if let Caller::Token(p) = &caller
        && params
            .get("ledger")
            .is_some_and(|ledger| ledger.as_str() != p.ledger.as_str())
    {
        return Problem::forbidden("this token belongs to another ledger").into_response();
    }
    if let Err(p) = access.allows(&caller, &params) {
        return p.into_response();
    }
    request.extensions_mut().insert(caller.clone());
    if let Some(slot) = &slot {
        slot.0.lock().unwrap_or_else(|p| p.into_inner()).0 = caller.role_name();
    }
    let response = next.run(request).await;
    match caller {
        Caller::Anonymous => redacted(&state, &params, response).await,
        Caller::Token(_) => response,
    }
}

/// An anonymous caller's JSON answer with every holder id the ledger
/// knows replaced (see [`windledger_app::redaction`]): the public routes name no
/// holder, whatever their handlers put in.
async fn redacted(
    state: &AppState,
    params: &HashMap<String, String>,
    response: Response,
) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/json");
    // A route outside every ledger (the directory) names no holder.
    if !json || !response.status().is_success() || !params.contains_key("ledger") {
        return response;
    }
    let runtime = match state.runtime(params).await {
        Ok(runtime) => runtime,
        Err(p) => return p.into_response(),
    };
    let (mut parts, body) = response.into_parts();
    let redacted = async {
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(Problem::internal)?;
        let mut value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(Problem::internal)?;
        runtime.names().json(&mut value);
        serde_json::to_vec(&value).map_err(Problem::internal)
    };
    match redacted.await {
        Ok(bytes) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        Err(p) => p.into_response(),
    }
}

/// The path parameters the router matched, read from the URI against the
/// matched route's template.
fn matched_params(request: &Request) -> HashMap<String, String> {
    let Some(matched) = request.extensions().get::<axum::extract::MatchedPath>() else {
        return HashMap::new();
    };
    let template: Vec<&str> = matched.as_str().split('/').collect();
    let actual: Vec<&str> = request.uri().path().split('/').collect();
    template
        .iter()
        .zip(actual)
        .filter_map(|(t, a)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_decode(a)?;
            Some((name.to_owned(), value))
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn caller(
    state: &AppState,
    authorization: Option<HeaderValue>,
    client: String,
) -> Result<Caller, Problem> {
    let Some(value) = authorization else {
        return Ok(Caller::Anonymous);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            Problem::new(
                Kind::Unauthenticated,
                "the Authorization header must be: Bearer <token>",
            )
        })?;
    match state.check_token(&client, token, true).await {
        Ok(principal) => Ok(Caller::Token(principal)),
        Err(TokenRefusal::Limited(wait)) => Err(Problem::too_many_requests(
            wait,
            format!(
                "{} tokens that are not valid were sent from this address within the last {} minutes: no token from it is checked until Retry-After",
                throttle::GUESSES,
                throttle::WINDOW.as_secs() / 60
            ),
        )),
        Err(TokenRefusal::Rejected(rejected)) => {
            Err(Problem::new(Kind::Unauthenticated, rejected.to_string()))
        }
        Err(TokenRefusal::Store(e)) => Err(Problem::store(&e)),
    }
}

/// Why a token was not taken.
#[derive(Debug)]
pub enum TokenRefusal {
    /// Too many guesses from this address (see [`throttle`]): none is
    /// checked for this long.
    Limited(Duration),
    Rejected(auth::Rejected),
    Store(windledger_store::StoreError),
}

impl AppState {
    /// Checks a token sent from `client` (a [`connections::client_key`]),
    /// within the limit on guessing and after the slow-down of
    /// [`throttle`]. With `cached`, a token checked lately is taken without
    /// a query (see [`TOKEN_CACHE_TTL`]): the API's requests; a sign-in
    /// asks the database.
    pub async fn check_token(
        &self,
        client: &str,
        token: &str,
        cached: bool,
    ) -> Result<auth::Principal, TokenRefusal> {
        if let Some(wait) = self.throttle.limited(client) {
            return Err(TokenRefusal::Limited(wait));
        }
        self.throttle.wait(client).await;
        let key: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(token.as_bytes()).into()
        };
        if cached {
            self.watch_revocations();
            let watched = self
                .revocations_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|at| at.elapsed() + REVOCATION_POLL < TOKEN_CACHE_TTL);
            if let Some((principal, checked)) = self
                .tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                && (checked.elapsed() < TOKEN_CACHE_TTL
                    || (watched && checked.elapsed() < TOKEN_TRUST))
                && principal.expires_at.is_none_or(|e| e > chrono::Utc::now())
            {
                let principal = principal.clone();
                self.throttle.forgive(client);
                return Ok(principal);
            }
        }
        let attempt = match self.throttle.admit(client, key) {
            throttle::Admission::Check(attempt) => attempt,
            throttle::Admission::Refused(rejected) => {
                self.throttle.failed(client);
                return Err(TokenRefusal::Rejected(rejected));
            }
            throttle::Admission::Limited(wait) => return Err(TokenRefusal::Limited(wait)),
        };
        match auth::authenticate(&self.store, token).await {
            Err(e) => {
                attempt.no_guess();
                Err(TokenRefusal::Store(e))
            }
            Ok(Ok(principal)) => {
                attempt.no_guess();
                self.throttle.forgive(client);
                let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
                if tokens.len() >= TOKEN_CACHE_MAX {
                    tokens.retain(|_, (_, at)| at.elapsed() < TOKEN_TRUST);
                    if tokens.len() >= TOKEN_CACHE_MAX {
                        tokens.clear();
                    }
                }
                tokens.insert(key, (principal.clone(), Instant::now()));
                Ok(principal)
            }
            Ok(Err(rejected)) => {
                attempt.refused(&rejected);
                self.throttle.failed(client);
                Err(TokenRefusal::Rejected(rejected))
            }
        }
    }
}

fn client_address(state: &AppState, request: &Request) -> String {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    state.client_of(peer, request.headers())
}

/// Where `authorize` writes the caller's role and the matched route, for
/// the request log and the metrics.
#[derive(Clone, Default)]
struct CallerSlot(Arc<Mutex<(&'static str, Option<String>)>>);

/// One structured log line and the metrics of every request; a request id
/// (the client's `x-request-id`, or a new one) on every response.
async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status();
    let (role, route) = slot.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let role = if role.is_empty() { "anonymous" } else { role };
    let route = route.unwrap_or_else(|| match path.as_str() {
        "/healthz" | "/readyz" | "/metrics" | "/api/v1/openapi.json" | "/api/v1/docs" => {
            path.clone()
        }
        // The web pages: one label, never the path (it names holders).
        p if !p.starts_with("/api/") => "web".to_owned(),
        _ => "unmatched".to_owned(),
    });
    state
        .metrics
        .request(method.as_str(), &route, status.as_u16(), elapsed);
    state.ledgers.count_request(&path);
    tracing::info!(
        target: "windledger::http",
        request_id = %request_id,
        method = %method,
        route = %route,
        role,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json");
    if status == StatusCode::PAYLOAD_TOO_LARGE && !problem {
        return Problem::new(
            Kind::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
        .into_response();
    }
    // A body cut off (too slow: `ServeLimits::body_read`, or the client
    // went away) fails the handler's extractor with a plain 400.
    if status == StatusCode::BAD_REQUEST && !problem && path.starts_with("/api/") {
        return Problem::validation("the request body could not be read in full").into_response();
    }
    response
}

pub use windledger_edge::ServeLimits;
pub use windledger_edge::{connections, throttle};

/// Serves the API and the `pages` until `shutdown` resolves, then finishes
/// the requests in flight, within these limits.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    state: AppState,
    pages: Router<AppState>,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The writer alone asks the witnesses: a read-only server records no
    // co-signature.
    let witnessing =
        (!state.read_only()).then(|| tokio::spawn(witnessing::keep_witnessed(state.clone())));
    let host: std::sync::Arc<dyn connections::Host> = std::sync::Arc::new(state.clone());
    let served = connections::serve(listener, host, router(state, pages), limits, shutdown).await;
    if let Some(witnessing) = witnessing {
        witnessing.abort();
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_prefers_html_and_an_api_client_does_not() {
        let prefers = |accept: Option<&str>| {
            let mut headers = axum::http::HeaderMap::new();
            if let Some(accept) = accept {
                headers.insert(
                    header::ACCEPT,
                    HeaderValue::from_str(accept).expect("ascii"),
                );
            }
            prefers_html(&headers)
        };
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers(Some(firefox)));
        assert!(prefers(Some("application/json;q=0.5, text/html")));
        assert!(!prefers(None));
        assert!(!prefers(Some("*/*")));
        assert!(!prefers(Some("application/json")));
        assert!(!prefers(Some("application/problem+json, text/html;q=0.9")));
        assert!(!prefers(Some("text/html, application/json")));
    }
}
