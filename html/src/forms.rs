//! Forms: what was sent and what is wrong with it, field by field, and the
//! fields that show it (label, hint, error, the `aria-` attributes that tie
//! them), in French.

use std::collections::HashMap;

use maud::{Markup, html};

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

    /// Field `name`, which may be left empty (`Some(None)`), else read by
    /// `parse`; if it does not read, `error` is said next to it.
    pub fn read_optional<T>(
        &mut self,
        name: &str,
        error: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<Option<T>> {
        self.read(name, error, |v| match v {
            "" => Some(None),
            v => parse(v).map(Some),
        })
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

/// Every message of the form sent back, if one was, the fields' first
/// (see [`FormState::all_messages`]): what the box at the top shows.
pub fn messages_of(sent: Option<&FormState>, labels: &[(&str, &str)]) -> Vec<Message> {
    sent.map(|s| s.all_messages(labels)).unwrap_or_default()
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

    /// Whether this form was sent back (its values, not the defaults).
    pub fn sent(&self) -> bool {
        self.state.is_some()
    }

    pub fn error(&self, name: &str) -> Option<&'a str> {
        self.state
            .and_then(|s| s.errors.get(name))
            .map(String::as_str)
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
    /// Required when a choice elsewhere in the form asks for it (said in
    /// its fieldset's legend): neither `required` nor "(facultatif)".
    pub required_by_choice: bool,
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
            required_by_choice: false,
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

    pub fn required_by_choice(mut self) -> Self {
        self.required_by_choice = true;
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
                @if !self.required && !self.required_by_choice { " (facultatif)" }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_field_left_empty_reads_as_none_and_one_that_does_not_read_is_an_error() {
        let values = [("a", " "), ("b", "12"), ("c", "x")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let mut state = FormState::new("f", values);
        let number = |v: &str| v.parse::<u32>().ok();
        assert_eq!(state.read_optional("a", "?", number), Some(None));
        assert_eq!(state.read_optional("b", "?", number), Some(Some(12)));
        assert_eq!(state.read_optional("absent", "?", number), Some(None));
        assert!(!state.has_errors());
        assert_eq!(state.read_optional("c", "Un nombre.", number), None);
        assert_eq!(
            state.errors.get("c").map(String::as_str),
            Some("Un nombre.")
        );
    }
}
