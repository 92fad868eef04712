//! `windledger`: the command line: `demo`, `serve`, `token`, `import`,
//! `export`, `register`, `verify`, `rebuild`, `backup`, `restore`.

use std::io::Write;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use windledger::cli::{Cli, Command};

/// mimalloc, as the benchmarks measure the server with, and its heap apart
/// for the farms' governance replays (`windledger_memory`): the
/// projections' folds allocate and free many small strings and maps, which
/// glibc's allocator fragments, and the memory budget's costs per event
/// (`windledger_app::ledgers`) are measured under it.
#[global_allocator]
static ALLOCATOR: windledger_memory::Allocator = windledger_memory::Allocator;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::parse_here() {
        Ok(cli) => cli,
        Err(e) => return failure(&e),
    };
    // Servers log each request at info; the other commands only warnings.
    let serving = matches!(&cli.command, Command::Serve(_))
        || matches!(&cli.command, Command::Demo(o) if !o.no_serve);
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = matches!(&cli.command, Command::Serve(o) if o.json_logs);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }

    let outcome = match cli.command {
        Command::Demo(options) => windledger::demo::run(&options, &mut std::io::stdout()).await,
        Command::Import(options) => {
            windledger::import::run(&options, &mut std::io::stdout().lock()).await
        }
        Command::Serve(options) => {
            windledger::server_cli::run_serve(&options, &mut std::io::stdout()).await
        }
        Command::Token(options) => {
            windledger::server_cli::run_token(&options, &mut std::io::stdout().lock()).await
        }
        Command::Export(options) => windledger::export::run(options).await,
        Command::Register(options) => {
            windledger::register::run(options, &mut std::io::stdout()).await
        }
        Command::Identity(options) => {
            windledger::identity::run(&options, &mut std::io::stdout().lock()).await
        }
        Command::Convocations(options) => {
            windledger::convocations::run(&options, &mut std::io::stdout().lock()).await
        }
        Command::Witness(options) => {
            windledger::witness::run(&options, &mut std::io::stdout().lock()).await
        }
        Command::VerifyReceipt(options) => {
            windledger::verify_receipt::run(&options, &mut std::io::stdout().lock())
        }
        Command::Publish(options) => {
            windledger::publish::run(&options, &mut std::io::stdout().lock()).await
        }
        Command::Pay(options) => {
            windledger::payments::run_pay(&options, &mut std::io::stdout().lock()).await
        }
        Command::BankStatement(options) => {
            windledger::payments::run_statement(&options, &mut std::io::stdout().lock()).await
        }
        Command::Verify(options) => windledger::verify::run(options).await,
        Command::Rebuild(options) => {
            windledger::server_cli::run_rebuild(&options, &mut std::io::stdout().lock()).await
        }
        Command::Backup(options) => {
            windledger::backup::run_backup(&options, &mut std::io::stdout().lock()).await
        }
        Command::Restore(options) => {
            windledger::backup::run_restore(&options, &mut std::io::stdout().lock()).await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(&e),
    }
}

/// One line: the causes joined, as anyhow's alternate form does.
fn failure(e: &anyhow::Error) -> ExitCode {
    let message = format!("{e:#}").replace('\n', " ");
    // Nothing is left to do if stderr is gone too.
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::FAILURE
}
