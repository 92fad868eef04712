//! What the vault keeps about a person (natural or legal), each value
//! parsed once where it enters (`serde`'s `try_from` goes through the same
//! checks) and the whole checked against the server's date by
//! [`Person::check`].

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use windledger_domain::input::{YEARS, line};
use windledger_domain::types::Siren;

/// Why a value of a person's data is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PersonError {
    #[error(
        "{value:?} is not an IBAN: expected 2 letters (the country), 2 check digits and up to 30 letters or digits, with a valid mod-97 check"
    )]
    Iban { value: String },
    #[error(
        "{value:?} is not a BIC: expected 8 or 11 letters or digits (4 letters for the bank, 2 for the country, 2 for the place, then optionally 3 for the branch)"
    )]
    Bic { value: String },
    #[error(
        "{value:?} is not an e-mail address: expected one '@' between a name and a domain with a dot, no spaces, at most 254 characters"
    )]
    Email { value: String },
    #[error("{value:?} is not a country code: expected 2 capital letters (ISO 3166-1, e.g. FR)")]
    Country { value: String },
}

/// Why a person's data, whole, is refused: every problem found, in the
/// order of the fields.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", .problems.join("; "))]
pub struct InvalidPerson {
    pub problems: Vec<String>,
}

/// Most characters of one line of text (a name, an address line).
pub const MAX_LINE: usize = 200;
/// Most lines of a postal address before the postal code and city.
pub const MAX_ADDRESS_LINES: usize = 4;
/// Most statements kept for one person.
pub const MAX_STATEMENTS: usize = 100;
/// The earliest birth date accepted.
pub const EARLIEST_BIRTH: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");

/// The personal data of one person. Deserialising checks each value's
/// shape; [`Person::check`] checks the whole against today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub identity: Identity,
    pub address: PostalAddress,
    pub email: Option<Email>,
    /// Résidence fiscale: decides withholding on dividends.
    pub tax_residence: CountryCode,
    /// Where dividends and reimbursements are paid.
    pub bank_account: Option<BankAccount>,
    #[serde(default)]
    pub consents: Consents,
    #[serde(default)]
    pub statements: Vec<Statement>,
}

/// Personne physique or personne morale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "person", rename_all = "snake_case", deny_unknown_fields)]
pub enum Identity {
    /// Personne physique.
    Natural {
        family_name: String,
        given_names: String,
        /// Date et lieu de naissance, where the law asks for them.
        birth: Option<Birth>,
    },
    /// Personne morale: a company, an association, a local authority.
    Legal {
        /// Dénomination.
        name: String,
        /// Forme juridique as registered ("SAS", "association loi 1901",
        /// "commune"...): legal persons holding shares take more forms than
        /// the company's own.
        legal_form: String,
        /// None for a legal person with no SIREN (a foreign company, an
        /// association never registered with INSEE).
        siren: Option<Siren>,
        /// Représentant légal: who acts for it.
        representative: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Birth {
    pub date: NaiveDate,
    /// Commune (and country, if abroad) of birth.
    pub place: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// Street, building, "lieu-dit": 1 to 4 lines.
    pub lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
    pub country: CountryCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BankAccount {
    pub iban: Iban,
    pub bic: Bic,
}

/// What the person agreed to, with dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Consents {
    /// Convocation électronique (Code de commerce R225-63): the holder
    /// agreed to be convened by e-mail rather than by post.
    pub electronic_convocation: Option<Consent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub given_on: NaiveDate,
    /// None while the consent stands.
    pub withdrawn_on: Option<NaiveDate>,
}

impl Consent {
    /// Whether the consent stands on `date`.
    pub fn stands_on(&self, date: NaiveDate) -> bool {
        self.given_on <= date && self.withdrawn_on.is_none_or(|w| date < w)
    }
}

/// A statement the person handed in, kept with its date and the year it is
/// for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub kind: StatementKind,
    /// The date the person signed it.
    pub dated: NaiveDate,
    /// The year it is for (the income year of a withholding exemption).
    pub year: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// Demande de dispense du prélèvement forfaitaire non libératoire (CGI
    /// art. 242 quater): income below the threshold, made by 30 November of
    /// the year before.
    WithholdingExemption,
    /// Attestation de résidence fiscale (a holder taxed abroad).
    TaxResidenceCertificate,
    /// An investment club's request that the company withhold, for its
    /// members (individuals resident in France), as for one of them: for
    /// payments from 1 January of `year` on (docs/payments.md).
    MembersWithholding,
}

impl Person {
    /// Every problem of the whole against `today` (the server's date): the
    /// text fields are single lines of at most [`MAX_LINE`] characters, a
    /// name is not blank, birth is from 1900 and not after today, a consent
    /// is given on or before today and withdrawn on or after it was given,
    /// a statement is dated on or before today and is for its date's year,
    /// the year before or the year after.
    pub fn check(&self, today: NaiveDate) -> Result<(), InvalidPerson> {
        let mut problems = Vec::new();
        match &self.identity {
            Identity::Natural {
                family_name,
                given_names,
                birth,
            } => {
                check_line(&mut problems, "identity.family_name", family_name, true);
                check_line(&mut problems, "identity.given_names", given_names, true);
                if let Some(birth) = birth {
                    check_line(&mut problems, "identity.birth.place", &birth.place, true);
                }
            }
            Identity::Legal {
                name,
                legal_form,
                representative,
                ..
            } => {
                check_line(&mut problems, "identity.name", name, true);
                check_line(&mut problems, "identity.legal_form", legal_form, true);
                check_line(
                    &mut problems,
                    "identity.representative",
                    representative,
                    true,
                );
            }
        }
        if self.address.lines.is_empty() || self.address.lines.len() > MAX_ADDRESS_LINES {
            problems.push(format!(
                "address.lines has {} lines: give 1 to {MAX_ADDRESS_LINES}",
                self.address.lines.len()
            ));
        }
        for (i, l) in self.address.lines.iter().enumerate() {
            check_line(&mut problems, &format!("address.lines[{i}]"), l, true);
        }
        check_line(
            &mut problems,
            "address.postal_code",
            &self.address.postal_code,
            false,
        );
        check_line(&mut problems, "address.city", &self.address.city, true);

        if let Identity::Natural {
            birth: Some(birth), ..
        } = &self.identity
            && !(EARLIEST_BIRTH..=today).contains(&birth.date)
        {
            problems.push(format!(
                "identity.birth.date {} is not between {EARLIEST_BIRTH} and today ({today})",
                birth.date
            ));
        }
        if let Some(c) = &self.consents.electronic_convocation {
            if c.given_on > today {
                problems.push(format!(
                    "consents.electronic_convocation.given_on {} is after today ({today})",
                    c.given_on
                ));
            }
            if let Some(w) = c.withdrawn_on {
                if w < c.given_on {
                    problems.push(format!(
                        "consents.electronic_convocation.withdrawn_on {w} is before the consent was given ({})",
                        c.given_on
                    ));
                } else if w > today {
                    problems.push(format!(
                        "consents.electronic_convocation.withdrawn_on {w} is after today ({today})"
                    ));
                }
            }
        }
        if self.statements.len() > MAX_STATEMENTS {
            problems.push(format!(
                "statements lists {} statements: at most {MAX_STATEMENTS} are kept",
                self.statements.len()
            ));
        }
        for (i, s) in self.statements.iter().enumerate() {
            if s.dated > today || !YEARS.contains(&s.dated.year()) {
                problems.push(format!(
                    "statements[{i}].dated {} is not a date on or before today ({today})",
                    s.dated
                ));
            } else if (i64::from(s.year) - i64::from(s.dated.year())).abs() > 1 {
                problems.push(format!(
                    "statements[{i}].year {} is not the year of its date ({}), the year before or the year after",
                    s.year,
                    s.dated.year()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidPerson { problems })
        }
    }

    /// The name to show: family name and given names, or the legal name.
    pub fn display_name(&self) -> String {
        match &self.identity {
            Identity::Natural {
                family_name,
                given_names,
                ..
            } => format!("{family_name} {given_names}"),
            Identity::Legal { name, .. } => name.clone(),
        }
    }
}

/// One line of text: no control character, at most [`MAX_LINE`]
/// characters, not blank if `required`.
fn check_line(problems: &mut Vec<String>, what: &str, value: &str, required: bool) {
    if let Err(e) = line(what, value) {
        problems.push(e.to_string());
    } else if value.chars().count() > MAX_LINE {
        problems.push(format!("{what} is longer than {MAX_LINE} characters"));
    } else if required && value.trim().is_empty() {
        problems.push(format!("{what} must not be empty"));
    }
}

/// A newtype over text checked by `$check`, which returns the value kept
/// (normalised) or the error.
macro_rules! checked_text {
    ($(#[$meta:meta])* $name:ident, $pattern:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(
            feature = "json-schema",
            derive(schemars::JsonSchema),
            schemars(extend("pattern" = $pattern))
        )]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, PersonError> {
                $check(value.into()).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = PersonError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_text!(
    /// International Bank Account Number, kept without spaces, in capitals.
    Iban,
    "^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,40}$",
    iban
);
checked_text!(
    /// Bank Identifier Code (ISO 9362), in capitals.
    Bic,
    "^[A-Za-z0-9]{8}([A-Za-z0-9]{3})?$",
    bic
);
checked_text!(
    /// An e-mail address as given (its shape only is checked).
    Email,
    "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
    email
);
checked_text!(
    /// ISO 3166-1 alpha-2 country code.
    CountryCode,
    "^[A-Z]{2}$",
    country
);

/// Spaces removed, capitals; then the ISO 13616 check: the first four
/// characters moved to the end, letters as 10..35, the number mod 97 is 1.
fn iban(value: String) -> Result<String, PersonError> {
    let normal: String = value
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = normal.as_bytes();
    let shaped = (15..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric);
    let remainder = || {
        bytes[4..]
            .iter()
            .chain(&bytes[..4])
            .fold(0u32, |r, &b| match b {
                b'0'..=b'9' => (r * 10 + u32::from(b - b'0')) % 97,
                _ => (r * 100 + u32::from(b - b'A') + 10) % 97,
            })
    };
    if shaped && remainder() == 1 {
        Ok(normal)
    } else {
        Err(PersonError::Iban { value })
    }
}

fn bic(value: String) -> Result<String, PersonError> {
    let normal = value.to_ascii_uppercase();
    let b = normal.as_bytes();
    let valid = matches!(b.len(), 8 | 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(u8::is_ascii_alphanumeric);
    if valid {
        Ok(normal)
    } else {
        Err(PersonError::Bic { value })
    }
}

fn email(value: String) -> Result<String, PersonError> {
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain
                        .split('.')
                        .all(|label| !label.is_empty() && !label.starts_with('-'))
            }
            None => false,
        };
    if valid {
        Ok(value)
    } else {
        Err(PersonError::Email { value })
    }
}

fn country(value: String) -> Result<String, PersonError> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(PersonError::Country { value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("a test date")
    }

    fn person() -> Person {
        serde_json::from_value(serde_json::json!({
            "identity": {"person": "natural", "family_name": "Martin", "given_names": "Anne",
                         "birth": {"date": "1970-05-01", "place": "Redon (35)"}},
            "address": {"lines": ["3 rue des Ailes"], "postal_code": "44460",
                        "city": "Avessac", "country": "FR"},
            "email": "anne.martin@example.org",
            "tax_residence": "FR",
            "bank_account": {"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "agrifrpp"},
            "consents": {"electronic_convocation": {"given_on": "2024-01-10", "withdrawn_on": null}},
            "statements": [{"kind": "withholding_exemption", "dated": "2024-11-02", "year": 2025}]
        }))
        .expect("a valid person")
    }

    #[test]
    fn a_valid_person_is_read_normalised_and_passes_the_check() {
        let p = person();
        assert_eq!(
            p.bank_account.as_ref().map(|b| b.iban.as_str()),
            Some("FR7630006000011234567890189")
        );
        assert_eq!(
            p.bank_account.as_ref().map(|b| b.bic.as_str()),
            Some("AGRIFRPP")
        );
        assert_eq!(p.check(date("2025-01-01")), Ok(()));
        assert_eq!(p.display_name(), "Martin Anne");
    }

    #[test]
    fn a_statement_for_a_year_at_the_bounds_of_the_integers_is_refused_not_a_panic() {
        for year in [i32::MIN, i32::MAX] {
            let mut p = person();
            p.statements[0].year = year;
            let e = p.check(date("2025-01-01")).unwrap_err();
            assert!(
                e.problems
                    .iter()
                    .any(|m| m.contains("is not the year of its date")),
                "{e:?}"
            );
        }
    }

    #[test]
    fn an_iban_with_a_wrong_check_digit_is_refused_with_a_sentence() {
        let e = Iban::new("FR7630006000011234567890188").unwrap_err();
        assert!(e.to_string().contains("mod-97"), "{e}");
        assert!(Iban::new("GB82 WEST 1234 5698 7654 32").is_ok());
        assert!(Iban::new("GB82WEST12345698765433").is_err());
        assert!(Iban::new("FR76").is_err());
        assert!(Iban::new("FR76300060000112345678901é9").is_err());
    }

    #[test]
    fn bic_email_country_and_siren_shapes() {
        assert!(Bic::new("DEUTDEFF500").is_ok());
        assert!(Bic::new("DEUTDEF").is_err());
        assert!(Bic::new("1EUTDEFF").is_err());
        assert!(Email::new("a@b.fr").is_ok());
        for bad in ["a.b.fr", "a@b", "a @b.fr", "@b.fr", "a@b@c.fr", "a@.fr"] {
            assert!(Email::new(bad).is_err(), "{bad}");
        }
        assert!(CountryCode::new("fr").is_err());
        assert!(CountryCode::new("FRA").is_err());
        let mut p = person();
        p.identity = Identity::Legal {
            name: "Commune d'Avessac".into(),
            legal_form: "commune".into(),
            siren: Some(Siren::new("214400061").expect("a valid SIREN")),
            representative: "Le maire".into(),
        };
        assert_eq!(p.check(date("2025-01-01")), Ok(()));
        let json = serde_json::to_value(&p)
            .expect("serialises")
            .to_string()
            .replace("214400061", "214400062");
        let e = serde_json::from_str::<Person>(&json).unwrap_err();
        assert!(e.to_string().contains("SIREN"), "{e}");
    }

    #[test]
    fn dates_and_text_are_checked_against_today_and_every_problem_is_reported() {
        let mut p = person();
        p.consents.electronic_convocation = Some(Consent {
            given_on: date("2024-01-10"),
            withdrawn_on: Some(date("2023-01-01")),
        });
        p.statements[0].year = 2030;
        p.address.city = " ".into();
        if let Identity::Natural { family_name, .. } = &mut p.identity {
            *family_name = "Mar\u{202E}tin".into();
        }
        let e = p.check(date("2025-01-01")).unwrap_err();
        assert_eq!(e.problems.len(), 4, "{e}");
        assert!(e.problems[0].contains("identity.family_name"), "{e}");
        assert!(
            e.problems[1].contains("address.city must not be empty"),
            "{e}"
        );
        assert!(
            e.problems[2].contains("withdrawn_on 2023-01-01 is before"),
            "{e}"
        );
        assert!(e.problems[3].contains("statements[0].year 2030"), "{e}");
        let e = person().check(date("1969-12-31")).unwrap_err();
        assert!(
            e.to_string().contains("identity.birth.date 1970-05-01"),
            "{e}"
        );
    }

    #[test]
    fn a_consent_stands_from_its_date_until_withdrawn() {
        let c = Consent {
            given_on: date("2024-01-10"),
            withdrawn_on: Some(date("2024-06-01")),
        };
        assert!(!c.stands_on(date("2024-01-09")));
        assert!(c.stands_on(date("2024-05-31")));
        assert!(!c.stands_on(date("2024-06-01")));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v = serde_json::to_value(person()).expect("serialises");
        v["nickname"] = "Nanou".into();
        assert!(serde_json::from_value::<Person>(v).is_err());
    }
}
