//! windledger's benchmarks. Each prints `metric value unit` lines on stdout
//! (and what it is doing on stderr).
//!
//! `cargo run --release -p windledger-bench -- store --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- meeting --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- projections --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- http --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- verify --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- register --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- identity --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- papers --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- payments --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- farms --backend postgres|sqlite`
//! `cargo run --release -p windledger-bench -- replicas` (clusters of its own)
//! `cargo run --release -p windledger-bench -- tlog --backend postgres|sqlite [--part upkeep|proofs|publish]`
//! `cargo run --release -p windledger-bench -- witness`
//! `cargo run --release -p windledger-bench -- budgeting`
//!
//! Sizes come from the environment: WINDLEDGER_BENCH_COMMANDS (20000),
//! WINDLEDGER_BENCH_AGGREGATES (1000), WINDLEDGER_BENCH_CONCURRENCY (16 for
//! `store`, 64 for `meeting`), WINDLEDGER_BENCH_LOAD_EVENTS (10000),
//! WINDLEDGER_BENCH_REPLAY_EVENTS (100000), WINDLEDGER_BENCH_VOTERS (20000),
//! WINDLEDGER_BENCH_LEDGER_EVENTS (1000000) and WINDLEDGER_BENCH_HOLDERS
//! (20000) for `projections`; WINDLEDGER_BENCH_HOLDERS (20000) and
//! WINDLEDGER_BENCH_YEARS (12) for `verify`; WINDLEDGER_BENCH_HOLDERS
//! (20000) for `register`; WINDLEDGER_BENCH_READS (2000) for `identity`;
//! WINDLEDGER_BENCH_HOLDERS (20000) and WINDLEDGER_BENCH_TURNOUT (60, per
//! cent) for `papers`; WINDLEDGER_BENCH_HOLDERS (20000) for `payments`;
//! WINDLEDGER_BENCH_COMMANDS, WINDLEDGER_BENCH_AGGREGATES and
//! WINDLEDGER_BENCH_CONCURRENCY as for `store` with WINDLEDGER_BENCH_ROUNDS
//! (4), WINDLEDGER_BENCH_LEDGER_EVENTS (1000000), WINDLEDGER_BENCH_PROOFS
//! (10000) and WINDLEDGER_BENCH_INCREMENT (1000) for `tlog`;
//! WINDLEDGER_BENCH_VOTERS (10000), WINDLEDGER_BENCH_PROJECTS (100) and
//! WINDLEDGER_BENCH_ROUNDS (5) for `budgeting`; WINDLEDGER_BENCH_FARMS
//! (1000), WINDLEDGER_BENCH_SECONDS (10) and WINDLEDGER_BENCH_READERS (24)
//! for `farms`; WINDLEDGER_BENCH_HOLDERS (20000), WINDLEDGER_BENCH_SECONDS
//! (10), WINDLEDGER_BENCH_READERS (24) and WINDLEDGER_BENCH_VOTER_TASKS (8)
//! for `replicas`.
//! PostgreSQL runs on a database created (and dropped) on the server
//! `DATABASE_URL` names; SQLite on a temporary file.

/// The server's allocator (`windledger_memory`: mimalloc, with a heap apart
/// for the farms' governance replays).
#[global_allocator]
static ALLOCATOR: windledger_memory::Allocator = windledger_memory::Allocator;

mod budgeting;
mod farm;
mod farms;
mod http;
mod identity;
mod meeting;
mod papers;
mod payments;
mod projections;
mod register;
mod replicas;
mod tlog;
mod verify;
mod witness;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent, EventStore};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    ExpectedVersion, LedgerEventStore, LedgerId, Metadata, NewEvent, Store, StreamAppend,
    aggregate_stream,
};

#[derive(Parser)]
#[command(about = "windledger benchmarks")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// The event store: appends through cqrs-es, aggregate loads, replay.
    Store {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// The projections: a rebuild of a synthetic farm's ledger, its peak
    /// memory, an as-of query and the close of a meeting of 10,000 voters.
    Projections {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// A general meeting: every voter of a large roll casts a ballot through
    /// CqrsFramework, from concurrent tasks; then the close and a reload.
    Meeting {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// The HTTP server under a mixed load of statement and cap-table reads
    /// and ballots, on a synthetic farm with a meeting open.
    Http {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// The offline audit (`windledger verify`) of a synthetic farm's
    /// export: events verified per second and the audit's peak memory.
    Verify {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// The register of share movements as PDF/A: of the reference farm,
    /// and of a synthetic farm of 20,000 holders, with its peak memory.
    Register {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// Reading one holder's identity through the API, on the reference farm
    /// with every individual's identity in the vault: p50 and p99.
    Identity {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// A general meeting's paperwork for 20,000 holders: the convocations
    /// (e-mails to a local SMTP server, the letters as PDF), the close, the
    /// attendance sheet and the minutes, names read from the vault.
    Papers {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// A dividend paid to 20,000 holders: the SEPA credit transfer file
    /// (every holder's bank account read from the vault), the bank's
    /// statement read and matched, the payments recorded.
    Payments {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// Many farms on one server: 1,000 farms of the reference farm's
    /// size, the server's start, each farm's first request, the memory
    /// under the default budget, reads of the farms held and of all.
    Farms {
        #[arg(long, value_enum)]
        backend: BackendArg,
    },
    /// A writer and a read-only server on a hot standby, on PostgreSQL
    /// clusters of its own: reads served by the writer alone and by both,
    /// the standby's lag under ballots.
    Replicas,
    /// The ledger as a transparency log: the tree's upkeep on
    /// `append_concurrent` (bare, with a reader, with the tree,
    /// alternated), proof times at 1,000,000 events, `windledger publish`
    /// of 1,000,000 events and then of 1,000 more.
    Tlog {
        #[arg(long, value_enum)]
        backend: BackendArg,
        /// Only these parts (repeatable); all by default.
        #[arg(long = "part", value_enum)]
        parts: Vec<tlog::Part>,
    },
    /// The witnesses' co-signature round trip: three witnesses on
    /// 127.0.0.1, a tree of 1,000,000 leaves growing between rounds.
    Witness,
    /// A budgeting round's outcome for 10,000 voters and 100 projects,
    /// under Equal Shares and under greedy approval.
    Budgeting,
    /// `verify`'s child process: audits the export at PATH, its seals by
    /// PUBLIC_KEY.
    #[command(name = "verify-export", hide = true)]
    VerifyExport {
        path: std::path::PathBuf,
        public_key: String,
    },
}

impl BackendArg {
    fn backend(self) -> Backend {
        match self {
            Self::Postgres => Backend::Postgres,
            Self::Sqlite => Backend::Sqlite,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Postgres,
    Sqlite,
}

pub(crate) fn env_size(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

/// A turbine's meter: the smallest aggregate that looks like ours, with one
/// event of about 200 bytes a command.
#[derive(Default, Serialize, Deserialize)]
struct Meter {
    readings: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum MeterEvent {
    ProductionReported {
        turbine: String,
        month: String,
        mwh: String,
        availability: String,
        reported_by: String,
        note: String,
    },
}

impl DomainEvent for MeterEvent {
    fn event_type(&self) -> String {
        "ProductionReported".into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

impl Aggregate for Meter {
    const TYPE: &'static str = "meter";
    type Command = u64;
    type Event = MeterEvent;
    type Error = Never;
    type Services = ();

    async fn handle(&mut self, n: u64, _: &(), sink: &EventSink<Self>) -> Result<(), Never> {
        sink.write(reading(n), self).await;
        Ok(())
    }

    fn apply(&mut self, _: MeterEvent) {
        self.readings += 1;
    }
}

fn reading(n: u64) -> MeterEvent {
    MeterEvent::ProductionReported {
        turbine: format!("T{:02}", n % 10 + 1),
        month: format!("{}-{:02}", 2020 + n / 12 % 6, n % 12 + 1),
        mwh: format!("{}.{:03}", 500 + n % 700, n % 1000),
        availability: "97.40".into(),
        reported_by: "operator".into(),
        note: "monthly SCADA export, reconciled".into(),
    }
}

pub(crate) fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

async fn store_bench(backend: Backend) -> anyhow::Result<()> {
    let commands = env_size("WINDLEDGER_BENCH_COMMANDS", 20_000)?;
    let aggregates = env_size("WINDLEDGER_BENCH_AGGREGATES", 1_000)?.max(1);
    let concurrency = env_size("WINDLEDGER_BENCH_CONCURRENCY", 16)?.max(1);
    let load_events = env_size("WINDLEDGER_BENCH_LOAD_EVENTS", 10_000)?;
    let replay_events = env_size("WINDLEDGER_BENCH_REPLAY_EVENTS", 100_000)?;

    // Kept to the end: the database is dropped with it.
    let (_db, store) = bench_database(backend).await?;

    // append_single: one command at a time through CqrsFramework.
    let ledger = new_ledger(&store, "bench-single").await?;
    let cqrs = CqrsFramework::new(
        LedgerEventStore::<Meter>::new(store.clone(), ledger),
        vec![],
        (),
    );
    eprintln!("# append_single: {commands} commands on {aggregates} aggregates");
    let start = Instant::now();
    for n in 0..commands {
        cqrs.execute(&format!("m{}", n % aggregates), n as u64)
            .await?;
    }
    println!(
        "append_single {:.0} events/s",
        per_second(commands, start.elapsed())
    );

    // append_concurrent: the same from concurrent tasks on disjoint aggregates.
    let ledger = new_ledger(&store, "bench-concurrent").await?;
    eprintln!("# append_concurrent: {commands} commands from {concurrency} tasks");
    let start = Instant::now();
    let done = append_concurrent(&store, &ledger, commands, aggregates, concurrency).await?;
    println!(
        "append_concurrent {:.0} events/s",
        per_second(done, start.elapsed())
    );

    // load_aggregate_10k: one aggregate with many events.
    let ledger = new_ledger(&store, "bench-load").await?;
    let stream = aggregate_stream::<Meter>("big").map_err(anyhow::Error::from)?;
    fill(&store, &ledger, &stream, load_events).await?;
    eprintln!("# load_aggregate_10k: {load_events} events, best of 5");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        // A new event store each time: one keeps the aggregates it loaded.
        let events = LedgerEventStore::<Meter>::new(store.clone(), ledger.clone());
        let start = Instant::now();
        let loaded = events.load_aggregate("big").await?;
        best = best.min(start.elapsed());
        if loaded.aggregate.readings != load_events as u64 {
            bail!(
                "loaded {} events, expected {load_events}",
                loaded.aggregate.readings
            );
        }
    }
    println!("load_aggregate_10k {:.1} ms", best.as_secs_f64() * 1000.0);

    // replay: a ledger in position order, read in pages of 5,000 (as a
    // projection rebuilds), decoded into typed events.
    let ledger = new_ledger(&store, "bench-replay").await?;
    for chunk in 0..replay_events.div_ceil(10_000) {
        let stream = windledger_store::StreamId::parse(format!("meter/r{chunk}"))?;
        fill(
            &store,
            &ledger,
            &stream,
            10_000.min(replay_events - chunk * 10_000),
        )
        .await?;
    }
    // One pass unmeasured first: the first read of fresh rows sets their
    // hint bits, which a ledger being replayed has long had.
    eprintln!("# replay: {replay_events} events, best of 5 after one warm-up pass");
    let mut best = Duration::MAX;
    for pass in 0..6 {
        let start = Instant::now();
        let mut decoded = 0usize;
        let mut events = std::pin::pin!(store.subscribe(ledger.clone(), 0).take(replay_events));
        while let Some(e) = events.next().await {
            let _event: MeterEvent = e?.decode()?;
            decoded += 1;
        }
        if pass > 0 {
            best = best.min(start.elapsed());
        }
        if decoded != replay_events {
            bail!("replayed {decoded} events, expected {replay_events}");
        }
    }
    eprintln!(
        "# subscription: {:.0} events/s",
        per_second(replay_events, best)
    );
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut after = 0;
        loop {
            let page = store.read_ledger(&ledger, after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for e in &page {
                let _event: MeterEvent = e.decode()?;
            }
        }
        best = best.min(start.elapsed());
    }
    println!("replay {:.0} events/s", per_second(replay_events, best));
    Ok(())
}

/// `append_concurrent`'s workload: `commands` commands through
/// CqrsFramework on `ledger` from `concurrency` tasks, each on aggregates of
/// its own (of `aggregates`); the number of events appended.
pub(crate) async fn append_concurrent(
    store: &Store,
    ledger: &LedgerId,
    commands: usize,
    aggregates: usize,
    concurrency: usize,
) -> anyhow::Result<usize> {
    let cqrs = std::sync::Arc::new(CqrsFramework::new(
        LedgerEventStore::<Meter>::new(store.clone(), ledger.clone()),
        vec![],
        (),
    ));
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let cqrs = cqrs.clone();
            tokio::spawn(async move {
                let mine: Vec<usize> = (0..aggregates)
                    .filter(|a| a % concurrency == task)
                    .collect();
                let count = (task..commands).step_by(concurrency).count();
                for (i, n) in (task..commands).step_by(concurrency).enumerate() {
                    let aggregate = mine.get(i % mine.len().max(1)).copied().unwrap_or(task);
                    cqrs.execute(&format!("m{aggregate}"), n as u64).await?;
                }
                anyhow::Ok(count)
            })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        done += t.await??;
    }
    Ok(done)
}

/// A new test database on `backend` and its store, named on stderr.
pub(crate) async fn bench_database(backend: Backend) -> anyhow::Result<(TestDatabase, Store)> {
    let Some(db) = TestDatabase::new(backend).await else {
        bail!("PostgreSQL is not reachable: set DATABASE_URL to a server this machine can reach");
    };
    let store = db.store().await;
    eprintln!("# backend {} at {}", store.backend_name(), db.url);
    Ok((db, store))
}

pub(crate) async fn new_ledger(store: &Store, name: &str) -> anyhow::Result<LedgerId> {
    let ledger = LedgerId::parse(name)?;
    store.create_ledger(&ledger).await?;
    Ok(ledger)
}

/// Appends `n` events to a stream in batches of 1,000 (set-up, not measured).
pub(crate) async fn fill(
    store: &Store,
    ledger: &LedgerId,
    stream: &windledger_store::StreamId,
    n: usize,
) -> anyhow::Result<()> {
    for start in (0..n).step_by(1_000) {
        let events = (start..n.min(start + 1_000))
            .map(|i| {
                Ok(NewEvent {
                    event_id: uuid::Uuid::new_v4(),
                    event_type: "ProductionReported".into(),
                    schema_version: 1,
                    payload: serde_json::to_value(reading(i as u64))?,
                    metadata: Metadata::default(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        store
            .append(
                ledger,
                vec![StreamAppend {
                    stream_id: stream.clone(),
                    expected: ExpectedVersion::Any,
                    events,
                }],
            )
            .await?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // The store and the meeting: one thread. The store's work here is
    // waiting on PostgreSQL, and on this 2-core machine a multi-threaded
    // runtime spends more on waking tasks across threads than it gains
    // (measured: append_single ~1,150-1,400 events/s and append_concurrent
    // ~8,000-9,100 with it, against the figures in README.md). The
    // projections: two, so that the subscription reads the next page while
    // the folds apply this one, as the server does.
    let current = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    // The server's runtime, on two worker threads.
    let two_workers = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    };
    match Cli::parse().bench {
        Bench::Store { backend } => current()?.block_on(store_bench(backend.backend())),
        Bench::Meeting { backend } => current()?.block_on(meeting::bench(backend.backend())),
        Bench::Projections { backend } => {
            two_workers()?.block_on(projections::bench(backend.backend()))
        }
        Bench::Http { backend } => two_workers()?.block_on(http::bench(backend.backend())),
        Bench::Verify { backend } => current()?.block_on(verify::bench(backend.backend())),
        Bench::Register { backend } => current()?.block_on(register::bench(backend.backend())),
        Bench::Identity { backend } => two_workers()?.block_on(identity::bench(backend.backend())),
        Bench::Papers { backend } => two_workers()?.block_on(papers::bench(backend.backend())),
        Bench::Payments { backend } => two_workers()?.block_on(payments::bench(backend.backend())),
        Bench::Farms { backend } => two_workers()?.block_on(farms::bench(backend.backend())),
        Bench::Replicas => two_workers()?.block_on(replicas::bench()),
        // As `store`: the same runtime for the same appends.
        Bench::Tlog { backend, parts } => {
            current()?.block_on(tlog::bench(backend.backend(), &parts))
        }
        Bench::Witness => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(witness::bench()),
        Bench::Budgeting => budgeting::bench(),
        Bench::VerifyExport { path, public_key } => verify::child(&path, &public_key),
    }
}
