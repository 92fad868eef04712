//! `windledger`: the command line. For now `demo` and `import`; the HTTP
//! server, `verify`, `export` and the others arrive with their issues.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod demo;

#[derive(Parser)]
#[command(
    name = "windledger",
    version,
    about = "Governance ledger for citizen-owned wind farms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Record an illustrative farm with invented figures on a local ledger,
    /// then verify, sign, export and re-verify it offline. Serves nothing:
    /// the HTTP server comes later.
    Demo(demo::DemoOptions),
    /// Import a farm's history from a file of commands, one JSON object per
    /// line (see docs/import.md), each run through the domain's rules; an
    /// interrupted import continues where it stopped. With --synthetic,
    /// write a generated farm of any size instead.
    Import(windledger::import::cli::ImportOptions),
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(options) => demo::run(&options, &mut std::io::stdout().lock()).await,
        Command::Import(options) => {
            windledger::import::cli::run(&options, &mut std::io::stdout().lock()).await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the causes joined, as anyhow's alternate form does.
            // Nothing is left to do if stderr is gone too.
            let message = format!("{e:#}").replace('\n', " ");
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}
