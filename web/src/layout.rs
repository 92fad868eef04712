//! The shell of every page (header, navigation, messages, footer), the
//! style sheet, form fields with their labels and errors, and error pages.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

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

/// A message in French (the rules' English words stay in the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
}

impl Message {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

pub fn message(m: &Message) -> Markup {
    html! { (m.text) }
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

    /// A field as sent, trimmed (empty if absent).
    pub fn text(&self, name: &str) -> &str {
        self.values.get(name).map(|v| v.trim()).unwrap_or("")
    }

    /// Field `name` read by `parse`; if it does not read, `error` is said
    /// next to it.
    pub fn read<T>(
        &mut self,
        name: &str,
        error: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let read = parse(self.text(name));
        if read.is_none() {
            self.field_error(name, error);
        }
        read
    }

    /// [`FormState::read`], saying `missing` if the field is empty.
    pub fn read_required<T>(
        &mut self,
        name: &str,
        missing: &str,
        error: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let error = if self.text(name).is_empty() {
            missing
        } else {
            error
        };
        self.read(name, error, parse)
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
    grouped_select(
        view,
        (form, name, label),
        &[("", options)],
        default,
        required,
    )
}

/// A `<select>` whose options come in labelled groups (`<optgroup>`); a
/// group with an empty label is not wrapped.
pub fn grouped_select(
    view: FormView<'_>,
    (form, name, label): (&str, &str, &str),
    groups: &[(&str, &[(String, String)])],
    default: &str,
    required: bool,
) -> Markup {
    let id = field_id(form, name);
    let error_id = format!("{id}-erreur");
    let error = view.error(name);
    let current = view.value(name, default);
    let known = groups
        .iter()
        .flat_map(|(_, o)| o.iter())
        .any(|(v, _)| *v == current);
    let options = |options: &[(String, String)]| {
        html! { @for (value, text) in options { option value=(value) selected[*value == current] { (text) } } }
    };
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
            @else if current.is_empty() || !known {
                option value="" selected { "— Choisissez —" }
            }
            @for (group, list) in groups {
                @if group.is_empty() { (options(list)) }
                @else { optgroup label=(group) { (options(list)) } }
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

/// A data table written by hand (one with a footer, or whose columns are
/// known only at run time) in its box, made to fit as [`table`]'s do: on a
/// phone (`.cards` in the style sheet) each row becomes a card, each cell
/// a line after its column's header, which this writes into the cell's
/// `data-label`.
pub fn cards(table: Markup) -> Markup {
    html! { div.table.cards { (PreEscaped(labelled(&table.into_string()))) } }
}

/// `table` (maud's output) with each cell after the header row given the
/// text of its column's header as `data-label`. maud escapes `<`, `>` and
/// `"` in text and attributes, so every `<` opens a tag, every `>` closes
/// one, and a header's text without its tags is a valid attribute value.
fn labelled(table: &str) -> String {
    let Some((head, body)) = table.split_once("</thead>") else {
        return table.to_owned();
    };
    let headers: Vec<String> = head
        .split("<th")
        .skip(1)
        .filter(|cell| cell.starts_with([' ', '>']))
        .map(|cell| {
            let inner = cell.split_once('>').map_or("", |(_, rest)| rest);
            let inner = inner.split("</th>").next().unwrap_or("");
            without_tags(inner).trim().to_owned()
        })
        .collect();
    let mut out = String::with_capacity(table.len() + table.len() / 4);
    out.push_str(head);
    out.push_str("</thead>");
    let mut column = 0;
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let tag = rest.get(..3).unwrap_or("");
        let opens = matches!(rest.as_bytes().get(3), Some(b' ' | b'>'));
        if opens && tag == "<tr" {
            column = 0;
        } else if opens && (tag == "<td" || tag == "<th") {
            out.push_str(tag);
            if let Some(header) = headers.get(column).filter(|h| !h.is_empty()) {
                out.push_str(" data-label=\"");
                out.push_str(header);
                out.push('"');
            }
            column += colspan(&rest[..rest.find('>').unwrap_or(rest.len())]);
            rest = &rest[3..];
            continue;
        }
        out.push('<');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The columns a cell's opening tag spans.
fn colspan(tag: &str) -> usize {
    tag.split_once(" colspan=\"")
        .and_then(|(_, n)| n.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn without_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        rest = rest[at..].split_once('>').map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    text
}

/// A column of a data table: its header, and whether it holds figures
/// (aligned right).
pub enum Col {
    Text(&'static str),
    Num(&'static str),
}

/// A data table with its caption, its column headers and its rows: every
/// table of the pages has this shape, and fits as [`cards`] says.
pub fn table(caption: impl maud::Render, columns: &[Col], rows: Markup) -> Markup {
    cards(html! {
        table {
            caption { (caption) }
            thead { tr {
                @for column in columns {
                    @match column {
                        Col::Text(header) => th scope="col" { (header) },
                        Col::Num(header) => th.num scope="col" { (header) },
                    }
                }
            } }
            tbody { (rows) }
        }
    })
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

/// "Sur cette page": links to the page's sections, `(anchor, title)`.
pub fn contents(sections: &[(&str, &str)]) -> Markup {
    html! {
        nav aria-label="Sur cette page" {
            ul { @for (anchor, title) in sections { li { a href={ "#" (anchor) } { (title) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cell_is_labelled_with_its_columns_header_and_nothing_else_changes() {
        let rows = html! {
            tr { th scope="row" { "2024" } td.num { "1 200,00 €" } td { "a <td> & \"b\"" } }
            tr { td { "2025" } td.num { "—" } }
        };
        let columns = [
            Col::Text("Exercice"),
            Col::Num("Brut \"€\""),
            Col::Text("Versé"),
        ];
        assert_eq!(
            table("Légende", &columns, rows).into_string(),
            "<div class=\"table cards\"><table><caption>Légende</caption><thead><tr>\
             <th scope=\"col\">Exercice</th><th class=\"num\" scope=\"col\">Brut &quot;€&quot;</th>\
             <th scope=\"col\">Versé</th></tr></thead><tbody>\
             <tr><th data-label=\"Exercice\" scope=\"row\">2024</th>\
             <td data-label=\"Brut &quot;€&quot;\" class=\"num\">1 200,00 €</td>\
             <td data-label=\"Versé\">a &lt;td&gt; &amp; &quot;b&quot;</td></tr>\
             <tr><td data-label=\"Exercice\">2025</td><td data-label=\"Brut &quot;€&quot;\" class=\"num\">—</td></tr>\
             </tbody></table></div>"
        );
    }

    #[test]
    fn a_header_is_its_text_a_footer_is_labelled_and_a_spanning_cell_moves_on_as_far() {
        let markup = cards(html! {
            table {
                thead { tr { th { "Collège" } th { "n°" small { "1" } } th { "Total" } } }
                tfoot { tr { th colspan="2" { "Total" } td { "3" } } }
            }
        });
        assert_eq!(
            markup.into_string(),
            "<div class=\"table cards\"><table><thead><tr><th>Collège</th><th>n°<small>1</small></th>\
             <th>Total</th></tr></thead><tfoot><tr><th data-label=\"Collège\" colspan=\"2\">Total</th>\
             <td data-label=\"Total\">3</td></tr></tfoot></table></div>"
        );
    }
}
