//! `windledger verify EXPORT`: an auditor's offline check of an exported
//! ledger, with no database.
//!
//! Two checks in one pass over the export (JSON Lines, as
//! `Store::export_jsonl` writes it):
//!
//! 1. The hash chain; the seals: every event inside a seal (carried on the
//!    line of its range's last event) signed by one of the server's public
//!    keys; and a signed checkpoint when one is given: its signature by a
//!    public key, its ledger, and that its head is a prefix of the export
//!    (the store's [`Audit`], the same code as `verify_jsonl`). The
//!    checkpoint may instead be the transparency log's (its origin ends in
//!    `/tlog`): then the Merkle tree of the export's events must have its
//!    root at its size, and, when a witness policy is given, it must carry
//!    enough valid co-signatures (docs/transparency.md).
//! 2. The governance: every event decodes into its stream's domain event,
//!    and is decided again by its aggregate from the events before it
//!    ([`replay`]): the command the domain reads back from the event, run
//!    through the aggregate's own `handle` on the state so far, with the
//!    services answered from what was replayed so far, must give exactly
//!    the recorded event. Company movements (caps, approvals, lock-ups,
//!    balances), meetings (rolls, proxies, ballots, the re-tally), the
//!    financial years (reports, accounts, appropriation and legal reserve,
//!    dividends and payments) and the advances' interest alike. No rule is
//!    written twice: the audit runs the domain's own code on the domain's
//!    own state.
//!
//! The first problem stops the audit; the error names the event's position.

mod diff;
mod replay;
mod time;

use std::io::{BufRead, Write};

use thiserror::Error;
use windledger_store::{
    Audit, BreakKind, ChainBreak, Checkpoint, CheckpointVerifier, Head, LedgerId, RecordedEvent,
    Verification, WitnessPolicy,
};

pub use replay::{Recomputed, Replay};

/// What a successful audit checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub ledger: LedgerId,
    /// The export's last event: its size and hash.
    pub head: Head,
    /// The checkpoint given, once verified.
    pub checkpoint: Option<Checkpoint>,
    /// Checkpoints found to be a prefix of the export (0 or 1).
    pub checkpoints_checked: usize,
    /// The transparency log's checkpoint given, once its tree is found to
    /// be the export's.
    pub tree: Option<TreeChecked>,
    /// Seals checked: every event lies inside one of them.
    pub seals_checked: u64,
    /// What was recomputed from the events.
    pub recomputed: Recomputed,
}

/// A transparency-log checkpoint the export was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeChecked {
    pub origin: String,
    pub size: u64,
    /// The witnesses whose co-signatures verified, when a policy was
    /// given (`None`: not checked).
    pub cosigned_by: Option<Vec<String>>,
}

/// Why an export does not verify. Every variant about an event names its
/// position ([`AuditError::position`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuditError {
    #[error("cannot read line {line} of the export: {reason}")]
    Read { line: u64, reason: String },
    /// A line that is not an exported event; it stands where `position`
    /// should be.
    #[error("line {line} (where position {position} should be) is not an exported event: {reason}")]
    NotAnEvent {
        line: u64,
        position: u64,
        reason: String,
    },
    #[error("the export holds no event: there is nothing to verify")]
    Empty,
    /// The public key or the checkpoint itself.
    #[error("{0}")]
    Checkpoint(String),
    /// The hash chain, the stream versions, or the checkpoint's head.
    #[error("the chain breaks at position {position}: {reason}")]
    Chain { position: u64, reason: String },
    /// The event chains well, but no seal by a trusted key covers it.
    #[error("the event at position {position} is unsealed: {reason}")]
    Unsealed { position: u64, reason: String },
    /// The event does not decode, or differs from what the domain decides
    /// again from the events before it.
    #[error("the event at position {position} ({event_type} on {stream}) {reason}")]
    Event {
        position: u64,
        stream: String,
        event_type: String,
        reason: String,
    },
}

impl AuditError {
    /// The position at fault, when the error is about one.
    pub fn position(&self) -> Option<u64> {
        match self {
            Self::NotAnEvent { position, .. }
            | Self::Chain { position, .. }
            | Self::Unsealed { position, .. }
            | Self::Event { position, .. } => Some(*position),
            Self::Read { .. } | Self::Empty | Self::Checkpoint(_) => None,
        }
    }
}

/// How far an audit has gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the export read.
    pub bytes: u64,
    /// The last position checked.
    pub position: u64,
}

/// Audits an export (see the module's documentation). `public_keys` are the
/// server's public keys (`<name>+<hex key id>+<base64 key>`), at least one:
/// every event must be sealed by one of them. `checkpoint` is a signed
/// note's text, checked with them.
pub fn verify_export(
    reader: impl BufRead,
    public_keys: &[&str],
    checkpoint: Option<&str>,
) -> Result<AuditReport, AuditError> {
    verify_export_with_progress(reader, public_keys, checkpoint, None, |_| {})
}

/// [`verify_export`], calling `progress` every 1,000 events; a
/// transparency-log checkpoint must also satisfy `witnesses`, if given.
pub fn verify_export_with_progress(
    mut reader: impl BufRead,
    public_keys: &[&str],
    checkpoint: Option<&str>,
    witnesses: Option<&WitnessPolicy>,
    mut progress: impl FnMut(Progress),
) -> Result<AuditReport, AuditError> {
    let keys = parse_keys(public_keys)?;
    let (checkpoint, mut tree) = match checkpoint {
        Some(note) if is_tree_checkpoint(note) => {
            (None, Some(tree_checkpoint(note, &keys, witnesses)?))
        }
        Some(note) => (Some(signed_checkpoint(note, &keys)?), None),
        None => (None, None),
    };
    if witnesses.is_some() && tree.is_none() {
        return Err(AuditError::Checkpoint(
            "witnesses check a transparency log's checkpoint (GET .../tlog/checkpoint): give one with --checkpoint".into(),
        ));
    }
    let mut audit: Option<(LedgerId, Audit)> = None;
    let mut replay = replay::Replay::default();
    let mut state = Progress::default();
    let mut line = String::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|e| AuditError::Read {
            line: line_number + 1,
            reason: e.to_string(),
        })?;
        if read == 0 {
            break;
        }
        line_number += 1;
        state.bytes += read as u64;
        if line.trim().is_empty() {
            continue;
        }
        let event: RecordedEvent =
            serde_json::from_str(&line).map_err(|e| AuditError::NotAnEvent {
                line: line_number,
                position: state.position + 1,
                reason: e.to_string(),
            })?;
        let (_, audit) = match &mut audit {
            Some(audit) => audit,
            None => audit.insert((
                event.ledger_id.clone(),
                start(&event.ledger_id, &keys, checkpoint.as_ref())?,
            )),
        };
        audit.check(&event).map_err(audit_error)?;
        if let Some(tree) = &mut tree
            && tree.log.size() < tree.size
        {
            tree.log
                .append(&windledger_tlog::entry(event.position, &event.hash.0))
                .map_err(|e| AuditError::Checkpoint(e.to_string()))?;
        }
        replay.apply(&event).map_err(|reason| AuditError::Event {
            position: event.position,
            stream: event.stream_id.to_string(),
            event_type: event.event_type.clone(),
            reason,
        })?;
        state.position = event.position;
        if state.position.is_multiple_of(1_000) {
            progress(state);
        }
    }
    progress(state);
    let Some((ledger, audit)) = audit else {
        return Err(AuditError::Empty);
    };
    let seals_checked = audit.seals_checked();
    let tree = tree.map(TreeGiven::check).transpose()?;
    match audit.finish(None) {
        Verification::Intact {
            head,
            checkpoints_checked,
        } => Ok(AuditReport {
            ledger,
            head,
            checkpoint,
            checkpoints_checked,
            tree,
            seals_checked,
            recomputed: replay.recomputed(),
        }),
        Verification::Broken(broken) => Err(audit_error(broken)),
    }
}

fn audit_error(broken: ChainBreak) -> AuditError {
    let (position, reason) = (broken.position, broken.reason);
    if broken.kind == BreakKind::Unsealed {
        AuditError::Unsealed { position, reason }
    } else {
        AuditError::Chain { position, reason }
    }
}

/// The public keys given, at least one.
fn parse_keys(keys: &[&str]) -> Result<Vec<CheckpointVerifier>, AuditError> {
    if keys.is_empty() {
        return Err(AuditError::Checkpoint(NO_KEY.into()));
    }
    keys.iter()
        .map(|key| {
            CheckpointVerifier::parse(key).map_err(|e| {
                AuditError::Checkpoint(format!(
                    "the public key {key:?} is not a verifier key (<name>+<hex key id>+<base64 key>): {e}"
                ))
            })
        })
        .collect()
}

/// Why an export cannot be checked without a key.
pub const NO_KEY: &str = "give the server's public key with --public-key <name>+<hex key id>+<base64 key> \
     (printed by `windledger serve` at start, and given by GET /api/v1/ledgers/<ledger>/checkpoint): \
     without it the seals, which show that the server wrote every event, cannot be checked";

/// The checkpoint in `note`, signed by one of `keys`.
fn signed_checkpoint(note: &str, keys: &[CheckpointVerifier]) -> Result<Checkpoint, AuditError> {
    let mut reasons = Vec::new();
    for verifier in keys {
        match verifier.verify(note) {
            Ok(checkpoint) => return Ok(checkpoint),
            Err(e) => reasons.push(format!("{verifier}: {e}")),
        }
    }
    Err(AuditError::Checkpoint(format!(
        "the checkpoint does not verify with the public key given ({})",
        reasons.join("; ")
    )))
}

/// A transparency-log checkpoint, its signatures checked, and the tree of
/// the export's events grown up to its size.
struct TreeGiven {
    origin: String,
    size: u64,
    root: windledger_tlog::Hash,
    cosigned_by: Option<Vec<String>>,
    log: windledger_tlog::Log,
}

impl TreeGiven {
    /// Whether the export's tree at the checkpoint's size is the one it
    /// signs.
    fn check(self) -> Result<TreeChecked, AuditError> {
        if self.log.size() < self.size {
            return Err(AuditError::Checkpoint(format!(
                "the transparency log's checkpoint signs a tree of {} events, but the export holds {}: it is not the whole ledger, or the ledger was rolled back",
                self.size,
                self.log.size()
            )));
        }
        let root = self
            .log
            .root(self.size)
            .map_err(|e| AuditError::Checkpoint(e.to_string()))?;
        if root != self.root {
            return Err(AuditError::Checkpoint(format!(
                "the Merkle tree of the export's first {} events is not the one the transparency log's checkpoint signs: history was rewritten, or the export is of another ledger",
                self.size
            )));
        }
        Ok(TreeChecked {
            origin: self.origin,
            size: self.size,
            cosigned_by: self.cosigned_by,
        })
    }
}

/// Whether `note` is a transparency log's checkpoint (origin
/// `.../tlog`) rather than a chain head's.
fn is_tree_checkpoint(note: &str) -> bool {
    note.lines()
        .next()
        .is_some_and(|origin| origin.ends_with("/tlog"))
}

/// The transparency log's checkpoint in `note`: signed by one of `keys`,
/// and co-signed as `witnesses` require.
fn tree_checkpoint(
    note: &str,
    keys: &[CheckpointVerifier],
    witnesses: Option<&WitnessPolicy>,
) -> Result<TreeGiven, AuditError> {
    let text = keys.iter().find_map(|k| k.open(note).ok()).ok_or_else(|| {
        AuditError::Checkpoint(
            "the transparency log's checkpoint does not verify with the public key given".into(),
        )
    })?;
    let (origin, size, root) = windledger_tlog::parse_checkpoint_text(text).ok_or_else(|| {
        AuditError::Checkpoint("the transparency log's checkpoint is not a checkpoint".into())
    })?;
    let cosigned_by = witnesses
        .map(|policy| policy.check(note))
        .transpose()
        .map_err(|e| AuditError::Checkpoint(e.to_string()))?;
    Ok(TreeGiven {
        origin,
        size,
        root,
        cosigned_by,
        log: windledger_tlog::Log::new(),
    })
}

/// The audit of the export's ledger, refusing a checkpoint of another.
fn start(
    ledger: &LedgerId,
    keys: &[CheckpointVerifier],
    checkpoint: Option<&Checkpoint>,
) -> Result<Audit, AuditError> {
    if let Some(cp) = checkpoint
        && &cp.ledger != ledger
    {
        return Err(AuditError::Checkpoint(format!(
            "the checkpoint is signed for the ledger {}, but the export is of the ledger {ledger}",
            cp.ledger
        )));
    }
    let checkpoints: Vec<Checkpoint> = checkpoint.into_iter().cloned().collect();
    Ok(Audit::new(ledger.clone(), keys, &checkpoints))
}

/// The short summary of a successful audit.
pub fn write_summary(report: &AuditReport, name: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let r = &report.recomputed;
    writeln!(
        out,
        "{name} verifies: ledger {}, {} events, head {}.",
        report.ledger, report.head.size, report.head.hash
    )?;
    match &report.checkpoint {
        Some(cp) => writeln!(
            out,
            "Hash chain intact; every event sealed by the server's key ({} seals); \
             {} signed checkpoint checked: {} events signed at {}, a prefix of the export.",
            report.seals_checked,
            report.checkpoints_checked,
            cp.size,
            cp.time_rfc3339()
        )?,
        None => writeln!(
            out,
            "Hash chain intact; every event sealed by the server's key ({} seals); no chain checkpoint given.",
            report.seals_checked
        )?,
    }
    if let Some(tree) = &report.tree {
        let witnesses = match &tree.cosigned_by {
            Some(names) => format!("co-signed by the witnesses {}", names.join(", ")),
            None => "its co-signatures not checked (no --witness given)".to_owned(),
        };
        writeln!(
            out,
            "The transparency log's checkpoint ({}, {} events) signs the Merkle tree of the export's first {} events; {witnesses}.",
            tree.origin, tree.size, tree.size
        )?;
    }
    writeln!(
        out,
        "Every event decodes as its stream's event. {}",
        r.summary()
    )?;
    Ok(())
}
