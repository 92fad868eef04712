//! PostgreSQL stopped and started again under the server, while clients
//! write and read: requests fail fast with 503 problem+json, `/readyz` says
//! not ready, and the server recovers by itself when the database is back,
//! with every acknowledged write kept once.
//!
//! The test starts a PostgreSQL cluster of its own (see `windledger_store::testing::cluster`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::{self, Response, Server, admit_keyed};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use windledger_api::auth::Role;
use windledger_store::testing::cluster::Cluster;

/// Writers admitting shareholders, and readers, during the whole test.
const WRITERS: usize = 6;
const READERS: usize = 4;

/// A 503 counts as fast under this (a pool acquire waits 5 s).
const FAST: Duration = Duration::from_secs(1);

/// What one request got.
#[derive(Clone, Debug)]
struct Seen {
    status: StatusCode,
    problem: bool,
    started: Instant,
    took: Duration,
}

#[derive(Default)]
struct Log {
    /// Holder admitted -> its first successful answer's receipt.
    acknowledged: BTreeMap<String, Value>,
    /// Holders whose admission got no success yet (a 503), to retry.
    pending: BTreeSet<String>,
    seen: Vec<Seen>,
}

async fn send(request: reqwest::RequestBuilder) -> Result<Response, reqwest::Error> {
    Ok(Server::read(request.send().await?).await)
}

fn record(log: &Mutex<Log>, response: &Response, started: Instant) {
    log.lock().unwrap().seen.push(Seen {
        status: response.status,
        problem: response.content_type == "application/problem+json",
        started,
        took: started.elapsed(),
    });
}

async fn ready(server: &Server) -> StatusCode {
    let request = server
        .client
        .get(server.url("/readyz"))
        .timeout(Duration::from_secs(30));
    send(request).await.expect("the server answers").status
}

async fn wait_for_readiness(server: &Server, want: StatusCode, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if ready(server).await == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "/readyz did not become {want} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_postgresql_restart() {
    let Some((cluster, db)) = Cluster::with_database().await else {
        return;
    };
    let server = Arc::new(Server::with_reference_farm(db).await);
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let reader = server.shareholder_token("cit-001").await;
    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));

    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (server, log, stop, token) =
            (server.clone(), log.clone(), stop.clone(), secretary.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let holder = format!("pgr-{w}-{n}");
                let start = Instant::now();
                let response = admit_keyed(&server, &token, &holder)
                    .await
                    .expect("the server answers");
                record(&log, &response, start);
                let mut log = log.lock().unwrap();
                if response.status == StatusCode::CREATED {
                    log.acknowledged
                        .insert(holder, response.body["receipts"][0].clone());
                } else {
                    log.pending.insert(holder);
                }
            }
        }));
    }
    for _ in 0..READERS {
        let (server, log, stop, token) =
            (server.clone(), log.clone(), stop.clone(), reader.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let request = server
                    .client
                    .get(server.api("/holders/cit-001/statement"))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(30));
                let response = send(request).await.expect("the server answers");
                record(&log, &response, start);
            }
        }));
    }

    // Under load for at least 1.5 s, and until writes were acknowledged
    // (a loaded machine may take longer to answer the first), then the
    // database goes away.
    let loaded = Instant::now();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    while log.lock().unwrap().acknowledged.is_empty() && loaded.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = log.lock().unwrap().acknowledged.len();
    assert!(
        before > 0,
        "nothing was written in a minute before the stop"
    );
    cluster.down();
    let noticed = wait_for_readiness(
        &server,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(15),
    )
    .await;
    eprintln!("/readyz said not ready {noticed:?} after the database stopped");

    // While it is down, every request fails fast, as problem+json. (One
    // that started before, a read waiting for the projections say, may
    // take its time: it is not counted.)
    let down_at = Instant::now();
    for i in 0..20 {
        let start = Instant::now();
        let response = if i % 2 == 0 {
            admit_keyed(&server, &secretary, &format!("probe-{i}")).await
        } else {
            send(
                server
                    .client
                    .get(server.api("/cap-table"))
                    .bearer_auth(&secretary),
            )
            .await
        }
        .expect("the server answers");
        let took = start.elapsed();
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            response.body
        );
        assert_eq!(response.content_type, "application/problem+json");
        assert!(response.headers.contains_key(reqwest::header::RETRY_AFTER));
        assert!(
            took < FAST,
            "a request took {took:?} to fail while the database was down"
        );
    }
    assert!(
        server
            .metrics()
            .await
            .contains("\nwindledger_database_up 0\n")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let log = log.lock().unwrap();
        let during: Vec<_> = log.seen.iter().filter(|s| s.started >= down_at).collect();
        assert!(
            !during.is_empty(),
            "the clients sent nothing while the database was down"
        );
        for s in during {
            assert_eq!(s.status, StatusCode::SERVICE_UNAVAILABLE, "{s:?}");
            assert!(s.problem, "{s:?}");
            assert!(s.took < FAST, "{s:?}");
        }
    }

    // Back: the server recovers by itself.
    cluster.up();
    let recovered = wait_for_readiness(&server, StatusCode::OK, Duration::from_secs(30)).await;
    eprintln!("/readyz said ready {recovered:?} after the database started again");
    assert!(
        server
            .metrics()
            .await
            .contains("\nwindledger_database_up 1\n")
    );
    let after_recovery = log.lock().unwrap().acknowledged.len();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("a client task");
    }
    let (acknowledged, pending, seen) = {
        let log = log.lock().unwrap();
        (
            log.acknowledged.clone(),
            log.pending.clone(),
            log.seen.clone(),
        )
    };
    assert!(
        acknowledged.len() > after_recovery,
        "no write succeeded after the database came back"
    );
    // Around the stop and the start, a command decided on a state that a
    // commit cut off by the outage may or may not have changed gets 409
    // (send it again) rather than 503; nothing else is expected.
    for s in &seen {
        assert!(
            s.status.is_success()
                || (s.problem
                    && [StatusCode::SERVICE_UNAVAILABLE, StatusCode::CONFLICT].contains(&s.status)),
            "only successes, 503s and 409s are expected, got {s:?}"
        );
    }

    // Every write that failed is retried with its key: one effect each.
    let mut all = acknowledged.clone();
    for holder in &pending {
        if all.contains_key(holder) {
            continue;
        }
        let response = admit_keyed(&server, &secretary, holder)
            .await
            .expect("an answer");
        let response = response.expect(201);
        all.insert(holder.clone(), response.body["receipts"][0].clone());
    }
    // An acknowledged one retried replays its receipt.
    if let Some((holder, receipt)) = acknowledged.iter().next() {
        let again = admit_keyed(&server, &secretary, holder)
            .await
            .expect("an answer")
            .expect(201);
        assert_eq!(&again.body["receipts"][0], receipt);
    }

    // The ledger: each holder admitted once, at its receipt; the chain holds.
    let (admitted, events) = server::admissions(&server.store, "pgr-").await;
    for e in &events {
        assert!(
            e.metadata
                .command_id
                .as_deref()
                .is_none_or(|c| !c.contains(":probe-")),
            "a request refused while the database was down left event {}",
            e.position
        );
    }
    for (holder, receipt) in &all {
        let positions = admitted.get(holder).cloned().unwrap_or_default();
        assert_eq!(
            positions.len(),
            1,
            "{holder} is admitted {} times, at {positions:?}",
            positions.len()
        );
        assert_eq!(receipt["position"], positions[0], "{holder}'s receipt");
    }
    assert_eq!(
        admitted.len(),
        all.len(),
        "the ledger admits holders no client was told about"
    );
    server::assert_intact(&server.store).await;

    // The live projections equal a rebuild from zero.
    let live = holders(&server).await;
    let server = Arc::into_inner(server).expect("the clients are done");
    let rebuilt = server.restart().await;
    assert_eq!(live, holders(&rebuilt).await);
    for holder in all.keys() {
        assert!(
            live.contains(holder.as_str()),
            "{holder} is missing from /holders"
        );
    }
    eprintln!(
        "{} admissions acknowledged under load, {} retried after 503s, {} requests in all",
        acknowledged.len(),
        all.len() - acknowledged.len(),
        seen.len()
    );
    rebuilt.stop().await;
}

/// The holders the server lists, as JSON text.
async fn holders(server: &Server) -> String {
    let token = server
        .token(server::LEDGER, Role::Municipality, Some("ccmp"))
        .await;
    let response = server
        .call(
            Method::GET,
            &server.api("/holders"),
            Some(&token),
            None,
            None,
        )
        .await
        .expect(200);
    response.body.to_string()
}
