//! `witness`: the witnesses' co-signature round trip (issue 23). Three
//! witnesses (`windledger_witness`, each with its state file synced
//! before it answers) serve on 127.0.0.1 in this process; a log of
//! `WINDLEDGER_BENCH_LEDGER_EVENTS` (1,000,000) leaves grows by
//! `WINDLEDGER_BENCH_BATCH` (100) leaves between rounds, and each of
//! `WINDLEDGER_BENCH_ROUNDS` (200) rounds signs the new checkpoint and asks
//! the three at once with the consistency proof from the last size
//! (`windledger_witness::client::ask_all`, the server's own code), each
//! answer's co-signature verified. Prints the round's p50 and p99 in
//! milliseconds (one HTTP request each way per witness, a fresh
//! connection each, the state written and synced each time), and the same
//! for a single witness.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use windledger_store::{CheckpointSigner, CosignatureVerifier};
use windledger_tlog::{Log, checkpoint_text, entry};
use windledger_witness::client::{ask_all, proof_lines};
use windledger_witness::{KnownLog, Witness, serve};

use crate::env_size;

const ORIGIN: &str = "windledger/bench/tlog";

pub async fn bench() -> anyhow::Result<()> {
    let leaves = env_size("WINDLEDGER_BENCH_LEDGER_EVENTS", 1_000_000)?.max(1) as u64;
    let batch = env_size("WINDLEDGER_BENCH_BATCH", 100)?.max(1) as u64;
    let rounds = env_size("WINDLEDGER_BENCH_ROUNDS", 200)?.max(1);
    let dir = tempfile::tempdir()?;
    let log_key = CheckpointSigner::generate("bench-log")?;
    let mut witnesses = Vec::new();
    let mut stops = Vec::new();
    for i in 0..3 {
        let signer = CheckpointSigner::generate(&format!("temoin-{i}.example"))?;
        let key = signer.cosigner();
        let witness = Witness::open(
            signer,
            vec![KnownLog {
                origin: ORIGIN.to_owned(),
                keys: vec![log_key.verifier()],
            }],
            dir.path().join(format!("witness-{i}.json")),
        )?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, Arc::new(witness), async move {
            let _ = stopped.await;
        }));
        stops.push(stop);
        witnesses.push((url, key));
    }

    eprintln!("witness: building a tree of {leaves} leaves");
    let mut log = Log::new();
    let mut next = 1u64;
    let mut grow = |log: &mut Log, n: u64| -> anyhow::Result<()> {
        for _ in 0..n {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&next.to_le_bytes());
            log.append(&entry(next, &hash))?;
            next += 1;
        }
        Ok(())
    };
    grow(&mut log, leaves)?;

    for (name, count) in [("witness_round_3", 3usize), ("witness_round_1", 1)] {
        let chosen: Vec<(String, CosignatureVerifier)> = witnesses[..count].to_vec();
        let mut known = vec![0u64; count];
        let mut latencies = Vec::with_capacity(rounds);
        for round in 0..=rounds {
            grow(&mut log, batch)?;
            let size = log.size();
            let root = log.root(size)?;
            let started = Instant::now();
            let note = log_key.sign_note(&checkpoint_text(ORIGIN, size, &root, &[]));
            let asked: Vec<_> = chosen
                .iter()
                .zip(&known)
                .map(|((url, key), old)| {
                    (
                        url.clone(),
                        key.clone(),
                        *old,
                        proof_lines(&log, *old, size),
                    )
                })
                .collect();
            let proof_from = |old: u64| Some(proof_lines(&log, old, size));
            let answers = ask_all(&asked, &note, size, &proof_from).await;
            let elapsed = started.elapsed();
            for (answer, old) in answers.into_iter().zip(known.iter_mut()) {
                answer.map_err(|e| anyhow::anyhow!("a witness refused: {e}"))?;
                *old = size;
            }
            // The first round of each series only tells each witness the
            // size (it knew none, or the other series' size): not timed.
            if round > 0 {
                latencies.push(elapsed.as_micros() as u64);
            }
        }
        latencies.sort_unstable();
        let at = |q: usize| {
            latencies[(latencies.len() * q).div_ceil(100).saturating_sub(1)] as f64 / 1000.0
        };
        println!("{name}_p50_ms {:.2} ms", at(50));
        println!("{name}_p99_ms {:.2} ms", at(99));
    }
    println!("witness_rounds {rounds} rounds");
    println!("witness_tree_size {} leaves", log.size());
    for stop in stops {
        let _ = stop.send(());
    }
    if log.size() < leaves {
        bail!("the tree did not grow");
    }
    Ok(())
}
