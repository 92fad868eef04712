//! The web pages, in French, served by the same binary as the API: a
//! public page per farm, sign-in with a token, and a space per role
//! (shareholder, municipality, operator, secretary). Server-rendered HTML
//! (maud), usable without JavaScript; charts are inline SVG drawn here.
//!
//! - [`public`]: `/`, a farm's public page, its local returns, its signed
//!   checkpoint. No personal data: no holder id is ever shown there.
//! - [`session`]: sign-in, sessions in memory, CSRF tokens.
//! - [`space`]: a signed-in visitor's space (shares, votes with receipts,
//!   dividends), meetings with the ballot and proxy forms, receipts.
//! - [`audit`]: the municipality's decisions register, event log and chain
//!   verification.
//! - [`operator`]: production and revenue, by form or CSV file (read by
//!   [`windledger_app::import::csv`]).
//! - [`secretary`]: holders, transfers, meetings.
//!
//! Every page checks its access rule itself (the same rules as the API's
//! route table), every POST checks the session's CSRF token first and
//! answers a success with a redirect (POST/redirect/GET). Commands go
//! through [`LedgerRuntime::execute`], as the API's do.

mod audit;
mod charts;
mod errors;
mod format;
mod layout;
mod operator;
mod public;
mod secretary;
mod session;
mod space;

pub use session::{MAX_SESSIONS, MAX_SESSIONS_PER_TOKEN};

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use windledger_projections::runner::Projections;

use layout::{Message, error_page};
use session::{CSRF_FIELD, FORM_ID_FIELD, SESSION_COOKIE, SessionView, Sessions};
use windledger_api::AppState;
use windledger_api::auth::{Principal, Role};
use windledger_api::problem::Problem;
use windledger_app::import::Command;
use windledger_app::ledger::{LedgerRuntime, Receipt};

/// Held while a CSV file is checked and written.
type UploadLock = Arc<tokio::sync::Mutex<()>>;

/// What the pages share: the API's state and the sessions.
#[derive(Clone)]
pub struct Web(Arc<WebInner>);

pub struct WebInner {
    pub app: AppState,
    sessions: Sessions,
    /// Binds the sign-in form's CSRF value to this server.
    sign_in_key: session::SignInKey,
    /// One CSV upload at a time per ledger and financial year.
    uploads: Mutex<HashMap<(String, i32), UploadLock>>,
}

impl std::ops::Deref for Web {
    type Target = WebInner;
    fn deref(&self) -> &WebInner {
        &self.0
    }
}

impl Web {
    pub fn new(app: AppState) -> Self {
        Self(Arc::new(WebInner {
            app,
            sessions: Sessions::default(),
            sign_in_key: session::SignInKey::generate(),
            uploads: Mutex::new(HashMap::new()),
        }))
    }

    fn upload_lock(&self, ledger: &str, year: i32) -> UploadLock {
        self.uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((ledger.to_owned(), year))
            .or_default()
            .clone()
    }
}

/// The pages' routes, to merge into the application's router.
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    let web = Web::new(state);
    let farm = Router::new()
        .route("/{ledger}", get(public::show))
        .route("/{ledger}/retombees", get(public::returns))
        .route("/{ledger}/point-de-controle", get(public::checkpoint))
        .route("/{ledger}/espace", get(space::home))
        .route("/{ledger}/assemblees/{meeting}", get(space::meeting))
        .route("/{ledger}/assemblees/{meeting}/vote", post(space::vote))
        .route(
            "/{ledger}/assemblees/{meeting}/procuration",
            post(space::grant_proxy),
        )
        .route(
            "/{ledger}/assemblees/{meeting}/revocation",
            post(space::revoke_proxy),
        )
        .route(
            "/{ledger}/assemblees/{meeting}/recus/{position}",
            get(space::receipt),
        )
        .route("/{ledger}/registre", get(audit::register))
        .route("/{ledger}/registre/{meeting}", get(audit::register_meeting))
        .route("/{ledger}/journal", get(audit::journal))
        .route(
            "/{ledger}/verification",
            get(audit::verification).post(audit::verify),
        )
        .route("/{ledger}/exploitation", get(operator::show))
        .route(
            "/{ledger}/exploitation/production",
            post(operator::production),
        )
        .route("/{ledger}/exploitation/recette", post(operator::revenue))
        .route("/{ledger}/exploitation/import", post(operator::upload))
        .route("/{ledger}/secretariat", get(secretary::show))
        .route("/{ledger}/secretariat/associes", post(secretary::admit))
        .route("/{ledger}/secretariat/cessions", post(secretary::transfer))
        .route("/{ledger}/secretariat/assemblees", post(secretary::convene))
        .route(
            "/{ledger}/secretariat/assemblees/{meeting}/ouverture",
            post(secretary::open_voting),
        )
        .route(
            "/{ledger}/secretariat/assemblees/{meeting}/cloture",
            post(secretary::close),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/", get(public::index))
        .route("/style.css", get(layout::stylesheet))
        .route("/connexion", get(space::sign_in_form).post(space::sign_in))
        .route("/deconnexion", post(space::sign_out))
        .nest("/parcs", farm)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(web)
}

async fn not_found() -> Response {
    WebError::NotFound.into_response()
}

async fn method_not_allowed() -> Response {
    error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Adresse de formulaire",
        "Cette adresse reçoit un formulaire envoyé depuis une page : revenez à la page précédente.",
    )
}

/// Headers of every page: no outside resource, no framing, no sniffing,
/// and nothing kept in shared caches.
async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::CACHE_CONTROL, "no-store");
    response
}

// ---------------------------------------------------------------- errors

/// Why a page cannot be shown: each becomes a page in French.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the sign-in page.
    SignIn,
    Forbidden(String),
    NotFound,
    BadRequest(String),
    /// The form's CSRF token is missing or wrong.
    Csrf,
    Unavailable,
    Internal,
}

impl From<Problem> for WebError {
    fn from(p: Problem) -> Self {
        match p.status {
            404 => WebError::NotFound,
            403 => WebError::Forbidden("Votre rôle ne permet pas cette opération.".into()),
            401 => WebError::SignIn,
            503 => WebError::Unavailable,
            400..=499 => WebError::BadRequest(errors::translate(&p).text),
            _ => WebError::Internal,
        }
    }
}

impl From<windledger_app::Error> for WebError {
    fn from(e: windledger_app::Error) -> Self {
        Problem::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn => Redirect::to("/connexion").into_response(),
            WebError::Forbidden(text) => error_page(StatusCode::FORBIDDEN, "Accès refusé", &text),
            WebError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "Cette page n'existe pas : le parc, l'assemblée ou l'élément demandé est inconnu.",
            ),
            WebError::BadRequest(text) => {
                error_page(StatusCode::BAD_REQUEST, "Demande incorrecte", &text)
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Formulaire expiré ou invalide",
                "Ce formulaire n'a pas été envoyé depuis cette session (jeton de sécurité absent ou incorrect). \
                 Rien n'a été enregistré : rechargez la page et envoyez-le de nouveau.",
            ),
            WebError::Unavailable => error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service momentanément indisponible",
                "Le registre n'est pas joignable ou se met à jour : réessayez dans un instant.",
            ),
            WebError::Internal => error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erreur interne",
                "Le serveur n'a pas pu répondre ; l'erreur a été consignée.",
            ),
        }
    }
}

pub type PageResult = Result<Response, WebError>;

// ---------------------------------------------------------------- visitors

/// Who is asking: a signed-in session, or nobody.
pub struct Visitor {
    pub session: Option<SessionView>,
    /// A message left for this page (GET only).
    pub flash: Option<session::Flash>,
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Infallible> {
        let Some(id) = session::cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Visitor {
                session: None,
                flash: None,
            });
        };
        let Some(found) = web.sessions.find(&id) else {
            return Ok(Visitor {
                session: None,
                flash: None,
            });
        };
        // The token may have been revoked, or have expired, since.
        match web.app.store.token(&found.principal.token_id).await {
            Ok(Some(t))
                if t.revoked_at.is_none()
                    && t.expires_at.is_none_or(|e| e > chrono::Utc::now()) => {}
            Ok(_) => {
                web.sessions.end(&found.key);
                return Ok(Visitor {
                    session: None,
                    flash: None,
                });
            }
            // The database is down: the page's own reads will say so.
            Err(_) => {}
        }
        let flash = (parts.method == Method::GET)
            .then(|| web.sessions.take_flash(&found.key))
            .flatten();
        Ok(Visitor {
            session: Some(found),
            flash,
        })
    }
}

// ---------------------------------------------------------------- farms

/// A farm a page is about.
pub struct Farm {
    pub runtime: Arc<LedgerRuntime>,
    pub id: String,
    pub name: String,
}

impl Farm {
    pub fn chrome<'a>(&'a self, title: &'a str, visitor: &'a Visitor) -> layout::Chrome<'a> {
        layout::Chrome {
            title,
            farm: Some((self.id.as_str(), self.name.as_str())),
            session: visitor.session.as_ref(),
            flash: visitor.flash.clone(),
        }
    }

    /// `/parcs/<id>` + suffix.
    pub fn path(&self, suffix: &str) -> String {
        format!("/parcs/{}{suffix}", self.id)
    }
}

/// Opens the path's farm; 404 if there is none.
pub async fn farm(web: &Web, params: &HashMap<String, String>) -> Result<Farm, WebError> {
    let runtime = web.app.runtime(params).await?;
    let id = runtime.id.to_string();
    let name = projected(&runtime, |p| {
        p.cap_table
            .fold()
            .incorporation()
            .map(|i| i.legal_name.as_str().to_owned())
    })
    .await?
    .unwrap_or_else(|| id.clone());
    Ok(Farm { runtime, id, name })
}

/// Reads the projections once they show the ledger's head, as the API's
/// reads do.
pub async fn projected<T>(
    runtime: &LedgerRuntime,
    f: impl FnOnce(&Projections) -> T,
) -> Result<T, WebError> {
    let head = runtime
        .store
        .head(&runtime.id)
        .await
        .map_err(|e| WebError::from(Problem::store(&e)))?;
    match tokio::time::timeout(
        Duration::from_secs(5),
        runtime.projections.caught_up(head.size),
    )
    .await
    {
        Ok(Ok(())) => Ok(runtime.projections.read(f)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a projection stopped");
            Err(WebError::Internal)
        }
        Err(_) => Err(WebError::Unavailable),
    }
}

/// The session if it may see this farm's page for these roles.
pub fn require<'a>(
    visitor: &'a Visitor,
    farm: &Farm,
    roles: &[Role],
) -> Result<&'a SessionView, WebError> {
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    if session.principal.ledger.as_str() != farm.id {
        return Err(WebError::Forbidden(
            "Vous êtes connecté pour un autre parc : déconnectez-vous puis connectez-vous avec un jeton de ce parc."
                .into(),
        ));
    }
    if !roles.contains(&session.principal.role) {
        return Err(WebError::Forbidden(
            "Votre rôle ne donne pas accès à cette page.".into(),
        ));
    }
    Ok(session)
}

pub use windledger_api::auth::roles::{ALL_ROLES, AUDITORS, MEMBERS, VOTERS};

// ---------------------------------------------------------------- forms

/// A form's fields.
pub type Fields = HashMap<String, String>;

/// Reads a urlencoded form; anything else is a bad request.
pub fn form_fields(form: Result<Form<Fields>, FormRejection>) -> Result<Fields, WebError> {
    form.map(|Form(f)| f)
        .map_err(|_| WebError::BadRequest("Le formulaire envoyé n'a pas pu être lu.".into()))
}

/// The session's CSRF token must be in the form.
pub fn check_csrf(session: &SessionView, fields: &Fields) -> Result<(), WebError> {
    match fields.get(CSRF_FIELD) {
        Some(sent) if session::same_secret(sent, &session.csrf) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

/// If this form was already answered in this session, that answer again.
pub fn already_answered(web: &Web, session: &SessionView, fields: &Fields) -> Option<Response> {
    let form_id = fields.get(FORM_ID_FIELD)?;
    web.sessions
        .answered(&session.key, form_id)
        .map(|to| Redirect::to(&to).into_response())
}

/// A success: remember the form, leave a message, and redirect.
pub fn done(web: &Web, session: &SessionView, fields: &Fields, to: &str, flash: &str) -> Response {
    if let Some(form_id) = fields.get(FORM_ID_FIELD) {
        web.sessions.remember(&session.key, form_id, to);
    }
    if !flash.is_empty() {
        web.sessions.set_flash(&session.key, flash);
    }
    Redirect::to(to).into_response()
}

/// Runs a command for the signed-in principal, as the API does (the
/// metadata names the token; the form's one-time id makes the command id).
pub async fn execute(
    farm: &Farm,
    principal: &Principal,
    fields: &Fields,
    suffix: &str,
    aggregate_id: &str,
    command: Command,
) -> Result<Vec<Receipt>, Problem> {
    let form_id = fields
        .get(FORM_ID_FIELD)
        .filter(|f| !f.is_empty() && f.len() <= 64 && f.bytes().all(|b| b.is_ascii_graphic()))
        .cloned()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let metadata = HashMap::from([
        (
            "actor".to_owned(),
            format!("{}:{}", principal.role, principal.token_id),
        ),
        (
            "command_id".to_owned(),
            format!("web:{}:{form_id}{suffix}", principal.token_id),
        ),
    ]);
    farm.runtime
        .execute(aggregate_id, command, metadata)
        .await
        .map_err(Problem::from)
}

/// A problem from a command, as a message for the top of the form.
pub fn refusal(p: &Problem) -> Message {
    errors::translate(p)
}

/// The path's parameters; a path that does not decode is a page that
/// does not exist.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|p| Params(p.0))
            .map_err(|_| WebError::NotFound)
    }
}

/// The client's address as the limits count it, for the limit on guessed
/// tokens ([`AppState::client_of`]).
pub struct ClientAddress(pub String);

impl FromRequestParts<Web> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddress(web.app.client_of(peer, &parts.headers)))
    }
}

/// A query string read leniently: a malformed one reads as empty.
pub fn query_map(
    query: Result<
        axum::extract::Query<HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> HashMap<String, String> {
    query.map(|q| q.0).unwrap_or_default()
}
