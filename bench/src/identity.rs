//! `identity`: reading one holder's identity through the API (issue 20's
//! target: p99 <= 5 ms), the server in this process on the reference farm,
//! every individual holder's identity recorded in the vault.
//!
//! The secretary reads `WINDLEDGER_BENCH_READS` (2,000) identities, one
//! after the other, holders in turn, over HTTP on 127.0.0.1: each read is
//! authorised, its versions read and decrypted, and the read logged (one
//! write) before the answer. Prints `identity_read_p50_ms`,
//! `identity_read_p99_ms` and `identity_reads`.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;
use windledger::serve;
use windledger_api::AppState;
use windledger_api::auth::{self, Role};
use windledger_app::people::Vault;
use windledger_domain::company::HolderKind;
use windledger_domain::types::HolderId;
use windledger_store::LedgerId;
use windledger_store::testing::Backend;
use windledger_vault::{MasterKey, Person};

use crate::{bench_database, env_size};

fn person(n: usize) -> anyhow::Result<Person> {
    Ok(serde_json::from_value(json!({
        "identity": {"person": "natural", "family_name": format!("Nom{n:05}"),
                     "given_names": "Camille"},
        "address": {"lines": [format!("{n} chemin des Ailes")], "postal_code": "42220",
                    "city": "Burdignes", "country": "FR"},
        "email": format!("associe{n:05}@example.org"),
        "tax_residence": "FR",
    }))?)
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let reads = env_size("WINDLEDGER_BENCH_READS", 2_000)?.max(1);
    let (db, store) = bench_database(backend).await?;
    let ledger = LedgerId::parse("ailes-de-taillard")?;
    eprintln!("# importing the reference farm");
    windledger_app::import::import_reference_farm(store.clone(), ledger.clone())
        .await
        .context("the reference farm imports")?;
    let state = AppState::new(store.clone(), db.checkpoint_signer());
    let vault = Vault::new(MasterKey::generate()?);
    state.hold_vault(vault.clone());
    let runtime = state
        .open(&ledger)
        .await
        .map_err(|p| anyhow::anyhow!(p.detail))?;
    runtime
        .projections
        .caught_up(store.head(&ledger).await?.size)
        .await?;
    let individuals: Vec<HolderId> = runtime.projections.read(|p| {
        let cap_table = p.cap_table.fold();
        let mut ids: Vec<HolderId> = cap_table
            .view(windledger_projections::cap_table::AsOf::Latest)
            .map(|v| v.rows.iter().map(|r| r.holder.clone()).collect())
            .unwrap_or_default();
        ids.dedup();
        ids.retain(|h| cap_table.holder(h).map(|x| x.kind) == Some(HolderKind::Individual));
        ids
    });
    if individuals.is_empty() {
        bail!("the reference farm has no individual holder");
    }
    eprintln!("# recording {} identities", individuals.len());
    for (n, holder) in individuals.iter().enumerate() {
        vault
            .record(&runtime, holder, person(n)?, None, HashMap::new())
            .await
            .map_err(|e| anyhow::anyhow!("{holder}: {e}"))?;
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v1/ledgers/{ledger}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let secretary = auth::issue(&store, &ledger, Role::Secretary, None, "bench", None)
        .await?
        .token;
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(reads);
    for i in 0..reads {
        let holder = &individuals[i % individuals.len()];
        let started = Instant::now();
        let answer = client
            .get(format!("{base}/holders/{holder}/identity"))
            .bearer_auth(&secretary)
            .send()
            .await?;
        let status = answer.status();
        let body = answer.bytes().await?;
        latencies.push(started.elapsed().as_micros() as u64);
        if !status.is_success() {
            bail!("{holder}: {status} {}", String::from_utf8_lossy(&body));
        }
    }
    let _ = stop.send(());
    server.await??;
    latencies.sort_unstable();
    let at =
        |q: usize| latencies[(latencies.len() * q).div_ceil(100).saturating_sub(1)] as f64 / 1000.0;
    println!("identity_read_p50_ms {:.2} ms", at(50));
    println!("identity_read_p99_ms {:.2} ms", at(99));
    println!("identity_reads {reads} reads");
    Ok(())
}
