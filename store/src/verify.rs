//! Auditing a ledger: its chain, its recorded head, and signed checkpoints.
//! The same audit runs over a database and over an exported file.

use std::io::BufRead;

use crate::chain::{ChainBreak, ChainVerifier};
use crate::checkpoint::Checkpoint;
use crate::error::StoreError;
use crate::types::{Head, LedgerId, RecordedEvent};

/// The outcome of an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event chains to the one before, and every checkpoint given is a
    /// prefix of this history.
    Intact {
        head: Head,
        checkpoints_checked: usize,
    },
    /// The first position where history does not hold together.
    Broken(ChainBreak),
}

/// Checks events in position order against the chain and a set of
/// checkpoints (already signature-checked).
#[derive(Debug)]
pub struct Audit {
    chain: ChainVerifier,
    /// Sorted by size.
    checkpoints: Vec<Checkpoint>,
    next_checkpoint: usize,
}

impl Audit {
    pub fn new(ledger: LedgerId, checkpoints: &[Checkpoint]) -> Self {
        let mut checkpoints = checkpoints.to_vec();
        checkpoints.sort_by_key(|c| c.size);
        Self {
            chain: ChainVerifier::new(ledger),
            checkpoints,
            next_checkpoint: 0,
        }
    }

    /// Checks the next event.
    pub fn check(&mut self, e: &RecordedEvent) -> Result<(), ChainBreak> {
        self.chain.check(e)?;
        self.check_checkpoints()
    }

    fn check_checkpoints(&mut self) -> Result<(), ChainBreak> {
        let head = self.chain.head();
        while let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            if cp.size > head.size {
                break;
            }
            if cp.ledger != self.ledger_id() {
                return Err(ChainBreak {
                    position: cp.size,
                    reason: format!(
                        "a checkpoint is for ledger {}, not {}",
                        cp.ledger,
                        self.ledger_id()
                    ),
                });
            }
            if cp.head != head.hash {
                return Err(ChainBreak {
                    position: cp.size,
                    reason: format!(
                        "the hash here is {}, but the checkpoint signed at {} says {}: history was rewritten after it was signed",
                        head.hash,
                        cp.time_rfc3339(),
                        cp.head
                    ),
                });
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
        let head = self.chain.head();
        if let Err(broken) = self.check_checkpoints() {
            return Verification::Broken(broken);
        }
        if let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            return Verification::Broken(ChainBreak {
                position: head.size + 1,
                reason: format!(
                    "the ledger ends at position {}, but the checkpoint signed at {} covers {} events: history was truncated",
                    head.size,
                    cp.time_rfc3339(),
                    cp.size
                ),
            });
        }
        if let Some(recorded) = recorded
            && recorded != head
        {
            return Verification::Broken(ChainBreak {
                position: head.size.min(recorded.size) + 1,
                reason: format!(
                    "the ledger records {} events ending in {}, but its events chain to {} ending in {}",
                    recorded.size, recorded.hash, head.size, head.hash
                ),
            });
        }
        Verification::Intact {
            head,
            checkpoints_checked: self.checkpoints.len(),
        }
    }
}

/// Audits an exported ledger (JSON Lines, one [`RecordedEvent`] per line,
/// in position order), offline. `progress` is called every 10,000 events.
pub fn verify_jsonl(
    reader: impl BufRead,
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
        let audit = audit.get_or_insert_with(|| Audit::new(event.ledger_id.clone(), checkpoints));
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
            Some(cp) => Ok(Verification::Broken(ChainBreak {
                position: 1,
                reason: format!(
                    "the export is empty, but a checkpoint covers {} events",
                    cp.size
                ),
            })),
            None => Ok(Verification::Intact {
                head: Head::EMPTY,
                checkpoints_checked: checkpoints.len(),
            }),
        },
    }
}
