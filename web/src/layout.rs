//! The shell of every page (header, navigation, messages, footer), the
//! style sheet, form fields with their labels and errors, and error pages.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::session::{CSRF_FIELD, FORM_ID_FIELD, Flash, SessionView};
use windledger_api::auth::Role;

/// The style sheet, served at `/style.css` (no outside font or script).
pub const STYLE: &str = r#"
:root { --ink: #1a1a1a; --muted: #4a4a4a; --paper: #ffffff; --line: #c8c8c8;
  --accent: #0b5394; --accent-dark: #073763; --ok: #1e6b2f; --ok-bg: #e6f4ea;
  --bad: #a01818; --bad-bg: #fdecea; --soft: #f3f5f7; }
* { box-sizing: border-box; }
html { font-size: 100%; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--paper); line-height: 1.5; }
a { color: var(--accent); }
a:hover { color: var(--accent-dark); }
:focus-visible { outline: 3px solid #e8a317; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.site { background: var(--accent-dark); color: #fff; padding: .75rem 1rem; }
header.site a { color: #fff; }
header.site .brand { font-weight: 700; text-decoration: none; margin-right: 1rem; }
header.site nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; margin-top: .25rem; }
header.site form { display: inline; margin: 0; }
header.site button { background: transparent; color: #fff; border: 1px solid #fff; padding: .2rem .6rem; }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; }
.lead { color: var(--muted); }
.table { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .hash { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
.hash { word-break: break-all; }
.flash { background: var(--ok-bg); color: var(--ok); border-left: 6px solid var(--ok); padding: .75rem 1rem; margin: 1rem 0; }
.errors { background: var(--bad-bg); color: var(--bad); border-left: 6px solid var(--bad); padding: .75rem 1rem; margin: 1rem 0; }
.errors h2 { font-size: 1.1rem; border: 0; margin: 0 0 .5rem; color: var(--bad); }
.field-error { color: var(--bad); font-weight: 600; display: block; }
.hint { color: var(--muted); font-size: .9rem; display: block; }
form.card, section.card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; background: #fff; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .75rem 0; padding: .5rem .75rem; }
legend { font-weight: 600; padding: 0 .25rem; }
label { display: block; font-weight: 600; margin-top: .75rem; }
fieldset.choices label { display: inline-block; font-weight: 400; margin: .25rem 1.25rem .25rem 0; }
input[type=text], input[type=password], input[type=date], input[type=month], input[type=datetime-local],
input[type=number], select, textarea { font: inherit; width: 100%; max-width: 28rem; padding: .45rem; border: 1px solid #767676; border-radius: 4px; background: #fff; color: var(--ink); }
input[aria-invalid=true], select[aria-invalid=true], textarea[aria-invalid=true] { border: 2px solid var(--bad); }
input[type=radio] { width: 1.2rem; height: 1.2rem; vertical-align: middle; }
textarea { max-width: 40rem; min-height: 5rem; }
button, .button { font: inherit; display: inline-block; margin-top: 1rem; padding: .55rem 1.1rem; border: 0; border-radius: 4px;
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { background: var(--accent-dark); color: #fff; }
form.card > button[type=submit] { display: block; }
.card > h2:first-child, .card > h3:first-child { margin-top: 0; }
dl { margin: .5rem 0 1rem; }
dt { font-weight: 600; }
dd { margin: 0 0 .5rem 0; }
button.secondary { background: #fff; color: var(--accent); border: 2px solid var(--accent); }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .85rem; font-weight: 600; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.neutral { background: var(--soft); color: var(--muted); }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
.stat strong { display: block; font-size: 1.4rem; }
figure { margin: 1rem 0; }
figure > svg { width: 100%; height: auto; max-width: 60rem; display: block; }
.legend svg { width: .9rem; height: .9rem; vertical-align: middle; border: 1px solid #333; }
figcaption { color: var(--muted); font-size: .9rem; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .9rem; }
details { margin: .5rem 0; }
summary { cursor: pointer; color: var(--accent); }
pre { white-space: pre-wrap; word-break: break-all; background: var(--soft); padding: .5rem; }
footer.site { border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem; padding: 1rem; text-align: center; }
@media (max-width: 40rem) { h1 { font-size: 1.35rem; } main { padding: .75rem; } th, td { padding: .3rem; } }
"#;

/// What the shell of a page shows besides its content.
pub struct Chrome<'a> {
    pub title: &'a str,
    /// The farm the page is about: (ledger id, name).
    pub farm: Option<(&'a str, &'a str)>,
    pub session: Option<&'a SessionView>,
    pub flash: Option<Flash>,
}

impl<'a> Chrome<'a> {
    pub fn new(title: &'a str) -> Self {
        Self {
            title,
            farm: None,
            session: None,
            flash: None,
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
    };
    match &session.principal.holder {
        Some(h) => format!("{role} ({h})"),
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
                            None => {
                                a href="/connexion" { "Se connecter" }
                            }
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

/// A message, with the rule's own words (in English) when it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub detail: Option<String>,
}

impl Message {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            detail: None,
        }
    }
}

pub fn message(m: &Message) -> Markup {
    html! {
        (m.text)
        @if let Some(detail) = &m.detail {
            " "
            small { "(détail : " span lang="en" { (detail) } ")" }
        }
    }
}

/// The errors of a form sent back, at the top of the page.
pub fn errors_box(title: &str, messages: &[Message]) -> Markup {
    html! {
        @if !messages.is_empty() {
            div.errors role="alert" tabindex="-1" #erreurs {
                h2 { (title) }
                ul {
                    @for m in messages { li { (message(m)) } }
                }
            }
        }
    }
}

/// A form sent back with errors: what was typed, and what is wrong with
/// it, field by field and as a whole.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// Which form of the page this is.
    pub form: &'static str,
    pub values: HashMap<String, String>,
    pub errors: HashMap<String, String>,
    pub top: Vec<Message>,
}

impl FormState {
    pub fn new(form: &'static str, values: HashMap<String, String>) -> Self {
        Self {
            form,
            values,
            ..Self::default()
        }
    }

    pub fn field_error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.insert(field.to_owned(), message.into());
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.top.is_empty()
    }

    /// Every message, the fields' ones first, for the box at the top.
    pub fn all_messages(&self, labels: &[(&str, &str)]) -> Vec<Message> {
        let mut out = Vec::new();
        for (name, label) in labels {
            if let Some(e) = self.errors.get(*name) {
                out.push(Message::new(format!("{label} : {e}")));
            }
        }
        for (name, e) in &self.errors {
            if !labels.iter().any(|(n, _)| n == name) {
                out.push(Message::new(e.clone()));
            }
        }
        out.extend(self.top.iter().cloned());
        out
    }
}

/// The state of form `form` on a page that has several: the one sent
/// back, or an empty one.
pub fn state_of<'a>(sent: Option<&'a FormState>, form: &'static str) -> FormView<'a> {
    FormView {
        state: sent.filter(|s| s.form == form),
    }
}

/// What a form's fields read: the values sent back, or their defaults.
#[derive(Clone, Copy)]
pub struct FormView<'a> {
    state: Option<&'a FormState>,
}

impl<'a> FormView<'a> {
    pub fn value(&self, name: &str, default: &str) -> String {
        self.state
            .and_then(|s| s.values.get(name))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    pub fn error(&self, name: &str) -> Option<&'a str> {
        self.state
            .and_then(|s| s.errors.get(name))
            .map(String::as_str)
    }
}

/// The hidden fields of every form: the CSRF token and a one-time id.
pub fn form_guard(session: &SessionView) -> Markup {
    let form_id = uuid::Uuid::new_v4().to_string();
    html! {
        input type="hidden" name=(CSRF_FIELD) value=(session.csrf);
        input type="hidden" name=(FORM_ID_FIELD) value=(form_id);
    }
}

/// A field's id: the form's name and the field's.
fn field_id(form: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{form}-{clean}")
}

/// One input with its label, hint and error.
pub struct Field<'a> {
    pub form: &'a str,
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: String,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub error: Option<&'a str>,
    pub inputmode: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(view: FormView<'a>, form: &'a str, name: &'a str, label: &'a str) -> Self {
        Self {
            form,
            name,
            label,
            kind: "text",
            value: view.value(name, ""),
            required: false,
            hint: None,
            error: view.error(name),
            inputmode: None,
        }
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn default_value(mut self, view: FormView<'a>, default: &str) -> Self {
        self.value = view.value(self.name, default);
        self
    }

    pub fn decimal(mut self) -> Self {
        self.inputmode = Some("decimal");
        self
    }

    pub fn render(&self) -> Markup {
        let id = field_id(self.form, self.name);
        let hint_id = format!("{id}-aide");
        let error_id = format!("{id}-erreur");
        let described = match (self.hint.is_some(), self.error.is_some()) {
            (true, true) => Some(format!("{hint_id} {error_id}")),
            (true, false) => Some(hint_id.clone()),
            (false, true) => Some(error_id.clone()),
            (false, false) => None,
        };
        html! {
            label for=(id) {
                (self.label)
                @if !self.required { " (facultatif)" }
            }
            @if let Some(h) = self.hint { span.hint id=(hint_id) { (h) } }
            @if let Some(e) = self.error { span.field-error id=(error_id) { (e) } }
            input type=(self.kind) id=(id) name=(self.name) value=(self.value)
                required[self.required]
                inputmode=[self.inputmode]
                aria-describedby=[described]
                aria-invalid=[self.error.map(|_| "true")];
        }
    }
}

/// A `<select>` with its label and error.
pub fn select(
    view: FormView<'_>,
    form: &str,
    name: &str,
    label: &str,
    options: &[(String, String)],
    default: &str,
    required: bool,
) -> Markup {
    let id = field_id(form, name);
    let error_id = format!("{id}-erreur");
    let error = view.error(name);
    let current = view.value(name, default);
    html! {
        label for=(id) {
            (label)
            @if !required { " (facultatif)" }
        }
        @if let Some(e) = error { span.field-error id=(error_id) { (e) } }
        select id=(id) name=(name) required[required]
            aria-describedby=[error.map(|_| error_id.clone())]
            aria-invalid=[error.map(|_| "true")] {
            @if !required { option value="" selected[current.is_empty()] { "—" } }
            @else if current.is_empty() || !options.iter().any(|(v, _)| *v == current) {
                option value="" selected { "— Choisissez —" }
            }
            @for (value, text) in options {
                option value=(value) selected[*value == current] { (text) }
            }
        }
    }
}

/// A `<textarea>` with its label, hint and error.
pub fn textarea(
    view: FormView<'_>,
    form: &str,
    name: &str,
    label: &str,
    hint: Option<&str>,
) -> Markup {
    let id = field_id(form, name);
    let error = view.error(name);
    html! {
        label for=(id) { (label) " (facultatif)" }
        @if let Some(h) = hint { span.hint id={ (id) "-aide" } { (h) } }
        @if let Some(e) = error { span.field-error id={ (id) "-erreur" } { (e) } }
        textarea id=(id) name=(name) aria-describedby=[hint.map(|_| format!("{id}-aide"))]
            aria-invalid=[error.map(|_| "true")] { (view.value(name, "")) }
    }
}

/// An error page.
pub fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p { (text) }
        p { a href="/" { "Retour à l'accueil" } }
    };
    html_response(status, page(Chrome::new(title), body))
}

/// `/style.css`.
pub async fn stylesheet() -> Response {
    let mut response = STYLE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
