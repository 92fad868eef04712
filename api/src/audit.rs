//! `windledger verify EXPORT`: an auditor's offline check of an exported
//! ledger, with no database.
//!
//! Two checks in one pass over the export (JSON Lines, as
//! `Store::export_jsonl` writes it):
//!
//! 1. The hash chain, and a signed checkpoint when one is given: its
//!    signature by the public key, its ledger, and that its head is a prefix
//!    of the export (the store's [`Audit`], the same code as
//!    `verify_jsonl`).
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

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use thiserror::Error;
use windledger_store::{
    Audit, Checkpoint, CheckpointVerifier, Head, LedgerId, RecordedEvent, Verification,
};

pub use replay::{Recomputed, Replay};

/// Check an exported ledger offline, with no database: its hash chain, a
/// signed checkpoint, and every event decided again from the events before
/// it by the domain's rules.
#[derive(clap::Args, Debug, Clone)]
pub struct VerifyOptions {
    /// The exported ledger: JSON Lines, one event per line, as
    /// `windledger export events` writes it; `-` reads standard input.
    pub export: PathBuf,

    /// A signed checkpoint (the note `windledger` signs) that the export
    /// must extend: same ledger, its head at its size.
    #[arg(long, requires = "public_key")]
    pub checkpoint: Option<PathBuf>,

    /// The checkpoint signer's public key, as published:
    /// `<name>+<hex key id>+<base64 key>`.
    #[arg(long, requires = "checkpoint")]
    pub public_key: Option<String>,
}

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
    /// What was recomputed from the events.
    pub recomputed: Recomputed,
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

/// Audits an export (see the module's documentation). `checkpoint` is the
/// signed note's text and the signer's public key.
pub fn verify_export(
    reader: impl BufRead,
    checkpoint: Option<(&str, &str)>,
) -> Result<AuditReport, AuditError> {
    verify_export_with_progress(reader, checkpoint, |_| {})
}

/// [`verify_export`], calling `progress` every 1,000 events.
pub fn verify_export_with_progress(
    mut reader: impl BufRead,
    checkpoint: Option<(&str, &str)>,
    mut progress: impl FnMut(Progress),
) -> Result<AuditReport, AuditError> {
    let checkpoint = checkpoint
        .map(|(note, key)| signed_checkpoint(note, key))
        .transpose()?;
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
                start(&event.ledger_id, checkpoint.as_ref())?,
            )),
        };
        audit.check(&event).map_err(|broken| AuditError::Chain {
            position: broken.position,
            reason: broken.reason,
        })?;
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
    match audit.finish(None) {
        Verification::Intact {
            head,
            checkpoints_checked,
        } => Ok(AuditReport {
            ledger,
            head,
            checkpoint,
            checkpoints_checked,
            recomputed: replay.recomputed(),
        }),
        Verification::Broken(broken) => Err(AuditError::Chain {
            position: broken.position,
            reason: broken.reason,
        }),
    }
}

/// The checkpoint in `note`, signed by `key`.
fn signed_checkpoint(note: &str, key: &str) -> Result<Checkpoint, AuditError> {
    let verifier = CheckpointVerifier::parse(key).map_err(|e| {
        AuditError::Checkpoint(format!(
            "the public key is not a checkpoint verifier key (<name>+<hex key id>+<base64 key>): {e}"
        ))
    })?;
    verifier.verify(note).map_err(|e| {
        AuditError::Checkpoint(format!(
            "the checkpoint does not verify with the public key {verifier}: {e}"
        ))
    })
}

/// The audit of the export's ledger, refusing a checkpoint of another.
fn start(ledger: &LedgerId, checkpoint: Option<&Checkpoint>) -> Result<Audit, AuditError> {
    if let Some(cp) = checkpoint
        && &cp.ledger != ledger
    {
        return Err(AuditError::Checkpoint(format!(
            "the checkpoint is signed for the ledger {}, but the export is of the ledger {ledger}",
            cp.ledger
        )));
    }
    let checkpoints: Vec<Checkpoint> = checkpoint.into_iter().cloned().collect();
    Ok(Audit::new(ledger.clone(), &checkpoints))
}

/// `windledger verify`: the summary on standard output; an error (one
/// sentence naming the position at fault) otherwise.
pub async fn run(opts: VerifyOptions) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || verify_to(&opts, &mut std::io::stdout().lock()))
        .await
        .context("the audit stopped unexpectedly")?
}

/// [`run`], writing the summary to `out`.
pub fn verify_to(opts: &VerifyOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let checkpoint = match (&opts.checkpoint, &opts.public_key) {
        (Some(path), Some(key)) => Some((
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the checkpoint {}", path.display()))?,
            key.clone(),
        )),
        (None, None) => None,
        _ => anyhow::bail!("--checkpoint and --public-key go together"),
    };
    let stdin = opts.export == Path::new("-");
    let (input, size): (Box<dyn BufRead>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = File::open(&opts.export)
            .with_context(|| format!("cannot open the export {}", opts.export.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::new(file)), size)
    };
    let name = if stdin {
        "the export on standard input".to_owned()
    } else {
        opts.export.display().to_string()
    };
    let bar = progress_bar(size);
    let outcome = verify_export_with_progress(
        input,
        checkpoint.as_ref().map(|(n, k)| (n.as_str(), k.as_str())),
        |p| {
            if let Some(bar) = &bar {
                bar.set_position(p.bytes);
                bar.set_message(format!("position {}", p.position));
            }
        },
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = outcome.map_err(|e| anyhow::anyhow!("{name} does not verify: {e}"))?;
    write_summary(&report, &name, out)?;
    Ok(())
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
            "Hash chain intact; {} signed checkpoint checked: {} events signed at {}, a prefix of the export.",
            report.checkpoints_checked,
            cp.size,
            cp.time_rfc3339()
        )?,
        None => writeln!(out, "Hash chain intact; no checkpoint given.")?,
    }
    writeln!(
        out,
        "Every event decodes as its stream's event. {}",
        r.summary()
    )?;
    Ok(())
}

/// A bar on standard error when it is a terminal, as `windledger import`.
fn progress_bar(size: Option<u64>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match size {
        Some(size) => {
            let bar = ProgressBar::new(size);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({elapsed})")
            {
                bar.set_style(style);
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}
