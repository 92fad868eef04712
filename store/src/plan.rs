//! Group planning: given a ledger's head and what is stored of the streams
//! and event ids a group of appends names, decide each append's fate and
//! chain the accepted events. Pure, so both backends share it and it can be
//! tested without a database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::chain::{self, HashedFields, PreparedEvent, StoredContent};
use crate::error::StoreError;
use crate::seal::{Seal, Sealer};
use crate::types::{
    Appended, AppendedEvent, ExpectedVersion, Hash, Head, LedgerId, RecordedEvent, StreamId,
};

/// One stream's part of an append, with its events prepared.
#[derive(Clone, Debug)]
pub(crate) struct PreparedStream {
    pub stream_id: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<PreparedEvent>,
}

/// The event ids a group of appends names, in order.
pub(crate) fn event_ids<'a>(
    appends: &'a [&'a [PreparedStream]],
) -> impl Iterator<Item = Uuid> + 'a {
    appends
        .iter()
        .flat_map(|a| a.iter().flat_map(|s| s.events.iter().map(|e| e.event_id)))
}

/// The streams a group of appends names, in order (once for each append
/// that names it).
pub(crate) fn stream_ids<'a>(appends: &'a [&'a [PreparedStream]]) -> impl Iterator<Item = &'a str> {
    appends
        .iter()
        .flat_map(|a| a.iter().map(|s| s.stream_id.as_str()))
}

/// A row to insert into `events`.
#[derive(Clone, Debug)]
pub(crate) struct NewRow {
    pub position: u64,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: String,
    pub metadata: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl NewRow {
    /// The row of an event read back from a backup, as it was written
    /// (its metadata as JSON text).
    pub fn restored(e: &RecordedEvent) -> Result<Self, StoreError> {
        Ok(Self {
            position: e.position,
            stream_id: e.stream_id.clone(),
            stream_version: e.stream_version,
            event_id: e.event_id,
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            payload: e.payload.get().to_owned(),
            metadata: serde_json::to_string(&e.metadata)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            prev_hash: e.prev_hash,
            hash: e.hash,
        })
    }
}

/// What a group's transaction writes, and what each caller is told.
#[derive(Debug)]
pub(crate) struct GroupPlan {
    pub rows: Vec<NewRow>,
    pub results: Vec<Result<Appended, StoreError>>,
    pub head: Head,
}

/// What a ledger's writer remembers between groups, to skip reads.
///
/// `head` is the head after this writer's last commit; `versions` are lower
/// bounds of stream versions (exact unless another process appended). The
/// fast path trusts them and lets the database catch it when they are stale:
/// a moved head row leaves the insert undone, and a stale stream version
/// collides with the unique (ledger, stream, version) index.
#[derive(Debug, Default)]
pub(crate) struct WriterCache {
    pub head: Option<Head>,
    pub versions: HashMap<StreamId, u64>,
    /// The head after this writer's last commit. Never forgotten: a head
    /// found behind it means history was cut behind the store's back.
    pub committed: Option<Head>,
}

/// Streams a writer remembers at most; past that it forgets them all and
/// learns them again (each costs one slow group).
const MAX_CACHED_STREAMS: usize = 100_000;

impl WriterCache {
    pub fn forget(&mut self) {
        self.head = None;
        self.versions.clear();
    }

    /// After a commit (or a read under the lock): `head` is exact, and so are
    /// the versions of the streams the group named.
    pub fn learn(&mut self, head: Head, versions: impl IntoIterator<Item = (StreamId, u64)>) {
        if self.versions.len() > MAX_CACHED_STREAMS {
            self.versions.clear();
        }
        self.head = Some(head);
        self.versions.extend(versions);
    }

    /// A plan made from the cache alone, when the cache can decide the whole
    /// group: every append accepted, every stream with events. Anything else
    /// (a refusal, which may come from a stale version; a retry, whose ids
    /// are only found by reading) goes the slow way.
    pub fn plan(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
    ) -> Option<GroupPlan> {
        let head = self.head?;
        if appends
            .iter()
            .any(|a| a.iter().any(|s| s.events.is_empty()))
        {
            return None;
        }
        let versions = appends
            .iter()
            .flat_map(|a| a.iter())
            .map(|s| {
                let v = self.versions.get(&s.stream_id).copied().unwrap_or(0);
                (s.stream_id.clone(), v)
            })
            .collect();
        let state = GroupState {
            head,
            existing: HashMap::new(),
            versions,
        };
        let plan = plan_group(ledger, state, appends, recorded_at);
        plan.results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|a| !a.already_stored))
            .then_some(plan)
    }
}

/// Refuses to write on a head behind what this writer last committed (a
/// head of the same size with another hash is behind too: it is not the
/// history this writer extended).
pub(crate) fn check_not_behind(
    ledger: &LedgerId,
    found: Head,
    committed: Option<Head>,
) -> Result<(), StoreError> {
    match committed {
        Some(c) if found.size < c.size || (found.size == c.size && found.hash != c.hash) => {
            Err(StoreError::HeadWentBack {
                ledger: ledger.clone(),
                found: found.size,
                found_hash: found.hash,
                committed: c.size,
                committed_hash: c.hash,
            })
        }
        _ => Ok(()),
    }
}

impl GroupPlan {
    /// The seal of the rows the plan writes (`None` when it writes none).
    pub fn seal(&self, ledger: &LedgerId, sealer: &Sealer) -> Option<Seal> {
        let first = self.rows.first()?.position;
        Some(sealer.seal(ledger, first, self.head.size, &self.head.hash))
    }

    /// The version of each stream the plan writes to, after it.
    pub fn versions(&self) -> impl Iterator<Item = (StreamId, u64)> + '_ {
        self.rows
            .iter()
            .map(|r| (r.stream_id.clone(), r.stream_version))
    }
}

/// What the transaction read under the ledger's lock.
pub(crate) struct GroupState {
    pub head: Head,
    /// Stored events whose ids the group names.
    pub existing: HashMap<Uuid, StoredContent>,
    /// Current version of each stream the group names (absent: 0).
    pub versions: HashMap<StreamId, u64>,
}

pub(crate) fn plan_group(
    ledger: &LedgerId,
    mut state: GroupState,
    appends: &[&[PreparedStream]],
    recorded_at: DateTime<Utc>,
) -> GroupPlan {
    let mut rows = Vec::new();
    let results = appends
        .iter()
        .map(|streams| plan_one(ledger, &mut state, streams, recorded_at, &mut rows))
        .collect();
    GroupPlan {
        rows,
        results,
        head: state.head,
    }
}

fn plan_one(
    ledger: &LedgerId,
    state: &mut GroupState,
    streams: &[PreparedStream],
    recorded_at: DateTime<Utc>,
    rows: &mut Vec<NewRow>,
) -> Result<Appended, StoreError> {
    if let Some(appended) = idempotent_retry(state, streams)? {
        return Ok(appended);
    }
    for s in streams {
        let actual = state.versions.get(&s.stream_id).copied().unwrap_or(0);
        if !s.expected.admits(actual) {
            return Err(StoreError::WrongExpectedVersion {
                stream: s.stream_id.clone(),
                expected: s.expected,
                actual,
            });
        }
    }
    let mut new_rows = Vec::new();
    let mut head = state.head;
    for s in streams {
        let current = state.versions.get(&s.stream_id).copied().unwrap_or(0);
        for (version, e) in (current + 1..).zip(&s.events) {
            let position = head.size + 1;
            let json = chain::canonical_event_json(&HashedFields {
                stream_id: s.stream_id.as_str(),
                stream_version: version,
                event_id: &e.event_id,
                event_type: &e.event_type,
                schema_version: e.schema_version,
                payload: &e.payload,
                metadata: &e.metadata_json,
                recorded_at: &recorded_at,
            })?;
            let hash = chain::event_hash(ledger, position, &head.hash, &json);
            new_rows.push(NewRow {
                position,
                stream_id: s.stream_id.clone(),
                stream_version: version,
                event_id: e.event_id,
                event_type: e.event_type.clone(),
                schema_version: e.schema_version,
                payload: e.payload.clone(),
                metadata: e.metadata_json.clone(),
                prev_hash: head.hash,
                hash,
            });
            head = Head {
                size: position,
                hash,
            };
        }
    }
    // Accepted: make it visible to the rest of the group.
    state.head = head;
    let mut appended = Vec::with_capacity(new_rows.len());
    let events = streams.iter().flat_map(|s| s.events.iter());
    for (row, e) in new_rows.iter().zip(events) {
        state
            .versions
            .insert(row.stream_id.clone(), row.stream_version);
        state.existing.insert(
            row.event_id,
            StoredContent {
                event_id: row.event_id,
                position: row.position,
                stream_id: row.stream_id.clone(),
                stream_version: row.stream_version,
                event_type: row.event_type.clone(),
                schema_version: row.schema_version,
                payload: row.payload.clone(),
                metadata: e.metadata.clone(),
                hash: row.hash,
            },
        );
        appended.push(appended_event(&state.existing[&row.event_id]));
    }
    rows.extend(new_rows);
    Ok(Appended {
        events: appended,
        already_stored: false,
    })
}

/// `Some` when every event of the append is already stored with the same
/// content; an error when some are stored and others not, or differ.
fn idempotent_retry(
    state: &GroupState,
    streams: &[PreparedStream],
) -> Result<Option<Appended>, StoreError> {
    let mut found = Vec::new();
    let mut missing = None;
    for s in streams {
        for e in &s.events {
            match state.existing.get(&e.event_id) {
                Some(stored) if e.same_content(&s.stream_id, stored) => found.push(stored),
                Some(_) => {
                    return Err(StoreError::EventIdConflict {
                        event_id: e.event_id,
                        reason: "is already stored with other content".into(),
                    });
                }
                None => missing = Some(e.event_id),
            }
        }
    }
    match (found.first(), missing) {
        (None, _) => Ok(None),
        (Some(_), None) => Ok(Some(Appended {
            events: found.into_iter().map(appended_event).collect(),
            already_stored: true,
        })),
        (Some(stored), Some(_)) => Err(StoreError::EventIdConflict {
            event_id: stored.event_id,
            reason: "is already stored, but other events of the same batch are not: a batch is retried whole or not at all".into(),
        }),
    }
}

fn appended_event(stored: &StoredContent) -> AppendedEvent {
    AppendedEvent {
        event_id: stored.event_id,
        stream_id: stored.stream_id.clone(),
        stream_version: stored.stream_version,
        position: stored.position,
        hash: stored.hash,
    }
}

/// Checks a batch and prepares its events, in the caller's task.
pub(crate) fn prepare(
    streams: Vec<crate::types::StreamAppend>,
) -> Result<Vec<PreparedStream>, StoreError> {
    if streams.iter().all(|s| s.events.is_empty()) {
        return Err(StoreError::InvalidBatch("the batch holds no event".into()));
    }
    let mut seen_streams = std::collections::HashSet::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut prepared = Vec::with_capacity(streams.len());
    for s in streams {
        if !seen_streams.insert(s.stream_id.clone()) {
            return Err(StoreError::InvalidBatch(format!(
                "stream {} appears twice in one batch; put all its events in one entry",
                s.stream_id
            )));
        }
        let mut events = Vec::with_capacity(s.events.len());
        for e in s.events {
            if !seen_ids.insert(e.event_id) {
                return Err(StoreError::InvalidBatch(format!(
                    "event id {} appears twice in one batch",
                    e.event_id
                )));
            }
            events.push(PreparedEvent::new(e)?);
        }
        // A stream with no event still has its expected version checked.
        prepared.push(PreparedStream {
            stream_id: s.stream_id,
            expected: s.expected,
            events,
        });
    }
    Ok(prepared)
}
