//! A ledger event as the projections receive it, and its decoding.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
    pub payload: Arc<str>,
    pub recorded_at: DateTime<Utc>,
    /// The event's hash, hex: with the position, a receipt.
    pub hash: String,
}

/// Where an event sits in the ledger: its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventRef {
    pub position: u64,
    pub hash: String,
}

impl LedgerEvent {
    pub fn reference(&self) -> EventRef {
        EventRef {
            position: self.position,
            hash: self.hash.clone(),
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
        _ => FarmEvent::Other,
    })
}
