//! A ledger event as the projections receive it, and its decoding.

use chrono::{DateTime, Utc};
use serde::Serialize;
use windledger_domain::budgeting::fund::FundEvent;
use windledger_domain::budgeting::round::RoundEvent;
use windledger_domain::company::CompanyEvent;
use windledger_domain::finance::{AdvanceEvent, FinancialYearEvent};
use windledger_domain::meeting::MeetingEvent;

/// One event of a ledger, as the store recorded it. The shell builds it from
/// the store's `RecordedEvent`; the payload is the stored JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    pub position: u64,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub payload: String,
    pub recorded_at: DateTime<Utc>,
    /// The event's hash: with the position, a receipt.
    pub hash: EventHash,
}

/// A SHA-256 chain hash, shown and serialised as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Hash", with = "String", extend("pattern" = "^[0-9a-f]{64}$"))
)]
pub struct EventHash(pub [u8; 32]);

impl LedgerEvent {
    /// The event at `position` of a ledger no store recorded (a synthetic
    /// farm's, a test's), with a made-up hash: the position, big-endian,
    /// then zeros. The folds take hashes as they are given.
    pub fn unrecorded(
        position: u64,
        stream_id: String,
        event_type: String,
        payload: String,
        recorded_at: DateTime<Utc>,
    ) -> Self {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&position.to_be_bytes());
        Self {
            position,
            stream_id,
            stream_version: 0,
            event_type,
            payload,
            recorded_at,
            hash: EventHash(hash),
        }
    }
}

impl EventHash {
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl std::fmt::Debug for EventHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Display for EventHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for EventHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where an event sits in the ledger: its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct EventRef {
    #[cfg_attr(feature = "json-schema", schemars(range(min = 1)))]
    pub position: u64,
    pub hash: EventHash,
}

impl LedgerEvent {
    pub fn reference(&self) -> EventRef {
        EventRef {
            position: self.position,
            hash: self.hash,
        }
    }
}

/// The domain event an event carries, by the stream it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FarmEvent {
    Company(CompanyEvent),
    Meeting {
        meeting: String,
        event: MeetingEvent,
    },
    FinancialYear {
        year: String,
        event: FinancialYearEvent,
    },
    Advance {
        advance: String,
        event: AdvanceEvent,
    },
    /// A budgeting round of the territory fund.
    Round {
        round: String,
        event: RoundEvent,
    },
    /// The territory fund.
    Fund(FundEvent),
    /// A stream no projection reads (e.g. a benchmark's): passed over.
    Other,
}

/// Decodes the payload by the stream's type (`<type>/<id>`).
pub fn decode(event: &LedgerEvent) -> Result<FarmEvent, String> {
    let (kind, id) = event
        .stream_id
        .split_once('/')
        .ok_or_else(|| format!("stream {:?} has no type", event.stream_id))?;
    let payload = event.payload.as_ref();
    let invalid = |e: serde_json::Error| {
        format!(
            "{} of stream {} does not decode: {e}",
            event.event_type, event.stream_id
        )
    };
    Ok(match kind {
        "company" => FarmEvent::Company(serde_json::from_str(payload).map_err(invalid)?),
        "meeting" => FarmEvent::Meeting {
            meeting: id.to_owned(),
            event: serde_json::from_str(payload).map_err(invalid)?,
        },
        "financial-year" => FarmEvent::FinancialYear {
            year: id.to_owned(),
            event: serde_json::from_str(payload).map_err(invalid)?,
        },
        "current-account-advance" => FarmEvent::Advance {
            advance: id.to_owned(),
            event: serde_json::from_str(payload).map_err(invalid)?,
        },
        "budgeting-round" => FarmEvent::Round {
            round: id.to_owned(),
            event: serde_json::from_str(payload).map_err(invalid)?,
        },
        "territory-fund" => FarmEvent::Fund(serde_json::from_str(payload).map_err(invalid)?),
        _ => FarmEvent::Other,
    })
}
