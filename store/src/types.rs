//! The store's vocabulary: ledgers, streams, events as appended and as recorded.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::StoreError;

/// An identifier's text: read (checked, as `parse` checks it) from a
/// `String`, and shown as is (for the identifier types below, which each
/// have `parse` and `as_str`).
macro_rules! checked_id_text {
    ($id:ty) => {
        impl TryFrom<String> for $id {
            type Error = StoreError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

/// The largest position (and stream version) a ledger can reach: 2^53 − 1,
/// the largest integer a JSON number carries exactly, far beyond any farm.
/// A read after it finds nothing (and never reaches the database, whose
/// signed 64-bit positions a larger value would overflow).
pub const MAX_POSITION: u64 = (1 << 53) - 1;

/// The identifier of a ledger: one ledger per farm.
///
/// 1 to 64 characters of `[a-z0-9._-]`, starting with a letter or digit, so it
/// can appear in URLs, file names and checkpoint origins without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LedgerId(Arc<str>);

impl LedgerId {
    pub fn parse(s: impl Into<String>) -> Result<Self, StoreError> {
        let s = s.into();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let starts_well = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if s.len() <= 64 && starts_well && s.chars().all(ok_char) {
            Ok(Self(s.into()))
        } else {
            Err(StoreError::InvalidId(format!(
                "ledger id {s:?} must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<LedgerId> for String {
    fn from(id: LedgerId) -> Self {
        id.0.to_string()
    }
}

checked_id_text!(LedgerId);

/// The identifier of a stream (a consistency boundary, e.g. `company/main`).
///
/// 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    pub fn parse(s: impl Into<String>) -> Result<Self, StoreError> {
        let s = s.into();
        if !s.is_empty() && s.len() <= 200 && !s.chars().any(char::is_control) {
            Ok(Self(s))
        } else {
            Err(StoreError::InvalidId(format!(
                "stream id {s:?} must be 1 to 200 characters without control characters"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl StreamId {
    /// A stream id read back from the database, which only ever stored
    /// parsed ones.
    pub(crate) fn trusted(s: String) -> Self {
        Self(s)
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

checked_id_text!(StreamId);

/// What the caller believes a stream's version to be before its append.
/// A stream's version is the number of events in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedVersion {
    /// Append whatever the stream's version.
    Any,
    /// The stream must not exist yet (version 0).
    NoStream,
    /// The stream must be at exactly this version (`Exact(0)` is `NoStream`).
    Exact(u64),
}

impl ExpectedVersion {
    pub(crate) fn admits(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::Exact(n) => actual == n,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(n) => write!(f, "version {n}"),
        }
    }
}

/// Who and what caused an event. Part of the hashed content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// Anything else the caller wants kept with the event.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// An event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// Unique per ledger. Re-sending the same id with the same content is an
    /// idempotent retry; with other content it is refused.
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: serde_json::Value,
    pub metadata: Metadata,
}

/// The events to append to one stream, with the version the caller expects.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamAppend {
    pub stream_id: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// Where an appended event landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendedEvent {
    pub event_id: Uuid,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub position: u64,
    pub hash: Hash,
}

/// The outcome of an append: one entry per event, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub events: Vec<AppendedEvent>,
    /// True when every event was already stored with the same content (an
    /// idempotent retry): nothing was written.
    pub already_stored: bool,
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The previous hash of a ledger's first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, StoreError> {
        <[u8; 32]>::try_from(bytes).map(Hash).map_err(|_| {
            StoreError::Corrupt(format!("a hash must be 32 bytes, found {}", bytes.len()))
        })
    }

    pub fn from_hex(s: &str) -> Result<Self, StoreError> {
        let bytes = hex::decode(s)
            .map_err(|e| StoreError::Corrupt(format!("hash {s:?} is not hexadecimal: {e}")))?;
        Self::from_slice(&bytes)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// An event as stored in a ledger. This is also the line format of an
/// exported ledger (JSON Lines, one event per line, in position order).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub ledger_id: LedgerId,
    pub position: u64,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// The payload, as stored (RFC 8785 canonical JSON). Decode it with
    /// [`RecordedEvent::decode`].
    pub payload: Payload,
    pub metadata: Metadata,
    #[serde(with = "crate::chain::timestamp")]
    pub recorded_at: DateTime<Utc>,
    pub prev_hash: Hash,
    pub hash: Hash,
    /// In an export, on the last event of each commit: the commit's seal
    /// (see [`crate::Seal`]). Read from the database, events carry none
    /// (see [`crate::Store::seals`]). Not part of the hashed content, nor of
    /// equality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<crate::seal::EventSeal>,
}

impl RecordedEvent {
    /// Decodes the payload into a typed event.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(self.payload.get()).map_err(|e| StoreError::Decode {
            position: self.position,
            reason: format!("{} v{}: {e}", self.event_type, self.schema_version),
        })
    }
}

impl PartialEq for RecordedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.ledger_id == other.ledger_id
            && self.position == other.position
            && self.stream_id == other.stream_id
            && self.stream_version == other.stream_version
            && self.event_id == other.event_id
            && self.event_type == other.event_type
            && self.schema_version == other.schema_version
            && self.payload == other.payload
            && self.metadata == other.metadata
            && self.recorded_at == other.recorded_at
            && self.prev_hash == other.prev_hash
            && self.hash == other.hash
    }
}

/// A payload's JSON text, as stored. Read back from the database it is
/// trusted (both databases check JSON on insert) and not parsed twice; read
/// from a file it is checked like any input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    pub(crate) fn trusted(json: String) -> Self {
        Self(json)
    }

    pub fn get(&self) -> &str {
        &self.0
    }

    /// The JSON text, without a copy.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(Self(raw.get().to_string()))
    }
}

/// The head of a ledger: how many events it holds and the hash of the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub size: u64,
    pub hash: Hash,
}

impl Head {
    pub const EMPTY: Head = Head {
        size: 0,
        hash: Hash::GENESIS,
    };
}
