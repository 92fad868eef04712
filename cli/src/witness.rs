//! `windledger witness`: a C2SP `tlog-witness` for ledgers' transparency
//! logs ([`windledger_witness`], docs/transparency.md, "Witnesses").
//! Any of the three parties (or an outside witness) runs one with its own
//! key; the charter names it by its public key and address.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use windledger_store::CheckpointVerifier;
use windledger_witness::{KnownLog, Witness, serve};

use crate::server_cli::signing_key;

#[derive(clap::Args, Debug)]
pub struct WitnessOptions {
    /// The witness's own signing key (generated on first use if absent;
    /// keep it: the charter names its public half).
    #[arg(long, default_value = "windledger-witness.key")]
    pub key_file: PathBuf,
    /// The witness's name, in its key and co-signatures (a schema-less URL
    /// is the custom, e.g. `mairie-burdignes.fr/temoin`); used only when
    /// the key is generated.
    #[arg(long, default_value = "windledger-witness")]
    pub name: String,
    /// A log this witness co-signs: `<origin> <log key>`, the origin being
    /// the log's checkpoints' first line (`windledger/<ledger>/tlog`) and
    /// the key the server's public key (`windledger serve` prints it);
    /// repeat for several logs, or for a log's keys before a rotation.
    #[arg(long = "log", required = true)]
    pub logs: Vec<String>,
    /// Where the witness keeps the last tree it co-signed for each log
    /// (and, beside it, `<file>.refused`: the checkpoints it refused).
    #[arg(long, default_value = "windledger-witness.json")]
    pub state_file: PathBuf,
    /// The address to listen on: the log posts to
    /// `http://<address>/add-checkpoint`.
    #[arg(long, default_value = "127.0.0.1:7381")]
    pub listen: SocketAddr,
}

/// The logs named by `--log`.
pub fn known_logs(logs: &[String]) -> anyhow::Result<Vec<KnownLog>> {
    logs.iter()
        .map(|log| {
            let Some((origin, key)) = log.trim().rsplit_once(' ') else {
                bail!("--log {log:?}: give the log's origin, a space, and its key");
            };
            let origin = origin.trim();
            if origin.is_empty() || origin.contains(char::is_control) {
                bail!("--log {log:?}: the origin must be one line of text");
            }
            let key = CheckpointVerifier::parse(key).with_context(|| format!("--log {log:?}"))?;
            Ok(KnownLog {
                origin: origin.to_owned(),
                keys: vec![key],
            })
        })
        .collect()
}

/// Builds the witness from `options`, writing its public key to `out`.
pub fn open(options: &WitnessOptions, out: &mut dyn Write) -> anyhow::Result<Witness> {
    let logs = known_logs(&options.logs)?;
    let signer = signing_key(&options.key_file, &options.name, out)?;
    let witness = Witness::open(signer, logs, options.state_file.clone())?;
    writeln!(
        out,
        "Witness key (name it in the charter): {}",
        witness.verifier_key()
    )?;
    Ok(witness)
}

/// `windledger witness`: serves until interrupted.
pub async fn run(options: &WitnessOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let witness = Arc::new(open(options, out)?);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    writeln!(
        out,
        "Witnessing on http://{}/add-checkpoint",
        listener.local_addr()?
    )?;
    out.flush()?;
    serve(listener, witness, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the witness stopped")
}
