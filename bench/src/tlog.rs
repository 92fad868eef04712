//! `tlog`: the ledger as a transparency log (issue 23, `windledger-tlog`).
//!
//! - Tile upkeep on `append_concurrent`: the `store` benchmark's concurrent
//!   appends (WINDLEDGER_BENCH_COMMANDS commands from
//!   WINDLEDGER_BENCH_CONCURRENCY tasks, each run on a fresh ledger) in
//!   three variants, alternated A B C then C B A over
//!   WINDLEDGER_BENCH_ROUNDS (4) rounds so that a drift of the machine
//!   weighs on all alike: bare; with a follower that reads every new event
//!   from the store's subscription in order, in batches as the server's
//!   projections do (`ready_chunks(1024)`), and does nothing else (the
//!   control: what following the ledger costs whatever is kept); and with
//!   a follower that also appends the batch's entries to a
//!   [`windledger_tlog::Log`] and computes the hash tiles the batch adds
//!   (`log.tiles(old, new)`), as publishing would. A run with a follower
//!   ends when every event is appended and read. Prints
//!   `append_concurrent_bare`, `append_concurrent_reader` and
//!   `append_concurrent_tree` (events/s, the median of the runs),
//!   `tree_upkeep_overhead` (per cent of the bare rate lost with the
//!   tree), `tree_upkeep_overhead_over_reader` (per cent of the reader's
//!   rate lost: the tree's own share) and `tree_upkeep_work` (the time the
//!   follower spends in the tree and its tiles, per event).
//! - Proofs: a tree of WINDLEDGER_BENCH_LEDGER_EVENTS (1000000) synthetic
//!   entries, then WINDLEDGER_BENCH_PROOFS (10000) inclusion proofs of
//!   random leaves in the whole tree (`inclusion_proof_mean_us`,
//!   `inclusion_proof_p99_us`) and as many consistency proofs from a random
//!   size to the whole tree (`consistency_proof_mean_us`,
//!   `consistency_proof_p99_us`), each call timed alone; and the cost of
//!   growing the tree, per event, at 10,000, 100,000 and the full size
//!   (`tree_build_ns_per_event_<n>`, best of 5), which stays flat.
//! - Publishing: a ledger of WINDLEDGER_BENCH_LEDGER_EVENTS events (not
//!   measured): a small synthetic farm first (a ledger begins with its
//!   company: `publish` reads the charter, for its witnesses), then
//!   readings in batches of 1,000 (the `store` benchmark's `fill`);
//!   then `windledger publish DIR` (`windledger::publish::run`, the
//!   command's own code) into an empty folder: `publish_s`,
//!   `publish_files`, `publish_mib`; then WINDLEDGER_BENCH_INCREMENT
//!   (1000) more events and the same command again on that folder:
//!   `publish_incremental_s`, `publish_incremental_files`; and what any
//!   publication costs before it writes a file, the ledger read whole and
//!   its tree grown (`publish_read_and_grow_s`).
//!
//! `--part upkeep|proofs|publish` (repeatable) runs only those; all three
//! by default.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::ValueEnum;
use futures::StreamExt;
use windledger::options::{KeyOptions, LedgerOptions};
use windledger::publish::PublishOptions;
use windledger_app::import::synthetic::{Synthetic, write_synthetic};
use windledger_app::services::scan;
use windledger_fixtures::rng::Rng;
use windledger_store::testing::Backend;
use windledger_store::{LedgerId, Store, StreamId};
use windledger_tlog::{ENTRY_SIZE, Log, entry, leaf_hash, verify_consistency, verify_inclusion};

use crate::{append_concurrent, bench_database, env_size, fill, new_ledger, per_second};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// The tree kept up to date on `append_concurrent`.
    Upkeep,
    /// Inclusion and consistency proofs, and the tree's growth, at 1M.
    Proofs,
    /// `windledger publish DIR` of a 1M-event ledger, then incrementally.
    Publish,
}

pub async fn bench(backend: Backend, parts: &[Part]) -> anyhow::Result<()> {
    let runs = |part| parts.is_empty() || parts.contains(&part);
    if runs(Part::Upkeep) {
        upkeep(backend).await?;
    }
    if runs(Part::Proofs) {
        proofs()?;
    }
    if runs(Part::Publish) {
        publish(backend).await?;
    }
    Ok(())
}

/// The three runs of the upkeep's comparison.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The appends alone.
    Bare,
    /// With a follower that reads every new event, and no more: what the
    /// server's projections cost anyway (control).
    Reader,
    /// With a follower that reads every new event and keeps the tree and
    /// the tiles each batch adds.
    Tree,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Reader => "with a reader",
            Self::Tree => "with the tree",
        }
    }
}

/// What a follower did in one run.
#[derive(Default)]
struct Followed {
    batches: usize,
    tiles: usize,
    tile_bytes: usize,
    /// Time spent growing the tree and computing its tiles.
    tree_work: Duration,
}

/// Follows `ledger` from its start as the server's projections do (the
/// store's subscription in batches of up to 1,024 ready events) until it
/// has read `until` events; with `tree`, keeps its tree and computes the
/// tiles each batch adds. `reached` says how far it is.
async fn follow(
    store: Store,
    ledger: LedgerId,
    until: u64,
    tree: bool,
    reached: Arc<AtomicU64>,
) -> anyhow::Result<Followed> {
    let mut log = Log::new();
    let mut read = 0;
    let mut followed = Followed::default();
    let mut batches = std::pin::pin!(store.subscribe(ledger, 0).ready_chunks(1_024));
    while read < until {
        let Some(batch) = batches.next().await else {
            bail!("the subscription ended at {read}");
        };
        let batch = batch.into_iter().collect::<Result<Vec<_>, _>>()?;
        read += batch.len() as u64;
        followed.batches += 1;
        if tree {
            let start = Instant::now();
            let old = log.size();
            for event in &batch {
                log.append(&entry(event.position, &event.hash.0))?;
            }
            let tiles = log.tiles(old, log.size())?;
            followed.tree_work += start.elapsed();
            followed.tiles += tiles.len();
            followed.tile_bytes += tiles.iter().map(|(_, b)| b.len()).sum::<usize>();
        }
        reached.store(read, Ordering::Relaxed);
    }
    Ok(followed)
}

async fn upkeep(backend: Backend) -> anyhow::Result<()> {
    let commands = env_size("WINDLEDGER_BENCH_COMMANDS", 20_000)?;
    let aggregates = env_size("WINDLEDGER_BENCH_AGGREGATES", 1_000)?.max(1);
    let concurrency = env_size("WINDLEDGER_BENCH_CONCURRENCY", 16)?.max(1);
    let rounds = env_size("WINDLEDGER_BENCH_ROUNDS", 4)?.max(1);
    // Kept to the end: the database is dropped with it.
    let (_db, store) = bench_database(backend).await?;

    // One run unmeasured first: the first ledger warms the connections and
    // the database's files.
    let warm = new_ledger(&store, "bench-tlog-warm-up").await?;
    append_concurrent(&store, &warm, commands, aggregates, concurrency).await?;

    eprintln!(
        "# tree upkeep: {commands} commands from {concurrency} tasks; {rounds} rounds of bare, with a reader, with the tree (A B C, then C B A, ...)"
    );
    use Variant::{Bare, Reader, Tree};
    let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut tree_work_ns = Vec::new();
    let order = (0..rounds).flat_map(|r| {
        if r % 2 == 0 {
            [Bare, Reader, Tree]
        } else {
            [Tree, Reader, Bare]
        }
    });
    for (run, variant) in order.enumerate() {
        let ledger = new_ledger(&store, &format!("bench-tlog-{run}")).await?;
        let reached = Arc::new(AtomicU64::new(0));
        let follower = (variant != Bare).then(|| {
            tokio::spawn(follow(
                store.clone(),
                ledger.clone(),
                commands as u64,
                variant == Tree,
                reached.clone(),
            ))
        });
        let start = Instant::now();
        let done = append_concurrent(&store, &ledger, commands, aggregates, concurrency).await?;
        let appended = start.elapsed();
        let mut said = String::new();
        if let Some(follower) = follower {
            // The run ends when the follower has every event too.
            let behind = done as u64 - reached.load(Ordering::Relaxed);
            let followed = follower.await??;
            said = format!(
                " ({:.0} events/s appended, the follower then {behind} events behind; {} batches",
                per_second(done, appended),
                followed.batches,
            );
            if variant == Tree {
                let ns = followed.tree_work.as_secs_f64() * 1e9 / done as f64;
                tree_work_ns.push(ns);
                said += &format!(
                    ", {} tiles, {} KiB of tiles; the tree's work {:.1} ms, {ns:.0} ns/event",
                    followed.tiles,
                    followed.tile_bytes / 1024,
                    followed.tree_work.as_secs_f64() * 1e3,
                );
            }
            said.push(')');
        }
        let rate = per_second(done, start.elapsed());
        eprintln!("#   run {run} {}: {rate:.0} events/s{said}", variant.name());
        rates.entry(variant.name()).or_default().push(rate);
    }
    let mut median_of = |v: Variant| rates.get_mut(v.name()).map_or(f64::NAN, |r| median(r));
    let (bare, reader, tree) = (median_of(Bare), median_of(Reader), median_of(Tree));
    println!("append_concurrent_bare {bare:.0} events/s");
    println!("append_concurrent_reader {reader:.0} events/s");
    println!("append_concurrent_tree {tree:.0} events/s");
    println!("tree_upkeep_overhead {:.1} %", (bare - tree) / bare * 100.0);
    println!(
        "tree_upkeep_overhead_over_reader {:.1} %",
        (reader - tree) / reader * 100.0
    );
    println!("tree_upkeep_work {:.0} ns/event", median(&mut tree_work_ns));
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// `n` synthetic entries: positions 1 to `n`, each hash SHA-256 of its
/// position (as a leaf hash is computed: `leaf_hash`).
fn synthetic_entries(n: usize) -> Vec<[u8; ENTRY_SIZE]> {
    (1..=n as u64)
        .map(|p| entry(p, &leaf_hash(&p.to_be_bytes())))
        .collect()
}

fn grow(entries: &[[u8; ENTRY_SIZE]]) -> anyhow::Result<Log> {
    let mut log = Log::new();
    for e in entries {
        log.append(e)?;
    }
    Ok(log)
}

/// Mean and 99th percentile of `times`, in microseconds.
fn mean_p99_us(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let total: Duration = times.iter().sum();
    let mean = total.as_secs_f64() / times.len() as f64;
    let p99 = times[(times.len() * 99).div_ceil(100).saturating_sub(1)];
    (mean * 1e6, p99.as_secs_f64() * 1e6)
}

fn proofs() -> anyhow::Result<()> {
    let events = env_size("WINDLEDGER_BENCH_LEDGER_EVENTS", 1_000_000)?.max(2);
    let count = env_size("WINDLEDGER_BENCH_PROOFS", 10_000)?.max(1);
    let entries = synthetic_entries(events);

    // The tree's growth per event, at three sizes: constant amortised work.
    let mut sizes: Vec<usize> = [10_000, 100_000, events]
        .into_iter()
        .filter(|&n| n <= events)
        .collect();
    sizes.dedup();
    let mut log = Log::new();
    for n in sizes {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            let grown = grow(&entries[..n])?;
            best = best.min(start.elapsed());
            log = grown;
        }
        println!(
            "tree_build_ns_per_event_{n} {:.0} ns/event",
            best.as_secs_f64() * 1e9 / n as f64
        );
    }
    let size = log.size();
    let root = log.root(size)?;

    eprintln!("# {count} inclusion proofs of random leaves in the tree of {size}");
    let mut random = Rng::splitmix(0x7469_6c65_7331);
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let index = random.below(size);
        let start = Instant::now();
        let proof = log.inclusion_proof(index, size)?;
        times.push(start.elapsed());
        // A few checked, outside the time: the proofs are right.
        if i % 1_000 == 0 {
            verify_inclusion(&proof, size, &root, index, &entries[index as usize])?;
        }
    }
    let (mean, p99) = mean_p99_us(&mut times);
    println!("inclusion_proof_mean_us {mean:.1} us");
    println!("inclusion_proof_p99_us {p99:.1} us");

    eprintln!("# {count} consistency proofs from a random size to {size}");
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let from = 1 + random.below(size - 1);
        let start = Instant::now();
        let proof = log.consistency_proof(from, size)?;
        times.push(start.elapsed());
        if i % 1_000 == 0 {
            verify_consistency(&proof, from, &log.root(from)?, size, &root)?;
        }
    }
    let (mean, p99) = mean_p99_us(&mut times);
    println!("consistency_proof_mean_us {mean:.1} us");
    println!("consistency_proof_p99_us {p99:.1} us");
    Ok(())
}

/// Every file under `dir` and its size.
fn files_under(dir: &Path) -> anyhow::Result<BTreeMap<PathBuf, u64>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for item in std::fs::read_dir(&folder)? {
            let item = item?;
            let kind = item.file_type()?;
            if kind.is_dir() {
                folders.push(item.path());
            } else {
                files.insert(item.path(), item.metadata()?.len());
            }
        }
    }
    Ok(files)
}

/// `windledger publish DIR` as `options` say, timed; what the command
/// said.
async fn publish_once(options: &PublishOptions) -> anyhow::Result<(Duration, String)> {
    let mut said = Vec::new();
    let start = Instant::now();
    windledger::publish::run(options, &mut said).await?;
    let elapsed = start.elapsed();
    let said = String::from_utf8(said)?;
    eprintln!("# {}", said.trim_end());
    Ok((elapsed, said))
}

/// The number of files the command says it wrote.
fn files_written(said: &str) -> anyhow::Result<u64> {
    said.split(", ")
        .find_map(|part| part.strip_suffix(" files written"))
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no count of files in {said:?}"))
}

async fn publish(backend: Backend) -> anyhow::Result<()> {
    let events = env_size("WINDLEDGER_BENCH_LEDGER_EVENTS", 1_000_000)?;
    let increment = env_size("WINDLEDGER_BENCH_INCREMENT", 1_000)?;
    let (db, store) = bench_database(backend).await?;
    let ledger = LedgerId::parse("bench-publish")?;
    let folder = tempfile::Builder::new()
        .prefix("windledger-bench-publish-")
        .tempdir()?;

    // Set-up, not measured. A ledger begins with its company (the
    // incorporation, the charter): a small synthetic farm, as `windledger
    // import --synthetic` writes it, so that `publish` finds the charter
    // (and its witnesses: none) in the first page as on a real ledger;
    // then readings in batches of 1,000 (`fill`), streams of 10,000 events
    // as `store`'s replay, up to the size.
    let start = Instant::now();
    let farm = Synthetic::new(10, 1, Synthetic::default().seed);
    let mut written = usize::try_from(
        write_synthetic(&store, &ledger, &farm, |_| {})
            .await?
            .events,
    )?;
    let mut chunk = 0;
    while written < events {
        let n = 10_000.min(events - written);
        let stream = StreamId::parse(format!("meter/p{chunk}"))?;
        fill(&store, &ledger, &stream, n).await?;
        written += n;
        chunk += 1;
    }
    eprintln!(
        "# wrote {written} events in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let options = PublishOptions {
        dir: folder.path().join("log"),
        origin: None,
        ledger: LedgerOptions {
            database_url: db.url.clone(),
            ledger: ledger.to_string(),
        },
        keys: KeyOptions {
            key_file: folder.path().join("windledger-signing.key"),
            vault_key_file: folder.path().join("windledger-vault.key"),
        },
    };
    // The keys made before, as a server's are.
    options.keys.load(&mut std::io::sink())?;

    let (elapsed, said) = publish_once(&options).await?;
    let files = files_under(&options.dir)?;
    let bytes: u64 = files.values().sum();
    if files_written(&said)? != files.len() as u64 {
        bail!(
            "the command says {said:?} but the folder holds {} files",
            files.len()
        );
    }
    println!("publish_s {:.2} s", elapsed.as_secs_f64());
    println!("publish_files {} files", files.len());
    println!("publish_mib {:.1} MiB", bytes as f64 / f64::from(1 << 20));

    let stream = StreamId::parse("meter/increment")?;
    fill(&store, &ledger, &stream, increment).await?;
    let (elapsed, said) = publish_once(&options).await?;
    let after = files_under(&options.dir)?;
    let added: u64 = after
        .iter()
        .filter(|(path, _)| !files.contains_key(*path))
        .map(|(_, len)| len)
        .sum();
    println!("publish_incremental_s {:.2} s", elapsed.as_secs_f64());
    println!("publish_incremental_files {} files", files_written(&said)?);
    eprintln!(
        "# {} new files, {:.1} KiB, and the checkpoint replaced",
        after.len() - files.len(),
        added as f64 / 1024.0
    );

    // What every publication costs, whatever it adds: the command keeps
    // nothing between runs, so it reads the whole ledger again (as `scan`
    // reads it, payloads included) and grows the tree from the start.
    let start = Instant::now();
    let mut log = Log::new();
    let failed = scan(&store, &ledger, u64::MAX, |e| {
        match log.append(&entry(e.position, &e.hash.0)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => ControlFlow::Break(error),
        }
    })
    .await?;
    if let Some(error) = failed {
        bail!("the ledger's tree: {error}");
    }
    println!(
        "publish_read_and_grow_s {:.2} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
