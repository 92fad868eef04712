//! The company's papers of record, drawn from the ledger, its projections
//! and the identity vault through the application layer
//! ([`windledger_app`]); rendered by `windledger_documents` (PDF) and
//! `windledger_sepa` (ISO 20022), sent by `windledger_mail`. Every front end
//! (the API, the pages, the command line) calls it; it knows no HTTP, page
//! or terminal.
//!
//! - [`meeting_papers`]: a meeting's convocations (by e-mail or letter,
//!   as each holder consented), postal voting forms and minutes.
//! - [`payments`]: a declared dividend, a year's interest or advances'
//!   repayments paid by one SEPA credit transfer file, and the bank's
//!   statement matched back to record what was paid.
//! - [`persons`]: a holder of the vault as a paper prints them (name and
//!   address, a tax form's beneficiary).

pub mod meeting_papers;
pub mod payments;
pub mod persons;
