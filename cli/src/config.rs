//! `windledger.toml`: the defaults of the commands run in a folder.
//!
//! Every command that works on a database takes its database, its ledger
//! and its signing key from, in this order: the command line
//! (`--database-url`, `--ledger`, `--key-file`), the environment
//! (`DATABASE_URL`, `WINDLEDGER_LEDGER`, `WINDLEDGER_KEY_FILE`), the file
//! `windledger.toml` in the current folder, and the built-in defaults
//! (`sqlite://windledger.sqlite`, no ledger, `windledger-signing.key`);
//! and the identity vault's key likewise (`--vault-key-file`,
//! `WINDLEDGER_VAULT_KEY_FILE`, `vault_key_file`, `windledger-vault.key`).
//! `windledger demo` writes the file, naming what it set up, so that
//! `serve`, `token`, `export`, `rebuild` and `import` run in the same
//! folder work on the demo's ledger, sealed and signed with the demo's key.
//!
//! The file's values become the arguments' default values before the
//! command line is parsed ([`Defaults::apply`]), so clap keeps the order
//! above and `--help` shows the defaults in force. Two commands take none
//! of them: `demo`, which sets up a database of its own and must never
//! write the reference farm into the database a file names, and `verify`,
//! which reads no database. The ledger is a default only where `--ledger`
//! is otherwise required (`export`, `rebuild`, `token issue`): `import`
//! names a new ledger after its file, and `token list` lists every
//! ledger's tokens unless given one.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use windledger_store::LedgerId;

/// The file, in the current folder.
pub const FILE: &str = "windledger.toml";

/// The first line of a file the demo wrote: the demo replaces such a file
/// on its next run, and leaves any other alone.
pub const DEMO_MARK: &str = "# Written by `windledger demo`";

/// What `windledger.toml` may hold; every value is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// postgres://... or sqlite://path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// The ledger of `export`, `rebuild` and `token issue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// The signing key of `serve` and `import`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The identity vault's master key of `serve`, `import` and `identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_key_file: Option<PathBuf>,
}

impl Defaults {
    /// The defaults `path` holds; none if there is no such file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let defaults: Self = toml::from_str(&text).with_context(|| {
            format!(
                "{} is not a windledger configuration (database_url, ledger, key_file, vault_key_file)",
                path.display()
            )
        })?;
        if let Some(ledger) = &defaults.ledger {
            LedgerId::parse(ledger.as_str()).with_context(|| {
                format!(
                    "the ledger {ledger:?} in {} is not a ledger id",
                    path.display()
                )
            })?;
        }
        Ok(defaults)
    }

    /// `command` (the whole command line) with these defaults set on the
    /// arguments of every subcommand but `demo`.
    pub fn apply(&self, command: clap::Command) -> clap::Command {
        command.mut_subcommands(|sub| {
            if sub.get_name() == "demo" {
                sub
            } else {
                self.apply_to(sub)
            }
        })
    }

    fn apply_to(&self, command: clap::Command) -> clap::Command {
        command
            .mut_args(|arg| {
                let value = match arg.get_id().as_str() {
                    "database_url" => self.database_url.clone(),
                    "key_file" => self.key_file.as_ref().map(|p| p.display().to_string()),
                    "vault_key_file" => self
                        .vault_key_file
                        .as_ref()
                        .map(|p| p.display().to_string()),
                    "ledger" if arg.is_required_set() => self.ledger.clone(),
                    _ => None,
                };
                match value {
                    Some(value) => arg.required(false).default_value(value),
                    None => arg,
                }
            })
            .mut_subcommands(|sub| self.apply_to(sub))
    }

    /// Writes these defaults to `path` as the demo's, readable by its owner
    /// only (a database URL may hold a password). A file there that the
    /// demo did not write is left as it is: returns whether it wrote.
    pub fn write_as_demo(&self, path: &Path) -> anyhow::Result<bool> {
        match std::fs::read_to_string(path) {
            Ok(text) if !text.starts_with(DEMO_MARK) => return Ok(false),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        let values = toml::to_string(self).context("cannot write the demo's defaults")?;
        let text = format!(
            "{DEMO_MARK}: the defaults of the windledger commands run in this\n\
             # folder; an option or environment variable given to a command comes first.\n\
             # Each demo run rewrites this file; without its first line, it is left alone.\n\
             {values}"
        );
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let cannot = || format!("cannot write {}", path.display());
        let mut file = options.open(path).with_context(cannot)?;
        file.write_all(text.as_bytes()).with_context(cannot)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary folder")
    }

    #[test]
    fn what_the_demo_writes_reads_back_and_a_file_of_its_own_stays() {
        let dir = folder();
        let path = dir.path().join(FILE);
        assert_eq!(Defaults::read(&path).expect("no file"), Defaults::default());
        let demo = Defaults {
            database_url: Some("sqlite://windledger-demo.sqlite".into()),
            ledger: Some("ailes-de-taillard".into()),
            key_file: Some("it's here/windledger-demo.key".into()),
            vault_key_file: Some("windledger-demo-vault.key".into()),
        };
        assert!(demo.write_as_demo(&path).expect("written"));
        assert_eq!(Defaults::read(&path).expect("read"), demo);
        let other = Defaults {
            ledger: Some("mon-parc".into()),
            ..Defaults::default()
        };
        assert!(other.write_as_demo(&path).expect("rewritten"));
        assert_eq!(Defaults::read(&path).expect("read"), other);

        std::fs::write(&path, "ledger = \"mon-parc\"\n").expect("a file of one's own");
        assert!(!demo.write_as_demo(&path).expect("left alone"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("the file"),
            "ledger = \"mon-parc\"\n"
        );
    }

    #[test]
    fn a_file_with_a_mistake_is_refused_with_its_name() {
        let dir = folder();
        let path = dir.path().join(FILE);
        for text in [
            "database = \"sqlite://x.sqlite\"\n",
            "ledger = \"Mon Parc\"\n",
            "ledger = 3\n",
        ] {
            std::fs::write(&path, text).expect("written");
            let error = format!("{:#}", Defaults::read(&path).expect_err(text));
            assert!(error.contains(FILE), "{error}");
        }
    }
}
