//! `windledger identity`: a farm's register of identities, kept in the
//! vault beside its ledger (docs/people.md). `import` reads a CSV file of
//! the holders already in the register (every line checked before anything
//! is written), `export` writes everything kept about one holder as JSON
//! (a GDPR access request), `erase` destroys one holder's data once the
//! law allows. Every read is logged as `cli:<user>`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use windledger_app::people::{ImportError, Reader, Vault};
use windledger_domain::types::HolderId;

use crate::options::LedgerAndKeys;
use crate::server_cli::{DEFAULT_DATABASE_URL, connect, vault_key};

#[derive(clap::Args, Debug)]
pub struct IdentityOptions {
    #[command(subcommand)]
    pub action: IdentityAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum IdentityAction {
    /// Record the identities of holders already in the register from a CSV
    /// file (docs/people.md lists its columns). The whole file is checked
    /// first and every bad line reported; nothing is written unless every
    /// line is good.
    Import {
        /// The CSV file, with its header line.
        file: PathBuf,
        #[command(flatten)]
        on: LedgerAndKeys,
    },
    /// Write everything kept about one holder as JSON (a GDPR access
    /// request): every version of their data with its salt, and every read.
    Export {
        /// The holder's id.
        #[arg(long)]
        holder: String,
        /// A file to write (readable by you only) instead of standard
        /// output.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        on: LedgerAndKeys,
    },
    /// Erase one holder's identity: allowed once they have exited and the
    /// retention period after their exit (10 years) has run; recorded in
    /// the ledger without personal data, then their data destroyed.
    Erase {
        /// The holder's id.
        #[arg(long)]
        holder: String,
        #[command(flatten)]
        on: LedgerAndKeys,
    },
    /// Re-wrap every person's key, of every ledger of the database, under a
    /// new vault master key, all or none; then give the servers the new key
    /// file in place of the old. Stop the servers first: one still holding
    /// the old key cannot open the keys re-wrapped.
    RotateKey {
        /// The new master key's file: read if it is there, else created
        /// (readable by you only).
        #[arg(long)]
        to: PathBuf,
        /// The database: postgres://... or sqlite://path.
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
        /// The master key in use.
        #[arg(
            long,
            env = "WINDLEDGER_VAULT_KEY_FILE",
            default_value = "windledger-vault.key"
        )]
        vault_key_file: PathBuf,
    },
}

/// The command line's reader, for the vault's log: `cli:<user>`.
pub(crate) fn reader(purpose: &str) -> Reader {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    Reader {
        who: format!("cli:{user}"),
        purpose: purpose.to_owned(),
    }
}

/// The command line's metadata of a command: who ran it, `cli:<user>`.
pub(crate) fn actor() -> std::collections::HashMap<String, String> {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    std::collections::HashMap::from([("actor".to_owned(), format!("cli:{user}"))])
}

fn metadata(what: &str) -> std::collections::HashMap<String, String> {
    let mut metadata = actor();
    metadata.insert(
        "command_id".to_owned(),
        format!("cli:identity-{what}:{}", uuid_like()),
    );
    metadata
}

/// A fresh command id: the time in nanoseconds and the process id.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos}-{}", std::process::id())
}

fn holder(id: &str) -> anyhow::Result<HolderId> {
    HolderId::new(id).map_err(|e| anyhow::anyhow!("{e}"))
}

impl IdentityAction {
    fn on(&self) -> Option<&LedgerAndKeys> {
        match self {
            Self::Import { on, .. } | Self::Export { on, .. } | Self::Erase { on, .. } => Some(on),
            Self::RotateKey { .. } => None,
        }
    }
}

/// `identity rotate-key`.
async fn rotate(
    to: &Path,
    database_url: &str,
    vault_key_file: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if !vault_key_file.exists() {
        bail!(
            "there is no vault key at {}: give --vault-key-file, the file the servers use",
            vault_key_file.display()
        );
    }
    let vault = Vault::new(vault_key(vault_key_file, out)?);
    let new = vault_key(to, out)?;
    let store = connect(database_url).await?;
    let rotated = vault.rotate(&store, &new).await?;
    writeln!(
        out,
        "Re-wrapped {} person's keys of {} ledger(s) under the vault key in {} (id {}){}.\n\
         Give the servers this file in place of {} and start them again. Keep the old key \
         as long as you keep backups made before now: their keys are wrapped by it.",
        rotated.keys,
        rotated.ledgers,
        to.display(),
        new.id(),
        if rotated.already > 0 {
            format!("; {} were under it already", rotated.already)
        } else {
            String::new()
        },
        vault_key_file.display()
    )?;
    Ok(())
}

pub async fn run(options: &IdentityOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if let IdentityAction::RotateKey {
        to,
        database_url,
        vault_key_file,
    } = &options.action
    {
        return rotate(to, database_url, vault_key_file, out).await;
    }
    let Some(on) = options.action.on() else {
        bail!("this action works on no ledger");
    };
    let (vault, runtime) = on.open(&mut std::io::stderr()).await?;
    match &options.action {
        IdentityAction::Import { file, .. } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match vault
                .import_csv(&runtime, &text, |h| metadata(&format!("import-{h}")))
                .await
            {
                Ok(receipts) => writeln!(
                    out,
                    "{} identities recorded (last position {}).",
                    receipts.len(),
                    receipts.iter().map(|r| r.position).max().unwrap_or(0)
                )?,
                Err(e @ ImportError::Lines(_)) => bail!("{}: {e}", file.display()),
                Err(e) => bail!("{e}"),
            }
        }
        IdentityAction::Export {
            holder: h, output, ..
        } => {
            let export = vault
                .export(
                    &runtime,
                    &holder(h)?,
                    &reader("access request (windledger identity export)"),
                )
                .await?;
            let json = serde_json::to_string_pretty(&export)?;
            match output {
                None => writeln!(out, "{json}")?,
                Some(path) => {
                    let dir = path
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    let cannot = || format!("cannot write {}", path.display());
                    // Created readable by its owner only: it is personal data.
                    let mut file = tempfile::NamedTempFile::new_in(dir).with_context(cannot)?;
                    writeln!(file, "{json}").with_context(cannot)?;
                    file.persist(path).with_context(cannot)?;
                    writeln!(out, "Written to {}.", path.display())?;
                }
            }
        }
        // Done above: it works on the database, not on one ledger.
        IdentityAction::RotateKey { .. } => {}
        IdentityAction::Erase { holder: h, .. } => {
            let erased = vault
                .erase(&runtime, &holder(h)?, metadata("erase"))
                .await?;
            writeln!(
                out,
                "The identity of {h} is erased: {} version(s) of their data destroyed{}.",
                erased.versions,
                erased.receipts.first().map_or(String::new(), |r| format!(
                    ", IdentityErased at position {}",
                    r.position
                ))
            )?;
        }
    }
    Ok(())
}
