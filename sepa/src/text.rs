//! Identifiers and texts as the EPC's SCT rules allow them.
//!
//! The ISO 20022 schemas accept any Unicode text, but the SEPA rulebooks
//! guarantee only the Latin character set of EPC217-08 (section 1.4):
//! `a-z A-Z 0-9 / - ? : ( ) . , ' +` and the space. Names and remittance
//! texts are transliterated into it ([`latin`]: "Héloïse Œstrem" becomes
//! "Heloise OEstrem"), so that no bank along the way rewrites or rejects
//! them; identifiers must be in it already ([`identifier`]).

use deunicode::deunicode_char;

/// Whether `c` is in the EPC's basic Latin set.
pub fn is_latin(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// `text` in the EPC's Latin set, at most `max` characters: letters
/// transliterated (accents dropped, ligatures spelt out), `&` written
/// `+`, white space and any other character outside the set a space; runs of spaces
/// folded and the ends trimmed. `None` when nothing is left.
pub fn latin(text: &str, max: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let spelt = if is_latin(c) {
            None
        } else if c.is_whitespace() || c.is_control() {
            Some(" ")
        } else if c == '&' {
            Some("+")
        } else {
            deunicode_char(c)
        };
        match spelt {
            None => push(&mut out, c),
            Some(s) => s
                .chars()
                .for_each(|c| push(&mut out, if is_latin(c) { c } else { ' ' })),
        }
    }
    let mut folded: String = out.trim().chars().take(max).collect();
    folded.truncate(folded.trim_end().len());
    (!folded.is_empty()).then_some(folded)
}

fn push(out: &mut String, c: char) {
    if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
        return;
    }
    out.push(c);
}

/// Whether `id` is a valid SEPA reference (a message, payment or
/// end-to-end id): 1 to 35 characters of the Latin set, no space, not
/// starting or ending with `/` and without `//` (EPC132-08, "Restricted
/// Character Set" of references).
pub fn identifier(id: &str) -> bool {
    (1..=35).contains(&id.len())
        && id.chars().all(|c| is_latin(c) && c != ' ')
        && !id.starts_with('/')
        && !id.ends_with('/')
        && !id.contains("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_ligatures_and_signs_are_spelt_in_the_latin_set() {
        assert_eq!(
            latin("Héloïse Œstrem & fils", 70).as_deref(),
            Some("Heloise OEstrem + fils")
        );
        assert_eq!(
            latin("SAS  Éole_Vent\tdu Nord", 70).as_deref(),
            Some("SAS Eole Vent du Nord")
        );
        assert_eq!(latin("Çà et là", 4).as_deref(), Some("Ca e"));
        assert_eq!(latin("Ça ", 3).as_deref(), Some("Ca"));
        assert_eq!(latin("   ", 70), None);
        assert_eq!(latin("™", 70).as_deref(), Some("tm"));
    }

    #[test]
    fn identifiers_follow_the_restricted_set() {
        assert!(identifier("DIV-2025-00042"));
        assert!(identifier(&"A".repeat(35)));
        assert!(!identifier(&"A".repeat(36)));
        assert!(!identifier(""));
        assert!(!identifier("DIV 2025"));
        assert!(!identifier("/DIV"));
        assert!(!identifier("DIV/"));
        assert!(!identifier("DIV//1"));
        assert!(!identifier("DIVé"));
    }
}
