//! The legal documents of a farm, drawn from its projections at a stated
//! ledger position (DESIGN.md section 5, "Documents"): the register of
//! share movements (R228-8 of the Code de commerce), a holder's individual
//! account and a certificate of holding, as PDF/A-2b, and the register as
//! CSV for the accountant; a meeting's papers: its convocation, the postal
//! voting form, the attendance sheet and the minutes.
//!
//! - [`Drawn`]: where a document comes from (farm, position, head hash)
//!   and the date it is at; every document states it.
//! - [`People`]: who a holder is, asked when a document is printed (the
//!   ledger holds pseudonymous ids only). Without an answer (no identity
//!   vault, or an erased person) the document shows the id.
//! - [`register`]: the three documents and the CSV file.
//! - [`meeting`]: a meeting's attendance sheet (R225-95).
//! - [`minutes`]: its minutes (procès-verbal, R225-106), whose SHA-256 the
//!   officers sign.
//! - [`postal_form`]: the postal voting form (R225-76, R225-77), for one
//!   holder or in bulk.
//! - [`convocation`]: the convocation's words, shared by the e-mail and the
//!   letter, with their SHA-256; the letters to print for windowed
//!   envelopes, and the mailing service's CSV file.
//! - [`csv`]: a CSV cell as windledger writes every one.
//!
//! Pure and deterministic: no clock, no IO; the same projections, position
//! and names give the same bytes. Words come from `windledger-french`.

use chrono::NaiveDate;
use thiserror::Error;
use windledger_domain::types::HolderId;
use windledger_projections::cap_table::AsOf;
use windledger_projections::event::EventHash;
use windledger_projections::runner::Projections;

pub mod convocation;
pub mod csv;
pub mod meeting;
pub mod minutes;
mod pdf;
pub mod postal_form;
pub mod register;
pub mod tax;

/// A document that could not be written.
#[derive(Debug, Error)]
pub enum DocumentError {
    #[error("the embedded font cannot be read: {0}")]
    Font(String),
    #[error("the document could not be compressed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the figures cannot be drawn: {0}")]
    Figures(String),
}

/// A person as a document names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    /// Postal address, one line each.
    pub address: Vec<String>,
}

/// Resolves a holder's pseudonymous id to who they are, when a document
/// is printed. `None`: unknown or erased, and the document shows the id.
pub trait People {
    fn person(&self, holder: &HolderId) -> Option<Person>;
}

/// No one is known: every holder appears by their id.
pub struct Pseudonyms;

impl People for Pseudonyms {
    fn person(&self, _: &HolderId) -> Option<Person> {
        None
    }
}

/// The people a caller looked up before printing (see
/// `windledger_app::people::Vault::names`): the others show by id.
impl People for std::collections::BTreeMap<HolderId, Person> {
    fn person(&self, holder: &HolderId) -> Option<Person> {
        self.get(holder).cloned()
    }
}

/// A holder's block as a document shows it (a letter's recipient, a
/// form's voter, an account's holder): their name and address, one line
/// each, or their id alone.
pub(crate) fn name_and_address(holder: &HolderId, person: Option<&Person>) -> Vec<String> {
    match person {
        Some(p) => std::iter::once(p.name.clone())
            .chain(p.address.iter().cloned())
            .collect(),
        None => vec![windledger_french::documents::pseudonym(holder.as_str())],
    }
}

/// Where a document is drawn from, and the date it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The ledger's id (the farm's, as in the URLs).
    pub ledger: String,
    /// The company's legal name.
    pub company: String,
    /// The position the projections had applied, and that event's hash.
    pub position: u64,
    pub head: EventHash,
    /// The facts up to the end of this date are shown.
    pub date: NaiveDate,
}

impl Drawn {
    /// The document state of `projections`: as of `date`, or else of the
    /// last movement of the register (or the incorporation, before any).
    /// `None` before the company is incorporated.
    pub fn of(projections: &Projections, ledger: &str, date: Option<NaiveDate>) -> Option<Self> {
        let company = projections.cap_table.fold().incorporation()?;
        let register = projections.share_register.fold();
        let head = register.head()?;
        let date = date.unwrap_or_else(|| {
            register
                .entries()
                .last()
                .map_or(company.formation_date, |e| e.date)
        });
        Some(Self {
            ledger: ledger.to_owned(),
            company: company.legal_name.as_str().to_owned(),
            position: head.position,
            head: head.hash,
            date,
        })
    }

    /// What the register shows: the facts effective up to the date.
    pub fn as_of(&self) -> AsOf {
        AsOf::Date { date: self.date }
    }
}
