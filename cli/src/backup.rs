//! `windledger backup` and `windledger restore`: the continuity plan's
//! copies ([`windledger_app::backup`]) on the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use windledger_app::backup::{self, BackupKey, MANIFEST};

use crate::server_cli::{DEFAULT_DATABASE_URL, connect, create, public_keys, redacted};

/// The backup key's default file.
const DEFAULT_BACKUP_KEY: &str = "windledger-backup.key";

/// Write an encrypted, verifiable copy of every ledger of a database (its
/// events, seals, signed checkpoints and identity vault) to a folder.
#[derive(clap::Args, Debug)]
pub struct BackupOptions {
    /// The folder to write the copy to: created if missing; it must not
    /// hold a backup already.
    pub folder: PathBuf,
    /// The database to copy: postgres://... or sqlite://path.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The key the copy is encrypted with (64 hexadecimal digits), created
    /// readable by you only if the file is missing. Keep it apart from the
    /// copies: without it they cannot be read, and with them it reads them.
    #[arg(long, env = "WINDLEDGER_BACKUP_KEY", default_value = DEFAULT_BACKUP_KEY)]
    pub backup_key: PathBuf,
}

/// Restore a backup into a database that has none of its ledgers: each
/// copy is decrypted and audited (chain, seals, signed checkpoints) before
/// anything is written, then audited again in the database.
#[derive(clap::Args, Debug)]
pub struct RestoreOptions {
    /// The backup's folder (where `windledger backup` wrote manifest.json).
    pub folder: PathBuf,
    /// The database to restore into: postgres://... or sqlite://path (a
    /// SQLite file is created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The key the backup was encrypted with.
    #[arg(long, env = "WINDLEDGER_BACKUP_KEY", default_value = DEFAULT_BACKUP_KEY)]
    pub backup_key: PathBuf,
    /// The server's signing key file: its public key checks the seals and
    /// the signed checkpoints. Not needed with --public-key.
    #[arg(
        long,
        env = "WINDLEDGER_KEY_FILE",
        default_value = "windledger-signing.key"
    )]
    pub key_file: PathBuf,
    /// The server's public key, as published
    /// (`<name>+<hex key id>+<base64 key>`), instead of its key file;
    /// repeat it for the keys used before a rotation.
    #[arg(long)]
    pub public_key: Vec<String>,
}

/// `windledger backup`.
pub async fn run_backup(options: &BackupOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let store = connect(&options.database_url).await?;
    let (key, created) = BackupKey::read_or_create(&options.backup_key)?;
    if created {
        writeln!(
            out,
            "Backup key: {} (created, readable by you only). Keep it apart from the copies.",
            options.backup_key.display()
        )?;
    }
    let mut lines = Vec::new();
    let manifest = backup::back_up(&store, &options.folder, &key, |copy| {
        lines.push(format!(
            "Ledger {}: {} events, head {}, {} signed checkpoint(s), {} identities (sealed) -> {}",
            copy.ledger,
            copy.events,
            copy.head,
            copy.signed_checkpoints,
            copy.identities,
            copy.file
        ));
    })
    .await?;
    for line in lines {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "Backup of {} ledger(s) of {} written to {} ({MANIFEST} last). \
         `windledger restore {}` brings it back into a new database.",
        manifest.ledgers.len(),
        redacted(&options.database_url),
        options.folder.display(),
        options.folder.display()
    )?;
    Ok(())
}

/// `windledger restore`.
pub async fn run_restore(options: &RestoreOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let keys = if options.public_key.is_empty() {
        let text = std::fs::read_to_string(&options.key_file).with_context(|| {
            format!(
                "cannot read the signing key {} (or give the server's --public-key)",
                options.key_file.display()
            )
        })?;
        let signer = windledger_store::CheckpointSigner::from_secret_key(text.trim())
            .with_context(|| {
                format!("{} does not hold a signing key", options.key_file.display())
            })?;
        vec![signer.verifier()]
    } else {
        public_keys(&options.public_key, "--public-key")?
    };
    let key = BackupKey::read(&options.backup_key)?;
    // Read before the database is created: a bad folder leaves no file.
    backup::manifest(&options.folder)?;
    let store = create(&options.database_url).await?;
    let mut lines = Vec::new();
    let heads = backup::restore(&store, &options.folder, &key, &keys, |ledger, head| {
        lines.push(format!(
            "Ledger {ledger}: {} events restored, head {}, verified.",
            head.size, head.hash
        ));
    })
    .await?;
    for line in lines {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "Restored {} ledger(s) into {}.",
        heads.len(),
        redacted(&options.database_url)
    )?;
    Ok(())
}
