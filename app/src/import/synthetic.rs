//! A synthetic farm written straight to the store: the generator
//! (`windledger_fixtures::synthetic`) already ran every command through its
//! aggregate, so its events are appended as they come, in batches, without
//! running the commands again. For benchmarks and load tests, up to
//! millions of events.

use std::collections::HashSet;

use thiserror::Error;
use windledger_fixtures::synthetic::GeneratedEvent;
/// What farm to generate (re-exported for callers of [`write_synthetic`]).
pub use windledger_fixtures::synthetic::Synthetic;
use windledger_store::{
    ExpectedVersion, Head, LedgerId, Metadata, NewEvent, Store, StoreError, StreamAppend, StreamId,
};

/// The actor recorded in the metadata of every synthetic event.
pub const SYNTHETIC_ACTOR: &str = "synthetic";

/// Events per append: several streams each, within what the store writes
/// as one group.
const BATCH: usize = 2_000;

#[derive(Debug, Error)]
pub enum SyntheticError {
    #[error(
        "the ledger {ledger} already holds {size} events: a synthetic farm is written to an empty ledger only (choose another with --ledger)"
    )]
    NotEmpty { ledger: LedgerId, size: u64 },
    #[error("the synthetic farm could not be written to the ledger {ledger}: {source}")]
    Store {
        ledger: LedgerId,
        #[source]
        source: StoreError,
    },
    #[error("the generator stopped: {0}")]
    Generator(String),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticImported {
    pub events: u64,
    pub head: Head,
}

/// Writes the farm `config` describes to `ledger` (created if needed, and
/// which must be empty). `progress` is called after each batch with the
/// events written so far.
pub async fn write_synthetic(
    store: &Store,
    ledger: &LedgerId,
    config: &Synthetic,
    mut progress: impl FnMut(u64),
) -> Result<SyntheticImported, SyntheticError> {
    let failed = |source| SyntheticError::Store {
        ledger: ledger.clone(),
        source,
    };
    store.create_ledger(ledger).await.map_err(failed)?;
    let size = store.head(ledger).await.map_err(failed)?.size;
    if size > 0 {
        return Err(SyntheticError::NotEmpty {
            ledger: ledger.clone(),
            size,
        });
    }

    // The generator is CPU work that polls the domain's futures itself: a
    // blocking thread of its own, a few batches ahead of the appends.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<GeneratedEvent>>(8);
    let config = config.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let mut events = config.generate().peekable();
        while events.peek().is_some() {
            let chunk: Vec<_> = events.by_ref().take(BATCH).collect();
            if tx.blocking_send(chunk).is_err() {
                // The writer stopped; its error is the one to report.
                break;
            }
        }
    });

    let mut written = 0u64;
    let mut outcome = Ok(());
    while let Some(chunk) = rx.recv().await {
        let count = chunk.len() as u64;
        if let Err(e) = append_chunk(store, ledger, chunk).await {
            outcome = Err(failed(e));
            break;
        }
        written += count;
        progress(written);
    }
    drop(rx);
    if let Err(e) = producer.await {
        let message = match e.try_into_panic() {
            Ok(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "it panicked".to_owned()),
            Err(e) => e.to_string(),
        };
        return Err(SyntheticError::Generator(message));
    }
    outcome?;
    let head = store.head(ledger).await.map_err(failed)?;
    Ok(SyntheticImported {
        events: written,
        head,
    })
}

/// Appends a chunk in the generator's order. Consecutive events of a stream
/// go in one `StreamAppend`; a stream appears at most once per append, so
/// the batch is flushed before a stream comes back.
async fn append_chunk(
    store: &Store,
    ledger: &LedgerId,
    chunk: Vec<GeneratedEvent>,
) -> Result<(), StoreError> {
    let metadata = Metadata {
        actor: Some(SYNTHETIC_ACTOR.to_owned()),
        extra: std::collections::BTreeMap::from([(
            crate::import::ENTRY_KEY.to_owned(),
            crate::import::ENTRY_IMPORTED.to_owned(),
        )]),
        ..Metadata::default()
    };
    let mut batch: Vec<StreamAppend> = Vec::new();
    let mut in_batch: HashSet<String> = HashSet::new();
    for event in chunk {
        let continues = batch
            .last()
            .is_some_and(|last| last.stream_id.as_str() == event.stream_id);
        if !continues && in_batch.contains(&event.stream_id) {
            store.append(ledger, std::mem::take(&mut batch)).await?;
            in_batch.clear();
        }
        let new = NewEvent {
            event_id: uuid::Uuid::new_v4(),
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload: event.payload,
            metadata: metadata.clone(),
        };
        match batch.last_mut() {
            Some(last) if last.stream_id.as_str() == event.stream_id => last.events.push(new),
            _ => {
                in_batch.insert(event.stream_id.clone());
                batch.push(StreamAppend {
                    stream_id: StreamId::parse(event.stream_id)?,
                    expected: ExpectedVersion::Any,
                    events: vec![new],
                });
            }
        }
    }
    if !batch.is_empty() {
        store.append(ledger, batch).await?;
    }
    Ok(())
}
