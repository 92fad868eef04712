//! windledger's bank files, pure (no I/O, no ledger): what leaves for the
//! bank and what comes back.
//!
//! - [`pain001`]: a SEPA credit transfer file (ISO 20022
//!   `pain.001.001.09` under the European Payments Council's SCT
//!   implementation guidelines, EPC132-08 2023), one transaction a payee.
//! - [`statement`]: a bank statement read back (ISO 20022
//!   `camt.053.001.08`, or the CSV of docs/payments.md): one line a
//!   transfer, with its end-to-end id, amount, booking date and whether
//!   it was booked, is pending or came back.
//! - [`text`]: identifiers and texts as the EPC's rules allow them.
//! - `testing` (feature): a file checked against the schemas with
//!   `xmllint`, and a statement written as a bank would.

pub mod pain001;
pub mod statement;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

pub use pain001::{CreditTransfers, Party, Transfer};
pub use statement::{Direction, LineStatus, StatementLine};

/// An amount in euro cents, as every file here counts money.
pub type Cents = u64;

/// `1234` cents as `"12.34"`: the ISO 20022 decimal amount.
pub fn euros(cents: Cents) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}
