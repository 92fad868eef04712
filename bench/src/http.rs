//! `http`: the server under a mixed load, on a synthetic farm.
//!
//! The server runs in this process (the same code `windledger serve` runs)
//! on a synthetic farm of `WINDLEDGER_BENCH_HOLDERS` holders (20,000), with a
//! general meeting open. For `WINDLEDGER_BENCH_SECONDS` (20), reader tasks
//! (`WINDLEDGER_BENCH_READERS`, 24) alternate a holder's statement (with
//! that holder's token) and the cap table's college totals (`/parties`),
//! while ballot tasks (`WINDLEDGER_BENCH_VOTERS_TASKS`, 8) cast ballots,
//! each holder in turn with the holder's own token (a holder voting again
//! once every holder has voted: the new ballot replaces the old). Clients and server
//! share the machine's two cores.
//!
//! Prints `read_rps`, `read_p99_ms`, `ballot_rps`, `ballot_p99_ms` and
//! `rss_mib` (the process's peak resident memory: server and clients).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use windledger::serve;
use windledger_api::AppState;
use windledger_api::auth::{self, Role};
use windledger_app::import::synthetic::write_synthetic;
use windledger_domain::types::HolderId;
use windledger_fixtures::synthetic::Synthetic;
use windledger_store::LedgerId;
use windledger_store::testing::Backend;

use crate::{bench_database, env_size};

/// Latencies in microseconds, to sort for percentiles, and how many
/// requests failed (the first few say why on stderr).
#[derive(Default)]
pub(crate) struct Latencies(pub(crate) Vec<u64>, u64);

impl Latencies {
    pub(crate) fn p99_ms(&mut self) -> f64 {
        self.percentile_ms(99)
    }

    /// Sends `request` and reads its answer whole, keeping how long it
    /// took: whether it succeeded.
    pub(crate) async fn time(&mut self, request: reqwest::RequestBuilder) -> bool {
        let start = Instant::now();
        let ok = match request.send().await {
            Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
            Ok(resp) => {
                // The first few failures say why.
                if self.1 < 3 {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    eprintln!("# {status}: {}", body.chars().take(300).collect::<String>());
                }
                self.1 += 1;
                false
            }
            Err(e) => {
                if self.1 < 3 {
                    eprintln!("# {e}");
                }
                self.1 += 1;
                false
            }
        };
        self.0.push(start.elapsed().as_micros() as u64);
        ok
    }

    pub(crate) fn percentile_ms(&mut self, p: usize) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.sort_unstable();
        let i = (self.0.len() * p).div_ceil(100).saturating_sub(1);
        self.0[i] as f64 / 1000.0
    }
}

/// The latencies and the error counts of these tasks, put together.
pub(crate) async fn gather(
    tasks: Vec<tokio::task::JoinHandle<(Latencies, u64)>>,
) -> anyhow::Result<(Latencies, u64)> {
    let mut latencies = Latencies::default();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.0.extend(l.0);
        errors += e;
    }
    Ok((latencies, errors))
}

/// A server of this process on `state` (the code `windledger serve`
/// runs): its address, the sender that stops it, and its task.
pub(crate) type Served = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

pub(crate) async fn serve_state(state: AppState) -> anyhow::Result<Served> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Ok((base, stop, server))
}

/// A synthetic farm with a general meeting open: what readers and voters
/// load.
pub(crate) struct Voting {
    pub ledger: LedgerId,
    /// Each holder with shares, and a token of theirs.
    pub tokens: Arc<Vec<(String, String)>>,
}

/// Writes a synthetic farm of `holders` holders to `store`, serves it from
/// `state` at `base`, issues a token per holder and opens a meeting whose
/// roll is every holder.
pub(crate) async fn voting_farm(
    store: &windledger_store::Store,
    state: &AppState,
    base: &str,
    client: &reqwest::Client,
    holders: usize,
) -> anyhow::Result<Voting> {
    let ledger = LedgerId::parse("bench-http")?;
    let config = Synthetic::new(holders, 2, 7);
    let start = Instant::now();
    let written = write_synthetic(store, &ledger, &config, |_| {}).await?;
    eprintln!(
        "# wrote a synthetic farm of {holders} holders: {} events in {:.1} s",
        written.events,
        start.elapsed().as_secs_f64()
    );
    let runtime = state
        .open(&ledger)
        .await
        .map_err(|p| anyhow::anyhow!(p.detail))?;
    let base = format!("{base}/api/v1/ledgers/{ledger}");

    // Holders with shares now, and a token each.
    runtime
        .projections
        .caught_up(store.head(&ledger).await?.size)
        .await?;
    let holder_ids: Vec<HolderId> = runtime.projections.read(|p| {
        p.cap_table
            .fold()
            .view(windledger_projections::cap_table::AsOf::Latest)
            .map(|v| {
                let mut ids: Vec<HolderId> = v.rows.iter().map(|r| r.holder.clone()).collect();
                ids.dedup();
                ids
            })
            .unwrap_or_default()
    });
    if holder_ids.len() < 100 {
        bail!("the synthetic farm has only {} holders", holder_ids.len());
    }
    eprintln!("# issuing {} tokens", holder_ids.len());
    let mut tokens = Vec::with_capacity(holder_ids.len());
    for h in &holder_ids {
        let issued = auth::issue(
            store,
            &ledger,
            Role::Shareholder,
            Some(h.clone().into()),
            "bench",
            None,
        )
        .await?;
        tokens.push((h.to_string(), issued.token));
    }
    let secretary = auth::issue(store, &ledger, Role::Secretary, None, "bench", None)
        .await?
        .token;

    // A general meeting, open, with its roll of every holder.
    // Its window is around the server's clock, which decides every ballot.
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let post = |path: String, body: serde_json::Value| {
        let (client, url, token) = (client.clone(), format!("{base}{path}"), secretary.clone());
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            let status = r.status();
            let text = r.text().await?;
            if !status.is_success() {
                bail!("{status}: {text}");
            }
            anyhow::Ok(())
        }
    };
    post(
        "/meetings".into(),
        json!({
            "meeting": "bench-ag", "kind": "ordinary_general_meeting", "call": {"call": "first"},
            "record_date": today - chrono::Days::new(1),
            "opens_at": now - chrono::Duration::hours(1), "closes_at": now + chrono::Duration::days(1),
            "agenda": [{"decision_kind": "ordinary", "purpose": {"purpose": "general"}, "text": "Résolution"}],
            "members": [], "convened_on": today - chrono::Days::new(20)
        }),
    )
    .await
    .context("convening the meeting")?;
    let opened = Instant::now();
    post("/meetings/bench-ag/voting".into(), json!({}))
        .await
        .context("opening the voting")?;
    eprintln!(
        "# meeting open (roll of {} holders frozen in {:.0} ms)",
        holder_ids.len(),
        opened.elapsed().as_secs_f64() * 1000.0
    );
    Ok(Voting {
        ledger,
        tokens: Arc::new(tokens),
    })
}

/// A client of its own, from an address of its own on the loopback
/// (`127.1.x.y`): the server's guard against guessed tokens counts the
/// checks in flight per address, and 20,000 holders do not share one.
pub(crate) fn user_client(n: usize) -> anyhow::Result<reqwest::Client> {
    let host = u8::try_from(n % 250 + 1)?;
    let address = std::net::Ipv4Addr::new(127, 1, u8::try_from(n / 250)?, host);
    Ok(reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(address))
        .build()?)
}

/// `readers` clients until `deadline`, each from an address of its own
/// ([`user_client`]), reader `r` asking the server
/// `bases[r % bases.len()]`: a holder's statement (with that holder's
/// token) and the college totals (`/parties`) in turn.
pub(crate) fn read_load(
    bases: &[String],
    voting: &Voting,
    readers: usize,
    deadline: Instant,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<(Latencies, u64)>>> {
    (0..readers)
        .map(|r| {
            let base = format!(
                "{}/api/v1/ledgers/{}",
                bases[r % bases.len()],
                voting.ledger
            );
            let (client, tokens) = (user_client(r)?, voting.tokens.clone());
            Ok(tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut errors = 0u64;
                let mut i = r;
                while Instant::now() < deadline {
                    let (holder, token) = &tokens[(i * 7919) % tokens.len()];
                    let url = if i % 2 == 0 {
                        format!("{base}/holders/{holder}/statement")
                    } else {
                        format!("{base}/parties")
                    };
                    let ok = latencies.time(client.get(url).bearer_auth(token)).await;
                    errors += u64::from(!ok);
                    i += readers;
                }
                (latencies, errors)
            }))
        })
        .collect()
}

/// `voters` clients (each from an address of its own, after the
/// readers') casting ballots at `base` until `deadline`, each
/// holder in turn with the holder's own token (a holder voting again once
/// every holder has voted: the new ballot replaces the old). Each ballot
/// acknowledged is told to `acknowledged`, if given, with when and the
/// answer's `Windledger-Lsn`.
pub(crate) fn ballot_load(
    base: &str,
    voting: &Voting,
    voters: usize,
    deadline: Instant,
    acknowledged: Option<tokio::sync::mpsc::UnboundedSender<(Instant, String)>>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<(Latencies, u64)>>> {
    let next = Arc::new(AtomicUsize::new(0));
    let base = format!("{base}/api/v1/ledgers/{}", voting.ledger);
    (0..voters)
        .map(|v| {
            let (client, base, tokens, next, acknowledged) = (
                user_client(200 + v)?,
                base.clone(),
                voting.tokens.clone(),
                next.clone(),
                acknowledged.clone(),
            );
            Ok(tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (holder, token) = &tokens[n % tokens.len()];
                    let round = n / tokens.len();
                    let choice = if round % 2 == 0 { "for" } else { "against" };
                    let body = json!({"voter": holder, "choices": {"bench-ag.1": choice}});
                    let start = Instant::now();
                    let ok = match client
                        .post(format!("{base}/meetings/bench-ag/ballots"))
                        .bearer_auth(token)
                        .header("idempotency-key", format!("ballot-{holder}-{round}"))
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(resp) => {
                            let lsn = resp
                                .headers()
                                .get("windledger-lsn")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let ok = resp.status().as_u16() == 201 && resp.bytes().await.is_ok();
                            if let (true, Some(tx), Some(lsn)) = (ok, &acknowledged, lsn) {
                                let _ = tx.send((Instant::now(), lsn));
                            }
                            ok
                        }
                        Err(_) => false,
                    };
                    latencies.0.push(start.elapsed().as_micros() as u64);
                    errors += u64::from(!ok);
                }
                (latencies, errors)
            }))
        })
        .collect()
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let seconds = env_size("WINDLEDGER_BENCH_SECONDS", 20)?;
    let readers = env_size("WINDLEDGER_BENCH_READERS", 24)?.max(1);
    let voters = env_size("WINDLEDGER_BENCH_VOTER_TASKS", 8)?.max(1);
    let (db, store) = bench_database(backend).await?;
    let state = AppState::new(store.clone(), db.checkpoint_signer());
    let (base, stop, server) = serve_state(state.clone()).await?;
    let client = reqwest::Client::new();
    let voting = voting_farm(&store, &state, &base, &client, holders).await?;
    eprintln!("# {readers} readers and {voters} voters for {seconds} s");

    crate::projections::reset_peak_rss();
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let reads = read_load(std::slice::from_ref(&base), &voting, readers, deadline)?;
    let ballots = ballot_load(&base, &voting, voters, deadline, None)?;
    let began = Instant::now();
    let (mut read_latencies, read_errors) = gather(reads).await?;
    let (mut ballot_latencies, ballot_errors) = gather(ballots).await?;
    let elapsed = began.elapsed().as_secs_f64();
    let rss = crate::projections::peak_rss_mib()?;
    if read_errors + ballot_errors > 0 {
        eprintln!("# errors: {read_errors} reads, {ballot_errors} ballots");
    }
    println!(
        "read_rps {:.0} requests/s",
        read_latencies.0.len() as f64 / elapsed
    );
    println!("read_p99_ms {:.1} ms", read_latencies.p99_ms());
    println!(
        "ballot_rps {:.0} requests/s",
        ballot_latencies.0.len() as f64 / elapsed
    );
    println!("ballot_p99_ms {:.1} ms", ballot_latencies.p99_ms());
    println!("rss_mib {rss:.0} MiB");
    let _ = stop.send(());
    server.await??;
    Ok(())
}
