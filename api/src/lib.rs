//! The shell of windledger, as a library for the binary, the end-to-end
//! tests and the benchmarks: what wires the pure domain and projections to
//! the store.
//!
//! - [`services`]: the services the aggregates ask of each other, answered
//!   from the ledger, and the mapping of recorded events to the
//!   projections' input.
//! - [`import`]: a farm's history imported from a file of commands, each
//!   run through the domain; synthetic farms written straight to the
//!   store; `windledger import`.
//! - [`redaction`]: the holder ids no anonymous answer or page shows.

pub mod audit;
pub mod export;
pub mod http;
pub mod import;
pub mod redaction;
pub mod server_cli;
pub mod services;
pub mod web;
