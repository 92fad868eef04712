//! The transparency log's witnesses (C2SP `tlog-witness`,
//! docs/transparency.md, "Witnesses"), both sides of the protocol:
//!
//! - [`server`]: `windledger witness`, a witness any party runs: it
//!   co-signs a checkpoint only when a consistency proof shows the new tree
//!   extends the one it co-signed last.
//! - [`client`]: the log's `add-checkpoint` request, posted to a witness.
//!
//! It knows nothing of the ledger's domain: only checkpoints, proofs and
//! keys.

pub mod client;
pub mod server;

pub use server::{KnownLog, Witness, serve};
