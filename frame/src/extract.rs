//! What a handler receives, typed: who asks ([`Visitor`], [`SignedIn`]),
//! the farm of the path ([`Farm`]), the path's other parameters
//! ([`Params`]), a form sent in a session with its CSRF token checked
//! ([`FormPost`]), and a form that runs a command ([`Post`]).
//!
//! [`Post`] is the one pipeline of every form that writes: the farm, the
//! session the route's rule let in, the form's CSRF token, the answer
//! given before to a form sent twice, the command run through
//! [`LedgerRuntime::execute`] with the command id `web:<token id>:<form
//! id>`, then the redirect to what was recorded, or the form again with
//! the refusal in French.
//!
//! On a route behind an access rule, the rule's layer
//! ([`crate::routes`]) has already opened the farm and found the session:
//! it leaves them in the request's extensions, where these extractors take
//! them instead of reading them again.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde::de::DeserializeOwned;
use windledger_api::problem::Problem;
use windledger_app::command::Command;
use windledger_app::command::Receipt;
use windledger_app::ledger::LedgerRuntime;
use windledger_store::LedgerId;

use crate::layout::{Chrome, FormState, Message, html_response, page};
use crate::session::{self, CSRF_FIELD, FORM_ID_FIELD, Flash, SESSION_COOKIE, SessionView};
use crate::{PageResult, Web, WebError, errors, projected};

// ---------------------------------------------------------------- visitors

/// Who is asking: a signed-in session, or nobody.
#[derive(Clone, Default)]
pub struct Visitor {
    pub session: Option<SessionView>,
    /// A message left for this page (GET only).
    pub flash: Option<Flash>,
}

/// Who a page is shown to: the session, if any, and the message left for
/// the page.
pub type Shown<'a> = (Option<&'a SessionView>, Option<Flash>);

impl Visitor {
    pub fn shown(&self) -> Shown<'_> {
        (self.session.as_ref(), self.flash.clone())
    }

    async fn find(parts: &Parts, web: &Web) -> Visitor {
        let Some(id) = session::cookie(&parts.headers, SESSION_COOKIE) else {
            return Visitor::default();
        };
        let Some(found) = web.sessions.find(&id) else {
            return Visitor::default();
        };
        // The token may have been revoked, or have expired, since.
        match web.app.store.token(&found.principal.token_id).await {
            Ok(Some(t))
                if t.revoked_at.is_none()
                    && t.expires_at.is_none_or(|e| e > chrono::Utc::now()) => {}
            Ok(_) => {
                web.sessions.end(&found.key);
                return Visitor::default();
            }
            // The database is down: the page's own reads will say so.
            Err(_) => {}
        }
        let flash = (parts.method == Method::GET)
            .then(|| web.sessions.take_flash(&found.key))
            .flatten();
        Visitor {
            session: Some(found),
            flash,
        }
    }
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Infallible> {
        if let Some(found) = parts.extensions.get::<Visitor>() {
            return Ok(found.clone());
        }
        let visitor = Visitor::find(parts, web).await;
        // Found once a request: the message is taken once.
        parts.extensions.insert(visitor.clone());
        Ok(visitor)
    }
}

/// A visitor with a session: what a page behind an access rule receives.
pub struct SignedIn {
    pub session: SessionView,
    pub flash: Option<Flash>,
}

impl SignedIn {
    pub fn shown(&self) -> Shown<'_> {
        (Some(&self.session), self.flash.clone())
    }
}

impl FromRequestParts<Web> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let Ok(visitor) = Visitor::from_request_parts(parts, web).await;
        let session = visitor.session.ok_or(WebError::SignIn)?;
        Ok(SignedIn {
            session,
            flash: visitor.flash,
        })
    }
}

/// What a signed-in visitor's request on a farm's pages starts from,
/// extracted in this order: the server, the path's farm (404 if there is
/// none) and the session (to the sign-in page without one).
pub struct OnFarm(pub Web, pub Farm, pub SignedIn);

impl FromRequestParts<Web> for OnFarm {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let farm = Farm::from_request_parts(parts, web).await?;
        let me = SignedIn::from_request_parts(parts, web).await?;
        Ok(OnFarm(web.clone(), farm, me))
    }
}

/// The client's address as the limits count it, for the limit on guessed
/// tokens ([`windledger_api::AppState::client_of`]).
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

// ---------------------------------------------------------------- paths

/// The path's parameters as `T`; a path that does not decode is a page
/// that does not exist.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Params(p.0))
            .map_err(|_| WebError::NotFound)
    }
}

/// `.../assemblees/{meeting}...`.
#[derive(serde::Deserialize)]
pub struct MeetingPath {
    pub meeting: String,
}

/// `.../assemblees/{meeting}/recus/{position}`.
#[derive(serde::Deserialize)]
pub struct ReceiptPath {
    pub meeting: String,
    pub position: u64,
}

/// The runtime of a ledger the path names; 404 if there is none.
pub async fn runtime(web: &Web, ledger: &str) -> Result<Arc<LedgerRuntime>, WebError> {
    let id = LedgerId::parse(ledger).map_err(|_| WebError::NotFound)?;
    Ok(web.app.open(&id).await?)
}

/// The farm of the path's `{ledger}`.
#[derive(Clone)]
pub struct Farm {
    pub runtime: Arc<LedgerRuntime>,
    pub id: String,
    pub name: String,
}

impl Farm {
    /// Opens a farm; 404 if there is none.
    pub async fn open(web: &Web, ledger: &str) -> Result<Farm, WebError> {
        let runtime = runtime(web, ledger).await?;
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

    /// A page about this farm, shown to `who`.
    pub fn page(
        &self,
        status: StatusCode,
        title: &str,
        who: Shown<'_>,
        body: Markup,
    ) -> PageResult {
        let chrome = Chrome {
            farm: Some((self.id.as_str(), self.name.as_str())),
            ..Chrome::new(title, who)
        };
        Ok(html_response(status, page(chrome, body)))
    }

    /// `/parcs/<id>` + suffix.
    pub fn path(&self, suffix: &str) -> String {
        format!("/parcs/{}{suffix}", self.id)
    }
}

/// `{ledger}` alone.
#[derive(serde::Deserialize)]
pub struct LedgerPath {
    pub ledger: String,
}

impl FromRequestParts<Web> for Farm {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        if let Some(farm) = parts.extensions.get::<Farm>() {
            return Ok(farm.clone());
        }
        let Params(LedgerPath { ledger }) = Params::from_request_parts(parts, web).await?;
        Farm::open(web, &ledger).await
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

// ---------------------------------------------------------------- forms

/// A form's fields.
pub type Fields = HashMap<String, String>;

/// Reads a urlencoded form; anything else is a bad request.
pub fn form_fields(form: Result<Form<Fields>, FormRejection>) -> Result<Fields, WebError> {
    form.map(|Form(f)| f).map_err(|_| unreadable())
}

pub fn unreadable() -> WebError {
    WebError::BadRequest("Le formulaire envoyé n'a pas pu être lu.".into())
}

/// A form sent in a session, its CSRF token checked.
pub struct FormPost {
    web: Web,
    pub me: SignedIn,
    pub fields: Fields,
}

impl FormPost {
    /// The form, if the session's CSRF token is in it.
    pub fn new(web: &Web, session: SessionView, fields: Fields) -> Result<Self, WebError> {
        match fields.get(CSRF_FIELD) {
            Some(sent) if session::same_secret(sent, &session.csrf) => Ok(FormPost {
                web: web.clone(),
                me: SignedIn {
                    session,
                    flash: None,
                },
                fields,
            }),
            _ => Err(WebError::Csrf),
        }
    }

    /// A field, trimmed; empty if absent.
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or("")
    }

    /// A success: remember the form, leave a message, and redirect.
    pub fn done(&self, to: &str, flash: &str) -> Response {
        let key = &self.me.session.key;
        if let Some(form_id) = self.fields.get(FORM_ID_FIELD) {
            self.web.sessions.remember(key, form_id, to);
        }
        if !flash.is_empty() {
            self.web.sessions.set_flash(key, flash);
        }
        Redirect::to(to).into_response()
    }
}

impl FromRequest<Web> for FormPost {
    type Rejection = WebError;

    async fn from_request(request: Request, web: &Web) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let me = SignedIn::from_request_parts(&mut parts, web).await?;
        let form = Form::<Fields>::from_request(Request::from_parts(parts, body), web).await;
        FormPost::new(web, me.session, form_fields(form)?)
    }
}

/// A form that runs a command on the path's farm. A form already answered
/// in this session is answered again with its first answer, and nothing
/// more is written: the extractor refuses it with that answer.
pub struct Post {
    pub farm: Farm,
    pub form: FormPost,
}

impl std::ops::Deref for Post {
    type Target = FormPost;
    fn deref(&self) -> &FormPost {
        &self.form
    }
}

impl FromRequest<Web> for Post {
    type Rejection = Response;

    async fn from_request(request: Request, web: &Web) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let farm = Farm::from_request_parts(&mut parts, web)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = FormPost::from_request(Request::from_parts(parts, body), web)
            .await
            .map_err(IntoResponse::into_response)?;
        Post::new(farm, form).map_err(IntoResponse::into_response)
    }
}

impl Post {
    /// The post, or the answer this form was given before.
    pub fn new(farm: Farm, form: FormPost) -> Result<Post, Redirect> {
        let answered = form
            .fields
            .get(FORM_ID_FIELD)
            .and_then(|id| form.web.sessions.answered(&form.me.session.key, id));
        match answered {
            Some(to) => Err(Redirect::to(&to)),
            None => Ok(Post { farm, form }),
        }
    }

    /// The metadata of what this form records, as the API's (the actor
    /// names the token; the form's one-time id, then `suffix`, makes the
    /// command id).
    pub fn metadata(&self, suffix: &str) -> HashMap<String, String> {
        let principal = &self.me.session.principal;
        let form_id = self
            .fields
            .get(FORM_ID_FIELD)
            .filter(|f| !f.is_empty() && f.len() <= 64 && f.bytes().all(|b| b.is_ascii_graphic()))
            .cloned()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        HashMap::from([
            (
                "actor".to_owned(),
                format!("{}:{}", principal.role, principal.token_id),
            ),
            (
                "command_id".to_owned(),
                format!("web:{}:{form_id}{suffix}", principal.token_id),
            ),
        ])
    }

    /// The server's state (the vault, the ledgers).
    pub fn web(&self) -> &Web {
        &self.form.web
    }

    /// Runs a command for the signed-in principal, as the API does.
    pub async fn execute(
        &self,
        suffix: &str,
        aggregate_id: &str,
        command: Command,
    ) -> Result<Vec<Receipt>, Problem> {
        self.farm
            .runtime
            .execute(aggregate_id, command, self.metadata(suffix))
            .await
            .map_err(Problem::from)
    }

    /// The end of every form that runs one command: unless its fields had
    /// errors, runs `command` on `aggregate_id` (see [`Post::settle`]).
    pub async fn run(
        &self,
        sent: FormState,
        command: Option<(String, Command)>,
        success: impl FnOnce(u64) -> (String, String),
        again: impl AsyncFnOnce(FormState) -> PageResult,
    ) -> PageResult {
        self.settle(sent, self.action(command), success, again)
            .await
    }

    /// Running `command` on its aggregate, if the form gave one: the
    /// action [`Post::settle`] runs.
    pub fn action(
        &self,
        command: Option<(String, Command)>,
    ) -> Option<impl Future<Output = Result<Vec<Receipt>, Problem>> + '_> {
        command.map(|(aggregate_id, command)| async move {
            self.execute("", &aggregate_id, command).await
        })
    }

    /// The end of every form that records: unless its fields had errors,
    /// runs `action`; recorded, sends the browser where `success` says,
    /// given the first event's position, with its message ((where,
    /// message)); else shows the form `again`, with the refusal in French
    /// at its top.
    pub async fn settle(
        &self,
        mut sent: FormState,
        action: Option<impl Future<Output = Result<Vec<Receipt>, Problem>>>,
        success: impl FnOnce(u64) -> (String, String),
        again: impl AsyncFnOnce(FormState) -> PageResult,
    ) -> PageResult {
        if let (Some(action), false) = (action, sent.has_errors()) {
            match action.await {
                Ok(receipts) => {
                    let (to, flash) = success(receipts.first().map_or(0, |r| r.position));
                    return Ok(self.done(&to, &flash));
                }
                Err(p) => sent.top.push(refusal(&p)),
            }
        }
        again(sent).await
    }
}

/// The status of a form sent back with its errors.
pub const SENT_BACK: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Where a form that recorded sends the browser: the page `to`, saying
/// `success` with the first event's position (for [`Post::settle`]).
pub fn back_to(to: String, success: &str) -> impl FnOnce(u64) -> (String, String) + '_ {
    move |position| {
        let position = windledger_french::format::int(position);
        (to, format!("{success} (position {position})."))
    }
}

/// A problem from a command, as a message for the top of the form.
pub fn refusal(p: &Problem) -> Message {
    errors::translate(p)
}
