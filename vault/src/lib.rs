//! The identity vault: the personal data of the people a farm deals with
//! (holders first), kept beside the ledger and never in it.
//!
//! - [`person`]: what is kept about a person, parsed and checked at the edge
//!   (IBAN mod-97, BIC shape, SIREN Luhn, e-mail shape, dates).
//! - [`seal`]: each person's data is sealed (XChaCha20-Poly1305) with a key
//!   of its own, that key wrapped by the master key held outside the
//!   database; destroying a person's wrapped key and sealed versions erases
//!   them (crypto-shredding). A salted [`seal::Commitment`] of the data is
//!   what the ledger records.
//!
//! Pure: no IO but the system's random numbers (keys, nonces, salts). The
//! store keeps the sealed rows; the application layer ties both to the
//! company stream's `IdentityRecorded` and `IdentityErased` events.

pub mod person;
pub mod seal;

pub use person::{
    BankAccount, Bic, Birth, Consent, Consents, CountryCode, Email, Iban, Identity, InvalidPerson,
    Person, PersonError, PostalAddress, Statement, StatementKind,
};
pub use seal::{
    Commitment, MasterKey, Record, Salt, Sealed, Subject, SubjectKey, VaultError, WrappedKey,
};
