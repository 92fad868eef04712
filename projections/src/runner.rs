//! Feeding the folds: each event is decoded once and applied to every fold
//! in position order; each fold remembers its position and stops, naming
//! the position, at the first event it cannot apply.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{Stream, StreamExt};
use thiserror::Error;
use tokio::sync::watch;

use crate::cap_table::CapTable;
use crate::event::{FarmEvent, LedgerEvent, decode};
use crate::finance::Finance;
use crate::register::DecisionsRegister;
use crate::share_register::ShareRegister;
use crate::territory::Territory;
use crate::tree::Tree;

/// A read model: a pure fold over the ledger.
pub trait Fold: Clone + Default + Send + Sync {
    /// A stable name, for errors and status.
    const NAME: &'static str;

    /// Applies one event. An error stops this fold at this event.
    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String>;
}

/// A fold stopped at an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("projection {projection} stopped at position {position}: {reason}")]
pub struct ProjectionError {
    pub projection: &'static str,
    pub position: u64,
    pub reason: String,
}

/// A fold with its position and, once stopped, why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slot<F> {
    fold: F,
    position: u64,
    failed: Option<ProjectionError>,
}

impl<F: Fold> Slot<F> {
    pub fn fold(&self) -> &F {
        &self.fold
    }

    /// The last position applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn failed(&self) -> Option<&ProjectionError> {
        self.failed.as_ref()
    }

    fn apply(&mut self, meta: &LedgerEvent, event: Result<&FarmEvent, &str>) {
        if self.failed.is_some() || meta.position <= self.position {
            return;
        }
        let stop = |reason: String| ProjectionError {
            projection: F::NAME,
            position: meta.position,
            reason,
        };
        if meta.position != self.position + 1 {
            self.failed = Some(stop(format!(
                "expected position {}: the feed skipped events",
                self.position + 1
            )));
            return;
        }
        let applied = match event {
            Ok(event) => self.fold.apply(meta, event),
            Err(reason) => Err(reason.to_owned()),
        };
        match applied {
            Ok(()) => self.position = meta.position,
            Err(reason) => self.failed = Some(stop(reason)),
        }
    }
}

/// Every fold of a ledger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projections {
    pub cap_table: Slot<CapTable>,
    pub register: Slot<DecisionsRegister>,
    pub share_register: Slot<ShareRegister>,
    pub finance: Slot<Finance>,
    pub tree: Slot<Tree>,
    pub territory: Slot<Territory>,
}

/// Where a fold stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub projection: &'static str,
    pub position: u64,
    pub failed: Option<ProjectionError>,
}

impl Projections {
    /// Applies one event to every fold that has not passed it. Events
    /// already applied are passed over (a feed may resume a little early).
    pub fn apply(&mut self, event: &LedgerEvent) {
        if event.position <= self.position() {
            return;
        }
        let decoded = decode(event);
        self.apply_decoded(event, decoded.as_ref().map_err(String::as_str));
    }

    /// [`Projections::apply`] of an event already decoded.
    fn apply_decoded(&mut self, event: &LedgerEvent, decoded: Result<&FarmEvent, &str>) {
        if event.position <= self.position() {
            return;
        }
        self.cap_table.apply(event, decoded);
        self.register.apply(event, decoded);
        self.share_register.apply(event, decoded);
        self.finance.apply(event, decoded);
        self.tree.apply(event, decoded);
        self.territory.apply(event, decoded);
    }

    /// The position every fold has reached (the lowest of them).
    pub fn position(&self) -> u64 {
        self.cap_table
            .position()
            .min(self.register.position())
            .min(self.share_register.position())
            .min(self.finance.position())
            .min(self.tree.position())
            .min(self.territory.position())
    }

    pub fn status(&self) -> Vec<Status> {
        fn status<F: Fold>(slot: &Slot<F>) -> Status {
            Status {
                projection: F::NAME,
                position: slot.position(),
                failed: slot.failed().cloned(),
            }
        }
        vec![
            status(&self.cap_table),
            status(&self.register),
            status(&self.share_register),
            status(&self.finance),
            status(&self.tree),
            status(&self.territory),
        ]
    }

    /// The first fold that stopped, if any.
    pub fn failure(&self) -> Option<&ProjectionError> {
        self.cap_table
            .failed()
            .or(self.register.failed())
            .or(self.share_register.failed())
            .or(self.finance.failed())
            .or(self.tree.failed())
            .or(self.territory.failed())
    }
}

/// An event and its domain event, or why it does not decode.
type Decoded = (LedgerEvent, Result<FarmEvent, String>);

/// The largest ledger whose folds [`Shared::build_until`] builds apart
/// then copies: while the copy is made, the folds are held twice (310
/// bytes an event each, `--example footprint`), about 30 MiB more at this
/// size; a larger ledger is built in place (the `projections` benchmark's
/// ledger of a million events, whose peak memory is bounded, is).
pub const BUILD_APART_MAX_EVENTS: u64 = 100_000;

/// The projections of a ledger shared between the task that feeds them and
/// the readers, with the position applied broadcast to whoever waits for
/// it.
///
/// Up to the position [`Shared::build_until`] names (the ledger's head
/// when it is opened), the folds are built in a heap of their own
/// ([`windledger_memory::scratch`]), then copied to the main heap at once
/// and the built ones freed: what the decoded events and the folds' own
/// growth left among their blocks is freed with them, and the copy holds
/// only what is kept (each vector at its length), in pages of its own.
/// Once the copy is made, the scratch pages are returned to the system.
/// The `farms` benchmark's `open_bytes_per_event` measures the effect
/// (347 to 356 bytes an event rather than 414 to 420 on 2026-12-07).
pub struct Shared {
    projections: RwLock<Projections>,
    applied: watch::Sender<u64>,
    /// While the folds are below it, they are being built (0: not).
    building: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            projections: RwLock::new(Projections::default()),
            applied: watch::channel(0).0,
            building: AtomicU64::new(0),
        }
    }
}

impl Shared {
    /// Reads the projections (a short lock: never held across an await).
    pub fn read<T>(&self, f: impl FnOnce(&Projections) -> T) -> T {
        let guard = self.projections.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Applies a batch of events under one lock.
    pub fn apply(&self, events: &[LedgerEvent]) {
        let position = {
            let mut guard = self.projections.write().unwrap_or_else(|p| p.into_inner());
            for e in events {
                guard.apply(e);
            }
            guard.position()
        };
        self.applied.send_replace(position);
    }

    /// The folds are built apart up to `position`, then copied (see
    /// [`Shared`]), if it is at most [`BUILD_APART_MAX_EVENTS`]; set
    /// before the feed starts (0: not at all).
    pub fn build_until(&self, position: u64) {
        let position = if position <= BUILD_APART_MAX_EVENTS {
            position
        } else {
            0
        };
        self.building.store(position, Ordering::Relaxed);
    }

    /// Applies a batch of events decoded beforehand, under one lock.
    fn apply_decoded(&self, events: &[Decoded]) {
        let (position, built) = {
            let mut guard = self.projections.write().unwrap_or_else(|p| p.into_inner());
            let apply = |p: &mut Projections| {
                for (e, decoded) in events {
                    p.apply_decoded(e, decoded.as_ref().map_err(String::as_str));
                }
            };
            let building = self.building.load(Ordering::Relaxed);
            let mut built = None;
            if guard.position() < building {
                windledger_memory::scratch(|| apply(&mut guard));
                // Built (or stopped, and then built no further): copied out
                // of the scratch heap.
                if guard.position() >= building || guard.failure().is_some() {
                    let copy = guard.clone();
                    built = Some(std::mem::replace(&mut *guard, copy));
                    self.building.store(0, Ordering::Relaxed);
                }
            } else {
                apply(&mut guard);
            }
            (guard.position(), built)
        };
        self.applied.send_replace(position);
        // The built ones freed outside the lock, and their pages returned.
        if let Some(built) = built {
            drop(built);
            windledger_memory::release_scratch();
        }
    }

    /// Starts again from position 0 (the feed must then start at 0 too).
    pub fn reset(&self) {
        *self.projections.write().unwrap_or_else(|p| p.into_inner()) = Projections::default();
        self.applied.send_replace(0);
    }

    /// Waits until every fold has applied `position` (or one has stopped,
    /// which is returned as the error).
    pub async fn caught_up(&self, position: u64) -> Result<(), ProjectionError> {
        let mut applied = self.applied.subscribe();
        loop {
            if let Some(failure) = self.read(|p| p.failure().cloned()) {
                return Err(failure);
            }
            if *applied.borrow_and_update() >= position {
                return Ok(());
            }
            if applied.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    /// Feeds the projections from a stream of events (the store's
    /// subscription, mapped to [`LedgerEvent`]s) until it ends or fails,
    /// applying what is ready in batches.
    ///
    /// Decoding the payloads (JSON into the domain's events) is about half
    /// of the folds' work: each batch is decoded by a task of its own while
    /// the batch before is applied, so that a rebuild uses both cores of a
    /// small machine. Batches are applied in order, each once, then freed
    /// by a task of their own (about a fifth of the applying task's time
    /// in a rebuild's profile went to freeing them).
    pub async fn follow<E>(
        &self,
        events: impl Stream<Item = Result<LedgerEvent, E>>,
    ) -> Result<(), E> {
        let batches = events.ready_chunks(1_024).map(|batch| {
            let mut ready = Vec::with_capacity(batch.len());
            let mut failure = None;
            for item in batch {
                match item {
                    Ok(e) => ready.push(e),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let decoding = tokio::spawn(async move {
                ready
                    .into_iter()
                    .map(|e| {
                        let decoded = decode(&e);
                        (e, decoded)
                    })
                    .collect::<Vec<Decoded>>()
            });
            async move { (decoding.await, failure) }
        });
        let mut batches = std::pin::pin!(batches.buffered(2));
        while let Some((decoded, failure)) = batches.next().await {
            match decoded {
                Ok(decoded) => {
                    self.apply_decoded(&decoded);
                    // Freed by a worker while this task reads on.
                    tokio::spawn(async move { drop(decoded) });
                }
                // Decoding returns errors rather than panic; a panic is
                // the program's bug, raised here.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // The runtime is shutting down: nothing more is followed.
                Err(_) => return Ok(()),
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64) -> LedgerEvent {
        LedgerEvent::unrecorded(
            position,
            "other/noise".into(),
            "Noise".into(),
            "{}".into(),
            chrono::DateTime::UNIX_EPOCH,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_decoded_ahead_are_applied_in_order_up_to_a_failure() {
        // Many batches, then a failure: everything before it applied, in
        // order (a fold stops at the first position out of order), and
        // nothing after it.
        let items = (1..=5_000)
            .map(|p| Ok(event(p)))
            .chain([Err("the feed failed")])
            .chain((5_001..=5_010).map(|p| Ok(event(p))));
        let shared = Shared::default();
        let fed = shared.follow(futures::stream::iter(items)).await;
        assert_eq!(fed, Err("the feed failed"));
        shared.read(|p| {
            assert_eq!(p.failure(), None);
            assert_eq!(p.position(), 5_000);
            assert_eq!(p.tree.fold().log().size(), 5_000);
        });
        // A feed that ends is followed to its end.
        let shared = Shared::default();
        let fed = shared
            .follow(futures::stream::iter(
                (1..=3_000).map(|p| Ok::<_, ()>(event(p))),
            ))
            .await;
        assert_eq!(fed, Ok(()));
        assert_eq!(shared.read(Projections::position), 3_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_models_are_built_apart_until_the_head_then_no_more() {
        let feed = |range: std::ops::RangeInclusive<u64>| {
            futures::stream::iter(range.map(|p| Ok::<_, ()>(event(p))))
        };
        // The head reached within a batch: built, copied, and what follows
        // in the main heap.
        let shared = Shared::default();
        shared.build_until(2_500);
        assert_eq!(shared.follow(feed(1..=2_000)).await, Ok(()));
        assert_eq!(shared.building.load(Ordering::Relaxed), 2_500);
        assert_eq!(shared.follow(feed(2_001..=3_000)).await, Ok(()));
        assert_eq!(shared.building.load(Ordering::Relaxed), 0);
        shared.read(|p| {
            assert_eq!(p.position(), 3_000);
            assert_eq!(p.tree.fold().log().size(), 3_000);
        });
        // A ledger too large to be held twice is built in place.
        let shared = Shared::default();
        shared.build_until(BUILD_APART_MAX_EVENTS + 1);
        assert_eq!(shared.building.load(Ordering::Relaxed), 0);
        // A fold that stops ends the building too.
        let shared = Shared::default();
        shared.build_until(100);
        assert_eq!(
            shared.follow(feed(1..=10).chain(feed(12..=20))).await,
            Ok(())
        );
        assert_eq!(shared.building.load(Ordering::Relaxed), 0);
        assert!(shared.read(|p| p.failure().is_some()));
    }
}
