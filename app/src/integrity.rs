//! The server never serves, extends or signs a history it has not verified.
//!
//! Each served ledger has an [`Integrity`] watch. Every event the ledger's
//! subscription delivers (from position 1 when the ledger is opened, then
//! as it grows) is checked before the projections apply it: its place in
//! the hash chain, its seal (a commit's seal is read with its events; an
//! event inside no valid seal by a trusted key was written by someone
//! without the server's key), and its governance, decided again by the
//! domain from the events before it (the same `Replay` as `windledger
//! verify`). The
//! first event that fails stops the projections before it, and the ledger
//! is marked broken, with the position and the reason: `/readyz` says so,
//! every command is refused with 503, no checkpoint is signed, the error is
//! logged and `windledger_ledger_intact` drops to 0.
//!
//! What the subscription cannot see is checked around it: a head that goes
//! back below what was verified (events truncated and the head row moved
//! back), another hash at a verified position (history rewritten), and,
//! before each signature, the last verified event read again and hashed.
//! A full verification (the municipality's verification page) that finds a
//! break marks the ledger broken too. Only a restart clears the mark, and
//! the restart verifies everything again from position 1.

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use windledger_store::{
    Audit, ChainBreak, ChainVerifier, CheckpointVerifier, Hash, Head, LedgerId, RecordedEvent,
    Seal, Store,
};

use crate::audit::Replay;
use crate::error::{Error, ErrorKind};
use crate::services::scan;

/// Why a ledger is not to be trusted: the first position at fault, if
/// there is one, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub position: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some(p) => write!(f, "position {p}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// The verified state of one ledger.
pub struct Integrity {
    ledger: LedgerId,
    inner: Mutex<Inner>,
    /// The last verified position, for those waiting on it.
    verified: watch::Sender<u64>,
    /// Rebuilds of the governance state after a rest.
    rebuilds: std::sync::atomic::AtomicU64,
}

struct Inner {
    audit: Audit,
    /// `None` while the ledger rests ([`Integrity::rest`]).
    replay: Option<Replay>,
    head: Head,
    broken: Option<Broken>,
    /// The seals read so far end at or before this position.
    seals_read: u64,
}

impl Integrity {
    /// `keys`: the public keys whose seals are trusted (the server's own,
    /// and earlier ones after a rotation).
    pub fn new(ledger: LedgerId, keys: &[CheckpointVerifier]) -> Self {
        Self {
            inner: Mutex::new(Inner {
                audit: Audit::new(ledger.clone(), keys, &[]),
                replay: Some(Replay::default()),
                head: Head::EMPTY,
                broken: None,
                seals_read: 0,
            }),
            ledger,
            verified: watch::channel(0).0,
            rebuilds: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the seals the event at `position` needs, if they were not read
    /// yet: every seal ending after those read (a commit's seal is written
    /// with its events, so it is there when they are). Retried until the
    /// database answers: an event checked without its seal would read as
    /// unsealed.
    pub async fn read_seals(&self, store: &Store, position: u64) {
        let after = {
            let inner = self.lock();
            if position <= inner.seals_read {
                return;
            }
            inner.seals_read
        };
        let mut backoff = Duration::from_millis(50);
        let seals = loop {
            match store.seals(&self.ledger, after, i64::MAX as u64).await {
                Ok(seals) => break seals,
                Err(e) => {
                    tracing::warn!(ledger = %self.ledger, error = %e, "cannot read the seals yet; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        };
        self.add_seals(seals);
    }

    fn add_seals(&self, seals: Vec<Seal>) {
        let mut inner = self.lock();
        for seal in seals {
            if seal.last > inner.seals_read {
                inner.seals_read = seal.last;
                inner.audit.add_seal(seal);
            }
        }
    }

    /// Checks the next event of the ledger; `false` (and the ledger marked
    /// broken) if it must not be applied. The ledger must not be resting
    /// (see [`Integrity::check_next`]).
    pub fn check(&self, e: &RecordedEvent) -> bool {
        self.check_locked(self.lock(), e)
    }

    /// Checks the next event of the ledger as the server follows it: its
    /// commit's seals read first, and the governance state rebuilt first
    /// if the ledger was resting. `false` (and the ledger marked broken)
    /// if it must not be applied.
    pub async fn check_next(&self, store: &Store, e: &RecordedEvent) -> bool {
        self.read_seals(store, e.position).await;
        let mut rebuilt = None;
        loop {
            {
                let mut inner = self.lock();
                if inner.replay.is_none() {
                    // The state rebuilt is the one at the verified head,
                    // which only this reader moves.
                    inner.replay = rebuilt.take();
                }
                if inner.replay.is_some() || inner.broken.is_some() {
                    return self.check_locked(inner, e);
                }
            }
            match self.rebuild(store).await {
                Ok(replay) => {
                    self.rebuilds
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    rebuilt = Some(replay);
                }
                Err((position, reason)) => {
                    self.fail(position, reason);
                    return false;
                }
            }
        }
    }

    /// Whether the governance state is at rest ([`Integrity::rest`]).
    pub fn resting(&self) -> bool {
        self.lock().replay.is_none()
    }

    /// Puts the governance state to rest; the state, if it was held, for
    /// the caller to drop where it likes (its memory is freed then, and
    /// the drop may take a while: outside a lock). A broken ledger keeps
    /// it (nothing is checked after the break anyway). The next event to
    /// check rebuilds it.
    pub fn rest(&self) -> Option<Replay> {
        let mut inner = self.lock();
        if inner.broken.is_some() {
            return None;
        }
        inner.replay.take()
    }

    /// How many times the governance state was rebuilt after a rest.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The governance state at the verified head, decided again from the
    /// ledger's events read again from the database, which must chain and
    /// hash to the verified head. Retried while the database does not
    /// answer; `Err` with the position and reason the ledger is broken.
    async fn rebuild(&self, store: &Store) -> Result<Replay, (Option<u64>, String)> {
        let head = self.head();
        let mut backoff = Duration::from_millis(50);
        let (chain, replay) = loop {
            let mut chain = ChainVerifier::new(self.ledger.clone());
            let mut replay = Replay::new();
            let read = scan(store, &self.ledger, head.size, |e| {
                let rewritten = |reason: String| {
                    ControlFlow::Break((
                        Some(e.position),
                        format!(
                            "the event at position {} read again does not verify ({reason}): it was changed after it was verified",
                            e.position
                        ),
                    ))
                };
                if let Err(b) = chain.check(&e) {
                    return rewritten(b.reason);
                }
                match replay.apply(&e) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(reason) => rewritten(reason),
                }
            })
            .await;
            match read {
                Ok(None) => break (chain, replay),
                Ok(Some(broken)) => return Err(broken),
                Err(e) => {
                    tracing::warn!(ledger = %self.ledger, error = %e, "cannot read the ledger again to check its next event; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        };
        let read = chain.head();
        if read.size < head.size {
            return Err((
                Some(read.size + 1),
                format!(
                    "the ledger's events end at position {}, but {} were verified: history was truncated after it was verified",
                    read.size, head.size
                ),
            ));
        }
        if read != head {
            return Err((
                Some(head.size),
                format!(
                    "the ledger read again hashes to {} at position {}, but {} was verified there: history was rewritten",
                    read.hash, head.size, head.hash
                ),
            ));
        }
        Ok(replay)
    }

    fn check_locked(&self, mut inner: std::sync::MutexGuard<'_, Inner>, e: &RecordedEvent) -> bool {
        if inner.broken.is_some() {
            return false;
        }
        if let Err(ChainBreak {
            position, reason, ..
        }) = inner.audit.check(e)
        {
            drop(inner);
            self.fail(Some(position), reason);
            return false;
        }
        let Some(replay) = inner.replay.as_mut() else {
            drop(inner);
            self.fail(
                Some(e.position),
                "the governance state was not rebuilt before the event was checked".to_owned(),
            );
            return false;
        };
        if let Err(reason) = replay.apply(e) {
            drop(inner);
            self.fail(
                Some(e.position),
                format!(
                    "the event ({} on {}) {reason}",
                    e.event_type,
                    e.stream_id.as_str()
                ),
            );
            return false;
        }
        inner.head = Head {
            size: e.position,
            hash: e.hash,
        };
        drop(inner);
        self.verified.send_replace(e.position);
        true
    }

    /// Marks the ledger broken (the first reason stays).
    pub fn fail(&self, position: Option<u64>, reason: String) {
        let mut inner = self.lock();
        if inner.broken.is_some() {
            return;
        }
        let broken = Broken { position, reason };
        tracing::error!(ledger = %self.ledger, problem = %broken, "the ledger's history does not verify: writes and signatures stop");
        inner.broken = Some(broken);
        drop(inner);
        // Wake anyone waiting for a verification that will not come.
        self.verified.send_modify(|_| {});
    }

    /// Why the ledger is broken, if it is.
    pub fn broken(&self) -> Option<Broken> {
        self.lock().broken.clone()
    }

    /// The head verified so far.
    pub fn head(&self) -> Head {
        self.lock().head
    }

    /// Compares the head the database records with `verified`, the head
    /// verified when the read of `recorded` began (taken with
    /// [`Integrity::head`] before the read: events verified while it ran
    /// may be newer than it): a head below it means events were removed;
    /// the same size with another hash, rewritten.
    pub fn check_head(&self, recorded: Head, verified: Head) {
        if recorded.size < verified.size {
            self.fail(
                Some(recorded.size + 1),
                format!(
                    "the ledger's head went back from {} to {} events: history was truncated after it was verified",
                    verified.size, recorded.size
                ),
            );
        } else if recorded.size == verified.size && recorded.hash != verified.hash {
            self.fail(
                Some(recorded.size),
                format!(
                    "the ledger records {} as the hash of position {}, but {} was verified there: history was rewritten",
                    recorded.hash, recorded.size, verified.hash
                ),
            );
        }
    }

    /// The last verified event, read again from the database: it must still
    /// be there with the hash verified (a payload changed behind the
    /// triggers' back changes its hash, or no longer matches it).
    pub fn check_reread(&self, position: u64, reread: Option<&RecordedEvent>, expected: Hash) {
        match reread {
            None => self.fail(
                Some(position),
                format!("the verified event at position {position} is gone"),
            ),
            Some(e) => {
                let recomputed = windledger_store::recompute_hash(e).ok();
                if e.hash != expected || recomputed != Some(expected) {
                    self.fail(
                        Some(position),
                        format!(
                            "the event at position {position} no longer hashes to {expected}, as verified: it was changed after it was verified"
                        ),
                    );
                }
            }
        }
    }

    /// Every verified event lies inside a valid seal: checked before a
    /// signature (an unsealed event at the head has no later seal to give
    /// it away while following).
    pub fn check_sealed(&self) {
        let (sealed, head) = {
            let inner = self.lock();
            (inner.audit.sealed(), inner.head.size)
        };
        if sealed < head {
            self.fail(
                Some(sealed + 1),
                format!(
                    "no valid seal covers positions {} to {head}: they were written without the server's seal key",
                    sealed + 1
                ),
            );
        }
    }

    /// Commands are refused while the ledger is broken.
    pub fn writable(&self) -> Result<(), Error> {
        match self.broken() {
            None => Ok(()),
            Some(b) => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "ledger {} does not verify ({b}): it takes no command until its history is repaired and the server restarted",
                    self.ledger
                ),
            )),
        }
    }

    /// Waits until `size` events are verified, as long as verification
    /// goes on: it gives up when no event was verified for `stall` (or
    /// when the ledger is found broken). A long ledger read on a loaded
    /// machine is waited for to its end; a verification that stopped is
    /// not.
    pub async fn verified_up_to(&self, size: u64, stall: Duration) -> Result<Head, Error> {
        let mut rx = self.verified.subscribe();
        let waited = async {
            loop {
                if let Some(b) = self.broken() {
                    return Err(Some(b));
                }
                if *rx.borrow_and_update() >= size {
                    return Ok(());
                }
                match tokio::time::timeout(stall, rx.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ok(()),
                    Err(_) => return Err(None),
                }
            }
        }
        .await;
        match waited {
            Ok(()) => Ok(self.head()),
            Err(Some(b)) => Err(Error::new(
                ErrorKind::Unavailable,
                format!("ledger {} does not verify ({b})", self.ledger),
            )),
            Err(None) => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "ledger {} is not verified up to its head yet ({} of {size} events): try again shortly",
                    self.ledger,
                    self.head().size
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn integrity() -> Arc<Integrity> {
        Arc::new(Integrity::new(LedgerId::parse("ferme").unwrap(), &[]))
    }

    /// Verifies one event each `step` up to `to`, as the ledger's reader
    /// does (the events themselves are not in play here).
    fn verify_slowly(integrity: &Arc<Integrity>, to: u64, step: Duration) {
        let integrity = integrity.clone();
        tokio::spawn(async move {
            for position in 1..=to {
                tokio::time::sleep(step).await;
                integrity.verified.send_replace(position);
            }
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_verification_that_goes_on_is_waited_for_to_its_end() {
        let integrity = integrity();
        verify_slowly(&integrity, 50, Duration::from_millis(200));
        let started = tokio::time::Instant::now();
        let waited = integrity.verified_up_to(50, Duration::from_secs(1)).await;
        assert!(waited.is_ok(), "{waited:?}");
        // Ten seconds in all, ten times the stall.
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_verification_that_stopped_is_given_up_after_the_stall() {
        let integrity = integrity();
        verify_slowly(&integrity, 5, Duration::from_millis(200));
        let started = tokio::time::Instant::now();
        let waited = integrity.verified_up_to(50, Duration::from_secs(1)).await;
        let error = waited.expect_err("no event was verified for a second");
        assert_eq!(error.kind, ErrorKind::Unavailable);
        assert!(
            error.detail.contains("not verified up to its head yet"),
            "{}",
            error.detail
        );
        // The last event at 1 s, then a second without one.
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_broken_ledger_is_not_waited_for() {
        let integrity = integrity();
        verify_slowly(&integrity, 5, Duration::from_millis(200));
        let failing = integrity.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            failing.fail(Some(3), "the event at position 3 was changed".into());
        });
        let started = tokio::time::Instant::now();
        let error = integrity
            .verified_up_to(50, Duration::from_secs(60))
            .await
            .expect_err("the ledger is broken");
        assert!(error.detail.contains("does not verify"), "{}", error.detail);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }

    /// Putting the governance state to rest and rebuilding it from the
    /// database for the next event.
    mod resting {
        use windledger_fixtures::synthetic::Synthetic;
        use windledger_store::testing::TestDatabase;

        use super::*;
        use crate::import::synthetic::write_synthetic;

        windledger_store::on_both_backends!(
            a_rested_ledger_checks_its_next_event_as_before,
            an_event_changed_while_the_ledger_rested_is_found_at_the_next_event,
            history_cut_while_the_ledger_rested_is_found_at_the_next_event,
        );

        /// A small farm, and an integrity that verified all but its last
        /// event (returned), then rested.
        async fn rested(db: &TestDatabase) -> (Store, Arc<Integrity>, RecordedEvent) {
            let store = db.store().await;
            let ledger = LedgerId::parse("ferme").unwrap();
            write_synthetic(&store, &ledger, &Synthetic::for_events(300, 12), |_| {})
                .await
                .expect("a synthetic farm");
            let events = store.read_ledger(&ledger, 0, 10_000).await.unwrap();
            let integrity = Arc::new(Integrity::new(ledger, &db.keys()));
            let (last, before) = events.split_last().expect("events");
            for e in before {
                assert!(
                    integrity.check_next(&store, e).await,
                    "{:?}",
                    integrity.broken()
                );
            }
            let replay = integrity.rest().expect("the state was held");
            drop(replay);
            assert!(integrity.resting());
            assert!(integrity.rest().is_none(), "nothing more to free");
            (store, integrity, last.clone())
        }

        async fn a_rested_ledger_checks_its_next_event_as_before(db: TestDatabase) {
            let (store, integrity, last) = rested(&db).await;
            let size = last.position;
            assert!(
                integrity.check_next(&store, &last).await,
                "{:?}",
                integrity.broken()
            );
            assert_eq!(integrity.head().size, size);
            assert!(!integrity.resting());
            assert_eq!(integrity.rebuilds(), 1);
            // Rebuilt, it decided every event again, as a replay of the
            // whole ledger does.
            let ledger = LedgerId::parse("ferme").unwrap();
            let mut whole = Replay::new();
            for e in store.read_ledger(&ledger, 0, 10_000).await.unwrap() {
                whole.apply(&e).unwrap();
            }
            let rebuilt = integrity.lock().replay.as_ref().map(Replay::recomputed);
            assert_eq!(rebuilt, Some(whole.recomputed()));
            assert!(whole.recomputed().ballots > 0, "{:?}", whole.recomputed());
        }

        async fn an_event_changed_while_the_ledger_rested_is_found_at_the_next_event(
            db: TestDatabase,
        ) {
            let (store, integrity, last) = rested(&db).await;
            let ledger = LedgerId::parse("ferme").unwrap();
            let third = store.read_ledger(&ledger, 2, 1).await.unwrap().remove(0);
            let payload = third.payload.get().to_owned();
            let altered = payload.replacen('1', "2", 1);
            assert_ne!(altered, payload, "the payload has a digit to change");
            db.tamper_payload(&ledger, 3, &altered).await;
            assert!(!integrity.check_next(&store, &last).await);
            let broken = integrity.broken().expect("broken");
            assert_eq!(broken.position, Some(3), "{broken}");
            assert!(
                broken.reason.contains("changed after it was verified"),
                "{broken}"
            );
            assert_eq!(integrity.head().size, last.position - 1);
        }

        async fn history_cut_while_the_ledger_rested_is_found_at_the_next_event(db: TestDatabase) {
            let (store, integrity, last) = rested(&db).await;
            let ledger = LedgerId::parse("ferme").unwrap();
            db.cut_history(&ledger, 100).await;
            assert!(!integrity.check_next(&store, &last).await);
            let broken = integrity.broken().expect("broken");
            assert_eq!(broken.position, Some(101), "{broken}");
            assert!(broken.reason.contains("truncated"), "{broken}");
        }
    }
}
