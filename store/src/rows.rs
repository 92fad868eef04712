//! Decoding what both backends read back: conversions of stored values and
//! rows into the store's types. No SQL here; each backend's queries say
//! which columns they read, in the order these helpers expect.

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};
use sqlx::Row;

use uuid::Uuid;

use crate::chain::StoredContent;
use crate::error::StoreError;
use crate::seal::{KeyId, Seal, SealSignature};
use crate::store::SignedCheckpoint;
use crate::tokens::StoredToken;
use crate::types::{Hash, Head, LedgerId, Metadata, RecordedEvent, StreamId};
use crate::vault::{SealedVersion, VaultKey, VaultRead, VaultVersion};

pub(crate) fn seal_from_parts(
    ledger: &LedgerId,
    first: i64,
    last: i64,
    key_id: &[u8],
    signature: &[u8],
) -> Result<Seal, StoreError> {
    Ok(Seal {
        ledger: ledger.clone(),
        first: to_u64(first)?,
        last: to_u64(last)?,
        key_id: KeyId(key_id.try_into().map_err(|_| {
            StoreError::Corrupt(format!("a seal's key id is {} bytes, not 4", key_id.len()))
        })?),
        signature: SealSignature(signature.try_into().map_err(|_| {
            StoreError::Corrupt(format!(
                "a seal's signature is {} bytes, not 64",
                signature.len()
            ))
        })?),
    })
}

/// A signed checkpoint of `ledger` from the columns `size, head_hash,
/// note` of `signed_checkpoints`.
pub(crate) fn signed_checkpoint(
    ledger: &LedgerId,
    size: i64,
    head: &[u8],
    note: String,
) -> Result<SignedCheckpoint, StoreError> {
    Ok(SignedCheckpoint {
        ledger: ledger.clone(),
        size: to_u64(size)?,
        head: Hash::from_slice(head)?,
        note,
    })
}

/// A ledger's head from a row of `head_position, head_hash`.
pub(crate) fn head_from_row<R>(r: &R) -> Result<Head, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a [u8]: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Head {
        size: to_u64(r.try_get(0)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(1)?)?,
    })
}

/// Ledgers' ids and head positions, as `SELECT ledger_id, head_position`
/// reads them.
pub(crate) fn sizes(rows: Vec<(String, i64)>) -> Result<Vec<(LedgerId, u64)>, StoreError> {
    rows.into_iter()
        .map(|(id, head)| Ok((LedgerId::parse(id)?, to_u64(head)?)))
        .collect()
}

/// What is stored of an event, from a row of `event_id, position,
/// stream_id, stream_version, event_type, schema_version, payload,
/// metadata, hash` (as text where the database has JSON), given its
/// `event_id` as the backend decodes column 0.
pub(crate) fn stored_content_from_row<R>(r: &R, event_id: Uuid) -> Result<StoredContent, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a [u8]: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredContent {
        event_id,
        position: to_u64(r.try_get(1)?)?,
        stream_id: StreamId::parse(r.try_get::<String, _>(2)?)?,
        stream_version: to_u64(r.try_get(3)?)?,
        event_type: r.try_get(4)?,
        schema_version: to_u32(r.try_get(5)?)?,
        payload: r.try_get(6)?,
        metadata: parse_metadata(r.try_get::<&str, _>(7)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(8)?)?,
    })
}

/// A stream and its version from a row of `stream_id,
/// max(stream_version)`.
pub(crate) fn stream_version_from_row<R>(r: &R) -> Result<(StreamId, u64), StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        StreamId::parse(r.try_get::<String, _>(0)?)?,
        to_u64(r.try_get(1)?)?,
    ))
}

pub(crate) fn same_checkpoint_head(
    checkpoint: &SignedCheckpoint,
    recorded: &[u8],
) -> Result<bool, StoreError> {
    let recorded = Hash::from_slice(recorded)?;
    if recorded == checkpoint.head {
        Ok(false)
    } else {
        Err(StoreError::CheckpointConflict {
            ledger: checkpoint.ledger.clone(),
            size: checkpoint.size,
            recorded,
            offered: checkpoint.head,
        })
    }
}

/// A token from a row of the columns `token_id, secret_hash, ledger_id,
/// role, holder_id, label, created_at, expires_at, revoked_at`, in this
/// order.
pub(crate) fn token_from_row<R>(r: &R) -> Result<StoredToken, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<DateTime<Utc>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let hash: Vec<u8> = r.try_get(1)?;
    let secret_hash = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("a token's secret hash is not 32 bytes".into()))?;
    Ok(StoredToken {
        token_id: r.try_get(0)?,
        secret_hash,
        ledger: r.try_get(2)?,
        role: r.try_get(3)?,
        holder: r.try_get(4)?,
        label: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
    })
}

/// A row of `vault_keys`: ledger_id, holder_id, master_key_id, nonce,
/// wrapped_key, created_at.
pub(crate) fn vault_key_from_row<R>(r: &R) -> Result<VaultKey, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(VaultKey {
        ledger: r.try_get(0)?,
        holder: r.try_get(1)?,
        master_key_id: r.try_get(2)?,
        nonce: r.try_get(3)?,
        wrapped_key: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

/// A row of `vault_versions`: version, recorded_at, commitment, nonce,
/// ciphertext.
pub(crate) fn vault_version_from_row<R>(r: &R) -> Result<VaultVersion, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(VaultVersion {
        version: r.try_get(0)?,
        sealed: SealedVersion {
            recorded_at: r.try_get(1)?,
            commitment: r.try_get(2)?,
            nonce: r.try_get(3)?,
            ciphertext: r.try_get(4)?,
        },
    })
}

/// A row of `vault_reads`: ledger_id, holder_id, reader, purpose, read_at.
pub(crate) fn vault_read_from_row<R>(r: &R) -> Result<VaultRead, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(VaultRead {
        ledger: r.try_get(0)?,
        holder: r.try_get(1)?,
        reader: r.try_get(2)?,
        purpose: r.try_get(3)?,
        read_at: r.try_get(4)?,
    })
}

pub(crate) fn parse_metadata(s: &str) -> Result<Metadata, StoreError> {
    if s == "{}" {
        return Ok(Metadata::default());
    }
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("metadata {s:?}: {e}")))
}

pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative counter {v}")))
}

pub(crate) fn to_u32(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative schema version {v}")))
}

/// Events converted as their rows arrive, while the server sends the rest.
pub(crate) async fn as_they_arrive<R>(
    mut rows: impl Stream<Item = Result<R, sqlx::Error>> + Unpin,
    event: impl Fn(&R) -> Result<RecordedEvent, StoreError>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut events = Vec::new();
    while let Some(row) = rows.try_next().await? {
        events.push(event(&row)?);
    }
    Ok(events)
}
