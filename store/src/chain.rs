//! The hash chain: how an event's hash is computed, and how a sequence of
//! recorded events is checked. ARCHITECTURE.md gives the byte layout so that
//! an outsider can re-implement the check; keep the two in step.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::StoreError;
use crate::types::{Hash, Head, LedgerId, Metadata, NewEvent, RecordedEvent, StreamId};

/// Separates windledger's event hashes from any other SHA-256 use.
pub const EVENT_DOMAIN_TAG: &[u8] = b"windledger/event/v1\n";

/// Largest integer a payload may carry: JSON numbers are IEEE doubles to
/// RFC 8785, and an integer beyond 2^53 - 1 would not survive
/// canonicalisation. Money is a decimal string, so nothing real comes near.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An event to append, checked and with its canonical JSON computed, ready
/// for the writer to chain. Done in the caller's task so the single writer of
/// a ledger does as little as possible.
#[derive(Clone, Debug)]
pub(crate) struct PreparedEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// RFC 8785 canonical JSON of the payload.
    pub payload: String,
    pub metadata: Metadata,
    /// RFC 8785 canonical JSON of the metadata.
    pub metadata_json: String,
}

impl PreparedEvent {
    pub fn new(event: NewEvent) -> Result<Self, StoreError> {
        if event.event_type.is_empty()
            || event.event_type.len() > 200
            || event.event_type.chars().any(char::is_control)
        {
            return Err(StoreError::InvalidBatch(format!(
                "event {}: the event type must be 1 to 200 characters without control characters",
                event.event_id
            )));
        }
        check_numbers(&event.payload).map_err(|why| {
            StoreError::InvalidBatch(format!("event {}: payload {why}", event.event_id))
        })?;
        let payload = canonical(&event.payload)?;
        let metadata_json = canonical(&event.metadata)?;
        Ok(Self {
            event_id: event.event_id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload,
            metadata: event.metadata,
            metadata_json,
        })
    }

    /// Whether a stored event has the same content (what an idempotent retry
    /// must match): stream, type, schema version, payload and metadata.
    pub fn same_content(&self, stream_id: &StreamId, stored: &StoredContent) -> bool {
        *stream_id == stored.stream_id
            && self.event_type == stored.event_type
            && self.schema_version == stored.schema_version
            && self.payload == stored.payload
            && self.metadata == stored.metadata
    }
}

/// What the writer reads back of an already stored event to decide whether a
/// re-sent event is an idempotent retry.
#[derive(Clone, Debug)]
pub(crate) struct StoredContent {
    pub event_id: Uuid,
    pub position: u64,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: String,
    pub metadata: Metadata,
    pub hash: Hash,
}

/// Refuses floats and unsafe integers anywhere in a payload.
fn check_numbers(value: &serde_json::Value) -> Result<(), String> {
    match value {
        serde_json::Value::Number(n) => {
            let safe = n.as_u64().is_some_and(|v| v <= MAX_SAFE_INTEGER)
                || n.as_i64()
                    .is_some_and(|v| v.unsigned_abs() <= MAX_SAFE_INTEGER);
            if safe {
                Ok(())
            } else {
                Err(format!(
                    "holds the number {n}: numbers must be integers within ±(2^53 - 1); write decimals (money) as strings"
                ))
            }
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_numbers),
        serde_json::Value::Object(map) => map.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

/// RFC 8785 canonical JSON of a value.
pub fn canonical<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json_canonicalizer::to_string(value)
        .map_err(|e| StoreError::InvalidBatch(format!("cannot canonicalise JSON: {e}")))
}

/// The fields of an event that its hash covers besides ledger, position and
/// previous hash.
pub(crate) struct HashedFields<'a> {
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub event_id: &'a Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    /// Canonical JSON.
    pub payload: &'a str,
    /// Canonical JSON.
    pub metadata: &'a str,
    pub recorded_at: &'a DateTime<Utc>,
}

/// The RFC 8785 canonical JSON of an event's fields. The top-level keys are
/// fixed and written here in their canonical (sorted) order; each value is
/// itself canonical, so the concatenation is the canonical form of the whole
/// object (a property test checks this against a full canonicalisation).
pub(crate) fn canonical_event_json(f: &HashedFields<'_>) -> Result<String, StoreError> {
    let mut out = String::with_capacity(160 + f.payload.len() + f.metadata.len());
    out.push_str("{\"event_id\":\"");
    out.push_str(&f.event_id.hyphenated().to_string());
    out.push_str("\",\"event_type\":");
    out.push_str(&canonical(&f.event_type)?);
    out.push_str(",\"metadata\":");
    out.push_str(f.metadata);
    out.push_str(",\"payload\":");
    out.push_str(f.payload);
    out.push_str(",\"recorded_at\":\"");
    out.push_str(&timestamp::format(f.recorded_at));
    out.push_str("\",\"schema_version\":");
    out.push_str(&f.schema_version.to_string());
    out.push_str(",\"stream_id\":");
    out.push_str(&canonical(&f.stream_id)?);
    out.push_str(",\"stream_version\":");
    out.push_str(&f.stream_version.to_string());
    out.push('}');
    Ok(out)
}

/// hash = SHA-256(tag || u32be(len(ledger)) || ledger || u64be(position) ||
/// prev_hash || canonical JSON of the fields).
pub(crate) fn event_hash(
    ledger: &LedgerId,
    position: u64,
    prev_hash: &Hash,
    canonical_json: &str,
) -> Hash {
    let mut h = Sha256::new();
    h.update(EVENT_DOMAIN_TAG);
    h.update((ledger.as_str().len() as u32).to_be_bytes());
    h.update(ledger.as_str().as_bytes());
    h.update(position.to_be_bytes());
    h.update(prev_hash.0);
    h.update(canonical_json.as_bytes());
    Hash(h.finalize().into())
}

/// Recomputes a recorded event's hash from its fields.
pub fn recompute_hash(e: &RecordedEvent) -> Result<Hash, StoreError> {
    let payload =
        serde_json_canonicalizer::pipe(e.payload.get()).map_err(|err| StoreError::Decode {
            position: e.position,
            reason: format!("payload is not JSON: {err}"),
        })?;
    let metadata = canonical(&e.metadata)?;
    let json = canonical_event_json(&HashedFields {
        stream_id: e.stream_id.as_str(),
        stream_version: e.stream_version,
        event_id: &e.event_id,
        event_type: &e.event_type,
        schema_version: e.schema_version,
        payload: &payload,
        metadata: &metadata,
        recorded_at: &e.recorded_at,
    })?;
    Ok(event_hash(&e.ledger_id, e.position, &e.prev_hash, &json))
}

/// Where and why a ledger's history does not hold together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ChainBreak {
    pub position: u64,
    pub reason: String,
    pub kind: BreakKind,
}

/// What kind of problem a [`ChainBreak`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// The chain itself (a hash, a position, a stream version, the recorded
    /// head, a checkpoint) does not hold.
    Chain,
    /// The event chains well, but no valid seal by a trusted key covers it:
    /// it was written by someone without the server's seal key.
    Unsealed,
}

impl ChainBreak {
    pub(crate) fn chain(position: u64, reason: String) -> Self {
        Self {
            position,
            reason,
            kind: BreakKind::Chain,
        }
    }

    /// Whether the event at `position` is unsealed (rather than the chain
    /// broken there).
    pub fn is_unsealed(&self) -> bool {
        self.kind == BreakKind::Unsealed
    }

    fn describe(&self) -> String {
        match self.kind {
            BreakKind::Chain => format!(
                "the chain breaks at position {}: {}",
                self.position, self.reason
            ),
            BreakKind::Unsealed => format!(
                "the event at position {} is unsealed: {}",
                self.position, self.reason
            ),
        }
    }
}

/// Checks a ledger's events one by one, in position order.
///
/// For each event: it belongs to the ledger, its position follows the last
/// (1, 2, 3... with no gap), its previous hash is the last event's hash, its
/// hash is the one recomputed from its fields, and its stream version follows
/// the last of its stream.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    ledger: LedgerId,
    head: Head,
    stream_versions: HashMap<StreamId, u64>,
    /// Resumed from a head checked before: a stream first met since then
    /// may start at any version.
    resumed: bool,
}

impl ChainVerifier {
    pub fn new(ledger: LedgerId) -> Self {
        Self {
            ledger,
            head: Head::EMPTY,
            stream_versions: HashMap::new(),
            resumed: false,
        }
    }

    /// Checks the events after `head`, a head already verified (its size
    /// and hash). The first event must chain to it. Stream versions are
    /// checked to go up by one from the first event of each stream met
    /// after `head` (the versions before it are not known here).
    pub fn resume(ledger: LedgerId, head: Head) -> Self {
        Self {
            ledger,
            head,
            stream_versions: HashMap::new(),
            resumed: true,
        }
    }

    pub fn ledger(&self) -> &LedgerId {
        &self.ledger
    }

    /// The head of what has been checked so far.
    pub fn head(&self) -> Head {
        self.head
    }

    pub fn check(&mut self, e: &RecordedEvent) -> Result<(), ChainBreak> {
        let broken = |reason: String| ChainBreak::chain(self.head.size + 1, reason);
        if e.ledger_id != self.ledger {
            return Err(broken(format!(
                "the event belongs to ledger {}, not {}",
                e.ledger_id, self.ledger
            )));
        }
        if e.position != self.head.size + 1 {
            return Err(broken(format!(
                "expected position {}, found {}",
                self.head.size + 1,
                e.position
            )));
        }
        if e.prev_hash != self.head.hash {
            return Err(broken(format!(
                "previous hash is {}, but the event before has hash {}",
                e.prev_hash, self.head.hash
            )));
        }
        let recomputed = recompute_hash(e).map_err(|err| broken(err.to_string()))?;
        if recomputed != e.hash {
            return Err(broken(format!(
                "stored hash {} differs from {} recomputed from the event's content: the event was altered",
                e.hash, recomputed
            )));
        }
        let last = match self.stream_versions.get(&e.stream_id) {
            Some(v) => *v,
            None if self.resumed => e.stream_version.saturating_sub(1),
            None => 0,
        };
        if e.stream_version != last + 1 {
            return Err(broken(format!(
                "stream {} goes from version {last} to {}",
                e.stream_id, e.stream_version
            )));
        }
        self.stream_versions
            .insert(e.stream_id.clone(), e.stream_version);
        self.head = Head {
            size: e.position,
            hash: e.hash,
        };
        Ok(())
    }
}

/// Timestamps as hashed and exported: RFC 3339 in UTC with exactly six
/// fractional digits (microseconds, what PostgreSQL keeps).
pub mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
    }

    /// Now, truncated to the microsecond so that it survives a round trip
    /// through either database unchanged.
    pub fn now() -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=(MAX_SAFE_INTEGER as i64)).prop_map(|n| n.into()),
            ".{0,12}".prop_map(serde_json::Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn assembled_event_json_is_the_canonical_form_of_the_whole_object(
            payload in json_value(),
            stream in ".{1,20}",
            event_type in ".{1,20}",
            actor in proptest::option::of(".{0,10}"),
            version in 1u64..1_000_000,
            schema in 0u32..10,
            micros in 0i64..4_000_000_000_000_000,
        ) {
            let id = Uuid::from_u128(micros as u128 * 7919);
            let metadata = Metadata { actor, ..Metadata::default() };
            let recorded_at = DateTime::from_timestamp_micros(micros).unwrap();
            let payload_c = canonical(&payload).unwrap();
            let metadata_c = canonical(&metadata).unwrap();
            let assembled = canonical_event_json(&HashedFields {
                stream_id: &stream,
                stream_version: version,
                event_id: &id,
                event_type: &event_type,
                schema_version: schema,
                payload: &payload_c,
                metadata: &metadata_c,
                recorded_at: &recorded_at,
            }).unwrap();
            let whole = serde_json::json!({
                "stream_id": stream,
                "stream_version": version,
                "event_id": id,
                "event_type": event_type,
                "schema_version": schema,
                "payload": payload,
                "metadata": metadata,
                "recorded_at": timestamp::format(&recorded_at),
            });
            prop_assert_eq!(assembled, canonical(&whole).unwrap());
        }
    }

    #[test]
    fn floats_and_unsafe_integers_are_refused_in_payloads() {
        let event = |payload| NewEvent {
            event_id: Uuid::nil(),
            event_type: "t".into(),
            schema_version: 1,
            payload,
            metadata: Metadata::default(),
        };
        assert!(PreparedEvent::new(event(serde_json::json!({"amount": 1.5}))).is_err());
        assert!(PreparedEvent::new(event(serde_json::json!([1u64 << 60]))).is_err());
        assert!(PreparedEvent::new(event(serde_json::json!({"amount": "1.50", "n": 3}))).is_ok());
    }

    #[test]
    fn timestamps_keep_six_fractional_digits() {
        let t = DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap();
        assert_eq!(timestamp::format(&t), "2023-11-14T22:13:20.000001Z");
        assert_eq!(timestamp::parse(&timestamp::format(&t)).unwrap(), t);
    }
}
