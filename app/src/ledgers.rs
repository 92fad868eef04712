//! The ledgers a server holds (docs/deploy.md, "Many farms"): each opened
//! on first use, and the read models of those idle the longest released
//! when the open ones hold more than the server's memory budget, to be
//! rebuilt on their next request.
//!
//! - **Opening.** A ledger's slot is made only once the database says the
//!   ledger exists (a made-up name grows nothing). Requests for a ledger
//!   being opened wait for that ledger only: the map's lock is held to find
//!   a slot, never across IO.
//! - **The budget.** An open ledger is charged, for each event its
//!   projections have applied (or had to apply when it was opened, if that
//!   is more), [`READ_MODEL_BYTES_PER_EVENT`] for its read models and, while
//!   it holds it, [`GOVERNANCE_BYTES_PER_EVENT`] for its governance state
//!   (the integrity check's replay, which decides again each new event:
//!   see [`crate::integrity`]); estimates, measured (see the constants).
//!   After each opening, while the charges of the open ledgers exceed the
//!   budget, the ledgers least recently asked for first have their
//!   governance state put to rest (their next write rebuilds it from the
//!   database; reads never need it), then, if that is not enough, are
//!   released; each provided no request holds it, its history verified (a
//!   broken ledger keeps its mark until a restart), and it is not the one
//!   just opened. Released, its runtime is dropped (its follower stops,
//!   its memory is freed); its slot and its counts stay.
//! - **Counts.** Per ledger, kept across releases: requests, events
//!   appended, openings, releases, rests and rebuilds of the governance
//!   state, for `/metrics`.
//! - **The directory.** The farms served (the API's `GET /api/v1/ledgers`,
//!   the page `/`), each read from its company's stream alone
//!   ([`crate::ledger::farm_summary`]): listing them opens none. Kept for
//!   [`DIRECTORY_TTL`]: a farm added appears within it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use windledger_store::{CheckpointVerifier, LedgerId, Store, StoreError};

use crate::Error;
use crate::audit::Replay;
use crate::ledger::{FarmSummary, LedgerRuntime, farm_summary};

/// How long the directory of farms is kept before it is read again.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(10);

/// What an open ledger is charged per event its projections applied, for
/// its read models: the resident memory (under the server's allocator,
/// `windledger_memory`: mimalloc, the governance replays in a heap apart,
/// the read models built in a scratch heap then copied out:
/// `windledger_projections::runner::Shared`) that farms of the reference
/// farm's size hold per event once built and their governance state put
/// to rest, measured at 347 bytes on 2026-12-07 with 861 farms held and
/// 353 to 356 with 1,000 (`cargo run --release -p windledger-bench -- farms --backend postgres`,
/// `open_bytes_per_event`; 414 to 420 the same hour with the models built
/// in the main heap, among the decoded events' blocks), with a margin.
/// The read models ask the allocator for 310 bytes an event once copied
/// (326 as built), the integrity check's seals for 14 (`--example
/// footprint`): the rest is the allocator's and the farm's tasks'.
pub const READ_MODEL_BYTES_PER_EVENT: u64 = 384;

/// What an open ledger is charged per event while its governance state
/// (the integrity check's replay) is held besides: no less than what the
/// replay asks of the allocator (501 bytes: `--example footprint`), nor
/// than what farms of the reference farm's size added per event while
/// none rested (the `farms` benchmark's `bytes_per_event`, 919 bytes on
/// 2026-12-07 before the read models were built apart; since then the
/// first farms reuse what writing the farms left in the benchmark's
/// process, and that figure is lower than what they hold) less the read
/// models' measure then (414), rounded up.
pub const GOVERNANCE_BYTES_PER_EVENT: u64 = 512;

/// What an open ledger is charged per event, its governance state held.
pub const BYTES_PER_EVENT: u64 = READ_MODEL_BYTES_PER_EVENT + GOVERNANCE_BYTES_PER_EVENT;

/// The budget when the server is given none (`serve --ledger-memory-mib`):
/// about 1,000 farms of the reference farm's size held open, once idle
/// ones rest, in a process of under 1 GiB (the `farms` benchmark's
/// `rss_mib`; a server of one farm holds a few MiB whatever the budget).
pub const DEFAULT_BUDGET_MIB: u64 = 896;

/// What the server counts of one ledger while it runs.
#[derive(Default)]
pub struct LedgerCounts {
    pub requests: AtomicU64,
    /// Events appended by runtimes since released (the open one's are its
    /// own: [`LedgerRuntime::appended`]).
    appended_before: AtomicU64,
    pub openings: AtomicU64,
    pub releases: AtomicU64,
    /// Times the governance state was put to rest.
    pub rests: AtomicU64,
    /// Rebuilds of the governance state by runtimes since released.
    rebuilds_before: AtomicU64,
}

/// A ledger's runtime, once opened.
type Cell = Arc<OnceCell<Arc<LedgerRuntime>>>;

struct Slot {
    runtime: Cell,
    counts: Arc<LedgerCounts>,
    last_used: Instant,
    /// The ledger's size when its runtime was opened: what it will hold
    /// once built.
    size_at_opening: u64,
}

impl Slot {
    /// What the open ledger is charged against the budget.
    fn charge(&self) -> Option<u64> {
        let runtime = self.runtime.get()?;
        let applied = runtime.projections.read(|p| p.position());
        let per_event = if runtime.integrity.resting() {
            READ_MODEL_BYTES_PER_EVENT
        } else {
            BYTES_PER_EVENT
        };
        Some(applied.max(self.size_at_opening) * per_event)
    }

    /// The open runtime's governance state may be put to rest: held, and
    /// verified as far as the ledger went when it was opened (a rest during
    /// that first verification would only have it rebuilt at once).
    fn restable(&self) -> bool {
        self.runtime.get().is_some_and(|r| {
            !r.integrity.resting() && r.integrity.head().size >= self.size_at_opening
        })
    }
}

/// The ledger a request's path is under: the API's
/// `/api/v1/ledgers/{ledger}/...` or the pages' `/parcs/{ledger}/...`.
pub fn named_in(path: &str) -> Option<LedgerId> {
    let name = path
        .strip_prefix("/api/v1/ledgers/")
        .or_else(|| path.strip_prefix("/parcs/"))
        .and_then(|rest| rest.split('/').next())?;
    LedgerId::parse(name.to_owned()).ok()
}

/// The farms of a store, by ledger id.
pub type Directory = Arc<Vec<(LedgerId, FarmSummary)>>;

/// The ledgers a server holds, open or released.
pub struct Ledgers {
    slots: std::sync::Mutex<HashMap<LedgerId, Slot>>,
    budget_bytes: AtomicU64,
    /// The farms served, as last read, and when: one reader at a time.
    directory: tokio::sync::Mutex<Option<(Instant, Directory)>>,
}

impl Default for Ledgers {
    fn default() -> Self {
        Self {
            slots: std::sync::Mutex::new(HashMap::new()),
            budget_bytes: AtomicU64::new(DEFAULT_BUDGET_MIB * 1024 * 1024),
            directory: tokio::sync::Mutex::new(None),
        }
    }
}

/// One ledger as `/metrics` shows it.
pub struct LedgerFigures {
    pub id: LedgerId,
    pub requests: u64,
    pub appended: u64,
    pub openings: u64,
    pub releases: u64,
    pub rests: u64,
    pub rebuilds: u64,
    /// Whether the open ledger's governance state is at rest.
    pub resting: bool,
    /// What the open ledger is charged against the budget; `None` when
    /// released.
    pub charged_bytes: Option<u64>,
}

impl Ledgers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LedgerId, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The memory the open ledgers' read models may hold, in bytes.
    pub fn budget(&self) -> u64 {
        self.budget_bytes.load(Ordering::Relaxed)
    }

    pub fn set_budget(&self, bytes: u64) {
        self.budget_bytes.store(bytes, Ordering::Relaxed);
    }

    /// The farms of `store`: every ledger with an incorporated company,
    /// read from its company's stream (none is opened), by ledger id, as
    /// of at most [`DIRECTORY_TTL`] ago.
    pub async fn directory(&self, store: &Store) -> Result<Directory, Error> {
        let mut kept = self.directory.lock().await;
        if let Some((at, farms)) = kept.as_ref()
            && at.elapsed() < DIRECTORY_TTL
        {
            return Ok(farms.clone());
        }
        let mut farms = Vec::new();
        for id in store.ledgers().await.map_err(|e| Error::store(&e))? {
            if let Some(farm) = farm_summary(store, &id).await? {
                farms.push((id, farm));
            }
        }
        // In byte order whatever the database's collation (PostgreSQL's
        // may order `a-b` after `ab`).
        farms.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let farms = Arc::new(farms);
        *kept = Some((Instant::now(), farms.clone()));
        Ok(farms)
    }

    /// Opens a ledger of `store` that exists (its seals trusted under
    /// `keys`), or finds it open; `None` if there is no such ledger, which
    /// is not remembered (so naming made-up ledgers grows nothing).
    /// Requests for a ledger being opened wait for that ledger only; an
    /// opening may release idle ledgers (see the module's doc).
    pub async fn open(
        &self,
        store: &Store,
        id: &LedgerId,
        keys: &[CheckpointVerifier],
    ) -> Result<Option<Arc<LedgerRuntime>>, StoreError> {
        self.open_sized(store, id, keys, None).await
    }

    /// [`Self::open`], the ledger's size already read (`known`) or not.
    async fn open_sized(
        &self,
        store: &Store,
        id: &LedgerId,
        keys: &[CheckpointVerifier],
        known: Option<u64>,
    ) -> Result<Option<Arc<LedgerRuntime>>, StoreError> {
        // A ledger not held yet is looked for first; its size then is what
        // its opening charges.
        let mut size = known;
        let (cell, counts) = match self.slot(id, false) {
            Some(slot) => slot,
            None => {
                if size.is_none() {
                    match store.head(id).await {
                        Ok(head) => size = Some(head.size),
                        Err(StoreError::LedgerNotFound(_)) => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
                self.slot(id, true).unwrap_or_default()
            }
        };
        // A failed opening leaves the cell empty: the next request tries
        // again.
        let mut opened = None;
        let runtime = cell
            .get_or_try_init(|| async {
                let size = match size {
                    Some(size) => size,
                    None => store.head(id).await?.size,
                };
                let runtime = Arc::new(
                    LedgerRuntime::open_sized(store.clone(), id.clone(), keys, size).await?,
                );
                opened = Some(size);
                Ok::<_, StoreError>(runtime)
            })
            .await
            .cloned()?;
        drop(cell);
        if let Some(size) = opened {
            counts.openings.fetch_add(1, Ordering::Relaxed);
            self.opened(id, size);
        }
        Ok(Some(runtime))
    }

    /// Opens the ledgers of `store`, in id order, while the budget holds
    /// them (what a server does as it starts, beside its first requests);
    /// how many it opened. A ledger that does not open is skipped: its
    /// requests will say why.
    pub async fn warm(
        &self,
        store: &Store,
        keys: &[CheckpointVerifier],
    ) -> Result<usize, StoreError> {
        let budget = self.budget();
        let mut charged = 0u64;
        let mut opened = 0;
        for (id, size) in store.ledger_sizes().await? {
            charged = charged.saturating_add(size.saturating_mul(BYTES_PER_EVENT));
            if charged > budget {
                break;
            }
            match self.open_sized(store, &id, keys, Some(size)).await {
                Ok(Some(_)) => opened += 1,
                Ok(None) => {}
                Err(e) => tracing::warn!(ledger = %id, error = %e, "cannot open the ledger"),
            }
        }
        Ok(opened)
    }

    /// How many ledgers the server has a slot for (open or released).
    pub fn known(&self) -> usize {
        self.lock().len()
    }

    /// The runtimes open now.
    pub fn held(&self) -> Vec<Arc<LedgerRuntime>> {
        self.lock()
            .values()
            .filter_map(|slot| slot.runtime.get().cloned())
            .collect()
    }

    /// The ledger's runtime if it is open now (never opens it).
    pub fn held_one(&self, id: &LedgerId) -> Option<Arc<LedgerRuntime>> {
        self.lock().get(id)?.runtime.get().cloned()
    }

    /// Every ledger's counts, by id.
    pub fn figures(&self) -> Vec<LedgerFigures> {
        let mut figures: Vec<LedgerFigures> = self
            .lock()
            .iter()
            .map(|(id, slot)| {
                let open = slot.runtime.get();
                let charged_bytes = slot.charge();
                LedgerFigures {
                    id: id.clone(),
                    requests: slot.counts.requests.load(Ordering::Relaxed),
                    appended: slot.counts.appended_before.load(Ordering::Relaxed)
                        + open.map_or(0, |r| r.appended()),
                    openings: slot.counts.openings.load(Ordering::Relaxed),
                    releases: slot.counts.releases.load(Ordering::Relaxed),
                    rests: slot.counts.rests.load(Ordering::Relaxed),
                    rebuilds: slot.counts.rebuilds_before.load(Ordering::Relaxed)
                        + open.map_or(0, |r| r.integrity.rebuilds()),
                    resting: open.is_some_and(|r| r.integrity.resting()),
                    charged_bytes,
                }
            })
            .collect();
        figures.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        figures
    }

    /// The slot of a ledger, counted as used now: made if need be when
    /// `make` (the ledger is known to exist), else only if already held.
    fn slot(&self, id: &LedgerId, make: bool) -> Option<(Cell, Arc<LedgerCounts>)> {
        let mut slots = self.lock();
        let slot = if make {
            slots.entry(id.clone()).or_insert_with(|| Slot {
                runtime: Arc::default(),
                counts: Arc::default(),
                last_used: Instant::now(),
                size_at_opening: 0,
            })
        } else {
            slots.get_mut(id)?
        };
        slot.last_used = Instant::now();
        Some((slot.runtime.clone(), slot.counts.clone()))
    }

    /// Counts a request to the ledger its path names (`/api/v1/ledgers/{ledger}/...`,
    /// `/parcs/{ledger}/...`), once the request is answered, if the server
    /// holds that ledger: a made-up name counts nothing.
    pub fn count_request(&self, path: &str) {
        let Some(id) = named_in(path) else {
            return;
        };
        if let Some(slot) = self.lock().get(&id) {
            slot.counts.requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The ledger `keep` of `size` events was just opened: it is charged
    /// what it will hold, and while the open ledgers are charged more than
    /// the budget, those idle the longest have their governance state put
    /// to rest (only their next write rebuilds it), then, if that is not
    /// enough, are released (their next request rebuilds everything);
    /// never `keep`, a ledger in use or one whose history does not verify.
    /// What is freed is dropped after the lock is let go.
    fn opened(&self, keep: &LedgerId, size: u64) {
        let freed: (Vec<Replay>, Vec<Arc<LedgerRuntime>>) = {
            let mut slots = self.lock();
            if let Some(slot) = slots.get_mut(keep) {
                slot.size_at_opening = size;
            }
            let mut charged: u64 = slots.values().filter_map(Slot::charge).sum();
            let budget = self.budget();
            let mut idle: Vec<(Instant, LedgerId)> = slots
                .iter()
                .filter(|(id, s)| *id != keep && releasable(s))
                .map(|(id, s)| (s.last_used, id.clone()))
                .collect();
            idle.sort();
            let mut rested = Vec::new();
            for (_, id) in &idle {
                if charged <= budget {
                    break;
                }
                let Some(slot) = slots.get(id).filter(|s| s.restable()) else {
                    continue;
                };
                let before = slot.charge().unwrap_or(0);
                let Some(replay) = slot.runtime.get().and_then(|r| r.integrity.rest()) else {
                    continue;
                };
                charged = charged.saturating_sub(before.saturating_sub(slot.charge().unwrap_or(0)));
                slot.counts.rests.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(ledger = %id, "governance state put to rest: the open ledgers were over the memory budget");
                rested.push(replay);
            }
            let mut released = Vec::new();
            for (_, id) in idle {
                if charged <= budget {
                    break;
                }
                let Some(slot) = slots.get_mut(&id) else {
                    continue;
                };
                charged = charged.saturating_sub(slot.charge().unwrap_or(0));
                let Some(runtime) = std::mem::take(&mut slot.runtime).get().cloned() else {
                    continue;
                };
                slot.counts
                    .appended_before
                    .fetch_add(runtime.appended(), Ordering::Relaxed);
                slot.counts
                    .rebuilds_before
                    .fetch_add(runtime.integrity.rebuilds(), Ordering::Relaxed);
                slot.counts.releases.fetch_add(1, Ordering::Relaxed);
                tracing::info!(ledger = %id, "ledger released: the open ledgers were over the memory budget");
                released.push(runtime);
            }
            (rested, released)
        };
        drop(freed);
    }
}

/// Open, held by no request (only its slot holds it), and verified.
fn releasable(slot: &Slot) -> bool {
    Arc::strong_count(&slot.runtime) == 1
        && slot
            .runtime
            .get()
            .is_some_and(|r| Arc::strong_count(r) == 1 && r.integrity.broken().is_none())
}
