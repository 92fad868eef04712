//! The command line's grammar: the subcommands and their options.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "windledger",
    version,
    about = "Governance ledger for citizen-owned wind farms"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Import the reference farm (invented figures) into a local SQLite
    /// ledger if it is empty, verify, sign and export it, issue a token per
    /// role and serve the API.
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
    /// Export a ledger: its events, OCF, the cap table or the decisions.
    Export(crate::export::ExportOptions),
    /// Check an exported ledger offline: its chain, a signed checkpoint, and
    /// every tally and dividend allocation recomputed from its events.
    Verify(crate::verify::VerifyOptions),
    /// Rebuild every projection of a ledger from position 0.
    Rebuild(crate::server_cli::RebuildOptions),
}
