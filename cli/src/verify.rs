//! `windledger verify`: the offline audit ([`windledger_app::audit`]) on
//! the command line, with a progress bar.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use windledger_app::audit::{NO_KEY, verify_export_with_progress, write_summary};

/// Check an exported ledger offline, with no database: its hash chain, a
/// signed checkpoint, and every event decided again from the events before
/// it by the domain's rules.
#[derive(clap::Args, Debug, Clone)]
pub struct VerifyOptions {
    /// The exported ledger: JSON Lines, one event per line, as
    /// `windledger export events` writes it; `-` reads standard input.
    pub export: PathBuf,

    /// A signed checkpoint that the export must extend: the chain's
    /// (`GET .../checkpoint`: same ledger, its head at its size) or the
    /// transparency log's (`GET .../tlog/checkpoint`: the Merkle tree of the
    /// export's events has its root at its size).
    #[arg(long, requires = "public_key")]
    pub checkpoint: Option<PathBuf>,

    /// The witnesses the transparency log's checkpoint must be co-signed by.
    #[command(flatten)]
    pub witnesses: crate::options::WitnessPolicyOptions,

    /// The server's public key, as published (`windledger serve` prints it,
    /// `GET /api/v1/ledgers/{ledger}/checkpoint` gives it):
    /// `<name>+<hex key id>+<base64 key>`. Every event must be sealed by
    /// one of the keys given; repeat the option for the keys the server
    /// used before a rotation. It also checks `--checkpoint`.
    #[arg(long)]
    pub public_key: Vec<String>,
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
    if opts.public_key.is_empty() {
        anyhow::bail!("{NO_KEY}");
    }
    let keys: Vec<&str> = opts.public_key.iter().map(String::as_str).collect();
    let checkpoint = opts
        .checkpoint
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the checkpoint {}", path.display()))
        })
        .transpose()?;
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
    let policy = opts.witnesses.policy()?;
    let outcome =
        verify_export_with_progress(input, &keys, checkpoint.as_deref(), policy.as_ref(), |p| {
            if let Some(bar) = &bar {
                bar.set_position(p.bytes);
                bar.set_message(format!("position {}", p.position));
            }
        });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = outcome.map_err(|e| anyhow::anyhow!("{name} does not verify: {e}"))?;
    write_summary(&report, &name, out)?;
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
