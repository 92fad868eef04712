//! The shell of every page (header, navigation, messages, footer), the
//! style sheet, the hidden fields of every form, and error pages; the
//! building blocks (forms, tables, charts) are `windledger-html`'s,
//! re-exported here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

pub use windledger_html::forms::{
    Field, FormState, FormView, Message, errors_box, grouped_select, message, messages_of, select,
    state_of, textarea,
};
pub use windledger_html::tables::{Col, cards, contents, table};

use crate::extract::Shown;
use crate::session::{CSRF_FIELD, FORM_ID_FIELD, Flash, SessionView};
use windledger_api::auth::Role;

/// The style sheet, served at `/style.css` (no outside font or script).
pub const STYLE: &str = include_str!("style.css");

/// What the shell of a page shows besides its content.
pub struct Chrome<'a> {
    pub title: &'a str,
    /// The farm the page is about: (ledger id, name).
    pub farm: Option<(&'a str, &'a str)>,
    pub session: Option<&'a SessionView>,
    pub flash: Option<Flash>,
    /// Whether the header offers to sign in when it shows no session.
    pub sign_in_link: bool,
}

impl<'a> Chrome<'a> {
    /// A page about no farm in particular, shown to `who`.
    pub fn new(title: &'a str, (session, flash): Shown<'a>) -> Self {
        Self {
            title,
            farm: None,
            session,
            flash,
            sign_in_link: true,
        }
    }
}

/// Who is signed in, in words.
pub fn who(session: &SessionView) -> String {
    let role = match session.principal.role {
        Role::Secretary => "secrétariat",
        Role::Municipality => "collectivité",
        Role::Operator => "exploitant",
        Role::Shareholder => "associé",
        Role::Resident => "habitant",
    };
    let acts_for = session
        .principal
        .holder
        .as_ref()
        .map(|h| h.as_str())
        .or(session.principal.resident.as_ref().map(|r| r.as_str()));
    match acts_for {
        Some(a) => format!("{role} ({a})"),
        None => role.to_owned(),
    }
}

/// A whole page.
pub fn page(chrome: Chrome<'_>, body: Markup) -> Markup {
    let full_title = match chrome.farm {
        Some((_, name)) => format!("{} — {name} — windledger", chrome.title),
        None => format!("{} — windledger", chrome.title),
    };
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header.site {
                    a.brand href="/" { "windledger" }
                    @if let Some((id, name)) = chrome.farm {
                        a href={ "/parcs/" (id) } { (name) }
                    }
                    nav aria-label="Navigation du compte" {
                        @match chrome.session {
                            Some(s) => {
                                span { "Connecté : " (who(s)) }
                                a href={ "/parcs/" (s.principal.ledger) "/espace" } { "Mon espace" }
                                form method="post" action="/deconnexion" {
                                    input type="hidden" name=(CSRF_FIELD) value=(s.csrf);
                                    button type="submit" { "Se déconnecter" }
                                }
                            }
                            None if chrome.sign_in_link => {
                                a href="/connexion" { "Se connecter" }
                            }
                            None => {}
                        }
                    }
                }
                main #contenu tabindex="-1" {
                    @if let Some(Flash(message)) = &chrome.flash {
                        div.flash role="status" { (message) }
                    }
                    (body)
                }
                footer.site {
                    p {
                        "windledger — registre de gouvernance des parcs éoliens citoyens, chaîné et vérifiable. "
                        "Les pages publiques ne montrent aucune donnée personnelle."
                    }
                }
            }
        }
    }
}

/// An HTML response.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The hidden fields of every form: the CSRF token and a one-time id.
pub fn form_guard(session: &SessionView) -> Markup {
    let form_id = uuid::Uuid::new_v4().to_string();
    html! {
        input type="hidden" name=(CSRF_FIELD) value=(session.csrf);
        input type="hidden" name=(FORM_ID_FIELD) value=(form_id);
    }
}

/// An error page.
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    error_page_in(Chrome::new(title, (None, None)), status, text)
}

/// The 403 page: only a signed-in visitor is refused, so signing in is not offered.
pub fn refused_page(text: &str) -> Response {
    let mut chrome = Chrome::new("Accès refusé", (None, None));
    chrome.sign_in_link = false;
    error_page_in(chrome, StatusCode::FORBIDDEN, text)
}

fn error_page_in(chrome: Chrome<'_>, status: StatusCode, text: &str) -> Response {
    let body = html! {
        h1 { (chrome.title) }
        p { (text) }
        p { a href="/" { "Retour à l'accueil" } }
    };
    html_response(status, page(chrome, body))
}

/// `/style.css`.
pub async fn stylesheet() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    (headers, STYLE).into_response()
}

/// A file to download: its content, type and name.
pub fn download(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    name: &str,
) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
