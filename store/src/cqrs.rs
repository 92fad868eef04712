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
//! Commands on one aggregate are serialised in the process, and the
//! aggregate's state is kept in memory between them (up to a bound on the
//! number of aggregates), so the next command skips the read: a meeting with
//! 20,000 ballots is loaded once, and concurrent ballots on it queue rather
//! than fail each other with version conflicts. `load_aggregate` takes the
//! aggregate's lock and the context holds it until `commit` (or until the
//! context is dropped, when `handle` refused the command). After `handle`,
//! the context holds the state with the new events applied (cqrs-es 0.5's
//! `EventSink` applies each event it is given), which is what the commit
//! keeps. A refused command leaves the state as it was loaded, so it is kept
//! too: aggregates used with this store must decide in full before writing
//! to the sink (every windledger aggregate does, and its property tests check
//! that a refused command leaves the state untouched). A state that is
//! stale because another process appended fails its commit with a version
//! conflict and is dropped, and the retry reloads.
//!
//! Commits are pipelined: `commit` queues its append in the store's writer
//! while it holds the lock, keeps the state with its events for the next
//! command, and releases the lock before the append commits. The next
//! command's append, queued behind it, expects the version this one leaves,
//! so both may go in one group commit; if this one fails, the next fails
//! its expected version (a version conflict, to retry), and every state
//! that did not commit is dropped. Concurrent commands on one aggregate (a
//! meeting's ballots) thus share group commits instead of each waiting for
//! the one before to commit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cqrs_es::{
    Aggregate, AggregateContext, AggregateError, DomainEvent, EventEnvelope, EventStore,
};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, watch};
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

/// An aggregate's lock and, between commands, its state at a version.
type Slot<A> = Arc<AsyncMutex<Option<Kept<A>>>>;

/// An aggregate's state at a version, and, when that state holds events
/// whose commit is still in flight, that commit's outcome.
type Kept<A> = (u64, A, Option<Pending>);

/// The outcome of a commit in flight, for the commands that decided on the
/// state it leaves: `None` until it is known, then `Some(None)` if it
/// committed, `Some(Some(error))` if not.
type Pending = watch::Receiver<Option<Option<StoreError>>>;

/// One ledger of the store, seen as a cqrs-es event store for aggregates `A`.
///
/// Clones share the aggregates kept in memory and their locks: give a clone
/// to whatever reads aggregates besides the `CqrsFramework` (a service
/// answering another aggregate, say), so that it sees every commit. A
/// separate instance on the same ledger would keep states of its own, which
/// go stale when the other commits.
pub struct LedgerEventStore<A> {
    store: Store,
    ledger: LedgerId,
    /// Aggregate id -> its slot.
    slots: Arc<Mutex<HashMap<String, Slot<A>>>>,
    /// Aggregates read from the store (rather than found in memory).
    stream_loads: Arc<AtomicU64>,
    /// Aggregate id -> its committed events folded, at their last version,
    /// for [`LedgerEventStore::read_committed`].
    committed: Arc<Mutex<HashMap<String, Committed<A>>>>,
    /// Events read from the store by `read_committed`.
    committed_reads: Arc<AtomicU64>,
}

/// A stream's committed events folded, and the last version folded.
type Committed<A> = Arc<AsyncMutex<(u64, A)>>;

impl<A> Clone for LedgerEventStore<A> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            ledger: self.ledger.clone(),
            slots: Arc::clone(&self.slots),
            stream_loads: Arc::clone(&self.stream_loads),
            committed: Arc::clone(&self.committed),
            committed_reads: Arc::clone(&self.committed_reads),
        }
    }
}

impl<A> LedgerEventStore<A> {
    pub fn new(store: Store, ledger: LedgerId) -> Self {
        Self {
            store,
            ledger,
            slots: Arc::new(Mutex::new(HashMap::new())),
            stream_loads: Arc::new(AtomicU64::new(0)),
            committed: Arc::new(Mutex::new(HashMap::new())),
            committed_reads: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many events [`LedgerEventStore::read_committed`] read from the
    /// store: each committed event once, not once a read.
    pub fn committed_reads(&self) -> u64 {
        self.committed_reads.load(Ordering::Relaxed)
    }

    /// How many times an aggregate was read from the store because its state
    /// was not in memory: a measure of the cache's use.
    pub fn stream_loads(&self) -> u64 {
        self.stream_loads.load(Ordering::Relaxed)
    }

    fn slot(&self, aggregate_id: &str) -> Slot<A> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(aggregate_id) {
            return Arc::clone(slot);
        }
        if slots.len() >= MAX_CACHED_AGGREGATES {
            // Evict an aggregate no command is using; if all are in use the
            // map grows past the bound until they finish.
            let idle = slots
                .iter()
                .find(|(_, slot)| Arc::strong_count(slot) == 1)
                .map(|(id, _)| id.clone());
            if let Some(idle) = idle {
                slots.remove(&idle);
            }
        }
        let slot: Slot<A> = Arc::new(AsyncMutex::new(None));
        slots.insert(aggregate_id.to_owned(), Arc::clone(&slot));
        slot
    }
}

/// The id of a command's `index`-th event on a stream.
fn command_event_id(ledger: &LedgerId, stream: &StreamId, command: &str, index: usize) -> Uuid {
    Uuid::new_v5(
        &EVENT_ID_NAMESPACE,
        format!("{ledger}\n{stream}\n{command}\n{index}").as_bytes(),
    )
}

impl<A: Aggregate> LedgerEventStore<A> {
    /// The events a command with this id recorded on the aggregate, if it
    /// was recorded: for a command whose outcome is unknown (the database
    /// went away during its commit), which a retry must not apply twice.
    pub async fn recorded_for_command(
        &self,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let stream = aggregate_stream::<A>(aggregate_id)?;
        let first = command_event_id(&self.ledger, &stream, command_id, 0);
        let Some(first) = self.store.event_by_id(&self.ledger, first).await? else {
            return Ok(Vec::new());
        };
        // A command's events are consecutive on its stream.
        const MOST: u32 = 1_000;
        let mut events = vec![first];
        let following = self
            .store
            .read_stream(&self.ledger, &stream, events[0].stream_version, MOST)
            .await?;
        events.extend(
            following
                .into_iter()
                .take_while(|e| e.metadata.command_id.as_deref() == Some(command_id)),
        );
        Ok(events)
    }
}

/// The stream of an aggregate: `<type>/<id>`.
pub fn aggregate_stream<A: Aggregate>(aggregate_id: &str) -> Result<StreamId, StoreError> {
    StreamId::parse(format!("{}/{}", A::TYPE, aggregate_id))
}

/// An aggregate loaded at a version, holding the aggregate's lock.
pub struct LedgerAggregateContext<A: Aggregate> {
    pub aggregate_id: String,
    pub aggregate: A,
    /// The number of events applied.
    pub version: u64,
    /// Released by `commit`, or on drop when the command was refused.
    guard: Option<OwnedMutexGuard<Option<Kept<A>>>>,
    /// The outcome of the commit whose events this state holds, while it is
    /// in flight.
    pending: Option<Pending>,
}

impl<A: Aggregate> AggregateContext<A> for LedgerAggregateContext<A> {
    fn aggregate(&mut self) -> &mut A {
        &mut self.aggregate
    }
}

impl<A: Aggregate> Drop for LedgerAggregateContext<A> {
    /// Not committed: `handle` refused the command and left the state as it
    /// was loaded, which stays in memory for the next command.
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            *guard = Some((
                self.version,
                std::mem::take(&mut self.aggregate),
                self.pending.take(),
            ));
        }
    }
}

fn to_aggregate_error<E: std::error::Error>(e: StoreError) -> AggregateError<E> {
    match e {
        StoreError::WrongExpectedVersion { .. } => AggregateError::AggregateConflict,
        StoreError::Database(_) | StoreError::ShuttingDown | StoreError::Unavailable(_) => {
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

impl<A> LedgerEventStore<A>
where
    A: Aggregate + 'static,
{
    /// The aggregate as its committed events leave it, read from the
    /// database: never the state kept in memory, which may hold events
    /// whose commit is still in flight (and may fail). What another
    /// aggregate's decision relies on (is this resolution adopted? what
    /// were last year's closing balances?) is read this way.
    pub async fn load_committed(&self, aggregate_id: &str) -> Result<A, AggregateError<A::Error>> {
        self.read_aggregate(aggregate_id).await.map(|(_, a)| a)
    }

    /// `read` of the aggregate as its committed events leave it, as
    /// [`LedgerEventStore::load_committed`], but folding only the events
    /// committed since the last such read: the fold is kept (one per
    /// aggregate id read this way, for the life of the store's clones), so
    /// a service asked once a command (the roll of the territory's
    /// residents, once a ballot) reads each event once, not the whole
    /// stream each time. The database stays the truth: every read asks it
    /// for what came after the version folded.
    pub async fn read_committed<R>(
        &self,
        aggregate_id: &str,
        read: impl FnOnce(&A) -> R,
    ) -> Result<R, AggregateError<A::Error>> {
        let stream = aggregate_stream::<A>(aggregate_id).map_err(to_aggregate_error)?;
        let slot = {
            let mut committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(committed.entry(aggregate_id.to_owned()).or_default())
        };
        let mut kept = slot.lock().await;
        let (version, aggregate) = &mut *kept;
        let events = self
            .store
            .read_stream_payloads(&self.ledger, &stream, *version)
            .await
            .map_err(to_aggregate_error)?;
        self.committed_reads
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        // Decoded in full before any is folded: a payload that does not
        // decode leaves the fold as it was.
        let decoded = events
            .into_iter()
            .map(|(v, payload)| {
                serde_json::from_str::<A::Event>(&payload)
                    .map(|event| (v, event))
                    .map_err(|e| {
                        AggregateError::DeserializationError(
                            format!("stream {stream} version {v}: {e}").into(),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (v, event) in decoded {
            aggregate.apply(event);
            *version = v;
        }
        Ok(read(aggregate))
    }

    /// The stream's committed events folded, with the last version.
    async fn read_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<(u64, A), AggregateError<A::Error>> {
        self.stream_loads.fetch_add(1, Ordering::Relaxed);
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
        Ok((version, aggregate))
    }
}

impl<A> EventStore<A> for LedgerEventStore<A>
where
    A: Aggregate + 'static,
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
        let mut guard = self.slot(aggregate_id).lock_owned().await;
        if let Some((version, aggregate, pending)) = guard.take() {
            return Ok(LedgerAggregateContext {
                aggregate_id: aggregate_id.to_string(),
                aggregate,
                version,
                guard: Some(guard),
                pending,
            });
        }
        let (version, aggregate) = self.read_aggregate(aggregate_id).await?;
        Ok(LedgerAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            version,
            guard: Some(guard),
            pending: None,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        mut context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        if events.is_empty() {
            // Nothing happened: the context's drop keeps the state.
            return Ok(Vec::new());
        }
        // From here the state is kept only if the append succeeds: on any
        // error it may hold events that were not stored.
        let Some(mut guard) = context.guard.take() else {
            return Err(AggregateError::UnexpectedError(
                "the aggregate's context was committed twice".into(),
            ));
        };
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
                Some(command) => command_event_id(&self.ledger, &stream, command, index),
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
        // Queued while the aggregate is locked, so that the next command's
        // append queues after this one.
        let queued = self
            .store
            .append_queued(
                &self.ledger,
                vec![StreamAppend {
                    stream_id: stream,
                    expected,
                    events: new_events,
                }],
            )
            .map_err(to_aggregate_error)?;
        // The next command may decide on the state these events leave
        // before they commit: if they do not, its own append fails its
        // expected version, and the state is dropped below.
        let version = context.version + events.len() as u64;
        let (done, pending) = watch::channel(None);
        *guard = Some((
            version,
            std::mem::take(&mut context.aggregate),
            Some(pending),
        ));
        let slot = Arc::clone(tokio::sync::OwnedMutexGuard::mutex(&guard));
        drop(guard);
        let before = context.pending.take();
        // In a task of its own: the outcome is awaited, and a state that
        // did not commit dropped, even if the caller goes away.
        let appended = tokio::spawn(async move {
            let mut outcome = queued.await;
            let committed = matches!(
                &outcome,
                Ok(a) if !a.already_stored
                    && a.events.last().map(|e| e.stream_version) == Some(version)
            );
            if !committed {
                *slot.lock().await = None;
            }
            // Decided on the state of a commit that failed: that failure
            // (the database gone, say) is the reason, not a conflict.
            if let (Err(StoreError::WrongExpectedVersion { .. }), Some(mut before)) =
                (&outcome, before)
                && let Ok(failed) = before.wait_for(Option::is_some).await
                && let Some(Some(reason)) = failed.clone()
            {
                outcome = Err(reason);
            }
            done.send_replace(Some(outcome.as_ref().err().cloned()));
            outcome
        })
        .await
        .map_err(|e| AggregateError::UnexpectedError(Box::new(e)))?
        .map_err(to_aggregate_error)?;
        if appended.already_stored {
            // A retry of a command that already took effect: nothing new
            // happened, so nothing is dispatched to queries again.
            return Ok(Vec::new());
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
