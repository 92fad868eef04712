//! The options many commands share, written once: the database and ledger a
//! command works on, and the server's key files. Their argument ids
//! (`database_url`, `ledger`, `key_file`, `vault_key_file`) are the names
//! [`crate::config::Defaults`] fills from `windledger.toml`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::Vault;
use windledger_store::{CheckpointSigner, CheckpointVerifier, LedgerId, Store};

use crate::server_cli::{
    DEFAULT_DATABASE_URL, connect, connect_sealed, missing_ledger, signing_key, vault_key,
};

/// One ledger in a database.
#[derive(clap::Args, Debug, Clone)]
pub struct LedgerOptions {
    /// The database: postgres://... or sqlite://path.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The ledger: a farm's id in the database.
    #[arg(long, env = "WINDLEDGER_LEDGER")]
    pub ledger: String,
}

impl LedgerOptions {
    /// The store, sealing its commits with `signer` when one is given, and
    /// the ledger, which must be in it (else a sentence naming the ones it
    /// holds).
    pub async fn open(
        &self,
        signer: Option<&CheckpointSigner>,
    ) -> anyhow::Result<(Store, LedgerId)> {
        let ledger =
            LedgerId::parse(self.ledger.as_str()).context("--ledger is not a ledger id")?;
        let store = match signer {
            Some(signer) => connect_sealed(&self.database_url, signer).await?,
            None => connect(&self.database_url).await?,
        };
        if let Some(missing) = missing_ledger(&store, &ledger, &self.database_url).await? {
            bail!("{missing}");
        }
        Ok((store, ledger))
    }
}

impl LedgerOptions {
    /// The ledger as a server holds it (`verifier` checks its seals), its
    /// projections caught up with its head before anything is read or
    /// decided; commits sealed by `signer` when one is given.
    pub async fn runtime(
        &self,
        signer: Option<&CheckpointSigner>,
        verifier: CheckpointVerifier,
    ) -> anyhow::Result<LedgerRuntime> {
        let (store, ledger) = self.open(signer).await?;
        let runtime = LedgerRuntime::open(store, ledger, &[verifier]).await?;
        let head = runtime.recent_head().await?;
        runtime
            .projections
            .caught_up(head)
            .await
            .map_err(|e| anyhow::anyhow!("the ledger's projections stopped: {e}"))?;
        Ok(runtime)
    }
}

/// The server's two key files, which a command that writes to a ledger
/// needs as `windledger serve` does.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyOptions {
    /// The signing key: it signs checkpoints and seals every commit. Keep it
    /// off the database's machine and out of its backups; generated on
    /// first use if absent (docs/deploy.md).
    #[arg(
        long,
        env = "WINDLEDGER_KEY_FILE",
        default_value = "windledger-signing.key"
    )]
    pub key_file: PathBuf,
    /// The identity vault's master key: it wraps each holder's key, so it
    /// opens every identity kept. Keep it off the database's machine and out
    /// of its backups; generated on first use if absent (docs/people.md).
    #[arg(
        long,
        env = "WINDLEDGER_VAULT_KEY_FILE",
        default_value = "windledger-vault.key"
    )]
    pub vault_key_file: PathBuf,
}

impl KeyOptions {
    /// The signing key and the vault's master key, each read from its file
    /// or generated there (saying so on `log`).
    pub fn load(
        &self,
        log: &mut dyn std::io::Write,
    ) -> anyhow::Result<(CheckpointSigner, windledger_vault::MasterKey)> {
        let signer = signing_key(&self.key_file, "windledger", log)?;
        Ok((signer, vault_key(&self.vault_key_file, log)?))
    }
}

impl KeyOptions {
    /// Refuses key files that are not there (rather than make new keys).
    pub fn require_files(&self) -> anyhow::Result<()> {
        for path in [&self.key_file, &self.vault_key_file] {
            if !path.exists() {
                bail!(
                    "there is no key file at {}: give --key-file and --vault-key-file, the files `windledger serve` uses",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// The signing key's public half and the vault's master key, read from
    /// their files, which must be there: a command that only reads (a
    /// document with names) never makes a key of its own.
    pub fn read_existing(
        &self,
    ) -> anyhow::Result<(
        windledger_store::CheckpointVerifier,
        windledger_vault::MasterKey,
    )> {
        self.require_files()?;
        let mut quiet = std::io::sink();
        let (signer, master) = self.load(&mut quiet)?;
        Ok((signer.verifier(), master))
    }
}

/// A ledger and the server's two key files: what a command that writes to
/// the ledger, with names from the identity vault, works on (`identity`,
/// `convocations`, `pay`, `bank-statement`).
#[derive(clap::Args, Debug, Clone)]
pub struct LedgerAndKeys {
    #[command(flatten)]
    pub ledger: LedgerOptions,
    #[command(flatten)]
    pub keys: KeyOptions,
}

impl LedgerAndKeys {
    /// The keys loaded (or generated, saying so on `log`), the vault opened
    /// with the master key, and the ledger's runtime sealing its commits
    /// with the signing key.
    pub async fn open(
        &self,
        log: &mut dyn std::io::Write,
    ) -> anyhow::Result<(Vault, LedgerRuntime)> {
        let (signer, master) = self.keys.load(log)?;
        let vault = Vault::new(master);
        let runtime = self
            .ledger
            .runtime(Some(&signer), signer.verifier())
            .await?;
        Ok((vault, runtime))
    }
}

/// The witness policy a checkpoint must satisfy: the witnesses' keys and
/// how many must have co-signed (the charter's, docs/transparency.md).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WitnessPolicyOptions {
    /// A witness's public key, as the charter names it
    /// (`<name>+<hex key id>+<base64 key>`); repeat for each. The
    /// checkpoint is then accepted only with `--quorum` of their
    /// co-signatures.
    #[arg(long = "witness", requires = "quorum")]
    pub witnesses: Vec<String>,
    /// How many of the `--witness` keys must have co-signed (the charter's
    /// policy, e.g. 2 of 3).
    #[arg(long, requires = "witnesses")]
    pub quorum: Option<usize>,
}

impl WitnessPolicyOptions {
    /// The policy, if witnesses were given.
    pub fn policy(&self) -> anyhow::Result<Option<windledger_store::WitnessPolicy>> {
        let Some(quorum) = self.quorum else {
            return Ok(None);
        };
        let witnesses = self
            .witnesses
            .iter()
            .map(|k| {
                windledger_store::CosignatureVerifier::parse(k)
                    .with_context(|| format!("--witness {k}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if !(1..=witnesses.len()).contains(&quorum) {
            bail!(
                "--quorum {quorum}: give from 1 to {} (the number of --witness keys)",
                witnesses.len()
            );
        }
        Ok(Some(windledger_store::WitnessPolicy { witnesses, quorum }))
    }
}
