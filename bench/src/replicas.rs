//! `replicas`: a writer and a read-only server on a hot standby
//! (docs/deploy.md, "Read replicas").
//!
//! Starts a PostgreSQL primary of its own (`initdb` on a free port, as the
//! tests' clusters: `windledger_store::testing::cluster`, with `fsync`
//! off), writes the `http` benchmark's synthetic farm
//! (`WINDLEDGER_BENCH_HOLDERS`, 20,000) with a meeting open, then makes a
//! hot standby of it (`pg_basebackup -R`: asynchronous streaming
//! replication, PostgreSQL's default). The writer (`windledger serve`) and
//! the reader (`windledger serve --read-only` on the standby) run in this
//! process; both clusters, both servers and the clients share the machine.
//! For `WINDLEDGER_BENCH_SECONDS` (10) each, it prints:
//!
//! - `writer_alone_read_rps`, `writer_alone_read_p99_ms`:
//!   `WINDLEDGER_BENCH_READERS` (24) clients reading (a holder's statement
//!   and `/parties` in turn, as `http`) from the writer alone;
//! - `with_replica_read_rps`, `with_replica_read_p99_ms`: the same clients,
//!   half on the writer and half on the reader;
//! - under ballots (`WINDLEDGER_BENCH_VOTER_TASKS`, 8, casting on the
//!   writer) with the readers on the reader: `ballot_rps`,
//!   `replica_read_rps`, `replica_read_p99_ms`, and `replica_lag_p50_ms`,
//!   `replica_lag_p99_ms`: from a ballot's acknowledgement to the standby
//!   having replayed the position its answer gave (`Windledger-Lsn`), read
//!   every millisecond. What the reader's read models add to it is at most
//!   their poll of the heads (`HEAD_POLL`, 100 ms) or nothing for a client
//!   sending `Windledger-Read-After`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::bail;
use windledger_api::AppState;
use windledger_store::testing::cluster::Cluster;
use windledger_store::{Lsn, Store, StoreOptions};

use crate::env_size;
use crate::http::{Latencies, ballot_load, gather, read_load, serve_state, voting_farm};

/// Reads per second and p99 of these readers, which ran `seconds`.
async fn rate(
    tasks: Vec<tokio::task::JoinHandle<(Latencies, u64)>>,
    started: Instant,
) -> anyhow::Result<(f64, f64)> {
    let (mut latencies, errors) = gather(tasks).await?;
    if errors > 0 {
        bail!("{errors} reads failed");
    }
    let rps = latencies.0.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rps, latencies.p99_ms()))
}

pub async fn bench() -> anyhow::Result<()> {
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let seconds = env_size("WINDLEDGER_BENCH_SECONDS", 10)?;
    let readers = env_size("WINDLEDGER_BENCH_READERS", 24)?.max(2);
    let voters = env_size("WINDLEDGER_BENCH_VOTER_TASKS", 8)?.max(1);
    let Some((primary, db)) = Cluster::with_database().await else {
        bail!("initdb and pg_ctl are needed: Debian's postgresql package");
    };
    let database = db
        .url
        .rsplit('/')
        .next()
        .and_then(|p| p.split('?').next())
        .unwrap_or_default()
        .to_owned();

    // The writer, its farm and meeting; then the standby and the reader.
    let store = db.store().await;
    let writer = AppState::new(store.clone(), db.checkpoint_signer());
    let (writer_base, stop_writer, writer_task) = serve_state(writer.clone()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(readers + voters)
        .build()?;
    let voting = voting_farm(&store, &writer, &writer_base, &client, holders).await?;
    let copied = Instant::now();
    let standby = Cluster::standby_of(&primary);
    eprintln!("# standby made in {:.1} s", copied.elapsed().as_secs_f64());
    let replica = Store::connect(
        StoreOptions::new(format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            standby.port()
        ))
        .reading_only(),
    )
    .await?;
    let reader = AppState::new(replica.clone(), db.checkpoint_signer());
    let (reader_base, stop_reader, reader_task) = serve_state(reader.clone()).await?;
    // Both servers hold the farm, built, before anything is timed.
    let runtime = reader
        .open(&voting.ledger)
        .await
        .map_err(|p| anyhow::anyhow!(p.detail))?;
    runtime
        .projections
        .caught_up(store.head(&voting.ledger).await?.size)
        .await?;
    let period = Duration::from_secs(seconds as u64);

    let started = Instant::now();
    let alone = read_load(
        std::slice::from_ref(&writer_base),
        &voting,
        readers,
        started + period,
    )?;
    let (rps, p99) = rate(alone, started).await?;
    println!("writer_alone_read_rps {rps:.0} requests/s");
    println!("writer_alone_read_p99_ms {p99:.2} ms");

    let both = [writer_base.clone(), reader_base.clone()];
    let started = Instant::now();
    let shared = read_load(&both, &voting, readers, started + period)?;
    let (rps, p99) = rate(shared, started).await?;
    println!("with_replica_read_rps {rps:.0} requests/s");
    println!("with_replica_read_p99_ms {p99:.2} ms");

    // Ballots on the writer, reads on the reader, and the standby's lag.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    let started = Instant::now();
    let deadline = started + period;
    let ballots = ballot_load(&writer_base, &voting, voters, deadline, Some(tx))?;
    let reads = read_load(
        std::slice::from_ref(&reader_base),
        &voting,
        readers,
        deadline,
    )?;
    let lag = tokio::spawn(async move {
        let mut waiting: VecDeque<(Instant, Lsn)> = VecDeque::new();
        let mut lags = Latencies::default();
        let mut open = true;
        while open || !waiting.is_empty() {
            loop {
                match rx.try_recv() {
                    Ok((at, lsn)) => waiting.push_back((at, lsn.parse()?)),
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let replayed = replica.wal_position().await?.unwrap_or(Lsn(0));
            let now = Instant::now();
            while waiting.front().is_some_and(|(_, lsn)| *lsn <= replayed) {
                if let Some((at, _)) = waiting.pop_front() {
                    lags.0.push(now.duration_since(at).as_micros() as u64);
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        anyhow::Ok(lags)
    });
    let (replica_rps, replica_p99) = rate(reads, started).await?;
    let (ballot_latencies, ballot_errors) = gather(ballots).await?;
    let ballot_rps = ballot_latencies.0.len() as f64 / started.elapsed().as_secs_f64();
    if ballot_errors > 0 {
        bail!("{ballot_errors} ballots failed");
    }
    let mut lags = lag.await??;
    println!("ballot_rps {ballot_rps:.0} requests/s");
    println!("replica_read_rps {replica_rps:.0} requests/s");
    println!("replica_read_p99_ms {replica_p99:.2} ms");
    println!("replica_lag_p50_ms {:.2} ms", lags.percentile_ms(50));
    println!("replica_lag_p99_ms {:.2} ms", lags.p99_ms());

    let _ = stop_reader.send(());
    let _ = stop_writer.send(());
    reader_task.await??;
    writer_task.await??;
    Ok(())
}
