//! The set-up the document benchmarks share (not measured): a synthetic
//! farm written to a fresh ledger, as `windledger import --synthetic`
//! writes it, opened with its projections caught up, and every holder of
//! the register on a date given an identity in the vault (of the kind the
//! register gives them), recorded concurrently.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, anyhow, ensure};
use chrono::NaiveDate;
use futures::StreamExt;
use windledger_app::import::synthetic::{Synthetic, write_synthetic};
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::Vault;
use windledger_domain::company::HolderKind;
use windledger_domain::types::HolderId;
use windledger_projections::cap_table::AsOf;
use windledger_store::LedgerId;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_vault::{MasterKey, Person};

use crate::bench_database;

/// Identities recorded at once.
pub const CONCURRENCY: usize = 64;

/// A farm ready for a document benchmark.
pub struct Farm {
    /// Kept for as long as the benchmark runs (dropping it drops the
    /// database).
    pub _db: TestDatabase,
    pub runtime: LedgerRuntime,
    pub vault: Vault,
    /// Every holder on `on`, with their kind, in the register's order.
    pub register: Vec<(HolderId, HolderKind)>,
    /// How long recording the identities took, in seconds.
    pub identities_seconds: f64,
}

/// Writes `farm` to the ledger `ledger` of a new database of `backend`,
/// and records the identity `person(n, kind)` of each of the register's
/// holders on `on` (effective that day); the register must have exactly
/// `farm.holders` holders.
pub async fn with_identities(
    backend: Backend,
    ledger: &str,
    farm: &Synthetic,
    on: NaiveDate,
    person: impl Fn(usize, HolderKind) -> anyhow::Result<Person>,
) -> anyhow::Result<Farm> {
    let (db, store) = bench_database(backend).await?;
    let ledger = LedgerId::parse(ledger)?;
    eprintln!(
        "# writing a synthetic farm of {} holders over {} years",
        farm.holders, farm.years
    );
    let start = Instant::now();
    let written = write_synthetic(&store, &ledger, farm, |_| {}).await?;
    eprintln!(
        "# wrote {} events in {:.1} s",
        written.events,
        start.elapsed().as_secs_f64()
    );
    let signer = db.checkpoint_signer();
    let runtime = LedgerRuntime::open(store.clone(), ledger.clone(), &[signer.verifier()]).await?;
    runtime
        .projections
        .caught_up(runtime.recent_head().await?)
        .await?;

    let vault = Vault::new(MasterKey::generate()?);
    let register: Vec<(HolderId, HolderKind)> = runtime
        .projections
        .read(|p| {
            p.cap_table
                .fold()
                .snapshot(AsOf::Date { date: on }, on)
                .map(|s| s.holders.into_iter().map(|h| (h.holder, h.kind)).collect())
        })
        .context("the farm's cap table")?;
    ensure!(
        register.len() == farm.holders,
        "the farm has {} holders, not {}",
        register.len(),
        farm.holders
    );
    eprintln!(
        "# recording {} identities in the vault, {CONCURRENCY} at a time",
        register.len()
    );
    let start = Instant::now();
    let mut recording = futures::stream::iter(register.iter().enumerate())
        .map(|(n, (holder, kind))| {
            let (vault, runtime, person) = (&vault, &runtime, &person);
            async move {
                vault
                    .record(runtime, holder, person(n, *kind)?, Some(on), HashMap::new())
                    .await
                    .map_err(|e| anyhow!("the identity of {holder}: {e}"))
            }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(recorded) = recording.next().await {
        recorded?;
    }
    drop(recording);
    let identities_seconds = start.elapsed().as_secs_f64();
    Ok(Farm {
        _db: db,
        runtime,
        vault,
        register,
        identities_seconds,
    })
}
