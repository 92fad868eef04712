//! `farms`: many farms on one server (docs/deploy.md, "Many farms").
//!
//! Writes `WINDLEDGER_BENCH_FARMS` (1,000) synthetic farms of the reference
//! farm's size (about 2,443 events each: `Synthetic::for_events`, 150
//! holders), then runs the server in this process (the code `windledger
//! serve` runs) under the default memory budget (or
//! `WINDLEDGER_LEDGER_MEMORY_MIB`'s, as `serve` reads it), and prints:
//!
//! - `farms`, `events_per_farm`, `write_s` (writing them, set-up only);
//! - `start_s`: from a new connection pool to `/readyz` answering 200;
//! - `bytes_per_event`: the resident memory the first farms' read models
//!   add, per event, while none is released yet (what
//!   `windledger_app::ledgers::BYTES_PER_EVENT` estimates);
//! - `cold_p50_ms`, `cold_p99_ms`: the first request (`/parties`) to each
//!   farm in turn, every farm once: opening, verifying and rebuilding it;
//! - `rss_start_mib`: the process's resident memory before the first
//!   request (the farms written, the server started: what the farms held
//!   add comes on top);
//! - `rss_mib`: the process's resident memory once every farm was asked
//!   once, and `open_farms`, how many are held then (`resting_farms` of
//!   them with their governance state at rest), and `open_bytes_per_event`,
//!   the resident memory they add per event (what
//!   `READ_MODEL_BYTES_PER_EVENT` estimates, when most rest);
//! - `warm_read_rps`, `warm_read_p99_ms`: `WINDLEDGER_BENCH_READERS` (24)
//!   clients reading `/parties` of the farms held open, for
//!   `WINDLEDGER_BENCH_SECONDS` (10);
//! - `spread_read_rps`, `spread_read_p99_ms`: the same spread over every
//!   farm (most of them released: each such read rebuilds one).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use windledger_api::AppState;
use windledger_app::import::synthetic::write_synthetic;
use windledger_app::ledgers::BYTES_PER_EVENT;
use windledger_fixtures::synthetic::Synthetic;
use windledger_store::testing::Backend;
use windledger_store::{LedgerId, Store};

use crate::http::{Latencies, gather, serve_state};
use crate::projections::status_mib;
use crate::{bench_database, env_size};

fn farm_id(i: usize) -> anyhow::Result<LedgerId> {
    Ok(LedgerId::parse(format!("parc-{i:04}"))?)
}

/// Writes the farms, two at a time.
async fn write_farms(store: &Store, farms: usize, config: &Synthetic) -> anyhow::Result<u64> {
    let mut events = 0;
    let mut i = 0;
    while i < farms {
        let mut batch = Vec::new();
        for j in i..(i + 2).min(farms) {
            let (store, config, ledger) = (store.clone(), config.clone(), farm_id(j)?);
            batch.push(tokio::spawn(async move {
                write_synthetic(&store, &ledger, &config, |_| {}).await
            }));
        }
        for task in batch {
            events = task.await??.events;
        }
        i += 2;
        if i % 100 == 0 {
            eprintln!("# {i} farms written");
        }
    }
    Ok(events)
}

/// Reads `/parties` of farms chosen by `farm(i)` from `readers` clients
/// for `seconds`: requests per second and p99.
async fn reads(
    client: &reqwest::Client,
    base: &str,
    readers: usize,
    seconds: usize,
    farms: Arc<Vec<String>>,
) -> anyhow::Result<(f64, f64)> {
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..readers {
        let (client, base, farms) = (client.clone(), base.to_owned(), farms.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut errors = 0u64;
            let mut i = r;
            while Instant::now() < deadline {
                let farm = &farms[(i * 7919) % farms.len()];
                let ok = latencies
                    .time(client.get(format!("{base}/api/v1/ledgers/{farm}/parties")))
                    .await;
                errors += u64::from(!ok);
                i += readers;
            }
            (latencies, errors)
        }));
    }
    let (mut all, errors) = gather(tasks).await?;
    if errors > 0 {
        bail!("{errors} reads failed");
    }
    let rps = all.0.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rps, all.p99_ms()))
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let farms = env_size("WINDLEDGER_BENCH_FARMS", 1_000)?.max(2);
    let seconds = env_size("WINDLEDGER_BENCH_SECONDS", 10)?;
    let readers = env_size("WINDLEDGER_BENCH_READERS", 24)?.max(1);
    let (db, store) = bench_database(backend).await?;
    let config = Synthetic::for_events(2_443, 150);
    let written = Instant::now();
    let events = write_farms(&store, farms, &config).await?;
    println!("farms {farms} count");
    println!("events_per_farm {events} events");
    println!("write_s {:.1} s", written.elapsed().as_secs_f64());
    drop(store);

    // The server: a new pool, the state, the listener, until /readyz.
    let started = Instant::now();
    let store = db.store().await;
    let state = AppState::new(store.clone(), db.checkpoint_signer());
    // The server's budget, as `serve --ledger-memory-mib` sets it (the
    // default unless WINDLEDGER_LEDGER_MEMORY_MIB says otherwise).
    if let Ok(mib) = std::env::var("WINDLEDGER_LEDGER_MEMORY_MIB") {
        let mib: u64 = mib
            .parse()
            .map_err(|e| anyhow::anyhow!("WINDLEDGER_LEDGER_MEMORY_MIB: {e}"))?;
        state.ledgers.set_budget(mib * 1024 * 1024);
    }
    let (base, stop, server) = serve_state(state.clone()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(readers)
        .build()?;
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server was not ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("start_s {:.3} s", started.elapsed().as_secs_f64());

    // Every farm asked once, in turn: the first farms, while none is
    // released, give the cost per event.
    let ids: Vec<String> = (0..farms)
        .map(|i| farm_id(i).map(|l| l.to_string()))
        .collect::<anyhow::Result<_>>()?;
    // Half of what the budget holds, so that none is released yet.
    let sample =
        (state.ledgers.budget() / (events.max(1) * BYTES_PER_EVENT) / 2).clamp(1, 20) as usize;
    let before = status_mib("VmRSS")?;
    println!("rss_start_mib {before:.0} MiB");
    let mut cold = Latencies::default();
    for (i, farm) in ids.iter().enumerate() {
        if !cold
            .time(client.get(format!("{base}/api/v1/ledgers/{farm}/parties")))
            .await
        {
            bail!("{farm}: its first request failed");
        }
        if i + 1 == sample.min(farms) {
            let grown = (status_mib("VmRSS")? - before) * 1024.0 * 1024.0;
            let released: u64 = state.ledgers.figures().iter().map(|f| f.releases).sum();
            if released > 0 {
                eprintln!(
                    "# ledgers were released before the sample ended: bytes_per_event is low"
                );
            }
            let sampled = sample as f64 * events as f64;
            println!("bytes_per_event {:.0} bytes", grown / sampled);
        }
    }
    println!("cold_p50_ms {:.2} ms", cold.percentile_ms(50));
    println!("cold_p99_ms {:.2} ms", cold.percentile_ms(99));
    println!("rss_mib {:.0} MiB", status_mib("VmRSS")?);
    let open: Vec<String> = state
        .ledgers
        .held()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    println!("open_farms {} count", open.len());
    let resting = state.ledgers.figures().iter().filter(|f| f.resting).count();
    println!("resting_farms {resting} count");
    // Most open farms rest now: what each holds, allocator's waste and the
    // pages their freed governance state left part-used included.
    println!(
        "open_bytes_per_event {:.0} bytes",
        (status_mib("VmRSS")? - before) * 1024.0 * 1024.0
            / (open.len().max(1) as f64 * events as f64)
    );
    println!("budget_mib {} MiB", state.ledgers.budget() / (1024 * 1024));

    let (rps, p99) = reads(&client, &base, readers, seconds, Arc::new(open)).await?;
    println!("warm_read_rps {rps:.0} requests/s");
    println!("warm_read_p99_ms {p99:.2} ms");
    let (rps, p99) = reads(&client, &base, readers, seconds, Arc::new(ids)).await?;
    println!("spread_read_rps {rps:.0} requests/s");
    println!("spread_read_p99_ms {p99:.2} ms");
    println!("rss_after_mib {:.0} MiB", status_mib("VmRSS")?);

    let _ = stop.send(());
    server.await??;
    Ok(())
}
