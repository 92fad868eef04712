//! windledger's event store: one append-only, hash-chained log per ledger
//! (one ledger per farm) on PostgreSQL or SQLite.
//!
//! The whole vocabulary: [`Store::append`] (several streams at once, with
//! expected versions, group-committed), [`Store::read_stream`],
//! [`Store::read_ledger`], [`Store::subscribe`], [`Store::verify`], signed
//! [`Checkpoint`]s, the [`Seal`] of every commit, and [`LedgerEventStore`]
//! for cqrs-es.

mod chain;
mod checkpoint;
mod cqrs;
mod error;
mod health;
mod news;
mod pg;
mod plan;
pub mod replication;
mod rows;
mod seal;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod types;
mod vault;
mod verify;

pub use chain::{
    BreakKind, ChainBreak, ChainVerifier, EVENT_DOMAIN_TAG, canonical, recompute_hash, timestamp,
};
pub use checkpoint::{
    Checkpoint, CheckpointError, CheckpointSigner, CheckpointVerifier, CosignatureVerifier,
    WitnessPolicy,
};
pub use cqrs::{
    HASH_KEY, LedgerAggregateContext, LedgerEventStore, POSITION_KEY, aggregate_stream,
};
pub use error::StoreError;
pub use health::PROBE_EVERY;
pub use replication::Lsn;
pub use seal::{EventSeal, KeyId, SEAL_DOMAIN_TAG, Seal, SealSignature, Sealer};
pub use store::{Restored, SignedCheckpoint, Store, StoreOptions};
pub use tokens::StoredToken;
pub use types::{
    Appended, AppendedEvent, ExpectedVersion, Hash, Head, LedgerId, MAX_POSITION, Metadata,
    NewEvent, RecordedEvent, StreamAppend, StreamId,
};
pub use vault::{SealedVersion, VaultErasure, VaultKey, VaultRead, VaultVersion};
pub use verify::{Audit, Verification, verify_jsonl};
