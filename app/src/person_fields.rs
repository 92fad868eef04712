//! A person's data read from named text fields, each field's problem said
//! apart: one reader for the identity CSV file (its columns) and for the
//! pages' forms (their fields), which say the problems in their own words.
//! The consents and statements are the caller's: a file dates a consent, a
//! form ticks a box.

use chrono::NaiveDate;
use windledger_domain::input::line;
use windledger_domain::types::Siren;
use windledger_vault::person::{EARLIEST_BIRTH, MAX_LINE};
use windledger_vault::{
    BankAccount, Bic, Birth, CountryCode, Email, Iban, Identity, Person, PostalAddress,
};

/// The fields of a person, in the order a form shows them.
pub const FIELDS: [&str; 17] = [
    "family_name",
    "given_names",
    "birth_date",
    "birth_place",
    "legal_name",
    "legal_form",
    "siren",
    "representative",
    "address_line_1",
    "address_line_2",
    "postal_code",
    "city",
    "country",
    "email",
    "tax_residence",
    "iban",
    "bic",
];

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Missing,
    /// Longer than [`MAX_LINE`] characters, or a control or bidirectional
    /// formatting character.
    NotOneLine,
    NotADate,
    BirthOutOfRange,
    /// A birth place without its date, or the other way round.
    BirthHalfGiven,
    Siren,
    Country,
    Email,
    Iban,
    Bic,
    /// An IBAN without its BIC, or the other way round.
    BankHalfGiven,
    /// The whole refused by [`Person::check`] (its English words).
    Whole(String),
}

impl Problem {
    /// The problem in English, for the CSV file's report.
    pub fn english(&self) -> String {
        match self {
            Problem::Missing => "is empty".into(),
            Problem::NotOneLine => format!(
                "is not one line of at most {MAX_LINE} characters without control or bidirectional formatting characters"
            ),
            Problem::NotADate => "is not a date (YYYY-MM-DD)".into(),
            Problem::BirthOutOfRange => format!("is not between {EARLIEST_BIRTH} and today"),
            Problem::BirthHalfGiven => "needs both the birth date and the birth place".into(),
            Problem::Siren => "is not a SIREN (9 digits)".into(),
            Problem::Country => "is not a country code (2 capital letters, e.g. FR)".into(),
            Problem::Email => "is not an e-mail address".into(),
            Problem::Iban => "is not an IBAN (country, check digits, account; mod-97)".into(),
            Problem::Bic => "is not a BIC (8 or 11 letters or digits)".into(),
            Problem::BankHalfGiven => "needs both the IBAN and the BIC".into(),
            Problem::Whole(detail) => detail.clone(),
        }
    }
}

/// One field's problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub problem: Problem,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.problem.english())
    }
}

/// The fields' reader: `cell` gives a field's text, trimmed, `None` when
/// empty; problems gather as it reads.
struct Reader<'c, C> {
    cell: &'c C,
    errors: Vec<FieldError>,
}

impl<'c, C: Fn(&str) -> Option<String>> Reader<'c, C> {
    fn fail<T>(&mut self, field: &'static str, problem: Problem) -> Option<T> {
        self.errors.push(FieldError { field, problem });
        None
    }

    /// An optional line: `Some(None)` when empty.
    fn line(&mut self, field: &'static str) -> Option<Option<String>> {
        match (self.cell)(field) {
            None => Some(None),
            // The vault's own rule for a line: no control character and no
            // bidirectional formatting (U+202E...), at most MAX_LINE.
            Some(t) if t.chars().count() > MAX_LINE || line(field, &t).is_err() => {
                self.fail(field, Problem::NotOneLine)
            }
            Some(t) => Some(Some(t)),
        }
    }

    fn required(&mut self, field: &'static str) -> Option<String> {
        match self.line(field)? {
            Some(t) => Some(t),
            None => self.fail(field, Problem::Missing),
        }
    }

    /// An optional coded value read by `parse`.
    fn coded<T>(
        &mut self,
        field: &'static str,
        problem: Problem,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<Option<T>> {
        match (self.cell)(field) {
            None => Some(None),
            Some(t) => match parse(&t) {
                Some(v) => Some(Some(v)),
                None => self.fail(field, problem),
            },
        }
    }

    fn country(&mut self, field: &'static str) -> Option<CountryCode> {
        match self.coded(field, Problem::Country, |v| CountryCode::new(v).ok())? {
            Some(c) => Some(c),
            None => self.fail(field, Problem::Missing),
        }
    }

    fn natural(&mut self, today: NaiveDate) -> Option<Identity> {
        let family_name = self.required("family_name");
        let given_names = self.required("given_names");
        let date = match self.coded("birth_date", Problem::NotADate, date)? {
            Some(d) if !(EARLIEST_BIRTH..=today).contains(&d) => {
                return self.fail("birth_date", Problem::BirthOutOfRange);
            }
            d => d,
        };
        let birth = match (date, self.line("birth_place")?) {
            (None, None) => None,
            (Some(date), Some(place)) => Some(Birth { date, place }),
            (None, Some(_)) => return self.fail("birth_date", Problem::BirthHalfGiven),
            (Some(_), None) => return self.fail("birth_place", Problem::BirthHalfGiven),
        };
        Some(Identity::Natural {
            family_name: family_name?,
            given_names: given_names?,
            birth,
        })
    }

    fn legal(&mut self) -> Option<Identity> {
        let name = self.required("legal_name");
        let legal_form = self.required("legal_form");
        let siren = self.coded("siren", Problem::Siren, |v| {
            Siren::new(v.replace(' ', "")).ok()
        });
        let representative = self.required("representative");
        Some(Identity::Legal {
            name: name?,
            legal_form: legal_form?,
            siren: siren?,
            representative: representative?,
        })
    }

    fn bank_account(&mut self) -> Option<Option<BankAccount>> {
        let iban = self.coded("iban", Problem::Iban, |v| Iban::new(v).ok())?;
        let bic = self.coded("bic", Problem::Bic, |v| Bic::new(v).ok())?;
        match (iban, bic) {
            (None, None) => Some(None),
            (Some(iban), Some(bic)) => Some(Some(BankAccount { iban, bic })),
            (Some(_), None) => self.fail("bic", Problem::BankHalfGiven),
            (None, Some(_)) => self.fail("iban", Problem::BankHalfGiven),
        }
    }
}

/// A date as the fields write it (YYYY-MM-DD).
pub fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A person (a natural person's identity if `natural`, else a legal
/// person's) from the fields `cell` gives (trimmed text, `None` when
/// empty), without consents or statements; or every field's problem.
pub fn read(
    cell: impl Fn(&str) -> Option<String>,
    natural: bool,
    today: NaiveDate,
) -> Result<Person, Vec<FieldError>> {
    let mut r = Reader {
        cell: &cell,
        errors: Vec::new(),
    };
    let identity = if natural { r.natural(today) } else { r.legal() };
    let first = r.required("address_line_1");
    let second = r.line("address_line_2");
    let postal_code = r.line("postal_code");
    let city = r.required("city");
    let country = r.country("country");
    let email = r.coded("email", Problem::Email, |v| Email::new(v).ok());
    let tax_residence = r.country("tax_residence");
    let bank_account = r.bank_account();
    let read = (|| {
        Some(Person {
            identity: identity?,
            address: PostalAddress {
                lines: [first?].into_iter().chain(second?).collect(),
                postal_code: postal_code?.unwrap_or_default(),
                city: city?,
                country: country?,
            },
            email: email?,
            tax_residence: tax_residence?,
            bank_account: bank_account?,
            consents: Default::default(),
            statements: Vec::new(),
        })
    })();
    match read {
        Some(person) if r.errors.is_empty() => match person.check(today) {
            Ok(()) => Ok(person),
            Err(e) => Err(vec![FieldError {
                field: "person",
                problem: Problem::Whole(e.to_string()),
            }]),
        },
        _ => Err(r.errors),
    }
}

/// A field's value in `person`, as the fields write it (the inverse of
/// [`read`]; the address's lines after the first joined on one).
pub fn value(p: &Person, field: &str) -> String {
    let lines = &p.address.lines;
    match (&p.identity, field) {
        (Identity::Natural { family_name, .. }, "family_name") => family_name.clone(),
        (Identity::Natural { given_names, .. }, "given_names") => given_names.clone(),
        (Identity::Natural { birth: Some(b), .. }, "birth_date") => b.date.to_string(),
        (Identity::Natural { birth: Some(b), .. }, "birth_place") => b.place.clone(),
        (Identity::Legal { name, .. }, "legal_name") => name.clone(),
        (Identity::Legal { legal_form, .. }, "legal_form") => legal_form.clone(),
        (Identity::Legal { siren: Some(s), .. }, "siren") => s.to_string(),
        (Identity::Legal { representative, .. }, "representative") => representative.clone(),
        (_, "address_line_1") => lines.first().cloned().unwrap_or_default(),
        (_, "address_line_2") => lines.get(1..).map(|l| l.join(", ")).unwrap_or_default(),
        (_, "postal_code") => p.address.postal_code.clone(),
        (_, "city") => p.address.city.clone(),
        (_, "country") => p.address.country.to_string(),
        (_, "email") => p.email.as_ref().map(Email::to_string).unwrap_or_default(),
        (_, "tax_residence") => p.tax_residence.to_string(),
        (_, "iban") => (p.bank_account.as_ref()).map_or(String::new(), |b| b.iban.to_string()),
        (_, "bic") => (p.bank_account.as_ref()).map_or(String::new(), |b| b.bic.to_string()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date")
    }

    fn read_from(fields: &[(&str, &str)], natural: bool) -> Result<Person, Vec<FieldError>> {
        let map: HashMap<&str, &str> = fields.iter().copied().collect();
        read(
            |f| {
                map.get(f)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            },
            natural,
            today(),
        )
    }

    const ADDRESS: [(&str, &str); 4] = [
        ("address_line_1", "3 rue des Ailes"),
        ("city", "Taillard"),
        ("country", "FR"),
        ("tax_residence", "FR"),
    ];

    #[test]
    fn a_person_read_writes_back_the_same_fields() {
        let mut fields = vec![
            ("family_name", "Martin"),
            ("given_names", "Léa"),
            ("birth_date", "1980-02-29"),
            ("birth_place", "Annonay"),
            ("postal_code", "42220"),
            ("email", "lea@example.fr"),
            ("iban", "FR76 3000 6000 0112 3456 7890 189"),
            ("bic", "AGRIFRPP"),
        ];
        fields.extend(ADDRESS);
        let person = read_from(&fields, true).expect("valid");
        for (field, sent) in &fields {
            // An IBAN is kept without its spaces.
            let kept = match *field {
                "iban" => sent.replace(' ', ""),
                _ => (*sent).to_owned(),
            };
            assert_eq!(value(&person, field), kept, "{field}");
        }
    }

    #[test]
    fn every_field_says_its_own_problem_at_once() {
        let mut fields = vec![
            ("legal_name", "Commune\u{202e}"),
            ("legal_form", "EPCI"),
            ("siren", "12345"),
            ("birth_date", "demain"),
            ("email", "pas une adresse"),
            ("iban", "FR7630006000011234567890188"),
        ];
        fields.extend(ADDRESS);
        fields.retain(|(f, _)| *f != "country");
        let errors = read_from(&fields, false).expect_err("refused");
        let said: Vec<(&str, Problem)> = errors
            .iter()
            .map(|e| (e.field, e.problem.clone()))
            .collect();
        assert_eq!(
            said,
            vec![
                ("legal_name", Problem::NotOneLine),
                ("siren", Problem::Siren),
                ("representative", Problem::Missing),
                ("country", Problem::Missing),
                ("email", Problem::Email),
                ("iban", Problem::Iban),
            ]
        );
    }

    #[test]
    fn a_birth_needs_its_date_and_place_within_bounds() {
        let mut fields = vec![
            ("family_name", "A"),
            ("given_names", "B"),
            ("birth_place", "Lyon"),
        ];
        fields.extend(ADDRESS);
        let errors = read_from(&fields, true).expect_err("half a birth");
        assert_eq!(errors[0].field, "birth_date");
        assert_eq!(errors[0].problem, Problem::BirthHalfGiven);
        fields.push(("birth_date", "2027-01-01"));
        let errors = read_from(&fields, true).expect_err("born tomorrow");
        assert_eq!(errors[0].problem, Problem::BirthOutOfRange);
    }
}
