//! The projections' tests, in one test binary (one link instead of one per
//! file): a small farm's year with figures computed by hand, properties
//! over synthetic farms, and the OCF export checked by the OCF validator.

// Shared with `cli/tests/cli/export.rs`, which includes it by path too.
#[path = "../support/ocf_validator.rs"]
mod ocf_validator;

mod ocf;
mod places;
mod properties;
mod share_register;
mod turbines;
mod worked_history;

use windledger_projections::event::{EventHash, LedgerEvent};

/// The event at `position` of a ledger, with a made-up hash (the position,
/// big-endian, then zeros): the folds take hashes as they are given.
fn ledger_event(
    position: u64,
    stream_id: String,
    event_type: String,
    payload: String,
    recorded_at: chrono::DateTime<chrono::Utc>,
) -> LedgerEvent {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&position.to_be_bytes());
    LedgerEvent {
        position,
        stream_id,
        stream_version: 0,
        event_type,
        payload,
        recorded_at,
        hash: EventHash(hash),
    }
}
