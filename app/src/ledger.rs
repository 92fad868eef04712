//! One ledger as the server runs it: its projections, followed live from the
//! store, the event stores its commands go through (with the services the
//! aggregates ask of each other, answered from the projections), and the
//! commands already answered, for `Idempotency-Key`.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use windledger_domain::finance::{FinancialYear, FinancialYearServices};
use windledger_projections::cap_table::ProjectedCapTables;
use windledger_projections::runner::Shared;
use windledger_store::{LedgerId, RecordedEvent, Store, StoreError};

use crate::command::{Aggregates, Command, Receipt};
use crate::error::{Error, ErrorKind};
use crate::integrity::Integrity;
use crate::services::{StoreHead, company_of, ledger_event, scan};

/// Metadata key of a request's fingerprint (SHA-256 of method, path and
/// body), kept with its events so a replayed key is recognised after a
/// restart too.
pub const REQUEST_KEY: &str = "request_sha256";

/// How many events at hand are verified before the projections apply them.
const VERIFIED_AHEAD: usize = 5_000;

/// How long a head read from the database is used for reads.
pub const HEAD_REFRESH: Duration = Duration::from_millis(50);

/// A command already answered.
#[derive(Debug, Clone)]
pub struct Answered {
    pub fingerprint: String,
    pub receipts: Vec<Receipt>,
}

/// A ledger served.
pub struct LedgerRuntime {
    pub id: LedgerId,
    pub store: Store,
    pub projections: Arc<Shared>,
    /// What of the ledger was verified, and whether it holds.
    pub integrity: Arc<Integrity>,
    aggregates: Aggregates,
    /// The company's aggregate id, once known.
    company_id: Mutex<Option<String>>,
    /// Command id -> what was answered, for the latest commands sent with
    /// a key (older ones are found in the ledger by their events' ids).
    answered: Mutex<Recent<Answered>>,
    /// Responses as of the latest cap table, by name, with the cap table's
    /// `changed()` position they were computed at.
    latest: Mutex<HashMap<&'static str, (u64, bytes::Bytes)>>,
    /// The head last read from the database, and when.
    head: Mutex<Option<(std::time::Instant, u64)>>,
    /// Command ids being handled, so the same key twice at once waits.
    in_flight: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Command ids whose commit failed for want of the database: they may
    /// have been recorded all the same, so a retry looks first. Bounded:
    /// past it, a retry runs again and the store refuses a second copy (the
    /// event ids derive from the command id).
    uncertain: Mutex<Recent<()>>,
    follower: tokio::task::JoinHandle<()>,
    /// The ids anonymous answers redact, with the projections' position
    /// they were gathered at.
    names: Mutex<(u64, Arc<crate::redaction::Names>)>,
    /// Events its commands appended.
    appended: std::sync::atomic::AtomicU64,
}

impl Drop for LedgerRuntime {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl LedgerRuntime {
    /// Opens a ledger: finds its company, and starts feeding its
    /// projections from position 0 (commands answered before are found
    /// in the ledger when asked for: nothing is read ahead for them).
    /// `keys`: the public keys whose seals are trusted.
    pub async fn open(
        store: Store,
        id: LedgerId,
        keys: &[windledger_store::CheckpointVerifier],
    ) -> Result<Self, StoreError> {
        // A ledger not recorded yet (its first command to come) is empty.
        let size = match store.head(&id).await {
            Ok(head) => head.size,
            Err(StoreError::LedgerNotFound(_)) => 0,
            Err(e) => return Err(e),
        };
        Self::open_sized(store, id, keys, size).await
    }

    /// [`Self::open`] of a ledger of `size` events, read just before: its
    /// read models are built apart up to it, then copied
    /// ([`Shared::build_until`]).
    pub async fn open_sized(
        store: Store,
        id: LedgerId,
        keys: &[windledger_store::CheckpointVerifier],
        size: u64,
    ) -> Result<Self, StoreError> {
        let company_id = company_stream(&store, &id).await?;

        let projections = Arc::new(Shared::default());
        projections.build_until(size);
        let integrity = Arc::new(Integrity::new(id.clone(), keys));
        let follower = {
            let (shared, store, id) = (projections.clone(), store.clone(), id.clone());
            let integrity = integrity.clone();
            tokio::spawn(async move {
                // Each event is verified (with its commit's seal, and the
                // governance state rebuilt if it rested) before the
                // projections apply it; the first that does not verify
                // ends the stream there.
                let events = store
                    .subscribe(id.clone(), 0)
                    .then(move |r| {
                        let (integrity, store) = (integrity.clone(), store.clone());
                        async move {
                            let verified = match &r {
                                Ok(e) => integrity.check_next(&store, e).await,
                                Err(_) => true,
                            };
                            (r, verified)
                        }
                    })
                    .take_while(|(_, verified)| std::future::ready(*verified))
                    // Every event at hand is verified before the
                    // projections apply the first of them (a page of the
                    // store's, when a ledger is opened): the governance
                    // state's memory and the read models' are not
                    // interleaved, so that putting the first to rest
                    // frees whole pages of the allocator's.
                    .ready_chunks(VERIFIED_AHEAD)
                    .flat_map(futures::stream::iter)
                    .map(|(r, _)| r.map(ledger_event));
                if let Err(e) = shared.follow(events).await {
                    tracing::error!(ledger = %id, error = %e, "the projections stopped following the ledger");
                }
            })
        };
        let cap_tables = || ProjectedCapTables {
            shared: projections.clone(),
            head: StoreHead {
                store: store.clone(),
                ledger: id.clone(),
            },
        };
        Ok(Self {
            aggregates: Aggregates::new(&store, &id, cap_tables),
            company_id: Mutex::new(company_id),
            answered: Mutex::new(Recent::new(REMEMBERED)),
            latest: Mutex::new(HashMap::new()),
            head: Mutex::new(None),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            uncertain: Mutex::new(Recent::new(REMEMBERED)),
            names: Mutex::new((0, Arc::default())),
            appended: std::sync::atomic::AtomicU64::new(0),
            projections,
            integrity,
            follower,
            store,
            id,
        })
    }

    /// The company's aggregate id: the one recorded, else the ledger's id
    /// (for the incorporation).
    /// The ids no anonymous answer shows (see [`crate::redaction`]), as of
    /// the projections now; gathered again only after they moved.
    pub fn names(&self) -> Arc<crate::redaction::Names> {
        let position = self.projections.read(|p| p.position());
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.0 != position || position == 0 {
            let (at, fresh) = self
                .projections
                .read(|p| (p.position(), crate::redaction::Names::of(p)));
            *names = (at, Arc::new(fresh));
        }
        names.1.clone()
    }

    pub fn company_id(&self) -> String {
        self.company_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }

    /// A response computed from the latest cap table, kept until the cap
    /// table changes: with 20,000 holders a view takes milliseconds, and a
    /// meeting's ballots do not change it.
    pub fn latest_cap_table<E>(
        &self,
        name: &'static str,
        compute: impl FnOnce(&windledger_projections::runner::Projections) -> Result<bytes::Bytes, E>,
    ) -> Result<bytes::Bytes, E> {
        let changed = self.projections.read(|p| p.cap_table.fold().changed());
        if let Some((at, body)) = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            && *at == changed
        {
            return Ok(body.clone());
        }
        let (at, body) = self
            .projections
            .read(|p| (p.cap_table.fold().changed(), compute(p)));
        let body = body?;
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, (at, body.clone()));
        Ok(body)
    }

    /// The ledger's head, read from the database at most every
    /// [`HEAD_REFRESH`]: reads wait for the projections to reach it, so they
    /// show what other processes recorded until a few milliseconds ago, and
    /// everything this server recorded (commands wait until the projections
    /// show their events before answering).
    pub async fn recent_head(&self) -> Result<u64, StoreError> {
        if let Some((at, size)) = *self.head.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < HEAD_REFRESH
        {
            return Ok(size);
        }
        let verified = self.integrity.head();
        let head = self.store.head(&self.id).await?;
        self.integrity.check_head(head, verified);
        let size = head.size;
        *self.head.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), size));
        Ok(size)
    }

    /// Forgets the head last read, so that the next read waits for the
    /// head the database records now (a client that wrote on the primary
    /// reads its write on a replica once the replica replayed it).
    pub fn forget_head(&self) {
        *self.head.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The ledger's head, once everything up to it is verified: the only
    /// head the server signs. The head the database records must be the
    /// one verified (not shorter, not another hash), and its last event,
    /// read again, must still hash as verified. Otherwise the ledger is
    /// marked broken and this answers 503 with the reason.
    pub async fn verified_head(&self) -> Result<windledger_store::Head, Error> {
        // Verification is waited for while it goes on: a 503 only when
        // no event was verified for this long.
        const STALL: Duration = Duration::from_secs(5);
        // Appends may go on meanwhile: a head verified past the one read
        // means the ledger grew, and the head is read again.
        let mut attempts = 0;
        let recorded = loop {
            let before = self.integrity.head();
            let recorded = self
                .store
                .head(&self.id)
                .await
                .map_err(|e| Error::store(&e))?;
            self.integrity.check_head(recorded, before);
            let verified = self.integrity.verified_up_to(recorded.size, STALL).await?;
            if verified == recorded {
                break recorded;
            }
            if verified.size == recorded.size {
                // Same size, another hash: rewritten.
                self.integrity.check_head(recorded, verified);
            }
            attempts += 1;
            if attempts == 5 {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "ledger {} grows faster than a checkpoint can be signed: try again",
                        self.id
                    ),
                ));
            }
        };
        if recorded.size > 0 {
            let last = self
                .store
                .read_ledger(&self.id, recorded.size - 1, 1)
                .await
                .map_err(|e| Error::store(&e))?;
            self.integrity
                .check_reread(recorded.size, last.first(), recorded.hash);
            self.integrity.check_sealed();
        }
        self.integrity.writable()?;
        Ok(recorded)
    }

    /// The head about to be signed extends the last checkpoint this ledger's
    /// server signed (recorded beside the ledger, its signature checked
    /// with the trusted keys): not shorter, and with the same event at the
    /// signed size. Otherwise the ledger is marked broken.
    pub async fn extends_last_signed(
        &self,
        head: windledger_store::Head,
        keys: &[windledger_store::CheckpointVerifier],
    ) -> Result<(), Error> {
        let Some(last) = self
            .store
            .latest_signed_checkpoint(&self.id)
            .await
            .map_err(|e| Error::store(&e))?
        else {
            return Ok(());
        };
        // Anyone with database credentials can write that table: only a
        // note the server's key signed counts.
        let signed = keys.iter().find_map(|k| k.verify(&last.note).ok());
        let Some(signed) = signed.filter(|c| c.size == last.size && c.head == last.head) else {
            tracing::warn!(ledger = %self.id, size = last.size, "a recorded checkpoint is not signed by a trusted key: ignored");
            return Ok(());
        };
        if signed.size > head.size {
            self.integrity.fail(
                Some(head.size + 1),
                format!(
                    "the ledger holds {} events, but a checkpoint of {} events was signed: history was truncated after it was signed",
                    head.size, signed.size
                ),
            );
        } else if signed.size > 0 {
            let at = self
                .store
                .read_ledger(&self.id, signed.size - 1, 1)
                .await
                .map_err(|e| Error::store(&e))?;
            if at.first().map(|e| e.hash) != Some(signed.head) {
                self.integrity.fail(
                    Some(signed.size),
                    format!(
                        "the event at position {} is not the one the checkpoint signed there: history was rewritten after it was signed",
                        signed.size
                    ),
                );
            }
        }
        self.integrity.writable()
    }

    /// A financial year as the ledger holds it now, to decide commands on
    /// a copy without writing.
    pub async fn financial_year(&self, year: &str) -> Result<FinancialYear, Error> {
        self.aggregates.financial_year(year).await
    }

    /// The services the financial years' commands ask (read-only).
    pub fn year_services(&self) -> &FinancialYearServices {
        self.aggregates.year_services()
    }

    /// What was answered to a command id, if anything.
    fn answered(&self, command_id: &str) -> Option<Answered> {
        self.answered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(command_id)
            .cloned()
    }

    /// What was answered to a command id, from memory or else from the
    /// ledger: a command whose commit landed after this server read the
    /// ledger (sent by a server killed a moment before this one started, or
    /// by another server on the same database) is found by the ids its
    /// events must have. One indexed query per keyed command not remembered.
    pub async fn answered_or_recorded(
        &self,
        command: &Command,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Option<Answered>, Error> {
        if let Some(answered) = self.answered(command_id) {
            return Ok(Some(answered));
        }
        let events = self
            .recorded_events(command, aggregate_id, command_id)
            .await?;
        // Looked up now: `execute` need not look again.
        self.uncertain
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(command_id);
        let Some(first) = events.first() else {
            return Ok(None);
        };
        let fingerprint = first.metadata.extra.get(REQUEST_KEY).cloned();
        let receipts: Vec<Receipt> = events.iter().map(Receipt::from).collect();
        self.remember(Some(command_id.to_owned()), fingerprint, &receipts);
        Ok(self.answered(command_id))
    }

    /// Holds the command id while its request is handled: a second request
    /// with the same key waits for the first, then sees its answer. The
    /// hold ends when the guard is dropped, also when the request is (its
    /// client went away): the id is then forgotten once nobody waits on it.
    pub async fn hold(&self, command_id: &str) -> InFlight {
        let lock = self
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(command_id.to_owned())
            .or_default()
            .clone();
        let guard = lock.lock_owned().await;
        InFlight {
            guard: Some(guard),
            command_id: command_id.to_owned(),
            in_flight: self.in_flight.clone(),
        }
    }

    /// How many command ids are held or waited on now.
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Runs a command on its aggregate, records it as answered when it has
    /// a fingerprint, and waits (a little) until the projections show it.
    /// A command beyond the input bounds (`Command::check_input`) is
    /// invalid: every command of the API and the pages comes through here.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        command
            .check_input()
            .map_err(|e| Error::invalid(format!("not a valid command: {e}")))?;
        self.integrity.writable()?;
        let command_id = metadata.get("command_id").cloned();
        let fingerprint = metadata.get(REQUEST_KEY).cloned();
        if let Some(id) = &command_id
            && self.uncertain_now(id)
        {
            let recorded = self.recorded(&command, aggregate_id, id).await?;
            self.uncertain
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
            if !recorded.is_empty() {
                if matches!(command, Command::Company(_)) {
                    self.knows_company(aggregate_id);
                }
                self.remember(command_id, fingerprint, &recorded);
                self.shown(&recorded).await;
                return Ok(recorded);
            }
        }
        let receipts = match self.run(aggregate_id, command, metadata).await {
            Ok(receipts) => receipts,
            Err(p) => {
                if p.kind == ErrorKind::Unavailable
                    && let Some(id) = command_id
                {
                    self.uncertain
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id, ());
                }
                return Err(p);
            }
        };
        self.count_appended(&receipts);
        self.remember(command_id, fingerprint, &receipts);
        self.shown(&receipts).await;
        Ok(receipts)
    }

    fn count_appended(&self, receipts: &[Receipt]) {
        self.appended
            .fetch_add(receipts.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many events this runtime's commands appended.
    pub fn appended(&self) -> u64 {
        self.appended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `commands`, all of one aggregate, as [`Aggregates::run_batch`]
    /// does: one commit for all the accepted ones, each refused or invalid
    /// one said in its place, and waits (a little) until the projections
    /// show them. For many commands of one kind at once (a bank
    /// statement's payments): one commit instead of one each.
    ///
    /// [`Aggregates::run_batch`]: crate::command::Aggregates::run_batch
    pub async fn execute_batch(
        &self,
        aggregate_id: &str,
        commands: Vec<Command>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Result<Vec<Receipt>, Error>>, Error> {
        self.integrity.writable()?;
        let mut outcomes: Vec<Option<Result<Vec<Receipt>, Error>>> = Vec::new();
        let mut valid = Vec::with_capacity(commands.len());
        for command in commands {
            match command.check_input() {
                Ok(()) => {
                    valid.push(command);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(Error::invalid(format!(
                    "not a valid command: {e}"
                ))))),
            }
        }
        let company = valid.iter().any(|c| matches!(c, Command::Company(_)));
        let mut ran = self
            .aggregates
            .run_batch(aggregate_id, valid, metadata)
            .await?
            .into_iter();
        let outcomes: Vec<_> = outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| {
                    ran.next().unwrap_or_else(|| {
                        Err(Error::internal(
                            "a batch answered fewer commands than it ran",
                        ))
                    })
                })
            })
            .collect();
        let receipts: Vec<Receipt> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .flatten()
            .cloned()
            .collect();
        if company && !receipts.is_empty() {
            self.knows_company(aggregate_id);
        }
        self.count_appended(&receipts);
        self.shown(&receipts).await;
        Ok(outcomes)
    }

    /// The company's aggregate id, once a command on it ran.
    fn knows_company(&self, aggregate_id: &str) {
        self.company_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| aggregate_id.to_owned());
    }

    fn uncertain_now(&self, command_id: &str) -> bool {
        self.uncertain
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(command_id)
            .is_some()
    }

    /// Keeps what a command with a key was answered.
    fn remember(
        &self,
        command_id: Option<String>,
        fingerprint: Option<String>,
        receipts: &[Receipt],
    ) {
        if let (Some(command_id), Some(fingerprint)) = (command_id, fingerprint) {
            self.answered
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    command_id,
                    Answered {
                        fingerprint,
                        receipts: receipts.to_vec(),
                    },
                );
        }
    }

    /// The receipts of what a command id recorded on the command's
    /// aggregate (none if nothing).
    async fn recorded(
        &self,
        command: &Command,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<Receipt>, Error> {
        let events = self
            .recorded_events(command, aggregate_id, command_id)
            .await?;
        Ok(events.iter().map(Receipt::from).collect())
    }

    async fn recorded_events(
        &self,
        command: &Command,
        aggregate_id: &str,
        command_id: &str,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.aggregates
            .recorded(command, aggregate_id, command_id)
            .await
    }

    /// Runs a command on its aggregate.
    async fn run(
        &self,
        aggregate_id: &str,
        command: Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        let company = matches!(command, Command::Company(_));
        let receipts = self.aggregates.run(aggregate_id, command, metadata).await?;
        if company {
            self.knows_company(aggregate_id);
        }
        Ok(receipts)
    }

    /// Waits until the projections have applied these events (at most a
    /// few seconds: the write is done either way).
    pub async fn shown(&self, receipts: &[Receipt]) {
        if let Some(last) = receipts.iter().map(|r| r.position).max() {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.projections.caught_up(last))
                .await;
        }
    }
}

/// Commands remembered in memory (answers, and uncertain commits).
const REMEMBERED: usize = 10_000;

/// A map of the latest `capacity` entries by insertion: the oldest goes
/// first.
struct Recent<V> {
    entries: HashMap<String, V>,
    order: std::collections::VecDeque<String>,
    capacity: usize,
}

impl<V> Recent<V> {
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: std::collections::VecDeque::new(),
            capacity,
        }
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key)
    }

    fn insert(&mut self, key: String, value: V) {
        if self.entries.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.entries.len() > self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if self.entries.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}

/// A command id held by a request (see [`LedgerRuntime::hold`]).
pub struct InFlight {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    command_id: String,
    in_flight: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The lock first, then the id if nobody else holds or waits on it.
        drop(self.guard.take());
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = in_flight.get(&self.command_id)
            && Arc::strong_count(lock) == 1
        {
            in_flight.remove(&self.command_id);
        }
    }
}

/// The charter in force of the company whose aggregate id is `company` in
/// the ledger `id` (none before incorporation), read from that company's
/// stream alone: what `windledger publish` needs of it (the witnesses)
/// without opening the whole ledger's read models. The caller finds the
/// company with [`crate::services::company_of`] as it reads the ledger.
pub async fn company_charter(
    store: &Store,
    id: &LedgerId,
    company: &str,
) -> Result<Option<windledger_domain::charter::Charter>, Error> {
    company_state(store, id, company, |c| c.charter().cloned()).await
}

/// What `read` says of the company's state, folded from its stream alone.
async fn company_state<R>(
    store: &Store,
    id: &LedgerId,
    company: &str,
    read: impl FnOnce(&windledger_domain::company::Company) -> R,
) -> Result<R, Error> {
    use cqrs_es::EventStore;
    let events = windledger_store::LedgerEventStore::<windledger_domain::company::Company>::new(
        store.clone(),
        id.clone(),
    );
    let mut context = events
        .load_aggregate(company)
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    Ok(read(cqrs_es::AggregateContext::aggregate(&mut context)))
}

/// A farm as a directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmSummary {
    pub legal_name: String,
    /// Turbines in service (not decommissioned).
    pub turbines: usize,
    /// Their rated power, in kW.
    pub rated_kw: u64,
}

/// The farm of the ledger `id`, read from its company's stream alone,
/// without opening the ledger's read models (a directory of many farms
/// opens none of them); `None` before its incorporation.
pub async fn farm_summary(store: &Store, id: &LedgerId) -> Result<Option<FarmSummary>, Error> {
    let Some(company) = company_stream(store, id)
        .await
        .map_err(|e| Error::store(&e))?
    else {
        return Ok(None);
    };
    company_state(store, id, &company, |c| {
        let incorporation = c.incorporation()?;
        let in_service: Vec<_> = c
            .fleet()
            .installations()
            .iter()
            .filter(|t| t.decommissioned_on.is_none())
            .collect();
        Some(FarmSummary {
            legal_name: incorporation.legal_name.as_str().to_owned(),
            turbines: in_service.len(),
            rated_kw: in_service
                .iter()
                .map(|t| u64::from(t.rated_power.get()))
                .sum(),
        })
    })
    .await
}

/// The company's aggregate id, if the ledger has a company: the stream of
/// its first event (the incorporation comes before anything else can), or
/// else of the first company event found.
async fn company_stream(store: &Store, id: &LedgerId) -> Result<Option<String>, StoreError> {
    scan(store, id, u64::MAX, |e| match company_of(&e) {
        Some(c) => ControlFlow::Break(c.to_owned()),
        None => ControlFlow::Continue(()),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn recent_keeps_the_latest_entries_only() {
        let mut recent = Recent::new(3);
        for n in 0..5 {
            recent.insert(format!("k{n}"), n);
        }
        assert_eq!(recent.get("k0"), None);
        assert_eq!(recent.get("k1"), None);
        assert_eq!(recent.get("k4"), Some(&4));
        // Inserting a key again keeps one entry for it.
        recent.insert("k4".to_owned(), 40);
        recent.insert("k5".to_owned(), 5);
        assert_eq!(recent.get("k2"), None);
        assert_eq!(recent.get("k3"), Some(&3));
        assert_eq!(recent.get("k4"), Some(&40));
        recent.remove("k3");
        assert_eq!(recent.get("k3"), None);
        assert_eq!(recent.entries.len(), recent.order.len());
    }
}
