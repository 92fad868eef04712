//! The application layer of windledger: between the pure domain and
//! projections on one side and the front ends (the JSON API, the pages, the
//! command line) on the other. Every front end runs commands and reads the
//! ledger through it; it knows no HTTP, no page and no terminal.
//!
//! - [`ledger`]: one ledger as a server runs it: its projections followed
//!   live, commands run (load, decide, append, receipts) with idempotency.
//! - [`ledgers`]: the ledgers a server holds: opened on first use, the
//!   idle ones released over a memory budget, counted, and the directory
//!   of farms.
//! - [`command`]: the command vocabulary ([`command::Command`]) and the
//!   one way a command runs ([`command::Aggregates::run`]).
//! - [`import`]: a farm's history imported from a file of commands;
//!   synthetic farms.
//! - [`services`]: the services the aggregates ask of each other, answered
//!   from the ledger, and the mapping of recorded events to the
//!   projections' input.
//! - [`integrity`]: what of a ledger was verified as it is followed.
//! - [`audit`]: the offline audit of an export.
//! - [`people`]: holders' identities in the vault beside the ledger:
//!   recorded, read (logged), exported, erased, imported from a CSV file.
//! - [`redaction`]: the holder ids no anonymous answer or page shows.
//! - [`error`]: why a command or a read failed, for the front ends.

pub mod audit;
pub mod backup;
pub mod budgeting;
pub mod command;
pub mod error;
pub mod import;
pub mod integrity;
pub mod ledger;
pub mod ledgers;
pub mod people;
pub mod person_fields;
pub mod redaction;
pub mod services;

pub use error::{Error, ErrorKind};
pub use services::today;
