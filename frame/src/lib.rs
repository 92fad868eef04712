//! The frame every page of windledger sits in (the pages themselves are
//! `windledger_desk`'s and `windledger_web`'s): the pages' state
//! ([`Web`]: the API's state and the sessions), why a page cannot be shown
//! ([`WebError`], each a page in French), and:
//!
//! - [`extract`]: what a handler receives, typed: who asks, the farm of
//!   the path, the path's parameters, a form with its CSRF token checked,
//!   and [`extract::Post`], the one way a form runs a command.
//! - [`session`]: sign-in keys, sessions in memory, CSRF tokens.
//! - [`layout`]: the page shell, the error pages, downloads.
//! - [`errors`]: a refusal of the domain or the API, said in French.
//!
//! Every POST checks the session's CSRF token first and answers a success
//! with a redirect (POST/redirect/GET). Commands go through
//! [`LedgerRuntime::execute`](windledger_app::ledger::LedgerRuntime::execute),
//! as the API's do.

pub mod errors;
pub mod extract;
pub mod layout;
pub mod session;

pub use windledger_french::format;

pub use session::{MAX_SESSIONS, MAX_SESSIONS_PER_TOKEN};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use windledger_projections::runner::Projections;

use layout::error_page;
use session::Sessions;
use windledger_api::AppState;
use windledger_api::problem::Problem;
use windledger_app::ledger::LedgerRuntime;

/// Held while a CSV file is checked and written.
pub type UploadLock = Arc<tokio::sync::Mutex<()>>;

/// What the pages share: the API's state and the sessions.
#[derive(Clone)]
pub struct Web(Arc<WebInner>);

pub struct WebInner {
    pub app: AppState,
    pub sessions: Sessions,
    /// Binds the sign-in form's CSRF value to this server.
    pub sign_in_key: session::SignInKey,
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

    pub fn upload_lock(&self, ledger: &str, year: i32) -> UploadLock {
        self.uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((ledger.to_owned(), year))
            .or_default()
            .clone()
    }
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
    /// The server lacks what this page needs (a key): said as it is.
    Unconfigured(&'static str),
    Internal,
}

impl WebError {
    /// The sentence a page says of this error, in French.
    pub fn sentence(&self) -> String {
        match self {
            WebError::Forbidden(text) | WebError::BadRequest(text) => text.clone(),
            WebError::Unconfigured(text) => (*text).to_owned(),
            _ => "La demande n'a pas pu aboutir.".to_owned(),
        }
    }
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

impl From<windledger_store::StoreError> for WebError {
    fn from(e: windledger_store::StoreError) -> Self {
        Problem::store(&e).into()
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
            WebError::Forbidden(text) => layout::refused_page(&text),
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
            WebError::Unconfigured(text) => error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service non configuré",
                text,
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

/// Reads the projections once they show the ledger's head, as the API's
/// reads do.
pub async fn projected<T>(
    runtime: &LedgerRuntime,
    f: impl FnOnce(&Projections) -> T,
) -> Result<T, WebError> {
    let head = runtime.store.head(&runtime.id).await?;
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

/// The amount in euros of the form's field `name` ([`read_euros`]); if it
/// is empty, `missing` is said next to it, if it is no amount, how to
/// write one.
pub fn amount_field(
    state: &mut windledger_html::forms::FormState,
    name: &str,
    missing: &str,
) -> Option<windledger_domain::money::Euros> {
    state.read_required(
        name,
        missing,
        "Écrivez un montant en euros, positif, à deux décimales au plus (par exemple 12 000 ou 3 500,50).",
        read_euros,
    )
}

/// An amount in euros as a person writes it ("2 500,00", "2500.5"), above
/// zero and to the cent.
pub fn read_euros(text: &str) -> Option<windledger_domain::money::Euros> {
    let text = text
        .replace([' ', '\u{a0}', '\u{202f}'], "")
        .replace(',', ".");
    serde_json::from_value::<windledger_domain::money::Euros>(serde_json::Value::String(text))
        .ok()
        .filter(|e| e.cents().is_some_and(|c| c > 0))
}
