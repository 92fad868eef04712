//! The store's handle: connection, the group-commit writers, reads,
//! subscriptions and verification.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::Stream;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, warn};

use crate::Checkpoint;
use crate::chain::timestamp;
use crate::checkpoint::CheckpointVerifier;
use crate::error::StoreError;
use crate::health::Health;
use crate::news::{Announcer, LedgerNews};
use crate::pg::Pg;
use crate::plan::{self, GroupPlan, PreparedStream, WriterCache};
use crate::replication::{Lsn, spawn_head_poller};
use crate::seal::{Seal, Sealer};
use crate::sqlite::Sqlite;
use crate::types::{
    Appended, Hash, Head, LedgerId, MAX_POSITION, RecordedEvent, StreamAppend, StreamId,
};
use crate::verify::{Audit, Verification};

/// Most appends one group transaction takes.
const MAX_GROUP_APPENDS: usize = 256;
/// Most events one group transaction takes (a larger single append still
/// goes alone).
const MAX_GROUP_EVENTS: usize = 8_192;
/// Events read per query by subscriptions and verification.
const PAGE: u32 = 5_000;
/// Shortest interval between two NOTIFYs from this process.
const NOTIFY_EVERY: Duration = Duration::from_millis(20);
/// A subscription that was told of nothing new re-reads after this long:
/// covers a missed notification and writers in other processes on SQLite.
const POLL: Duration = Duration::from_millis(500);

/// How to reach the database, and the key that seals what this process
/// appends.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `postgres://...` or `sqlite://path` (`sqlite://path?mode=rwc` creates).
    pub url: String,
    /// Most database connections this process opens.
    pub max_connections: u32,
    /// The key that seals every commit (see [`Sealer`]). Without one the
    /// store reads and verifies, and refuses every append with
    /// [`StoreError::NoSealKey`].
    pub sealer: Option<Sealer>,
    /// Reads only, from a PostgreSQL hot standby or a primary: no
    /// migration is applied, every append is refused with
    /// [`StoreError::ReadOnly`], and subscribers learn of commits by a poll
    /// of the ledgers' heads (see [`crate::replication`]).
    pub read_only: bool,
}

impl StoreOptions {
    /// Options for a store that reads and verifies only.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            sealer: None,
            read_only: false,
        }
    }

    /// These options, reading only (see [`StoreOptions::read_only`]).
    pub fn reading_only(mut self) -> Self {
        self.read_only = true;
        self.sealer = None;
        self
    }

    /// These options, appends sealed by `sealer`.
    pub fn sealed_by(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }
}

/// A checkpoint the server signed, as recorded beside the ledger: its size
/// and head, and the signed note (whose signature the reader checks with
/// the verifier key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub ledger: LedgerId,
    pub size: u64,
    pub head: Hash,
    pub note: String,
}

/// A whole ledger read back from a backup: what [`Store::restore_ledger`]
/// writes, row for row.
#[derive(Clone, Copy, Debug)]
pub struct Restored<'a> {
    pub ledger: &'a LedgerId,
    pub head: Head,
    /// In position order, from 1 to `head.size`.
    pub events: &'a [RecordedEvent],
    pub seals: &'a [Seal],
    pub checkpoints: &'a [(SignedCheckpoint, DateTime<Utc>)],
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Postgres(Pg),
    Sqlite(Sqlite),
}

impl Backend {
    async fn write_group(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        cache: &mut WriterCache,
        sealer: &Sealer,
    ) -> Result<(GroupPlan, DateTime<Utc>), StoreError> {
        let recorded_at = timestamp::now();
        let plan = match self {
            Self::Postgres(b) => {
                b.write_group(ledger, appends, recorded_at, cache, sealer)
                    .await
            }
            Self::Sqlite(b) => {
                b.write_group(ledger, appends, recorded_at, cache, sealer)
                    .await
            }
        }?;
        Ok((plan, recorded_at))
    }
}

/// A handle on the event store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backend: Backend,
    /// Seals every commit; `None`: appends are refused.
    sealer: Option<Sealer>,
    read_only: bool,
    writers: Mutex<HashMap<LedgerId, Arc<LedgerWriter>>>,
    /// On PostgreSQL, commits to announce to other processes (NOTIFY), sent
    /// by a task of their own after the commit so that no append waits on it.
    notifier: Option<mpsc::UnboundedSender<(LedgerId, u64)>>,
    announcer: Announcer,
    /// On PostgreSQL, the task that LISTENs for other processes' commits:
    /// started by the first subscription, so that a process that never
    /// subscribes holds no extra connection.
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Whether the database answers (see `health`).
    health: Arc<Health>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let listener = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(listener) = listener.as_ref() {
            listener.abort();
        }
    }
}

#[derive(Debug)]
struct WriteRequest {
    id: u64,
    streams: Vec<PreparedStream>,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// A ledger's appends: a queue, and a lock whose holder (the leader) writes
/// what is queued as one group. Followers wait for their answer or for the
/// lock, whichever comes first.
#[derive(Debug)]
struct LedgerWriter {
    ledger: LedgerId,
    queue: Mutex<VecDeque<WriteRequest>>,
    cache: Arc<tokio::sync::Mutex<WriterCache>>,
}

impl LedgerWriter {
    /// Takes the next group off the queue.
    fn take_group(&self) -> Vec<WriteRequest> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let mut group = Vec::new();
        let mut events = 0;
        while group.len() < MAX_GROUP_APPENDS && events < MAX_GROUP_EVENTS {
            let Some(next) = queue.pop_front() else { break };
            events += next.streams.iter().map(|s| s.events.len()).sum::<usize>();
            group.push(next);
        }
        group
    }
}

/// Takes an append off its writer's queue if it is still there (a no-op
/// once a leader took it).
struct Unqueue {
    writer: Arc<LedgerWriter>,
    id: u64,
}

impl Drop for Unqueue {
    fn drop(&mut self) {
        self.writer
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|r| r.id != self.id);
    }
}

/// The same call on whichever backend `$store` runs on, awaited (`$b`
/// names the backend in `$call`: each is a type of its own with the same
/// methods).
macro_rules! on_backend {
    ($store:expr, |$b:ident| $call:expr) => {
        match $store.backend() {
            Backend::Postgres($b) => $call.await,
            Backend::Sqlite($b) => $call.await,
        }
    };
}
pub(crate) use on_backend;

impl Store {
    pub(crate) fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    /// Connects, applies the migrations, and (on PostgreSQL) starts listening
    /// for other processes' commits.
    pub async fn connect(options: StoreOptions) -> Result<Self, StoreError> {
        let url = options.url.as_str();
        let announcer = Announcer::default();
        let mut notifier = None;
        let mut probe = None;
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pg = Pg::connect(url, options.max_connections, options.read_only).await?;
            if !options.read_only {
                notifier = Some(spawn_pg_notifier(pg.clone()));
            }
            probe = Some(pg.clone());
            Backend::Postgres(pg)
        } else if options.read_only {
            return Err(StoreError::ReadOnly(
                "a read-only store follows a PostgreSQL database (a hot standby, or the primary)"
                    .into(),
            ));
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(Sqlite::connect(url, options.max_connections).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(options.url));
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                sealer: options.sealer,
                read_only: options.read_only,
                writers: Mutex::new(HashMap::new()),
                announcer,
                notifier,
                listener: Mutex::new(None),
                health: Health::new(probe),
            }),
        })
    }

    /// Whether this store only reads (see [`StoreOptions::read_only`]).
    pub fn read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Where the database's write-ahead log stands (see
    /// [`crate::replication`]): on a primary, past every commit
    /// acknowledged so far; on a hot standby, what it has replayed. `None`
    /// on SQLite, which has no replicas.
    pub async fn wal_position(&self) -> Result<Option<Lsn>, StoreError> {
        match self.backend() {
            Backend::Postgres(pg) => self.guarded(pg.wal_position()).await.map(Some),
            Backend::Sqlite(_) => Ok(None),
        }
    }

    /// `"postgres"` or `"sqlite"`.
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// Creates a ledger if it does not exist yet.
    pub async fn create_ledger(&self, ledger: &LedgerId) -> Result<(), StoreError> {
        self.guarded(async { on_backend!(self, |b| b.create_ledger(ledger)) })
            .await
    }

    /// Every ledger's id, in order.
    pub async fn ledgers(&self) -> Result<Vec<LedgerId>, StoreError> {
        let sizes = self.ledger_sizes().await?;
        Ok(sizes.into_iter().map(|(id, _)| id).collect())
    }

    /// Every ledger's size as last committed, by id, in one read.
    pub async fn ledger_sizes(&self) -> Result<Vec<(LedgerId, u64)>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.ledger_sizes()) })
            .await
    }

    /// The ledger's size and head hash as last committed.
    pub async fn head(&self, ledger: &LedgerId) -> Result<Head, StoreError> {
        let head = self
            .guarded(async { on_backend!(self, |b| b.head(ledger)) })
            .await?
            .ok_or_else(|| StoreError::LedgerNotFound(ledger.clone()))?;
        // A head read is news to this process's subscribers: one that
        // moved by another process's commit (on a standby, the primary's)
        // is read at once rather than at the next poll.
        self.inner.announcer.announce(ledger, head.size);
        Ok(head)
    }

    /// Whether the database answers: false from the moment a call found it
    /// gone (and a fresh connection failed too) until a probe reaches it
    /// again. Meanwhile every call fails at once with
    /// [`StoreError::Unavailable`].
    pub fn available(&self) -> bool {
        self.inner.health.available()
    }

    /// A database call behind the breaker: refused at once while the
    /// database is unavailable, given up as soon as it becomes so (rather
    /// than when a pool acquire times out, seconds later, while others
    /// queue behind the call's locks), and its connection failures observed.
    /// Giving up drops the call's future, which every call allows: an
    /// append's group is written by a task of its own when it holds others'
    /// appends, and a lone append's outcome is then unknown, as with any
    /// connection lost during a commit.
    pub(crate) async fn guarded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let health = &self.inner.health;
        health.check()?;
        let mut down = health.watch();
        let result = tokio::select! {
            biased;
            result = call => result,
            _ = down.wait_for(Option::is_some) => Err(health.unavailable()),
        };
        if let Err(e) = &result {
            health.observe(e);
        }
        result
    }

    /// Appends events to one or more streams of a ledger, all or nothing.
    ///
    /// Concurrent appends to a ledger are grouped into one transaction (group
    /// commit); each caller gets its own outcome, so a version conflict in one
    /// append fails that append only.
    pub async fn append(
        &self,
        ledger: &LedgerId,
        streams: Vec<StreamAppend>,
    ) -> Result<Appended, StoreError> {
        self.append_queued(ledger, streams)?.await
    }

    /// Queues an append at once and returns the future of its outcome.
    /// Appends queued one after the other are written in that order (in one
    /// group, or in consecutive ones), so a caller may queue the next append
    /// to a stream, expecting the version the previous one will leave,
    /// before that one commits: if the previous one fails, the next one
    /// fails its expected version. An append still queued when its future
    /// ends without an answer (dropped, or given up because the database is
    /// unavailable) is taken off the queue: it is not written later behind
    /// the caller's back. One already being written has an unknown outcome.
    pub fn append_queued(
        &self,
        ledger: &LedgerId,
        streams: Vec<StreamAppend>,
    ) -> Result<
        impl std::future::Future<Output = Result<Appended, StoreError>> + Send + 'static,
        StoreError,
    > {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if self.inner.read_only {
            return Err(StoreError::ReadOnly(
                "this server only reads: writes go to the writer".into(),
            ));
        }
        if self.inner.sealer.is_none() {
            return Err(StoreError::NoSealKey);
        }
        self.inner.health.check()?;
        let streams = plan::prepare(streams)?;
        let writer = self.writer(ledger);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (reply, outcome) = oneshot::channel();
        writer
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(WriteRequest { id, streams, reply });
        let store = self.clone();
        Ok(async move {
            let _unqueue = Unqueue {
                writer: Arc::clone(&writer),
                id,
            };
            store.guarded(store.outcome(&writer, id, outcome)).await
        })
    }

    /// Waits for a queued append's outcome, leading a group when the
    /// writer is free.
    async fn outcome(
        &self,
        writer: &Arc<LedgerWriter>,
        id: u64,
        mut outcome: oneshot::Receiver<Result<Appended, StoreError>>,
    ) -> Result<Appended, StoreError> {
        loop {
            tokio::select! {
                biased;
                result = &mut outcome => return result.map_err(|_| StoreError::ShuttingDown)?,
                cache = writer.cache.clone().lock_owned() => {
                    // Answered while we waited for the lock?
                    if let Ok(result) = outcome.try_recv() {
                        return result;
                    }
                    self.lead(writer, cache, id).await;
                }
            }
        }
    }

    /// Writes the next group as its leader. A group of the leader's own
    /// append alone is written in the leader's task (no hand-over, the
    /// common case when appends do not overlap); a group with others'
    /// appends is written by a task of its own, so that a leader whose caller
    /// goes away cannot leave the others' appends half done.
    async fn lead(
        &self,
        writer: &Arc<LedgerWriter>,
        mut cache: tokio::sync::OwnedMutexGuard<WriterCache>,
        own: u64,
    ) {
        let group = writer.take_group();
        if group.is_empty() {
            return;
        }
        let inner = self.inner.clone();
        let ledger = writer.ledger.clone();
        if group.len() == 1 && group[0].id == own {
            write_and_reply(&inner, &ledger, group, &mut cache).await;
        } else {
            let task = tokio::spawn(async move {
                write_and_reply(&inner, &ledger, group, &mut cache).await;
            });
            // The task ends by itself; its outcome reaches every caller.
            let _ = task.await;
        }
    }

    fn writer(&self, ledger: &LedgerId) -> Arc<LedgerWriter> {
        let mut writers = self.inner.writers.lock().unwrap_or_else(|p| p.into_inner());
        writers
            .entry(ledger.clone())
            .or_insert_with(|| {
                Arc::new(LedgerWriter {
                    ledger: ledger.clone(),
                    queue: Mutex::new(VecDeque::new()),
                    cache: Arc::new(tokio::sync::Mutex::new(WriterCache::default())),
                })
            })
            .clone()
    }

    /// Up to `limit` events of a ledger after position `after`, in order.
    pub async fn read_ledger(
        &self,
        ledger: &LedgerId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // No ledger reaches it, and the database's signed 64-bit positions
        // must not overflow (or wrap) on a position a client chose.
        if after >= MAX_POSITION {
            return Ok(Vec::new());
        }
        self.guarded(async { on_backend!(self, |b| b.read_ledger(ledger, after, limit)) })
            .await
    }

    /// Up to `limit` events of a stream after version `after_version`.
    pub async fn read_stream(
        &self,
        ledger: &LedgerId,
        stream: &StreamId,
        after_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if after_version >= MAX_POSITION {
            return Ok(Vec::new());
        }
        self.guarded(async {
            on_backend!(self, |b| b.read_stream(
                ledger,
                stream,
                after_version,
                limit
            ))
        })
        .await
    }

    /// The versions and payloads of a stream's events after `after_version`,
    /// in order: what loading an aggregate needs, read without the rest.
    pub async fn read_stream_payloads(
        &self,
        ledger: &LedgerId,
        stream: &StreamId,
        after_version: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        if after_version >= MAX_POSITION {
            return Ok(Vec::new());
        }
        self.guarded(async {
            on_backend!(self, |b| b.read_stream_payloads(
                ledger,
                stream,
                after_version
            ))
        })
        .await
    }

    /// The event with this id, if the ledger holds it.
    pub async fn event_by_id(
        &self,
        ledger: &LedgerId,
        event_id: uuid::Uuid,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.event_by_id(ledger, event_id)) })
            .await
    }

    /// Every event of a stream, in order.
    pub async fn read_stream_to_end(
        &self,
        ledger: &LedgerId,
        stream: &StreamId,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        const STREAM_PAGE: u32 = 50_000;
        let mut events = Vec::new();
        loop {
            let after = events
                .last()
                .map_or(0, |e: &RecordedEvent| e.stream_version);
            let page = self.read_stream(ledger, stream, after, STREAM_PAGE).await?;
            let full = page.len() == STREAM_PAGE as usize;
            events.extend(page);
            if !full {
                break;
            }
        }
        Ok(events)
    }

    /// The ledger's events after position `after`: first those already
    /// stored, then each new one as it commits, each once and in order.
    ///
    /// Transient database errors (a dropped connection, a restarting server)
    /// are retried with backoff from the last position delivered; any other
    /// error is yielded and ends the stream.
    pub fn subscribe(
        &self,
        ledger: LedgerId,
        after: u64,
    ) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
        if let Backend::Postgres(pg) = &self.inner.backend {
            let mut listener = self
                .inner
                .listener
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if listener.is_none() {
                let announcer = self.inner.announcer.clone();
                *listener = Some(if self.inner.read_only {
                    spawn_head_poller(pg.clone(), announcer)
                } else {
                    spawn_pg_listener(pg.clone(), announcer)
                });
            }
        }
        let news = self.inner.announcer.news(&ledger);
        let state = Subscription {
            wake: news.receiver(),
            reader: news.join(after),
            news,
            read_anyway: true,
            store: self.clone(),
            ledger,
            after,
            buffer: VecDeque::new(),
            backoff: Duration::from_millis(50),
            ended: false,
            prefetch: None,
        };
        futures::stream::unfold(state, |mut s| async move {
            let item = s.next().await?;
            Some((item, s))
        })
    }

    /// Recomputes the ledger's chain from position 1, checks that every
    /// event lies inside a seal by one of `keys` (the server's public key,
    /// and its earlier ones after a rotation), checks the chain against the
    /// head the ledger records and against the given signed checkpoints, and
    /// reports the first broken or unsealed position. `progress` is called
    /// after each page with the number of events checked and the recorded
    /// size.
    pub async fn verify(
        &self,
        ledger: &LedgerId,
        keys: &[CheckpointVerifier],
        checkpoints: &[Checkpoint],
        progress: impl FnMut(u64, u64),
    ) -> Result<Verification, StoreError> {
        let mut audit = Audit::new(ledger.clone(), keys, checkpoints);
        self.audit_more(ledger, &mut audit, progress).await
    }

    /// [`Store::verify`] of the events after `from`, a head verified before
    /// (a signed checkpoint's, say): the first event after it must chain to
    /// it, and each must be sealed. Costs time in proportion to the events
    /// after `from`.
    pub async fn verify_from(
        &self,
        ledger: &LedgerId,
        from: Head,
        keys: &[CheckpointVerifier],
        progress: impl FnMut(u64, u64),
    ) -> Result<Verification, StoreError> {
        let mut audit = Audit::resume(ledger.clone(), from, keys, &[]);
        self.audit_more(ledger, &mut audit, progress).await
    }

    /// Feeds `audit` the ledger's events (and their seals) after its head up
    /// to the head recorded now, and concludes. The same audit can be given
    /// again later to check only what was appended since.
    pub async fn audit_more(
        &self,
        ledger: &LedgerId,
        audit: &mut Audit,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Verification, StoreError> {
        let recorded = self.head(ledger).await?;
        // Only up to the head read above: appends may go on meanwhile.
        let mut after = audit.head().size;
        while after < recorded.size {
            let limit = PAGE.min(u32::try_from(recorded.size - after).unwrap_or(PAGE));
            let page = self.read_ledger(ledger, after, limit).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            for seal in self.seals(ledger, after, last).await? {
                audit.add_seal(seal);
            }
            for e in &page {
                if let Err(broken) = audit.check(e) {
                    return Ok(Verification::Broken(broken));
                }
            }
            after = last;
            progress(after, recorded.size);
        }
        Ok(audit.conclude(Some(recorded)))
    }

    /// The seals of a ledger whose last position is in `after + 1..=upto`
    /// (a seal ending there may begin before `after + 1`), in order of last
    /// position, as stored: whether each verifies is for the caller (see
    /// [`Audit`]).
    pub async fn seals(
        &self,
        ledger: &LedgerId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<Seal>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.seals(ledger, after, upto)) })
            .await
    }

    /// Records a checkpoint the server signed (`note`: the signed note of
    /// `checkpoint`). Returns false when this head was already recorded at
    /// this size; refuses another head at a recorded size
    /// ([`StoreError::CheckpointConflict`]). Recorded checkpoints are never
    /// changed or removed.
    pub async fn record_signed_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        note: &str,
    ) -> Result<bool, StoreError> {
        let signed = SignedCheckpoint {
            ledger: checkpoint.ledger.clone(),
            size: checkpoint.size,
            head: checkpoint.head,
            note: note.to_owned(),
        };
        self.guarded(async { on_backend!(self, |b| b.record_signed_checkpoint(&signed)) })
            .await
    }

    /// The recorded signed checkpoint of the largest size for a ledger. Its
    /// note's signature is not checked here: check it with the verifier key
    /// (anyone with database credentials can write this table).
    pub async fn latest_signed_checkpoint(
        &self,
        ledger: &LedgerId,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.latest_signed_checkpoint(ledger)) })
            .await
    }

    /// Every signed checkpoint of a ledger, smallest first, with the time
    /// each was recorded.
    pub async fn signed_checkpoints(
        &self,
        ledger: &LedgerId,
    ) -> Result<Vec<(SignedCheckpoint, DateTime<Utc>)>, StoreError> {
        on_backend!(self, |b| b.signed_checkpoints(ledger))
    }

    /// Writes a ledger read back from a backup, as it was (positions,
    /// hashes, times, seals, signed checkpoints), in one transaction, into
    /// a database that does not have it. The events must form an unbroken
    /// chain from genesis to `head` (checked here, before anything is
    /// written); whether their seals verify is for the caller, who holds
    /// the keys (see [`crate::verify_jsonl`]).
    pub async fn restore_ledger(&self, restored: Restored<'_>) -> Result<Head, StoreError> {
        let mut head = Head::EMPTY;
        for e in restored.events {
            if e.ledger_id != *restored.ledger
                || e.position != head.size + 1
                || e.prev_hash != head.hash
                || crate::chain::recompute_hash(e)? != e.hash
            {
                return Err(StoreError::Corrupt(format!(
                    "the backup's event at position {} does not follow the chain",
                    e.position
                )));
            }
            head = Head {
                size: e.position,
                hash: e.hash,
            };
        }
        if head != restored.head {
            return Err(StoreError::Corrupt(format!(
                "the backup's events end at {} ({}), not at its head {} ({})",
                head.size, head.hash, restored.head.size, restored.head.hash
            )));
        }
        on_backend!(self, |b| b.restore_ledger(&restored))?;
        Ok(head)
    }

    /// The public key of this store's seal key, if it has one.
    pub fn seal_verifier(&self) -> Option<&CheckpointVerifier> {
        self.inner.sealer.as_ref().map(Sealer::verifier)
    }

    /// Writes the ledger's events, as of now, as JSON Lines (one
    /// [`RecordedEvent`] per line, in position order, the last event of each
    /// seal's range carrying the seal): the format [`crate::verify_jsonl`]
    /// audits offline. Returns the head exported.
    pub async fn export_jsonl(
        &self,
        ledger: &LedgerId,
        mut out: impl std::io::Write,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Head, StoreError> {
        let head = self.head(ledger).await?;
        let io = |e: std::io::Error| StoreError::Io(format!("cannot write the export: {e}"));
        let mut after = 0;
        while after < head.size {
            let limit = PAGE.min(u32::try_from(head.size - after).unwrap_or(PAGE));
            let mut page = self.read_ledger(ledger, after, limit).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            let mut seals = self
                .seals(ledger, after, last)
                .await?
                .into_iter()
                .peekable();
            for e in &mut page {
                // One seal per last position (the table's key).
                while let Some(seal) = seals.next_if(|s| s.last <= e.position) {
                    if seal.last == e.position {
                        e.seal = Some(seal.for_event());
                    }
                }
                serde_json::to_writer(&mut out, &*e).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
            }
            after = last;
            progress(after, head.size);
        }
        out.flush().map_err(io)?;
        Ok(head)
    }
}

async fn write_and_reply(
    inner: &Inner,
    ledger: &LedgerId,
    group: Vec<WriteRequest>,
    cache: &mut WriterCache,
) {
    let appends: Vec<&[PreparedStream]> = group.iter().map(|r| r.streams.as_slice()).collect();
    let outcome = match &inner.sealer {
        Some(sealer) => {
            inner
                .backend
                .write_group(ledger, &appends, cache, sealer)
                .await
        }
        None => Err(StoreError::NoSealKey),
    };
    drop(appends);
    match outcome {
        Ok((plan, recorded_at)) => {
            debug!(ledger = %ledger, appends = group.len(), events = plan.rows.len(), "group committed");
            if !plan.rows.is_empty() {
                inner.announcer.committed(ledger, plan.rows, recorded_at);
                if let Some(notifier) = &inner.notifier {
                    let _ = notifier.send((ledger.clone(), plan.head.size));
                }
            }
            for (request, result) in group.into_iter().zip(plan.results) {
                // The caller may have gone away; its append stands.
                let _ = request.reply.send(result);
            }
        }
        Err(e) => {
            warn!(ledger = %ledger, error = %e, "group append failed");
            for request in group {
                let _ = request.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Announces commits to other processes with NOTIFY, after the fact and
/// coalesced (at most one every 20 ms): under load, one notification
/// carries many commits. One lost
/// in a crash only delays other processes' subscribers until their poll.
fn spawn_pg_notifier(pg: Pg) -> mpsc::UnboundedSender<(LedgerId, u64)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(LedgerId, u64)>();
    tokio::spawn(async move {
        while let Some((ledger, head)) = rx.recv().await {
            let mut latest = HashMap::from([(ledger, head)]);
            while let Ok((ledger, head)) = rx.try_recv() {
                let h = latest.entry(ledger).or_insert(head);
                *h = (*h).max(head);
            }
            for (ledger, head) in latest {
                if let Err(e) = pg.notify(&ledger, head).await {
                    debug!(error = %e, "cannot notify other processes; they will poll");
                }
            }
            // A NOTIFY is a transaction with a durable commit of its own:
            // batch what arrives meanwhile rather than flush once per append.
            tokio::time::sleep(NOTIFY_EVERY).await;
        }
    });
    tx
}

fn spawn_pg_listener(pg: Pg, announcer: Announcer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let mut listener = match pg.listen().await {
                Ok(l) => l,
                Err(e) => {
                    warn!(error = %e, "cannot listen for commits; subscriptions poll meanwhile");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                match listener.next().await {
                    Ok(Some((ledger, head))) => announcer.announce(&ledger, head),
                    // Not an announcement of ours.
                    Ok(None) => {}
                    Err(e) => {
                        warn!(error = %e, "lost the commit listener; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                }
            }
        }
    })
}

struct Subscription {
    store: Store,
    ledger: LedgerId,
    after: u64,
    buffer: VecDeque<RecordedEvent>,
    wake: watch::Receiver<u64>,
    /// The ledger's latest events this process committed.
    news: Arc<LedgerNews>,
    /// This subscription's id among the news' readers.
    reader: u64,
    /// Read the database before waiting, even when the events kept and
    /// the head announced say nothing is new (at the start, and after each
    /// poll: a commit of another process may have gone unannounced).
    read_anyway: bool,
    backoff: Duration,
    ended: bool,
    /// The next page, being read while the current one is consumed.
    prefetch: Option<tokio::task::JoinHandle<Result<Vec<RecordedEvent>, StoreError>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(p) = &self.prefetch {
            p.abort();
        }
        self.news.leave(self.reader);
    }
}

impl Subscription {
    /// Buffers a page; when it is full, more are likely waiting, so the next
    /// one is read while this one is consumed.
    fn accept(&mut self, page: Vec<RecordedEvent>) {
        if page.len() == PAGE as usize
            && let Some(last) = page.last().map(|e| e.position)
        {
            let (store, ledger) = (self.store.clone(), self.ledger.clone());
            self.prefetch = Some(tokio::spawn(async move {
                store.read_ledger(&ledger, last, PAGE).await
            }));
        }
        self.buffer.extend(page);
    }

    async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                self.after = e.position;
                if self.buffer.is_empty() {
                    // A page's room is not kept while the ledger is
                    // followed (a follower waits with an empty buffer
                    // most of its life, and a server follows many
                    // ledgers), nor the commits kept for it and taken.
                    self.buffer = VecDeque::new();
                    self.news.taken(self.reader, self.after);
                }
                return Some(Ok(e));
            }
            if self.ended {
                return None;
            }
            // Mark announcements seen before looking, so one that lands
            // after wakes the wait below.
            let announced = *self.wake.borrow_and_update();
            let kept = self.news.after(&self.ledger, self.after, PAGE as usize);
            if !kept.is_empty() {
                if let Some(prefetch) = self.prefetch.take() {
                    prefetch.abort();
                }
                self.buffer.extend(kept);
                continue;
            }
            if !self.read_anyway && announced <= self.after && self.news.ends_at(self.after) {
                // Nothing new is known: this process committed nothing
                // since, and no other process's commit was announced.
                tokio::select! {
                    _ = self.wake.changed() => {}
                    _ = tokio::time::sleep(POLL) => self.read_anyway = true,
                }
                continue;
            }
            self.read_anyway = false;
            if let Some(prefetch) = self.prefetch.take() {
                match prefetch.await {
                    Ok(Ok(page)) if !page.is_empty() && page[0].position == self.after + 1 => {
                        self.accept(page);
                        continue;
                    }
                    // Empty, failed or out of step: read again below.
                    _ => {}
                }
            }
            match self.store.read_ledger(&self.ledger, self.after, PAGE).await {
                Ok(page) if page.is_empty() => {
                    tokio::select! {
                        _ = self.wake.changed() => {}
                        _ = tokio::time::sleep(POLL) => self.read_anyway = true,
                    }
                }
                Ok(page) => {
                    self.backoff = Duration::from_millis(50);
                    if page[0].position != self.after + 1 {
                        self.ended = true;
                        return Some(Err(StoreError::Corrupt(format!(
                            "ledger {} jumps from position {} to {}",
                            self.ledger, self.after, page[0].position
                        ))));
                    }
                    self.accept(page);
                }
                Err(e) if e.is_retryable() => {
                    if !matches!(e, StoreError::Unavailable(_)) {
                        warn!(ledger = %self.ledger, after = self.after, error = %e, "subscription read failed; retrying");
                    }
                    // A database that comes back wakes the wait at once.
                    let mut health = self.store.inner.health.watch();
                    if health.borrow_and_update().is_some() {
                        tokio::select! {
                            _ = tokio::time::sleep(self.backoff) => {}
                            _ = health.wait_for(Option::is_none) => {}
                        }
                    } else {
                        tokio::time::sleep(self.backoff).await;
                    }
                    self.backoff = (self.backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
