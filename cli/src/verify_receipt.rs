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
    Ok(())
}
