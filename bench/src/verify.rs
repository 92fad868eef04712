//! `verify`: the offline audit of issue 16 on a synthetic farm's export.
//!
//! Set-up, not measured: the synthetic farm of WINDLEDGER_BENCH_HOLDERS
//! (20000) holders over WINDLEDGER_BENCH_YEARS (12) years written to a fresh
//! database of the backend, as `windledger import --synthetic` writes it,
//! and exported as `windledger export events` does.
//!
//! Measured: the export verified by `windledger::audit` as `windledger
//! verify EXPORT` does (hash chain, every event decided again), in a child
//! process of its own so that its peak memory is the audit's alone. Prints
//! `verify_events_per_s` (events of the export over the audit's time),
//! `verify_peak_rss_mib` (the child's peak resident memory, VmHWM) and
//! `verify_events`.
//!
//! Then the server's own check (`windledger_app::integrity`), as it
//! follows the ledger: fed every event but the last
//! WINDLEDGER_BENCH_INCREMENT (1000) from the database (not measured), then
//! measured on those last ones as they would arrive, each read with its
//! commit's seal, checked in the chain and decided again, followed by the
//! checks made before a signature (the head, the last event read again,
//! every position sealed): `verify_incremental_ms`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use windledger_app::audit::{verify_export_with_progress, write_summary};
use windledger_app::import::synthetic::write_synthetic;
use windledger_app::integrity::Integrity;
use windledger_fixtures::synthetic::Synthetic;
use windledger_store::testing::Backend;
use windledger_store::{LedgerId, Store};

use crate::projections::peak_rss_mib;
use crate::{bench_database, env_size, per_second};

/// The hidden subcommand the child runs.
pub(crate) const CHILD: &str = "verify-export";

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let years = u32::try_from(env_size("WINDLEDGER_BENCH_YEARS", 12)?)?;
    let (db, store) = bench_database(backend).await?;
    let ledger = LedgerId::parse("bench-verify")?;

    // As `windledger import --synthetic --holders N --years Y` writes it.
    let config = Synthetic::new(holders, years, Synthetic::default().seed);
    eprintln!(
        "# writing a synthetic farm: {holders} holders over {years} years, about {} events",
        config.estimated_events()
    );
    let start = Instant::now();
    let written = write_synthetic(&store, &ledger, &config, |_| {})
        .await?
        .events;
    eprintln!(
        "# wrote {written} events in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let export = Export::new()?;
    let start = Instant::now();
    let head = {
        let mut out = BufWriter::new(File::create(&export.0)?);
        let head = store.export_jsonl(&ledger, &mut out, |_, _| {}).await?;
        out.flush()?;
        head
    };
    eprintln!(
        "# exported {} events ({} MiB) in {:.1} s",
        head.size,
        std::fs::metadata(&export.0)?.len() / (1 << 20),
        start.elapsed().as_secs_f64()
    );
    let public_key = store
        .seal_verifier()
        .map(ToString::to_string)
        .context("the benchmark's store seals with a key")?;
    let increment = env_size("WINDLEDGER_BENCH_INCREMENT", 1_000)? as u64;
    incremental(&store, &ledger, increment).await?;
    drop(store);
    drop(db);

    eprintln!("# verifying in a child process");
    let status = Command::new(std::env::current_exe()?)
        .arg(CHILD)
        .arg(&export.0)
        .arg(&public_key)
        .stdin(Stdio::null())
        .status()
        .context("the verifying process did not start")?;
    if !status.success() {
        bail!("the verifying process failed: {status}");
    }
    Ok(())
}

/// The server's incremental check of the last `increment` events.
async fn incremental(store: &Store, ledger: &LedgerId, increment: u64) -> anyhow::Result<()> {
    let keys: Vec<_> = store.seal_verifier().cloned().into_iter().collect();
    let integrity = Integrity::new(ledger.clone(), &keys);
    let head = store.head(ledger).await?;
    let split = head.size.saturating_sub(increment);
    let start = Instant::now();
    follow(store, &integrity, ledger, 0, split).await?;
    eprintln!(
        "# the server's check of the first {split} events took {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    follow(store, &integrity, ledger, split, head.size).await?;
    let verified = integrity.head();
    let recorded = store.head(ledger).await?;
    integrity.check_head(recorded, verified);
    let last = store.read_ledger(ledger, recorded.size - 1, 1).await?;
    integrity.check_reread(recorded.size, last.first(), recorded.hash);
    integrity.check_sealed();
    let elapsed = start.elapsed();
    if let Some(broken) = integrity.broken() {
        bail!("the server's check refused the farm: {broken}");
    }
    println!(
        "verify_incremental_ms {:.1} ms",
        elapsed.as_secs_f64() * 1000.0
    );
    println!("verify_increment_events {} events", head.size - split);
    Ok(())
}

/// Feeds the events `after + 1..=upto` to the check, as the server's
/// subscription does.
async fn follow(
    store: &Store,
    integrity: &Integrity,
    ledger: &LedgerId,
    mut after: u64,
    upto: u64,
) -> anyhow::Result<()> {
    while after < upto {
        let limit = u32::try_from((upto - after).min(5_000))?;
        let page = store.read_ledger(ledger, after, limit).await?;
        for e in &page {
            integrity.read_seals(store, e.position).await;
            if !integrity.check(e) {
                bail!(
                    "the server's check refused position {}: {:?}",
                    e.position,
                    integrity.broken()
                );
            }
            after = e.position;
        }
        if page.is_empty() {
            break;
        }
    }
    Ok(())
}

/// The child: verifies the export as `windledger verify` does (a
/// `BufReader` on the file, every seal by `public_key`, no checkpoint),
/// then prints the metrics.
pub fn child(export: &Path, public_key: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    let file = File::open(export).with_context(|| format!("cannot open {}", export.display()))?;
    let report =
        verify_export_with_progress(BufReader::new(file), &[public_key], None, None, |_| {})
            .map_err(|e| anyhow::anyhow!("the export does not verify: {e}"))?;
    let elapsed = start.elapsed();
    let rss = peak_rss_mib()?;
    let mut summary = Vec::new();
    write_summary(&report, &export.display().to_string(), &mut summary)?;
    eprint!("{}", String::from_utf8_lossy(&summary));
    let events = usize::try_from(report.head.size)?;
    eprintln!("# verified in {:.2} s", elapsed.as_secs_f64());
    println!(
        "verify_events_per_s {:.0} events/s",
        per_second(events, elapsed)
    );
    println!("verify_peak_rss_mib {rss:.0} MiB");
    println!("verify_events {events} events");
    Ok(())
}

/// A file in the temporary folder, removed when dropped.
struct Export(PathBuf);

impl Export {
    fn new() -> anyhow::Result<Self> {
        let name = format!(
            "windledger-bench-verify-{}-{}.jsonl",
            std::process::id(),
            uuid::Uuid::new_v4()
        );
        Ok(Self(std::env::temp_dir().join(name)))
    }
}

impl Drop for Export {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
