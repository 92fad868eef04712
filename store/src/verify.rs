//! Auditing a ledger: its chain, its seals, its recorded head, and signed
//! checkpoints.
//! The same audit runs over a database and over an exported file.

use std::io::BufRead;

use crate::chain::{ChainBreak, ChainVerifier};
use crate::checkpoint::{Checkpoint, CheckpointVerifier};
use crate::error::StoreError;
use crate::seal::{Seal, SealChecker};
use crate::types::{Head, LedgerId, RecordedEvent};

/// The outcome of an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event chains to the one before and lies inside a seal by a
    /// trusted key, and every checkpoint given is a prefix of this history.
    Intact {
        head: Head,
        checkpoints_checked: usize,
    },
    /// The first position where history does not hold together (the chain
    /// breaks there, or the event there is unsealed: see
    /// [`ChainBreak::kind`]).
    Broken(ChainBreak),
}

/// Checks events in position order against the chain, the seals and a set
/// of checkpoints (already signature-checked).
///
/// An audit can go on: check more events after [`Audit::conclude`], or
/// start from a head verified before ([`Audit::resume`]), so that checking
/// the events appended since costs time in proportion to them.
#[derive(Debug, Clone)]
pub struct Audit {
    chain: ChainVerifier,
    seals: SealChecker,
    /// Sorted by size.
    checkpoints: Vec<Checkpoint>,
    next_checkpoint: usize,
    /// The first problem found: the audit stops there.
    failed: Option<ChainBreak>,
}

impl Audit {
    /// An audit from position 1. Every event must be inside a seal made by
    /// one of `keys` (several when the key was rotated): with no key, any
    /// event is unsealed.
    pub fn new(ledger: LedgerId, keys: &[CheckpointVerifier], checkpoints: &[Checkpoint]) -> Self {
        Self::resume(ledger, Head::EMPTY, keys, checkpoints)
    }

    /// An audit of the events after `from`, a head already verified (its
    /// chain and its seals: heads recorded by the store are always at the
    /// end of a seal). The first event must chain to it; stream versions
    /// are checked from the first event of each stream met after it.
    pub fn resume(
        ledger: LedgerId,
        from: Head,
        keys: &[CheckpointVerifier],
        checkpoints: &[Checkpoint],
    ) -> Self {
        let mut checkpoints: Vec<Checkpoint> = checkpoints
            .iter()
            .filter(|c| c.size > from.size)
            .cloned()
            .collect();
        checkpoints.sort_by_key(|c| c.size);
        let chain = if from == Head::EMPTY {
            ChainVerifier::new(ledger.clone())
        } else {
            ChainVerifier::resume(ledger.clone(), from)
        };
        Self {
            chain,
            seals: SealChecker::new(ledger, keys, from.size),
            checkpoints,
            next_checkpoint: 0,
            failed: None,
        }
    }

    /// The head of what has been checked so far.
    pub fn head(&self) -> Head {
        self.chain.head()
    }

    /// Every position up to this one is inside a valid seal.
    pub fn sealed(&self) -> u64 {
        self.seals.sealed()
    }

    /// Valid seals met so far.
    pub fn seals_checked(&self) -> u64 {
        self.seals.checked()
    }

    /// A seal read beside the events (from the database): give it before
    /// the event at its last position is checked. An exported event's
    /// `seal` is taken by [`Audit::check`] itself.
    pub fn add_seal(&mut self, seal: Seal) {
        self.seals.add(seal);
    }

    /// Checks the next event (and the seal it carries, if any).
    pub fn check(&mut self, e: &RecordedEvent) -> Result<(), ChainBreak> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let outcome = self.check_one(e);
        if let Err(broken) = &outcome {
            self.failed = Some(broken.clone());
        }
        outcome
    }

    fn check_one(&mut self, e: &RecordedEvent) -> Result<(), ChainBreak> {
        if let Some(seal) = &e.seal {
            self.seals
                .add(Seal::from_event(e.ledger_id.clone(), e.position, seal));
        }
        self.chain.check(e)?;
        self.seals.check(e.position, &e.hash)?;
        self.check_checkpoints()
    }

    fn check_checkpoints(&mut self) -> Result<(), ChainBreak> {
        let head = self.chain.head();
        while let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            if cp.size > head.size {
                break;
            }
            if cp.ledger != self.ledger_id() {
                return Err(ChainBreak::chain(
                    cp.size,
                    format!(
                        "a checkpoint is for ledger {}, not {}",
                        cp.ledger,
                        self.ledger_id()
                    ),
                ));
            }
            if cp.head != head.hash {
                return Err(ChainBreak::chain(
                    cp.size,
                    format!(
                        "the hash here is {}, but the checkpoint signed at {} says {}: history was rewritten after it was signed",
                        head.hash,
                        cp.time_rfc3339(),
                        cp.head
                    ),
                ));
            }
            self.next_checkpoint += 1;
        }
        Ok(())
    }

    fn ledger_id(&self) -> LedgerId {
        self.chain.ledger().clone()
    }

    /// Ends the audit. `recorded` is the head the ledger claims to have (the
    /// database's head row), if there is one to compare.
    pub fn finish(mut self, recorded: Option<Head>) -> Verification {
        self.conclude(recorded)
    }

    /// The outcome of what has been checked so far, leaving the audit able
    /// to go on with later events (a checkpoint beyond the events checked
    /// is reported as truncation now, and checked again later).
    pub fn conclude(&mut self, recorded: Option<Head>) -> Verification {
        if let Some(failed) = &self.failed {
            return Verification::Broken(failed.clone());
        }
        let head = self.chain.head();
        if let Err(broken) = self.check_checkpoints() {
            self.failed = Some(broken.clone());
            return Verification::Broken(broken);
        }
        if let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            return Verification::Broken(ChainBreak::chain(
                head.size + 1,
                format!(
                    "the ledger ends at position {}, but the checkpoint signed at {} covers {} events: history was truncated",
                    head.size,
                    cp.time_rfc3339(),
                    cp.size
                ),
            ));
        }
        if let Some(recorded) = recorded
            && recorded != head
        {
            return Verification::Broken(ChainBreak::chain(
                head.size.min(recorded.size) + 1,
                format!(
                    "the ledger records {} events ending in {}, but its events chain to {} ending in {}",
                    recorded.size, recorded.hash, head.size, head.hash
                ),
            ));
        }
        if let Err(unsealed) = self.seals.finish(head.size) {
            return Verification::Broken(unsealed);
        }
        Verification::Intact {
            head,
            checkpoints_checked: self.next_checkpoint,
        }
    }
}

/// Audits an exported ledger (JSON Lines, one [`RecordedEvent`] per line,
/// in position order, the last event of each commit carrying its seal),
/// offline. `keys` are the public keys trusted for seals (the server's, and
/// its earlier ones after a rotation). `progress` is called every 10,000
/// events.
pub fn verify_jsonl(
    reader: impl BufRead,
    keys: &[CheckpointVerifier],
    checkpoints: &[Checkpoint],
    mut progress: impl FnMut(u64),
) -> Result<Verification, StoreError> {
    let mut audit: Option<Audit> = None;
    for (index, line) in reader.lines().enumerate() {
        let line =
            line.map_err(|e| StoreError::Io(format!("cannot read line {}: {e}", index + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: RecordedEvent = serde_json::from_str(&line).map_err(|e| {
            StoreError::Corrupt(format!("line {} is not an exported event: {e}", index + 1))
        })?;
        let audit =
            audit.get_or_insert_with(|| Audit::new(event.ledger_id.clone(), keys, checkpoints));
        if let Err(broken) = audit.check(&event) {
            return Ok(Verification::Broken(broken));
        }
        if event.position.is_multiple_of(10_000) {
            progress(event.position);
        }
    }
    match audit {
        Some(audit) => Ok(audit.finish(None)),
        None => match checkpoints.iter().find(|c| c.size > 0) {
            Some(cp) => Ok(Verification::Broken(ChainBreak::chain(
                1,
                format!(
                    "the export is empty, but a checkpoint covers {} events",
                    cp.size
                ),
            ))),
            None => Ok(Verification::Intact {
                head: Head::EMPTY,
                checkpoints_checked: checkpoints.len(),
            }),
        },
    }
}
