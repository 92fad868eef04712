//! What an anonymous visitor may not read: the ids of holders. The public
//! routes and pages show the farm, its decisions and its figures, never who
//! holds what or who voted (a pseudonymous id is personal data once anyone
//! can link it to a person). One redaction serves both: the API applies
//! [`Names::json`] to every anonymous JSON answer, the pages apply
//! [`Names::text`] to every text they show anonymously.

use std::collections::HashSet;

use serde_json::Value;
use windledger_domain::resolution::ResolutionPurpose;
use windledger_projections::runner::Projections;

/// What a holder id inside a text is replaced with.
pub const PLACEHOLDER: &str = "[associé]";

/// What a value that is a holder id is replaced with: a value of the ids'
/// own format (`^[A-Za-z0-9._-]{1,64}$`), so that an answer keeps its
/// schema.
pub const ID_PLACEHOLDER: &str = "anonyme";

/// The ids of everyone the ledger names: holders (past and present),
/// members of boards and committees, transferees an agenda names (who may
/// never have become holders), lenders of current-account advances.
#[derive(Debug, Clone, Default)]
pub struct Names(HashSet<String>);

impl Names {
    /// Every id the projections know of.
    pub fn of(p: &Projections) -> Self {
        let mut ids: HashSet<String> = p
            .cap_table
            .fold()
            .holders()
            .map(|(id, _)| id.to_string())
            .collect();
        for (_, m) in p.register.fold().meetings() {
            ids.extend(m.convocation.members.iter().map(|c| c.member.to_string()));
            for item in &m.convocation.agenda {
                if let ResolutionPurpose::TransferApproval { transferee, .. } = &item.purpose {
                    ids.insert(transferee.to_string());
                }
                if let Some(holder) = item.purpose.terms().and_then(|t| t.holder.as_ref()) {
                    ids.insert(holder.to_string());
                }
            }
            if let Some(roll) = &m.roll {
                ids.extend(roll.roll.voters.iter().map(|v| v.holder.to_string()));
            }
        }
        for (_, advance) in p.finance.fold().advances() {
            ids.insert(advance.holder.to_string());
        }
        Self(ids)
    }

    /// These ids.
    pub fn from_ids(ids: impl IntoIterator<Item = String>) -> Self {
        Self(ids.into_iter().collect())
    }

    /// Whether `word` is a known id.
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }

    /// `text` with every known id, as a whole word, replaced by
    /// [`PLACEHOLDER`]. A word is a run of ASCII letters, digits, `-`, `_`
    /// and `.`, less its trailing dots (which end sentences): `cit-121.` is
    /// redacted, `cit-1210` is not.
    pub fn text(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let is_id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let mut out = String::with_capacity(text.len());
        let mut start = None;
        let flush = |word: &str, out: &mut String| {
            let trimmed = word.trim_end_matches('.');
            if !trimmed.is_empty() && self.0.contains(trimmed) {
                out.push_str(PLACEHOLDER);
                out.push_str(&word[trimmed.len()..]);
            } else {
                out.push_str(word);
            }
        };
        for (i, c) in text.char_indices() {
            match (is_id_char(c), start) {
                (true, None) => start = Some(i),
                (true, Some(_)) => {}
                (false, Some(s)) => {
                    flush(&text[s..i], &mut out);
                    start = None;
                    out.push(c);
                }
                (false, None) => out.push(c),
            }
        }
        if let Some(s) = start {
            flush(&text[s..], &mut out);
        }
        out
    }

    /// Every string in `value` (at any depth): one that is a known id
    /// becomes [`ID_PLACEHOLDER`], any other goes through [`Names::text`].
    /// Object keys are left as they are: no public answer keys anything by
    /// holder.
    pub fn json(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if self.0.contains(s.as_str()) {
                    *s = ID_PLACEHOLDER.to_owned();
                    return;
                }
                let redacted = self.text(s);
                if redacted != *s {
                    *s = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(fields) => fields.values_mut().for_each(|v| self.json(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        Names::from_ids(["cit-121".to_owned(), "ccmp".to_owned()])
    }

    #[test]
    fn holder_ids_are_redacted_from_texts_as_whole_words() {
        let names = names();
        assert_eq!(
            names.text("Agrément de l'associé cit-121"),
            "Agrément de l'associé [associé]"
        );
        assert_eq!(names.text("Vote de ccmp."), "Vote de [associé].");
        assert_eq!(names.text("ccmp"), "[associé]");
        assert_eq!(
            names.text("cit-1210 et accmp restent, é cit-121…"),
            "cit-1210 et accmp restent, é [associé]…"
        );
        assert_eq!(Names::default().text("cit-121"), "cit-121");
    }

    #[test]
    fn every_string_of_an_answer_is_redacted_and_nothing_else() {
        let mut answer = json!([{
            "meeting": "age-2024",
            "agenda": [{"purpose": {"purpose": "transfer_approval", "transferee": "cit-121"},
                        "text": "Agrément de l'associé cit-121"}],
            "count": 121,
            "ccmp": true,
        }]);
        names().json(&mut answer);
        assert_eq!(
            answer,
            json!([{
                "meeting": "age-2024",
                "agenda": [{"purpose": {"purpose": "transfer_approval", "transferee": "anonyme"},
                            "text": "Agrément de l'associé [associé]"}],
                "count": 121,
                "ccmp": true,
            }])
        );
    }
}
