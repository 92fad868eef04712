//! The shell of windledger, as a library for the binary, the end-to-end
//! tests and the benchmarks: what wires the pure domain and projections to
//! the store.
//!
//! - [`services`]: the services the aggregates ask of each other, answered
//!   from the ledger, and the mapping of recorded events to the
//!   projections' input.

pub mod services;
