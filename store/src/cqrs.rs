//! The cqrs-es adapter: the store as a `cqrs_es::EventStore`, so that
//! commands run through `CqrsFramework`.
//!
//! An aggregate of type `A` with id `x` is the stream `A::TYPE/x` of one
//! ledger. The schema version of an event is its `event_version()`, which
//! must therefore be an integer ("1", "2"...). After a commit, the envelopes'
//! metadata carry each event's `position` and `hash` besides the caller's
//! metadata. When the metadata names a `command_id`, event ids are derived
//! from it (UUID v5), so a command retried after an unknown outcome is an
//! idempotent retry, not a second effect.
//!
//! Aggregates are kept in memory after a commit (up to a bound), so the next
//! command on the same aggregate skips the read. After `handle`, the context
//! holds the state with the new events applied (cqrs-es 0.5's `EventSink`
//! applies each event it is given), which is what the commit caches. A
//! cached aggregate is taken out while a command runs, so two commands on
//! one aggregate never share it; one that is stale because another process
//! appended fails its commit with a version conflict, and the retry reloads.

use std::collections::HashMap;
use std::sync::Mutex;

use cqrs_es::{
    Aggregate, AggregateContext, AggregateError, DomainEvent, EventEnvelope, EventStore,
};
use uuid::Uuid;

use crate::error::StoreError;
use crate::store::Store;
use crate::types::{
    ExpectedVersion, LedgerId, Metadata, NewEvent, RecordedEvent, StreamAppend, StreamId,
};

/// Namespace of the UUID v5 event ids derived from command ids.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a1f_2c3e_8b4d_4e5f_9a0b_1c2d_3e4f_5a6b);

/// Metadata keys added to committed envelopes.
pub const POSITION_KEY: &str = "position";
pub const HASH_KEY: &str = "hash";

/// Aggregates kept in memory per event store, at most.
const MAX_CACHED_AGGREGATES: usize = 10_000;

/// One ledger of the store, seen as a cqrs-es event store for aggregates `A`.
pub struct LedgerEventStore<A> {
    store: Store,
    ledger: LedgerId,
    /// Aggregate id -> (version, state), as left by this store's commits.
    cache: Mutex<HashMap<String, (u64, A)>>,
}

impl<A> LedgerEventStore<A> {
    pub fn new(store: Store, ledger: LedgerId) -> Self {
        Self {
            store,
            ledger,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn take_cached(&self, aggregate_id: &str) -> Option<(u64, A)> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(aggregate_id)
    }

    fn put_cached(&self, aggregate_id: String, version: u64, aggregate: A) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_AGGREGATES
            && let Some(evicted) = cache.keys().next().cloned()
        {
            cache.remove(&evicted);
        }
        cache.insert(aggregate_id, (version, aggregate));
    }
}

/// The stream of an aggregate: `<type>/<id>`.
pub fn aggregate_stream<A: Aggregate>(aggregate_id: &str) -> Result<StreamId, StoreError> {
    StreamId::parse(format!("{}/{}", A::TYPE, aggregate_id))
}

/// An aggregate loaded at a version.
pub struct LedgerAggregateContext<A> {
    pub aggregate_id: String,
    pub aggregate: A,
    /// The number of events applied.
    pub version: u64,
}

impl<A: Aggregate> AggregateContext<A> for LedgerAggregateContext<A> {
    fn aggregate(&mut self) -> &mut A {
        &mut self.aggregate
    }
}

fn to_aggregate_error<E: std::error::Error>(e: StoreError) -> AggregateError<E> {
    match e {
        StoreError::WrongExpectedVersion { .. } => AggregateError::AggregateConflict,
        StoreError::Database(_) | StoreError::ShuttingDown => {
            AggregateError::DatabaseConnectionError(Box::new(e))
        }
        StoreError::Decode { .. } => AggregateError::DeserializationError(Box::new(e)),
        other => AggregateError::UnexpectedError(Box::new(other)),
    }
}

fn envelope<A: Aggregate>(
    aggregate_id: &str,
    e: &RecordedEvent,
) -> Result<EventEnvelope<A>, StoreError> {
    let mut metadata = metadata_map(&e.metadata);
    metadata.insert(POSITION_KEY.into(), e.position.to_string());
    metadata.insert(HASH_KEY.into(), e.hash.to_hex());
    Ok(EventEnvelope {
        aggregate_id: aggregate_id.to_string(),
        sequence: e.stream_version as usize,
        payload: e.decode()?,
        metadata,
    })
}

fn metadata_map(m: &Metadata) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = m.extra.clone().into_iter().collect();
    for (key, value) in [
        ("actor", &m.actor),
        ("command_id", &m.command_id),
        ("correlation_id", &m.correlation_id),
        ("causation_id", &m.causation_id),
    ] {
        if let Some(v) = value {
            map.insert(key.to_string(), v.clone());
        }
    }
    map
}

fn metadata_from_map(mut map: HashMap<String, String>) -> Metadata {
    Metadata {
        actor: map.remove("actor"),
        command_id: map.remove("command_id"),
        correlation_id: map.remove("correlation_id"),
        causation_id: map.remove("causation_id"),
        extra: map.into_iter().collect(),
    }
}

impl<A> EventStore<A> for LedgerEventStore<A>
where
    A: Aggregate,
    A::Event: 'static,
{
    type AC = LedgerAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let stream = aggregate_stream::<A>(aggregate_id).map_err(to_aggregate_error)?;
        let events = self
            .store
            .read_stream_to_end(&self.ledger, &stream)
            .await
            .map_err(to_aggregate_error)?;
        events
            .iter()
            .map(|e| envelope(aggregate_id, e).map_err(to_aggregate_error))
            .collect()
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Self::AC, AggregateError<A::Error>> {
        if let Some((version, aggregate)) = self.take_cached(aggregate_id) {
            return Ok(LedgerAggregateContext {
                aggregate_id: aggregate_id.to_string(),
                aggregate,
                version,
            });
        }
        let stream = aggregate_stream::<A>(aggregate_id).map_err(to_aggregate_error)?;
        let events = self
            .store
            .read_stream_payloads(&self.ledger, &stream, 0)
            .await
            .map_err(to_aggregate_error)?;
        let mut aggregate = A::default();
        let mut version = 0;
        for (v, payload) in &events {
            let event = serde_json::from_str(payload).map_err(|e| {
                AggregateError::DeserializationError(
                    format!("stream {stream} version {v}: {e}").into(),
                )
            })?;
            aggregate.apply(event);
            version = *v;
        }
        Ok(LedgerAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            version,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let stream = aggregate_stream::<A>(&context.aggregate_id).map_err(to_aggregate_error)?;
        let metadata = metadata_from_map(metadata);
        let mut new_events = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let schema_version = event.event_version().parse::<u32>().map_err(|_| {
                AggregateError::UnexpectedError(
                    format!(
                        "event {} has version {:?}; windledger needs an integer schema version",
                        event.event_type(),
                        event.event_version()
                    )
                    .into(),
                )
            })?;
            let payload = serde_json::to_value(event)
                .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?;
            let event_id = match &metadata.command_id {
                Some(command) => Uuid::new_v5(
                    &EVENT_ID_NAMESPACE,
                    format!("{}\n{}\n{}\n{}", self.ledger, stream, command, index).as_bytes(),
                ),
                None => Uuid::new_v4(),
            };
            new_events.push(NewEvent {
                event_id,
                event_type: event.event_type(),
                schema_version,
                payload,
                metadata: metadata.clone(),
            });
        }
        let expected = match context.version {
            0 => ExpectedVersion::NoStream,
            n => ExpectedVersion::Exact(n),
        };
        let appended = self
            .store
            .append(
                &self.ledger,
                vec![StreamAppend {
                    stream_id: stream,
                    expected,
                    events: new_events,
                }],
            )
            .await
            .map_err(to_aggregate_error)?;
        if appended.already_stored {
            // A retry of a command that already took effect: nothing new
            // happened, so nothing is dispatched to queries again.
            return Ok(Vec::new());
        }
        if let Some(last) = appended.events.last() {
            // The context now holds the state after these events.
            self.put_cached(
                context.aggregate_id.clone(),
                last.stream_version,
                context.aggregate,
            );
        }
        let base = metadata_map(&metadata);
        Ok(appended
            .events
            .into_iter()
            .zip(events)
            .map(|(a, payload)| {
                let mut metadata = base.clone();
                metadata.insert(POSITION_KEY.into(), a.position.to_string());
                metadata.insert(HASH_KEY.into(), a.hash.to_hex());
                EventEnvelope {
                    aggregate_id: context.aggregate_id.clone(),
                    sequence: a.stream_version as usize,
                    payload,
                    metadata,
                }
            })
            .collect())
    }
}
