//! `windledger import FILE` and `windledger import --synthetic`: the
//! command line over [`super::Importer`] and [`super::synthetic`], with a
//! progress bar on a terminal.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use windledger_fixtures::synthetic::Synthetic;
use windledger_store::{LedgerId, Store};

use crate::options::KeyOptions;
use crate::server_cli::{DEFAULT_DATABASE_URL, connect_sealed};

use windledger_app::import::synthetic::write_synthetic;
use windledger_app::import::{Importer, Progress};

#[derive(clap::Args, Debug)]
pub struct ImportOptions {
    /// The file of commands, one JSON object per line (docs/import.md);
    /// `-` reads standard input.
    #[arg(required_unless_present = "synthetic", conflicts_with = "synthetic")]
    pub file: Option<PathBuf>,

    /// postgres://... or sqlite://path (a SQLite file is created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// The server's keys, the files `windledger serve` uses: the signing
    /// key seals every commit, and the vault's key is created here if
    /// absent, so that the farm is served with the key its identities will
    /// be sealed with.
    #[command(flatten)]
    pub keys: KeyOptions,

    /// The ledger to import into, created if missing. Default: the file's
    /// name without its extension, or `synthetic`.
    #[arg(long)]
    pub ledger: Option<String>,

    /// Write a generated farm instead of a file: valid histories of any
    /// size, for benchmarks and load tests.
    #[arg(long)]
    pub synthetic: bool,

    /// Shareholders of the synthetic farm at its initial subscription
    /// [default: 131].
    #[arg(long, conflicts_with = "file",
          value_parser = clap::value_parser!(u64).range(10..=100_000))]
    pub holders: Option<u64>,

    /// Financial years of the synthetic farm, from 2020 [default: 5].
    #[arg(long, conflicts_with = "file",
          value_parser = clap::value_parser!(u32).range(1..=200))]
    pub years: Option<u32>,

    /// The synthetic farm's seed: the same seed gives the same farm
    /// [default: the generator's].
    #[arg(long, conflicts_with = "file")]
    pub seed: Option<u64>,
}

pub async fn run(options: &ImportOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let ledger = ledger_id(options)?;
    let (signer, _) = options.keys.load(&mut std::io::stderr())?;
    let store = connect_sealed(&options.database_url, &signer).await?;
    match &options.file {
        Some(path) if !options.synthetic => import_file(&store, ledger, path, out).await,
        _ => import_synthetic(&store, ledger, options, out).await,
    }
}

fn ledger_id(options: &ImportOptions) -> anyhow::Result<LedgerId> {
    if let Some(id) = &options.ledger {
        return LedgerId::parse(id.as_str()).context("--ledger is not a ledger id");
    }
    let name = match &options.file {
        _ if options.synthetic => "synthetic".to_owned(),
        Some(path) if path != Path::new("-") => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        _ => bail!("give the ledger to import standard input into with --ledger"),
    };
    LedgerId::parse(name.as_str()).with_context(|| {
        format!("the ledger cannot be named after the file ({name:?}): give one with --ledger")
    })
}

async fn import_file(
    store: &Store,
    ledger: LedgerId,
    path: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (input, size): (Box<dyn BufRead>, Option<u64>) = if path == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::new(file)), size)
    };
    let mut importer = Importer::open(store.clone(), ledger.clone()).await?;
    writeln!(
        out,
        "Importing {} into the ledger {ledger} ({}, {} command ids already recorded).",
        path.display(),
        store.backend_name(),
        importer.known_commands()
    )?;
    let bar = progress_bar(size, "{bar:40} {bytes}/{total_bytes} {msg} ({elapsed})");
    let started = Instant::now();
    let outcome = importer
        .import(input, |p: Progress| {
            if let Some(bar) = &bar {
                bar.set_position(p.bytes);
                bar.set_message(format!("line {}", p.line));
            }
        })
        .await;
    let (imported, elapsed) = finished(bar, outcome, started)?;
    writeln!(
        out,
        "Imported {} of {} commands ({} events) in {}{}.",
        imported.executed,
        imported.commands,
        imported.events,
        seconds(elapsed),
        rate(imported.executed as u64, elapsed, "commands"),
    )?;
    if imported.skipped > 0 {
        writeln!(
            out,
            "Skipped {} commands the ledger already held (an earlier import of this file).",
            imported.skipped
        )?;
    }
    writeln!(
        out,
        "Ledger {ledger}: {} events, head {}.",
        imported.head.size, imported.head.hash
    )?;
    Ok(())
}

async fn import_synthetic(
    store: &Store,
    ledger: LedgerId,
    options: &ImportOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let defaults = Synthetic::default();
    let holders = match options.holders {
        Some(n) => usize::try_from(n).context("too many holders")?,
        None => defaults.holders,
    };
    let config = Synthetic::new(
        holders,
        options.years.unwrap_or(defaults.years),
        options.seed.unwrap_or(defaults.seed),
    );
    let estimated = config.estimated_events();
    writeln!(
        out,
        "Writing a synthetic farm (invented figures) of {holders} holders over {} years from {}, \
         seed {}, about {estimated} events, to the ledger {ledger} ({}).",
        config.years,
        config.first_year(),
        config.seed,
        store.backend_name()
    )?;
    let bar = progress_bar(
        Some(estimated),
        "{bar:40} {pos}/~{len} events {per_sec} ({elapsed})",
    );
    let started = Instant::now();
    let outcome = write_synthetic(store, &ledger, &config, |written| {
        if let Some(bar) = &bar {
            bar.set_position(written);
        }
    })
    .await;
    let (written, elapsed) = finished(bar, outcome, started)?;
    writeln!(
        out,
        "Wrote {} events in {}{}.\nLedger {ledger}: {} events, head {}.",
        written.events,
        seconds(elapsed),
        rate(written.events, elapsed, "events"),
        written.head.size,
        written.head.hash
    )?;
    Ok(())
}

/// The bar cleared, and what the work gave with the time it took.
fn finished<T, E: Into<anyhow::Error>>(
    bar: Option<ProgressBar>,
    outcome: Result<T, E>,
    started: Instant,
) -> anyhow::Result<(T, std::time::Duration)> {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok((outcome.map_err(Into::into)?, started.elapsed()))
}

/// A bar on standard error when it is a terminal; nothing otherwise (logs
/// and pipes get the summary only).
fn progress_bar(total: Option<u64>, template: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match total {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.1} s", elapsed.as_secs_f64())
}

fn rate(count: u64, elapsed: Duration, unit: &str) -> String {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 && count > 0 {
        format!(", {:.0} {unit}/s", count as f64 / secs)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: ImportOptions,
    }

    fn ledger_of(args: &[&str]) -> anyhow::Result<LedgerId> {
        let cli = Cli::try_parse_from(std::iter::once("import").chain(args.iter().copied()))?;
        ledger_id(&cli.options)
    }

    #[test]
    fn the_ledger_is_named_after_the_file_unless_given() {
        let name = |args: &[&str]| ledger_of(args).map(|l| l.to_string()).ok();
        assert_eq!(
            name(&["fixtures/ailes-de-taillard.jsonl"]).as_deref(),
            Some("ailes-de-taillard")
        );
        assert_eq!(
            name(&["history.jsonl", "--ledger", "mon-parc"]).as_deref(),
            Some("mon-parc")
        );
        assert_eq!(name(&["--synthetic"]).as_deref(), Some("synthetic"));
        // Standard input has no name; a file name that is no ledger id
        // asks for --ledger.
        assert!(name(&["-"]).is_none());
        assert!(name(&["Mon Parc.jsonl"]).is_none());
    }

    #[test]
    fn a_file_and_a_synthetic_farm_exclude_each_other() {
        assert!(ledger_of(&[]).is_err());
        assert!(ledger_of(&["farm.jsonl", "--synthetic"]).is_err());
        assert!(ledger_of(&["farm.jsonl", "--holders", "100"]).is_err());
        assert!(ledger_of(&["--synthetic", "--holders", "100001"]).is_err());
    }
}
