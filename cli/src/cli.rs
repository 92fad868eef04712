//! The command line's grammar: the subcommands and their options, with
//! the defaults of `windledger.toml` ([`crate::config`]) in force.

use std::path::Path;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, Defaults};

#[derive(Parser)]
#[command(
    name = "windledger",
    version,
    about = "Governance ledger for citizen-owned wind farms",
    after_help = "Defaults: an option given on the command line comes first, then its \
                  environment variable, then windledger.toml in the current folder \
                  (database_url, ledger, key_file; `windledger demo` writes one), then \
                  the built-in default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Import the reference farm (invented figures) into a local SQLite
    /// ledger if it is empty, verify, sign and export it, issue a token per
    /// role, write windledger.toml naming what it set up, and serve the
    /// API.
    Demo(crate::demo::DemoOptions),
    /// Serve the HTTP API and the pages of every ledger of a database.
    Serve(crate::server_cli::ServeOptions),
    /// Issue, list or revoke API tokens.
    Token(crate::server_cli::TokenOptions),
    /// Import a farm's history from a file of commands, one JSON object per
    /// line (see docs/import.md), each run through the domain's rules; an
    /// interrupted import continues where it stopped. With --synthetic,
    /// write a generated farm of any size instead.
    Import(crate::import::ImportOptions),
    /// The holders' identities in the vault beside the ledger: import a
    /// register's CSV file, export one holder's data (GDPR), erase one.
    Identity(crate::identity::IdentityOptions),
    /// Convene a meeting's holders: e-mails to those who consented (sent
    /// through an SMTP relay and recorded), letters to post for the others
    /// (a PDF to print, a CSV for a mailing service), recorded once posted.
    Convocations(crate::convocations::ConvocationsOptions),
    /// Pay a declared dividend, a year's current-account interest or
    /// repayments of advances: one SEPA credit transfer file
    /// (pain.001.001.09) for the bank, each holder's net to the IBAN in the
    /// vault; the holders without one are listed.
    Pay(crate::payments::PayOptions),
    /// Import the bank's statement (camt.053 or CSV): each of the ledger's
    /// transfers it booked (dividends, interest, repayments) is recorded as
    /// paid on its booking date; the others are listed with why.
    BankStatement(crate::payments::BankStatementOptions),
    /// Write the ledger to a folder as a transparency log (C2SP
    /// tlog-tiles: a signed checkpoint of its Merkle tree, hash tiles, and
    /// each event's position and hash), for any static web server.
    Publish(crate::publish::PublishOptions),
    /// Run a witness of ledgers' transparency logs (C2SP tlog-witness): it
    /// co-signs a log's checkpoint only if it extends the last one it
    /// co-signed, and refuses (and keeps) a rolled-back or forked one.
    Witness(crate::witness::WitnessOptions),
    /// Check a receipt offline: its checkpoint signed by the log's key
    /// (and co-signed by enough witnesses), and its proof that the event
    /// is in that log.
    VerifyReceipt(crate::verify_receipt::VerifyReceiptOptions),
    /// Export a ledger: its events, OCF, the cap table or the decisions.
    Export(crate::export::ExportOptions),
    /// Print the register of share movements (R228-8) as PDF/A or CSV, a
    /// holder's individual account, or a certificate of holding.
    Register(crate::register::RegisterOptions),
    /// Check an exported ledger offline: its chain, a signed checkpoint, and
    /// every tally and dividend allocation recomputed from its events.
    Verify(crate::verify::VerifyOptions),
    /// Rebuild every projection of a ledger from position 0.
    Rebuild(crate::server_cli::RebuildOptions),
    /// Write an encrypted, verifiable copy of every ledger (events, seals,
    /// signed checkpoints, identity vault) to a folder: the continuity
    /// plan's copies.
    Backup(crate::backup::BackupOptions),
    /// Restore a backup into a database without its ledgers, after
    /// auditing it; the restored ledgers have the same head hashes.
    Restore(crate::backup::RestoreOptions),
}

impl Cli {
    /// The command line of this process, with the defaults of
    /// `windledger.toml` in the current folder. A mistake on the command
    /// line exits as clap does (usage, exit code 2); one in the file is an
    /// error.
    pub fn parse_here() -> anyhow::Result<Self> {
        let defaults = Defaults::read(Path::new(config::FILE))?;
        let matches = Self::command_with(&defaults).get_matches();
        Ok(Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
    }

    /// The grammar with `defaults` set on the arguments they apply to.
    pub fn command_with(defaults: &Defaults) -> clap::Command {
        defaults.apply(Self::command())
    }
}
