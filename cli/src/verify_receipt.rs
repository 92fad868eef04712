//! `windledger verify-receipt RECEIPT.json --key KEY`: a receipt checked
//! offline, with nothing but the receipt and the log's key(s) (the farm
//! publishes its key; `GET .../checkpoint` gives it as `public_key`): the
//! checkpoint it carries is signed by one of the keys, and its inclusion
//! proof takes the event (its position and hash) to the checkpoint's root.
//! The receipt's own words are never trusted for the key. With
//! `--witness` keys and `--quorum`, the checkpoint must also carry that
//! many valid co-signatures by those witnesses (the charter's policy).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use windledger_store::CheckpointVerifier;
use windledger_tlog::Receipt;

#[derive(clap::Args, Debug)]
pub struct VerifyReceiptOptions {
    /// The receipt: the JSON the receipt page or `GET .../receipts/{position}` gives.
    pub receipt: PathBuf,
    /// A key the log's checkpoints are signed with,
    /// `<name>+<hex key id>+<base64 key>`; repeat for several. The receipt
    /// is accepted if one of them signed its checkpoint.
    #[arg(long = "key", required = true)]
    pub keys: Vec<String>,
    /// The witnesses the receipt's checkpoint must be co-signed by (the
    /// charter's policy).
    #[command(flatten)]
    pub witnesses: crate::options::WitnessPolicyOptions,
    /// A holder whose line must be on the roll the receipt carries (a
    /// meeting's roll: `.../assemblees/{meeting}/liste/recu.json`).
    #[arg(long)]
    pub holder: Option<String>,
}

pub fn run(options: &VerifyReceiptOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let keys = options
        .keys
        .iter()
        .map(|k| CheckpointVerifier::parse(k).with_context(|| format!("--key {k}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let text = std::fs::read_to_string(&options.receipt)
        .with_context(|| format!("cannot read {}", options.receipt.display()))?;
    let receipt: Receipt = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a receipt", options.receipt.display()))?;
    let Some((key, checkpoint)) = keys
        .iter()
        .find_map(|k| Some((k, k.open(&receipt.checkpoint).ok()?)))
    else {
        bail!(
            "the receipt's checkpoint is not signed by {}: it was altered, or it is another log's",
            if keys.len() == 1 {
                "this key"
            } else {
                "any of these keys"
            }
        );
    };
    let cosigned_by = match options.witnesses.policy()? {
        Some(policy) => Some(policy.check(&receipt.checkpoint).with_context(
            || "the receipt's checkpoint is not co-signed by enough witnesses: it is not accepted",
        )?),
        None => None,
    };
    let verified = receipt
        .verify(checkpoint)
        .with_context(|| "the receipt does not check: the event is not shown in the signed log")?;
    let roll_line = carried_event(&receipt, options.holder.as_deref())?;
    writeln!(
        out,
        "The event at position {} with hash {} is in the log {} of {} events, whose checkpoint is signed by {}{}.",
        verified.position,
        receipt.hash,
        verified.origin,
        verified.size,
        key.name(),
        match cosigned_by {
            Some(names) => format!(" and co-signed by the witnesses {}", names.join(", ")),
            None => String::new(),
        }
    )?;
    if let Some(line) = roll_line {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The event the receipt carries, if any: its hash recomputed must be the
/// receipt's; when it holds a meeting's roll, what it says of `holder`
/// (who must be on it) or of the roll.
fn carried_event(receipt: &Receipt, holder: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(event) = &receipt.event else {
        if holder.is_some() {
            bail!(
                "the receipt carries no roll: --holder checks a meeting's roll receipt (liste/recu.json)"
            );
        }
        return Ok(None);
    };
    let event: windledger_store::RecordedEvent = serde_json::from_str(&event.to_string())
        .context("the receipt's event is not an event as the ledger exports it")?;
    let hash =
        windledger_store::recompute_hash(&event).context("the receipt's event cannot be hashed")?;
    if event.position != receipt.position || hash.to_hex() != receipt.hash {
        bail!(
            "the event the receipt carries is not the one at position {} with hash {}: it was altered",
            receipt.position,
            receipt.hash
        );
    }
    let roll = match event.decode::<windledger_domain::meeting::MeetingEvent>() {
        Ok(windledger_domain::meeting::MeetingEvent::VotingOpened { roll, .. }) => Some(roll),
        _ => None,
    };
    match (roll, holder) {
        (Some(roll), Some(holder)) => {
            let line = roll
                .voters
                .iter()
                .find(|v| v.holder.as_str() == holder)
                .with_context(|| {
                    format!(
                        "{holder} is not on this roll (of {} voters, as of {})",
                        roll.voters.len(),
                        roll.record_date
                    )
                })?;
            Ok(Some(format!(
                "The event holds the meeting's roll as of {}: {} is on it, college {}, {} shares, {} votes (of {} voters).",
                roll.record_date,
                holder,
                line.college,
                line.shares,
                line.weight,
                roll.voters.len()
            )))
        }
        (Some(roll), None) => Ok(Some(format!(
            "The event holds the meeting's roll as of {}: {} voters, {} votes in all.",
            roll.record_date,
            roll.voters.len(),
            roll.total_weight()
        ))),
        (None, Some(_)) => bail!("the receipt's event holds no meeting's roll"),
        (None, None) => Ok(Some(format!(
            "The event it carries ({}) has that hash.",
            event.event_type
        ))),
    }
}
